"""``python -m certfree`` is the ``certfree`` command."""

from certfree.cli import main

if __name__ == "__main__":
    main()
