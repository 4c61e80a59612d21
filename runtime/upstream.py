"""A client of another certfree service, calling as role service for a department.

Services call each other this way: the ledger client every signing service uses
(runtime/attestation.py) and the proofs service's licenses client. Over mutual TLS the
role comes from this service's own certificate and the headers only name the department
it acts for; with ``--insecure-dev`` they are the whole identity (runtime/identity.py).
"""

from __future__ import annotations

from typing import Literal

from runtime.channels import secure_channel
from runtime.config import Settings
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER


class ServiceCaller:
    """The channel to one certfree service, its timeout, and the caller metadata to send."""

    def __init__(
        self, settings: Settings, service: Literal["ledger", "licenses", "proofs"], subject: str
    ) -> None:
        """Open a channel to `service` where the settings name it (``target(service)``):
        mutual TLS with this service's own certificate when the settings configure it."""
        self._channel = secure_channel(settings.target(service), settings)
        self._timeout = settings.upstream_timeout_seconds
        self._subject = subject

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()

    def _metadata(self, department: str) -> tuple[tuple[str, str], ...]:
        """The metadata of a call made for `department`."""
        return (
            (DEPARTMENT_HEADER, department),
            (ROLE_HEADER, "service"),
            (SUBJECT_HEADER, self._subject),
        )
