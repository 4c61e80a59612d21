// The holder's three lists (my licenses, who looked me up, proof requests about me): the
// names from the catalogues, the table cells of each kind of record, and PagedSection, one
// card paged with previous/next; sections(holder) builds the three for one holder.

import { ApiError, api, decodeToken, el, language, t } from "./app.js";

const DEFAULT_PAGE_SIZE = 20;
const CATALOGUE_PAGE_SIZE = 500;
export const MISMATCH = "HOLDER_MISMATCH";

// The API's role enum names to app.js's role words.
const ROLE_WORDS = {
  ROLE_INTAKE_SYSTEM: "role.intake",
  ROLE_CLERK: "role.clerk",
  ROLE_OFFICER: "role.officer",
  ROLE_ISSUER: "role.issuer",
  ROLE_SUPERVISOR: "role.supervisor",
  ROLE_AUDITOR: "role.auditor",
  ROLE_OPERATOR: "role.operator",
  ROLE_HOLDER: "role.holder",
  ROLE_SERVICE: "role.ROLE_SERVICE",
};
const STATUS_MARKS = {
  LICENSE_STATUS_VALID: "mark-ok",
  LICENSE_STATUS_SUSPENDED: "mark-yellow",
};
const STATE_MARKS = {
  PROOF_REQUEST_STATE_ANSWERED: "mark-ok",
  PROOF_REQUEST_STATE_CLOSED: "mark-ok",
  PROOF_REQUEST_STATE_SUBMITTED: "mark-yellow",
  PROOF_REQUEST_STATE_ACCEPTED: "mark-yellow",
  PROOF_REQUEST_STATE_NEEDS_MORE_INFO: "mark-yellow",
  PROOF_REQUEST_STATE_REJECTED: "mark-red",
  PROOF_REQUEST_STATE_EXPIRED: "mark-red",
};

// Names from the catalogues, when the token may read them (else codes are shown).
const names = { departments: new Map(), licenseTypes: new Map(), proofItems: new Map() };

/** `?pageSize=N` (1-500) overrides the page size: handy for a long history, and for tests. */
function pageSize() {
  const asked = Number.parseInt(new URLSearchParams(location.search).get("pageSize") || "", 10);
  return Number.isInteger(asked) && asked >= 1 && asked <= 500 ? asked : DEFAULT_PAGE_SIZE;
}

/** Whether the session may read the catalogues: a token with catalogue:read, or dev identity. */
function mayReadCatalogues(kept) {
  if (!kept.token) return true;
  try {
    return String(decodeToken(kept.token).scope || "").split(" ").includes("catalogue:read");
  } catch {
    return false;
  }
}

async function listAll(path, field) {
  const found = [];
  let token = "";
  do {
    const query = new URLSearchParams({ pageSize: String(CATALOGUE_PAGE_SIZE) });
    if (token) query.set("pageToken", token);
    const answer = await api("GET", `${path}?${query}`);
    found.push(...(answer[field] || []));
    token = answer.nextPageToken || "";
  } while (token);
  return found;
}

export async function loadNames(kept) {
  if (!mayReadCatalogues(kept)) return;
  const [departments, types, items] = await Promise.allSettled([
    listAll("/v1/departments", "departments"),
    listAll("/v1/license-types", "licenseTypes"),
    listAll("/v1/proof-items", "proofItems"),
  ]);
  // Names are a help, not the records: a catalogue that does not answer leaves codes.
  if (departments.status === "fulfilled") {
    for (const d of departments.value) names.departments.set(d.code, d.name);
  }
  if (types.status === "fulfilled") {
    for (const type of types.value) names.licenseTypes.set(type.code, type.name);
  }
  if (items.status === "fulfilled") {
    for (const item of items.value) names.proofItems.set(item.code, item);
  }
}

// --- cells -----------------------------------------------------------------------------

function named(code, name) {
  if (!code) return el("span", { text: "—" });
  if (!name) return el("code", { class: "holder-code", text: code });
  // The name is what a holder knows; the code stays at hand as the tooltip.
  return el("span", { title: code, text: name });
}

function department(code) {
  return named(code, names.departments.get(code));
}

function formatTime(value) {
  if (!value) return "—";
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return String(value);
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(instant);
}

function formatDate(value) {
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return String(value);
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium" }).format(instant);
}

function timeCell(value, stacked = false) {
  if (!stacked || !value || Number.isNaN(new Date(value).getTime())) {
    return el("time", { class: "holder-time", datetime: value || null, text: formatTime(value) });
  }
  // Narrow columns: the date on one line, the time of day below it.
  const instant = new Date(value);
  const time = new Intl.DateTimeFormat(language(), { timeStyle: "short" }).format(instant);
  return el("time", { class: "holder-time", datetime: value }, formatDate(value), el("br"), time);
}

