"""The license catalogue: claim schemas, issuer authority, the seed file and the shipped sample."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from google.rpc import error_details_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import claims
from runtime.errors import InvalidArgument, PermissionDenied, to_status_proto
from runtime.holders import check_uscc
from services.licenses import catalog
from services.licenses.catalog import (
    Seed,
    SeedError,
    check_authority,
    check_claims,
    load_seed,
)

# The two departments tests/conftest.py names (its module is not imported: it is
# not written for mypy --strict).
MARKET_REGULATION = "11350100MB01234565"
HOUSING_BUREAU = "11350181MB12345671"

SAMPLE = Path(__file__).resolve().parent.parent / "services" / "licenses" / "catalog.yaml"

# A resident-ID-shaped string (GB 11643's own example, 11010519491231002X): it
# must never appear in an error a claim check raises.
RESIDENT_ID_LIKE = "11010519491231002X"

BUSINESS_LICENSE_CLAIMS: dict[str, Any] = {
    "name": "福清市永裕来齿轮有限公司",
    "type": "有限责任公司(自然人投资或控股)",
    "legal_representative": "林某某",
    "registered_capital": "500万元人民币",
    "established_on": "2015-06-18",
    "business_scope": "齿轮及齿轮减、变速箱制造;齿轮及齿轮减、变速箱销售。",
    "address": "福建省福州市福清市融侨经济技术开发区",
}


# --- helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Seed:
    """The shipped sample, loaded once."""
    return load_seed(SAMPLE)


def by_name(seed: Seed, name: str) -> licenses_pb2.LicenseType:
    """The sample's license type called `name`."""
    return next(t for t in seed.license_types if t.name == name)


def sample_document() -> dict[str, Any]:
    """A fresh copy of the sample file's parsed YAML, to break on purpose."""
    document: dict[str, Any] = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    return copy.deepcopy(document)


def write(tmp_path: Path, document: Any, name: str = "catalog.yaml") -> Path:
    """`document` written as YAML (or JSON for a .json name) under `tmp_path`."""
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def seed_problems(path: Path) -> tuple[str, ...]:
    """The problems load_seed reports for `path` (it must refuse it)."""
    with pytest.raises(SeedError) as refused:
        load_seed(path)
    assert str(refused.value) == "\n".join(refused.value.problems)
    return refused.value.problems


def refusals(license_type: licenses_pb2.LicenseType, claims: dict[str, Any]) -> dict[str, str]:
    """check_claims' field violations for `claims`, as field -> description."""
    with pytest.raises(InvalidArgument) as refused:
        check_claims(license_type, claims)
    found = {v.field: v.description for v in refused.value.field_violations}
    assert len(found) == len(refused.value.field_violations)
    return found


# --- the shipped sample -------------------------------------------------------------


