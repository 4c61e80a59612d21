// The auditor page's Verify tab: a pasted or uploaded license (SD-JWT → POST
// /v1/licenses:verify) or ledger receipt (C2SP tlog-proof → POST /v1/ledger/receipts:verify,
// with the artefact's SHA-256 computed here by WebCrypto), every check in order; the
// receipt's Merkle path is drawn by auditor.merkle.js.

import { api, el, t } from "./app.js";
import { bare, bytesBase64, bytesHex, errorBox, facts, hexOf, label, sha256, shown, timeCell } from "./auditor.common.js";
import { merkleFigure } from "./auditor.merkle.js";

const RECEIPT_HEADER = "c2sp.org/tlog-proof@";
const SD_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(~[A-Za-z0-9_~.-]*)?$/;

// --- 1. verify ---------------------------------------------------------------------------

/** What the pasted text is: {kind: "license"|"receipt"|"empty"|"unknown", text}. */
function detect(raw) {
  const text = String(raw || "").trim();
  if (!text) return { kind: "empty" };
  if (text.startsWith("{")) {
    // A GetReceipt or license JSON answer pasted whole.
    try {
      const json = JSON.parse(text);
      if (typeof json.tlogProof === "string") return detect(json.tlogProof);
      const sdJwt = json.sdJwt || json.license?.sdJwt;
      if (typeof sdJwt === "string") return detect(sdJwt);
    } catch {
      return { kind: "unknown" };
    }
    return { kind: "unknown" };
  }
  // A note ends with a newline; a paste often loses it.
  if (text.startsWith(RECEIPT_HEADER)) return { kind: "receipt", text: `${text}\n` };
  if (SD_JWT.test(text)) return { kind: "license", text };
  return { kind: "unknown" };
}

export const verifyState = {
  artefact: null, // {name, hash: Uint8Array} of the chosen artefact file
  fromLicense: null, // {hash} when the receipt was fetched for a verified license
};

export function showDetected() {
  const found = detect(document.getElementById("artefact-text").value);
  document.getElementById("detected").textContent = t(`aud.detected.${found.kind}`);
  document.getElementById("receipt-options").disabled = found.kind === "license";
  showArtefact();
  return found;
}

function showArtefact() {
  const line = document.getElementById("artefact-hash");
  if (verifyState.artefact) {
    line.textContent = t("aud.artefact.hash", {
      name: verifyState.artefact.name,
      hash: bytesHex(verifyState.artefact.hash),
    });
  } else if (verifyState.fromLicense) {
    line.textContent = t("aud.artefact.fromLicense", { hash: bytesHex(verifyState.fromLicense.hash) });
  } else {
    line.textContent = t("aud.artefact.none");
  }
}

function readFile(file, as) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error || new Error("FileReader failed"));
    if (as === "text") reader.readAsText(file);
    else reader.readAsArrayBuffer(file);
  });
}

export async function onTextFile(event) {
  const file = event.target.files[0];
  if (!file) return;
  const result = document.getElementById("verify-result");
  try {
    document.getElementById("artefact-text").value = await readFile(file, "text");
    verifyState.fromLicense = null;
    showDetected();
  } catch (error) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.file.unreadable", { message: error.message })));
  }
}

export async function onArtefactFile(event) {
  const file = event.target.files[0];
  verifyState.artefact = null;
  if (file) {
    try {
      const bytes = new Uint8Array(await readFile(file, "bytes"));
      verifyState.artefact = { name: file.name, hash: await sha256(bytes) };
    } catch (error) {
      document
        .getElementById("verify-result")
        .replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.file.unreadable", { message: error.message })));
    }
  }
  showArtefact();
}

