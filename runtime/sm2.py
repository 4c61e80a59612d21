"""SM2 with SM3 as a JWS algorithm for joserfc, on top of tongsuopy (Tongsuo).

The national-crypto suite signs with SM2 (GM/T 0003.2, GB/T 32918.2) over the SM3
hash (GM/T 0004, GB/T 32905) of ``Z_A || M``, where ``Z_A`` binds the signer's
public key and distinguishing ID. The ID is the default ``1234567812345678`` of
GM/T 0009 (GB/T 35276): Tongsuo uses it when none is set, and the tests check
that against the OpenSSL command line with ``-pkeyopt distid:1234567812345678``.

No JOSE registration exists for SM2, so two choices are ours:

- ``alg`` is ``"SM2"``. It is what most Chinese JWT code already writes
  (``{"alg":"SM2","typ":"JWT"}``); like ``EdDSA`` it names the signature scheme,
  and the scheme fixes its hash, since GB/T 35276 pairs SM2 signatures with SM3
  only, so a separate ``SM3`` suffix (``SM2SM3``) would add nothing.
- The signature is the raw 64 bytes ``r || s``, each 32 bytes big-endian, as
  RFC 7518 section 3.4 does for ES256, not the DER ``SEQUENCE { r, s }`` that
  Tongsuo returns: a JWS carries fixed-size raw signatures, and verifiers on
  other stacks (e.g. ``deatil/go-jwt-gm``) expect 64 bytes. The conversion uses
  ``cryptography``'s DSS helpers; no curve arithmetic happens here.

An SM2 JWK looks like an EC JWK (RFC 7518 section 6.2) with ``crv`` ``"SM2"``:
``{"kty": "EC", "crv": "SM2", "x": ..., "y": ...}`` plus ``d`` when private,
each coordinate 32 bytes base64url without padding.

:class:`SM2Algorithm` is a joserfc ``JWSAlgModel`` and :class:`SM2Key` a joserfc
``ECKey``, so joserfc itself builds and checks the JWS; ``runtime.signing``
registers the algorithm in its own registry.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from joserfc.errors import InvalidKeyCurveError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey
from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

SM2_ALG = "SM2"
"""The JOSE ``alg`` of SM2 signatures over SM3 (see the module docstring for why)."""

SM2_CURVE = "SM2"
"""The JWK ``crv`` of keys on the SM2 recommended curve (GB/T 32918.5)."""

DEFAULT_DISTINGUISHING_ID = b"1234567812345678"
"""The signer ID hashed into ``Z_A``: GM/T 0009's default, which Tongsuo applies."""

COORDINATE_SIZE = 32
"""Bytes in each of ``x``, ``y``, ``d``, ``r`` and ``s`` on the 256-bit SM2 curve."""

SIGNATURE_SIZE = 2 * COORDINATE_SIZE


def _sm3_signature() -> Any:
    # Tongsuo's ECDSA entry point over an SM2 key (EVP_PKEY_SM2) with SM3 computes
    # the GB/T 32918.2 signature, Z_A included; it is not ECDSA despite the name.
    return ec.ECDSA(hashes.SM3())


