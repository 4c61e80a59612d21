"""The proof request state machine, its parties, its Markdown table, and the request hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from typing import cast

import grpc
import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from genproto.certfree.proofs.v1.proofs_pb2 import ProofRequestState
from runtime.errors import InvalidState, PermissionDenied, to_status_proto
from services.proofs import states as states_module
from services.proofs.states import (
    ACCEPTED,
    ANSWERED,
    CLOSED,
    EVENT_TYPES,
    EXPIRED,
    INITIAL_STATE,
    NEEDS_MORE_INFO,
    REJECTED,
    STATES,
    SUBMITTED,
    TRANSITIONS,
    WITHDRAWN,
    Action,
    Party,
    allowed_actions,
    canonical_json,
    final,
    parties_of,
    request_sha256,
    transition,
    transition_table_markdown,
)

REQUESTER, TARGET, SYSTEM = Party.REQUESTER, Party.TARGET, Party.SYSTEM
A = Action

# Spelled out again on purpose: the test states the rule, the module implements it.
EXPECTED: dict[tuple[ProofRequestState, Action], tuple[ProofRequestState, Party]] = {
    (SUBMITTED, A.ACCEPT): (ACCEPTED, TARGET),
    (SUBMITTED, A.REJECT): (REJECTED, TARGET),
    (SUBMITTED, A.ASK_FOR_MORE_INFO): (NEEDS_MORE_INFO, TARGET),
    (SUBMITTED, A.RECORD_COMMITMENT): (ANSWERED, REQUESTER),
    (SUBMITTED, A.WITHDRAW): (WITHDRAWN, REQUESTER),
    (SUBMITTED, A.ANSWER): (ANSWERED, SYSTEM),
    (SUBMITTED, A.EXPIRE): (EXPIRED, SYSTEM),
    (ACCEPTED, A.ANSWER): (ANSWERED, TARGET),
    (ACCEPTED, A.REJECT): (REJECTED, TARGET),
    (ACCEPTED, A.ASK_FOR_MORE_INFO): (NEEDS_MORE_INFO, TARGET),
    (ACCEPTED, A.WITHDRAW): (WITHDRAWN, REQUESTER),
    (ACCEPTED, A.EXPIRE): (EXPIRED, SYSTEM),
    (NEEDS_MORE_INFO, A.SUPPLY_MORE_INFO): (SUBMITTED, REQUESTER),
    (NEEDS_MORE_INFO, A.WITHDRAW): (WITHDRAWN, REQUESTER),
    (NEEDS_MORE_INFO, A.EXPIRE): (EXPIRED, SYSTEM),
    (ANSWERED, A.CLOSE): (CLOSED, REQUESTER),
}
FINAL = {CLOSED, WITHDRAWN, REJECTED, EXPIRED}

# Which party may take each action from some state: anyone else is refused outright.
ACTION_PARTIES: dict[Action, set[Party]] = {
    A.ACCEPT: {TARGET},
    A.ANSWER: {TARGET, SYSTEM},
    A.REJECT: {TARGET},
    A.ASK_FOR_MORE_INFO: {TARGET},
    A.SUPPLY_MORE_INFO: {REQUESTER},
    A.WITHDRAW: {REQUESTER},
    A.CLOSE: {REQUESTER},
    A.RECORD_COMMITMENT: {REQUESTER},
    A.EXPIRE: {SYSTEM},
}

ALL = list(itertools.product(STATES, Action, Party))
ALLOWED = [(s, a, p) for s, a, p in ALL if EXPECTED.get((s, a), (None, None))[1] is p]
REFUSED = [(s, a, p) for s, a, p in ALL if (s, a, p) not in ALLOWED]


def ids(case: tuple[ProofRequestState, Action, Party]) -> str:
    """A readable test id: ``SUBMITTED-accept-target``."""
    state, action, party = case
    return f"{states_module.state_name(state)}-{action.value}-{party.value}"


class TestTheTable:
    """The table is exactly the documented machine."""

    def test_table_is_the_expected_machine(self) -> None:
        assert {key: (t.to_state, t.party) for key, t in TRANSITIONS.items()} == EXPECTED

    def test_every_state_is_covered_and_unspecified_is_not_a_state(self) -> None:
        assert set(STATES) == set(ProofRequestState.values()) - {
            proofs_pb2.PROOF_REQUEST_STATE_UNSPECIFIED
        }
        assert INITIAL_STATE == SUBMITTED

    def test_final_states_have_no_exits(self) -> None:
        for state in STATES:
            assert final(state) == (state in FINAL)
            if final(state):
                assert all(from_state != state for from_state, _ in TRANSITIONS)

    def test_every_state_is_reachable_from_submitted(self) -> None:
        reached, frontier = {SUBMITTED}, [SUBMITTED]
        while frontier:
            state = frontier.pop()
            for (from_state, _), rule in TRANSITIONS.items():
                if from_state == state and rule.to_state not in reached:
                    reached.add(rule.to_state)
                    frontier.append(rule.to_state)
        assert reached == set(STATES)

    def test_every_non_final_state_can_end(self) -> None:
        for state in set(STATES) - FINAL:
            assert any(
                from_state == state and (rule.to_state in FINAL or not final(rule.to_state))
                for (from_state, _), rule in TRANSITIONS.items()
            )

    def test_every_action_records_an_event(self) -> None:
        assert set(EVENT_TYPES) == set(Action)
        assert len(set(EVENT_TYPES.values())) == len(Action)


class TestAllowedTransitions:
    """Each allowed (state, action, party) leads where the table says."""

    @pytest.mark.parametrize("case", ALLOWED, ids=ids)
    def test_allowed(self, case: tuple[ProofRequestState, Action, Party]) -> None:
        state, action, party = case
        assert transition(state, action, party) == EXPECTED[(state, action)][0]
        assert action in allowed_actions(state, party)

    def test_the_fuqing_path(self) -> None:
        """Submitted, accepted, a question, the reply, accepted again, answered, closed."""
        state = INITIAL_STATE
        for action, party in [
            (A.ACCEPT, TARGET),
            (A.ASK_FOR_MORE_INFO, TARGET),
            (A.SUPPLY_MORE_INFO, REQUESTER),
            (A.ACCEPT, TARGET),
            (A.ANSWER, TARGET),
            (A.CLOSE, REQUESTER),
        ]:
            state = transition(state, action, party)
        assert state == CLOSED


class TestForbiddenTransitions:
    """Every other combination of the full product is refused with a stable reason."""

    @pytest.mark.parametrize("case", REFUSED, ids=ids)
    def test_refused(self, case: tuple[ProofRequestState, Action, Party]) -> None:
        state, action, party = case
        expected = PermissionDenied if party not in ACTION_PARTIES[action] else InvalidState
        with pytest.raises(expected) as caught:
            transition(state, action, party)
        assert type(caught.value) is expected
        assert caught.value.metadata == {
            "state": states_module.state_name(state),
            "action": action.value,
            "party": party.value,
        }
        assert action not in allowed_actions(state, party)

    def test_the_product_is_split_exactly(self) -> None:
        assert len(ALLOWED) == len(EXPECTED) == 16
        assert len(ALLOWED) + len(REFUSED) == len(STATES) * len(Action) * len(Party)

    def test_a_requester_answering_is_denied_permission(self) -> None:
        with pytest.raises(PermissionDenied) as caught:
            transition(ACCEPTED, A.ANSWER, REQUESTER)
        assert caught.value.reason == common_pb2.ROLE_NOT_ALLOWED
        assert to_status_proto(caught.value).code == grpc.StatusCode.PERMISSION_DENIED.value[0]
        assert "target or system" in caught.value.message

    def test_answering_a_withdrawn_request_is_a_failed_precondition(self) -> None:
        with pytest.raises(InvalidState) as caught:
            transition(WITHDRAWN, A.ANSWER, TARGET)
        assert caught.value.reason_name == "INVALID_STATE"
        assert to_status_proto(caught.value).code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
        assert "WITHDRAWN is final" in caught.value.message

    def test_answering_twice_is_a_failed_precondition(self) -> None:
        with pytest.raises(InvalidState, match="ANSWERED proof request cannot be answered"):
            transition(ANSWERED, A.ANSWER, TARGET)

    def test_an_officer_must_accept_before_answering(self) -> None:
        with pytest.raises(InvalidState, match="the target may: accept, reject, ask_for_more_info"):
            transition(SUBMITTED, A.ANSWER, TARGET)

    @pytest.mark.parametrize("state", [proofs_pb2.PROOF_REQUEST_STATE_UNSPECIFIED, 99])
    def test_a_damaged_state_is_invalid_state(self, state: int) -> None:
        with pytest.raises(InvalidState, match="is not valid"):
            transition(cast(ProofRequestState, state), A.CLOSE, REQUESTER)


class TestProperties:
    """Invariants of any walk through the machine."""

    @given(st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(list(Party)))))
    def test_any_walk_stays_in_states_and_never_leaves_a_final_one(
        self, steps: list[tuple[Action, Party]]
    ) -> None:
        state = INITIAL_STATE
        for action, party in steps:
            try:
                new = transition(state, action, party)
            except (InvalidState, PermissionDenied):
                continue
            assert not final(state)
            assert new in STATES
            state = new

    @given(st.lists(st.sampled_from(list(Action)), max_size=20))
    def test_the_answer_comes_at_most_once_per_walk_through_answered(
        self, actions: list[Action]
    ) -> None:
        state, answers = INITIAL_STATE, 0
        for action in actions:
            party = next(iter(ACTION_PARTIES[action]))
            try:
                new = transition(state, action, party)
            except (InvalidState, PermissionDenied):
                continue
            answers += new == ANSWERED
            state = new
        assert answers <= 1


class TestParties:
    """Which side a department is on; after acceptance only the answering department is target."""

    CENTRE = "11350181MB1234505L"
    HOUSING = "11350181MB12345671"
    RESOURCES = "11350181MB1234504H"

    def parties(self, department: str, answering: str = "") -> frozenset[Party]:
        return parties_of(
            department,
            requesting_department=self.CENTRE,
            target_departments=[self.HOUSING, self.RESOURCES],
            answering_department=answering,
        )

    def test_before_acceptance_every_target_department(self) -> None:
        assert self.parties(self.CENTRE) == {REQUESTER}
        assert self.parties(self.HOUSING) == {TARGET}
        assert self.parties(self.RESOURCES) == {TARGET}
        assert self.parties("11350181MB12345018") == frozenset()

    def test_after_acceptance_only_the_answering_department(self) -> None:
        assert self.parties(self.HOUSING, answering=self.HOUSING) == {TARGET}
        assert self.parties(self.RESOURCES, answering=self.HOUSING) == frozenset()

    def test_a_department_asking_itself_is_both(self) -> None:
        both = parties_of(
            self.HOUSING,
            requesting_department=self.HOUSING,
            target_departments=[self.HOUSING],
            answering_department="",
        )
        assert both == {REQUESTER, TARGET}


class TestMarkdownTable:
    """The rendered table is the module docstring's and reads back as the table."""

    def test_the_docstring_holds_the_rendering(self) -> None:
        assert states_module.__doc__ is not None
        assert transition_table_markdown() in states_module.__doc__

    def test_it_reads_back_as_the_table(self) -> None:
        rows = transition_table_markdown().splitlines()
        assert rows[:2] == ["| from | action | by | to |", "|---|---|---|---|"]
        parsed = {}
        for row in rows[2:]:
            match = re.fullmatch(r"\| (\w+) \| (\w+) \| (\w+) \| (\w+) \|", row)
            assert match is not None, row
            state, action, party, to_state = match.groups()
            parsed[(ProofRequestState.Value(f"PROOF_REQUEST_STATE_{state}"), Action(action))] = (
                ProofRequestState.Value(f"PROOF_REQUEST_STATE_{to_state}"),
                Party(party),
            )
        assert parsed == EXPECTED


