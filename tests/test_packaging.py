"""The wheel (what the container image installs) carries every file certfree reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONTEXT = ("pyproject.toml", "README.md", "certfree", "runtime", "services", "gateway", "genproto")
"""What .dockerignore lets into the image's build context: the wheel is made from these."""

DATA_FILES = (
    "genproto/certfree.binpb",
    "services/licenses/catalog.yaml",
    "services/proofs/catalog.yaml",
    "gateway/ui/index.html",
    "gateway/ui/app.js",
    "gateway/ui/style.css",
)
"""Files besides Python modules that the services, the gateway and the demo open."""

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


class TestWheel:
    """Built from the working tree as the Dockerfile builds it, the wheel is complete."""

    def test_the_wheel_holds_every_data_file_and_page(self, tmp_path: Path) -> None:
        # A copy of the build context: in the working tree, a stale build/ directory would
        # slip into the wheel what the package data leaves out.
        source = tmp_path / "context"
        source.mkdir()
        for name in CONTEXT:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
            else:
                shutil.copy2(ROOT / name, source / name)
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        command += ["--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)]
        subprocess.run(command, check=True, capture_output=True)
        (wheel,) = tmp_path.glob("certfree-*.whl")
        names = set(zipfile.ZipFile(wheel).namelist())
        missing = [name for name in DATA_FILES if name not in names]
        assert not missing, f"left out of the wheel: {missing}"
        pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gateway" / "ui").iterdir()}
        assert pages <= names, f"pages left out: {sorted(pages - names)}"
