"""Benchmark the licenses service: IssueLicense, VerifyLicense and BatchVerifyLicenses over gRPC.

    python bench/licenses.py [--quick] [--duration 10] [--warmup 2] [--concurrency 1,16]
                             [--algorithms EdDSA,ES256,SM2] [--licenses 1000] [--batch 1000]
                             [--phases issue,verify,batch] [--no-echo]

Starts the whole certfree stack in this process (``Stack.start(..., insecure_dev=True)``:
embedded Valkey, or REDIS_URL; ledger, licenses, proofs and gateway, every port 0, a
temporary data dir) and a bare unary echo server (the baseline), then measures with a
load generator in a child process, so that this process's CPU is the servers' alone:

1. IssueLicense at each concurrency N: the business license ``11100000000013127D001`` of
   the sample catalogue, issued by ``11350100MB01234565`` (role issuer) to a fresh holder
   (a valid USCC) per call. Each issuance signs an SD-JWT VC, stores it durably and
   attests it in the ledger. Printed: calls/s, p50/p99, CPU per call of the servers,
   the store and the client, and calls/s against the echo (the same client sending the
   same request bytes to the echo server at the same N).
2. VerifyLicense (one SD-JWT per call) at each N, the same figures; the issue's target is
   single verify >= 60% of the echo: printed next to the ratio, never asserted.
3. BatchVerifyLicenses of ``--batch`` SD-JWTs per call, one caller: verifies/s, and the
   ratio to the raw signature checks per second of the same issuer-signed JWTs (their
   signing inputs and signatures) in one thread of the child: ``cryptography``'s
   ``Ed25519PublicKey.verify`` for EdDSA (target >= 80%), its P-256 ECDSA for ES256, and
   Tongsuo's SM2 with SM3 (what runtime/sm2.py calls) for SM2.
4. Steps 2 and 3 for each of ``--algorithms``: the issuer's key is rotated to the
   algorithm with RotateIssuerKey and ``--licenses`` licenses are issued with it first.

Every reply is checked (an issuance carries its ledger index; a verification is valid);
failures are counted and printed, never hidden. Timings are this machine's; compare the
ratios across changes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from common import (
    ECHO,
    add_baseline_options,
    echo_server,
    fill_defaults,
    integers,
    names,
    percentile,
    warm_child,
)
from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes as cryptography_hashes
from cryptography.hazmat.primitives.asymmetric import ec as cryptography_ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from google.protobuf import json_format
from tongsuopy.crypto import hashes as tongsuo_hashes
from tongsuopy.crypto.asymciphers import ec as tongsuo_ec
from tongsuopy.crypto.exceptions import InvalidSignature as TongsuoInvalidSignature

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import load
from runtime.holders import USCC_ALPHABET, uscc_check_character
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER
from runtime.logs import configure

BUSINESS_LICENSE = "11100000000013127D001"
"""营业执照 in the shipped sample catalogue (services/licenses/catalog.yaml)."""
ISSUER = "11350100MB01234565"
"""A market regulation bureau the sample catalogue grants the business license."""
VERIFIER = "11350181MB12345671"
"""The department whose clerk verifies (any caller may verify)."""
ISSUER_METADATA = ((DEPARTMENT_HEADER, ISSUER), (ROLE_HEADER, "issuer"))
VERIFIER_METADATA = ((DEPARTMENT_HEADER, VERIFIER), (ROLE_HEADER, "clerk"))
OPERATOR_METADATA = ((DEPARTMENT_HEADER, ISSUER), (ROLE_HEADER, "operator"))

SERVICE = "/certfree.licenses.v1.LicenseService/"
MAX_BATCH = 1000
"""BatchVerifyLicenses' limit (licenses.proto)."""