class TestShippedSample:
    """The sample catalogue loads, validates and describes the two deployments' licenses."""

    def test_it_has_the_required_license_types(self, seed: Seed) -> None:
        """Every license type the sample must hold is there, once."""
        names = [t.name for t in seed.license_types]
        for name in (
            "营业执照",
            "建筑工程施工许可证",
            "结婚证",
            "居住证",
            "施工图设计文件审查合格书",
            "不动产权证书",
            "食品经营许可证",
        ):
            assert names.count(name) == 1

    def test_it_keeps_the_departments_the_tests_use(self, seed: Seed) -> None:
        """The market regulator and the housing bureau of conftest keep their codes."""
        departments = {d.code: d for d in seed.departments}
        assert "市场监督管理局" in departments[MARKET_REGULATION].name
        assert "住房和城乡建设局" in departments[HOUSING_BUREAU].name
        assert departments[HOUSING_BUREAU].region_code == "350181"

    def test_departments_are_from_fuqing_and_quanzhou(self, seed: Seed) -> None:
        """Each issuing bureau and the service centre exist in Fuqing and in Quanzhou."""
        names = {d.name for d in seed.departments}
        for city in ("福清市", "泉州市"):
            for unit in (
                "市场监督管理局",
                "住房和城乡建设局",
                "民政局",
                "公安局",
                "自然资源和规划局",
                "行政服务中心管理委员会",
            ):
                assert city + unit in names

    def test_every_code_is_a_valid_uscc_in_its_region(self, seed: Seed) -> None:
        """Every department and defining-authority code passes GB 32100, region in positions 3-8."""
        for department in seed.departments:
            check_uscc(department.code, "code")
            assert department.code[:2] == "11"
            assert department.code[2:8] == department.region_code
        for license_type in seed.license_types:
            check_uscc(license_type.code[:18], "code")
            assert license_type.code[18:].isdigit()

    def test_the_business_license_code_is_the_contracts_example(self, seed: Seed) -> None:
        """营业执照 carries the code licenses.proto gives as its example."""
        assert by_name(seed, "营业执照").code == "11100000000013127D001"

    def test_issuers_have_the_issuer_role_and_centres_issue_nothing(self, seed: Seed) -> None:
        """Issuers are departments with role issuer; the service centres only take in."""
        departments = {d.code: d for d in seed.departments}
        issuing = {code for t in seed.license_types for code in t.issuer_departments}
        for code in issuing:
            assert common_pb2.ROLE_ISSUER in departments[code].roles
        for department in seed.departments:
            if "行政服务中心" in department.name:
                assert department.code not in issuing
                assert common_pb2.ROLE_INTAKE_SYSTEM in department.roles

    def test_claims_are_snake_case_with_chinese_titles(self, seed: Seed) -> None:
        """Claim names are lower_snake_case English; titles are Chinese."""
        for license_type in seed.license_types:
            for claim in license_type.claims:
                assert claim.name.replace("_", "").isascii()
                assert claim.name == claim.name.lower()
                assert any("\u4e00" <= char <= "\u9fff" for char in claim.title)

    def test_holder_kinds(self, seed: Seed) -> None:
        """Businesses hold business licenses; persons hold marriage and residence certificates."""
        organisation, person = common_pb2.HOLDER_KIND_ORGANISATION, common_pb2.HOLDER_KIND_PERSON
        assert list(by_name(seed, "营业执照").holder_kinds) == [organisation]
        assert list(by_name(seed, "结婚证").holder_kinds) == [person]
        assert list(by_name(seed, "居住证").holder_kinds) == [person]
        assert set(by_name(seed, "不动产权证书").holder_kinds) == {person, organisation}

    def test_validity_periods(self, seed: Seed) -> None:
        """The business license never expires; food licences last 5 years, residence permits 1."""
        assert not by_name(seed, "营业执照").HasField("default_validity")
        assert by_name(seed, "食品经营许可证").default_validity.seconds == 5 * 365 * 86400
        assert by_name(seed, "居住证").default_validity.seconds == 365 * 86400
        assert by_name(seed, "建筑工程施工许可证").default_validity.seconds == 90 * 86400

    def test_business_license_schema(self, seed: Seed) -> None:
        """营业执照 carries its printed fields, the founding date as a DATE."""
        claims = {c.name: c for c in by_name(seed, "营业执照").claims}
        assert set(BUSINESS_LICENSE_CLAIMS) <= set(claims)
        assert claims["established_on"].type == common_pb2.CLAIM_TYPE_DATE
        assert claims["legal_representative"].title == "法定代表人"
        assert claims["name"].required

    def test_a_real_business_license_fits(self, seed: Seed) -> None:
        """A business license as printed passes the schema unchanged."""
        business_license = by_name(seed, "营业执照")
        assert check_claims(business_license, BUSINESS_LICENSE_CLAIMS) == BUSINESS_LICENSE_CLAIMS

    def test_the_same_catalogue_as_json_loads_the_same(self, tmp_path: Path, seed: Seed) -> None:
        """The JSON form of the sample gives the same entries as the YAML."""
        loaded = load_seed(write(tmp_path, sample_document(), "catalog.json"))
        assert loaded == seed


# --- check_claims -------------------------------------------------------------------


