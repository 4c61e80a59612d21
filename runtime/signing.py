"""Department signing keys behind one interface: EdDSA (Ed25519), ES256, SM2 with SM3.

Licenses, proof answers and status lists are JWS (RFC 7515) made by a maintained JOSE
library; this module only says what a signing key and a public key can do, so that the
SD-JWT and status-list code never knows which algorithm signs.

Shortest use::

    signer = generate_signer("EdDSA", "gongan-2026-1")
    jws = signer.sign_compact({"typ": "dc+sd-jwt"}, b"{...}")
    verifier = public_key_from_jwk(signer.public_key().jwk())
    header, payload = verifier.verify_compact(jws)

    sealed = seal_signer(signer, passphrase)          # a JWE: store it on disk
    signer = open_signer(sealed, passphrase)

The JWS are made and checked by joserfc, in a registry of this module's own that
holds exactly ``EdDSA``, ``ES256`` and ``SM2`` (joserfc's global registry is left as it
is). ``SM2`` is SM2 over SM3 with the default distinguishing ID, its signature the raw
64-byte ``r || s``, its JWK ``{"kty": "EC", "crv": "SM2", ...}``; why those choices is
in :mod:`runtime.sm2`. ``EdDSA`` keys are Ed25519 only (``crv`` is pinned), so the
polymorphism that RFC 9864 deprecates cannot bite.

Verification is built for batches: a :class:`JosePublicKey` keeps its parsed joserfc
key and a per-algorithm registry, and :func:`public_key_from_jwk` caches parsed keys,
so a verify is joserfc's parse plus the raw signature check.

At rest a private key is a JWE (RFC 7516) compact serialization made by joserfc, as
RFC 7517 section 7 describes for encrypted JWKs: ``alg`` ``PBES2-HS512+A256KW``
(PBKDF2 over the passphrase, :data:`SEAL_ITERATIONS` rounds by default), ``enc``
``A256GCM``, ``cty`` ``jwk+json``, payload the private JWK with its ``kid``, ``alg``
and ``use``. That is already envelope encryption: a random content key encrypts the
JWK and the passphrase-derived key wraps the content key. A KMS plugs in at the
wrapping step: register a joserfc JWE key-management model whose
``encrypt_cek``/``decrypt_cek`` call the KMS, name it in the ``alg`` of
:func:`seal_signer`/:func:`open_signer`, and nothing else in the format changes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1
from cryptography.hazmat.primitives.asymmetric.ec import (
    generate_private_key as generate_ec_private_key,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from joserfc import jwe
from joserfc import jws as jose_jws
from joserfc.errors import JoseError
from joserfc.jwa import (
    AESAlgKeyWrapping,
    EdDSAAlgorithm,
    ESAlgorithm,
    GCMEncModel,
    JWSAlgModel,
    PBES2HSAlgKeyEncryption,
)
from joserfc.jwe import JWERegistry
from joserfc.jwk import ECKey, OctKey, OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter, HeaderRegistryDict

from runtime.sm2 import SM2, SM2_ALG, SM2_CURVE, SM2Key


class SignatureError(Exception):
    """A JWS that does not parse, names another key or algorithm, or does not verify."""


class PublicKey(Protocol):
    """A department's public key, as published in the trust registry."""

    @property
    def alg(self) -> str:
        """The JOSE ``alg`` it verifies: ``EdDSA``, ``ES256``, or the SM2 suite's name."""
        ...

    @property
    def key_id(self) -> str:
        """The ``kid`` that JWS headers name."""
        ...

    def verify_compact(self, jws: str) -> tuple[dict[str, Any], bytes]:
        """The protected header and payload of compact `jws`, if this key signed it.

        Raises SignatureError when `jws` does not parse, its header names another
        ``alg`` or ``kid``, or the signature does not verify.
        """
        ...

    def verify_signature(
        self, header: Mapping[str, Any], signing_input: bytes, signature: bytes
    ) -> None:
        """Check a compact JWS whose parts the caller has already split and decoded.

        `header` is the protected header decoded from the first segment of
        `signing_input` (``<header>.<payload>`` as ASCII), `signature` the decoded
        third segment. The same checks as :meth:`verify_compact`, without parsing
        the JWS again; raises SignatureError.
        """
        ...

    def jwk(self) -> dict[str, Any]:
        """The public JWK (RFC 7517) with ``kid``, ``alg`` and ``use`` = ``sig``."""
        ...


