"""Generated code is what protos/ generate, and a normal install ships it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_checked_in_code_matches_the_protos() -> None:
    """genproto/ is regenerated from protos/ and compared file by file."""
    result = subprocess.run(
        [sys.executable, "scripts/gen_protos.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_wheel_ships_the_generated_code(tmp_path: Path) -> None:
    """A built wheel holds every generated module, stub and the descriptor set, unchanged."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("certfree-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name: archive.read(name) for name in archive.namelist() if name.startswith("genproto/")
        }
    generated = {
        path.relative_to(ROOT).as_posix(): path.read_bytes()
        for path in (ROOT / "genproto").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == generated
