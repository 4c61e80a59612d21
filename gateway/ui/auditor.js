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

import { ApiError, api, applyI18n, el, header, language, register, t } from "./app.js";

register({
  "zh-CN": {
    "aud.sections": "审计功能",
    "aud.tab.verify": "核验证照或回执",
    "aud.tab.history": "协查请求记录",
    "aud.tab.stats": "监察统计",
    "aud.verify.heading": "核验电子证照或账本存证回执",
    "aud.verify.help":
      "粘贴或上传一份电子证照（SD-JWT）或一份账本存证回执（C2SP tlog-proof）。页面自动识别类型，由网关逐项核验并显示每一项结果；回执的默克尔路径会画出来。",
    "aud.verify.text": "证照（SD-JWT）或存证回执（tlog-proof）",
    "aud.verify.textFile": "或上传文件（证照或回执）",
    "aud.verify.receiptOptions": "回执核验选项（可选）",
    "aud.verify.artefactFile": "被存证的文件（在本浏览器内计算 SHA-256，不上传）",
    "aud.verify.verifierKey": "您获得的账本验证公钥",
    "aud.verify.verifierKeyHint": "名称+密钥ID+公钥；留空则使用本账本自己的公钥",
    "aud.verify.submit": "核验",
    "aud.verify.working": "正在核验…",
    "aud.detected.empty": "尚未粘贴内容。",
    "aud.detected.license": "识别为：电子证照（SD-JWT）",
    "aud.detected.receipt": "识别为：账本存证回执（C2SP tlog-proof）",
    "aud.detected.unknown": "无法识别：既不是 SD-JWT，也不是 tlog-proof 回执。",
    "aud.artefact.hash": "文件 {name} 的 SHA-256：{hash}",
    "aud.artefact.fromLicense": "被存证文件：该证照的发证方签名 JWT，SHA-256：{hash}",
    "aud.artefact.none": "未提供被存证文件：不比对文件哈希。",
    "aud.file.read": "已读入文件 {name}。",
    "aud.file.unreadable": "无法读取文件：{message}",
    "aud.result.license": "证照核验结果",
    "aud.result.receipt": "回执核验结果",
    "aud.valid": "有效",
    "aud.invalid": "无效",
    "aud.checks": "逐项核验（按执行顺序）",
    "aud.outcome.PASSED": "通过",
    "aud.outcome.FAILED": "未通过",
    "aud.outcome.SKIPPED": "已跳过",
    "aud.outcome.UNAVAILABLE": "暂无法判定",
    "aud.outcome.NOT_APPLICABLE": "不适用",
    "aud.outcome.NOT_CHECKED": "未检查",
    "aud.check.license.FORMAT": "格式",
    "aud.check.license.ISSUER_KEY": "发证密钥",
    "aud.check.license.SIGNATURE": "签名",
    "aud.check.license.DISCLOSURES": "选择性披露",
    "aud.check.license.ISSUER_AUTHORITY": "发证权限（权责清单）",
    "aud.check.license.SCHEMA": "证照字段",
    "aud.check.license.VALIDITY_WINDOW": "有效期",
    "aud.check.license.STATUS": "证照状态",
    "aud.check.license.LEDGER_INCLUSION": "账本存证",
    "aud.check.receipt.FORMAT": "回执格式",
    "aud.check.receipt.SIGNATURE": "检查点签名",
    "aud.check.receipt.ARTEFACT": "文件哈希",
    "aud.check.receipt.INCLUSION": "包含证明",
    "aud.check.receipt.CONSISTENCY": "与最新检查点一致",
    "aud.check.receipt.WITNESSES": "见证人副署",
    "aud.field.vct": "类型",
    "aud.field.licenseId": "证照标识",
    "aud.field.issuer": "发证部门",
    "aud.field.keyId": "签名密钥",
    "aud.field.issuedAt": "签发时间",
    "aud.field.validFrom": "生效时间",
    "aud.field.validUntil": "失效时间",
    "aud.field.status": "状态",
    "aud.field.ledgerIndex": "账本序号",
    "aud.field.claims": "披露的字段（{count} 项）",
    "aud.field.claimName": "字段",
    "aud.field.claimValue": "值",
    "aud.field.entry": "存证条目",
    "aud.field.kind": "存证类别",
    "aud.field.artefactId": "被存证对象",
    "aud.field.artefactSha256": "被存证文件 SHA-256",
    "aud.field.acceptedAt": "入账时间",
    "aud.field.origin": "账本",
    "aud.field.sizes": "检查点大小",
    "aud.field.sizesValue": "回执：{receipt} 条；最新：{latest} 条",
    "aud.field.verifierKey": "验证公钥",
    "aud.field.witnesses": "见证人",
    "aud.witnesses.none": "无",
    "aud.license.receiptButton": "获取并核验该证照的账本回执",
    "aud.license.noLedger": "核验结果未给出账本序号，无法获取回执。",
    "aud.merkle.heading": "默克尔审计路径",
    "aud.merkle.summary": "从叶子到根共 {steps} 步（RFC 9162）",
    "aud.merkle.aria":
      "默克尔审计路径：自下而上从叶子 {leaf} 经 {steps} 步到根 {root}；根与检查点{match}。",
    "aud.merkle.leaf": "叶子（条目 {index}）",
    "aud.merkle.node": "节点 {step}",
    "aud.merkle.root": "根",
    "aud.merkle.sibling": "兄弟节点（{side}）",
    "aud.merkle.left": "左",
    "aud.merkle.right": "右",
    "aud.merkle.rootMatches": "根 = 检查点根哈希 ✓",
    "aud.merkle.rootDiffers": "根 ≠ 检查点根哈希 ✗",
    "aud.merkle.matches": "一致",
    "aud.merkle.differs": "不一致",
    "aud.merkle.table": "路径明细（完整哈希）",
    "aud.merkle.step": "步",
    "aud.merkle.side": "兄弟位置",
    "aud.merkle.siblingHash": "兄弟哈希",
    "aud.merkle.nodeHash": "所得节点哈希",
    "aud.merkle.leafHash": "叶子哈希",
    "aud.merkle.checkpointRoot": "检查点根哈希",
    "aud.merkle.none": "回执未带审计路径（表单未通过）。",
    "aud.history.heading": "协查请求的全程记录",
    "aud.history.help": "输入证明协查请求编号，查看请求本身及其每一步记录（全程留痕）：时间、操作人、动作、状态变化和说明。",
    "aud.history.requestId": "请求编号",
    "aud.history.submit": "查询",
    "aud.history.empty": "请先输入请求编号。",
    "aud.history.request": "请求 {id}",
    "aud.history.trail": "事件记录（{count} 条，按时间先后）",
    "aud.history.seq": "序号",
    "aud.history.time": "时间",
    "aud.history.actor": "操作人（部门 / 角色 / 用户）",
    "aud.history.action": "动作",
    "aud.history.change": "状态变化",
    "aud.history.mark": "时限标记",
    "aud.history.note": "说明",
    "aud.history.ledger": "账本序号",
    "aud.req.item": "证明事项",
    "aud.req.route": "办理方式",
    "aud.req.requesting": "发起部门",
    "aud.req.requestedBy": "发起人",
    "aud.req.targets": "协查部门",
    "aud.req.answering": "答复部门",
    "aud.req.state": "状态",
    "aud.req.mark": "时限",
    "aud.req.escalated": "已上报监督",
    "aud.req.purpose": "用途 / 办件号",
    "aud.req.created": "发起时间",
    "aud.req.due": "办结时限",
    "aud.req.outcome": "答复结果",
    "aud.yes": "是",
    "aud.no": "否",
    "aud.stats.heading": "监察统计：按期答复率",
    "aud.stats.help": "按部门和证明事项统计请求数量、按期答复率、答复时间中位数和超期数（电子监察）。",
    "aud.stats.department": "部门（统一社会信用代码）",
    "aud.stats.item": "证明事项编码",
    "aud.stats.all": "全部",
    "aud.stats.from": "起始日期",
    "aud.stats.to": "截止日期（不含）",
    "aud.stats.submit": "统计",
    "aud.stats.none": "所选范围内没有协查请求。",
    "aud.stats.byDepartment": "各部门按期答复率",
    "aud.stats.byItem": "各证明事项按期答复率",
    "aud.stats.bar": "{rate}（{onTime}/{answered} 按期）",
    "aud.stats.noAnswers": "尚无答复（共 {total} 件）",
    "aud.stats.chartAria": "{title}：{rows}",
    "aud.stats.table": "统计明细",
    "aud.stats.col.department": "部门",
    "aud.stats.col.item": "证明事项",
    "aud.stats.col.total": "请求数",
    "aud.stats.col.answered": "已答复",
    "aud.stats.col.onTime": "按期答复",
    "aud.stats.col.rate": "按期率",
    "aud.stats.col.median": "答复时间中位数",
    "aud.stats.col.overdue": "超期",
    "aud.stats.col.states": "各状态数量",
    "aud.dur.seconds": "{n} 秒",
    "aud.dur.minutes": "{n} 分钟",
    "aud.dur.hours": "{n} 小时",
    "aud.dur.days": "{n} 天",
    "aud.none": "—",
    "aud.role.ROLE_SERVICE": "系统服务",
    "aud.event.CREATED": "发起请求",
    "aud.event.ACCEPTED": "受理",
    "aud.event.MORE_INFO_ASKED": "要求补充材料",
    "aud.event.MORE_INFO_SUPPLIED": "补充材料",
    "aud.event.ANSWERED": "答复",
    "aud.event.REJECTED": "退回",
    "aud.event.WITHDRAWN": "撤回",
    "aud.event.CLOSED": "办结",
    "aud.event.EXPIRED": "过期",
    "aud.event.SLA_CHANGED": "时限标记变化",
    "aud.event.ESCALATED": "超期上报监督",
    "aud.event.COMMITMENT_RECORDED": "记录告知承诺",
    "aud.event.COMMITMENT_SAMPLED": "承诺抽查",
    "aud.event.COMMITMENT_CHECKED": "承诺核查",
    "aud.state.SUBMITTED": "已提交",
    "aud.state.ACCEPTED": "已受理",
    "aud.state.NEEDS_MORE_INFO": "待补充",
    "aud.state.ANSWERED": "已答复",
    "aud.state.CLOSED": "已办结",
    "aud.state.WITHDRAWN": "已撤回",
    "aud.state.REJECTED": "已退回",
    "aud.state.EXPIRED": "已过期",
    "aud.route.CANCELLED": "直接取消",
    "aud.route.DATA_SHARING": "数据共享",
    "aud.route.COMMITMENT": "告知承诺",
    "aud.route.DEPARTMENT_VERIFICATION": "部门核验",
    "aud.outcomeP.CONFIRMED": "属实",
    "aud.outcomeP.DENIED": "不属实",
    "aud.outcomeP.CANNOT_DETERMINE": "无法核实",
    "aud.outcomeP.NOT_REQUIRED": "无需证明",
    "aud.outcomeP.COMMITTED": "以承诺代替",
    "aud.status.VALID": "有效",
    "aud.status.SUSPENDED": "暂停",
    "aud.status.REVOKED": "已撤销",
    "aud.status.CANCELLED": "已注销",
    "aud.status.EXPIRED": "已过期",
    "aud.status.TRANSFERRED": "已转让",
    "aud.status.WITHDRAWN": "已收回",
    "aud.status.UNSPECIFIED": "未检查",
    "aud.opOnly": "运维人员只能核验回执；请求记录和监察统计仅对监督和审计人员开放。",
  },
  en: {
    "aud.sections": "Audit tools",
    "aud.tab.verify": "Verify a license or receipt",
    "aud.tab.history": "Request history",
    "aud.tab.stats": "Supervision statistics",
    "aud.verify.heading": "Verify an e-license or a ledger receipt",
    "aud.verify.help":
      "Paste or upload a license (SD-JWT) or a ledger receipt (C2SP tlog-proof). The page tells which it is; the gateway checks it and every check is shown; a receipt's Merkle path is drawn.",
    "aud.verify.text": "License (SD-JWT) or receipt (tlog-proof)",
    "aud.verify.textFile": "Or upload a file (license or receipt)",
    "aud.verify.receiptOptions": "Receipt options (optional)",
    "aud.verify.artefactFile": "The attested file (hashed with SHA-256 in this browser, not uploaded)",
    "aud.verify.verifierKey": "The ledger verifier key you were given",
    "aud.verify.verifierKeyHint": "name+key id+key; empty: this ledger's own key",
    "aud.verify.submit": "Verify",
    "aud.verify.working": "Verifying…",
    "aud.detected.empty": "Nothing pasted yet.",
    "aud.detected.license": "Recognised: a license (SD-JWT)",
    "aud.detected.receipt": "Recognised: a ledger receipt (C2SP tlog-proof)",
    "aud.detected.unknown": "Not recognised: neither an SD-JWT nor a tlog-proof receipt.",
    "aud.artefact.hash": "SHA-256 of {name}: {hash}",
    "aud.artefact.fromLicense": "Attested file: the license's issuer-signed JWT, SHA-256 {hash}",
    "aud.artefact.none": "No attested file given: its hash is not compared.",
    "aud.file.read": "Read the file {name}.",
    "aud.file.unreadable": "The file cannot be read: {message}",
    "aud.result.license": "License verification",
    "aud.result.receipt": "Receipt verification",
    "aud.valid": "Valid",
    "aud.invalid": "Not valid",
    "aud.checks": "Every check, in the order run",
    "aud.outcome.PASSED": "Passed",
    "aud.outcome.FAILED": "Failed",
    "aud.outcome.SKIPPED": "Skipped",
    "aud.outcome.UNAVAILABLE": "Cannot decide now",
    "aud.outcome.NOT_APPLICABLE": "Not applicable",
    "aud.outcome.NOT_CHECKED": "Not checked",
    "aud.check.license.FORMAT": "Format",
    "aud.check.license.ISSUER_KEY": "Issuer key",
    "aud.check.license.SIGNATURE": "Signature",
    "aud.check.license.DISCLOSURES": "Disclosures",
    "aud.check.license.ISSUER_AUTHORITY": "Issuer authority (power list)",
    "aud.check.license.SCHEMA": "Claims schema",
    "aud.check.license.VALIDITY_WINDOW": "Validity period",
    "aud.check.license.STATUS": "Status",
    "aud.check.license.LEDGER_INCLUSION": "Ledger inclusion",
    "aud.check.receipt.FORMAT": "Receipt format",
    "aud.check.receipt.SIGNATURE": "Checkpoint signature",
    "aud.check.receipt.ARTEFACT": "Artefact hash",
    "aud.check.receipt.INCLUSION": "Inclusion proof",
    "aud.check.receipt.CONSISTENCY": "Consistency with the latest checkpoint",
    "aud.check.receipt.WITNESSES": "Witness cosignatures",
    "aud.field.vct": "Type",
    "aud.field.licenseId": "License ID",
    "aud.field.issuer": "Issuer",
    "aud.field.keyId": "Signing key",
    "aud.field.issuedAt": "Issued",
    "aud.field.validFrom": "Valid from",
    "aud.field.validUntil": "Valid until",
    "aud.field.status": "Status",
    "aud.field.ledgerIndex": "Ledger index",
    "aud.field.claims": "Disclosed claims ({count})",
    "aud.field.claimName": "Claim",
    "aud.field.claimValue": "Value",
    "aud.field.entry": "Ledger entry",
    "aud.field.kind": "Kind",
    "aud.field.artefactId": "Attested artefact",
    "aud.field.artefactSha256": "Artefact SHA-256",
    "aud.field.acceptedAt": "Accepted",
    "aud.field.origin": "Ledger",
    "aud.field.sizes": "Checkpoint sizes",
    "aud.field.sizesValue": "receipt: {receipt} entries; latest: {latest} entries",
    "aud.field.verifierKey": "Verifier key",
    "aud.field.witnesses": "Witnesses",
    "aud.witnesses.none": "none",
    "aud.license.receiptButton": "Fetch and verify this license's ledger receipt",
    "aud.license.noLedger": "The verification gave no ledger index: no receipt to fetch.",
    "aud.merkle.heading": "Merkle audit path",
    "aud.merkle.summary": "{steps} steps from the leaf to the root (RFC 9162)",
    "aud.merkle.aria":
      "Merkle audit path: from the leaf {leaf} up {steps} steps to the root {root}; the root {match} the checkpoint.",
    "aud.merkle.leaf": "Leaf (entry {index})",
    "aud.merkle.node": "Node {step}",
    "aud.merkle.root": "Root",
    "aud.merkle.sibling": "Sibling ({side})",
    "aud.merkle.left": "left",
    "aud.merkle.right": "right",
    "aud.merkle.rootMatches": "root = checkpoint root ✓",
    "aud.merkle.rootDiffers": "root ≠ checkpoint root ✗",
    "aud.merkle.matches": "matches",
    "aud.merkle.differs": "does not match",
    "aud.merkle.table": "The path step by step (full hashes)",
    "aud.merkle.step": "Step",
    "aud.merkle.side": "Sibling side",
    "aud.merkle.siblingHash": "Sibling hash",
    "aud.merkle.nodeHash": "Node hash made",
    "aud.merkle.leafHash": "Leaf hash",
    "aud.merkle.checkpointRoot": "Checkpoint root",
    "aud.merkle.none": "The answer carries no audit path (the form failed).",
    "aud.history.heading": "A proof request's full history",
    "aud.history.help":
      "Enter a proof request's ID to see the request and every step of its history: time, actor, action, state change and note.",
    "aud.history.requestId": "Request ID",
    "aud.history.submit": "Show",
    "aud.history.empty": "Enter a request ID first.",
    "aud.history.request": "Request {id}",
    "aud.history.trail": "Events ({count}, oldest first)",
    "aud.history.seq": "#",
    "aud.history.time": "Time",
    "aud.history.actor": "Actor (department / role / user)",
    "aud.history.action": "Action",
    "aud.history.change": "State change",
    "aud.history.mark": "Deadline mark",
    "aud.history.note": "Note",
    "aud.history.ledger": "Ledger index",
    "aud.req.item": "Proof item",
    "aud.req.route": "Route",
    "aud.req.requesting": "Requesting department",
    "aud.req.requestedBy": "Requested by",
    "aud.req.targets": "Asked departments",
    "aud.req.answering": "Answering department",
    "aud.req.state": "State",
    "aud.req.mark": "Deadline",
    "aud.req.escalated": "Escalated",
    "aud.req.purpose": "Purpose / case",
    "aud.req.created": "Created",
    "aud.req.due": "Due",
    "aud.req.outcome": "Answer",
    "aud.yes": "yes",
    "aud.no": "no",
    "aud.stats.heading": "Supervision: answered on time",
    "aud.stats.help":
      "Requests per department and proof item: counts, the on-time rate, the median answer time and the overdue count (electronic supervision).",
    "aud.stats.department": "Department (USCC)",
    "aud.stats.item": "Proof item code",
    "aud.stats.all": "all",
    "aud.stats.from": "From",
    "aud.stats.to": "Until (exclusive)",
    "aud.stats.submit": "Show statistics",
    "aud.stats.none": "No proof requests in this selection.",
    "aud.stats.byDepartment": "On-time rate per department",
    "aud.stats.byItem": "On-time rate per proof item",
    "aud.stats.bar": "{rate} ({onTime}/{answered} on time)",
    "aud.stats.noAnswers": "none answered yet ({total} requests)",
    "aud.stats.chartAria": "{title}: {rows}",
    "aud.stats.table": "The figures",
    "aud.stats.col.department": "Department",
    "aud.stats.col.item": "Proof item",
    "aud.stats.col.total": "Requests",
    "aud.stats.col.answered": "Answered",
    "aud.stats.col.onTime": "On time",
    "aud.stats.col.rate": "On-time rate",
    "aud.stats.col.median": "Median answer time",
    "aud.stats.col.overdue": "Overdue",
    "aud.stats.col.states": "By state",
    "aud.dur.seconds": "{n} s",
    "aud.dur.minutes": "{n} min",
    "aud.dur.hours": "{n} h",
    "aud.dur.days": "{n} days",
    "aud.none": "—",
    "aud.role.ROLE_SERVICE": "the service",
    "aud.event.CREATED": "Created",
    "aud.event.ACCEPTED": "Accepted",
    "aud.event.MORE_INFO_ASKED": "Asked for more information",
    "aud.event.MORE_INFO_SUPPLIED": "Supplied more information",
    "aud.event.ANSWERED": "Answered",
    "aud.event.REJECTED": "Rejected",
    "aud.event.WITHDRAWN": "Withdrawn",
    "aud.event.CLOSED": "Closed",
    "aud.event.EXPIRED": "Expired",
    "aud.event.SLA_CHANGED": "Deadline mark changed",
    "aud.event.ESCALATED": "Escalated as overdue",
    "aud.event.COMMITMENT_RECORDED": "Commitment recorded",
    "aud.event.COMMITMENT_SAMPLED": "Commitment sampled",
    "aud.event.COMMITMENT_CHECKED": "Commitment checked",
    "aud.state.SUBMITTED": "submitted",
    "aud.state.ACCEPTED": "accepted",
    "aud.state.NEEDS_MORE_INFO": "needs more information",
    "aud.state.ANSWERED": "answered",
    "aud.state.CLOSED": "closed",
    "aud.state.WITHDRAWN": "withdrawn",
    "aud.state.REJECTED": "rejected",
    "aud.state.EXPIRED": "expired",
    "aud.route.CANCELLED": "cancelled",
    "aud.route.DATA_SHARING": "data sharing",
    "aud.route.COMMITMENT": "commitment",
    "aud.route.DEPARTMENT_VERIFICATION": "department verification",
    "aud.outcomeP.CONFIRMED": "confirmed",
    "aud.outcomeP.DENIED": "denied",
    "aud.outcomeP.CANNOT_DETERMINE": "cannot determine",
    "aud.outcomeP.NOT_REQUIRED": "not required",
    "aud.outcomeP.COMMITTED": "committed",
    "aud.status.VALID": "valid",
    "aud.status.SUSPENDED": "suspended",
    "aud.status.REVOKED": "revoked",
    "aud.status.CANCELLED": "cancelled",
    "aud.status.EXPIRED": "expired",
    "aud.status.TRANSFERRED": "transferred",
    "aud.status.WITHDRAWN": "withdrawn",
    "aud.status.UNSPECIFIED": "not checked",
    "aud.opOnly":
      "Operators verify receipts only; request histories and statistics are for supervisors and auditors.",
  },
});

