#!/usr/bin/env python3
"""Run certfree or its tests with nothing but Python 3.11+ and pip.

    python3 dev.py up     # certfree up --insecure-dev, data under ./var
    python3 dev.py test   # ruff, mypy --strict and the whole test suite (pytest)

The first run creates ./.venv and installs certfree with its dev extras; later runs
reinstall only when pyproject.toml changed. Extra arguments go to the command
(``python3 dev.py test -k gateway``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".certfree-installed"


def _run(*args: str | Path) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    """Create .venv and (re)install certfree[dev] when pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit("certfree needs Python 3.11 or newer")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    print("dev.py: installing certfree[dev] into .venv", flush=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def main() -> None:
    """Dispatch `up` or `test`."""
    if len(sys.argv) < 2 or sys.argv[1] not in ("up", "test"):
        sys.exit(__doc__)
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_venv()
    if command == "up":
        os.execv(BIN / "certfree", [str(BIN / "certfree"), "up", "--insecure-dev", *extra])
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "python", "-m", "pytest", *extra)


if __name__ == "__main__":
    main()
