"""Front-end libraries and the map configuration the pages share.

The libraries come from the npm registry (`package.json`, installed into `node_modules/` by
`make setup`) and are served here under `/vendor/<library>/<file>`: the pages never load
anything from another host, so a town's locked-down network and the tests work offline. Only
the files listed below are served. `/docs` is Swagger UI from the same place.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from pydantic import BaseModel
from starlette.responses import FileResponse, HTMLResponse, Response

from api.problems import Problem, not_found

# What a page may ask for → the file below node_modules/ that answers it.
FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "uplot/uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uplot/uPlot.min.css": "uplot/dist/uPlot.min.css",
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".png": "image/png"}

router = APIRouter()


def default_vendor_dir() -> Path:
    """`node_modules/` beside the source tree (where `make setup` installs it)."""
    return Path(__file__).resolve().parent.parent / "node_modules"


def tile_origin(tile_url: str) -> str:
    """The origin (`https://host[:port]`) of a tile URL template, or '' when there is none."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@router.get("/vendor/{name:path}", include_in_schema=False)
def vendor(name: str, request: Request) -> Response:
    """One listed library file, cached for a day (the versions are pinned by the lock file)."""
    relative = FILES.get(name)
    if relative is None:
        raise not_found(f"front-end file {name!r}")
    path = request.app.state.settings.vendor_dir / relative
    if not path.is_file():
        raise Problem(503, f"front-end library file {relative} is not installed: run `make setup` "
                      "(it installs package.json's libraries into node_modules/)")
    return FileResponse(path, media_type=TYPES[path.suffix], headers={
        "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, its script and styles served from here."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} — OpenAPI",
        swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/vendor/swagger-ui/favicon-32x32.png")


class MapConfig(BaseModel):
    """How the pages draw maps: tiles (none when `tile_url` is empty) and their credit."""

    tile_url: str
    attribution: str
    max_zoom: int


@router.get("/api/v1/public/map-config", tags=["public"], summary="How the pages draw maps")
def map_config(request: Request) -> MapConfig:
    """The tile URL template (`{z}/{x}/{y}`; empty: no tiles) and its attribution."""
    settings = request.app.state.settings
    return MapConfig(tile_url=settings.map_tile_url, attribution=settings.map_attribution,
                     max_zoom=settings.map_max_zoom)


COMMON = {"map.js": "text/javascript; charset=utf-8", "map.css": "text/css; charset=utf-8"}


@router.get("/common/{name}", include_in_schema=False)
def common(name: str) -> Response:
    """A script or style sheet several pages share (`api/static/common/`)."""
    media_type = COMMON.get(name)
    if media_type is None:
        raise not_found(f"shared page file {name!r}")
    body = resources.files("api").joinpath("static", "common", name).read_bytes()
    return Response(body, media_type=media_type, headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
