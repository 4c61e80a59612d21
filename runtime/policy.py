"""Who may call what: one declarative table of every RPC's roles, department rule and rate.

:data:`POLICY` names, for every RPC of every certfree service (by its full method
name, ``/certfree.ledger.v1.LedgerService/BatchAppend``), the roles that may call it,
the department rule its handler applies, and, for the expensive ones, how many calls
one department may make per rate-limit window. The server's interceptor enforces the
roles and the rates before any handler runs (:func:`decide`); the department rules
need data (the authority catalogue, the proof request), so the domain code enforces
them and the table names which one applies, for the docs and the tests.

``docs/authorisation.md`` is rendered from this table (``python -m runtime.policy``)
and a test keeps the two the same. Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import PermissionDenied

INTAKE = common_pb2.ROLE_INTAKE_SYSTEM
CLERK = common_pb2.ROLE_CLERK
OFFICER = common_pb2.ROLE_OFFICER
ISSUER = common_pb2.ROLE_ISSUER
SUPERVISOR = common_pb2.ROLE_SUPERVISOR
AUDITOR = common_pb2.ROLE_AUDITOR
OPERATOR = common_pb2.ROLE_OPERATOR
HOLDER = common_pb2.ROLE_HOLDER
SERVICE = common_pb2.ROLE_SERVICE

ROLES: tuple[int, ...] = tuple(r for r in common_pb2.Role.values() if r != 0)
"""Every role a caller can have (``certfree.common.v1.Role``, less UNSPECIFIED), in enum order."""

EVERYONE = frozenset(ROLES)
"""Any authenticated caller."""

OVERSEERS = frozenset({SUPERVISOR, AUDITOR})
"""Roles that read any proof request, history, list and statistics (电子监察, 审计)."""

REQUESTERS = frozenset({CLERK, INTAKE})
"""Roles that act for a proof request's requesting department."""

PROOF_READERS = REQUESTERS | {OFFICER} | OVERSEERS
"""Roles that read proof requests (their department's, or any for overseers)."""

LICENSE_READERS = frozenset({CLERK, OFFICER, ISSUER, INTAKE, SERVICE, AUDITOR})
"""Roles that read a holder's licenses for a stated purpose (the access is recorded)."""

APPENDERS = frozenset({ISSUER, OFFICER, SERVICE})
"""Roles that attest artefacts in the ledger."""

PUBLIC_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.")
"""Services (prefixes of full names) every server answers without a caller: probes and
tools call them before any identity exists, so they are outside this policy."""


class DepartmentRule(enum.Enum):
    """Which department the caller must be for a call to go through (enforced by the handler)."""

    ANY = "any"
    OWN = "own department"
    AUTHORITY_CATALOGUE = "authority catalogue"
    ISSUING = "issuing department"
    ADDRESSED = "addressed department"
    REQUESTING = "requesting department"
    PARTY = "requesting or addressed department"

    @property
    def meaning(self) -> str:
        """What the rule asks of the caller's department, for docs/authorisation.md."""
        return _MEANINGS[self]


_MEANINGS = {
    DepartmentRule.ANY: "any department may call it; no department check.",
    DepartmentRule.OWN: (
        "the department the request names (an attestation's issuer, a list's or inbox's "
        "department, a proof answer's signer) must be the caller's own; role `service` "
        "acts for the department it states, and supervisors and auditors may name any "
        "department in lists and inboxes."
    ),
    DepartmentRule.AUTHORITY_CATALOGUE: (
        "the caller's department must be granted the license type in the authority "
        "catalogue (权责清单): outside the list there is no power."
    ),
    DepartmentRule.ISSUING: (
        "only the department that issued the license may change it (and it must still hold "
        "the type's authority when it amends)."
    ),
    DepartmentRule.ADDRESSED: (
        "the caller's department must be a target of the proof request (the authoritative "
        "department the catalogue names for the item), or its answering department once "
        "one accepted."
    ),
    DepartmentRule.REQUESTING: (
        "the caller's department is, or must be, the proof request's requesting department."
    ),
    DepartmentRule.PARTY: (
        "the caller's department must have sent the proof request or be addressed by it; "
        "supervisors and auditors read any."
    ),
}


