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

import { ApiError, api, applyI18n, el, header, language, register, stream, t } from "./app.js";

register({
  "zh-CN": {
    "officer.inbox": "待办协查请求",
    "officer.inboxHelp":
      "本部门收到的未办结证明协查请求，按办理期限排序。新的请求和变化会自动出现，无需刷新。",
    "officer.live.connecting": "正在连接实时更新…",
    "officer.live.on": "● 实时更新已连接",
    "officer.live.off": "实时更新已断开：{message}",
    "officer.empty": "目前没有待办的协查请求。",
    "officer.col.item": "证明事项",
    "officer.col.from": "发起部门",
    "officer.col.case": "办件编号",
    "officer.col.state": "状态",
    "officer.col.due": "办理期限",
    "officer.col.mark": "时限标记",
    "officer.col.open": "操作",
    "officer.open": "查看",
    "officer.openFor": "查看请求 {case}",
    "officer.announce.new": "新的协查请求：{item}，办件 {case}，发起部门 {from}。",
    "officer.announce.changed": "办件 {case}：{what}。",
    "officer.detail": "协查详情",
    "officer.f.id": "请求编号",
    "officer.f.item": "证明事项",
    "officer.f.route": "办理方式",
    "officer.f.from": "发起部门",
    "officer.f.by": "发起人",
    "officer.f.holder": "持证主体",
    "officer.f.purpose": "用途",
    "officer.f.case": "办件编号",
    "officer.f.note": "窗口留言",
    "officer.f.state": "状态",
    "officer.f.mark": "时限标记",
    "officer.f.created": "发起时间",
    "officer.f.warning": "预警时间",
    "officer.f.due": "办理期限",
    "officer.f.answering": "答复部门",
    "officer.f.rejection": "退回原因",
    "officer.f.legalBasis": "设定依据",
    "officer.holder.uscc": "统一社会信用代码 {id}",
    "officer.holder.resident": "居民身份证号码 {id}",
    "officer.moreInfo": "补充材料往来",
    "officer.moreInfo.question": "问：{text}",
    "officer.moreInfo.reply": "答：{text}",
    "officer.moreInfo.waiting": "（等待窗口答复）",
    "officer.actions": "办理",
    "officer.act.accept": "受理",
    "officer.act.answer": "答复…",
    "officer.act.reject": "退回…",
    "officer.act.ask": "要求补充材料…",
    "officer.act.cancel": "取消",
    "officer.note.none": "当前状态下本部门无可办理的操作。",
    "officer.note.waiting": "已要求补充材料，等待窗口答复后回到待受理。",
    "officer.note.otherDept": "此请求已由其他部门受理。",
    "officer.done.accepted": "已受理，可以答复了。",
    "officer.done.answered": "已答复，签名答复见下方。",
    "officer.done.rejected": "已退回。",
    "officer.done.asked": "已发送补充材料要求。",
    "officer.form.answer": "答复",
    "officer.form.outcome": "核验结果",
    "officer.form.claims": "答复内容",
    "officer.form.required": "（核验属实时必填）",
    "officer.form.explanation": "说明",
    "officer.form.submitAnswer": "签名并答复",
    "officer.form.reject": "退回请求",
    "officer.form.reasonCode": "退回类别",
    "officer.form.reason": "退回原因",
    "officer.form.suggested": "建议改向的部门（统一社会信用代码，可不填）",
    "officer.form.submitReject": "确认退回",
    "officer.form.ask": "要求补充材料",
    "officer.form.question": "需要窗口补充的内容",
    "officer.form.submitAsk": "发送",
    "officer.form.badJson": "{name} 不是有效的 JSON",
    "officer.form.true": "是",
    "officer.form.false": "否",
    "officer.form.unset": "（不填）",
    "officer.answer.signed": "签名答复",
    "officer.answer.outcome": "结果",
    "officer.answer.by": "答复人",
    "officer.answer.at": "答复时间",
    "officer.answer.ledger": "存证序号",
    "officer.answer.explanation": "说明",
    "officer.answer.claims": "答复内容",
    "officer.answer.sdJwt": "签名答复（SD-JWT）",
    "officer.answer.decoded": "解码后的声明",
    "officer.answer.decodedHelp":
      "以下内容由本页面从 SD-JWT 解码显示，仅供阅读；签名由许可证服务和审计页面核验。",
    "officer.answer.unsigned": "（未签名）",
    "officer.claim.header": "签名算法 / 密钥",
    "officer.claim.disclosed": "{name}（选择性披露）",
    "officer.history": "办理记录",
    "officer.hist.seq": "序号",
    "officer.hist.when": "时间",
    "officer.hist.what": "事件",
    "officer.hist.state": "状态变化",
    "officer.hist.who": "办理人",
    "officer.hist.reason": "说明",
    "officer.mark.ON_TIME": "正常",
    "officer.mark.WARNING": "黄牌 · 临近期限",
    "officer.mark.OVERDUE": "红牌 · 已超期",
    "officer.mark.UNSPECIFIED": "—",
    "officer.escalated": "已上报督办",
    "officer.state.SUBMITTED": "待受理",
    "officer.state.ACCEPTED": "已受理",
    "officer.state.NEEDS_MORE_INFO": "待补充材料",
    "officer.state.ANSWERED": "已答复",
    "officer.state.CLOSED": "已办结",
    "officer.state.WITHDRAWN": "已撤回",
    "officer.state.REJECTED": "已退回",
    "officer.state.EXPIRED": "已过期",
    "officer.state.UNSPECIFIED": "—",
    "officer.route.CANCELLED": "直接取消",
    "officer.route.DATA_SHARING": "数据共享",
    "officer.route.COMMITMENT": "告知承诺",
    "officer.route.DEPARTMENT_VERIFICATION": "部门核验",
    "officer.outcome.CONFIRMED": "属实",
    "officer.outcome.DENIED": "不属实",
    "officer.outcome.CANNOT_DETERMINE": "无法核实",
    "officer.outcome.NOT_REQUIRED": "无需证明",
    "officer.outcome.COMMITTED": "告知承诺",
    "officer.reason.NOT_OUR_AUTHORITY": "不属本部门职权",
    "officer.reason.DUPLICATE": "重复请求",
    "officer.reason.INVALID_REQUEST": "请求有误",
    "officer.reason.OTHER": "其他原因",
    "officer.event.CREATED": "发起",
    "officer.event.ACCEPTED": "受理",
    "officer.event.MORE_INFO_ASKED": "要求补充材料",
    "officer.event.MORE_INFO_SUPPLIED": "补充材料",
    "officer.event.ANSWERED": "答复",
    "officer.event.REJECTED": "退回",
    "officer.event.WITHDRAWN": "撤回",
    "officer.event.CLOSED": "办结",
    "officer.event.EXPIRED": "过期",
    "officer.event.SLA_CHANGED": "时限标记变化",
    "officer.event.ESCALATED": "超期上报",
    "officer.event.COMMITMENT_RECORDED": "记录承诺",
    "officer.event.COMMITMENT_SAMPLED": "承诺抽查",
    "officer.event.COMMITMENT_CHECKED": "承诺核查",
    "officer.role.SERVICE": "系统",
  },
  en: {
    "officer.inbox": "Open proof requests",
    "officer.inboxHelp":
      "Proof requests addressed to your department and not yet finished, by deadline. New requests and changes appear by themselves; no need to reload.",
    "officer.live.connecting": "Connecting live updates…",
    "officer.live.on": "● Live updates on",
    "officer.live.off": "Live updates stopped: {message}",
    "officer.empty": "No open proof requests.",
    "officer.col.item": "Proof item",
    "officer.col.from": "Requesting department",
    "officer.col.case": "Case",
    "officer.col.state": "State",
    "officer.col.due": "Due",
    "officer.col.mark": "Deadline mark",
    "officer.col.open": "Action",
    "officer.open": "Open",
    "officer.openFor": "Open request {case}",
    "officer.announce.new": "New proof request: {item}, case {case}, from {from}.",
    "officer.announce.changed": "Case {case}: {what}.",
    "officer.detail": "Proof request",
    "officer.f.id": "Request ID",
    "officer.f.item": "Proof item",
    "officer.f.route": "Route",
    "officer.f.from": "Requesting department",
    "officer.f.by": "Requested by",
    "officer.f.holder": "Holder",
    "officer.f.purpose": "Purpose",
    "officer.f.case": "Case",
    "officer.f.note": "Clerk's note",
    "officer.f.state": "State",
    "officer.f.mark": "Deadline mark",
    "officer.f.created": "Created",
    "officer.f.warning": "Warning at",
    "officer.f.due": "Due",
    "officer.f.answering": "Answering department",
    "officer.f.rejection": "Rejection",
    "officer.f.legalBasis": "Legal basis",
    "officer.holder.uscc": "Unified social credit code {id}",
    "officer.holder.resident": "Resident ID {id}",
    "officer.moreInfo": "More information",
    "officer.moreInfo.question": "Q: {text}",
    "officer.moreInfo.reply": "A: {text}",
    "officer.moreInfo.waiting": "(waiting for the window's reply)",
    "officer.actions": "Handle",
    "officer.act.accept": "Accept",
    "officer.act.answer": "Answer…",
    "officer.act.reject": "Reject…",
    "officer.act.ask": "Ask for more information…",
    "officer.act.cancel": "Cancel",
    "officer.note.none": "Your department can take no step in this state.",
    "officer.note.waiting": "More information was asked for; the request returns once the window replies.",
    "officer.note.otherDept": "Another department accepted this request.",
    "officer.done.accepted": "Accepted: you can answer now.",
    "officer.done.answered": "Answered: the signed answer is below.",
    "officer.done.rejected": "Rejected.",
    "officer.done.asked": "The question was sent.",
    "officer.form.answer": "Answer",
    "officer.form.outcome": "Outcome",
    "officer.form.claims": "Answer claims",
    "officer.form.required": "(required when confirmed)",
    "officer.form.explanation": "Explanation",
    "officer.form.submitAnswer": "Sign and answer",
    "officer.form.reject": "Reject the request",
    "officer.form.reasonCode": "Kind of reason",
    "officer.form.reason": "Reason",
    "officer.form.suggested": "Department to ask instead (its USCC, optional)",
    "officer.form.submitReject": "Reject",
    "officer.form.ask": "Ask for more information",
    "officer.form.question": "What the window should supply",
    "officer.form.submitAsk": "Send",
    "officer.form.badJson": "{name} is not valid JSON",
    "officer.form.true": "Yes",
    "officer.form.false": "No",
    "officer.form.unset": "(not given)",
    "officer.answer.signed": "Signed answer",
    "officer.answer.outcome": "Outcome",
    "officer.answer.by": "Answered by",
    "officer.answer.at": "Answered at",
    "officer.answer.ledger": "Ledger index",
    "officer.answer.explanation": "Explanation",
    "officer.answer.claims": "Answer claims",
    "officer.answer.sdJwt": "Signed answer (SD-JWT)",
    "officer.answer.decoded": "Decoded claims",
    "officer.answer.decodedHelp":
      "Decoded by this page from the SD-JWT, for reading only; the licenses service and the auditor page verify the signature.",
    "officer.answer.unsigned": "(unsigned)",
    "officer.claim.header": "Algorithm / key",
    "officer.claim.disclosed": "{name} (selectively disclosed)",
    "officer.history": "History",
    "officer.hist.seq": "#",
    "officer.hist.when": "When",
    "officer.hist.what": "Event",
    "officer.hist.state": "State change",
    "officer.hist.who": "By",
    "officer.hist.reason": "Note",
    "officer.mark.ON_TIME": "On time",
    "officer.mark.WARNING": "Yellow card · due soon",
    "officer.mark.OVERDUE": "Red card · overdue",
    "officer.mark.UNSPECIFIED": "—",
    "officer.escalated": "escalated",
    "officer.state.SUBMITTED": "Submitted",
    "officer.state.ACCEPTED": "Accepted",
    "officer.state.NEEDS_MORE_INFO": "Needs more information",
    "officer.state.ANSWERED": "Answered",
    "officer.state.CLOSED": "Closed",
    "officer.state.WITHDRAWN": "Withdrawn",
    "officer.state.REJECTED": "Rejected",
    "officer.state.EXPIRED": "Expired",
    "officer.state.UNSPECIFIED": "—",
    "officer.route.CANCELLED": "Cancelled",
    "officer.route.DATA_SHARING": "Data sharing",
    "officer.route.COMMITMENT": "Commitment",
    "officer.route.DEPARTMENT_VERIFICATION": "Department verification",
    "officer.outcome.CONFIRMED": "Confirmed",
    "officer.outcome.DENIED": "Denied",
    "officer.outcome.CANNOT_DETERMINE": "Cannot determine",
    "officer.outcome.NOT_REQUIRED": "Not required",
    "officer.outcome.COMMITTED": "Committed",
    "officer.reason.NOT_OUR_AUTHORITY": "Not our authority",
    "officer.reason.DUPLICATE": "Duplicate",
    "officer.reason.INVALID_REQUEST": "Invalid request",
    "officer.reason.OTHER": "Other",
    "officer.event.CREATED": "Created",
    "officer.event.ACCEPTED": "Accepted",
    "officer.event.MORE_INFO_ASKED": "More information asked",
    "officer.event.MORE_INFO_SUPPLIED": "More information supplied",
    "officer.event.ANSWERED": "Answered",
    "officer.event.REJECTED": "Rejected",
    "officer.event.WITHDRAWN": "Withdrawn",
    "officer.event.CLOSED": "Closed",
    "officer.event.EXPIRED": "Expired",
    "officer.event.SLA_CHANGED": "Deadline mark changed",
    "officer.event.ESCALATED": "Escalated as overdue",
    "officer.event.COMMITMENT_RECORDED": "Commitment recorded",
    "officer.event.COMMITMENT_SAMPLED": "Commitment sampled",
    "officer.event.COMMITMENT_CHECKED": "Commitment checked",
    "officer.role.SERVICE": "System",
  },
});

