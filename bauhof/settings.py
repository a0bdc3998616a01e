"""One settings object, read once at start from the environment (and a `.env` file)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_MQTT_PORT = 11883
DEFAULT_PG_PORT = 15432
DEFAULT_DB_NAME = "bauhof"
# Signs the links in sponsors' e-mails (bauhof/signed_links.py); refused in production.
DEFAULT_LINK_SECRET = "bauhof-development-link-secret"  # noqa: S105 (refused in production)
DEV_INGEST_CLIENT_ID = "bauhof-ingest"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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


def load(environ: dict[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Build the settings: environment first, then `.env` in the working directory."""
    base = Path.cwd() if cwd is None else cwd
    env = dict(read_dotenv(base / ".env"))
    env.update(os.environ if environ is None else environ)
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
    )


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
