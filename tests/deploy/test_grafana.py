"""Grafana's provisioning files (dashboards/provisioning) against docker-compose.yml."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import yaml

from tests.deploy.conftest import REPO

PROVISIONING = REPO / "dashboards" / "provisioning"


def load(relative: str) -> dict[str, Any]:
    """One provisioning YAML file."""
    data = yaml.safe_load((PROVISIONING / relative).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def grafana_mounts(compose: dict[str, Any]) -> dict[str, str]:
    """Grafana's mounts as {container path: source}."""
    pairs = (entry.split(":")[:2] for entry in compose["services"]["grafana"]["volumes"])
    return {target: source for source, target in pairs}


def test_provisioning_folder_is_what_grafana_reads(compose: dict[str, Any]) -> None:
    assert grafana_mounts(compose)["/etc/grafana/provisioning"] == "./dashboards/provisioning"
    assert sorted(str(p.relative_to(PROVISIONING)) for p in PROVISIONING.rglob("*.yaml")) == [
        "dashboards/bauhof.yaml", "datasources/timescaledb.yaml"]


def test_datasource_reads_timescaledb_as_the_read_only_role(compose: dict[str, Any]) -> None:
    (source,) = load("datasources/timescaledb.yaml")["datasources"]
    timescaledb = compose["services"]["timescaledb"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert (source["url"], source["user"]) == ("timescaledb:5432", "grafana")
    assert source["jsonData"]["database"] == timescaledb["environment"]["POSTGRES_DB"]
    assert source["jsonData"]["timescaledb"] is True
    assert source["secureJsonData"] == {"password": "${GRAFANA_DB_PASSWORD}"}
    grafana = compose["services"]["grafana"]
    assert grafana["environment"]["GRAFANA_DB_PASSWORD"] == (
        timescaledb["environment"]["GRAFANA_DB_PASSWORD"])
    assert set(grafana["networks"]) & set(timescaledb["networks"]) == {"db"}


def test_dashboards_provider_points_at_dashboards_json(compose: dict[str, Any]) -> None:
    (provider,) = load("dashboards/bauhof.yaml")["providers"]
    assert provider["type"] == "file"
    path = PurePosixPath(provider["options"]["path"])
    mounts = grafana_mounts(compose)
    (target,) = [t for t in mounts if path.is_relative_to(t) and mounts[t].startswith("./")]
    source = REPO / mounts[target] / path.relative_to(target)
    assert source == REPO / "dashboards" / "json"
