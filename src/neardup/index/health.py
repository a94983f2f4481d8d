"""What an index holds and whether it is sound: `info` (counts, cluster sizes, settings) and
`check` (a full consistency check, run after crash tests and by `neardup index check`)."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

import numpy as np

from neardup.feature_rows import decode_features
from neardup.index.storage import build_unfinished, read_meta
from neardup.index.view import IndexView
from neardup.records import FileRef

UNFINISHED = (
    "the build did not finish (interrupted): run the same `neardup index build` again to resume it"
)


def info(index: IndexView) -> dict[str, Any]:
    """Counts, cluster sizes and their spread, and the settings the index was built with."""
    meta = read_meta(index.db)
    sizes = index.cluster_sizes()
    histogram: dict[str, int] = {}
    for low, high in ((0, 0), (1, 63), (64, 255), (256, 511), (512, 1023), (1024, 1 << 62)):
        label = f"{low}" if low == high else (f"{low}+" if high > 1 << 40 else f"{low}-{high}")
        histogram[label] = int(((sizes >= low) & (sizes <= high)).sum())
    mean = float(sizes.mean()) if sizes.size else 0.0
    return {
        "format": meta.get("format"),
        "neardup": meta.get("neardup"),
        # An interrupted build: the images it had not stored yet are missing.
        "build": "incomplete" if build_unfinished(meta) else "complete",
        "images": len(index.images),
        "exact_copies": len(index.aliases),
        "clusters": int(sizes.size),
        "trained_on": index.trained_on,
        "cluster_size": {
            "min": int(sizes.min()) if sizes.size else 0,
            "mean": round(mean, 1),
            "max": int(sizes.max()) if sizes.size else 0,
            "histogram": histogram,
        },
        "imbalance": round(float(sizes.max()) / mean, 2) if mean else 0.0,
        "fit": {  # mean cosine to the nearest centroid (see neardup.index.growth)
            "expected": None if index.fit_expected is None else round(index.fit_expected, 4),
            "added_since_training": index.fit_added[1],
            "added_mean": round(index.fit_added[0] / index.fit_added[1], 4)
            if index.fit_added[1]
            else None,
        },
        "settings": {
            "methods": list(index.settings.methods),
            "model": index.settings.model,
            "nprobe": index.settings.nprobe,
            "target_cluster_size": index.settings.cluster_size,
            "threshold": index.settings.threshold,
            "features_version": int(meta.get("features_version", "0")),
        },
    }


def check(index: IndexView) -> list[str]:
    """Problems found by a full consistency check (an empty list means consistent). A
    database too damaged to read on is one problem naming it, not a traceback."""
    try:
        return _check(index)
    except sqlite3.DatabaseError as error:
        return [f"index.sqlite is damaged: {error}"]


def _check(index: IndexView) -> list[str]:
    problems: list[str] = []
    if build_unfinished(read_meta(index.db)):
        problems.append(UNFINISHED)
    status = index.db.execute("PRAGMA integrity_check").fetchone()[0]
    if status != "ok":
        problems.append(f"sqlite integrity: {status}")
    centroids = index.saved_centroids()
    count = index.db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    if count and centroids is None:
        problems.append("images stored but no centroids")
    nlist = len(centroids) if centroids is not None else 0
    problems += index.columns.problems()
    clusters = index.columns.clusters()[index.ids] if index.columns.dim else np.zeros(0)
    bad_cluster = int(((clusters < 0) | (clusters >= max(nlist, 1))).sum())
    if count and bad_cluster:
        problems.append(f"{bad_cluster} images assigned to clusters that do not exist")
    model = index.settings.model
    dim = centroids.shape[1] if centroids is not None else None
    for row_id, path, size, mtime, meta, data in index.db.execute(
        "SELECT id, path, size, mtime_ns, meta, data FROM images"
    ):
        try:
            features = decode_features(FileRef(path, size, mtime), json.loads(meta), data)
        except Exception as error:
            problems.append(f"image {row_id} ({path}) unreadable: {error}")
            continue
        vector = features.embeddings.get(model)
        if vector is None and index.columns.dim and row_id < index.columns.count:
            vector = index.columns.vectors()[row_id]  # format 3: in the vector column only
        if vector is None or (dim is not None and vector.shape != (dim,)):
            problems.append(f"image {row_id} ({path}) has no {model} vector of size {dim}")
    orphans = index.db.execute(
        "SELECT COUNT(*) FROM aliases WHERE image_id NOT IN (SELECT id FROM images)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} exact copies point to images that are not stored")
    problems += stale_copies(index)
    past = index.db.execute(
        "SELECT COUNT(*) FROM images WHERE id >= ?", (index.columns.count,)
    ).fetchone()[0]
    if past:
        problems.append(f"{past} rows past the {index.columns.count} committed slots")
    if len(index.images) != count:
        problems.append(f"{count} rows but {len(index.images)} images loaded")
    return problems


def stale_copies(index: IndexView) -> list[str]:
    """Exact-copy records that no longer hold: the path is stored as an image too, or its
    file changed since it was recorded. Such a record reports the file as identical to an
    image it may no longer be (`index add` of the file records it afresh)."""
    problems: list[str] = []
    both = [
        path
        for (path,) in index.db.execute(
            "SELECT path FROM aliases WHERE path IN (SELECT path FROM images) ORDER BY path"
        )
    ]
    if both:
        problems.append(
            f"{len(both)} exact copies are stored as images too (first: {both[0]}): "
            "`neardup index add` them again"
        )
    stored_too = set(both)
    changed = sorted(
        path
        for path, size, mtime in index.db.execute("SELECT path, size, mtime_ns FROM aliases")
        if path not in stored_too and _changed_file(path, size, mtime)
    )
    if changed:
        problems.append(
            f"{len(changed)} exact copies changed since they were recorded (first: "
            f"{changed[0]}): `neardup index add` them again, or `index remove` them"
        )
    return problems


def _changed_file(path: str, size: int | None, mtime_ns: int | None) -> bool:
    """Whether a local file at this absolute path is there with another size or time than
    recorded. A file that went, a URL, a relative path (relative to a folder unknown here),
    a video frame's key (path#frame) or a record without size and time is not judged."""
    if size is None or mtime_ns is None or not os.path.isabs(path):
        return False
    try:
        found = os.stat(path)
    except OSError:
        return False
    return (found.st_size, found.st_mtime_ns) != (size, mtime_ns)
