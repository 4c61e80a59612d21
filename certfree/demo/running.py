"""Running the demo: :func:`play` checks that the gateway is ready, prepares the
catalogue and plays the chosen :data:`SCENARIOS` in order, returning the exit status;
:func:`add_demo_command` and :func:`run` are the ``certfree demo`` command around it,
and :func:`local_verifier_key` reads the log's verifier key on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

from certfree.demo.client import ApiError, Gateway
from certfree.demo.commitments import accept_with_gaps
from certfree.demo.core import Demo, Scenario
from certfree.demo.permit import fuqing_construction_permit
from certfree.demo.receipts import offline_receipt
from certfree.demo.report import Reporter, Step, StepFailed
from certfree.demo.revocation import revoked_license
from certfree.demo.sharing import shared_business_license

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
"""Where ``certfree up`` serves the gateway by default."""

EXIT_OK = 0
"""Every check of every scenario passed."""
EXIT_FAILED = 1
"""A check failed, or a step could not be played; the output names it."""
EXIT_CANNOT_RUN = 2
"""The demo could not run: the gateway does not answer, or a bad argument."""

SCENARIOS: dict[int, Scenario] = {
    1: fuqing_construction_permit,
    2: shared_business_license,
    3: accept_with_gaps,
    4: revoked_license,
    5: offline_receipt,
}
"""The scenarios by number, in the order played."""


async def play(
    gateway_url: str,
    *,
    scenarios: list[int] | None = None,
    verifier_key: str | None = None,
    out: TextIO | None = None,
    as_json: bool = False,
) -> int:
    """Play `scenarios` (default all) against the gateway at `gateway_url`; the exit status."""
    reporter = Reporter(out or sys.stdout, as_json=as_json)
    chosen = scenarios or sorted(SCENARIOS)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as client:
        try:
            ready = await client.get("/readyz")
        except httpx.HTTPError as error:
            print(
                f"certfree demo: the gateway at {gateway_url} does not answer: {error}",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
        if ready.status_code != 200:
            print(
                f"certfree demo: the gateway at {gateway_url} is not ready: {ready.text}",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
        demo = Demo(Gateway(client), reporter, verifier_key)
        if not as_json:
            print(f"certfree demo against {gateway_url} (run {demo.run_id})", file=reporter.out)
        try:
            await demo.prepare_catalogue()
        except ApiError as error:
            reporter.step(Step(0, 1, "目录就绪 catalogue ready", False, {}, str(error)))
            return EXIT_FAILED
        failed = []
        for number in chosen:
            started = time.perf_counter()
            try:
                await SCENARIOS[number](demo)
                ok = True
            except StepFailed:
                ok = False
            except (ApiError, httpx.HTTPError, KeyError) as error:
                demo.failed("(unexpected)", str(error))
                ok = False
            reporter.summary(number, ok, time.perf_counter() - started)
            if not ok:
                failed.append(number)
    if not as_json:
        verdict = "all passed" if not failed else f"FAILED: {', '.join(map(str, failed))}"
        print(f"\n场景 scenarios {', '.join(map(str, chosen))}: {verdict}", file=reporter.out)
    return EXIT_OK if not failed else EXIT_FAILED


def local_verifier_key(data_dir: Path | None) -> str | None:
    """The log's verifier key from this machine's ledger key file (as ``certfree ledger
    verifier-key`` prints it), or None when it cannot be read here."""
    from runtime.config import ConfigError, load
    from runtime.tlog.note import NoteError, Signer

    try:
        settings = load(data_dir=data_dir)
        signer = Signer.from_key_string(settings.ledger_key_path.read_text().strip())
    except (ConfigError, OSError, NoteError):
        return None
    return signer.verifier().key_string()


def add_demo_command(subparsers: Any) -> None:
    """Add ``certfree demo`` to the ``certfree`` command's subparsers."""
    demo = subparsers.add_parser(
        "demo",
        help="play the seed reports' scenarios against a running certfree (--insecure-dev)",
        description=(
            "Seed what the scenarios need (missing sample catalogue entries only) and play "
            "them through the gateway's HTTP API as the development identity, printing each "
            "step. Exit 0 when every check passed, 1 when one failed, 2 when the gateway "
            "does not answer."
        ),
    )
    demo.add_argument(
        "--gateway",
        default=DEFAULT_GATEWAY,
        metavar="URL",
        help=f"the gateway's base URL (default: {DEFAULT_GATEWAY})",
    )
    demo.add_argument(
        "--scenario",
        type=int,
        choices=sorted(SCENARIOS),
        action="append",
        metavar="N",
        help="play only scenario N (1-5); repeatable",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON record per step")
    demo.add_argument(
        "--verifier-key",
        metavar="VKEY",
        help="the log's verifier key for scenario 5 (default: this machine's "
        "ledger key file, as `certfree ledger verifier-key` prints it)",
    )
    demo.add_argument(
        "--data-dir", type=Path, help="the data directory whose log key to use (CERTFREE_DATA_DIR)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree demo`` command; return its exit status."""
    key = args.verifier_key or local_verifier_key(args.data_dir)
    return asyncio.run(
        play(args.gateway, scenarios=args.scenario, verifier_key=key, as_json=args.json)
    )