ALGORITHMS = {
    "EdDSA": licenses_pb2.SIGNATURE_ALGORITHM_EDDSA_ED25519,
    "ES256": licenses_pb2.SIGNATURE_ALGORITHM_ES256,
    "SM2": licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3,
}
RAW_LIBRARY = {
    "EdDSA": "cryptography Ed25519PublicKey.verify",
    "ES256": "cryptography EllipticCurvePublicKey.verify (P-256, SHA-256)",
    "SM2": "tongsuopy SM2 verify with SM3 (as runtime/sm2.py)",
}
SINGLE_TARGET = 0.60
"""The issue's target: VerifyLicense calls/s at least this share of the echo's."""
BATCH_TARGET = 0.80
"""The issue's target: batch verifies/s at least this share of raw Ed25519 verify/s."""


def holder_uscc(tag: str, i: int) -> str:
    """A well-formed USCC (GB 32100) of a company registered in Fuqing, unique per (tag, i).

    Positions 1-2 "91" (market regulation, enterprise), 3-8 the division 350181, 9-17 an
    organisation code "M" + the tag's letter + i in base 31, 18 the check character.
    """
    digits = []
    for _ in range(7):
        i, rest = divmod(i, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[rest])
    first17 = "91350181M" + tag + "".join(reversed(digits))
    return first17 + uscc_check_character(first17)


def business_claims(i: int) -> dict[str, Any]:
    """The claims of a business license as the sample catalogue defines them (made up)."""
    return {
        "name": f"福清市示例{i}号贸易有限公司",
        "type": "有限责任公司(自然人投资或控股)",
        "legal_representative": "林某",
        "registered_capital": f"{100 + i % 900}万元人民币",
        "established_on": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "business_scope": "日用百货、五金产品、电子产品销售;货物进出口;技术进出口。",
        "address": f"福建省福清市音西街道示例路{1 + i % 999}号",
    }


def issue_request(run: str, tag: str, i: int) -> licenses_pb2.IssueLicenseRequest:
    """An IssueLicense request for holder (tag, i), with a request id unique to this run."""
    request = licenses_pb2.IssueLicenseRequest(
        request_id=f"bench-{run}-{tag}-{i}",
        license_type_code=BUSINESS_LICENSE,
        holder=common_pb2.HolderRef(uscc=holder_uscc(tag, i)),
    )
    request.claims.update(business_claims(i))
    return request


def failed_checks(response: licenses_pb2.VerifyLicenseResponse) -> str:
    """The names of the checks that did not pass (no claim values: they are holder data)."""
    return ", ".join(
        licenses_pb2.VerificationCheck.Name(c.check).removeprefix("VERIFICATION_CHECK_")
        for c in response.checks
        if c.outcome != licenses_pb2.CHECK_OUTCOME_PASSED
    )


# --- the load generator (runs in a child process) --------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    """What the child process sends: which RPC, to which port, how many at once, how long."""

    port: int
    rpc: str
    """``IssueLicense``, ``VerifyLicense`` or ``BatchVerifyLicenses``."""
    echo: bool
    """Send the same request bytes to the echo server instead."""
    concurrency: int
    warmup: float
    duration: float
    run: str
    """Makes this run's request ids unique in the store (REDIS_URL may be reused)."""
    tag: str = "A"
    """Makes this case's holders unique (one letter of the USCC alphabet)."""
    sd_jwts: tuple[str, ...] = ()
    """What VerifyLicense and BatchVerifyLicenses send, round robin."""
    batch: int = 1
    """SD-JWTs per BatchVerifyLicenses call."""
    total: int = 0
    """IssueLicense only: issue exactly this many (preparing a key's licenses), not by time."""


@dataclass
class LoadResult:
    """What the child measured; latencies are of calls that completed in the window."""

    calls: int = 0
    items: int = 0
    """Licenses issued or verified by the calls in the window."""
    window: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    sent_calls: int = 0
    """Every call answered, warm-up and tail included (what the CPU figures cover)."""
    client_cpu: float = 0.0
    request_bytes: int = 0
    errors: int = 0
    first_error: str = ""
    sd_jwts: list[str] = field(default_factory=list)
    """IssueLicense with `total`: the SD-JWTs issued."""

    @property
    def calls_per_s(self) -> float:
        """Completed calls per second in the window."""
        return self.calls / self.window if self.window else 0.0

    @property
    def items_per_s(self) -> float:
        """Licenses issued or verified per second in the window."""
        return self.items / self.window if self.window else 0.0