const SVG_NS = "http://www.w3.org/2000/svg";
const RECEIPT_HEADER = "c2sp.org/tlog-proof@";
const SD_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(~[A-Za-z0-9_~.-]*)?$/;
const PAGE_LIMIT = 20; // pages of events / catalogue entries read before giving up

// What was last drawn in each tab, drawn again when the language changes.
const shown = { verify: null, history: null, stats: null };

// --- small helpers ---------------------------------------------------------------------

/** An SVG element (createElementNS); attrs as attributes, children nodes or strings. */
function svg(tag, attrs = {}, ...children) {
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

function bytesBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function bytesHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A base64 hash as hex; "" when absent. */
function hexOf(base64) {
  return base64 ? bytesHex(base64Bytes(base64)) : "";
}

/** A hash shortened for drawing: the first 8 and last 4 hex digits. */
function shortHash(hex) {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** SHA-256 with WebCrypto. */
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** An enum value without its prefix ("CHECK_OUTCOME_PASSED" → "PASSED"). */
function bare(value, prefix) {
  return String(value || "").startsWith(prefix) ? String(value).slice(prefix.length) : String(value || "");
}

/** The label of an enum value under `keyPrefix`, or the raw value when there is none. */
function label(keyPrefix, value) {
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

function timeCell(iso) {
  return iso ? el("time", { datetime: iso }, formatTime(iso)) : t("aud.none");
}

/** A protobuf-JSON Duration ("12.5s") in words. */
function formatDuration(text) {
  const seconds = Number.parseFloat(String(text || "").replace(/s$/, ""));
  if (!Number.isFinite(seconds)) return t("aud.none");
  const fixed = (n) => (Math.round(n * 10) / 10).toLocaleString(language());
  if (seconds < 60) return t("aud.dur.seconds", { n: fixed(seconds) });
  if (seconds < 3600) return t("aud.dur.minutes", { n: fixed(seconds / 60) });
  if (seconds < 86400) return t("aud.dur.hours", { n: fixed(seconds / 3600) });
  return t("aud.dur.days", { n: fixed(seconds / 86400) });
}

function percent(rate) {
  return rate.toLocaleString(language(), { style: "percent", maximumFractionDigits: 1 });
}

/** A `<dl>` of [label, value] pairs (values are nodes or text); empty values are skipped. */
function facts(pairs, extraClass = "") {
  return el(
    "dl",
    { class: `preview aud-facts ${extraClass}`.trim() },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
}

function errorBox(error) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return el("p", { class: "error", role: "alert" }, t("app.error", { message }));
}

// Department and proof item names, read once (catalogue:read); codes stand in without them.
let catalogue = null;
function names() {
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

function departmentName(known, code) {
  const name = known.departments.get(code);
  return name && name !== code ? `${name} (${code})` : code;
}

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

// --- 1. verify ---------------------------------------------------------------------------

/** What the pasted text is: {kind: "license"|"receipt"|"empty"|"unknown", text}. */
function detect(raw) {
  const text = String(raw || "").trim();
  if (!text) return { kind: "empty" };
  if (text.startsWith("{")) {
    // A GetReceipt or license JSON answer pasted whole.
    try {
      const json = JSON.parse(text);
      if (typeof json.tlogProof === "string") return detect(json.tlogProof);
      const sdJwt = json.sdJwt || json.license?.sdJwt;
      if (typeof sdJwt === "string") return detect(sdJwt);
    } catch {
      return { kind: "unknown" };
    }
    return { kind: "unknown" };
  }
  // A note ends with a newline; a paste often loses it.
  if (text.startsWith(RECEIPT_HEADER)) return { kind: "receipt", text: `${text}\n` };
  if (SD_JWT.test(text)) return { kind: "license", text };
  return { kind: "unknown" };
}

const verifyState = {
  artefact: null, // {name, hash: Uint8Array} of the chosen artefact file
  fromLicense: null, // {hash} when the receipt was fetched for a verified license
};

function showDetected() {
  const found = detect(document.getElementById("artefact-text").value);
  document.getElementById("detected").textContent = t(`aud.detected.${found.kind}`);
  document.getElementById("receipt-options").disabled = found.kind === "license";
  showArtefact();
  return found;
}

function showArtefact() {
  const line = document.getElementById("artefact-hash");
  if (verifyState.artefact) {
    line.textContent = t("aud.artefact.hash", {
      name: verifyState.artefact.name,
      hash: bytesHex(verifyState.artefact.hash),
    });
  } else if (verifyState.fromLicense) {
    line.textContent = t("aud.artefact.fromLicense", { hash: bytesHex(verifyState.fromLicense.hash) });
  } else {
    line.textContent = t("aud.artefact.none");
  }
}

function readFile(file, as) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error || new Error("FileReader failed"));
    if (as === "text") reader.readAsText(file);
    else reader.readAsArrayBuffer(file);
  });
}

