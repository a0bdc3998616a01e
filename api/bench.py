"""`bauhof bench api`: latency of work-order lists and year-long readings at a fixed rate.

Private services on free ports; a year of hourly readings for the default town size is
generated inside the database (generate_series, no round trip per row) and rolled up into
rollup_daily as `bauhof dashboards rollups` keeps it in a deployment; the API runs under
uvicorn in a subprocess and a second process drives it open-loop: request i is due at
t0 + i / rate whether or not earlier ones have answered, and its latency counts from when it
was due, so a stall shows up in the percentiles instead of slowing the load down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bauhof import db
from bauhof.services import PrivateStack, free_port

END = datetime(2026, 6, 1, tzinfo=UTC)
_FILL = """
INSERT INTO readings (time, dev_eui, deduplication_id, model, asset_type, asset_id,
                      battery_v, soil_moisture_pct, soil_temperature_c, distance_mm,
                      latitude, longitude)
SELECT t, d.dev_eui, gen_random_uuid(), d.model, d.asset_type, d.asset_id, 3.6,
       CASE WHEN d.kind = 'soil' THEN 25 + 10 * sin(extract(epoch FROM t) / 86400) END,
       CASE WHEN d.kind = 'soil' THEN 12 + 6 * sin(extract(epoch FROM t) / 43200) END,
       CASE WHEN d.kind = 'bin' THEN 900 - (extract(epoch FROM t)::bigint %% 259200) / 400 END,
       CASE WHEN d.kind = 'tracker' THEN 48.59 + (extract(epoch FROM t)::bigint %% 977) / 1e5 END,
       CASE WHEN d.kind = 'tracker' THEN 8.86 + (extract(epoch FROM t)::bigint %% 613) / 1e5 END
FROM devices d CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz,
                                          interval '1 hour') t