class Signer(Protocol):
    """A department's private signing key."""

    @property
    def alg(self) -> str:
        """The JOSE ``alg`` it signs with."""
        ...

    @property
    def key_id(self) -> str:
        """The ``kid`` it writes into every JWS header."""
        ...

    def sign_compact(self, header: Mapping[str, Any], payload: bytes) -> str:
        """A compact JWS of `payload`; ``alg`` and ``kid`` are added to the protected header."""
        ...

    def public_key(self) -> PublicKey:
        """Its public half."""
        ...


ALGORITHMS: tuple[str, ...] = ("EdDSA", "ES256", SM2_ALG)
"""The JOSE ``alg`` names a department key may have."""

_CURVES: dict[tuple[str, str], str] = {
    ("OKP", "Ed25519"): "EdDSA",
    ("EC", "P-256"): "ES256",
    ("EC", SM2_CURVE): SM2_ALG,
}
"""(kty, crv) of a JWK → the one ``alg`` that key verifies."""

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
"""JWK members that carry private key material (RFC 7518 section 6)."""

_COORDINATE_SIZE = 32
"""Bytes in each JWK coordinate (x, y, d) of every supported curve."""


# --- the JWS registry ------------------------------------------------------------


class _Ed25519Only(EdDSAAlgorithm):
    # RFC 9864 deprecates the polymorphic "EdDSA" name (joserfc warns on every use);
    # the contract and RFC 8037's vectors still say EdDSA, and our keys are Ed25519
    # by construction, so the warning says nothing here.
    security_warning = None  # type: ignore[assignment]


class _SigningRegistry(JWSRegistry):
    """joserfc's JWS registry with only this module's algorithms, SM2 included."""

    # Class attributes of their own, so registering here leaves joserfc's defaults alone.
    algorithms: ClassVar[dict[str, JWSAlgModel]] = {}  # type: ignore[misc]
    recommended: ClassVar[list[str]] = []  # type: ignore[misc]


_SigningRegistry.register(_Ed25519Only())
_SigningRegistry.register(ESAlgorithm("ES256", "P-256", 256, True))
_SigningRegistry.register(SM2)

# One registry per alg, so a JWS can only ever be checked with its key's algorithm.
# Headers outside joserfc's list are allowed (RFC 7515 section 4: ignore what you
# do not understand) unless marked "crit", which joserfc still enforces.
_REGISTRIES: dict[str, _SigningRegistry] = {
    alg: _SigningRegistry(algorithms=[alg], strict_check_header=False) for alg in ALGORITHMS
}

# Each alg's joserfc model, for the split-once path (JosePublicKey.verify_signature).
_ALG_MODELS: dict[str, JWSAlgModel] = {alg: _SigningRegistry.algorithms[alg] for alg in ALGORITHMS}


