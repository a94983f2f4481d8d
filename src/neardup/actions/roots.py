"""Where act may work: ROOT (the folder acted in), the folders the scan was given, and where a
kept copy may lie.

A file acted on must lie in ROOT and, where the result records the scanned folders, in one of
them, once every link is resolved; a kept copy must lie in ROOT or a scanned folder too, so a
group is never emptied in favour of a link leading out of the folders the user gave (the
link's target may be unplugged or cleaned up later). An explicit --root must be a scanned
folder or inside one, as the default is.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from neardup.actions.documents import under
from neardup.actions.plan import Plan
from neardup.sources.files import TRASH_FOLDER

HOLDS = ("trash", "delete", "hardlink", "symlink")
"""Actions whose files go to the holding folder ROOT/.neardup-trash/<run>/."""


def _common_folder(plan: Plan) -> tuple[str, set[str]]:
    """(the folder holding every file the source names, the files' own folders)."""
    folders = {os.path.dirname(p) for p in plan.paths} or {os.getcwd()}
    return os.path.commonpath(sorted(folders)), folders


def default_root(plan: Plan, action: str = "move") -> str:
    """The folder holding every file the source names. For an action that writes into it (the
    holding folder ROOT/.neardup-trash), that folder must be one the scan was given or inside
    one: two folders scanned together (`scan ~/photos /mnt/usb`) share only a parent nobody
    named, and the trash must not be made there."""
    root, folders = _common_folder(plan)
    if root == os.path.dirname(root):  # "/" (or a drive): far too wide to hold a trash in
        raise ValueError("the files have no common folder below the file system root; give --root")
    if action in HOLDS and not _root_was_scanned(plan, root, folders):
        raise ValueError(
            f"the files lie in folders scanned separately; their common folder {root} is none "
            f"of them, and the {TRASH_FOLDER} folder would be made there: give --root DIR "
            "(the folder acted in, where the trash goes)"
        )
    return root


def _inside_scanned(plan: Plan, path: str) -> bool:
    """Whether `path` (absolute) is a folder the scan was given or inside one, as written or
    with its links resolved."""
    real = os.path.realpath(path)
    return any(
        under(path, os.path.normpath(s)) or under(real, os.path.realpath(s)) for s in plan.scanned
    )


def _root_was_scanned(plan: Plan, root: str, folders: set[str]) -> bool:
    """Whether `root` is a folder the scan was given or inside one. Where the source records
    the scanned folders (a leakage result), by them; else by what the paths tell: a folder
    holding one of the files directly was scanned (or a file in it was given), and relative
    paths as written begin with the path the scan was given, so when they share no first
    part, their common folder (the scan's working folder) was not given."""
    if root in folders:
        return True
    if plan.scanned:
        return _inside_scanned(plan, root)
    # Normalised: `lib/../outside/x.jpg` begins with `outside`, not with the folder given.
    written = [os.path.normpath(os.path.expanduser(p)).replace(os.sep, "/") for p in plan.written]
    if not written or any(os.path.isabs(p) for p in written):
        return True  # absolute paths do not tell which part was given
    return len({p.split("/", 1)[0] for p in written}) == 1


def check_given_root(plan: Plan, root: str) -> None:
    """Refuse (ValueError) an explicit --root that is neither a scanned folder nor inside one,
    where the result records them: `--root /` would put the trash at /.neardup-trash and let
    any file under / be acted on. Older results, which do not record them, are judged by the
    paths as before (the root check on each file)."""
    given = os.path.normpath(os.path.abspath(root))
    if plan.scanned and not _inside_scanned(plan, given):
        raise ValueError(
            f"--root {root} is none of the folders scanned ({', '.join(plan.scanned)}) nor "
            "inside one: give one of them or a folder inside one"
        )


@dataclass(frozen=True, slots=True)
class Bounds:
    """The folders a file acted on, and its kept copy, must lie in (real paths)."""

    root: str
    scanned: tuple[str, ...]
    """The scanned folders, links resolved; empty where the result does not record them."""
    keep_in: tuple[str, ...]
    """Where a kept copy may lie: the scanned folders or, where those are not recorded, ROOT
    and the folder holding every file named (not ROOT where they are: a --move's default
    ROOT may hold more than was scanned)."""
    index_keepers: bool

    @classmethod
    def of(cls, plan: Plan, real_root: str) -> Bounds:
        scanned = tuple(os.path.realpath(s) for s in plan.scanned)
        keep_in = scanned or (real_root, os.path.realpath(_common_folder(plan)[0]))
        return cls(real_root, scanned, keep_in, plan.index_keepers)

    def file_outside(self, real: str) -> str | None:
        """Why the file at `real` (its links resolved) must not be acted on, or None."""
        if not under(real, self.root):
            return f"outside the target folder {self.root} (at {real}): refused"
        if self.scanned and not any(under(real, s) for s in self.scanned):
            return f"outside the folders scanned, {', '.join(self.scanned)} (at {real}): refused"
        return None

    def keeper_outside(self, keeper: str) -> str | None:
        """Why the copy `keeper` cannot be the one kept, or None: it lies (once its links are
        resolved) outside ROOT and the scanned folders. Against a saved index the copies kept
        are the index's images, wherever it holds them, so there only a link is refused."""
        real = os.path.realpath(keeper)
        if any(under(real, folder) for folder in self.keep_in):
            return None
        if self.index_keepers:
            try:
                if not stat.S_ISLNK(os.lstat(keeper).st_mode):
                    return None
            except OSError:
                return None  # not there: said by the checks that follow
        return (
            f"lies outside the folders acted in once its links are resolved (at {real}): a "
            "copy kept out there may go away; its group is left alone"
        )
