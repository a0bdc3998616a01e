"""Drive a stream of messages through the virtual clock to the broker and the recording,
with a one-line progress display on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from simulator.clock import VirtualClock, from_us
from simulator.publisher import Publisher
from simulator.recording import Message, Recorder


@dataclass(frozen=True, slots=True)
class RunStats:
    """What a run did."""

    published: int
    wall_s: float
    first_us: int | None
    last_us: int | None
    stopped: bool


class Progress:
    """Rewrites one stderr line with simulated time, messages per second and the count."""

    def __init__(
        self,
        enabled: bool = True,
        stream: TextIO | None = None,
        every_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        extra: Callable[[], str] | None = None,
    ) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self._monotonic = monotonic
        self._extra = extra
        self._start = monotonic()
        self._last_shown = -1e9
        self._last_count = 0
        self._last_time = self._start
        self._shown = False

    def update(self, t_us: int, count: int, force: bool = False) -> None:
        """Show progress if enough wall time has passed since the last update."""
        if not self.enabled:
            return
        now = self._monotonic()
        if not force and now - self._last_shown < self.every_s:
            return
        span = now - self._last_time
        rate = (count - self._last_count) / span if span > 0 else 0.0
        self._last_shown, self._last_time, self._last_count = now, now, count
        extra = f"  {self._extra()}" if self._extra else ""
        line = (f"{from_us(t_us):%Y-%m-%d %H:%M} UTC  {count:>10,} published  "
                f"{rate:>8,.0f} msg/s{extra}")
        self.stream.write(f"\r{line:<78}")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        """End the progress line."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def run(
    messages: Iterable[Message],
    *,
    clock: VirtualClock,
    publisher: Publisher | None = None,
    recorder: Recorder | None = None,
    progress: Progress | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> RunStats:
    """Publish and/or record every message when its virtual time is due."""
    started = monotonic()
    count = 0
    first = last = None
    stopped = False
    try:
        for message in messages:
            if publisher is not None and not clock.wait_until(message.time_us):
                stopped = True
                break
            if publisher is not None:
                publisher.publish(message.topic, message.payload)
            if recorder is not None:
                recorder.write(message)
            count += 1
            first = message.time_us if first is None else first
            last = message.time_us
            if progress is not None:
                progress.update(message.time_us, count)
        if publisher is not None:
            publisher.flush()
    finally:
        if progress is not None:
            if last is not None:
                progress.update(last, count, force=True)
            progress.finish()
    return RunStats(count, monotonic() - started, first, last, stopped)
