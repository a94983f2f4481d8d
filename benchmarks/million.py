"""A million images end to end with features injected: every stage but decoding, on the real
index code, each timed.

    python benchmarks/million.py --n 1000000            # the target run
    python benchmarks/million.py --n 10000 --keep /tmp/idx  # a small one, index kept

Data (seeded, made chunk by chunk, never all at once): synthetic SSCD-like 512-d unit vectors
around N/40 random centres (log-normal popularity), the noise per centre chosen so that an
image has about 17 neighbours above the 0.3 candidate floor, as real collections give
(reported as candidates per image); random PDQ hashes (8 dihedral views), random 32 x 32
`small` and 4 x 4 `thumb` thumbnails. Planted near-duplicate groups (1 % of images start
one, 1-4 copies each): copy vector = normalise(original + noise), cosine about 0.99-0.91;
PDQ views 2-24 bits away; thumbnails near-equal; some copies smaller. Look-alikes (1 %):
cosine about 0.8-0.7, their own random hashes and thumbnails. Exact copies (0.1 %): the same
bytes hash under another path, stored as aliases.

Stages, through `neardup.index.catalog.ImageIndex`: store write (`take(..., store=True)` per
chunk under the write lock: rows, column files, k-means training and any rebalance), open,
one-image query (a fresh process: open + `take(store=False)`), duplicates (candidates,
scoring, grouping), JSON out. Recall: the planted groups whose pairs scoring at the cut
(scored directly, so as exact candidate search would) all end in one output group.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from checkout import commit

from neardup.engines.local import LocalEngine
from neardup.index.catalog import ImageIndex
from neardup.index.storage import Settings, write_lock
from neardup.output import json as json_out
from neardup.pipeline import parse_methods
from neardup.records import Features
from neardup.scoring import score_pairs, threshold_for
from neardup.store import encode_features

F32 = npt.NDArray[np.float32]
MODEL = "sscd_distilled"
DIM = 512
CENTRE_SIZE = 40
SPREAD2 = (1.8, 3.8)  # same-centre cosine about 1/(1 + s^2): 0.36 .. 0.21
GROUP_RATE, LOOKALIKE_RATE, EXACT_RATE = 0.01, 0.01, 0.001
RAW_BYTES = DIM * 4 + 32 * 32 + 8 * 32 + 4 * 4 * 3
"""Array bytes of one image's features: embedding, small, PDQ views, thumb."""


def unit(x: F32) -> F32:
    x /= np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    return x


def near(x: F32, rng: np.random.Generator, lo: float, hi: float) -> F32:
    """normalise(x + e), |e| uniform in [lo, hi]: cosine about 1 / sqrt(1 + |e|^2)."""
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    noise *= (rng.uniform(lo, hi, len(x)) / np.linalg.norm(noise, axis=1))[:, None]
    return unit(noise + x)


