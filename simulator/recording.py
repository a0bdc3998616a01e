"""Recordings: what was published, one JSON object a line, to be replayed byte for byte.

A line is `{"time": <virtual publish time, RFC 3339>, "topic": …, "format": …, "payload": …}`
where `format` says how `payload` holds the message bytes:

- `json`: the exact UTF-8 text of the message (ChirpStack JSON events, weather observations);
- `protobuf`: base64 of the Protobuf message;
- `raw`: base64 of bytes that are neither (a malformed message that is not even UTF-8).

A file name ending in `.gz` is gzip-compressed, written with a zero timestamp so that the same
run gives the same bytes (for the same file name, which the gzip header holds).
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

import orjson

from bauhof.errors import ReasonError
from simulator import SimulatorError
from simulator.clock import iso, to_us

Format = Literal["json", "protobuf", "raw"]
FORMATS = ("json", "protobuf", "raw")


class RecordingError(SimulatorError, ReasonError):
    """A recording line that cannot be read; names the file and line."""

    template = "{path}:{line}: {reason}"
    path: str
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT publication at a virtual time."""

    time_us: int
    topic: str
    payload: bytes
    format: Format


def open_text(path: Path, mode: Literal["r", "w"]) -> IO[str]:
    """Open a text file for reading or writing, gzip when the name ends in `.gz`."""
    if path.suffix == ".gz":
        # The header holds the file's base name and a zero time: same name, same bytes.
        zipped = gzip.GzipFile(filename=path, mode=mode + "b", mtime=0, compresslevel=5)
        return io.TextIOWrapper(zipped, encoding="utf-8", newline="\n")
    return path.open(mode, encoding="utf-8", newline="\n")


def to_line(message: Message) -> str:
    """The recording line of a message (without the newline)."""
    fmt: Format = message.format
    if fmt == "json":
        try:
            payload = message.payload.decode("utf-8")
        except UnicodeDecodeError:
            fmt, payload = "raw", base64.b64encode(message.payload).decode()
    else:
        payload = base64.b64encode(message.payload).decode()
    # orjson writes what json.dumps(ensure_ascii=False, compact separators) does, faster.
    return orjson.dumps(
        {"time": iso(message.time_us), "topic": message.topic, "format": fmt, "payload": payload},
    ).decode()


def from_line(line: str, path: str = "<recording>", number: int = 0) -> Message:
    """Parse one recording line; RecordingError names what is wrong."""
    try:
        # orjson: the same values as json.loads for a line to_line wrote, in a third of the
        # time (whatif and replay read a week's 155,500 lines); its error is a ValueError.
        entry = orjson.loads(line)
        fmt, text, topic = entry["format"], entry["payload"], entry["topic"]
        t_us = to_us(datetime.fromisoformat(entry["time"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(path, number, f"not a recording line ({exc})") from None
    if fmt not in FORMATS or not isinstance(text, str) or not isinstance(topic, str):
        raise RecordingError(path, number, f"format must be one of {FORMATS}, payload a string")
    payload = text.encode("utf-8") if fmt == "json" else base64.b64decode(text)
    return Message(t_us, topic, payload, fmt)


class Recorder:
    """Appends published messages to a recording file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open_text(path, "w")
        self.count = 0

    def write(self, message: Message) -> None:
        """Record one message."""
        self._file.write(to_line(message))
        self._file.write("\n")
        self.count += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


def read(path: Path) -> Iterator[Message]:
    """The messages of a recording, in file order."""
    with open_text(path, "r") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield from_line(line, str(path), number)