async function onTextFile(event) {
  const file = event.target.files[0];
  if (!file) return;
  const result = document.getElementById("verify-result");
  try {
    document.getElementById("artefact-text").value = await readFile(file, "text");
    verifyState.fromLicense = null;
    showDetected();
  } catch (error) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.file.unreadable", { message: error.message })));
  }
}

async function onArtefactFile(event) {
  const file = event.target.files[0];
  verifyState.artefact = null;
  if (file) {
    try {
      const bytes = new Uint8Array(await readFile(file, "bytes"));
      verifyState.artefact = { name: file.name, hash: await sha256(bytes) };
    } catch (error) {
      document
        .getElementById("verify-result")
        .replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.file.unreadable", { message: error.message })));
    }
  }
  showArtefact();
}

async function onVerify(event) {
  event.preventDefault();
  const found = showDetected();
  const result = document.getElementById("verify-result");
  if (found.kind === "empty" || found.kind === "unknown") {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t(`aud.detected.${found.kind}`)));
    return;
  }
  const button = document.getElementById("verify-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("aud.verify.working")));
  try {
    if (found.kind === "license") {
      const answer = await api("POST", "/v1/licenses:verify", { sdJwt: found.text });
      shown.verify = () => renderLicense(answer, found.text);
    } else {
      const body = { tlogProof: found.text };
      const hash = verifyState.artefact?.hash || verifyState.fromLicense?.hash;
      if (hash) body.artefactSha256 = bytesBase64(hash);
      const key = document.getElementById("verifier-key").value.trim();
      if (key) body.verifierKey = key;
      const answer = await api("POST", "/v1/ledger/receipts:verify", body);
      shown.verify = () => renderReceipt(answer);
    }
    result.replaceChildren(shown.verify());
  } catch (error) {
    shown.verify = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

/** The verdict line: valid or not, in words and a mark. */
function verdict(valid) {
  return el(
    "p",
    { class: "aud-verdict", id: "verdict", dataset: { valid: valid ? "true" : "false" } },
    el("span", { class: valid ? "mark-ok" : "mark-red" }, valid ? `✓ ${t("aud.valid")}` : `✗ ${t("aud.invalid")}`),
  );
}

const OUTCOME_MARK = {
  PASSED: ["mark-ok", "✓"],
  FAILED: ["mark-red", "✗"],
  UNAVAILABLE: ["mark-yellow", "?"],
  SKIPPED: ["aud-mark-none", "–"],
  NOT_CHECKED: ["aud-mark-none", "–"],
  NOT_APPLICABLE: ["aud-mark-none", "–"],
};

/** The checks as an ordered list: mark + outcome in words, the check's name, its detail. */
function checkList(checks, checkPrefix, outcomePrefix, labelPrefix) {
  return el(
    "ol",
    { class: "aud-checks", id: "checks" },
    checks.map((check) => {
      const name = bare(check.check, checkPrefix);
      const outcome = bare(check.outcome, outcomePrefix);
      const [cls, sign] = OUTCOME_MARK[outcome] || ["aud-mark-none", "?"];
      return el(
        "li",
        { class: "aud-check", dataset: { check: name, outcome } },
        el("span", { class: `aud-outcome ${cls}` }, `${sign} ${label("aud.outcome.", outcome)}`),
        el("span", { class: "aud-check-name" }, label(labelPrefix, name)),
        check.detail ? el("span", { class: "aud-check-detail" }, check.detail) : null,
      );
    }),
  );
}

function renderLicense(answer, sdJwt) {
  const status = bare(answer.status, "LICENSE_STATUS_");
  const claims = Object.entries(answer.disclosedClaims || {});
  const card = el(
    "section",
    { class: "card", "aria-labelledby": "result-heading" },
    el("h2", { id: "result-heading" }, t("aud.result.license")),
    verdict(Boolean(answer.valid)),
    el("h3", {}, t("aud.checks")),
    checkList(answer.checks || [], "VERIFICATION_CHECK_", "CHECK_OUTCOME_", "aud.check.license."),
    facts([
      [t("aud.field.vct"), answer.vct],
      [t("aud.field.licenseId"), answer.licenseId],
      [t("aud.field.issuer"), answer.issuerDepartment],
      [t("aud.field.keyId"), answer.keyId],
      [t("aud.field.issuedAt"), answer.issuedAt && timeCell(answer.issuedAt)],
      [t("aud.field.validFrom"), answer.validFrom && timeCell(answer.validFrom)],
      [t("aud.field.validUntil"), answer.validUntil && timeCell(answer.validUntil)],
      [t("aud.field.status"), status && label("aud.status.", status)],
      [t("aud.field.ledgerIndex"), answer.ledgerIndex],
    ]),
    claims.length
      ? el(
          "details",
          { class: "aud-claims" },
          el("summary", {}, t("aud.field.claims", { count: claims.length })),
          el(
            "table",
            {},
            el(
              "thead",
              {},
              el("tr", {}, el("th", { scope: "col" }, t("aud.field.claimName")), el("th", { scope: "col" }, t("aud.field.claimValue"))),
            ),
            el(
              "tbody",
              {},
              claims.map(([name, value]) =>
                el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, typeof value === "string" ? value : JSON.stringify(value))),
              ),
            ),
          ),
        )
      : null,
  );
  if (answer.ledgerIndex !== undefined) {
    card.append(
      el(
        "p",
        {},
        el("button", {
          type: "button",
          id: "license-receipt",
          class: "secondary",
          text: t("aud.license.receiptButton"),
          onclick: () => fetchLicenseReceipt(answer.ledgerIndex, sdJwt),
        }),
      ),
    );
  }
  return card;
}

