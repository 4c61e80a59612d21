// The sign-in page: paste a bearer token (from `certfree tokens issue`), or, only when
// the gateway runs --insecure-dev (config.json says devIdentity), pick a role. The token
// is decoded here to show who it names; the gateway alone verifies it.

import {
  ApiError,
  ROLES,
  api,
  applyI18n,
  decodeToken,
  el,
  header,
  pageFor,
  register,
  session,
  signIn,
  t,
} from "./app.js";

register({
  "zh-CN": {
    "login.title": "登录",
    "login.signedIn": "您已登录",
    "login.byToken": "使用令牌登录",
    "login.tokenHelp":
      "粘贴管理员用 certfree tokens issue 为您签发的令牌。令牌只保存在本浏览器标签页中，关闭即失效。",
    "login.token": "令牌",
    "login.role": "角色",
    "login.department": "部门",
    "login.subject": "用户",
    "login.expires": "有效期至",
    "login.submit": "登录",
    "login.checking": "正在向网关核验令牌…",
    "login.notToken": "这不是一个令牌：{message}",
    "login.empty": "请先粘贴令牌。",
    "login.refused": "网关拒绝了此令牌：{message}",
    "login.unavailable": "暂时无法核验令牌：{message}",
    "login.noPage": "角色 {role} 没有对应的页面。",
    "login.dev": "开发模式登录（--insecure-dev）",
    "login.devHelp":
      "仅在开发环境出现：直接选择部门、角色和用户，网关不核验身份。生产环境中此表单不存在。",
    "login.devSubmit": "以此身份进入",
  },
  en: {
    "login.title": "Sign in",
    "login.signedIn": "You are signed in",
    "login.byToken": "Sign in with a token",
    "login.tokenHelp":
      "Paste the token an administrator issued you with certfree tokens issue. It is kept in this browser tab only and forgotten when the tab closes.",
    "login.token": "Token",
    "login.role": "Role",
    "login.department": "Department",
    "login.subject": "User",
    "login.expires": "Valid until",
    "login.submit": "Sign in",
    "login.checking": "Checking the token with the gateway…",
    "login.notToken": "This is not a token: {message}",
    "login.empty": "Paste a token first.",
    "login.refused": "The gateway refused this token: {message}",
    "login.unavailable": "The token cannot be checked right now: {message}",
    "login.noPage": "There is no page for the role {role}.",
    "login.dev": "Development sign-in (--insecure-dev)",
    "login.devHelp":
      "Only in development: pick a department, role and user; the gateway does not check them. In production this form does not exist.",
    "login.devSubmit": "Enter as this identity",
  },
});

// A cheap authenticated read that every role may make, chosen by the token's scopes: the
// gateway verifies the token first, so 401 means the token is refused. A token with
// neither scope is checked by its page's first call instead (the header then says so).
const CHECKS = [
  ["ledger:read", "/v1/ledger/checkpoint"],
  ["catalogue:read", "/v1/license-types"],
];

function checkPath(claims) {
  const scopes = String(claims.scope || "").split(" ");
  const found = CHECKS.find(([scope]) => scopes.includes(scope));
  return found ? found[1] : null;
}

const kept = header("login.title");
const form = document.getElementById("token-form");
const input = document.getElementById("token");
const problem = document.getElementById("login-error");
const preview = document.getElementById("token-preview");

function showError(key, params) {
  problem.textContent = t(key, params);
  problem.hidden = false;
}

function showPreview() {
  problem.hidden = true;
  const token = input.value.trim();
  if (!token) {
    preview.hidden = true;
    return;
  }
  try {
    const claims = decodeToken(token);
    document.getElementById("preview-role").textContent = claims.role
      ? `${t(`role.${claims.role}`)} (${claims.role})`
      : "—";
    document.getElementById("preview-department").textContent = claims.department || "—";
    document.getElementById("preview-subject").textContent = claims.sub || "—";
    document.getElementById("preview-expires").textContent = claims.exp
      ? new Date(claims.exp * 1000).toLocaleString(document.documentElement.lang)
      : "—";
    preview.hidden = false;
  } catch {
    preview.hidden = true;
  }
}

function go(role) {
  const page = pageFor(role);
  if (!page) {
    showError("login.noPage", { role });
    return;
  }
  location.assign(page);
}

async function signInWithToken(event) {
  event.preventDefault();
  const token = input.value.trim();
  if (!token) {
    showError("login.empty");
    return;
  }
  let claims;
  try {
    claims = decodeToken(token);
  } catch (error) {
    showError("login.notToken", { message: error.message });
    return;
  }
  const button = document.getElementById("token-submit");
  button.disabled = true;
  problem.textContent = t("login.checking");
  problem.hidden = false;
  try {
    const path = checkPath(claims);
    if (path) await api("GET", path, undefined, { session: { token } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      showError("login.refused", { message: error.message });
      button.disabled = false;
      return;
    }
    if (!(error instanceof ApiError) || error.status === 429) {
      showError("login.unavailable", { message: error.message });
      button.disabled = false;
      return;
    }
    // Any other answer came after the token was verified: the token is good.
  }
  signIn({ token });
  go(claims.role);
}

function showSignedIn(current) {
  const section = document.getElementById("signed-in");
  document.getElementById("signed-in-who").textContent = t("app.signedInAs", {
    role: t(`role.${current.role}`),
    department: current.department || "—",
    subject: current.subject || "—",
  });
  const page = pageFor(current.role);
  const link = document.getElementById("go");
  if (page) link.setAttribute("href", page);
  link.hidden = !page;
  section.hidden = false;
}

function devPicker() {
  const role = el(
    "select",
    { id: "dev-role", name: "role" },
    ROLES.map((name) =>
      el("option", { value: name, "data-i18n": `role.${name}` }, t(`role.${name}`)),
    ),
  );
  const department = el("input", {
    id: "dev-department",
    name: "department",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    pattern: "[0-9A-HJ-NPQRTUWXY]{18}",
  });
  const subject = el("input", {
    id: "dev-subject",
    name: "subject",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
  });
  const picker = el(
    "form",
    {
      id: "dev-form",
      onsubmit: (event) => {
        event.preventDefault();
        if (!picker.reportValidity()) return;
        signIn({
          department: department.value.trim(),
          role: role.value,
          subject: subject.value.trim(),
        });
        go(role.value);
      },
    },
    el("label", { for: "dev-department", "data-i18n": "login.department" }),
    department,
    el("label", { for: "dev-role", "data-i18n": "login.role" }),
    role,
    el("label", { for: "dev-subject", "data-i18n": "login.subject" }),
    subject,
    el("p", {}, el("button", { type: "submit", id: "dev-submit", "data-i18n": "login.devSubmit" })),
  );
  return el(
    "section",
    { id: "dev-identity", class: "card dev", "aria-labelledby": "dev-heading" },
    el("h2", { id: "dev-heading", "data-i18n": "login.dev" }),
    el("p", { "data-i18n": "login.devHelp" }),
    picker,
  );
}

input.addEventListener("input", showPreview);
form.addEventListener("submit", signInWithToken);
document.addEventListener("certfree:language", showPreview);
if (kept) {
  showSignedIn(kept);
  document.addEventListener("certfree:language", () => showSignedIn(kept));
}

const config = await (await fetch("config.json", { credentials: "omit" })).json();
if (config.devIdentity === true) {
  document.getElementById("main").append(devPicker());
}
// Everything is drawn: label it, and say so (tests wait for body[data-ready]).
applyI18n(document);
document.body.dataset.ready = "true";