def _b64url_to_int(value: Any, member: str) -> int:
    """The big-endian integer in JWK member `member`, which must be 32 bytes base64url."""
    if not isinstance(value, str):
        raise ValueError(f"SM2 JWK member {member!r} is not a string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"SM2 JWK member {member!r} is not base64url") from None
    if len(raw) != COORDINATE_SIZE or _int_to_b64url(int.from_bytes(raw, "big")) != value:
        raise ValueError(f"SM2 JWK member {member!r} is not {COORDINATE_SIZE} bytes base64url")
    return int.from_bytes(raw, "big")


def _int_to_b64url(value: int) -> str:
    raw = value.to_bytes(COORDINATE_SIZE, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SM2Key(ECKey):
    """A joserfc EC key whose material is a Tongsuo SM2 key.

    joserfc's own EC keys hold ``cryptography`` keys, which have no SM2 curve;
    this subclass keeps joserfc's JWK bookkeeping (``kid``, ``alg``, ``use``,
    thumbprints) and swaps in Tongsuo for the key material. Build one with
    :meth:`generate` or :meth:`from_jwk`.
    """

    @classmethod
    def generate(cls, parameters: Mapping[str, Any] | None = None) -> SM2Key:
        """A fresh private key; `parameters` (``kid``, ``alg``, ``use``) join its JWK."""
        return cls._wrap(ec.generate_private_key(ec.SM2()), parameters)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SM2Key:
        """The public or (with ``d``) private key of an SM2 JWK.

        Raises ValueError when ``kty``/``crv`` are not ``EC``/``SM2``, a coordinate is
        not 32 bytes base64url, the point is not on the curve, or ``d`` does not
        belong to ``x``/``y``. Messages never repeat key material.
        """
        if jwk.get("kty") != "EC" or jwk.get("crv") != SM2_CURVE:
            raise ValueError('an SM2 JWK needs "kty": "EC" and "crv": "SM2"')
        x = _b64url_to_int(jwk.get("x"), "x")
        y = _b64url_to_int(jwk.get("y"), "y")
        public_numbers = ec.EllipticCurvePublicNumbers(x, y, ec.SM2())
        raw: Any
        try:
            if "d" in jwk:
                d = _b64url_to_int(jwk["d"], "d")
                raw = ec.EllipticCurvePrivateNumbers(d, public_numbers).private_key()
            else:
                raw = public_numbers.public_key()
        except ValueError:
            # Tongsuo says "Invalid EC key." both for a point off the curve and for
            # a private scalar that does not give the public point.
            raise ValueError("SM2 JWK: the key is not a valid SM2 key pair or point") from None
        extra = {k: v for k, v in jwk.items() if k not in ("kty", "crv", "x", "y", "d")}
        return cls._wrap(raw, extra)

    @classmethod
    def _wrap(cls, raw: Any, parameters: Mapping[str, Any] | None) -> SM2Key:
        private = isinstance(raw, ec.EllipticCurvePrivateKey)
        public = raw.public_key() if private else raw
        numbers = public.public_numbers()
        jwk: dict[str, Any] = {
            "crv": SM2_CURVE,
            "x": _int_to_b64url(numbers.x),
            "y": _int_to_b64url(numbers.y),
        }
        if private:
            jwk["d"] = _int_to_b64url(raw.private_numbers().private_value)
        jwk.update(parameters or {})
        return cls(raw, jwk)

    # joserfc's ECKey answers these from cryptography key types; Tongsuo's differ.
    @property
    def is_private(self) -> bool:
        """Whether this key can sign."""
        return isinstance(self.raw_value, ec.EllipticCurvePrivateKey)

    @property
    def public_key(self) -> Any:
        """The Tongsuo public key."""
        raw = self.raw_value
        return raw.public_key() if isinstance(raw, ec.EllipticCurvePrivateKey) else raw

    @property
    def private_key(self) -> Any:
        """The Tongsuo private key, or ``None`` for a public key."""
        raw = self.raw_value
        return raw if isinstance(raw, ec.EllipticCurvePrivateKey) else None

    @property
    def curve_name(self) -> str:
        """Always ``"SM2"``."""
        return SM2_CURVE

    @property
    def curve_key_size(self) -> int:
        """Bits in the curve order: 256."""
        return 8 * COORDINATE_SIZE


class SM2Algorithm(JWSAlgModel):
    """The ``SM2`` JWS algorithm: SM2 signatures over SM3, raw 64-byte ``r || s``."""

    name = SM2_ALG
    description = "SM2 signature with SM3 (GB/T 32918.2, GB/T 32905), default ID"
    key_type = "EC"

    def check_key(self, key: Any) -> None:
        """Refuse keys that are not SM2, besides joserfc's ``use``/``kty``/``alg`` checks."""
        super().check_key(key)
        if not isinstance(key, SM2Key):
            raise InvalidKeyCurveError(f"Algorithm '{self.name}' requires an SM2 key")

    def sign(self, msg: bytes, key: SM2Key) -> bytes:
        """The raw ``r || s`` signature of `msg`."""
        der = key.get_op_key("sign").sign(msg, _sm3_signature())
        r, s = decode_dss_signature(der)
        return r.to_bytes(COORDINATE_SIZE, "big") + s.to_bytes(COORDINATE_SIZE, "big")

    def verify(self, msg: bytes, sig: bytes, key: SM2Key) -> bool:
        """Whether `sig` (raw ``r || s``) is an SM2 signature of `msg` by `key`."""
        if len(sig) != SIGNATURE_SIZE:
            return False
        r = int.from_bytes(sig[:COORDINATE_SIZE], "big")
        s = int.from_bytes(sig[COORDINATE_SIZE:], "big")
        if r == 0 or s == 0:
            return False  # outside [1, n-1]; spare Tongsuo an input it may treat as an error
        try:
            key.get_op_key("verify").verify(encode_dss_signature(r, s), msg, _sm3_signature())
        except InvalidSignature:
            return False
        return True


SM2 = SM2Algorithm()
"""The algorithm instance that registries register."""
