"""The planner settings page: static HTML, JavaScript and CSS served by the API (no build
step), opened from the Waste planning dashboard's link with the dashboard's variables in the
query (`/planner/?threshold=80&horizon=24`). It shows the settings in force beside the
proposed ones and saves them through `PUT /api/v1/routes/settings` with a planner token kept
in the browser's local storage."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.problems import not_found

router = APIRouter(include_in_schema=False)
PATH = "/planner/"
_FILES = {"index.html": "text/html; charset=utf-8",
          "app.js": "text/javascript; charset=utf-8",
          "app.css": "text/css; charset=utf-8"}
# Only this origin's script, style sheet and API; no framing (the save button is not
# clickjackable from another site).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _file(name: str) -> Response:
    body = resources.files("api").joinpath("static", "planner", name).read_bytes()
    return Response(body, media_type=_FILES[name], headers={
        "Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


@router.get("/planner")
def planner_redirect(request: Request) -> Response:
    """`/planner` → `/planner/` so relative links resolve (the query is kept)."""
    query = request.url.query
    return RedirectResponse(PATH + (f"?{query}" if query else ""), status_code=308)


@router.get(PATH)
def planner_index() -> Response:
    """The page."""
    return _file("index.html")


@router.get(PATH + "{name}")
def planner_asset(name: str) -> Response:
    """The page's script and style sheet."""
    if name not in _FILES:
        raise not_found(f"planner page file {name!r}")
    return _file(name)
