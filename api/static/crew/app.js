// Bauhof crew app: a crew's orders all day on a phone with poor coverage.
// - One request loads every card (GET /api/v1/crew/orders); a card's details load when it is
//   opened. Live changes arrive over Server-Sent Events (read with fetch, so the token stays
//   in the Authorization header); changed ids are collected and refetched in one request at
//   most every 250 ms, never while one is under way. Cards are updated in place, keyed by
//   order id: a typed note or a chosen photo is never lost to an update.
// - Start, done and stops go through a queue kept in localStorage (photos in IndexedDB): sent
//   in order when the network is back, each card saying whether it waits, was sent, or was
//   refused because someone else closed the order.
"use strict";

const TZ = "Europe/Berlin";
const UNDO_MS = 5000;
const BATCH_MS = 250;
const REFRESH_MS = 5 * 60 * 1000;
const NEW_MS = 12 * 3600 * 1000;
const DETAILS_KEPT = 30;
const KEY = { token: "bauhof.token", lang: "bauhof.lang", queue: "bauhof.crew.queue",
              drafts: "bauhof.crew.drafts" };

// The app's texts, German and English: data in texts.json, loaded before it starts.
let TEXT = { de: {}, en: {} };
const ACTIVE = ["open", "assigned", "in_progress"];
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem(KEY.lang) || "de", token: localStorage.getItem(KEY.token) || "",
  me: null, position: null, orders: new Map(), els: new Map(), fresh: new Set(),
  pending: new Set(), fetching: false, batchTimer: null, details: new Map(),
  detailLoads: new Map(), lastEventId: null, abort: null, loaded: false, flushing: false,
  undo: new Map(), confirm: new Set(), kind: "", search: "", refreshTimer: null,
};
const T = () => TEXT[state.lang];
const t = (key) => T()[key];
// A text with its {0}, {1}, … filled in.
const fmt = (key, ...args) => t(key).replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Times in Europe/Berlin whatever the phone's zone.
const formats = new Map();
function when(iso, style = "short") {
  if (!iso) return "";
  const key = `${state.lang}:${style}`;
  if (!formats.has(key)) {
    const opts = style === "time" ? { hour: "2-digit", minute: "2-digit" }
      : { weekday: "short", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
    formats.set(key, new Intl.DateTimeFormat(t("locale"), Object.assign({ timeZone: TZ }, opts)));
  }
  return formats.get(key).format(new Date(iso));
}

class ApiError extends Error {
  constructor(status, slug, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status; this.slug = slug;
  }
}
function message(err) {
  const slug = err instanceof ApiError ? err.slug : "network";
  return T().errors[slug] || T().errors.internal;
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  let res;
  try {
    res = await fetch(path, Object.assign({}, options, { headers }));
  } catch (err) {
    throw new ApiError(0, "network", String(err));
  }
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const slug = body && body.type ? body.type.replace("/problems/", "") : "internal";
    if (res.status === 401 && state.me) signOut(t("badToken"));
    throw new ApiError(res.status, slug, body && body.detail);
  }
  return body;
}

// ---------------------------------------------------------------------------------------
// Text of a card
function round(v) { return v == null ? null : Math.round(v); }

function titleOf(o) {
  const K = T().kinds[o.kind] || o.kind;
  const place = o.place || T().noPlace;
  const v = round(o.last_value);
  switch (o.kind) {
    case "empty_bin": {
      let s = `${K}: ${place}` + (v != null ? ` – ${fmt("fill", v)}` : "");
      if (o.forecast_full_at) s += `, ${fmt("fullBy", when(o.forecast_full_at))}`;
      return s;
    }
    case "watering":
      return `${K}: ${place}` + (v != null ? ` – ${fmt("moisture", v)}` : "") +
        (o.water ? ` – ${dose(o.water)}` : "");
    case "collection_route": {
      const stops = (o.route && o.route.stops) || [];
      const left = stops.filter((s) => !s.done_at).length;
      const km = o.route && o.route.distance_m != null ? (o.route.distance_m / 1000).toFixed(1) : "?";
      return fmt("route", (o.route && o.route.route_no) ?? "", stops.length, km) +
        (left < stops.length ? fmt("routeLeft", left) : "");
    }
    default: {
      const what = T().rules[o.rule];
      return `${K}: ${place}` + (what ? ` – ${what}` : "");
    }
  }
}

// The water a watering order asks for: per young tree, or litres for the area's size.
function dose(w) {
  const n = (x) => x.toLocaleString(state.lang === "de" ? "de-DE" : "en-GB");
  if (w.litres_per_tree != null && w.trees != null) return fmt("trees", w.trees, n(w.litres_per_tree));
  if (w.litres != null && w.litres_per_m2 != null) return `${n(w.litres)} l (${n(w.litres_per_m2)} l/m²)`;
  return w.litres_per_m2 != null ? `${n(w.litres_per_m2)} l/m²` : `${n(w.litres)} l`;
}

