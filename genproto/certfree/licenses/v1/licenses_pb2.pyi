import datetime

from genproto.buf.validate import validate_pb2 as _validate_pb2
from genproto.certfree.common.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LicenseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LICENSE_STATUS_UNSPECIFIED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_VALID: _ClassVar[LicenseStatus]
    LICENSE_STATUS_SUSPENDED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_REVOKED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_CANCELLED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_EXPIRED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_TRANSFERRED: _ClassVar[LicenseStatus]
    LICENSE_STATUS_WITHDRAWN: _ClassVar[LicenseStatus]

class SignatureAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_ALGORITHM_UNSPECIFIED: _ClassVar[SignatureAlgorithm]
    SIGNATURE_ALGORITHM_EDDSA_ED25519: _ClassVar[SignatureAlgorithm]
    SIGNATURE_ALGORITHM_ES256: _ClassVar[SignatureAlgorithm]
    SIGNATURE_ALGORITHM_SM2_SM3: _ClassVar[SignatureAlgorithm]

class VerificationCheck(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFICATION_CHECK_UNSPECIFIED: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_FORMAT: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_ISSUER_KEY: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_SIGNATURE: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_DISCLOSURES: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_ISSUER_AUTHORITY: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_SCHEMA: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_VALIDITY_WINDOW: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_STATUS: _ClassVar[VerificationCheck]
    VERIFICATION_CHECK_LEDGER_INCLUSION: _ClassVar[VerificationCheck]

class CheckOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECK_OUTCOME_UNSPECIFIED: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_PASSED: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_FAILED: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_SKIPPED: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_UNAVAILABLE: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_NOT_APPLICABLE: _ClassVar[CheckOutcome]

class KeyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_STATE_UNSPECIFIED: _ClassVar[KeyState]
    KEY_STATE_ACTIVE: _ClassVar[KeyState]
    KEY_STATE_RETIRED: _ClassVar[KeyState]
    KEY_STATE_COMPROMISED: _ClassVar[KeyState]

class AccessKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_KIND_UNSPECIFIED: _ClassVar[AccessKind]
    ACCESS_KIND_LOOKUP: _ClassVar[AccessKind]
    ACCESS_KIND_READ: _ClassVar[AccessKind]
    ACCESS_KIND_PRESENTATION: _ClassVar[AccessKind]
LICENSE_STATUS_UNSPECIFIED: LicenseStatus
LICENSE_STATUS_VALID: LicenseStatus
LICENSE_STATUS_SUSPENDED: LicenseStatus
LICENSE_STATUS_REVOKED: LicenseStatus
LICENSE_STATUS_CANCELLED: LicenseStatus
LICENSE_STATUS_EXPIRED: LicenseStatus
LICENSE_STATUS_TRANSFERRED: LicenseStatus
LICENSE_STATUS_WITHDRAWN: LicenseStatus
SIGNATURE_ALGORITHM_UNSPECIFIED: SignatureAlgorithm
SIGNATURE_ALGORITHM_EDDSA_ED25519: SignatureAlgorithm
SIGNATURE_ALGORITHM_ES256: SignatureAlgorithm
SIGNATURE_ALGORITHM_SM2_SM3: SignatureAlgorithm
VERIFICATION_CHECK_UNSPECIFIED: VerificationCheck
VERIFICATION_CHECK_FORMAT: VerificationCheck
VERIFICATION_CHECK_ISSUER_KEY: VerificationCheck
VERIFICATION_CHECK_SIGNATURE: VerificationCheck
VERIFICATION_CHECK_DISCLOSURES: VerificationCheck
VERIFICATION_CHECK_ISSUER_AUTHORITY: VerificationCheck
VERIFICATION_CHECK_SCHEMA: VerificationCheck
VERIFICATION_CHECK_VALIDITY_WINDOW: VerificationCheck
VERIFICATION_CHECK_STATUS: VerificationCheck
VERIFICATION_CHECK_LEDGER_INCLUSION: VerificationCheck
CHECK_OUTCOME_UNSPECIFIED: CheckOutcome
CHECK_OUTCOME_PASSED: CheckOutcome
CHECK_OUTCOME_FAILED: CheckOutcome
CHECK_OUTCOME_SKIPPED: CheckOutcome
CHECK_OUTCOME_UNAVAILABLE: CheckOutcome
CHECK_OUTCOME_NOT_APPLICABLE: CheckOutcome
KEY_STATE_UNSPECIFIED: KeyState
KEY_STATE_ACTIVE: KeyState
KEY_STATE_RETIRED: KeyState
KEY_STATE_COMPROMISED: KeyState
ACCESS_KIND_UNSPECIFIED: AccessKind
ACCESS_KIND_LOOKUP: AccessKind
ACCESS_KIND_READ: AccessKind
ACCESS_KIND_PRESENTATION: AccessKind

class License(_message.Message):
    __slots__ = ("license_id", "license_type_code", "issuer_department", "version", "predecessor_id", "successor_id", "status", "issued_at", "valid_from", "valid_until", "claims", "sd_jwt", "issuer_jwt_sha256", "key_id", "algorithm", "status_list_uri", "status_list_index", "ledger_index", "ledger_receipt", "status_history")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDECESSOR_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESSOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    SD_JWT_FIELD_NUMBER: _ClassVar[int]
    ISSUER_JWT_SHA256_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_URI_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_INDEX_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    LEDGER_RECEIPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_HISTORY_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    license_type_code: str
    issuer_department: str
    version: int
    predecessor_id: str
    successor_id: str
    status: LicenseStatus
    issued_at: _timestamp_pb2.Timestamp
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    claims: _struct_pb2.Struct
    sd_jwt: str
    issuer_jwt_sha256: bytes
    key_id: str
    algorithm: SignatureAlgorithm
    status_list_uri: str
    status_list_index: int
    ledger_index: int
    ledger_receipt: str
    status_history: _containers.RepeatedCompositeFieldContainer[LicenseStatusChange]
    def __init__(self, license_id: _Optional[str] = ..., license_type_code: _Optional[str] = ..., issuer_department: _Optional[str] = ..., version: _Optional[int] = ..., predecessor_id: _Optional[str] = ..., successor_id: _Optional[str] = ..., status: _Optional[_Union[LicenseStatus, str]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., sd_jwt: _Optional[str] = ..., issuer_jwt_sha256: _Optional[bytes] = ..., key_id: _Optional[str] = ..., algorithm: _Optional[_Union[SignatureAlgorithm, str]] = ..., status_list_uri: _Optional[str] = ..., status_list_index: _Optional[int] = ..., ledger_index: _Optional[int] = ..., ledger_receipt: _Optional[str] = ..., status_history: _Optional[_Iterable[_Union[LicenseStatusChange, _Mapping]]] = ...) -> None: ...

class LicenseStatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "reason", "actor", "changed_at", "ledger_index")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    from_status: LicenseStatus
    to_status: LicenseStatus
    reason: str
    actor: _common_pb2.Caller
    changed_at: _timestamp_pb2.Timestamp
    ledger_index: int
    def __init__(self, from_status: _Optional[_Union[LicenseStatus, str]] = ..., to_status: _Optional[_Union[LicenseStatus, str]] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_index: _Optional[int] = ...) -> None: ...

class LicenseType(_message.Message):
    __slots__ = ("code", "name", "description", "holder_kinds", "claims", "default_validity", "issuer_departments", "revision", "updated_at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_KINDS_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALIDITY_FIELD_NUMBER: _ClassVar[int]
    ISSUER_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    description: str
    holder_kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.HolderKind]
    claims: _containers.RepeatedCompositeFieldContainer[_common_pb2.ClaimDefinition]
    default_validity: _duration_pb2.Duration
    issuer_departments: _containers.RepeatedScalarFieldContainer[str]
    revision: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., holder_kinds: _Optional[_Iterable[_Union[_common_pb2.HolderKind, str]]] = ..., claims: _Optional[_Iterable[_Union[_common_pb2.ClaimDefinition, _Mapping]]] = ..., default_validity: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., issuer_departments: _Optional[_Iterable[str]] = ..., revision: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Department(_message.Message):
    __slots__ = ("code", "name", "region_code", "roles", "revision", "updated_at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    region_code: str
    roles: _containers.RepeatedScalarFieldContainer[_common_pb2.Role]
    revision: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., region_code: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_common_pb2.Role, str]]] = ..., revision: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssuerKey(_message.Message):
    __slots__ = ("key_id", "department_code", "algorithm", "public_jwk", "state", "not_before", "not_after", "compromised_since", "ledger_index", "compromise_reason", "compromise_marked_by", "compromise_marked_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_JWK_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    COMPROMISED_SINCE_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    COMPROMISE_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPROMISE_MARKED_BY_FIELD_NUMBER: _ClassVar[int]
    COMPROMISE_MARKED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    department_code: str
    algorithm: SignatureAlgorithm
    public_jwk: _struct_pb2.Struct
    state: KeyState
    not_before: _timestamp_pb2.Timestamp
    not_after: _timestamp_pb2.Timestamp
    compromised_since: _timestamp_pb2.Timestamp
    ledger_index: int
    compromise_reason: str
    compromise_marked_by: _common_pb2.Caller
    compromise_marked_at: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., department_code: _Optional[str] = ..., algorithm: _Optional[_Union[SignatureAlgorithm, str]] = ..., public_jwk: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., state: _Optional[_Union[KeyState, str]] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., compromised_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_index: _Optional[int] = ..., compromise_reason: _Optional[str] = ..., compromise_marked_by: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., compromise_marked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusList(_message.Message):
    __slots__ = ("department_code", "list_number", "uri", "bits", "token", "issued_at", "expires_at", "ttl", "ledger_index")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    LIST_NUMBER_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    list_number: int
    uri: str
    bits: int
    token: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    ttl: _duration_pb2.Duration
    ledger_index: int
    def __init__(self, department_code: _Optional[str] = ..., list_number: _Optional[int] = ..., uri: _Optional[str] = ..., bits: _Optional[int] = ..., token: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ledger_index: _Optional[int] = ...) -> None: ...

class LicenseAccess(_message.Message):
    __slots__ = ("access_id", "kind", "license_id", "department_code", "role", "subject", "purpose", "disclosed_claims", "accessed_at")
    ACCESS_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DISCLOSED_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    ACCESSED_AT_FIELD_NUMBER: _ClassVar[int]
    access_id: str
    kind: AccessKind
    license_id: str
    department_code: str
    role: _common_pb2.Role
    subject: str
    purpose: _common_pb2.AccessPurpose
    disclosed_claims: _containers.RepeatedScalarFieldContainer[str]
    accessed_at: _timestamp_pb2.Timestamp
    def __init__(self, access_id: _Optional[str] = ..., kind: _Optional[_Union[AccessKind, str]] = ..., license_id: _Optional[str] = ..., department_code: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., subject: _Optional[str] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., disclosed_claims: _Optional[_Iterable[str]] = ..., accessed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VerificationCheckResult(_message.Message):
    __slots__ = ("check", "outcome", "detail")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    check: VerificationCheck
    outcome: CheckOutcome
    detail: str
    def __init__(self, check: _Optional[_Union[VerificationCheck, str]] = ..., outcome: _Optional[_Union[CheckOutcome, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class IssueLicenseRequest(_message.Message):
    __slots__ = ("request_id", "license_type_code", "holder", "claims", "valid_from", "valid_until")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    license_type_code: str
    holder: _common_pb2.HolderRef
    claims: _struct_pb2.Struct
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., license_type_code: _Optional[str] = ..., holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueLicenseResponse(_message.Message):
    __slots__ = ("license", "duplicate")
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    license: License
    duplicate: bool
    def __init__(self, license: _Optional[_Union[License, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class GetLicenseRequest(_message.Message):
    __slots__ = ("license_id", "purpose")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    purpose: _common_pb2.AccessPurpose
    def __init__(self, license_id: _Optional[str] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ...) -> None: ...

class ListHolderLicensesRequest(_message.Message):
    __slots__ = ("holder", "purpose", "license_type_code", "statuses", "include_superseded", "page_size", "page_token")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SUPERSEDED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    holder: _common_pb2.HolderRef
    purpose: _common_pb2.AccessPurpose
    license_type_code: str
    statuses: _containers.RepeatedScalarFieldContainer[LicenseStatus]
    include_superseded: bool
    page_size: int
    page_token: str
    def __init__(self, holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., license_type_code: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[LicenseStatus, str]]] = ..., include_superseded: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHolderLicensesResponse(_message.Message):
    __slots__ = ("licenses", "next_page_token")
    LICENSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    licenses: _containers.RepeatedCompositeFieldContainer[License]
    next_page_token: str
    def __init__(self, licenses: _Optional[_Iterable[_Union[License, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VerifyLicenseRequest(_message.Message):
    __slots__ = ("sd_jwt", "verify_at", "expected_vct", "ledger_receipt", "status_list_token")
    SD_JWT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_AT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VCT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_RECEIPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sd_jwt: str
    verify_at: _timestamp_pb2.Timestamp
    expected_vct: str
    ledger_receipt: str
    status_list_token: str
    def __init__(self, sd_jwt: _Optional[str] = ..., verify_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expected_vct: _Optional[str] = ..., ledger_receipt: _Optional[str] = ..., status_list_token: _Optional[str] = ...) -> None: ...

class VerifyLicenseResponse(_message.Message):
    __slots__ = ("valid", "checks", "vct", "license_id", "issuer_department", "key_id", "issued_at", "valid_from", "valid_until", "status", "disclosed_claims", "ledger_index")
    VALID_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    VCT_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSED_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    checks: _containers.RepeatedCompositeFieldContainer[VerificationCheckResult]
    vct: str
    license_id: str
    issuer_department: str
    key_id: str
    issued_at: _timestamp_pb2.Timestamp
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    status: LicenseStatus
    disclosed_claims: _struct_pb2.Struct
    ledger_index: int
    def __init__(self, valid: _Optional[bool] = ..., checks: _Optional[_Iterable[_Union[VerificationCheckResult, _Mapping]]] = ..., vct: _Optional[str] = ..., license_id: _Optional[str] = ..., issuer_department: _Optional[str] = ..., key_id: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[LicenseStatus, str]] = ..., disclosed_claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., ledger_index: _Optional[int] = ...) -> None: ...

class BatchVerifyLicensesRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[VerifyLicenseRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[VerifyLicenseRequest, _Mapping]]] = ...) -> None: ...

class BatchVerifyLicensesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[VerifyLicenseResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[VerifyLicenseResponse, _Mapping]]] = ...) -> None: ...

class ChangeLicenseStatusRequest(_message.Message):
    __slots__ = ("license_id", "status", "reason", "request_id")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    status: LicenseStatus
    reason: str
    request_id: str
    def __init__(self, license_id: _Optional[str] = ..., status: _Optional[_Union[LicenseStatus, str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ChangeLicenseStatusResponse(_message.Message):
    __slots__ = ("license", "change", "duplicate")
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    license: License
    change: LicenseStatusChange
    duplicate: bool
    def __init__(self, license: _Optional[_Union[License, _Mapping]] = ..., change: _Optional[_Union[LicenseStatusChange, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class PresentLicenseRequest(_message.Message):
    __slots__ = ("license_id", "audience_department", "disclose", "consent", "purpose")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DISCLOSE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    audience_department: str
    disclose: _containers.RepeatedScalarFieldContainer[str]
    consent: _common_pb2.HolderConsent
    purpose: _common_pb2.AccessPurpose
    def __init__(self, license_id: _Optional[str] = ..., audience_department: _Optional[str] = ..., disclose: _Optional[_Iterable[str]] = ..., consent: _Optional[_Union[_common_pb2.HolderConsent, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ...) -> None: ...

class PresentLicenseResponse(_message.Message):
    __slots__ = ("presentation", "disclosed_claims", "access_id")
    PRESENTATION_FIELD_NUMBER: _ClassVar[int]
    DISCLOSED_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_ID_FIELD_NUMBER: _ClassVar[int]
    presentation: str
    disclosed_claims: _struct_pb2.Struct
    access_id: str
    def __init__(self, presentation: _Optional[str] = ..., disclosed_claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., access_id: _Optional[str] = ...) -> None: ...

class AmendLicenseRequest(_message.Message):
    __slots__ = ("license_id", "request_id", "claims", "valid_from", "valid_until", "reason")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    request_id: str
    claims: _struct_pb2.Struct
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, license_id: _Optional[str] = ..., request_id: _Optional[str] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class AmendLicenseResponse(_message.Message):
    __slots__ = ("license", "predecessor", "duplicate")
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    PREDECESSOR_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    license: License
    predecessor: License
    duplicate: bool
    def __init__(self, license: _Optional[_Union[License, _Mapping]] = ..., predecessor: _Optional[_Union[License, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ListLicenseAccessesRequest(_message.Message):
    __slots__ = ("holder", "purpose", "page_size", "page_token")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    holder: _common_pb2.HolderRef
    purpose: _common_pb2.AccessPurpose
    page_size: int
    page_token: str
    def __init__(self, holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLicenseAccessesResponse(_message.Message):
    __slots__ = ("accesses", "next_page_token")
    ACCESSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    accesses: _containers.RepeatedCompositeFieldContainer[LicenseAccess]
    next_page_token: str
    def __init__(self, accesses: _Optional[_Iterable[_Union[LicenseAccess, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStatusListRequest(_message.Message):
    __slots__ = ("department_code", "list_number")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    LIST_NUMBER_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    list_number: int
    def __init__(self, department_code: _Optional[str] = ..., list_number: _Optional[int] = ...) -> None: ...

class GetIssuerJwksRequest(_message.Message):
    __slots__ = ("department_code",)
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    def __init__(self, department_code: _Optional[str] = ...) -> None: ...

class ListIssuerKeysRequest(_message.Message):
    __slots__ = ("department_code", "page_size", "page_token")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    page_size: int
    page_token: str
    def __init__(self, department_code: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIssuerKeysResponse(_message.Message):
    __slots__ = ("keys", "next_page_token")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[IssuerKey]
    next_page_token: str
    def __init__(self, keys: _Optional[_Iterable[_Union[IssuerKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RotateIssuerKeyRequest(_message.Message):
    __slots__ = ("department_code", "algorithm", "request_id")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    algorithm: SignatureAlgorithm
    request_id: str
    def __init__(self, department_code: _Optional[str] = ..., algorithm: _Optional[_Union[SignatureAlgorithm, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RotateIssuerKeyResponse(_message.Message):
    __slots__ = ("key", "previous_key", "duplicate")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    key: IssuerKey
    previous_key: IssuerKey
    duplicate: bool
    def __init__(self, key: _Optional[_Union[IssuerKey, _Mapping]] = ..., previous_key: _Optional[_Union[IssuerKey, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class MarkIssuerKeyCompromisedRequest(_message.Message):
    __slots__ = ("department_code", "key_id", "compromised_since", "reason")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPROMISED_SINCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    key_id: str
    compromised_since: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, department_code: _Optional[str] = ..., key_id: _Optional[str] = ..., compromised_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class MarkIssuerKeyCompromisedResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: IssuerKey
    def __init__(self, key: _Optional[_Union[IssuerKey, _Mapping]] = ...) -> None: ...

class ListLicenseTypesRequest(_message.Message):
    __slots__ = ("issuer_department", "page_size", "page_token")
    ISSUER_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    issuer_department: str
    page_size: int
    page_token: str
    def __init__(self, issuer_department: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLicenseTypesResponse(_message.Message):
    __slots__ = ("license_types", "next_page_token")
    LICENSE_TYPES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    license_types: _containers.RepeatedCompositeFieldContainer[LicenseType]
    next_page_token: str
    def __init__(self, license_types: _Optional[_Iterable[_Union[LicenseType, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetLicenseTypeRequest(_message.Message):
    __slots__ = ("license_type_code",)
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    license_type_code: str
    def __init__(self, license_type_code: _Optional[str] = ...) -> None: ...

class UpsertLicenseTypeRequest(_message.Message):
    __slots__ = ("license_type_code", "license_type", "expected_revision")
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    license_type_code: str
    license_type: LicenseType
    expected_revision: int
    def __init__(self, license_type_code: _Optional[str] = ..., license_type: _Optional[_Union[LicenseType, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class UpsertLicenseTypeResponse(_message.Message):
    __slots__ = ("license_type", "created")
    LICENSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    license_type: LicenseType
    created: bool
    def __init__(self, license_type: _Optional[_Union[LicenseType, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ("region_prefix", "page_size", "page_token")
    REGION_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    region_prefix: str
    page_size: int
    page_token: str
    def __init__(self, region_prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments", "next_page_token")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[Department]
    next_page_token: str
    def __init__(self, departments: _Optional[_Iterable[_Union[Department, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDepartmentRequest(_message.Message):
    __slots__ = ("department_code",)
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    def __init__(self, department_code: _Optional[str] = ...) -> None: ...

class UpsertDepartmentRequest(_message.Message):
    __slots__ = ("department_code", "department", "expected_revision")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    department: Department
    expected_revision: int
    def __init__(self, department_code: _Optional[str] = ..., department: _Optional[_Union[Department, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class UpsertDepartmentResponse(_message.Message):
    __slots__ = ("department", "created")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    department: Department
    created: bool
    def __init__(self, department: _Optional[_Union[Department, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class SignProofAnswerRequest(_message.Message):
    __slots__ = ("proof_item_code", "request_id", "request_sha256", "case_reference", "outcome", "claims", "holder", "valid_for")
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SHA256_FIELD_NUMBER: _ClassVar[int]
    CASE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    VALID_FOR_FIELD_NUMBER: _ClassVar[int]
    proof_item_code: str
    request_id: str
    request_sha256: bytes
    case_reference: str
    outcome: str
    claims: _struct_pb2.Struct
    holder: _common_pb2.HolderRef
    valid_for: _duration_pb2.Duration
    def __init__(self, proof_item_code: _Optional[str] = ..., request_id: _Optional[str] = ..., request_sha256: _Optional[bytes] = ..., case_reference: _Optional[str] = ..., outcome: _Optional[str] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., valid_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SignProofAnswerResponse(_message.Message):
    __slots__ = ("sd_jwt", "key_id", "sd_jwt_sha256")
    SD_JWT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SD_JWT_SHA256_FIELD_NUMBER: _ClassVar[int]
    sd_jwt: str
    key_id: str
    sd_jwt_sha256: bytes
    def __init__(self, sd_jwt: _Optional[str] = ..., key_id: _Optional[str] = ..., sd_jwt_sha256: _Optional[bytes] = ...) -> None: ...
