"""IETF Token Status List: the draft's examples and test vectors, round trips, token checks."""

from __future__ import annotations

import base64
import json
import random
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.signing import ALGORITHMS, generate_signer
from services.licenses.status import (
    REVOKED,
    STATUS_LIST_BITS,
    SUSPENDED,
    WITHDRAWN,
    status_list_value,
)
from services.licenses.status_list import (
    MAX_LIST_BYTES,
    TOKEN_TYPE,
    StatusList,
    StatusListError,
    StatusReference,
    check_token_claims,
    parse_status_claim,
    status_claim,
    token_claims,
    token_header,
)

# draft-ietf-oauth-status-list, section 4 ("Status List"): the byte arrays and the JSON
# encodings of its two worked examples (examples/status_list_encoding_json and
# examples/status_list_encoding2_json in github.com/oauth-wg/draft-ietf-oauth-status-list).
DRAFT_1BIT_STATUSES = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
DRAFT_1BIT_BYTES = bytes([0xB9, 0xA3])
DRAFT_1BIT_LST = "eNrbuRgAAhcBXQ"
DRAFT_2BIT_STATUSES = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
DRAFT_2BIT_BYTES = bytes([0xC9, 0x44, 0xF9])
DRAFT_2BIT_LST = "eNo76fITAAPfAgc"

# The draft's appendix "Test vectors for Status List encoding": lists of 2^20 entries,
# all 0 but those named (examples/status_list_encoding{1_long,2_long,4}_json).
VECTOR_SIZE = 2**20
VECTOR_1BIT = {
    0: 1,
    1993: 1,
    25460: 1,
    159495: 1,
    495669: 1,
    554353: 1,
    645645: 1,
    723232: 1,
    854545: 1,
    934534: 1,
    1000345: 1,
}
VECTOR_1BIT_LST = (
    "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE"
    "AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA"
    "A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA"
    "ACAZC8L2AEb"
)
VECTOR_2BIT = {
    0: 1,
    1993: 2,
    25460: 1,
    159495: 3,
    495669: 1,
    554353: 1,
    645645: 2,
    723232: 1,
    854545: 1,
    934534: 2,
    1000345: 3,
}
VECTOR_2BIT_LST = (
    "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGV"
    "IAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9S"
    "wIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw"
)
VECTOR_4BIT = {
    0: 1,
    1993: 2,
    35460: 3,
    459495: 4,
    595669: 5,
    754353: 6,
    845645: 7,
    923232: 8,
    924445: 9,
    934534: 10,
    1004534: 11,
    1000345: 12,
    1030203: 13,
    1030204: 14,
    1030205: 15,
}
VECTOR_4BIT_LST = (
    "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li"
    "1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAA"
    "AjsA9xMBMA"
)

DRAFT_VECTORS = [
    (1, VECTOR_1BIT, VECTOR_1BIT_LST),
    (2, VECTOR_2BIT, VECTOR_2BIT_LST),
    (4, VECTOR_4BIT, VECTOR_4BIT_LST),
]

# The draft's example Status List Token (section 8.2, examples/status_list_jwt_raw),
# as served; its signature is the draft's, checked by no one here.
DRAFT_TOKEN = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEyIiwidHlwIjoic3RhdHVzbGlzdCtqd3QifQ.e"
    "yJleHAiOjIyOTE3MjAxNzAsImlhdCI6MTY4NjkyMDE3MCwiaXNzIjoiaHR0cHM6Ly9le"
    "GFtcGxlLmNvbSIsInN0YXR1c19saXN0Ijp7ImJpdHMiOjEsImxzdCI6ImVOcmJ1UmdBQ"
    "WhjQlhRIn0sInN1YiI6Imh0dHBzOi8vZXhhbXBsZS5jb20vc3RhdHVzbGlzdHMvMSIsI"
    "nR0bCI6NDMyMDB9.2lKUUNG503R9htu4aHAYi7vjmr3sgApbfoDvPrl65N3URUO1EYqq"
    "Ql45Jfzd-Av4QzlKa3oVALpLwOEUOq-U_g"
)
DRAFT_URI = "https://example.com/statuslists/1"

