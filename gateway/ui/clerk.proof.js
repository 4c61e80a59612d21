// The clerk console's missing document: a proof item with its route, the applicant's
// consent, and the proof request made under one idempotency key per form; for a
// commitment-route item, accept with gaps (容缺受理: RecordCommitment). The request made is
// then watched by clerk.request.js.

import { api, el, t } from "./app.js";
import { $, classify, departmentName, holderRef, items, listAll, newClientRequestId, showError, showHint } from "./clerk.common.js";
import { accessPurpose, keptCase } from "./clerk.lookup.js";
import { watch } from "./clerk.request.js";

export let clientRequestId = ""; // this form's idempotency key (CreateProofRequest)

/** Set the form's idempotency key (the page's start, and a language change that redraws the form). */
export function setClientRequestId(value) {
  clientRequestId = value;
}

// --- 3. proof items and requests -----------------------------------------------------------

function limitText(limit) {
  if (!limit) return "";
  const parts = [];
  if (limit.workingDays) parts.push(t("clerk.workingDays", { n: limit.workingDays }));
  const seconds = Number.parseFloat(String(limit.workingTime || "0").replace("s", ""));
  if (seconds) parts.push(t("clerk.workingHours", { n: Math.round((seconds / 3600) * 10) / 10 }));
  return parts.join(" + ");
}

export function drawItemInfo() {
  const item = items.get($("proof-item").value);
  const info = $("proof-item-info");
  clientRequestId = newClientRequestId(); // another item is another request
  if (!item) {
    info.replaceChildren();
    $("commitment-fields").hidden = true;
    $("request-fields").hidden = false;
    return;
  }
  const rows = [
    [t("clerk.route"), el("strong", { class: "clerk-route", text: t(`route.${item.route}`) })],
    [t("clerk.authoritative"), (item.authoritativeDepartments || []).map(departmentName).join("、") || "—"],
  ];
  if (item.deadline) rows.push([t("clerk.deadlineLimit"), limitText(item.deadline)]);
  rows.push([t("clerk.legalBasis"), item.legalBasis || "—"]);
  info.replaceChildren(
    ...(item.description ? [el("p", { text: item.description })] : []),
    el("dl", { class: "preview" }, rows.map(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)])),
  );
  const commitment = item.route === "PROOF_ROUTE_COMMITMENT";
  $("commitment-fields").hidden = !commitment;
  $("request-fields").hidden = commitment;
  if (commitment) {
    $("commitment-text").textContent = item.commitment?.text || "";
    const within = Number.parseFloat(String(item.commitment?.fulfilWithin || "0").replace("s", ""));
    const due = new Date(Date.now() + (within || 20 * 86400) * 1000);
    $("fulfil-by").value = due.toISOString().slice(0, 10);
    $("fulfil-by").min = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  }
}

export async function loadItems() {
  const list = await listAll("/v1/proof-items?pageSize=500", "proofItems");
  const select = $("proof-item");
  for (const item of list) {
    items.set(item.code, item);
    select.append(el("option", { value: item.code, text: `${item.name} · ${t(`route.${item.route}`)}` }));
  }
}

export function relabelItems() {
  for (const option of $("proof-item").options) {
    const item = items.get(option.value);
    if (item) option.textContent = `${item.name} · ${t(`route.${item.route}`)}`;
  }
}

/** The consent (or the commitment's maker): who, how, when; an Error when incomplete. */
function consent() {
  if (!$("consent-checked").checked) throw new Error(t("clerk.needConsent"));
  const givenBy = $("consent-giver").value;
  const body = { givenBy, method: "CONSENT_METHOD_AT_WINDOW_ID_CHECKED", givenAt: new Date().toISOString() };
  if (givenBy !== "CONSENT_GIVER_HOLDER") {
    const agent = classify($("agent-id").value);
    if (agent.kind !== "residentId") throw new Error(t("clerk.needAgent"));
    body.agent = { residentId: agent.id };
  }
  return body;
}

/** CreateProofRequest for the chosen item, under this form's idempotency key. */
async function createRequest(note) {
  const purpose = accessPurpose();
  if (!purpose) throw new Error(t("clerk.needsCase"));
  const holder = holderRef($("holder-id").value);
  if (!holder) throw new Error(t("clerk.needHolder"));
  const code = $("proof-item").value;
  if (!items.has(code)) throw new Error(t("clerk.needItem"));
  const body = { clientRequestId, proofItemCode: code, holder, purpose, consent: consent() };
  if (note) body.note = note;
  const created = await api("POST", "/v1/proof-requests", body);
  return created.request;
}

export function setUpProof() {
  $("proof-item").addEventListener("change", drawItemInfo);
  const giver = $("consent-giver");
  const drawGiver = () => {
    $("agent-field").hidden = giver.value === "CONSENT_GIVER_HOLDER";
  };
  giver.addEventListener("change", drawGiver);
  drawGiver();
  $("agent-id").addEventListener("input", () => showHint($("agent-id"), $("agent-hint")));
  $("proof-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("proof-submit");
    if (button.disabled) return;
    button.disabled = true;
    showError($("proof-error"), null);
    try {
      const request = await createRequest($("note").value.trim());
      clientRequestId = newClientRequestId(); // done: the next one is a new request
      watch(request);
    } catch (error) {
      showError($("proof-error"), error);
    } finally {
      button.disabled = !keptCase();
    }
  });
  $("commit-submit").addEventListener("click", async () => {
    const button = $("commit-submit");
    if (button.disabled) return;
    button.disabled = true;
    showError($("proof-error"), null);
    try {
      const due = $("fulfil-by").value;
      if (!due || due <= new Date().toISOString().slice(0, 10)) throw new Error(t("clerk.needFulfilBy"));
      const made = consent();
      let request = await createRequest("");
      if (request.state === "PROOF_REQUEST_STATE_SUBMITTED") {
        // End of the due day in China (UTC+8): the material is due by that day.
        const fulfilBy = new Date(`${due}T23:59:59+08:00`).toISOString().replace(/\.\d+Z$/, "Z");
        const committed = await api("POST", `/v1/proof-requests/${encodeURIComponent(request.requestId)}:recordCommitment`, {
          text: items.get(request.proofItemCode)?.commitment?.text || "",
          made,
          fulfilBy,
        });
        request = committed.request;
      }
      clientRequestId = newClientRequestId();
      watch(request);
    } catch (error) {
      showError($("proof-error"), error);
    } finally {
      button.disabled = !keptCase();
    }
  });
}
