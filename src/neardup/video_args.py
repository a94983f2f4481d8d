"""The video sampling options shared by `scan`, `compare` and `cluster`: `--fps F` or
`--scenes`, checked here so that a rate no video can be sampled at, or both options at once,
is a usage error (exit 2) before any work rather than a skip of every video."""

from __future__ import annotations

import argparse
import math

from neardup.sources.video import Sampling

DEFAULT_FPS = 1.0
MAX_FPS = 1_000_000
"""The highest --fps taken: far above any video's own rate (above it every frame is kept
anyway), and low enough that a frame's time times the rate stays a finite number of
intervals (at 1e308 a two-second frame's interval is infinite and the video is skipped)."""


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fps",
        type=float,
        # None, not the default rate, so that an --fps given beside --scenes can be refused.
        default=None,
        help=f"video frames kept per second of video (default {DEFAULT_FPS:g})",
    )
    parser.add_argument(
        "--scenes",
        action="store_true",
        help="keep a video's first frame and the first frame after each cut instead of --fps",
    )


def sampling(args: argparse.Namespace) -> Sampling:
    """The sampling the parsed options ask for; ValueError (exit 2) for an --fps that is not
    a finite rate in (0, MAX_FPS], or for --fps beside --scenes, which would ignore it."""
    if args.scenes:
        if args.fps is not None:
            raise ValueError(
                "--scenes keeps a frame at each cut, not --fps frames a second: give one of them"
            )
        return Sampling(scenes=True)
    fps = DEFAULT_FPS if args.fps is None else args.fps
    if not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise ValueError(f"--fps must be a rate above 0 and at most {MAX_FPS}, got {args.fps}")
    return Sampling(fps=fps)
