// Texts of the report pages in German (first) and English, the language switch, and times
// in Europe/Berlin. The choice is kept in this browser (local storage), nothing else is.
"use strict";

const TEXTS = {
  de: {
    title: "Mängel melden",
    intro: "Etwas ist kaputt, voll oder vertrocknet? Sagen Sie es dem Bauhof – ohne Anmeldung.",
    what: "1. Was ist los?", choose: "Bitte wählen …", where: "2. Wo?",
    "where-hint": "Tippen Sie auf die Karte, um die Stelle zu markieren, oder verwenden Sie Ihren Standort.",
    locate: "Meinen Standort verwenden", "no-pin": "Noch keine Stelle markiert.",
    pin: "Markiert: {0}", locating: "Standort wird bestimmt …",
    "no-location": "Ihr Standort ist nicht verfügbar; bitte tippen Sie auf die Karte.",
    nearby: "Schon gemeldet in der Nähe", "nearby-hint": "Ist es dasselbe? Dann genügt „Ich auch“.",
    "me-too": "Ich auch", "me-too-done": "Danke – mitgezählt.", away: "{0} m entfernt",
    describe: "3. Beschreibung", photo: "4. Foto (freiwillig)",
    "photo-hint": "Das Foto wird verkleinert; Standort- und Kameradaten werden entfernt.",
    mail: "5. E-Mail (freiwillig)",
    consent: "Ich möchte zu jedem Schritt eine E-Mail erhalten. Die Adresse sieht nur die Verwaltung; jede E-Mail enthält einen Abmeldelink.",
    send: "Meldung absenden", sending: "Wird gesendet …",
    "need-category": "Bitte wählen Sie, was los ist.",
    "need-pin": "Bitte markieren Sie die Stelle auf der Karte oder verwenden Sie Ihren Standort.",
    "need-consent": "Bitte bestätigen Sie, dass Sie E-Mails erhalten möchten – oder lassen Sie das Feld leer.",
    "status-title": "Stand Ihrer Meldung", number: "Meldung Nr. {0}", history: "Verlauf",
    open: "Offen", closed: "Abgeschlossen",
    "me-too-count": "Weitere Bürgerinnen und Bürger mit derselben Meldung:",
    refresh: "Aktualisieren", another: "Noch etwas melden", "not-found": "Diese Meldung gibt es nicht.",
    "optout-title": "Keine E-Mails mehr",
    "optout-text": "Sie erhalten dann keine E-Mails mehr zu dieser Meldung. Den Stand sehen Sie weiter auf der Statusseite.",
    optout: "Abmelden", "optout-done": "Erledigt: Sie erhalten keine E-Mails mehr zu dieser Meldung.",
    switch: "English", failed: "Das hat nicht geklappt: {0}",
  },
  en: {
    title: "Report a problem",
    intro: "Something broken, full or dried out? Tell the works depot – no sign-in needed.",
    what: "1. What is wrong?", choose: "Please choose …", where: "2. Where?",
    "where-hint": "Tap the map to mark the place, or use your position.",
    locate: "Use my position", "no-pin": "No place marked yet.",
    pin: "Marked: {0}", locating: "Finding your position …",
    "no-location": "Your position is not available; please tap the map.",
    nearby: "Already reported nearby", "nearby-hint": "Is it the same? Then “Me too” is enough.",
    "me-too": "Me too", "me-too-done": "Thank you – counted.", away: "{0} m away",
    describe: "3. Description", photo: "4. Photo (optional)",
    "photo-hint": "The photo is made smaller; location and camera data are removed.",
    mail: "5. E-mail (optional)",
    consent: "I would like an e-mail at every step. Only the administration sees the address; every e-mail has a link to stop them.",
    send: "Send report", sending: "Sending …",
    "need-category": "Please choose what is wrong.",
    "need-pin": "Please mark the place on the map or use your position.",
    "need-consent": "Please confirm that you want e-mails – or leave the field empty.",
    "status-title": "State of your report", number: "Report no. {0}", history: "History",
    open: "Open", closed: "Closed",
    "me-too-count": "Other citizens with the same report:",
    refresh: "Refresh", another: "Report something else", "not-found": "There is no such report.",
    "optout-title": "No more e-mails",
    "optout-text": "You will get no more e-mails about this report. The status page still shows its state.",
    optout: "Stop e-mails", "optout-done": "Done: you will get no more e-mails about this report.",
    switch: "Deutsch", failed: "That did not work: {0}",
  },
};
const LANG_KEY = "bauhof.melden.lang";

const I18n = {
  lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "de",
  listeners: [],

  t(key, ...args) {
    const text = (TEXTS[this.lang] && TEXTS[this.lang][key]) || TEXTS.de[key] || key;
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

  time(iso) {
    return new Intl.DateTimeFormat(this.lang === "en" ? "en-GB" : "de-DE", {
      timeZone: "Europe/Berlin", dateStyle: "medium", timeStyle: "short",
    }).format(new Date(iso));
  },
};

document.addEventListener("DOMContentLoaded", () => {
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
