"""Settings come from the environment first, then `.env`, and refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from bauhof.settings import SettingsError, load, parse_mqtt_url


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
