"""Settings come from the environment first, then `.env`, and refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from bauhof.settings import (
    ChirpStackSection,
    GrafanaSection,
    RulesSection,
    SettingsError,
    load,
    metrics_defaults,
    parse_mqtt_url,
)


def test_defaults_are_the_embedded_services(tmp_path: Path) -> None:
    cfg = load({}, tmp_path)
    assert cfg.database_url == "postgresql://bauhof@127.0.0.1:15432/bauhof"
    assert cfg.mqtt.url == "mqtt://127.0.0.1:11883"
    assert (cfg.embedded_db, cfg.embedded_mqtt, cfg.env) == (True, True, "development")
    assert cfg.state_dir == (tmp_path / ".bauhof").resolve()


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# local\nBAUHOF_DATABASE_URL=postgresql://a@db:5432/x\n"
        "export BAUHOF_MQTT_URL='mqtts://ingest:s%40cret@broker.example:8884'\n")
    cfg = load({"BAUHOF_DATABASE_URL": "postgresql://b@other/y"}, tmp_path)
    assert cfg.database_url == "postgresql://b@other/y"
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.tls) == ("broker.example", 8884, True)
    assert (cfg.mqtt.username, cfg.mqtt.password) == ("ingest", "s@cret")
    assert cfg.mqtt.url == "mqtts://ingest@broker.example:8884"


def test_mqtt_default_ports() -> None:
    assert parse_mqtt_url("mqtt://h").port == 1883
    assert parse_mqtt_url("mqtts://h").port == 8883


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BAUHOF_MQTT_URL": "http://h:1"},
         "BAUHOF_MQTT_URL 'http://h:1': scheme must be mqtt:// or mqtts://, got 'http'"),
        ({"BAUHOF_MQTT_URL": "mqtt://:1883"}, "BAUHOF_MQTT_URL 'mqtt://:1883': no host"),
        ({"BAUHOF_ENV": "staging"}, "BAUHOF_ENV must be development or production, got 'staging'"),
        ({"BAUHOF_ENV": "production"},
         "BAUHOF_ENV=production needs BAUHOF_DATABASE_URL and BAUHOF_MQTT_URL set: "
         "the embedded services are for development only"),
        ({"BAUHOF_ENV": "production", "BAUHOF_DATABASE_URL": "postgresql://x/y",
          "BAUHOF_MQTT_URL": "mqtt://bauhof:changeme@h"},
         "BAUHOF_MQTT_URL uses a default password; set a real one"),
        ({"BAUHOF_ENV": "production", "BAUHOF_DATABASE_URL": "postgresql://x/y",
          "BAUHOF_MQTT_URL": "mqtt://bauhof:@h"},
         "BAUHOF_MQTT_URL names user 'bauhof' but no password"),
        ({"BAUHOF_OBJECT_KEYMAP": "[1]"},
         'BAUHOF_OBJECT_KEYMAP must be a JSON object of {"object key": "reading name"}'),
        ({"BAUHOF_OBJECT_KEYMAP": "{Bat: 1}"},
         "BAUHOF_OBJECT_KEYMAP is not JSON (Expecting property name enclosed in double "
         "quotes: line 1 column 2 (char 1))"),
        ({"BAUHOF_API_CORS_ORIGINS": "*"},
         "BAUHOF_API_CORS_ORIGINS must list origins; '*' is not allowed because requests "
         "carry bearer tokens"),
        ({"BAUHOF_API_PUBLIC_RATE": "fast"}, "BAUHOF_API_PUBLIC_RATE must be a number, got 'fast'"),
        ({"BAUHOF_MAP_TILE_URL": "tiles/{z}/{x}/{y}.png"},
         "BAUHOF_MAP_TILE_URL must be an http(s) URL template, got 'tiles/{z}/{x}/{y}.png'"),
        ({"BAUHOF_RETAIN_RAW_UPLINKS_DAYS": "-1"},
         "BAUHOF_RETAIN_RAW_UPLINKS_DAYS must be a whole number of days, got '-1'"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(env, tmp_path)
    assert str(caught.value) == message


def test_malformed_dotenv_line_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BAUHOF_ENV=development\nnot a setting\n")
    with pytest.raises(SettingsError) as caught:
        load({}, tmp_path)
    assert str(caught.value) == f"{tmp_path / '.env'}:2: expected KEY=VALUE, got 'not a setting'"


def test_the_link_secret_must_be_set_in_production(tmp_path: Path) -> None:
    from bauhof.settings import DEFAULT_LINK_SECRET, require_link_secret

    base = {"BAUHOF_ENV": "production", "BAUHOF_DATABASE_URL": "postgresql://x/y",
            "BAUHOF_MQTT_URL": "mqtt://bauhof:s3cret-pass@broker:1883"}
    cfg = load(environ=base, cwd=tmp_path)
    assert cfg.link_secret == DEFAULT_LINK_SECRET
    with pytest.raises(SettingsError, match="BAUHOF_LINK_SECRET must be set to a random value"):
        require_link_secret(cfg)
    with pytest.raises(SettingsError, match="BAUHOF_LINK_SECRET"):
        require_link_secret(load(environ={**base, "BAUHOF_LINK_SECRET": "short"}, cwd=tmp_path))
    good = "x" * 40
    assert require_link_secret(load(environ={**base, "BAUHOF_LINK_SECRET": good},
                                     cwd=tmp_path)) == good
    assert require_link_secret(load(environ={}, cwd=tmp_path)) == DEFAULT_LINK_SECRET


def test_every_part_s_settings_come_from_dotenv_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "BAUHOF_OBJECT_KEYMAP={\"Bat\": \"battery_v\"}\n"
        "BAUHOF_RETAIN_READINGS_DAYS=400\n"
        "BAUHOF_API_TOKEN=bh_simulator\n"
        "BAUHOF_SMTP_URL=smtp://mail:25?from=bauhof@town.example\n"
        "BAUHOF_RULES_FILE=rules/town.yaml\n"
        "BAUHOF_CHIRPSTACK_API=chirpstack:8080\n"
        "BAUHOF_CHIRPSTACK_API_TOKEN=cs-token\n"
        "BAUHOF_GRAFANA_URL=http://grafana:3000\n"
        "GRAFANA_DB_PASSWORD=from-dotenv\n"
        "BAUHOF_OPEN311_CORS_ORIGINS=*\n")
    cfg = load({"GRAFANA_DB_PASSWORD": "from-the-environment"}, tmp_path)
    assert dict(cfg.object_keymap) == {"Bat": "battery_v"}
    assert dict(cfg.retain_days) == {"readings": 400}
    assert cfg.api_token == "bh_simulator"
    assert cfg.rules == RulesSection(file=(tmp_path / "rules/town.yaml").resolve(),
                                     smtp_url="smtp://mail:25?from=bauhof@town.example")
    assert cfg.chirpstack == ChirpStackSection(api="chirpstack:8080", token="cs-token")
    assert cfg.grafana == GrafanaSection(url="http://grafana:3000",
                                         db_password="from-the-environment")
    assert cfg.open311.cors_origins == ("*",)
    assert "cs-token" not in repr(cfg) and "bh_simulator" not in repr(cfg)


def test_metrics_defaults_come_from_dotenv_and_survive_a_malformed_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAUHOF_METRICS_PORT", raising=False)
    monkeypatch.delenv("BAUHOF_METRICS_ADDR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BAUHOF_METRICS_PORT=9109\n")
    assert metrics_defaults() == ("9109", "127.0.0.1")
    monkeypatch.setenv("BAUHOF_METRICS_ADDR", "0.0.0.0")
    (tmp_path / ".env").write_text("BAUHOF_METRICS_PORT=9109\nnot a setting\n")
    assert metrics_defaults() == (None, "0.0.0.0")
