"""What a verifier trusts: its own log's key, and the deployments it verifies for (跨省通办).

A license issued by another deployment is verified here with nothing fetched over the
network: the trust file (``CERTFREE_TRUSTED_DEPLOYMENTS_FILE``, YAML or JSON) names,
for each trusted deployment, its public URL (where its status lists live), its log's
verifier key (C2SP signed-note ``vkey``) and its departments, each with the JWK Set
its gateway serves (``GET /v1/departments/<code>/jwks.json``) and the license types
it may issue::

    ledger_verifier_key: certfree.localhost/ledger+1a2b3c4d+AbC...   # optional: our own log
    deployments:
      - name: quanzhou
        public_url: https://zwfw.quanzhou.gov.cn
        ledger_verifier_key: zwfw.quanzhou.gov.cn/ledger+5e6f7a8b+XyZ...
        departments:
          - code: 11350500MB0123456X
            license_types: ["11100000000013127D001"]
            jwks: {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "...", "kid": "..."}]}

The file is read once at start-up; a mistake stops start-up with the entry that is
wrong. This deployment's own log key is the file's top-level ``ledger_verifier_key``
when given (a licenses replica without the ledger's private key), else the public half
of the ledger's key file when this process can read it (one machine).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runtime.holders import uscc_check_character
from runtime.signing import PublicKey, public_key_from_jwk
from runtime.tlog.note import NoteError, Signer, Verifier

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_TYPE_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}$")


class TrustError(ValueError):
    """The trust file is unreadable or wrong; the message names the entry."""


@dataclass(frozen=True)
class TrustedDepartment:
    """A department of another deployment: its published keys and its authority."""

    code: str
    """Its unified social credit code (the ``iss`` of what it signs)."""
    keys: Mapping[str, PublicKey]
    """Its JWK Set, by ``kid``: the keys that may vouch for what it signed."""
    license_types: frozenset[str]
    """The license types it may issue (权责清单), as its deployment grants them."""


@dataclass(frozen=True)
class TrustedDeployment:
    """Another certfree deployment whose licenses and attestations verify here."""

    name: str
    """A short name, for details and logs."""
    public_url: str
    """Its CERTFREE_PUBLIC_URL: the status lists its licenses name start with it."""
    ledger: Verifier
    """Its log's verifier key: its receipts' checkpoints must be signed by it."""
    departments: Mapping[str, TrustedDepartment]
    """Its departments, by code."""


@dataclass(frozen=True)
class Trust:
    """The trusted deployments, and this deployment's own log key if the file gives it."""

    deployments: tuple[TrustedDeployment, ...] = ()
    """Every trusted deployment."""
    local_ledger: Verifier | None = None
    """This deployment's log verifier key, when the ledger's key file is not readable here."""
    _by_department: dict[str, tuple[TrustedDeployment, TrustedDepartment]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for deployment in self.deployments:
            for code, department in deployment.departments.items():
                if code in self._by_department:
                    other = self._by_department[code][0].name
                    raise TrustError(
                        f"department {code} is listed under both {other} and {deployment.name}"
                    )
                self._by_department[code] = (deployment, department)

    def foreign(self, department: str) -> tuple[TrustedDeployment, TrustedDepartment] | None:
        """The trusted deployment and department that `department` names; None if not foreign."""
        return self._by_department.get(department)


def load_trust(path: Path) -> Trust:
    """Read and check a trust file (YAML or JSON); TrustError names what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise TrustError(f"cannot read {path}: {error}") from None
    except yaml.YAMLError as error:
        raise TrustError(f"{path} is not YAML or JSON: {error}") from None
    return parse_trust(document or {})


def parse_trust(document: Any) -> Trust:
    """A Trust from the trust file's parsed document; TrustError names what is wrong."""
    if not isinstance(document, dict):
        raise TrustError("the trust file is not a mapping")
    unknown = set(document) - {"ledger_verifier_key", "deployments"}
    if unknown:
        raise TrustError(f"unknown top-level entries: {', '.join(sorted(map(str, unknown)))}")
    local = None
    if "ledger_verifier_key" in document:
        local = _verifier(document["ledger_verifier_key"], "ledger_verifier_key")
    deployments = document.get("deployments") or []
    if not isinstance(deployments, list):
        raise TrustError("deployments is not a list")
    parsed = tuple(_deployment(entry, n) for n, entry in enumerate(deployments))
    names = [d.name for d in parsed]
    if len(set(names)) != len(names):
        raise TrustError("two deployments have the same name")
    return Trust(parsed, local)


def _deployment(entry: Any, position: int) -> TrustedDeployment:
    where = f"deployments[{position}]"
    if not isinstance(entry, dict):
        raise TrustError(f"{where} is not a mapping")
    unknown = set(entry) - {"name", "public_url", "ledger_verifier_key", "departments"}
    if unknown:
        raise TrustError(f"{where}: unknown entries {', '.join(sorted(map(str, unknown)))}")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise TrustError(f"{where}.name must be 1-64 letters, digits, '.', '_' or '-'")
    where = f"deployment {name}"
    url = entry.get("public_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or url[-1] == "/":
        raise TrustError(f"{where}: public_url must be an http(s) URL without a trailing /")
    ledger = _verifier(entry.get("ledger_verifier_key"), f"{where}: ledger_verifier_key")
    departments = entry.get("departments")
    if not isinstance(departments, list) or not departments:
        raise TrustError(f"{where}: departments must be a non-empty list")
    parsed = [_department(d, f"{where}: departments[{n}]") for n, d in enumerate(departments)]
    by_code = {d.code: d for d in parsed}
    if len(by_code) != len(parsed):
        raise TrustError(f"{where}: a department is listed twice")
    return TrustedDeployment(name, url, ledger, by_code)


def _department(entry: Any, where: str) -> TrustedDepartment:
    if not isinstance(entry, dict):
        raise TrustError(f"{where} is not a mapping")
    code = entry.get("code")
    if not isinstance(code, str) or not _USCC.match(code):
        raise TrustError(f"{where}.code is not a unified social credit code")
    if uscc_check_character(code[:17]) != code[17]:
        raise TrustError(f"{where}.code: the check character is wrong")
    types = entry.get("license_types", [])
    if not isinstance(types, list) or not all(
        isinstance(t, str) and _TYPE_CODE.match(t) for t in types
    ):
        raise TrustError(f"{where}.license_types must be a list of license type codes")
    jwks = entry.get("jwks")
    if isinstance(jwks, str):  # the JWK Set as fetched, pasted as a string
        try:
            jwks = json.loads(jwks)
        except ValueError:
            raise TrustError(f"{where}.jwks is not JSON") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise TrustError(f'{where}.jwks must be a JWK Set: {{"keys": [...]}}, not empty')
    keys: dict[str, PublicKey] = {}
    for n, jwk in enumerate(jwks["keys"]):
        if not isinstance(jwk, dict):
            raise TrustError(f"{where}.jwks.keys[{n}] is not a JWK")
        try:
            public = public_key_from_jwk(jwk)
        except ValueError as error:
            raise TrustError(f"{where}.jwks.keys[{n}]: {error}") from None
        keys[public.key_id] = public
    return TrustedDepartment(code, keys, frozenset(types))


def _verifier(text: Any, where: str) -> Verifier:
    if not isinstance(text, str):
        raise TrustError(f"{where} must be a signed-note verifier key (name+id+key)")
    if text.startswith("PRIVATE+KEY+"):
        raise TrustError(f"{where} is a PRIVATE key: give the log's verifier key instead")
    try:
        return Verifier.from_key_string(text.strip())
    except NoteError as error:
        raise TrustError(f"{where}: {error}") from None


class LocalLog:
    """This deployment's log verifier key: from the ledger's key file, else the trust file.

    The ledger writes its key file on its first start, which may come after this
    service's, so the file is read when first needed and then kept.
    """

    def __init__(self, key_file: Path, origin: str, configured: Verifier | None) -> None:
        self._key_file = key_file
        self._origin = origin
        self._verifier = configured

    def verifier(self) -> Verifier | None:
        """The log's verifier key, or None when neither source gives it."""
        if self._verifier is None:
            try:
                signer = Signer.from_key_string(self._key_file.read_text().strip())
            except (OSError, NoteError):
                return None
            if signer.name == self._origin:
                self._verifier = signer.verifier()
        return self._verifier
