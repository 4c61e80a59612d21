// The holder's access view: a resident or a company, signed in with a holder token
// (its subject is their holder index token, never their ID), sees their own licenses,
// every department's lookup of them, and every proof request about them.
//
// The page asks once for the resident ID or USCC (kept in sessionStorage only, gone when
// the tab closes) because the services index holders by a keyed HMAC the browser cannot
// compute: the request names the holder, and the services compare its index token with
// the token's subject, refusing any other holder (403, reason HOLDER_MISMATCH).
// Routes: POST /v1/licenses:listByHolder, /v1/licenses:listAccesses and
// /v1/proof-requests:listByHolder (no purpose or case: a holder reads their own). When
// the token may read the catalogues (scope catalogue:read) departments, license types
// and proof items are shown by name; otherwise by code.
//
// This module is the page's wiring (its words, the header, the ID form, the ready flag);
// holder.messages.js holds the words and holder.sections.js the three lists.

import { applyI18n, header, register, t } from "./app.js";
import messages from "./holder.messages.js";
import { MISMATCH, loadNames, refusesTheId, sections } from "./holder.sections.js";

register(messages);

const ID_KEY = "certfree.holder.id";
const RESIDENT_ID = /^[0-9]{17}[0-9X]$/;
const USCC = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

// The catalogue names (holder.sections.js keeps them), loaded once.
let namesLoaded = null;

// --- the page --------------------------------------------------------------------------

function holderRef(id, kept) {
  // The token's subject says which kind of holder signed in (p: a person, o: an
  // organisation); only an all-digit ID could be read as either.
  const subject = String(kept.subject || "");
  if (subject.startsWith("o:")) return { uscc: id };
  if (subject.startsWith("p:")) return { residentId: id };
  return RESIDENT_ID.test(id) ? { residentId: id } : { uscc: id };
}

function masked(id) {
  return id.slice(0, 6) + "*".repeat(Math.max(0, id.length - 10)) + id.slice(-4);
}

function main() {
  const kept = header("page.holder");
  const ask = document.getElementById("holder-ask");
  const form = document.getElementById("holder-form");
  const input = document.getElementById("holder-id");
  const error = document.getElementById("holder-error");
  const records = document.getElementById("holder-records");
  const whose = document.getElementById("holder-whose");
  const place = document.getElementById("holder-sections");
  let shown = [];
  let currentId = "";
  let problem = null; // [key, params] of the form's error, redrawn on a language change

  if (!kept || kept.role !== "holder") {
    document.getElementById("holder-wrong-role").hidden = false;
    applyI18n(document);
    document.body.dataset.ready = "true";
    return;
  }

  const renderWhose = () => {
    whose.textContent = currentId ? t("holder.whose", { id: masked(currentId) }) : "";
  };

  const renderProblem = () => {
    error.textContent = problem ? t(...problem) : "";
    error.hidden = !problem;
    input.setAttribute("aria-invalid", problem ? "true" : "false");
  };

  const askAgain = (found) => {
    sessionStorage.removeItem(ID_KEY);
    currentId = "";
    shown = [];
    place.replaceChildren();
    records.hidden = true;
    ask.hidden = false;
    problem = found;
    renderProblem();
    input.focus();
  };

  const open = async (id) => {
    currentId = id;
    sessionStorage.setItem(ID_KEY, id);
    problem = null;
    renderProblem();
    ask.hidden = true;
    records.hidden = false;
    renderWhose();
    shown = sections(holderRef(id, kept));
    place.replaceChildren(...shown.map((section) => section.node));
    applyI18n(place);
    namesLoaded ??= loadNames(kept);
    await namesLoaded;
    try {
      // The licenses first: when the ID is not the signed-in holder's, the one refusal
      // says so, and the other two are not asked.
      await shown[0].show(0);
      await Promise.all(shown.slice(1).map((section) => section.show(0)));
    } catch (refused) {
      if (!refusesTheId(refused)) throw refused;
      askAgain(
        refused.reason === MISMATCH ? ["holder.mismatch"] : ["holder.invalid", { message: refused.message }],
      );
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = input.value.replace(/\s+/g, "").toUpperCase();
    if (!RESIDENT_ID.test(id) && !USCC.test(id)) {
      problem = ["holder.badForm"];
      renderProblem();
      return;
    }
    await open(id);
  });

  document.getElementById("holder-change").addEventListener("click", () => askAgain(""));
  document.addEventListener("certfree:language", () => {
    renderWhose();
    for (const section of shown) section.render();
    renderProblem();
  });

  const remembered = sessionStorage.getItem(ID_KEY);
  const ready = () => {
    document.body.dataset.ready = "true";
  };
  if (remembered) {
    open(remembered).finally(ready);
  } else {
    ask.hidden = false;
    ready();
  }
}

main();