class TestRequiredAndUnknownClaims:
    """Missing required claims and claims outside the schema are refused by name."""

    def test_missing_required_claim_names_it(self, seed: Seed) -> None:
        """Leaving out 住所 is refused on claims.address."""
        claims = dict(BUSINESS_LICENSE_CLAIMS)
        del claims["address"]
        found = refusals(by_name(seed, "营业执照"), claims)
        assert list(found) == ["claims.address"]
        assert "required" in found["claims.address"]

    def test_optional_claim_may_be_missing(self, seed: Seed) -> None:
        """注册资本 is optional (sole traders have none)."""
        claims = dict(BUSINESS_LICENSE_CLAIMS)
        del claims["registered_capital"]
        assert check_claims(by_name(seed, "营业执照"), claims) == claims

    def test_claim_outside_the_schema_names_it(self, seed: Seed) -> None:
        """A claim the type does not define is refused on its own field."""
        found = refusals(by_name(seed, "营业执照"), {**BUSINESS_LICENSE_CLAIMS, "nickname": "x"})
        assert found == {"claims.nickname": "outside the schema"}

    def test_a_name_that_could_be_personal_data_is_not_echoed(self, seed: Seed) -> None:
        """A claim key that is no claim name (a resident ID, say) is refused without quoting it."""
        with pytest.raises(InvalidArgument) as refused:
            check_claims(
                by_name(seed, "营业执照"), {**BUSINESS_LICENSE_CLAIMS, RESIDENT_ID_LIKE: "x"}
            )
        assert [v.field for v in refused.value.field_violations] == ["claims"]
        assert RESIDENT_ID_LIKE not in repr(to_status_proto(refused.value))

    def test_every_problem_is_reported_at_once(self, seed: Seed) -> None:
        """A missing claim, an unknown one and a mistyped one come back in one error."""
        claims = {**BUSINESS_LICENSE_CLAIMS, "established_on": 2015, "extra": True}
        del claims["name"]
        found = refusals(by_name(seed, "营业执照"), claims)
        assert set(found) == {"claims.name", "claims.extra", "claims.established_on"}

    def test_refusal_becomes_a_bad_request_with_each_field(self, seed: Seed) -> None:
        """The error reaches clients as INVALID_ARGUMENT with a BadRequest naming the fields."""
        with pytest.raises(InvalidArgument) as refused:
            check_claims(by_name(seed, "营业执照"), {"name": 1})
        status = to_status_proto(refused.value)
        assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        bad_request = error_details_pb2.BadRequest()
        assert status.details[1].Unpack(bad_request)
        fields = {v.field for v in bad_request.field_violations}
        assert {"claims.name", "claims.address", "claims.established_on"} <= fields


class TestClaimsThroughAStruct:
    """License claims that travelled in a protobuf Struct check out against their type."""

    def test_the_claim_limits_are_still_the_catalogues(self) -> None:
        """The limits moved to runtime.claims remain importable from the catalogue."""
        assert catalog.DEFAULT_MAX_LENGTH == claims.DEFAULT_MAX_LENGTH == 1000
        assert catalog.MAX_CLAIMS_BYTES == claims.MAX_CLAIMS_BYTES
        assert catalog.MAX_SAFE_INTEGER == claims.MAX_SAFE_INTEGER

    def test_through_a_protobuf_struct(self, seed: Seed) -> None:
        """Claims that travelled in a Struct check out with 合同工期 as an int again."""
        permit = by_name(seed, "建筑工程施工许可证")
        claims: dict[str, Any] = {
            "permit_number": "350181202405110101",
            "construction_unit": "福清市某某置业有限公司",
            "project_name": "某某花园一期",
            "construction_address": "福清市音西街道",
            "construction_scale": "总建筑面积52000平方米",
            "contract_price": 12800.5,
            "design_unit": "福建省某某建筑设计院有限公司",
            "construction_contractor": "福建某某建工集团有限公司",
            "contract_duration_days": 730,
        }
        struct = struct_pb2.Struct()
        struct.update(claims)
        travelled = json_format.MessageToDict(struct)
        assert type(travelled["contract_duration_days"]) is float
        result = check_claims(permit, travelled)
        assert result == claims
        assert type(result["contract_duration_days"]) is int


# --- check_authority ----------------------------------------------------------------


