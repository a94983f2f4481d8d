"""Undo a run from its journal, and purge what a run holds.

Undo reads every intent, done or not (a run killed mid-way leaves the last one without its
`done`), newest first, looks at what is on disk now and puts each file back where it was,
checking it against the sha256 journalled before it was touched. It never overwrites: a path
that holds something else now is reported and left alone. It never writes outside the run's
root: a file whose folder now leads out of it (a folder replaced by a link) is refused, and
folders removed since the run are made again, inside the root only. Running undo again is
harmless (what is back is left as it is), so a killed undo is simply run again: every run
removes the empty folders the act run could have made, whichever entries it restored itself.
A journal cut short before its header was written (a run killed at once) has nothing to undo.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field

import neardup.actions.journal as jr
from neardup.actions.apply import Printer
from neardup.actions.documents import under
from neardup.actions.fileops import (
    Refused,
    cannot_write,
    check_inside,
    make_dirs,
    move_no_clobber,
    prune_empty,
    remove_if_empty,
    tmp_name,
    working_in,
)
from neardup.actions.roots import HOLDS
from neardup.sources.files import TRASH_FOLDER

CUT_SHORT = "the run was cut short before anything was journalled; nothing to {}"


@dataclass(slots=True)
class UndoOutcome:
    restored: int = 0
    in_place: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = True


@dataclass(slots=True)
class PurgeOutcome:
    """What purge did: how many held files went (or would go) for good, and the files it left
    alone and why (not there, or changed: exit code 1)."""

    purged: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = True


def _same_file(a: str, b: str) -> bool:
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _regular_sha(path: str) -> str | None:
    """sha256 of a regular file at `path` (not a link), else None."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    return jr.sha256_of(path)


def _existing_folder(path: str) -> str:
    """The nearest folder of `path` (its own folder or above) that is there now."""
    current = os.path.dirname(path)
    while not os.path.lexists(current) and current != os.path.dirname(current):
        current = os.path.dirname(current)
    return current


def _restore_folder(path: str, root: str, yes: bool) -> str:
    """Check that the folder `path` goes back into is inside `root` once its links are
    resolved (else Refused: a folder replaced by a link must not carry the file out of the
    root), and with `yes` make the levels removed since the run. Returns the nearest level
    that was there, where a failed restore stops removing what was made."""
    folder = os.path.dirname(path)
    if not os.path.isdir(root):
        raise Refused(f"the run's root {root} is not there any more: not made again")
    existing = _existing_folder(path)
    check_inside(existing, root)
    if existing != folder and not under(folder, root):
        raise Refused(f"{folder} is outside {root}: refused")
    if yes and existing != folder:
        make_dirs(folder, root)
    return existing


def _restore_one(
    record: dict[str, object], yes: bool, root: str, unlinked: dict[tuple[int, int], int]
) -> str:
    """Put one file back (inside `root`, the run's real root). Returns "restored",
    "in place"; raises Refused for a conflict. `unlinked` counts, per file (device, inode),
    the names a dry run would have removed so far (a real run sees them gone), and notes
    the keepers it would have put back (as (-1, hash of the path))."""
    op = str(record["op"])
    path = str(record["path"])
    _restore_folder(path, root, yes=False)
    want = str(record["sha256"])
    aside = str(record["held"] if op in ("hardlink", "symlink") else record["to"])
    leftover = tmp_name(aside)
    path_there = os.path.lexists(path)
    path_sha = _regular_sha(path) if path_there else None
    aside_sha = _regular_sha(aside) if os.path.lexists(aside) else None

    ours = path_there and _ours(record, path)
    if path_sha == want and not ours:
        # The original is where it was: the run never moved it, or was cut short after the
        # link and before the unlink (the same file under both names), or after a copy.
        if aside_sha is not None and aside_sha != want and not _same_file(path, aside):
            raise Refused(f"{aside} holds something else now: left alone")
        if yes:
            if aside_sha == want:
                os.unlink(aside)
            if os.path.lexists(leftover):
                os.unlink(leftover)
        return "restored" if aside_sha == want else "in place"

    if path_there and not ours:
        raise Refused(f"{path} holds something else now: left alone (the original is at {aside})")

    source = aside if aside_sha == want else None
    if source is None and _regular_sha(leftover) == want:
        source = leftover  # a cross-file-system copy cut short: the copy is whole
    if source is None:
        where = "not at " + aside if aside_sha is None else f"{aside} changed"
        raise Refused(f"cannot restore {path}: {where}")
    for folder in (os.path.dirname(source), os.path.dirname(path)):
        if (why := cannot_write(folder)) is not None:
            raise Refused(f"cannot restore {path}: {why}")
    # Our hard link may be the keeper's last name (the user deleted the keeper, seeing two
    # equal files): it goes back to the keeper's path, never unlinked.
    keeper = (
        _keeper_to_put_back(record, path, root, unlinked) if ours and op == "hardlink" else None
    )
    if ours and not yes:
        st = os.lstat(path)
        key = (st.st_dev, st.st_ino) if keeper is None else (-1, hash(keeper))  # put back there
        unlinked[key] = unlinked.get(key, 0) + 1
    if yes:
        if keeper is not None:
            _restore_folder(keeper, root, yes=True)
            move_no_clobber(path, keeper)
        elif path_there:
            os.unlink(path)  # our hard link or symlink to the keeper
        existing = _restore_folder(path, root, yes=True)
        try:
            move_no_clobber(source, path, want)
        except (OSError, Refused):
            prune_empty(os.path.dirname(path), existing)  # the folders just made, if empty
            raise
        mtime = int(str(record["mtime_ns"]))
        if os.lstat(path).st_mtime_ns != mtime:
            os.utime(path, ns=(time.time_ns(), mtime), follow_symlinks=False)
    return "restored" if keeper is None else KEEPER_BACK


