"""The proof catalogue: item rules, the catalogue file, the shipped sample, data-sharing rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import InvalidArgument
from services.licenses.catalog import Seed, load_seed
from services.proofs.catalog import (
    CatalogError,
    Catalogue,
    RuleResult,
    check_proof_item,
    evaluate_rule,
    load_catalog,
    proof_item_problems,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "services" / "proofs" / "catalog.yaml"
LICENSE_SAMPLE = ROOT / "services" / "licenses" / "catalog.yaml"

HOUSING_BUREAU = "11350181MB12345671"
BUSINESS_LICENSE = "11100000000013127D001"
RESIDENT_ID_LIKE = "11010519491231002X"  # GB 11643's example: never in an error


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The shipped sample, loaded once."""
    return load_catalog(SAMPLE)


@pytest.fixture(scope="module")
def licenses() -> Seed:
    """The licenses sample the proofs sample must fit."""
    return load_seed(LICENSE_SAMPLE)


def item(**fields: Any) -> proofs_pb2.ProofItem:
    """A valid department_verification item, with `fields` replaced (protobuf JSON names)."""
    document: dict[str, Any] = {
        "code": "construction-drawing-review.verification",
        "name": "施工图设计文件审查合格证明",
        "route": "PROOF_ROUTE_DEPARTMENT_VERIFICATION",
        "legal_basis": "《建设工程质量管理条例》第十一条",
        "authoritative_departments": [HOUSING_BUREAU],
        "holder_kinds": ["HOLDER_KIND_ORGANISATION"],
        "answer_claims": [
            {"name": "certificate_number", "title": "编号", "type": "CLAIM_TYPE_STRING"},
            {"name": "passed_on", "title": "审查合格日期", "type": "CLAIM_TYPE_DATE"},
        ],
        "deadline": {"working_time": "7200s"},
        "warning_before": "1800s",
    }
    document.update(fields)
    document = {key: value for key, value in document.items() if value is not None}
    return json_format.ParseDict(document, proofs_pb2.ProofItem())


def sharing_item(rule: dict[str, Any], **fields: Any) -> proofs_pb2.ProofItem:
    """A data_sharing item with `rule`."""
    return item(route="PROOF_ROUTE_DATA_SHARING", data_sharing=rule, **fields)


def fields_of(problems: list[Any]) -> set[str]:
    """The field paths of some FieldViolations."""
    return {problem.field for problem in problems}


def refusal(candidate: proofs_pb2.ProofItem) -> InvalidArgument:
    """The error check_proof_item raises for `candidate`."""
    with pytest.raises(InvalidArgument) as caught:
        check_proof_item(candidate)
    return caught.value


def condition(claim: str, operator: str, value: Any = None) -> dict[str, Any]:
    """A ClaimCondition as protobuf JSON."""
    document: dict[str, Any] = {"claim": claim, "operator": f"CLAIM_OPERATOR_{operator}"}
    if value is not None:
        document["value"] = value
    return document


def rule(*conditions: dict[str, Any], **answer_from: str) -> proofs_pb2.DataSharingRule:
    """A DataSharingRule for the business license."""
    return json_format.ParseDict(
        {
            "license_type_code": BUSINESS_LICENSE,
            "conditions": list(conditions),
            "answer_claims_from": answer_from,
        },
        proofs_pb2.DataSharingRule(),
    )