@dataclass
class Collection:
    """The synthetic collection, chunk by chunk: features, planted groups, look-alikes."""

    n: int
    chunk: int
    seed: int = 7
    centres: F32 = field(init=False, repr=False)
    weights: npt.NDArray[np.float64] = field(init=False, repr=False)
    spread: F32 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 0])
        count = max(1, self.n // CENTRE_SIZE)
        self.centres = unit(rng.standard_normal((count, DIM), dtype=np.float32))
        weights = rng.lognormal(0.0, 0.4, count)
        self.weights = weights / weights.sum()
        self.spread = np.sqrt(rng.uniform(*SPREAD2, count)).astype(np.float32)

    first: int = 0
    """Images in the first chunk (default `chunk`): the centroids are trained on them."""

    @property
    def chunks(self) -> int:
        return 1 + math.ceil(max(0, self.n - self.head) / self.chunk)

    @property
    def head(self) -> int:
        return min(self.n, self.first or self.chunk)

    def make(self, c: int) -> tuple[list[Features], list[list[str]], list[tuple[str, str]]]:
        """Chunk c: its images, its planted groups (paths) and look-alike pairs (paths)."""
        start = 0 if c == 0 else self.head + (c - 1) * self.chunk
        stop = self.head if c == 0 else min(self.n, start + self.chunk)
        m = stop - start
        rng = np.random.default_rng([self.seed, 1, c])
        labels = rng.choice(len(self.centres), size=m, p=self.weights)
        x = rng.standard_normal((m, DIM), dtype=np.float32)
        x *= (self.spread[labels] / np.float32(math.sqrt(DIM)))[:, None]
        x = unit(x + self.centres[labels])
        pdq = rng.integers(0, 256, (m, 8, 32), dtype=np.uint8)
        small = rng.integers(0, 256, (m, 32, 32), dtype=np.uint8)
        thumb = rng.integers(0, 256, (m, 4, 4, 3), dtype=np.uint8)
        size = np.tile(np.array([[1024, 768]]), (m, 1))
        perm, at = rng.permutation(m), 0
        groups: list[list[int]] = []
        for _ in range(round(GROUP_RATE * m)):
            k = int(rng.integers(1, 5))
            if at + 1 + k > m:
                break
            original, copies = int(perm[at]), perm[at + 1 : at + 1 + k]
            at += 1 + k
            groups.append([original, *copies.tolist()])
            x[copies] = near(np.repeat(x[original][None], k, 0), rng, 0.15, 0.45)
            for copy in copies.tolist():
                flips = rng.choice(256, int(rng.integers(2, 25)), replace=False)
                mask = np.packbits(np.isin(np.arange(256), flips).astype(np.uint8))
                pdq[copy] = pdq[original] ^ mask
                noise = rng.normal(0, 4, (32, 32))
                small[copy] = np.clip(small[original] + noise, 0, 255).astype(np.uint8)
                thumb[copy] = np.clip(thumb[original].astype(int) + rng.integers(-2, 3), 0, 255)
                if rng.random() < 0.5:
                    size[copy] = (512, 384)
        lookalikes: list[tuple[int, int]] = []
        for _ in range(round(LOOKALIKE_RATE * m)):
            if at + 2 > m:
                break
            a, b = int(perm[at]), int(perm[at + 1])
            at += 2
            x[b] = near(x[a][None], rng, 0.75, 1.0)[0]
            lookalikes.append((a, b))
        exact = set(perm[at : at + round(EXACT_RATE * m)].tolist())
        path = [f"/synthetic/{start + i:07d}.jpg" for i in range(m)]
        images = []
        for i in range(m):
            source = (i - 1) if i in exact and i > 0 else i  # same bytes as the image before
            images.append(
                Features(
                    path=path[i],
                    size=200_000 + source,
                    mtime_ns=start + source,
                    width=int(size[i, 0]),
                    height=int(size[i, 1]),
                    format="JPEG",
                    bytes_hash=f"b{start + source:015x}",
                    pixel_hash=None,
                    jpeg_hash=f"j{start + source:015x}",
                    thumb=thumb[source].copy(),  # own arrays: the chunk's are freed
                    small=small[source].copy(),  # own arrays: the chunk's are freed
                    pdq=pdq[source].copy(),  # own arrays: the chunk's are freed
                    pdq_quality=100,
                    embeddings={MODEL: x[source].copy()},
                )
            )
        named = [[path[i] for i in g] for g in groups]
        return images, named, [(path[a], path[b]) for a, b in lookalikes]


def fresh_copy(original: Features) -> Features:
    """A new near-copy of a stored image (other bytes, path; vector and hash nearby): what
    `index query` is asked about."""
    rng = np.random.default_rng(99)
    vector = near(original.embeddings[MODEL][None].copy(), rng, 0.3, 0.3)[0]
    assert original.pdq is not None
    pdq = original.pdq.copy()
    pdq[:, :8] ^= 1  # 8 bits away in each view (6 of its 8 32-bit sub-hashes unchanged)
    return dataclasses.replace(
        original,
        path="/query.jpg",
        bytes_hash="query",
        jpeg_hash="query",
        pdq=pdq,
        embeddings={MODEL: vector},
    )


class Meter:
    """Wall and CPU seconds of one stage, RSS after it, and the machine's load."""

    def __init__(self, name: str, log: dict[str, Any]) -> None:
        self.name, self.log = name, log

    def __enter__(self) -> Meter:
        self.t = (time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu = self.t
        self.log[self.name] = {
            "s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "rss_mib": round(rss_mib()),
            "peak_rss_mib": round(peak_mib()),  # the highest so far: which stage set the peak
            "load": round(os.getloadavg()[0], 1),
        }
        print(self.name, self.log[self.name], flush=True)


def watchdog(limit_gib: float) -> None:
    """Stop the run (exit 3) if its RSS passes `limit_gib`: the machine is shared."""

    def watch() -> None:
        while True:
            if rss_mib() > limit_gib * 1024:
                print(f"RSS over {limit_gib} GiB: stopped", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


QUERY = """
import json, sys, time
start = time.perf_counter()
from neardup.engines.local import LocalEngine
from neardup.index.catalog import ImageIndex
from neardup.records import FileRef
from neardup.store import decode_features
imported = time.perf_counter()
meta, blob = json.loads(open(sys.argv[2]).read()), open(sys.argv[3], "rb").read()
image = decode_features(FileRef(meta.pop("path"), 1, 1), meta, blob)
begin, cpu = time.perf_counter(), time.process_time()
index = ImageIndex.open(sys.argv[1])
opened = time.perf_counter()
report = index.take([image], store=False, engine=LocalEngine(1))
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "open_s": opened - begin,
                  "query_s": done - opened, "open_and_query_s": done - begin,
                  "open_and_query_cpu_s": time.process_time() - cpu,
                  "decoded": index.images.decoded,
                  "matches": [m.path for m in report.entries[0].duplicates]}))
"""


def query_once(folder: Path, image: Features, work: Path) -> dict[str, Any]:
    """`index query` of one image in a fresh process: import, open, search, score."""
    meta, blob = encode_features(image)
    (work / "query.json").write_text(json.dumps(json.loads(meta) | {"path": "/query.jpg"}))
    (work / "query.bin").write_bytes(blob)
    wall = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            QUERY,
            str(folder),
            str(work / "query.json"),
            str(work / "query.bin"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(done.stdout)
    out["process_s"] = time.perf_counter() - wall
    return out


def recall(
    result: Any, groups: list[list[str]], store_images: dict[str, Features], cut: float
) -> dict[str, Any]:
    """Planted groups found whole: of the planted pairs that score at the cut when scored
    directly (what exact candidate search would group), the share whose two images share
    an output group; and the groups all of whose such pairs do."""
    where: dict[str, int] = {}
    for number, group in enumerate(result.groups):
        for member in [group.keeper, *(m for m, _ in group.members)]:
            where[result.path(member)] = number
    pairs = [(g[0], other) for g in groups for other in g[1:]]
    pairs += [(a, b) for g in groups for i, a in enumerate(g[1:], 1) for b in g[i + 1 :]]
    images = [store_images[p] for pair in pairs for p in pair]
    scored = score_pairs(images, [(2 * i, 2 * i + 1) for i in range(len(pairs))], result_methods)
    due = [pair for pair, s in zip(pairs, scored, strict=True) if s.confidence >= cut]
    found = [a in where and where.get(a) == where.get(b) for a, b in due]
    by_group: dict[str, bool] = {}
    for (a, _), ok in zip(due, found, strict=True):
        by_group[a] = by_group.get(a, True) and ok
    return {
        "planted_pairs": len(pairs),
        "pairs_at_cut_exactly": len(due),
        "pair_recall": round(sum(found) / max(1, len(due)), 4),
        "groups_at_cut": len(by_group),
        "group_recall": round(sum(by_group.values()) / max(1, len(by_group)), 4),
    }


result_methods = parse_methods(None)


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="million.", dir=args.tmp))
    folder = Path(args.keep) if args.keep else work / "idx"
    log: dict[str, Any] = {}
    data = Collection(args.n, args.chunk, first=args.first_chunk)
    settings = Settings(methods=result_methods, model=MODEL, threshold=threshold_for(None, None))
    engine = LocalEngine(args.workers)
    sample: dict[str, Features] = {}  # planted groups' images, for recall
    groups: list[list[str]] = []
    lookalikes: list[tuple[str, str]] = []
    generate = store = 0.0
    cpu_gen = 0.0
    reuse = args.reuse and (folder / "index.sqlite").exists()
    with Meter("store_write", log), write_lock(folder):
        index = ImageIndex.open(folder) if reuse else ImageIndex.create(folder, settings)
        for c in range(data.chunks):
            t, cpu = time.perf_counter(), time.process_time()
            images, planted, alike = data.make(c)
            generate += time.perf_counter() - t
            cpu_gen += time.process_time() - cpu
            wanted = {p for g in planted for p in g} | {p for pair in alike for p in pair}
            sample.update((f.path, f) for f in images if f.path in wanted)
            groups += planted
            lookalikes += alike
            t = time.perf_counter()
            if not reuse:
                index.take(images, store=True, engine=engine, match_batch=False)
            store += time.perf_counter() - t
            if c % 5 == 4:
                print(f"  stored {len(index.images)}, {store:.0f} s, RSS {rss_mib():.0f} MiB")
            del images
        index.close()
    log["store_write"]["generate_s (inside, not a pipeline stage)"] = round(generate, 2)
    log["store_write"]["generate_cpu_s"] = round(cpu_gen, 2)
    log["store_write"]["take_s"] = round(store, 2)
    log["store_write"]["reused"] = reuse  # True: written by an earlier run, only regenerated
    with Meter("open", log):
        index = ImageIndex.open(folder)
    query_image = fresh_copy(sample[groups[0][0]])
    log["query"] = query_once(folder, query_image, work)
    log["query"]["planted_original_found"] = groups[0][0] in log["query"]["matches"]
    print("query", log["query"], flush=True)
    if args.skip_duplicates:
        index.close()
        return log
    with Meter("duplicates", log):
        result = index.duplicates(engine=engine)
    log["duplicates"]["stages_s"] = result.stats.seconds
    with Meter("json_out", log):
        text = json_out.dumps(result)
        (work / "result.json").write_text(text)
    log["json_out"]["mib"] = round(len(text) / 2**20, 1)
    peak = peak_mib()
    candidates = result.stats.candidates
    log["counts"] = {
        "images": args.n,
        "stored": len(index.images),
        "aliases": len(index.aliases),
        "clusters": int(index.centroids.shape[0]) if index.centroids is not None else 0,
        "candidate_pairs": candidates,
        "candidates_per_image": round(2 * candidates / max(1, len(index.images)), 1),
        "pairs_at_cut": result.stats.pairs,
        "groups": result.stats.groups,
    }
    log["memory"] = {
        "peak_rss_mib": round(peak),
        "raw_features_mib": round(args.n * RAW_BYTES / 2**20),
        "peak_over_raw": round(peak / (args.n * RAW_BYTES / 2**20), 2),
    }
    cut = float(result.settings["threshold"])  # type: ignore[arg-type]
    log["recall"] = recall(result, groups, sample, cut)
    grouped = {frozenset((result.path(p.a), result.path(p.b))) for p in result.pairs}
    log["recall"]["lookalike_pairs_reported"] = sum(frozenset(p) in grouped for p in lookalikes)
    log["recall"]["lookalike_pairs"] = len(lookalikes)
    timed = ("store_write", "open", "duplicates", "json_out")
    log["pipeline_s"] = round(sum(log[k]["s"] for k in timed) - generate, 1)
    index.close()
    if not args.keep:
        shutil.rmtree(work)
    return log


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_at_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="build the index in this folder and keep it")
    parser.add_argument("--tmp", default=None, help="folder for the work files")
    parser.add_argument("--json", help="append the results to this JSON-lines file")
    parser.add_argument("--max-rss-gib", type=float, default=10.0)
    parser.add_argument(
        "--first-chunk", type=int, default=0, help="images in the first batch (k-means on them)"
    )
    parser.add_argument("--skip-duplicates", action="store_true", help="stop after the query")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: use the index already there"
    )
    args = parser.parse_args(argv)
    watchdog(args.max_rss_gib)
    header = machine()
    log = run(args)
    out = {"machine": header | {"load_at_end": os.getloadavg()}, "n": args.n, **log}
    print(json.dumps(out, indent=1, default=str))
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps(out, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
