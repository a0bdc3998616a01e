// Bauhof crew app: sign in with a token, see open orders by priority and distance, see why
// each exists, start and finish them; live updates over Server-Sent Events (read with fetch,
// so the token travels in the Authorization header, never in a URL).
"use strict";

const TEXT = {
  de: {
    title: "Bauhof – Aufträge", token: "Zugangsschlüssel", signin: "Anmelden",
    signout: "Abmelden", empty: "Keine offenen Aufträge.", map: "Karte",
    navigate: "Navigation", note: "Notiz", photo: "Foto (optional)", start: "Beginnen",
    done: "Erledigt", live: "live", offline: "offline", badToken: "Schlüssel ungültig oder abgelaufen.",
    count: (n) => n === 1 ? "1 offener Auftrag" : `${n} offene Aufträge`,
    due: "fällig", away: "entfernt", inProgress: "in Arbeit", assigned: "zugewiesen",
    unassigned: "frei", fill: (v, t) => `Füllstand ${v} %` + (t ? ` (Schwelle ${t} %)` : ""),
    forecast: (w) => `voll voraussichtlich ${w}`,
    moisture: (v, s) => `Bodenfeuchte ${v} %` + (s ? `, trocken seit ${s}` : ""),
    report: (d) => `Bürgermeldung: ${d}`, failed: "Fehlgeschlagen: ",
    kinds: { watering: "Gießen", empty_bin: "Leeren", collection_route: "Tour",
             sensor_maintenance: "Sensor", bin_maintenance: "Behälter", vehicle: "Fahrzeug",
             citizen_defect: "Meldung" },
  },
  en: {
    title: "Bauhof – work orders", token: "Access token", signin: "Sign in",
    signout: "Sign out", empty: "No open orders.", map: "Map", navigate: "Navigate",
    note: "Note", photo: "Photo (optional)", start: "Start", done: "Done", live: "live",
    offline: "offline", badToken: "Token invalid or expired.",
    count: (n) => n === 1 ? "1 open order" : `${n} open orders`,
    due: "due", away: "away", inProgress: "in progress", assigned: "assigned",
    unassigned: "unassigned", fill: (v, t) => `Fill level ${v} %` + (t ? ` (threshold ${t} %)` : ""),
    forecast: (w) => `expected full ${w}`,
    moisture: (v, s) => `Soil moisture ${v} %` + (s ? `, dry since ${s}` : ""),
    report: (d) => `Citizen report: ${d}`, failed: "Failed: ",
    kinds: { watering: "Watering", empty_bin: "Empty bin", collection_route: "Route",
             sensor_maintenance: "Sensor", bin_maintenance: "Bin", vehicle: "Vehicle",
             citizen_defect: "Report" },
  },
};
const ACTIVE = ["open", "assigned", "in_progress"];
const $ = (id) => document.getElementById(id);
const state = { lang: localStorage.getItem("bauhof.lang") || "de",
                token: localStorage.getItem("bauhof.token") || "", position: null,
                orders: new Map(), details: new Map(), lastEventId: null, abort: null };

const t = (key) => TEXT[state.lang][key];
const when = (iso) => iso ? new Date(iso).toLocaleString(state.lang === "de" ? "de-DE" : "en-GB",
  { dateStyle: "short", timeStyle: "short" }) : "";
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const value = t(el.dataset.i18n);
    if (typeof value === "string") el.textContent = value;
  });
  $("lang").textContent = state.lang === "de" ? "EN" : "DE";
  setLive($("live").classList.contains("on"));
  render();
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) { signOut(t("badToken")); throw new Error(t("badToken")); }
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(body && body.detail ? body.detail : `HTTP ${res.status}`);
  return body;
}