const INCOMING = "REQUEST_DIRECTION_INCOMING";
const OPEN_STATES = ["SUBMITTED", "ACCEPTED", "NEEDS_MORE_INFO"];
const MARK_CLASS = { ON_TIME: "mark-ok", WARNING: "mark-yellow", OVERDUE: "mark-red" };
const OUTCOMES = ["CONFIRMED", "DENIED", "CANNOT_DETERMINE"];
const REJECTION_REASONS = ["NOT_OUR_AUTHORITY", "DUPLICATE", "INVALID_REQUEST", "OTHER"];
const LIST_PAGES = 10; // at most 10 × 200 open requests are listed; more would not be read anyway

const me = header("page.officer");
const requests = new Map(); // requestId → the latest ProofRequest seen (list, stream or action)
const items = new Map(); // proof item code → ProofItem
const departments = new Map(); // USCC → name
let openId = null; // the request shown in the detail panel
let openForm = null; // "answer" | "reject" | "ask" | null
let history = [];

// --- small helpers -----------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const suffix = (value, prefix) => String(value || "").replace(prefix, "") || "UNSPECIFIED";
const stateOf = (request) => suffix(request.state, "PROOF_REQUEST_STATE_");
const markOf = (request) => suffix(request.slaMark, "SLA_MARK_");
const isOpen = (request) => OPEN_STATES.includes(stateOf(request));
const sequenceOf = (request) => Number(request.lastEventSequence || 0);