class TestShippedSample:
    """The sample catalogue loads, covers the four routes and fits the licenses sample."""

    def test_it_loads_with_every_route(self, catalogue: Catalogue) -> None:
        routes = {i.route for i in catalogue.proof_items}
        assert routes == {
            proofs_pb2.PROOF_ROUTE_CANCELLED,
            proofs_pb2.PROOF_ROUTE_DATA_SHARING,
            proofs_pb2.PROOF_ROUTE_COMMITMENT,
            proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION,
        }

    def test_the_fuqing_items_are_there(self, catalogue: Catalogue) -> None:
        names = {(i.name, i.route) for i in catalogue.proof_items}
        assert ("居住证明", proofs_pb2.PROOF_ROUTE_CANCELLED) in names
        assert ("户籍证明", proofs_pb2.PROOF_ROUTE_DATA_SHARING) in names
        assert (
            "施工图设计文件审查合格证明",
            proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION,
        ) in names
        assert ("不动产登记证明", proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION) in names
        assert ("婚姻状况证明", proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION) in names
        gaps = catalogue.by_code("construction-drawing-review.accept-with-gaps")
        assert gaps is not None and gaps.commitment.HasField("fulfil_within")
        assert catalogue.by_code("no-such-item") is None

    def test_every_department_is_a_department_of_the_licenses_sample(
        self, catalogue: Catalogue, licenses: Seed
    ) -> None:
        known = {d.code: d for d in licenses.departments}
        for proof_item in catalogue.proof_items:
            for code in proof_item.authoritative_departments:
                assert code in known, (proof_item.code, code)
                assert common_pb2.ROLE_OFFICER in known[code].roles
                assert known[code].region_code == "350181"

    def test_every_rule_uses_a_license_type_and_claims_of_the_licenses_sample(
        self, catalogue: Catalogue, licenses: Seed
    ) -> None:
        types = {t.code: t for t in licenses.license_types}
        for proof_item in catalogue.proof_items:
            if not proof_item.HasField("data_sharing"):
                continue
            sharing = proof_item.data_sharing
            assert sharing.license_type_code in types, proof_item.code
            license_type = types[sharing.license_type_code]
            schema = {c.name: c for c in license_type.claims}
            answers = {c.name: c for c in proof_item.answer_claims}
            for claim_condition in sharing.conditions:
                assert claim_condition.claim in schema, (proof_item.code, claim_condition.claim)
            for answer_name, license_name in sharing.answer_claims_from.items():
                assert license_name in schema, (proof_item.code, license_name)
                # The answer claim has the type of the claim it is copied from.
                assert answers[answer_name].type == schema[license_name].type
            assert set(proof_item.holder_kinds) <= set(license_type.holder_kinds)

    def test_answered_items_have_deadlines_and_immediate_ones_none(
        self, catalogue: Catalogue
    ) -> None:
        for proof_item in catalogue.proof_items:
            waits_for_a_department = (
                proof_item.route == proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION
                or proof_item.data_sharing.fall_back_to_department
            )
            assert proof_item.HasField("deadline") == waits_for_a_department, proof_item.code

    def test_the_sample_rules_answer_real_licenses(self, catalogue: Catalogue) -> None:
        business = catalogue.by_code("business-license.existence")
        assert business is not None
        result = evaluate_rule(
            business.data_sharing,
            {
                "name": "福清市永裕来齿轮有限公司",
                "type": "有限责任公司(自然人投资或控股)",
                "legal_representative": "林某某",
                "established_on": "2015-06-18",
                "business_scope": "齿轮制造",
                "address": "福建省福州市福清市融侨经济技术开发区",
            },
        )
        assert result.matched
        assert dict(result.answer_claims) == {
            "name": "福清市永裕来齿轮有限公司",
            "entity_type": "有限责任公司(自然人投资或控股)",
            "legal_representative": "林某某",
            "established_on": "2015-06-18",
        }
        catering = catalogue.by_code("catering-permit.proof")
        assert catering is not None
        shop = {"main_business_format": "食品销售经营者", "permit_number": "JY13501810000001"}
        assert not evaluate_rule(catering.data_sharing, shop).matched
        canteen = dict(shop, main_business_format="单位食堂")
        assert evaluate_rule(catering.data_sharing, canteen).matched

    def test_the_same_catalogue_as_json_loads_the_same(
        self, tmp_path: Path, catalogue: Catalogue
    ) -> None:
        document = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
        path = tmp_path / "catalog.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        assert load_catalog(path) == catalogue


