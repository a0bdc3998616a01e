"""The API's settings: Bauhof's settings plus what only the API needs, read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from api.open311_edge import origins_setting
from api.vendor import default_vendor_dir, tile_origin
from bauhof.settings import (
    DEFAULT_LINK_SECRET,
    Settings,
    SettingsError,
    read_dotenv,
    require_link_secret,
)

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap-Mitwirkende (ODbL)"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How one API process runs (see docs/api.md for the environment variables)."""

    database_url: str
    media_dir: Path
    # Browser origins allowed by CORS; empty means closed (no CORS headers at all).
    cors_origins: tuple[str, ...] = ()
    # Behind a reverse proxy, key rate limits on X-Forwarded-For only when this is set.
    trust_forwarded: bool = False
    # Public endpoints (Open311, health): a token bucket per client address.
    public_rate_per_s: float = 5.0
    public_burst: int = 30
    # Connections opened (and warmed) before serving: all of them, so a fresh process does
    # not make them, and load a year of chunks into each, under its first traffic.
    pool_min: int = 10
    pool_max: int = 10
    max_photo_bytes: int = 10 * 1024 * 1024
    # GET /metrics: with a token, only for it; without, only on the API's host (no proxy).
    metrics_token: str | None = None
    # Every other request body (JSON of orders, users, rule settings, Open311 reports).
    max_body_bytes: int = 256 * 1024
    # Open311: the jurisdiction we answer for, and how far a report may be from an asset.
    jurisdiction_id: str = "bauhof.local"
    agency: str = "Bauhof"
    match_radius_m: float = 75.0
    # Open311 reads carry no credentials: their CORS origins are separate, `*` allowed.
    open311_cors_origins: tuple[str, ...] = ()
    # Every Open311 request body (a form, or a form with a photo) at most this long.
    open311_max_body_bytes: int = 10 * 1024 * 1024
    rules_file: Path | None = None
    # SSE: keep-alive comment interval and the fallback poll when no NOTIFY arrives.
    stream_keepalive_s: float = 15.0
    stream_poll_s: float = 2.0
    # Accept a client's `at` on order transitions (simulations and replays on a virtual
    # clock); off, the server's clock stamps every transition.
    client_time: bool = False
    # How long a checked token's principal is kept (revocations reach it at once by NOTIFY).
    token_cache_s: float = 10.0
    # Front-end libraries served under /vendor/ (npm packages installed by `make setup`).
    vendor_dir: Path = field(default_factory=default_vendor_dir)
    # Map tiles for the pages' maps: a URL template with {z}/{x}/{y}; empty draws no tiles
    # (the maps still draw their routes, areas and pins on a plain background).
    map_tile_url: str = ""
    map_attribution: str = ""
    map_max_zoom: int = 19
    # Grafana's base URL (BAUHOF_GRAFANA_URL, as for `dashboards push`): the planner page links
    # to the Waste planning dashboard there; empty shows no link.
    grafana_url: str = ""
    # The portal: sponsors' mail links are signed with this secret and point at public_url.
    link_secret: str = DEFAULT_LINK_SECRET
    public_url: str = "http://127.0.0.1:8000"


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def from_settings(base: Settings, environ: dict[str, str] | None = None) -> ApiSettings:
    """The API settings for Bauhof's settings and the BAUHOF_API_* variables (environment
    first, then `.env` in the working directory, as for Bauhof's own settings)."""
    env = read_dotenv(Path.cwd() / ".env") if environ is None else {}
    env.update(os.environ if environ is None else environ)
    origins = tuple(o.strip() for o in env.get("BAUHOF_API_CORS_ORIGINS", "").split(",")
                    if o.strip())
    if "*" in origins:
        raise SettingsError("BAUHOF_API_CORS_ORIGINS must list origins; '*' is not allowed "
                            "because requests carry bearer tokens")
    media = env.get("BAUHOF_API_MEDIA_DIR") or str(base.state_dir / "media")
    rules_file = env.get("BAUHOF_RULES_FILE") or None
    tiles = env.get("BAUHOF_MAP_TILE_URL", OSM_TILES).strip()
    if tiles and not tile_origin(tiles).startswith(("https://", "http://")):
        raise SettingsError(f"BAUHOF_MAP_TILE_URL must be an http(s) URL template, got {tiles!r}")
    vendor = env.get("BAUHOF_VENDOR_DIR", "").strip()
    return ApiSettings(
        database_url=base.database_url,
        media_dir=Path(media).resolve(),
        cors_origins=origins,
        trust_forwarded=env.get("BAUHOF_API_TRUST_FORWARDED", "") in ("1", "true", "yes"),
        public_rate_per_s=_float(env, "BAUHOF_API_PUBLIC_RATE", 5.0),
        public_burst=int(_float(env, "BAUHOF_API_PUBLIC_BURST", 30)),
        jurisdiction_id=env.get("BAUHOF_OPEN311_JURISDICTION", "bauhof.local"),
        agency=env.get("BAUHOF_OPEN311_AGENCY", "Bauhof"),
        match_radius_m=_float(env, "BAUHOF_OPEN311_MATCH_RADIUS_M", 75.0),
        open311_cors_origins=origins_setting(env.get("BAUHOF_OPEN311_CORS_ORIGINS", "")),
        open311_max_body_bytes=int(_float(env, "BAUHOF_OPEN311_MAX_BODY_BYTES",
                                          10 * 1024 * 1024)),
        rules_file=Path(rules_file) if rules_file else None,
        client_time=env.get("BAUHOF_API_CLIENT_TIME", "") in ("1", "true", "yes"),
        vendor_dir=Path(vendor).resolve() if vendor else default_vendor_dir(),
        map_tile_url=tiles,
        map_attribution=env.get("BAUHOF_MAP_ATTRIBUTION",
                                OSM_ATTRIBUTION if tiles == OSM_TILES else "").strip(),
        map_max_zoom=int(_float(env, "BAUHOF_MAP_MAX_ZOOM", 19)),
        grafana_url=env.get("BAUHOF_GRAFANA_URL", "").strip().rstrip("/"),
        link_secret=require_link_secret(base),
        public_url=base.public_url,
        metrics_token=env.get("BAUHOF_METRICS_TOKEN") or None,
        max_body_bytes=int(_float(env, "BAUHOF_API_MAX_BODY_BYTES", 256 * 1024)),
        max_photo_bytes=int(_float(env, "BAUHOF_API_MAX_PHOTO_BYTES", 10 * 1024 * 1024)),
    )
