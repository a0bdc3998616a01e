"""Per-subject rule state: one typed value per (rule module, subject), kept in memory and
written with the cursor.

Each rule module declares its state as a mutable dataclass (slots) deriving from `RuleState`
(`bins.BinState`, `watering.WateringState`, …): named, typed fields with defaults, so the rules
read and write attributes mypy checks. A state is stored as a JSON object in `rule_state`
whose keys are its field names: `RuleState.from_json` reads one (keys a state has no field
for are dropped, missing ones take their defaults), `dumps` writes one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields
from typing import Any, ClassVar, Self, TypeVar, cast

import orjson
import psycopg
from psycopg.types.json import Jsonb

Key = tuple[str, str, str]  # (rule module, subject type, subject id)


class RuleState:
    """A rule module's state of one subject; subclasses are `@dataclass(slots=True)` and
    name their module, its subject type and its order flags in the class statement."""

    __slots__ = ()
    # The rule module (the first part of its rule names) and the subject type of its states.
    MODULE: ClassVar[str]
    SUBJECT_TYPE: ClassVar[str]
    # The field (a bool) that says a rule's order is open, by rule name.
    OPEN_FLAGS: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, *, module: str | None = None, subject_type: str | None = None,
                          open_flags: Mapping[str, str] | None = None) -> None:
        # Called again without arguments when @dataclass(slots=True) rebuilds the class,
        # whose namespace then holds the values already.
        super().__init_subclass__()
        if module is not None and subject_type is not None:
            cls.MODULE, cls.SUBJECT_TYPE = module, subject_type
        if open_flags is not None:
            cls.OPEN_FLAGS = open_flags

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """The state stored as `data` (a JSON object written by `dumps` or by the untyped
        states before: the same keys)."""
        names = _field_names(cls)
        return cls(**{k: v for k, v in data.items() if k in names})

    def order_gone(self, rule: str) -> None:
        """A person closed the open order of `rule`: clear its flag, to watch afresh."""
        flag = self.OPEN_FLAGS.get(rule)
        if flag is not None:
            setattr(self, flag, False)


_NAMES: dict[type[RuleState], frozenset[str]] = {}


def _field_names(cls: type[RuleState]) -> frozenset[str]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = frozenset(f.name for f in fields(cast(Any, cls)))
    return names


def dumps(state: RuleState) -> bytes:
    """A state as the JSON object stored in `rule_state` (its fields, by name; numpy numbers
    and non-string keys as json.dumps writes them)."""
    return orjson.dumps(state, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


S = TypeVar("S", bound=RuleState)


class StateStore:
    """The states of one engine shard; `get` marks a state dirty, `save` writes those."""

    def __init__(self, kinds: Iterable[type[RuleState]]) -> None:
        """`kinds`: the state types of the rule modules, one per module."""
        self._kinds = {k.MODULE: k for k in kinds}
        self._states: dict[Key, RuleState] = {}
        # The same states by rule module, in the same order: the clock's checks walk one
        # module's states every simulated minute, not all of them.
        self._by_rule: dict[str, dict[Key, RuleState]] = {}
        self._dirty: set[Key] = set()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, kind: type[S], subject_id: str) -> S:
        """The state of a subject (created with its defaults), marked to be written at the
        next save."""
        key = (kind.MODULE, kind.SUBJECT_TYPE, subject_id)
        self._dirty.add(key)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = self._by_rule.setdefault(key[0], {})[key] = kind()
        return cast(S, state)

    def peek(self, kind: type[S], subject_id: str) -> S | None:
        """The state of a subject without marking it dirty, or None."""
        return cast("S | None", self._states.get((kind.MODULE, kind.SUBJECT_TYPE, subject_id)))

    def items(self, kind: type[S]) -> Iterator[tuple[str, S]]:
        """Every state of one rule module, with its subject id."""
        for key, state in self._by_rule.get(kind.MODULE, {}).items():
            yield key[2], cast(S, state)

    def touch(self, kind: type[RuleState], subject_id: str) -> None:
        """Mark a state changed after editing it through `items` or `peek`."""
        self._dirty.add((kind.MODULE, kind.SUBJECT_TYPE, subject_id))

    def clear(self) -> None:
        """Forget everything (before a reload)."""
        self._states.clear()
        self._by_rule.clear()
        self._dirty.clear()

    def load(self, conn: psycopg.Connection[Any], mine: Callable[[Key], bool]) -> None:
        """Replace the states with the stored ones this shard owns (of the known modules)."""
        self.clear()
        for rule, subject_type, subject_id, data in conn.execute(
            "SELECT rule, subject_type, subject_id, state FROM rule_state"
        ):
            key = (rule, subject_type, subject_id)
            kind = self._kinds.get(rule)
            if kind is not None and subject_type == kind.SUBJECT_TYPE and mine(key):
                state = kind.from_json(data)
                self._states[key] = state
                self._by_rule.setdefault(rule, {})[key] = state

    def save(self, conn: psycopg.Connection[Any]) -> int:
        """Upsert the dirty states (inside the caller's transaction); return how many."""
        rows = [(*key, Jsonb(self._states[key], dumps))
                for key in self._dirty if key in self._states]
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
