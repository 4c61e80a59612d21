// The officer inbox's answer: the answer form (the outcome, the proof item's answer claims
// typed by their catalogue types, an explanation) and, once answered, the signed answer
// with its SD-JWT decoded for reading (not verified here: the licenses service and the
// auditor page verify the signature).

import { el, t } from "./app.js";
import { act, cancelButton } from "./officer.request.js";
import {
  $,
  departmentName,
  field,
  items,
  messageOf,
  showError,
  suffix,
  when,
} from "./officer.common.js";

const OUTCOMES = ["CONFIRMED", "DENIED", "CANNOT_DETERMINE"];

function claimInput(claim) {
  const id = `claim-${claim.name}`;
  const type = suffix(claim.type, "CLAIM_TYPE_");
  const title = claim.title ? `${claim.title}（${claim.name}）` : claim.name;
  const label = el(
    "label",
    { for: id },
    title,
    claim.required ? el("span", { class: "officer-required" }, " ", t("officer.form.required")) : "",
  );
  let input;
  if (type === "BOOLEAN") {
    input = el(
      "select",
      { id, name: claim.name, dataset: { type } },
      el("option", { value: "" }, t("officer.form.unset")),
      el("option", { value: "true" }, t("officer.form.true")),
      el("option", { value: "false" }, t("officer.form.false")),
    );
  } else if (type === "OBJECT" || type === "ARRAY") {
    input = el("textarea", { id, name: claim.name, rows: "3", dataset: { type } });
  } else {
    const kind = { DATE: "date", INTEGER: "number", NUMBER: "number" }[type] || "text";
    input = el("input", {
      id,
      name: claim.name,
      type: kind,
      step: type === "NUMBER" ? "any" : null,
      maxlength: claim.maxLength && type === "STRING" ? String(claim.maxLength) : null,
      autocomplete: "off",
      dataset: { type },
    });
  }
  const help = claim.description ? el("p", { class: "officer-help" }, claim.description) : null;
  return el("div", { class: "officer-claim" }, label, input, help);
}

function claimValues(form, claims) {
  const values = {};
  for (const claim of claims) {
    const input = form.elements.namedItem(claim.name);
    const raw = input ? input.value.trim() : "";
    if (raw === "") continue;
    const type = input.dataset.type;
    if (type === "INTEGER" || type === "NUMBER") values[claim.name] = Number(raw);
    else if (type === "BOOLEAN") values[claim.name] = raw === "true";
    else if (type === "OBJECT" || type === "ARRAY") {
      try {
        values[claim.name] = JSON.parse(raw);
      } catch {
        throw new Error(t("officer.form.badJson", { name: claim.title || claim.name }));
      }
    } else values[claim.name] = raw;
  }
  return values;
}

export function answerForm(request) {
  const claims = items.get(request.proofItemCode)?.answerClaims || [];
  const form = el(
    "form",
    { id: "answer-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.answer")),
    el(
      "fieldset",
      { class: "officer-outcomes" },
      el("legend", {}, t("officer.form.outcome")),
      OUTCOMES.map((outcome, index) =>
        el(
          "label",
          { class: "officer-choice" },
          el("input", {
            type: "radio",
            name: "outcome",
            value: `PROOF_OUTCOME_${outcome}`,
            checked: index === 0,
          }),
          " ",
          t(`officer.outcome.${outcome}`),
        ),
      ),
    ),
    claims.length
      ? el(
          "fieldset",
          { class: "officer-claims" },
          el("legend", {}, t("officer.form.claims")),
          claims.map(claimInput),
        )
      : null,
    el("label", { for: "answer-explanation" }, t("officer.form.explanation")),
    el("textarea", { id: "answer-explanation", name: "explanation", rows: "2", maxlength: "2000" }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "answer-submit" }, t("officer.form.submitAnswer")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let values;
    try {
      values = claimValues(form, claims);
    } catch (error) {
      showError($("action-error"), error);
      return;
    }
    act(
      "answer",
      {
        outcome: form.elements.namedItem("outcome").value,
        claims: values,
        explanation: form.elements.namedItem("explanation").value.trim(),
      },
      "officer.done.answered",
    );
  });
  return form;
}

// --- the signed answer -------------------------------------------------------------------

function base64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function shown(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The SD-JWT's header, payload claims and disclosures as [label, value] rows (not verified). */
function decodeSdJwt(sdJwt) {
  const [jwt, ...disclosures] = sdJwt.split("~");
  const [head, body] = jwt.split(".");
  const header = base64url(head);
  const payload = base64url(body);
  const rows = [[t("officer.claim.header"), `${header.alg} · ${header.kid || "—"}`]];
  for (const [name, value] of Object.entries(payload)) {
    if (name === "_sd" || name === "_sd_alg") continue;
    const time = ["iat", "nbf", "exp"].includes(name) && typeof value === "number";
    rows.push([name, time ? `${when(new Date(value * 1000).toISOString())} (${value})` : shown(value)]);
  }
  for (const disclosure of disclosures) {
    if (!disclosure) continue;
    const decoded = base64url(disclosure);
    if (Array.isArray(decoded) && decoded.length === 3) {
      rows.push([t("officer.claim.disclosed", { name: decoded[1] }), shown(decoded[2])]);
    }
  }
  return rows;
}

export function renderAnswer(request) {
  const answer = request.answer;
  const box = $("answer");
  if (!answer || !answer.outcome) {
    box.hidden = true;
    return;
  }
  const claims = Object.entries(answer.claims || {});
  $("answer-fields").replaceChildren(
    ...field(
      "officer.answer.outcome",
      el("strong", { id: "answer-outcome" }, t(`officer.outcome.${suffix(answer.outcome, "PROOF_OUTCOME_")}`)),
    ),
    ...field("officer.f.answering", departmentName(answer.answeringDepartment)),
    ...field("officer.answer.by", answer.answeredBy || "—"),
    ...field("officer.answer.at", when(answer.answeredAt)),
    ...field("officer.answer.ledger", answer.ledgerIndex ?? "—"),
    ...field("officer.answer.explanation", answer.explanation || "—"),
    ...(answer.legalBasis ? field("officer.f.legalBasis", answer.legalBasis) : []),
    ...(claims.length
      ? field(
          "officer.answer.claims",
          el(
            "ul",
            { class: "officer-plain" },
            claims.map(([name, value]) => el("li", {}, `${name}: ${shown(value)}`)),
          ),
        )
      : []),
  );
  $("sd-jwt").value = answer.sdJwt || t("officer.answer.unsigned");
  let rows = [];
  try {
    rows = answer.sdJwt ? decodeSdJwt(answer.sdJwt) : [];
  } catch (error) {
    rows = [[t("officer.answer.decoded"), messageOf(error)]];
  }
  $("decoded-claims").replaceChildren(
    ...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
  box.hidden = false;
}
