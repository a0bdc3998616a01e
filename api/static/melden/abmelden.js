// The opt-out page of a report's mails (abmelden.html?m=<token from the mail>): one button,
// so that mail scanners following links do not unsubscribe anyone.
"use strict";

I18n.start(() => {
  const token = new URLSearchParams(location.search).get("m") || "";
  const button = document.getElementById("optout");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const res = await fetch(`/api/v1/public/reports/unsubscribe?m=${encodeURIComponent(token)}`,
      { method: "POST" }).catch(() => null);
    if (res && res.ok) {
      document.getElementById("done").textContent = I18n.t("optout-done");
      button.hidden = true;
    } else {
      button.disabled = false;
      document.getElementById("error").textContent =
        I18n.t("failed", res ? `HTTP ${res.status}` : "offline");
    }
  });
});
