"""The `neardup` command: argument parsing and printing only; the work is in `neardup.api`.

Exit codes: 0 done; 1 duplicates found with --fail-on-duplicates (for CI checks such as
train/test leakage), or a problem found by `index check`; 2 bad usage, an unusable setting
or index, a path given that is not there (a typo must not pass a check), or an output file
that cannot be written (checked before any work); 3 no image could be read (scan, compare,
index build / add / query); 130 interrupted (cached work is kept: run the same command
again to resume); 141 the output pipe was closed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from neardup import cli_act, cli_cluster, cli_index
from neardup.api import FOLDER_GIVEN, compare, scan
from neardup.cli_engine import add_engine_args, engine_from
from neardup.cli_types import at_least_one, confidence, require_paths
from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.differences_args import add_differences_argument, differences_setting
from neardup.engines.base import Engine
from neardup.features.embed import ModelMissing
from neardup.index.storage import IndexError_
from neardup.output import compare_json, table
from neardup.output import csv as csv_out
from neardup.output import json as json_out
from neardup.output.differences import summary as differences_summary
from neardup.output.progress import ProgressBar
from neardup.output.targets import check_file, check_folder, write_output
from neardup.records import ScanResult
from neardup.scoring import ALL_METHODS, PRESETS
from neardup.sources import expand_stdin
from neardup.store import StoreError
from neardup.version import __version__
from neardup.video_args import add_video_arguments, sampling

EXIT_OK, EXIT_DUPLICATES, EXIT_USAGE, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        default="default",
        help=(
            "comma-separated methods: default (exact,pdq,sscd_distilled fused) or any of "
            f"{', '.join(ALL_METHODS)}; e.g. --method pdq for a fast hash-only pass"
        ),
    )
    parser.add_argument(
        "--max-pixels",
        type=at_least_one,
        default=DEFAULT_MAX_PIXELS,
        help="refuse images claiming more pixels (decompression bombs); default %(default)s",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neardup",
        description="Find exact and near-duplicate images and say how similar each pair is.",
    )
    parser.add_argument("--version", action="version", version=f"neardup {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    s = commands.add_parser(
        "scan",
        help="find duplicate groups under folders or files",
        description="Scan folders (recursively) and files; '-' reads paths from stdin.",
    )
    s.add_argument("paths", nargs="+", help="folders, files, or - for paths on stdin")
    _common(s)
    s.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="default",
        help="confidence cut preset: " + ", ".join(f"{k}={v}" for k, v in PRESETS.items()),
    )
    s.add_argument("--threshold", type=float, help="confidence cut in [0, 1] (overrides --preset)")
    s.add_argument("--json", metavar="FILE", help="write the full result as JSON ('-' for stdout)")
    s.add_argument("--csv", metavar="FILE", help="write the pairs as CSV ('-' for stdout)")
    s.add_argument("--cache", metavar="FILE", help="feature cache (default ~/.cache/neardup)")
    s.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    s.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    add_engine_args(s)
    s.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar or table (a leakage scan still prints its counts)",
    )
    s.add_argument(
        "--fail-on-duplicates", action="store_true", help="exit 1 when any group is found"
    )
    add_video_arguments(s)
    add_differences_argument(s)
    s.add_argument(
        "--no-differences",
        action="store_true",
        help="the same as --differences none (faster on copy-dense sets)",
    )
    s.add_argument(
        "--keep-below",
        type=confidence,
        metavar="F",
        help="also keep scored pairs below the cut down to confidence F (for `neardup plot "
        "--scores`); groups and leakage use the cut",
    )
    s.add_argument(
        "--against",
        nargs="+",
        metavar="SET",
        help="leakage: later sets (e.g. test, val folders) checked against PATHS (the reference "
        "set); only pairs across sets, and per set how many images have a near-copy earlier",
    )
    s.add_argument(
        "--against-index",
        metavar="IDX",
        help="leakage: PATHS (each folder a later set; files given one by one, one set) "
        "checked against a saved index (the reference set, e.g. train)",
    )

    c = commands.add_parser("compare", help="similarity of two images by every method")
    c.add_argument("a")
    c.add_argument("b")
    _common(c)
    c.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the result as JSON to FILE ('-' or nothing: stdout), as scan does",
    )
    add_video_arguments(c)

    e = commands.add_parser(
        "eval",
        help="precision / recall against a truth file",
        description="Scan the truth file's images and score the pairs found against it. "
        "Precision: the share of reported pairs whose two images share a group. Recall: the "
        "share of each group's (original, edited copy) pairs reported; copy-to-copy pairs "
        "are not required, so groups with no image of edit 'original' require nothing.",
    )
    e.add_argument("truth", help="truth.json from benchmarks/make_eval_set.py")
    _common(e)
    e.add_argument("--split", help="only images of this split (calib or test)")
    e.add_argument(
        "--preset", choices=list(PRESETS), default="default", help="cut (default %(default)s)"
    )
    e.add_argument("--threshold", type=float, help="confidence cut (overrides --preset)")
    e.add_argument("--cache", metavar="FILE", help="feature cache (default ~/.cache/neardup)")
    e.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    e.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    e.add_argument("--json", metavar="FILE", help="also write the scan result here")
    e.add_argument(
        "--plot",
        metavar="DIR",
        help="write precision_recall.png and reliability.png (precision / recall against the "
        "threshold, reliability curve) into DIR",
    )

    p = commands.add_parser("plot", help="plot a scan result's pair scores (PNG)")
    p.add_argument(
        "result",
        help="a scan's JSON (neardup scan --json; --keep-below adds the pairs below the cut)",
    )
    p.add_argument(
        "--scores",
        metavar="PNG",
        required=True,
        help="histogram of confidence (cut and presets marked) and similarity",
    )

    cli_index.add_parser(commands)
    cli_act.add_parsers(commands)
    cli_cluster.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_json_alone(argv))
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "index":
            return cli_index.run(args, write_output)
        if args.command in ("report", "act", "undo", "purge"):
            return cli_act.run(args)
        if args.command == "cluster":
            return cli_cluster.run(args, write_output)
        if args.command == "plot":
            return _plot(args)
        return _eval(args)
    except BrokenPipeError:
        # The reader closed the pipe early (as `head` does): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"\nneardup: interrupted{_resume_hint(args, argv)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, ModelMissing, StoreError, IndexError_) as error:
        print(f"neardup: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _json_alone(argv: list[str]) -> list[str]:
    """`compare --json A B` as `compare --json=- A B`: --json takes an optional FILE (as scan's
    does), and before the two images alone it would take the first for it (`--json F A B`
    still writes F)."""
    if not argv or argv[0] != "compare" or "--json" not in argv:
        return argv
    at = argv.index("--json")
    after = [word for word in argv[at + 1 :] if not word.startswith("-")]
    if all(word.startswith("-") for word in argv[1:at]) and len(after) == 2:
        return [*argv[:at], "--json=-", *argv[at + 1 :]]
    return argv


def _resume_hint(args: argparse.Namespace, argv: Sequence[str]) -> str:
    """What an interrupted command kept: features are cached unless --no-cache; `act` says
    its journal itself; the others keep nothing to resume from. An interrupted `index build`
    leaves an unfinished index, which the same command resumes: it is named in full."""
    if args.command in ("report", "act", "undo", "purge", "plot", "compare"):
        return ""
    if args.command == "index" and args.index_command == "build":
        kept = "" if args.no_cache else "finished images are cached; "
        again = shlex.join(["neardup", *argv])
        return f"; the index at {args.index} is unfinished: {kept}run `{again}` to resume it"
    if getattr(args, "no_cache", False):
        return "; nothing was cached (--no-cache): a rerun starts again"
    return "; finished images and checked pairs are cached, run again to resume"


def _scan(args: argparse.Namespace) -> int:
    paths = expand_stdin(args.paths)
    if not paths:
        print("neardup: error: no paths given (stdin was empty)", file=sys.stderr)
        return EXIT_USAGE
    if args.against_index and args.against:
        raise ValueError("give --against or --against-index, not both")
    if args.against_index and args.method != "default":
        raise ValueError("--against-index compares with the index's own methods: drop --method")
    if args.json == "-" and args.csv == "-":
        raise ValueError("--json - and --csv - would both write to stdout: give one a file")
    require_paths(args.paths)
    require_paths(args.against or (), "--against")
    check_file(args.json, "--json")  # before the scan, which may take hours, not after it
    check_file(args.csv, "--csv")
    video = sampling(args)  # a bad --fps is refused before any work too
    bar = ProgressBar(not args.quiet and sys.stderr.isatty())
    try:
        with engine_from(args) as engine:
            result = (
                _scan_against_index(args, paths, engine, bar)
                if args.against_index
                else scan(
                    paths,
                    methods=args.method,
                    preset=args.preset,
                    threshold=args.threshold,
                    cache=False if args.no_cache else args.cache,
                    workers=args.workers,
                    max_pixels=args.max_pixels,
                    progress=bar,
                    against=args.against,
                    floor=args.keep_below,
                    differences=differences_setting(args),
                    video=video,
                    engine=engine,
                )
            )
    finally:
        bar.close()
    if args.json:
        write_output(args.json, json_out.dumps(result))
    if args.csv:
        write_output(args.csv, csv_out.dumps(result))
    if not args.quiet and "-" not in (args.json, args.csv):
        print(table.render(result))
    elif result.leakage is not None and "-" not in (args.json, args.csv):
        print("\n".join(table.leakage_lines(result)).lstrip("\n"))
    if not result.images and result.skipped:
        return EXIT_NOTHING
    empty = [s.name for s in result.leakage.sets if not s.images] if result.leakage else []
    if empty:  # a mistyped split must not pass a leakage check as "no leak"
        print(f"neardup: error: no images in {', '.join(empty)}", file=sys.stderr)
        return EXIT_NOTHING
    # A file in two sets (a link, or folders that overlap) is in no pair, yet it leaks.
    same_file = result.leakage is not None and any(s.same_file for s in result.leakage.sets)
    if args.fail_on_duplicates and (result.groups or same_file):
        return EXIT_DUPLICATES
    return EXIT_OK


def _scan_against_index(
    args: argparse.Namespace, paths: list[str], engine: Engine | None, progress: ProgressBar
) -> ScanResult:
    from neardup.leakage_index import scan_against_index

    return scan_against_index(
        paths,
        args.against_index,
        preset=args.preset,
        threshold=args.threshold,
        cache=False if args.no_cache else args.cache,
        workers=args.workers,
        differences=bool(differences_setting(args)),
        floor=args.keep_below,
        max_pixels=args.max_pixels,
        video=sampling(args),
        engine=engine,
        progress=progress,
    )


def _compare(args: argparse.Namespace) -> int:
    folders = [p for p in (args.a, args.b) if os.path.isdir(p)]
    if folders:
        print(f"neardup: error: {', '.join(folders)}: {FOLDER_GIVEN}", file=sys.stderr)
        return EXIT_USAGE
    require_paths((args.a, args.b))
    check_file(args.json, "--json")
    video = sampling(args)
    result = compare(args.a, args.b, methods=args.method, max_pixels=args.max_pixels, video=video)
    if args.json:
        write_output(args.json, compare_json.dumps(result))
    else:
        for item in result.skipped:
            print(f"skipped {item.path}: {item.reason}")
        if result.same_file:
            link = " (a link)" if any(os.path.islink(p) for p in (args.a, args.b)) else ""
            print(f"both paths name the same file{link}, so they are identical")
        elif result.similarity is not None:
            for side, path, (frame, when) in (
                ("a", result.a, result.a_frame),
                ("b", result.b, result.b_frame),
            ):
                if frame is not None:  # a video: say which of its frames was compared
                    print(
                        f"{side}: {path} [frame {frame}, {when or 0.0:.2f} s] (its closest frame)"
                    )
            print(
                f"similarity {result.similarity:.3f}, confidence it is a copy "
                # Floored, not rounded: 0.9905 must not read as the strict cut 0.991.
                f"{math.floor((result.confidence or 0.0) * 1000) / 1000:.3f}  "
                f"(decided by {result.evidence})"
            )
            for method, score in result.scores.items():
                print(f"  {method:15s} {score:.3f}")
            for name, cut in PRESETS.items():
                verdict = "duplicate" if result.verdicts[name] else "different"
                print(f"  at {name:8s} (confidence >= {cut}): {verdict}")
            if result.differences is not None:
                said = differences_summary(result.differences, words=result.evidence == "detail")
                print(f"what differs (b against a): {said}")
    return EXIT_OK if result.similarity is not None else EXIT_NOTHING


def _eval(args: argparse.Namespace) -> int:
    from neardup.eval import run_eval

    check_file(args.json, "--json")  # before the scan, not after it
    check_folder(args.plot, "--plot")
    report_text = run_eval(
        args.truth,
        methods=args.method,
        preset=args.preset,
        threshold=args.threshold,
        split=args.split,
        cache=False if args.no_cache else args.cache,
        workers=args.workers,
        json_path=args.json,
        plot_dir=args.plot,
    )
    print(report_text)
    return EXIT_OK


def _plot(args: argparse.Namespace) -> int:
    from neardup.output.plots import write_score_histogram

    check_file(args.scores, "--scores")
    try:
        doc = json.loads(Path(args.result).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {args.result}: {error}") from error
    if not isinstance(doc, dict):
        raise ValueError(f"{args.result}: not a neardup scan result")
    print(f"wrote {write_score_histogram(doc, args.scores)}")
    return EXIT_OK
