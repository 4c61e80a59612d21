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

import { ApiError, api, applyI18n, decodeToken, el, header, language, register, session, t } from "./app.js";

register({
  "zh-CN": {
    "holder.introTitle": "这里是什么",
    "holder.intro":
      "本页只显示与您本人有关的记录：签发给您的电子证照；各部门每一次查询、查看或出示您证照的记录（何时、哪个部门、什么角色、事由和办件号）；以及各部门就您发起的每一件证明协查及其答复。",
    "holder.privacy":
      "您的登录令牌只对应您一个人（或一家单位），系统只向您显示您自己的记录，不会显示任何其他人的信息。您输入的证件号码只保存在本浏览器标签页中，关闭标签页即清除；您本人查看这些记录不会被记作部门查询。",
    "holder.wrongRole": "本页面供持证人（个人或单位）使用，请使用为您签发的持证人令牌登录。",
    "holder.askTitle": "请输入您的证件号码",
    "holder.idLabel": "居民身份证号码或统一社会信用代码",
    "holder.idHelp": "18 位；须与您登录令牌所对应的身份一致。只需输入一次，本标签页会记住它。",
    "holder.submit": "查看我的记录",
    "holder.badForm": "这不是 18 位的居民身份证号码或统一社会信用代码，请检查后重新输入。",
    "holder.mismatch": "此证件号码不是您本次登录所对应的身份。您只能查看您本人的记录，请输入您自己的证件号码。",
    "holder.invalid": "证件号码无效：{message}",
    "holder.whose": "正在显示证件号码 {id} 的记录。",
    "holder.change": "输入其他证件号码",
    "holder.loading": "正在加载…",
    "holder.loaded": "第 {page} 页：{count} 条。",
    "holder.next": "下一页",
    "holder.previous": "上一页",
    "holder.pageOf": "第 {page} 页",
    "holder.failed": "无法加载：{message}",
    "holder.licenses": "我的证照",
    "holder.licensesHelp": "签发给您的每一本电子证照（每本只显示最新版本）。",
    "holder.licensesEmpty": "还没有签发给您的电子证照。",
    "holder.accesses": "谁查看了我的数据",
    "holder.accessesHelp":
      "各部门每一次查询、查看或出示您的证照，都留有记录：时间、部门、角色、事由和办件号。最新的在前。",
    "holder.accessesEmpty": "还没有部门查询过您的证照。",
    "holder.requests": "与我有关的证明协查",
    "holder.requestsHelp":
      "窗口为办理您的事项而请其他部门核实的每一件证明，以及它的状态和答复。最新的在前。",
    "holder.requestsEmpty": "还没有与您有关的证明协查。",
    "col.type": "证照类型",
    "col.number": "证照编号",
    "col.issuer": "发证部门",
    "col.status": "状态",
    "col.validity": "有效期",
    "col.when": "时间",
    "col.department": "部门",
    "col.role": "角色",
    "col.what": "操作",
    "col.purpose": "事由",
    "col.case": "办件号",
    "col.item": "证明事项",
    "col.requesting": "申请部门",
    "col.answering": "答复部门",
    "col.state": "状态",
    "col.answer": "答复",
    "validity.range": "{from} 至 {until}",
    "validity.open": "{from} 起长期有效",
    "license.version": "第 {version} 版",
    "status.LICENSE_STATUS_VALID": "有效",
    "status.LICENSE_STATUS_SUSPENDED": "暂停",
    "status.LICENSE_STATUS_REVOKED": "已撤销",
    "status.LICENSE_STATUS_CANCELLED": "已注销",
    "status.LICENSE_STATUS_EXPIRED": "已过期",
    "status.LICENSE_STATUS_TRANSFERRED": "已转让",
    "status.LICENSE_STATUS_WITHDRAWN": "已收回",
    "kind.ACCESS_KIND_LOOKUP": "查询了您的证照",
    "kind.ACCESS_KIND_READ": "查看了一本证照",
    "kind.ACCESS_KIND_PRESENTATION": "接收了证照出示",
    "kind.disclosed": "披露：{claims}",
    "role.ROLE_SERVICE": "系统服务（自动核验）",
    "state.PROOF_REQUEST_STATE_SUBMITTED": "已提交，待受理",
    "state.PROOF_REQUEST_STATE_ACCEPTED": "已受理，办理中",
    "state.PROOF_REQUEST_STATE_NEEDS_MORE_INFO": "待补充材料",
    "state.PROOF_REQUEST_STATE_ANSWERED": "已答复",
    "state.PROOF_REQUEST_STATE_CLOSED": "已办结",
    "state.PROOF_REQUEST_STATE_WITHDRAWN": "已撤回",
    "state.PROOF_REQUEST_STATE_REJECTED": "已退回",
    "state.PROOF_REQUEST_STATE_EXPIRED": "已过期",
    "outcome.PROOF_OUTCOME_CONFIRMED": "属实",
    "outcome.PROOF_OUTCOME_DENIED": "不属实",
    "outcome.PROOF_OUTCOME_CANNOT_DETERMINE": "无法核实",
    "outcome.PROOF_OUTCOME_NOT_REQUIRED": "无需证明（已取消）",
    "outcome.PROOF_OUTCOME_COMMITTED": "以告知承诺代替",
    "answer.none": "尚未答复",
    "answer.signed": "已由答复部门电子签名",
    "answer.sentTo": "已发往",
    "answer.rejected": "退回原因：{reason}",
  },
  en: {
    "holder.introTitle": "What this page shows",
    "holder.intro":
      "This page shows only records about you: the e-licenses issued to you; every time a department looked up, read or received a presentation of your licenses (when, which department, in what role, for what purpose and case); and every proof request a department made about you, with its answer.",
    "holder.privacy":
      "Your sign-in token stands for you alone (one person or one organisation), and the services show you only your own records, never anything about anyone else. The ID you enter stays in this browser tab only and is forgotten when the tab closes; looking at your own records is not recorded as a department's lookup.",
    "holder.wrongRole":
      "This page is for holders (a person or an organisation). Please sign in with the holder token issued to you.",
    "holder.askTitle": "Enter your ID",
    "holder.idLabel": "Resident ID or unified social credit code (USCC)",
    "holder.idHelp":
      "18 characters; it must be the identity your sign-in token is for. You enter it once: this tab remembers it.",
    "holder.submit": "Show my records",
    "holder.badForm":
      "This is not an 18-character resident ID or unified social credit code. Please check it and try again.",
    "holder.mismatch":
      "This ID is not the one your sign-in is for. You can see only your own records: please enter your own ID.",
    "holder.invalid": "The ID is not valid: {message}",
    "holder.whose": "Showing the records of ID {id}.",
    "holder.change": "Enter another ID",
    "holder.loading": "Loading…",
    "holder.loaded": "Page {page}: {count} shown.",
    "holder.next": "Next page",
    "holder.previous": "Previous page",
    "holder.pageOf": "Page {page}",
    "holder.failed": "Could not load: {message}",
    "holder.licenses": "My licenses",
    "holder.licensesHelp": "Every e-license issued to you (the latest version of each).",
    "holder.licensesEmpty": "No e-license has been issued to you yet.",
    "holder.accesses": "Who looked at my data",
    "holder.accessesHelp":
      "Every lookup, read or presentation of your licenses by a department is recorded: when, which department, in what role, the purpose and the case. Newest first.",
    "holder.accessesEmpty": "No department has looked up your licenses yet.",
    "holder.requests": "Requests about me",
    "holder.requestsHelp":
      "Every proof a window asked another department to confirm for your application, with its state and answer. Newest first.",
    "holder.requestsEmpty": "No proof request has been made about you yet.",
    "col.type": "License type",
    "col.number": "License number",
    "col.issuer": "Issuer",
    "col.status": "Status",
    "col.validity": "Validity",
    "col.when": "When",
    "col.department": "Department",
    "col.role": "Role",
    "col.what": "What",
    "col.purpose": "Purpose",
    "col.case": "Case",
    "col.item": "Proof item",
    "col.requesting": "Requesting department",
    "col.answering": "Answering department",
    "col.state": "State",
    "col.answer": "Answer",
    "validity.range": "{from} to {until}",
    "validity.open": "from {from}, no expiry",
    "license.version": "version {version}",
    "status.LICENSE_STATUS_VALID": "Valid",
    "status.LICENSE_STATUS_SUSPENDED": "Suspended",
    "status.LICENSE_STATUS_REVOKED": "Revoked",
    "status.LICENSE_STATUS_CANCELLED": "Cancelled",
    "status.LICENSE_STATUS_EXPIRED": "Expired",
    "status.LICENSE_STATUS_TRANSFERRED": "Transferred",
    "status.LICENSE_STATUS_WITHDRAWN": "Withdrawn",
    "kind.ACCESS_KIND_LOOKUP": "Looked up your licenses",
    "kind.ACCESS_KIND_READ": "Read one license",
    "kind.ACCESS_KIND_PRESENTATION": "Received a presentation",
    "kind.disclosed": "disclosed: {claims}",
    "role.ROLE_SERVICE": "System service (automatic check)",
    "state.PROOF_REQUEST_STATE_SUBMITTED": "Submitted, waiting",
    "state.PROOF_REQUEST_STATE_ACCEPTED": "Accepted, in progress",
    "state.PROOF_REQUEST_STATE_NEEDS_MORE_INFO": "Needs more information",
    "state.PROOF_REQUEST_STATE_ANSWERED": "Answered",
    "state.PROOF_REQUEST_STATE_CLOSED": "Closed",
    "state.PROOF_REQUEST_STATE_WITHDRAWN": "Withdrawn",
    "state.PROOF_REQUEST_STATE_REJECTED": "Rejected",
    "state.PROOF_REQUEST_STATE_EXPIRED": "Expired",
    "outcome.PROOF_OUTCOME_CONFIRMED": "Confirmed",
    "outcome.PROOF_OUTCOME_DENIED": "Not true",
    "outcome.PROOF_OUTCOME_CANNOT_DETERMINE": "Cannot be determined",
    "outcome.PROOF_OUTCOME_NOT_REQUIRED": "Not required (cancelled)",
    "outcome.PROOF_OUTCOME_COMMITTED": "Your commitment stands in",
    "answer.none": "Not answered yet",
    "answer.signed": "Signed by the answering department",
    "answer.sentTo": "Sent to",
    "answer.rejected": "Rejected: {reason}",
  },
});

const ID_KEY = "certfree.holder.id";
const RESIDENT_ID = /^[0-9]{17}[0-9X]$/;
const USCC = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
const DEFAULT_PAGE_SIZE = 20;
const CATALOGUE_PAGE_SIZE = 500;
const MISMATCH = "HOLDER_MISMATCH";

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
let namesLoaded = null;

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

async function loadNames(kept) {
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
function refusesTheId(error) {
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

function sections(holder) {
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
