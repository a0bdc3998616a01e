// Staff page of the portal: confirmed inquiries to approve or decline (with a reason), and the
// sponsor overview (which areas, by whom, since when, watered by the sponsor vs. Bauhof).
// Needs a planner or admin token; names and addresses are shown to administrators only.
"use strict";

// The page's texts, German and English: data in staff.texts.json, loaded before it starts.
let TEXT = { de: {}, en: {} };
const TEXTS_LOADED = fetch("staff.texts.json").then((res) => res.json())
  .then((texts) => { TEXT = texts; });
const $ = (id) => document.getElementById(id);
const state = { lang: localStorage.getItem("bauhof.portal.lang") || "de",
                token: sessionStorage.getItem("bauhof.staff.token") || "" };
const t = (key) => TEXT[state.lang][key];
const day = (iso) => iso ? new Intl.DateTimeFormat(state.lang === "de" ? "de-DE" : "en-GB",
  { dateStyle: "medium", timeZone: "Europe/Berlin" }).format(new Date(iso)) : "–";

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` },
                                options.body ? { "Content-Type": "application/json" } : {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { const err = new Error(body.detail || `HTTP ${res.status}`); err.status = res.status; throw err; }
  return body;
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function button(label, testid, onClick) {
  const b = el("button", label, "small");
  b.type = "button";
  b.dataset.testid = testid;
  b.addEventListener("click", onClick);
  return b;
}

async function act(path, body) {
  $("error").textContent = "";
  try {
    await api(path, { method: "POST", body: body ? JSON.stringify(body) : undefined });
    await load();
  } catch (err) {
    $("error").textContent = t("failed") + err.message;
  }
}

async function load() {
  const requests = await api("/api/v1/sponsorships?status=requested&limit=500");
  const overview = await api("/api/v1/sponsorships/overview");
  const list = $("requests");
  list.replaceChildren();
  for (const r of requests.items) {
    const li = el("li");
    li.dataset.testid = "request";
    li.dataset.sponsorshipId = r.id;
    const who = r.name ? `${r.name} <${r.email}>${r.phone ? `, ${r.phone}` : ""}` : t("hidden");
    li.append(el("strong", r.area_name), el("span", ` – ${who} – ${t("asked")} ${day(r.created_at)}`));
    if (r.message) li.append(el("p", `${t("message")}: ${r.message}`, "meta"));
    const reason = el("input");
    reason.placeholder = t("reason");
    reason.setAttribute("aria-label", t("reason"));
    reason.dataset.testid = "decline-reason";
    const row = el("div", null, "actions");
    row.append(button(t("approve"), "approve", () => act(`/api/v1/sponsorships/${r.id}/approve`)),
               reason,
               button(t("decline"), "decline", () => act(`/api/v1/sponsorships/${r.id}/decline`,
                                                         { reason: reason.value })));
    li.append(row);
    list.append(li);
  }
  $("no-requests").hidden = requests.items.length > 0;
  const body = $("overview").querySelector("tbody");
  body.replaceChildren();
  for (const o of overview) {
    const tr = el("tr");
    tr.dataset.testid = "overview-row";
    tr.dataset.areaId = o.area_id;
    const who = o.sponsor_name ? `${o.sponsor_name}${o.sponsor_email ? ` <${o.sponsor_email}>` : ""}` : o.sponsor_id;
    tr.append(el("td", o.area_name), el("td", who), el("td", day(o.since)),
              el("td", String(o.watered_by_sponsor)), el("td", String(o.watered_by_bauhof)));
    const cell = el("td");
    if (o.sponsorship_id) cell.append(button(t("end"), "end", () => act(`/api/v1/sponsorships/${o.sponsorship_id}/end`)));
    tr.append(cell);
    body.append(tr);
  }
}

function render() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $("lang").textContent = t("lang");
  $("signin").hidden = Boolean(state.token);
  $("work").hidden = !state.token;
}

async function signedIn() {
  render();
  try {
    await load();
  } catch (err) {
    state.token = "";
    sessionStorage.removeItem("bauhof.staff.token");
    render();
    $("signin-error").textContent = err.status === 401 || err.status === 403 ? t("badToken") : t("failed") + err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => TEXTS_LOADED.then(() => {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("bauhof.portal.lang", state.lang);
    render();
    if (state.token) load().catch(() => {});
  });
  $("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem("bauhof.staff.token", state.token);
    $("signin-error").textContent = "";
    signedIn();
  });
  $("signout").addEventListener("click", () => {
    state.token = "";
    sessionStorage.removeItem("bauhof.staff.token");
    render();
  });
  if (state.token) signedIn(); else render();
}));
