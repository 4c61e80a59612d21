from genproto.buf.validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
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