function when(instant, dateStyle = "medium") {
  if (!instant) return "—";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return new Intl.DateTimeFormat(language(), { dateStyle, timeStyle: "short" }).format(date);
}

function itemName(code) {
  const item = items.get(code);
  return item ? item.name : code;
}

function departmentName(code) {
  if (!code) return "—";
  const name = departments.get(code);
  return name ? `${name}（${code}）` : code;
}

function caseOf(request) {
  return request.purpose?.caseReference || request.requestId;
}

function markBadge(request) {
  const mark = markOf(request);
  return el(
    "span",
    { class: MARK_CLASS[mark] || "mark-ok", dataset: { mark } },
    t(`officer.mark.${mark}`),
    request.escalated ? ` · ${t("officer.escalated")}` : "",
  );
}

function stateText(request) {
  return t(`officer.state.${stateOf(request)}`);
}

function messageOf(error) {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/** The field violations of an ApiError's google.rpc.BadRequest, as "field: description". */
function violationsOf(error) {
  if (!(error instanceof ApiError)) return [];
  const bad = error.details.find((d) => String(d["@type"] || "").endsWith("google.rpc.BadRequest"));
  return (bad?.fieldViolations || []).map((v) => `${v.field}: ${v.description}`);
}

function showError(node, error) {
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

function redrawAnnouncements() {
  $("live").replaceChildren(...announced.map(([key, params]) => announcement(key, params)));
}

let doneKey = ""; // what the last step did, redrawn in either language

function setDone(key) {
  doneKey = key;
  $("action-done").textContent = key ? t(key) : "";
}

function setLive(state, message = "") {
  const status = $("live-status");
  status.dataset.state = state;
  status.textContent = t(`officer.live.${state}`, { message });
}

// --- names for people (catalogue reads; missing names fall back to codes) ----------------

async function loadNames() {
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

async function itemOf(code) {
  if (!items.has(code)) {
    try {
      items.set(code, await api("GET", `/v1/proof-items/${encodeURIComponent(code)}`));
    } catch {
      return null;
    }
  }
  return items.get(code);
}

// --- the list ----------------------------------------------------------------------------

/** Keep `request` unless a later version of it is already known. Returns true when kept. */
function remember(request) {
  const known = requests.get(request.requestId);
  if (known && sequenceOf(known) > sequenceOf(request)) return false;
  requests.set(request.requestId, request);
  return true;
}

function byDeadline(a, b) {
  const due = (request) => (request.dueAt ? Date.parse(request.dueAt) : Infinity);
  return due(a) - due(b) || String(a.createdAt).localeCompare(String(b.createdAt));
}

function renderRows() {
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

async function follow() {
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

// --- the detail panel --------------------------------------------------------------------

async function openRequest(requestId) {
  openId = requestId;
  openForm = null;
  history = [];
  setDone("");
  showError($("action-error"), null);
  renderRows();
  try {
    const request = await api("GET", `/v1/proof-requests/${encodeURIComponent(requestId)}`);
    remember(request);
    await itemOf(request.proofItemCode);
  } catch (error) {
    showError($("action-error"), error);
  }
  renderDetail();
  $("detail").hidden = false;
  $("detail").focus();
  await loadHistory();
}

async function loadHistory() {
  const requestId = openId;
  try {
    const found = [];
    let pageToken = "";
    do {
      const query = new URLSearchParams({ pageSize: "500" });
      if (pageToken) query.set("pageToken", pageToken);
      const page = await api(
        "GET",
        `/v1/proof-requests/${encodeURIComponent(requestId)}/events?${query}`,
      );
      found.push(...(page.events || []));
      pageToken = page.nextPageToken || "";
    } while (pageToken);
    if (requestId !== openId) return;
    history = found;
    renderHistory();
  } catch (error) {
    showError($("action-error"), error);
  }
}

function field(labelKey, ...value) {
  return [el("dt", {}, t(labelKey)), el("dd", {}, ...value)];
}

function holderText(holder) {
  if (!holder) return "—";
  if (holder.uscc) return t("officer.holder.uscc", { id: holder.uscc });
  if (holder.residentId) return t("officer.holder.resident", { id: holder.residentId });
  return "—";
}

function renderDetail() {
  const request = requests.get(openId);
  if (!request) return;
  const rejection = request.rejection;
  $("detail-fields").replaceChildren(
    ...field("officer.f.id", el("code", {}, request.requestId)),
    ...field("officer.f.item", `${itemName(request.proofItemCode)}（${request.proofItemCode}）`),
    ...field("officer.f.route", t(`officer.route.${suffix(request.route, "PROOF_ROUTE_")}`)),
    ...field("officer.f.from", departmentName(request.requestingDepartment)),
    ...field("officer.f.by", request.requestedBy || "—"),
    ...field("officer.f.holder", holderText(request.holder)),
    ...field("officer.f.purpose", request.purpose?.purpose || "—"),
    ...field("officer.f.case", caseOf(request)),
    ...field("officer.f.note", request.note || "—"),
    ...field("officer.f.state", el("strong", { id: "detail-state" }, stateText(request))),
    ...field("officer.f.mark", markBadge(request)),
    ...field("officer.f.created", when(request.createdAt)),
    ...field("officer.f.warning", when(request.warningAt)),
    ...field("officer.f.due", when(request.dueAt)),
    ...field("officer.f.answering", departmentName(request.answeringDepartment)),
    ...(rejection
      ? field(
          "officer.f.rejection",
          `${t(`officer.reason.${suffix(rejection.reasonCode, "REJECTION_REASON_")}`)}：${rejection.reason}`,
        )
      : []),
  );
  renderMoreInfo(request);
  renderActions(request);
  renderAnswer(request);
}

function renderMoreInfo(request) {
  const exchanges = request.moreInfo || [];
  if (!exchanges.length) {
    $("more-info").replaceChildren();
    return;
  }
  $("more-info").replaceChildren(
    el("h3", {}, t("officer.moreInfo")),
    el(
      "ol",
      { class: "officer-exchanges" },
      exchanges.map((exchange) =>
        el(
          "li",
          {},
          el("p", {}, t("officer.moreInfo.question", { text: exchange.question })),
          el(
            "p",
            {},
            exchange.reply
              ? t("officer.moreInfo.reply", { text: exchange.reply })
              : t("officer.moreInfo.waiting"),
          ),
        ),
      ),
    ),
  );
}

/** The moves the state allows this department (docs/proofs.md, "States"). */
function allowedMoves(request) {
  const state = stateOf(request);
  const answering = request.answeringDepartment;
  if (answering && me && answering !== me.department) return [];
  if (state === "SUBMITTED") return ["accept", "reject", "ask"];
  if (state === "ACCEPTED") return ["answer", "reject", "ask"];
  return [];
}

function renderActions(request) {
  const moves = allowedMoves(request);
  const note = $("action-note");
  const state = stateOf(request);
  note.hidden = moves.length > 0;
  if (state === "NEEDS_MORE_INFO") note.textContent = t("officer.note.waiting");
  else if (request.answeringDepartment && me && request.answeringDepartment !== me.department)
    note.textContent = t("officer.note.otherDept");
  else note.textContent = t("officer.note.none");
  const buttons = {
    accept: () => act("accept", {}, "officer.done.accepted"),
    answer: () => showForm("answer"),
    reject: () => showForm("reject"),
    ask: () => showForm("ask"),
  };
  const labels = {
    accept: "officer.act.accept",
    answer: "officer.act.answer",
    reject: "officer.act.reject",
    ask: "officer.act.ask",
  };
  $("actions").replaceChildren(
    ...moves.map((move) =>
      el(
        "button",
        {
          type: "button",
          id: `act-${move}`,
          class: move === "accept" || move === "answer" ? null : "secondary",
          "aria-expanded": move === "accept" ? null : String(openForm === move),
          onclick: buttons[move],
        },
        t(labels[move]),
      ),
    ),
  );
  if (!moves.includes(openForm)) openForm = null;
  renderForm(request);
}

function showForm(name) {
  openForm = openForm === name ? null : name;
  const request = requests.get(openId);
  renderActions(request);
  const first = $("action-form").querySelector("input, select, textarea");
  if (first) first.focus();
}

function renderForm(request) {
  const box = $("action-form");
  if (openForm === "answer") box.replaceChildren(answerForm(request));
  else if (openForm === "reject") box.replaceChildren(rejectForm());
  else if (openForm === "ask") box.replaceChildren(askForm());
  else box.replaceChildren();
}

function cancelButton() {
  return el(
    "button",
    { type: "button", class: "secondary", onclick: () => showForm(openForm) },
    t("officer.act.cancel"),
  );
}

function claimInput(claim) {
  const id = `claim-${claim.name}`;
  const type = suffix(claim.type, "CLAIM_TYPE_");
  const title = claim.title ? `${claim.title}（${claim.name}）` : claim.name;
  const label = el(
    "label",
    { for: id },
    title,
    claim.required ? el("span", { class: "officer-required" }, " ", t("officer.form.required")) : "",
  );
  let input;
  if (type === "BOOLEAN") {
    input = el(
      "select",
      { id, name: claim.name, dataset: { type } },
      el("option", { value: "" }, t("officer.form.unset")),
      el("option", { value: "true" }, t("officer.form.true")),
      el("option", { value: "false" }, t("officer.form.false")),
    );
  } else if (type === "OBJECT" || type === "ARRAY") {
    input = el("textarea", { id, name: claim.name, rows: "3", dataset: { type } });
  } else {
    const kind = { DATE: "date", INTEGER: "number", NUMBER: "number" }[type] || "text";
    input = el("input", {
      id,
      name: claim.name,
      type: kind,
      step: type === "NUMBER" ? "any" : null,
      maxlength: claim.maxLength && type === "STRING" ? String(claim.maxLength) : null,
      autocomplete: "off",
      dataset: { type },
    });
  }
  const help = claim.description ? el("p", { class: "officer-help" }, claim.description) : null;
  return el("div", { class: "officer-claim" }, label, input, help);
}

function claimValues(form, claims) {
  const values = {};
  for (const claim of claims) {
    const input = form.elements.namedItem(claim.name);
    const raw = input ? input.value.trim() : "";
    if (raw === "") continue;
    const type = input.dataset.type;
    if (type === "INTEGER" || type === "NUMBER") values[claim.name] = Number(raw);
    else if (type === "BOOLEAN") values[claim.name] = raw === "true";
    else if (type === "OBJECT" || type === "ARRAY") {
      try {
        values[claim.name] = JSON.parse(raw);
      } catch {
        throw new Error(t("officer.form.badJson", { name: claim.title || claim.name }));
      }
    } else values[claim.name] = raw;
  }
  return values;
}

function answerForm(request) {
  const claims = items.get(request.proofItemCode)?.answerClaims || [];
  const form = el(
    "form",
    { id: "answer-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.answer")),
    el(
      "fieldset",
      { class: "officer-outcomes" },
      el("legend", {}, t("officer.form.outcome")),
      OUTCOMES.map((outcome, index) =>
        el(
          "label",
          { class: "officer-choice" },
          el("input", {
            type: "radio",
            name: "outcome",
            value: `PROOF_OUTCOME_${outcome}`,
            checked: index === 0,
          }),
          " ",
          t(`officer.outcome.${outcome}`),
        ),
      ),
    ),
    claims.length
      ? el(
          "fieldset",
          { class: "officer-claims" },
          el("legend", {}, t("officer.form.claims")),
          claims.map(claimInput),
        )
      : null,
    el("label", { for: "answer-explanation" }, t("officer.form.explanation")),
    el("textarea", { id: "answer-explanation", name: "explanation", rows: "2", maxlength: "2000" }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "answer-submit" }, t("officer.form.submitAnswer")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let values;
    try {
      values = claimValues(form, claims);
    } catch (error) {
      showError($("action-error"), error);
      return;
    }
    act(
      "answer",
      {
        outcome: form.elements.namedItem("outcome").value,
        claims: values,
        explanation: form.elements.namedItem("explanation").value.trim(),
      },
      "officer.done.answered",
    );
  });
  return form;
}

function rejectForm() {
  const form = el(
    "form",
    { id: "reject-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.reject")),
    el("label", { for: "reject-code" }, t("officer.form.reasonCode")),
    el(
      "select",
      { id: "reject-code", name: "reasonCode" },
      REJECTION_REASONS.map((reason) =>
        el("option", { value: `REJECTION_REASON_${reason}` }, t(`officer.reason.${reason}`)),
      ),
    ),
    el("label", { for: "reject-reason" }, t("officer.form.reason")),
    el("textarea", { id: "reject-reason", name: "reason", rows: "2", maxlength: "2000" }),
    el("label", { for: "reject-suggested" }, t("officer.form.suggested")),
    el("input", {
      id: "reject-suggested",
      name: "suggested",
      maxlength: "18",
      autocomplete: "off",
      spellcheck: "false",
    }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "reject-submit" }, t("officer.form.submitReject")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      reasonCode: form.elements.namedItem("reasonCode").value,
      reason: form.elements.namedItem("reason").value.trim(),
    };
    const suggested = form.elements.namedItem("suggested").value.trim().toUpperCase();
    if (suggested) body.suggestedDepartment = suggested;
    act("reject", body, "officer.done.rejected");
  });
  return form;
}

