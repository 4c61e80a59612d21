// The auditor page's Request history tab: one proof request (GET /v1/proof-requests/{id})
// and its whole event trail (GET /v1/proof-requests/{id}/events, every page) as a table.

import { api, el, t } from "./app.js";
import { PAGE_LIMIT, bare, departmentName, errorBox, facts, label, names, shown, stateLabel, timeCell } from "./auditor.common.js";

// --- 2. history --------------------------------------------------------------------------

export async function onHistory(event) {
  event.preventDefault();
  const id = document.getElementById("request-id").value.trim();
  const result = document.getElementById("history-result");
  if (!id) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.history.empty")));
    return;
  }
  const button = document.getElementById("history-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("app.loading")));
  try {
    const path = `/v1/proof-requests/${encodeURIComponent(id)}`;
    const [request, events, known] = await Promise.all([api("GET", path), allEvents(path), names()]);
    shown.history = () => renderHistory(request, events, known);
    result.replaceChildren(shown.history());
  } catch (error) {
    shown.history = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

async function allEvents(path) {
  const events = [];
  let token = "";
  for (let page = 0; page < PAGE_LIMIT; page += 1) {
    const query = new URLSearchParams({ pageSize: "500" });
    if (token) query.set("pageToken", token);
    const answer = await api("GET", `${path}/events?${query}`);
    events.push(...(answer.events || []));
    token = answer.nextPageToken || "";
    if (!token) break;
  }
  return events;
}

const SLA_MARK = { ON_TIME: ["mark-ok", "mark.ok"], WARNING: ["mark-yellow", "mark.yellow"], OVERDUE: ["mark-red", "mark.red"] };

function slaMark(value) {
  const mark = SLA_MARK[bare(value, "SLA_MARK_")];
  return mark ? el("span", { class: mark[0] }, t(mark[1])) : t("aud.none");
}

function roleLabel(value) {
  const role = bare(value, "ROLE_");
  if (role === "SERVICE") return t("aud.role.ROLE_SERVICE");
  const key = role === "INTAKE_SYSTEM" ? "role.intake" : `role.${role.toLowerCase()}`;
  const text = t(key);
  return text === key ? role.toLowerCase() : text;
}

function renderHistory(request, events, known) {
  const outcome = bare(request.answer?.outcome, "PROOF_OUTCOME_");
  const purpose = request.purpose ? `${request.purpose.purpose || ""} / ${request.purpose.caseReference || ""}` : "";
  const summary = el(
    "section",
    { class: "card", "aria-labelledby": "request-heading" },
    el("h2", { id: "request-heading" }, t("aud.history.request", { id: request.requestId })),
    facts([
      [t("aud.req.item"), known.items.get(request.proofItemCode) ? `${known.items.get(request.proofItemCode)} (${request.proofItemCode})` : request.proofItemCode],
      [t("aud.req.route"), label("aud.route.", bare(request.route, "PROOF_ROUTE_"))],
      [t("aud.req.requesting"), departmentName(known, request.requestingDepartment)],
      [t("aud.req.requestedBy"), request.requestedBy],
      [t("aud.req.targets"), (request.targetDepartments || []).map((code) => departmentName(known, code)).join("; ")],
      [t("aud.req.answering"), request.answeringDepartment && departmentName(known, request.answeringDepartment)],
      [t("aud.req.state"), el("span", { id: "request-state" }, stateLabel(request.state))],
      [t("aud.req.mark"), slaMark(request.slaMark)],
      [t("aud.req.escalated"), t(request.escalated ? "aud.yes" : "aud.no")],
      [t("aud.req.purpose"), purpose],
      [t("aud.req.created"), timeCell(request.createdAt)],
      [t("aud.req.due"), request.dueAt && timeCell(request.dueAt)],
      [t("aud.req.outcome"), outcome && outcome !== "UNSPECIFIED" ? label("aud.outcomeP.", outcome) : ""],
    ]),
  );
  const table = el(
    "table",
    { id: "history-table" },
    el("caption", {}, t("aud.history.trail", { count: events.length })),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["seq", "time", "actor", "action", "change", "mark", "note", "ledger"].map((key) =>
          el("th", { scope: "col" }, t(`aud.history.${key}`)),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      events.map((event) => {
        const actor = event.actor || {};
        const from = stateLabel(event.fromState);
        const to = stateLabel(event.toState);
        const change = from && to && from !== to ? `${from} → ${to}` : to || from || t("aud.none");
        const type = bare(event.type, "PROOF_REQUEST_EVENT_TYPE_");
        return el(
          "tr",
          { dataset: { event: type } },
          el("th", { scope: "row" }, String(event.sequence ?? "")),
          el("td", {}, timeCell(event.occurredAt)),
          el("td", {}, [departmentName(known, actor.departmentCode || ""), roleLabel(actor.role), actor.subject].filter(Boolean).join(" / ")),
          el("td", { class: "aud-action" }, label("aud.event.", type)),
          el("td", {}, change),
          el("td", {}, slaMark(event.slaMark)),
          el("td", {}, event.reason || ""),
          el("td", {}, event.ledgerIndex ?? ""),
        );
      }),
    ),
  );
  return el("div", {}, summary, el("section", { class: "card aud-scroll" }, table));
}
