"""One settings object, read once at start from the environment (and a `.env` file).

This is the one module that reads Bauhof's variables: `load()` merges `.env` in the working
directory with the environment (the environment wins), checks every value once and returns
a frozen `Settings` whose sections (`api`, `open311`, `rules`, `chirpstack`, `grafana`) the
parts take what they need from. tests/bauhof/test_settings_reads.py keeps it the only one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_MQTT_PORT = 11883
DEFAULT_PG_PORT = 15432
DEFAULT_DB_NAME = "bauhof"
# Signs the links in sponsors' e-mails (bauhof/signed_links.py); refused in production.
DEFAULT_LINK_SECRET = "bauhof-development-link-secret"  # noqa: S105 (refused in production)
DEV_INGEST_CLIENT_ID = "bauhof-ingest"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RETAIN = re.compile(r"^BAUHOF_RETAIN_([A-Z0-9_]+)_DAYS$")
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap-Mitwirkende (ODbL)"
_TRUE = ("1", "true", "yes")


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class MqttTarget:
    """Where the MQTT broker is and how to log in."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def url(self) -> str:
        """The URL without the password, for display."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ApiSection:
    """The API server's BAUHOF_API_* settings, its pages' map and its metrics token."""

    # Where photos are kept; None: `media` under the state directory.
    media_dir: Path | None = None
    # Browser origins allowed by CORS; empty means closed. `*` is refused (bearer tokens).
    cors_origins: tuple[str, ...] = ()
    trust_forwarded: bool = False
    public_rate_per_s: float = 5.0
    public_burst: int = 30
    client_time: bool = False
    max_body_bytes: int = 256 * 1024
    max_photo_bytes: int = 10 * 1024 * 1024
    metrics_token: str | None = field(default=None, repr=False)
    # None: node_modules/ beside the source (the API knows where).
    vendor_dir: Path | None = None
    map_tile_url: str = OSM_TILES
    map_attribution: str = OSM_ATTRIBUTION
    map_max_zoom: int = 19
    # Grafana's base URL, for the planner page's links (as for `dashboards push`).
    grafana_url: str = ""


@dataclass(frozen=True, slots=True)
class Open311Section:
    """The Open311 endpoint's BAUHOF_OPEN311_* settings."""

    jurisdiction_id: str = "bauhof.local"
    agency: str = "Bauhof"
    match_radius_m: float = 75.0
    # Open311 reads carry no credentials: their CORS origins are separate, `*` allowed.
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RulesSection:
    """The rules file (BAUHOF_RULES_FILE; None: the packaged one) and the mail server."""

    file: Path | None = None
    smtp_url: str | None = None


@dataclass(frozen=True, slots=True)
class ChirpStackSection:
    """ChirpStack's gRPC API as given (bauhof/chirpstack/api.py checks it when it is used:
    only `bauhof chirpstack sync` needs it)."""

    api: str = ""
    token: str = field(default="", repr=False)
    tenant_id: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class GrafanaSection:
    """Where `bauhof dashboards push` uploads to and with what (dashboards/push.py)."""

    url: str = ""
    token: str = field(default="", repr=False)
    db_password: str = field(default="", repr=False)  # GRAFANA_DB_PASSWORD, as in compose
    db_host: str | None = None


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Settings:
    """Bauhof's configuration; `embedded` means the private services under `.bauhof/`."""

    database_url: str
    mqtt: MqttTarget
    state_dir: Path
    embedded_db: bool
    embedded_mqtt: bool
    env: str
    mqtt_ca_file: str | None
    embedded_pg_port: int = DEFAULT_PG_PORT
    embedded_mqtt_port: int = DEFAULT_MQTT_PORT
    # The portal: the secret the sponsors' mail links are signed with, the public address
    # those links point at, and how long an ended sponsor's personal data is kept.
    link_secret: str = DEFAULT_LINK_SECRET
    public_url: str = "http://127.0.0.1:8000"
    sponsor_retention_days: int = 90
    # Webhooks to private, loopback or link-local addresses only when an operator says so.
    webhook_allow_private: bool = False
    # Ingest's MQTT client id (its persistent session): see `ingest_client_id`.
    mqtt_client_id: str = DEV_INGEST_CLIENT_ID
    # The weather feed (`bauhof weather`): brightsky or open-meteo, and a base URL override.
    weather_source: str = "brightsky"
    weather_url: str | None = None
    # ChirpStack `object` keys mapped to reading names beyond the built-in map (ingest).
    object_keymap: Mapping[str, str] = field(default_factory=_empty)
    # Days to keep per table, from BAUHOF_RETAIN_<TABLE>_DAYS (bauhof/db/retention.py).
    retain_days: Mapping[str, int] = field(default_factory=_empty)
    # An administrator's API token for `bauhof simulate --crews --api URL`.
    api_token: str | None = field(default=None, repr=False)
    api: ApiSection = ApiSection()
    open311: Open311Section = Open311Section()
    rules: RulesSection = RulesSection()
    chirpstack: ChirpStackSection = ChirpStackSection()
    grafana: GrafanaSection = GrafanaSection()


