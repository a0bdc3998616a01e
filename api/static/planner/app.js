// Bauhof's planners' workspace: preview a collection day on a map (routes per vehicle, stops
// in order, km and hours), adjust the settings and compare with the previous preview, plan
// (collection-route orders; re-planning a day updates its orders instead of adding more), and
// keep the settings' versions. German first, English second. The token is entered once and
// kept in this browser's local storage; it travels in the Authorization header only.
"use strict";

const KEY = "bauhof.planner.token";
const API = "/api/v1/routes";
const COLOURS = ["#0050b3", "#c41d7f", "#237804", "#d46b08", "#531dab", "#08979c", "#a8071a",
  "#614700"];
// The page's texts, German and English: data in texts.json, loaded before the page starts.
let TEXT = { de: {}, en: {} };

const $ = (id) => document.getElementById(id);
const state = {
  token: localStorage.getItem(KEY) || "", lang: localStorage.getItem("bauhof.lang") || "de",
  current: null, doc: null, previous: null, map: null, layers: null, grafana: "",
};
const t = (key) => TEXT[state.lang][key];
const fmt = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const num = (value, digits) => Number(value).toLocaleString(state.lang === "de" ? "de-DE" : "en-GB",
  { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (value, digits) => (value > 0 ? "+" : value < 0 ? "−" : "±") + num(Math.abs(value), digits);
const when = (iso, opts) => new Date(iso).toLocaleString(state.lang === "de" ? "de-DE" : "en-GB",
  Object.assign({ timeZone: "Europe/Berlin" }, opts || { dateStyle: "short", timeStyle: "short" }));
const clock = (iso) => when(iso, { hour: "2-digit", minute: "2-digit" });

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  if (options.body) headers["Content-Type"] = "application/json";
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = body && body.detail ? body.detail : `HTTP ${res.status}`;
    const fields = body && Array.isArray(body.errors)
      ? body.errors.map((e) => `${e.field}: ${e.message}`).join("; ") : "";
    throw new ApiError(res.status, fields ? `${detail} (${fields})` : detail);
  }
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  });
  document.title = t("title");
  $("lang").textContent = state.lang === "de" ? "EN" : "DE";
  renderWeekdays(currentWorkingDays());
  if (state.doc) render(state.doc, false);
  if (state.history) renderHistory(state.history);
}

// ---- settings form ----------------------------------------------------------------------

function currentWorkingDays() {
  const boxes = document.querySelectorAll("#weekdays input");
  if (!boxes.length) return state.current ? state.current.settings.working_days : [0, 1, 2, 3, 4];
  return [...boxes].filter((b) => b.checked).map((b) => Number(b.value));
}

function renderWeekdays(days) {
  const holder = $("weekdays");
  holder.replaceChildren();
  t("weekdays").forEach((name, index) => {
    const box = el("input", { type: "checkbox", value: String(index), "data-testid": `weekday-${index}` });
    box.checked = days.includes(index);
    holder.append(el("label", { class: "inline" }, box, ` ${name}`));
  });
}

const list = (text) => text.split(",").map((s) => s.trim()).filter((s) => s);

function fillForm(settings, fleet) {
  $("threshold").value = settings.fill_threshold_pct ?? "";
  $("horizon").value = settings.horizon_h;
  const used = (fleet || []).filter((v) => v.used);
  $("vehicles").value = used.length || "";
  $("vehicles").max = String((fleet || []).length || 1);
  $("capacity").value = used.length ? used[0].capacity_l : "";
  $("shift").value = settings.shift_h;
  $("depot").value = settings.depot ? `${settings.depot.latitude}, ${settings.depot.longitude}` : "";
  $("holidays").value = (settings.holidays || []).join(", ");
  $("always").value = (settings.always || []).join(", ");
  $("never").value = (settings.never || []).join(", ");
  renderWeekdays(settings.working_days);
}

/** The settings the form asks for that differ from those in force (what preview, plan and
 *  save send). */