function mark(className, text) {
  return el("span", { class: className || "holder-plain", text });
}

function roleText(role) {
  return ROLE_WORDS[role] ? t(ROLE_WORDS[role]) : String(role || "—");
}

function enumText(prefix, value) {
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value || "—") : text;
}

function licenseRow(license) {
  const validity = license.validUntil
    ? t("validity.range", { from: formatDate(license.validFrom), until: formatDate(license.validUntil) })
    : t("validity.open", { from: formatDate(license.validFrom) });
  return [
    named(license.licenseTypeCode, names.licenseTypes.get(license.licenseTypeCode)),
    el(
      "span",
      {},
      el("code", { class: "holder-id", text: license.licenseId }),
      el("br"),
      el("span", { class: "holder-muted", text: t("license.version", { version: license.version }) }),
    ),
    department(license.issuerDepartment),
    mark(STATUS_MARKS[license.status] || "mark-red", enumText("status", license.status)),
    el("span", { text: validity }),
  ];
}

function accessRow(access) {
  const disclosed = access.disclosedClaims || [];
  return [
    timeCell(access.accessedAt),
    department(access.departmentCode),
    el("span", {}, roleText(access.role), access.subject ? el("br") : null, access.subject ? el("span", { class: "holder-muted", text: access.subject }) : null),
    el(
      "span",
      {},
      enumText("kind", access.kind),
      access.licenseId ? [el("br"), el("code", { class: "holder-id", text: access.licenseId })] : null,
      disclosed.length ? [el("br"), t("kind.disclosed", { claims: disclosed.join(", ") })] : null,
    ),
    el("span", { text: access.purpose?.purpose || "—" }),
    el("code", { class: "holder-case", text: access.purpose?.caseReference || "—" }),
  ];
}

function claimTitle(item, name) {
  const definition = (item?.answerClaims || []).find((claim) => claim.name === name);
  return definition?.title || name;
}

function answerCell(request, item) {
  const answer = request.answer;
  if (request.rejection && request.rejection.reason) {
    return el("span", { text: t("answer.rejected", { reason: request.rejection.reason }) });
  }
  if (!answer || !answer.outcome || answer.outcome === "PROOF_OUTCOME_UNSPECIFIED") {
    return el("span", { class: "holder-muted", text: t("answer.none") });
  }
  const claims = Object.entries(answer.claims || {});
  return el(
    "div",
    { class: "holder-answer" },
    el("strong", { text: enumText("outcome", answer.outcome) }),
    answer.answeredAt ? [el("br"), timeCell(answer.answeredAt, true)] : null,
    claims.length
      ? el(
          "dl",
          { class: "holder-claims" },
          claims.map(([name, value]) => [
            el("dt", { text: claimTitle(item, name) }),
            el("dd", { text: typeof value === "object" ? JSON.stringify(value) : String(value) }),
          ]),
        )
      : null,
    answer.explanation ? el("p", { class: "holder-muted", text: answer.explanation }) : null,
    answer.sdJwt ? el("p", { class: "holder-muted", text: t("answer.signed") }) : null,
  );
}

function requestRow(request) {
  const item = names.proofItems.get(request.proofItemCode);
  const answering = request.answeringDepartment || request.answer?.answeringDepartment || "";
  const targets = request.targetDepartments || [];
  return [
    timeCell(request.createdAt, true),
    named(request.proofItemCode, item?.name),
    department(request.requestingDepartment),
    answering
      ? department(answering)
      : targets.length
        ? el("span", {}, t("answer.sentTo"), targets.map((code) => [el("br"), department(code)]))
        : el("span", { text: "—" }),
    el("span", { text: request.purpose?.purpose || "—" }),
    el("code", { class: "holder-case", text: request.purpose?.caseReference || "—" }),
    mark(STATE_MARKS[request.state], enumText("state", request.state)),
    answerCell(request, item),
  ];
}

/** A refusal of the ID itself (another holder's, or not a valid one): the form asks again. */
export function refusesTheId(error) {
  return error instanceof ApiError && (error.reason === MISMATCH || error.status === 400);
}

// --- one paged section -------------------------------------------------------------------

/**
 * A card with a heading, a help line, a live status line, a table and previous/next
 * buttons. `load(pageToken)` resolves to {items, next}; `row(item)` gives the cells.
 */
