"""Who takes part in the demo, and whom it is about.

The shipped sample catalogue's departments, license type and proof items that the
scenarios use (and that :meth:`~certfree.demo.core.Demo.prepare_catalogue` creates
when missing), the parties that call the gateway as a department and role, and the
synthetic holders: well-formed identifiers that no living person or company holds,
printed only masked.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.holders import resident_id_check_character, uscc_check_character
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER

# --- who takes part (the shipped sample catalogue's departments) ---------------------

CENTRE = (
    "11350181MB1234505L"  # 福清市行政服务中心管理委员会: the window, and the catalogue operator
)
HOUSING = "11350181MB12345671"  # 福清市住房和城乡建设局
MARKET = "11350181MB12345018"  # 福清市市场监督管理局
EFFICIENCY = "11350181MB1234506P"  # 福清市机关效能建设领导小组办公室: supervision and audit
QUANZHOU_CENTRE = "11350500MB0234506U"  # 泉州市行政服务中心管理委员会

BUSINESS_LICENSE = "11100000000013127D001"  # 营业执照
BUSINESS_CLAIMS: dict[str, str] = {
    "name": "福清示例贸易有限公司",
    "type": "有限责任公司",
    "legal_representative": "示例法定代表人",
    "established_on": "2024-03-01",
    "business_scope": "日用百货销售",
    "address": "福建省福清市示例路1号",
}
"""The claims of the synthetic companies' business licenses (the type's mandatory ones)."""
DRAWING_REVIEW_VERIFICATION = "construction-drawing-review.verification"
DRAWING_REVIEW_COMMITMENT = "construction-drawing-review.accept-with-gaps"
BUSINESS_LICENSE_EXISTENCE = "business-license.existence"

NEEDED_DEPARTMENTS = (CENTRE, HOUSING, MARKET, EFFICIENCY, QUANZHOU_CENTRE)
NEEDED_LICENSE_TYPES = (BUSINESS_LICENSE,)
NEEDED_PROOF_ITEMS = (
    DRAWING_REVIEW_VERIFICATION,
    DRAWING_REVIEW_COMMITMENT,
    BUSINESS_LICENSE_EXISTENCE,
)


@dataclass(frozen=True)
class Party:
    """A caller of the gateway: a department, a role and a staff number."""

    department: str
    """The department's USCC."""
    role: str
    """The role acted in (clerk, officer, issuer, auditor, operator)."""
    subject: str
    """The staff number or system name (never a person's name)."""

    def headers(self) -> dict[str, str]:
        """The development identity headers that name this caller."""
        return {
            DEPARTMENT_HEADER: self.department,
            ROLE_HEADER: self.role,
            SUBJECT_HEADER: self.subject,
        }


WINDOW_CLERK = Party(CENTRE, "clerk", "window-07")
OPERATOR = Party(CENTRE, "operator", "catalogue-admin")
HOUSING_OFFICER = Party(HOUSING, "officer", "zjj-officer-031")
MARKET_ISSUER = Party(MARKET, "issuer", "scjg-registry-02")
AUDITOR = Party(EFFICIENCY, "auditor", "xny-auditor-05")
QUANZHOU_CLERK = Party(QUANZHOU_CENTRE, "clerk", "qz-window-12")

# --- synthetic holders ---------------------------------------------------------------


def synthetic_resident_id(number: int) -> str:
    """A well-formed resident ID no living person holds: Fuqing's region code, born
    1900-01-01, sequence `number` (0-999), with its MOD 11-2 check character."""
    first17 = f"35018119000101{number:03d}"
    return first17 + resident_id_check_character(first17)


def synthetic_uscc(number: int) -> str:
    """A well-formed enterprise USCC (91, Fuqing's region) with its GB 32100 check character."""
    first17 = f"91350181MA{number:07d}"
    return first17 + uscc_check_character(first17)


def mask(identifier: str) -> str:
    """A holder identifier as the demo prints it: region, stars, last four."""
    return identifier[:6] + "*" * (len(identifier) - 10) + identifier[-4:]
