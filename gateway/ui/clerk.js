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

import { api, applyI18n, el, header, language, register, stream, t } from "./app.js";

register({
  "zh-CN": {
    "clerk.case": "当前办件",
    "clerk.caseReference": "办件编号",
    "clerk.caseReferenceHelp": "受理系统的办件编号（字母、数字和 . _ : / -）",
    "clerk.purpose": "事由",
    "clerk.caseSet": "设定办件",
    "clerk.caseChange": "更换办件",
    "clerk.caseInvalid": "请填写办件编号（字母、数字和 . _ : / -，最多 64 个字符）和事由（至少 2 个字）。",
    "clerk.needsCase": "请先设定办件：每次查询都记录办件编号和事由，持证人可以看到。",
    "clerk.lookup": "查询申请人的电子证照",
    "clerk.holderId": "申请人证件号码（居民身份证号码或统一社会信用代码）",
    "clerk.lookupSubmit": "查询",
    "clerk.hint.residentOk": "居民身份证号码，校验位正确。",
    "clerk.hint.residentBad": "看起来是居民身份证号码，但校验位不对，请核对（以服务端判断为准）。",
    "clerk.hint.usccOk": "统一社会信用代码，校验位正确。",
    "clerk.hint.usccBad": "看起来是统一社会信用代码，但校验位不对，请核对（以服务端判断为准）。",
    "clerk.hint.length": "证件号码为 18 位，现有 {n} 位。",
    "clerk.hint.chars": "含有证件号码中不会出现的字符。",
    "clerk.searching": "正在查询…",
    "clerk.found": "找到 {n} 本电子证照（办件 {caseRef}，已记录）。",
    "clerk.noneFound": "没有找到该申请人的电子证照（办件 {caseRef}，已记录）。",
    "clerk.licensesCaption": "申请人的电子证照",
    "clerk.licenseType": "证照类型",
    "clerk.issuer": "发证部门",
    "clerk.status": "状态",
    "clerk.validity": "有效期",
    "clerk.actions": "操作",
    "clerk.validityRange": "{from} 至 {until}",
    "clerk.noExpiry": "{from} 起长期有效",
    "clerk.verify": "核验",
    "clerk.verifyLabel": "核验 {type}",
    "clerk.verifying": "正在核验…",
    "clerk.valid": "核验通过：每项检查都通过。",
    "clerk.invalid": "核验未通过：见下列检查。",
    "clerk.checksCaption": "核验检查",
    "clerk.check": "检查",
    "clerk.outcome": "结果",
    "clerk.detail": "说明",
    "clerk.proof": "缺少材料：证明事项",
    "clerk.proofItem": "证明事项",
    "clerk.proofItemChoose": "— 请选择证明事项 —",
    "clerk.route": "办理方式",
    "clerk.authoritative": "核验部门",
    "clerk.legalBasis": "设定依据",
    "clerk.deadlineLimit": "答复时限",
    "clerk.workingDays": "{n} 个工作日",
    "clerk.workingHours": "{n} 个工作小时",
    "clerk.consent": "申请人授权同意",
    "clerk.consentGiver": "同意人",
    "clerk.giver.holder": "持证人本人",
    "clerk.giver.legal": "法定代表人（或监护人）",
    "clerk.giver.agent": "委托代理人",
    "clerk.agentId": "同意人的居民身份证号码",
    "clerk.consentChecked": "同意人已在窗口当面同意，我已核验其身份证件",
    "clerk.note": "给核验部门的说明（可选）",
    "clerk.proofSubmit": "发起证明请求",
    "clerk.gaps": "容缺受理：告知承诺",
    "clerk.gapsHelp": "申请人签署以下承诺后先行受理，缺少的材料在补交期限内提交；之后按比例抽查。",
    "clerk.fulfilBy": "补交期限",
    "clerk.commitSubmit": "记录承诺并容缺受理",
    "clerk.needHolder": "请先在上方填写申请人证件号码。",
    "clerk.needItem": "请选择证明事项。",
    "clerk.needConsent": "请确认同意人已在窗口当面同意并已核验其身份证件。",
    "clerk.needAgent": "请填写同意人的居民身份证号码。",
    "clerk.needFulfilBy": "请选择今天以后的补交期限。",
    "clerk.request": "证明请求",
    "clerk.requestId": "请求编号",
    "clerk.targets": "核验部门",
    "clerk.state": "状态",
    "clerk.deadline": "答复期限",
    "clerk.noDeadline": "无（即时办理）",
    "clerk.dueAt": "{due} 前",
    "clerk.answer": "答复",
    "clerk.waiting": "等待核验部门答复…",
    "clerk.answeredBy": "答复部门",
    "clerk.answeredAt": "答复时间",
    "clerk.explanation": "说明",
    "clerk.ledgerIndex": "存证序号",
    "clerk.sourceLicense": "依据证照",
    "clerk.download": "下载签名答复（SD-JWT）",
    "clerk.print": "打印答复",
    "clerk.verifyAnswer": "核验签名答复",
    "clerk.signedAnswer": "签名答复（SD-JWT）",
    "clerk.commitment": "承诺",
    "clerk.commitmentId": "承诺编号",
    "clerk.checkState": "抽查状态",
    "clerk.recordedAt": "记录时间",
    "clerk.history": "办理过程（全程留痕）",
    "clerk.moreInfo": "核验部门要求补充材料：",
    "clerk.reply": "补充说明",
    "clerk.replySubmit": "提交补充",
    "clerk.rejection": "退回原因",
    "clerk.live.connecting": "实时更新：连接中…",
    "clerk.live.open": "实时更新：已连接，答复到达时自动显示。",
    "clerk.live.failed": "实时更新中断：{message}",
    "route.PROOF_ROUTE_CANCELLED": "直接取消（无需证明）",
    "route.PROOF_ROUTE_DATA_SHARING": "数据共享（从电子证照自动答复）",
    "route.PROOF_ROUTE_COMMITMENT": "告知承诺（容缺受理）",
    "route.PROOF_ROUTE_DEPARTMENT_VERIFICATION": "部门核验（证明协查）",
    "license.LICENSE_STATUS_VALID": "有效",
    "license.LICENSE_STATUS_SUSPENDED": "暂停",
    "license.LICENSE_STATUS_REVOKED": "已撤销",
    "license.LICENSE_STATUS_CANCELLED": "已注销",
    "license.LICENSE_STATUS_EXPIRED": "已过期",
    "license.LICENSE_STATUS_TRANSFERRED": "已转让",
    "license.LICENSE_STATUS_WITHDRAWN": "已收回",
    "state.PROOF_REQUEST_STATE_SUBMITTED": "已提交，等待受理",
    "state.PROOF_REQUEST_STATE_ACCEPTED": "已受理，正在核验",
    "state.PROOF_REQUEST_STATE_NEEDS_MORE_INFO": "待补充材料",
    "state.PROOF_REQUEST_STATE_ANSWERED": "已答复",
    "state.PROOF_REQUEST_STATE_CLOSED": "已办结",
    "state.PROOF_REQUEST_STATE_WITHDRAWN": "已撤回",
    "state.PROOF_REQUEST_STATE_REJECTED": "已退回",
    "state.PROOF_REQUEST_STATE_EXPIRED": "已过期",
    "outcome.PROOF_OUTCOME_CONFIRMED": "属实（已确认）",
    "outcome.PROOF_OUTCOME_DENIED": "不属实",
    "outcome.PROOF_OUTCOME_CANNOT_DETERMINE": "无法核实",
    "outcome.PROOF_OUTCOME_NOT_REQUIRED": "无需证明（已直接取消）",
    "outcome.PROOF_OUTCOME_COMMITTED": "以承诺代替（容缺受理）",
    "commitment.COMMITMENT_CHECK_STATE_AWAITING_SAMPLING": "等待抽查",
    "commitment.COMMITMENT_CHECK_STATE_NOT_SELECTED": "未抽中",
    "commitment.COMMITMENT_CHECK_STATE_SELECTED": "已抽中，待核查",
    "commitment.COMMITMENT_CHECK_STATE_FOUND_TRUE": "核查属实",
    "commitment.COMMITMENT_CHECK_STATE_FOUND_FALSE": "核查不实",
    "event.PROOF_REQUEST_EVENT_TYPE_CREATED": "发起",
    "event.PROOF_REQUEST_EVENT_TYPE_ACCEPTED": "受理",
    "event.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED": "要求补充",
    "event.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_SUPPLIED": "补充材料",
    "event.PROOF_REQUEST_EVENT_TYPE_ANSWERED": "答复",
    "event.PROOF_REQUEST_EVENT_TYPE_REJECTED": "退回",
    "event.PROOF_REQUEST_EVENT_TYPE_WITHDRAWN": "撤回",
    "event.PROOF_REQUEST_EVENT_TYPE_CLOSED": "办结",
    "event.PROOF_REQUEST_EVENT_TYPE_EXPIRED": "过期",
    "event.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED": "时限状态变化",
    "event.PROOF_REQUEST_EVENT_TYPE_ESCALATED": "超期上报",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED": "记录承诺",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED": "抽查",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED": "核查承诺",
    "check.VERIFICATION_CHECK_FORMAT": "格式",
    "check.VERIFICATION_CHECK_ISSUER_KEY": "发证部门密钥",
    "check.VERIFICATION_CHECK_SIGNATURE": "签名",
    "check.VERIFICATION_CHECK_DISCLOSURES": "选择性披露",
    "check.VERIFICATION_CHECK_ISSUER_AUTHORITY": "发证权限（权责清单）",
    "check.VERIFICATION_CHECK_SCHEMA": "证照字段",
    "check.VERIFICATION_CHECK_VALIDITY_WINDOW": "有效期",
    "check.VERIFICATION_CHECK_STATUS": "证照状态",
    "check.VERIFICATION_CHECK_LEDGER_INCLUSION": "区块链存证",
    "checkOutcome.CHECK_OUTCOME_PASSED": "通过",
    "checkOutcome.CHECK_OUTCOME_FAILED": "未通过",
    "checkOutcome.CHECK_OUTCOME_SKIPPED": "未执行",
    "checkOutcome.CHECK_OUTCOME_UNAVAILABLE": "暂无法判断",
    "checkOutcome.CHECK_OUTCOME_NOT_APPLICABLE": "不适用",
  },
  en: {
    "clerk.case": "Current case",
    "clerk.caseReference": "Case number",
    "clerk.caseReferenceHelp": "The intake system's case number (letters, digits and . _ : / -)",
    "clerk.purpose": "Purpose",
    "clerk.caseSet": "Set the case",
    "clerk.caseChange": "Change the case",
    "clerk.caseInvalid":
      "Enter a case number (letters, digits and . _ : / -, at most 64 characters) and a purpose (at least 2 characters).",
    "clerk.needsCase":
      "Set the case first: every lookup records the case number and purpose, and the holder sees them.",
    "clerk.lookup": "Look up the applicant's licenses",
    "clerk.holderId": "Applicant's ID (resident ID or unified social credit code)",
    "clerk.lookupSubmit": "Look up",
    "clerk.hint.residentOk": "A resident ID; its check digit is right.",
    "clerk.hint.residentBad":
      "This looks like a resident ID, but its check digit is wrong; please check it (the server decides).",
    "clerk.hint.usccOk": "A unified social credit code; its check character is right.",
    "clerk.hint.usccBad":
      "This looks like a unified social credit code, but its check character is wrong; please check it (the server decides).",
    "clerk.hint.length": "An ID has 18 characters; this has {n}.",
    "clerk.hint.chars": "It contains characters that no ID has.",
    "clerk.searching": "Looking up…",
    "clerk.found": "{n} license(s) found (case {caseRef}; recorded).",
    "clerk.noneFound": "No licenses found for this applicant (case {caseRef}; recorded).",
    "clerk.licensesCaption": "The applicant's licenses",
    "clerk.licenseType": "License type",
    "clerk.issuer": "Issuer",
    "clerk.status": "Status",
    "clerk.validity": "Valid",
    "clerk.actions": "Actions",
    "clerk.validityRange": "{from} to {until}",
    "clerk.noExpiry": "from {from}, no expiry",
    "clerk.verify": "Verify",
    "clerk.verifyLabel": "Verify {type}",
    "clerk.verifying": "Verifying…",
    "clerk.valid": "Verified: every check passed.",
    "clerk.invalid": "Not verified: see the checks below.",
    "clerk.checksCaption": "Verification checks",
    "clerk.check": "Check",
    "clerk.outcome": "Outcome",
    "clerk.detail": "Detail",
    "clerk.proof": "Missing document: proof item",
    "clerk.proofItem": "Proof item",
    "clerk.proofItemChoose": "— choose a proof item —",
    "clerk.route": "Route",
    "clerk.authoritative": "Answering department",
    "clerk.legalBasis": "Legal basis",
    "clerk.deadlineLimit": "Time limit",
    "clerk.workingDays": "{n} working day(s)",
    "clerk.workingHours": "{n} working hour(s)",
    "clerk.consent": "The applicant's consent",
    "clerk.consentGiver": "Consent given by",
    "clerk.giver.holder": "The holder in person",
    "clerk.giver.legal": "Legal representative (or guardian)",
    "clerk.giver.agent": "Authorised agent",
    "clerk.agentId": "Resident ID of the person consenting",
    "clerk.consentChecked": "Consent was given in person at the window and I checked their ID",
    "clerk.note": "Note to the answering department (optional)",
    "clerk.proofSubmit": "Start the proof request",
    "clerk.gaps": "Accept with gaps: commitment",
    "clerk.gapsHelp":
      "The applicant signs the commitment below and the case goes on; the missing material is due by the date. Commitments are sampled and checked later.",
    "clerk.fulfilBy": "Material due by",
    "clerk.commitSubmit": "Record the commitment and accept",
    "clerk.needHolder": "Enter the applicant's ID above first.",
    "clerk.needItem": "Choose a proof item.",
    "clerk.needConsent": "Confirm that consent was given in person and that you checked the ID.",
    "clerk.needAgent": "Enter the resident ID of the person consenting.",
    "clerk.needFulfilBy": "Choose a due date after today.",
    "clerk.request": "Proof request",
    "clerk.requestId": "Request ID",
    "clerk.targets": "Answering department",
    "clerk.state": "State",
    "clerk.deadline": "Deadline",
    "clerk.noDeadline": "None (handled at once)",
    "clerk.dueAt": "by {due}",
    "clerk.answer": "Answer",
    "clerk.waiting": "Waiting for the department's answer…",
    "clerk.answeredBy": "Answered by",
    "clerk.answeredAt": "Answered at",
    "clerk.explanation": "Explanation",
    "clerk.ledgerIndex": "Ledger index",
    "clerk.sourceLicense": "From license",
    "clerk.download": "Download the signed answer (SD-JWT)",
    "clerk.print": "Print the answer",
    "clerk.verifyAnswer": "Verify the signed answer",
    "clerk.signedAnswer": "Signed answer (SD-JWT)",
    "clerk.commitment": "Commitment",
    "clerk.commitmentId": "Commitment ID",
    "clerk.checkState": "Sampling",
    "clerk.recordedAt": "Recorded at",
    "clerk.history": "History (every step)",
    "clerk.moreInfo": "The department asks for more information:",
    "clerk.reply": "Reply",
    "clerk.replySubmit": "Send the reply",
    "clerk.rejection": "Rejected because",
    "clerk.live.connecting": "Live updates: connecting…",
    "clerk.live.open": "Live updates: connected; the answer appears here when it arrives.",
    "clerk.live.failed": "Live updates stopped: {message}",
    "route.PROOF_ROUTE_CANCELLED": "Cancelled (no proof needed)",
    "route.PROOF_ROUTE_DATA_SHARING": "Data sharing (answered from a license)",
    "route.PROOF_ROUTE_COMMITMENT": "Commitment (accept with gaps)",
    "route.PROOF_ROUTE_DEPARTMENT_VERIFICATION": "Department verification",
    "license.LICENSE_STATUS_VALID": "Valid",
    "license.LICENSE_STATUS_SUSPENDED": "Suspended",
    "license.LICENSE_STATUS_REVOKED": "Revoked",
    "license.LICENSE_STATUS_CANCELLED": "Cancelled",
    "license.LICENSE_STATUS_EXPIRED": "Expired",
    "license.LICENSE_STATUS_TRANSFERRED": "Transferred",
    "license.LICENSE_STATUS_WITHDRAWN": "Withdrawn",
    "state.PROOF_REQUEST_STATE_SUBMITTED": "Submitted, waiting to be accepted",
    "state.PROOF_REQUEST_STATE_ACCEPTED": "Accepted, being checked",
    "state.PROOF_REQUEST_STATE_NEEDS_MORE_INFO": "Needs more information",
    "state.PROOF_REQUEST_STATE_ANSWERED": "Answered",
    "state.PROOF_REQUEST_STATE_CLOSED": "Closed",
    "state.PROOF_REQUEST_STATE_WITHDRAWN": "Withdrawn",
    "state.PROOF_REQUEST_STATE_REJECTED": "Rejected",
    "state.PROOF_REQUEST_STATE_EXPIRED": "Expired",
    "outcome.PROOF_OUTCOME_CONFIRMED": "Confirmed",
    "outcome.PROOF_OUTCOME_DENIED": "Denied",
    "outcome.PROOF_OUTCOME_CANNOT_DETERMINE": "Cannot determine",
    "outcome.PROOF_OUTCOME_NOT_REQUIRED": "Not required (cancelled)",
    "outcome.PROOF_OUTCOME_COMMITTED": "Committed (accept with gaps)",
    "commitment.COMMITMENT_CHECK_STATE_AWAITING_SAMPLING": "Awaiting sampling",
    "commitment.COMMITMENT_CHECK_STATE_NOT_SELECTED": "Not selected",
    "commitment.COMMITMENT_CHECK_STATE_SELECTED": "Selected, to be checked",
    "commitment.COMMITMENT_CHECK_STATE_FOUND_TRUE": "Checked: true",
    "commitment.COMMITMENT_CHECK_STATE_FOUND_FALSE": "Checked: false",
    "event.PROOF_REQUEST_EVENT_TYPE_CREATED": "Created",
    "event.PROOF_REQUEST_EVENT_TYPE_ACCEPTED": "Accepted",
    "event.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED": "More information asked",
    "event.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_SUPPLIED": "More information supplied",
    "event.PROOF_REQUEST_EVENT_TYPE_ANSWERED": "Answered",
    "event.PROOF_REQUEST_EVENT_TYPE_REJECTED": "Rejected",
    "event.PROOF_REQUEST_EVENT_TYPE_WITHDRAWN": "Withdrawn",
    "event.PROOF_REQUEST_EVENT_TYPE_CLOSED": "Closed",
    "event.PROOF_REQUEST_EVENT_TYPE_EXPIRED": "Expired",
    "event.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED": "Deadline mark changed",
    "event.PROOF_REQUEST_EVENT_TYPE_ESCALATED": "Escalated as overdue",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED": "Commitment recorded",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED": "Sampled",
    "event.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED": "Commitment checked",
    "check.VERIFICATION_CHECK_FORMAT": "Format",
    "check.VERIFICATION_CHECK_ISSUER_KEY": "Issuer key",
    "check.VERIFICATION_CHECK_SIGNATURE": "Signature",
    "check.VERIFICATION_CHECK_DISCLOSURES": "Disclosures",
    "check.VERIFICATION_CHECK_ISSUER_AUTHORITY": "Issuer authority",
    "check.VERIFICATION_CHECK_SCHEMA": "Schema",
    "check.VERIFICATION_CHECK_VALIDITY_WINDOW": "Validity period",
    "check.VERIFICATION_CHECK_STATUS": "Status",
    "check.VERIFICATION_CHECK_LEDGER_INCLUSION": "Ledger inclusion",
    "checkOutcome.CHECK_OUTCOME_PASSED": "Passed",
    "checkOutcome.CHECK_OUTCOME_FAILED": "Failed",
    "checkOutcome.CHECK_OUTCOME_SKIPPED": "Skipped",
    "checkOutcome.CHECK_OUTCOME_UNAVAILABLE": "Undecided",
    "checkOutcome.CHECK_OUTCOME_NOT_APPLICABLE": "Not applicable",
  },
});

