"""Files and folders: walk them, keep one path per file on disk, list what cannot be read.

A symlink and its target, or two hard links, are the same file (same device and inode), so
they are read once and can never be reported as duplicates of each other. Whether a file is an
image is decided from its first bytes, not its name: a JPEG named `.png` is read, and a text
file named `.png` is skipped with a reason. Files that neither look like nor are named as
images (a README beside the photos) are counted as ignored, not listed. A file not named as
an image is a video when its first bytes say so (`neardup.sources.video`); it becomes one item
per sampled frame.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from neardup.records import FileRef, Skipped
from neardup.sources.video import VIDEO_EXTENSIONS, is_audio, looks_like_video

IMAGE_EXTENSIONS = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
        ".ico",
        ".avif",
        ".heic",
        ".heif",
        ".jp2",
        ".j2k",
        ".tga",
        ".psd",
        ".qoi",
        ".svg",  # not read (vector): listed as skipped with that reason, not left unsaid
        ".svgz",
    ]
)

TRASH_FOLDER = ".neardup-trash"
"""The folder `neardup act` holds removed files in (`neardup.actions`); scans skip it."""
MISSING = "no such file or folder"
"""Why a path given is skipped when nothing is there (a typo: `scan` then exits 2)."""

_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),
    (0, b"II*\x00"),  # TIFF, little-endian
    (0, b"MM\x00*"),  # TIFF, big-endian
    (0, b"\x00\x00\x01\x00"),  # ICO
    (0, b"\x00\x00\x00\x0cjP  "),  # JPEG 2000
    (0, b"qoif"),
    (0, b"8BPS"),  # Photoshop
    (4, b"ftypavif"),
    (4, b"ftypavis"),
    (4, b"ftypheic"),
    (4, b"ftypheix"),
    (4, b"ftypheim"),
    (4, b"ftypheis"),
    (4, b"ftyphevc"),
    (4, b"ftypmif1"),
    (4, b"ftypmsf1"),
)


def looks_like_image(head: bytes) -> bool:
    """Whether the first bytes of a file carry a known image signature."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    if len(head) >= 2 and head[0:1] == b"P" and head[1:2] in b"123456" and len(head[1:2]) == 1:
        return True
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _SIGNATURES)


@dataclass(slots=True)
class Collected:
    """The files to read, what was skipped while finding them, and how many were ignored."""

    files: list[FileRef] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0
    aliases: int = 0
    """Paths that were another name (symlink, hard link, repeated argument) for a file
    already listed."""


Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
"""Path arguments of the API: one path, or several."""


def one_or_many(paths: Paths) -> list[str]:
    """Path arguments as strings: one path (a str or a Path) is one path, not the letters of
    its name (`index.add("photos/")` once walked `/`); bytes are refused, not read byte by
    byte."""
    if isinstance(paths, (bytes, bytearray)):
        raise TypeError("paths must be str or os.PathLike, or a list of them, not bytes")
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    out = []
    for path in paths:
        if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"a path must be str or os.PathLike, got {path!r}")
        out.append(os.fspath(path))
    return out


def read_path_list(stream: Iterable[str]) -> Iterator[str]:
    """Paths from a stream, one per line (as `find` prints them); blank lines ignored."""
    for line in stream:
        path = line.rstrip("\r\n")
        if path:
            yield path


def split_path_list(text: str) -> list[str]:
    """Paths from a list, NUL-separated where it holds a NUL (`find -print0`, which passes
    names with newlines), else one per line; empty entries ignored."""
    if "\0" in text:
        return [path for path in text.split("\0") if path]
    return list(read_path_list(text.split("\n")))  # not splitlines: \x0c, U+2028 are name


def expand_stdin(paths: Iterable[str]) -> list[str]:
    """Replace a `-` argument with the paths read from standard input (one per line, or
    NUL-separated)."""
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.extend(split_path_list(sys.stdin.read()))
        else:
            out.append(path)
    return out