class TestCheckAuthority:
    """Outside the list there is no power: only a type's issuer departments may issue it."""

    def test_listed_department_may_issue(self, seed: Seed) -> None:
        """The market regulator issues business licenses, the housing bureau building permits."""
        check_authority(by_name(seed, "营业执照"), MARKET_REGULATION)
        check_authority(by_name(seed, "建筑工程施工许可证"), HOUSING_BUREAU)

    def test_unlisted_department_is_refused_outside_authority(self, seed: Seed) -> None:
        """The housing bureau may not issue business licenses: OUTSIDE_AUTHORITY."""
        business_license = by_name(seed, "营业执照")
        with pytest.raises(PermissionDenied) as refused:
            check_authority(business_license, HOUSING_BUREAU)
        error = refused.value
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
        assert error.reason == common_pb2.OUTSIDE_AUTHORITY
        assert error.reason_name == "OUTSIDE_AUTHORITY"
        assert HOUSING_BUREAU in error.message
        assert business_license.code in error.message
        assert "营业执照" in error.message
        info = error_details_pb2.ErrorInfo()
        assert to_status_proto(error).details[0].Unpack(info)
        assert info.reason == "OUTSIDE_AUTHORITY"
        assert info.metadata["license_type_code"] == business_license.code

    def test_the_service_centre_issues_nothing(self, seed: Seed) -> None:
        """The service centre takes in applications but may issue no license type."""
        centre = next(d.code for d in seed.departments if d.name == "福清市行政服务中心管理委员会")
        for license_type in seed.license_types:
            with pytest.raises(PermissionDenied):
                check_authority(license_type, centre)


# --- load_seed refusals --------------------------------------------------------------