/** Put the license's receipt in the box, with the hash of its issuer-signed JWT (what the
 * ledger attests: the SD-JWT before its first "~"), and verify it. */
async function fetchLicenseReceipt(index, sdJwt) {
  const result = document.getElementById("verify-result");
  try {
    const receipt = await api("GET", `/v1/ledger/entries/${encodeURIComponent(index)}/receipt`);
    const jwt = new TextEncoder().encode(sdJwt.split("~", 1)[0]);
    verifyState.fromLicense = { hash: await sha256(jwt) };
    verifyState.artefact = null;
    document.getElementById("artefact-file").value = "";
    document.getElementById("artefact-text").value = receipt.tlogProof || "";
    document.getElementById("verify-form").requestSubmit();
  } catch (error) {
    result.replaceChildren(errorBox(error));
  }
}

function renderReceipt(answer) {
  const entry = answer.entry || {};
  const attestation = entry.attestation || {};
  const checkpoint = answer.checkpoint || {};
  const latest = answer.latestCheckpoint || {};
  const witnesses = answer.witnesses || [];
  return el(
    "section",
    { class: "card", "aria-labelledby": "result-heading" },
    el("h2", { id: "result-heading" }, t("aud.result.receipt")),
    verdict(Boolean(answer.valid)),
    el("h3", {}, t("aud.checks")),
    checkList(answer.checks || [], "RECEIPT_CHECK_", "RECEIPT_CHECK_OUTCOME_", "aud.check.receipt."),
    facts([
      [t("aud.field.entry"), entry.index],
      [t("aud.field.kind"), attestation.kind && bare(attestation.kind, "ATTESTATION_KIND_").toLowerCase().replace(/_/g, " ")],
      [t("aud.field.issuer"), attestation.issuerDepartment],
      [t("aud.field.artefactId"), attestation.artefactId],
      [t("aud.field.artefactSha256"), attestation.artefactSha256 && el("code", {}, hexOf(attestation.artefactSha256))],
      [t("aud.field.acceptedAt"), entry.acceptedAt && timeCell(entry.acceptedAt)],
      [t("aud.field.origin"), checkpoint.origin || latest.origin],
      [
        t("aud.field.sizes"),
        el(
          "span",
          { id: "checkpoint-sizes" },
          t("aud.field.sizesValue", { receipt: checkpoint.size ?? "0", latest: latest.size ?? "0" }),
        ),
      ],
      [t("aud.field.verifierKey"), answer.verifierKey && el("code", {}, answer.verifierKey)],
      [
        t("aud.field.witnesses"),
        el("span", { id: "witnesses" }, witnesses.length ? witnesses.join(", ") : t("aud.witnesses.none")),
      ],
    ]),
    merkleFigure(answer),
  );
}

