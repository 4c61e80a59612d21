// The clerk console's watched proof request: drawn from the department's outgoing inbox
// stream (StreamInbox, live) and its history (ListProofRequestEvents) until the answer
// arrives; then the answer, its download (a Blob link), its verification and printing.

import { api, el, stream, t } from "./app.js";
import { $, departmentName, formatTime, items, mark, redraws, showError } from "./clerk.common.js";
import { verifyInto } from "./clerk.lookup.js";

const INBOX = "/v1/proof-requests:streamInbox?direction=REQUEST_DIRECTION_OUTGOING";
const MARK_OF_SLA = {
  SLA_MARK_ON_TIME: ["mark-ok", "mark.ok"],
  SLA_MARK_WARNING: ["mark-yellow", "mark.yellow"],
  SLA_MARK_OVERDUE: ["mark-red", "mark.red"],
};
const GOOD_OUTCOMES = new Set(["PROOF_OUTCOME_CONFIRMED", "PROOF_OUTCOME_NOT_REQUIRED", "PROOF_OUTCOME_COMMITTED"]);

const seen = new Map(); // requestId -> the latest request the stream showed
export let current = null; // the watched proof request
let downloadUrl = "";

// --- the watched request ---------------------------------------------------------------------

export function watch(request) {
  current = request;
  const newer = seen.get(request.requestId);
  if (newer && Number(newer.lastEventSequence || 0) > Number(request.lastEventSequence || 0)) current = newer;
  $("request").hidden = false;
  drawRequest();
  loadHistory();
  $("request-heading").scrollIntoView({ block: "start" });
}

function update(request) {
  if (!current || request.requestId !== current.requestId) return;
  if (Number(request.lastEventSequence || 0) < Number(current.lastEventSequence || 0)) return;
  current = request;
  drawRequest();
  loadHistory();
}

function setDownload(sdJwt, requestId) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = "";
  const link = $("download");
  if (!sdJwt) {
    link.hidden = true;
    link.removeAttribute("href");
    return;
  }
  downloadUrl = URL.createObjectURL(new Blob([sdJwt], { type: "application/dc+sd-jwt" }));
  link.href = downloadUrl;
  link.download = `proof-answer-${requestId}.sd-jwt`;
  link.hidden = false;
}

export function drawRequest() {
  const request = current;
  if (!request) return;
  const item = items.get(request.proofItemCode);
  $("request-id").textContent = request.requestId;
  $("request-item").textContent = item ? `${item.name} · ${t(`route.${request.route}`)}` : request.proofItemCode;
  $("request-case").textContent = request.purpose ? `${request.purpose.caseReference} · ${request.purpose.purpose}` : "—";
  $("request-targets").textContent = (request.answeringDepartment ? [request.answeringDepartment] : request.targetDepartments || []).map(departmentName).join("、") || "—";
  const answered = Boolean(request.answer);
  const final = ["PROOF_REQUEST_STATE_REJECTED", "PROOF_REQUEST_STATE_WITHDRAWN", "PROOF_REQUEST_STATE_EXPIRED"].includes(request.state);
  $("request-state").replaceChildren(
    el("strong", { id: "request-state-text", text: t(`state.${request.state}`) }),
    ...(request.escalated ? [" ", mark("mark-red", t("event.PROOF_REQUEST_EVENT_TYPE_ESCALATED"))] : []),
  );
  if (request.dueAt) {
    const [cls, key] = MARK_OF_SLA[request.slaMark] || MARK_OF_SLA.SLA_MARK_ON_TIME;
    $("request-deadline").replaceChildren(mark(cls, t(key)), " ", t("clerk.dueAt", { due: formatTime(request.dueAt) }));
  } else {
    $("request-deadline").textContent = t("clerk.noDeadline");
  }
  drawMoreInfo(request);
  const answer = $("request-answer");
  answer.hidden = false;
  const outcome = $("answer-outcome");
  const details = $("answer-details");
  if (!answered) {
    setDownload("", "");
    $("print").hidden = true;
    $("verify-answer").hidden = true;
    $("answer-token").hidden = true;
    $("commitment-view").hidden = true;
    $("answer-verification").replaceChildren();
    details.replaceChildren();
    if (final && request.rejection) {
      outcome.replaceChildren(mark("mark-red", t(`state.${request.state}`)));
      details.replaceChildren(el("dt", { text: t("clerk.rejection") }), el("dd", { text: request.rejection.reason || "—" }));
    } else if (final) {
      outcome.replaceChildren(mark("mark-red", t(`state.${request.state}`)));
    } else {
      outcome.replaceChildren(el("span", { class: "clerk-waiting", text: t("clerk.waiting") }));
    }
    return;
  }
  const result = request.answer;
  outcome.replaceChildren(
    mark(GOOD_OUTCOMES.has(result.outcome) ? "mark-ok" : result.outcome === "PROOF_OUTCOME_DENIED" ? "mark-red" : "mark-yellow", t(`outcome.${result.outcome}`)),
  );
  outcome.dataset.outcome = result.outcome;
  const titles = new Map((item?.answerClaims || []).map((claim) => [claim.name, claim.title]));
  const rows = [];
  for (const [name, value] of Object.entries(result.claims || {})) {
    rows.push([titles.get(name) || name, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  if (result.explanation) rows.push([t("clerk.explanation"), result.explanation]);
  if (result.legalBasis) rows.push([t("clerk.legalBasis"), result.legalBasis]);
  if (result.sourceLicenseId) rows.push([t("clerk.sourceLicense"), result.sourceLicenseId]);
  if (result.answeringDepartment) rows.push([t("clerk.answeredBy"), departmentName(result.answeringDepartment)]);
  rows.push([t("clerk.answeredAt"), formatTime(result.answeredAt)]);
  if (result.ledgerIndex !== undefined) rows.push([t("clerk.ledgerIndex"), String(result.ledgerIndex)]);
  details.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
  drawCommitment(request.commitment);
  setDownload(result.sdJwt || "", request.requestId);
  $("print").hidden = false;
  $("verify-answer").hidden = !result.sdJwt;
  $("answer-token").hidden = !result.sdJwt;
  $("answer-sd-jwt").textContent = result.sdJwt || "";
}

function drawCommitment(commitment) {
  const view = $("commitment-view");
  view.hidden = !commitment;
  if (!commitment) return;
  const rows = [
    [t("clerk.commitmentId"), commitment.commitmentId],
    [t("clerk.fulfilBy"), commitment.fulfilBy ? formatTime(commitment.fulfilBy, false) : "—"],
    [t("clerk.recordedAt"), formatTime(commitment.recordedAt)],
    [t("clerk.checkState"), t(`commitment.${commitment.checkState}`)],
  ];
  if (commitment.ledgerIndex !== undefined) rows.push([t("clerk.ledgerIndex"), String(commitment.ledgerIndex)]);
  view.replaceChildren(
    el("h4", { text: t("clerk.commitment") }),
    el("blockquote", { class: "clerk-quote", text: commitment.text }),
    el("dl", { id: "commitment-details", class: "preview" }, rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })])),
  );
}

