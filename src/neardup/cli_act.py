"""`neardup report`, `act`, `undo` and `purge`: review a result, act on it, take it back.

Exit codes: 0 done (or a dry run that found nothing to refuse); 1 some files were refused or
could not be restored or purged (the rest was done); 2 bad usage (a --reference folder that
is not there, --root needed or outside the folders scanned, a --move DIR that is a file) or an
unreadable or malformed result, decisions file or journal.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from neardup.actions.plan import KEEP_RULES
from neardup.output.table import count, shown


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def add_parsers(commands: Any) -> None:
    r = commands.add_parser(
        "report",
        help="an HTML page to review the groups and export keep/remove decisions",
        description="Write one self-contained HTML page from a scan result (docs/report.md).",
    )
    r.add_argument("result", help="a scan result (neardup scan --json)")
    r.add_argument("-o", "--output", default="report.html", help="default %(default)s")
    r.add_argument(
        "--thumbs",
        choices=["auto", "embed", "folder", "none"],
        default="auto",
        help="thumbnails in the page, in a folder beside it (OUTPUT.files/), or none; "
        "auto (the default) embeds them up to 3,000 images, else uses the folder",
    )
    r.add_argument(
        "--thumb-size", type=int, default=160, help="longer side, pixels (default %(default)s)"
    )
    r.add_argument("--workers", type=int, help="processes making thumbnails (default: all)")
    r.add_argument("--base", help="folder relative paths are relative to (default: the scan's)")

    a = commands.add_parser(
        "act",
        help="move, trash, delete or link the duplicates (dry run unless --yes)",
        description=(
            "Act on a scan result or a decisions file from the report. Dry run unless --yes. "
            "Every action is journalled before the file is touched; `neardup undo JOURNAL` "
            "restores them (docs/act.md)."
        ),
    )
    a.add_argument("source", help="a scan result (JSON) or a decisions file from the report")
    how = a.add_mutually_exclusive_group(required=True)
    how.add_argument("--move", metavar="DIR", help="move each duplicate under DIR")
    how.add_argument(
        "--trash", action="store_true", help="move into ROOT/.neardup-trash/RUN/ (kept)"
    )
    how.add_argument(
        "--hardlink", action="store_true", help="replace each duplicate with a hard link"
    )
    how.add_argument("--symlink", action="store_true", help="replace each with a symlink")
    how.add_argument(
        "--delete",
        action="store_true",
        help="hold in ROOT/.neardup-trash/RUN/ until `neardup purge JOURNAL --yes`",
    )
    a.add_argument(
        "--keep",
        default="keeper",
        metavar="RULE",
        help=f"which copy stays: {', '.join(KEEP_RULES)} or a PATTERN (shell glob on the "
        "path: every match stays, groups without one are left alone); default %(default)s; "
        "not for a decisions file or a leakage result, which say what stays",
    )
    a.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="DIR",
        help="files under DIR are never touched and are kept first (repeatable)",
    )
    a.add_argument(
        "--root",
        help="the folder acted in, one of the folders scanned or inside one; nothing outside it "
        "is touched (default: the folder holding every file; needed to hold files when that is "
        "none of the folders scanned)",
    )
    a.add_argument("--journal", metavar="FILE", help="where the journal goes (a new file)")
    a.add_argument("--base", help="folder relative paths are relative to (default: the scan's)")
    a.add_argument("--yes", action="store_true", help="do it (without it: a dry run)")

    u = commands.add_parser(
        "undo", help="restore every file an act run touched (dry run unless --yes)"
    )
    u.add_argument("journal")
    u.add_argument("--yes", action="store_true", help="do it (without it: a dry run)")

    p = commands.add_parser(
        "purge", help="delete for good what a --delete/--trash/--*link run holds"
    )
    p.add_argument("journal")
    p.add_argument("--yes", action="store_true", help="do it (without it: a dry run)")


def run(args: argparse.Namespace) -> int:
    commands = {"report": _report, "act": _act, "undo": _undo, "purge": _purge}
    try:
        return commands[args.command](args)
    except BrokenPipeError:
        raise  # the reader stopped reading (`| head`): `neardup.cli.main` ends quietly
    except OSError as error:  # an unreadable result or journal, an unwritable output
        print(f"neardup: error: {error}", file=sys.stderr)
        return 2


def _report(args: argparse.Namespace) -> int:
    from neardup.output.report import build_report
    from neardup.output.targets import check_file

    try:
        check_file(args.output, "-o")  # before the thumbnails are made, not after
    except ValueError as error:
        print(f"neardup: error: {error}", file=sys.stderr)
        return 2
    written = build_report(
        args.result,
        args.output,
        thumbs=args.thumbs,
        thumb_side=args.thumb_size,
        workers=args.workers,
        base=args.base,
    )
    groups, thumbs = count(written.groups, "group"), count(written.thumbs, "thumbnail")
    print(f"wrote {written.page} ({groups}, {thumbs})")
    return 0


def _line(text: str) -> None:
    """One line of act's, undo's or purge's output: a newline or other control character in
    a file name is written as an escape, so each file stays on one line."""
    print(shown(text))


def _act(args: argparse.Namespace) -> int:
    from neardup.actions import apply_plan, load_plan

    action = (
        next(name for name in ("trash", "hardlink", "symlink", "delete") if getattr(args, name))
        if args.move is None
        else "move"
    )
    plan = load_plan(args.source, keep=args.keep, references=args.reference, base=args.base)
    outcome = apply_plan(
        plan, action, dest=args.move, root=args.root, journal=args.journal, yes=args.yes, out=_line
    )
    verb = "would be acted on" if outcome.dry_run else "done"
    print(
        f"{count(outcome.done, 'file')} {verb} ({_size(outcome.bytes)}), {len(plan.kept)} kept, "
        f"{len(outcome.refused)} refused"
    )
    if outcome.journal is not None:
        print(f"journal: {outcome.journal}  (undo: neardup undo {outcome.journal} --yes)")
        if action == "delete":
            print(f"held until: neardup purge {outcome.journal} --yes")
    return 1 if outcome.refused else 0


def _undo(args: argparse.Namespace) -> int:
    from neardup.actions import undo

    outcome = undo(args.journal, yes=args.yes, out=_line)
    verb = "would be restored" if outcome.dry_run else "restored"
    print(
        f"{count(outcome.restored, 'file')} {verb}, {outcome.in_place} in place, "
        f"{count(len(outcome.problems), 'problem')}"
    )
    return 1 if outcome.problems else 0


def _purge(args: argparse.Namespace) -> int:
    from neardup.actions import purge

    outcome = purge(args.journal, yes=args.yes, out=_line)
    verb = "purged" if args.yes else "would be purged"
    print(f"{count(outcome.purged, 'file')} {verb}, {count(len(outcome.problems), 'problem')}")
    return 1 if outcome.problems else 0
