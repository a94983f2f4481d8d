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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MODEL_FILE = "fusion_model.json"
MODEL_ENV = "NEARDUP_FUSION_MODEL"
MODEL_VERSION = 1
EMBEDDINGS = ("sscd_distilled", "sscd")
HASHES = ("pdq", "phash", "dhash", "ahash", "whash")
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
"""Rows per block when the trees are evaluated (measured: 256-512 best, 2,048 1.5x slower)."""


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

    def raw(self, x: FloatArray) -> FloatArray:
        """Sum over trees of the leaf each row falls in (the log-odds, less the baseline).
        Rows go in blocks: the rows x trees node arrays then stay in cache (3x faster on a
        million pairs than one pass; the same sums)."""
        if len(x) > RAW_BLOCK:
            blocks = [self._raw(x[s : s + RAW_BLOCK]) for s in range(0, len(x), RAW_BLOCK)]
            return np.concatenate(blocks)
        return self._raw(x)

    def _raw(self, x: FloatArray) -> FloatArray:
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

    models: dict[str, Model]
    presets: dict[str, float]
    verify: npt.NDArray[np.float64]
    """Rows (cut, low, high): at that cut, the geometric check changed 99 % of the verdicts
    it changed in calibration for pairs whose confidence without it was in [low, high]."""

    def verify_band(self, cut: float) -> tuple[float, float]:
        """Where the check is worth running at `cut` (the fitted row of the nearest cut)."""
        row = self.verify[int(np.argmin(np.abs(self.verify[:, 0] - cut)))]
        return float(row[1]), float(row[2])


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
    return Fitted(
        {key: _model(key, spec) for key, spec in data["models"].items()},
        {name: float(cut) for name, cut in data["presets"].items()},
        np.asarray(data["verify"], dtype=np.float64).reshape(-1, 3),
    )


def models() -> dict[str, Model]:
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
