// The officer inbox's shared parts: the proof requests, proof items and departments seen
// so far, the names for people (catalogue reads), and the small helpers every part of the
// page uses (states, SLA marks, times, errors, a details row). It draws nothing itself.

import { ApiError, api, el, language, t } from "./app.js";

export const OPEN_STATES = ["SUBMITTED", "ACCEPTED", "NEEDS_MORE_INFO"];
const MARK_CLASS = { ON_TIME: "mark-ok", WARNING: "mark-yellow", OVERDUE: "mark-red" };

export const requests = new Map(); // requestId → the latest ProofRequest seen (list, stream or action)
export const items = new Map(); // proof item code → ProofItem
export const departments = new Map(); // USCC → name

// --- small helpers -----------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);
export const suffix = (value, prefix) => String(value || "").replace(prefix, "") || "UNSPECIFIED";
export const stateOf = (request) => suffix(request.state, "PROOF_REQUEST_STATE_");
export const markOf = (request) => suffix(request.slaMark, "SLA_MARK_");
export const isOpen = (request) => OPEN_STATES.includes(stateOf(request));
export const sequenceOf = (request) => Number(request.lastEventSequence || 0);

export function when(instant, dateStyle = "medium") {
  if (!instant) return "—";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return new Intl.DateTimeFormat(language(), { dateStyle, timeStyle: "short" }).format(date);
}

export function itemName(code) {
  const item = items.get(code);
  return item ? item.name : code;
}

export function departmentName(code) {
  if (!code) return "—";
  const name = departments.get(code);
  return name ? `${name}（${code}）` : code;
}

export function caseOf(request) {
  return request.purpose?.caseReference || request.requestId;
}

export function markBadge(request) {
  const mark = markOf(request);
  return el(
    "span",
    { class: MARK_CLASS[mark] || "mark-ok", dataset: { mark } },
    t(`officer.mark.${mark}`),
    request.escalated ? ` · ${t("officer.escalated")}` : "",
  );
}

export function stateText(request) {
  return t(`officer.state.${stateOf(request)}`);
}

export function messageOf(error) {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/** The field violations of an ApiError's google.rpc.BadRequest, as "field: description". */
function violationsOf(error) {
  if (!(error instanceof ApiError)) return [];
  const bad = error.details.find((d) => String(d["@type"] || "").endsWith("google.rpc.BadRequest"));
  return (bad?.fieldViolations || []).map((v) => `${v.field}: ${v.description}`);
}

export function showError(node, error) {
  if (!error) {
    node.hidden = true;
    node.replaceChildren();
    return;
  }
  const violations = violationsOf(error);
  node.replaceChildren(
    t("app.error", { message: messageOf(error) }),
    ...(violations.length
      ? [el("ul", { class: "officer-plain" }, violations.map((v) => el("li", {}, v)))]
      : []),
  );
  node.hidden = false;
}

export function field(labelKey, ...value) {
  return [el("dt", {}, t(labelKey)), el("dd", {}, ...value)];
}

// --- names for people (catalogue reads; missing names fall back to codes) ----------------

export async function loadNames() {
  const [itemList, departmentList] = await Promise.allSettled([
    api("GET", "/v1/proof-items?pageSize=500"),
    api("GET", "/v1/departments?pageSize=500"),
  ]);
  if (itemList.status === "fulfilled") {
    for (const item of itemList.value.proofItems || []) items.set(item.code, item);
  }
  if (departmentList.status === "fulfilled") {
    for (const department of departmentList.value.departments || []) {
      departments.set(department.code, department.name);
    }
  }
}

export async function itemOf(code) {
  if (!items.has(code)) {
    try {
      items.set(code, await api("GET", `/v1/proof-items/${encodeURIComponent(code)}`));
    } catch {
      return null;
    }
  }
  return items.get(code);
}

// --- the requests seen ------------------------------------------------------------------

/** Keep `request` unless a later version of it is already known. Returns true when kept. */
export function remember(request) {
  const known = requests.get(request.requestId);
  if (known && sequenceOf(known) > sequenceOf(request)) return false;
  requests.set(request.requestId, request);
  return true;
}
