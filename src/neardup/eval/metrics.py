"""Precision and recall of found duplicate pairs against a truth file: overall, per edit kind,
over a threshold sweep and for the pairs the groups imply, as one `EvalReport`.

Definitions:

- Predicted pairs: the given ``(path_a, path_b, similarity)`` with ``similarity >= threshold``.
  A pair is unordered; a pair given twice counts once (with its highest similarity); pairs
  with an image that is not in the truth, and self-pairs, are ignored.
- Correct: a predicted pair whose two images share a non-null group. Edited copy <-> edited
  copy pairs of one group are therefore correct, though no one requires them.
- Required pairs: in each group, every (original, edited copy) pair, ``exact_copy`` included;
  the pair's kind is the copy's edit.
- Overall precision = correct / predicted; overall recall = required pairs predicted /
  required pairs; f1 = their harmonic mean.
- Per kind: recall = that kind's required pairs predicted / that kind's required pairs
  (NaN for kinds nothing is required of: ``original`` and the negatives ``tile``, ``frame``);
  precision = correct / predicted over the predicted pairs with at least one image of that
  kind, so the hard negatives get a precision row too.
- ``split``: when given, only images of that split count, and only pairs with both images
  in it.
- ``sweep``: overall precision, recall and f1 at each given threshold, from the same pairs
  (a pair the caller left out, e.g. below its engine's own cut-off, is simply not there).
- Groups: when the scan's groups are given, the same scores for the pairs the groups imply
  (every two images of one group are predicted duplicates): what a user acting on groups
  gets. Group recall can only fall below pair recall when grouping drops a found pair.
- Reliability: the pairs' ``confidence`` in ten bins, each bin's mean confidence against the
  share of its pairs that are true duplicates (same non-null group). Calibrated confidence
  has the two close in every bin.
- Precision is NaN when nothing is predicted, recall NaN when nothing is required; f1 is 0
  when either is 0, otherwise NaN when either is NaN. The report prints NaN as ``-``.
- Notes: `EvalReport.notes` says why a score cannot be measured: no truth image in the split,
  or images but no required pair (no group holds an ``original``), where every recall is NaN.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from neardup.eval.calibration import Bin, reliability
from neardup.eval.truth import ORIGINAL, Truth, TruthEntry

Pair = tuple[str, str]


@dataclass
class KindScore:
    """Precision and recall over all pairs (kind "overall") or one edit kind."""

    kind: str
    precision: float
    recall: float
    f1: float
    true_pairs: int  # required pairs (of this kind)
    predicted: int  # predicted pairs (touching this kind)
    correct: int  # correct predicted pairs (touching this kind)


@dataclass
class EvalReport:
    overall: KindScore
    per_kind: list[KindScore]
    sweep: list[tuple[float, float, float, float]]  # (threshold, precision, recall, f1)
    threshold: float = 0.0
    split: str | None = None
    notes: list[str] = field(default_factory=list)
    groups: KindScore | None = None
    """Scores of the pairs the groups imply (None when no groups were given)."""
    groups_per_kind: list[KindScore] = field(default_factory=list)
    reliability: list[Bin] = field(default_factory=list)


def no_original_note(split: str | None) -> str:
    """The note for images that require no pair: recall cannot be measured, which a column
    of '-' alone would not say."""
    where = "the truth" if split is None else f"split {split}"
    return (
        f"no group in {where} has an image with edit 'original': recall counts only "
        "(original, edited copy) pairs, so none is required and every recall is '-'"
    )


def _key(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def required_pairs(images: dict[str, TruthEntry]) -> dict[Pair, str]:
    """Every (original, edited copy) pair of every group -> the copy's edit kind."""
    members: dict[str, list[str]] = {}
    for path, entry in images.items():
        if entry.group is not None:
            members.setdefault(entry.group, []).append(path)
    required: dict[Pair, str] = {}
    for paths in members.values():
        originals = [p for p in paths if images[p].edit == ORIGINAL]
        copies = [p for p in paths if images[p].edit != ORIGINAL]
        for original in originals:
            for copy in copies:
                required[_key(original, copy)] = images[copy].edit
    return required


def _scored_pairs(
    images: dict[str, TruthEntry], pairs: Iterable[tuple[str, str, float]]
) -> dict[Pair, float]:
    """The given pairs between known images, unordered, each with its highest similarity."""
    real: dict[str, str] = {}  # realpath is a system call: once per distinct path

    def resolve(path: str) -> str:
        if path not in real:
            real[path] = os.path.realpath(path)
        return real[path]

    scored: dict[Pair, float] = {}
    for path_a, path_b, similarity in pairs:
        a, b = resolve(path_a), resolve(path_b)
        if a == b or a not in images or b not in images:
            continue
        key = _key(a, b)
        if similarity > scored.get(key, -math.inf):
            scored[key] = float(similarity)
    return scored