def run_load(spec: LoadSpec) -> LoadResult:
    """Entry point of the child process."""
    return asyncio.run(_load(spec))


class _Refused(Exception):
    """A reply that does not show the work done (not issued, not attested, not valid)."""


def _message_types(rpc: str) -> tuple[Any, Any]:
    if rpc == "IssueLicense":
        return licenses_pb2.IssueLicenseRequest, licenses_pb2.IssueLicenseResponse
    if rpc == "VerifyLicense":
        return licenses_pb2.VerifyLicenseRequest, licenses_pb2.VerifyLicenseResponse
    return licenses_pb2.BatchVerifyLicensesRequest, licenses_pb2.BatchVerifyLicensesResponse


async def _load(spec: LoadSpec) -> LoadResult:
    cpu = time.process_time()
    result = LoadResult()
    request_type, reply_type = _message_types(spec.rpc)
    path = ECHO if spec.echo else SERVICE + spec.rpc
    metadata = ISSUER_METADATA if spec.rpc == "IssueLicense" else VERIFIER_METADATA
    options = [("grpc.max_receive_message_length", 64 << 20)]
    counter = iter(range(1 << 62))

    def request() -> tuple[Any, int]:
        n = next(counter)
        if spec.rpc == "IssueLicense":
            return issue_request(spec.run, spec.tag, n), 1
        if spec.rpc == "VerifyLicense":
            return licenses_pb2.VerifyLicenseRequest(sd_jwt=spec.sd_jwts[n % len(spec.sd_jwts)]), 1
        first = n * spec.batch
        items = [
            licenses_pb2.VerifyLicenseRequest(sd_jwt=spec.sd_jwts[(first + k) % len(spec.sd_jwts)])
            for k in range(spec.batch)
        ]
        return licenses_pb2.BatchVerifyLicensesRequest(requests=items), spec.batch

    def check(reply: Any, size: int) -> None:
        if spec.echo:
            return
        if spec.rpc == "IssueLicense":
            license = reply.license
            if reply.duplicate or not license.HasField("ledger_index"):
                raise _Refused("an issuance that is a replay or carries no ledger index")
            if spec.total:
                result.sd_jwts.append(license.sd_jwt)
            return
        results = [reply] if spec.rpc == "VerifyLicense" else list(reply.results)
        if len(results) != size:
            raise _Refused(f"{len(results)} results for {size} SD-JWTs")
        for found in results:
            if not found.valid:
                raise _Refused(f"a license failed verification: {failed_checks(found)}")

    async with grpc.aio.insecure_channel(f"127.0.0.1:{spec.port}", options=options) as channel:
        call = channel.unary_unary(
            path,
            request_serializer=request_type.SerializeToString,
            response_deserializer=reply_type.FromString,
        )
        loop = asyncio.get_running_loop()
        begin = loop.time()
        window_start = begin + spec.warmup
        window_end = window_start + spec.duration
        remaining = [spec.total]
        # A batch call may outlast the whole window: time such calls one by one instead.
        by_call = spec.rpc == "BatchVerifyLicenses"
        measured = [0.0]

        def more() -> bool:
            if spec.total:
                remaining[0] -= 1
                return remaining[0] >= 0
            if by_call:
                return measured[0] < spec.duration or result.calls == 0
            return loop.time() < window_end

        async def worker() -> None:
            while more():
                message, size = request()
                result.request_bytes = result.request_bytes or message.ByteSize() // size
                started = loop.time()
                try:
                    check(await call(message, metadata=metadata), size)
                except (grpc.aio.AioRpcError, _Refused) as error:
                    result.errors += 1
                    result.first_error = result.first_error or str(error)[:300]
                    if spec.total:
                        raise
                    continue
                ended = loop.time()
                result.sent_calls += 1
                warm = started >= window_start if by_call else window_start <= ended <= window_end
                if warm or spec.total:
                    result.calls += 1
                    result.items += size
                    result.latencies_ms.append((ended - started) * 1000)
                    measured[0] += ended - started

        await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
        if spec.total:
            result.window = loop.time() - begin
        elif by_call:
            result.window = measured[0]
        else:
            result.window = spec.duration
    result.latencies_ms.sort()
    result.client_cpu = time.process_time() - cpu
    return result


