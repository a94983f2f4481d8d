"""Thumbnails for the report: small JPEGs made with Pillow, a batch per call so that a
`LocalEngine` (`neardup.engines.local.map_batches`) makes them on every core."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from neardup.decode import Decoded, DecodeSpec, decode

QUALITY = 70


def _thumb(path: str, side: int) -> bytes | None:
    """A still's thumbnail, decoded as the scan decoded it (upright; 16-bit, float, CMYK and
    alpha brought to RGB as the features see them; a JPEG missing only its end marker read),
    not trimmed: the card shows the whole file."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:  # a file unreadable now (gone, moved): the page says so
        return None
    found = decode(data, path, DecodeSpec(min_side=side, trim=False), hash_pixels=False)
    if not isinstance(found, Decoded):  # truncated now, or a decompression bomb
        return None
    picture = found.picture if found.picture is not None else Image.fromarray(found.rgb)
    return _jpeg(picture.copy(), side)


def make_thumbs(items: list[tuple[str, int | None]], side: int) -> list[bytes | None]:
    """One JPEG (longer side at most `side`) per (path, frame), frame None for a still, or
    None where it cannot be read. Each video is opened once for all its frames asked."""
    frames: dict[str, set[int]] = {}
    for path, frame in items:
        if frame is not None:
            frames.setdefault(path, set()).add(frame)
    decoded = {path: _frames(path, wanted, 2 * side) for path, wanted in frames.items()}
    out: list[bytes | None] = []
    for path, frame in items:
        if frame is None:
            out.append(_thumb(path, side))
            continue
        rgb = decoded[path].get(frame)
        out.append(None if rgb is None else _jpeg(Image.fromarray(rgb), side))
    return out


def _frames(path: str, wanted: set[int], width: int) -> dict[int, Any]:
    """The wanted frames, scaled to `width` as decoded (a 4K frame would be 25 MB each)."""
    from neardup.sources.video_frames import frames_at

    try:
        return frames_at(path, wanted, width=width)
    except Exception:  # a video unreadable now: those cards say "no thumbnail"
        return {}


def _jpeg(picture: Image.Image, side: int) -> bytes:
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
