"""`GET /metrics`: what the database knows, for Prometheus.

Ingest workers' counters as they last saved them in `ingest_stats` (every 10 s), dead letters
by status, open work orders by kind and status, the rules engine's backlog and the age of the
newest reading. Read on every scrape in one round trip; the workers' own process metrics are
on their `--metrics-port` (bauhof/metrics.py). Served to the metrics token
(BAUHOF_METRICS_TOKEN), or without one only on the API's own host, never through a proxy.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import APIRouter, Depends, Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.responses import Response

from api.database import Conn, Connection
from api.problems import Problem
from api.ratelimit import limit_public

router = APIRouter(tags=["operations"])
# A worker that has not saved its counters for this long is probably gone.
STALE_S = 60
ORDER_KINDS = ("watering", "empty_bin", "collection_route", "sensor_maintenance",
               "bin_maintenance", "vehicle", "citizen_defect")
OPEN_STATUSES = ("open", "assigned", "in_progress")
DEAD_STATUSES = ("new", "reprocessed", "discarded")

_QUERY = """
SELECT 'worker', worker, NULL, received, stored, duplicates, dead_lettered, lag_s,
       (updated_at < now() - make_interval(secs => %(stale)s))::int
  FROM ingest_stats
UNION ALL
SELECT 'dead', status, NULL, count(*), NULL, NULL, NULL, NULL, NULL
  FROM dead_letters GROUP BY status
UNION ALL
SELECT 'orders', kind, status, count(*), NULL, NULL, NULL, NULL, NULL
  FROM work_orders WHERE status IN ('open', 'assigned', 'in_progress') GROUP BY kind, status
UNION ALL
SELECT 'backlog', NULL, NULL, (SELECT count(*) FROM ingest_batches b WHERE b.xid >= coalesce(
         (SELECT min(next_xid) FROM rules_cursor), '1'::xid8)), NULL, NULL, NULL,
       extract(epoch FROM now() - (SELECT max(time) FROM readings))::float8, NULL
"""


def _num(value: object) -> float:
    assert isinstance(value, int | float), value
    return float(value)


class DatabaseCollector(Collector):
    """The metric families of one scrape, from rows read beforehand."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows

    def collect(self) -> Iterable[Metric]:
        """Turn the rows into metric families (every kind and status, zeros included)."""
        workers = [r for r in self.rows if r[0] == "worker"]
        for column, name, text in (
            (3, "received", "messages received"), (4, "stored", "events stored"),
            (5, "duplicates", "redelivered events skipped"),
            (6, "dead_lettered", "messages dead-lettered"),
        ):
            family = CounterMetricFamily(
                f"bauhof_ingest_worker_{name}",
                f"Ingest worker's {text}, as last saved in ingest_stats.", labels=["worker"])
            for r in workers:
                family.add_metric([str(r[1])], _num(r[column]))
            yield family
        lag = GaugeMetricFamily("bauhof_ingest_worker_lag_seconds",
                                "Age of the oldest message of a worker's last batch at commit.",
                                labels=["worker"])
        stale = GaugeMetricFamily("bauhof_ingest_worker_stale",
                                  f"1 when a worker has not saved its counters for {STALE_S} s.",
                                  labels=["worker"])
        for r in workers:
            if r[7] is not None:
                lag.add_metric([str(r[1])], _num(r[7]))
            stale.add_metric([str(r[1])], _num(r[8]))
        yield lag
        yield stale
        dead = {str(r[1]): _num(r[3]) for r in self.rows if r[0] == "dead"}
        dead_family = GaugeMetricFamily("bauhof_dead_letters", "Dead letters by status.",
                                        labels=["status"])
        for status in DEAD_STATUSES:
            dead_family.add_metric([status], dead.get(status, 0.0))
        yield dead_family
        open_orders = {(str(r[1]), str(r[2])): _num(r[3])
                       for r in self.rows if r[0] == "orders"}
        orders_family = GaugeMetricFamily("bauhof_work_orders_open",
                                          "Work orders not yet done, by kind and status.",
                                          labels=["kind", "status"])
        for kind in ORDER_KINDS:
            for status in OPEN_STATUSES:
                orders_family.add_metric([kind, status], open_orders.get((kind, status), 0.0))
        yield orders_family
        backlog = next(r for r in self.rows if r[0] == "backlog")
        yield GaugeMetricFamily("bauhof_rules_backlog_batches",
                                "Committed ingest batches the slowest rules shard has not read.",
                                value=_num(backlog[3]))
        if backlog[7] is not None:
            yield GaugeMetricFamily(
                "bauhof_newest_reading_age_seconds",
                "Wall-clock seconds since the event time of the newest stored reading.",
                value=_num(backlog[7]))


def read(conn: Connection) -> DatabaseCollector:
    """One scrape's worth of rows."""
    return DatabaseCollector(conn.execute(_QUERY, {"stale": STALE_S}).fetchall())


_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def metrics_access(request: Request) -> None:
    """Admit the metrics token, or without one configured a caller on the API's own host
    that no proxy forwarded (issue 13: the documented proxies passed /metrics to anyone)."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            raise Problem(401, "/metrics needs the metrics token (BAUHOF_METRICS_TOKEN) as a "
                               "bearer token", slug="unauthenticated",
                          headers={"WWW-Authenticate": 'Bearer realm="bauhof-metrics"'})
        return
    client = request.client.host if request.client else ""
    if client not in _LOOPBACK or "x-forwarded-for" in request.headers \
            or "forwarded" in request.headers:
        raise Problem(403, "/metrics is internal: scrape it on the API's host, or set "
                           "BAUHOF_METRICS_TOKEN and send it as a bearer token",
                      slug="forbidden")


@router.get("/metrics", dependencies=[Depends(limit_public), Depends(metrics_access)],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "Prometheus text format"},
                       401: {"description": "Unauthorized"},
                       403: {"description": "Forbidden"},
                       429: {"description": "Too Many Requests"}},
            response_class=Response, summary="Prometheus metrics from the database")
def metrics(*, conn: Conn) -> Response:
    """Ingest counters and lag, dead letters, open orders, rules backlog."""
    return Response(generate_latest(read(conn)), media_type=CONTENT_TYPE_LATEST)