// --- the Merkle path drawing -------------------------------------------------------------

const BOX_W = 210;
const BOX_H = 46;
const ROW_H = 86;
const SIDE_DX = 250;
const DRAW_W = 2 * SIDE_DX + BOX_W + 20;
const PAD = 14;

/** One hash box: rect, a label line and the abbreviated hash; the full hash in <title>. */
function hashBox(cx, cy, title, hex, cls) {
  return svg(
    "g",
    { class: `aud-node ${cls}` },
    svg("title", {}, `${title}: ${hex}`),
    svg("rect", { x: cx - BOX_W / 2, y: cy - BOX_H / 2, width: BOX_W, height: BOX_H, rx: 5 }),
    svg("text", { x: cx, y: cy - 5, "text-anchor": "middle", class: "aud-node-label" }, title),
    svg("text", { x: cx, y: cy + 14, "text-anchor": "middle", class: "aud-node-hash" }, shortHash(hex)),
  );
}

function edge(x1, y1, x2, y2) {
  return svg("line", { x1, y1, x2, y2, class: "aud-edge" });
}

/** The audit path drawn bottom-up: the leaf, each step's sibling beside the path's node on
 * its side, the node the two make above them, up to the root; plus a table of full hashes. */
function merkleFigure(answer) {
  const steps = answer.auditPath || [];
  const figure = el("figure", { class: "aud-merkle-figure" });
  figure.append(el("h3", { id: "merkle-heading" }, t("aud.merkle.heading")));
  if (!answer.leafHash) {
    figure.append(el("p", {}, t("aud.merkle.none")));
    return figure;
  }
  const leafHex = hexOf(answer.leafHash);
  const rootHex = steps.length ? hexOf(steps[steps.length - 1].node) : leafHex;
  const checkpointHex = hexOf(answer.checkpoint?.rootHash);
  const matches = checkpointHex !== "" && rootHex === checkpointHex;
  const rows = steps.length + 1;
  const height = rows * ROW_H + PAD * 2 + 24;
  const cx = DRAW_W / 2;
  const rowY = (row) => PAD + 24 + (rows - 1 - row) * ROW_H + BOX_H / 2;
  const index = answer.entry?.index ?? "0";
  const drawing = svg("svg", {
    class: "aud-merkle",
    id: "merkle-path",
    xmlns: SVG_NS,
    width: DRAW_W,
    height,
    viewBox: `0 0 ${DRAW_W} ${height}`,
    role: "img",
    "aria-label": t("aud.merkle.aria", {
      leaf: shortHash(leafHex),
      steps: steps.length,
      root: shortHash(rootHex),
      match: t(matches ? "aud.merkle.matches" : "aud.merkle.differs"),
    }),
  });
  drawing.dataset.steps = String(steps.length);
  // Edges first, so the boxes sit on top of them.
  const edges = svg("g", { class: "aud-edges" });
  const boxes = svg("g", {});
  boxes.append(
    svg(
      "g",
      { class: "merkle-leaf" },
      hashBox(cx, rowY(0), steps.length ? t("aud.merkle.leaf", { index }) : `${t("aud.merkle.leaf", { index })} = ${t("aud.merkle.root")}`, leafHex, "aud-path"),
    ),
  );
  steps.forEach((step, i) => {
    const below = rowY(i);
    const above = rowY(i + 1);
    const left = Boolean(step.siblingIsLeft);
    const sx = left ? cx - SIDE_DX : cx + SIDE_DX;
    const isRoot = i === steps.length - 1;
    const nodeTitle = isRoot ? t("aud.merkle.root") : t("aud.merkle.node", { step: i + 1 });
    edges.append(edge(cx, below - BOX_H / 2, cx, above + BOX_H / 2), edge(sx, below - BOX_H / 2, cx, above + BOX_H / 2));
    boxes.append(
      svg(
        "g",
        { class: "merkle-step", "data-step": i + 1, "data-side": left ? "left" : "right" },
        hashBox(
          sx,
          below,
          t("aud.merkle.sibling", { side: t(left ? "aud.merkle.left" : "aud.merkle.right") }),
          hexOf(step.sibling),
          "aud-sibling",
        ),
        hashBox(cx, above, nodeTitle, hexOf(step.node), isRoot ? "aud-root" : "aud-path"),
      ),
    );
  });
  const verdictText = t(matches ? "aud.merkle.rootMatches" : "aud.merkle.rootDiffers");
  drawing.append(
    svg("title", {}, t("aud.merkle.summary", { steps: steps.length })),
    svg(
      "text",
      { x: cx, y: PAD + 10, "text-anchor": "middle", class: matches ? "aud-root-ok" : "aud-root-bad", id: "merkle-root-verdict" },
      verdictText,
    ),
    edges,
    boxes,
  );
  figure.append(
    el("div", { class: "aud-drawing" }, drawing),
    el("figcaption", {}, t("aud.merkle.summary", { steps: steps.length }), " · ", verdictText),
    el(
      "details",
      { class: "aud-path-table" },
      el("summary", {}, t("aud.merkle.table")),
      el(
        "table",
        {},
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("aud.merkle.step")),
            el("th", { scope: "col" }, t("aud.merkle.side")),
            el("th", { scope: "col" }, t("aud.merkle.siblingHash")),
            el("th", { scope: "col" }, t("aud.merkle.nodeHash")),
          ),
        ),
        el(
          "tbody",
          {},
          el("tr", {}, el("th", { scope: "row" }, "0"), el("td", {}, t("aud.merkle.leafHash")), el("td", {}, t("aud.none")), el("td", {}, el("code", {}, leafHex))),
          steps.map((step, i) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, String(i + 1)),
              el("td", {}, t(step.siblingIsLeft ? "aud.merkle.left" : "aud.merkle.right")),
              el("td", {}, el("code", {}, hexOf(step.sibling))),
              el("td", {}, el("code", {}, hexOf(step.node))),
            ),
          ),
          el("tr", {}, el("th", { scope: "row" }, "—"), el("td", {}, t("aud.merkle.checkpointRoot")), el("td", {}, t("aud.none")), el("td", {}, el("code", {}, checkpointHex || t("aud.none")))),
        ),
      ),
    ),
  );
  return figure;
}

