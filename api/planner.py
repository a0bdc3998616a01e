"""The planners' workspace page (/planner): static HTML, JavaScript and CSS served by the API
(no build step). A planner previews a collection day on a map (routes, stops, km, warnings),
adjusts the settings and sees the difference, plans (collection-route orders) and keeps the
settings' versions, all through /api/v1/routes with a planner token kept in the browser's
local storage. The Waste planning dashboard's links open it for the day and the variables
shown (`/planner/?date=2026-06-02&threshold=80&horizon=24`)."""

from __future__ import annotations

from api.static import Head, page_router

PATH = "/planner/"
# No framing: the plan button is not clickjackable from another site. Images: Leaflet's own
# from /vendor/ and the configured map tiles.
router = page_router("planner", ("index.html", "app.js", "app.css", "texts.json"),
                     img_src="'self' {tiles}", what="planner page",
                     heads={"index.html": Head("Bauhof \u2013 Tourenplanung", ("app.css",),
                                               ("app.js",), shows_map=True)})