def _same_group(images: dict[str, TruthEntry], pair: Pair) -> bool:
    group = images[pair[0]].group
    return group is not None and group == images[pair[1]].group


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def _f1(precision: float, recall: float) -> float:
    if precision == 0 or recall == 0:
        return 0.0
    if math.isnan(precision) or math.isnan(recall):
        return math.nan
    return 2 * precision * recall / (precision + recall)


def _score(kind: str, true_pairs: int, found: int, predicted: int, correct: int) -> KindScore:
    precision, recall = _ratio(correct, predicted), _ratio(found, true_pairs)
    return KindScore(
        kind, precision, recall, _f1(precision, recall), true_pairs, predicted, correct
    )


def _kind_order(kinds: Iterable[str]) -> list[str]:
    return sorted(set(kinds), key=lambda kind: (kind != ORIGINAL, kind))


def _per_kind(
    images: dict[str, TruthEntry],
    required: dict[Pair, str],
    predicted: set[Pair],
    correct: set[Pair],
) -> list[KindScore]:
    true_pairs = Counter(required.values())
    found = Counter(kind for pair, kind in required.items() if pair in predicted)
    touching: Counter[str] = Counter()
    touching_correct: Counter[str] = Counter()
    for pair in predicted:
        for kind in {images[pair[0]].edit, images[pair[1]].edit}:
            touching[kind] += 1
            touching_correct[kind] += pair in correct
    kinds = _kind_order(entry.edit for entry in images.values())
    return [
        _score(kind, true_pairs[kind], found[kind], touching[kind], touching_correct[kind])
        for kind in kinds
    ]


def _sweep(
    scored: dict[Pair, float],
    required: dict[Pair, str],
    correct: set[Pair],
    thresholds: Sequence[float],
) -> list[tuple[float, float, float, float]]:
    """Overall precision / recall / f1 at each threshold, from one sort of the scores."""
    pairs = list(scored)
    scores = np.array([scored[p] for p in pairs], dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    descending = scores[order]
    cum_correct = np.cumsum(np.array([p in correct for p in pairs], dtype=np.int64)[order])
    cum_found = np.cumsum(np.array([p in required for p in pairs], dtype=np.int64)[order])
    rows = []
    for threshold in thresholds:
        count = int(np.searchsorted(-descending, -threshold, side="right"))
        hits = int(cum_correct[count - 1]) if count else 0
        found = int(cum_found[count - 1]) if count else 0
        precision, recall = _ratio(hits, count), _ratio(found, len(required))
        rows.append((float(threshold), precision, recall, _f1(precision, recall)))
    return rows


def evaluate(
    truth: Truth,
    pairs: Iterable[tuple[str, str, float]],
    *,
    threshold: float = 0.0,
    split: str | None = None,
    sweep: Sequence[float] = (),
    groups: Iterable[Sequence[str]] | None = None,
) -> EvalReport:
    """Score found pairs (a, b, confidence) against the truth (see the module docstring)."""
    images = truth.subset(split)
    required = required_pairs(images)
    scored = _scored_pairs(images, pairs)
    correct_any = {pair for pair in scored if _same_group(images, pair)}
    predicted = {pair for pair, similarity in scored.items() if similarity >= threshold}
    correct = predicted & correct_any
    found = sum(pair in predicted for pair in required)
    overall = _score("overall", len(required), found, len(predicted), len(correct))
    notes = [] if images else [f"no truth images in split {split!r}"]
    if images and not required:
        notes.append(no_original_note(split))
    report = EvalReport(
        overall=overall,
        per_kind=_per_kind(images, required, predicted, correct),
        sweep=_sweep(scored, required, correct_any, sweep),
        threshold=threshold,
        split=split,
        notes=notes,
        reliability=reliability([scored[p] for p in scored], [p in correct_any for p in scored]),
    )
    if groups is not None:
        implied = _group_pairs(images, groups)
        implied_correct = {pair for pair in implied if _same_group(images, pair)}
        found = sum(pair in implied for pair in required)
        report.groups = _score("groups", len(required), found, len(implied), len(implied_correct))
        report.groups_per_kind = _per_kind(images, required, implied, implied_correct)
    return report


def _group_pairs(images: dict[str, TruthEntry], groups: Iterable[Sequence[str]]) -> set[Pair]:
    """Every two known images of one group."""
    out: set[Pair] = set()
    for group in groups:
        known = sorted({os.path.realpath(p) for p in group} & images.keys())
        for i, a in enumerate(known):
            out.update(_key(a, b) for b in known[i + 1 :])
    return out
