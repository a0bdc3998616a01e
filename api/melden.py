"""The citizens' report page `/melden/` and its status and opt-out pages (static files)."""

from __future__ import annotations

from api.static import Head, page_router


def head(title: str, script: str, *, shows_map: bool = False) -> Head:
    """A report page's head: the shared style sheet and translations, then its own script."""
    return Head(title, ("melden.css",), ("i18n.js", script), shows_map=shows_map)


router = page_router("melden", ("index.html", "status.html", "abmelden.html", "melden.js",
                                "status.js", "abmelden.js", "melden.css", "i18n.js",
                                "texts.json"),
                     img_src="'self' data: blob: {tiles}", what="report page", heads={
                         "index.html": head("Mängel melden \u2013 Bauhof", "melden.js",
                                            shows_map=True),
                         "status.html": head("Stand Ihrer Meldung \u2013 Bauhof", "status.js"),
                         "abmelden.html": head("Keine E-Mails mehr \u2013 Bauhof",
                                               "abmelden.js")})
