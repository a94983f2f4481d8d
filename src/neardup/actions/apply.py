"""Doing a plan: move, trash, delete (held until purged), hard-link or symlink each file.

Dry run unless `yes`: every check runs and every line is printed, nothing is touched (not
even the journal). Each file is checked just before it is touched (`checks`), its destination
must be free; then its intent (with the folders about to be made for it) is journalled and
fsynced, then the folders are made and it is moved.

Where files go (ROOT is --root, by default the folder holding every file of the result; for
the actions that hold files there, that folder must be one the scan was given or inside one):
  move      DEST/<path under ROOT>
  trash     ROOT/.neardup-trash/<run>/<path under ROOT> (kept until you empty it or purge)
  delete    the same holding folder, until `neardup purge JOURNAL --yes` deletes them for good
  hardlink  the original is held as for trash, a hard link to the keeper takes its place
  symlink   the original is held as for trash, a relative symlink to the keeper takes its place
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import neardup.actions.journal as jr
from neardup.actions.checks import Checker
from neardup.actions.documents import under
from neardup.actions.fileops import (
    Refused,
    cannot_write,
    check_inside,
    make_dirs,
    missing_dirs,
    move_no_clobber,
    working_in,
)
from neardup.actions.plan import Item, Plan
from neardup.actions.roots import Bounds, check_given_root, default_root
from neardup.output.targets import check_file
from neardup.sources.files import TRASH_FOLDER

ACTIONS = ("move", "trash", "delete", "hardlink", "symlink")
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
    # Said in the dry run too: the real run would stop there.
    if journal is not None and os.path.lexists(journal):
        raise ValueError(
            f"the journal {journal} exists: give a new file (journals are never reused)"
        )
    if root is not None:
        check_given_root(plan, root)
    real_root = os.path.realpath(root or default_root(plan, action))
    if not os.path.isdir(real_root):
        raise ValueError(f"the root {real_root} is not a folder")
    run = jr.run_id()
    check_file(str(journal if journal is not None else jr.default_path(run)), "the journal")
    if action == "move":
        assert dest is not None
        if os.path.lexists(dest) and not os.path.isdir(dest):
            # Said up front, so the dry run tells what the real run would meet: every move
            # into a file fails.
            raise ValueError(f"--move {dest} exists and is not a folder: give a folder")
        top = os.path.realpath(dest)
        if under(top, real_root) and TRASH_FOLDER in Path(top).relative_to(real_root).parts:
            raise ValueError(f"the destination is inside a {TRASH_FOLDER} folder")
    else:
        top = os.path.join(real_root, TRASH_FOLDER, run)
    held = contextlib.ExitStack()  # the root's lock, for a real run: one run at a time there
    if yes:
        held.enter_context(working_in(real_root))
    outcome = Outcome(dry_run=not yes)
    checker = Checker(Bounds.of(plan, real_root), action)
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
                for folder in (os.path.dirname(real), os.path.dirname(place)):
                    if (why := cannot_write(folder)) is not None:
                        raise Refused(f"{why}: not touched")
                if not yes:
                    _say(out, "would " + VERBS[action][0], item, real, place, action)
                    outcome.done += 1
                    outcome.bytes += st.st_size
                    continue
                if writer is None:
                    writer = _open_journal(journal, run, plan, action, real_root, top, out)
                    outcome.journal = writer.path
                if action == "move":
                    os.makedirs(top, exist_ok=True)
                folder = os.path.dirname(place)
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
                    "made": missing_dirs(folder),
                    "time": time.time(),
                }
                if action == "symlink":
                    record["link"] = os.path.relpath(keeper_real, os.path.dirname(real))
                writer.write(record)  # before the folders are made: undo removes them if empty
                make_dirs(folder, top if action == "move" else real_root)
                check_inside(folder, top)
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
        held.close()
    return outcome


def _say(out: Printer, verb: str, item: Item, real: str, place: str, action: str) -> None:
    if action in ("hardlink", "symlink"):
        kind = "a hard link" if action == "hardlink" else "a symlink"
        out(f"{verb:11s} {real} with {kind} to {item.keeper} (original held at {place})")
    else:
        out(f"{verb:11s} {real} -> {place}  (keeping {item.keeper})")


def _open_journal(
    path: str | os.PathLike[str] | None,
    run: str,
    plan: Plan,
    action: str,
    root: str,
    top: str,
    out: Printer,
) -> jr.Writer:
    target = Path(path) if path is not None else jr.default_path(run)
    # Said before the file is made, and flushed: a run killed from here on leaves a journal
    # that the user must be able to find.
    out(f"journal: {target}")
    sys.stdout.flush()
    try:
        writer = jr.Writer(target, new=True)
    except OSError as error:  # nothing is touched without a journal: one error, not one a file
        raise ValueError(f"cannot write the journal {target}: {error.strerror or error}") from None
    writer.write(
        {
            "schema": jr.SCHEMA,
            "run": run,
            "action": action,
            "root": root,
            "top": top,
            "made_top": not os.path.exists(top),
            "made_levels": missing_dirs(top),  # every level makedirs(top) creates, outermost first
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
