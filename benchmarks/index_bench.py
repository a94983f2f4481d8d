"""Benchmark neardup's IVF index at a million vectors: build, add, all-pairs, recall, memory.

    python benchmarks/index_bench.py                   # 1,000,000 x 512-d flat, then the sweep
    python benchmarks/index_bench.py --codec sq8 --skip-sweep   # the same with 8-bit codes
    python benchmarks/index_bench.py --quick           # 100k vectors, 50k sweep: a few minutes
    python benchmarks/index_bench.py --n 10000000 --dim 256 --codec sq8 --skip-sweep  # 10M case
    (add --wait-quiet 120 on a shared machine; --mmap-threshold 131072 to try the malloc fix)

Data: N synthetic unit float32 vectors, generated deterministically (seeded) in chunks that go
straight into the index, so two full copies are never held. They are clustered: N/400 random
centres with log-normal popularity; each vector is normalise(centre + noise), the noise per
centre chosen so that unrelated vectors of one centre have cosine about 0.3-0.6. Planted
near-duplicate pairs (default 10,000; copy = normalise(original + noise), cosine about
0.93-0.98) are the known truth; 5% of vectors are also "burst" near-copies of another vector
(cosine about 0.86-0.99, straddling the threshold), which only the exact search knows about.
A pair is a duplicate when its cosine similarity is >= 0.9 (--threshold).

Main run (one index, in this order, each step timed):
- train: spherical k-means (`train_centroids`) on the first chunks: --train-n (100,000)
  rounded up to whole chunks, and at least MIN_TRAIN_PER_CLUSTER x nlist (nlist =
  `clusters_for(N, --cluster-size)` or --nlist);
- build: add the N vectors chunk by chunk; add: 10,000 more vectors (--add), half of them
  planted duplicates of vectors already indexed. Each chunk's nprobe nearest centroids are
  found once (`IVFIndex.assign`); the first places the vector (`add(..., clusters=)`), all of
  them are kept (int32, N x nprobe) for all-pairs;
- all-pairs: `neighbour_pairs(index, vectors, k=8, min_similarity=0.9, probes=...)` over every
  vector at nprobe 4, scanning the kept clusters without a second coarse search
  (--coarse-again: search the centroids again); the query vectors are regenerated chunk by
  chunk and that time is reported apart;
- target: build + add + all-pairs under 3 minutes; peak RSS (ru_maxrss, taken before the
  exact baseline is built) at most 1.5 x the raw float32 vectors (N x dim x 4 bytes);
- recall: the share of planted pairs that all-pairs found; and for Q random indexed vectors
  (--queries), the share of the pairs exact search (faiss IndexFlatIP via neardup's FlatIndex,
  same k and threshold, widening included) finds that all-pairs also found. Exact and IVF
  search of the same Q queries are timed in the same run (per query and as a ratio);
- latency: p50/p99 of single-vector add(), search() and remove() calls (--latency of each);
- the same index at other nprobe (--main-nprobes): all-pairs' planted recall, computed by
  searching from every planted pair's two members (a pair is found by all-pairs exactly when
  one member's search finds the other), recall vs exact of the Q queries' own searches, and
  their per-query time with the coarse-assignment share.

Sweep (--sweep-n vectors, default 100,000, held in memory): for each cluster size (--sizes,
nlist = n / size) one trained index, then all-pairs time and both recalls for each nprobe
(--nprobe-sweep).

Every timed step also reports the CPU seconds this process used and the CPU seconds other
processes used meanwhile (from /proc/stat): on a shared machine a busy neighbour shows there.
--wait-quiet S waits (up to S seconds) before each timed step until the others are idle.
--mmap-threshold B calls glibc mallopt(M_MMAP_THRESHOLD, B) first, to measure the peak RSS
without the heap holes that growing inverted lists leave (see RESULTS.md).

Prints Markdown tables; merges the numbers into benchmarks/index_results.json (--json), one
entry per configuration. Threads: faiss's OpenMP default (all cores).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import neighbour_pairs
from neardup.index.exact import FlatIndex
from neardup.index.ivf import (
    CLUSTER_SIZE,
    MIN_TRAIN_PER_CLUSTER,
    IVFIndex,
    clusters_for,
    train_centroids,
)

HERE = Path(__file__).resolve().parent
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
BURST_RATE = 0.05
PLANTED_NOISE = (0.2, 0.4)  # noise norm: cosine 1/sqrt(1 + t^2), about 0.98 .. 0.93
BURST_NOISE = (0.15, 0.6)  # about 0.99 .. 0.86: some bursts fall below the threshold
SPREAD2 = (0.67, 2.33)  # squared noise norm per centre: same-centre cosine 1/(1+s^2), 0.6 .. 0.3


# ------------------------------------------------------------------------------------------
# Data


def _unit(x: F32) -> F32:
    """Normalise rows in place (no n x d temporary)."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    x /= norms[:, None]
    return x


