"""Doing a plan: move, trash, delete (held until purged), hard-link or symlink each file.

Dry run unless `yes`: every check runs and every line is printed, nothing is touched (not
even the journal). Each file is checked just before it is touched: still a regular file (not
a symlink), inside the root once every link is resolved, unchanged since the scan (size,
mtime and, where the result has it, the BLAKE2b of its bytes), its kept copy still there and
unchanged, its destination free. Then its intent is journalled and fsynced, then it is moved.

Where files go (ROOT is --root, by default the folder holding every file of the result; for
the actions that hold files there, that folder must be one the scan was given or inside one):
  move      DEST/<path under ROOT>
  trash     ROOT/.neardup-trash/<run>/<path under ROOT> (kept until you empty it or purge)
  delete    the same holding folder, until `neardup purge JOURNAL --yes` deletes them for good
  hardlink  the original is held as for trash, a hard link to the keeper takes its place
  symlink   the original is held as for trash, a relative symlink to the keeper takes its place
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import neardup.actions.journal as jr
from neardup.actions.fileops import Refused, check_inside, make_dirs, move_no_clobber
from neardup.actions.plan import Item, Plan, Seen, under
from neardup.sources.files import TRASH_FOLDER

ACTIONS = ("move", "trash", "delete", "hardlink", "symlink")
HOLDS = ("trash", "delete", "hardlink", "symlink")
"""Actions whose files go to the holding folder ROOT/.neardup-trash/<run>/."""
PAUSE_ENV = "NEARDUP_ACT_PAUSE"
"""Seconds to wait after journalling each intent and before touching the file (tests use it
to kill a run at a known point)."""

Printer = Callable[[str], None]

VERBS = {
    "move": ("move", "moved"),
    "trash": ("trash", "trashed"),
    "delete": ("delete", "held"),
    "hardlink": ("replace", "replaced"),
    "symlink": ("replace", "replaced"),
}
"""(dry-run verb, done verb) per action, as printed."""


@dataclass(slots=True)
class Outcome:
    done: int = 0
    bytes: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    journal: Path | None = None
    dry_run: bool = True


def default_root(plan: Plan, action: str = "move") -> str:
    """The folder holding every file the source names. For an action that writes into it (the
    holding folder ROOT/.neardup-trash), that folder must be one the scan was given or inside
    one: two folders scanned together (`scan ~/photos /mnt/usb`) share only a parent nobody
    named, and the trash must not be made there."""
    folders = {os.path.dirname(p) for p in plan.paths} or {os.getcwd()}
    root = os.path.commonpath(sorted(folders))
    if root == os.path.dirname(root):  # "/" (or a drive): far too wide to hold a trash in
        raise ValueError("the files have no common folder below the file system root; give --root")
    if action in HOLDS and not _root_was_scanned(plan, root, folders):
        raise ValueError(
            f"the files lie in folders scanned separately; their common folder {root} is none "
            f"of them, and the {TRASH_FOLDER} folder would be made there: give --root DIR "
            "(the folder acted in, where the trash goes)"
        )
    return root


def _root_was_scanned(plan: Plan, root: str, folders: set[str]) -> bool:
    """Whether `root` is a folder the scan was given or inside one. Where the source records
    the scanned folders (a leakage result), by them; else by what the paths tell: a folder
    holding one of the files directly was scanned (or a file in it was given), and relative
    paths as written begin with the path the scan was given, so when they share no first
    part, their common folder (the scan's working folder) was not given."""
    if root in folders:
        return True
    if plan.scanned:
        real = os.path.realpath(root)
        return any(
            under(root, os.path.normpath(s)) or under(real, os.path.realpath(s))
            for s in plan.scanned
        )
    written = [os.path.expanduser(p).replace(os.sep, "/") for p in plan.written]
    if not written or any(os.path.isabs(p) for p in written):
        return True  # absolute paths do not tell which part was given
    return len({p.split("/", 1)[0] for p in written}) == 1


def _when(ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


class _Checker:
    """The checks made on every file before it is touched."""

    def __init__(self, root: str, action: str) -> None:
        self.root = root
        self.action = action
        self._keepers: dict[str, tuple[os.stat_result, str | None]] = {}

    def changed(self, path: str, st: os.stat_result, seen: Seen, blake: str | None) -> str | None:
        if seen.bytes is not None and st.st_size != seen.bytes:
            return f"changed since the scan: {st.st_size} bytes, the scan saw {seen.bytes}"
        if seen.mtime_ns is not None and st.st_mtime_ns != seen.mtime_ns:
            return (
                f"changed since the scan: modified {_when(st.st_mtime_ns)}, "
                f"the scan saw {_when(seen.mtime_ns)}"
            )
        if seen.blake2b is not None and blake is not None and blake != seen.blake2b:
            return "changed since the scan: its content differs (same size and time)"
        return None

    def keeper(self, item: Item) -> tuple[os.stat_result, str]:
        if item.keeper not in self._keepers:
            try:
                st = os.stat(item.keeper)
            except OSError as error:
                raise Refused(f"the copy kept for it, {item.keeper}, is not there") from error
            sha = None
            reason = self.changed(item.keeper, st, item.keeper_seen, None)
            if reason is None:
                try:
                    sha, blake, _ = jr.digests(os.path.realpath(item.keeper))
                except OSError as error:
                    raise Refused(f"the copy kept for it, {item.keeper}, cannot be read") from error
                reason = self.changed(item.keeper, st, item.keeper_seen, blake)
            if reason is not None:
                raise Refused(f"the copy kept for it, {item.keeper}, {reason}")
            self._keepers[item.keeper] = (st, sha)
        st, sha = self._keepers[item.keeper]
        assert sha is not None
        return st, sha

    def file(self, item: Item) -> tuple[str, os.stat_result, str]:
        """(real path, its stat, sha256) of a file that may be touched, or Refused."""
        try:
            st = os.lstat(item.path)
        except FileNotFoundError as error:
            raise Refused("not there any more") from error
        if stat.S_ISLNK(st.st_mode):
            raise Refused("is a symbolic link: not touched")
        if not stat.S_ISREG(st.st_mode):
            raise Refused("not a regular file")
        real = os.path.realpath(item.path)
        if not under(real, self.root):
            raise Refused(f"outside the target folder {self.root} (at {real}): refused")
        if TRASH_FOLDER in Path(real).relative_to(self.root).parts:
            raise Refused(f"inside a {TRASH_FOLDER} folder: not touched")
        reason = self.changed(real, st, item.seen, None)
        if reason is not None:
            raise Refused(reason)
        try:
            sha, blake, _ = jr.digests(real)
        except OSError as error:
            raise Refused(f"cannot be read: {error.strerror or error}") from error
        reason = self.changed(real, st, item.seen, blake)
        if reason is not None:
            raise Refused(reason)
        keeper_st, _ = self.keeper(item)
        if (keeper_st.st_dev, keeper_st.st_ino) == (st.st_dev, st.st_ino):
            raise Refused(f"is the same file as its keeper {item.keeper} (a hard link)")
        if self.action == "hardlink" and keeper_st.st_dev != st.st_dev:
            raise Refused(f"on another file system than its keeper {item.keeper}: no hard link")
        return real, st, sha


def apply_plan(
    plan: Plan,
    action: str,
    *,
    dest: str | None = None,
    root: str | None = None,
    journal: str | os.PathLike[str] | None = None,
    yes: bool = False,
    out: Printer = print,
) -> Outcome:
    """Act on every file of `plan` (or, without `yes`, say what would be done)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; choose from {', '.join(ACTIONS)}")
    if (action == "move") != (dest is not None):
        raise ValueError("--move needs a destination folder; the other actions take none")
    if yes and journal is not None and os.path.lexists(journal):
        raise ValueError(
            f"the journal {journal} exists: give a new file (journals are never reused)"
        )
    real_root = os.path.realpath(root or default_root(plan, action))
    if not os.path.isdir(real_root):
        raise ValueError(f"the root {real_root} is not a folder")
    run = jr.run_id()
    if action == "move":
        assert dest is not None
        top = os.path.realpath(dest)
        if under(top, real_root) and TRASH_FOLDER in Path(top).relative_to(real_root).parts:
            raise ValueError(f"the destination is inside a {TRASH_FOLDER} folder")
    else:
        top = os.path.join(real_root, TRASH_FOLDER, run)
    outcome = Outcome(dry_run=not yes)
    checker = _Checker(real_root, action)
    writer: jr.Writer | None = None
    pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
    if not yes:
        out("dry run: nothing is touched; add --yes to do it")
    for path, reason in plan.left:
        out(f"left alone  {path}: {reason}")
    seq = 0
    try:
        for item in plan.items:
            try:
                real, st, sha = checker.file(item)
                place = os.path.join(top, os.path.relpath(real, real_root))
                if action == "move" and under(real, top):
                    raise Refused(f"already inside the destination {top}")
                if os.path.lexists(place):
                    raise Refused(f"{place} exists: never overwritten")
                if not yes:
                    _say(out, "would " + VERBS[action][0], item, real, place, action)
                    outcome.done += 1
                    outcome.bytes += st.st_size
                    continue
                if writer is None:
                    writer = _open_journal(journal, run, plan, action, real_root, top)
                    outcome.journal = writer.path
                if action == "move":
                    os.makedirs(top, exist_ok=True)
                make_dirs(os.path.dirname(place), top if action == "move" else real_root)
                check_inside(os.path.dirname(place), top)
                seq += 1
                keeper_real = os.path.realpath(item.keeper)
                record: dict[str, object] = {
                    "seq": seq,
                    "op": action,
                    "path": real,
                    ("held" if action in ("hardlink", "symlink") else "to"): place,
                    "sha256": sha,
                    "bytes": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "mode": stat.S_IMODE(st.st_mode),
                    "keeper": keeper_real,
                    "keeper_sha256": checker.keeper(item)[1],
                    "group": item.group,
                    "time": time.time(),
                }
                if action == "symlink":
                    record["link"] = os.path.relpath(keeper_real, os.path.dirname(real))
                writer.write(record)
                if pause:
                    time.sleep(pause)
                _touch(real, st, place, record, action)
                writer.write({"seq": seq, "done": True})
                _say(out, VERBS[action][1], item, real, place, action)
                outcome.done += 1
                outcome.bytes += st.st_size
            except Refused as why:
                outcome.refused.append((item.path, str(why)))
                out(f"refused     {item.path}: {why}")
            except OSError as error:
                outcome.refused.append((item.path, f"failed: {error}"))
                out(f"failed      {item.path}: {error}")
        if writer is not None:
            writer.write(
                {"end": time.time(), "done": outcome.done, "refused": len(outcome.refused)}
            )
    except KeyboardInterrupt:
        if writer is not None:  # what was done so far is journalled: say where
            out(
                f"interrupted after {outcome.done} files; journal: {writer.path}  "
                f"(undo: neardup undo {writer.path} --yes)"
            )
        raise
    finally:
        if writer is not None:
            writer.close()
    return outcome


def _say(out: Printer, verb: str, item: Item, real: str, place: str, action: str) -> None:
    if action in ("hardlink", "symlink"):
        kind = "a hard link" if action == "hardlink" else "a symlink"
        out(f"{verb:11s} {real} with {kind} to {item.keeper} (original held at {place})")
    else:
        out(f"{verb:11s} {real} -> {place}  (keeping {item.keeper})")


def _open_journal(
    path: str | os.PathLike[str] | None, run: str, plan: Plan, action: str, root: str, top: str
) -> jr.Writer:
    target = Path(path) if path is not None else jr.default_path(run)
    writer = jr.Writer(target, new=True)
    writer.write(
        {
            "schema": jr.SCHEMA,
            "run": run,
            "action": action,
            "root": root,
            "top": top,
            "made_top": not os.path.exists(top),
            "source": os.path.abspath(plan.source),
            "started": time.time(),
            "pid": os.getpid(),
        }
    )
    return writer


def _touch(
    real: str, st: os.stat_result, place: str, record: dict[str, object], action: str
) -> None:
    now = os.lstat(real)
    if (now.st_ino, now.st_size, now.st_mtime_ns) != (st.st_ino, st.st_size, st.st_mtime_ns):
        raise Refused("changed while neardup was working: not touched")
    sha = str(record["sha256"])
    move_no_clobber(real, place, sha)
    if action == "hardlink":
        try:
            os.link(str(record["keeper"]), real)
        except OSError:
            move_no_clobber(place, real, sha)  # put the original back at once
            raise
    elif action == "symlink":
        try:
            os.symlink(str(record["link"]), real)
        except OSError:
            move_no_clobber(place, real, sha)
            raise
