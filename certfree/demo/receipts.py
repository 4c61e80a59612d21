"""Scenario 5, audit (审计): an auditor saves a license's ledger receipt (a C2SP
tlog-proof) and its artefact, verifies them offline with ``certfree ledger
verify-receipt`` and the log's verifier key, and sees a forged artefact refused.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

from certfree import ledger_cli
from certfree.demo.client import check
from certfree.demo.core import Demo
from certfree.demo.parties import synthetic_uscc
from certfree.demo.report import StepFailed


def _verify_receipt_offline(receipt: Path, artefact: Path, key: str) -> tuple[int, str]:
    """``certfree ledger verify-receipt RECEIPT ARTEFACT --key KEY``, in process: exit
    status and what it printed."""
    parser = argparse.ArgumentParser(prog="certfree")
    ledger_cli.add_ledger_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["ledger", "verify-receipt", str(receipt), str(artefact), "--key", key]
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        status: int = ledger_cli.run(args)
    return status, printed.getvalue().strip()


async def offline_receipt(demo: Demo) -> None:
    """An auditor verifies a license's attestation offline from a receipt file."""
    demo.begin(
        5,
        "审计: 凭存证回执离线核验 / an auditor verifies an attestation offline from a receipt",
    )
    if not demo.verifier_key:
        demo.failed(
            "审计员 auditor is given the log's verifier key",
            "not available: no --verifier-key, and the log key file is not readable here "
            "(run the demo where `certfree ledger verifier-key` works, or pass the key)",
        )
        raise StepFailed("no verifier key")
    key = demo.verifier_key
    holder = synthetic_uscc(102)
    license: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="certfree-demo-") as folder:
        receipt_file = Path(folder) / "license.tlog-proof"
        artefact_file = Path(folder) / "license.jwt"

        async def fetch() -> dict[str, object]:
            license.update(await demo.business_license(holder, f"demo-business-license-{holder}"))
            receipt_file.write_text(await demo.receipt(license["ledgerIndex"]), encoding="utf-8")
            # The ledger attests the issuer-signed JWT: the SD-JWT's part before the first "~".
            artefact_file.write_bytes(license["sdJwt"].split("~", 1)[0].encode("ascii"))
            return {
                "license": license["licenseId"],
                "ledger index": license["ledgerIndex"],
                "files": f"{receipt_file.name}, {artefact_file.name}",
            }

        await demo.attempt(
            "审计员 auditor saves a license's ledger receipt (C2SP tlog-proof) and its artefact",
            fetch(),
        )

        printed_lines: list[str] = []

        async def offline() -> dict[str, object]:
            status, printed = _verify_receipt_offline(receipt_file, artefact_file, key)
            check(status == ledger_cli.EXIT_OK, f"exit {status}: {printed}")
            printed_lines.extend(printed.splitlines())
            return {"exit": status, "network": "none: the file, the artefact and the key only"}

        await demo.attempt("审计员 runs the offline verifier: receipt verified", offline())
        demo.reporter.note(
            "$ certfree ledger verify-receipt license.tlog-proof license.jwt --key VKEY"
        )
        for line in printed_lines:
            demo.reporter.note(f"  {line}")

        async def forged() -> dict[str, object]:
            genuine = artefact_file.read_bytes()
            artefact_file.write_bytes(genuine[:-1] + (b"A" if genuine[-1:] != b"A" else b"B"))
            status, printed = _verify_receipt_offline(receipt_file, artefact_file, key)
            check(status == ledger_cli.EXIT_CHECK_FAILED, f"exit {status}: {printed}")
            return {"exit": status, "says": printed.splitlines()[0] if printed else ""}

        await demo.attempt("审计员 checks a forged artefact against the receipt: refused", forged())
