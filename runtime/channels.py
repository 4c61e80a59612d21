"""TLS for certfree's gRPC connections: the channel every client opens, the servers' credentials.

Both ends present a certificate from the deployment CA (``certfree pki``) and trust only
that CA, when the ``CERTFREE_TLS_*`` settings are set::

    channel = secure_channel(settings.target("ledger"), settings)   # clients
    port = server.add_secure_port(address, server_credentials(settings))  # start_server

Without those settings a channel is plain TCP, for development only: production refuses
to open one (:class:`~runtime.config.ConfigError` naming the settings). Servers re-read
their certificate, key and CA files when they change (a rotated Kubernetes Secret), for
each new connection, with no restart; a client reads its files when it opens a channel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from runtime.config import TLS_SETTINGS, ConfigError, Settings
from runtime.logs import get_logger
from runtime.tracing import client_interceptors

_log = get_logger("tls")

Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes of one process's mutual-TLS files."""

    certificate_chain: bytes
    """``CERTFREE_TLS_CERT_FILE``."""
    private_key: bytes
    """``CERTFREE_TLS_KEY_FILE``."""
    root_certificates: bytes
    """``CERTFREE_TLS_CA_FILE``."""


def tls_paths(settings: Settings) -> tuple[Path, Path, Path]:
    """The certificate, key and CA files; ConfigError unless mutual TLS is configured."""
    if not settings.tls_configured:
        raise ConfigError(f"mutual TLS needs {TLS_SETTINGS}")
    return settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file


def read_material(settings: Settings) -> TlsMaterial:
    """Read and check the TLS files: each readable PEM, the key the certificate's own."""
    cert_file, key_file, ca_file = tls_paths(settings)
    names = ("CERTFREE_TLS_CERT_FILE", "CERTFREE_TLS_KEY_FILE", "CERTFREE_TLS_CA_FILE")
    contents = []
    for name, path in zip(names, (cert_file, key_file, ca_file), strict=True):
        try:
            contents.append(path.read_bytes())
        except OSError as error:
            raise ConfigError(f"{name}: cannot read {path}: {error.strerror}") from None
    material = TlsMaterial(*contents)
    _check(material)
    return material


def _check(material: TlsMaterial) -> None:
    try:
        chain = x509.load_pem_x509_certificates(material.certificate_chain)
    except ValueError:
        raise ConfigError("CERTFREE_TLS_CERT_FILE holds no readable PEM certificate") from None
    try:
        x509.load_pem_x509_certificates(material.root_certificates)
    except ValueError:
        raise ConfigError("CERTFREE_TLS_CA_FILE holds no readable PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(material.private_key, password=None)
    except (ValueError, TypeError):
        raise ConfigError("CERTFREE_TLS_KEY_FILE holds no readable unencrypted PEM key") from None
    if key.public_key() != chain[0].public_key():
        raise ConfigError("CERTFREE_TLS_KEY_FILE is not the key of CERTFREE_TLS_CERT_FILE")


def secure_channel(
    target: str, settings: Settings, options: Sequence[tuple[str, Any]] = ()
) -> grpc.aio.Channel:
    """A channel to a certfree service: mutual TLS with this process's certificate.

    Without the TLS settings, a plain channel in development mode; in production a
    ConfigError naming the settings. The server's certificate must name the host of
    `target` among its DNS or IP SANs (``certfree pki issue --dns``). With tracing on
    (``CERTFREE_TRACING_ENDPOINT``) every call carries the current trace as ``traceparent``.
    """
    interceptors = client_interceptors(settings) or None
    if not settings.tls_configured:
        if settings.mode == "production":
            raise ConfigError(f"production calls services over mutual TLS: set {TLS_SETTINGS}")
        return grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    material = read_material(settings)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=material.root_certificates,
        private_key=material.private_key,
        certificate_chain=material.certificate_chain,
    )
    return grpc.aio.secure_channel(
        target, credentials, options=list(options), interceptors=interceptors
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials:
    """Server credentials that require a client certificate from the CA and reload on change."""
    files = _ServerFiles(settings)
    return grpc.dynamic_ssl_server_credentials(
        files.initial, files.fetch, require_client_authentication=True
    )


def file_stamp(paths: Sequence[Path]) -> Stamp:
    """What changes when one of `paths` is rewritten or its Kubernetes symlink is swapped."""
    found = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            found.append((0, 0, 0))
            continue
        found.append((info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(found)


class _ServerFiles:
    """The certificate-configuration fetcher gRPC calls before each handshake."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._paths = tls_paths(settings)
        self._stamp = file_stamp(self._paths)
        self.initial = _configuration(read_material(settings))

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """A new configuration when the files changed and are consistent, else None (keep)."""
        stamp = file_stamp(self._paths)
        if stamp == self._stamp:
            return None
        try:
            material = read_material(self._settings)
        except ConfigError as error:
            # Mid-rotation (certificate written, key not yet): keep serving the old pair
            # and look again at the next handshake.
            _log.warning("TLS files changed but are not usable yet", problem=str(error))
            return None
        self._stamp = stamp
        _log.info("TLS certificate files reloaded")
        return _configuration(material)


def _configuration(material: TlsMaterial) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration(
        [(material.private_key, material.certificate_chain)],
        root_certificates=material.root_certificates,
    )
