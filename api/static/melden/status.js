// A report's status page (status.html?t=<token> or ?id=<number>): the steps in words, as
// GET /api/v1/public/reports/{key} tells them; refreshed every 30 s and on demand.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const key = params.get("t") || params.get("id") || "";
let report = null;

function render() {
  if (!report) return;
  const lang = I18n.lang;
  $("report").hidden = false;
  $("number").textContent = I18n.t("number", report.service_request_id);
  $("service").textContent = report.service_name[lang] || report.service_name.de;
  $("place").textContent = report.place;
  const last = report.steps[report.steps.length - 1];
  $("state").textContent = `${I18n.t(report.status)}: ${last.title[lang]}`;
  $("description").textContent = report.description || "–";
  $("description").hidden = !report.description;
  const photo = $("photo");
  photo.hidden = !report.media_url;
  if (report.media_url && photo.getAttribute("src") !== report.media_url) {
    photo.src = report.media_url;
  }
  $("me-too").textContent = String(report.me_too);
  const list = $("steps");
  list.replaceChildren();
  for (const step of report.steps) {
    const item = document.createElement("li");
    item.dataset.testid = "step";
    item.dataset.step = step.step;
    const title = document.createElement("strong");
    title.textContent = step.title[lang];
    const time = document.createElement("time");
    time.dateTime = step.at;
    time.textContent = I18n.time(step.at);
    item.append(title, time);
    if (step.note[lang]) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = step.note[lang];
      item.append(note);
    }
    list.append(item);
  }
}

async function load() {
  $("error").textContent = "";
  const res = await fetch(`/api/v1/public/reports/${encodeURIComponent(key)}`,
    { cache: "no-cache" }).catch(() => null);
  if (!res || !res.ok) {
    $("error").textContent = res && res.status === 404 ? I18n.t("not-found")
      : I18n.t("failed", res ? `HTTP ${res.status}` : "offline");
    return;
  }
  report = await res.json();
  render();
}

I18n.start(() => {
  I18n.onChange(render);
  $("refresh").addEventListener("click", load);
  if (!key) { $("error").textContent = I18n.t("not-found"); return; }
  load();
  setInterval(load, 30000);
});