// --- 2. history --------------------------------------------------------------------------

async function onHistory(event) {
  event.preventDefault();
  const id = document.getElementById("request-id").value.trim();
  const result = document.getElementById("history-result");
  if (!id) {
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t("aud.history.empty")));
    return;
  }
  const button = document.getElementById("history-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("app.loading")));
  try {
    const path = `/v1/proof-requests/${encodeURIComponent(id)}`;
    const [request, events, known] = await Promise.all([api("GET", path), allEvents(path), names()]);
    shown.history = () => renderHistory(request, events, known);
    result.replaceChildren(shown.history());
  } catch (error) {
    shown.history = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

async function allEvents(path) {
  const events = [];
  let token = "";
  for (let page = 0; page < PAGE_LIMIT; page += 1) {
    const query = new URLSearchParams({ pageSize: "500" });
    if (token) query.set("pageToken", token);
    const answer = await api("GET", `${path}/events?${query}`);
    events.push(...(answer.events || []));
    token = answer.nextPageToken || "";
    if (!token) break;
  }
  return events;
}

const SLA_MARK = { ON_TIME: ["mark-ok", "mark.ok"], WARNING: ["mark-yellow", "mark.yellow"], OVERDUE: ["mark-red", "mark.red"] };

function slaMark(value) {
  const mark = SLA_MARK[bare(value, "SLA_MARK_")];
  return mark ? el("span", { class: mark[0] }, t(mark[1])) : t("aud.none");
}

function stateLabel(value) {
  const state = bare(value, "PROOF_REQUEST_STATE_");
  return state && state !== "UNSPECIFIED" ? label("aud.state.", state) : "";
}

function roleLabel(value) {
  const role = bare(value, "ROLE_");
  if (role === "SERVICE") return t("aud.role.ROLE_SERVICE");
  const key = role === "INTAKE_SYSTEM" ? "role.intake" : `role.${role.toLowerCase()}`;
  const text = t(key);
  return text === key ? role.toLowerCase() : text;
}

function renderHistory(request, events, known) {
  const outcome = bare(request.answer?.outcome, "PROOF_OUTCOME_");
  const purpose = request.purpose ? `${request.purpose.purpose || ""} / ${request.purpose.caseReference || ""}` : "";
  const summary = el(
    "section",
    { class: "card", "aria-labelledby": "request-heading" },
    el("h2", { id: "request-heading" }, t("aud.history.request", { id: request.requestId })),
    facts([
      [t("aud.req.item"), known.items.get(request.proofItemCode) ? `${known.items.get(request.proofItemCode)} (${request.proofItemCode})` : request.proofItemCode],
      [t("aud.req.route"), label("aud.route.", bare(request.route, "PROOF_ROUTE_"))],
      [t("aud.req.requesting"), departmentName(known, request.requestingDepartment)],
      [t("aud.req.requestedBy"), request.requestedBy],
      [t("aud.req.targets"), (request.targetDepartments || []).map((code) => departmentName(known, code)).join("; ")],
      [t("aud.req.answering"), request.answeringDepartment && departmentName(known, request.answeringDepartment)],
      [t("aud.req.state"), el("span", { id: "request-state" }, stateLabel(request.state))],
      [t("aud.req.mark"), slaMark(request.slaMark)],
      [t("aud.req.escalated"), t(request.escalated ? "aud.yes" : "aud.no")],
      [t("aud.req.purpose"), purpose],
      [t("aud.req.created"), timeCell(request.createdAt)],
      [t("aud.req.due"), request.dueAt && timeCell(request.dueAt)],
      [t("aud.req.outcome"), outcome && outcome !== "UNSPECIFIED" ? label("aud.outcomeP.", outcome) : ""],
    ]),
  );
  const table = el(
    "table",
    { id: "history-table" },
    el("caption", {}, t("aud.history.trail", { count: events.length })),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["seq", "time", "actor", "action", "change", "mark", "note", "ledger"].map((key) =>
          el("th", { scope: "col" }, t(`aud.history.${key}`)),
        ),
      ),
    ),
    el(
      "tbody",
      {},
      events.map((event) => {
        const actor = event.actor || {};
        const from = stateLabel(event.fromState);
        const to = stateLabel(event.toState);
        const change = from && to && from !== to ? `${from} → ${to}` : to || from || t("aud.none");
        const type = bare(event.type, "PROOF_REQUEST_EVENT_TYPE_");
        return el(
          "tr",
          { dataset: { event: type } },
          el("th", { scope: "row" }, String(event.sequence ?? "")),
          el("td", {}, timeCell(event.occurredAt)),
          el("td", {}, [departmentName(known, actor.departmentCode || ""), roleLabel(actor.role), actor.subject].filter(Boolean).join(" / ")),
          el("td", { class: "aud-action" }, label("aud.event.", type)),
          el("td", {}, change),
          el("td", {}, slaMark(event.slaMark)),
          el("td", {}, event.reason || ""),
          el("td", {}, event.ledgerIndex ?? ""),
        );
      }),
    ),
  );
  return el("div", {}, summary, el("section", { class: "card aud-scroll" }, table));
}

