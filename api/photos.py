"""Photos of finished orders, kept under the media directory with generated names.

The type is decided by the file's first bytes (JPEG, PNG or WebP), never by the name or the
Content-Type the client sent, and the path is `orders/<order id>/<random hex>.<ext>`, so no
client input ever reaches the file system.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from api.problems import Problem, invalid

_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo written to disk, not yet recorded in the database."""

    file_name: str
    path: Path
    content_type: str
    size_bytes: int
    sha256: bytes


def sniff(head: bytes) -> str | None:
    """The extension for an image's first bytes, or None if it is not JPEG, PNG or WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def store(media_dir: Path, order_id: int, source: BinaryIO, max_bytes: int) -> StoredPhoto:
    """Write an uploaded photo; 422 when it is not an image or too large."""
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Problem(413, f"the photo is larger than {max_bytes // (1024 * 1024)} MB; send a "
                           "smaller one", slug="too-large")
    if not data:
        raise invalid("photo", "the file is empty")
    ext = sniff(data[:16])
    if ext is None:
        raise invalid("photo", "not a JPEG, PNG or WebP image")
    file_name = f"{order_id}/{uuid.uuid4().hex}.{ext}"
    path = media_dir / "orders" / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)
    return StoredPhoto(file_name, path, _TYPES[ext], len(data), hashlib.sha256(data).digest())


def path_of(media_dir: Path, file_name: str) -> Path:
    """The file of a stored photo, refusing anything outside the media directory."""
    base = (media_dir / "orders").resolve()
    path = (base / file_name).resolve()
    if base not in path.parents:
        raise Problem(404, "photo not found", slug="not-found")
    return path
