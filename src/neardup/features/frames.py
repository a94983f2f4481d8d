"""The per-video stage: decode a video once and compute every requested feature of each kept
frame, as `extract_batch` does for a still image.

A frame's `bytes_hash` is the hash of its pixels (a video's bytes say nothing about one
frame), so two identical frames, or a frame and a lossless export of it, are exact copies.
Frames are embedded in batches of `FRAME_BATCH` as they come, so memory stays flat however
long the video is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from neardup.decode import RGBArray, decode_array
from neardup.engines.local import INLINE_BELOW, map_batches
from neardup.features.extract import FeatureConfig, embed_pictures, features_of
from neardup.records import Features, FileRef, Skipped
from neardup.sources.video import FrameReader

FRAME_BATCH = 32


def extract_videos(videos: list[FileRef], config: FeatureConfig) -> list[list[Features | Skipped]]:
    """For each video, in order: its kept frames' features, then a `Skipped` if part (or all)
    of it could not be read."""
    return [_one_video(video, config) for video in videos]


def _one_video(video: FileRef, config: FeatureConfig) -> list[Features | Skipped]:
    out: list[Features | Skipped] = []
    pending: list[tuple[Features, RGBArray]] = []
    reader = FrameReader(video, config.video, config.decode.max_pixels)
    for frame in reader:
        decoded = decode_array(frame.rgb, f"{frame.codec} video frame", config.decode)
        content = decoded.pixel_hash or ""
        features = features_of(frame.ref, decoded, config, video.size, content)
        pending.append((features, decoded.rgb))
        if len(pending) >= FRAME_BATCH:
            embed_pictures(pending, config)
            out.extend(f for f, _ in pending)
            pending = []
    embed_pictures(pending, config)
    out.extend(f for f, _ in pending)
    skipped = reader.skipped()
    if skipped is not None:
        out.append(skipped)
    return out


def video_items(
    videos: list[FileRef], config: FeatureConfig, workers: int
) -> Iterator[tuple[FileRef, list[Features | Skipped]]]:
    """Each video with its kept frames' features and, if part or all of it could not be read,
    a skip record (one video per task, in worker processes when there are many)."""
    inline = workers <= 1 or len(videos) < INLINE_BELOW
    run_config = replace(config, threads=workers if inline else 1)
    for chunk, results in map_batches(extract_videos, videos, run_config, workers=workers, chunk=1):
        yield from zip(chunk, results, strict=True)
