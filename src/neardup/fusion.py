"""The fitted fusion: per-method scores of a pair -> a calibrated confidence that it is a copy.

A small boosted-tree model (scikit-learn's histogram gradient boosting, log loss, each method's
score constrained to raise confidence, never lower it) over each method's raw score, PDQ's hash
quality, the geometric check and how the two frames' shapes differ. Trees, because the evidence
interacts: a PDQ match means little on a flat picture, a high embedding score means little when
the geometric check finds no shared frame. It is fitted on the calibration halves of the
evaluation sets by `benchmarks/fit_fusion.py`, which writes `fusion_model.json` beside this
module; nothing here was set by hand. `confidence` is calibrated: of the pairs at about 0.9,
about 90 % are duplicates (the reliability table of `neardup eval` checks it).

One model per set of fused methods (`sscd_distilled+pdq`, `pdq`, ...), and a second one per set
for pairs whose geometric check decided (`...+geometry`). A scan with methods no model was
fitted for uses the model of the largest fitted subset of them; the other methods are
reported, not fused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup import methods

FloatArray = npt.NDArray[np.float64]

MODEL_FILE = "fusion_model.json"
MODEL_ENV = "NEARDUP_FUSION_MODEL"
MODEL_VERSION = 1
EMBEDDINGS = methods.EMBEDDINGS
HASHES = methods.HASHES
GEOMETRY = "geometry"
THUMB = "thumb"
ALIGNED = "aligned"
AGREE = "agree"


@dataclass(frozen=True, slots=True)
class PairFacts:
    """What the model knows of a batch of pairs besides the method scores (arrays, one per pair)."""

    quality: FloatArray
    """The lower PDQ hash quality of the two images (0-100)."""
    aspect: FloatArray
    """|log| of the ratio of the two pictures' aspect ratios (borders trimmed)."""
    inliers: FloatArray
    """RANSAC inliers of the geometric check (NaN where it did not run or could not decide)."""
    kept: FloatArray | None = None
    """The product of the two pictures' `Features.turned_back` (None: 1 for every pair): not a
    model input; it scales `similarity` only."""


def feature_names(key: str) -> list[str]:
    """The model's inputs for a method set, in order (the fit and the prediction share this)."""
    methods = key.split("+")
    names = [m for m in methods if m != GEOMETRY]
    names.append(THUMB)
    if "pdq" in methods:
        names.append("quality")
    if GEOMETRY in methods:
        names += [GEOMETRY, ALIGNED, AGREE, "inliers"]
    names.append("aspect")
    return names


def monotone(key: str) -> list[int]:
    """Per feature: +1 where a higher value may only raise confidence (scores), 0 elsewhere."""
    scores = (*EMBEDDINGS, *HASHES, THUMB, GEOMETRY, ALIGNED, AGREE)
    return [1 if name in scores else 0 for name in feature_names(key)]


def design(key: str, raw: dict[str, FloatArray], facts: PairFacts) -> FloatArray:
    """The model's input matrix (pairs x features) for method set `key`; missing scores are 0."""
    n = len(facts.quality)
    columns: dict[str, FloatArray] = {
        "quality": np.nan_to_num(facts.quality, nan=0.0),
        "inliers": np.nan_to_num(facts.inliers, nan=0.0),
        "aspect": np.nan_to_num(facts.aspect, nan=0.0),
    }
    for name in feature_names(key):
        if name not in columns:
            values = raw.get(name)
            columns[name] = np.zeros(n) if values is None else np.nan_to_num(values, nan=0.0)
    return np.stack([columns[name] for name in feature_names(key)], axis=1)


RAW_BLOCK = 512
"""Rows per block when the trees are walked node by node (`Trees.walk`)."""
MASK_BLOCK = 4096
"""Rows per block of the leaf-mask evaluation (`Trees.raw`): its rows x nodes tables stay
in cache."""


