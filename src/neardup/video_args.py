"""The video sampling options shared by `scan` and `cluster`: `--fps F` or `--scenes`."""

from __future__ import annotations

import argparse

from neardup.sources.video import Sampling


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fps",
        type=float,
        default=1.0,
        help="video frames kept per second of video (default %(default)s)",
    )
    parser.add_argument(
        "--scenes",
        action="store_true",
        help="keep a video's first frame and the first frame after each cut instead of --fps",
    )


def sampling(args: argparse.Namespace) -> Sampling:
    """The sampling the parsed options ask for (ValueError for a bad --fps)."""
    return Sampling(fps=args.fps, scenes=args.scenes)
