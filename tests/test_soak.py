"""The soak script runs the whole mix and reports it with no unexpected error (a smoke test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The script starts the stack and a child process: bounded, like the fault tests.
pytestmark = pytest.mark.timeout(90)


class TestSoakSmoke:
    """A five-second soak prints every table and counts no unexpected error."""

    def test_quick_soak_reports_without_errors(self, tmp_path: Path) -> None:
        """``bench/soak.py --quick --duration 5``: operations, errors by code, memory, zero."""
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # its own store
        env["TMPDIR"] = str(tmp_path)
        finished = subprocess.run(
            [
                sys.executable,
                "bench/soak.py",
                "--quick",
                "--duration",
                "5",
                "--warmup",
                "1",
                "--seed-licenses",
                "5",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=80,
            check=False,
        )
        report = finished.stdout
        assert finished.returncode == 0, report + finished.stderr[-2000:]
        for heading in ("operation", "errors by code: none", "memory (MiB)", "store used_memory"):
            assert heading in report
        for operation in ("issue", "verify", "lookup", "create verification", "answer", "inbox"):
            assert f"\n{operation} " in report
        assert "unexpected errors: 0 " in report
