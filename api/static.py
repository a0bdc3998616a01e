"""Static pages served by the API (the crew app, the planner page): HTML, JavaScript and CSS
from `api/static/<page>/`, no build step, with strict security headers."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.problems import not_found
from api.vendor import tile_origin

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".svg": "image/svg+xml", ".png": "image/png"}


def page_router(page: str, files: tuple[str, ...], img_src: str, what: str) -> APIRouter:
    """Routes for `/<page>` (redirect, query kept), `/<page>/` (index.html) and
    `/<page>/<file>` for the listed files; `img_src` is the page's Content-Security-Policy
    image source list, where `{tiles}` stands for the configured map tiles' origin. Only this
    origin's scripts, styles and API; no framing."""
    router = APIRouter(include_in_schema=False)
    path = f"/{page}/"

    def serve(name: str, request: Request) -> Response:
        tiles = tile_origin(request.app.state.settings.map_tile_url)
        images = " ".join(img_src.replace("{tiles}", tiles).split())
        csp = (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
               "connect-src 'self'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
        body = resources.files("api").joinpath("static", page, name).read_bytes()
        media_type = ("application/manifest+json" if name == "manifest.json"
                      else TYPES[name[name.rindex("."):]])
        return Response(body, media_type=media_type, headers={
            "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})

    @router.get(f"/{page}", summary=f"{what}: redirect to {path}")
    def redirect(request: Request) -> Response:
        query = request.url.query  # relative links resolve below the slash
        return RedirectResponse(path + (f"?{query}" if query else ""), status_code=308)

    @router.get(path, summary=f"{what}: the page")
    def index(request: Request) -> Response:
        return serve("index.html", request)

    @router.get(path + "{name}", summary=f"{what}: a script, style sheet or manifest")
    def asset(name: str, request: Request) -> Response:
        if name not in files:
            raise not_found(f"{what} file {name!r}")
        return serve(name, request)

    return router
