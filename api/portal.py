"""The portal pages: the public map and area pages, the mail-link page, the staff overview."""

from __future__ import annotations

from api.static import page_router

# Tiles from the configured origin; area photos from anywhere over https.
router = page_router("portal", ("index.html", "app.js", "app.css", "act.html", "act.js",
                                "staff.html", "staff.js"),
                     img_src="'self' data: https: {tiles}", what="portal")