KEEPER_BACK = "restored, keeper back"
"""`_restore_one`'s answer when the keeper's content, found only under our link, went back to
the keeper's path too."""


def _keeper_to_put_back(
    record: dict[str, object], path: str, root: str, unlinked: dict[tuple[int, int], int]
) -> str | None:
    """The keeper's path when our hard link at `path` is the only name left of the keeper's
    content (removing it would lose that content), else None; Refused when that path holds
    other content now, leads out of the root or cannot be written."""
    keeper = str(record["keeper"])
    st = os.lstat(path)
    if _same_file(path, keeper) or st.st_nlink - unlinked.get((st.st_dev, st.st_ino), 0) > 1:
        return None
    if (-1, hash(keeper)) in unlinked:  # a dry run put the keeper's content back already
        return None
    if os.path.lexists(keeper):
        if _regular_sha(keeper) == jr.sha256_of(path):
            return None  # the keeper rewritten with the same content (a sync tool): kept there
        raise Refused(
            f"{path} is the last copy of its keeper's content and {keeper} holds something "
            "else now: left alone"
        )
    _restore_folder(keeper, root, yes=False)
    if (why := cannot_write(os.path.dirname(keeper))) is not None:
        raise Refused(f"{path} is the last copy of its keeper's content: {why}")
    return keeper


def _ours(record: dict[str, object], path: str) -> bool:
    """Whether `path` is the link the run put in place of the original."""
    op = record["op"]
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if op == "symlink":
        return stat.S_ISLNK(st.st_mode) and os.readlink(path) == record.get("link")
    if op == "hardlink" and stat.S_ISREG(st.st_mode):
        if _same_file(path, str(record["keeper"])):
            return True
        keeper_sha = record.get("keeper_sha256")
        return keeper_sha != record["sha256"] and jr.sha256_of(path) == keeper_sha
    return False


def undo(path: str | os.PathLike[str], *, yes: bool = False, out: Printer = print) -> UndoOutcome:
    """Restore every file a run touched (or, without `yes`, say what would be restored)."""
    outcome = UndoOutcome(dry_run=not yes)
    try:
        journal = jr.read(path)
    except jr.CutShort:
        out(f"{path}: {CUT_SHORT.format('undo')}")
        return outcome
    if not yes:
        out("dry run: nothing is touched; add --yes to do it")
    if journal.torn:
        out(f"note: {journal.torn} journal line(s) cut short by a crash were skipped")
    if journal.entries and all(entry.undone for entry in journal.entries):
        out("already undone: every file of this run was put back by an earlier undo")
    root = str(journal.header["root"])
    held = contextlib.ExitStack()  # the run's root, locked as act locks it
    if yes and os.path.isdir(root):
        held.enter_context(working_in(root))
    writer = jr.Writer(journal.path, new=False) if yes else None
    unlinked: dict[tuple[int, int], int] = {}
    try:
        for entry in reversed(journal.entries):
            record = entry.record
            target = str(record["path"])
            if entry.undone:
                continue
            if entry.purged and not _still_held(record):
                outcome.problems.append((target, "purged for good: cannot restore"))
                out(f"purged      {target}: deleted for good by purge, cannot restore")
                continue
            try:
                state = _restore_one(record, yes, root, unlinked)
            except Refused as why:
                outcome.problems.append((target, str(why)))
                out(f"problem     {target}: {why}")
                continue
            except OSError as error:
                outcome.problems.append((target, f"failed: {error}"))
                out(f"failed      {target}: {error}")
                continue
            aside = str(record.get("held") or record.get("to"))
            if state == KEEPER_BACK:
                said = "put back" if yes else "would put back"
                out(f"{said:11s} {record['keeper']}  (its content's last name was {target})")
            if state in ("restored", KEEPER_BACK):
                outcome.restored += 1
                out(f"{'restored' if yes else 'would restore':11s} {target}  (from {aside})")
            else:
                outcome.in_place += 1
                out(f"{'in place':11s} {target}  (never moved)")
            if writer is not None:
                writer.write({"undone": entry.seq, "time": time.time()})
        if yes:
            _prune(journal)
            if writer is not None:
                writer.write({"undo_end": time.time(), "restored": outcome.restored})
    finally:
        if writer is not None:
            writer.close()
        held.close()
    return outcome