# --- public keys -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JosePublicKey:
    """A :class:`PublicKey` backed by a parsed joserfc key.

    Build it with :func:`public_key_from_jwk` or :meth:`JoseSigner.public_key`; it is
    immutable and safe to share between threads and tasks.
    """

    alg: str
    """The JOSE ``alg`` it verifies."""
    key_id: str
    """The ``kid`` that JWS headers name."""
    jose_key: ECKey | OKPKey = field(repr=False)
    """The joserfc key, parsed once."""

    def verify_compact(self, jws: str) -> tuple[dict[str, Any], bytes]:
        """The protected header and payload of compact `jws`, if this key signed it.

        Raises SignatureError when `jws` does not parse, its header names another
        ``alg`` or ``kid``, or the signature does not verify. A header without
        ``kid`` is accepted (RFC 8037's examples have none): the signature still
        has to verify under this key.
        """
        registry = _REGISTRIES[self.alg]
        try:
            signed = jose_jws.extract_compact(jws.encode("ascii"), registry=registry)
        except (JoseError, ValueError, UnicodeError):
            raise SignatureError("the JWS is not a valid compact serialization") from None
        header = signed.protected
        if header.get("alg") != self.alg:
            raise SignatureError(
                f"the JWS names alg {_shorten(header.get('alg'))}, this key verifies {self.alg}"
            )
        if "kid" in header and header["kid"] != self.key_id:
            raise SignatureError(
                f"the JWS names kid {_shorten(header['kid'])}, this key is {self.key_id!r}"
            )
        if "b64" in header:
            raise SignatureError("the JWS uses RFC 7797 unencoded payloads, which are refused")
        try:
            valid = jose_jws.validate_compact(signed, self.jose_key, registry=registry)
        except JoseError as error:
            raise SignatureError(f"the JWS header is refused: {error.description}") from None
        except ValueError:
            raise SignatureError("the JWS header is refused") from None
        if not valid:
            raise SignatureError(f"the {self.alg} signature does not verify")
        return dict(header), signed.payload

    def verify_signature(
        self, header: Mapping[str, Any], signing_input: bytes, signature: bytes
    ) -> None:
        """Check a compact JWS whose parts the caller has already split and decoded.

        For verifiers that parse the JWS once for their own checks (the SD-JWT's
        header and payload): the header rules of :meth:`verify_compact`, then the
        signature over `signing_input` by joserfc's algorithm with this key, which
        calls `cryptography` (or Tongsuo for SM2). Nothing is parsed twice and no
        signature maths happens here. Raises SignatureError.
        """
        header_segment = signing_input.split(b".", 1)[0]
        registry = _REGISTRIES[self.alg]
        # joserfc's limits on what it extracts, so that both paths refuse the same JWS.
        if (
            len(header_segment) > registry.max_header_length
            or len(signature) > registry.max_signature_length
        ):
            raise SignatureError("the JWS is not a valid compact serialization")
        self._check_header(header, registry)
        model = _ALG_MODELS[self.alg]
        try:
            model.check_key(self.jose_key)  # as joserfc's validate_compact does
            valid = model.verify(signing_input, signature, self.jose_key)
        except JoseError as error:
            raise SignatureError(f"the JWS header is refused: {error.description}") from None
        if not valid:
            raise SignatureError(f"the {self.alg} signature does not verify")

    def _check_header(self, header: Mapping[str, Any], registry: _SigningRegistry) -> None:
        """The header rules of :meth:`verify_compact`, in its order, with its messages."""
        if header.get("alg") != self.alg:
            raise SignatureError(
                f"the JWS names alg {_shorten(header.get('alg'))}, this key verifies {self.alg}"
            )
        if "kid" in header and header["kid"] != self.key_id:
            raise SignatureError(
                f"the JWS names kid {_shorten(header['kid'])}, this key is {self.key_id!r}"
            )
        if "b64" in header:
            raise SignatureError("the JWS uses RFC 7797 unencoded payloads, which are refused")
        try:
            registry.check_header(dict(header))
        except JoseError as error:
            raise SignatureError(f"the JWS header is refused: {error.description}") from None
        except (ValueError, TypeError):
            raise SignatureError("the JWS header is refused") from None

    def jwk(self) -> dict[str, Any]:
        """The public JWK (RFC 7517) with ``kid``, ``alg`` and ``use`` = ``sig``."""
        return dict(self.jose_key.as_dict(private=False))


def _shorten(value: Any) -> str:
    # Header values come from whoever made the JWS; keep them short in messages.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def public_key_from_jwk(jwk: Mapping[str, Any], *, key_id: str | None = None) -> PublicKey:
    """The public key of `jwk`, a JWK as :meth:`PublicKey.jwk` returns it.

    `jwk` must name a ``kid`` (equal to `key_id` when given), a ``kty``/``crv`` pair
    of :data:`ALGORITHMS` (OKP/Ed25519, EC/P-256, EC/SM2), and no ``alg`` or one
    matching the curve; ``use``, if present, must be ``sig``. Private members are
    refused: a private key never travels as a public one. Raises ValueError with
    the reason. Parsed keys are cached, so calling this per request is cheap.
    """
    leaked = _PRIVATE_MEMBERS.intersection(jwk)
    if leaked:
        raise ValueError(f"the JWK carries private members {sorted(leaked)}; give a public JWK")
    if key_id is not None and jwk.get("kid") != key_id:
        raise ValueError(f"the JWK's kid is {_shorten(jwk.get('kid'))}, expected {key_id!r}")
    # The cache key: the sorted members when all are hashable (the usual JWK of
    # strings), else canonical JSON (key_ops, x5c are lists).
    cache_key: tuple[tuple[str, Any], ...] | str
    try:
        cache_key = tuple(sorted(jwk.items()))
        hash(cache_key)
    except TypeError:
        try:
            cache_key = json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            raise ValueError("the JWK is not a JSON object") from None
    return _cached_public_key(cache_key)


