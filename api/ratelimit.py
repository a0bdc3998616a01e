"""A small in-process token bucket per client address, for the public endpoints.

The key is the peer address of the connection. Behind a reverse proxy every request comes
from the proxy, so with `BAUHOF_API_TRUST_FORWARDED=1` the key is the last address in
X-Forwarded-For instead (the one the trusted proxy itself saw); without that setting the
header is ignored, since any client can write it. Each process counts on its own: with N
API processes a client gets up to N times the rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request

from api.problems import Problem

MAX_CLIENTS = 10_000


class TokenBucket:
    """`rate` requests per second on average, bursts of up to `burst`, per key."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


def client_key(request: Request, trust_forwarded: bool) -> str:
    """The address a limit applies to (see the module docstring)."""
    if trust_forwarded:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else "unknown"


def limit_public(request: Request) -> None:
    """Dependency of the public routes: 429 with Retry-After when a client is too fast."""
    bucket: TokenBucket = request.app.state.public_bucket
    wait = bucket.take(client_key(request, request.app.state.settings.trust_forwarded))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise Problem(429, f"too many requests from this address; try again in {seconds} s",
                      slug="rate-limited", headers={"Retry-After": str(seconds)})