export async function onVerify(event) {
  event.preventDefault();
  const found = showDetected();
  const result = document.getElementById("verify-result");
  if (found.kind === "empty" || found.kind === "unknown") {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t(`aud.detected.${found.kind}`)));
    return;
  }
  const button = document.getElementById("verify-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("aud.verify.working")));
  try {
    if (found.kind === "license") {
      const answer = await api("POST", "/v1/licenses:verify", { sdJwt: found.text });
      shown.verify = () => renderLicense(answer, found.text);
    } else {
      const body = { tlogProof: found.text };
      const hash = verifyState.artefact?.hash || verifyState.fromLicense?.hash;
      if (hash) body.artefactSha256 = bytesBase64(hash);
      const key = document.getElementById("verifier-key").value.trim();
      if (key) body.verifierKey = key;
      const answer = await api("POST", "/v1/ledger/receipts:verify", body);
      shown.verify = () => renderReceipt(answer);
    }
    result.replaceChildren(shown.verify());
  } catch (error) {
    shown.verify = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

/** The verdict line: valid or not, in words and a mark. */
function verdict(valid) {
  return el(
    "p",
    { class: "aud-verdict", id: "verdict", dataset: { valid: valid ? "true" : "false" } },
    el("span", { class: valid ? "mark-ok" : "mark-red" }, valid ? `✓ ${t("aud.valid")}` : `✗ ${t("aud.invalid")}`),
  );
}

const OUTCOME_MARK = {
  PASSED: ["mark-ok", "✓"],
  FAILED: ["mark-red", "✗"],
  UNAVAILABLE: ["mark-yellow", "?"],
  SKIPPED: ["aud-mark-none", "–"],
  NOT_CHECKED: ["aud-mark-none", "–"],
  NOT_APPLICABLE: ["aud-mark-none", "–"],
};

/** The checks as an ordered list: mark + outcome in words, the check's name, its detail. */
function checkList(checks, checkPrefix, outcomePrefix, labelPrefix) {
  return el(
    "ol",
    { class: "aud-checks", id: "checks" },
    checks.map((check) => {
      const name = bare(check.check, checkPrefix);
      const outcome = bare(check.outcome, outcomePrefix);
      const [cls, sign] = OUTCOME_MARK[outcome] || ["aud-mark-none", "?"];
      return el(
        "li",
        { class: "aud-check", dataset: { check: name, outcome } },
        el("span", { class: `aud-outcome ${cls}` }, `${sign} ${label("aud.outcome.", outcome)}`),
        el("span", { class: "aud-check-name" }, label(labelPrefix, name)),
        check.detail ? el("span", { class: "aud-check-detail" }, check.detail) : null,
      );
    }),
  );
}

function renderLicense(answer, sdJwt) {
  const status = bare(answer.status, "LICENSE_STATUS_");
  const claims = Object.entries(answer.disclosedClaims || {});
  const card = el(
    "section",
    { class: "card", "aria-labelledby": "result-heading" },
    el("h2", { id: "result-heading" }, t("aud.result.license")),
    verdict(Boolean(answer.valid)),
    el("h3", {}, t("aud.checks")),
    checkList(answer.checks || [], "VERIFICATION_CHECK_", "CHECK_OUTCOME_", "aud.check.license."),
    facts([
      [t("aud.field.vct"), answer.vct],
      [t("aud.field.licenseId"), answer.licenseId],
      [t("aud.field.issuer"), answer.issuerDepartment],
      [t("aud.field.keyId"), answer.keyId],
      [t("aud.field.issuedAt"), answer.issuedAt && timeCell(answer.issuedAt)],
      [t("aud.field.validFrom"), answer.validFrom && timeCell(answer.validFrom)],
      [t("aud.field.validUntil"), answer.validUntil && timeCell(answer.validUntil)],
      [t("aud.field.status"), status && label("aud.status.", status)],
      [t("aud.field.ledgerIndex"), answer.ledgerIndex],
    ]),
    claims.length
      ? el(
          "details",
          { class: "aud-claims" },
          el("summary", {}, t("aud.field.claims", { count: claims.length })),
          el(
            "table",
            {},
            el(
              "thead",
              {},
              el("tr", {}, el("th", { scope: "col" }, t("aud.field.claimName")), el("th", { scope: "col" }, t("aud.field.claimValue"))),
            ),
            el(
              "tbody",
              {},
              claims.map(([name, value]) =>
                el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, typeof value === "string" ? value : JSON.stringify(value))),
              ),
            ),
          ),
        )
      : null,
  );
  if (answer.ledgerIndex !== undefined) {
    card.append(
      el(
        "p",
        {},
        el("button", {
          type: "button",
          id: "license-receipt",
          class: "secondary",
          text: t("aud.license.receiptButton"),
          onclick: () => fetchLicenseReceipt(answer.ledgerIndex, sdJwt),
        }),
      ),
    );
  }
  return card;
}

/** Put the license's receipt in the box, with the hash of its issuer-signed JWT (what the
 * ledger attests: the SD-JWT before its first "~"), and verify it. */
async function fetchLicenseReceipt(index, sdJwt) {
  const result = document.getElementById("verify-result");
  try {
    const receipt = await api("GET", `/v1/ledger/entries/${encodeURIComponent(index)}/receipt`);
    const jwt = new TextEncoder().encode(sdJwt.split("~", 1)[0]);
    verifyState.fromLicense = { hash: await sha256(jwt) };
    verifyState.artefact = null;
    document.getElementById("artefact-file").value = "";
    document.getElementById("artefact-text").value = receipt.tlogProof || "";
    document.getElementById("verify-form").requestSubmit();
  } catch (error) {
    result.replaceChildren(errorBox(error));
  }
}

function renderReceipt(answer) {
  const entry = answer.entry || {};
  const attestation = entry.attestation || {};
  const checkpoint = answer.checkpoint || {};
  const latest = answer.latestCheckpoint || {};
  const witnesses = answer.witnesses || [];
  return el(
    "section",
    { class: "card", "aria-labelledby": "result-heading" },
    el("h2", { id: "result-heading" }, t("aud.result.receipt")),
    verdict(Boolean(answer.valid)),
    el("h3", {}, t("aud.checks")),
    checkList(answer.checks || [], "RECEIPT_CHECK_", "RECEIPT_CHECK_OUTCOME_", "aud.check.receipt."),
    facts([
      [t("aud.field.entry"), entry.index],
      [t("aud.field.kind"), attestation.kind && bare(attestation.kind, "ATTESTATION_KIND_").toLowerCase().replace(/_/g, " ")],
      [t("aud.field.issuer"), attestation.issuerDepartment],
      [t("aud.field.artefactId"), attestation.artefactId],
      [t("aud.field.artefactSha256"), attestation.artefactSha256 && el("code", {}, hexOf(attestation.artefactSha256))],
      [t("aud.field.acceptedAt"), entry.acceptedAt && timeCell(entry.acceptedAt)],
      [t("aud.field.origin"), checkpoint.origin || latest.origin],
      [
        t("aud.field.sizes"),
        el(
          "span",
          { id: "checkpoint-sizes" },
          t("aud.field.sizesValue", { receipt: checkpoint.size ?? "0", latest: latest.size ?? "0" }),
        ),
      ],
      [t("aud.field.verifierKey"), answer.verifierKey && el("code", {}, answer.verifierKey)],
      [
        t("aud.field.witnesses"),
        el("span", { id: "witnesses" }, witnesses.length ? witnesses.join(", ") : t("aud.witnesses.none")),
      ],
    ]),
    merkleFigure(answer),
  );
}
