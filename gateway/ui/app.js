// certfree pages: the shared module. Plain ES module, no build step, nothing fetched
// from anywhere but this gateway. Every page imports what it needs from here:
//
//   api(method, path, body?)          JSON call to the gateway's HTTP API (throws ApiError)
//   stream(path, onMessage, {signal}) Server-Sent Events over fetch, resumed by Last-Event-ID
//   session() / signIn(s) / signOut() who is signed in (sessionStorage "certfree.session")
//   t / register / setLanguage / language / applyI18n   zh-CN (default) and en labels
//   header(pageTitleKey)              the common top bar, into <header id="top">
//   el(tag, attrs, ...children)       tiny DOM builder: text is always text, never HTML

const SESSION_KEY = "certfree.session";
const LANGUAGE_KEY = "certfree.lang";
export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";

// Where each role works. Roles without a page of their own go to the nearest one.
const ROLE_PAGES = {
  intake: "clerk.html",
  clerk: "clerk.html",
  officer: "officer.html",
  issuer: "officer.html",
  auditor: "auditor.html",
  supervisor: "auditor.html",
  operator: "auditor.html",
  holder: "holder.html",
};
export const ROLES = Object.keys(ROLE_PAGES);

// --- DOM -------------------------------------------------------------------------------

/**
 * Build an element. `attrs` keys: "class", "text" (textContent), "dataset" (object),
 * "on<event>" (a listener), anything else an attribute (skipped when null/false,
 * empty when true). Children are nodes or strings (strings become text nodes), nested
 * arrays are flattened, null/undefined/false are skipped. Never sets innerHTML.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "style") {
      throw new Error("el(): no style attributes (the CSP forbids them); use a class");
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// --- i18n ------------------------------------------------------------------------------

const catalogues = { "zh-CN": {}, en: {} };

/** Add `messages` ({"zh-CN": {key: text}, "en": {...}}) to the catalogues. */
export function register(messages) {
  for (const [lang, entries] of Object.entries(messages)) {
    catalogues[lang] = { ...(catalogues[lang] || {}), ...entries };
  }
}

/** The chosen language: localStorage "certfree.lang", else zh-CN. */
export function language() {
  const chosen = localStorage.getItem(LANGUAGE_KEY);
  return LANGUAGES.includes(chosen) ? chosen : DEFAULT_LANGUAGE;
}

