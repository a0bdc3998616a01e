// "Mach' Herrenberg grün!": the public map of green areas (free, requested, sponsored), a list
// beside it with filters, each area's page with its state in words, and the inquiry form.
// No sign-in and no personal data: everything comes from GET /api/v1/public/green-areas.
"use strict";

// The page's texts, German and English: data in texts.json, loaded before it starts.
let TEXT = { de: {}, en: {} };
const COLOURS = { free: "#2e7d32", requested: "#e65100", sponsored: "#1565c0" };
const $ = (id) => document.getElementById(id);
const state = { lang: localStorage.getItem("bauhof.portal.lang") || "de", areas: [],
                map: null, layers: new Map(), current: null };
const t = (key) => TEXT[state.lang][key];
const fmt = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const when = (iso) => new Intl.DateTimeFormat(state.lang === "de" ? "de-DE" : "en-GB",
  { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Berlin" }).format(new Date(iso));

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const value = t(el.dataset.i18n);
    if (typeof value === "string") el.textContent = value;
  });
  document.title = `${t("title")} – ${state.lang === "de" ? "Grünflächen-Patenschaften" : "green-area sponsorships"}`;
  $("lang").lang = state.lang === "de" ? "en" : "de";
  $("lang").textContent = t("lang");
  $("map").setAttribute("aria-label", t("map"));
  renderList();
  if (state.current) showArea(state.current, false);
}

function matches(p) {
  const status = $("f-status").value, plant = $("f-plant").value;
  const text = $("f-text").value.trim().toLowerCase();
  return (!status || p.status === status) && (!plant || p.plant_type === plant)
    && (!text || p.name.toLowerCase().includes(text));
}

function renderList() {
  const list = $("areas");
  list.replaceChildren();
  const shown = state.areas.filter((f) => matches(f.properties));
  for (const f of shown) {
    const p = f.properties;
    const li = document.createElement("li");
    li.dataset.testid = "area-item";
    li.dataset.areaId = p.id;
    li.dataset.status = p.status;
    const button = document.createElement("button");
    button.type = "button";
    const label = document.createElement("span");
    label.textContent = p.name;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = [t(p.plant_type) || p.plant_type, p.area_m2 ? fmt("sqm", { v: p.area_m2 }) : null,
                        t("moisture")[p.moisture]].filter(Boolean).join(" · ");
    label.append(meta);
    const badge = document.createElement("span");
    badge.className = `badge ${p.status}`;
    badge.textContent = t(p.status);
    button.append(label, badge);
    button.addEventListener("click", () => { location.hash = `area=${encodeURIComponent(p.id)}`; });
    li.append(button);
    list.append(li);
  }
  $("count").textContent = fmt(shown.length === state.areas.length ? "countAll" : "countSome",
    { n: shown.length, all: state.areas.length });
  for (const [id, layer] of state.layers) {
    const f = state.areas.find((a) => a.id === id);
    const visible = f && matches(f.properties);
    if (visible && !state.map.hasLayer(layer)) layer.addTo(state.map);
    if (!visible && state.map.hasLayer(layer)) layer.remove();
  }
}

function style(status) {
  return { color: COLOURS[status], fillColor: COLOURS[status], weight: 2, fillOpacity: 0.45,
           className: `area area-${status}` };
}

