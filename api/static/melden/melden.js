// The report page: category, a pin (tap on the map or the phone's position), nearby open
// reports with "me too", description, optional photo, optional e-mail with consent. It posts
// through Open311 (POST /open311/v2/requests.json, multipart with the photo as `media`) and
// then opens the report's status page. No sign-in, nothing kept in the browser but the
// language.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { form: null, map: null, pin: null, marker: null, nearbyLayer: null, nearby: [],
  located: false };

async function getJson(path, options) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const detail = Array.isArray(body) && body[0] ? body[0].description
      : (body && body.detail) || `HTTP ${res.status}`;
    throw new Error(detail);
  }
  return body;
}

function renderCategories() {
  const select = $("category");
  const chosen = select.value;
  for (const option of [...select.options].slice(1)) option.remove();
  for (const s of state.form ? state.form.services : []) {
    const option = document.createElement("option");
    option.value = s.service_code;
    option.textContent = s.name[I18n.lang] || s.name.de;
    select.append(option);
  }
  select.value = chosen;
}

function renderPin() {
  $("pin").textContent = state.pin
    ? I18n.t("pin", `${state.pin.lat.toFixed(5)}, ${state.pin.lng.toFixed(5)}`)
    : I18n.t("no-pin");
}

function renderNearby() {
  const list = $("nearby-list");
  list.replaceChildren();
  $("nearby-box").hidden = state.nearby.length === 0;
  for (const r of state.nearby) {
    const item = document.createElement("li");
    item.dataset.testid = "nearby-item";
    const text = document.createElement("span");
    const name = r.service_name[I18n.lang] || r.service_name.de;
    text.textContent = `${name} · ${r.place} · ${I18n.t("away", r.distance_m)}` +
      (r.description ? ` – „${r.description.slice(0, 80)}“` : "");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.dataset.testid = "me-too";
    button.textContent = r.counted ? I18n.t("me-too-done") : I18n.t("me-too");
    button.disabled = Boolean(r.counted);
    button.addEventListener("click", () => meToo(r, button));
    item.append(text, button);
    list.append(item);
  }
}

async function meToo(report, button) {
  button.disabled = true;
  try {
    await getJson(`/api/v1/public/reports/${report.service_request_id}/me-too`, { method: "POST" });
    report.counted = true;
    renderNearby();
  } catch (err) {
    button.disabled = false;
    $("error").textContent = I18n.t("failed", err.message);
  }
}

async function loadNearby() {
  if (!state.pin) return;
  const q = `lat=${state.pin.lat}&long=${state.pin.lng}`;
  try {
    state.nearby = await getJson(`/api/v1/public/reports/nearby?${q}`);
  } catch (err) {
    state.nearby = [];
  }
  renderNearby();
  state.nearbyLayer.clearLayers();
  for (const r of state.nearby) {
    L.circleMarker([r.lat, r.long], { radius: 7, color: "#b5830d", fillColor: "#f2c14e",
      fillOpacity: 0.9, weight: 2 }).addTo(state.nearbyLayer);
  }
}

function setPin(latlng) {
  state.pin = latlng;
  if (state.marker) state.marker.setLatLng(latlng);
  else {
    state.marker = L.circleMarker(latlng, { radius: 11, color: "#a4161a", fillColor: "#e63946",
      fillOpacity: 0.9, weight: 3 }).addTo(state.map);
  }
  $("map").dataset.pinned = "true";
  renderPin();
  loadNearby();
}

function locate() {
  if (!navigator.geolocation) {
    $("pin").textContent = I18n.t("no-location");
    return;
  }
  $("pin").textContent = I18n.t("locating");
  navigator.geolocation.getCurrentPosition((pos) => {
    const latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
    state.map.setView(latlng, 18);
    setPin(latlng);
  }, () => { $("pin").textContent = I18n.t("no-location"); },
  { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

async function submit(event) {
  event.preventDefault();
  const error = $("error");
  error.textContent = "";
  const code = $("category").value;
  const email = $("email").value.trim();
  if (!code) { error.textContent = I18n.t("need-category"); return; }
  if (!state.pin) { error.textContent = I18n.t("need-pin"); return; }
  if (email && !$("consent").checked) { error.textContent = I18n.t("need-consent"); return; }
  const body = new FormData();
  body.append("api_key", state.form.api_key);
  body.append("service_code", code);
  body.append("lat", state.pin.lat.toFixed(6));
  body.append("long", state.pin.lng.toFixed(6));
  const description = $("description").value.trim();
  if (description) body.append("description", description);
  if (email) body.append("email", email);
  const photo = $("photo").files[0];
  if (photo) body.append("media", photo, photo.name || "photo.jpg");
  const button = $("submit");
  button.disabled = true;
  button.textContent = I18n.t("sending");
  try {
    const created = await getJson("/open311/v2/requests.json", {
      method: "POST", body, headers: { "Accept-Language": I18n.lang },
    });
    location.assign(`status.html?id=${encodeURIComponent(created[0].service_request_id)}`);
  } catch (err) {
    error.textContent = I18n.t("failed", err.message);
    button.disabled = false;
    button.textContent = I18n.t("send");
  }
}

function showPreview() {
  const file = $("photo").files[0];
  const img = $("preview");
  if (img.src) URL.revokeObjectURL(img.src);
  img.hidden = !file;
  if (file) img.src = URL.createObjectURL(file);
}

async function start() {
  I18n.onChange(() => { renderCategories(); renderPin(); renderNearby(); });
  renderPin();
  try {
    state.form = await getJson("/api/v1/public/reports/form");
  } catch (err) {
    $("error").textContent = I18n.t("failed", err.message);
    return;
  }
  renderCategories();
  const center = state.form.center;
  const { map } = await BauhofMap.create($("map"), { zoomControl: true });
  state.map = map;
  // Bins and green areas with their names: a map without tiles still shows where one is.
  const landmarks = L.layerGroup().addTo(map);
  for (const m of state.form.landmarks) {
    L.circleMarker([m.lat, m.long], m.kind === "bin"
      ? { radius: 4, color: "#5b6652", weight: 1, fillColor: "#8c9782", fillOpacity: 0.8 }
      : { radius: 9, color: "#2f7d32", weight: 1, fillColor: "#7cc47f", fillOpacity: 0.5 })
      .bindTooltip(m.name).addTo(landmarks);
  }
  $("map").dataset.landmarks = String(state.form.landmarks.length);
  state.nearbyLayer = L.layerGroup().addTo(map);
  if (center) map.setView([center.lat, center.long], 16);
  else map.setView([51.163, 10.447], 6);
  map.on("click", (e) => setPin(e.latlng));
  $("map").dataset.ready = "true";
  $("locate").addEventListener("click", locate);
  $("photo").addEventListener("change", showPreview);
  $("report").addEventListener("submit", submit);
  // A corrected field clears the message that asked for it.
  $("report").addEventListener("change", () => { $("error").textContent = ""; });
}

I18n.start(start);
