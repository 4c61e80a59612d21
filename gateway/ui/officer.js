// The officer inbox (协查收件箱): the department's open proof requests (证明协查) by
// deadline with their SLA marks, kept live by the inbox stream; open one to see its
// details and history and to accept, answer, reject or ask for more information; an
// answer's signed SD-JWT is shown with its claims decoded. Only the gateway's public API:
//
//   GET  /v1/proof-requests:streamInbox?direction=INCOMING   live events (SSE)
//   GET  /v1/proof-requests?direction=INCOMING&states=...     the backlog, after the stream's first message
//   GET  /v1/proof-requests/{id}, /v1/proof-requests/{id}/events
//   POST /v1/proof-requests/{id}:accept | :answer | :reject | :askForMoreInfo
//   GET  /v1/proof-items, /v1/proof-items/{code}, /v1/departments   names for people
//
// This module is the page's wiring (its words, the header, the start and the ready flag);
// the parts are officer.messages.js (the words), officer.common.js (what was seen, names,
// helpers), officer.inbox.js (the live list), officer.request.js (details, history,
// steps) and officer.answer.js (the answer form and the decoded signed answer).
// The parts import each other's functions (a cycle ES modules allow: nothing is called
// while they load; officer.request.js reads `me` from here once the page has started).

import { applyI18n, header, register } from "./app.js";
import messages from "./officer.messages.js";
import { follow, redrawAnnouncements, renderRows, setLive } from "./officer.inbox.js";
import { doneKey, openId, renderDetail, renderHistory, setDone } from "./officer.request.js";
import { $, loadNames } from "./officer.common.js";

register(messages);

// Who is signed in (officer.request.js reads it for the steps this department may take).
export const me = header("page.officer");

// --- start -------------------------------------------------------------------------------

document.addEventListener("certfree:language", () => {
  const status = $("live-status");
  if (status.dataset.state !== "off") setLive(status.dataset.state);
  renderRows();
  redrawAnnouncements();
  setDone(doneKey);
  if (openId) {
    renderDetail();
    renderHistory();
  }
  applyI18n(document);
});

setLive("connecting");
renderRows();
if (me) {
  loadNames()
    .then(renderRows)
    .finally(() => {
      document.body.dataset.ready = "true";
      follow();
    });
} else {
  document.body.dataset.ready = "true";
}