class PagedSection {
  constructor({ id, titleKey, helpKey, emptyKey, columns, load, row }) {
    this.emptyKey = emptyKey;
    this.load = load;
    this.row = row;
    this.tokens = [""]; // the page tokens of the pages seen: index = page number - 1
    this.page = 0;
    this.items = null;
    this.next = "";
    this.status = el("p", { class: "holder-status", role: "status", "aria-live": "polite" });
    this.body = el("tbody");
    this.previousButton = el("button", {
      type: "button",
      class: "secondary",
      "data-i18n": "holder.previous",
      onclick: () => this.show(this.page - 1),
    });
    this.nextButton = el("button", {
      type: "button",
      "data-i18n": "holder.next",
      onclick: () => this.show(this.page + 1),
    });
    this.pageLabel = el("span", { class: "holder-page" });
    this.table = el(
      "table",
      { "aria-labelledby": `${id}-title` },
      el("thead", {}, el("tr", {}, columns.map((key) => el("th", { scope: "col", "data-i18n": key })))),
      this.body,
    );
    this.node = el(
      "section",
      { id, class: "card holder-section", "aria-labelledby": `${id}-title` },
      el("h2", { id: `${id}-title`, "data-i18n": titleKey }),
      el("p", { class: "holder-help", "data-i18n": helpKey }),
      this.status,
      el("div", { class: "holder-table" }, this.table),
      el(
        "nav",
        { class: "holder-pager", "aria-label": t(titleKey) },
        this.previousButton,
        this.pageLabel,
        this.nextButton,
      ),
    );
    this.titleKey = titleKey;
  }

  /** Load page `page` (from 0); rethrows a HOLDER_MISMATCH refusal, shows any other error. */
  async show(page) {
    this.previousButton.disabled = true;
    this.nextButton.disabled = true;
    this.status.textContent = t("holder.loading");
    this.status.classList.remove("error");
    try {
      const { items, next } = await this.load(this.tokens[page]);
      this.page = page;
      this.items = items;
      this.next = next;
      if (next) this.tokens[page + 1] = next;
      this.render();
    } catch (error) {
      if (refusesTheId(error)) throw error;
      this.status.textContent = t("holder.failed", { message: error.message });
      this.status.classList.add("error");
      this.previousButton.disabled = this.page === 0 || this.items === null;
      this.nextButton.disabled = !this.next;
    }
  }

  /** Draw what was loaded, in the chosen language. */
  render() {
    this.node.querySelector("nav").setAttribute("aria-label", t(this.titleKey));
    if (this.items === null) return;
    const columns = this.table.querySelectorAll("th").length;
    this.body.replaceChildren(
      ...(this.items.length
        ? this.items.map((item) => el("tr", {}, this.row(item).map((cell) => el("td", {}, cell))))
        : [el("tr", {}, el("td", { colspan: columns, class: "holder-empty", "data-i18n": this.emptyKey }, t(this.emptyKey)))]),
    );
    this.status.textContent = t("holder.loaded", { page: this.page + 1, count: this.items.length });
    this.pageLabel.textContent = t("holder.pageOf", { page: this.page + 1 });
    this.previousButton.disabled = this.page === 0;
    this.nextButton.disabled = !this.next;
    this.node.querySelector(".holder-pager").hidden = this.page === 0 && !this.next;
  }
}

export function sections(holder) {
  const size = pageSize();
  const body = (pageToken) => ({ holder, pageSize: size, pageToken });
  return [
    new PagedSection({
      id: "licenses",
      titleKey: "holder.licenses",
      helpKey: "holder.licensesHelp",
      emptyKey: "holder.licensesEmpty",
      columns: ["col.type", "col.number", "col.issuer", "col.status", "col.validity"],
      load: async (token) => {
        const answer = await api("POST", "/v1/licenses:listByHolder", body(token));
        return { items: answer.licenses || [], next: answer.nextPageToken || "" };
      },
      row: licenseRow,
    }),
    new PagedSection({
      id: "accesses",
      titleKey: "holder.accesses",
      helpKey: "holder.accessesHelp",
      emptyKey: "holder.accessesEmpty",
      columns: ["col.when", "col.department", "col.role", "col.what", "col.purpose", "col.case"],
      load: async (token) => {
        const answer = await api("POST", "/v1/licenses:listAccesses", body(token));
        return { items: answer.accesses || [], next: answer.nextPageToken || "" };
      },
      row: accessRow,
    }),
    new PagedSection({
      id: "requests",
      titleKey: "holder.requests",
      helpKey: "holder.requestsHelp",
      emptyKey: "holder.requestsEmpty",
      columns: [
        "col.when",
        "col.item",
        "col.requesting",
        "col.answering",
        "col.purpose",
        "col.case",
        "col.state",
        "col.answer",
      ],
      load: async (token) => {
        const answer = await api("POST", "/v1/proof-requests:listByHolder", body(token));
        return { items: answer.requests || [], next: answer.nextPageToken || "" };
      },
      row: requestRow,
    }),
  ];
}