class TestSeedRefusals:
    """A bad seed is refused with every problem naming the file, the entry and the field."""

    def test_bad_uscc_check_character(self, tmp_path: Path) -> None:
        """A department code with a wrong check character names departments[i].code."""
        document = sample_document()
        code = document["departments"][3]["code"]
        document["departments"][3]["code"] = code[:17] + ("0" if code[17] != "0" else "1")
        problems = seed_problems(write(tmp_path, document))
        assert f"{tmp_path / 'catalog.yaml'}: departments[3].code: " in problems[0]
        assert "check character" in problems[0]

    def test_bad_issuer_uscc(self, tmp_path: Path) -> None:
        """An issuer code failing GB 32100 names license_types[i].issuer_departments[j]."""
        document = sample_document()
        document["license_types"][4]["issuer_departments"][1] = "11350181MB1234502A"
        (problem,) = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: license_types[4].issuer_departments[1]: " in problem
        assert "check character" in problem

    def test_bad_type_code_authority(self, tmp_path: Path) -> None:
        """A type code whose first 18 characters are no valid USCC names license_types[i].code."""
        document = sample_document()
        document["license_types"][0]["code"] = "11100000000013127A001"
        (problem,) = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: license_types[0].code: " in problem

    def test_unknown_issuer_department(self, tmp_path: Path) -> None:
        """An issuer that is a valid USCC but no department of the file is named."""
        document = sample_document()
        document["license_types"][1]["issuer_departments"].append("91350100M000100Y43")
        (problem,) = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: license_types[1].issuer_departments[3]: " in problem
        assert "not a department of this file" in problem

    def test_issuer_without_issuer_role(self, tmp_path: Path) -> None:
        """A type may not name the service centre, which lacks role issuer, as issuer."""
        document = sample_document()
        centre = next(d["code"] for d in document["departments"] if "行政服务中心" in d["name"])
        document["license_types"][0]["issuer_departments"].append(centre)
        (problem,) = seed_problems(write(tmp_path, document))
        assert "license_types[0].issuer_departments[3]: " in problem
        assert "ROLE_ISSUER" in problem

    def test_duplicate_department_code(self, tmp_path: Path) -> None:
        """A department listed twice names the second entry and the first."""
        document = sample_document()
        document["departments"].append(dict(document["departments"][2]))
        last = len(document["departments"]) - 1
        (problem,) = seed_problems(write(tmp_path, document))
        assert f"catalog.yaml: departments[{last}].code: duplicate" in problem
        assert "departments[2]" in problem

    def test_duplicate_license_type_code(self, tmp_path: Path) -> None:
        """A license type code used twice names the second entry."""
        document = sample_document()
        document["license_types"][3]["code"] = document["license_types"][2]["code"]
        (problem,) = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: license_types[3].code: duplicate" in problem

    def test_duplicate_claim_name(self, tmp_path: Path) -> None:
        """A claim defined twice in one type names the second."""
        document = sample_document()
        claims = document["license_types"][0]["claims"]
        claims.append(dict(claims[0]))
        (problem,) = seed_problems(write(tmp_path, document))
        assert f"license_types[0].claims[{len(claims) - 1}].name: duplicate" in problem

    def test_malformed_yaml_names_the_file_and_line(self, tmp_path: Path) -> None:
        """YAML that does not parse is refused with the file and the line."""
        path = tmp_path / "catalog.yaml"
        path.write_text('departments:\n  - code: ["11350100MB01234565"\n    name: x\n')
        (problem,) = seed_problems(path)
        assert problem.startswith(f"{path}: line ")
        assert "not YAML" in problem

    def test_malformed_json_names_the_file_and_line(self, tmp_path: Path) -> None:
        """JSON that does not parse is refused with the file and the line."""
        path = tmp_path / "catalog.json"
        path.write_text('{"departments": [\n  {"code": }\n]}')
        (problem,) = seed_problems(path)
        assert problem.startswith(f"{path}: line 2, column ")

    def test_entry_that_is_not_a_mapping(self, tmp_path: Path) -> None:
        """A list item that is a string instead of an entry is named."""
        document = sample_document()
        document["departments"][1] = "福清市民政局"
        problems = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: departments[1]: must be a mapping of fields" in problems[0]

    def test_wrong_top_level_shape(self, tmp_path: Path) -> None:
        """A top level that is a list, an unknown key or a list that is a mapping is refused."""
        assert "top level" in seed_problems(write(tmp_path, [1, 2]))[0]
        (problem,) = seed_problems(write(tmp_path, {**sample_document(), "proof_items": []}))
        assert "catalog.yaml: proof_items: unknown key" in problem
        (problem,) = seed_problems(write(tmp_path, {"departments": {"a": 1}}))
        assert "catalog.yaml: departments: must be a list" in problem
        twice = {**sample_document(), "licenseTypes": []}
        (problem,) = seed_problems(write(tmp_path, twice))
        assert "license_types given twice" in problem

    def test_a_list_field_given_a_string(self, tmp_path: Path) -> None:
        """issuer_departments given as one code instead of a list names the field."""
        document = sample_document()
        document["license_types"][2]["issuer_departments"] = MARKET_REGULATION
        (problem,) = seed_problems(write(tmp_path, document))
        assert problem.endswith("catalog.yaml: license_types[2].issuer_departments: must be a list")

    def test_bad_enum_names_the_nested_field(self, tmp_path: Path) -> None:
        """An unknown claim type names license_types[i].claims[j].type."""
        document = sample_document()
        document["license_types"][2]["claims"][0]["type"] = "CLAIM_TYPE_MONEY"
        (problem,) = seed_problems(write(tmp_path, document))
        assert problem.startswith(f"{tmp_path / 'catalog.yaml'}: license_types[2].claims[0].type: ")
        assert "CLAIM_TYPE_MONEY" in problem

    def test_unknown_field_names_the_nested_field(self, tmp_path: Path) -> None:
        """A field the contract does not have is named where it stands."""
        document = sample_document()
        document["license_types"][1]["claims"][2]["format"] = "date"
        (problem,) = seed_problems(write(tmp_path, document))
        assert "catalog.yaml: license_types[1].claims[2].format: unknown field" in problem

    def test_bad_list_item_and_duration(self, tmp_path: Path) -> None:
        """A bad role names departments[i].roles[j]; a bad duration names default_validity."""
        document = sample_document()
        document["departments"][0]["roles"][1] = "ROLE_MAYOR"
        document["license_types"][1]["default_validity"] = "5y"
        problems = seed_problems(write(tmp_path, document))
        assert any("catalog.yaml: departments[0].roles[1]: " in p for p in problems)
        assert any("catalog.yaml: license_types[1].default_validity: " in p for p in problems)

    def test_protovalidate_rules_name_the_field(self, tmp_path: Path) -> None:
        """A claim name breaking the contract's pattern and an empty claims list are named."""
        document = sample_document()
        document["license_types"][5]["claims"][1]["name"] = "HolderName"
        document["license_types"][6]["claims"] = []
        document["departments"][4]["region_code"] = "3501"
        problems = seed_problems(write(tmp_path, document))
        assert any("license_types[5].claims[1].name: " in p for p in problems)
        assert any("license_types[6].claims: " in p for p in problems)
        assert any("departments[4].region_code: " in p for p in problems)

    def test_output_only_fields_are_refused(self, tmp_path: Path) -> None:
        """A seed may not set revision or updated_at."""
        document = sample_document()
        document["license_types"][0]["revision"] = 3
        document["departments"][0]["updatedAt"] = "2024-05-11T00:00:00Z"
        problems = seed_problems(write(tmp_path, document))
        assert any("license_types[0].revision: output only" in p for p in problems)
        assert any("departments[0].updated_at: output only" in p for p in problems)

    def test_every_problem_is_reported(self, tmp_path: Path) -> None:
        """Three independent mistakes give three problems in one error."""
        document = sample_document()
        document["departments"][0]["name"] = ""
        document["license_types"][3]["holder_kinds"] = []
        document["license_types"][0]["claims"][0]["type"] = "STRING"
        assert len(seed_problems(write(tmp_path, document))) == 3

    def test_unreadable_or_unknown_files(self, tmp_path: Path) -> None:
        """A missing file and an unknown extension are refused naming the file."""
        missing = tmp_path / "missing.yaml"
        assert seed_problems(missing)[0].startswith(f"{missing}: cannot read")
        text = tmp_path / "catalog.txt"
        text.write_text("departments: []\n")
        assert seed_problems(text)[0].startswith(f"{text}: unknown seed format")


