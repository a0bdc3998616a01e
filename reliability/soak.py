"""`bauhof bench soak`: the default town at 60x with crews for an hour, sampled every minute.

Private services on free ports; `bauhof ingest`, `rules`, `api` and `simulate --crews` as
processes. Every sample records each process's RSS, ingest's lag (`ingest_stats.lag_s`, which
ingest writes every 10 s), open connections to the database (pg_stat_activity) and progress.
A healthy run has flat memory, bounded lag and a constant number of connections.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from bauhof import assets
from bauhof.services import PrivateStack, free_port
from reliability import StepFailed
from reliability.lab import connection, probe_ingest, scalar, wait_until
from reliability.processes import Worker

# Memory counts as flat when it grows by less than this over the second half of the run.
FLAT_MB = 25.0
LAG_BOUND_S = 30.0

_SAMPLE_SQL = """
SELECT (SELECT coalesce(max(lag_s), 0) FROM ingest_stats),
       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
          AND pid <> pg_backend_pid()),
       (SELECT count(*) FROM raw_uplinks),
       (SELECT count(*) FROM work_orders),
       (SELECT count(*) FROM work_orders WHERE status IN ('done', 'resolved')),
       (SELECT max(time) FROM raw_uplinks)
"""


def _rss_mb(pid: int) -> float | None:
    try:
        rss = float(psutil.Process(pid).memory_info().rss) / 2**20
    except psutil.Error:
        return None
    return rss or None  # a process that has exited but is not yet reaped shows 0


def sample(conn: Any, workers: dict[str, Worker], started: float) -> dict[str, Any]:
    """One sample of every figure."""
    row = conn.execute(_SAMPLE_SQL).fetchone()
    return {
        "minute": round((time.monotonic() - started) / 60, 2),
        "rss_mb": {name: _rss_mb(w.pid) if w.alive() else None for name, w in workers.items()},
        "lag_s": round(float(row[0]), 2), "db_connections": int(row[1]),
        "uplinks": int(row[2]), "orders": int(row[3]), "orders_closed": int(row[4]),
        "simulated_time": row[5].isoformat() if row[5] else None,
    }


def run(*, minutes: float, speed: int, sample_s: float, plot: Path | None,
        progress: bool = True) -> dict[str, Any]:
    """Run the soak and return its figures (and write the plot)."""
    days = minutes * 60 * speed / 86400
    samples: list[dict[str, Any]] = []
    with PrivateStack() as stack:
        from simulator.bench import scenario_file

        assets.load_file(stack.database_url, scenario_file())
        logs = stack.root / "logs"
        logs.mkdir()

        def worker(name: str, args: list[str]) -> Worker:
            return Worker(args, database_url=stack.database_url, mqtt_url=stack.mqtt_url,
                          log_file=logs / f"{name}.log")

        workers = {"ingest": worker("ingest", ["ingest", "--client-id", "soak-ingest"]),
                   "rules": worker("rules", ["rules"]),
                   "api": worker("api", ["api", "--port", str(free_port())])}
        workers["ingest"].start()
        probe_ingest(stack.database_url, stack.mosquitto.port, workers["ingest"].alive)
        workers["rules"].start()
        workers["api"].start()
        workers["simulate"] = worker("simulate", [
            "simulate", "--speed", str(speed), "--days", f"{days:.6f}", "--crews", "--quiet"])
        workers["simulate"].start()
        with connection(stack.database_url) as conn:
            # Samples start once the town's first uplinks are stored (every process is up).
            wait_until("soak: the first uplink stored", lambda: bool(scalar(
                conn, "SELECT count(*) FROM raw_uplinks")), 120.0)
        started = time.monotonic()
        exits: dict[str, int | None] = {}
        try:
            with connection(stack.database_url) as conn:
                next_at = started
                while True:
                    samples.append(sample(conn, workers, started))
                    if progress:
                        s = samples[-1]
                        print(f"  minute {s['minute']:6.2f}: {s['uplinks']:,} uplinks, lag "
                              f"{s['lag_s']} s, {s['db_connections']} connections, rss "
                              f"{_fmt_rss(s['rss_mb'])}", file=sys.stderr, flush=True)
                    if not workers["simulate"].alive():
                        break
                    crashed = [n for n, w in workers.items() if n != "simulate" and not w.alive()]
                    if crashed:
                        raise StepFailed("soak", f"{', '.join(crashed)} exited; see {logs}")
                    next_at += sample_s
                    time.sleep(max(0.0, next_at - time.monotonic()))
                wall_s = time.monotonic() - started
                simulated_end = scalar(conn, "SELECT max(time) FROM raw_uplinks")
        finally:
            for name in ("simulate", "api", "rules", "ingest"):
                exits[name] = workers[name].stop()
    figures = summarise(samples, exits)
    figures.update({"minutes": minutes, "speed": speed, "wall_s": round(wall_s, 1),
                    "simulated_days": round(days, 3),
                    "simulated_end": simulated_end.isoformat() if simulated_end else None})
    if plot is not None:
        draw(samples, plot)
        figures["plot"] = str(plot)
    return figures


def _fmt_rss(rss: dict[str, float | None]) -> str:
    return ", ".join(f"{n} {v:.0f} MB" if v is not None else f"{n} -" for n, v in rss.items())


def summarise(samples: list[dict[str, Any]], exits: dict[str, int | None]) -> dict[str, Any]:
    """Memory growth per process over the second half, lag and connection bounds, verdict."""
    half = samples[len(samples) // 2:] or samples
    growth: dict[str, float] = {}
    peak: dict[str, float] = {}
    for name in samples[0]["rss_mb"] if samples else ():
        values = [s["rss_mb"][name] for s in half if s["rss_mb"].get(name) is not None]
        every = [s["rss_mb"][name] for s in samples if s["rss_mb"].get(name) is not None]
        if values:
            growth[name] = round(values[-1] - values[0], 1)
            peak[name] = round(max(every), 1)
    connections = [s["db_connections"] for s in samples]
    lags = [s["lag_s"] for s in samples]
    last = samples[-1] if samples else {}
    checks = {
        "memory_flat": all(g < FLAT_MB for n, g in growth.items() if n != "simulate"),
        "lag_bounded": max(lags, default=0.0) < LAG_BOUND_S,
        # No growth: the second half never has more connections than the first had.
        "connections_flat": bool(connections) and max(connections[len(connections) // 2:])
        <= max(connections[:max(1, len(connections) // 2)]),
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it (exit status -15).
        "clean_exits": all(code == 0 or (name == "api" and code == -signal.SIGTERM)
                           for name, code in exits.items()),
    }
    return {
        "samples": samples, "rss_growth_second_half_mb": growth, "rss_peak_mb": peak,
        "lag_max_s": max(lags, default=0.0), "lag_last_s": lags[-1] if lags else None,
        "db_connections_min": min(connections, default=0),
        "db_connections_max": max(connections, default=0),
        "uplinks": last.get("uplinks", 0), "orders": last.get("orders", 0),
        "orders_closed": last.get("orders_closed", 0), "exits": exits,
        **checks, "ok": all(checks.values()),
    }


def describe(figures: dict[str, Any]) -> str:
    """The figures as lines a person reads."""
    verdict = {True: "yes", False: "NO"}
    lines = [
        f"soak: {figures['minutes']:g} min at {figures['speed']}x "
        f"({figures['simulated_days']} simulated days, to {figures['simulated_end']})",
        f"uplinks stored {figures['uplinks']:,}; orders {figures['orders']:,}, closed "
        f"{figures['orders_closed']:,}",
        "peak RSS: " + ", ".join(f"{n} {v} MB" for n, v in figures["rss_peak_mb"].items()),
        "RSS growth over the second half: " + ", ".join(
            f"{n} {v:+} MB" for n, v in figures["rss_growth_second_half_mb"].items()),
        f"ingest lag: max {figures['lag_max_s']} s, last {figures['lag_last_s']} s",
        f"database connections: {figures['db_connections_min']} to "
        f"{figures['db_connections_max']}",
        f"memory flat {verdict[figures['memory_flat']]}, lag bounded "
        f"{verdict[figures['lag_bounded']]}, connections flat "
        f"{verdict[figures['connections_flat']]}, clean exits "
        f"{verdict[figures['clean_exits']]}",
    ]
    if not figures["clean_exits"]:
        lines.append("exit statuses: " + ", ".join(
            f"{n} {c}" for n, c in figures["exits"].items()))
    if "plot" in figures:
        lines.append(f"plot: {figures['plot']}")
    return "\n".join(lines)


def draw(samples: list[dict[str, Any]], path: Path) -> None:
    """RSS per process, ingest lag and database connections against wall minutes (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s["minute"] for s in samples]
    fig, (mem, lag, conns) = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    for name in samples[0]["rss_mb"] if samples else ():
        mem.plot(minutes, [s["rss_mb"].get(name) for s in samples], marker=".", label=name)
    mem.set_ylabel("RSS (MB)")
    mem.legend(loc="lower right", ncol=4)
    mem.set_title("bauhof bench soak")
    lag.plot(minutes, [s["lag_s"] for s in samples], marker=".", color="tab:red")
    lag.set_ylabel("ingest lag (s)")
    conns.step(minutes, [s["db_connections"] for s in samples], where="post", color="tab:green")
    conns.set_ylabel("DB connections")
    conns.set_xlabel("wall minutes")
    for axis in (mem, lag, conns):
        axis.grid(alpha=0.3)
        axis.set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
