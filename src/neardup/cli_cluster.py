"""`neardup cluster`: argument parsing and printing only; the work is in `neardup.cluster`."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable

from neardup.cli_types import require_paths
from neardup.cluster.run import DEFAULT_SIMILAR, ClusterResult, NothingRead, cluster
from neardup.cluster.saved import ItemRef, save
from neardup.output import cluster_json
from neardup.output.progress import ProgressBar
from neardup.output.targets import check_file, writing
from neardup.sources import expand_stdin
from neardup.video_args import add_video_arguments, sampling

Writer = Callable[[str, str], None]


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = commands.add_parser(
        "cluster",
        help="group images and video frames into scenes (k-means), save or reuse the centroids",
        description=(
            "Cluster every item (images, sampled video frames) into K scenes and optionally save "
            "the centroids; or, with --centroids, assign new items to saved centroids and list "
            "each one's most similar items of its cluster."
        ),
    )
    c.add_argument("paths", nargs="+", help="folders, files, or - for paths on stdin")
    c.add_argument(
        "--k", default="auto", help="number of clusters, or auto (best silhouette; the default)"
    )
    c.add_argument("--centroids", metavar="FILE", help="assign to centroids saved by --save")
    c.add_argument("--save", metavar="FILE", help="write centroids, PCA basis and items here")
    c.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw the items in 2-D with each centroid's region (and FILE-frames.png, "
        "FILE-similar.png); .png is added to a name without one",
    )
    c.add_argument("--json", metavar="FILE", help="write the result as JSON ('-' for stdout)")
    c.add_argument(
        "--similar",
        type=int,
        default=DEFAULT_SIMILAR,
        help="similar items listed per item (default %(default)s)",
    )
    c.add_argument("--cache", metavar="FILE", help="feature cache (default ~/.cache/neardup)")
    c.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    c.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    c.add_argument("--seed", type=int, default=0, help="k-means seed (default %(default)s)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    add_video_arguments(c)


def run(args: argparse.Namespace, write: Writer) -> int:
    """Run `neardup cluster`; exit 0, 2 for bad usage, 3 when no item could be read."""
    require_paths(args.paths)  # a mistyped folder: exit 2 before any work
    paths = expand_stdin(args.paths)
    if args.plot and importlib.util.find_spec("matplotlib") is None:  # before the work, not after
        raise ValueError("--plot needs matplotlib: pip install 'neardup[plots]'")
    if args.centroids and args.save:
        raise ValueError("--save writes new centroids; it cannot be used with --centroids")
    if args.centroids and args.k != "auto":
        raise ValueError("--k chooses new centroids; it cannot be used with --centroids")
    k: int | str = args.k
    if args.k != "auto":
        try:
            k = int(args.k)
        except ValueError:
            raise ValueError(f"--k must be a number or auto, got {args.k!r}") from None
        if k < 1:
            raise ValueError(f"--k must be at least 1 (or auto), got {k}")
    if args.similar < 0:  # checked before the work, not after it
        raise ValueError(f"--similar must be 0 or more, got {args.similar}")
    for option in ("--save", "--plot", "--json"):  # the output paths, before the work too
        check_file(getattr(args, option[2:]), option)
    if args.plot:  # the file the scatter is written to, checked as given and as written
        from neardup.output.cluster_plots import png_path

        args.plot = str(png_path(args.plot))
        check_file(args.plot, "--plot")
    bar = ProgressBar(not args.quiet and sys.stderr.isatty())
    try:
        result = cluster(
            paths,
            k=k,
            centroids=args.centroids,
            video=sampling(args),
            similar=args.similar,
            cache=False if args.no_cache else args.cache,
            workers=args.workers,
            seed=args.seed,
            progress=bar,
        )
    except NothingRead as nothing:
        for item in nothing.skipped:  # every reason, as scan lists them
            print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
        print(f"neardup: error: {nothing}", file=sys.stderr)
        return 3
    finally:
        bar.close()
    if args.save:
        save(result.model, args.save)
    if args.plot:
        from neardup.output.cluster_plots import plot

        with writing(args.plot):
            written = plot(result, args.plot)
        if args.json != "-" and not args.quiet:
            print(f"plots: {', '.join(written)}", file=sys.stderr)
    if args.json:
        write(args.json, cluster_json.dumps(result))
    if args.json != "-" and not args.quiet:
        print(render(result))
    return 0 if result.items else 3


def _name(item: ItemRef) -> str:
    if item.frame is None:
        return item.path
    return f"{item.path} [frame {item.frame}, {item.time or 0.0:.2f} s]"


def render(result: ClusterResult, per_cluster: int = 5) -> str:
    """A short summary: each cluster's size and first items, then the skips."""
    mode = "assigned to saved centroids" if result.assigned else "clustered"
    lines = [f"{len(result.items)} items {mode}: {len(result.sizes)} clusters"]
    if result.k_scores:
        scores = ", ".join(f"k={k}: {v:.3f}" for k, v in result.k_scores.items())
        lines.append(f"k chosen by silhouette ({scores})")
    for cluster_id, size in enumerate(result.sizes):
        members = [c for c in result.items if c.cluster == cluster_id]
        lines.append(f"cluster {cluster_id}: {size} items")
        for c in members[:per_cluster]:
            best = (
                f"  (most like {_name(c.similar[0].item)}, {c.similar[0].similarity:.3f})"
                if c.similar
                else ""
            )
            lines.append(f"  {_name(c.item)}{best}")
        if size > per_cluster:
            lines.append(f"  ... {size - per_cluster} more (see --json)")
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)}:")
        lines.extend(f"  {s.path}: {s.reason}" for s in result.skipped)
    return "\n".join(lines)
