"""Settings in `.env` reach the API as those in the environment do, and the environment wins
(issue 16: `BAUHOF_API_*`, `BAUHOF_OPEN311_*` and `BAUHOF_RULES_FILE` in `.env` were ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import from_settings
from bauhof import settings
from rules import ruleset
from tests.api.conftest import Tokens

CREW_APP = "https://crew.town.example"
VARIABLES = ("BAUHOF_API_CORS_ORIGINS", "BAUHOF_OPEN311_JURISDICTION", "BAUHOF_OPEN311_AGENCY",
             "BAUHOF_RULES_FILE", "BAUHOF_STATE_DIR", "BAUHOF_API_MEDIA_DIR")


@pytest.fixture
def workdir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own; only the database comes from the environment."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def app_client(dotenv: str, workdir: Path) -> Iterator[TestClient]:
    """The API as `bauhof api` builds it, with `dotenv` as the working directory's `.env`."""
    (workdir / ".env").write_text(dotenv, encoding="utf-8")
    api_settings = replace(from_settings(settings.load()), pool_min=1, pool_max=2)
    with TestClient(create_app(api_settings)) as client:
        yield client


def test_a_cors_origin_only_in_dotenv_answers_the_preflight(workdir: Path) -> None:
    for client in app_client(f"BAUHOF_API_CORS_ORIGINS={CREW_APP}\n", workdir):
        preflight = client.options("/api/v1/work-orders", headers={
            "Origin": CREW_APP, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == CREW_APP
        other = client.options("/api/v1/work-orders", headers={
            "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in other.headers


def test_open311_settings_only_in_dotenv_are_served(workdir: Path) -> None:
    dotenv = ("BAUHOF_OPEN311_JURISDICTION=herrenberg.de\n"
              "BAUHOF_OPEN311_AGENCY='Bauhof Herrenberg'\n")
    for client in app_client(dotenv, workdir):
        assert client.get("/open311/v2/discovery.json").json()["contact"] == "Bauhof Herrenberg"
        ours = client.get("/open311/v2/services.json?jurisdiction_id=herrenberg.de")
        assert ours.status_code == 200
        default = client.get("/open311/v2/services.json?jurisdiction_id=bauhof.local")
        assert default.status_code == 404
        assert default.json() == [{"code": 404, "description": "jurisdiction_id "
                                   "'bauhof.local' not found; this endpoint serves herrenberg.de"}]


def test_the_rules_file_only_in_dotenv_is_the_one_the_api_validates_against(
        workdir: Path, tokens: Tokens) -> None:
    packaged = Path(ruleset.__file__).with_name("default_rules.yaml").read_text(encoding="utf-8")
    assert "  weather_max_age_h: 3\n" in packaged
    (workdir / "town_rules.yaml").write_text(
        packaged.replace("  weather_max_age_h: 3\n", "  weather_max_age_h: 7\n"),
        encoding="utf-8")
    for client in app_client("BAUHOF_RULES_FILE=town_rules.yaml\n", workdir):
        status = client.get("/api/v1/weather/status", headers=tokens.crew)
        assert status.json()["max_age_h"] == 7.0


def test_the_environment_wins_over_dotenv(workdir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAUHOF_OPEN311_JURISDICTION", "from-the-environment.de")
    dotenv = (f"BAUHOF_OPEN311_JURISDICTION=from-dotenv.de\n"
              f"BAUHOF_API_CORS_ORIGINS={CREW_APP}\n")
    for client in app_client(dotenv, workdir):
        refused = client.get("/open311/v2/services.json?jurisdiction_id=from-dotenv.de")
        assert refused.json() == [{"code": 404, "description": "jurisdiction_id "
                                   "'from-dotenv.de' not found; this endpoint serves "
                                   "from-the-environment.de"}]
        preflight = client.options("/api/v1/work-orders", headers={
            "Origin": CREW_APP, "Access-Control-Request-Method": "GET"})
        assert preflight.headers["access-control-allow-origin"] == CREW_APP