class TestItemRules:
    """Rules protovalidate cannot express, each refused on its field."""

    def test_a_valid_item_passes(self) -> None:
        check_proof_item(item())
        assert proof_item_problems(item()) == []

    def test_protovalidate_rules_are_applied_too(self) -> None:
        error = refusal(item(deadline=None))
        assert error.reason_name == "INVALID_FIELD"
        assert any("has a deadline" in v.description for v in error.field_violations)

    def test_bad_department_check_character(self) -> None:
        error = refusal(item(authoritative_departments=["11350181MB12345672"]))
        assert fields_of(list(error.field_violations)) == {
            "proof_item.authoritative_departments[0]"
        }
        assert "check character" in error.field_violations[0].description

    def test_duplicate_answer_claims(self) -> None:
        claim = {"name": "passed_on", "title": "日期", "type": "CLAIM_TYPE_DATE"}
        problems = proof_item_problems(item(answer_claims=[claim, claim]))
        assert fields_of(problems) == {"answer_claims[1].name"}

    def test_a_cancelled_item_carries_no_deadline_nor_claims(self) -> None:
        cancelled = item(route="PROOF_ROUTE_CANCELLED")
        assert fields_of(proof_item_problems(cancelled)) == {
            "deadline",
            "warning_before",
            "answer_claims",
        }
        clean = item(
            route="PROOF_ROUTE_CANCELLED", deadline=None, warning_before=None, answer_claims=[]
        )
        check_proof_item(clean)

    def test_a_rule_or_terms_only_on_their_route(self) -> None:
        stray = item(
            data_sharing={"license_type_code": BUSINESS_LICENSE},
            commitment={"text": "本人承诺属实"},
        )
        assert fields_of(proof_item_problems(stray)) == {"data_sharing", "commitment"}

    def test_a_warning_needs_a_deadline(self) -> None:
        problems = proof_item_problems(item(route="PROOF_ROUTE_COMMITMENT", deadline=None))
        assert "warning_before" in fields_of(problems)

    def test_answer_claims_from_keys_must_be_answer_claims(self) -> None:
        candidate = sharing_item(
            {
                "license_type_code": BUSINESS_LICENSE,
                "answer_claims_from": {"passed_on": "established_on", "address": "address"},
            }
        )
        problems = proof_item_problems(candidate)
        assert fields_of(problems) == {"data_sharing.answer_claims_from['address']"}

    def test_the_license_type_authority_needs_a_valid_uscc(self) -> None:
        candidate = sharing_item({"license_type_code": "11100000000013127E001"})
        assert fields_of(proof_item_problems(candidate)) == {"data_sharing.license_type_code"}

    def test_falling_back_needs_departments_and_a_deadline(self) -> None:
        candidate = sharing_item(
            {"license_type_code": BUSINESS_LICENSE, "fall_back_to_department": True},
            authoritative_departments=[],
            deadline=None,
            warning_before=None,
        )
        assert fields_of(proof_item_problems(candidate)) == {
            "authoritative_departments",
            "deadline",
        }

    @pytest.mark.parametrize(
        ("operator", "value"),
        [
            ("PRESENT", "x"),
            ("EQUALS", None),  # protovalidate's value_required reports it
            ("EQUALS", [1]),
            ("EQUALS", {"a": 1}),
            ("NOT_EQUALS", []),
            ("IN", "a"),
            ("IN", []),
            ("IN", [["nested"]]),
            ("GREATER_OR_EQUAL", "soon"),
            ("GREATER_OR_EQUAL", True),
            ("LESS_OR_EQUAL", "2026-02-30"),
            ("LESS_OR_EQUAL", "2026-01-01T00:00:00"),  # no offset
        ],
    )
    def test_condition_values_typed_for_their_operator(self, operator: str, value: Any) -> None:
        candidate = sharing_item(
            {
                "license_type_code": BUSINESS_LICENSE,
                "conditions": [condition("established_on", operator, value)],
            }
        )
        error = refusal(candidate)
        assert any(
            v.field.startswith("proof_item.data_sharing.conditions[0]")
            for v in error.field_violations
        )

    @pytest.mark.parametrize(
        ("operator", "value"),
        [
            ("PRESENT", None),
            ("EQUALS", "有限责任公司"),
            ("EQUALS", 3),
            ("NOT_EQUALS", False),
            ("IN", ["a", 1, True]),
            ("GREATER_OR_EQUAL", 100.5),
            ("GREATER_OR_EQUAL", "2020-01-01"),
            ("LESS_OR_EQUAL", "2026-01-01T00:00:00+08:00"),
        ],
    )
    def test_well_typed_condition_values_pass(self, operator: str, value: Any) -> None:
        candidate = sharing_item(
            {
                "license_type_code": BUSINESS_LICENSE,
                "conditions": [condition("established_on", operator, value)],
            }
        )
        check_proof_item(candidate)

    def test_a_non_finite_number_is_refused(self) -> None:
        candidate = sharing_item({"license_type_code": BUSINESS_LICENSE})
        bad = candidate.data_sharing.conditions.add(
            claim="x", operator=proofs_pb2.CLAIM_OPERATOR_GREATER_OR_EQUAL
        )
        bad.value.number_value = float("nan")
        assert fields_of(proof_item_problems(candidate)) == {"data_sharing.conditions[0].value"}


