"""File moves that never overwrite and never leave a folder they should stay in.

A move is `link(src, dst)` then `unlink(src)`: link fails when `dst` exists, so nothing is ever
overwritten, and a crash between the two leaves the file under both names (never under none).
Across file systems the file is copied to a temporary name beside `dst`, fsynced, checked
against its sha256, linked into place and only then removed from `src`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator

from neardup.actions.documents import under
from neardup.actions.journal import fsync_dir, sha256_of

NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


class Refused(Exception):
    """A file the action will not touch, and why (printed, never a crash)."""


@contextlib.contextmanager
def working_in(folder: str) -> Iterator[None]:
    """Hold `folder`'s lock while a run changes files under it. A second `act` or `undo` in the
    same folder is refused at once (a tester's two runs at once each failed on the other's
    moved files and left hard-linked copies in the trash)."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(
                f"another neardup act or undo is changing files in {folder}: let it finish"
            ) from None
        yield
    finally:
        os.close(fd)


def tmp_name(dst: str) -> str:
    """Where a cross-file-system copy is written before it is linked into place."""
    folder, name = os.path.split(dst)
    return os.path.join(folder, f".{name}.neardup-tmp")


def move_no_clobber(src: str, dst: str, sha256: str | None = None) -> None:
    """Move the file `src` to `dst`, which must not exist; `sha256` checks a copy across file
    systems before the original goes."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError as error:
        raise Refused(f"{dst} exists: never overwritten") from error
    except OSError as error:
        if error.errno == errno.EXDEV:
            _copy_across(src, dst, sha256)
        elif error.errno in NO_HARD_LINKS:
            # A file system without hard links (FAT, some network mounts): check, then rename.
            if os.path.lexists(dst):
                raise Refused(f"{dst} exists: never overwritten") from error
            os.rename(src, dst)
            fsync_dir(os.path.dirname(dst))
            fsync_dir(os.path.dirname(src))
            return
        else:
            raise
    else:
        fsync_dir(os.path.dirname(dst))
        _unlink_or_undo(src, dst)
    fsync_dir(os.path.dirname(src))


def _unlink_or_undo(src: str, dst: str, sha256: str | None = None) -> None:
    """Remove `src`, now also at `dst`; if it cannot go (a read-only folder) but still holds
    the same file, remove `dst` instead, so a failed move leaves no second name behind."""
    try:
        os.unlink(src)
    except OSError:
        if _same_file(src, dst, sha256):  # else `src` went or changed: `dst` may be the only copy
            with contextlib.suppress(OSError):
                os.unlink(dst)
        raise


def _same_file(src: str, dst: str, sha256: str | None) -> bool:
    """Whether `src` still holds what was moved to `dst`: the same inode (a hard link), or
    for a copy across file systems the same content (by `sha256` where given, else size)."""
    try:
        a, b = os.lstat(src), os.lstat(dst)
    except OSError:
        return False
    if os.path.samestat(a, b):
        return True
    if a.st_size != b.st_size:
        return False
    return sha256 is None or sha256_of(src) == sha256


def _copy_across(src: str, dst: str, sha256: str | None) -> None:
    tmp = tmp_name(dst)
    fd = _locked_tmp(tmp)
    try:
        # The lock is held until the copy is linked into place or gone: a later run that
        # finds the temporary name unlocked knows it is a killed run's partial copy.
        with open(src, "rb") as source, os.fdopen(os.dup(fd), "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        _copy_owner(src, tmp)  # before the mode: a change of owner clears set-id bits
        shutil.copystat(src, tmp, follow_symlinks=False)
        if sha256 is not None and sha256_of(tmp) != sha256:
            raise Refused(f"the copy of {src} on the other file system does not match it")
        try:
            os.link(tmp, dst)
        except FileExistsError as error:
            raise Refused(f"{dst} exists: never overwritten") from error
        except OSError as error:
            if error.errno not in NO_HARD_LINKS or os.path.lexists(dst):
                raise
            os.rename(tmp, dst)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.close(fd)
    fsync_dir(os.path.dirname(dst))
    _unlink_or_undo(src, dst, sha256)


def _locked_tmp(tmp: str) -> int:
    """A new file at `tmp`, open for writing and locked. One there already is a killed run's
    partial copy when no process holds its lock (never the only copy of anything: the file
    is still at its source, or already linked at its destination): it is removed. One that is
    locked is another run's copy in progress: refused. Where the file system has no locks a
    new copy goes unlocked, as before, and a leftover is refused with what to do."""
    import fcntl

    for _ in range(3):
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            _remove_leftover(tmp)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another run took it between its making and this lock
            os.close(fd)
            continue
        except OSError:  # no locks here (some network file systems)
            return fd
        if os.path.samestat(os.fstat(fd), os.lstat(tmp)):
            return fd
        os.close(fd)  # replaced before the lock was taken: try again
    raise Refused(f"{tmp} keeps being made by another process")


IN_THE_WAY = "is in the way and is not a copy neardup left: not touched"


def _remove_leftover(tmp: str) -> None:
    """Remove a killed run's partial copy at `tmp`; refuse one that is not that."""
    import fcntl
    import stat

    try:
        fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return  # gone meanwhile
    except OSError as error:  # a link or something else neardup never makes there
        raise Refused(f"{tmp} {IN_THE_WAY}") from error
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(f"{tmp} {IN_THE_WAY}")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(f"{tmp} is being written by another neardup run") from None
        except OSError:
            raise Refused(
                f"{tmp} is left from an interrupted run and cannot be checked here (no file "
                "locks): remove it, then run again"
            ) from None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    finally:
        os.close(fd)  # the lock goes with it


