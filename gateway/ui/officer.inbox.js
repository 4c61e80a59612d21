// The officer inbox's list (协查收件箱): the department's open proof requests by deadline
// with their SLA marks, kept live by the inbox stream (the backlog is listed after the
// stream's first message), the live status line, and the announcements of arrivals and
// changes for screen readers. Opening a request is officer.request.js's job.

import { api, el, stream, t } from "./app.js";
import { loadHistory, openId, openRequest, renderDetail } from "./officer.request.js";
import {
  $,
  OPEN_STATES,
  caseOf,
  departmentName,
  isOpen,
  itemName,
  itemOf,
  markBadge,
  markOf,
  messageOf,
  remember,
  requests,
  showError,
  stateOf,
  stateText,
  suffix,
  when,
} from "./officer.common.js";

const INCOMING = "REQUEST_DIRECTION_INCOMING";
const LIST_PAGES = 10; // at most 10 × 200 open requests are listed; more would not be read anyway

const announced = []; // [key, params] of the latest announcements, redrawn in either language

function announce(key, params) {
  // A new node each time, so screen readers read every arrival (aria-live="polite").
  announced.push([key, params]);
  while (announced.length > 3) announced.shift();
  const live = $("live");
  live.append(announcement(key, params));
  while (live.childNodes.length > 3) live.firstChild.remove();
}

function announcement(key, params) {
  const what = params.event ? t(`officer.event.${params.event}`) : "";
  return el("span", { class: "officer-announced" }, t(key, { ...params, what }));
}

export function redrawAnnouncements() {
  $("live").replaceChildren(...announced.map(([key, params]) => announcement(key, params)));
}

export function setLive(state, message = "") {
  const status = $("live-status");
  status.dataset.state = state;
  status.textContent = t(`officer.live.${state}`, { message });
}

// --- the list ----------------------------------------------------------------------------

function byDeadline(a, b) {
  const due = (request) => (request.dueAt ? Date.parse(request.dueAt) : Infinity);
  return due(a) - due(b) || String(a.createdAt).localeCompare(String(b.createdAt));
}

export function renderRows() {
  const open = [...requests.values()].filter(isOpen).sort(byDeadline);
  const rows = open.map((request) =>
    el(
      "tr",
      {
        dataset: { requestId: request.requestId, state: stateOf(request), mark: markOf(request) },
        class: request.requestId === openId ? "officer-current" : null,
      },
      el("td", {}, itemName(request.proofItemCode)),
      el("td", {}, departmentName(request.requestingDepartment)),
      el("td", {}, caseOf(request)),
      el("td", {}, stateText(request)),
      el("td", {}, when(request.dueAt, "short")),
      el("td", {}, markBadge(request)),
      el(
        "td",
        {},
        el(
          "button",
          {
            type: "button",
            class: "secondary",
            "aria-label": t("officer.openFor", { case: caseOf(request) }),
            onclick: () => openRequest(request.requestId),
          },
          t("officer.open"),
        ),
      ),
    ),
  );
  $("request-rows").replaceChildren(...rows);
  $("no-requests").hidden = open.length > 0;
  $("requests").hidden = open.length === 0;
}

async function listBacklog() {
  let pageToken = "";
  for (let page = 0; page < LIST_PAGES; page += 1) {
    const query = new URLSearchParams({ direction: INCOMING, pageSize: "200" });
    for (const state of OPEN_STATES) query.append("states", `PROOF_REQUEST_STATE_${state}`);
    if (pageToken) query.set("pageToken", pageToken);
    const listed = await api("GET", `/v1/proof-requests?${query}`);
    for (const request of listed.requests || []) remember(request);
    pageToken = listed.nextPageToken || "";
    if (!pageToken) break;
  }
  await Promise.all(
    [...new Set([...requests.values()].map((request) => request.proofItemCode))].map(itemOf),
  );
  renderRows();
}

// --- live: the inbox stream --------------------------------------------------------------

let backlogListed = false;
let queue = Promise.resolve(); // inbox messages are handled one after another, in order

async function onInbox(message) {
  if (!backlogListed) {
    // The first message marks the live end: list what came before it, then follow.
    backlogListed = true;
    setLive("on");
    try {
      await listBacklog();
      showError($("inbox-error"), null);
    } catch (error) {
      showError($("inbox-error"), error);
    }
  }
  for (const inbox of message.events || []) {
    const request = inbox.request;
    if (!request) continue;
    const known = requests.has(request.requestId);
    if (!remember(request)) continue;
    await itemOf(request.proofItemCode);
    const type = suffix(inbox.event?.type, "PROOF_REQUEST_EVENT_TYPE_");
    if (!known && isOpen(request)) {
      announce("officer.announce.new", {
        item: itemName(request.proofItemCode),
        case: caseOf(request),
        from: departmentName(request.requestingDepartment),
      });
    } else {
      announce("officer.announce.changed", {
        case: caseOf(request),
        event: type,
      });
    }
    if (request.requestId === openId) {
      renderDetail();
      loadHistory();
    }
  }
  renderRows();
}

export async function follow() {
  setLive("connecting");
  try {
    await stream(`/v1/proof-requests:streamInbox?direction=${INCOMING}`, (message) => {
      queue = queue.then(() => onInbox(message));
    });
  } catch (error) {
    setLive("off", messageOf(error));
    if (!backlogListed) {
      backlogListed = true;
      listBacklog().catch((listError) => showError($("inbox-error"), listError));
    }
  }
}