# --- the raw signature baseline (runs in the child) ---------------------------------------


@dataclass(frozen=True)
class RawSpec:
    """Verify the issuer-signed JWTs' signatures with the bare library, one thread."""

    algorithm: str
    public_jwk: dict[str, Any]
    sd_jwts: tuple[str, ...]
    duration: float


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_inputs(sd_jwts: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    """(JWS signing input, signature bytes) of each SD-JWT's issuer-signed JWT (RFC 7515)."""
    found = []
    for sd_jwt in sd_jwts:
        issuer_jwt = sd_jwt.split("~", 1)[0]
        signing_input, _, signature = issuer_jwt.rpartition(".")
        found.append((signing_input.encode("ascii"), _b64url(signature)))
    return found


def raw_verifier(algorithm: str, jwk: dict[str, Any]) -> Any:
    """A function (message, raw signature) -> None that raises unless the signature verifies.

    ES256 and SM2 JWS signatures are raw ``r || s``; the libraries take DER, so each call
    converts with ``encode_dss_signature`` as runtime/signing.py's path does.
    """
    if algorithm == "EdDSA":
        ed25519 = Ed25519PublicKey.from_public_bytes(_b64url(jwk["x"]))

        def eddsa(message: bytes, signature: bytes) -> None:
            ed25519.verify(signature, message)

        return eddsa
    x, y = (int.from_bytes(_b64url(jwk[name]), "big") for name in ("x", "y"))
    if algorithm == "ES256":
        p256 = cryptography_ec.EllipticCurvePublicNumbers(
            x, y, cryptography_ec.SECP256R1()
        ).public_key()
        ecdsa = cryptography_ec.ECDSA(cryptography_hashes.SHA256())

        def es256(message: bytes, signature: bytes) -> None:
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            p256.verify(der, message, ecdsa)

        return es256
    sm2 = tongsuo_ec.EllipticCurvePublicNumbers(x, y, tongsuo_ec.SM2()).public_key()
    with_sm3 = tongsuo_ec.ECDSA(tongsuo_hashes.SM3())

    def sm2_sm3(message: bytes, signature: bytes) -> None:
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        sm2.verify(der, message, with_sm3)

    return sm2_sm3


def run_raw(spec: RawSpec) -> tuple[float, int]:
    """Raw verifies per second over the SD-JWTs' signing inputs, and how many failed (0)."""
    verify = raw_verifier(spec.algorithm, spec.public_jwk)
    inputs = signing_inputs(spec.sd_jwts)
    failures = 0
    for message, signature in inputs:  # every signature once, and a warm-up
        try:
            verify(message, signature)
        except (CryptographyInvalidSignature, TongsuoInvalidSignature):
            failures += 1
    done = 0
    started = time.perf_counter()
    deadline = started + spec.duration
    while time.perf_counter() < deadline:
        for message, signature in inputs:
            verify(message, signature)
        done += len(inputs)
    return done / (time.perf_counter() - started), failures


# --- the servers ---------------------------------------------------------------------------


async def start_stack(root: Path) -> Stack:
    """certfree as ``certfree up --insecure-dev`` runs it, on loopback with every port 0."""
    settings = load(
        {},
        data_dir=root,
        redis_url=os.environ.get("REDIS_URL", ""),
        ledger_port=0,
        licenses_port=0,
        proofs_port=0,
        gateway_port=0,
        ledger_origin=f"bench.certfree.localhost/licenses-{os.urandom(3).hex()}",
        grace_seconds=3.0,
    )
    return await Stack.start(settings, insecure_dev=True)


async def store_cpu(stack: Stack) -> float:
    """CPU seconds the store's process has used (user + system)."""
    info = await stack.store.redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# --- the cases ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a table: a load and the CPU it cost."""

    case: str
    algorithm: str
    load: LoadResult
    server_cpu: float
    store_cpu: float
    wall: float
    concurrency: int
    echo_calls_per_s: float = 0.0


@dataclass
class Bench:
    """What every case needs: the pool, the ports, the flags, the run's id."""

    args: argparse.Namespace
    pool: concurrent.futures.ProcessPoolExecutor
    stack: Stack
    licenses_port: int
    echo_port: int
    run: str = field(default_factory=lambda: os.urandom(3).hex())
    tags: list[str] = field(default_factory=lambda: list("BCDEFGHJKLMNPQRTUWXY"))

    async def measure(self, spec: LoadSpec, case: str, algorithm: str) -> Row:
        """Run one load in the child; measure this process's and the store's CPU around it."""
        loop = asyncio.get_running_loop()
        store, server, wall = await store_cpu(self.stack), time.process_time(), time.perf_counter()
        load = await loop.run_in_executor(self.pool, run_load, spec)
        wall = time.perf_counter() - wall
        server = time.process_time() - server
        store = await store_cpu(self.stack) - store
        return Row(case, algorithm, load, server, store, wall, spec.concurrency)

    async def pair(
        self, rpc: str, algorithm: str, concurrency: int, **extra: Any
    ) -> tuple[Row | None, Row]:
        """The echo with the RPC's request bytes, then the RPC itself, at the same N."""
        common: dict[str, Any] = {
            "rpc": rpc,
            "concurrency": concurrency,
            "warmup": self.args.warmup,
            "duration": self.args.duration,
            "run": self.run,
            **extra,
        }
        echo = None
        if not self.args.no_echo:
            spec = LoadSpec(self.echo_port, echo=True, tag=self.tags[0], **common)
            echo = await self.measure(spec, "echo", "-")
            print_row(echo, "")
        tag = self.tags.pop(0)
        row = await self.measure(
            LoadSpec(self.licenses_port, echo=False, tag=tag, **common), rpc, algorithm
        )
        if echo is not None:
            row.echo_calls_per_s = echo.load.calls_per_s
        target = f"≥ {SINGLE_TARGET:.2f}" if rpc == "VerifyLicense" else ""
        print_row(row, target)
        return echo, row

    async def rotate(self, algorithm: str) -> dict[str, Any]:
        """Make a key of `algorithm` the issuer's active key; its public JWK."""
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.licenses_port}") as channel:
            stub = licenses_pb2_grpc.LicenseServiceStub(channel)
            rotated = await stub.RotateIssuerKey(
                licenses_pb2.RotateIssuerKeyRequest(
                    department_code=ISSUER,
                    algorithm=ALGORITHMS[algorithm],
                    request_id=f"bench-{self.run}-{algorithm}",
                ),
                metadata=OPERATOR_METADATA,
            )
        return json_format.MessageToDict(rotated.key.public_jwk)

    async def prepare(self, algorithm: str) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Rotate to `algorithm` and issue ``--licenses`` licenses with it, 16 at a time."""
        jwk = await self.rotate(algorithm)
        spec = LoadSpec(
            self.licenses_port,
            rpc="IssueLicense",
            echo=False,
            concurrency=16,
            warmup=0.0,
            duration=0.0,
            run=self.run,
            tag=self.tags.pop(0),
            total=self.args.licenses,
        )
        row = await self.measure(spec, "prepare", algorithm)
        load = row.load
        if load.errors or len(load.sd_jwts) != self.args.licenses:
            raise RuntimeError(f"issuing the {algorithm} licenses failed: {load.first_error}")
        print(
            f"  {algorithm}: key rotated; {len(load.sd_jwts):,} licenses issued in "
            f"{load.window:,.1f} s ({load.items_per_s:,.0f}/s at N=16, server CPU "
            f"{row.server_cpu * 1e3 / len(load.sd_jwts):,.2f} ms per license)",
            flush=True,
        )
        return tuple(load.sd_jwts), jwk

    async def batch(self, algorithm: str, sd_jwts: tuple[str, ...], jwk: dict[str, Any]) -> str:
        """BatchVerifyLicenses against the raw library verify; the printed line."""
        spec = LoadSpec(
            self.licenses_port,
            rpc="BatchVerifyLicenses",
            echo=False,
            concurrency=1,
            warmup=self.args.warmup,
            duration=self.args.duration,
            run=self.run,
            sd_jwts=sd_jwts,
            batch=self.args.batch,
        )
        row = await self.measure(spec, "BatchVerifyLicenses", algorithm)
        loop = asyncio.get_running_loop()
        raw_spec = RawSpec(algorithm, jwk, sd_jwts, min(self.args.duration, 5.0))
        raw, failures = await loop.run_in_executor(self.pool, run_raw, raw_spec)
        load = row.load
        ratio = load.items_per_s / raw if raw else 0.0
        target = f"≥ {BATCH_TARGET:.2f}" if algorithm == "EdDSA" else "-"
        errors = f"  errors={load.errors}: {load.first_error}" if load.errors else ""
        bad = f"  RAW VERIFY FAILED {failures}x" if failures else ""
        per_item = 1e6 / max(load.sent_calls * self.args.batch, 1)
        return (
            f"{algorithm:<7}{self.args.batch:>6}{load.calls:>7}{load.items_per_s:>12,.0f}"
            f"{percentile(load.latencies_ms, 0.5):>11,.0f}{row.server_cpu / row.wall:>8.0%}"
            f"{row.server_cpu * per_item:>12,.0f}{raw:>14,.0f}{ratio:>9.3f}{target:>8}"
            f"   {RAW_LIBRARY[algorithm]}{errors}{bad}"
        )


# --- printing ---------------------------------------------------------------------------------

ROW_HEADER = (
    f"{'case':<21}{'alg':<7}{'N':>4}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU':>8}"
    f"{'µs CPU/call: srv':>18}{'store':>7}{'client':>8}{'req B':>7}{'calls/echo':>11}"
    f"{'target':>8}"
)
BATCH_HEADER = (
    f"{'alg':<7}{'B':>6}{'calls':>7}{'verifies/s':>12}{'call p50':>11}{'srv CPU':>8}"
    f"{'µs srv/item':>12}{'raw verify/s':>14}{'ratio':>9}{'target':>8}   raw verify by"
)


def print_row(row: Row, target: str) -> None:
    """One line of the calls table (printed as soon as it is measured)."""
    load = row.load
    per_call = 1e6 / max(load.sent_calls, 1)
    ratio = load.calls_per_s / row.echo_calls_per_s if row.echo_calls_per_s else 0.0
    shown = f"{ratio:>11.3f}" if row.echo_calls_per_s else f"{'-':>11}"
    errors = f"  errors={load.errors}: {load.first_error}" if load.errors else ""
    print(
        f"{row.case:<21}{row.algorithm:<7}{row.concurrency:>4}{load.calls_per_s:>10,.1f}"
        f"{percentile(load.latencies_ms, 0.5):>9.1f}{percentile(load.latencies_ms, 0.99):>9.1f}"
        f"{row.server_cpu / row.wall:>8.0%}{row.server_cpu * per_call:>18,.0f}"
        f"{row.store_cpu * per_call:>7,.0f}{load.client_cpu * per_call:>8,.0f}"
        f"{load.request_bytes:>7,}{shown}{target:>8}{errors}",
        flush=True,
    )


# --- main ---------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    """Start the stack and the echo, run the phases, print their tables."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_LOG_LEVEL": args.log_level}))
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="certfree-bench-") as tmp,
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        await asyncio.get_running_loop().run_in_executor(pool, warm_child)
        stack = await start_stack(Path(tmp))
        echo, echo_port = await echo_server()
        try:
            licenses_port = int(stack.addresses()["licenses"].rsplit(":", 1)[1])
            await run_phases(Bench(args, pool, stack, licenses_port, echo_port))
        finally:
            await echo.stop(0)
            await stack.stop()


