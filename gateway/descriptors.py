"""The contract as the gateway sees it: the descriptor set and the generated classes.

``genproto/certfree.binpb`` is a FileDescriptorSet with source comments, written by
``scripts/gen_protos.py`` beside the generated modules. The gateway takes the list
of contract files and their comments from it, and imports the generated module of
each file so that its messages (and the ``google.api.http`` options) are in the
default descriptor pool. Nothing here names a service: a new proto file under
``certfree.`` is picked up when the code is regenerated.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory
from google.protobuf.descriptor import Descriptor, ServiceDescriptor

import genproto

DESCRIPTOR_SET = Path(genproto.__file__).parent / "certfree.binpb"
CONTRACT_PACKAGE = "certfree."


class ContractError(RuntimeError):
    """The descriptor set or a generated module is missing or does not match."""


@dataclass(frozen=True)
class Contract:
    """The contract's files (with comments) and its services, loaded once at start-up."""

    files: tuple[descriptor_pb2.FileDescriptorProto, ...]
    """Every file of the descriptor set, imports included, with source info."""
    services: tuple[ServiceDescriptor, ...]
    """Every service declared in a ``certfree.*`` file, from the default pool."""


def is_contract_file(file: descriptor_pb2.FileDescriptorProto) -> bool:
    """True for files of certfree's own packages (not google/ or buf/ imports)."""
    return file.package.startswith(CONTRACT_PACKAGE)


def generated_module(file_name: str) -> str:
    """The genproto module of a proto file: ``certfree/ledger/v1/ledger.proto`` ->
    ``genproto.certfree.ledger.v1.ledger_pb2``."""
    return "genproto." + file_name.removesuffix(".proto").replace("/", ".") + "_pb2"


def load_descriptor_set(path: Path = DESCRIPTOR_SET) -> descriptor_pb2.FileDescriptorSet:
    """Read a serialized FileDescriptorSet; raises ContractError when unreadable."""
    try:
        return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    except (OSError, message.DecodeError) as error:
        raise ContractError(
            f"cannot read the descriptor set {path}: {error}; run scripts/gen_protos.py"
        ) from None


def load_contract(path: Path = DESCRIPTOR_SET) -> Contract:
    """Load the descriptor set and import the generated module of every contract file."""
    files = load_descriptor_set(path)
    pool = descriptor_pool.Default()
    services: list[ServiceDescriptor] = []
    for file in files.file:
        if not is_contract_file(file):
            continue
        try:
            importlib.import_module(generated_module(file.name))
        except ImportError as error:
            raise ContractError(
                f"{file.name} has no generated module ({error}); run scripts/gen_protos.py"
            ) from None
        services.extend(pool.FindFileByName(file.name).services_by_name.values())
    return Contract(files=tuple(files.file), services=tuple(services))


def message_class(descriptor: Descriptor) -> type[message.Message]:
    """The Python class of a message descriptor (the generated one when it is imported)."""
    return message_factory.GetMessageClass(descriptor)
