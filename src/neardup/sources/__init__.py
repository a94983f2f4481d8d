"""Where images come from: files and folders (paths on stdin with `-`)."""

from neardup.sources.files import IMAGE_EXTENSIONS, Collected, collect, expand_stdin

__all__ = ["IMAGE_EXTENSIONS", "Collected", "collect", "expand_stdin"]
