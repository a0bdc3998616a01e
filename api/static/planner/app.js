// Bauhof planner settings page, opened from the Waste planning dashboard's link with the
// dashboard's variables in the query (?threshold=80&horizon=24). It shows the settings in
// force next to the proposed ones and saves them with PUT /api/v1/routes/settings. The token
// is entered once and kept in this browser's local storage; it travels in the Authorization
// header only, never in a URL.
"use strict";

const KEY = "bauhof.planner.token";
const SETTINGS = "/api/v1/routes/settings";
// Query parameter (the dashboard variable) → planner setting.
const FIELDS = { threshold: "fill_threshold_pct", horizon: "horizon_h" };
const $ = (id) => document.getElementById(id);
const state = { token: localStorage.getItem(KEY) || "", current: null };

class Unauthorised extends Error {}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorised("Token invalid or expired.");
  if (!res.ok) {
    const detail = body && body.detail ? body.detail : `HTTP ${res.status}`;
    const fields = body && Array.isArray(body.errors)
      ? body.errors.map((e) => `${e.field}: ${e.message}`).join("; ") : "";
    throw new Error(fields ? `${detail} (${fields})` : detail);
  }
  return body;
}

function shown(value, field) {
  if (value === null || value === undefined) {
    return field === "fill_threshold_pct" ? "each bin's own" : "–";
  }
  return String(value);
}

function proposed() {
  const body = {};
  for (const [param, field] of Object.entries(FIELDS)) {
    const text = $(param).value.trim();
    if (text !== "") body[field] = Number(text);
  }
  return body;
}

function markChanges() {
  const body = proposed();
  let changed = 0;
  for (const [param, field] of Object.entries(FIELDS)) {
    const cell = $(`current-${param}`);
    const differs = state.current !== null && field in body &&
      body[field] !== state.current.settings[field];
    cell.classList.toggle("changed", differs);
    if (differs) changed += 1;
  }
  $("save").disabled = changed === 0;
}

function showCurrent(doc) {
  state.current = doc;
  $("version").textContent = doc.version === null ? "defaults" : `version ${doc.version}`;
  for (const [param, field] of Object.entries(FIELDS)) {
    $(`current-${param}`).textContent = shown(doc.settings[field], field);
  }
  markChanges();
}

function signOut(message) {
  state.token = "";
  state.current = null;
  localStorage.removeItem(KEY);
  $("settings").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("token").focus();
}

async function load() {
  $("signin").hidden = true;
  $("signout").hidden = false;
  $("settings").hidden = false;
  $("error").textContent = "";
  try {
    showCurrent(await api(SETTINGS));
  } catch (err) {
    if (err instanceof Unauthorised) { signOut(err.message); return; }
    $("error").textContent = err.message;
    $("save").disabled = true;
  }
}

async function save(ev) {
  ev.preventDefault();
  $("status").textContent = "";
  $("error").textContent = "";
  const note = $("note").value.trim();
  const query = note ? `?note=${encodeURIComponent(note)}` : "";
  $("save").disabled = true;
  try {
    const doc = await api(SETTINGS + query, {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(proposed()),
    });
    showCurrent(doc);
    $("status").textContent = `Saved as version ${doc.version}.`;
  } catch (err) {
    if (err instanceof Unauthorised) { signOut(err.message); return; }
    $("error").textContent = err.message;
    markChanges();
  }
}

function start() {
  const query = new URLSearchParams(window.location.search);
  for (const param of Object.keys(FIELDS)) {
    $(param).value = query.get(param) || "";
    $(param).addEventListener("input", markChanges);
  }
  $("note").value = query.get("note") || "";
  $("settings").addEventListener("submit", save);
  $("signout").addEventListener("click", () => signOut(""));
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    localStorage.setItem(KEY, state.token);
    $("token").value = "";
    load();
  });
  if (state.token) load(); else signOut("");
}

start();
