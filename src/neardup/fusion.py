"""The fitted fusion: per-method scores of a pair -> a calibrated confidence that it is a copy.

A logistic model over a few fixed features of the raw scores (each method's score and hinges
on it, PDQ's hash quality, the geometric check, how the two frames' shapes differ). It is
fitted on the calibration halves of the evaluation sets by `benchmarks/fit_fusion.py`, which
writes the coefficients to `fusion_model.json` beside this module; nothing here was set by
hand. `confidence` is calibrated: of the pairs at about 0.9, about 90 % are duplicates (the
reliability table of `neardup eval` checks it).

One model per set of fused methods (`pdq+sscd_distilled`, `pdq`, ...), and a second one per set
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
    names: list[str] = []
    for method in methods:
        if method in EMBEDDINGS:
            names += [method, f"{method}>0.5", f"{method}>0.7", f"{method}>0.85"]
        elif method == "pdq":
            names += ["pdq", "pdq>0.75", "pdq>0.9", "pdq*quality", "quality"]
        elif method in HASHES:
            names += [method, f"{method}>0.75", f"{method}>0.9"]
        elif method == GEOMETRY:
            names += ["geometry", "geometry>0.5", "geometry>0.7", "geometry*inliers", "inliers"]
    embedding = next((m for m in methods if m in EMBEDDINGS), None)
    if embedding and "pdq" in methods:
        names.append(f"{embedding}*pdq")
    names.append("aspect")
    return names


def design(key: str, raw: dict[str, FloatArray], facts: PairFacts) -> FloatArray:
    """The model's input matrix (pairs x features) for method set `key`; missing scores are 0."""
    n = len(facts.quality)
    quality = np.clip(np.nan_to_num(facts.quality, nan=0.0), 0, 100) / 100.0
    inliers = np.log1p(np.nan_to_num(facts.inliers, nan=0.0)) / np.log(401.0)

    def score(method: str) -> FloatArray:
        values = raw.get(method)
        return np.zeros(n) if values is None else np.nan_to_num(values, nan=0.0)

    columns: dict[str, FloatArray] = {
        "quality": quality,
        "inliers": inliers,
        "aspect": np.minimum(np.nan_to_num(facts.aspect, nan=0.0), 2.0),
    }
    for method in (*EMBEDDINGS, *HASHES, GEOMETRY):
        s = score(method)
        columns[method] = s
        for cut in (0.5, 0.7, 0.75, 0.85, 0.9):
            columns[f"{method}>{cut:g}"] = np.maximum(0.0, s - cut)
    columns["pdq*quality"] = columns["pdq"] * quality
    columns["geometry*inliers"] = columns["geometry"] * inliers
    for method in EMBEDDINGS:
        columns[f"{method}*pdq"] = columns[method] * columns["pdq"]
    return np.stack([columns[name] for name in feature_names(key)], axis=1)


@dataclass(frozen=True, slots=True)
class Model:
    """One fitted logistic model: standardisation and coefficients for `feature_names(key)`."""

    key: str
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float

    def predict(self, raw: dict[str, FloatArray], facts: PairFacts) -> FloatArray:
        """Confidence in [0, 1] for each pair."""
        x = (design(self.key, raw, facts) - self.mean) / self.scale
        logit = x @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -40.0, 40.0)))

    def contributions(self, raw: dict[str, FloatArray], facts: PairFacts) -> dict[str, FloatArray]:
        """Each method's share of the logit (its features' terms, summed): what decided."""
        terms = (design(self.key, raw, facts) - self.mean) / self.scale * self.coef
        out: dict[str, FloatArray] = {}
        for j, name in enumerate(feature_names(self.key)):
            method = _owner(name)
            if method is not None:
                out[method] = out.get(method, 0.0) + terms[:, j]
        return out


def _owner(feature: str) -> str | None:
    """The method a feature belongs to ("pdq>0.9" -> pdq); None for image facts."""
    head = feature.replace(">", "*").split("*")[0]
    return head if head in (*EMBEDDINGS, *HASHES, GEOMETRY) else None


@dataclass(frozen=True, slots=True)
class Fitted:
    """The shipped fusion: models, the presets' cuts and when the geometric check is worth it."""

    models: dict[str, Model]
    presets: dict[str, float]
    verify_band: tuple[float, float]
    """Confidence (without geometry) where the check changed verdicts in calibration."""
    verify_pdq_below: float
    """Above the band, pairs whose PDQ score is below this still get the check (crops and
    look-alike textures rest on the embedding alone, however high it is)."""


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
    band = data["verify_band"]
    return Fitted(
        {key: _model(key, spec) for key, spec in data["models"].items()},
        {name: float(cut) for name, cut in data["presets"].items()},
        (float(band[0]), float(band[1])),
        float(data["verify_pdq_below"]),
    )


def models() -> dict[str, Model]:
    """The shipped models, keyed by method set (e.g. "pdq+sscd_distilled+geometry")."""
    return fitted().models


def _model(key: str, spec: dict[str, Any]) -> Model:
    if spec["features"] != feature_names(key):
        raise RuntimeError(f"{MODEL_FILE}: model {key} was fitted on other features; refit it")
    return Model(
        key,
        np.asarray(spec["mean"], dtype=np.float64),
        np.asarray(spec["scale"], dtype=np.float64),
        np.asarray(spec["coef"], dtype=np.float64),
        float(spec["intercept"]),
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