function distance(o) {
  if (!state.position || o.latitude == null) return null;
  const r = Math.PI / 180, p1 = state.position.lat * r, p2 = o.latitude * r;
  const h = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) *
            Math.sin((o.longitude - state.position.lon) * r / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function sorted() {
  return [...state.orders.values()].sort((a, b) => {
    if (a.priority !== b.priority) return a.priority - b.priority;
    const da = distance(a), db = distance(b);
    if (da !== db) return (da ?? Infinity) - (db ?? Infinity);
    return a.id - b.id;
  });
}

async function load() {
  const found = new Map();
  let cursor = null;
  do {
    const q = new URLSearchParams({ status: "active", limit: "200" });
    if (cursor) q.set("cursor", cursor);
    const page = await api(`/api/v1/work-orders?${q}`);
    page.items.forEach((o) => found.set(o.id, o));
    cursor = page.next_cursor;
  } while (cursor);
  state.orders = found;
  render();
}

function why(o, d) {
  const T = TEXT[state.lang];
  const value = o.last_value == null ? null : Math.round(o.last_value);
  const p = (d && d.params) || {};
  const parts = [];
  if (o.kind === "empty_bin" && value != null) {
    parts.push(T.fill(value, p.fill_threshold_pct));
    if (p.forecast_full_at) parts.push(T.forecast(when(p.forecast_full_at)));
  } else if (o.kind === "watering" && value != null) {
    parts.push(T.moisture(value, d && d.condition_since ? when(d.condition_since) : ""));
  }
  ((d && d.defects) || []).filter((x) => x.source === "citizen" && x.description)
    .forEach((x) => parts.push(T.report(x.description)));
  return parts.join(" · ");
}

function chart(points, limit) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 300 70");
  svg.setAttribute("preserveAspectRatio", "none");
  const values = points.map((p) => p[1]).concat(limit == null ? [] : [limit]);
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const t0 = points[0][0], t1 = points[points.length - 1][0], tw = t1 - t0 || 1;
  const y = (v) => 65 - 60 * (v - lo) / span;
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("class", "line");
  line.setAttribute("points", points.map((p) => `${(5 + 290 * (p[0] - t0) / tw).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "));
  const frame = document.createElementNS(ns, "rect");
  frame.setAttribute("class", "frame");
  frame.setAttribute("x", "1"); frame.setAttribute("y", "1");
  frame.setAttribute("width", "298"); frame.setAttribute("height", "68");
  svg.append(frame);
  if (limit != null) {
    const l = document.createElementNS(ns, "line");
    l.setAttribute("class", "limit");
    l.setAttribute("x1", "5"); l.setAttribute("x2", "295");
    l.setAttribute("y1", y(limit).toFixed(1)); l.setAttribute("y2", y(limit).toFixed(1));
    svg.append(l);
  }
  svg.append(line);
  return svg;
}

async function detail(o) {
  const key = `${o.id}:${o.updated_at}`;
  if (state.details.has(key)) return state.details.get(key);
  const d = await api(`/api/v1/work-orders/${o.id}`);
  let points = [];
  const name = { bin: "fill_pct", green_area: "soil_moisture_pct" }[o.subject_type];
  if (name) {
    const from = new Date(new Date(o.opened_at).getTime() - 24 * 3600e3).toISOString();
    const to = new Date(new Date(d.last_seen_at || o.opened_at).getTime() + 3600e3).toISOString();
    const q = new URLSearchParams({ from, to, names: name, points: "60" });
    const s = await api(`/api/v1/assets/${o.subject_type}/${encodeURIComponent(o.subject_id)}/readings?${q}`);
    points = s.points.filter((p) => p.avg[name] != null).map((p) => [Date.parse(p.time), p.avg[name]]);
  } else {
    points = d.evidence.filter((e) => typeof e.value === "number").map((e) => [Date.parse(e.time), e.value]);
  }
  const result = { d, points, limit: d.params.fill_threshold_pct ?? d.params.low_pct ?? null };
  state.details.set(key, result);
  return result;
}

function card(o) {
  const li = $("card").content.firstElementChild.cloneNode(true);
  const T = TEXT[state.lang];
  li.dataset.orderId = o.id;
  li.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  const prio = li.querySelector(".prio");
  prio.textContent = `P${o.priority}`;
  prio.classList.add(`p${o.priority}`);
  li.querySelector(".title").textContent = `${T.kinds[o.kind] || o.kind}: ${o.title}`;
  const meta = [o.status === "in_progress" ? T.inProgress : o.assignee ? T.assigned : T.unassigned];
  if (o.due_at) meta.push(`${T.due} ${when(o.due_at)}`);
  const dist = distance(o);
  if (dist != null) meta.push(dist < 1000 ? `${Math.round(dist)} m ${T.away}` : `${(dist / 1000).toFixed(1)} km ${T.away}`);
  li.querySelector(".meta").textContent = meta.join(" · ");
  const where = li.querySelector(".where");
  if (o.latitude != null) {
    li.querySelector(".osm").href = `https://www.openstreetmap.org/?mlat=${o.latitude}&mlon=${o.longitude}#map=18/${o.latitude}/${o.longitude}`;
    li.querySelector(".geo").href = `geo:${o.latitude},${o.longitude}`;
  } else {
    where.hidden = true;
  }
  li.querySelector(".start").hidden = o.status === "in_progress";
  li.querySelector(".start").addEventListener("click", () => act(li, o, "start"));
  li.querySelector(".done").addEventListener("click", () => act(li, o, "done"));
  detail(o).then(({ d, points, limit }) => {
    li.querySelector(".why").textContent = why(o, d);
    if (points.length >= 2) li.querySelector(".chart").replaceChildren(chart(points, limit));
  }).catch(() => {});
  return li;
}

async function act(li, o, action) {
  const note = li.querySelector(".note").value.trim();
  li.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    let updated;
    if (action === "done") {
      const form = new FormData();
      if (note) form.append("note", note);
      const photo = li.querySelector(".photo").files[0];
      if (photo) form.append("photo", photo);
      updated = await api(`/api/v1/work-orders/${o.id}/done`, { method: "POST", body: form });
    } else {
      updated = await api(`/api/v1/work-orders/${o.id}/start`, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(note ? { note } : {}) });
    }
    upsert(updated);
    $("error").textContent = "";
  } catch (err) {
    $("error").textContent = t("failed") + err.message;
    li.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
}

