"""Photos: crews' photos of finished orders and citizens' photos of reports, one way.

Every photo is decoded, turned upright, shrunk to at most 1600 pixels a side and re-encoded
as JPEG without metadata: a phone's EXIF (often the GPS position of a citizen's home, the
camera, the time) never survives, because only the pixels are re-encoded. The type is
decided by the file's first bytes (JPEG, PNG or WebP), never by the name or the Content-Type
the client sent; names are random, so no client input reaches the file system. Crews'
photos live under `<media dir>/orders/<order id>/`, citizens' under `<media dir>/reports/`.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from api.problems import Problem, invalid

MAX_SIDE = 1600
# Far above any phone camera; refuses decompression bombs before they are decoded.
MAX_PIXELS = 60_000_000
CONTENT_TYPE = "image/jpeg"


class PhotoError(ValueError):
    """An upload that is not a usable image; the message says why (`is not …`)."""


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo written to disk, not yet recorded in the database."""

    file_name: str
    path: Path
    size_bytes: int
    width: int
    height: int
    sha256: bytes
    content_type: str = CONTENT_TYPE


def sniff(head: bytes) -> str | None:
    """The extension for an image's first bytes, or None if it is not JPEG, PNG or WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def clean_jpeg(data: bytes, max_side: int = MAX_SIDE) -> tuple[bytes, int, int]:
    """The image upright, at most `max_side` pixels wide and high, as JPEG with no metadata;
    PhotoError when it is not one."""
    if sniff(data[:16]) is None:
        raise PhotoError("is not a JPEG, PNG or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(f"has more than {MAX_PIXELS} pixels")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoError("cannot be read as an image") from exc
    out = io.BytesIO()
    # No exif=, no icc_profile=: nothing but pixels leaves this function.
    rgb.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), rgb.width, rgb.height


def _write(base: Path, file_name: str, data: bytes) -> StoredPhoto:
    """Clean the photo and write it (fsync'd, then renamed into place) as `base/file_name`."""
    jpeg, width, height = clean_jpeg(data)
    path = base / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    with temp.open("wb") as out:
        out.write(jpeg)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)
    return StoredPhoto(file_name, path, len(jpeg), width, height,
                       hashlib.sha256(jpeg).digest())


def store(media_dir: Path, order_id: int, source: BinaryIO, max_bytes: int) -> StoredPhoto:
    """Write a crew's photo of an order; 413 when too large, 422 when it is not an image."""
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Problem(413, f"the photo is larger than {max_bytes // (1024 * 1024)} MB; send a "
                           "smaller one", slug="too-large")
    if not data:
        raise invalid("photo", "the file is empty")
    try:
        return _write(media_dir / "orders", f"{order_id}/{uuid.uuid4().hex}.jpg", data)
    except PhotoError as exc:
        raise invalid("photo", f"the photo {exc}") from exc


def store_report(media_dir: Path, data: bytes) -> StoredPhoto:
    """Write a citizen's photo of a report; 400 (Open311's error) when it is not an image."""
    try:
        return _write(media_dir / "reports", f"{uuid.uuid4().hex}.jpg", data)
    except PhotoError as exc:
        raise Problem(400, f"media {exc}") from exc


def path_of(media_dir: Path, file_name: str) -> Path:
    """The file of a crew's stored photo, refusing anything outside the media directory."""
    base = (media_dir / "orders").resolve()
    path = (base / file_name).resolve()
    if base not in path.parents:
        raise Problem(404, "photo not found", slug="not-found")
    return path


def report_path_of(media_dir: Path, file_name: str) -> Path | None:
    """The file of a citizen's stored photo, or None for any other name."""
    if len(file_name) != 36 or not file_name.endswith(".jpg") or \
            any(c not in "0123456789abcdef" for c in file_name[:32]):
        return None
    return media_dir / "reports" / file_name