@functools.lru_cache(maxsize=1024)
def _cached_public_key(cache_key: tuple[tuple[str, Any], ...] | str) -> JosePublicKey:
    jwk: dict[str, Any] = json.loads(cache_key) if isinstance(cache_key, str) else dict(cache_key)
    alg, key_id = _check_jwk_metadata(jwk)
    public = {k: v for k, v in jwk.items() if k != "key_ops"}
    public.update({"kid": key_id, "alg": alg, "use": "sig"})
    return JosePublicKey(alg, key_id, _import_jose_key(alg, public))


def _check_jwk_metadata(jwk: Mapping[str, Any], operation: str = "verify") -> tuple[str, str]:
    """The (alg, kid) of `jwk`, after checking kty, crv, alg, kid, use and key_ops."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if not isinstance(kty, str) or not isinstance(crv, str) or (kty, crv) not in _CURVES:
        raise ValueError(
            f"unsupported key type kty={_shorten(kty)} crv={_shorten(crv)}; "
            "expected OKP/Ed25519, EC/P-256 or EC/SM2"
        )
    alg = _CURVES[(kty, crv)]
    if "alg" in jwk and jwk["alg"] != alg:
        raise ValueError(f"the JWK's alg is {_shorten(jwk['alg'])}, but a {crv} key is {alg}")
    key_id = jwk.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise ValueError("the JWK has no kid")
    if jwk.get("use", "sig") != "sig":
        raise ValueError(f"the JWK's use is {_shorten(jwk.get('use'))}, expected 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or operation not in key_ops):
        raise ValueError(f"the JWK's key_ops do not include {operation!r}")
    return alg, key_id


def _import_jose_key(alg: str, jwk: dict[str, Any]) -> ECKey | OKPKey:
    """Parse `jwk` (kty/crv already checked against `alg`) into a joserfc key."""
    size = _COORDINATE_SIZE
    for member in ("x", "y", "d"):
        value = jwk.get(member)
        if member in jwk and (not isinstance(value, str) or len(value) != (4 * size + 2) // 3):
            raise ValueError(f"the JWK member {member!r} is not {size} bytes base64url")
    try:
        if alg == SM2_ALG:
            return SM2Key.from_jwk(jwk)
        if alg == "EdDSA":
            return OKPKey.import_key(jwk)
        return ECKey.import_key(jwk)
    except (JoseError, ValueError, TypeError):
        raise ValueError(f"the JWK is not a valid {alg} key") from None


# --- signers -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JoseSigner:
    """A :class:`Signer` backed by a joserfc private key.

    Build it with :func:`generate_signer` or :func:`open_signer`. Its ``repr`` never
    shows key material.
    """

    alg: str
    """The JOSE ``alg`` it signs with."""
    key_id: str
    """The ``kid`` it writes into every JWS header."""
    jose_key: ECKey | OKPKey = field(repr=False)
    """The joserfc private key."""
    _public: JosePublicKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        public = {k: v for k, v in self.jose_key.as_dict(private=False).items()}
        object.__setattr__(
            self,
            "_public",
            JosePublicKey(self.alg, self.key_id, _import_jose_key(self.alg, public)),
        )

    def sign_compact(
        self, header: Mapping[str, Any], payload: bytes, *, kid_in_header: bool = True
    ) -> str:
        """A compact JWS of `payload`; ``alg`` and ``kid`` are added to the protected header.

        `header` may repeat this key's ``alg`` and ``kid`` but not name others, nor use
        RFC 7797's ``b64`` (ValueError). ``kid_in_header=False`` leaves ``kid`` out,
        for verifiers that find the key another way (and RFC 8037's examples).
        """
        protected = dict(header)
        for name, mine in (("alg", self.alg), ("kid", self.key_id)):
            if name in protected and protected[name] != mine:
                raise ValueError(
                    f"the header names {name} {_shorten(protected[name])}, not {mine!r}"
                )
        if "b64" in protected:
            raise ValueError("RFC 7797 unencoded payloads (b64) are not supported")
        protected["alg"] = self.alg
        if kid_in_header:
            protected["kid"] = self.key_id
        else:
            protected.pop("kid", None)
        try:
            return jose_jws.serialize_compact(
                protected, payload, self.jose_key, registry=_REGISTRIES[self.alg]
            )
        except JoseError as error:
            raise ValueError(f"joserfc refused the JWS header: {error.description}") from None

    def public_key(self) -> PublicKey:
        """Its public half."""
        return self._public

    def private_jwk(self) -> dict[str, Any]:
        """The private JWK with ``kid``, ``alg`` and ``use``: secret, for sealing only."""
        return dict(self.jose_key.as_dict(private=True))


def generate_signer(alg: str, key_id: str) -> Signer:
    """A new random signing key for `alg` (one of :data:`ALGORITHMS`) named `key_id`."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported alg {_shorten(alg)}; expected one of {list(ALGORITHMS)}")
    if not key_id:
        raise ValueError("a signing key needs a non-empty kid")
    parameters = {"kid": key_id, "alg": alg, "use": "sig"}
    key: ECKey | OKPKey
    if alg == SM2_ALG:
        key = SM2Key.generate(parameters)
    elif alg == "EdDSA":
        key = OKPKey.import_key(Ed25519PrivateKey.generate(), parameters)  # type: ignore[arg-type]
    else:
        key = ECKey.import_key(generate_ec_private_key(SECP256R1()), parameters)  # type: ignore[arg-type]
    return JoseSigner(alg, key_id, key)


