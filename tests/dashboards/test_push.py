"""`bauhof dashboards push` against a local stand-in for Grafana's HTTP API that records the
requests and answers as Grafana does (folders, data sources, dashboards)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bauhof.settings import GrafanaSection
from dashboards import DashboardError, build, push
from shell.main import main

TOKEN = "glsa_test_token"


@dataclass
class FakeGrafana:
    """What the stand-in has stored and every request it saw."""

    url: str = ""
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Grafana's answer to one request (HTTP API, Grafana 11)."""
        if method == "GET" and path.startswith("/api/folders/"):
            uid = path.rsplit("/", 1)[1]
            found = self.folders.get(uid)
            return (200, found) if found else (404, {"message": "folder not found"})
        if method == "POST" and path == "/api/folders":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": 1}
            return 200, self.folders[body["uid"]]
        if path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            if uid not in self.datasources:
                return 404, {"message": "Data source not found"}
            if method == "PUT":
                self.datasources[uid] = body
                return 200, {"message": "Datasource updated", "id": 1, "name": body["name"]}
            return 200, self.datasources[uid]
        if method == "POST" and path == "/api/datasources":
            self.datasources[body["uid"]] = body
            return 200, {"message": "Datasource added", "id": 1, "name": body["name"]}
        if method == "POST" and path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            version = self.dashboards.get(uid, {}).get("version", 0) + 1
            self.dashboards[uid] = {**body, "version": version}
            return 200, {"id": 7, "uid": uid, "url": f"/d/{uid}", "status": "success",
                         "version": version, "slug": uid}
        return 404, {"message": "Not found"}


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    """The stand-in on a free port."""
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, self.path, body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, answer = 401, {"message": "Unauthorized"}
            else:
                status, answer = fake.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def target(fake: FakeGrafana, token: str = TOKEN) -> push.Target:
    """Where to push."""
    return push.Target(fake.url, token, "s3cret-grafana-db")


def test_first_push_creates_folder_datasource_and_dashboards(grafana: FakeGrafana) -> None:
    done = push.push(target(grafana))
    assert [(m, p) for m, p, _ in grafana.requests] == [
        ("GET", "/api/folders/bauhof"), ("POST", "/api/folders"),
        ("GET", "/api/datasources/uid/bauhof-timescaledb"), ("POST", "/api/datasources"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db")]
    assert done == [
        "folder bauhof: created", "data source bauhof-timescaledb: created",
        "dashboard bauhof-fleet: success version 1",
        "dashboard bauhof-green-areas: success version 1",
        "dashboard bauhof-operations: success version 1",
        "dashboard bauhof-waste: success version 1"]
    assert grafana.requests[1][2] == {"title": "Bauhof", "uid": "bauhof"}
    source = grafana.datasources["bauhof-timescaledb"]
    assert (source["type"], source["url"], source["user"], source["access"]) == (
        "grafana-postgresql-datasource", "timescaledb:5432", "grafana", "proxy")
    assert source["secureJsonData"] == {"password": "s3cret-grafana-db"}
    assert source["jsonData"]["timescaledb"] is True
    generated = {d.uid: d.to_json() for d in build.dashboards()}
    for uid, body in grafana.dashboards.items():
        assert (body["folderUid"], body["overwrite"], body["message"]) == (
            "bauhof", True, "bauhof dashboards push")
        assert body["dashboard"] == {**generated[uid], "id": None}


def test_second_push_updates_in_place(grafana: FakeGrafana) -> None:
    push.push(target(grafana))
    grafana.requests.clear()
    done = push.push(target(grafana))
    assert [(m, p) for m, p, _ in grafana.requests][:4] == [
        ("GET", "/api/folders/bauhof"), ("GET", "/api/datasources/uid/bauhof-timescaledb"),
        ("PUT", "/api/datasources/uid/bauhof-timescaledb"), ("POST", "/api/dashboards/db")]
    assert done[:2] == ["folder bauhof: exists", "data source bauhof-timescaledb: updated"]
    assert done[-1] == "dashboard bauhof-waste: success version 2"


def test_refused_token_names_the_step(grafana: FakeGrafana) -> None:
    with pytest.raises(push.PushError) as caught:
        push.push(target(grafana, "wrong"))
    assert caught.value.step == "folder"
    assert str(caught.value).startswith("grafana: folder failed: ")
    assert [(m, p) for m, p, _ in grafana.requests] == [("GET", "/api/folders/bauhof")]


def test_push_command_reads_the_environment(grafana: FakeGrafana,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BAUHOF_GRAFANA_URL", raising=False)
    monkeypatch.delenv("BAUHOF_GRAFANA_TOKEN", raising=False)
    monkeypatch.delenv("GRAFANA_DB_PASSWORD", raising=False)
    assert main(["dashboards", "push"]) == 1
    assert capsys.readouterr().err == (
        "bauhof dashboards: set BAUHOF_GRAFANA_URL, BAUHOF_GRAFANA_TOKEN, GRAFANA_DB_PASSWORD "
        "(Grafana's URL, a service-account token with the Editor role, and the grafana "
        "role's password)\n")
    monkeypatch.setenv("BAUHOF_GRAFANA_URL", grafana.url)
    monkeypatch.setenv("BAUHOF_GRAFANA_TOKEN", TOKEN)
    monkeypatch.setenv("GRAFANA_DB_PASSWORD", "pw")
    assert main(["dashboards", "push"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "folder bauhof: created"
    with pytest.raises(DashboardError):
        push.target_from_settings(GrafanaSection())
