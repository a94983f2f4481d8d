"""Where items come from: files and folders (paths on stdin with `-`), and video frames."""

from neardup.sources.files import IMAGE_EXTENSIONS, Collected, collect, expand_stdin
from neardup.sources.video import VIDEO_EXTENSIONS, Sampling

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Collected",
    "Sampling",
    "collect",
    "expand_stdin",
]
