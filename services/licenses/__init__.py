"""The licenses service (电子证照): issue, share and verify signed e-licenses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.attestation import LedgerClient
from runtime.config import ConfigError, Settings
from runtime.holders import HolderIndex
from runtime.secrets import load_secret
from runtime.server import Registration
from runtime.store import Store
from services.licenses.catalog import SeedError, load_seed
from services.licenses.keys import IssuerKeys
from services.licenses.licensing import Licensing
from services.licenses.servicer import LicenseCatalogServicer, LicenseServicer
from services.licenses.store import LicenseStore
from services.licenses.trust import LocalLog, Trust, TrustError, load_trust
from services.licenses.verification import LicenseVerifier

SAMPLE_CATALOGUE = Path(__file__).with_name("catalog.yaml")
"""The shipped sample catalogue: the development seed unless CERTFREE_CATALOG_FILE says."""


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The licenses servicers, ready to mount; the catalogue seed is read (and checked) now."""
    seed_file = settings.catalog_file
    if str(seed_file) in ("", ".") and settings.mode == "development":
        seed_file = SAMPLE_CATALOGUE
    try:
        seed = load_seed(seed_file) if str(seed_file) not in ("", ".") else None
    except SeedError as error:
        raise ConfigError(f"CERTFREE_CATALOG_FILE: {error}") from None
    trust_file = settings.trusted_deployments_file
    try:
        trust = load_trust(trust_file) if str(trust_file) not in ("", ".") else Trust()
    except TrustError as error:
        raise ConfigError(f"CERTFREE_TRUSTED_DEPLOYMENTS_FILE: {error}") from None

    license_store = LicenseStore(store, status_cache=settings.licenses_status_cache == 1)
    ledger = LedgerClient(settings, subject="certfree-licenses")
    keys = IssuerKeys(license_store, ledger, load_secret(settings, "signing_passphrase"))
    licensing = Licensing(
        license_store,
        keys,
        ledger,
        HolderIndex(load_secret(settings, "holder_index_key")),
        public_url=settings.public_url,
        status_list_ttl=timedelta(seconds=settings.status_list_ttl_seconds),
    )

    verifier = LicenseVerifier(
        licensing,
        trust,
        LocalLog(settings.ledger_key_path, settings.ledger_origin, trust.local_ledger),
    )

    async def on_start() -> None:
        if seed is not None:
            await licensing.seed(seed)
        await licensing.start()

    async def on_stop() -> None:
        await licensing.stop()
        await ledger.close()

    service = licenses_pb2.DESCRIPTOR.services_by_name
    return [
        Registration(
            name=service["LicenseService"].full_name,
            add=lambda server: licenses_pb2_grpc.add_LicenseServiceServicer_to_server(
                LicenseServicer(licensing, verifier), server
            ),
            on_start=on_start,
            on_stop=on_stop,
        ),
        Registration(
            name=service["LicenseCatalogService"].full_name,
            add=lambda server: licenses_pb2_grpc.add_LicenseCatalogServiceServicer_to_server(
                LicenseCatalogServicer(license_store, licensing), server
            ),
        ),
    ]