function facts(o) {
  const parts = [];
  const v = round(o.last_value);
  if (o.kind === "empty_bin" && o.threshold != null) parts.push(fmt("threshold", round(o.threshold)));
  if (o.kind === "watering" && o.condition_since) parts.push(fmt("drySince", when(o.condition_since)));
  if (o.kind === "sensor_maintenance" && o.last_seen_at) parts.push(fmt("lastSeen", when(o.last_seen_at)));
  if (o.report) parts.push(fmt("report", o.report));
  if (o.address && o.address !== o.place) parts.push(o.address);
  if (v != null && o.kind !== "empty_bin" && o.kind !== "watering" && o.kind !== "collection_route")
    parts.push(String(v));
  return parts.join(" · ");
}

// Without the phone's position, distances count from the middle of the crew's orders.
function centreOf(items) {
  let n = 0, lat = 0, lon = 0;
  items.forEach((o) => { if (o.latitude != null) { n++; lat += o.latitude; lon += o.longitude; } });
  return n ? { lat: lat / n, lon: lon / n, depot: true } : null;
}
function center() {
  if (state.position) return { lat: state.position.lat, lon: state.position.lon, depot: false };
  if (!state.centre) state.centre = centreOf(state.orders.values());
  return state.centre;
}
function distance(o) {
  const c = center();
  if (!c || o.latitude == null) return null;
  const r = Math.PI / 180, p1 = c.lat * r, p2 = o.latitude * r;
  const h = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) *
            Math.sin((o.longitude - c.lon) * r / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function metaOf(o) {
  const meta = [T().status[o.status] || o.status];
  if (o.due_at) meta.push(`${t("due")} ${when(o.due_at)}`);
  const d = distance(o);
  if (d != null) {
    const c = center();
    meta.push((d < 1000 ? `${Math.round(d)} m` : `${(d / 1000).toFixed(1)} km`) +
              (c.depot ? ` ${t("fromDepot")}` : ` ${t("away")}`));
  }
  return meta.join(" · ");
}

// ---------------------------------------------------------------------------------------
// A chart with axes: time along the bottom (Berlin), values on the left, the threshold dashed.
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
  if (text != null) e.textContent = text;
  return e;
}
function chart(points, limit, unit) {
  const W = 320, H = 130, L = 38, R = 10, TOP = 10, B = 24;
  const values = points.map((p) => p[1]).concat(limit == null ? [] : [limit]);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (unit === "%") { lo = Math.min(0, lo); hi = Math.max(100, hi); }
  const span = hi - lo || 1;
  const t0 = points[0][0], t1 = points[points.length - 1][0], tw = t1 - t0 || 1;
  const x = (v) => L + (W - L - R) * (v - t0) / tw;
  const y = (v) => H - B - (H - B - TOP) * (v - lo) / span;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  svg.append(el("line", { class: "axis", x1: L, x2: L, y1: TOP, y2: H - B }));
  svg.append(el("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  [lo, (lo + hi) / 2, hi].forEach((v) => {
    svg.append(el("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(el("text", { class: "tick", x: L - 4, y: y(v) + 4, "text-anchor": "end" },
                  `${Math.round(v)}${unit === "%" ? " %" : ""}`));
  });
  const first = new Date(t0).toISOString(), last = new Date(t1).toISOString();
  svg.append(el("text", { class: "tick", x: L, y: H - 6, "text-anchor": "start" }, when(first)));
  if (t1 !== t0) svg.append(el("text", { class: "tick", x: W - R, y: H - 6, "text-anchor": "end" }, when(last, "time")));
  if (limit != null) svg.append(el("line", { class: "limit", x1: L, x2: W - R, y1: y(limit), y2: y(limit) }));
  svg.append(el("polyline", { class: "line", points: points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ") }));
  points.forEach((p) => svg.append(el("circle", { class: "dot", cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 3 })));
  const lastP = points[points.length - 1];
  svg.append(el("text", { class: "value", x: Math.min(x(lastP[0]), W - R - 2), y: Math.max(y(lastP[1]) - 6, TOP + 8), "text-anchor": "end" },
                `${Math.round(lastP[1])}${unit === "%" ? " %" : ""}`));
  svg.append(el("title", {}, points.map((p) => `${when(new Date(p[0]).toISOString())}: ${p[1]}`).join("\n")));
  return svg;
}

// ---------------------------------------------------------------------------------------
// Cards: made once per order id, updated in place.
function makeCard(o) {
  const li = $("card").content.firstElementChild.cloneNode(true);
  li.dataset.orderId = o.id;
  li.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  li.querySelector(".head").addEventListener("click", () => toggle(li));
  li.querySelector(".start").addEventListener("click", () => start(li));
  li.querySelector(".done").addEventListener("click", () => finish(li));
  li.querySelector(".undo-button").addEventListener("click", () => undo(li));
  li.querySelector(".dismiss").addEventListener("click", () => dismiss(li));
  const note = li.querySelector(".note");
  const drafts = readJson(KEY.drafts, {});
  if (drafts[o.id]) note.value = drafts[o.id];
  note.addEventListener("input", () => saveDraft(o.id, note.value));
  // The reply to the citizens who reported it: a draft of its own, sent with "done".
  const reply = li.querySelector(".public-note");
  if (drafts[publicKey(o.id)]) reply.value = drafts[publicKey(o.id)];
  reply.addEventListener("input", () => saveDraft(publicKey(o.id), reply.value));
  li.querySelector(".stops").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.stop-done");
    if (b) stopDone(li, Number(b.dataset.seq));
  });
  return li;
}

// Why the order has its priority: the rule's own, a forecast's, or raised for being open long.
function whyPriority(o) {
  const parts = [`P${o.priority}`];
  if (o.reason === "forecast") parts.push(fmt("prioForecast", when(o.due_at)));
  parts.push(o.age_steps > 0 ? fmt("prioRaised", o.base_priority, o.age_steps) : t("prioRule"));
  return parts.join(" · ");
}

// A stop's fill now (or as planned) and the fill the plan expects at the stop.
function stopFill(v, e) {
  return (v == null ? "" : fmt("fill", v)) + (e == null ? "" : fmt("planned", e));
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

function fill(li) {
  const id = Number(li.dataset.orderId);
  const o = state.orders.get(id);
  if (!o) return;
  const prio = li.querySelector(".prio");
  setText(prio, `P${o.priority}`);
  prio.className = `prio p${o.priority}`;
  setText(li.querySelector(".title"), titleOf(o));
  // The title names the place; a citizen's address, when it says more, goes below it.
  setText(li.querySelector(".place"), o.address && o.address !== o.place ? o.address : "");
  setText(li.querySelector(".meta"), metaOf(o));
  li.querySelector(".new").hidden = !(state.fresh.has(id) || Date.now() - Date.parse(o.opened_at) < NEW_MS);
  const overdue = o.due_at != null && Date.parse(o.due_at) < Date.now();
  li.querySelector(".overdue").hidden = !overdue;
  li.classList.toggle("is-overdue", overdue);
  li.classList.toggle("mine", !!(state.me && o.assignee === state.me.crew));
  setText(li.querySelector(".why"), whyPriority(o));
  setText(li.querySelector(".facts"), facts(o));
  li.querySelector(".publiclabel").hidden = !(o.citizen_reports > 0);
  const startB = li.querySelector(".start");
  startB.hidden = o.status === "in_progress" || o.kind === "collection_route" && o.status === "in_progress";
  const doneB = li.querySelector(".done");
  if (!state.confirm.has(id)) setText(doneB, t("done"));
  const where = li.querySelector(".where");
  where.hidden = o.latitude == null || o.kind === "collection_route";
  if (o.latitude != null) {
    li.querySelector(".osm").href = `https://www.openstreetmap.org/?mlat=${o.latitude}&mlon=${o.longitude}#map=18/${o.latitude}/${o.longitude}`;
    li.querySelector(".geo").href = `geo:${o.latitude},${o.longitude}`;
  }
  fillStops(li, o);
  fillQueue(li, id);
  if (li.classList.contains("open")) drawChart(li, o);
}

function drawChart(li, o) {
  const box = li.querySelector(".chart");
  const key = `${o.updated_at}:${state.lang}`;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const points = (o.series || []).map((p) => [Date.parse(p[0]), p[1]]);
  const unit = o.kind === "empty_bin" || o.kind === "watering" ? "%" : "";
  if (points.length >= 1) box.replaceChildren(chart(points.length === 1 ? [points[0], points[0]] : points, o.threshold, unit));
  else box.replaceChildren();
}

function fillStops(li, o) {
  const list = li.querySelector(".stops"), next = li.querySelector(".next");
  if (o.kind !== "collection_route" || !o.route) { list.hidden = true; next.hidden = true; return; }
  list.hidden = false;
  const stops = o.route.stops;
  const nextStop = stops.find((s) => !s.done_at);
  next.hidden = !nextStop;
  if (nextStop) setText(next, fmt("nextStop", `${nextStop.seq}. ${nextStop.name}`));
  const key = `${o.updated_at}:${state.lang}:${stops.map((s) => s.done_at ? 1 : 0).join("")}`;
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...stops.map((s) => {
    const item = document.createElement("li");
    item.className = "stop" + (s.done_at ? " is-done" : "") + (s === nextStop ? " is-next" : "");
    item.dataset.testid = "stop";
    item.dataset.seq = s.seq;
    const label = document.createElement("span");
    label.className = "stop-label";
    label.textContent = `${s.seq}. ${s.name} – ` +
      (s.done_at ? fmt("emptied", when(s.done_at, "time")) : stopFill(round(s.fill_pct ?? s.planned_fill_pct), round(s.expected_fill_pct)));
    const nav = document.createElement("a");
    nav.className = "stop-nav";
    nav.href = `geo:${s.latitude},${s.longitude}`;
    nav.textContent = t("navigate");
    item.append(label, nav);
    if (!s.done_at) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "small stop-done"; b.dataset.seq = s.seq;
      b.dataset.testid = "stop-done";
      b.textContent = T().stopDone;
      item.append(b);
    }
    return item;
  }));
}