def _near_copies(x: F32, rng: np.random.Generator, lo: float, hi: float) -> F32:
    """normalise(x + e), |e| uniform in [lo, hi]: cosine about 1 / sqrt(1 + |e|^2)."""
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    scale = rng.uniform(lo, hi, len(x)).astype(np.float32)
    noise *= (scale / np.sqrt(np.einsum("ij,ij->i", noise, noise)))[:, None]
    noise += x
    return _unit(noise)


@dataclass
class Synth:
    """Clustered unit vectors with planted near-duplicate pairs, made chunk by chunk."""

    n: int
    dim: int
    seed: int
    chunk: int
    pairs: int
    centres_n: int = 0
    centres: F32 = field(init=False, repr=False)
    weights: npt.NDArray[np.float64] = field(init=False, repr=False)
    spread: F32 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.centres_n:
            self.centres_n = max(50, self.n // 400)
        rng = np.random.default_rng([self.seed, 0])
        self.centres = _unit(rng.standard_normal((self.centres_n, self.dim), dtype=np.float32))
        w = rng.lognormal(0.0, 1.0, self.centres_n)
        self.weights = w / w.sum()
        self.spread = np.sqrt(rng.uniform(*SPREAD2, self.centres_n)).astype(np.float32)

    @property
    def chunks(self) -> int:
        return math.ceil(self.n / self.chunk)

    def bounds(self, c: int) -> tuple[int, int]:
        return c * self.chunk, min(self.n, (c + 1) * self.chunk)

    def base(self, rng: np.random.Generator, m: int) -> F32:
        """m clustered vectors: normalise(centre + noise)."""
        labels = rng.choice(self.centres_n, size=m, p=self.weights)
        x = rng.standard_normal((m, self.dim), dtype=np.float32)
        x *= (self.spread[labels] / np.float32(math.sqrt(self.dim)))[:, None]
        x += self.centres[labels]
        return _unit(x)

    def make(self, c: int) -> tuple[F32, I64, I64]:
        """Chunk c: (vectors, their ids, planted pairs as a p x 2 array of ids)."""
        start, stop = self.bounds(c)
        m = stop - start
        rng = np.random.default_rng([self.seed, 1, c])
        x = self.base(rng, m)
        p = self.pairs * stop // self.n - self.pairs * start // self.n
        b = int(BURST_RATE * m)
        perm = rng.permutation(m)
        orig, copy = perm[:p], perm[p : 2 * p]
        src, dst = perm[2 * p : 2 * p + b], perm[2 * p + b : 2 * p + 2 * b]
        x[copy] = _near_copies(x[orig], rng, *PLANTED_NOISE)
        x[dst] = _near_copies(x[src], rng, *BURST_NOISE)
        ids = np.arange(start, stop, dtype=np.int64)
        return x, ids, np.stack([orig + start, copy + start], axis=1).astype(np.int64)

    def stream(self) -> Iterator[tuple[F32, I64, I64]]:
        for c in range(self.chunks):
            yield self.make(c)

    def extra(self, m: int, originals: F32, original_ids: I64) -> tuple[F32, I64, I64]:
        """m vectors after the N: near-copies of `originals`, the rest new, shuffled."""
        rng = np.random.default_rng([self.seed, 2])
        x = np.empty((m, self.dim), dtype=np.float32)
        dups = len(originals)
        where = rng.permutation(m)
        x[where[:dups]] = _near_copies(originals, rng, *PLANTED_NOISE)
        x[where[dups:]] = self.base(rng, m - dups)
        ids = np.arange(self.n, self.n + m, dtype=np.int64)
        pairs = np.stack([original_ids, where[:dups] + self.n], axis=1).astype(np.int64)
        return x, ids, pairs


class Stash:
    """Copies of a few chosen vectors, picked up while the chunks stream past."""

    def __init__(self, ids: I64, dim: int) -> None:
        self.ids = np.sort(ids)
        self.vectors = np.empty((len(ids), dim), dtype=np.float32)

    def take(self, x: F32, ids: I64) -> None:
        lo, hi = np.searchsorted(self.ids, [ids[0], ids[-1] + 1])
        self.vectors[lo:hi] = x[self.ids[lo:hi] - ids[0]]


# ------------------------------------------------------------------------------------------
# Measuring


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _busy_s() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    with open("/proc/stat") as handle:
        v = [int(f) for f in handle.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Wall and CPU seconds over one or more `with` blocks, and the CPU other processes used
    meanwhile (this machine is shared: a busy neighbour shows up here, not as a guess)."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.busy = 0.0

    def __enter__(self) -> Meter:
        self._t = (time.perf_counter(), time.process_time(), _busy_s())
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu, busy = self._t
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.busy += _busy_s() - busy

    def as_dict(self) -> dict[str, float]:
        return {
            "s": self.wall,
            "cpu_s": self.cpu,
            "other_cpu_s": max(0.0, self.busy - self.cpu),
        }


def pair_keys(a: I64, b: I64, base: int) -> I64:
    """One int64 per unordered pair."""
    return np.minimum(a, b) * base + np.maximum(a, b)


class PairSink:
    """Collects (query, neighbour) ids from neighbour_pairs."""

    def __init__(self) -> None:
        self.a: list[int] = []
        self.b: list[int] = []

    def feed(self, triples: Iterator[tuple[int, int, float]]) -> None:
        for a, b, _ in triples:
            self.a.append(a)
            self.b.append(b)

    def keys(self, base: int) -> I64:
        a = np.asarray(self.a, dtype=np.int64)
        b = np.asarray(self.b, dtype=np.int64)
        return np.unique(pair_keys(a, b, base))

    def directed(self, base: int) -> I64:
        a = np.asarray(self.a, dtype=np.int64)
        return np.unique(a * base + np.asarray(self.b, dtype=np.int64))


def share(truth: I64, found: I64) -> float | None:
    return float(np.isin(truth, found).mean()) if len(truth) else None


def pct(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


class OffsetFlat:
    """Exact search over one chunk, answering global ids (for the streamed exact baseline)."""

    def __init__(self, x: F32, offset: int) -> None:
        self.flat = FlatIndex(x.shape[1])
        self.flat.add(x)
        self.offset = offset

    def add(self, vectors: F32) -> None:
        raise NotImplementedError

    def search(self, queries: F32, k: int) -> tuple[F32, I64]:
        sims, ids = self.flat.search(queries, k)
        return sims, np.where(ids >= 0, ids + self.offset, -1)

    def __len__(self) -> int:
        return len(self.flat)


def duplicate_pairs(
    index: Any,
    vectors: F32,
    args: argparse.Namespace,
    ids: I64 | None = None,
    probes: npt.NDArray[np.int32] | None = None,
) -> Iterator[tuple[int, int, float]]:
    """`neighbour_pairs` with the run's k and duplicate threshold."""
    return neighbour_pairs(
        index, vectors, k=args.k, min_similarity=args.threshold, query_ids=ids, probes=probes
    )


def add_assigned(
    index: IVFIndex, x: F32, ids: I64, probes: list[npt.NDArray[np.int32]], args: argparse.Namespace
) -> None:
    """Add a chunk; unless --coarse-again, keep each vector's nprobe nearest clusters."""
    if args.coarse_again:
        index.add(x, ids)
        return
    lists = index.assign(x, index.nprobe)
    index.add(x, ids, clusters=lists[:, 0])
    probes.append(lists.astype(np.int32))


def make_index(centroids: F32, codec: str, nprobe: int, sample: F32 | None) -> IVFIndex:
    return IVFIndex(centroids, nprobe=nprobe, codec=codec, sq_sample=sample)


# ------------------------------------------------------------------------------------------
# Main run


def main_run(args: argparse.Namespace) -> dict[str, Any]:
    n, dim = args.n, args.dim
    synth = Synth(n, dim, args.seed, args.chunk, args.pairs)
    nlist = args.nlist or clusters_for(n, args.cluster_size)
    total = n + args.add
    base_key = total + 1
    meta = np.random.default_rng([args.seed, 3])
    q_ids = np.sort(meta.choice(n, min(args.queries, n), replace=False)).astype(np.int64)
    dup_ids = np.sort(meta.choice(n, min(args.add // 2, n), replace=False)).astype(np.int64)
    queries, originals = Stash(q_ids, dim), Stash(dup_ids, dim)
    raw_mib = n * dim * 4 / 2**20
    rss0 = rss_mib()
    out: dict[str, Any] = {
        "n": n,
        "dim": dim,
        "codec": args.codec,
        "nlist": nlist,
        "cluster_size_target": round(n / nlist),
        "nprobe": args.nprobe,
        "k": args.k,
        "threshold": args.threshold,
        "centres": synth.centres_n,
        "planted_pairs_build": args.pairs,
        "added": args.add,
        "planted_pairs_added": len(dup_ids),
        "queries": len(q_ids),
        "raw_vectors_mib": raw_mib,
        "rss_after_imports_mib": rss0,
        "mmap_threshold": args.mmap_threshold,
        "probes_reused": not args.coarse_again,
    }
    print(f"# main run: N={n:,} dim={dim} codec={args.codec} nlist={nlist}", flush=True)

    # Training sample: whole first chunks.
    train_n = min(n, max(args.train_n, MIN_TRAIN_PER_CLUSTER * nlist))
    sample_chunks = min(synth.chunks, math.ceil(train_n / args.chunk))
    gen, train, build, add, pairs_m, run = Meter(), Meter(), Meter(), Meter(), Meter(), Meter()
    with gen:
        head = [synth.make(c) for c in range(sample_chunks)]
    sample = np.concatenate([x for x, _, _ in head])
    out["train_vectors"] = len(sample)
    quiet(args)
    run.__enter__()
    with train:
        centroids = train_centroids(sample, nlist)
    out["train"] = train.as_dict()
    out["train_s"] = train.wall
    index = make_index(centroids, args.codec, args.nprobe, sample if args.codec == "sq8" else None)
    del sample
    print(f"train {out['train_s']:.1f} s on {out['train_vectors']:,} vectors", flush=True)

    # Build: chunk by chunk, straight into the index.
    quiet(args, run)
    planted: list[I64] = []
    # Each vector's nprobe nearest clusters, found once when it is added: the first is where
    # it goes, all of them are what all-pairs probes for it (--coarse-again: search again).
    probes: list[npt.NDArray[np.int32]] = []
    for c in range(synth.chunks):
        if c < sample_chunks:
            x, ids, pairs = head[c]
            head[c] = (np.empty((0, dim), np.float32), ids[:0], pairs[:0])
        else:
            with gen:
                x, ids, pairs = synth.make(c)
        queries.take(x, ids)
        originals.take(x, ids)
        planted.append(pairs)
        with build:
            add_assigned(index, x, ids, probes, args)
        del x
    del head
    out["build"] = build.as_dict()
    out["build_s"] = build.wall
    out["peak_after_build_mib"] = peak_mib()
    out["rss_after_build_mib"] = rss_mib()
    sizes = index.cluster_sizes()
    out["cluster_sizes"] = {
        "min": int(sizes.min()),
        "p50": float(np.median(sizes)),
        "p99": float(np.percentile(sizes, 99)),
        "max": int(sizes.max()),
        "empty": int((sizes == 0).sum()),
        # What a query scans per probe when queries follow the data: sum(s^2) / sum(s).
        "mean_seen_by_query": float((sizes.astype(np.float64) ** 2).sum() / sizes.sum()),
    }
    print(f"build {build.wall:.1f} s, peak {out['peak_after_build_mib']:.0f} MiB", flush=True)

    # Add 10,000 more: half near-copies of indexed vectors.
    extra_x, extra_ids, extra_pairs = synth.extra(args.add, originals.vectors, originals.ids)
    planted.append(extra_pairs)
    with add:
        add_assigned(index, extra_x, extra_ids, probes, args)
    out["add"] = add.as_dict()
    out["add_s"] = add.wall
    assert len(index) == total
    print(f"add {args.add:,}: {out['add_s']:.2f} s", flush=True)

    # All-pairs over the whole index (query vectors regenerated chunk by chunk).
    quiet(args, run)
    sink = PairSink()
    for c in range(synth.chunks + 1):
        if c < synth.chunks:
            with gen:
                x, ids, _ = synth.make(c)
        else:
            x, ids = extra_x, extra_ids
        with pairs_m:
            sink.feed(
                duplicate_pairs(
                    index, x, args, ids, probes=None if args.coarse_again else probes[c]
                )
            )
        del x
    run.__exit__()
    out["all_pairs"] = pairs_m.as_dict()
    out["all_pairs_s"] = pairs_m.wall
    out["generate"] = gen.as_dict()
    out["generate_s_not_counted"] = gen.wall
    out["main_steps"] = run.as_dict()
    found = sink.keys(base_key)
    out["pairs_found"] = len(found)
    planted_all = np.concatenate(planted)
    planted_keys = np.unique(pair_keys(planted_all[:, 0], planted_all[:, 1], base_key))
    out["planted_pairs"] = len(planted_keys)
    out["recall_planted"] = share(planted_keys, found)
    out["target_s"] = out["build_s"] + out["add_s"] + out["all_pairs_s"]
    out["peak_after_all_pairs_mib"] = peak_mib()
    print(
        f"all-pairs {pairs_m.wall:.1f} s, {len(found):,} pairs, planted recall "
        f"{out['recall_planted']:.4f}; build+add+all-pairs {out['target_s']:.1f} s",
        flush=True,
    )

    # IVF search of the Q queries (timed here; exact search of the same queries later).
    quiet(args)
    ivf_q, ivf_m = PairSink(), Meter()
    with ivf_m:
        ivf_q.feed(duplicate_pairs(index, queries.vectors, args, q_ids))
    out["ivf_queries"] = ivf_m.as_dict()
    out["ivf_queries_s"] = ivf_m.wall

    # Per-vector latency: single add(), search(), remove().
    quiet(args)
    rng = np.random.default_rng([args.seed, 4])
    fresh = synth.base(rng, args.latency)
    fresh_ids = np.arange(total, total + args.latency, dtype=np.int64)
    add_t, search_t, remove_t = [], [], []
    for i in range(args.latency):
        t = time.perf_counter()
        index.add(fresh[i : i + 1], fresh_ids[i : i + 1])
        add_t.append(time.perf_counter() - t)
    probe = queries.vectors[: args.latency]
    for i in range(len(probe)):
        t = time.perf_counter()
        index.search(probe[i : i + 1], args.k)
        search_t.append(time.perf_counter() - t)
    removed = 0
    for i in range(args.latency):
        t = time.perf_counter()
        removed += index.remove(fresh_ids[i : i + 1])
        remove_t.append(time.perf_counter() - t)
    out["latency"] = {"add": pct(add_t), "search": pct(search_t), "remove": pct(remove_t)}
    out["latency_calls"] = args.latency
    out["removed_ok"] = removed == args.latency and len(index) == total
    _, back = index.search(fresh[:8], 1)
    out["removed_absent"] = bool(np.isin(back, fresh_ids).sum() == 0)

    out["peak_rss_mib"] = peak_mib()
    out["peak_over_raw"] = out["peak_rss_mib"] / raw_mib
    print(
        f"peak RSS {out['peak_rss_mib']:.0f} MiB = {out['peak_over_raw']:.2f} x raw; "
        f"latency {out['latency']}",
        flush=True,
    )

    # Recall against nprobe on this index, without an all-pairs pass per nprobe: a pair is
    # found by all-pairs exactly when a search from one of its two members finds the other,
    # so querying every planted pair's members gives all-pairs' planted recall.
    by_nprobe: dict[int, dict[str, Any]] = {}
    if args.main_nprobes:
        members = Stash(np.unique(planted_all), dim)
        for c in range(synth.chunks):
            x, ids, _ = synth.make(c)
            members.take(x, ids)
        members.take(extra_x, extra_ids)
        for nprobe in args.main_nprobes:
            index.nprobe = nprobe
            sink, q_sink, q_meter, assign_meter = PairSink(), PairSink(), Meter(), Meter()
            sink.feed(duplicate_pairs(index, members.vectors, args, members.ids))
            quiet(args)
            with q_meter:
                q_sink.feed(duplicate_pairs(index, queries.vectors, args, q_ids))
            with assign_meter:
                index.assign(queries.vectors, index.nprobe)
            by_nprobe[index.nprobe] = {
                "recall_planted": share(planted_keys, sink.keys(base_key)),
                "queries_ms": q_meter.wall / len(q_ids) * 1e3,
                "assign_ms": assign_meter.wall / len(q_ids) * 1e3,
                "directed": q_sink.directed(base_key),
            }
        index.nprobe = args.nprobe
        del members
    del index
    gc.collect()

    # Exact baseline on the same Q queries.
    mode = args.exact
    if mode == "auto":
        mode = "flat" if total * dim * 4 <= 4 * 2**30 else "stream"
    out["exact_mode"] = mode
    if mode != "none":
        exact, exact_m = PairSink(), Meter()
        quiet(args)
        if mode == "flat":
            flat = FlatIndex(dim)
            for c in range(synth.chunks):
                flat.add(synth.make(c)[0])
            flat.add(extra_x)
            with exact_m:
                exact.feed(duplicate_pairs(flat, queries.vectors, args, q_ids))
            del flat
        else:
            for c in range(synth.chunks + 1):
                x, ids = (synth.make(c)[:2]) if c < synth.chunks else (extra_x, extra_ids)
                part = OffsetFlat(x, int(ids[0]))
                with exact_m:
                    exact.feed(duplicate_pairs(part, queries.vectors, args, q_ids))
                del part, x
        exact_s = exact_m.wall
        out["exact_queries"] = exact_m.as_dict()
        out["exact_queries_s"] = exact_s
        truth = exact.keys(base_key)
        out["exact_pairs"] = len(truth)
        out["recall_vs_exact"] = share(truth, found)
        out["recall_vs_exact_direct"] = share(exact.directed(base_key), ivf_q.directed(base_key))
        out["exact_ms_per_query"] = exact_s / len(q_ids) * 1e3
        out["ivf_ms_per_query"] = out["ivf_queries_s"] / len(q_ids) * 1e3
        out["exact_over_ivf"] = exact_s / out["ivf_queries_s"]
        for row in by_nprobe.values():
            row["recall_vs_exact_direct"] = share(exact.directed(base_key), row["directed"])
        print(
            f"exact: {len(truth)} pairs from {len(q_ids)} queries in {exact_s:.1f} s; recall "
            f"vs exact {out['recall_vs_exact']}",
            flush=True,
        )
    for row in by_nprobe.values():
        del row["directed"]
    out["by_nprobe"] = by_nprobe
    return out


# ------------------------------------------------------------------------------------------
# Sweep


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    n, dim = args.sweep_n, args.dim
    pairs = max(1, round(args.pairs * n / args.n)) if args.n else args.pairs
    synth = Synth(n, dim, args.seed + 1, args.chunk, pairs)
    parts = list(synth.stream())
    x = np.concatenate([p[0] for p in parts])
    planted = np.concatenate([p[2] for p in parts])
    del parts
    base_key = n + 1
    planted_keys = np.unique(pair_keys(planted[:, 0], planted[:, 1], base_key))
    meta = np.random.default_rng([args.seed, 5])
    q_ids = np.sort(meta.choice(n, min(args.queries, n), replace=False)).astype(np.int64)
    flat = FlatIndex(dim)
    flat.add(x)
    exact = PairSink()
    exact.feed(duplicate_pairs(flat, x[q_ids], args, q_ids))
    del flat
    truth = exact.keys(base_key)
    print(f"# sweep: N={n:,}, {len(planted_keys)} planted pairs, {len(truth)} exact pairs")
    rows = []
    for size in args.sizes:
        nlist = clusters_for(n, size)
        sample = x[: min(n, max(args.train_n, MIN_TRAIN_PER_CLUSTER * nlist))]
        quiet(args)
        with Meter() as train:
            centroids = train_centroids(sample, nlist)
        index = make_index(centroids, args.codec, 1, sample if args.codec == "sq8" else None)
        quiet(args)
        with Meter() as build:
            for s in range(0, n, args.chunk):
                index.add(x[s : s + args.chunk], np.arange(s, min(n, s + args.chunk)))
        for nprobe in args.nprobe_sweep:
            index.nprobe = nprobe
            sink = PairSink()
            quiet(args)
            with Meter() as meter:
                sink.feed(duplicate_pairs(index, x, args))
            pairs_s = meter.wall
            found = sink.keys(base_key)
            row = {
                "cluster_size": size,
                "nlist": nlist,
                "nprobe": index.nprobe,
                "train_s": train.wall,
                "build_s": build.wall,
                "all_pairs_s": pairs_s,
                "all_pairs_cpu_s": meter.cpu,
                "other_cpu_s": meter.as_dict()["other_cpu_s"],
                "recall_planted": share(planted_keys, found),
                "recall_vs_exact": share(truth, found),
            }
            rows.append(row)
            print(
                f"size {size} nlist {nlist} nprobe {nprobe}: {pairs_s:.1f} s, planted "
                f"{row['recall_planted']:.4f}, exact {row['recall_vs_exact']}",
                flush=True,
            )
        del index
    return {
        "n": n,
        "dim": dim,
        "codec": args.codec,
        "planted_pairs": len(planted_keys),
        "queries": len(q_ids),
        "exact_pairs": len(truth),
        "rows": rows,
    }


# ------------------------------------------------------------------------------------------
# Report


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _step(name: str, m: dict[str, float], digits: int = 1) -> str:
    return (
        f"| {name} | {fmt(m['s'], digits)} | {fmt(m['cpu_s'], digits)} | "
        f"{fmt(m['other_cpu_s'], digits)} |"
    )


def report_main(r: dict[str, Any]) -> str:
    lines = [
        f"### N = {r['n']:,} x {r['dim']}-d, codec {r['codec']}, nlist {r['nlist']:,} "
        f"(~{r['cluster_size_target']} per cluster), nprobe {r['nprobe']}, k {r['k']}, "
        f"cosine >= {r['threshold']}"
        + (f"; malloc mmap threshold {r['mmap_threshold']} B" if r["mmap_threshold"] else ""),
        "",
        "| step | seconds | CPU s (this process) | CPU s (other processes) |",
        "|---|---|---|---|",
        _step(f"train (k-means, {r['train_vectors']:,} vectors)", r["train"]),
        _step(f"build: add {r['n']:,}", r["build"]),
        _step(f"add {r['added']:,} more", r["add"], 2),
        _step(f"all-pairs over {r['n'] + r['added']:,}", r["all_pairs"]),
        f"| **build + add + all-pairs** (target < 180) | **{fmt(r['target_s'], 1)}** | | |",
        f"| train + build + add + all-pairs | {fmt(r['train_s'] + r['target_s'], 1)} | | |",
        _step("(generating the vectors: not counted above)", r["generate"]),
        _step("(wall clock from training to the end of all-pairs)", r["main_steps"]),
        "",
        "| memory | MiB |",
        "|---|---|",
        f"| raw float32 vectors (N x {r['dim']} x 4 B) | {fmt(r['raw_vectors_mib'], 0)} |",
        f"| RSS after imports | {fmt(r['rss_after_imports_mib'], 0)} |",
        f"| peak RSS after build | {fmt(r['peak_after_build_mib'], 0)} |",
        f"| RSS after build | {fmt(r['rss_after_build_mib'], 0)} |",
        f"| **peak RSS** (ru_maxrss, before the exact baseline) | **{fmt(r['peak_rss_mib'], 0)}"
        f" = {fmt(r['peak_over_raw'], 2)} x raw** (target <= 1.5) |",
        "",
        "| recall | value |",
        "|---|---|",
        f"| planted pairs found by all-pairs ({r['planted_pairs']:,}) | "
        f"{fmt(r['recall_planted'], 4)} |",
    ]
    if r.get("exact_mode", "none") != "none":
        lines += [
            f"| exact pairs of {r['queries']:,} random queries ({r['exact_pairs']:,}) found by "
            f"all-pairs | {fmt(r['recall_vs_exact'], 4)} |",
            f"| the same, IVF search of those queries only (directed) | "
            f"{fmt(r['recall_vs_exact_direct'], 4)} |",
            "",
            f"| search of {r['queries']:,} queries (k {r['k']}) | seconds | ms / query |",
            "|---|---|---|",
            f"| exact (faiss IndexFlatIP, {r['exact_mode']}) | {fmt(r['exact_queries_s'], 2)} | "
            f"{fmt(r['exact_ms_per_query'], 3)} |",
            f"| IVF nprobe {r['nprobe']} | {fmt(r['ivf_queries_s'], 2)} | "
            f"{fmt(r['ivf_ms_per_query'], 3)} |",
            f"| exact / IVF | {fmt(r['exact_over_ivf'], 1)} x | |",
        ]
    if r.get("by_nprobe"):
        lines += [
            "",
            f"Same index, other nprobe (recall of all-pairs, from searches of the "
            f"{r['planted_pairs']:,} planted pairs' members; recall vs exact of the "
            f"{r['queries']:,} queries' own searches):",
            "",
            "| nprobe | planted recall | recall vs exact (directed) | IVF ms / query "
            "| of which coarse assignment |",
            "|---|---|---|---|---|",
        ]
        for nprobe, row in r["by_nprobe"].items():
            lines.append(
                f"| {nprobe} | {fmt(row['recall_planted'], 4)} | "
                f"{fmt(row.get('recall_vs_exact_direct'), 4)} | {fmt(row['queries_ms'], 3)} | "
                f"{fmt(row['assign_ms'], 3)} |"
            )
    lat = r["latency"]
    lines += [
        "",
        f"| single-vector call at {r['n'] + r['added']:,} ({r['latency_calls']} calls) "
        "| p50 ms | p99 ms |",
        "|---|---|---|",
        *(
            f"| {name}() | {fmt(lat[name]['p50_ms'], 3)} | {fmt(lat[name]['p99_ms'], 3)} |"
            for name in ("add", "search", "remove")
        ),
        "",
        f"Cluster sizes after build: {r['cluster_sizes']}; remove() removed all and they are "
        f"no longer found: {r['removed_ok'] and r['removed_absent']}.",
    ]
    return "\n".join(lines)


def report_sweep(s: dict[str, Any]) -> str:
    lines = [
        f"### Sweep: N = {s['n']:,} x {s['dim']}-d, codec {s['codec']}; "
        f"{s['planted_pairs']:,} planted pairs; {s['exact_pairs']:,} exact pairs of "
        f"{s['queries']:,} random queries",
        "",
        "| cluster size | nlist | nprobe | all-pairs s | planted recall | recall vs exact "
        "| CPU s (this / other processes) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in s["rows"]:
        lines.append(
            f"| {row['cluster_size']} | {row['nlist']:,} | {row['nprobe']} | "
            f"{fmt(row['all_pairs_s'], 1)} | {fmt(row['recall_planted'], 4)} | "
            f"{fmt(row['recall_vs_exact'], 4)} | {fmt(row['all_pairs_cpu_s'], 1)} / "
            f"{fmt(row['other_cpu_s'], 1)} |"
        )
    trains = {row["cluster_size"]: (row["train_s"], row["build_s"]) for row in s["rows"]}
    lines.append("")
    lines.append(
        "Train / build seconds per cluster size: "
        + ", ".join(f"{k}: {v[0]:.1f} / {v[1]:.1f}" for k, v in trains.items())
    )
    return "\n".join(lines)


def _git(*argv: str) -> str:
    try:
        done = subprocess.run(["git", *argv], cwd=HERE, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip()


MMAP_THRESHOLD = [0]


def set_mmap_threshold(nbytes: int) -> None:
    """glibc only: allocations from this size up get their own mmap (and mremap on growth),
    so growing inverted lists leave no freed, still-resident holes in the heap."""
    libc = ctypes.CDLL("libc.so.6")
    if libc.mallopt(-3, nbytes) != 1:  # M_MMAP_THRESHOLD
        raise OSError("mallopt(M_MMAP_THRESHOLD) failed")
    MMAP_THRESHOLD[0] = nbytes


def wait_quiet(limit_s: float, cores: float = 0.3) -> float:
    """Wait (up to limit_s) until other processes use under `cores` CPUs; seconds waited."""
    waited = 0.0
    while waited < limit_s:
        busy, own = _busy_s(), time.process_time()
        time.sleep(2.0)
        waited += 2.0
        if (_busy_s() - busy - (time.process_time() - own)) / 2.0 < cores:
            return waited - 2.0
    return waited


WAITED = [0.0]


def variant(args: argparse.Namespace) -> str:
    """Suffix of a results key for settings other than the defaults."""
    parts = []
    if args.nprobe != 4:
        parts.append(f"nprobe{args.nprobe}")
    if args.nlist or args.cluster_size != CLUSTER_SIZE:
        parts.append(f"nlist{args.nlist}" if args.nlist else f"size{args.cluster_size}")
    if args.mmap_threshold:
        parts.append(f"mmap{args.mmap_threshold}")
    if args.coarse_again:
        parts.append("coarse-again")
    return "".join("/" + p for p in parts)


def quiet(args: argparse.Namespace, meter: Meter | None = None) -> None:
    """--wait-quiet: let a busy neighbour finish before a timed step (not counted in meter)."""
    if args.wait_quiet <= 0:
        return
    if meter is not None:
        meter.__exit__()
    WAITED[0] += wait_quiet(args.wait_quiet)
    if meter is not None:
        meter.__enter__()


def machine() -> dict[str, Any]:
    return {
        "date": dt.date.today().isoformat(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "git": _git("rev-parse", "--short", "HEAD"),
        "src_index_changes": _git("status", "--porcelain", "src/neardup/index"),
        "malloc_mmap_threshold": MMAP_THRESHOLD[0],
        "loadavg_at_start": os.getloadavg(),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    def ints(text: str) -> list[int]:
        return [int(v) for v in text.split(",") if v]

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="vectors in the main run")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--codec", choices=("flat", "sq8"), default="flat")
    p.add_argument("--nlist", type=int, default=0, help="default: n / --cluster-size")
    p.add_argument("--cluster-size", type=int, default=CLUSTER_SIZE)
    p.add_argument("--nprobe", type=int, default=4)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--threshold", type=float, default=0.9, help="duplicate: cosine >= this")
    p.add_argument("--pairs", type=int, default=10_000, help="planted pairs in the build")
    p.add_argument("--add", type=int, default=10_000, help="vectors added after the build")
    p.add_argument("--queries", type=int, default=2_000, help="random queries for exact")
    p.add_argument("--latency", type=int, default=200, help="single-vector calls timed")
    p.add_argument("--chunk", type=int, default=32_768)
    p.add_argument("--train-n", type=int, default=100_000, help="at least; also >= 39 x nlist")
    p.add_argument("--exact", choices=("auto", "flat", "stream", "none"), default="auto")
    p.add_argument("--sweep-n", type=int, default=100_000)
    p.add_argument("--sizes", type=ints, default=[128, 256, 512])
    p.add_argument("--nprobe-sweep", type=ints, default=[1, 2, 4, 8, 16])
    p.add_argument(
        "--main-nprobes",
        type=ints,
        default=[1, 2, 4, 8, 16],
        help="recall of the main index at these nprobe (planted members and Q queries only)",
    )
    p.add_argument(
        "--coarse-again",
        action="store_true",
        help="all-pairs searches the centroids again instead of reusing the clusters found "
        "for each vector when it was added",
    )
    p.add_argument("--skip-main", action="store_true")
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--quick", action="store_true", help="n 100k, sweep 50k, 1,000 queries/pairs")
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each timed step, wait up to this many seconds for other processes to idle",
    )
    p.add_argument(
        "--mmap-threshold",
        type=int,
        default=0,
        help="glibc mallopt(M_MMAP_THRESHOLD, bytes) first (default: leave malloc alone)",
    )
    p.add_argument("--json", type=Path, default=HERE / "index_results.json")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.sweep_n, args.queries, args.pairs, args.add = (
            100_000,
            50_000,
            1_000,
            1_000,
            1_000,
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.mmap_threshold:
        set_mmap_threshold(args.mmap_threshold)
    started = time.perf_counter()
    info = machine()
    print(f"{info}", flush=True)
    results: dict[str, Any] = {}
    if args.json.exists():
        results = json.loads(args.json.read_text())
    sections = []
    if not args.skip_main:
        r = main_run(args)
        r["machine"] = info
        results[f"main/{args.codec}/n{args.n}/d{args.dim}{variant(args)}"] = r
        sections.append(report_main(r))
    gc.collect()
    if not args.skip_sweep:
        s = sweep(args)
        s["machine"] = info
        results[f"sweep/{args.codec}/n{args.sweep_n}/d{args.dim}{variant(args)}"] = s
        sections.append(report_sweep(s))
    info["loadavg_at_end"] = os.getloadavg()
    info["waited_for_quiet_s"] = WAITED[0]
    args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print()
    print("\n\n".join(sections))
    print(f"\n(total {time.perf_counter() - started:.0f} s; results in {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
