"""Upload the data source, the folder and the dashboards to a running Grafana through its
HTTP API (grafana-client): `bauhof dashboards push`.

Grafana's URL and a service-account token come from the settings (BAUHOF_GRAFANA_URL and
BAUHOF_GRAFANA_TOKEN), the read-only database role's password from GRAFANA_DB_PASSWORD (as in
docker-compose.yml). Everything is an upsert, so pushing twice changes nothing:
- folder: GET /api/folders/<uid>, else POST /api/folders;
- data source: GET /api/datasources/uid/<uid>, then PUT there, else POST /api/datasources;
- each dashboard: POST /api/dashboards/db with overwrite in the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from bauhof.errors import ReasonError
from bauhof.settings import GrafanaSection
from dashboards import DashboardError, build
from dashboards.check import PROVISIONING

FOLDER_UID = "bauhof"
FOLDER_TITLE = "Bauhof"
NOT_FOUND = 404


class PushError(DashboardError, ReasonError):
    """Grafana refused or could not be reached; names the step."""

    template = "grafana: {step} failed: {reason}"
    step: str
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """Where to push and with what."""

    url: str
    token: str
    db_password: str
    db_host: str | None = None


def target_from_settings(grafana: GrafanaSection) -> Target:
    """The push target from the settings' `grafana` section; DashboardError names the
    variables that are missing."""
    missing = [name for name, value in (("BAUHOF_GRAFANA_URL", grafana.url),
                                        ("BAUHOF_GRAFANA_TOKEN", grafana.token),
                                        ("GRAFANA_DB_PASSWORD", grafana.db_password))
               if not value]
    if missing:
        raise DashboardError(f"set {', '.join(missing)} (Grafana's URL, a service-account "
                             "token with the Editor role, and the grafana role's password)")
    return Target(grafana.url, grafana.token, grafana.db_password, grafana.db_host)


def datasource(password: str, host: str | None = None) -> dict[str, Any]:
    """The provisioned TimescaleDB data source as an HTTP API body."""
    data = yaml.safe_load((PROVISIONING / "timescaledb.yaml").read_text(encoding="utf-8"))
    (source,) = data["datasources"]
    body = {key: source[key] for key in ("name", "uid", "type", "access", "url", "user",
                                         "isDefault", "jsonData") if key in source}
    if host:
        body["url"] = host
    body["secureJsonData"] = {"password": password}
    return body


def _models(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def push(target: Target, folder: Path = build.JSON_DIR, timeout_s: float = 10.0) -> list[str]:
    """Upsert folder, data source and dashboards; what was done, one line each."""
    api = GrafanaApi.from_url(target.url, credential=target.token, timeout=timeout_s)
    done = []
    step = "folder"
    try:
        try:
            api.folder.get_folder(FOLDER_UID)
            done.append(f"folder {FOLDER_UID}: exists")
        except GrafanaClientError as exc:
            if exc.status_code != NOT_FOUND:
                raise
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
            done.append(f"folder {FOLDER_UID}: created")
        step = "data source"
        body = datasource(target.db_password, target.db_host)
        try:
            api.datasource.get_datasource_by_uid(body["uid"])
            api.datasource.update_datasource_by_uid(body["uid"], body)
            done.append(f"data source {body['uid']}: updated")
        except GrafanaClientError as exc:
            if exc.status_code != NOT_FOUND:
                raise
            api.datasource.create_datasource(body)
            done.append(f"data source {body['uid']}: created")
        for model in _models(folder):
            step = f"dashboard {model['uid']}"
            result = api.dashboard.update_dashboard({
                "dashboard": {**model, "id": None}, "folderUid": FOLDER_UID, "overwrite": True,
                "message": "bauhof dashboards push"})
            done.append(f"dashboard {model['uid']}: {result.get('status', 'saved')} "
                        f"version {result.get('version', '?')}")
    except GrafanaException as exc:
        raise PushError(step, exc.message) from exc
    except OSError as exc:
        raise PushError(step, str(exc)) from exc
    return done
