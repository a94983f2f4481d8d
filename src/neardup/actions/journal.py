"""The journal: one JSON object per line (`neardup.journal/1`, docs/act.md), appended and
fsynced before the file it describes is touched, so that whatever happens (a crash, a
`kill -9`, a full disk) `neardup undo` knows every file that may have moved.

Records: a header (`schema`, `run`, `action`, `root`, ...); per file an intent (`seq`, `op`,
`path`, where it went, its sha256, size and mtime) written before acting and a `{"seq": n,
"done": true}` after; `{"undone": n}` and `{"purged": n}` from undo and purge; an `end`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "neardup.journal/1"
CHUNK = 1 << 20


def run_id() -> str:
    """A new run's name: its start time and a few random characters."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def default_path(run: str) -> Path:
    """Where a journal goes unless --journal says: the user's state folder, never inside the
    folders acted on (so an undone folder is left exactly as it was)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(state) / "neardup" / "journals" / f"{run}.jsonl"


def digests(path: str | os.PathLike[str]) -> tuple[str, str, int]:
    """(sha256, BLAKE2b-128, bytes read) of a file's content, in one pass; never follows a
    symlink at the last component."""
    sha = hashlib.sha256()
    blake = hashlib.blake2b(digest_size=16)
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        while block := handle.read(CHUNK):
            sha.update(block)
            blake.update(block)
            size += len(block)
    return sha.hexdigest(), blake.hexdigest(), size


def sha256_of(path: str | os.PathLike[str]) -> str | None:
    """The file's sha256, or None when it is not there (or not a readable regular file)."""
    try:
        return digests(path)[0]
    except OSError:
        return None


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Writer:
    """Appends records to a journal file, each flushed and fsynced before `write` returns."""

    def __init__(self, path: str | os.PathLike[str], *, new: bool) -> None:
        self.path = Path(path)
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: a journal is never overwritten (nor appended to by a second act).
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fsync_dir(self.path.parent)
        else:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._file = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, sort_keys=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True)
class Entry:
    """One file's intent record and what happened to it since."""

    record: dict[str, Any]
    done: bool = False
    undone: bool = False
    purged: bool = False

    @property
    def seq(self) -> int:
        return int(self.record["seq"])


@dataclass(slots=True)
class Journal:
    path: Path
    header: dict[str, Any]
    entries: list[Entry] = field(default_factory=list)
    ended: dict[str, Any] | None = None
    torn: int = 0
    """Lines that could not be read (a last line cut short by a crash)."""


class CutShort(Exception):
    """A journal with no header: its run was killed after making the file and before the
    header was written in full, so before any file was touched."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(f"{path}: the run was cut short before anything was journalled")


def _cut_short(text: str) -> bool:
    """Whether `text` is what a run killed while writing its header leaves: nothing, or a
    first part of the header line (written as one `{"schema": ...` line)."""
    start = '{"schema": "' + SCHEMA + '"'
    text = text.strip()
    return "\n" not in text and (start.startswith(text) or text.startswith(start))


def read(path: str | os.PathLike[str]) -> Journal:
    """Read a journal; a last line torn by a crash is counted, not fatal; a journal cut short
    before its header was written in full raises CutShort (there is nothing to undo)."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    records: list[dict[str, Any]] = []
    torn = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            torn += 1
    if not records and _cut_short(text):
        raise CutShort(path)
    if not records or not isinstance(records[0], dict) or records[0].get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a neardup journal (schema {SCHEMA})")
    journal = Journal(Path(path), records[0], torn=torn)
    by_seq: dict[int, Entry] = {}
    for record in records[1:]:
        if "op" in record and "seq" in record:
            entry = Entry(record)
            by_seq[entry.seq] = entry
            journal.entries.append(entry)
        elif "done" in record and record.get("seq") in by_seq:
            by_seq[record["seq"]].done = True
        elif "undone" in record and record["undone"] in by_seq:
            by_seq[record["undone"]].undone = True
        elif "purged" in record and record["purged"] in by_seq:
            by_seq[record["purged"]].purged = True
        elif "end" in record:
            journal.ended = record
    return journal