function drawMoreInfo(request) {
  const box = $("more-info");
  const open = (request.moreInfo || []).filter((exchange) => !exchange.reply);
  box.hidden = request.state !== "PROOF_REQUEST_STATE_NEEDS_MORE_INFO" || open.length === 0;
  if (box.hidden) return box.replaceChildren();
  const reply = el("textarea", { id: "more-info-reply", rows: "2", maxlength: "4000" });
  const send = el("button", {
    type: "button",
    text: t("clerk.replySubmit"),
    onclick: async () => {
      send.disabled = true;
      try {
        const supplied = await api("POST", `/v1/proof-requests/${encodeURIComponent(request.requestId)}:supplyMoreInfo`, { reply: reply.value.trim() });
        update(supplied.request);
      } catch (error) {
        showError($("proof-error"), error);
        send.disabled = false;
      }
    },
  });
  box.replaceChildren(
    el("p", { class: "mark-yellow", text: t("clerk.moreInfo") }),
    el("blockquote", { class: "clerk-quote", text: open[open.length - 1].question }),
    el("label", { for: "more-info-reply", text: t("clerk.reply") }),
    reply,
    el("p", {}, send),
  );
  return undefined;
}

export async function loadHistory() {
  const request = current;
  if (!request) return;
  try {
    const found = await api("GET", `/v1/proof-requests/${encodeURIComponent(request.requestId)}/events?pageSize=500`);
    if (current !== request && current?.requestId !== request.requestId) return;
    $("history-list").replaceChildren(
      ...(found.events || []).map((event) =>
        el(
          "li",
          {},
          el("time", { datetime: event.occurredAt, text: formatTime(event.occurredAt) }),
          " ",
          el("strong", { text: t(`event.${event.type}`) }),
          " · ",
          t(`state.${event.toState}`),
          event.actor?.departmentCode ? ` · ${departmentName(event.actor.departmentCode)}` : "",
          event.reason ? ` — ${event.reason}` : "",
        ),
      ),
    );
  } catch (error) {
    showError($("proof-error"), error);
  }
}

// --- the live stream ----------------------------------------------------------------------------

export function followInbox() {
  const live = $("live");
  const say = (key, params) => {
    live.dataset.state = key;
    live.textContent = t(key, params);
  };
  redraws.push({ name: "live", draw: () => live.dataset.state && say(live.dataset.state, { message: live.dataset.message || "" }) });
  say("clerk.live.connecting");
  const controller = new AbortController();
  window.addEventListener("pagehide", () => controller.abort());
  let opened = false;
  stream(
    INBOX,
    (message) => {
      if (!opened) {
        opened = true;
        say("clerk.live.open");
        // Anything that happened before the stream's live end: read the request once.
        if (current) {
          api("GET", `/v1/proof-requests/${encodeURIComponent(current.requestId)}`).then(update, () => {});
        }
      }
      for (const event of message.events || []) {
        const request = event.request;
        if (!request?.requestId) continue;
        seen.set(request.requestId, request);
        if (seen.size > 200) seen.delete(seen.keys().next().value);
        update(request);
      }
    },
    { signal: controller.signal },
  ).catch((error) => {
    live.dataset.message = error.message;
    say("clerk.live.failed", { message: error.message });
  });
}

/** The answer's buttons: print, and verify the signed answer with its ledger receipt. */
export function setUpAnswer() {
  $("print").addEventListener("click", () => window.print());
  $("verify-answer").addEventListener("click", async () => {
    const answer = current?.answer;
    if (!answer?.sdJwt) return;
    const body = { sdJwt: answer.sdJwt };
    const into = $("answer-verification");
    try {
      if (answer.ledgerIndex !== undefined) {
        const receipt = await api("GET", `/v1/ledger/entries/${encodeURIComponent(answer.ledgerIndex)}/receipt`);
        body.ledgerReceipt = receipt.tlogProof;
      }
    } catch (error) {
      into.replaceChildren(el("p", { class: "error", role: "alert", text: t("app.error", { message: error.message }) }));
      return;
    }
    await verifyInto(into, body, $("verify-answer"));
  });
}
