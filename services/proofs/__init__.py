"""The proofs service (我为你证明): the proof catalogue and proof requests between departments.

``registrations`` reads and checks everything at start-up (the catalogue seed, the
working calendar, the holder index key) and mounts ProofService and
ProofCatalogService; ``on_start`` seeds the catalogue (development: the shipped
sample, unless CERTFREE_PROOFS_CATALOG_FILE says) and starts the background jobs
(deadline sweeper and commitment sampler, ``services/proofs/sweeper.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.attestation import LedgerClient
from runtime.config import ConfigError, Settings
from runtime.holders import HolderIndex
from runtime.secrets import load_secret
from runtime.server import Registration
from runtime.store import Store
from services.proofs.catalog import CatalogError, Catalogue, load_catalog
from services.proofs.core import Limits
from services.proofs.deadlines import CalendarError, WorkingCalendar
from services.proofs.proving import Proofs
from services.proofs.servicer import ProofCatalogServicer, ProofServicer
from services.proofs.store import ProofStore
from services.proofs.sweeper import Sweeper
from services.proofs.upstream import LicensesClient

SAMPLE_CATALOGUE = Path(__file__).with_name("catalog.yaml")
"""The shipped sample catalogue: the development seed unless CERTFREE_PROOFS_CATALOG_FILE says."""


def _seed(settings: Settings) -> Catalogue | None:
    seed_file = settings.proofs_catalog_file
    if str(seed_file) in ("", ".") and settings.mode == "development":
        seed_file = SAMPLE_CATALOGUE
    if str(seed_file) in ("", "."):
        return None
    try:
        return load_catalog(seed_file)
    except CatalogError as error:
        raise ConfigError(f"CERTFREE_PROOFS_CATALOG_FILE: {error}") from None


def _calendar(settings: Settings) -> WorkingCalendar:
    try:
        return WorkingCalendar.from_config(
            hours=settings.working_hours,
            weekdays=settings.working_weekdays,
            holidays=settings.holidays,
            workdays=settings.makeup_workdays,
            zone=settings.time_zone,
        )
    except CalendarError as error:
        raise ConfigError(f"the working calendar settings: {error}") from None


def _sweeper(store: ProofStore, calendar: WorkingCalendar, settings: Settings) -> Sweeper:
    """The deadline sweeper and commitment sampler, on the settings' interval and rates."""
    return Sweeper(
        store,
        calendar,
        interval=settings.proofs_sweep_seconds,
        expiry=timedelta(days=settings.proofs_expiry_days),
        sampling_rate=settings.proofs_sampling_rate,
        clock=lambda: datetime.now(UTC),
    )


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The proofs servicers, ready to mount; seed, calendar and keys are read (and checked) now."""
    seed = _seed(settings)
    calendar = _calendar(settings)
    proof_store = ProofStore(store)
    ledger = LedgerClient(settings, subject="certfree-proofs")
    licenses = LicensesClient(settings, subject="certfree-proofs")
    proofs = Proofs(
        proof_store,
        licenses,
        ledger,
        HolderIndex(load_secret(settings, "holder_index_key")),
        calendar,
        Limits(
            warning_before=timedelta(minutes=settings.proofs_warning_before_minutes),
            expiry=timedelta(days=settings.proofs_expiry_days),
        ),
    )
    sweeper = _sweeper(proof_store, calendar, settings)

    async def on_start() -> None:
        if seed is not None:
            await proofs.seed(seed)
        await sweeper.start()

    async def on_stop() -> None:
        await sweeper.stop()
        await proof_store.aclose()
        await licenses.close()
        await ledger.close()

    service = proofs_pb2.DESCRIPTOR.services_by_name
    return [
        Registration(
            name=service["ProofService"].full_name,
            add=lambda server: proofs_pb2_grpc.add_ProofServiceServicer_to_server(
                ProofServicer(proofs), server
            ),
            on_start=on_start,
            on_stop=on_stop,
        ),
        Registration(
            name=service["ProofCatalogService"].full_name,
            add=lambda server: proofs_pb2_grpc.add_ProofCatalogServiceServicer_to_server(
                ProofCatalogServicer(proofs), server
            ),
        ),
    ]
