"""Static pages served by the API (the crew app, the planner page): HTML, JavaScript and CSS
from `api/static/<page>/`, no build step, with strict security headers. Every page's `<head>`
comes from one template (`Head`): a page's HTML starts with the line `<!-- bauhof:head -->`,
which is served as the doctype, the `<html>` tag and the head with that page's own values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.problems import not_found
from api.vendor import tile_origin

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".svg": "image/svg+xml", ".png": "image/png"}

PLACEHOLDER = b"<!-- bauhof:head -->\n"
# The map pages' shared style sheets and scripts (Leaflet, then api/static/common/), before
# the page's own.
MAP_STYLES = ("/vendor/leaflet/leaflet.css", "/common/map.css")
MAP_SCRIPTS = ("/vendor/leaflet/leaflet.js", "/common/map.js")
TEMPLATE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{title}</title>
{lines}</head>
"""


@dataclass(frozen=True)
class Head:
    """A page's own values for the shared head: its German title (the scripts translate it),
    style sheets and scripts (deferred, in this order), whether it shows the map, and the
    optional manifest, theme colour and referrer policy."""

    title: str
    styles: tuple[str, ...]
    scripts: tuple[str, ...]
    shows_map: bool = False
    manifest: str | None = None
    theme_color: str | None = None
    referrer: str | None = None
    lang: str = "de"

    def render(self) -> str:
        """The page's lines from `<!doctype html>` to `</head>`."""
        meta = "".join(f'<meta name="{name}" content="{escape(value)}">\n'
                       for name, value in (("theme-color", self.theme_color),
                                           ("referrer", self.referrer)) if value)
        styles = (*MAP_STYLES, *self.styles) if self.shows_map else self.styles
        scripts = (*MAP_SCRIPTS, *self.scripts) if self.shows_map else self.scripts
        lines = ([f'<link rel="manifest" href="{escape(self.manifest)}">'] if self.manifest
                 else [])
        lines += [f'<link rel="stylesheet" href="{escape(href)}">' for href in styles]
        lines += [f'<script src="{escape(src)}" defer></script>' for src in scripts]
        return TEMPLATE.format(lang=escape(self.lang), meta=meta,
                               title=escape(self.title, quote=False),
                               lines="".join(line + "\n" for line in lines))


def page_router(page: str, files: tuple[str, ...], img_src: str, what: str,
                heads: Mapping[str, Head]) -> APIRouter:
    """Routes for `/<page>` (redirect, query kept), `/<page>/` (index.html) and
    `/<page>/<file>` for the listed files; `img_src` is the page's Content-Security-Policy
    image source list, where `{tiles}` stands for the configured map tiles' origin. Only this
    origin's scripts, styles and API; no framing. `heads` holds each listed HTML file's head."""
    html = {name for name in files if name.endswith(".html")}
    if html != set(heads):
        raise ValueError(f"{what}: heads for {sorted(heads)}, HTML files {sorted(html)}")
    rendered = {name: head.render().encode() for name, head in heads.items()}
    router = APIRouter(include_in_schema=False)
    path = f"/{page}/"

    def serve(name: str, request: Request) -> Response:
        tiles = tile_origin(request.app.state.settings.map_tile_url)
        images = " ".join(img_src.replace("{tiles}", tiles).split())
        csp = (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
               "connect-src 'self'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
        body = resources.files("api").joinpath("static", page, name).read_bytes()
        head = rendered.get(name)
        if head is not None:
            if not body.startswith(PLACEHOLDER):
                raise LookupError(f"api/static/{page}/{name} does not start with {PLACEHOLDER!r}")
            body = head + body[len(PLACEHOLDER):]
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