/** The text of `key` in the chosen language, `{name}` replaced from `params`. */
export function t(key, params = {}) {
  const lang = language();
  let text = catalogues[lang]?.[key] ?? catalogues[DEFAULT_LANGUAGE]?.[key] ?? catalogues.en?.[key];
  if (text === undefined) {
    console.warn(`certfree: no label for ${key}`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

/**
 * Label `root`: each [data-i18n="key"] gets the text, each
 * [data-i18n-attr="attr:key,attr:key"] the attributes.
 */
export function applyI18n(root = document) {
  document.documentElement.lang = language();
  const scope = root.querySelectorAll ? root : document;
  const own = root instanceof Element ? [root] : [];
  for (const node of [...own, ...scope.querySelectorAll("[data-i18n]")]) {
    if (node.dataset.i18n) node.textContent = t(node.dataset.i18n);
  }
  for (const node of [...own, ...scope.querySelectorAll("[data-i18n-attr]")]) {
    for (const pair of (node.dataset.i18nAttr || "").split(",")) {
      const [attr, key] = pair.split(":").map((part) => part.trim());
      if (attr && key) node.setAttribute(attr, t(key));
    }
  }
}

/** Switch to `lang`, remember it, relabel the page and tell the page ("certfree:language"). */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${lang}`);
  localStorage.setItem(LANGUAGE_KEY, lang);
  applyI18n(document);
  document.dispatchEvent(new CustomEvent("certfree:language", { detail: { language: lang } }));
}

// Common words; each page registers its own.
register({
  "zh-CN": {
    "app.name": "免证办 · certfree",
    "app.language": "语言",
    "app.signedInAs": "已登录：{role} · 部门 {department} · {subject}",
    "app.notSignedIn": "未登录",
    "app.signIn": "登录",
    "app.signOut": "退出登录",
    "app.skip": "跳到正文",
    "app.tokenRefused": "网关拒绝了您的令牌：{message}。请重新登录。",
    "app.error": "出错了：{message}",
    "app.loading": "加载中…",
    "app.placeholder": "此页面正在建设中。",
    "app.yourPage": "进入您的页面",
    "role.intake": "受理系统",
    "role.clerk": "窗口人员",
    "role.officer": "部门经办人",
    "role.issuer": "发证人员",
    "role.supervisor": "监督人员",
    "role.auditor": "审计人员",
    "role.operator": "运维人员",
    "role.holder": "持证人",
    "page.clerk": "窗口受理",
    "page.officer": "协查收件箱",
    "page.auditor": "审计与监督",
    "page.holder": "我的证照与查询记录",
    "mark.ok": "正常",
    "mark.yellow": "临近期限",
    "mark.red": "已超期",
  },
  en: {
    "app.name": "certfree",
    "app.language": "Language",
    "app.signedInAs": "Signed in: {role} · department {department} · {subject}",
    "app.notSignedIn": "Not signed in",
    "app.signIn": "Sign in",
    "app.signOut": "Sign out",
    "app.skip": "Skip to content",
    "app.tokenRefused": "The gateway refused your token: {message}. Please sign in again.",
    "app.error": "Something went wrong: {message}",
    "app.loading": "Loading…",
    "app.placeholder": "This page is being built.",
    "app.yourPage": "Go to your page",
    "role.intake": "Intake system",
    "role.clerk": "Window clerk",
    "role.officer": "Department officer",
    "role.issuer": "Issuer",
    "role.supervisor": "Supervisor",
    "role.auditor": "Auditor",
    "role.operator": "Operator",
    "role.holder": "Holder",
    "page.clerk": "Clerk console",
    "page.officer": "Officer inbox",
    "page.auditor": "Audit and supervision",
    "page.holder": "My licenses and who looked",
    "mark.ok": "On time",
    "mark.yellow": "Due soon",
    "mark.red": "Overdue",
  },
});

// --- session ---------------------------------------------------------------------------

/** The payload of a JWT (not verified: the gateway verifies); Error when it is not one. */
export function decodeToken(token) {
  const parts = String(token).trim().split(".");
  if (parts.length !== 3) throw new Error("not a JWT (three dot-separated parts)");
  const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  const payload = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof payload !== "object" || payload === null) throw new Error("not a JWT payload");
  return payload;
}

/** Who is signed in: {token?, department, role, subject}, or null. */
export function session() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    return kept && typeof kept.role === "string" ? kept : null;
  } catch {
    return null;
  }
}

/**
 * Keep a session: {token} (role, department and subject read from its payload) or, in
 * development, {department, role, subject} (sent as x-certfree-* headers). Returns it.
 */
export function signIn({ token, department, role, subject }) {
  let kept;
  if (token) {
    const claims = decodeToken(token);
    kept = {
      token: token.trim(),
      department: claims.department,
      role: claims.role,
      subject: claims.sub,
      expires: claims.exp,
    };
  } else {
    kept = { department, role, subject };
  }
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(kept));
  return kept;
}

/** Forget the session. */
export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** The page of `role` ("clerk.html" ...), or null. */
export function pageFor(role) {
  return ROLE_PAGES[role] || null;
}

// --- the API ---------------------------------------------------------------------------

/** A non-2xx answer: the gateway's google.rpc.Status, with the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    const info = details.find((d) => String(d["@type"] || "").endsWith("google.rpc.ErrorInfo"));
    this.reason = info ? info.reason : "";
  }
}

function credentials(kept = session()) {
  if (!kept) return {};
  if (kept.token) return { authorization: `Bearer ${kept.token}` };
  const headers = {};
  if (kept.department) headers["x-certfree-department"] = kept.department;
  if (kept.role) headers["x-certfree-role"] = kept.role;
  if (kept.subject) headers["x-certfree-subject"] = kept.subject;
  return headers;
}

async function errorOf(response, announce = true) {
  let status = {};
  try {
    status = await response.json();
  } catch {
    status = {};
  }
  const error = new ApiError(
    response.status,
    status.code ?? 0,
    status.message || response.statusText || `HTTP ${response.status}`,
    Array.isArray(status.details) ? status.details : [],
  );
  if (response.status === 401 && announce) {
    // Every page learns at once that the token no longer works (header() shows it).
    document.dispatchEvent(new CustomEvent("certfree:unauthenticated", { detail: error }));
  }
  return error;
}

/**
 * Call the gateway: `method` and `path` ("/v1/..."), `body` sent as JSON. Resolves to
 * the JSON answer ({} when empty); rejects with ApiError on a non-2xx answer.
 * `options.session` overrides the kept session (sign-in checks a token before keeping it).
 */
export async function api(method, path, body, options = {}) {
  const own = options.session === undefined;
  const headers = { accept: "application/json", ...credentials(own ? session() : options.session) };
  const init = { method, headers, credentials: "omit", signal: options.signal };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await errorOf(response, own);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;

/**
 * Follow a Server-Sent Events route (fetch, since EventSource cannot send a token):
 * `onMessage(json, eventId)` for each data event. When the connection drops it
 * reconnects with Last-Event-ID, so nothing is lost or repeated. Resolves when `signal`
 * aborts; rejects with ApiError when the gateway refuses or the stream sends an
 * `event: error` (the google.rpc.Status).
 */
export async function stream(path, onMessage, { signal } = {}) {
  let lastId = "";
  let wait = RETRY_FIRST_MS;
  while (!signal?.aborted) {
    const headers = { accept: "text/event-stream", ...credentials() };
    if (lastId) headers["last-event-id"] = lastId;
    let response;
    try {
      response = await fetch(path, { headers, credentials: "omit", cache: "no-store", signal });
      if (!response.ok) throw await errorOf(response);
      lastId = await readEvents(response.body, lastId, onMessage, () => {
        wait = RETRY_FIRST_MS; // something arrived: the next drop retries quickly again
      });
    } catch (error) {
      if (signal?.aborted || error?.name === "AbortError") return;
      if (error instanceof ApiError && !(error.status >= 502 && error.status <= 504)) throw error;
      if (error?.lastId !== undefined) lastId = error.lastId;
    }
    await sleep(wait, signal);
    wait = Math.min(wait * 2, RETRY_MAX_MS);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Parse an event stream (https://html.spec.whatwg.org/#event-stream-interpretation);
// returns the last event id seen. A drop mid-stream rethrows with .lastId attached.
async function readEvents(body, lastId, onMessage, onAnything) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let event = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return lastId;
      onAnything();
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (data.length) {
            const text = data.join("\n");
            if (event === "error") {
              const status = JSON.parse(text);
              throw new ApiError(200, status.code ?? 0, status.message || "", status.details || []);
            }
            onMessage(JSON.parse(text), lastId);
          }
          data = [];
          event = "";
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) lastId = value;
      }
    }
  } catch (error) {
    if (error instanceof ApiError || error?.name === "AbortError") throw error;
    const dropped = new Error(`the stream dropped: ${error?.message || error}`);
    dropped.lastId = lastId;
    throw dropped;
  } finally {
    reader.releaseLock?.();
  }
}

// --- the common top bar ----------------------------------------------------------------

/**
 * Render the top bar into <header id="top">: the page title (`pageTitleKey`), the
 * language switch, who is signed in and a sign-out button; and a live notice for a
 * refused token. Labels the whole page (applyI18n). Returns the session (or null).
 */
export function header(pageTitleKey) {
  const top = document.getElementById("top");
  const kept = session();
  const notice = el("p", { id: "notice", class: "notice", role: "alert", hidden: true });
  const picker = el(
    "select",
    {
      id: "language",
      onchange: (event) => setLanguage(event.target.value),
    },
    el("option", { value: "zh-CN", lang: "zh-CN", text: "中文" }),
    el("option", { value: "en", lang: "en", text: "English" }),
  );
  picker.value = language();
  const who = kept
    ? el("span", { id: "who", class: "who" })
    : el("span", { id: "who", class: "who", "data-i18n": "app.notSignedIn" });
  const renderWho = () => {
    if (kept) {
      who.textContent = t("app.signedInAs", {
        role: t(`role.${kept.role}`),
        department: kept.department || "—",
        subject: kept.subject || "—",
      });
    }
  };
  const account = kept
    ? el("button", {
        type: "button",
        id: "sign-out",
        "data-i18n": "app.signOut",
        onclick: () => {
          signOut();
          location.assign("index.html");
        },
      })
    : el("a", { id: "sign-in", href: "index.html", "data-i18n": "app.signIn" });
  top.replaceChildren(
    el("a", { class: "skip", href: "#main", "data-i18n": "app.skip" }),
    el(
      "div",
      { class: "bar" },
      el(
        "div",
        { class: "titles" },
        el("span", { class: "brand", "data-i18n": "app.name" }),
        el("h1", { id: "page-title", "data-i18n": pageTitleKey }),
      ),
      el(
        "nav",
        { class: "tools", "aria-label": "certfree" },
        el("label", { for: "language", "data-i18n": "app.language" }),
        picker,
        who,
        account,
      ),
    ),
    notice,
  );
  const title = document.querySelector("title");
  if (title && !title.dataset.i18n) title.dataset.i18n = pageTitleKey;
  document.addEventListener("certfree:language", () => {
    picker.value = language();
    renderWho();
  });
  document.addEventListener("certfree:unauthenticated", (event) => {
    notice.replaceChildren(
      t("app.tokenRefused", { message: event.detail.message }),
      " ",
      el("a", { href: "index.html", "data-i18n": "app.signIn" }, t("app.signIn")),
    );
    notice.hidden = false;
  });
  renderWho();
  applyI18n(document);
  return kept;
}

// The language is the page's before anything is drawn.
document.documentElement.lang = language();
