// Shared by every page: the API with the session's CSRF token, safe DOM building, live
// updates by server-sent events (reconnecting, and saying so), inline form errors.

export const csrf = document.querySelector('meta[name="csrf"]').content;
export const main = document.getElementById("main");
export const who = document.body.dataset.who;

export class ApiError extends Error {
  constructor(message, field, status) {
    super(message);
    this.field = field || "";
    this.status = status;
  }
}

export async function api(path, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  let payload;
  if (form) {
    payload = form;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (err) {
    throw new ApiError("the hub cannot be reached: check the connection", "", 0);
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) {
    window.location.assign("/");
    throw new ApiError("signed out", "", 401);
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(error.message || response.statusText, error.field, response.status);
  }
  return data;
}

// el("p", {class: "x"}, "text", child): text is always text, never HTML
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function section(title, id, ...content) {
  const heading = el("h2", { id: `${id}-title` }, title);
  return el("section", { id, "aria-labelledby": `${id}-title`, class: "card" }, heading, ...content);
}

export function table(caption, columns, rows) {
  if (!rows.length) return el("p", { class: "muted" }, `${caption}: none yet.`);
  return el(
    "div",
    { class: "scroll" },
    el(
      "table",
      {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, v))))),
    ),
  );
}

export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// Shows an error under the form field it names (or at the form's end) until next submit.
export function showError(form, error) {
  for (const old of form.querySelectorAll(".error")) old.remove();
  for (const bad of form.querySelectorAll("[aria-invalid]")) {
    bad.removeAttribute("aria-invalid");
    bad.removeAttribute("aria-describedby");
  }
  const id = `${form.id || "form"}-error`;
  const message = el("p", { class: "error", id, role: "alert" }, error.message);
  const name = (error.field || "").split(".").pop();
  const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.after(message);
    input.focus();
  } else {
    form.append(message);
  }
}

const status = document.getElementById("live");

function say(text, cls) {
  status.textContent = text;
  status.className = `live ${cls}`;
}

// The page's life: refresh now, then on every change the hub announces; a refresh that
// fails (the hub unreachable, say) says so instead of breaking the page.
export function start(refresh) {
  const guarded = () =>
    refresh().catch((err) => say(`${err.message || "the hub cannot be reached"}: retrying…`, "bad"));
  guarded();
  live(guarded);
}

// Live updates: one EventSource; "change" events call refresh() at most once a second.
export function live(refresh) {
  let timer = null;
  let source;
  const connect = () => {
    source = new EventSource("/live");
    source.addEventListener("hello", () => say("live", "ok"));
    source.addEventListener("change", () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        refresh();
      }, 1000);
    });
    source.onerror = () => {
      say("connection lost: reconnecting…", "bad");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  };
  connect();
}

// Replaces the page's content, keeping what the user was typing and where the focus was.
export function render(...sections) {
  const typed = new Map();
  const errors = new Map();
  for (const input of main.querySelectorAll("input[id]")) {
    if (input.value) typed.set(input.id, input.value);
    const said = input.getAttribute("aria-describedby");
    if (input.hasAttribute("aria-invalid") && said) {
      errors.set(input.id, document.getElementById(said)?.textContent || "");
    }
  }
  const focused = document.activeElement && main.contains(document.activeElement)
    ? document.activeElement.id
    : "";
  main.replaceChildren(...sections);
  for (const [id, value] of typed) {
    const input = document.getElementById(id);
    if (input && !input.value) input.value = value;
  }
  for (const [id, message] of errors) {
    const input = document.getElementById(id);
    if (!input || input.hasAttribute("aria-invalid")) continue;
    const note = el("p", { class: "error", id: `${id}-error`, role: "alert" }, message);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", note.id);
    input.after(note);
  }
  if (focused) document.getElementById(focused)?.focus();
}