def signer_from_private_jwk(jwk: Mapping[str, Any]) -> JoseSigner:
    """The signer of a private JWK such as :meth:`JoseSigner.private_jwk` returns.

    Checks as :func:`public_key_from_jwk` does, and that ``d`` is present and
    belongs to the public point. Raises ValueError; messages show no key material.
    """
    alg, key_id = _check_jwk_metadata(jwk, "sign")
    if "d" not in jwk:
        raise ValueError("the JWK has no private member d")
    private = {k: v for k, v in jwk.items() if k != "key_ops"}
    private.update({"kid": key_id, "alg": alg, "use": "sig"})
    key = _import_jose_key(alg, private)
    if not key.is_private:
        raise ValueError("the JWK is not a private key")
    if not isinstance(key, SM2Key):  # Tongsuo already checked an SM2 pair
        # joserfc builds Ed25519 keys from d alone, so x is only checked here.
        derived = (
            OKPKey.import_key(key.public_key)
            if isinstance(key, OKPKey)
            else ECKey.import_key(key.public_key)
        ).as_dict(private=False)
        if (derived.get("x"), derived.get("y")) != (private.get("x"), private.get("y")):
            raise ValueError("the JWK's d does not belong to its public key")
    return JoseSigner(alg, key_id, key)


# --- keys at rest ---------------------------------------------------------------------

SEAL_ALG = "PBES2-HS512+A256KW"
"""JWE key management of sealed keys: PBKDF2-HMAC-SHA512, then AES-256 key wrap."""
SEAL_ENC = "A256GCM"
"""JWE content encryption of sealed keys."""
SEAL_CTY = "jwk+json"
"""JWE ``cty`` of an encrypted JWK (RFC 7517 section 7)."""
SEAL_ITERATIONS = 600_000
"""Default PBKDF2 rounds (``p2c``): OWASP's 2023 figure for PBKDF2; tests pass fewer."""
MIN_ITERATIONS = 1_000
"""Fewest rounds accepted: RFC 7518 section 4.8.1.2's recommended minimum."""
MAX_ITERATIONS = 10_000_000
"""Most rounds a sealed file may ask for, so a doctored file cannot stall start-up."""