function changes() {
  const cur = state.current.settings;
  const out = {};
  const threshold = $("threshold").value.trim();
  const wanted = threshold === "" ? null : Number(threshold);
  if (wanted !== cur.fill_threshold_pct) out.fill_threshold_pct = wanted;
  const horizon = Number($("horizon").value);
  if ($("horizon").value.trim() !== "" && horizon !== cur.horizon_h) out.horizon_h = horizon;
  const shift = Number($("shift").value);
  if ($("shift").value.trim() !== "" && shift !== cur.shift_h) out.shift_h = shift;
  const depot = $("depot").value.trim();
  const curDepot = cur.depot ? `${cur.depot.latitude}, ${cur.depot.longitude}` : "";
  if (depot !== curDepot) {
    const parts = depot.split(/[,;\s]+/).filter((s) => s).map(Number);
    out.depot = depot === "" ? null : { latitude: parts[0], longitude: parts[1] };
  }
  for (const field of ["holidays", "always", "never"]) {
    const value = list($(field).value);
    if (JSON.stringify(value) !== JSON.stringify(cur[field] || [])) out[field] = value;
  }
  const days = currentWorkingDays();
  if (JSON.stringify(days) !== JSON.stringify(cur.working_days)) out.working_days = days;
  // Vehicles: the first N trucks, each with the capacity given (and the shift length).
  const fleet = (state.doc && state.doc.fleet) || state.fleet || [];
  const count = Number($("vehicles").value);
  const capacity = Number($("capacity").value);
  const usedNow = fleet.filter((v) => v.used);
  const sameCount = count === usedNow.length;
  const sameCapacity = !usedNow.length || capacity === usedNow[0].capacity_l;
  if (fleet.length && count > 0 && (!sameCount || !sameCapacity)) {
    out.vehicles = fleet.slice(0, count).map((v) => ({
      id: v.id, capacity_l: capacity > 0 ? capacity : v.capacity_l }));
  }
  return out;
}

// ---- map --------------------------------------------------------------------------------

async function ensureMap() {
  if (state.map) return;
  const made = await BauhofMap.create($("map"), { preferCanvas: false, zoomControl: true });
  state.map = made.map;
  state.layers = L.layerGroup().addTo(state.map);
  state.map.on("zoomend", labelsByZoom);
}

function labelsByZoom() {
  $("map").classList.toggle("labels", state.map.getZoom() >= 15);
}

function drawMap(doc) {
  const layers = state.layers;
  layers.clearLayers();
  const depot = [doc.depot.latitude, doc.depot.longitude];
  // The view first: Leaflet draws a layer (and makes its element) only on a map with a view.
  const bounds = [depot].concat(...doc.routes.map((r) => r.stop_list.map((s) => [s.latitude, s.longitude])));
  if (bounds.length > 1) state.map.fitBounds(bounds, { padding: [20, 20] });
  else state.map.setView(depot, 14);
  // Bins left out: small grey dots with their street address on hover.
  for (const b of doc.left_out) {
    const dot = L.circleMarker([b.latitude, b.longitude], { radius: 3, color: "#7a7a7a",
      weight: 1, fillColor: "#bfbfbf", fillOpacity: 0.9 }).addTo(layers);
    dot.bindTooltip(`${b.name} (${b.bin_id}): ${reason(b.reason)}`);
    dot.on("click", () => showBin(b.bin_id, null));
  }
  doc.routes.forEach((route, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = [depot].concat(route.stop_list.map((s) => [s.latitude, s.longitude]), [depot]);
    const line = L.polyline(points, { color: colour, weight: 4, opacity: 0.85 }).addTo(layers);
    const path = line.getElement();
    path.setAttribute("data-testid", "route");
    path.setAttribute("data-route", String(route.route_no));
    route.stop_list.forEach((s) => {
      const marker = L.circleMarker([s.latitude, s.longitude], {
        radius: 8, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1 }).addTo(layers);
      marker.getElement().setAttribute("data-testid", "stop-marker");
      marker.bindTooltip(`${s.seq} · ${s.name}`, { permanent: true, direction: "right",
        className: "street", offset: [8, 0] });
      marker.on("click", () => showBin(s.bin_id, s));
    });
  });
  L.circleMarker(depot, { radius: 9, color: "#000", weight: 3, fillColor: "#ffd666", fillOpacity: 1 })
    .bindTooltip(t("depotLabel"), { permanent: true, direction: "left", className: "street depot" })
    .addTo(layers);
  labelsByZoom();
}

// ---- rendering --------------------------------------------------------------------------

function renderWarnings(doc) {
  const holder = $("warnings");
  holder.replaceChildren();
  for (const w of doc.warnings) {
    holder.append(el("li", { "data-testid": "warning", "data-code": w.code,
      text: state.lang === "de" ? w.message_de : w.message }));
  }
}

