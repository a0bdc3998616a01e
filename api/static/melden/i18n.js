// Texts of the report pages in German (first) and English, the language switch, and times
// in Europe/Berlin. The choice is kept in this browser (local storage), nothing else is.
// The texts are data (texts.json, one table per language); the pages' own HTML carries the
// German ones, so a page reads the same before they arrive. A page's script starts with
// `I18n.start(fn)`: after the DOM and the texts are there.
"use strict";

let TEXTS = { de: {}, en: {} };
const TEXTS_LOADED = fetch("texts.json")
  .then((res) => (res.ok ? res.json() : null))
  .then((texts) => { if (texts) TEXTS = texts; })
  .catch(() => {});
const LANG_KEY = "bauhof.melden.lang";

const I18n = {
  lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "de",
  listeners: [],

  t(key, ...args) {
    const text = TEXTS[this.lang][key] || TEXTS.de[key] || key;
    return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
  },

  apply() {
    document.documentElement.lang = this.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = this.t(el.dataset.i18n);
    }
    const button = document.getElementById("lang");
    if (button) {
      button.textContent = this.t("switch");
      button.lang = this.lang === "de" ? "en" : "de";
    }
    for (const fn of this.listeners) fn();
  },

  onChange(fn) { this.listeners.push(fn); },

  start(fn) {
    document.addEventListener("DOMContentLoaded", () => { TEXTS_LOADED.then(fn); });
  },

  time(iso) {
    return new Intl.DateTimeFormat(this.lang === "en" ? "en-GB" : "de-DE", {
      timeZone: "Europe/Berlin", dateStyle: "medium", timeStyle: "short",
    }).format(new Date(iso));
  },
};

I18n.start(() => {
  const button = document.getElementById("lang");
  if (button) {
    button.addEventListener("click", () => {
      I18n.lang = I18n.lang === "de" ? "en" : "de";
      localStorage.setItem(LANG_KEY, I18n.lang);
      I18n.apply();
    });
  }
  I18n.apply();
});
