"""The API's settings: what one API process runs with, taken from Bauhof's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from api.vendor import default_vendor_dir
from bauhof.settings import (
    DEFAULT_LINK_SECRET,
    OSM_ATTRIBUTION,
    OSM_TILES,
    Settings,
    require_link_secret,
)

__all__ = ["OSM_ATTRIBUTION", "OSM_TILES", "ApiSettings", "from_settings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How one API process runs (bauhof/settings.py reads them; docs/api.md lists them)."""

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
    # ChirpStack `object` keys beyond the built-in map, for reprocessed dead letters.
    object_keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def from_settings(base: Settings) -> ApiSettings:
    """The API settings for Bauhof's settings (its `api`, `open311` and `rules` sections)."""
    api, open311 = base.api, base.open311
    return ApiSettings(
        database_url=base.database_url,
        media_dir=api.media_dir or (base.state_dir / "media").resolve(),
        cors_origins=api.cors_origins,
        trust_forwarded=api.trust_forwarded,
        public_rate_per_s=api.public_rate_per_s,
        public_burst=api.public_burst,
        jurisdiction_id=open311.jurisdiction_id,
        agency=open311.agency,
        match_radius_m=open311.match_radius_m,
        open311_cors_origins=open311.cors_origins,
        open311_max_body_bytes=open311.max_body_bytes,
        rules_file=base.rules.file,
        client_time=api.client_time,
        vendor_dir=api.vendor_dir or default_vendor_dir(),
        map_tile_url=api.map_tile_url,
        map_attribution=api.map_attribution,
        map_max_zoom=api.map_max_zoom,
        grafana_url=api.grafana_url,
        link_secret=require_link_secret(base),
        public_url=base.public_url,
        metrics_token=api.metrics_token,
        max_body_bytes=api.max_body_bytes,
        max_photo_bytes=api.max_photo_bytes,
        object_keymap=base.object_keymap,
    )