function drawAreas() {
  state.layers.forEach((layer) => layer.remove());
  state.layers.clear();
  const renderer = L.svg();  // SVG paths: each area is an element people (and tests) can click
  const bounds = [];
  for (const f of state.areas) {
    const p = f.properties;
    const options = Object.assign({ renderer }, style(p.status));
    options.className += ` area-id-${p.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    let layer;
    if (f.geometry.type === "Polygon") {
      layer = L.polygon(f.geometry.coordinates[0].map(([lon, lat]) => [lat, lon]), options);
    } else {
      layer = L.circleMarker([p.latitude, p.longitude], Object.assign({ radius: 10 }, options));
    }
    layer.bindTooltip(`${p.name} (${t(p.status)})`);
    layer.on("click", () => { location.hash = `area=${encodeURIComponent(p.id)}`; });
    state.layers.set(p.id, layer);
    bounds.push([p.latitude, p.longitude]);
  }
  if (bounds.length) state.map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  renderList();
}

function showArea(id, focus = true) {
  const f = state.areas.find((a) => a.id === id);
  if (!f) { closeArea(); return; }
  state.current = id;
  const p = f.properties;
  $("d-name").textContent = p.name;
  $("d-status").textContent = t(p.status);
  $("d-status").className = `badge ${p.status}`;
  $("d-size").textContent = p.area_m2 ? fmt("sqm", { v: p.area_m2 }) : "–";
  $("d-plants").textContent = t(p.plant_type) || p.plant_type;
  $("d-year").textContent = p.planting_year || "–";
  $("d-trees").textContent = p.trees.length ? p.trees.map((tr) =>
    tr.planting_year ? `${tr.species} (${tr.planting_year})` : tr.species).join(", ") : t("none");
  $("d-moisture").textContent = t("moisture")[p.moisture];
  $("d-watered").textContent = p.last_watered_at
    ? `${when(p.last_watered_at)} (${t("by")[p.last_watered_by]})` : t("never");
  $("d-sponsor").textContent = p.status !== "sponsored" ? t("nobody")
    : (p.sponsor_name || t("notShown"));
  $("d-photo").hidden = !p.photo_url;
  if (p.photo_url) $("d-photo").src = p.photo_url;
  $("inquiry").hidden = !p.takes_sponsors || !$("i-done").hidden;
  $("detail").hidden = false;
  document.body.classList.add("showing");
  if (focus) {
    $("detail").scrollIntoView({ block: "start" });
    const layer = state.layers.get(id);
    if (layer && layer.getBounds) state.map.fitBounds(layer.getBounds(), { maxZoom: 18 });
    else if (layer) state.map.setView(layer.getLatLng(), 17);
  }
}

function closeArea() {
  state.current = null;
  document.body.classList.remove("showing");
  $("detail").hidden = true;
  $("i-done").hidden = true;
  $("inquiry").reset();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function route() {
  const m = /^#area=(.+)$/.exec(location.hash);
  if (m) {
    $("i-done").hidden = true;
    $("i-error").textContent = "";
    showArea(decodeURIComponent(m[1]));
  } else {
    closeArea();
  }
}

async function submitInquiry(event) {
  event.preventDefault();
  const form = $("inquiry");
  const field = (name) => form.elements.namedItem(name);
  const body = { area_id: state.current, name: field("name").value.trim(),
                 email: field("email").value.trim(), accept_terms: field("accept_terms").checked,
                 lang: state.lang };
  for (const key of ["phone", "message", "display_name", "website"]) {
    const value = field(key).value.trim();
    if (value) body[key] = value;
  }
  if (!body.accept_terms) delete body.accept_terms;
  $("i-error").textContent = "";
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const res = await fetch("/api/v1/public/sponsorships", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (res.status === 202) {
      form.hidden = true;
      $("i-done").textContent = t("sent");
      $("i-done").hidden = false;
      form.reset();
      return;
    }
    const problem = await res.json().catch(() => ({}));
    if (res.status === 422 && problem.errors) {
      const names = problem.errors.map((e) => t("fieldNames")[e.field] || e.field);
      $("i-error").textContent = t("check") + [...new Set(names)].join(", ");
    } else if (res.status === 409) {
      $("i-error").textContent = t("taken");
    } else {
      $("i-error").textContent = t("failed") + (problem.detail || res.status);
    }
  } catch (err) {
    $("i-error").textContent = t("failed") + err.message;
  } finally {
    button.disabled = false;
  }
}

async function load() {
  try {
    const res = await fetch("/api/v1/public/green-areas");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    state.areas = (await res.json()).features;
    $("error").textContent = "";
  } catch (err) {
    $("error").textContent = t("failed") + err.message;
  }
  drawAreas();
  route();
}

async function start() {
  TEXT = await (await fetch("texts.json")).json();
  const { map } = await BauhofMap.create($("map"), { center: [48.5955, 8.8705], zoom: 14 });
  state.map = map;
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("bauhof.portal.lang", state.lang);
    applyLang();
  });
  for (const id of ["f-status", "f-plant", "f-text"]) $(id).addEventListener("input", renderList);
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("close").addEventListener("click", () => { closeArea(); $("map").scrollIntoView(); });
  $("inquiry").addEventListener("submit", submitInquiry);
  window.addEventListener("hashchange", route);
  applyLang();
  await load();
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", start);
