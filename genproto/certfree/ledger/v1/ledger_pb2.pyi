import datetime

from genproto.buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AttestationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTESTATION_KIND_UNSPECIFIED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_LICENSE_ISSUED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_LICENSE_STATUS_CHANGED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_PROOF_ANSWERED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_COMMITMENT_RECORDED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_COMMITMENT_CHECKED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_KEY_PUBLISHED: _ClassVar[AttestationKind]
    ATTESTATION_KIND_STATUS_LIST_PUBLISHED: _ClassVar[AttestationKind]

class ReceiptCheck(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECEIPT_CHECK_UNSPECIFIED: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_FORMAT: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_SIGNATURE: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_ARTEFACT: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_INCLUSION: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_CONSISTENCY: _ClassVar[ReceiptCheck]
    RECEIPT_CHECK_WITNESSES: _ClassVar[ReceiptCheck]

class ReceiptCheckOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECEIPT_CHECK_OUTCOME_UNSPECIFIED: _ClassVar[ReceiptCheckOutcome]
    RECEIPT_CHECK_OUTCOME_PASSED: _ClassVar[ReceiptCheckOutcome]
    RECEIPT_CHECK_OUTCOME_FAILED: _ClassVar[ReceiptCheckOutcome]
    RECEIPT_CHECK_OUTCOME_NOT_CHECKED: _ClassVar[ReceiptCheckOutcome]
ATTESTATION_KIND_UNSPECIFIED: AttestationKind
ATTESTATION_KIND_LICENSE_ISSUED: AttestationKind
ATTESTATION_KIND_LICENSE_STATUS_CHANGED: AttestationKind
ATTESTATION_KIND_PROOF_ANSWERED: AttestationKind
ATTESTATION_KIND_COMMITMENT_RECORDED: AttestationKind
ATTESTATION_KIND_COMMITMENT_CHECKED: AttestationKind
ATTESTATION_KIND_KEY_PUBLISHED: AttestationKind
ATTESTATION_KIND_STATUS_LIST_PUBLISHED: AttestationKind
RECEIPT_CHECK_UNSPECIFIED: ReceiptCheck
RECEIPT_CHECK_FORMAT: ReceiptCheck
RECEIPT_CHECK_SIGNATURE: ReceiptCheck
RECEIPT_CHECK_ARTEFACT: ReceiptCheck
RECEIPT_CHECK_INCLUSION: ReceiptCheck
RECEIPT_CHECK_CONSISTENCY: ReceiptCheck
RECEIPT_CHECK_WITNESSES: ReceiptCheck
RECEIPT_CHECK_OUTCOME_UNSPECIFIED: ReceiptCheckOutcome
RECEIPT_CHECK_OUTCOME_PASSED: ReceiptCheckOutcome
RECEIPT_CHECK_OUTCOME_FAILED: ReceiptCheckOutcome
RECEIPT_CHECK_OUTCOME_NOT_CHECKED: ReceiptCheckOutcome

class Attestation(_message.Message):
    __slots__ = ("artefact_sha256", "kind", "issuer_department", "artefact_id")
    ARTEFACT_SHA256_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ISSUER_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ARTEFACT_ID_FIELD_NUMBER: _ClassVar[int]
    artefact_sha256: bytes
    kind: AttestationKind
    issuer_department: str
    artefact_id: str
    def __init__(self, artefact_sha256: _Optional[bytes] = ..., kind: _Optional[_Union[AttestationKind, str]] = ..., issuer_department: _Optional[str] = ..., artefact_id: _Optional[str] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("index", "attestation", "accepted_at", "encoded")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    index: int
    attestation: Attestation
    accepted_at: _timestamp_pb2.Timestamp
    encoded: bytes
    def __init__(self, index: _Optional[int] = ..., attestation: _Optional[_Union[Attestation, _Mapping]] = ..., accepted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., encoded: _Optional[bytes] = ...) -> None: ...

class AppendRequest(_message.Message):
    __slots__ = ("attestation", "idempotency_key")
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    attestation: Attestation
    idempotency_key: str
    def __init__(self, attestation: _Optional[_Union[Attestation, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AppendResponse(_message.Message):
    __slots__ = ("entry", "duplicate", "checkpoint")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entry: LedgerEntry
    duplicate: bool
    checkpoint: Checkpoint
    def __init__(self, entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., duplicate: _Optional[bool] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class BatchAppendRequest(_message.Message):
    __slots__ = ("appends",)
    APPENDS_FIELD_NUMBER: _ClassVar[int]
    appends: _containers.RepeatedCompositeFieldContainer[AppendRequest]
    def __init__(self, appends: _Optional[_Iterable[_Union[AppendRequest, _Mapping]]] = ...) -> None: ...

class BatchAppendResponse(_message.Message):
    __slots__ = ("results", "checkpoint")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[AppendResult]
    checkpoint: Checkpoint
    def __init__(self, results: _Optional[_Iterable[_Union[AppendResult, _Mapping]]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class AppendResult(_message.Message):
    __slots__ = ("index", "duplicate", "accepted_at")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_AT_FIELD_NUMBER: _ClassVar[int]
    index: int
    duplicate: bool
    accepted_at: _timestamp_pb2.Timestamp
    def __init__(self, index: _Optional[int] = ..., duplicate: _Optional[bool] = ..., accepted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetEntryRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: int
    def __init__(self, index: _Optional[int] = ...) -> None: ...

class LookupEntryRequest(_message.Message):
    __slots__ = ("artefact_sha256", "kind")
    ARTEFACT_SHA256_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    artefact_sha256: bytes
    kind: AttestationKind
    def __init__(self, artefact_sha256: _Optional[bytes] = ..., kind: _Optional[_Union[AttestationKind, str]] = ...) -> None: ...

class ListArtefactEntriesRequest(_message.Message):
    __slots__ = ("artefact_id",)
    ARTEFACT_ID_FIELD_NUMBER: _ClassVar[int]
    artefact_id: str
    def __init__(self, artefact_id: _Optional[str] = ...) -> None: ...

class ArtefactEntry(_message.Message):
    __slots__ = ("entry", "inclusion_proof")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    entry: LedgerEntry
    inclusion_proof: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., inclusion_proof: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ListArtefactEntriesResponse(_message.Message):
    __slots__ = ("entries", "checkpoint")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ArtefactEntry]
    checkpoint: Checkpoint
    def __init__(self, entries: _Optional[_Iterable[_Union[ArtefactEntry, _Mapping]]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("origin", "size", "root_hash", "signed_note")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNED_NOTE_FIELD_NUMBER: _ClassVar[int]
    origin: str
    size: int
    root_hash: bytes
    signed_note: str
    def __init__(self, origin: _Optional[str] = ..., size: _Optional[int] = ..., root_hash: _Optional[bytes] = ..., signed_note: _Optional[str] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("index", "tree_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: int
    tree_size: int
    def __init__(self, index: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("index", "tree_size", "hashes", "checkpoint")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    index: int
    tree_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: Checkpoint
    def __init__(self, index: _Optional[int] = ..., tree_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("first_size", "second_size")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("first_size", "second_size", "hashes")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetReceiptRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: int
    def __init__(self, index: _Optional[int] = ...) -> None: ...

class GetCheckpointNoteRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTileRequest(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("index", "tlog_proof")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TLOG_PROOF_FIELD_NUMBER: _ClassVar[int]
    index: int
    tlog_proof: str
    def __init__(self, index: _Optional[int] = ..., tlog_proof: _Optional[str] = ...) -> None: ...

class VerifyReceiptRequest(_message.Message):
    __slots__ = ("tlog_proof", "artefact_sha256", "verifier_key")
    TLOG_PROOF_FIELD_NUMBER: _ClassVar[int]
    ARTEFACT_SHA256_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    tlog_proof: str
    artefact_sha256: bytes
    verifier_key: str
    def __init__(self, tlog_proof: _Optional[str] = ..., artefact_sha256: _Optional[bytes] = ..., verifier_key: _Optional[str] = ...) -> None: ...

class ReceiptCheckResult(_message.Message):
    __slots__ = ("check", "outcome", "detail")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    check: ReceiptCheck
    outcome: ReceiptCheckOutcome
    detail: str
    def __init__(self, check: _Optional[_Union[ReceiptCheck, str]] = ..., outcome: _Optional[_Union[ReceiptCheckOutcome, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class AuditPathStep(_message.Message):
    __slots__ = ("sibling", "sibling_is_left", "node")
    SIBLING_FIELD_NUMBER: _ClassVar[int]
    SIBLING_IS_LEFT_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    sibling: bytes
    sibling_is_left: bool
    node: bytes
    def __init__(self, sibling: _Optional[bytes] = ..., sibling_is_left: _Optional[bool] = ..., node: _Optional[bytes] = ...) -> None: ...

class VerifyReceiptResponse(_message.Message):
    __slots__ = ("valid", "checks", "entry", "checkpoint", "latest_checkpoint", "leaf_hash", "audit_path", "verifier_key", "witnesses")
    VALID_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    LATEST_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    AUDIT_PATH_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    checks: _containers.RepeatedCompositeFieldContainer[ReceiptCheckResult]
    entry: LedgerEntry
    checkpoint: Checkpoint
    latest_checkpoint: Checkpoint
    leaf_hash: bytes
    audit_path: _containers.RepeatedCompositeFieldContainer[AuditPathStep]
    verifier_key: str
    witnesses: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., checks: _Optional[_Iterable[_Union[ReceiptCheckResult, _Mapping]]] = ..., entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., latest_checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., leaf_hash: _Optional[bytes] = ..., audit_path: _Optional[_Iterable[_Union[AuditPathStep, _Mapping]]] = ..., verifier_key: _Optional[str] = ..., witnesses: _Optional[_Iterable[str]] = ...) -> None: ...
