"""Citizens' photos: decoded, turned upright, shrunk, and re-encoded as JPEG without metadata.

A photo from a phone carries EXIF (often the GPS position of the citizen's home, the camera,
the time): none of it survives, because only the pixels are re-encoded. The type is decided
by the file's first bytes (api/photos.py `sniff`), the name is random, and the file lives
under `<media dir>/reports/`, as crew photos live under `orders/`.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from api.photos import sniff
from api.problems import Problem

MAX_SIDE = 1600
# Far above any phone camera; refuses decompression bombs before they are decoded.
MAX_PIXELS = 60_000_000


@dataclass(frozen=True, slots=True)
class ReportPhoto:
    """A photo written to disk, not yet recorded in the database."""

    file_name: str
    path: Path
    size_bytes: int
    width: int
    height: int
    sha256: bytes


def clean_jpeg(data: bytes, max_side: int = MAX_SIDE) -> tuple[bytes, int, int]:
    """The image upright, at most `max_side` pixels wide and high, as JPEG with no metadata."""
    if sniff(data[:16]) is None:
        raise Problem(400, "media is not a JPEG, PNG or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise Problem(400, f"media has more than {MAX_PIXELS} pixels")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Problem(400, "media cannot be read as an image") from exc
    out = io.BytesIO()
    # No exif=, no icc_profile=: nothing but pixels leaves this function.
    rgb.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), rgb.width, rgb.height


def store(media_dir: Path, data: bytes) -> ReportPhoto:
    """Clean the photo and write it under `reports/` with a random name."""
    jpeg, width, height = clean_jpeg(data)
    file_name = f"{uuid.uuid4().hex}.jpg"
    path = media_dir / "reports" / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    with temp.open("wb") as out:
        out.write(jpeg)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)
    return ReportPhoto(file_name, path, len(jpeg), width, height, hashlib.sha256(jpeg).digest())


def path_of(media_dir: Path, file_name: str) -> Path | None:
    """The file of a stored report photo, or None for any other name."""
    if len(file_name) != 36 or not file_name.endswith(".jpg") or \
            any(c not in "0123456789abcdef" for c in file_name[:32]):
        return None
    return media_dir / "reports" / file_name
