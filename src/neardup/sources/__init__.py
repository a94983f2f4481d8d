"""Where items come from: files and folders (paths on stdin with `-`), URLs (fsspec), and
video frames."""

from neardup.sources.files import (
    IMAGE_EXTENSIONS,
    Collected,
    Paths,
    collect,
    expand_stdin,
    one_or_many,
)
from neardup.sources.remote import collect_sources, is_url, read_bytes
from neardup.sources.video import VIDEO_EXTENSIONS, Sampling

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Collected",
    "Paths",
    "Sampling",
    "collect",
    "collect_sources",
    "expand_stdin",
    "is_url",
    "one_or_many",
    "read_bytes",
]