@dataclass(frozen=True)
class RpcPolicy:
    """What the policy says about one RPC."""

    method: str
    """Full method name, ``/<package>.<Service>/<Method>``."""
    roles: frozenset[int]
    """Roles that may call it; any other is refused before the handler runs."""
    department: DepartmentRule
    """The department rule its handler applies."""
    rate: int | None = None
    """Calls one department may make per rate-limit window (expensive RPCs); None: unlimited."""

    @property
    def service(self) -> str:
        """The full service name, ``certfree.ledger.v1.LedgerService``."""
        return self.method.split("/")[1]

    @property
    def name(self) -> str:
        """The method's short name, ``BatchAppend``."""
        return self.method.rsplit("/", 1)[1]


LEDGER = "certfree.ledger.v1.LedgerService"
LICENSES = "certfree.licenses.v1.LicenseService"
LICENSE_CATALOG = "certfree.licenses.v1.LicenseCatalogService"
PROOFS = "certfree.proofs.v1.ProofService"
PROOF_CATALOG = "certfree.proofs.v1.ProofCatalogService"

# Per-department defaults per window (60 s unless CERTFREE_RATE_LIMIT_WINDOW_SECONDS says
# otherwise). Each is one to two orders of magnitude above what one process can serve
# (docs/performance.md), so they only stop one department's runaway client from starving
# the others; operators tighten them with CERTFREE_RATE_LIMITS.
_SIGNING_RATE = 60_000
"""Calls that sign and attest (issue, amend, answer) or create a request: 1,000/s."""
_BATCH_RATE = 6_000
"""Calls carrying up to 1,000 items each (100 calls/s is 100,000 items/s)."""
_BATCH_APPEND_RATE = 60_000
"""Ledger batches: the licenses and proofs services attest through these for each department."""
_STREAM_RATE = 600
"""Opening a bulk append stream (each stream then carries many batches)."""


def _rpcs(
    service: str,
    roles: Iterable[int],
    department: DepartmentRule,
    *names: str,
    rate: int | None = None,
) -> list[RpcPolicy]:
    return [RpcPolicy(f"/{service}/{n}", frozenset(roles), department, rate) for n in names]