function renderDiff(doc, previous) {
  if (!previous) { $("diff").textContent = ""; return; }
  // Both totals have two decimals: their difference too (rounded against float noise).
  const km = Math.round((doc.km - previous.km) * 100) / 100;
  const bins = doc.bins_planned - previous.bins_planned;
  const ov = doc.overflows_expected - previous.overflows_expected;
  $("diff").textContent = Math.abs(km) < 0.005 && bins === 0 && ov === 0 ? t("noDiff")
    : fmt("diff", { km: signed(km, 2), bins: signed(bins, 0), ov: signed(ov, 0) });
}

function reason(code) { return t("reasons")[code] || code; }

function fillText(item) {
  return `${num(item.expected_fill_pct, 0)} %${item.capped ? " " + t("capped") : ""}`;
}

function render(doc, fresh) {
  $("totals").hidden = false;
  $("km").textContent = num(doc.km, 1);
  $("hours").textContent = num(doc.duration_h, 1);
  $("bins").textContent = `${doc.bins_planned}/${doc.bins_selected}`;
  $("overflows").textContent = String(doc.overflows_expected);
  renderWarnings(doc);
  if (fresh) renderDiff(doc, state.previous);
  const legend = $("legend");
  legend.replaceChildren();
  const stops = $("stops");
  stops.replaceChildren();
  doc.routes.forEach((route, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = colour;
    legend.append(el("li", { "data-testid": "route-summary" }, swatch, fmt("routeLine", {
      v: route.vehicle_id, s: route.stops, km: num(route.km, 1), h: num(route.duration_h, 1) })));
    const head = el("tr", { class: "routehead" }, el("th", { colspan: "5" }, swatch.cloneNode(),
      `${fmt("route", { n: route.route_no })} – ${route.vehicle_id}: ${num(route.km, 1)} km, ${num(route.duration_h, 1)} h`));
    stops.append(head);
    for (const s of route.stop_list) {
      const row = el("tr", { "data-testid": "stop", "data-bin": s.bin_id, tabindex: "0" },
        el("td", { text: String(s.seq) }),
        el("td", {}, el("strong", { text: s.name }), el("br"), el("small", { text: s.bin_id })),
        el("td", { text: reason(s.reason) }),
        el("td", { text: fillText(s) }),
        el("td", { text: clock(s.eta) }));
      row.addEventListener("click", () => showBin(s.bin_id, s));
      row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") showBin(s.bin_id, s); });
      stops.append(row);
    }
  });
  const selected = $("selected");
  selected.replaceChildren(...doc.selected.map((b) => el("tr", { "data-testid": "selected-bin" },
    el("td", { text: `${b.name} (${b.bin_id})` }), el("td", { text: reason(b.reason) + (b.planned ? "" : ` – ${reason("no_room")}`) }),
    el("td", { text: `${num(b.fill_now_pct, 0)} %` }), el("td", { text: fillText(b) }))));
  const left = $("left-out");
  left.replaceChildren(...doc.left_out.map((b) => el("tr", { "data-testid": "left-out-bin" },
    el("td", { text: `${b.name} (${b.bin_id})` }), el("td", { text: reason(b.reason) }),
    el("td", { text: b.fill_now_pct === null ? "–" : `${num(b.fill_now_pct, 0)} %` }),
    el("td", { text: b.next_collection_fill_pct === null ? "–" : `${num(b.next_collection_fill_pct, 0)} %` }))));
  drawMap(doc);
  const dash = dashboardUrl(doc.plan_date, null);
  $("dashboard").hidden = !dash;
  if (dash) $("dashboard").href = dash;
}

function dashboardUrl(day, binId) {
  if (!state.grafana) return "";
  // The week before the day and the day itself (whole UTC days: Grafana shows them in the
  // browser's zone anyway).
  const from = Date.parse(`${day}T00:00:00Z`) - 7 * 86400000;
  const to = Date.parse(`${day}T23:59:59Z`);
  const params = new URLSearchParams({ from: String(from), to: String(to) });
  const th = state.current && state.current.settings.fill_threshold_pct;
  if (th) params.set("var-threshold", String(th));
  if (binId) { params.set("var-bin", binId); params.set("viewPanel", String(state.binPanel)); }
  return `${state.grafana}?${params}`;
}