def _copy_owner(src: str, dst: str) -> None:
    """Give `dst` the owner and group of `src`, as `mv` does (where this user may)."""
    st = os.lstat(src)
    with contextlib.suppress(PermissionError):
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)


def cannot_write(folder: str) -> str | None:
    """Why no file can be added to or removed from `folder` (its nearest level that is there,
    where a missing one would be made), or None: said before anything is touched, so that a
    dry run tells what the real run would meet."""
    existing = folder
    while not os.path.isdir(existing) and existing != os.path.dirname(existing):
        existing = os.path.dirname(existing)
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    return f"cannot write in {existing} (permission denied)"


def missing_dirs(folder: str) -> list[str]:
    """The levels of `folder` that are not there now, outermost first: those `make_dirs`
    creates, journalled before it does so that undo removes exactly these once empty."""
    missing: list[str] = []
    current = folder
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    return missing[::-1]


def make_dirs(folder: str, top: str) -> None:
    """Create `folder` (inside `top`, both real absolute paths) level by level, and refuse when
    an existing level is a link leading out of `top`."""
    if not under(folder, top):
        raise Refused(f"{folder} is outside {top}")
    missing = missing_dirs(folder)
    check_inside(os.path.dirname(missing[0]) if missing else folder, top)
    for level in missing:
        with contextlib.suppress(FileExistsError):
            os.mkdir(level, 0o755)
        check_inside(level, top)


def check_inside(path: str, top: str) -> None:
    """Refuse when `path`, its links resolved, is not inside `top` (a real path)."""
    real = os.path.realpath(path)
    if not under(real, top):
        raise Refused(f"{path} leads out of {top} (to {real}): refused")


def remove_if_empty(folder: str, stop: str) -> bool:
    """Remove `folder` if it is an empty folder strictly inside `stop`, also once links are
    resolved: a level replaced by a link must not lead the removal out."""
    folder, stop = os.path.normpath(folder), os.path.normpath(stop)
    real, real_stop = os.path.realpath(folder), os.path.realpath(stop)
    if not (under(folder, stop) and folder != stop and under(real, real_stop)):
        return False
    if real == real_stop:
        return False
    try:
        os.rmdir(folder)
    except OSError:  # not empty, not a folder, or gone: it stays as it is
        return False
    return True


def prune_empty(folder: str, stop: str) -> None:
    """Remove `folder` and its parents while they are empty, never `stop` or above it."""
    current = os.path.normpath(folder)
    while remove_if_empty(current, stop):
        current = os.path.dirname(current)