_ANY = DepartmentRule.ANY
_TABLE: list[RpcPolicy] = [
    # Ledger: issuers, officers and services attest their own department's artefacts;
    # everyone reads (the log holds hashes and metadata only, never personal data).
    *_rpcs(LEDGER, APPENDERS, DepartmentRule.OWN, "Append"),
    *_rpcs(LEDGER, APPENDERS, DepartmentRule.OWN, "BatchAppend", rate=_BATCH_APPEND_RATE),
    *_rpcs(LEDGER, APPENDERS, DepartmentRule.OWN, "AppendStream", rate=_STREAM_RATE),
    *_rpcs(
        LEDGER,
        EVERYONE,
        _ANY,
        "GetEntry",
        "LookupEntry",
        "ListArtefactEntries",
        "GetCheckpoint",
        "GetInclusionProof",
        "GetConsistencyProof",
        "GetReceipt",
        "VerifyReceipt",
        "GetCheckpointNote",
        "GetTile",
    ),
    # Licenses.
    *_rpcs(
        LICENSES, {ISSUER}, DepartmentRule.AUTHORITY_CATALOGUE, "IssueLicense", rate=_SIGNING_RATE
    ),
    *_rpcs(LICENSES, LICENSE_READERS, _ANY, "GetLicense", "PresentLicense"),
    # Holders reach these (and ListHolderProofRequests) for their own records only: the
    # handlers apply runtime.holder_binding.own_holder.
    *_rpcs(LICENSES, LICENSE_READERS | {HOLDER}, _ANY, "ListHolderLicenses"),
    *_rpcs(LICENSES, EVERYONE, _ANY, "VerifyLicense"),
    *_rpcs(LICENSES, EVERYONE, _ANY, "BatchVerifyLicenses", rate=_BATCH_RATE),
    *_rpcs(LICENSES, {ISSUER}, DepartmentRule.ISSUING, "ChangeLicenseStatus"),
    *_rpcs(LICENSES, {ISSUER}, DepartmentRule.ISSUING, "AmendLicense", rate=_SIGNING_RATE),
    *_rpcs(LICENSES, {AUDITOR, HOLDER}, _ANY, "ListLicenseAccesses"),
    # Status lists and keys are what outside verifiers fetch: public data.
    *_rpcs(
        LICENSES,
        EVERYONE,
        _ANY,
        "GetStatusList",
        "GetStatusListToken",
        "GetIssuerJwks",
        "ListIssuerKeys",
    ),
    *_rpcs(LICENSES, {OPERATOR}, _ANY, "RotateIssuerKey", "MarkIssuerKeyCompromised"),
    *_rpcs(LICENSES, {SERVICE}, DepartmentRule.OWN, "SignProofAnswer"),
    *_rpcs(
        LICENSE_CATALOG,
        EVERYONE,
        _ANY,
        "ListLicenseTypes",
        "GetLicenseType",
        "ListDepartments",
        "GetDepartment",
    ),
    *_rpcs(LICENSE_CATALOG, {OPERATOR}, _ANY, "UpsertLicenseType", "UpsertDepartment"),
    # Proofs.
    *_rpcs(PROOFS, REQUESTERS, DepartmentRule.REQUESTING, "CreateProofRequest", rate=_SIGNING_RATE),
    *_rpcs(
        PROOFS, PROOF_READERS, DepartmentRule.PARTY, "GetProofRequest", "ListProofRequestEvents"
    ),
    *_rpcs(PROOFS, PROOF_READERS, DepartmentRule.OWN, "ListProofRequests", "StreamInbox"),
    *_rpcs(PROOFS, OVERSEERS | {HOLDER}, _ANY, "ListHolderProofRequests"),
    *_rpcs(
        PROOFS,
        {OFFICER},
        DepartmentRule.ADDRESSED,
        "AcceptProofRequest",
        "RejectProofRequest",
        "AskForMoreInfo",
        "RecordCommitmentCheck",
    ),
    *_rpcs(PROOFS, {OFFICER}, DepartmentRule.ADDRESSED, "AnswerProofRequest", rate=_SIGNING_RATE),
    *_rpcs(
        PROOFS,
        REQUESTERS,
        DepartmentRule.REQUESTING,
        "SupplyMoreInfo",
        "WithdrawProofRequest",
        "CloseProofRequest",
        "RecordCommitment",
    ),
    *_rpcs(PROOFS, OVERSEERS, _ANY, "GetProofStatistics"),
    *_rpcs(PROOF_CATALOG, EVERYONE, _ANY, "ListProofItems", "GetProofItem"),
    *_rpcs(PROOF_CATALOG, {OPERATOR}, _ANY, "UpsertProofItem"),
]

POLICY: Mapping[str, RpcPolicy] = {entry.method: entry for entry in _TABLE}
"""Every certfree RPC by its full method name."""

SERVICES: frozenset[str] = frozenset(entry.service for entry in _TABLE)
"""The services the policy covers."""


def role_name(role: int) -> str:
    """A role as certificates and metadata spell it: ``clerk``, ``intake_system`` ..."""
    return common_pb2.Role.Name(role).removeprefix("ROLE_").lower()


def is_public(method: str) -> bool:
    """True for health and reflection, which answer without a caller."""
    return method.lstrip("/").startswith(PUBLIC_SERVICES)


def covers(service: str) -> bool:
    """True when the policy speaks for `service` (a full service name)."""
    return service in SERVICES


def decide(method: str, role: int) -> RpcPolicy | None:
    """The policy entry of `method` if a caller in `role` may call it; else PermissionDenied.

    A method of a service the policy covers but does not list is refused (fail closed);
    a service the policy does not cover (a test's own servicer) gives None: callers only
    need to be authenticated there, and production servers refuse to mount such services.
    """
    entry = POLICY.get(method)
    if entry is None:
        service = method.split("/")[1] if method.count("/") == 2 else ""
        if not covers(service):
            return None
        raise PermissionDenied(
            f"{method.lstrip('/')} has no entry in the authorisation policy; no role may call it",
            metadata={"role": role_name(role)},
        )
    if role not in entry.roles:
        allowed = ", ".join(role_name(r) for r in ROLES if r in entry.roles)
        raise PermissionDenied(
            f"role {role_name(role)} may not call {entry.name} (allowed: {allowed})",
            metadata={"role": role_name(role), "rpc": entry.name},
        )
    return entry


