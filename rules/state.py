"""Per-subject rule state: JSON documents kept in memory and written with the cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Key = tuple[str, str, str]  # (rule module, subject type, subject id)
State = dict[str, Any]


class StateStore:
    """The states of one engine shard; `get` marks a state dirty, `save` writes those."""

    def __init__(self) -> None:
        self._states: dict[Key, State] = {}
        # The same states by rule module, in the same order: the clock's checks walk one
        # module's states every simulated minute, not all of them.
        self._by_rule: dict[str, dict[Key, State]] = {}
        self._dirty: set[Key] = set()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: Key) -> State:
        """The state for key (created empty), marked to be written at the next save."""
        self._dirty.add(key)
        if key not in self._states:
            self._states[key] = self._by_rule.setdefault(key[0], {})[key] = {}
        return self._states[key]

    def peek(self, key: Key) -> State | None:
        """The state for key without marking it dirty, or None."""
        return self._states.get(key)

    def items(self, rule: str) -> Iterator[tuple[Key, State]]:
        """Every state of one rule module."""
        yield from self._by_rule.get(rule, {}).items()

    def touch(self, key: Key) -> None:
        """Mark a state changed after editing it through `items`."""
        self._dirty.add(key)

    def clear(self) -> None:
        """Forget everything (before a reload)."""
        self._states.clear()
        self._by_rule.clear()
        self._dirty.clear()

    def load(self, conn: psycopg.Connection[Any], mine: Callable[[Key], bool]) -> None:
        """Replace the states with the stored ones this shard owns."""
        self.clear()
        for rule, subject_type, subject_id, state in conn.execute(
            "SELECT rule, subject_type, subject_id, state FROM rule_state"
        ):
            key = (rule, subject_type, subject_id)
            if mine(key):
                self._states[key] = state
                self._by_rule.setdefault(rule, {})[key] = state

    def save(self, conn: psycopg.Connection[Any]) -> int:
        """Upsert the dirty states (inside the caller's transaction); return how many."""
        rows = [(*key, Jsonb(self._states[key])) for key in self._dirty if key in self._states]
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO rule_state (rule, subject_type, subject_id, state) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (rule, subject_type, subject_id) "
                    "DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                    rows,
                )
        self._dirty.clear()
        return len(rows)
