"""The crew web app: static HTML, JavaScript and CSS served by the API (no build step)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from api.problems import not_found

router = APIRouter(include_in_schema=False)
_FILES = {"index.html": "text/html; charset=utf-8",
          "app.js": "text/javascript; charset=utf-8",
          "app.css": "text/css; charset=utf-8",
          "manifest.json": "application/manifest+json"}
# Only this origin's scripts, styles and API; images from here or inline (the charts).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _file(name: str) -> Response:
    body = resources.files("api").joinpath("static", "crew", name).read_bytes()
    return Response(body, media_type=_FILES[name], headers={
        "Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


@router.get("/crew")
def crew_redirect() -> Response:
    """`/crew` → `/crew/` so relative links resolve."""
    return RedirectResponse("/crew/", status_code=308)


@router.get("/crew/")
def crew_index() -> Response:
    """The app's page."""
    return _file("index.html")


@router.get("/crew/{name}")
def crew_asset(name: str) -> Response:
    """The app's script, style sheet and manifest."""
    if name not in _FILES:
        raise not_found(f"crew app file {name!r}")
    return _file(name)