// --- 3. statistics -----------------------------------------------------------------------

async function onStats(event) {
  event?.preventDefault();
  const query = new URLSearchParams();
  const department = document.getElementById("stats-department").value.trim();
  const item = document.getElementById("stats-item").value.trim();
  const from = document.getElementById("stats-from").value;
  const to = document.getElementById("stats-to").value;
  if (department) query.set("departmentCode", department);
  if (item) query.set("proofItemCode", item);
  if (from) query.set("startTime", new Date(`${from}T00:00:00`).toISOString());
  if (to) query.set("endTime", new Date(`${to}T00:00:00`).toISOString());
  const result = document.getElementById("stats-result");
  const button = document.getElementById("stats-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("app.loading")));
  try {
    const suffix = query.toString() ? `?${query}` : "";
    const [answer, known] = await Promise.all([api("GET", `/v1/proof-requests:statistics${suffix}`), names()]);
    shown.stats = () => renderStats(answer.rows || [], known);
    result.replaceChildren(shown.stats());
  } catch (error) {
    shown.stats = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

function totalOf(row) {
  return (row.stateCounts || []).reduce((sum, count) => sum + Number(count.count || 0), 0);
}

/** Sum the rows by `key` (department or item): answered, on time, overdue, total. */
function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const code = row[key];
    const group = groups.get(code) || { code, answered: 0, onTime: 0, total: 0 };
    group.answered += Number(row.answered || 0);
    group.onTime += Number(row.answeredOnTime || 0);
    group.total += totalOf(row);
    groups.set(code, group);
  }
  return [...groups.values()];
}

const CHART_LABEL_W = 300;
const CHART_BAR_W = 440;
const CHART_VALUE_W = 230;
const CHART_ROW_H = 34;
const CHART_TOP = 26;

/** A horizontal bar chart of on-time rates; every bar has its figure as text beside it. */
function barChart(id, title, groups, nameOf) {
  const width = CHART_LABEL_W + CHART_BAR_W + CHART_VALUE_W;
  const height = CHART_TOP + groups.length * CHART_ROW_H + 10;
  const valueText = (group) =>
    group.answered
      ? t("aud.stats.bar", { rate: percent(group.onTime / group.answered), onTime: group.onTime, answered: group.answered })
      : t("aud.stats.noAnswers", { total: group.total });
  const summary = groups.map((group) => `${nameOf(group.code)} ${valueText(group)}`).join("; ");
  const chart = svg("svg", {
    id,
    class: "aud-chart",
    xmlns: SVG_NS,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": t("aud.stats.chartAria", { title, rows: summary }),
  });
  chart.append(svg("title", {}, title));
  // The scale: 0, 50 and 100 %.
  for (const tick of [0, 0.5, 1]) {
    const x = CHART_LABEL_W + tick * CHART_BAR_W;
    chart.append(
      svg("line", { x1: x, y1: CHART_TOP - 6, x2: x, y2: height - 6, class: "aud-grid" }),
      svg("text", { x, y: CHART_TOP - 10, "text-anchor": "middle", class: "aud-tick" }, percent(tick)),
    );
  }
  groups.forEach((group, i) => {
    const y = CHART_TOP + i * CHART_ROW_H;
    const name = nameOf(group.code);
    const shortName = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    const rate = group.answered ? group.onTime / group.answered : 0;
    chart.append(
      svg(
        "g",
        { class: "aud-bar-row", "data-code": group.code },
        svg("title", {}, `${name} (${group.code}): ${valueText(group)}`),
        svg("text", { x: CHART_LABEL_W - 8, y: y + CHART_ROW_H / 2 + 5, "text-anchor": "end", class: "aud-bar-label" }, shortName),
        svg("rect", { x: CHART_LABEL_W, y: y + 6, width: CHART_BAR_W, height: CHART_ROW_H - 12, class: "aud-bar-track" }),
        svg("rect", { x: CHART_LABEL_W, y: y + 6, width: Math.round(rate * CHART_BAR_W), height: CHART_ROW_H - 12, class: "aud-bar" }),
        svg("text", { x: CHART_LABEL_W + CHART_BAR_W + 8, y: y + CHART_ROW_H / 2 + 5, class: "aud-bar-value" }, valueText(group)),
      ),
    );
  });
  return el("figure", { class: "aud-chart-figure" }, el("figcaption", {}, title), el("div", { class: "aud-drawing" }, chart));
}

function renderStats(rows, known) {
  if (!rows.length) return el("p", { class: "card", id: "stats-none" }, t("aud.stats.none"));
  const departmentOf = (code) => known.departments.get(code) || code;
  const itemOf = (code) => known.items.get(code) || code;
  const columns = ["department", "item", "total", "answered", "onTime", "rate", "median", "overdue", "states"];
  const table = el(
    "table",
    { id: "stats-table" },
    el("caption", {}, t("aud.stats.table")),
    el("thead", {}, el("tr", {}, columns.map((key) => el("th", { scope: "col" }, t(`aud.stats.col.${key}`))))),
    el(
      "tbody",
      {},
      rows.map((row) => {
        const answered = Number(row.answered || 0);
        const onTime = Number(row.answeredOnTime || 0);
        const states = (row.stateCounts || [])
          .filter((count) => Number(count.count || 0) > 0)
          .map((count) => `${stateLabel(count.state)} ${count.count}`)
          .join(", ");
        return el(
          "tr",
          { dataset: { department: row.departmentCode, item: row.proofItemCode } },
          el("th", { scope: "row" }, departmentName(known, row.departmentCode)),
          el("td", {}, itemOf(row.proofItemCode) === row.proofItemCode ? row.proofItemCode : `${itemOf(row.proofItemCode)} (${row.proofItemCode})`),
          el("td", {}, String(totalOf(row))),
          el("td", {}, String(answered)),
          el("td", {}, String(onTime)),
          el("td", {}, answered ? percent(onTime / answered) : t("aud.none")),
          el("td", {}, row.medianAnswerTime ? formatDuration(row.medianAnswerTime) : t("aud.none")),
          el("td", {}, String(row.overdue || 0)),
          el("td", {}, states || t("aud.none")),
        );
      }),
    ),
  );
  return el(
    "section",
    { class: "card", "aria-labelledby": "stats-heading" },
    el("h2", { id: "stats-heading", class: "aud-visually-hidden" }, t("aud.stats.heading")),
    barChart("chart-departments", t("aud.stats.byDepartment"), groupBy(rows, "departmentCode"), departmentOf),
    barChart("chart-items", t("aud.stats.byItem"), groupBy(rows, "proofItemCode"), itemOf),
    el("div", { class: "aud-scroll" }, table),
  );
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