WHERE d.dev_eui >= %(lo)s AND d.dev_eui < %(hi)s
"""


def town(url: str, devices: int) -> list[str]:
    """Assets and devices for the default town: soil probes, bin sensors, trackers."""
    euis = []
    with db.connect(url, autocommit=True) as conn, conn.transaction():
        for n in range(devices):
            eui = f"{n + 1:016x}"
            euis.append(eui)
            lat, lon = 48.59 + (n % 30) * 0.001, 8.86 + (n // 30) * 0.001
            if n % 2 == 0:
                conn.execute("INSERT INTO bins (id, latitude, longitude, volume_l, "
                             "empty_distance_mm, full_distance_mm) VALUES (%s, %s, %s, 240, "
                             "1000, 100)", (f"b{n}", lat, lon))
                kind, model, asset = "bin", "milesight-em310-udl", ("bin", f"b{n}")
            elif n % 6 != 5:
                conn.execute("INSERT INTO green_areas (id, name, latitude, longitude) "
                             "VALUES (%s, %s, %s, %s)", (f"ga{n}", f"Area {n}", lat, lon))
                kind, model, asset = "soil", "dragino-lse01", ("green_area", f"ga{n}")
            else:
                conn.execute("INSERT INTO vehicles (id, name) VALUES (%s, %s)",
                             (f"v{n}", f"Truck {n}"))
                kind, model, asset = "tracker", "dragino-lgt92", ("vehicle", f"v{n}")
            conn.execute("INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id, "
                         "expected_interval_s) VALUES (%s, %s, %s, %s, %s, 3600)",
                         (eui, model, kind, *asset))
    return euis


def fill(url: str, euis: list[str], days: int) -> int:
    """Hourly readings for every device over `days` days; return the row count."""
    start = END - timedelta(days=days)
    step = 25
    with db.connect(url, autocommit=True) as conn:
        for i in range(0, len(euis), step):
            chunk = euis[i:i + step]
            hi = f"{int(chunk[-1], 16) + 1:016x}"
            conn.execute(_FILL, {"start": start, "end": END - timedelta(hours=1),
                                 "lo": chunk[0], "hi": hi})
        for i in range(2000):
            status = ("open", "assigned", "in_progress", "done")[i % 4]
            closed = status == "done"
            conn.execute(
                "INSERT INTO work_orders (kind, subject_type, subject_id, rule, priority, "
                "status, title, assignee, opened_at, resolved_at, latitude, longitude) "
                "VALUES ('empty_bin', 'bin', %s, %s, %s, %s, 'Empty bin', %s, %s, %s, 48.6, "
                "8.87)", (f"b{i}", f"bench.{i}", 1 + i % 5, status,
                          None if status == "open" else "crew:nord",
                          END - timedelta(hours=i), END if closed else None))
        conn.execute("ANALYZE")
        row = conn.execute("SELECT count(*) FROM readings").fetchone()
    return int(str(row[0])) if row else 0


def roll_up(url: str) -> None:
    """The daily partial aggregates of the readings, as the roll-up worker keeps them."""
    with db.connect(url, autocommit=True) as conn:
        conn.execute("SELECT bauhof_refresh_rollups()")
        conn.execute("ANALYZE rollup_daily")


def drive(base: str, token: str, euis: list[str], rate: int, seconds: int, *,
          warmup: int = 0) -> dict[str, Any]:
    """Open-loop load from this process; latencies in ms from each request's due time.

    The first `warmup` seconds run at the same rate; their latencies come back apart
    (`warmup_latencies`): a fresh server fills its connection pool and the database its
    caches and plans then, once per process start, not once per request.
    """
    import asyncio

    start = (END - timedelta(days=365)).isoformat()
    end = END.isoformat()
    paths = []
    for i in range(rate * (warmup + seconds)):
        if i % 2 == 0:
            paths.append("/api/v1/work-orders?status=active&limit=50")
        else:
            eui = euis[(i * 7919) % len(euis)]
            # What a year chart asks for: the device's main readings, a point a day.
            paths.append(f"/api/v1/devices/{eui}/readings?from={start}&to={end}"
                         "&names=battery_v,soil_moisture_pct,distance_mm&points=400"
                         .replace("+", "%2B"))

    host, port = base.removeprefix("http://").split(":")
    head = f"Host: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"

    async def fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    path: str) -> int:
        # Plain HTTP/1.1 on a kept-alive connection: a client library's pool bookkeeping
        # would cost more CPU than the server under test at a few hundred requests/s.
        writer.write(f"GET {path} HTTP/1.1\r\n{head}".encode())
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(status_line.split()[1])

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        cold: list[float] = []
        errors = 0
        measured = rate * warmup
        free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue())
        for _ in range(64):
            free.put_nowait(await asyncio.open_connection(host, int(port)))
        t0 = time.perf_counter() + 0.2

        async def one(i: int, due: float, path: str) -> None:
            nonlocal errors
            conn = await free.get()
            try:
                if await fetch(*conn, path) != 200:
                    errors += 1
            except (OSError, ValueError, asyncio.IncompleteReadError):
                errors += 1
                conn = await asyncio.open_connection(host, int(port))
            free.put_nowait(conn)
            (latencies if i >= measured else cold).append((time.perf_counter() - due) * 1000)

        # Launch each request when it is due (open loop), not all at once up front.
        tasks = []
        for i, path in enumerate(paths):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due, path)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0 - warmup
        while not free.empty():
            free.get_nowait()[1].close()
        return {"latencies": latencies, "warmup_latencies": cold, "errors": errors,
                "elapsed": elapsed}

    return asyncio.run(run())


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with status {proc.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API did not become ready within a minute")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_bench(devices: int = 300, days: int = 365, rate: int = 200,
              seconds: int = 30, *, workers: int = 2, warmup: int = 5) -> dict[str, Any]:
    """The whole benchmark; returns its figures."""
    from api import users

    with PrivateStack(fsync=False) as stack:
        url = stack.database_url
        euis = town(url, devices)
        began = time.monotonic()
        rows = fill(url, euis, days)
        fill_s = time.monotonic() - began
        began = time.monotonic()
        roll_up(url)
        roll_up_s = time.monotonic() - began
        with db.connect(url, autocommit=True) as conn:
            uid = users.create_user(conn, "bench", "planner")
            token = users.issue_token(conn, uid).token
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**stack.env(), "BAUHOF_API_MEDIA_DIR": str(stack.root / "media"),
               "BAUHOF_STATE_DIR": str(stack.root)}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:build", "--factory", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
             "--log-level", "warning"],
            env=env)
        try:
            _wait_ready(base, server)
            driver = subprocess.run(
                [sys.executable, "-c",
                 "import json, sys; from api.bench import drive; "
                 "a = json.loads(sys.argv[1]); print(json.dumps(drive(**a)))",
                 json.dumps({"base": base, "token": token, "euis": euis, "rate": rate,
                             "seconds": seconds, "warmup": warmup})],
                capture_output=True, text=True, check=True, env=os.environ.copy())
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = json.loads(driver.stdout)
    lat, cold = result["latencies"], result["warmup_latencies"] or [0.0]
    return {"p50_ms": round(_percentile(lat, 0.50), 2), "p99_ms": round(_percentile(lat, 0.99), 2),
            "max_ms": round(max(lat), 2), "rps": round(len(lat) / result["elapsed"], 1),
            "requests": len(lat), "errors": result["errors"], "rate": rate, "workers": workers,
            "seconds": seconds, "warmup_s": warmup,
            "warmup_p99_ms": round(_percentile(cold, 0.99), 2), "rows": rows,
            "devices": devices, "fill_s": round(fill_s, 1),
            "roll_up_s": round(roll_up_s, 1)}