class TestCatalogFile:
    """A bad file is refused whole, each problem naming file, item, code and field."""

    def write(self, tmp_path: Path, document: Any, suffix: str = ".yaml") -> Path:
        path = tmp_path / f"catalog{suffix}"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        return path

    def sample(self) -> dict[str, Any]:
        return copy.deepcopy(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))

    def test_problems_name_file_item_code_and_field(self, tmp_path: Path) -> None:
        document = self.sample()
        document["proof_items"][0]["deadline"] = {"working_days": 1}
        document["proof_items"][2]["data_sharing"]["answer_claims_from"]["nickname"] = "name"
        path = self.write(tmp_path, document)
        with pytest.raises(CatalogError) as caught:
            load_catalog(path)
        assert caught.value.problems == (
            f"{path}: proof_items[0] (residence-proof.cancelled).deadline: "
            "a cancelled item carries no deadline: nobody has to answer it",
            f"{path}: proof_items[2] (business-license.existence)"
            ".data_sharing.answer_claims_from['nickname']: "
            "nickname is not one of the item's answer_claims",
        )

    def test_duplicate_codes(self, tmp_path: Path) -> None:
        document = self.sample()
        document["proof_items"].append(document["proof_items"][0])
        with pytest.raises(CatalogError, match=r"duplicate code residence-proof.cancelled"):
            load_catalog(self.write(tmp_path, document))

    def test_output_only_fields(self, tmp_path: Path) -> None:
        document = self.sample()
        document["proof_items"][1]["revision"] = 3
        with pytest.raises(CatalogError, match=r"proof_items\[1\] .*\.revision: output only"):
            load_catalog(self.write(tmp_path, document))

    def test_an_unparsable_field_is_located(self, tmp_path: Path) -> None:
        document = self.sample()
        document["proof_items"][3]["route"] = "PROOF_ROUTE_BY_POST"
        with pytest.raises(
            CatalogError, match=r"proof_items\[3\] \(household-registration.proof\)\.route"
        ):
            load_catalog(self.write(tmp_path, document))

    def test_unknown_top_level_key_and_bad_shapes(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogError, match="unknown key"):
            load_catalog(self.write(tmp_path, {"proof_items": [], "items": []}))
        with pytest.raises(CatalogError, match="must be a list"):
            load_catalog(self.write(tmp_path, {"proof_items": {"a": 1}}))
        with pytest.raises(CatalogError, match="top level"):
            load_catalog(self.write(tmp_path, ["x"]))
        with pytest.raises(CatalogError, match=r"proof_items\[0\]: must be a mapping"):
            load_catalog(self.write(tmp_path, {"proof_items": ["x"]}))

    def test_unreadable_and_malformed_files(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogError, match="cannot be read"):
            load_catalog(tmp_path / "missing.yaml")
        broken = tmp_path / "broken.json"
        broken.write_text("{", encoding="utf-8")
        with pytest.raises(CatalogError, match="not JSON"):
            load_catalog(broken)
        bad_yaml = tmp_path / "broken.yaml"
        bad_yaml.write_text("proof_items: [", encoding="utf-8")
        with pytest.raises(CatalogError, match="not YAML"):
            load_catalog(bad_yaml)

    def test_an_empty_catalogue_is_allowed(self, tmp_path: Path) -> None:
        assert load_catalog(self.write(tmp_path, {"proof_items": []})) == Catalogue(())