// ---- bin detail: its fill curve (SVG with axes) and forecast ------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function chart(detail, stop) {
  const W = 640, H = 240, L0 = 44, R0 = 12, T0 = 12, B0 = 30;
  const points = detail.readings.map(([ts, v]) => [Date.parse(ts), v]);
  const f = detail.forecast;
  const forecast = [];
  let end = points.length ? points[points.length - 1][0] : Date.now();
  if (f) {
    const start = Date.parse(f.as_of);
    const until = stop ? Date.parse(stop.eta) + 24 * 3600000 : start + 48 * 3600000;
    for (let h = 0; h < f.curve.length && start + h * 3600000 <= until; h++) {
      forecast.push([start + h * 3600000, f.curve[h]]);
    }
    if (forecast.length) end = forecast[forecast.length - 1][0];
  }
  const begin = points.length ? points[0][0] : (forecast.length ? forecast[0][0] : end - 3600000);
  const x = (ms) => L0 + (W - L0 - R0) * (ms - begin) / Math.max(1, end - begin);
  const y = (v) => T0 + (H - T0 - B0) * (1 - v / 100);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "fillchart" });
  for (const v of [0, 25, 50, 75, 100]) {
    root.append(svg("line", { x1: L0, x2: W - R0, y1: y(v), y2: y(v), class: "grid" }));
    root.append(svg("text", { x: L0 - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, `${v} %`));
  }
  const days = 24 * 3600000;
  const firstTick = Math.ceil(begin / (6 * 3600000)) * 6 * 3600000;
  const step = end - begin > 4 * days ? 24 * 3600000 : 12 * 3600000;
  for (let ms = firstTick; ms <= end; ms += step) {
    root.append(svg("line", { x1: x(ms), x2: x(ms), y1: T0, y2: H - B0, class: "grid" }));
    root.append(svg("text", { x: x(ms), y: H - B0 + 16, "text-anchor": "middle", class: "axis" },
      when(new Date(ms).toISOString(), { weekday: "short", hour: "2-digit" })));
  }
  root.append(svg("line", { x1: L0, x2: L0, y1: T0, y2: H - B0, class: "axisline" }));
  root.append(svg("line", { x1: L0, x2: W - R0, y1: H - B0, y2: H - B0, class: "axisline" }));
  const threshold = (detail.bin.fill_threshold_pct ?? (f && f.threshold_pct)) || null;
  if (threshold) {
    root.append(svg("line", { x1: L0, x2: W - R0, y1: y(threshold), y2: y(threshold), class: "threshold" }));
  }
  const path = (pts) => pts.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
  if (points.length) root.append(svg("path", { d: path(points), class: "readings", "data-testid": "chart-readings" }));
  if (forecast.length) root.append(svg("path", { d: path(forecast), class: "forecast", "data-testid": "chart-forecast" }));
  if (f) {
    const now = Date.parse(f.as_of);
    root.append(svg("line", { x1: x(now), x2: x(now), y1: T0, y2: H - B0, class: "now" }));
    root.append(svg("text", { x: x(now) + 3, y: T0 + 10, class: "axis" }, t("chartNow")));
  }
  if (stop) {
    const eta = Date.parse(stop.eta);
    root.append(svg("circle", { cx: x(eta), cy: y(stop.expected_fill_pct), r: 5, class: "stopdot" }));
    root.append(svg("text", { x: x(eta) + 7, y: y(stop.expected_fill_pct) + 4, class: "axis" }, t("chartStop")));
  }
  return root;
}

async function showBin(binId, stop) {
  try {
    const detail = await api(`${API}/bins/${encodeURIComponent(binId)}`);
    $("detail").hidden = false;
    $("detail-title").textContent = `${detail.bin.name || binId} (${binId})`;
    const f = detail.forecast;
    $("detail-facts").textContent = f ? fmt("factsNow", {
      f: num(f.fill_pct > 100 ? 100 : f.fill_pct, 0),
      t: num(f.threshold_pct, 0), r: num(f.rate_pct_h, 2),
      full: f.full_at ? when(f.full_at) : t("never_full") }) : "";
    $("detail-chart").replaceChildren(chart(detail, stop));
    const link = dashboardUrl(state.doc.plan_date, binId);
    $("detail-grafana").hidden = !link;
    if (link) $("detail-grafana").href = link;
  } catch (err) { fail(err); }
}

// ---- actions ----------------------------------------------------------------------------

function fail(err) {
  if (err instanceof ApiError && err.status === 401) { signOut(t("invalid")); return; }
  if (err instanceof ApiError && err.status === 403) { signOut(`${t("forbidden")} (${err.message})`); return; }
  $("error").textContent = err.message;
}