function askForm() {
  const form = el(
    "form",
    { id: "ask-form", class: "officer-form", novalidate: true },
    el("h4", {}, t("officer.form.ask")),
    el("label", { for: "ask-question" }, t("officer.form.question")),
    el("textarea", { id: "ask-question", name: "question", rows: "3", maxlength: "2000" }),
    el(
      "p",
      { class: "officer-actions" },
      el("button", { type: "submit", id: "ask-submit" }, t("officer.form.submitAsk")),
      cancelButton(),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(
      "askForMoreInfo",
      { question: form.elements.namedItem("question").value.trim() },
      "officer.done.asked",
    );
  });
  return form;
}

/** POST one step (`verb`: accept, answer, reject, askForMoreInfo) and show the result. */
async function act(verb, body, resultKey) {
  const requestId = openId;
  const buttons = [...document.querySelectorAll("#actions button, #action-form button")];
  for (const button of buttons) button.disabled = true;
  showError($("action-error"), null);
  setDone("");
  try {
    const changed = await api(
      "POST",
      `/v1/proof-requests/${encodeURIComponent(requestId)}:${verb}`,
      body,
    );
    if (changed.request) remember(changed.request);
    openForm = null;
    if (requestId === openId) {
      renderDetail();
      setDone(resultKey);
      await loadHistory();
    }
    renderRows();
  } catch (error) {
    showError($("action-error"), error);
    for (const button of buttons) button.disabled = false;
  }
}