# --- canonical JSON and the request hash -------------------------------------------


class TestCanonicalJson:
    """RFC 8785 (JCS) on the subset the request hash uses, against the RFC's own examples."""

    def test_rfc8785_section_3_2_3_sorting(self) -> None:
        # RFC 8785 section 3.2.3: members sorted by UTF-16 code units; the expected
        # order is the RFC's list of property names in hex.
        value = {
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\U0001f600": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis",
        }
        expected = (
            '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
            '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
            '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        )
        assert canonical_json(value) == expected.encode("utf-8")

    def test_rfc8785_section_3_2_2_strings_and_literals(self) -> None:
        # RFC 8785 section 3.2.2's input and output, without its "numbers" member
        # (floats are refused here on purpose).
        value = {
            "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
            "literals": [None, True, False],
        }
        expected = '{"literals":[null,true,false],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        assert canonical_json(value) == expected.encode("utf-8")

    def test_floats_and_unsafe_integers_are_refused(self) -> None:
        with pytest.raises(TypeError):
            canonical_json({"a": 1.5})
        with pytest.raises(TypeError):
            canonical_json([2**53])
        assert canonical_json([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"

    @given(
        st.recursive(
            st.none() | st.booleans() | st.text() | st.integers(-(2**53 - 1), 2**53 - 1),
            lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
            max_leaves=20,
        )
    )
    def test_output_is_json_of_the_same_value(self, value: object) -> None:
        encoded = canonical_json(value)
        assert json.loads(encoded) == value
        assert canonical_json(json.loads(encoded)) == encoded


# Pinned once from this implementation; the JSON text below is what was hashed, so a
# verifier elsewhere can check both the encoding and the digest.
REQUEST = {
    "request_id": "pr-01J9Z3K8Q4",
    "proof_item_code": "construction-drawing-review.verification",
    "requesting_department": "11350181MB1234505L",
    "holder_token": "o:k5vq3xg7m2c4rj6t8yb2wd5nfa",
    "case_reference": "FQ-2026-0914-000123",
}
CREATED = dt.datetime(2026, 9, 14, 2, 5, 30, tzinfo=dt.UTC)
CANONICAL = (
    '{"case_reference":"FQ-2026-0914-000123","created_at":"2026-09-14T02:05:30Z",'
    '"holder":"o:k5vq3xg7m2c4rj6t8yb2wd5nfa",'
    '"proof_item_code":"construction-drawing-review.verification",'
    '"request_id":"pr-01J9Z3K8Q4","requesting_department":"11350181MB1234505L",'
    '"type":"certfree.proofs.v1.ProofRequest"}'
)
DIGEST = "8830058f55ff6a0759ce4ae194aff5ef116b0ddff48e8758cd1f29b7e5f2752a"
DIGEST_MILLIS_IN_SHANGHAI = "8ffe19a5d12a21822e649a5e8c7b0321965298d2147fd479c5b620755c308d78"
DIGEST_NANOS = "abb44f2dc28f6682f455082d8f076374d60b28586402f41b154c0bde140bed7b"


class TestRequestHash:
    """The request hash is SHA-256 of the documented canonical JSON, pinned."""

    def test_pinned_vector(self) -> None:
        assert hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest() == DIGEST
        assert request_sha256(**REQUEST, created_at=CREATED).hex() == DIGEST

    def test_created_at_in_any_zone_is_the_same_instant(self) -> None:
        shanghai = dt.timezone(dt.timedelta(hours=8))
        created = dt.datetime(2026, 9, 14, 10, 5, 30, 123000, tzinfo=shanghai)
        assert request_sha256(**REQUEST, created_at=created).hex() == DIGEST_MILLIS_IN_SHANGHAI
        assert request_sha256(**REQUEST, created_at=CREATED.astimezone(shanghai)).hex() == DIGEST

    def test_a_protobuf_timestamp_keeps_its_nanoseconds(self) -> None:
        stamp = timestamp_pb2.Timestamp(seconds=int(CREATED.timestamp()), nanos=123456789)
        assert request_sha256(**REQUEST, created_at=stamp).hex() == DIGEST_NANOS
        whole = timestamp_pb2.Timestamp(seconds=int(CREATED.timestamp()))
        assert request_sha256(**REQUEST, created_at=whole).hex() == DIGEST

    @pytest.mark.parametrize("field", sorted(REQUEST))
    def test_every_field_is_bound(self, field: str) -> None:
        changed = dict(REQUEST, **{field: REQUEST[field] + "0"})
        assert request_sha256(**changed, created_at=CREATED).hex() != DIGEST

    def test_the_time_is_bound(self) -> None:
        later = CREATED + dt.timedelta(microseconds=1)
        assert request_sha256(**REQUEST, created_at=later).hex() != DIGEST

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="time zone"):
            request_sha256(**REQUEST, created_at=dt.datetime(2026, 9, 14, 2, 5, 30))
