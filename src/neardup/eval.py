"""Precision and recall of found duplicate pairs against a truth file.

The truth file (written by ``benchmarks/make_eval_set.py``) lists every image with its
``group`` (null for hard negatives), the ``edit`` that made it (``original``, ``crop``, ...,
or ``tile`` / ``frame`` for negatives), its ``source`` photo and its ``split`` (``calib`` or
``test``). Paths are relative to the truth file's folder; here they become absolute paths
normalised with ``os.path.realpath``, and so do the paths of the pairs evaluated.

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
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

TRUTH_VERSION = 1
ORIGINAL = "original"

Pair = tuple[str, str]


class TruthEntry(NamedTuple):
    """What the truth says about one image."""

    group: str | None
    edit: str
    source: str
    split: str | None


@dataclass
class Truth:
    """A loaded truth file: absolute real path -> what is true of that image."""

    images: dict[str, TruthEntry]

    def subset(self, split: str | None) -> dict[str, TruthEntry]:
        """The images of one split (all images when split is None)."""
        if split is None:
            return self.images
        return {path: entry for path, entry in self.images.items() if entry.split == split}


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


class Bin(NamedTuple):
    """One row of a reliability table."""

    low: float
    high: float
    pairs: int
    confidence: float  # mean confidence of the bin's pairs
    duplicates: float  # share of them that are true duplicates


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


def load_truth(path: str) -> Truth:
    """Read a truth file; image paths become absolute real paths."""
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    if not isinstance(data, dict) or data.get("version") != TRUTH_VERSION:
        raise ValueError(f"{path}: not a version {TRUTH_VERSION} truth file")
    folder = os.path.dirname(os.path.abspath(path))
    images: dict[str, TruthEntry] = {}
    for record in data.get("images", []):
        try:
            real = os.path.realpath(os.path.join(folder, record["path"]))
            entry = TruthEntry(
                record["group"], record["edit"], record["source"], record.get("split")
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"{path}: bad image record {record!r}") from error
        if real in images:
            raise ValueError(f"{path}: {record['path']} is listed twice")
        images[real] = entry
    return Truth(images)


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


def reliability(
    confidence: Sequence[float], duplicate: Sequence[bool], bins: int = 10
) -> list[Bin]:
    """Mean confidence against the share of true duplicates, in `bins` equal bins."""
    values = np.asarray(confidence, dtype=np.float64)
    truth = np.asarray(duplicate, dtype=bool)
    out: list[Bin] = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    for n in range(bins):
        low, high = float(edges[n]), float(edges[n + 1])
        rows = (values >= low) & ((values < high) if n < bins - 1 else (values <= high))
        if rows.any():
            mean = float(values[rows].mean())
            out.append(Bin(low, high, int(rows.sum()), mean, float(truth[rows].mean())))
    return out


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def format_report(report: EvalReport) -> str:
    """A plain-text table: overall and per-kind scores, then the threshold sweep."""
    split = report.split if report.split is not None else "all"
    lines = [f"threshold {report.threshold:g}, split {split}"]
    lines += [f"note: {note}" for note in report.notes]
    header = (
        f"{'kind':<18} {'precision':>9} {'recall':>7} {'f1':>7}"
        f" {'required':>9} {'predicted':>9} {'correct':>9}"
    )
    lines += ["pairs:", header, "-" * len(header)]
    for score in (report.overall, *report.per_kind):
        lines.append(
            f"{score.kind:<18} {_number(score.precision):>9} {_number(score.recall):>7}"
            f" {_number(score.f1):>7} {score.true_pairs:>9} {score.predicted:>9}"
            f" {score.correct:>9}"
        )
    if report.groups is not None:
        lines += ["", "groups (every two images of a group count as a predicted pair):"]
        lines += [header, "-" * len(header)]
        for score in (report.groups, *report.groups_per_kind):
            lines.append(
                f"{score.kind:<18} {_number(score.precision):>9} {_number(score.recall):>7}"
                f" {_number(score.f1):>7} {score.true_pairs:>9} {score.predicted:>9}"
                f" {score.correct:>9}"
            )
    if report.reliability:
        lines += ["", f"{'confidence':>10} {'pairs':>7} {'mean':>6} {'duplicates':>10} {'gap':>6}"]
        for row in report.reliability:
            lines.append(
                f"{row.low:>4.1f}-{row.high:<5.1f} {row.pairs:>7} {row.confidence:>6.3f}"
                f" {row.duplicates:>10.3f} {row.duplicates - row.confidence:>+6.3f}"
            )
    if report.sweep:
        lines += ["", f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>7}"]
        for threshold, precision, recall, f1 in report.sweep:
            lines.append(
                f"{threshold:>9.3f} {_number(precision):>9} {_number(recall):>7} {_number(f1):>7}"
            )
    return "\n".join(lines)


SWEEP = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def run_eval(
    truth_path: str,
    *,
    methods: str | None = None,
    preset: str | None = None,
    threshold: float | None = None,
    split: str | None = None,
    cache: str | None = None,
    workers: int | None = None,
    json_path: str | None = None,
    plot_dir: str | None = None,
) -> str:
    """`neardup eval`: scan the truth file's images, then report precision and recall;
    with `plot_dir`, also the precision / recall and reliability plots there."""
    from neardup.api import scan
    from neardup.output import json as json_out
    from neardup.scoring import threshold_for

    truth = load_truth(truth_path)
    cut = threshold_for(preset, threshold)
    paths = sorted(truth.subset(split))
    # Scanned at the real cut (the geometric check runs where it can change that verdict);
    # every scored pair comes back too, for the sweep and the reliability table.
    result = scan(
        paths,
        methods=methods,
        threshold=cut,
        cache=cache,
        workers=workers,
        floor=0.0,
        differences=False,  # not scored here (benchmarks/differences_eval.py scores them)
    )
    if json_path:
        with open(json_path, "w", encoding="utf-8") as file:
            file.write(json_out.dumps(result))
    pairs = [(result.path(p.a), result.path(p.b), p.confidence) for p in result.pairs]
    groups = [
        [result.path(g.keeper), *(result.path(i) for i, _ in g.members)] for g in result.groups
    ]
    report = evaluate(truth, pairs, threshold=cut, split=split, sweep=SWEEP, groups=groups)
    seconds = result.stats.seconds.get("total", 0.0)
    head = f"{len(result.images)} images, {len(result.skipped)} skipped, {seconds:.1f} s"
    text = head + "\n" + format_report(report)
    if plot_dir:
        text += "\n" + write_plots(truth, pairs, cut, split, plot_dir)
    return text


PLOT_THRESHOLDS = tuple(round(t, 3) for t in np.linspace(0.0, 1.0, 201))
"""The sweep drawn in the precision / recall plot: fine enough for a smooth curve."""


def write_plots(
    truth: Truth,
    pairs: Sequence[tuple[str, str, float]],
    cut: float,
    split: str | None,
    folder: str,
) -> str:
    """precision_recall.png and reliability.png in `folder`; returns what was written."""
    from neardup.output.plots import write_precision_recall, write_reliability
    from neardup.scoring import PRESETS

    fine = evaluate(truth, pairs, threshold=cut, split=split, sweep=PLOT_THRESHOLDS)
    written = [
        write_precision_recall(
            fine.sweep, cut, os.path.join(folder, "precision_recall.png"), PRESETS
        ),
        write_reliability(fine.reliability, os.path.join(folder, "reliability.png")),
    ]
    return "\n".join(f"wrote {path}" for path in written)
