// The clerk console's shared pieces: what the page knows (catalogue names, proof items,
// what to redraw on a language change), the holder identifier hint, and small helpers.

import { api, el, language, t } from "./app.js";

export const $ = (id) => document.getElementById(id);

// What the page knows: names from the catalogues, the proof items, the watched request
// (clerk.request.js); the form's idempotency key is in clerk.proof.js.
export const names = { licenseTypes: new Map(), departments: new Map() };
export const items = new Map();
export const redraws = []; // what to draw again when the language changes

// --- holder identifiers: a hint only, the server decides ----------------------------------

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 11643 (ISO 7064 MOD 11-2) check character of 17 digits. */
function residentCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  return "10X98765432"[sum % 11];
}

/** GB 32100 check character of 17 characters of the USCC alphabet. */
function usccCheck(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += USCC_ALPHABET.indexOf(first17[i]) * USCC_WEIGHTS[i];
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/** {kind: "residentId"|"uscc"|null, ok, hint}: what `value` looks like and whether it checks. */
export function classify(value) {
  const id = value.trim().toUpperCase();
  if (!id) return { id, kind: null, ok: false, hint: "" };
  const resident = /^[0-9]{17}[0-9X]$/.test(id);
  const uscc = new RegExp(`^[${USCC_ALPHABET}]{18}$`).test(id);
  if (resident && residentCheck(id.slice(0, 17)) === id[17]) {
    return { id, kind: "residentId", ok: true, hint: "clerk.hint.residentOk" };
  }
  if (uscc && usccCheck(id.slice(0, 17)) === id[17]) {
    return { id, kind: "uscc", ok: true, hint: "clerk.hint.usccOk" };
  }
  if (id.length !== 18) return { id, kind: null, ok: false, hint: "clerk.hint.length", n: id.length };
  if (resident) return { id, kind: "residentId", ok: false, hint: "clerk.hint.residentBad" };
  if (uscc) return { id, kind: "uscc", ok: false, hint: "clerk.hint.usccBad" };
  return { id, kind: null, ok: false, hint: "clerk.hint.chars" };
}

/** A HolderRef for the API, or null when the value is no identifier at all. */
export function holderRef(value) {
  const found = classify(value);
  if (found.kind === "residentId") return { residentId: found.id };
  if (found.kind === "uscc") return { uscc: found.id };
  return null;
}

export function showHint(input, hint) {
  const found = classify(input.value);
  hint.textContent = found.hint ? t(found.hint, { n: found.n }) : "";
  hint.className = found.hint && !found.ok ? "clerk-help clerk-warn" : "clerk-help";
}

// --- small helpers --------------------------------------------------------------------------

export function formatTime(value, withTime = true) {
  if (!value) return "—";
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return String(value);
  const options = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(language(), options).format(when);
}

export function departmentName(code) {
  const name = names.departments.get(code);
  return name ? `${name} (${code})` : code;
}

export function showError(node, error) {
  if (!error) {
    node.hidden = true;
    node.textContent = "";
    return;
  }
  node.textContent = t("app.error", { message: error.message || String(error) });
  node.hidden = false;
}

export function mark(cls, text) {
  return el("span", { class: cls, text });
}

/** A fresh idempotency key: the same one is reused when the same request is retried. */
export function newClientRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `clerk-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function listAll(path, field) {
  const found = [];
  let token = "";
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await api("GET", token ? `${path}${separator}pageToken=${encodeURIComponent(token)}` : path);
    found.push(...(page[field] || []));
    token = page.nextPageToken || "";
  } while (token && found.length < 2000);
  return found;
}