function upsert(o) {
  if (ACTIVE.includes(o.status)) state.orders.set(o.id, o); else state.orders.delete(o.id);
  render();
}

function render() {
  if (!state.token) return;
  const list = sorted();
  $("orders").replaceChildren(...list.map(card));
  $("empty").hidden = list.length > 0;
  $("summary").textContent = t("count")(list.length);
}

function setLive(on) {
  const el = $("live");
  el.classList.toggle("on", on);
  el.classList.toggle("off", !on);
  el.textContent = on ? t("live") : t("offline");
}

function handle(block) {
  let event = "message", data = "", id = null;
  block.split("\n").forEach((line) => {
    if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  });
  if (id) state.lastEventId = id;
  if (!data) return;
  const body = JSON.parse(data);
  if (event === "order") upsert(body.order);
  else if (event === "removed") { state.orders.delete(body.id); render(); }
}

async function stream() {
  while (state.token) {
    const ctrl = new AbortController();
    state.abort = ctrl;
    try {
      const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const res = await fetch("/api/v1/stream/work-orders", { headers, signal: ctrl.signal });
      if (res.status === 401) { signOut(t("badToken")); return; }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      setLive(true);
      await load();
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
    }
    setLive(false);
    await sleep(3000);
  }
}

function signOut(message) {
  if (state.abort) state.abort.abort();
  state.token = "";
  localStorage.removeItem("bauhof.token");
  state.orders.clear();
  $("work").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  setLive(false);
}

function signedIn() {
  $("signin").hidden = true;
  $("work").hidden = false;
  $("signout").hidden = false;
  stream();
}

function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.watchPosition((p) => {
    state.position = { lat: p.coords.latitude, lon: p.coords.longitude };
    render();
  }, () => {}, { enableHighAccuracy: false, maximumAge: 60000 });
}

document.addEventListener("DOMContentLoaded", () => {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("bauhof.lang", state.lang);
    applyLang();
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    try {
      await api("/api/v1/work-orders?limit=1");
      localStorage.setItem("bauhof.token", state.token);
      $("token").value = "";
      signedIn();
    } catch (err) {
      if (state.token) $("signin-error").textContent = err.message;
    }
  });
  applyLang();
  locate();
  if (state.token) signedIn(); else signOut("");
});
