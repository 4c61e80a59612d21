// The clerk console's case bar (the case number and purpose, kept for the tab's session and
// sent with every lookup) and the applicant's licenses: ListHolderLicenses, and VerifyLicense
// per license (verifyInto, also used for the signed answer).

import { api, el, t } from "./app.js";
import { $, departmentName, formatTime, holderRef, mark, names, redraws, showError, showHint } from "./clerk.common.js";

const CASE_KEY = "certfree.clerk.case";
const CASE_REFERENCE = /^[A-Za-z0-9._:/-]{1,64}$/;
const PASSING_CHECKS = new Set(["CHECK_OUTCOME_PASSED", "CHECK_OUTCOME_NOT_APPLICABLE"]);

// --- 1. the case ------------------------------------------------------------------------

export function keptCase() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(CASE_KEY) || "null");
    return kept && kept.caseReference && kept.purpose ? kept : null;
  } catch {
    return null;
  }
}

function drawCase() {
  const kept = keptCase();
  $("case-current").hidden = !kept;
  $("case-form").hidden = Boolean(kept);
  $("needs-case").hidden = Boolean(kept);
  for (const id of ["lookup-submit", "proof-submit", "commit-submit"]) $(id).disabled = !kept;
  if (kept) {
    $("case-current-ref").textContent = kept.caseReference;
    $("case-current-purpose").textContent = kept.purpose;
  }
}

export function setUpCase() {
  $("case-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const caseReference = $("case-ref").value.trim();
    const purpose = $("purpose").value.trim();
    const ok = CASE_REFERENCE.test(caseReference) && purpose.length >= 2 && purpose.length <= 200;
    $("case-ref").setAttribute("aria-invalid", String(!CASE_REFERENCE.test(caseReference)));
    $("purpose").setAttribute("aria-invalid", String(purpose.length < 2));
    if (!ok) {
      $("case-error").textContent = t("clerk.caseInvalid");
      $("case-error").hidden = false;
      return;
    }
    $("case-error").hidden = true;
    sessionStorage.setItem(CASE_KEY, JSON.stringify({ caseReference, purpose }));
    drawCase();
    $("holder-id").focus();
  });
  $("case-change").addEventListener("click", () => {
    const kept = keptCase();
    sessionStorage.removeItem(CASE_KEY);
    if (kept) {
      $("case-ref").value = kept.caseReference;
      $("purpose").value = kept.purpose;
    }
    drawCase();
    $("case-ref").focus();
  });
  drawCase();
}

export function accessPurpose() {
  const kept = keptCase();
  return kept ? { purpose: kept.purpose, caseReference: kept.caseReference } : null;
}

// --- 2. the applicant's licenses ----------------------------------------------------------

function licenseStatus(status) {
  const cls = status === "LICENSE_STATUS_VALID" ? "mark-ok" : status === "LICENSE_STATUS_SUSPENDED" ? "mark-yellow" : "mark-red";
  return mark(cls, t(`license.${status}`));
}

function licenseRow(license) {
  const typeName = names.licenseTypes.get(license.licenseTypeCode) || license.licenseTypeCode;
  const result = el("div", { class: "clerk-verification", "aria-live": "polite" });
  const verify = el("button", {
    type: "button",
    class: "secondary",
    "aria-label": t("clerk.verifyLabel", { type: typeName }),
    text: t("clerk.verify"),
    onclick: () => verifyInto(result, { sdJwt: license.sdJwt }, verify),
  });
  const validity = license.validUntil
    ? t("clerk.validityRange", { from: formatTime(license.validFrom, false), until: formatTime(license.validUntil, false) })
    : t("clerk.noExpiry", { from: formatTime(license.validFrom, false) });
  return [
    el(
      "tr",
      { dataset: { licenseId: license.licenseId } },
      el("th", { scope: "row" }, el("span", { text: typeName }), el("br"), el("code", { class: "clerk-id", text: license.licenseId })),
      el("td", { text: departmentName(license.issuerDepartment) }),
      el("td", {}, licenseStatus(license.status)),
      el("td", { text: validity }),
      el("td", {}, verify),
    ),
    el("tr", { class: "clerk-verification-row" }, el("td", { colspan: "5" }, result)),
  ];
}

/** VerifyLicense `body`, drawn into `into`: the verdict and every check. */
export async function verifyInto(into, body, button) {
  button.disabled = true;
  into.replaceChildren(el("p", { class: "clerk-help", text: t("clerk.verifying") }));
  try {
    const verified = await api("POST", "/v1/licenses:verify", body);
    const rows = (verified.checks || []).map((check) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: t(`check.${check.check}`) }),
        el("td", {}, mark(PASSING_CHECKS.has(check.outcome) ? "mark-ok" : check.outcome === "CHECK_OUTCOME_FAILED" ? "mark-red" : "mark-yellow", t(`checkOutcome.${check.outcome}`))),
        el("td", { text: check.detail || "" }),
      ),
    );
    into.replaceChildren(
      el("p", { class: verified.valid ? "clerk-verdict" : "clerk-verdict error" }, mark(verified.valid ? "mark-ok" : "mark-red", verified.valid ? "✓" : "✗"), " ", t(verified.valid ? "clerk.valid" : "clerk.invalid")),
      el(
        "table",
        { class: "clerk-checks" },
        el("caption", { text: t("clerk.checksCaption") }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("clerk.check") }), el("th", { scope: "col", text: t("clerk.outcome") }), el("th", { scope: "col", text: t("clerk.detail") }))),
        el("tbody", {}, rows),
      ),
    );
  } catch (error) {
    into.replaceChildren(el("p", { class: "error", role: "alert", text: t("app.error", { message: error.message }) }));
  } finally {
    button.disabled = false;
  }
}

export function setUpLookup() {
  const input = $("holder-id");
  input.addEventListener("input", () => showHint(input, $("holder-hint")));
  $("lookup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const purpose = accessPurpose();
    const holder = holderRef(input.value);
    showError($("lookup-error"), null);
    if (!purpose) return showError($("lookup-error"), new Error(t("clerk.needsCase")));
    if (!holder) {
      showHint(input, $("holder-hint"));
      input.focus();
      return undefined;
    }
    $("lookup-submit").disabled = true;
    $("lookup-status").textContent = t("clerk.searching");
    try {
      const found = await api("POST", "/v1/licenses:listByHolder", { holder, purpose });
      const licenses = found.licenses || [];
      const draw = () => {
        $("licenses-body").replaceChildren(...licenses.flatMap(licenseRow));
        $("licenses").hidden = licenses.length === 0;
        $("lookup-status").textContent = t(licenses.length ? "clerk.found" : "clerk.noneFound", {
          n: licenses.length,
          caseRef: purpose.caseReference,
        });
      };
      // In place: the array is shared (clerk.common.js).
      redraws.splice(0, redraws.length, ...redraws.filter((entry) => entry.name !== "licenses"));
      redraws.push({ name: "licenses", draw });
      draw();
    } catch (error) {
      $("lookup-status").textContent = "";
      showError($("lookup-error"), error);
    } finally {
      $("lookup-submit").disabled = !keptCase();
    }
    return undefined;
  });
}