class TestEvaluateRule:
    """Each operator, missing claims, type mismatches, and the copied answer claims."""

    CLAIMS: ClassVar[dict[str, Any]] = {
        "name": "福清市永裕来齿轮有限公司",
        "type": "有限责任公司(自然人投资或控股)",
        "established_on": "2015-06-18",
        "registered_capital_wan": 500,
        "endorsed_at": "2026-03-01T09:30:00+08:00",
        "listed": False,
        "business_items": ["热食类食品制售"],
        "empty": None,
    }

    @pytest.mark.parametrize(
        ("claim", "operator", "value", "matched"),
        [
            ("name", "PRESENT", None, True),
            ("absent", "PRESENT", None, False),
            ("empty", "PRESENT", None, False),
            ("type", "EQUALS", "有限责任公司(自然人投资或控股)", True),
            ("type", "EQUALS", "个体工商户", False),
            ("registered_capital_wan", "EQUALS", 500.0, True),
            ("listed", "EQUALS", False, True),
            ("listed", "EQUALS", 0, False),
            ("registered_capital_wan", "EQUALS", "500", False),
            ("endorsed_at", "EQUALS", "2026-03-01T01:30:00Z", True),
            ("type", "NOT_EQUALS", "个体工商户", True),
            ("type", "NOT_EQUALS", "有限责任公司(自然人投资或控股)", False),
            ("absent", "NOT_EQUALS", "x", False),
            ("type", "IN", ["个体工商户", "有限责任公司(自然人投资或控股)"], True),
            ("type", "IN", ["个体工商户"], False),
            ("registered_capital_wan", "IN", [100, 500], True),
            ("registered_capital_wan", "GREATER_OR_EQUAL", 500, True),
            ("registered_capital_wan", "GREATER_OR_EQUAL", 500.5, False),
            ("registered_capital_wan", "LESS_OR_EQUAL", 500, True),
            ("registered_capital_wan", "LESS_OR_EQUAL", 499.99, False),
            ("established_on", "GREATER_OR_EQUAL", "2015-06-18", True),
            ("established_on", "GREATER_OR_EQUAL", "2015-06-19", False),
            ("established_on", "LESS_OR_EQUAL", "2020-01-01", True),
            ("endorsed_at", "GREATER_OR_EQUAL", "2026-03-01T01:30:00Z", True),
            ("endorsed_at", "GREATER_OR_EQUAL", "2026-03-01T01:30:00.000001Z", False),
            ("endorsed_at", "LESS_OR_EQUAL", "2026-03-01T09:00:00+07:00", True),
            ("established_on", "GREATER_OR_EQUAL", "2015-06-18T00:00:00Z", False),
            ("established_on", "GREATER_OR_EQUAL", 2015, False),
            ("name", "GREATER_OR_EQUAL", "A", False),
            ("business_items", "EQUALS", "热食类食品制售", False),
        ],
    )
    def test_operators(self, claim: str, operator: str, value: Any, matched: bool) -> None:
        result = evaluate_rule(rule(condition(claim, operator, value)), self.CLAIMS)
        assert result.matched is matched
        if not matched:
            assert result.failed_condition == 0
            assert result.failed_claim == claim
            assert result.reason

    def test_the_first_failing_condition_is_reported(self) -> None:
        result = evaluate_rule(
            rule(
                condition("name", "PRESENT"),
                condition("type", "EQUALS", "个体工商户"),
                condition("absent", "PRESENT"),
            ),
            self.CLAIMS,
        )
        assert result == RuleResult(
            matched=False,
            failed_condition=1,
            failed_claim="type",
            reason="the claim does not equal the value",
        )

    def test_no_condition_matches_any_license(self) -> None:
        assert evaluate_rule(rule(), {}).matched

    def test_answer_claims_are_copied_and_missing_ones_left_out(self) -> None:
        result = evaluate_rule(
            rule(
                condition("name", "PRESENT"),
                name="name",
                entity_type="type",
                operating_term_until="operating_term_until",
            ),
            self.CLAIMS,
        )
        assert dict(result.answer_claims) == {
            "name": "福清市永裕来齿轮有限公司",
            "entity_type": "有限责任公司(自然人投资或控股)",
        }

    def test_nothing_is_copied_when_not_matched(self) -> None:
        result = evaluate_rule(rule(condition("absent", "PRESENT"), name="name"), self.CLAIMS)
        assert dict(result.answer_claims) == {}

    def test_reasons_never_quote_values(self) -> None:
        claims = {"holder_id": RESIDENT_ID_LIKE}
        for operator, value in [
            ("EQUALS", "x"),
            ("IN", ["x"]),
            ("NOT_EQUALS", RESIDENT_ID_LIKE),
            ("GREATER_OR_EQUAL", 1),
        ]:
            result = evaluate_rule(rule(condition("holder_id", operator, value)), claims)
            assert not result.matched
            assert RESIDENT_ID_LIKE not in repr(result)
            assert "x" not in result.reason.replace("excluded", "")

    @given(st.integers(-(2**53), 2**53), st.integers(-(2**53), 2**53))
    def test_comparisons_agree_with_number_order(self, claim: int, bound: int) -> None:
        claims = {"n": claim}
        ge = evaluate_rule(rule(condition("n", "GREATER_OR_EQUAL", float(bound))), claims)
        le = evaluate_rule(rule(condition("n", "LESS_OR_EQUAL", float(bound))), claims)
        assert ge.matched == (claim >= float(bound))
        assert le.matched == (claim <= float(bound))

    @given(st.dates(), st.dates())
    def test_comparisons_agree_with_date_order(self, claim: Any, bound: Any) -> None:
        claims = {"d": claim.isoformat()}
        ge = evaluate_rule(rule(condition("d", "GREATER_OR_EQUAL", bound.isoformat())), claims)
        assert ge.matched == (claim >= bound)

    @given(st.text(max_size=5), st.lists(st.text(max_size=5), max_size=4))
    def test_in_is_membership(self, claim: str, options: list[str]) -> None:
        condition_message = proofs_pb2.ClaimCondition(
            claim="s", operator=proofs_pb2.CLAIM_OPERATOR_IN
        )
        condition_message.value.list_value.extend(options)
        rule_message = proofs_pb2.DataSharingRule(license_type_code=BUSINESS_LICENSE)
        rule_message.conditions.append(condition_message)
        assert evaluate_rule(rule_message, {"s": claim}).matched == (claim in options)

    def test_values_from_a_protobuf_struct(self) -> None:
        """Claims decoded from a Struct arrive with numbers as floats; integers compare equal."""
        struct = struct_pb2.Struct()
        struct.update({"registered_capital_wan": 500})
        claims = json_format.MessageToDict(struct)
        assert evaluate_rule(rule(condition("registered_capital_wan", "IN", [500])), claims).matched
