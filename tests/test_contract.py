"""The contract documents itself: every service, RPC, message, field and enum value has a
comment, and every RPC has an HTTP route."""

from __future__ import annotations

from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

DESCRIPTOR_SET = Path(__file__).resolve().parent.parent / "genproto" / "certfree.binpb"

# FileDescriptorProto field numbers, as source_code_info paths use them.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM, _ONEOF = 2, 3, 4, 8
_ENUM_VALUE, _METHOD = 2, 2


def _certfree_files() -> list[descriptor_pb2.FileDescriptorProto]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    return [f for f in files if f.package.startswith("certfree.")]


def _elements(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Every documentable element of `file`, by its source_code_info path."""
    found: dict[tuple[int, ...], str] = {}

    def enum(path: tuple[int, ...], node: descriptor_pb2.EnumDescriptorProto, name: str) -> None:
        found[path] = name
        for i, value in enumerate(node.value):
            found[(*path, _ENUM_VALUE, i)] = f"{name}.{value.name}"

    def message(path: tuple[int, ...], node: descriptor_pb2.DescriptorProto, name: str) -> None:
        found[path] = name
        for i, field in enumerate(node.field):
            found[(*path, _FIELD, i)] = f"{name}.{field.name}"
        for i, nested in enumerate(node.nested_type):
            if not nested.options.map_entry:
                message((*path, _NESTED, i), nested, f"{name}.{nested.name}")
        for i, nested_enum in enumerate(node.enum_type):
            enum((*path, _NESTED_ENUM, i), nested_enum, f"{name}.{nested_enum.name}")
        for i, oneof in enumerate(node.oneof_decl):
            if not oneof.name.startswith("_"):  # synthetic oneofs of proto3 `optional`
                found[(*path, _ONEOF, i)] = f"{name}.{oneof.name}"

    for i, node in enumerate(file.message_type):
        message((_MESSAGE, i), node, node.name)
    for i, enum_node in enumerate(file.enum_type):
        enum((_ENUM, i), enum_node, enum_node.name)
    for i, service in enumerate(file.service):
        found[(_SERVICE, i)] = service.name
        for j, method in enumerate(service.method):
            found[(_SERVICE, i, _METHOD, j)] = f"{service.name}.{method.name}"
    return found


def test_every_element_has_a_comment() -> None:
    """Services, RPCs, messages, fields, oneofs, enums and their values all carry a comment."""
    missing = []
    for file in _certfree_files():
        commented = {
            tuple(location.path)
            for location in file.source_code_info.location
            if location.leading_comments.strip() or location.trailing_comments.strip()
        }
        missing += [
            f"{file.name}: {name}"
            for path, name in _elements(file).items()
            if path not in commented
        ]
    assert not missing, "\n".join(missing)


def test_every_rpc_has_an_http_route() -> None:
    """Each RPC the gateway can transcode (all but client streams) has a google.api.http rule."""
    unrouted = [
        f"{file.package}.{service.name}/{method.name}"
        for file in _certfree_files()
        for service in file.service
        for method in service.method
        if not method.client_streaming and not method.options.HasExtension(annotations_pb2.http)
    ]
    assert not unrouted, unrouted


def test_every_service_is_versioned() -> None:
    """Packages are certfree.<service>.v1 (or a later version)."""
    assert all(f.package.split(".")[-1].startswith("v") for f in _certfree_files())
    assert {f.package for f in _certfree_files()} >= {
        "certfree.common.v1",
        "certfree.ledger.v1",
        "certfree.licenses.v1",
        "certfree.proofs.v1",
    }
