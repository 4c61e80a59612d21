// The auditor page's shared pieces: what each tab last drew, and the small helpers the
// tabs share (SVG elements, hashes, enum labels, times, facts, errors, catalogue names).

import { ApiError, api, el, language, t } from "./app.js";

export const SVG_NS = "http://www.w3.org/2000/svg";
export const PAGE_LIMIT = 20; // pages of events / catalogue entries read before giving up

// What was last drawn in each tab, drawn again when the language changes.
export const shown = { verify: null, history: null, stats: null };

// --- small helpers ---------------------------------------------------------------------

/** An SVG element (createElementNS); attrs as attributes, children nodes or strings. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The bytes of a protobuf-JSON `bytes` value (base64, standard or URL-safe). */
function base64Bytes(text) {
  const plain = String(text || "").replace(/-/g, "+").replace(/_/g, "/");
  const padded = plain + "=".repeat((4 - (plain.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function bytesBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function bytesHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A base64 hash as hex; "" when absent. */
export function hexOf(base64) {
  return base64 ? bytesHex(base64Bytes(base64)) : "";
}

/** A hash shortened for drawing: the first 8 and last 4 hex digits. */
export function shortHash(hex) {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** SHA-256 with WebCrypto. */
export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** An enum value without its prefix ("CHECK_OUTCOME_PASSED" → "PASSED"). */
export function bare(value, prefix) {
  return String(value || "").startsWith(prefix) ? String(value).slice(prefix.length) : String(value || "");
}

/** The label of an enum value under `keyPrefix`, or the raw value when there is none. */
export function label(keyPrefix, value) {
  const key = `${keyPrefix}${value}`;
  const text = t(key);
  return text === key ? value.toLowerCase().replace(/_/g, " ") : text;
}

function formatTime(iso) {
  if (!iso) return t("aud.none");
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleString(language(), {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function timeCell(iso) {
  return iso ? el("time", { datetime: iso }, formatTime(iso)) : t("aud.none");
}

/** A `<dl>` of [label, value] pairs (values are nodes or text); empty values are skipped. */
export function facts(pairs, extraClass = "") {
  return el(
    "dl",
    { class: `preview aud-facts ${extraClass}`.trim() },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
}

export function errorBox(error) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return el("p", { class: "error", role: "alert" }, t("app.error", { message }));
}

// Department and proof item names, read once (catalogue:read); codes stand in without them.
let catalogue = null;
export function names() {
  if (!catalogue) {
    catalogue = (async () => {
      const found = { departments: new Map(), items: new Map() };
      const readAll = async (path, field, into) => {
        let token = "";
        for (let page = 0; page < PAGE_LIMIT; page += 1) {
          const query = new URLSearchParams({ pageSize: "500" });
          if (token) query.set("pageToken", token);
          const answer = await api("GET", `${path}?${query}`);
          for (const entry of answer[field] || []) into.set(entry.code, entry.name || entry.code);
          token = answer.nextPageToken || "";
          if (!token) break;
        }
      };
      await Promise.allSettled([
        readAll("/v1/departments", "departments", found.departments),
        readAll("/v1/proof-items", "proofItems", found.items),
      ]);
      return found;
    })();
  }
  return catalogue;
}

export function departmentName(known, code) {
  const name = known.departments.get(code);
  return name && name !== code ? `${name} (${code})` : code;
}

export function stateLabel(value) {
  const state = bare(value, "PROOF_REQUEST_STATE_");
  return state && state !== "UNSPECIFIED" ? label("aud.state.", state) : "";
}
