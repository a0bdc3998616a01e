"""The crew web app: static HTML, JavaScript and CSS served by the API (no build step)."""

from __future__ import annotations

from api.static import Head, page_router

# Images from here or inline (the evidence charts).
router = page_router("crew", ("index.html", "app.js", "app.css", "texts.json", "manifest.json",
                              "sw.js"),
                     img_src="'self' data: blob:", what="crew app",
                     heads={"index.html": Head("Bauhof \u2013 Aufträge", ("app.css",), ("app.js",),
                                               manifest="manifest.json", theme_color="#000000")})