function fillQueue(li, id) {
  const entries = queue().filter((e) => e.order_id === id);
  const badge = li.querySelector(".queue");
  const last = entries[entries.length - 1];
  badge.hidden = !last;
  li.dataset.queue = last ? last.state : "";
  if (last) {
    setText(badge, T().queue[last.state] + (last.state === "refused" && last.error ? `: ${last.error}` : ""));
  }
  const gone = li.classList.contains("gone");
  li.querySelector(".dismiss").hidden = !(gone || (last && last.state === "refused"));
  li.querySelectorAll(".actions button").forEach((b) => {
    b.disabled = gone || !!(last && (last.state === "waiting" || last.state === "sending") && last.action === "done") || state.undo.has(id);
  });
}

function sortKeyMine(o) { return [o.status === "in_progress" ? 0 : 1, o.priority, o.due_at || "9", o.id]; }
function cmp(a, b) {
  for (let i = 0; i < a.length; i++) { if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
  return 0;
}

// Put the cards of one section in order, moving only those out of place.
function arrange() {
  const mine = [], pool = [];
  state.els.forEach((li, id) => {
    const o = state.orders.get(id);
    if (o && state.me && o.assignee === state.me.crew) mine.push(o); else pool.push(o || { id, gone: true });
  });
  mine.sort((a, b) => cmp(sortKeyMine(a), sortKeyMine(b)));
  const dist = new Map(pool.map((o) => [o.id, o.gone ? -1 : (distance(o) ?? Infinity)]));
  pool.sort((a, b) => (dist.get(a.id) - dist.get(b.id)) || (a.priority - b.priority) || (a.id - b.id));
  place($("mine"), mine.map((o) => state.els.get(o.id)));
  place($("pool"), pool.map((o) => state.els.get(o.id)));
  applyFilter();
}
function place(parent, items) {
  items.forEach((li, i) => {
    if (parent.children[i] !== li) parent.insertBefore(li, parent.children[i] || null);
  });
}

function matches(o) {
  if (!o) return true;
  if (state.kind && o.kind !== state.kind) return false;
  if (state.search) {
    const hay = `${o.place || ""} ${o.address || ""} ${titleOf(o)} ${(o.route ? o.route.stops.map((s) => s.name).join(" ") : "")}`.toLowerCase();
    if (!hay.includes(state.search)) return false;
  }
  return true;
}
function applyFilter() {
  let shown = 0;
  state.els.forEach((li, id) => {
    const ok = matches(state.orders.get(id));
    if (li.hidden === ok) li.hidden = !ok;
    if (ok) shown++;
  });
  $("empty").hidden = state.orders.size > 0;
  $("mine-empty").hidden = $("mine").children.length > 0;
  setText($("summary"), fmt(state.orders.size === 1 ? "countOne" : "countMany", state.orders.size) +
    (shown !== state.orders.size ? fmt("shown", shown) : ""));
}

let arrangeQueued = false;
function scheduleArrange() {
  if (arrangeQueued) return;
  arrangeQueued = true;
  requestAnimationFrame(() => { arrangeQueued = false; arrange(); });
}

function upsert(o, live) {
  const old = state.orders.get(o.id);
  if (old && old.local_status && o.status !== "open" && o.updated_at === old.updated_at) o.local_status = old.local_status;
  state.orders.set(o.id, o);
  let li = state.els.get(o.id);
  if (!li) {
    li = makeCard(o);
    state.els.set(o.id, li);
    if (live && state.loaded) state.fresh.add(o.id);
  }
  li.classList.remove("gone");
  fill(li);
  if (o.route) {
    // Bins that became stops of a route are done on the route, not on cards of their own.
    const bins = new Set(o.route.stops.filter((s) => !s.done_at).map((s) => s.bin_id));
    state.orders.forEach((x) => {
      if (x.kind === "empty_bin" && bins.has(x.subject_id)) removeOrder(x.id, false);
    });
  }
}

// An order left this crew's view: the card goes, with a notice if it was open; a card with
// queued work stays (marked) so the crew sees what became of it.
function removeOrder(id, notify) {
  const li = state.els.get(id);
  const o = state.orders.get(id);
  state.orders.delete(id);
  state.fresh.delete(id);
  state.details.delete(id);
  if (!li) return;
  const pending = queue().some((e) => e.order_id === id && e.state !== "sent");
  if (pending || state.undo.has(id)) {
    li.classList.add("gone");
    fillQueue(li, id);
    return;
  }
  if (notify && o && li.classList.contains("open")) showNotice(fmt("left", titleOf(o)));
  li.remove();
  state.els.delete(id);
  state.confirm.delete(id);
  scheduleArrange();
}

function dismiss(li) {
  const id = Number(li.dataset.orderId);
  writeJson(KEY.queue, queue().filter((e) => e.order_id !== id));
  if (!state.orders.has(id) || li.classList.contains("gone")) {
    li.remove(); state.els.delete(id); state.orders.delete(id); scheduleArrange();
  } else fill(li);
}

function showNotice(text) {
  const n = $("notice");
  n.textContent = text;
  n.hidden = false;
  clearTimeout(state.noticeTimer);
  state.noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
}

function toggle(li) {
  const open = !li.classList.contains("open");
  li.classList.toggle("open", open);
  li.querySelector(".head").setAttribute("aria-expanded", String(open));
  li.querySelector(".body").hidden = !open;
  if (open) {
    const o = state.orders.get(Number(li.dataset.orderId));
    if (o) { drawChart(li, o); loadDetail(li, o); }
  }
}

// Details (history with notes, photos) load when a card is opened; one request per order
// version, never two at once, the last few kept.
function loadDetail(li, o) {
  const key = `${o.id}:${o.updated_at}`;
  const kept = state.details.get(o.id);
  if (kept && kept.key === key) { showDetail(li, kept.d); return; }
  if (state.detailLoads.has(key)) return;
  state.detailLoads.set(key, api(`/api/v1/work-orders/${o.id}`).then((d) => {
    state.details.delete(o.id);
    state.details.set(o.id, { key, d });
    while (state.details.size > DETAILS_KEPT) state.details.delete(state.details.keys().next().value);
    if (li.isConnected) showDetail(li, d);
  }).catch(() => {}).finally(() => state.detailLoads.delete(key)));
}
function showDetail(li, d) {
  const box = li.querySelector(".detail");
  const notes = d.history.filter((h) => h.note && h.actor !== "rules");
  const list = document.createElement("ul");
  list.className = "history";
  notes.slice(-5).forEach((h) => {
    const item = document.createElement("li");
    item.textContent = `${when(h.at)} · ${h.actor.replace(/^[a-z]+:/, "")}: ${h.note}`;
    list.append(item);
  });
  const head = document.createElement("strong");
  head.textContent = t("notes");
  box.replaceChildren(...(notes.length ? [head, list] : []));
  d.photos.forEach(() => {});
}

// ---------------------------------------------------------------------------------------
// Loading and live updates
async function loadAll() {
  const q = new URLSearchParams();
  if (state.position) q.set("near", `${state.position.lat},${state.position.lon}`);
  const sw = navigator.serviceWorker;
  const controlled = !!(sw && sw.controller);
  const page = await api(`/api/v1/crew/orders${q.toString() ? "?" + q : ""}`);
  // The worker took control while this list was on its way (a slow first visit): it did
  // not see the list, so fetch it once more through the worker for the offline copy.
  if (!controlled && sw && sw.controller) setTimeout(() => loadAll().catch(() => {}), 0);
  const seen = new Set();
  state.centre = centreOf(page.items);
  page.items.forEach((o) => { seen.add(o.id); upsert(o, false); });
  [...state.orders.keys()].filter((id) => !seen.has(id)).forEach((id) => removeOrder(id, true));
  state.loaded = true;
  arrange();
}

function scheduleBatch() {
  if (state.batchTimer || state.fetching) return;
  state.batchTimer = setTimeout(runBatch, BATCH_MS);
}
async function runBatch() {
  state.batchTimer = null;
  if (!state.pending.size || state.fetching || !state.token) return;
  const ids = [...state.pending].slice(0, 200);
  ids.forEach((id) => state.pending.delete(id));
  state.fetching = true;
  try {
    const page = await api(`/api/v1/crew/orders?ids=${ids.join(",")}`);
    const back = new Set();
    page.items.forEach((o) => { back.add(o.id); upsert(o, true); });
    ids.filter((id) => !back.has(id)).forEach((id) => removeOrder(id, true));
    scheduleArrange();
  } catch (err) {
    ids.forEach((id) => state.pending.add(id));  // try again with the next batch
  } finally {
    state.fetching = false;
    if (state.pending.size) scheduleBatch();
  }
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
  if (event === "removed") { state.pending.delete(body.id); removeOrder(body.id, true); return; }
  if (event !== "order") return;
  const o = body.order;
  if (!ACTIVE.includes(o.status)) { state.pending.delete(o.id); removeOrder(o.id, o.resolved_by !== (state.me && state.me.actor)); return; }
  state.pending.add(o.id);
  scheduleBatch();
}

async function stream() {
  const me = state.token;
  while (state.token === me && state.token) {
    const ctrl = new AbortController();
    state.abort = ctrl;
    try {
      const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const res = await fetch("/api/v1/stream/work-orders", { headers, signal: ctrl.signal });
      if (res.status === 401) { signOut(t("badToken")); return; }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      setLive(true);
      if (!state.lastEventId || !state.loaded) await loadAll();
      flushQueue();
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
      if (!state.loaded) await loadAll().catch(() => {});  // the last list, from the worker
    }
    setLive(false);
    await sleep(3000);
  }
}

function setLive(on) {
  const e = $("live");
  e.hidden = !state.me;
  e.classList.toggle("on", on);
  e.classList.toggle("off", !on);
  e.textContent = on ? t("live") : t("offline");
}

// ---------------------------------------------------------------------------------------
// The queue of actions: kept across reloads, sent in order.
function readJson(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function writeJson(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
function queue() { return readJson(KEY.queue, []); }
function publicKey(id) { return `${id}:public`; }
function saveDraft(id, text) {
  const drafts = readJson(KEY.drafts, {});
  if (text) drafts[id] = text; else delete drafts[id];
  writeJson(KEY.drafts, drafts);
}

function db() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open("bauhof-crew", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("photos");
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
async function photoDo(mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const tx = d.transaction("photos", mode);
      const r = fn(tx.objectStore("photos"));
      tx.oncomplete = () => resolve(r && r.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally { d.close(); }
}

async function enqueue(entry) {
  const q = queue();
  entry.qid = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  entry.state = "waiting";
  if (entry.photo) {
    await photoDo("readwrite", (s) => s.put(entry.photo, entry.qid));
    entry.photo = true;
  }
  q.push(entry);
  writeJson(KEY.queue, q);
  const li = state.els.get(entry.order_id);
  if (li) fillQueue(li, entry.order_id);
  flushQueue();
}

function setEntry(qid, changes) {
  const q = queue();
  const e = q.find((x) => x.qid === qid);
  if (!e) return null;
  Object.assign(e, changes);
  writeJson(KEY.queue, q);
  const li = state.els.get(e.order_id);
  if (li) fillQueue(li, e.order_id);
  return e;
}

async function send(e) {
  if (e.action === "start") {
    return api(`/api/v1/work-orders/${e.order_id}/start`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(e.note ? { note: e.note } : {}) });
  }
  if (e.action === "stop") {
    return api(`/api/v1/work-orders/${e.order_id}/stops/${e.seq}/done`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: "{}" });
  }
  const form = new FormData();
  if (e.note) form.append("note", e.note);
  if (e.public_note) form.append("public_note", e.public_note);
  if (e.photo) {
    const blob = await photoDo("readonly", (s) => s.get(e.qid));
    if (blob) form.append("photo", blob, blob.name || "photo");
  }
  return api(`/api/v1/work-orders/${e.order_id}/done`, { method: "POST", body: form });
}

async function flushQueue() {
  if (state.flushing || !state.token) return;
  state.flushing = true;
  try {
    for (;;) {
      const e = queue().find((x) => x.state === "waiting");
      if (!e) break;
      const blocked = queue().some((x) => x.order_id === e.order_id && x.state === "refused" && x.qid < e.qid);
      if (blocked) { setEntry(e.qid, { state: "refused", error: T().errors["not-found"] }); continue; }
      setEntry(e.qid, { state: "sending" });
      try {
        const updated = await send(e);
        setEntry(e.qid, { state: "sent", sent_at: Date.now() });
        if (e.photo) photoDo("readwrite", (s) => s.delete(e.qid)).catch(() => {});
        if (e.action === "done" || (updated && !ACTIVE.includes(updated.status))) {
          saveDraft(e.order_id, "");
          saveDraft(publicKey(e.order_id), "");
          finishSent(e.order_id);
        } else {
          state.pending.add(e.order_id);
          scheduleBatch();
        }
      } catch (err) {
        if (err.status === 0 || err.slug === "busy") { setEntry(e.qid, { state: "waiting" }); break; }
        setEntry(e.qid, { state: "refused", error: message(err) });
        if (err.status === 401) break;
      }
    }
  } finally {
    state.flushing = false;
  }
  pruneSent();
}

function finishSent(id) {
  // The order is closed on the server: the card goes after the crew saw "sent".
  setTimeout(() => {
    writeJson(KEY.queue, queue().filter((x) => !(x.order_id === id && x.state === "sent")));
    const o = state.orders.get(id);
    if (!o || !ACTIVE.includes(o.status) || o.local_status === "done") {
      const li = state.els.get(id);
      if (li && !queue().some((x) => x.order_id === id)) { li.remove(); state.els.delete(id); state.orders.delete(id); scheduleArrange(); }
    }
  }, 1500);
  const o = state.orders.get(id);
  if (o) o.local_status = "done";
}

function pruneSent() {
  const q = queue();
  const keep = q.filter((x) => x.state !== "sent" || Date.now() - x.sent_at < 10000);
  if (keep.length !== q.length) writeJson(KEY.queue, keep);
  setTimeout(() => state.els.forEach((li, id) => fillQueue(li, id)), 10500);
}

// ---------------------------------------------------------------------------------------
// Actions
function start(li) {
  const id = Number(li.dataset.orderId);
  const o = state.orders.get(id);
  if (!o) return;
  const note = li.querySelector(".note").value.trim();
  o.status = "in_progress";  // shown at once; the server's answer follows
  if (state.me && state.me.crew) o.assignee = state.me.crew;
  fill(li);
  scheduleArrange();
  enqueue({ order_id: id, action: "start", note });
  // The note stays in the field: it is sent with the start and again with done.
}

function finish(li) {
  const id = Number(li.dataset.orderId);
  const o = state.orders.get(id);
  if (!o) return;
  const doneB = li.querySelector(".done");
  if (o.status !== "in_progress" && !state.confirm.has(id)) {
    state.confirm.add(id);
    doneB.textContent = t("confirmDone");
    doneB.classList.add("confirm");
    return;
  }
  state.confirm.delete(id);
  doneB.classList.remove("confirm");
  doneB.textContent = t("done");
  const note = li.querySelector(".note").value.trim();
  const photo = li.querySelector(".photo").files[0] || null;
  // Only an order with citizens' reports offers the reply; what was typed before it lost
  // them (the reports were closed elsewhere) is not sent.
  const reply = o.citizen_reports > 0 ? li.querySelector(".public-note").value.trim() : "";
  later(li, id, () => enqueue({ order_id: id, action: "done", note, photo, public_note: reply }));
}

function stopDone(li, seq) {
  const id = Number(li.dataset.orderId);
  const o = state.orders.get(id);
  if (!o || !o.route) return;
  const s = o.route.stops.find((x) => x.seq === seq);
  later(li, id, () => {
    if (s) s.done_at = new Date().toISOString();
    fill(li);
    enqueue({ order_id: id, action: "stop", seq });
  });
}

// Wait a few seconds with an undo before anything is sent.
function later(li, id, go) {
  const bar = li.querySelector(".undo");
  const text = li.querySelector(".undo-text");
  let left = Math.round(UNDO_MS / 1000);
  text.textContent = fmt("undoText", left);
  bar.hidden = false;
  const tick = setInterval(() => { left -= 1; text.textContent = fmt("undoText", Math.max(left, 0)); }, 1000);
  const timer = setTimeout(() => {
    clearInterval(tick);
    state.undo.delete(id);
    bar.hidden = true;
    go();
    fillQueue(li, id);
  }, UNDO_MS);
  state.undo.set(id, { timer, tick });
  fillQueue(li, id);
}
function undo(li) {
  const id = Number(li.dataset.orderId);
  const u = state.undo.get(id);
  if (!u) return;
  clearTimeout(u.timer); clearInterval(u.tick);
  state.undo.delete(id);
  li.querySelector(".undo").hidden = true;
  fillQueue(li, id);
  if (!state.orders.has(id)) removeOrder(id, false);
}

// ---------------------------------------------------------------------------------------
// Accounts
// Without `keepCaches` every cached order and photo goes; a page opened signed out only shows
// the form (clearing then would race the worker filling its caches at install).
async function signOut(msg, keepCaches = false) {
  if (state.abort) state.abort.abort();
  state.token = ""; state.me = null; state.loaded = false; state.lastEventId = null;
  state.undo.forEach((u) => { clearTimeout(u.timer); clearInterval(u.tick); });
  state.undo.clear(); state.orders.clear(); state.els.clear(); state.details.clear();
  state.pending.clear(); state.fresh.clear(); state.confirm.clear();
  $("mine").replaceChildren(); $("pool").replaceChildren();
  Object.keys(localStorage).filter((k) => k.startsWith("bauhof.") && k !== KEY.lang)
    .forEach((k) => localStorage.removeItem(k));
  sessionStorage.clear();
  $("work").hidden = true; $("signout").hidden = true; $("who").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = msg || "";
  setLive(false);
  if (keepCaches) return;
  // Every cached order and photo: the worker's caches and the photo store.
  const jobs = [new Promise((resolve) => {
    const r = indexedDB.deleteDatabase("bauhof-crew");
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  })];
  if (window.caches) jobs.push(caches.keys().then((keys) => Promise.all(keys.map((k) => caches.delete(k)))));
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("clear");
  await Promise.all(jobs).catch(() => {});
  document.body.dataset.signedOut = "1";
}

function showWho() {
  const w = $("who");
  w.hidden = !state.me;
  if (state.me) w.textContent = `${state.me.name} · ${T().roles[state.me.role] || state.me.role}`;
}

async function signedIn() {
  delete document.body.dataset.signedOut;
  $("signin").hidden = true; $("work").hidden = false; $("signout").hidden = false;
  showWho();
  setLive(false);
  clearInterval(state.refreshTimer);
  state.refreshTimer = setInterval(() => { if (state.loaded) loadAll().catch(() => {}); }, REFRESH_MS);
  stream();
}

async function whoAmI() {
  const me = await api("/api/v1/me");
  if (!["crew", "admin"].includes(me.role)) throw new ApiError(403, "planner-token", t("planner"));
  return me;
}

function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.watchPosition((p) => {
    state.position = { lat: p.coords.latitude, lon: p.coords.longitude };
    state.els.forEach((li) => fill(li));
    scheduleArrange();
  }, () => {}, { enableHighAccuracy: false, maximumAge: 60000 });
}

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((e) => {
    const value = t(e.dataset.i18n);
    if (typeof value === "string") e.textContent = value;
  });
  $("lang").textContent = state.lang === "de" ? "EN" : "DE";
  const kind = $("kind");
  const kinds = T().kinds;
  kind.replaceChildren(...[["", t("all")], ...Object.entries(kinds)].map(([v, label]) => {
    const opt = document.createElement("option");
    opt.value = v; opt.textContent = label; opt.selected = v === state.kind;
    return opt;
  }));
  setLive($("live").classList.contains("on"));
  showWho();
  state.els.forEach((li) => fill(li));
  applyFilter();
}

document.addEventListener("DOMContentLoaded", async () => {
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/crew/sw.js", { scope: "/crew/" }).catch(() => {});
    // On the first visit the list was fetched before the worker took control: fetch it once
    // more through the worker, so the offline copy exists from the first visit on.
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (state.token && state.loaded) loadAll().catch(() => {});
    });
  }
  // Offline, the service worker answers with the texts it keeps with the app shell.
  TEXT = await (await fetch("texts.json")).json();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem(KEY.lang, state.lang);
    applyLang();
  });
  $("kind").addEventListener("change", () => { state.kind = $("kind").value; applyFilter(); });
  $("search").addEventListener("input", () => { state.search = $("search").value.trim().toLowerCase(); applyFilter(); });
  $("signout").addEventListener("click", () => signOut(""));
  $("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    try {
      state.me = await whoAmI();
      localStorage.setItem(KEY.token, state.token);
      localStorage.setItem("bauhof.crew.me", JSON.stringify(state.me));
      $("token").value = "";
      $("signin-error").textContent = "";
      signedIn();
    } catch (err) {
      state.token = ""; state.me = null;
      $("signin-error").textContent = err.slug === "planner-token" ? t("planner")
        : err.status === 401 ? t("badToken") : message(err);
    }
  });
  window.addEventListener("online", () => flushQueue());
  setInterval(() => { if (navigator.onLine) flushQueue(); }, 5000);
  applyLang();
  locate();
  if (state.token) {
    state.me = readJson("bauhof.crew.me", null);
    try { state.me = await whoAmI(); localStorage.setItem("bauhof.crew.me", JSON.stringify(state.me)); }
    catch (err) { if (err.status !== 0 || !state.me) { signOut(err.slug === "planner-token" ? t("planner") : ""); return; } }
    signedIn();
  } else signOut("", true);
});
