// The auditor page (auditor, supervisor, operator): three tabs.
//
//   Verify       paste or upload a license (SD-JWT → POST /v1/licenses:verify) or a ledger
//                receipt (C2SP tlog-proof → POST /v1/ledger/receipts:verify, with the
//                artefact's SHA-256 computed here by WebCrypto and the verifier key the
//                auditor was given); every check in order, and the receipt's Merkle audit
//                path drawn as inline SVG from the answer's `auditPath`.
//   History      one proof request (GET /v1/proof-requests/{id}) and its full event trail
//                (GET /v1/proof-requests/{id}/events), as a timeline table.
//   Statistics   GET /v1/proof-requests:statistics as SVG bar charts of the on-time rate
//                per department and per proof item, with a data table beside them.
//
// Everything shown from the API is set as text (el(), textContent); the drawings are
// built with createElementNS, styled by classes in style.css (the CSP forbids `style`).
//
// This module wires the page (tabs, header, ready flag); each tab is its own module:
// auditor.verify.js (with auditor.merkle.js), auditor.history.js, auditor.stats.js;
// auditor.common.js holds what they share, auditor.messages.js the labels.

import { applyI18n, el, header, register, t } from "./app.js";
import messages from "./auditor.messages.js";
import { shown } from "./auditor.common.js";
import { onHistory } from "./auditor.history.js";
import { onStats } from "./auditor.stats.js";
import { onArtefactFile, onTextFile, onVerify, showDetected, verifyState } from "./auditor.verify.js";

register(messages);

// --- tabs ------------------------------------------------------------------------------

function setUpTabs(allowed) {
  const tabs = [...document.querySelectorAll("[role='tab']")];
  for (const tab of tabs) {
    if (!allowed.includes(tab.id)) tab.hidden = true;
  }
  const visible = () => tabs.filter((tab) => !tab.hidden);
  const select = (chosen, focus) => {
    for (const tab of tabs) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) chosen.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const list = visible();
      const at = list.indexOf(tab);
      const next = {
        ArrowRight: list[(at + 1) % list.length],
        ArrowLeft: list[(at - 1 + list.length) % list.length],
        Home: list[0],
        End: list[list.length - 1],
      }[event.key];
      if (next) {
        event.preventDefault();
        select(next, true);
      }
    });
  }
  select(visible()[0], false);
}

// --- start -------------------------------------------------------------------------------

function start() {
  const kept = header("page.auditor");
  const operator = kept?.role === "operator";
  setUpTabs(operator ? ["tab-verify"] : ["tab-verify", "tab-history", "tab-stats"]);
  if (operator) {
    document
      .getElementById("panel-verify")
      .prepend(el("p", { class: "card aud-note", "data-i18n": "aud.opOnly" }, t("aud.opOnly")));
  }
  const text = document.getElementById("artefact-text");
  text.addEventListener("input", () => {
    verifyState.fromLicense = null;
    showDetected();
  });
  document.getElementById("text-file").addEventListener("change", onTextFile);
  document.getElementById("artefact-file").addEventListener("change", onArtefactFile);
  document.getElementById("verify-form").addEventListener("submit", onVerify);
  document.getElementById("history-form").addEventListener("submit", onHistory);
  document.getElementById("stats-form").addEventListener("submit", onStats);
  document.addEventListener("certfree:language", () => {
    showDetected();
    for (const [tab, draw] of Object.entries(shown)) {
      if (draw) document.getElementById(`${tab}-result`).replaceChildren(draw());
    }
  });
  showDetected();
  applyI18n(document);
  document.body.dataset.ready = "true";
}

start();
