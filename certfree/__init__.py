"""The launcher: the ``certfree`` command that wires the services, the gateway and the store."""
