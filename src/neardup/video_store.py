"""Video frames in the feature store, so an unchanged video is not decoded twice.

Each kept frame is an ordinary store row keyed `path#frame` (`FileRef.key`), checked against
the video's size and mtime like any file. Which frames a video gave at a given sampling, and
what was wrong with it, is one row of the `videos` table beside the store's own: a rescan
reads that row, then the frames' rows; if any is missing (a features version change, a crash
between the two writes) the video is simply read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict

from neardup.features.extract import FeatureConfig
from neardup.features.frames import video_items
from neardup.records import Features, FileRef, Skipped
from neardup.sources.video import READER_VERSION, Sampling
from neardup.store import FeatureStore, write_rows
from neardup.store_keys import row_key

_TABLE = """CREATE TABLE IF NOT EXISTS videos (
    path TEXT, sampling TEXT, size INTEGER, mtime_ns INTEGER, frames TEXT, problem TEXT,
    PRIMARY KEY (path, sampling))"""
_NOT_CACHED = ("video needs PyAV",)
"""Problems of this machine, not of the file: never remembered (nor a refusal under this run's
--max-pixels, which the next run may raise)."""


def _sampling_key(sampling: Sampling) -> str:
    """The row's key beside the path: the sampling, and how frames are read (a video stored
    by an older reader, its frames sideways or cut short at a damaged packet, is read again)."""
    return json.dumps(asdict(sampling) | {"reader": READER_VERSION}, sort_keys=True)


def _frame_ref(video: FileRef, frame: int | None, time: float | None) -> FileRef:
    return FileRef(
        video.path, video.size, video.mtime_ns, video.dev, video.inode, frame=frame, time=time
    )


def cached(
    store: FeatureStore, video: FileRef, sampling: Sampling, needed: set[str]
) -> list[Features | Skipped] | None:
    """The video's stored frames (and skip), or None when it must be read again."""
    if store.stale or not store.has_table("videos"):
        return None
    row = store.db.execute(
        "SELECT size, mtime_ns, frames, problem FROM videos WHERE path=? AND sampling=?",
        (row_key(video.path), _sampling_key(sampling)),
    ).fetchone()
    if row is None or row[0] != video.size or row[1] != video.mtime_ns:
        return None
    if row[3] is not None and "--max-pixels" in row[3]:  # stored by an older version
        return None
    refs = [_frame_ref(video, int(i), float(t)) for i, t in json.loads(row[2])]
    out: list[Features | Skipped] = []
    for _, item in store.lookup(refs, needed):
        if not isinstance(item, Features):
            return None
        out.append(item)
    if row[3] is not None:
        out.append(Skipped(video.path, row[3]))
    return out


def remember(
    store: FeatureStore,
    video: FileRef,
    sampling: Sampling,
    items: list[Features | Skipped],
    needed: set[str],
) -> None:
    """Store the frames (one transaction), then the row that lists them."""
    frames = [f for f in items if isinstance(f, Features)]
    problem = next((s.reason for s in items if isinstance(s, Skipped)), None)
    if problem is not None and (problem.startswith(_NOT_CACHED) or "--max-pixels" in problem):
        return
    store.put(((_frame_ref(video, f.frame, f.time), f) for f in frames), needed)
    if not store.ensure(_TABLE):
        return  # a read-only store: read, never written
    row = (
        row_key(video.path),
        _sampling_key(sampling),
        video.size,
        video.mtime_ns,
        json.dumps([[f.frame, f.time] for f in frames]),
        problem,
    )
    write_rows(store.db, "INSERT OR REPLACE INTO videos VALUES (?, ?, ?, ?, ?, ?)", [row])


def video_features(
    videos: list[FileRef], config: FeatureConfig, workers: int, store: FeatureStore | None
) -> tuple[list[Features], list[Skipped], int]:
    """Every kept frame of `videos` and a skip for each video broken in part or whole, from
    the store where the video is unchanged; also how many frames came from the store."""
    frames: list[Features] = []
    skipped: list[Skipped] = []
    from_store = 0
    needed = config.names()
    todo: list[FileRef] = []
    for video in videos:
        items = cached(store, video, config.video, needed) if store is not None else None
        if items is None:
            todo.append(video)
            continue
        from_store += sum(isinstance(i, Features) for i in items)
        _split(items, frames, skipped)
    for video, items in _read(todo, config, workers):
        if store is not None:
            remember(store, video, config.video, items, needed)
        _split(items, frames, skipped)
    return frames, skipped, from_store


def _read(
    videos: list[FileRef], config: FeatureConfig, workers: int
) -> Iterator[tuple[FileRef, list[Features | Skipped]]]:
    if videos:
        yield from video_items(videos, config, workers)


def _split(items: list[Features | Skipped], frames: list[Features], skipped: list[Skipped]) -> None:
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            frames.append(item)
