"""Where images come from: files and folders (paths on stdin with `-`), and URLs (fsspec)."""

from neardup.sources.files import IMAGE_EXTENSIONS, Collected, collect, expand_stdin
from neardup.sources.remote import collect_sources, is_url, read_bytes

__all__ = [
    "IMAGE_EXTENSIONS",
    "Collected",
    "collect",
    "collect_sources",
    "expand_stdin",
    "is_url",
    "read_bytes",
]