async function runPreview(ev) {
  if (ev) ev.preventDefault();
  $("error").textContent = "";
  $("busy").textContent = t("busyPreview");
  $("preview").disabled = true;
  try {
    await ensureMap();
    const doc = await api(`${API}/preview`, { method: "POST", body: JSON.stringify({
      date: $("day").value || null, settings: changes() }) });
    if (state.doc) state.previous = state.doc;
    state.doc = doc;
    state.fleet = doc.fleet;
    if (!$("day").value) $("day").value = doc.plan_date;
    // The vehicles are known once the first preview names them.
    if ($("vehicles").value === "") {
      const used = doc.fleet.filter((v) => v.used);
      $("vehicles").value = String(used.length);
      $("vehicles").max = String(doc.fleet.length);
      if (used.length) $("capacity").value = String(used[0].capacity_l);
    }
    render(doc, true);
    $("plan").disabled = false;
  } catch (err) { fail(err); } finally {
    $("busy").textContent = "";
    $("preview").disabled = false;
  }
}

async function runPlan() {
  $("error").textContent = "";
  $("plan-status").textContent = "";
  $("busy").textContent = t("busyPlan");
  $("plan").disabled = true;
  try {
    const doc = await api(`${API}/plans`, { method: "POST", body: JSON.stringify({
      date: $("day").value || null, settings: changes() }) });
    $("plan-status").textContent = fmt("planned", { r: doc.routes.length, b: doc.bins_planned,
      km: num(doc.km, 1), o: doc.routes.map((r) => `#${r.order_id}`).join(", ") });
  } catch (err) { fail(err); } finally {
    $("busy").textContent = "";
    $("plan").disabled = false;
  }
}

async function saveSettings() {
  $("error").textContent = "";
  const note = $("note").value.trim();
  try {
    const doc = await api(`${API}/settings${note ? `?note=${encodeURIComponent(note)}` : ""}`,
      { method: "PUT", body: JSON.stringify(changes()) });
    state.current = { version: doc.version, settings: doc.settings };
    $("plan-status").textContent = fmt("saved", { n: doc.version });
    $("note").value = "";
    await loadHistory();
  } catch (err) { fail(err); }
}

function renderHistory(versions) {
  $("history").replaceChildren(...versions.map((v) => {
    const button = el("button", { type: "button", class: "small", "data-testid": "restore",
      text: t("restore") });
    button.disabled = state.current && v.version === state.current.version;
    button.addEventListener("click", () => restore(v.version));
    return el("tr", { "data-testid": "version" }, el("td", { text: String(v.version) }),
      el("td", { text: when(v.created_at) }), el("td", { text: v.created_by }),
      el("td", { text: v.note || "" }), el("td", {}, button));
  }));
}

async function loadHistory() {
  const doc = await api(`${API}/settings/history`);
  state.history = doc.versions;
  renderHistory(doc.versions);
}

async function restore(version) {
  try {
    const doc = await api(`${API}/settings/restore/${version}`, { method: "POST" });
    state.current = { version: doc.version, settings: doc.settings };
    fillForm(doc.settings, state.fleet);
    $("plan-status").textContent = fmt("restored", { v: version, n: doc.version });
    await loadHistory();
  } catch (err) { fail(err); }
}

function signOut(message) {
  state.token = "";
  localStorage.removeItem(KEY);
  $("work").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("token").focus();
}

async function load() {
  $("signin").hidden = true;
  $("signin-error").textContent = "";
  try {
    const current = await api(`${API}/settings`);
    state.current = current;
    state.grafana = current.grafana_url || "";
    state.binPanel = current.grafana_bin_panel || 0;
    $("signout").hidden = false;
    $("work").hidden = false;
    fillForm(current.settings, null);
    await loadHistory();
  } catch (err) { fail(err); }
}

function start() {
  const query = new URLSearchParams(window.location.search);
  translate();
  if (query.get("date")) $("day").value = query.get("date");
  $("dayform").addEventListener("submit", runPreview);
  $("settings").addEventListener("submit", runPreview);
  $("plan").addEventListener("click", runPlan);
  $("save").addEventListener("click", saveSettings);
  $("signout").addEventListener("click", () => signOut(""));
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("bauhof.lang", state.lang);
    translate();
  });
  $("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    localStorage.setItem(KEY, state.token);
    $("token").value = "";
    await load();
    // Values the dashboard link carries override the form's (then preview at once).
    applyQuery(query);
  });
  if (state.token) load().then(() => applyQuery(query)); else signOut("");
}

function applyQuery(query) {
  if ($("work").hidden) return;
  if (query.get("threshold")) $("threshold").value = query.get("threshold");
  if (query.get("horizon")) $("horizon").value = query.get("horizon");
}

fetch("texts.json").then((res) => res.json()).then((texts) => {
  TEXT = texts;
  start();
});