def _still_held(record: dict[str, object]) -> bool:
    """Whether the file a run holds for `record` is still there as it was (a purge journals
    each file before it unlinks it, so one killed in between leaves it held)."""
    held = str(record.get("held") or record.get("to"))
    return _regular_sha(held) == record["sha256"]


def _prune(journal: jr.Journal) -> None:
    """Remove the folders the run made that are empty now, whichever entries this undo or purge
    handled (a killed undo run again skips those already back): the levels each intent says
    were made for it (`made`), the run's own folder `top` when it made it and, for the
    holding actions, every folder under it (all made by the run: its name is the run's); the
    levels above `top` that the run made for it (`made_levels`: `--move new1/new2`)."""
    header = journal.header
    top = str(header["top"])
    root = str(header["root"])
    made_top = bool(header.get("made_top"))
    holds = header.get("action") in HOLDS
    above = [str(level) for level in header.get("made_levels") or []]
    made: set[str] = ({top} if made_top else set()) | set(above)
    guessed: set[str] = set()
    for entry in journal.entries:
        levels = entry.record.get("made")
        if isinstance(levels, list):
            made.update(str(level) for level in levels)
        else:  # written before `made` was journalled: the folder the file went to, as before
            guessed.add(os.path.dirname(str(entry.record.get("held") or entry.record.get("to"))))
    if holds and made_top and os.path.isdir(top) and not os.path.islink(top):
        made.update(folder for folder, _, _ in os.walk(top))
    outermost = above[0] if above else (top if made_top else None)
    stop = root if holds else (os.path.dirname(outermost) if outermost else top)
    for folder in sorted(made | guessed, key=len, reverse=True):
        if folder in guessed:
            prune_empty(folder, stop)
        else:
            remove_if_empty(folder, stop)
    trash = os.path.join(root, TRASH_FOLDER)
    if holds and os.path.dirname(top) == trash:
        # It holds only runs' folders: empty, it goes, whichever run made it (two runs undone
        # oldest first left it: the first could not remove it, the second had not made it).
        remove_if_empty(trash, root)


def purge(path: str | os.PathLike[str], *, yes: bool = False, out: Printer = print) -> PurgeOutcome:
    """Delete for good the files a trash, delete, hardlink or symlink run holds (or, without
    `yes`, say which). A moved file is where the user asked for it, and stays. A held file
    that is gone or changed is left alone and counted as a problem (exit code 1)."""
    try:
        journal = jr.read(path)
    except jr.CutShort:
        out(f"{path}: {CUT_SHORT.format('purge')}")
        return PurgeOutcome(dry_run=not yes)
    if journal.header.get("action") not in HOLDS:
        raise ValueError(f"{path}: a {journal.header.get('action')} run holds nothing to purge")
    if not yes:
        out("dry run: nothing is deleted; add --yes to do it")
    outcome = PurgeOutcome(dry_run=not yes)
    writer = jr.Writer(journal.path, new=False) if yes else None
    try:
        for entry in journal.entries:
            # A purge killed between its record and the unlink left the file held: again.
            if not entry.done or entry.undone or (entry.purged and not _still_held(entry.record)):
                continue
            held = str(entry.record.get("held") or entry.record.get("to"))
            if _regular_sha(held) != entry.record["sha256"]:
                outcome.problems.append((held, "not there or changed; left alone"))
                out(f"problem     {held}: not there or changed; left alone")
                continue
            if writer is not None:
                if not entry.purged:
                    writer.write({"purged": entry.seq, "time": time.time()})
                os.unlink(held)
            outcome.purged += 1
            out(f"{'purged' if yes else 'would purge':11s} {held}")
        if yes:
            _prune(journal)
    finally:
        if writer is not None:
            writer.close()
    return outcome
