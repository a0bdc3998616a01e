"""Prometheus metrics of the long-running workers: the `--metrics-port` option and its server.

Each worker keeps its own registry (with the process collector: CPU, memory, open files), so
two workers in one process, as in tests, never mix their numbers. The API serves its
database-derived gauges on its own `GET /metrics` (api/routes/metrics.py).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bauhof.cli import argument_type

if TYPE_CHECKING:  # prometheus_client is imported by the workers only, not by every command
    from prometheus_client import CollectorRegistry

log = logging.getLogger("bauhof.metrics")
PORT_ENV = "BAUHOF_METRICS_PORT"
ADDR_ENV = "BAUHOF_METRICS_ADDR"
# Powers of two from 1 ms to 32 s: both a quiet town (milliseconds) and a backlog being
# caught up (tens of seconds) land in a bucket of their own.
LATENCY_BUCKETS: Sequence[float] = tuple(0.001 * 2**i for i in range(16))


def port_number(text: str) -> int:
    """An argparse type: a TCP port 1..65535."""
    value = argument_type(int, "a port number")(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1..65535)")
    return value


def add_port_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--metrics-port` (default: $BAUHOF_METRICS_PORT; no server without either) and
    `--metrics-addr` (default: $BAUHOF_METRICS_ADDR, else 127.0.0.1), from the settings."""
    from bauhof.settings import metrics_defaults

    default_port, default_addr = metrics_defaults()
    parser.add_argument("--metrics-port", type=port_number, default=default_port,
                        metavar="PORT",
                        help=f"serve Prometheus metrics on http://ADDR:PORT/metrics "
                             f"(default: ${PORT_ENV}; none without it)")
    # Loopback unless told: the metrics name hosts and counts (issue 13); a container
    # scraped from its internal network sets 0.0.0.0 explicitly.
    parser.add_argument("--metrics-addr", default=default_addr,
                        metavar="ADDR",
                        help=f"address of the metrics server (default: ${ADDR_ENV}, else "
                             "127.0.0.1)")


def new_registry() -> CollectorRegistry:
    """A registry for one worker, with the process's CPU, memory and file descriptors."""
    from prometheus_client import CollectorRegistry, ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


def serve(registry: CollectorRegistry | None, port: int | None,
          addr: str = "127.0.0.1") -> Callable[[], None]:
    """Serve the registry on addr:port in a thread; return the function that stops it."""
    if registry is None or port is None:
        return lambda: None
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr, registry=registry)
    log.info("metrics on http://%s:%d/metrics", addr, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop
