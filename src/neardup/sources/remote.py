"""Sources by URL: `s3://bucket/prefix` (with the s3 extra), `file://...` or any fsspec URL,
listed lazily and read as bytes; plain paths go to `neardup.sources.files` as before.

A URL's `FileRef` is keyed for the feature store by the URL, its size and a stable integer
made from its ETag (or, where a store gives none, its modification time) in the `mtime_ns`
field: an object rewritten with other content gets another ETag, so its cached features are
not reused; an unchanged one is never downloaded twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from neardup.records import FileRef, Skipped
from neardup.sources.files import IMAGE_EXTENSIONS, Collected, collect, looks_like_image

HEAD_BYTES = 32
"""Bytes read from an object without an image name to tell whether it is an image."""


def is_url(path: str) -> bool:
    """Whether `path` names an fsspec URL (`s3://...`, `file://...`), not a plain path."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isalnum() and len(scheme) > 1


def read_bytes(path: str) -> bytes:
    """The whole content of a file or URL; raises OSError (with the store's reason) when it
    cannot be read, as `open()` does for a local file."""
    if not is_url(path):
        with open(path, "rb") as handle:
            return handle.read()
    try:
        import fsspec

        with fsspec.open(path, "rb") as handle:
            data: bytes = handle.read()
            return data
    except OSError:
        raise
    except Exception as error:  # a store's own errors (credentials, a refused request)
        raise OSError(f"{type(error).__name__}: {error}") from error


def collect_sources(paths: Iterable[str]) -> Collected:
    """Files under plain paths (`neardup.sources.files.collect`) and objects under URLs, in
    the order given; a URL that cannot be listed is a skip with the reason."""
    paths = list(paths)
    local = [p for p in paths if not is_url(p)]
    result = collect(local) if local else Collected()
    seen = {ref.path for ref in result.files}
    for url in (p for p in paths if is_url(p)):
        for item in list_url(url):
            if isinstance(item, Skipped):
                result.skipped.append(item)
            elif item is None:
                result.ignored += 1
            elif item.path in seen:
                result.aliases += 1
            else:
                seen.add(item.path)
                result.files.append(item)
    return result


def list_url(url: str) -> Iterator[FileRef | Skipped | None]:
    """Each object under `url` (a prefix, recursively, or one object), lazily, one listing
    page at a time: a `FileRef`, a `Skipped` (empty, unreadable), or None for an object that
    is not an image."""
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url)
        if fs.isdir(root):
            walk: Iterable[dict[str, Any]] = _walk(fs, root)
        else:
            walk = [fs.info(root)]
        for info in walk:
            yield _ref(fs, info, named=info["name"].rstrip("/") == root.rstrip("/"))
    except ImportError as error:
        extra = "http" if url.startswith(("http://", "https://")) else "s3"
        yield Skipped(url, f"cannot read URLs: {error} (pip install 'neardup[{extra}]')")
    except FileNotFoundError:
        yield Skipped(url, "no such object or prefix")
    except Exception as error:  # a store's own errors: credentials, a refused request
        yield Skipped(url, f"cannot list: {type(error).__name__}: {error}")


def _walk(fs: Any, root: str) -> Iterator[dict[str, Any]]:
    for _, _, files in fs.walk(root, detail=True):
        for name in sorted(files):
            yield files[name]


def _ref(fs: Any, info: dict[str, Any], named: bool) -> FileRef | Skipped | None:
    url = fs.unstrip_protocol(info["name"])
    image_name = os.path.splitext(info["name"])[1].lower() in IMAGE_EXTENSIONS
    if info.get("size") is None:  # an HTTP index lists names only: the size takes a HEAD
        if not (named or image_name):
            return None  # not probed: a web page lists links to anything
        try:
            info = info | fs.info(info["name"])
        except Exception as error:
            return Skipped(url, f"cannot read: {type(error).__name__}: {error}")
        if info.get("size") is None:
            return Skipped(url, "the server does not give its size: cannot cache it")
        if version_key(info) == 0:  # no ETag nor date: nothing tells a rewrite, never reused
            info = info | {"unversioned": time.time_ns()}
    size = int(info.get("size") or 0)
    if size == 0:
        return Skipped(url, "empty file (0 bytes)") if named or image_name else None
    if not (named or image_name):
        try:
            head = fs.cat_file(info["name"], start=0, end=HEAD_BYTES)
        except Exception as error:
            return Skipped(url, f"unreadable file: {type(error).__name__}: {error}")
        if not looks_like_image(head):
            return None
    return FileRef(url, size, version_key(info))


def version_key(info: dict[str, Any]) -> int:
    """A stable 63-bit integer for the object's version: its ETag where the store gives one,
    else its modification time (what `mtime_ns` holds for a local file)."""
    tag = info.get("ETag") or info.get("etag") or info.get("e_tag")
    if tag is None:
        for key in (
            "mtime",
            "LastModified",
            "last_modified",
            "Last-Modified",
            "created",
            "unversioned",
        ):
            if info.get(key) is not None:
                tag = f"{key}:{info[key]}"
                break
    if tag is None:
        return 0
    digest = hashlib.blake2b(str(tag).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
