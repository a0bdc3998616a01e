"""Ground truth: what really happened in the simulated town, one JSON object a line.

Every line has `time` (virtual, RFC 3339) and `kind`:

- `uplink`: a frame that reached at least one gateway — `dev_eui`, `asset`,
  `deduplication_id`, `f_cnt`, `f_port`, `gateways`, `readings` (exactly what was encoded),
  `true` (the state without sensor noise: moisture, fill, position), `faults` applied to it.
- `lost`: a frame no gateway heard (same fields, no `deduplication_id`).
- `weather`: the hour's observation as published.
- `fault`: one injected fault — `fault`, and `dev_eui` or `gateway`, plus its details.
- `watered`, `emptied`, `overflow`, `battery_dead`, `battery_replaced`: events in the world.
- `summary` (last line): counts of uplinks, lost frames, published messages and faults by kind.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from simulator.clock import iso
from simulator.recording import open_text


class Truth:
    """Writes ground-truth lines (or only counts them when no file is given)."""

    def __init__(self, path: Path | None = None) -> None:
        self._file: IO[str] | None = open_text(path, "w") if path is not None else None
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    @property
    def writes(self) -> bool:
        """Whether entries go to a file (else `write` only counts them)."""
        return self._file is not None

    def count(self, kind: str) -> None:
        """Count an event of `kind` (not a fault) without writing it: what `write` does
        when there is no file, for callers that can then skip building the entry."""
        self.counts[kind] += 1

    def write(self, t_us: int, kind: str, **fields: Any) -> None:
        """Record one event."""
        self.counts[kind] += 1
        if kind == "fault":
            self.faults[str(fields["fault"])] += 1
        if self._file is not None:
            entry = {"time": iso(t_us), "kind": kind, **fields}
            self._file.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
            self._file.write("\n")

    def summary(self, t_us: int, published: int) -> dict[str, Any]:
        """Write and return the closing summary line."""
        summary = {
            "uplinks": self.counts["uplink"],
            "lost": self.counts["lost"],
            "published": published,
            "faults": dict(sorted(self.faults.items())),
        }
        self.write(t_us, "summary", **summary)
        return summary

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a ground-truth file, in order."""
    with open_text(path, "r") as fh:
        for line in fh:
            if line.strip():
                entry: dict[str, Any] = json.loads(line)
                yield entry
