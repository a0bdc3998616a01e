"""The citizens' report page `/melden/` and its status and opt-out pages (static files)."""

from __future__ import annotations

from api.static import page_router

router = page_router("melden", ("index.html", "status.html", "abmelden.html", "melden.js",
                                "status.js", "abmelden.js", "melden.css", "i18n.js",
                                "texts.json"),
                     img_src="'self' data: blob: {tiles}", what="report page")
