// The page a sponsor's mail link opens: it says what the link does and acts only when the
// sponsor presses the button (mail scanners that open links do not act on their own).
"use strict";

const TEXT = {
  de: {
    title: "Mach' Herrenberg grün!", portal: "Zur Karte der Grünflächen", lang: "English",
    what: { confirm: "Bitte bestätigen Sie Ihre Anfrage für eine Patenschaft.",
            watered: "Sie haben Ihre Fläche gegossen? Danke! Sagen Sie es uns:",
            cannot: "Sie können diesmal nicht gießen? Dann übernimmt der Bauhof sofort.",
            end: "Möchten Sie Ihre Patenschaft beenden?",
            stop_mail: "Möchten Sie keine E-Mails mehr von uns bekommen?" },
    button: { confirm: "Anfrage bestätigen", watered: "Ich habe gegossen",
              cannot: "Ich kann diesmal nicht", end: "Patenschaft beenden",
              stop_mail: "Keine E-Mails mehr" },
    done: { confirm: "Danke! Ihre Anfrage ist bestätigt; der Bauhof meldet sich bei Ihnen.",
            watered: "Danke fürs Gießen! Wir haben es notiert.",
            cannot: "Kein Problem – der Bauhof gießt diesmal.",
            end: "Ihre Patenschaft ist beendet. Danke für Ihre Hilfe!",
            stop_mail: "Sie bekommen keine E-Mails mehr." },
    bad: "Dieser Link ist ungültig. Bitte öffnen Sie ihn noch einmal aus der E-Mail.",
    failed: "Das hat nicht geklappt: ",
  },
  en: {
    title: "Make Herrenberg green!", portal: "To the map of green areas", lang: "Deutsch",
    what: { confirm: "Please confirm your inquiry for a sponsorship.",
            watered: "You have watered your area? Thank you! Let us know:",
            cannot: "You cannot water this time? The works depot takes over at once.",
            end: "Do you want to end your sponsorship?",
            stop_mail: "Do you want to get no more e-mails from us?" },
    button: { confirm: "Confirm inquiry", watered: "I have watered",
              cannot: "I cannot this time", end: "End sponsorship", stop_mail: "No more e-mails" },
    done: { confirm: "Thank you! Your inquiry is confirmed; the works depot will be in touch.",
            watered: "Thank you for watering! We have noted it.",
            cannot: "No problem – the works depot waters this time.",
            end: "Your sponsorship has ended. Thank you for your help!",
            stop_mail: "You will get no more e-mails." },
    bad: "This link is not valid. Please open it from the e-mail again.",
    failed: "That did not work: ",
  },
};
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("t") || "";
const state = { lang: localStorage.getItem("bauhof.portal.lang") || "de", action: null, done: false };
const t = (key) => TEXT[state.lang][key];

function actionOf(tok) {
  // The payload is readable (only its signature matters): it names the action to offer.
  try {
    const part = tok.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const action = JSON.parse(atob(part + "=".repeat((4 - part.length % 4) % 4))).a;
    return TEXT.de.button[action] ? action : null;
  } catch (err) {
    return null;
  }
}

function render() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang").textContent = t("lang");
  if (!state.action) { $("what").textContent = t("bad"); return; }
  $("what").textContent = t("what")[state.action];
  $("go").textContent = t("button")[state.action];
  $("go").hidden = state.done;
  if (state.done) { $("result").textContent = t("done")[state.action]; $("result").hidden = false; }
}

async function act() {
  $("go").disabled = true;
  $("error").textContent = "";
  try {
    const res = await fetch("/api/v1/public/sponsor-actions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || `HTTP ${res.status}`);
    state.done = true;
    render();
  } catch (err) {
    $("error").textContent = t("failed") + err.message;
  } finally {
    $("go").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  state.action = actionOf(token);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "de" ? "en" : "de";
    localStorage.setItem("bauhof.portal.lang", state.lang);
    render();
  });
  $("go").addEventListener("click", act);
  render();
});