def parse_mqtt_url(url: str) -> MqttTarget:
    """Parse `mqtt://user:pass@host:port` or `mqtts://…` into a target."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise SettingsError(
            f"BAUHOF_MQTT_URL {url!r}: scheme must be mqtt:// or mqtts://, got {parts.scheme!r}"
        )
    if not parts.hostname:
        raise SettingsError(f"BAUHOF_MQTT_URL {url!r}: no host")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise SettingsError(f"BAUHOF_MQTT_URL {url!r}: bad port") from exc
    return MqttTarget(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def read_dotenv(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines of a `.env` file; comments and blank lines are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ")
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def environment(environ: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> dict[str, str]:
    """The variables in force: `.env` in the working directory, overridden by `environ`
    (default: the process's environment)."""
    env = read_dotenv((Path.cwd() if cwd is None else cwd) / ".env")
    env.update(os.environ if environ is None else environ)
    return env


def metrics_defaults() -> tuple[str | None, str]:
    """`--metrics-port` and `--metrics-addr` when not given: BAUHOF_METRICS_PORT (None: no
    server) and BAUHOF_METRICS_ADDR (else loopback). The port is checked by the option's type,
    so a bad one is a usage error before anything starts (bauhof/metrics.py)."""
    try:
        env = environment()
    except SettingsError:  # a malformed .env: `load()` names it when the command runs
        env = dict(os.environ)
    return env.get("BAUHOF_METRICS_PORT") or None, env.get("BAUHOF_METRICS_ADDR") or "127.0.0.1"


def load(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Build the settings: environment first, then `.env` in the working directory."""
    base = Path.cwd() if cwd is None else cwd
    env = environment(environ, base)
    state_dir = Path(env.get("BAUHOF_STATE_DIR") or base / ".bauhof").resolve()
    db_url = env.get("BAUHOF_DATABASE_URL", "").strip()
    mqtt_url = env.get("BAUHOF_MQTT_URL", "").strip()
    mode = env.get("BAUHOF_ENV", "development")
    if mode not in ("development", "production"):
        raise SettingsError(f"BAUHOF_ENV must be development or production, got {mode!r}")
    embedded_db = not db_url
    embedded_mqtt = not mqtt_url
    if mode == "production" and (embedded_db or embedded_mqtt):
        raise SettingsError(
            "BAUHOF_ENV=production needs BAUHOF_DATABASE_URL and BAUHOF_MQTT_URL set: "
            "the embedded services are for development only"
        )
    pg_port = _port(env, "BAUHOF_PG_PORT", DEFAULT_PG_PORT)
    mqtt_port = _port(env, "BAUHOF_MQTT_PORT", DEFAULT_MQTT_PORT)
    if embedded_db:
        db_url = f"postgresql://bauhof@127.0.0.1:{pg_port}/{DEFAULT_DB_NAME}"
    mqtt = parse_mqtt_url(mqtt_url or f"mqtt://127.0.0.1:{mqtt_port}")
    if mode == "production" and mqtt.username and not mqtt.password:
        raise SettingsError(f"BAUHOF_MQTT_URL names user {mqtt.username!r} but no password")
    if mode == "production" and mqtt.password in ("bauhof", "changeme", "password"):
        raise SettingsError("BAUHOF_MQTT_URL uses a default password; set a real one")
    link_secret = env.get("BAUHOF_LINK_SECRET", "").strip() or DEFAULT_LINK_SECRET
    retention = env.get("BAUHOF_RETAIN_SPONSORS_DAYS", "").strip() or "90"
    if not retention.isdigit():
        raise SettingsError(f"BAUHOF_RETAIN_SPONSORS_DAYS must be a whole number of days, "
                            f"got {retention!r}")
    return Settings(
        database_url=db_url,
        mqtt=mqtt,
        state_dir=state_dir,
        embedded_db=embedded_db,
        embedded_mqtt=embedded_mqtt,
        env=mode,
        mqtt_ca_file=env.get("BAUHOF_MQTT_CA_FILE") or None,
        embedded_pg_port=pg_port,
        embedded_mqtt_port=mqtt_port,
        link_secret=link_secret,
        public_url=(env.get("BAUHOF_PUBLIC_URL", "").strip()
                    or "http://127.0.0.1:8000").rstrip("/"),
        sponsor_retention_days=int(retention),
        webhook_allow_private=env.get("BAUHOF_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
        mqtt_client_id=ingest_client_id(env.get("BAUHOF_MQTT_CLIENT_ID", "").strip(), mode,
                                        mqtt, db_url),
        weather_source=_weather_source(env),
        weather_url=env.get("BAUHOF_WEATHER_URL", "").strip() or None,
        object_keymap=_object_keymap(env),
        retain_days=MappingProxyType(_retain_days(env)),
        api_token=env.get("BAUHOF_API_TOKEN", "").strip() or None,
        api=_api(env, base),
        open311=_open311(env),
        rules=RulesSection(file=_path(env, "BAUHOF_RULES_FILE", base),
                           smtp_url=env.get("BAUHOF_SMTP_URL", "").strip() or None),
        chirpstack=ChirpStackSection(
            api=env.get("BAUHOF_CHIRPSTACK_API", "").strip(),
            token=env.get("BAUHOF_CHIRPSTACK_API_TOKEN", "").strip(),
            tenant_id=env.get("BAUHOF_CHIRPSTACK_TENANT_ID", "").strip() or None,
            ca_file=env.get("BAUHOF_CHIRPSTACK_CA_FILE", "").strip() or None),
        grafana=GrafanaSection(url=env.get("BAUHOF_GRAFANA_URL", ""),
                               token=env.get("BAUHOF_GRAFANA_TOKEN", ""),
                               db_password=env.get("GRAFANA_DB_PASSWORD", ""),
                               db_host=env.get("BAUHOF_GRAFANA_DB_HOST") or None),
    )


def _api(env: dict[str, str], base: Path) -> ApiSection:
    origins = _origins(env.get("BAUHOF_API_CORS_ORIGINS", ""))
    if "*" in origins:
        raise SettingsError("BAUHOF_API_CORS_ORIGINS must list origins; '*' is not allowed "
                            "because requests carry bearer tokens")
    tiles = env.get("BAUHOF_MAP_TILE_URL", OSM_TILES).strip()
    parts = urlsplit(tiles)
    if tiles and not (parts.scheme in ("http", "https") and parts.netloc):
        raise SettingsError(f"BAUHOF_MAP_TILE_URL must be an http(s) URL template, got {tiles!r}")
    return ApiSection(
        media_dir=_path(env, "BAUHOF_API_MEDIA_DIR", base),
        cors_origins=origins,
        trust_forwarded=env.get("BAUHOF_API_TRUST_FORWARDED", "") in _TRUE,
        public_rate_per_s=_positive(env, "BAUHOF_API_PUBLIC_RATE", 5.0),
        public_burst=int(_positive(env, "BAUHOF_API_PUBLIC_BURST", 30)),
        client_time=env.get("BAUHOF_API_CLIENT_TIME", "") in _TRUE,
        max_body_bytes=int(_positive(env, "BAUHOF_API_MAX_BODY_BYTES", 256 * 1024)),
        max_photo_bytes=int(_positive(env, "BAUHOF_API_MAX_PHOTO_BYTES", 10 * 1024 * 1024)),
        metrics_token=env.get("BAUHOF_METRICS_TOKEN") or None,
        vendor_dir=_path(env, "BAUHOF_VENDOR_DIR", base),
        map_tile_url=tiles,
        map_attribution=env.get("BAUHOF_MAP_ATTRIBUTION",
                                OSM_ATTRIBUTION if tiles == OSM_TILES else "").strip(),
        map_max_zoom=int(_positive(env, "BAUHOF_MAP_MAX_ZOOM", 19)),
        grafana_url=env.get("BAUHOF_GRAFANA_URL", "").strip().rstrip("/"),
    )


def _open311(env: dict[str, str]) -> Open311Section:
    raw = env.get("BAUHOF_OPEN311_CORS_ORIGINS", "")
    origins = _origins(raw)
    if "*" in origins and len(origins) > 1:
        raise SettingsError("BAUHOF_OPEN311_CORS_ORIGINS is either '*' or a list of origins, "
                            f"got {raw!r}")
    return Open311Section(
        jurisdiction_id=env.get("BAUHOF_OPEN311_JURISDICTION", "bauhof.local"),
        agency=env.get("BAUHOF_OPEN311_AGENCY", "Bauhof"),
        match_radius_m=_positive(env, "BAUHOF_OPEN311_MATCH_RADIUS_M", 75.0),
        cors_origins=origins,
        max_body_bytes=int(_positive(env, "BAUHOF_OPEN311_MAX_BODY_BYTES", 10 * 1024 * 1024)),
    )


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in raw.split(",") if o.strip())


def _path(env: dict[str, str], name: str, base: Path) -> Path | None:
    """A file or directory setting; a relative one is in the working directory `base`."""
    raw = env.get(name, "").strip()
    return (base / raw).resolve() if raw else None


def _positive(env: dict[str, str], name: str, default: float) -> float:
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


def _object_keymap(env: dict[str, str]) -> Mapping[str, str]:
    raw = env.get("BAUHOF_OBJECT_KEYMAP", "").strip()
    if not raw:
        return _empty()
    try:
        loaded: Any = json.loads(raw)
    except ValueError as exc:
        raise SettingsError(f"BAUHOF_OBJECT_KEYMAP is not JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise SettingsError("BAUHOF_OBJECT_KEYMAP must be a JSON object of "
                            '{"object key": "reading name"}')
    return MappingProxyType({str(k): str(v) for k, v in loaded.items()})


def _retain_days(env: dict[str, str]) -> dict[str, int]:
    days: dict[str, int] = {}
    for name, value in sorted(env.items()):
        match = _RETAIN.match(name)
        if not match or not value.strip():
            continue
        if not value.strip().isdigit():
            raise SettingsError(f"{name} must be a whole number of days, got {value.strip()!r}")
        days[match[1].lower()] = int(value.strip())
    return days


def require_link_secret(cfg: Settings) -> str:
    """The secret for sponsors' mail links; SettingsError for the default one in production."""
    if cfg.env == "production" and (cfg.link_secret == DEFAULT_LINK_SECRET
                                    or len(cfg.link_secret) < 32):
        raise SettingsError("BAUHOF_LINK_SECRET must be set to a random value of at least 32 "
                            "characters in production (it signs the links in sponsors' mail)")
    return cfg.link_secret


def ingest_client_id(explicit: str, mode: str, mqtt: MqttTarget, database_url: str) -> str:
    """Ingest's MQTT client id: BAUHOF_MQTT_CLIENT_ID, else `bauhof-ingest` in development
    and in production one derived from ingest's own broker password.

    Mosquitto 2.0 hands a persistent session to whoever connects with its client id, of any
    account (issue 13: `gateway-bridge` connecting as `bauhof-ingest` took ingest's queued
    uplinks). A client id only the bauhof account's holders can compute closes that; it stays
    the same across restarts as long as the password does (a new password: a new session,
    so drain ingest first or set BAUHOF_MQTT_CLIENT_ID).
    """
    if explicit:
        if not _CLIENT_ID.match(explicit):
            raise SettingsError(f"BAUHOF_MQTT_CLIENT_ID must be 1-64 letters, digits, '-' or "
                                f"'_', got {explicit[:80]!r}")
        if mode == "production" and explicit == DEV_INGEST_CLIENT_ID:
            raise SettingsError(
                f"BAUHOF_MQTT_CLIENT_ID={explicit} is the documented id every broker account "
                "knows (anyone could take over ingest's session): leave it unset for an "
                "unguessable one")
        return explicit
    if mode != "production":
        return DEV_INGEST_CLIENT_ID
    # The broker password when there is one; else the database URL's (both are secrets).
    secret = mqtt.password or database_url
    digest = hmac.new(secret.encode(), b"bauhof ingest mqtt client id", hashlib.sha256)
    return f"{DEV_INGEST_CLIENT_ID}-{digest.hexdigest()[:32]}"


def _weather_source(env: dict[str, str]) -> str:
    source = env.get("BAUHOF_WEATHER_SOURCE", "").strip() or "brightsky"
    if source not in ("brightsky", "open-meteo"):
        raise SettingsError(f"BAUHOF_WEATHER_SOURCE must be brightsky or open-meteo, "
                            f"got {source!r}")
    return source


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a TCP port number, got {raw!r}")
    return int(raw)
