"""`neardup index ...`: argument parsing and printing for the persistent index
(`neardup.index.catalog`)."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neardup.cli_engine import add_engine_args, engine_from
from neardup.cli_types import require_paths
from neardup.differences_args import add_differences_argument, differences_setting
from neardup.index.catalog import ImageIndex
from neardup.index.health import UNFINISHED
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE
from neardup.index.report import IndexReport
from neardup.index.storage import IndexDamaged, build_unfinished, read_meta
from neardup.output import json as json_out
from neardup.output import table
from neardup.output.progress import ProgressBar
from neardup.output.targets import check_file, check_folder
from neardup.records import Features
from neardup.scoring import PRESETS
from neardup.sources import expand_stdin
from neardup.sources.files import unchanged
from neardup.sources.remote import is_url


def add_parser(commands: Any) -> None:
    """Register `neardup index` and its sub-commands."""
    index = commands.add_parser(
        "index",
        help="a saved index: k-means clusters; new images compared only inside theirs",
        description="Build, grow and query a persistent duplicate index (IVF: saved k-means "
        "centroids, each image compared only with the members of its nearest clusters).",
    )
    sub = index.add_subparsers(dest="index_command", required=True)

    def folder(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", required=True, metavar="DIR", help="the index folder")

    def reading(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="+", help="folders, files, or - for paths on stdin")
        folder(p)
        p.add_argument(
            "--cache",
            metavar="FILE",
            help="cache of features and checked pairs (default ~/.cache/neardup)",
        )
        p.add_argument("--no-cache", action="store_true")
        p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
        add_engine_args(p)
        p.add_argument("--json", metavar="FILE", help="write the report as JSON ('-' for stdout)")
        p.add_argument(
            "--quiet", "-q", action="store_true", help="no line per image (skips still shown)"
        )

    build = sub.add_parser("build", help="index images: features, k-means, every image assigned")
    reading(build)
    build.add_argument("--method", default="default", help="as for scan; needs an embedding")
    build.add_argument(
        "--nprobe", type=int, default=DEFAULT_NPROBE, help="clusters probed (default %(default)s)"
    )
    build.add_argument(
        "--cluster-size",
        type=int,
        default=CLUSTER_SIZE,
        help="target images per cluster (clusters = images / this); default %(default)s",
    )
    build.add_argument(
        "--preset", choices=list(PRESETS), default="default", help="cut (default %(default)s)"
    )
    build.add_argument("--threshold", type=float, help="confidence cut (overrides --preset)")
    reading(sub.add_parser("add", help="report each new image's duplicates, then store it"))
    reading(sub.add_parser("query", help="report each image's duplicates; store nothing"))
    remove = sub.add_parser("remove", help="remove images (a folder removes all under it)")
    remove.add_argument("paths", nargs="+")
    folder(remove)
    dup = sub.add_parser("duplicates", help="every duplicate group in the index (scan's JSON)")
    folder(dup)
    dup.add_argument("--preset", choices=list(PRESETS), help="cut (default: the index's own)")
    dup.add_argument("--threshold", type=float, help="confidence cut (overrides --preset)")
    dup.add_argument("--json", metavar="FILE", help="write the result as JSON ('-' for stdout)")
    dup.add_argument("--csv", metavar="FILE", help="write the pairs as CSV ('-' for stdout)")
    dup.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    dup.add_argument(
        "--cache", metavar="FILE", help="cache of checked pairs (default ~/.cache/neardup)"
    )
    dup.add_argument("--no-cache", action="store_true")
    dup.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    add_differences_argument(dup)
    add_engine_args(dup)
    save = sub.add_parser("save", help="write a consistent copy of the index to a new folder")
    folder(save)
    save.add_argument("target", metavar="NEW_DIR", help="where the copy goes (must not exist)")
    for name, text in (
        ("info", "counts, cluster sizes and imbalance, settings"),
        ("rebalance", "retrain the centroids and reassign every image"),
        ("check", "full consistency check (exit 1 if a problem is found)"),
    ):
        folder(sub.add_parser(name, help=text))


def _warn_changed(images: Sequence[Features]) -> None:
    """Say which indexed files changed or went since they were indexed: their scores are of
    what the index read, while what differs is measured on the file as it is now."""
    changed = sorted(
        {f.path for f in images if not is_url(f.path) and not unchanged(f.path, f.size, f.mtime_ns)}
    )
    if changed:
        print(
            f"neardup: {len(changed)} indexed files changed or went since they were indexed "
            f"(first: {changed[0]}); their pairs are of what was indexed: `neardup index add` "
            "them again, or `index remove` them",
            file=sys.stderr,
        )


def run(args: argparse.Namespace, write: Any) -> int:
    """Carry out `neardup index ...`; `write(target, text)` writes a file or stdout. A
    damaged index is named in one line: exit 1 for `check` (a problem found), 2 otherwise."""
    try:
        if getattr(args, "engine", None) is None:  # a command without stages to place
            return _run(args, write, {})
        with engine_from(args) as engine:
            return _run(args, write, {"engine": engine})
    except IndexDamaged as error:
        damage = error
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError) or not _raised_by_index(error):
            raise  # locked, disk I/O: not damage; nor is damage of a file not the index's
        # Damage past the pages read at open, met while reading rows.
        damage = IndexDamaged(Path(args.index) / "index.sqlite", str(error))
    if args.index_command != "check":
        raise damage
    print(f"problem: {damage}\n1 problems")
    return 1


def _raised_by_index(error: BaseException) -> bool:
    """Whether SQLite raised `error` in the index's own code (`neardup.index`), which reads
    and writes only the index's database: damage of any other file is not the index's (the
    feature cache, the pair store in its file, say theirs as StoreError, naming it)."""
    frame, module = error.__traceback__, ""
    while frame is not None:  # to the innermost frame: the call SQLite failed in
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        frame = frame.tb_next
    return module.startswith("neardup.index.")


def _run(args: argparse.Namespace, write: Any, options: dict[str, Any]) -> int:
    command = args.index_command
    check_file(getattr(args, "json", None), "--json")  # output paths, before any work
    check_file(getattr(args, "csv", None), "--csv")
    if command == "save":
        check_folder(args.target, "NEW_DIR")
    if command in ("build", "add", "query"):
        require_paths(args.paths)  # a mistyped folder: exit 2 before an index is made or read
        options |= {
            "cache": False if args.no_cache else args.cache,
            "workers": args.workers,
        }
    if command == "build":
        index, report = ImageIndex.build(
            args.index,
            expand_stdin(args.paths),
            methods=args.method,
            nprobe=args.nprobe,
            cluster_size=args.cluster_size,
            preset=args.preset,
            threshold=args.threshold,
            **options,
        )
        with index:
            _report(args, report, write)
            info = index.info()
            print(
                f"index {args.index}: {info['images']} images in {info['clusters']} clusters",
                file=sys.stderr,
            )
        return _status(report)
    with ImageIndex.open(args.index) as index:
        if command not in ("info", "check") and build_unfinished(read_meta(index.db)):
            print(f"neardup: warning: {args.index}: {UNFINISHED}", file=sys.stderr)
        if command in ("add", "query"):
            method = index.add if command == "add" else index.query
            report = method(expand_stdin(args.paths), **options)
            _report(args, report, write)
            return _status(report)
        elif command == "remove":
            removed = index.remove(args.paths)
            print(f"removed {len(removed)} images")
            if not removed:
                print(
                    "neardup: no image of the index is at or under "
                    + ", ".join(os.path.abspath(p) for p in args.paths),
                    file=sys.stderr,
                )
                return 1
        elif command == "duplicates":
            differences = differences_setting(args)
            if differences == "auto":  # as scan: an embedding describes, hashes alone do not
                differences = "groups" if index.settings.model else False
            bar = ProgressBar(not args.quiet and sys.stderr.isatty())
            try:
                result = index.duplicates(
                    threshold=args.threshold,
                    preset=args.preset,
                    workers=args.workers,
                    differences=differences,
                    cache=False if args.no_cache else args.cache,
                    progress=bar,
                    **options,
                )
            finally:
                bar.close()
            if args.json:
                write(args.json, json_out.dumps(result))
            if args.csv:
                from neardup.output import csv as csv_out

                write(args.csv, csv_out.dumps(result))
            if "-" not in (args.json, args.csv) and not args.quiet:
                print(table.render(result))
            _warn_changed(result.images)
        elif command == "save":
            print(f"saved a copy of {args.index} to {index.save(args.target)}")
        elif command == "info":
            print(json.dumps(index.info(), indent=2))
        elif command == "rebalance":
            index.rebalance()
            print(json.dumps(index.info()["cluster_size"]))
        elif command == "check":
            problems = index.check()
            for problem in problems:
                print(f"problem: {problem}")
            print("consistent" if not problems else f"{len(problems)} problems")
            return 1 if problems else 0
    return 0


def _status(report: IndexReport) -> int:
    """Exit status of build, add and query: 3 when files were given and none could be read,
    as `scan` (a check must not pass on a folder of unreadable files), else 0."""
    return 3 if report.skipped and not report.entries else 0


def report_dict(report: IndexReport) -> dict[str, Any]:
    return {
        "schema": "neardup.index-report/2",
        "seconds": round(report.seconds, 3),
        "rebalanced": report.rebalanced,
        "rebalance_reason": report.rebalance_reason,
        "images": [
            {
                "path": e.path,
                "status": e.status,
                "same_as": e.same_as,
                "duplicates": [
                    {
                        "path": m.path,
                        "similarity": round(m.similarity, 4),
                        "confidence": round(m.confidence, 4),
                        "evidence": m.evidence,
                        "scores": {k: round(v, 4) for k, v in m.scores.items()},
                    }
                    for m in e.duplicates
                ],
            }
            for e in report.entries
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
    }


def _report(args: argparse.Namespace, report: IndexReport, write: Any) -> None:
    if args.json:
        write(args.json, json.dumps(report_dict(report), indent=2))
        if args.json == "-":
            return
    for entry in [] if args.quiet else report.entries:
        note = f" (same as {entry.same_as})" if entry.same_as else ""
        print(f"{entry.status:16s} {entry.path}{note}")
        for match in entry.duplicates:
            print(
                f"    {match.similarity:6.3f}  {match.confidence:6.3f}  {match.path}"
                f"  ({match.evidence})"
            )
    for item in report.skipped:
        print(f"skipped          {item.path}: {item.reason}")
    if report.rebalanced:
        why = {
            "growth": "the index grew",
            "imbalance": "one cluster swelled",
            "drift": "new images fit the centroids worse than the old ones",
        }.get(report.rebalance_reason or "", "rebalance")
        print(f"({why}: centroids retrained, images reassigned)")