URI = "https://licenses.example.gov.cn/v1/departments/11350100MB01234565/status-lists/1"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BASE64URL_NO_PADDING = re.compile(r"[A-Za-z0-9_-]+")


def b64url(raw: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def json_part(part: str) -> Any:
    """Decode one base64url JSON part of a compact JWS."""
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def list_with(statuses: dict[int, int], size: int, bits: int) -> StatusList:
    """A list of `size` entries, all 0 but `statuses`."""
    status_list = StatusList(size, bits)
    for index, value in statuses.items():
        status_list.set(index, value)
    return status_list


def from_values(values: list[int], bits: int) -> StatusList:
    """A list whose first entries are `values`."""
    return list_with(dict(enumerate(values)), len(values), bits)


def signed_claims(**changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a good token for URI at NOW, with `changes` applied to the claims."""
    status_list = from_values([0, 2, 1], 4)
    claims = token_claims(
        status_list,
        uri=URI,
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(days=1),
        ttl=timedelta(hours=1),
    )
    claims.update(changes)
    return token_header(alg="EdDSA", kid="k1"), claims


class TestDraftExamples:
    """The draft's two worked examples decode to its statuses and encode back."""

    @pytest.mark.parametrize(
        ("bits", "lst", "raw", "statuses"),
        [
            (1, DRAFT_1BIT_LST, DRAFT_1BIT_BYTES, DRAFT_1BIT_STATUSES),
            (2, DRAFT_2BIT_LST, DRAFT_2BIT_BYTES, DRAFT_2BIT_STATUSES),
        ],
        ids=["1-bit", "2-bit"],
    )
    def test_draft_lst_decodes_to_draft_statuses(
        self, bits: int, lst: str, raw: bytes, statuses: list[int]
    ) -> None:
        """Decoding the draft's exact lst gives its byte array and its statuses."""
        decoded = StatusList.decode({"bits": bits, "lst": lst})
        assert decoded.to_bytes() == raw
        assert len(decoded) == len(statuses)
        assert [decoded.get(i) for i in range(len(decoded))] == statuses

    @pytest.mark.parametrize(
        ("bits", "raw", "statuses"),
        [(1, DRAFT_1BIT_BYTES, DRAFT_1BIT_STATUSES), (2, DRAFT_2BIT_BYTES, DRAFT_2BIT_STATUSES)],
        ids=["1-bit", "2-bit"],
    )
    def test_setting_draft_statuses_packs_draft_bytes(
        self, bits: int, raw: bytes, statuses: list[int]
    ) -> None:
        """Setting the draft's statuses one by one gives its bytes, LSB first."""
        built = from_values(statuses, bits)
        assert built.to_bytes() == raw
        assert StatusList.decode(built.encode()) == built
        assert StatusList.decode(built.encode()).to_bytes() == raw

    def test_json_shape(self) -> None:
        """encode gives exactly bits and an unpadded base64url lst."""
        encoded = from_values(DRAFT_1BIT_STATUSES, 1).encode()
        assert set(encoded) == {"bits", "lst"}
        assert encoded["bits"] == 1
        assert BASE64URL_NO_PADDING.fullmatch(encoded["lst"])
        # The draft's compressed bytes start with a ZLIB header, as RFC 1950 requires.
        assert base64.urlsafe_b64decode(DRAFT_1BIT_LST + "==")[:1] == b"\x78"

    def test_draft_status_claim_parses(self) -> None:
        """The draft's referenced-token example names entry 0 of its list."""
        reference = parse_status_claim({"status_list": {"idx": 0, "uri": DRAFT_URI}})
        assert reference == StatusReference(0, DRAFT_URI)

    def test_draft_token_claims_pass(self) -> None:
        """The draft's example Status List Token passes the claim checks and holds its list."""
        header_part, payload_part, _ = DRAFT_TOKEN.split(".")
        header, payload = json_part(header_part), json_part(payload_part)
        assert header["typ"] == TOKEN_TYPE
        received = check_token_claims(header, payload, uri=DRAFT_URI, now=NOW)
        assert received == StatusList.decode({"bits": 1, "lst": DRAFT_1BIT_LST})
        assert received.get(0) == 1 and received.get(1) == 0


class TestDraftTestVectors:
    """The draft's appendix test vectors: 2^20 entries of 1, 2 and 4 bits."""

    @pytest.mark.parametrize(("bits", "statuses", "lst"), DRAFT_VECTORS, ids=["1", "2", "4"])
    def test_vector_decodes_to_its_statuses(
        self, bits: int, statuses: dict[int, int], lst: str
    ) -> None:
        """The draft's lst holds 2^20 entries, 0 except the ones it names."""
        decoded = StatusList.decode({"bits": bits, "lst": lst})
        assert len(decoded) == VECTOR_SIZE
        assert dict(decoded.nonzero()) == statuses
        for index, value in statuses.items():
            assert decoded.get(index) == value

    @pytest.mark.parametrize(("bits", "statuses", "lst"), DRAFT_VECTORS, ids=["1", "2", "4"])
    def test_our_encoding_decodes_equal(
        self, bits: int, statuses: dict[int, int], lst: str
    ) -> None:
        """Our list of the same statuses equals the draft's once both are decoded."""
        ours = list_with(statuses, VECTOR_SIZE, bits)
        draft = StatusList.decode({"bits": bits, "lst": lst})
        assert ours == draft
        assert StatusList.decode(ours.encode()) == draft


class TestPacking:
    """Entries pack from the least significant bit up and never disturb their neighbours."""

    def test_four_bit_entries_share_a_byte_low_nibble_first(self) -> None:
        """Entry 0 is the low nibble of byte 0 and entry 1 the high nibble."""
        status_list = StatusList(4, 4)
        status_list.set(0, 0x1)
        status_list.set(1, 0xE)
        status_list.set(3, 0xC)
        assert status_list.to_bytes() == bytes([0xE1, 0xC0])

    def test_eight_bit_entries_are_whole_bytes(self) -> None:
        """With 8 bits each entry is one byte."""
        assert from_values([0x00, 0x7F, 0xFF], 8).to_bytes() == bytes([0x00, 0x7F, 0xFF])

    @pytest.mark.parametrize(("size", "bits", "length"), [(10, 1, 16), (3, 2, 4), (1, 4, 2)])
    def test_size_rounds_up_to_whole_bytes(self, size: int, bits: int, length: int) -> None:
        """A list holds as many entries as its bytes do, which a verifier also sees."""
        status_list = StatusList(size, bits)
        assert len(status_list) == length
        assert len(StatusList.decode(status_list.encode())) == length

    @given(
        st.sampled_from([1, 2, 4, 8]).flatmap(
            lambda bits: st.tuples(
                st.just(bits),
                st.lists(st.integers(0, 2**bits - 1), min_size=1, max_size=64),
                st.data(),
            )
        )
    )
    def test_set_changes_only_its_entry(self, case: tuple[int, list[int], st.DataObject]) -> None:
        """Overwriting one entry leaves every other entry as it was."""
        bits, values, data = case
        status_list = from_values(values, bits)
        index = data.draw(st.integers(0, len(values) - 1))
        value = data.draw(st.integers(0, 2**bits - 1))
        status_list.set(index, value)
        expected = [*values[:index], value, *values[index + 1 :]]
        assert [status_list.get(i) for i in range(len(values))] == expected

    @pytest.mark.parametrize("bits", [1, 2, 4, 8])
    def test_value_too_wide_is_refused(self, bits: int) -> None:
        """A value that does not fit in the list's bits is a ValueError."""
        status_list = StatusList(8, bits)
        with pytest.raises(ValueError, match="does not fit"):
            status_list.set(0, 2**bits)
        with pytest.raises(ValueError, match="does not fit"):
            status_list.set(0, -1)

    def test_index_past_the_end_is_an_index_error(self) -> None:
        """get and set refuse indexes outside the list."""
        status_list = StatusList(8, 1)
        for index in (8, -1):
            with pytest.raises(IndexError):
                status_list.get(index)
            with pytest.raises(IndexError):
                status_list.set(index, 1)

    @pytest.mark.parametrize("bits", [0, 3, 5, 16, True])
    def test_other_widths_are_refused(self, bits: int) -> None:
        """Only 1, 2, 4 and 8 bits are allowed (a JSON true is not 1)."""
        with pytest.raises(ValueError, match="bits must be"):
            StatusList(8, bits)


class TestRoundTrip:
    """Any list survives encode and decode, at every width."""

    @pytest.mark.parametrize("bits", [1, 2, 4, 8])
    @given(data=st.data())
    def test_encode_decode(self, bits: int, data: st.DataObject) -> None:
        """decode(encode(list)) equals the list, entry for entry."""
        values = data.draw(st.lists(st.integers(0, 2**bits - 1), min_size=1, max_size=500))
        status_list = from_values(values, bits)
        encoded = status_list.encode()
        assert BASE64URL_NO_PADDING.fullmatch(encoded["lst"])
        decoded = StatusList.decode(json.loads(json.dumps(encoded)))
        assert decoded == status_list
        assert decoded.bits == bits
        assert [decoded.get(i) for i in range(len(values))] == values
        assert all(decoded.get(i) == 0 for i in range(len(values), len(decoded)))

    @given(st.lists(st.integers(0, 15), min_size=1, max_size=200))
    def test_nonzero_lists_exactly_the_set_entries(self, values: list[int]) -> None:
        """nonzero yields every entry that is not 0, in index order."""
        status_list = from_values(values, 4)
        assert list(status_list.nonzero()) == [(i, v) for i, v in enumerate(values) if v]


class TestScale:
    """A province-sized list stays small on the wire."""

    def test_hundred_thousand_licenses_encode_small(self) -> None:
        """100,000 four-bit entries with 1% non-valid compress far below the raw 50 kB."""
        rng = random.Random(20260301)  # noqa: S311  # a fixed seed for a repeatable list
        status_list = StatusList(100_000, STATUS_LIST_BITS)
        values = [status_list_value(s) for s in (SUSPENDED, REVOKED, WITHDRAWN)]
        changed = {index: rng.choice(values) for index in rng.sample(range(100_000), 1_000)}
        for index, value in changed.items():
            status_list.set(index, value)
        encoded = status_list.encode()
        assert len(status_list.to_bytes()) == 50_000
        assert len(encoded["lst"]) < 5_000
        assert dict(StatusList.decode(encoded).nonzero()) == changed

    def test_all_valid_list_is_tiny(self) -> None:
        """A fresh list of 100,000 licenses, all valid, is a couple of hundred characters."""
        assert len(StatusList(100_000, STATUS_LIST_BITS).encode()["lst"]) < 200


class TestMalformedLists:
    """decode refuses anything but a well-formed JSON Status List, saying why."""

    @pytest.mark.parametrize(
        ("obj", "why"),
        [
            ("not an object", "not a JSON object"),
            ({"lst": DRAFT_1BIT_LST}, "bits is missing"),
            ({"bits": "1", "lst": DRAFT_1BIT_LST}, "bits is missing or not an integer"),
            ({"bits": True, "lst": DRAFT_1BIT_LST}, "not an integer"),
            ({"bits": 3, "lst": DRAFT_1BIT_LST}, "must be 1, 2, 4 or 8"),
            ({"bits": 1}, "lst is missing"),
            ({"bits": 1, "lst": 12}, "lst is missing or not a string"),
            ({"bits": 1, "lst": DRAFT_1BIT_LST + "=="}, "without padding"),
            ({"bits": 1, "lst": "eNrb+RgAAhcBXQ"}, "without padding"),
            ({"bits": 1, "lst": "eNrbu"}, "impossible base64url length"),
            ({"bits": 1, "lst": "eNrbuRgAAhcBXR"}, "not canonical"),
            ({"bits": 1, "lst": ""}, "truncated ZLIB stream"),
        ],
    )
    def test_refused(self, obj: object, why: str) -> None:
        """Each malformed input is a StatusListError naming the problem."""
        with pytest.raises(StatusListError, match=re.escape(why)):
            StatusList.decode(obj)

    def test_raw_deflate_without_zlib_header_is_refused(self) -> None:
        """RFC 1951 data without the RFC 1950 wrapper is not a status list."""
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        raw = deflater.compress(DRAFT_1BIT_BYTES) + deflater.flush()
        with pytest.raises(StatusListError, match="not ZLIB"):
            StatusList.decode({"bits": 1, "lst": b64url(raw)})

    def test_gzip_is_refused(self) -> None:
        """A gzip stream is not the ZLIB format either."""
        gzipper = zlib.compressobj(9, zlib.DEFLATED, 31)
        data = gzipper.compress(DRAFT_1BIT_BYTES) + gzipper.flush()
        with pytest.raises(StatusListError, match="not ZLIB"):
            StatusList.decode({"bits": 1, "lst": b64url(data)})

    def test_truncated_stream_is_refused(self) -> None:
        """A ZLIB stream cut short is refused rather than read in part."""
        data = zlib.compress(bytes(range(256)) * 4, 9)
        with pytest.raises(StatusListError, match="truncated"):
            StatusList.decode({"bits": 8, "lst": b64url(data[:-6])})

    def test_trailing_bytes_are_refused(self) -> None:
        """Bytes after the end of the ZLIB stream are refused."""
        data = zlib.compress(DRAFT_1BIT_BYTES, 9) + b"\x00"
        with pytest.raises(StatusListError, match="after its ZLIB stream"):
            StatusList.decode({"bits": 1, "lst": b64url(data)})

    def test_empty_list_is_refused(self) -> None:
        """A list of no bytes holds no statuses and is refused."""
        with pytest.raises(StatusListError, match="empty"):
            StatusList.decode({"bits": 1, "lst": b64url(zlib.compress(b""))})

    def test_decompression_bomb_is_refused(self) -> None:
        """A small lst that inflates past the limit is refused before it is all inflated."""
        bomb = zlib.compress(bytes(MAX_LIST_BYTES + 1), 9)
        assert len(bomb) < 20_000
        with pytest.raises(StatusListError, match="inflates past"):
            StatusList.decode({"bits": 8, "lst": b64url(bomb)})

    def test_other_members_are_ignored(self) -> None:
        """aggregation_uri and unknown members do not stop decoding."""
        obj = {"bits": 1, "lst": DRAFT_1BIT_LST, "aggregation_uri": "https://example.com/agg"}
        assert StatusList.decode(obj).to_bytes() == DRAFT_1BIT_BYTES


class TestTokenClaims:
    """token_header and token_claims build what the draft's section 5.1 asks for."""

    def test_header(self) -> None:
        """The header carries alg, kid and typ statuslist+jwt."""
        assert token_header(alg="EdDSA", kid="k1") == {
            "alg": "EdDSA",
            "kid": "k1",
            "typ": "statuslist+jwt",
        }

    def test_claims(self) -> None:
        """sub is the URI, times are whole seconds, ttl is seconds, status_list is the JSON."""
        status_list = from_values([0, 2, 1], 4)
        claims = token_claims(
            status_list,
            uri=URI,
            issued_at=NOW,
            expires_at=NOW + timedelta(days=1),
            ttl=timedelta(hours=1),
            issuer="https://licenses.example.gov.cn",
        )
        assert claims == {
            "sub": URI,
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 86_400,
            "ttl": 3_600,
            "status_list": status_list.encode(),
            "iss": "https://licenses.example.gov.cn",
        }

    @pytest.mark.parametrize(
        ("changes", "why"),
        [
            ({"expires_at": NOW}, "expire after"),
            ({"ttl": timedelta(0)}, "ttl"),
            ({"issued_at": datetime(2026, 3, 1, 9, 0)}, "timezone-aware"),
            ({"uri": "statuslists/1"}, "absolute URI"),
        ],
    )
    def test_nonsense_is_refused(self, changes: dict[str, Any], why: str) -> None:
        """Expiry before issue, no ttl, naive times and relative URIs are programming errors."""
        arguments: dict[str, Any] = {
            "uri": URI,
            "issued_at": NOW,
            "expires_at": NOW + timedelta(days=1),
            "ttl": timedelta(hours=1),
        }
        arguments.update(changes)
        with pytest.raises(ValueError, match=why):
            token_claims(StatusList(8, 4), **arguments)

    @pytest.mark.parametrize("alg", ALGORITHMS)
    def test_signed_by_a_department_key_and_checked(self, alg: str) -> None:
        """A token signed through runtime.signing, then verified, passes check_token_claims."""
        signer = generate_signer(alg, "status-2026-1")
        _, claims = signed_claims()
        jws = signer.sign_compact({"typ": TOKEN_TYPE}, json.dumps(claims).encode())
        header, payload = signer.public_key().verify_compact(jws)
        assert header["typ"] == TOKEN_TYPE and header["kid"] == "status-2026-1"
        received = check_token_claims(header, json.loads(payload), uri=URI, now=NOW)
        assert [received.get(i) for i in range(3)] == [0, 2, 1]


class TestCheckTokenClaims:
    """check_token_claims refuses a token that is not the expected, current status list."""

    def test_good_token_passes(self) -> None:
        """A fresh token for the right URI gives back its list."""
        header, claims = signed_claims()
        assert check_token_claims(header, claims, uri=URI, now=NOW) == from_values([0, 2, 1], 4)

    @pytest.mark.parametrize(
        "typ", ["statuslist+jwt", "application/statuslist+jwt", "StatusList+JWT"]
    )
    def test_typ_spellings(self, typ: str) -> None:
        """typ may carry the application/ prefix and any case (RFC 7515 section 4.1.9)."""
        header, claims = signed_claims()
        check_token_claims({**header, "typ": typ}, claims, uri=URI, now=NOW)

    @pytest.mark.parametrize(
        ("header_changes", "why"),
        [
            ({"typ": "JWT"}, "not 'statuslist+jwt'"),
            ({"typ": "vc+sd-jwt"}, "not 'statuslist+jwt'"),
            ({"typ": None}, "no typ"),
            ({"alg": "none"}, "not signed"),
            ({"alg": None}, "not signed"),
        ],
    )
    def test_wrong_header_is_refused(self, header_changes: dict[str, Any], why: str) -> None:
        """A token of another type, or an unsigned one, is refused."""
        header, claims = signed_claims()
        header.update(header_changes)
        header = {k: v for k, v in header.items() if v is not None}
        with pytest.raises(StatusListError, match=re.escape(why)):
            check_token_claims(header, claims, uri=URI, now=NOW)

    @pytest.mark.parametrize(
        ("claim_changes", "why"),
        [
            ({"sub": URI.replace("lists/1", "lists/2")}, "not the list the license names"),
            ({"sub": None}, "no sub"),
            ({"iat": None}, "iat is missing"),
            ({"iat": "yesterday"}, "iat is missing or not a number"),
            ({"iat": True}, "iat is missing or not a number"),
            ({"iat": int(NOW.timestamp()) + 600}, "issued in the future"),
            ({"exp": int(NOW.timestamp())}, "has expired"),
            ({"exp": int(NOW.timestamp()) - 1}, "has expired"),
            ({"exp": "tomorrow"}, "exp is not a number"),
            ({"ttl": 0}, "ttl is not a positive number"),
            ({"ttl": -5}, "ttl is not a positive number"),
            ({"ttl": "1h"}, "ttl is not a positive number"),
            ({"status_list": None}, "no status_list"),
            ({"status_list": {"bits": 4, "lst": "!!"}}, "not base64url"),
            ({"status_list": {"bits": 5, "lst": DRAFT_1BIT_LST}}, "must be 1, 2, 4 or 8"),
        ],
    )
    def test_bad_claims_are_refused(self, claim_changes: dict[str, Any], why: str) -> None:
        """Each broken claim is a StatusListError that names it."""
        header, claims = signed_claims(**claim_changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        with pytest.raises(StatusListError, match=re.escape(why)):
            check_token_claims(header, claims, uri=URI, now=NOW)

    def test_exp_and_ttl_are_optional(self) -> None:
        """The draft only recommends exp and ttl, so a token without them passes."""
        header, claims = signed_claims()
        del claims["exp"], claims["ttl"]
        check_token_claims(header, claims, uri=URI, now=NOW)

    def test_leeway_allows_for_clock_skew(self) -> None:
        """A token just expired, or issued a moment ahead, passes within the leeway."""
        header, claims = signed_claims(exp=int(NOW.timestamp()) - 30, iat=int(NOW.timestamp()) + 30)
        check_token_claims(header, claims, uri=URI, now=NOW, leeway=timedelta(minutes=1))
        with pytest.raises(StatusListError):
            check_token_claims(header, claims, uri=URI, now=NOW)

    def test_payload_not_an_object_is_refused(self) -> None:
        """A payload that is not a JSON object is refused."""
        header, _ = signed_claims()
        with pytest.raises(StatusListError, match="payload is not a JSON object"):
            check_token_claims(header, [], uri=URI, now=NOW)  # type: ignore[arg-type]


class TestStatusClaim:
    """The status claim a license carries is built and read as the draft's section 6 says."""

    def test_builder_shape(self) -> None:
        """status_claim gives {"status_list": {"idx": i, "uri": u}}."""
        assert status_claim(StatusReference(412, URI)) == {"status_list": {"idx": 412, "uri": URI}}

    @given(st.integers(0, 2**53), st.sampled_from([URI, DRAFT_URI, "urn:certfree:list:7"]))
    def test_round_trip(self, idx: int, uri: str) -> None:
        """parse_status_claim reads back what status_claim built, through JSON."""
        claim = json.loads(json.dumps(status_claim(StatusReference(idx, uri))))
        assert parse_status_claim(claim) == StatusReference(idx, uri)

    def test_other_mechanisms_and_members_are_ignored(self) -> None:
        """Members the draft leaves open to other specifications do not stop parsing."""
        claim = {
            "status_list": {"idx": 3, "uri": URI, "extra": True},
            "other_mechanism": {"anything": 1},
        }
        assert parse_status_claim(claim) == StatusReference(3, URI)

    @pytest.mark.parametrize(
        ("claim", "why"),
        [
            ([], "not a JSON object"),
            ({}, "no status_list"),
            ({"status_list": "https://example.com/1"}, "no status_list"),
            ({"status_list": {"uri": URI}}, "idx is missing"),
            ({"status_list": {"idx": -1, "uri": URI}}, "non-negative integer"),
            ({"status_list": {"idx": 1.0, "uri": URI}}, "non-negative integer"),
            ({"status_list": {"idx": "1", "uri": URI}}, "non-negative integer"),
            ({"status_list": {"idx": False, "uri": URI}}, "non-negative integer"),
            ({"status_list": {"idx": 1}}, "uri is missing"),
            ({"status_list": {"idx": 1, "uri": 7}}, "uri is missing"),
            ({"status_list": {"idx": 1, "uri": ""}}, "non-empty"),
            ({"status_list": {"idx": 1, "uri": "/statuslists/1"}}, "absolute URI"),
            ({"status_list": {"idx": 1, "uri": "https:"}}, "absolute URI"),
            ({"status_list": {"idx": 1, "uri": "https://a.example/x y"}}, "spaces"),
        ],
    )
    def test_malformed_claim_is_refused(self, claim: object, why: str) -> None:
        """Each malformed claim is a StatusListError naming the problem."""
        with pytest.raises(StatusListError, match=re.escape(why)):
            parse_status_claim(claim)