def _check_p2c(value: Any) -> None:
    # joserfc caps p2c at 300,000 as a guard for JWEs from strangers; our files are
    # our own and want more, with a higher cap of our own.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be an int")
    if not MIN_ITERATIONS <= value <= MAX_ITERATIONS:
        raise ValueError(f"must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")


class _SealPBES2(PBES2HSAlgKeyEncryption):
    more_header_registry: ClassVar[HeaderRegistryDict] = {  # type: ignore[misc]
        "p2s": HeaderParameter("PBES2 Salt Input", "str", True),
        "p2c": HeaderParameter("PBES2 Count", _check_p2c, True),
    }


class _SealRegistry(JWERegistry):
    """joserfc's JWE registry with only the sealing algorithms, under our p2c bounds."""

    algorithms = {"alg": {}, "enc": {}, "zip": {}}  # noqa: RUF012  (joserfc's own shape)
    recommended: ClassVar[list[str]] = []


_SealRegistry.register(_SealPBES2(512, AESAlgKeyWrapping(256)))
_SealRegistry.register(GCMEncModel(256))
_SEAL_REGISTRY = _SealRegistry(algorithms=[SEAL_ALG, SEAL_ENC])


def _passphrase_key(passphrase: bytes) -> OctKey:
    if not passphrase:
        raise ValueError("the passphrase is empty")
    # Built directly: OctKey.import_key warns about short *keys*, but this is PBKDF2 input.
    return OctKey(passphrase, passphrase)


def seal_signer(signer: Signer, passphrase: bytes, *, iterations: int = SEAL_ITERATIONS) -> bytes:
    """`signer`'s private key as a JWE compact serialization, encrypted under `passphrase`.

    See the module docstring for the format. `signer` must come from this module
    (:func:`generate_signer`, :func:`open_signer`); `iterations` is the PBKDF2 count
    (``p2c``), at least :data:`MIN_ITERATIONS`.
    """
    if not isinstance(signer, JoseSigner):
        raise TypeError("only signers made by runtime.signing can be sealed")
    _check_p2c(iterations)
    protected = {"alg": SEAL_ALG, "enc": SEAL_ENC, "cty": SEAL_CTY, "p2c": iterations}
    plaintext = json.dumps(signer.private_jwk(), separators=(",", ":")).encode("utf-8")
    sealed = jwe.encrypt_compact(
        protected, plaintext, _passphrase_key(passphrase), registry=_SEAL_REGISTRY
    )
    return sealed.encode("ascii")


def open_signer(sealed: bytes, passphrase: bytes) -> Signer:
    """The signer that :func:`seal_signer` sealed under `passphrase`.

    Raises SignatureError when the passphrase is wrong or the sealed bytes were
    altered (the two look alike when the key-wrapping layer fails), or they are
    not a sealed key at all.
    """
    key = _passphrase_key(passphrase)
    try:
        opened = jwe.decrypt_compact(sealed, key, registry=_SEAL_REGISTRY)
    except JoseError as error:
        cause = error.__cause__
        if isinstance(cause, InvalidUnwrap):
            raise SignatureError(
                "cannot open the sealed key: wrong passphrase, or its header or wrapped key "
                "was altered"
            ) from None
        if isinstance(cause, InvalidTag):
            raise SignatureError(
                "cannot open the sealed key: its content was altered (authentication failed)"
            ) from None
        raise SignatureError(
            f"not a sealed signing key ({SEAL_ALG}/{SEAL_ENC} JWE): {error.description}"
        ) from None
    except (ValueError, UnicodeError):
        raise SignatureError("not a sealed signing key: the JWE does not parse") from None
    if opened.protected.get("cty") != SEAL_CTY or opened.plaintext is None:
        raise SignatureError(f"the sealed content is not a JWK (cty is not {SEAL_CTY!r})")
    try:
        jwk = json.loads(opened.plaintext)
        if not isinstance(jwk, dict):
            raise ValueError("not a JSON object")
        return signer_from_private_jwk(jwk)
    except ValueError as error:
        raise SignatureError(f"the sealed JWK is not a signing key: {error}") from None