async def run_phases(bench: Bench) -> None:
    """The three phases, as the flags choose."""
    args = bench.args
    store_name = "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded Valkey"
    print(
        f"certfree bench/licenses.py  store={store_name}  cores={os.cpu_count()}  "
        f"python={sys.version.split()[0]}  grpcio={grpc.__version__}",
        flush=True,
    )
    print(
        f"{args.duration:g} s per case after {args.warmup:g} s warm-up; echo = the same client "
        "and request bytes to a bare echo server at the same N; CPU per call includes warm-up",
        flush=True,
    )
    if "issue" in args.phases:
        await bench.rotate("EdDSA")
        print(
            f"\n1. IssueLicense: business license {BUSINESS_LICENSE} by {ISSUER}, EdDSA key, "
            "a new holder per call (sign SD-JWT VC, store durably, attest in the ledger)",
            flush=True,
        )
        print(ROW_HEADER, flush=True)
        for concurrency in args.concurrency:
            await bench.pair("IssueLicense", "EdDSA", concurrency)
    prepared: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
    if "verify" in args.phases or "batch" in args.phases:
        print(
            f"\nlicenses to verify: the issuer's key rotated to each algorithm, then "
            f"{args.licenses:,} licenses issued with it",
            flush=True,
        )
        for algorithm in args.algorithms:
            prepared[algorithm] = await bench.prepare(algorithm)
    if "verify" in args.phases:
        print(
            "\n2. VerifyLicense, one SD-JWT per call, round robin over the licenses above "
            f"(4. per algorithm); target: calls/echo ≥ {SINGLE_TARGET:.2f}",
            flush=True,
        )
        print(ROW_HEADER, flush=True)
        for algorithm in args.algorithms:
            for concurrency in args.concurrency:
                await bench.pair(
                    "VerifyLicense", algorithm, concurrency, sd_jwts=prepared[algorithm][0]
                )
    if "batch" in args.phases:
        print(
            f"\n3. BatchVerifyLicenses, {args.batch:,} SD-JWTs per call, one caller "
            "(4. per algorithm); raw = the library's verify of the same signing inputs, one "
            f"thread; target for EdDSA: ratio ≥ {BATCH_TARGET:.2f}",
            flush=True,
        )
        print(BATCH_HEADER, flush=True)
        for algorithm in args.algorithms:
            print(await bench.batch(algorithm, *prepared[algorithm]), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; --quick shortens everything."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per case")
    parser.add_argument("--duration", type=float, help="measured seconds per case (default 10)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 2)")
    parser.add_argument(
        "--concurrency", type=integers, default=[1, 16], help="callers in flight (default 1,16)"
    )
    parser.add_argument(
        "--algorithms",
        type=names(tuple(ALGORITHMS)),
        default=list(ALGORITHMS),
        help="issuer key algorithms to verify (default EdDSA,ES256,SM2)",
    )
    parser.add_argument("--licenses", type=int, help="licenses issued per key (default 1000)")
    parser.add_argument(
        "--batch", type=int, default=MAX_BATCH, help=f"SD-JWTs per batch (default {MAX_BATCH})"
    )
    parser.add_argument(
        "--phases",
        type=names(("issue", "verify", "batch")),
        default=["issue", "verify", "batch"],
        help="which phases (default issue,verify,batch)",
    )
    add_baseline_options(parser)
    args = parser.parse_args(argv)
    defaults: dict[str, Any] = {
        "duration": 3.0 if args.quick else 10.0,
        "warmup": 1.0 if args.quick else 2.0,
        "licenses": 200 if args.quick else 1000,
    }
    fill_defaults(args, defaults)
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1..{MAX_BATCH}")
    if args.licenses < 1 or not args.concurrency or min(args.concurrency) < 1:
        parser.error("--licenses and every --concurrency must be at least 1")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