@dataclass(frozen=True, slots=True)
class Trees:
    """A boosted ensemble as flat node arrays, all trees concatenated (`roots` index them)."""

    roots: npt.NDArray[np.int64]
    feature: npt.NDArray[np.int64]
    threshold: FloatArray
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    value: FloatArray
    leaf: npt.NDArray[np.bool_]
    depth: int
    masks: LeafMasks | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "masks", LeafMasks.of(self))

    def raw(self, x: FloatArray) -> FloatArray:
        """Sum over trees of the leaf each row falls in (the log-odds, less the baseline):
        by leaf masks where every tree has at most 64 leaves (the same leaves, the same
        sums, about 20x faster), else node by node."""
        if self.masks is None:
            return self.walk(x)
        parts = [self.masks.raw(x[s : s + MASK_BLOCK]) for s in range(0, len(x), MASK_BLOCK)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def walk(self, x: FloatArray) -> FloatArray:
        """`raw` by walking each tree from its root, a block of rows at a time (the rows x
        trees node arrays then stay in cache)."""
        if len(x) > RAW_BLOCK:
            blocks = [self._walk(x[s : s + RAW_BLOCK]) for s in range(0, len(x), RAW_BLOCK)]
            return np.concatenate(blocks)
        return self._walk(x)

    def _walk(self, x: FloatArray) -> FloatArray:
        n = len(x)
        node = np.repeat(self.roots[None, :], n, axis=0)  # rows x trees
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            inner = ~self.leaf[node]
            if not inner.any():
                break
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        total: FloatArray = self.value[node].sum(axis=1)
        return total


@dataclass(frozen=True, slots=True)
class LeafMasks:
    """The trees in the form of QuickScorer (Lucchese et al., SIGIR 2015): each tree's leaves
    numbered left to right as bits; a row's leaf in a tree is the leftmost leaf left after
    clearing, for every inner node whose test the row fails (goes right), the leaves of that
    node's left subtree. A row fails exactly the nodes of a feature whose threshold is below
    its value, so with each feature's nodes sorted by threshold, the clearing done by the
    first r of them is one precomputed row per tree (`prefix`): a row's leaves are a binary
    search and one AND per feature, for all trees at once."""

    prefix: list[tuple[int, FloatArray, npt.NDArray[np.unsignedinteger[Any]]]]
    """Per feature tested: (feature, its sorted thresholds, (thresholds + 1) x trees masks:
    the leaves left in each tree once the first r nodes in threshold order are failed)."""
    values: FloatArray
    """trees x leaf bits: the value of each tree's leaf at each bit."""
    full: int

    @classmethod
    def of(cls, trees: Trees) -> LeafMasks | None:
        leaf_bits: list[dict[int, int]] = []
        inner: list[list[int]] = []
        for root in trees.roots.tolist():
            order: dict[int, int] = {}
            nodes: list[int] = []
            stack = [root]
            while stack:  # depth first, left before right: leaves in left-to-right order
                node = stack.pop()
                if trees.leaf[node]:
                    order[node] = len(order)
                else:
                    nodes.append(node)
                    stack += [int(trees.right[node]), int(trees.left[node])]
            if len(order) > 64:
                return None
            leaf_bits.append(order)
            inner.append(nodes)
        width = max(len(order) for order in leaf_bits)
        dtype = next(
            t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if width <= 8 * t().itemsize
        )
        full = (1 << width) - 1

        def leaves_under(node: int, order: dict[int, int]) -> int:
            if trees.leaf[node]:
                return 1 << order[node]
            return leaves_under(int(trees.left[node]), order) | leaves_under(
                int(trees.right[node]), order
            )

        values = np.zeros((len(leaf_bits), width))
        tests: dict[int, list[tuple[float, int, int]]] = {}
        for t, (order, nodes) in enumerate(zip(leaf_bits, inner, strict=True)):
            for node, bit in order.items():
                values[t, bit] = trees.value[node]
            for node in nodes:
                clear = full & ~leaves_under(int(trees.left[node]), order)
                tests.setdefault(int(trees.feature[node]), []).append(
                    (float(trees.threshold[node]), t, clear)
                )
        prefix = []
        for feature, found in sorted(tests.items()):
            found.sort(key=lambda test: test[0])
            masks = np.full((len(found) + 1, len(leaf_bits)), full, dtype=dtype)
            for r, (_, t, clear) in enumerate(found, start=1):
                masks[r] = masks[r - 1]
                masks[r, t] &= clear
            thresholds = np.array([test[0] for test in found], dtype=np.float64)
            prefix.append((feature, thresholds, masks))
        return cls(prefix, values, full)

    def raw(self, x: FloatArray) -> FloatArray:
        left: npt.NDArray[np.unsignedinteger[Any]] | None = None
        for feature, thresholds, masks in self.prefix:
            failed = np.searchsorted(thresholds, x[:, feature], side="left")  # thresholds < x
            part = masks[failed]
            left = part if left is None else left & part
        if left is None:
            left = np.full((len(x), len(self.values)), self.full, dtype=np.uint8)
        bit = _lowest_bit(left)
        total: FloatArray = self.values[np.arange(len(self.values))[None, :], bit].sum(axis=1)
        return total


def _lowest_bit(masks: npt.NDArray[np.unsignedinteger[Any]]) -> npt.NDArray[np.int64]:
    """Index of the lowest set bit of each (nonzero) mask."""
    wide = masks.astype(np.uint64)
    lowest = wide & (~wide + np.uint64(1))
    return np.bitwise_count(lowest - np.uint64(1)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Model:
    """One fitted model for `feature_names(key)`: a baseline log-odds plus boosted trees."""

    key: str
    baseline: float
    trees: Trees
    calibration: tuple[FloatArray, FloatArray]
    """Isotonic map from the trees' probability to the share of duplicates, fitted on
    out-of-fold predictions (the trees alone are over-confident on sources they never saw)."""

    def predict(self, raw: dict[str, FloatArray], facts: PairFacts) -> FloatArray:
        """Confidence in [0, 1] for each pair."""
        logit = self.baseline + self.trees.raw(design(self.key, raw, facts))
        probability = 1.0 / (1.0 + np.exp(-np.clip(logit, -40.0, 40.0)))
        xs, ys = self.calibration
        mapped: FloatArray = np.interp(probability, xs, ys)
        return mapped


@dataclass(frozen=True, slots=True)
class Fitted:
    """The shipped fusion: models, the presets' cuts and when the geometric check is worth it."""

    models: Mapping[str, Model]
    presets: dict[str, float]
    verify: npt.NDArray[np.float64]
    """Rows (cut, low, high): at that cut, the geometric check changed 99 % of the verdicts
    it changed in calibration for pairs whose confidence without it was in [low, high]."""

    settled: Settled | None = None
    """Pairs whose hashes settle them (no check needed), fitted with the band; None: none."""

    def verify_band(self, cut: float) -> tuple[float, float]:
        """Where the check is worth running at `cut` (the fitted row of the nearest cut)."""
        row = self.verify[int(np.argmin(np.abs(self.verify[:, 0] - cut)))]
        return float(row[1]), float(row[2])


@dataclass(frozen=True, slots=True)
class Settled:
    """A pair already judged a duplicate whose PDQ hashes (of enough quality) and thumbnails
    agree this closely is one: the check cannot rightly overturn it, only spoil it.

    `pdq` is the similarity at half the Hamming distance of the closest non-duplicate pair
    in calibration (at that quality), `thumb` a second, independent witness against hash
    collisions."""

    pdq: float
    quality: float
    thumb: float

    def holds(self, pdq: Any, thumb: Any, quality: Any) -> Any:
        """Elementwise: do these scores settle the pair? (Missing or NaN scores never do.)"""
        return (
            (np.nan_to_num(np.asarray(pdq, dtype=np.float64), nan=0.0) >= self.pdq)
            & (np.nan_to_num(np.asarray(thumb, dtype=np.float64), nan=0.0) >= self.thumb)
            & (np.asarray(quality, dtype=np.float64) >= self.quality)
        )


@cache
def fitted() -> Fitted:
    """The fusion shipped in the package (`fusion_model.json`), or the file named by the
    environment variable `NEARDUP_FUSION_MODEL` (a fusion refitted on your own data)."""
    own = os.environ.get(MODEL_ENV)
    if own:
        text = Path(own).read_text(encoding="utf-8")
    else:
        text = resources.files("neardup").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("version") != MODEL_VERSION:
        raise RuntimeError(f"{MODEL_FILE}: expected version {MODEL_VERSION}")
    for key, spec in data["models"].items():  # a stale model file fails here, not mid-scan
        if spec["features"] != feature_names(key):
            raise RuntimeError(f"{MODEL_FILE}: model {key} was fitted on other features; refit it")
    return Fitted(
        LazyModels(data["models"]),
        {name: float(cut) for name, cut in data["presets"].items()},
        np.asarray(data["verify"], dtype=np.float64).reshape(-1, 3),
        Settled(**data["settled"]) if "settled" in data else None,
    )


class LazyModels(Mapping[str, Model]):
    """The models by key, each built from its JSON spec when first used: a scan uses one or
    two of them, and building all of them at import took a tenth of a second every start."""

    def __init__(self, specs: dict[str, dict[str, Any]]) -> None:
        self._specs = specs
        self._built: dict[str, Model] = {}

    def __getitem__(self, key: str) -> Model:
        if key not in self._built:
            self._built[key] = _model(key, self._specs[key])
        return self._built[key]

    def __contains__(self, key: object) -> bool:
        return key in self._specs  # (Mapping's own would build the model to find out)

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def models() -> Mapping[str, Model]:
    """The shipped models, keyed by method set (e.g. "pdq+sscd_distilled+geometry")."""
    return fitted().models


def _model(key: str, spec: dict[str, Any]) -> Model:
    if spec["features"] != feature_names(key):
        raise RuntimeError(f"{MODEL_FILE}: model {key} was fitted on other features; refit it")
    nodes = spec["trees"]
    return Model(
        key,
        float(spec["baseline"]),
        Trees(
            np.asarray(nodes["roots"], dtype=np.int64),
            np.asarray(nodes["feature"], dtype=np.int64),
            np.asarray(nodes["threshold"], dtype=np.float64),
            np.asarray(nodes["left"], dtype=np.int64),
            np.asarray(nodes["right"], dtype=np.int64),
            np.asarray(nodes["value"], dtype=np.float64),
            np.asarray(nodes["leaf"], dtype=bool),
            int(nodes["depth"]),
        ),
        (
            np.asarray(spec["calibration"][0], dtype=np.float64),
            np.asarray(spec["calibration"][1], dtype=np.float64),
        ),
    )


def model_key(methods: Iterable[str]) -> str | None:
    """The fitted method set to fuse `methods` with: the largest fitted subset of them."""
    wanted = [m for m in (*EMBEDDINGS, *HASHES) if m in set(methods)]
    fitted = sorted(key for key in models() if GEOMETRY not in key.split("+"))
    best: str | None = None
    for key in fitted:
        parts = key.split("+")
        if set(parts) <= set(wanted) and (best is None or len(parts) > len(best.split("+"))):
            best = key
    return best


def key_of(methods: Iterable[str]) -> str:
    """The canonical name of a method set: embeddings first, then hashes, "+"-joined."""
    chosen = set(methods)
    return "+".join(m for m in (*EMBEDDINGS, *HASHES) if m in chosen)


def with_geometry(key: str) -> str | None:
    """The geometry-aware model of a method set, if one was fitted."""
    name = f"{key}+{GEOMETRY}"
    return name if name in models() else None
