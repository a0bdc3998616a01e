"""A rules worker's Prometheus metrics: steps, readings, orders opened and resolved, latency.

Counted only for committed steps: a step retried after a deadlock counts once, with the
figures of the attempt that committed. The latency of an order opened by new readings is
the time from the commit of the oldest ingest batch the step read to the commit of the step
(where the order commits), both on the database's clock (`ingest_batches.committed_at` is set
as the ingest transaction starts; those transactions last milliseconds). Orders resolved are
those open before a step's Resolve actions and resolved after them, in the same transaction:
a Resolve finds nothing when a person closed the order first.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from bauhof.metrics import LATENCY_BUCKETS, new_registry
from rules.actions import Action, Resolve
from rules.engine import RulesEngine

# The step has committed; clock_timestamp() is now, not the start of a transaction.
_LATENCY = (
    "SELECT extract(epoch FROM clock_timestamp() - min(committed_at))::float8 "
    "FROM ingest_batches WHERE xid >= %s::text::xid8 AND xid < %s::text::xid8"
)

_OPEN = (
    "SELECT o.id FROM work_orders o JOIN unnest(%s::text[], %s::text[], %s::text[]) "
    "AS k(rule, subject_type, subject_id) USING (rule, subject_type, subject_id) "
    "WHERE o.status IN ('open', 'assigned', 'in_progress')"
)


def _columns(keys: set[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    ordered = sorted(keys)
    return [k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered]


class MeteredEngine(RulesEngine):
    """A rules engine that keeps Prometheus metrics in `registry`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry: CollectorRegistry = new_registry()
        r = self.registry
        self.steps = Counter("bauhof_rules_steps", "Committed engine steps.", registry=r)
        self.readings = Counter("bauhof_rules_readings", "Readings read by committed steps.",
                                registry=r)
        self.opened = Counter("bauhof_rules_orders_opened", "Work orders opened.", registry=r)
        self.resolved = Counter("bauhof_rules_orders_resolved",
                                "Work orders resolved by the rules.", registry=r)
        self.retries = Counter("bauhof_rules_step_retries",
                               "Steps retried after a deadlock or serialization failure.",
                               registry=r)
        self.latency = Histogram(
            "bauhof_rules_order_latency_seconds",
            "Seconds from the commit of the readings to the commit of the orders they opened.",
            buckets=LATENCY_BUCKETS, registry=r)
        self._applied = (0, 0)

    def apply(self, actions: list[Action]) -> None:
        """Apply, noting what this attempt opened and resolved."""
        opened = self.stats.opened
        keys = {(a.rule, a.subject_type, a.subject_id) for a in actions
                if isinstance(a, Resolve)}
        ids = [int(r[0]) for r in self.conn.execute(_OPEN, _columns(keys)).fetchall()] if (
            keys) else []
        super().apply(actions)
        resolved = 0
        if ids:
            row = self.conn.execute("SELECT count(*) FROM work_orders WHERE id = ANY(%s) "
                                    "AND status = 'resolved'", (ids,)).fetchone()
            resolved = int(row[0]) if row else 0
        self._applied = (self.stats.opened - opened, resolved)

    def step(self) -> int:
        """One step; count it once it has committed."""
        before = self.known_xid
        if before is None:
            row = self.conn.execute(
                "SELECT next_xid::text FROM rules_cursor WHERE shard = %s AND shards = %s",
                (self.shard, self.shards)).fetchone()
            before = int(row[0]) if row else None
        retries = self.stats.retries
        self._applied = (0, 0)
        count = super().step()
        self.retries.inc(self.stats.retries - retries)
        after = self.known_xid
        if after is None:
            return count  # every attempt failed: nothing committed
        opened, resolved = self._applied
        self.steps.inc()
        self.readings.inc(count)
        self.opened.inc(opened)
        self.resolved.inc(resolved)
        if opened and before is not None and after > before:
            row = self.conn.execute(_LATENCY, (before, after)).fetchone()
            if row is not None and row[0] is not None:
                for _ in range(opened):
                    self.latency.observe(max(0.0, float(row[0])))
        return count