def collect(paths: Iterable[str], *, recursive: bool = True) -> Collected:
    """Find the image files under `paths` (files or folders), each file once."""
    result = Collected()
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()

    def add_file(path: str, st: os.stat_result, named: bool) -> None:
        key = (st.st_dev, st.st_ino)
        if key in seen_files:
            result.aliases += 1
            return
        ext = os.path.splitext(path)[1].lower()
        image_name = ext in IMAGE_EXTENSIONS
        video = False
        if st.st_size == 0:
            if named or image_name or ext in VIDEO_EXTENSIONS:
                seen_files.add(key)
                result.skipped.append(Skipped(path, "empty file (0 bytes)"))
            else:
                result.ignored += 1
            return
        if not image_name:  # image names go to the decoder, which says what is wrong
            try:
                with open(path, "rb") as handle:
                    head = handle.read(32)
            except OSError as error:
                result.skipped.append(Skipped(path, f"unreadable file: {_why(error)}"))
                return
            video = looks_like_video(head)
            if not (video or looks_like_image(head)):
                if ext in VIDEO_EXTENSIONS:
                    seen_files.add(key)
                    reason = _AUDIO if is_audio(head) else _NOT_VIDEO
                    result.skipped.append(Skipped(path, reason))
                    return
                if not named:  # a named file goes to the decoder, which says what it is
                    result.ignored += 1
                    return
        seen_files.add(key)
        ref = FileRef(path, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino, video=video)
        result.files.append(ref)

    def visit(path: str, named: bool) -> None:
        if not utf8_name(path):
            not_utf8(os.fspath(path), named)
            return
        try:
            lst = os.lstat(path)
        except FileNotFoundError:
            result.skipped.append(Skipped(path, MISSING))
            return
        except OSError as error:
            result.skipped.append(Skipped(path, f"cannot stat: {_why(error)}"))
            return
        if stat.S_ISLNK(lst.st_mode):
            try:
                st = os.stat(path)
            except OSError as error:
                target = _readlink(path)
                loop = error.errno == errno.ELOOP
                kind = "symbolic link loop" if loop else "broken symbolic link"
                result.skipped.append(Skipped(path, f"{kind} (to {target!r})"))
                return
        else:
            st = lst
        if stat.S_ISDIR(st.st_mode):
            if named or recursive:
                walk_dir(path, st)
            return
        if stat.S_ISREG(st.st_mode):
            add_file(path, st, named)
        else:  # a FIFO, a device, a socket (or a link to one): never opened, a FIFO would hang
            special(path, named)

    def special(path: str, named: bool) -> None:
        """A file that is not a regular file, given or named as a picture or video: listed
        as skipped (a `fifo.jpg` in a folder must not vanish from the report). Other such
        files in a folder are ignored, as a README is."""
        ext = os.path.splitext(path)[1].lower()
        if named or ext in IMAGE_EXTENSIONS or ext in VIDEO_EXTENSIONS:
            result.skipped.append(Skipped(path, "not a regular file"))
        else:
            result.ignored += 1

    def not_utf8(path: str, named: bool) -> None:
        """A folder, or a file named or named as a picture or video, whose name is not
        UTF-8: listed as skipped. Other files so named are ignored, as they would be."""
        ext = os.path.splitext(path)[1].lower()
        if named or ext in IMAGE_EXTENSIONS or ext in VIDEO_EXTENSIONS or os.path.isdir(path):
            result.skipped.append(Skipped(printable(path), _NOT_UTF8))
        else:
            result.ignored += 1

    def walk_dir(path: str, st: os.stat_result) -> None:
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # a symlink loop or a folder named twice
            return
        seen_dirs.add(key)
        try:
            with os.scandir(path) as entries:
                # Names that are not links first: a file (or folder) reached both ways is
                # reported under its own name, which `act` can then act on (a tester's
                # `album -> photos` put every photo under the link's name, refused by act).
                listed = sorted((_is_link(entry), entry.name) for entry in entries)
            names = [name for _, name in listed]
        except OSError as error:
            result.skipped.append(Skipped(path, f"unreadable folder: {_why(error)}"))
            return
        for name in names:
            if name == TRASH_FOLDER:  # what `neardup act --trash` moved aside is not scanned
                continue
            visit(os.path.join(path, name), named=False)

    for path in paths:
        visit(path, named=True)
    return result


_NOT_UTF8 = (
    "name is not valid UTF-8 (shown with \\x escapes): not read; rename it to UTF-8 "
    "(convmv does it for a whole folder)"
)
_NOT_VIDEO = "not a video we read: unrecognised content (mp4, mov, m4v, mkv, webm, avi are)"
_AUDIO = "an audio file (no video stream): not read"


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def unchanged(path: str, size: int, mtime_ns: int) -> bool:
    """Whether the local file at `path` still has this size and modification time (what
    the caches trust: a file that fails it, or is gone, was changed since)."""
    try:
        found = os.stat(path)
    except OSError:
        return False
    return (found.st_size, found.st_mtime_ns) == (size, mtime_ns)


def utf8_name(path: str | os.PathLike[str]) -> bool:
    """Whether the path is valid UTF-8. Python keeps a name's undecodable bytes as lone
    surrogates, which neither the stores (SQLite) nor the UTF-8 outputs can hold."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(path: str) -> str:
    """The path with bytes that are not UTF-8 written as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _why(error: OSError) -> str:
    return error.strerror.lower() if error.strerror else str(error)


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