def rate_limits(overrides: Mapping[str, int]) -> dict[str, int]:
    """Per-department calls per window by full method name: the policy's, with `overrides`
    (short RPC name to calls; 0 turns a limit off) applied. ValueError names an override
    that is not a rate-limited RPC."""
    limits = {e.method: e.rate for e in _TABLE if e.rate is not None}
    by_name = {e.name: e.method for e in _TABLE if e.rate is not None}
    for name, calls in overrides.items():
        if name not in by_name:
            raise ValueError(
                f"{name} is not a rate-limited RPC (one of: {', '.join(sorted(by_name))})"
            )
        limits[by_name[name]] = calls
    return {method: calls for method, calls in limits.items() if calls > 0}


# --- docs/authorisation.md --------------------------------------------------------------

_INTRO = """\
# Authorisation

Who may call which RPC. Rendered from `runtime/policy.py` by `python -m runtime.policy`;
a test fails when this file and the policy differ, and another calls every RPC in every
role on a real server to check each cell.

Every gRPC call has a caller (a department and a role) from mutual TLS, or, through the
gateway, from the intake system's token or the page session (docs/security.md). The
server's one interceptor looks the RPC up in this policy after authenticating the caller
and before anything else: a role not marked ✓ is refused with PERMISSION_DENIED, reason
`ROLE_NOT_ALLOWED`, before the request is validated or the handler runs. An RPC of a
certfree service that the policy does not list is refused for every role.

The department rule of each RPC needs data (the authority catalogue, the proof request),
so its handler checks it: a caller of an allowed role whose department breaks the rule
is refused with PERMISSION_DENIED, reason `OUTSIDE_AUTHORITY`.

A caller in role `holder` (a token issued with `certfree tokens issue --role holder
--holder-id ...`, whose subject is the holder's index token) reaches only their own
records: ListHolderLicenses, ListLicenseAccesses and ListHolderProofRequests compare the
index token of the holder the request names with the caller's subject and refuse any
other holder with PERMISSION_DENIED, reason `HOLDER_MISMATCH`, before reading or
recording anything (`runtime/holder_binding.py`). A holder needs no purpose or case for
their own records, and their own license lookup is not recorded in their access view.

Health (`grpc.health.v1.Health`) and reflection answer without a caller: Kubernetes
probes and tools call them before any identity exists.
"""

_RATES = """\
## Rate limits

Expensive RPCs have a per-department limit: calls per window
(`CERTFREE_RATE_LIMIT_WINDOW_SECONDS`, default 60 s), counted in the store so that
every replica of a service shares one count. The window opens with a department's
first call and closes a window's length later. A call over the limit is refused with
RESOURCE_EXHAUSTED, reason `RATE_LIMITED`, and a `google.rpc.RetryInfo` whose
`retry_delay` is the time left in the window (HTTP 429 through the gateway).
`CERTFREE_RATE_LIMITS` overrides a limit by the RPC's short name
(`IssueLicense=600,BatchAppend=0`; 0 turns it off). A stream counts once, when it opens.
The defaults stop one department's runaway client from starving the others; they lie
well above what one process serves (docs/performance.md).

| RPC | calls per department per window |
|---|---:|
"""


def _matrix(service: str) -> list[str]:
    header = "| RPC | " + " | ".join(role_name(r) for r in ROLES) + " | department rule |"
    rows = [f"## {service}", "", header, "|---|" + ":-:|" * len(ROLES) + "---|"]
    for entry in _TABLE:
        if entry.service == service:
            cells = " | ".join("✓" if r in entry.roles else "–" for r in ROLES)
            rows.append(f"| {entry.name} | {cells} | {entry.department.value} |")
    return [*rows, ""]


def render_markdown() -> str:
    """docs/authorisation.md: one role × RPC matrix per service, the rules and the rates."""
    lines = [_INTRO]
    services = list(dict.fromkeys(entry.service for entry in _TABLE))
    for service in services:
        lines.extend(_matrix(service))
    lines.extend(["## Department rules", "", "| rule | meaning |", "|---|---|"])
    lines.extend(f"| {rule.value} | {rule.meaning} |" for rule in DepartmentRule)
    lines.extend(["", _RATES.rstrip("\n")])
    lines.extend(
        f"| {entry.service.rsplit('.', 1)[1]}/{entry.name} | {entry.rate:,} |"
        for entry in _TABLE
        if entry.rate is not None
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
