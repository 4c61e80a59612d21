import datetime

from genproto.buf.validate import validate_pb2 as _validate_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_INTAKE_SYSTEM: _ClassVar[Role]
    ROLE_CLERK: _ClassVar[Role]
    ROLE_OFFICER: _ClassVar[Role]
    ROLE_ISSUER: _ClassVar[Role]
    ROLE_SUPERVISOR: _ClassVar[Role]
    ROLE_AUDITOR: _ClassVar[Role]
    ROLE_OPERATOR: _ClassVar[Role]
    ROLE_HOLDER: _ClassVar[Role]
    ROLE_SERVICE: _ClassVar[Role]

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    INVALID_FIELD: _ClassVar[ErrorReason]
    MALFORMED_REQUEST: _ClassVar[ErrorReason]
    UNAUTHENTICATED_CALLER: _ClassVar[ErrorReason]
    ROLE_NOT_ALLOWED: _ClassVar[ErrorReason]
    OUTSIDE_AUTHORITY: _ClassVar[ErrorReason]
    NOT_FOUND: _ClassVar[ErrorReason]
    ALREADY_EXISTS: _ClassVar[ErrorReason]
    INVALID_STATE: _ClassVar[ErrorReason]
    NOT_IMPLEMENTED: _ClassVar[ErrorReason]
    BACKEND_UNAVAILABLE: _ClassVar[ErrorReason]
    INTERNAL_FAILURE: _ClassVar[ErrorReason]
    RATE_LIMITED: _ClassVar[ErrorReason]
    ROUTE_NOT_FOUND: _ClassVar[ErrorReason]
    METHOD_NOT_ALLOWED: _ClassVar[ErrorReason]
    BODY_TOO_LARGE: _ClassVar[ErrorReason]
    NOT_SEQUENCER: _ClassVar[ErrorReason]
    HOLDER_MISMATCH: _ClassVar[ErrorReason]

class HolderKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOLDER_KIND_UNSPECIFIED: _ClassVar[HolderKind]
    HOLDER_KIND_PERSON: _ClassVar[HolderKind]
    HOLDER_KIND_ORGANISATION: _ClassVar[HolderKind]

class ClaimType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_TYPE_UNSPECIFIED: _ClassVar[ClaimType]
    CLAIM_TYPE_STRING: _ClassVar[ClaimType]
    CLAIM_TYPE_INTEGER: _ClassVar[ClaimType]
    CLAIM_TYPE_NUMBER: _ClassVar[ClaimType]
    CLAIM_TYPE_BOOLEAN: _ClassVar[ClaimType]
    CLAIM_TYPE_DATE: _ClassVar[ClaimType]
    CLAIM_TYPE_DATE_TIME: _ClassVar[ClaimType]
    CLAIM_TYPE_OBJECT: _ClassVar[ClaimType]
    CLAIM_TYPE_ARRAY: _ClassVar[ClaimType]

class ConsentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_METHOD_UNSPECIFIED: _ClassVar[ConsentMethod]
    CONSENT_METHOD_AT_WINDOW_ID_CHECKED: _ClassVar[ConsentMethod]
    CONSENT_METHOD_HOLDER_SIGNED_TOKEN: _ClassVar[ConsentMethod]

