"""Features as a cache or index row: a small JSON header describing every array, and one
blob of the arrays' raw little-endian bytes. Never pickled: reading a row can not run code."""

from __future__ import annotations

import functools
import json
import math
import sys
from dataclasses import replace
from typing import Any

import numpy as np

from neardup.records import Features, FileRef

_LITTLE = sys.byteorder == "little"


def encode_features(f: Features, *, leave_out: str | None = None) -> tuple[str, bytes]:
    """A JSON header and one blob holding every array, in header order (all but the
    `leave_out` model's embedding, which an index keeps in its vector column)."""
    arrays: list[tuple[str, np.ndarray]] = []
    if f.pdq is not None:
        arrays.append(("pdq", f.pdq))
    if f.thumb is not None:
        arrays.append(("thumb", f.thumb))
    if f.small is not None:
        arrays.append(("small", f.small))
    arrays += [(f"hash:{k}", v) for k, v in f.hashes.items()]
    arrays += [(f"emb:{k}", v) for k, v in f.embeddings.items() if k != leave_out]
    arrays += [(f"flip:{k}", v) for k, v in f.embeddings_flip.items()]
    arrays += [(f"inset:{k}", v) for k, v in f.embeddings_inset.items()]
    arrays += [(f"dark:{k}", v) for k, v in f.embeddings_dark.items()]
    layout = [(name, _dtype_name(a.dtype), list(a.shape)) for name, a in arrays]
    meta = {
        "width": f.width,
        "height": f.height,
        "format": f.format,
        "bytes_hash": f.bytes_hash,
        "pixel_hash": f.pixel_hash,
        "jpeg_hash": f.jpeg_hash,
        "trimmed": f.trimmed,
        "pdq_quality": f.pdq_quality,
        "turned_back": f.turned_back,
        "transparent": f.transparent,
        "page": list(f.page) if f.page is not None else None,
        "arrays": layout,
    }
    if f.frame is not None:  # a video frame: where in the video (the index keys path#frame)
        meta["frame"], meta["time"] = f.frame, f.time
    blob = b"".join(
        (
            a
            if a.dtype.byteorder in "<|" or (_LITTLE and a.dtype.byteorder == "=")
            else a.astype(a.dtype.newbyteorder("<"))
        ).tobytes()
        for _, a in arrays
    )
    return json.dumps(meta), blob


@functools.cache
def _dtype_name(dtype: np.dtype[Any]) -> str:
    """`str(dtype)`, made once per dtype (numpy builds the name anew on every call: at a
    million rows that cost seconds)."""
    return str(dtype)


@functools.cache
def _dtypes(name: str) -> tuple[np.dtype[Any], np.dtype[Any]]:
    """(as stored: little-endian, as used) for a dtype name; parsing one per array per row cost
    more than the rest of decoding."""
    native = np.dtype(name)
    return native.newbyteorder("<"), native


def _page(value: object) -> tuple[float, float] | None:
    """A row's page facts (absent from rows made before them: the record then lacks the
    feature name "page" and is made again)."""
    if isinstance(value, list) and len(value) == 2:
        return float(value[0]), float(value[1])
    return None


def decode_features(ref: FileRef, meta: dict[str, object], blob: bytes) -> Features:
    f = Features(
        path=ref.path,
        size=ref.size,
        mtime_ns=ref.mtime_ns,
        width=int(meta["width"]),  # type: ignore[call-overload]
        height=int(meta["height"]),  # type: ignore[call-overload]
        format=str(meta["format"]),
        bytes_hash=str(meta["bytes_hash"]),
        pixel_hash=meta["pixel_hash"] if isinstance(meta["pixel_hash"], str) else None,
        jpeg_hash=meta["jpeg_hash"] if isinstance(meta.get("jpeg_hash"), str) else None,  # type: ignore[arg-type]
        trimmed=tuple(meta["trimmed"]) if isinstance(meta["trimmed"], list) else None,  # type: ignore[arg-type]
        pdq_quality=int(meta["pdq_quality"]),  # type: ignore[call-overload]
        turned_back=float(meta.get("turned_back", 1.0)),  # type: ignore[arg-type]
        transparent=meta.get("transparent") is True,  # absent from rows of older versions
        page=_page(meta.get("page")),
        frame=ref.frame,
        time=ref.time,
    )
    offset = 0
    layout = meta["arrays"]
    assert isinstance(layout, list)
    for name, dtype, shape in layout:
        stored, native = _dtypes(dtype)
        count = math.prod(shape)
        array = np.frombuffer(blob, dtype=stored, count=count, offset=offset).reshape(shape)
        # A read-only view of the blob where the byte order already matches (no copy: at a
        # million rows the copies cost as much as the rest of decoding).
        array = array.astype(native, copy=False)
        offset += count * stored.itemsize
        kind, _, key = name.partition(":")
        if kind == "pdq":
            f.pdq = array
        elif kind == "thumb":
            f.thumb = array
        elif kind == "small":
            f.small = array
        elif kind == "hash":
            f.hashes[key] = array
        elif kind == "emb":
            f.embeddings[key] = array
        elif kind == "flip":
            f.embeddings_flip[key] = array
        elif kind == "inset":
            f.embeddings_inset[key] = array
        elif kind == "dark":
            f.embeddings_dark[key] = array
    return f


def merged(new: Features, old: Features) -> Features:
    """`new` with what a row of the same file version and decode size already held that
    `new` lacks (a `cluster` run's row, without PDQ, replaced a scan's, so each of the two
    commands decoded every file again after the other). Both come from one decode, so what
    both hold is equal; the turned-back factor is the model's where either has a model."""
    out = replace(
        new,
        hashes=old.hashes | new.hashes,
        embeddings=old.embeddings | new.embeddings,
        embeddings_flip=old.embeddings_flip | new.embeddings_flip,
        embeddings_inset=old.embeddings_inset | new.embeddings_inset,
        embeddings_dark=old.embeddings_dark | new.embeddings_dark,
    )
    if new.pdq is None and old.pdq is not None:
        out.pdq, out.pdq_quality = old.pdq, old.pdq_quality
    if old.embeddings and not new.embeddings:  # the model's cosine, not PDQ's agreement
        out.turned_back = old.turned_back
    return out
