"""The planner settings page: static HTML, JavaScript and CSS served by the API (no build
step), opened from the Waste planning dashboard's link with the dashboard's variables in the
query (`/planner/?threshold=80&horizon=24`). It shows the settings in force beside the
proposed ones and saves them through `PUT /api/v1/routes/settings` with a planner token kept
in the browser's local storage."""

from __future__ import annotations

from api.static import page_router

PATH = "/planner/"
# No framing: the save button is not clickjackable from another site.
router = page_router("planner", ("index.html", "app.js", "app.css"), img_src="'self'",
                     what="planner page")
