// The clerk console (窗口受理): one case (办件) at the window with the applicant there.
//
//   1. the case: number and purpose, kept for the session, sent with every lookup;
//   2. the applicant's licenses (ListHolderLicenses) and a check of each (VerifyLicense);
//   3. a missing document: a proof item (ListProofItems) and a proof request
//      (CreateProofRequest), watched live on the department's outgoing inbox stream
//      (StreamInbox) and by its history (ListProofRequestEvents) until the answer arrives,
//      then downloaded (a Blob link) or printed;
//   4. accept with gaps (容缺受理): a commitment with a due date (RecordCommitment).
//
// Only the gateway's public API, with the signed-in session; text from the API is text.
//
// This module wires the page (header, set-ups, language, ready flag): clerk.lookup.js (the
// case and the licenses), clerk.proof.js (the missing document), clerk.request.js (the
// watched request and its answer); clerk.common.js holds what they share,
// clerk.messages.js the labels.

import { applyI18n, header, register } from "./app.js";
import messages from "./clerk.messages.js";
import { $, listAll, names, newClientRequestId, redraws, showError, showHint } from "./clerk.common.js";
import { setUpCase, setUpLookup } from "./clerk.lookup.js";
import { clientRequestId, drawItemInfo, loadItems, relabelItems, setClientRequestId, setUpProof } from "./clerk.proof.js";
import { current, drawRequest, followInbox, loadHistory, setUpAnswer } from "./clerk.request.js";

register(messages);

// --- start --------------------------------------------------------------------------------------

async function loadNames() {
  const [types, departments] = await Promise.all([
    listAll("/v1/license-types?pageSize=500", "licenseTypes").catch(() => []),
    listAll("/v1/departments?pageSize=500", "departments").catch(() => []),
  ]);
  for (const type of types) names.licenseTypes.set(type.code, type.name);
  for (const department of departments) names.departments.set(department.code, department.name);
}

async function start() {
  const kept = header("page.clerk");
  setUpAnswer();
  setUpCase();
  setUpLookup();
  setUpProof();
  document.addEventListener("certfree:language", () => {
    applyI18n(document);
    relabelItems();
    const input = $("holder-id");
    if (input.value) showHint(input, $("holder-hint"));
    if ($("proof-item").value) {
      const keep = clientRequestId;
      drawItemInfo();
      setClientRequestId(keep);
    }
    for (const entry of redraws) entry.draw();
    drawRequest();
    if (current) loadHistory();
  });
  if (kept) {
    try {
      await Promise.all([loadNames(), loadItems()]);
    } catch (error) {
      showError($("proof-error"), error);
    }
    setClientRequestId(newClientRequestId());
    followInbox();
  }
  document.body.dataset.ready = "true";
}

start();
