"""Which bearer-token scope each gateway route needs: one table, by RPC.

Every route the contract gives the gateway calls one RPC; :data:`SCOPES` names the
scope a token must carry to call it, or :data:`PUBLIC` for the read API that anyone
may use without a token (the C2SP tlog-tiles checkpoint and tiles, departments'
JWK Sets and status lists: verifiers in other deployments fetch them). ``build_app``
refuses to start when a route of the contract is missing here, so a new RPC is
closed until someone decides its scope. docs/security.md shows :func:`render_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gateway.routes import RpcRoute

PUBLIC = "public"
"""The pseudo-scope of routes that need no token."""

_LEDGER = "certfree.ledger.v1.LedgerService"
_LICENSES = "certfree.licenses.v1.LicenseService"
_LICENSE_CATALOG = "certfree.licenses.v1.LicenseCatalogService"
_PROOFS = "certfree.proofs.v1.ProofService"
_PROOF_CATALOG = "certfree.proofs.v1.ProofCatalogService"

SCOPE_DESCRIPTIONS: Mapping[str, str] = {
    "ledger:read": "read ledger entries, proofs, receipts and checkpoints",
    "ledger:append": "append attestations to the ledger",
    "licenses:read": "read, present and list licenses and their access records",
    "licenses:verify": "verify licenses",
    "licenses:issue": "issue, amend and change the status of licenses; sign proof answers",
    "keys": "list, rotate and mark compromised departments' signing keys",
    "catalogue:read": "read the license and proof catalogues",
    "catalogue:write": "change the license and proof catalogues",
    "proofs": "create, follow and answer proof requests (证明协查)",
}
"""Every scope a token may carry, with what it opens."""

SCOPES: Mapping[str, str] = {
    # The public read API: no token.
    f"{_LEDGER}.GetCheckpointNote": PUBLIC,
    f"{_LEDGER}.GetTile": PUBLIC,
    f"{_LEDGER}.VerifyReceipt": PUBLIC,
    f"{_LICENSES}.GetIssuerJwks": PUBLIC,
    f"{_LICENSES}.GetStatusList": PUBLIC,
    f"{_LICENSES}.GetStatusListToken": PUBLIC,
    # The ledger.
    f"{_LEDGER}.GetCheckpoint": "ledger:read",
    f"{_LEDGER}.GetConsistencyProof": "ledger:read",
    f"{_LEDGER}.GetEntry": "ledger:read",
    f"{_LEDGER}.GetInclusionProof": "ledger:read",
    f"{_LEDGER}.GetReceipt": "ledger:read",
    f"{_LEDGER}.ListArtefactEntries": "ledger:read",
    f"{_LEDGER}.LookupEntry": "ledger:read",
    f"{_LEDGER}.Append": "ledger:append",
    f"{_LEDGER}.BatchAppend": "ledger:append",
    # Licenses.
    f"{_LICENSES}.GetLicense": "licenses:read",
    f"{_LICENSES}.ListHolderLicenses": "licenses:read",
    f"{_LICENSES}.ListLicenseAccesses": "licenses:read",
    f"{_LICENSES}.PresentLicense": "licenses:read",
    f"{_LICENSES}.VerifyLicense": "licenses:verify",
    f"{_LICENSES}.BatchVerifyLicenses": "licenses:verify",
    f"{_LICENSES}.IssueLicense": "licenses:issue",
    f"{_LICENSES}.AmendLicense": "licenses:issue",
    f"{_LICENSES}.ChangeLicenseStatus": "licenses:issue",
    f"{_LICENSES}.SignProofAnswer": "licenses:issue",
    f"{_LICENSES}.ListIssuerKeys": "keys",
    f"{_LICENSES}.RotateIssuerKey": "keys",
    f"{_LICENSES}.MarkIssuerKeyCompromised": "keys",
    # Catalogues.
    f"{_LICENSE_CATALOG}.ListDepartments": "catalogue:read",
    f"{_LICENSE_CATALOG}.GetDepartment": "catalogue:read",
    f"{_LICENSE_CATALOG}.ListLicenseTypes": "catalogue:read",
    f"{_LICENSE_CATALOG}.GetLicenseType": "catalogue:read",
    f"{_PROOF_CATALOG}.ListProofItems": "catalogue:read",
    f"{_PROOF_CATALOG}.GetProofItem": "catalogue:read",
    f"{_LICENSE_CATALOG}.UpsertDepartment": "catalogue:write",
    f"{_LICENSE_CATALOG}.UpsertLicenseType": "catalogue:write",
    f"{_PROOF_CATALOG}.UpsertProofItem": "catalogue:write",
    # Proofs: the whole request workflow is one group.
    f"{_PROOFS}.CreateProofRequest": "proofs",
    f"{_PROOFS}.GetProofRequest": "proofs",
    f"{_PROOFS}.ListProofRequests": "proofs",
    f"{_PROOFS}.ListProofRequestEvents": "proofs",
    f"{_PROOFS}.ListHolderProofRequests": "proofs",
    f"{_PROOFS}.GetProofStatistics": "proofs",
    f"{_PROOFS}.StreamInbox": "proofs",
    f"{_PROOFS}.AcceptProofRequest": "proofs",
    f"{_PROOFS}.RejectProofRequest": "proofs",
    f"{_PROOFS}.AskForMoreInfo": "proofs",
    f"{_PROOFS}.SupplyMoreInfo": "proofs",
    f"{_PROOFS}.AnswerProofRequest": "proofs",
    f"{_PROOFS}.WithdrawProofRequest": "proofs",
    f"{_PROOFS}.CloseProofRequest": "proofs",
    f"{_PROOFS}.RecordCommitment": "proofs",
    f"{_PROOFS}.RecordCommitmentCheck": "proofs",
}
"""The scope each RPC's routes need, by the RPC's full name; :data:`PUBLIC`: none."""


class UnscopedRoute(ValueError):
    """A route of the contract has no entry in :data:`SCOPES`; the message names it."""


def scope_of(route: RpcRoute) -> str:
    """The scope `route` needs (:data:`PUBLIC` for none); UnscopedRoute when unlisted."""
    found = SCOPES.get(route.method.full_name)
    if found is None:
        raise UnscopedRoute(
            f"{route.method.full_name} has a gateway route but no scope in gateway/scopes.py"
        )
    return found


def check_table(routes: Iterable[RpcRoute]) -> None:
    """Raise UnscopedRoute unless every route has a scope (build_app calls this)."""
    for route in routes:
        scope_of(route)


def render_table(routes: Iterable[RpcRoute]) -> str:
    """The Markdown table of scopes and the routes each opens, for docs/security.md."""
    by_scope: dict[str, list[str]] = {scope: [] for scope in [*SCOPE_DESCRIPTIONS, PUBLIC]}
    for route in routes:
        by_scope[scope_of(route)].append(f"`{route.http_method} {route.path.template}`")
    rows = ["| scope | what it opens | routes |", "|---|---|---|"]
    descriptions = {**SCOPE_DESCRIPTIONS, PUBLIC: "(no token needed) the public read API"}
    for scope, routes_of_scope in by_scope.items():
        rows.append(f"| `{scope}` | {descriptions[scope]} | {'<br>'.join(routes_of_scope)} |")
    return "\n".join(rows) + "\n"
