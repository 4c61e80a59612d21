"""Regenerate the Python code in ``genproto/`` from ``protos/``.

    python scripts/gen_protos.py           # rewrite genproto/
    python scripts/gen_protos.py --check   # exit 1 when genproto/ is not what protos/ generate

The output is grpcio-tools' ``_pb2.py`` / ``_pb2.pyi`` / ``_pb2_grpc.py`` plus
mypy-protobuf's ``_pb2_grpc.pyi``, with the absolute imports moved under the
``genproto`` package (as temporalio's ``scripts/gen_protos.py`` does), and
``certfree.binpb``: a FileDescriptorSet with source comments that the gateway reads
to build routes and the OpenAPI document.

``buf/validate/validate.proto`` is not vendored: its descriptor is taken from the
installed ``protovalidate`` package, so the rules we compile against are exactly the
rules the validator enforces.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "genproto"
DESCRIPTOR_SET = "certfree.binpb"
_REWRITTEN_PACKAGES = ("certfree", "buf")
_IMPORT_LINE = re.compile(rf"^(\s*)(from|import) ({'|'.join(_REWRITTEN_PACKAGES)})\.", re.M)
_STUB_REFERENCE = re.compile(rf"(?<![\w.'\"/])({'|'.join(_REWRITTEN_PACKAGES)})\.(?=[a-z_]+\.)")


def _validate_descriptor_set(path: Path) -> None:
    """Write the FileDescriptorSet of buf/validate/validate.proto and its imports."""
    from protovalidate._gen.buf.validate import validate_pb  # the installed rules

    files = descriptor_pb2.FileDescriptorSet()
    for module in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        proto = files.file.add()
        module.DESCRIPTOR.CopyToProto(proto)
    files.file.add().ParseFromString(validate_pb.desc().proto.to_binary())
    path.write_bytes(files.SerializeToString())


def _google_api_include() -> Path:
    """The site-packages folder whose google/api/*.proto googleapis-common-protos ships."""
    import google.api.annotations_pb2 as annotations

    return Path(annotations.__file__).resolve().parent.parent.parent


def _rewrite_imports(path: Path) -> None:
    text = path.read_text()
    text = _IMPORT_LINE.sub(r"\1\2 genproto.\3.", text)
    if path.suffix == ".pyi":
        text = _STUB_REFERENCE.sub(r"genproto.\1.", text)
    path.write_text(text)


def generate(out: Path) -> None:
    """Generate every proto under protos/ into `out`, laid out as the genproto package."""
    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        validate_set = Path(tmp) / "validate.binpb"
        _validate_descriptor_set(validate_set)
        args = [
            "grpc_tools.protoc",
            f"--descriptor_set_in={validate_set}",
            f"-I{PROTOS}",
            f"-I{_google_api_include()}",
            f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            f"--plugin=protoc-gen-mypy_grpc={Path(sys.executable).parent / 'protoc-gen-mypy_grpc'}",
            f"--mypy_grpc_out={out}",
            f"--descriptor_set_out={out / DESCRIPTOR_SET}",
            "--include_imports",
            "--include_source_info",
            "buf/validate/validate.proto",
            *protos,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed; see the messages above")
    for path in out.rglob("*.py*"):
        _rewrite_imports(path)
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    # buf/validate is generated for the runtime only; its stubs are not ours to type-check.
    for stub in (out / "buf").rglob("*_grpc.py*"):
        stub.unlink()


def _differences(left: Path, right: Path) -> list[str]:
    def walk(cmp: filecmp.dircmp[str], prefix: str) -> list[str]:
        found = [f"{prefix}{name}" for name in cmp.left_only + cmp.right_only + cmp.diff_files]
        for name, sub in cmp.subdirs.items():
            found += walk(sub, f"{prefix}{name}/")
        return found

    ignore = [*filecmp.DEFAULT_IGNORES, "__pycache__"]
    return [
        d for d in walk(filecmp.dircmp(left, right, ignore=ignore), "") if "__pycache__" not in d
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "genproto"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            stale = _differences(fresh, OUT) if OUT.exists() else ["genproto/ is missing"]
            if stale:
                print("genproto/ is stale; run: python scripts/gen_protos.py", file=sys.stderr)
                print("\n".join(f"  {name}" for name in stale), file=sys.stderr)
                return 1
            return 0
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(fresh, OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
