import datetime

from genproto.buf.validate import validate_pb2 as _validate_pb2
from genproto.certfree.common.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2
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

class ProofRoute(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROOF_ROUTE_UNSPECIFIED: _ClassVar[ProofRoute]
    PROOF_ROUTE_CANCELLED: _ClassVar[ProofRoute]
    PROOF_ROUTE_DATA_SHARING: _ClassVar[ProofRoute]
    PROOF_ROUTE_COMMITMENT: _ClassVar[ProofRoute]
    PROOF_ROUTE_DEPARTMENT_VERIFICATION: _ClassVar[ProofRoute]

class ProofRequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROOF_REQUEST_STATE_UNSPECIFIED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_SUBMITTED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_ACCEPTED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_NEEDS_MORE_INFO: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_ANSWERED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_CLOSED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_WITHDRAWN: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_REJECTED: _ClassVar[ProofRequestState]
    PROOF_REQUEST_STATE_EXPIRED: _ClassVar[ProofRequestState]

class SlaMark(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLA_MARK_UNSPECIFIED: _ClassVar[SlaMark]
    SLA_MARK_ON_TIME: _ClassVar[SlaMark]
    SLA_MARK_WARNING: _ClassVar[SlaMark]
    SLA_MARK_OVERDUE: _ClassVar[SlaMark]

class ProofOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROOF_OUTCOME_UNSPECIFIED: _ClassVar[ProofOutcome]
    PROOF_OUTCOME_CONFIRMED: _ClassVar[ProofOutcome]
    PROOF_OUTCOME_DENIED: _ClassVar[ProofOutcome]
    PROOF_OUTCOME_CANNOT_DETERMINE: _ClassVar[ProofOutcome]
    PROOF_OUTCOME_NOT_REQUIRED: _ClassVar[ProofOutcome]
    PROOF_OUTCOME_COMMITTED: _ClassVar[ProofOutcome]

class RequestDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REQUEST_DIRECTION_UNSPECIFIED: _ClassVar[RequestDirection]
    REQUEST_DIRECTION_INCOMING: _ClassVar[RequestDirection]
    REQUEST_DIRECTION_OUTGOING: _ClassVar[RequestDirection]

class RejectionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECTION_REASON_UNSPECIFIED: _ClassVar[RejectionReason]
    REJECTION_REASON_NOT_OUR_AUTHORITY: _ClassVar[RejectionReason]
    REJECTION_REASON_DUPLICATE: _ClassVar[RejectionReason]
    REJECTION_REASON_INVALID_REQUEST: _ClassVar[RejectionReason]
    REJECTION_REASON_OTHER: _ClassVar[RejectionReason]

class CommitmentCheckState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMITMENT_CHECK_STATE_UNSPECIFIED: _ClassVar[CommitmentCheckState]
    COMMITMENT_CHECK_STATE_AWAITING_SAMPLING: _ClassVar[CommitmentCheckState]
    COMMITMENT_CHECK_STATE_NOT_SELECTED: _ClassVar[CommitmentCheckState]
    COMMITMENT_CHECK_STATE_SELECTED: _ClassVar[CommitmentCheckState]
    COMMITMENT_CHECK_STATE_FOUND_TRUE: _ClassVar[CommitmentCheckState]
    COMMITMENT_CHECK_STATE_FOUND_FALSE: _ClassVar[CommitmentCheckState]

class CommitmentCheckResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMITMENT_CHECK_RESULT_UNSPECIFIED: _ClassVar[CommitmentCheckResult]
    COMMITMENT_CHECK_RESULT_TRUE: _ClassVar[CommitmentCheckResult]
    COMMITMENT_CHECK_RESULT_FALSE: _ClassVar[CommitmentCheckResult]

class ClaimOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_OPERATOR_UNSPECIFIED: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_PRESENT: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_EQUALS: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_NOT_EQUALS: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_IN: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_GREATER_OR_EQUAL: _ClassVar[ClaimOperator]
    CLAIM_OPERATOR_LESS_OR_EQUAL: _ClassVar[ClaimOperator]

class ProofRequestEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROOF_REQUEST_EVENT_TYPE_UNSPECIFIED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_CREATED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_ACCEPTED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_MORE_INFO_SUPPLIED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_ANSWERED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_REJECTED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_WITHDRAWN: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_CLOSED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_EXPIRED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_ESCALATED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED: _ClassVar[ProofRequestEventType]
    PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED: _ClassVar[ProofRequestEventType]
PROOF_ROUTE_UNSPECIFIED: ProofRoute
PROOF_ROUTE_CANCELLED: ProofRoute
PROOF_ROUTE_DATA_SHARING: ProofRoute
PROOF_ROUTE_COMMITMENT: ProofRoute
PROOF_ROUTE_DEPARTMENT_VERIFICATION: ProofRoute
PROOF_REQUEST_STATE_UNSPECIFIED: ProofRequestState
PROOF_REQUEST_STATE_SUBMITTED: ProofRequestState
PROOF_REQUEST_STATE_ACCEPTED: ProofRequestState
PROOF_REQUEST_STATE_NEEDS_MORE_INFO: ProofRequestState
PROOF_REQUEST_STATE_ANSWERED: ProofRequestState
PROOF_REQUEST_STATE_CLOSED: ProofRequestState
PROOF_REQUEST_STATE_WITHDRAWN: ProofRequestState
PROOF_REQUEST_STATE_REJECTED: ProofRequestState
PROOF_REQUEST_STATE_EXPIRED: ProofRequestState
SLA_MARK_UNSPECIFIED: SlaMark
SLA_MARK_ON_TIME: SlaMark
SLA_MARK_WARNING: SlaMark
SLA_MARK_OVERDUE: SlaMark
PROOF_OUTCOME_UNSPECIFIED: ProofOutcome
PROOF_OUTCOME_CONFIRMED: ProofOutcome
PROOF_OUTCOME_DENIED: ProofOutcome
PROOF_OUTCOME_CANNOT_DETERMINE: ProofOutcome
PROOF_OUTCOME_NOT_REQUIRED: ProofOutcome
PROOF_OUTCOME_COMMITTED: ProofOutcome
REQUEST_DIRECTION_UNSPECIFIED: RequestDirection
REQUEST_DIRECTION_INCOMING: RequestDirection
REQUEST_DIRECTION_OUTGOING: RequestDirection
REJECTION_REASON_UNSPECIFIED: RejectionReason
REJECTION_REASON_NOT_OUR_AUTHORITY: RejectionReason
REJECTION_REASON_DUPLICATE: RejectionReason
REJECTION_REASON_INVALID_REQUEST: RejectionReason
REJECTION_REASON_OTHER: RejectionReason
COMMITMENT_CHECK_STATE_UNSPECIFIED: CommitmentCheckState
COMMITMENT_CHECK_STATE_AWAITING_SAMPLING: CommitmentCheckState
COMMITMENT_CHECK_STATE_NOT_SELECTED: CommitmentCheckState
COMMITMENT_CHECK_STATE_SELECTED: CommitmentCheckState
COMMITMENT_CHECK_STATE_FOUND_TRUE: CommitmentCheckState
COMMITMENT_CHECK_STATE_FOUND_FALSE: CommitmentCheckState
COMMITMENT_CHECK_RESULT_UNSPECIFIED: CommitmentCheckResult
COMMITMENT_CHECK_RESULT_TRUE: CommitmentCheckResult
COMMITMENT_CHECK_RESULT_FALSE: CommitmentCheckResult
CLAIM_OPERATOR_UNSPECIFIED: ClaimOperator
CLAIM_OPERATOR_PRESENT: ClaimOperator
CLAIM_OPERATOR_EQUALS: ClaimOperator
CLAIM_OPERATOR_NOT_EQUALS: ClaimOperator
CLAIM_OPERATOR_IN: ClaimOperator
CLAIM_OPERATOR_GREATER_OR_EQUAL: ClaimOperator
CLAIM_OPERATOR_LESS_OR_EQUAL: ClaimOperator
PROOF_REQUEST_EVENT_TYPE_UNSPECIFIED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_CREATED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_ACCEPTED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_MORE_INFO_SUPPLIED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_ANSWERED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_REJECTED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_WITHDRAWN: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_CLOSED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_EXPIRED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_ESCALATED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED: ProofRequestEventType
PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED: ProofRequestEventType

class WorkingTimeLimit(_message.Message):
    __slots__ = ("working_days", "working_time")
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    WORKING_TIME_FIELD_NUMBER: _ClassVar[int]
    working_days: int
    working_time: _duration_pb2.Duration
    def __init__(self, working_days: _Optional[int] = ..., working_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ClaimCondition(_message.Message):
    __slots__ = ("claim", "operator", "value")
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    claim: str
    operator: ClaimOperator
    value: _struct_pb2.Value
    def __init__(self, claim: _Optional[str] = ..., operator: _Optional[_Union[ClaimOperator, str]] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class DataSharingRule(_message.Message):
    __slots__ = ("license_type_code", "conditions", "answer_claims_from", "fall_back_to_department")
    class AnswerClaimsFromEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LICENSE_TYPE_CODE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_CLAIMS_FROM_FIELD_NUMBER: _ClassVar[int]
    FALL_BACK_TO_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    license_type_code: str
    conditions: _containers.RepeatedCompositeFieldContainer[ClaimCondition]
    answer_claims_from: _containers.ScalarMap[str, str]
    fall_back_to_department: bool
    def __init__(self, license_type_code: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[ClaimCondition, _Mapping]]] = ..., answer_claims_from: _Optional[_Mapping[str, str]] = ..., fall_back_to_department: _Optional[bool] = ...) -> None: ...

class CommitmentTerms(_message.Message):
    __slots__ = ("text", "fulfil_within", "sampling_rate")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FULFIL_WITHIN_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_RATE_FIELD_NUMBER: _ClassVar[int]
    text: str
    fulfil_within: _duration_pb2.Duration
    sampling_rate: float
    def __init__(self, text: _Optional[str] = ..., fulfil_within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., sampling_rate: _Optional[float] = ...) -> None: ...

class ProofItem(_message.Message):
    __slots__ = ("code", "name", "description", "route", "legal_basis", "authoritative_departments", "answer_claims", "holder_kinds", "deadline", "warning_before", "data_sharing", "commitment", "revision", "updated_at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    AUTHORITATIVE_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    HOLDER_KINDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    WARNING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DATA_SHARING_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    description: str
    route: ProofRoute
    legal_basis: str
    authoritative_departments: _containers.RepeatedScalarFieldContainer[str]
    answer_claims: _containers.RepeatedCompositeFieldContainer[_common_pb2.ClaimDefinition]
    holder_kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.HolderKind]
    deadline: WorkingTimeLimit
    warning_before: _duration_pb2.Duration
    data_sharing: DataSharingRule
    commitment: CommitmentTerms
    revision: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., route: _Optional[_Union[ProofRoute, str]] = ..., legal_basis: _Optional[str] = ..., authoritative_departments: _Optional[_Iterable[str]] = ..., answer_claims: _Optional[_Iterable[_Union[_common_pb2.ClaimDefinition, _Mapping]]] = ..., holder_kinds: _Optional[_Iterable[_Union[_common_pb2.HolderKind, str]]] = ..., deadline: _Optional[_Union[WorkingTimeLimit, _Mapping]] = ..., warning_before: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., data_sharing: _Optional[_Union[DataSharingRule, _Mapping]] = ..., commitment: _Optional[_Union[CommitmentTerms, _Mapping]] = ..., revision: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProofRequest(_message.Message):
    __slots__ = ("request_id", "client_request_id", "proof_item_code", "route", "requesting_department", "requested_by", "target_departments", "answering_department", "holder", "purpose", "consent", "note", "state", "sla_mark", "escalated", "created_at", "updated_at", "warning_at", "due_at", "request_sha256", "answer", "rejection", "more_info", "commitment", "last_event_sequence")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    REQUESTING_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    ANSWERING_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SLA_MARK_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WARNING_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SHA256_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    MORE_INFO_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client_request_id: str
    proof_item_code: str
    route: ProofRoute
    requesting_department: str
    requested_by: str
    target_departments: _containers.RepeatedScalarFieldContainer[str]
    answering_department: str
    holder: _common_pb2.HolderRef
    purpose: _common_pb2.AccessPurpose
    consent: _common_pb2.HolderConsent
    note: str
    state: ProofRequestState
    sla_mark: SlaMark
    escalated: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    warning_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    request_sha256: bytes
    answer: ProofAnswer
    rejection: ProofRejection
    more_info: _containers.RepeatedCompositeFieldContainer[MoreInfoExchange]
    commitment: Commitment
    last_event_sequence: int
    def __init__(self, request_id: _Optional[str] = ..., client_request_id: _Optional[str] = ..., proof_item_code: _Optional[str] = ..., route: _Optional[_Union[ProofRoute, str]] = ..., requesting_department: _Optional[str] = ..., requested_by: _Optional[str] = ..., target_departments: _Optional[_Iterable[str]] = ..., answering_department: _Optional[str] = ..., holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., consent: _Optional[_Union[_common_pb2.HolderConsent, _Mapping]] = ..., note: _Optional[str] = ..., state: _Optional[_Union[ProofRequestState, str]] = ..., sla_mark: _Optional[_Union[SlaMark, str]] = ..., escalated: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., warning_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_sha256: _Optional[bytes] = ..., answer: _Optional[_Union[ProofAnswer, _Mapping]] = ..., rejection: _Optional[_Union[ProofRejection, _Mapping]] = ..., more_info: _Optional[_Iterable[_Union[MoreInfoExchange, _Mapping]]] = ..., commitment: _Optional[_Union[Commitment, _Mapping]] = ..., last_event_sequence: _Optional[int] = ...) -> None: ...

class ProofAnswer(_message.Message):
    __slots__ = ("outcome", "claims", "explanation", "legal_basis", "sd_jwt", "answering_department", "answered_by", "answered_at", "ledger_index", "source_license_id")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    SD_JWT_FIELD_NUMBER: _ClassVar[int]
    ANSWERING_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    outcome: ProofOutcome
    claims: _struct_pb2.Struct
    explanation: str
    legal_basis: str
    sd_jwt: str
    answering_department: str
    answered_by: str
    answered_at: _timestamp_pb2.Timestamp
    ledger_index: int
    source_license_id: str
    def __init__(self, outcome: _Optional[_Union[ProofOutcome, str]] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., explanation: _Optional[str] = ..., legal_basis: _Optional[str] = ..., sd_jwt: _Optional[str] = ..., answering_department: _Optional[str] = ..., answered_by: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_index: _Optional[int] = ..., source_license_id: _Optional[str] = ...) -> None: ...

class ProofRejection(_message.Message):
    __slots__ = ("reason_code", "reason", "suggested_department", "rejected_by_department", "rejected_at")
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_BY_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_AT_FIELD_NUMBER: _ClassVar[int]
    reason_code: RejectionReason
    reason: str
    suggested_department: str
    rejected_by_department: str
    rejected_at: _timestamp_pb2.Timestamp
    def __init__(self, reason_code: _Optional[_Union[RejectionReason, str]] = ..., reason: _Optional[str] = ..., suggested_department: _Optional[str] = ..., rejected_by_department: _Optional[str] = ..., rejected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MoreInfoExchange(_message.Message):
    __slots__ = ("question", "asked_by_department", "asked_at", "reply", "license_ids", "replied_at")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    ASKED_BY_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ASKED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    LICENSE_IDS_FIELD_NUMBER: _ClassVar[int]
    REPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    question: str
    asked_by_department: str
    asked_at: _timestamp_pb2.Timestamp
    reply: str
    license_ids: _containers.RepeatedScalarFieldContainer[str]
    replied_at: _timestamp_pb2.Timestamp
    def __init__(self, question: _Optional[str] = ..., asked_by_department: _Optional[str] = ..., asked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply: _Optional[str] = ..., license_ids: _Optional[_Iterable[str]] = ..., replied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Commitment(_message.Message):
    __slots__ = ("commitment_id", "text", "made", "fulfil_by", "recorded_at", "ledger_index", "check_state", "check")
    COMMITMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MADE_FIELD_NUMBER: _ClassVar[int]
    FULFIL_BY_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHECK_STATE_FIELD_NUMBER: _ClassVar[int]
    CHECK_FIELD_NUMBER: _ClassVar[int]
    commitment_id: str
    text: str
    made: _common_pb2.HolderConsent
    fulfil_by: _timestamp_pb2.Timestamp
    recorded_at: _timestamp_pb2.Timestamp
    ledger_index: int
    check_state: CommitmentCheckState
    check: CommitmentCheck
    def __init__(self, commitment_id: _Optional[str] = ..., text: _Optional[str] = ..., made: _Optional[_Union[_common_pb2.HolderConsent, _Mapping]] = ..., fulfil_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_index: _Optional[int] = ..., check_state: _Optional[_Union[CommitmentCheckState, str]] = ..., check: _Optional[_Union[CommitmentCheck, _Mapping]] = ...) -> None: ...

class CommitmentCheck(_message.Message):
    __slots__ = ("result", "note", "checked_by", "checked_at", "ledger_index")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CHECKED_BY_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    result: CommitmentCheckResult
    note: str
    checked_by: _common_pb2.Caller
    checked_at: _timestamp_pb2.Timestamp
    ledger_index: int
    def __init__(self, result: _Optional[_Union[CommitmentCheckResult, str]] = ..., note: _Optional[str] = ..., checked_by: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_index: _Optional[int] = ...) -> None: ...

class ProofRequestEvent(_message.Message):
    __slots__ = ("request_id", "sequence", "type", "from_state", "to_state", "sla_mark", "actor", "occurred_at", "reason", "ledger_index")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    SLA_MARK_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INDEX_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    sequence: int
    type: ProofRequestEventType
    from_state: ProofRequestState
    to_state: ProofRequestState
    sla_mark: SlaMark
    actor: _common_pb2.Caller
    occurred_at: _timestamp_pb2.Timestamp
    reason: str
    ledger_index: int
    def __init__(self, request_id: _Optional[str] = ..., sequence: _Optional[int] = ..., type: _Optional[_Union[ProofRequestEventType, str]] = ..., from_state: _Optional[_Union[ProofRequestState, str]] = ..., to_state: _Optional[_Union[ProofRequestState, str]] = ..., sla_mark: _Optional[_Union[SlaMark, str]] = ..., actor: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., ledger_index: _Optional[int] = ...) -> None: ...

class ProofRequestAccess(_message.Message):
    __slots__ = ("access_id", "accessed_by", "purpose", "request_ids", "accessed_at")
    ACCESS_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESSED_BY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IDS_FIELD_NUMBER: _ClassVar[int]
    ACCESSED_AT_FIELD_NUMBER: _ClassVar[int]
    access_id: str
    accessed_by: _common_pb2.Caller
    purpose: _common_pb2.AccessPurpose
    request_ids: _containers.RepeatedScalarFieldContainer[str]
    accessed_at: _timestamp_pb2.Timestamp
    def __init__(self, access_id: _Optional[str] = ..., accessed_by: _Optional[_Union[_common_pb2.Caller, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., request_ids: _Optional[_Iterable[str]] = ..., accessed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InboxEvent(_message.Message):
    __slots__ = ("cursor", "direction", "event", "request")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    direction: RequestDirection
    event: ProofRequestEvent
    request: ProofRequest
    def __init__(self, cursor: _Optional[str] = ..., direction: _Optional[_Union[RequestDirection, str]] = ..., event: _Optional[_Union[ProofRequestEvent, _Mapping]] = ..., request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class ProofStatistics(_message.Message):
    __slots__ = ("department_code", "proof_item_code", "state_counts", "answered", "answered_on_time", "on_time_rate", "median_answer_time", "overdue")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_ON_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_RATE_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_ANSWER_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    proof_item_code: str
    state_counts: _containers.RepeatedCompositeFieldContainer[StateCount]
    answered: int
    answered_on_time: int
    on_time_rate: float
    median_answer_time: _duration_pb2.Duration
    overdue: int
    def __init__(self, department_code: _Optional[str] = ..., proof_item_code: _Optional[str] = ..., state_counts: _Optional[_Iterable[_Union[StateCount, _Mapping]]] = ..., answered: _Optional[int] = ..., answered_on_time: _Optional[int] = ..., on_time_rate: _Optional[float] = ..., median_answer_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., overdue: _Optional[int] = ...) -> None: ...

class StateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: ProofRequestState
    count: int
    def __init__(self, state: _Optional[_Union[ProofRequestState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class CreateProofRequestRequest(_message.Message):
    __slots__ = ("client_request_id", "proof_item_code", "holder", "purpose", "consent", "note", "target_department")
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    client_request_id: str
    proof_item_code: str
    holder: _common_pb2.HolderRef
    purpose: _common_pb2.AccessPurpose
    consent: _common_pb2.HolderConsent
    note: str
    target_department: str
    def __init__(self, client_request_id: _Optional[str] = ..., proof_item_code: _Optional[str] = ..., holder: _Optional[_Union[_common_pb2.HolderRef, _Mapping]] = ..., purpose: _Optional[_Union[_common_pb2.AccessPurpose, _Mapping]] = ..., consent: _Optional[_Union[_common_pb2.HolderConsent, _Mapping]] = ..., note: _Optional[str] = ..., target_department: _Optional[str] = ...) -> None: ...

class CreateProofRequestResponse(_message.Message):
    __slots__ = ("request", "duplicate")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    duplicate: bool
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class GetProofRequestRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class ListProofRequestsRequest(_message.Message):
    __slots__ = ("department_code", "direction", "states", "sla_marks", "proof_item_code", "commitment_check_state", "page_size", "page_token")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    SLA_MARKS_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_CHECK_STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    direction: RequestDirection
    states: _containers.RepeatedScalarFieldContainer[ProofRequestState]
    sla_marks: _containers.RepeatedScalarFieldContainer[SlaMark]
    proof_item_code: str
    commitment_check_state: CommitmentCheckState
    page_size: int
    page_token: str
    def __init__(self, department_code: _Optional[str] = ..., direction: _Optional[_Union[RequestDirection, str]] = ..., states: _Optional[_Iterable[_Union[ProofRequestState, str]]] = ..., sla_marks: _Optional[_Iterable[_Union[SlaMark, str]]] = ..., proof_item_code: _Optional[str] = ..., commitment_check_state: _Optional[_Union[CommitmentCheckState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProofRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ProofRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ProofRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListHolderProofRequestsRequest(_message.Message):
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

class ListHolderProofRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ProofRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ProofRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StreamInboxRequest(_message.Message):
    __slots__ = ("cursor", "department_code", "direction")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    department_code: str
    direction: RequestDirection
    def __init__(self, cursor: _Optional[str] = ..., department_code: _Optional[str] = ..., direction: _Optional[_Union[RequestDirection, str]] = ...) -> None: ...

class StreamInboxResponse(_message.Message):
    __slots__ = ("events", "cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[InboxEvent]
    cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[InboxEvent, _Mapping]]] = ..., cursor: _Optional[str] = ...) -> None: ...

class AcceptProofRequestRequest(_message.Message):
    __slots__ = ("request_id", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class AcceptProofRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class AnswerProofRequestRequest(_message.Message):
    __slots__ = ("request_id", "outcome", "claims", "explanation")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    outcome: ProofOutcome
    claims: _struct_pb2.Struct
    explanation: str
    def __init__(self, request_id: _Optional[str] = ..., outcome: _Optional[_Union[ProofOutcome, str]] = ..., claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., explanation: _Optional[str] = ...) -> None: ...

class AnswerProofRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class RejectProofRequestRequest(_message.Message):
    __slots__ = ("request_id", "reason_code", "reason", "suggested_department")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reason_code: RejectionReason
    reason: str
    suggested_department: str
    def __init__(self, request_id: _Optional[str] = ..., reason_code: _Optional[_Union[RejectionReason, str]] = ..., reason: _Optional[str] = ..., suggested_department: _Optional[str] = ...) -> None: ...

class RejectProofRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class AskForMoreInfoRequest(_message.Message):
    __slots__ = ("request_id", "question")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    question: str
    def __init__(self, request_id: _Optional[str] = ..., question: _Optional[str] = ...) -> None: ...

class AskForMoreInfoResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class SupplyMoreInfoRequest(_message.Message):
    __slots__ = ("request_id", "reply", "license_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    LICENSE_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reply: str
    license_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., reply: _Optional[str] = ..., license_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SupplyMoreInfoResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class WithdrawProofRequestRequest(_message.Message):
    __slots__ = ("request_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawProofRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class CloseProofRequestRequest(_message.Message):
    __slots__ = ("request_id", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CloseProofRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class ListProofRequestEventsRequest(_message.Message):
    __slots__ = ("request_id", "page_size", "page_token")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    page_size: int
    page_token: str
    def __init__(self, request_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProofRequestEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ProofRequestEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[ProofRequestEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordCommitmentRequest(_message.Message):
    __slots__ = ("request_id", "text", "made", "fulfil_by")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MADE_FIELD_NUMBER: _ClassVar[int]
    FULFIL_BY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    text: str
    made: _common_pb2.HolderConsent
    fulfil_by: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., text: _Optional[str] = ..., made: _Optional[_Union[_common_pb2.HolderConsent, _Mapping]] = ..., fulfil_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordCommitmentResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class RecordCommitmentCheckRequest(_message.Message):
    __slots__ = ("request_id", "result", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    result: CommitmentCheckResult
    note: str
    def __init__(self, request_id: _Optional[str] = ..., result: _Optional[_Union[CommitmentCheckResult, str]] = ..., note: _Optional[str] = ...) -> None: ...

class RecordCommitmentCheckResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProofRequest
    def __init__(self, request: _Optional[_Union[ProofRequest, _Mapping]] = ...) -> None: ...

class GetProofStatisticsRequest(_message.Message):
    __slots__ = ("department_code", "proof_item_code", "start_time", "end_time")
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    department_code: str
    proof_item_code: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, department_code: _Optional[str] = ..., proof_item_code: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProofStatisticsResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ProofStatistics]
    def __init__(self, rows: _Optional[_Iterable[_Union[ProofStatistics, _Mapping]]] = ...) -> None: ...

class ListProofItemsRequest(_message.Message):
    __slots__ = ("route", "department_code", "page_size", "page_token")
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    route: ProofRoute
    department_code: str
    page_size: int
    page_token: str
    def __init__(self, route: _Optional[_Union[ProofRoute, str]] = ..., department_code: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProofItemsResponse(_message.Message):
    __slots__ = ("proof_items", "next_page_token")
    PROOF_ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    proof_items: _containers.RepeatedCompositeFieldContainer[ProofItem]
    next_page_token: str
    def __init__(self, proof_items: _Optional[_Iterable[_Union[ProofItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetProofItemRequest(_message.Message):
    __slots__ = ("proof_item_code",)
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    proof_item_code: str
    def __init__(self, proof_item_code: _Optional[str] = ...) -> None: ...

class UpsertProofItemRequest(_message.Message):
    __slots__ = ("proof_item_code", "proof_item", "expected_revision")
    PROOF_ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    PROOF_ITEM_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    proof_item_code: str
    proof_item: ProofItem
    expected_revision: int
    def __init__(self, proof_item_code: _Optional[str] = ..., proof_item: _Optional[_Union[ProofItem, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class UpsertProofItemResponse(_message.Message):
    __slots__ = ("proof_item", "created")
    PROOF_ITEM_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    proof_item: ProofItem
    created: bool
    def __init__(self, proof_item: _Optional[_Union[ProofItem, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...
