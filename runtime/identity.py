"""Who is calling: one identity source per server, read by one interceptor.

Handlers call :func:`current_caller`; they never look at credentials. This module
ships the local-development source only (mTLS and tokens come later): it trusts
``x-certfree-department`` / ``x-certfree-role`` metadata and so exists only when
``certfree up --insecure-dev`` asks for it, never in production mode.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import PermissionDenied, Unauthenticated

DEPARTMENT_HEADER = "x-certfree-department"
ROLE_HEADER = "x-certfree-role"
SUBJECT_HEADER = "x-certfree-subject"

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9._@:-]{1,128}$")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one RPC."""

    department_code: str
    """The department's unified social credit code."""
    role: int
    """A ``certfree.common.v1.Role`` value."""
    subject: str = ""
    """Who inside the department (staff number or system name); never a resident ID."""

    @property
    def role_name(self) -> str:
        """The role without its enum prefix, lower case: ``clerk``, ``officer`` ..."""
        return common_pb2.Role.Name(self.role).removeprefix("ROLE_").lower()


class IdentitySource(Protocol):
    """Turns a call's metadata into a Caller, or raises Unauthenticated."""

    def authenticate(self, metadata: Mapping[str, str]) -> Caller:
        """The caller of the RPC whose invocation metadata is `metadata`."""
        ...


class NoIdentity:
    """Production until mTLS lands: every call is refused, saying why."""

    def authenticate(self, metadata: Mapping[str, str]) -> Caller:
        """Always raises Unauthenticated."""
        raise Unauthenticated(
            "no identity source is configured: mutual TLS is not built yet; "
            "run with --insecure-dev for local development"
        )


class DevIdentity:
    """Insecure development identity: the caller says who it is in metadata."""

    def authenticate(self, metadata: Mapping[str, str]) -> Caller:
        """Read the caller from the x-certfree-* metadata, validating each value."""
        department = metadata.get(DEPARTMENT_HEADER, "")
        role_text = metadata.get(ROLE_HEADER, "")
        subject = metadata.get(SUBJECT_HEADER, "dev")
        if not department or not role_text:
            raise Unauthenticated(
                f"development identity needs {DEPARTMENT_HEADER} and {ROLE_HEADER} metadata"
            )
        if not _USCC.match(department):
            raise Unauthenticated(f"{DEPARTMENT_HEADER} must be an 18-character USCC")
        if not _SUBJECT.match(subject):
            raise Unauthenticated(f"{SUBJECT_HEADER} must be 1-128 of [A-Za-z0-9._@:-]")
        role = common_pb2.Role.Value(f"ROLE_{role_text.upper()}") if _known(role_text) else 0
        if role == common_pb2.ROLE_UNSPECIFIED:
            raise Unauthenticated(f"{ROLE_HEADER}={role_text!r} is not a role")
        return Caller(department_code=department, role=role, subject=subject)


def _known(role_text: str) -> bool:
    return f"ROLE_{role_text.upper()}" in common_pb2.Role.keys()  # noqa: SIM118 (EnumTypeWrapper is not a dict)


_current: contextvars.ContextVar[Caller] = contextvars.ContextVar("certfree_caller")


def bind_caller(caller: Caller) -> contextvars.Token[Caller]:
    """Make `caller` the current caller (the interceptor's job, not a handler's)."""
    return _current.set(caller)


def current_caller() -> Caller:
    """The caller of the RPC being handled."""
    try:
        return _current.get()
    except LookupError:
        raise Unauthenticated("no caller is bound to this call") from None


def require_role(*roles: int) -> Caller:
    """The current caller, if it acts in one of `roles`; else PermissionDenied."""
    caller = current_caller()
    if caller.role not in roles:
        allowed = ", ".join(common_pb2.Role.Name(r) for r in roles)
        raise PermissionDenied(
            f"role {caller.role_name} may not call this RPC (allowed: {allowed})",
            metadata={"role": caller.role_name},
        )
    return caller


def select(mode: str, *, insecure_dev: bool) -> IdentitySource:
    """The identity source for a server: dev metadata only when asked, never in production."""
    from runtime.config import ConfigError
    from runtime.logs import get_logger

    if not insecure_dev:
        return NoIdentity()
    if mode == "production":
        raise ConfigError("--insecure-dev is refused when CERTFREE_MODE=production")
    get_logger("identity").warning(
        "INSECURE development identity: callers name their own department and role "
        f"in {DEPARTMENT_HEADER}/{ROLE_HEADER}; never use this outside a developer machine"
    )
    return DevIdentity()