class ConsentGiver(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_GIVER_UNSPECIFIED: _ClassVar[ConsentGiver]
    CONSENT_GIVER_HOLDER: _ClassVar[ConsentGiver]
    CONSENT_GIVER_LEGAL_REPRESENTATIVE: _ClassVar[ConsentGiver]
    CONSENT_GIVER_AUTHORISED_AGENT: _ClassVar[ConsentGiver]
ROLE_UNSPECIFIED: Role
ROLE_INTAKE_SYSTEM: Role
ROLE_CLERK: Role
ROLE_OFFICER: Role
ROLE_ISSUER: Role
ROLE_SUPERVISOR: Role
ROLE_AUDITOR: Role
ROLE_OPERATOR: Role
ROLE_HOLDER: Role
ROLE_SERVICE: Role
ERROR_REASON_UNSPECIFIED: ErrorReason
INVALID_FIELD: ErrorReason
MALFORMED_REQUEST: ErrorReason
UNAUTHENTICATED_CALLER: ErrorReason
ROLE_NOT_ALLOWED: ErrorReason
OUTSIDE_AUTHORITY: ErrorReason
NOT_FOUND: ErrorReason
ALREADY_EXISTS: ErrorReason
INVALID_STATE: ErrorReason
NOT_IMPLEMENTED: ErrorReason
BACKEND_UNAVAILABLE: ErrorReason
INTERNAL_FAILURE: ErrorReason
RATE_LIMITED: ErrorReason
ROUTE_NOT_FOUND: ErrorReason
METHOD_NOT_ALLOWED: ErrorReason
BODY_TOO_LARGE: ErrorReason
NOT_SEQUENCER: ErrorReason
HOLDER_MISMATCH: ErrorReason
HOLDER_KIND_UNSPECIFIED: HolderKind
HOLDER_KIND_PERSON: HolderKind
HOLDER_KIND_ORGANISATION: HolderKind
CLAIM_TYPE_UNSPECIFIED: ClaimType
CLAIM_TYPE_STRING: ClaimType
CLAIM_TYPE_INTEGER: ClaimType
CLAIM_TYPE_NUMBER: ClaimType
CLAIM_TYPE_BOOLEAN: ClaimType
CLAIM_TYPE_DATE: ClaimType
CLAIM_TYPE_DATE_TIME: ClaimType
CLAIM_TYPE_OBJECT: ClaimType
CLAIM_TYPE_ARRAY: ClaimType
CONSENT_METHOD_UNSPECIFIED: ConsentMethod
CONSENT_METHOD_AT_WINDOW_ID_CHECKED: ConsentMethod
CONSENT_METHOD_HOLDER_SIGNED_TOKEN: ConsentMethod
CONSENT_GIVER_UNSPECIFIED: ConsentGiver
CONSENT_GIVER_HOLDER: ConsentGiver
CONSENT_GIVER_LEGAL_REPRESENTATIVE: ConsentGiver
CONSENT_GIVER_AUTHORISED_AGENT: ConsentGiver

class Caller(_message.Message):
    __slots__ = ("department_code", "role", "subject")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    role: Role
    subject: str
    def __init__(self, department_code: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., subject: _Optional[str] = ...) -> None: ...

class HolderRef(_message.Message):
    __slots__ = ("resident_id", "uscc")
    RESIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    resident_id: str
    uscc: str
    def __init__(self, resident_id: _Optional[str] = ..., uscc: _Optional[str] = ...) -> None: ...

class AccessPurpose(_message.Message):
    __slots__ = ("purpose", "case_reference")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CASE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    case_reference: str
    def __init__(self, purpose: _Optional[str] = ..., case_reference: _Optional[str] = ...) -> None: ...

class HolderConsent(_message.Message):
    __slots__ = ("given_by", "agent", "method", "holder_token", "given_at")
    GIVEN_BY_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    HOLDER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    GIVEN_AT_FIELD_NUMBER: _ClassVar[int]
    given_by: ConsentGiver
    agent: HolderRef
    method: ConsentMethod
    holder_token: str
    given_at: _timestamp_pb2.Timestamp
    def __init__(self, given_by: _Optional[_Union[ConsentGiver, str]] = ..., agent: _Optional[_Union[HolderRef, _Mapping]] = ..., method: _Optional[_Union[ConsentMethod, str]] = ..., holder_token: _Optional[str] = ..., given_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClaimDefinition(_message.Message):
    __slots__ = ("name", "title", "type", "required", "max_length", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    type: ClaimType
    required: bool
    max_length: int
    description: str
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., type: _Optional[_Union[ClaimType, str]] = ..., required: _Optional[bool] = ..., max_length: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...