const CASE_KEY = "certfree.clerk.case";
const CASE_REFERENCE = /^[A-Za-z0-9._:/-]{1,64}$/;
const INBOX = "/v1/proof-requests:streamInbox?direction=REQUEST_DIRECTION_OUTGOING";
const MARK_OF_SLA = {
  SLA_MARK_ON_TIME: ["mark-ok", "mark.ok"],
  SLA_MARK_WARNING: ["mark-yellow", "mark.yellow"],
  SLA_MARK_OVERDUE: ["mark-red", "mark.red"],
};
const GOOD_OUTCOMES = new Set(["PROOF_OUTCOME_CONFIRMED", "PROOF_OUTCOME_NOT_REQUIRED", "PROOF_OUTCOME_COMMITTED"]);
const PASSING_CHECKS = new Set(["CHECK_OUTCOME_PASSED", "CHECK_OUTCOME_NOT_APPLICABLE"]);

const $ = (id) => document.getElementById(id);

// What the page knows: names from the catalogues, the proof items, the watched request.
const names = { licenseTypes: new Map(), departments: new Map() };
const items = new Map();
const seen = new Map(); // requestId -> the latest request the stream showed
let current = null; // the watched proof request
let downloadUrl = "";
let clientRequestId = "";
let redraws = []; // what to draw again when the language changes

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
function classify(value) {
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
function holderRef(value) {
  const found = classify(value);
  if (found.kind === "residentId") return { residentId: found.id };
  if (found.kind === "uscc") return { uscc: found.id };
  return null;
}

function showHint(input, hint) {
  const found = classify(input.value);
  hint.textContent = found.hint ? t(found.hint, { n: found.n }) : "";
  hint.className = found.hint && !found.ok ? "clerk-help clerk-warn" : "clerk-help";
}

// --- small helpers --------------------------------------------------------------------------

function formatTime(value, withTime = true) {
  if (!value) return "—";
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return String(value);
  const options = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(language(), options).format(when);
}

function departmentName(code) {
  const name = names.departments.get(code);
  return name ? `${name} (${code})` : code;
}

function showError(node, error) {
  if (!error) {
    node.hidden = true;
    node.textContent = "";
    return;
  }
  node.textContent = t("app.error", { message: error.message || String(error) });
  node.hidden = false;
}

function mark(cls, text) {
  return el("span", { class: cls, text });
}

/** A fresh idempotency key: the same one is reused when the same request is retried. */
function newClientRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `clerk-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function listAll(path, field) {
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

// --- 1. the case ------------------------------------------------------------------------

function keptCase() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(CASE_KEY) || "null");
    return kept && kept.caseReference && kept.purpose ? kept : null;
  } catch {
    return null;
  }
}

function drawCase() {
  const kept = keptCase();
  $("case-current").hidden = !kept;
  $("case-form").hidden = Boolean(kept);
  $("needs-case").hidden = Boolean(kept);
  for (const id of ["lookup-submit", "proof-submit", "commit-submit"]) $(id).disabled = !kept;
  if (kept) {
    $("case-current-ref").textContent = kept.caseReference;
    $("case-current-purpose").textContent = kept.purpose;
  }
}

function setUpCase() {
  $("case-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const caseReference = $("case-ref").value.trim();
    const purpose = $("purpose").value.trim();
    const ok = CASE_REFERENCE.test(caseReference) && purpose.length >= 2 && purpose.length <= 200;
    $("case-ref").setAttribute("aria-invalid", String(!CASE_REFERENCE.test(caseReference)));
    $("purpose").setAttribute("aria-invalid", String(purpose.length < 2));
    if (!ok) {
      $("case-error").textContent = t("clerk.caseInvalid");
      $("case-error").hidden = false;
      return;
    }
    $("case-error").hidden = true;
    sessionStorage.setItem(CASE_KEY, JSON.stringify({ caseReference, purpose }));
    drawCase();
    $("holder-id").focus();
  });
  $("case-change").addEventListener("click", () => {
    const kept = keptCase();
    sessionStorage.removeItem(CASE_KEY);
    if (kept) {
      $("case-ref").value = kept.caseReference;
      $("purpose").value = kept.purpose;
    }
    drawCase();
    $("case-ref").focus();
  });
  drawCase();
}

function accessPurpose() {
  const kept = keptCase();
  return kept ? { purpose: kept.purpose, caseReference: kept.caseReference } : null;
}

// --- 2. the applicant's licenses ----------------------------------------------------------

function licenseStatus(status) {
  const cls = status === "LICENSE_STATUS_VALID" ? "mark-ok" : status === "LICENSE_STATUS_SUSPENDED" ? "mark-yellow" : "mark-red";
  return mark(cls, t(`license.${status}`));
}

function licenseRow(license) {
  const typeName = names.licenseTypes.get(license.licenseTypeCode) || license.licenseTypeCode;
  const result = el("div", { class: "clerk-verification", "aria-live": "polite" });
  const verify = el("button", {
    type: "button",
    class: "secondary",
    "aria-label": t("clerk.verifyLabel", { type: typeName }),
    text: t("clerk.verify"),
    onclick: () => verifyInto(result, { sdJwt: license.sdJwt }, verify),
  });
  const validity = license.validUntil
    ? t("clerk.validityRange", { from: formatTime(license.validFrom, false), until: formatTime(license.validUntil, false) })
    : t("clerk.noExpiry", { from: formatTime(license.validFrom, false) });
  return [
    el(
      "tr",
      { dataset: { licenseId: license.licenseId } },
      el("th", { scope: "row" }, el("span", { text: typeName }), el("br"), el("code", { class: "clerk-id", text: license.licenseId })),
      el("td", { text: departmentName(license.issuerDepartment) }),
      el("td", {}, licenseStatus(license.status)),
      el("td", { text: validity }),
      el("td", {}, verify),
    ),
    el("tr", { class: "clerk-verification-row" }, el("td", { colspan: "5" }, result)),
  ];
}

/** VerifyLicense `body`, drawn into `into`: the verdict and every check. */
async function verifyInto(into, body, button) {
  button.disabled = true;
  into.replaceChildren(el("p", { class: "clerk-help", text: t("clerk.verifying") }));
  try {
    const verified = await api("POST", "/v1/licenses:verify", body);
    const rows = (verified.checks || []).map((check) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: t(`check.${check.check}`) }),
        el("td", {}, mark(PASSING_CHECKS.has(check.outcome) ? "mark-ok" : check.outcome === "CHECK_OUTCOME_FAILED" ? "mark-red" : "mark-yellow", t(`checkOutcome.${check.outcome}`))),
        el("td", { text: check.detail || "" }),
      ),
    );
    into.replaceChildren(
      el("p", { class: verified.valid ? "clerk-verdict" : "clerk-verdict error" }, mark(verified.valid ? "mark-ok" : "mark-red", verified.valid ? "✓" : "✗"), " ", t(verified.valid ? "clerk.valid" : "clerk.invalid")),
      el(
        "table",
        { class: "clerk-checks" },
        el("caption", { text: t("clerk.checksCaption") }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("clerk.check") }), el("th", { scope: "col", text: t("clerk.outcome") }), el("th", { scope: "col", text: t("clerk.detail") }))),
        el("tbody", {}, rows),
      ),
    );
  } catch (error) {
    into.replaceChildren(el("p", { class: "error", role: "alert", text: t("app.error", { message: error.message }) }));
  } finally {
    button.disabled = false;
  }
}

function setUpLookup() {
  const input = $("holder-id");
  input.addEventListener("input", () => showHint(input, $("holder-hint")));
  $("lookup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const purpose = accessPurpose();
    const holder = holderRef(input.value);
    showError($("lookup-error"), null);
    if (!purpose) return showError($("lookup-error"), new Error(t("clerk.needsCase")));
    if (!holder) {
      showHint(input, $("holder-hint"));
      input.focus();
      return undefined;
    }
    $("lookup-submit").disabled = true;
    $("lookup-status").textContent = t("clerk.searching");
    try {
      const found = await api("POST", "/v1/licenses:listByHolder", { holder, purpose });
      const licenses = found.licenses || [];
      const draw = () => {
        $("licenses-body").replaceChildren(...licenses.flatMap(licenseRow));
        $("licenses").hidden = licenses.length === 0;
        $("lookup-status").textContent = t(licenses.length ? "clerk.found" : "clerk.noneFound", {
          n: licenses.length,
          caseRef: purpose.caseReference,
        });
      };
      redraws = redraws.filter((entry) => entry.name !== "licenses");
      redraws.push({ name: "licenses", draw });
      draw();
    } catch (error) {
      $("lookup-status").textContent = "";
      showError($("lookup-error"), error);
    } finally {
      $("lookup-submit").disabled = !keptCase();
    }
    return undefined;
  });
}

// --- 3. proof items and requests -----------------------------------------------------------

function limitText(limit) {
  if (!limit) return "";
  const parts = [];
  if (limit.workingDays) parts.push(t("clerk.workingDays", { n: limit.workingDays }));
  const seconds = Number.parseFloat(String(limit.workingTime || "0").replace("s", ""));
  if (seconds) parts.push(t("clerk.workingHours", { n: Math.round((seconds / 3600) * 10) / 10 }));
  return parts.join(" + ");
}

function drawItemInfo() {
  const item = items.get($("proof-item").value);
  const info = $("proof-item-info");
  clientRequestId = newClientRequestId(); // another item is another request
  if (!item) {
    info.replaceChildren();
    $("commitment-fields").hidden = true;
    $("request-fields").hidden = false;
    return;
  }
  const rows = [
    [t("clerk.route"), el("strong", { class: "clerk-route", text: t(`route.${item.route}`) })],
    [t("clerk.authoritative"), (item.authoritativeDepartments || []).map(departmentName).join("、") || "—"],
  ];
  if (item.deadline) rows.push([t("clerk.deadlineLimit"), limitText(item.deadline)]);
  rows.push([t("clerk.legalBasis"), item.legalBasis || "—"]);
  info.replaceChildren(
    ...(item.description ? [el("p", { text: item.description })] : []),
    el("dl", { class: "preview" }, rows.map(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)])),
  );
  const commitment = item.route === "PROOF_ROUTE_COMMITMENT";
  $("commitment-fields").hidden = !commitment;
  $("request-fields").hidden = commitment;
  if (commitment) {
    $("commitment-text").textContent = item.commitment?.text || "";
    const within = Number.parseFloat(String(item.commitment?.fulfilWithin || "0").replace("s", ""));
    const due = new Date(Date.now() + (within || 20 * 86400) * 1000);
    $("fulfil-by").value = due.toISOString().slice(0, 10);
    $("fulfil-by").min = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  }
}

async function loadItems() {
  const list = await listAll("/v1/proof-items?pageSize=500", "proofItems");
  const select = $("proof-item");
  for (const item of list) {
    items.set(item.code, item);
    select.append(el("option", { value: item.code, text: `${item.name} · ${t(`route.${item.route}`)}` }));
  }
}

function relabelItems() {
  for (const option of $("proof-item").options) {
    const item = items.get(option.value);
    if (item) option.textContent = `${item.name} · ${t(`route.${item.route}`)}`;
  }
}

/** The consent (or the commitment's maker): who, how, when; an Error when incomplete. */
function consent() {
  if (!$("consent-checked").checked) throw new Error(t("clerk.needConsent"));
  const givenBy = $("consent-giver").value;
  const body = { givenBy, method: "CONSENT_METHOD_AT_WINDOW_ID_CHECKED", givenAt: new Date().toISOString() };
  if (givenBy !== "CONSENT_GIVER_HOLDER") {
    const agent = classify($("agent-id").value);
    if (agent.kind !== "residentId") throw new Error(t("clerk.needAgent"));
    body.agent = { residentId: agent.id };
  }
  return body;
}

/** CreateProofRequest for the chosen item, under this form's idempotency key. */
async function createRequest(note) {
  const purpose = accessPurpose();
  if (!purpose) throw new Error(t("clerk.needsCase"));
  const holder = holderRef($("holder-id").value);
  if (!holder) throw new Error(t("clerk.needHolder"));
  const code = $("proof-item").value;
  if (!items.has(code)) throw new Error(t("clerk.needItem"));
  const body = { clientRequestId, proofItemCode: code, holder, purpose, consent: consent() };
  if (note) body.note = note;
  const created = await api("POST", "/v1/proof-requests", body);
  return created.request;
}

function setUpProof() {
  $("proof-item").addEventListener("change", drawItemInfo);
  const giver = $("consent-giver");
  const drawGiver = () => {
    $("agent-field").hidden = giver.value === "CONSENT_GIVER_HOLDER";
  };
  giver.addEventListener("change", drawGiver);
  drawGiver();
  $("agent-id").addEventListener("input", () => showHint($("agent-id"), $("agent-hint")));
  $("proof-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("proof-submit");
    if (button.disabled) return;
    button.disabled = true;
    showError($("proof-error"), null);
    try {
      const request = await createRequest($("note").value.trim());
      clientRequestId = newClientRequestId(); // done: the next one is a new request
      watch(request);
    } catch (error) {
      showError($("proof-error"), error);
    } finally {
      button.disabled = !keptCase();
    }
  });
  $("commit-submit").addEventListener("click", async () => {
    const button = $("commit-submit");
    if (button.disabled) return;
    button.disabled = true;
    showError($("proof-error"), null);
    try {
      const due = $("fulfil-by").value;
      if (!due || due <= new Date().toISOString().slice(0, 10)) throw new Error(t("clerk.needFulfilBy"));
      const made = consent();
      let request = await createRequest("");
      if (request.state === "PROOF_REQUEST_STATE_SUBMITTED") {
        // End of the due day in China (UTC+8): the material is due by that day.
        const fulfilBy = new Date(`${due}T23:59:59+08:00`).toISOString().replace(/\.\d+Z$/, "Z");
        const committed = await api("POST", `/v1/proof-requests/${encodeURIComponent(request.requestId)}:recordCommitment`, {
          text: items.get(request.proofItemCode)?.commitment?.text || "",
          made,
          fulfilBy,
        });
        request = committed.request;
      }
      clientRequestId = newClientRequestId();
      watch(request);
    } catch (error) {
      showError($("proof-error"), error);
    } finally {
      button.disabled = !keptCase();
    }
  });
}

// --- the watched request ---------------------------------------------------------------------

function watch(request) {
  current = request;
  const newer = seen.get(request.requestId);
  if (newer && Number(newer.lastEventSequence || 0) > Number(request.lastEventSequence || 0)) current = newer;
  $("request").hidden = false;
  drawRequest();
  loadHistory();
  $("request-heading").scrollIntoView({ block: "start" });
}

function update(request) {
  if (!current || request.requestId !== current.requestId) return;
  if (Number(request.lastEventSequence || 0) < Number(current.lastEventSequence || 0)) return;
  current = request;
  drawRequest();
  loadHistory();
}

function setDownload(sdJwt, requestId) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = "";
  const link = $("download");
  if (!sdJwt) {
    link.hidden = true;
    link.removeAttribute("href");
    return;
  }
  downloadUrl = URL.createObjectURL(new Blob([sdJwt], { type: "application/dc+sd-jwt" }));
  link.href = downloadUrl;
  link.download = `proof-answer-${requestId}.sd-jwt`;
  link.hidden = false;
}

function drawRequest() {
  const request = current;
  if (!request) return;
  const item = items.get(request.proofItemCode);
  $("request-id").textContent = request.requestId;
  $("request-item").textContent = item ? `${item.name} · ${t(`route.${request.route}`)}` : request.proofItemCode;
  $("request-case").textContent = request.purpose ? `${request.purpose.caseReference} · ${request.purpose.purpose}` : "—";
  $("request-targets").textContent = (request.answeringDepartment ? [request.answeringDepartment] : request.targetDepartments || []).map(departmentName).join("、") || "—";
  const answered = Boolean(request.answer);
  const final = ["PROOF_REQUEST_STATE_REJECTED", "PROOF_REQUEST_STATE_WITHDRAWN", "PROOF_REQUEST_STATE_EXPIRED"].includes(request.state);
  $("request-state").replaceChildren(
    el("strong", { id: "request-state-text", text: t(`state.${request.state}`) }),
    ...(request.escalated ? [" ", mark("mark-red", t("event.PROOF_REQUEST_EVENT_TYPE_ESCALATED"))] : []),
  );
  if (request.dueAt) {
    const [cls, key] = MARK_OF_SLA[request.slaMark] || MARK_OF_SLA.SLA_MARK_ON_TIME;
    $("request-deadline").replaceChildren(mark(cls, t(key)), " ", t("clerk.dueAt", { due: formatTime(request.dueAt) }));
  } else {
    $("request-deadline").textContent = t("clerk.noDeadline");
  }
  drawMoreInfo(request);
  const answer = $("request-answer");
  answer.hidden = false;
  const outcome = $("answer-outcome");
  const details = $("answer-details");
  if (!answered) {
    setDownload("", "");
    $("print").hidden = true;
    $("verify-answer").hidden = true;
    $("answer-token").hidden = true;
    $("commitment-view").hidden = true;
    $("answer-verification").replaceChildren();
    details.replaceChildren();
    if (final && request.rejection) {
      outcome.replaceChildren(mark("mark-red", t(`state.${request.state}`)));
      details.replaceChildren(el("dt", { text: t("clerk.rejection") }), el("dd", { text: request.rejection.reason || "—" }));
    } else if (final) {
      outcome.replaceChildren(mark("mark-red", t(`state.${request.state}`)));
    } else {
      outcome.replaceChildren(el("span", { class: "clerk-waiting", text: t("clerk.waiting") }));
    }
    return;
  }
  const result = request.answer;
  outcome.replaceChildren(
    mark(GOOD_OUTCOMES.has(result.outcome) ? "mark-ok" : result.outcome === "PROOF_OUTCOME_DENIED" ? "mark-red" : "mark-yellow", t(`outcome.${result.outcome}`)),
  );
  outcome.dataset.outcome = result.outcome;
  const titles = new Map((item?.answerClaims || []).map((claim) => [claim.name, claim.title]));
  const rows = [];
  for (const [name, value] of Object.entries(result.claims || {})) {
    rows.push([titles.get(name) || name, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  if (result.explanation) rows.push([t("clerk.explanation"), result.explanation]);
  if (result.legalBasis) rows.push([t("clerk.legalBasis"), result.legalBasis]);
  if (result.sourceLicenseId) rows.push([t("clerk.sourceLicense"), result.sourceLicenseId]);
  if (result.answeringDepartment) rows.push([t("clerk.answeredBy"), departmentName(result.answeringDepartment)]);
  rows.push([t("clerk.answeredAt"), formatTime(result.answeredAt)]);
  if (result.ledgerIndex !== undefined) rows.push([t("clerk.ledgerIndex"), String(result.ledgerIndex)]);
  details.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
  drawCommitment(request.commitment);
  setDownload(result.sdJwt || "", request.requestId);
  $("print").hidden = false;
  $("verify-answer").hidden = !result.sdJwt;
  $("answer-token").hidden = !result.sdJwt;
  $("answer-sd-jwt").textContent = result.sdJwt || "";
}

function drawCommitment(commitment) {
  const view = $("commitment-view");
  view.hidden = !commitment;
  if (!commitment) return;
  const rows = [
    [t("clerk.commitmentId"), commitment.commitmentId],
    [t("clerk.fulfilBy"), commitment.fulfilBy ? formatTime(commitment.fulfilBy, false) : "—"],
    [t("clerk.recordedAt"), formatTime(commitment.recordedAt)],
    [t("clerk.checkState"), t(`commitment.${commitment.checkState}`)],
  ];
  if (commitment.ledgerIndex !== undefined) rows.push([t("clerk.ledgerIndex"), String(commitment.ledgerIndex)]);
  view.replaceChildren(
    el("h4", { text: t("clerk.commitment") }),
    el("blockquote", { class: "clerk-quote", text: commitment.text }),
    el("dl", { id: "commitment-details", class: "preview" }, rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })])),
  );
}

function drawMoreInfo(request) {
  const box = $("more-info");
  const open = (request.moreInfo || []).filter((exchange) => !exchange.reply);
  box.hidden = request.state !== "PROOF_REQUEST_STATE_NEEDS_MORE_INFO" || open.length === 0;
  if (box.hidden) return box.replaceChildren();
  const reply = el("textarea", { id: "more-info-reply", rows: "2", maxlength: "4000" });
  const send = el("button", {
    type: "button",
    text: t("clerk.replySubmit"),
    onclick: async () => {
      send.disabled = true;
      try {
        const supplied = await api("POST", `/v1/proof-requests/${encodeURIComponent(request.requestId)}:supplyMoreInfo`, { reply: reply.value.trim() });
        update(supplied.request);
      } catch (error) {
        showError($("proof-error"), error);
        send.disabled = false;
      }
    },
  });
  box.replaceChildren(
    el("p", { class: "mark-yellow", text: t("clerk.moreInfo") }),
    el("blockquote", { class: "clerk-quote", text: open[open.length - 1].question }),
    el("label", { for: "more-info-reply", text: t("clerk.reply") }),
    reply,
    el("p", {}, send),
  );
  return undefined;
}

async function loadHistory() {
  const request = current;
  if (!request) return;
  try {
    const found = await api("GET", `/v1/proof-requests/${encodeURIComponent(request.requestId)}/events?pageSize=500`);
    if (current !== request && current?.requestId !== request.requestId) return;
    $("history-list").replaceChildren(
      ...(found.events || []).map((event) =>
        el(
          "li",
          {},
          el("time", { datetime: event.occurredAt, text: formatTime(event.occurredAt) }),
          " ",
          el("strong", { text: t(`event.${event.type}`) }),
          " · ",
          t(`state.${event.toState}`),
          event.actor?.departmentCode ? ` · ${departmentName(event.actor.departmentCode)}` : "",
          event.reason ? ` — ${event.reason}` : "",
        ),
      ),
    );
  } catch (error) {
    showError($("proof-error"), error);
  }
}

// --- the live stream ----------------------------------------------------------------------------

function followInbox() {
  const live = $("live");
  const say = (key, params) => {
    live.dataset.state = key;
    live.textContent = t(key, params);
  };
  redraws.push({ name: "live", draw: () => live.dataset.state && say(live.dataset.state, { message: live.dataset.message || "" }) });
  say("clerk.live.connecting");
  const controller = new AbortController();
  window.addEventListener("pagehide", () => controller.abort());
  let opened = false;
  stream(
    INBOX,
    (message) => {
      if (!opened) {
        opened = true;
        say("clerk.live.open");
        // Anything that happened before the stream's live end: read the request once.
        if (current) {
          api("GET", `/v1/proof-requests/${encodeURIComponent(current.requestId)}`).then(update, () => {});
        }
      }
      for (const event of message.events || []) {
        const request = event.request;
        if (!request?.requestId) continue;
        seen.set(request.requestId, request);
        if (seen.size > 200) seen.delete(seen.keys().next().value);
        update(request);
      }
    },
    { signal: controller.signal },
  ).catch((error) => {
    live.dataset.message = error.message;
    say("clerk.live.failed", { message: error.message });
  });
}

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
  $("print").addEventListener("click", () => window.print());
  $("verify-answer").addEventListener("click", async () => {
    const answer = current?.answer;
    if (!answer?.sdJwt) return;
    const body = { sdJwt: answer.sdJwt };
    const into = $("answer-verification");
    try {
      if (answer.ledgerIndex !== undefined) {
        const receipt = await api("GET", `/v1/ledger/entries/${encodeURIComponent(answer.ledgerIndex)}/receipt`);
        body.ledgerReceipt = receipt.tlogProof;
      }
    } catch (error) {
      into.replaceChildren(el("p", { class: "error", role: "alert", text: t("app.error", { message: error.message }) }));
      return;
    }
    await verifyInto(into, body, $("verify-answer"));
  });
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
      clientRequestId = keep;
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
    clientRequestId = newClientRequestId();
    followInbox();
  }
  document.body.dataset.ready = "true";
}

start();