class TestSeedShape:
    """The documented shape: JSON field names in lowerCamelCase or snake_case, enums by name."""

    def test_camel_and_snake_case_give_the_same_entry(self, tmp_path: Path) -> None:
        """regionCode and region_code, holderKinds and holder_kinds are the same fields."""
        snake = {
            "departments": [
                {
                    "code": MARKET_REGULATION,
                    "name": "福州市市场监督管理局",
                    "region_code": "350100",
                    "roles": ["ROLE_ISSUER"],
                }
            ],
            "license_types": [
                {
                    "code": "11100000000013127D001",
                    "name": "营业执照",
                    "holder_kinds": ["HOLDER_KIND_ORGANISATION"],
                    "claims": [
                        {
                            "name": "name",
                            "title": "名称",
                            "type": "CLAIM_TYPE_STRING",
                            "required": True,
                            "max_length": 200,
                        }
                    ],
                    "default_validity": "86400s",
                    "issuer_departments": [MARKET_REGULATION],
                }
            ],
        }
        camel = {
            "departments": [
                {
                    "code": MARKET_REGULATION,
                    "name": "福州市市场监督管理局",
                    "regionCode": "350100",
                    "roles": ["ROLE_ISSUER"],
                }
            ],
            "licenseTypes": [
                {
                    "code": "11100000000013127D001",
                    "name": "营业执照",
                    "holderKinds": ["HOLDER_KIND_ORGANISATION"],
                    "claims": [
                        {
                            "name": "name",
                            "title": "名称",
                            "type": "CLAIM_TYPE_STRING",
                            "required": True,
                            "maxLength": 200,
                        }
                    ],
                    "defaultValidity": "86400s",
                    "issuerDepartments": [MARKET_REGULATION],
                }
            ],
        }
        from_snake = load_seed(write(tmp_path, snake, "snake.yaml"))
        from_camel = load_seed(write(tmp_path, camel, "camel.json"))
        assert from_snake == from_camel
        assert from_snake.departments[0].region_code == "350100"
        assert from_snake.license_types[0].claims[0].max_length == 200

    def test_an_empty_file_is_refused(self, tmp_path: Path) -> None:
        """An empty YAML document is no catalogue."""
        path = tmp_path / "catalog.yml"
        path.write_text("")
        assert "top level" in seed_problems(path)[0]

    def test_seed_is_a_frozen_value(self, seed: Seed) -> None:
        """A Seed cannot be rebound after loading."""
        with pytest.raises(AttributeError):
            seed.departments = []  # type: ignore[misc]
