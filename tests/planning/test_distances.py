"""Distance matrices: haversine with a road factor, and OSRM's table format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planning import MatrixError, distances

TABLE = {"code": "Ok", "distances": [[0, 1520.4], [1498.6, 0]],
         "durations": [[0, 180.2], [175.5, 0]],
         "sources": [{"location": [8.8562, 48.6031]}, {"location": [8.8707, 48.5955]}],
         "destinations": [{"location": [8.8562, 48.6031]}, {"location": [8.8707, 48.5955]}]}
PLACES = [(48.6031, 8.8562), (48.5955, 8.8707)]


def test_haversine_times_road_factor_at_a_speed() -> None:
    m = distances.road([(0.0, 0.0), (0.0, 1.0), (1.0, 0.0)], road_factor=1.3, speed_kmh=36.0)
    # One degree on a sphere of 6371 km is 111,194.93 m.
    assert m.distances_m.tolist() == [[0, 144553, 144553], [144553, 0, 204424],
                                      [144553, 204424, 0]]
    assert m.durations_s[0].tolist() == [0, 14455, 14455]
    assert m.source == "haversine x 1.3 at 36 km/h"


def test_osrm_table_is_used_as_given() -> None:
    m = distances.from_osrm(TABLE, PLACES)
    assert m.distances_m.tolist() == [[0, 1520], [1499, 0]]
    assert m.durations_s.tolist() == [[0, 180], [176, 0]]
    assert m.distances_m.dtype == np.int64


@pytest.mark.parametrize(("table", "message"), [
    ({"code": "NoTable", "message": "no route"},
     "routing matrix from OSRM: OSRM answered code 'NoTable': no route"),
    ({"code": "Ok", "durations": [[0, 1], [1, 0]]},
     "routing matrix from OSRM: no 'distances': ask the table service for "
     "annotations=distance,duration"),
    ({"code": "Ok", "distances": [[0, 1]], "durations": [[0, 1], [1, 0]]},
     "routing matrix from OSRM: 'distances' is not 2 x 2 (one row and column per place, "
     "depot first)"),
    ({"code": "Ok", "distances": [[0, None], [1, 0]], "durations": [[0, 1], [1, 0]]},
     "routing matrix from OSRM: 'distances' has null entries: a place is not reachable by "
     "road from another"),
])
def test_unusable_tables_are_refused_with_the_reason(table: dict[str, Any],
                                                    message: str) -> None:
    with pytest.raises(MatrixError) as caught:
        distances.from_osrm(table, PLACES)
    assert str(caught.value) == message


def test_table_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(TABLE), encoding="utf-8")
    assert distances.load_osrm_file(path, PLACES).distances_m.tolist() == [[0, 1520], [1499, 0]]


@pytest.fixture
def osrm() -> Iterator[tuple[str, list[str]]]:
    """A local stand-in for an OSRM server's table service; records request paths."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps(TABLE).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_matrix_from_a_configured_osrm_server(osrm: tuple[str, list[str]]) -> None:
    url, seen = osrm
    m = distances.matrix(PLACES, road_factor=1.3, speed_kmh=25, osrm_url=url)
    assert m.distances_m.tolist() == [[0, 1520], [1499, 0]]
    assert m.source == url
    assert seen == ["/table/v1/driving/8.856200,48.603100;8.870700,48.595500"
                    "?annotations=distance%2Cduration"]


def test_unreachable_osrm_server_is_named() -> None:
    with pytest.raises(MatrixError) as caught:
        distances.fetch_osrm("http://127.0.0.1:9/", PLACES, timeout_s=2)
    assert str(caught.value).startswith(
        "routing matrix from http://127.0.0.1:9/: the table service did not answer usefully:")
