"""Department signing keys behind one interface: EdDSA (Ed25519), ES256, SM2 with SM3.

Licenses, proof answers and status lists are JWS (RFC 7515) made by a maintained JOSE
library; this module only says what a signing key and a public key can do, so that the
SD-JWT and status-list code never knows which algorithm signs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


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