// --- the signed answer -------------------------------------------------------------------

function base64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function shown(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The SD-JWT's header, payload claims and disclosures as [label, value] rows (not verified). */
function decodeSdJwt(sdJwt) {
  const [jwt, ...disclosures] = sdJwt.split("~");
  const [head, body] = jwt.split(".");
  const header = base64url(head);
  const payload = base64url(body);
  const rows = [[t("officer.claim.header"), `${header.alg} · ${header.kid || "—"}`]];
  for (const [name, value] of Object.entries(payload)) {
    if (name === "_sd" || name === "_sd_alg") continue;
    const time = ["iat", "nbf", "exp"].includes(name) && typeof value === "number";
    rows.push([name, time ? `${when(new Date(value * 1000).toISOString())} (${value})` : shown(value)]);
  }
  for (const disclosure of disclosures) {
    if (!disclosure) continue;
    const decoded = base64url(disclosure);
    if (Array.isArray(decoded) && decoded.length === 3) {
      rows.push([t("officer.claim.disclosed", { name: decoded[1] }), shown(decoded[2])]);
    }
  }
  return rows;
}

function renderAnswer(request) {
  const answer = request.answer;
  const box = $("answer");
  if (!answer || !answer.outcome) {
    box.hidden = true;
    return;
  }
  const claims = Object.entries(answer.claims || {});
  $("answer-fields").replaceChildren(
    ...field(
      "officer.answer.outcome",
      el("strong", { id: "answer-outcome" }, t(`officer.outcome.${suffix(answer.outcome, "PROOF_OUTCOME_")}`)),
    ),
    ...field("officer.f.answering", departmentName(answer.answeringDepartment)),
    ...field("officer.answer.by", answer.answeredBy || "—"),
    ...field("officer.answer.at", when(answer.answeredAt)),
    ...field("officer.answer.ledger", answer.ledgerIndex ?? "—"),
    ...field("officer.answer.explanation", answer.explanation || "—"),
    ...(answer.legalBasis ? field("officer.f.legalBasis", answer.legalBasis) : []),
    ...(claims.length
      ? field(
          "officer.answer.claims",
          el(
            "ul",
            { class: "officer-plain" },
            claims.map(([name, value]) => el("li", {}, `${name}: ${shown(value)}`)),
          ),
        )
      : []),
  );
  $("sd-jwt").value = answer.sdJwt || t("officer.answer.unsigned");
  let rows = [];
  try {
    rows = answer.sdJwt ? decodeSdJwt(answer.sdJwt) : [];
  } catch (error) {
    rows = [[t("officer.answer.decoded"), messageOf(error)]];
  }
  $("decoded-claims").replaceChildren(
    ...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
  box.hidden = false;
}

// --- the history -------------------------------------------------------------------------

function actorText(actor) {
  if (!actor) return "—";
  const role = suffix(actor.role, "ROLE_");
  const roleKey = role === "INTAKE_SYSTEM" ? "intake" : role.toLowerCase();
  const roleName = role === "SERVICE" ? t("officer.role.SERVICE") : t(`role.${roleKey}`);
  return [roleName, actor.subject, departmentName(actor.departmentCode)].filter(Boolean).join(" · ");
}

function renderHistory() {
  $("history-rows").replaceChildren(
    ...history.map((event) => {
      const from = suffix(event.fromState, "PROOF_REQUEST_STATE_");
      const to = suffix(event.toState, "PROOF_REQUEST_STATE_");
      const change =
        from === "UNSPECIFIED" || from === to
          ? t(`officer.state.${to}`)
          : `${t(`officer.state.${from}`)} → ${t(`officer.state.${to}`)}`;
      return el(
        "tr",
        {},
        el("td", {}, String(event.sequence)),
        el("td", {}, when(event.occurredAt)),
        el("td", {}, t(`officer.event.${suffix(event.type, "PROOF_REQUEST_EVENT_TYPE_")}`)),
        el("td", {}, change, " ", markBadge(event)),
        el("td", {}, actorText(event.actor)),
        el("td", {}, event.reason || ""),
      );
    }),
  );
}

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
