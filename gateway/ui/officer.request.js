// The officer inbox's detail panel: one proof request's details, its more-information
// exchanges and its history, and the steps this department may take on it (accept,
// reject, ask for more information, answer), each POSTed and its result shown. The answer
// form and the signed answer are officer.answer.js's.

import { api, el, t } from "./app.js";
import { me } from "./officer.js";
import { answerForm, renderAnswer } from "./officer.answer.js";
import { renderRows } from "./officer.inbox.js";
import {
  $,
  caseOf,
  departmentName,
  field,
  itemName,
  itemOf,
  markBadge,
  remember,
  requests,
  showError,
  stateOf,
  stateText,
  suffix,
  when,
} from "./officer.common.js";

const REJECTION_REASONS = ["NOT_OUR_AUTHORITY", "DUPLICATE", "INVALID_REQUEST", "OTHER"];

export let openId = null; // the request shown in the detail panel
let openForm = null; // "answer" | "reject" | "ask" | null
let history = [];

export let doneKey = ""; // what the last step did, redrawn in either language

export function setDone(key) {
  doneKey = key;
  $("action-done").textContent = key ? t(key) : "";
}

// --- the detail panel --------------------------------------------------------------------

export async function openRequest(requestId) {
  openId = requestId;
  openForm = null;
  history = [];
  setDone("");
  showError($("action-error"), null);
  renderRows();
  try {
    const request = await api("GET", `/v1/proof-requests/${encodeURIComponent(requestId)}`);
    remember(request);
    await itemOf(request.proofItemCode);
  } catch (error) {
    showError($("action-error"), error);
  }
  renderDetail();
  $("detail").hidden = false;
  $("detail").focus();
  await loadHistory();
}

export async function loadHistory() {
  const requestId = openId;
  try {
    const found = [];
    let pageToken = "";
    do {
      const query = new URLSearchParams({ pageSize: "500" });
      if (pageToken) query.set("pageToken", pageToken);
      const page = await api(
        "GET",
        `/v1/proof-requests/${encodeURIComponent(requestId)}/events?${query}`,
      );
      found.push(...(page.events || []));
      pageToken = page.nextPageToken || "";
    } while (pageToken);
    if (requestId !== openId) return;
    history = found;
    renderHistory();
  } catch (error) {
    showError($("action-error"), error);
  }
}

function holderText(holder) {
  if (!holder) return "—";
  if (holder.uscc) return t("officer.holder.uscc", { id: holder.uscc });
  if (holder.residentId) return t("officer.holder.resident", { id: holder.residentId });
  return "—";
}

export function renderDetail() {
  const request = requests.get(openId);
  if (!request) return;
  const rejection = request.rejection;
  $("detail-fields").replaceChildren(
    ...field("officer.f.id", el("code", {}, request.requestId)),
    ...field("officer.f.item", `${itemName(request.proofItemCode)}（${request.proofItemCode}）`),
    ...field("officer.f.route", t(`officer.route.${suffix(request.route, "PROOF_ROUTE_")}`)),
    ...field("officer.f.from", departmentName(request.requestingDepartment)),
    ...field("officer.f.by", request.requestedBy || "—"),
    ...field("officer.f.holder", holderText(request.holder)),
    ...field("officer.f.purpose", request.purpose?.purpose || "—"),
    ...field("officer.f.case", caseOf(request)),
    ...field("officer.f.note", request.note || "—"),
    ...field("officer.f.state", el("strong", { id: "detail-state" }, stateText(request))),
    ...field("officer.f.mark", markBadge(request)),
    ...field("officer.f.created", when(request.createdAt)),
    ...field("officer.f.warning", when(request.warningAt)),
    ...field("officer.f.due", when(request.dueAt)),
    ...field("officer.f.answering", departmentName(request.answeringDepartment)),
    ...(rejection
      ? field(
          "officer.f.rejection",
          `${t(`officer.reason.${suffix(rejection.reasonCode, "REJECTION_REASON_")}`)}：${rejection.reason}`,
        )
      : []),
  );
  renderMoreInfo(request);
  renderActions(request);
  renderAnswer(request);
}

function renderMoreInfo(request) {
  const exchanges = request.moreInfo || [];
  if (!exchanges.length) {
    $("more-info").replaceChildren();
    return;
  }
  $("more-info").replaceChildren(
    el("h3", {}, t("officer.moreInfo")),
    el(
      "ol",
      { class: "officer-exchanges" },
      exchanges.map((exchange) =>
        el(
          "li",
          {},
          el("p", {}, t("officer.moreInfo.question", { text: exchange.question })),
          el(
            "p",
            {},
            exchange.reply
              ? t("officer.moreInfo.reply", { text: exchange.reply })
              : t("officer.moreInfo.waiting"),
          ),
        ),
      ),
    ),
  );
}

/** The moves the state allows this department (docs/proofs.md, "States"). */
function allowedMoves(request) {
  const state = stateOf(request);
  const answering = request.answeringDepartment;
  if (answering && me && answering !== me.department) return [];
  if (state === "SUBMITTED") return ["accept", "reject", "ask"];
  if (state === "ACCEPTED") return ["answer", "reject", "ask"];
  return [];
}

