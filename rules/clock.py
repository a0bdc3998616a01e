"""The event-time clock: it follows the stream (the newest reading time seen).

Replaying a week at 3,600 times therefore gives the same "silent for three intervals" as real time.
In `auto` mode, once readings arrive in real time (within `live_window_s` of the wall clock)
the clock also follows the wall clock, so silence is still noticed when every device stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules.ruleset import ClockParams


@dataclass
class EventClock:
    """Newest event time seen, guarded against single readings from the far future."""

    params: ClockParams
    stream_max: datetime | None = None
    live: bool = False
    ignored_future: int = 0

    def observe(self, times: list[datetime], wall: datetime) -> None:
        """Move forward with a batch's reading times (late readings never move it back)."""
        if not times:
            return
        newest = max(times)
        step = timedelta(hours=self.params.max_step_h)
        window = timedelta(seconds=self.params.live_window_s)
        if self.stream_max is not None and newest > self.stream_max + step \
                and newest > wall + window:
            # A device clock far in the future must not make every other device "silent".
            plausible = [t for t in times if t <= self.stream_max + step]
            self.ignored_future += len(times) - len(plausible)
            if not plausible:
                return
            newest = max(plausible)
        if self.stream_max is None or newest > self.stream_max:
            self.stream_max = newest
        if self.params.mode == "auto":
            self.live = abs((wall - newest).total_seconds()) <= self.params.live_window_s

    def now(self, wall: datetime | None = None) -> datetime | None:
        """The clock: None until the first reading (nothing can be judged before that)."""
        wall = wall or datetime.now(UTC)
        if self.params.mode == "wall":
            return wall
        if self.stream_max is None:
            return None
        if self.live and wall > self.stream_max:
            return wall
        return self.stream_max

    def accepts(self, t: datetime) -> bool:
        """Whether a reading observed in the last batch was accepted (not far in the future)."""
        return self.stream_max is None or t <= self.stream_max
