"""The portal pages: the public map and area pages, the mail-link page, the staff overview."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from api.static import Head, page_router

router = APIRouter(include_in_schema=False)


# Before the pages' routes: `/portal/{file}` would answer this address with a 404.
@router.get("/portal/staff")
def staff() -> Response:
    """The staff page's short address."""
    return RedirectResponse("/portal/staff.html", status_code=308)


# Tiles from the configured origin; area photos from anywhere over https.
router.include_router(page_router(
    "portal", ("index.html", "app.js", "app.css", "texts.json", "act.html", "act.js",
               "staff.html", "staff.js", "staff.texts.json"),
    img_src="'self' data: https: {tiles}", what="portal", heads={
        "index.html": Head("Mach' Herrenberg grün! \u2013 Grünflächen-Patenschaften", ("app.css",),
                           ("app.js",), shows_map=True),
        "act.html": Head("Mach' Herrenberg grün!", ("app.css",), ("act.js",),
                         referrer="no-referrer"),
        "staff.html": Head("Patenschaften \u2013 Bauhof", ("app.css",), ("staff.js",),
                           referrer="no-referrer")}))