function renderActions(request) {
  const moves = allowedMoves(request);
  const note = $("action-note");
  const state = stateOf(request);
  note.hidden = moves.length > 0;
  if (state === "NEEDS_MORE_INFO") note.textContent = t("officer.note.waiting");
  else if (request.answeringDepartment && me && request.answeringDepartment !== me.department)
    note.textContent = t("officer.note.otherDept");
  else note.textContent = t("officer.note.none");
  const buttons = {
    accept: () => act("accept", {}, "officer.done.accepted"),
    answer: () => showForm("answer"),
    reject: () => showForm("reject"),
    ask: () => showForm("ask"),
  };
  const labels = {
    accept: "officer.act.accept",
    answer: "officer.act.answer",
    reject: "officer.act.reject",
    ask: "officer.act.ask",
  };
  $("actions").replaceChildren(
    ...moves.map((move) =>
      el(
        "button",
        {
          type: "button",
          id: `act-${move}`,
          class: move === "accept" || move === "answer" ? null : "secondary",
          "aria-expanded": move === "accept" ? null : String(openForm === move),
          onclick: buttons[move],
        },
        t(labels[move]),
      ),
    ),
  );
  if (!moves.includes(openForm)) openForm = null;
  renderForm(request);
}

function showForm(name) {
  openForm = openForm === name ? null : name;
  const request = requests.get(openId);
  renderActions(request);
  const first = $("action-form").querySelector("input, select, textarea");
  if (first) first.focus();
}

function renderForm(request) {
  const box = $("action-form");
  if (openForm === "answer") box.replaceChildren(answerForm(request));
  else if (openForm === "reject") box.replaceChildren(rejectForm());
  else if (openForm === "ask") box.replaceChildren(askForm());
  else box.replaceChildren();
}

export function cancelButton() {
  return el(
    "button",
    { type: "button", class: "secondary", onclick: () => showForm(openForm) },
    t("officer.act.cancel"),
  );
}

function rejectForm() {
  const form = el(
    "form",
    { id: "reject-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.reject")),
    el("label", { for: "reject-code" }, t("officer.form.reasonCode")),
    el(
      "select",
      { id: "reject-code", name: "reasonCode" },
      REJECTION_REASONS.map((reason) =>
        el("option", { value: `REJECTION_REASON_${reason}` }, t(`officer.reason.${reason}`)),
      ),
    ),
    el("label", { for: "reject-reason" }, t("officer.form.reason")),
    el("textarea", { id: "reject-reason", name: "reason", rows: "2", maxlength: "2000" }),
    el("label", { for: "reject-suggested" }, t("officer.form.suggested")),
    el("input", {
      id: "reject-suggested",
      name: "suggested",
      maxlength: "18",
      autocomplete: "off",
      spellcheck: "false",
    }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "reject-submit" }, t("officer.form.submitReject")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      reasonCode: form.elements.namedItem("reasonCode").value,
      reason: form.elements.namedItem("reason").value.trim(),
    };
    const suggested = form.elements.namedItem("suggested").value.trim().toUpperCase();
    if (suggested) body.suggestedDepartment = suggested;
    act("reject", body, "officer.done.rejected");
  });
  return form;
}

function askForm() {
  const form = el(
    "form",
    { id: "ask-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.ask")),
    el("label", { for: "ask-question" }, t("officer.form.question")),
    el("textarea", { id: "ask-question", name: "question", rows: "3", maxlength: "2000" }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "ask-submit" }, t("officer.form.submitAsk")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(
      "askForMoreInfo",
      { question: form.elements.namedItem("question").value.trim() },
      "officer.done.asked",
    );
  });
  return form;
}

/** POST one step (`verb`: accept, answer, reject, askForMoreInfo) and show the result. */
export async function act(verb, body, resultKey) {
  const requestId = openId;
  const buttons = [...document.querySelectorAll("#actions button, #action-form button")];
  for (const button of buttons) button.disabled = true;
  showError($("action-error"), null);
  setDone("");
  try {
    const changed = await api(
      "POST",
      `/v1/proof-requests/${encodeURIComponent(requestId)}:${verb}`,
      body,
    );
    if (changed.request) remember(changed.request);
    openForm = null;
    if (requestId === openId) {
      renderDetail();
      setDone(resultKey);
      await loadHistory();
    }
    renderRows();
  } catch (error) {
    showError($("action-error"), error);
    for (const button of buttons) button.disabled = false;
  }
}

// --- the history -------------------------------------------------------------------------

function actorText(actor) {
  if (!actor) return "—";
  const role = suffix(actor.role, "ROLE_");
  const roleKey = role === "INTAKE_SYSTEM" ? "intake" : role.toLowerCase();
  const roleName = role === "SERVICE" ? t("officer.role.SERVICE") : t(`role.${roleKey}`);
  return [roleName, actor.subject, departmentName(actor.departmentCode)].filter(Boolean).join(" · ");
}

export function renderHistory() {
  $("history-rows").replaceChildren(
    ...history.map((event) => {
      const from = suffix(event.fromState, "PROOF_REQUEST_STATE_");
      const to = suffix(event.toState, "PROOF_REQUEST_STATE_");
      const change =
        from === "UNSPECIFIED" || from === to
          ? t(`officer.state.${to}`)
          : `${t(`officer.state.${from}`)} → ${t(`officer.state.${to}`)}`;
      return el(
        "tr",
        {},
        el("td", {}, String(event.sequence)),
        el("td", {}, when(event.occurredAt)),
        el("td", {}, t(`officer.event.${suffix(event.type, "PROOF_REQUEST_EVENT_TYPE_")}`)),
        el("td", {}, change, " ", markBadge(event)),
        el("td", {}, actorText(event.actor)),
        el("td", {}, event.reason || ""),
      );
    }),
  );
}
