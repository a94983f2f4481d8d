"""A rule judged as the sessions judge one: `neardup eval` of each half with a baseline
checkout and with this one, the groups' precision and recall side by side, and the verdict
(groups precision falls by no more than 0.001 on any half, mean recall does not fall).

    python benchmarks/judge_halves.py --baseline ../neardup-main [--split test] \
        [--reliability] eval-photos eval-mixed eval-graphics:cache-graphics.db ...

With `--reliability`, for a rule that changes the confidence reported and not the groups
(the group-confidence maps, a hold): each half's pairs precision and recall at the cut, its
reliability bins off (a gap over 0.05 whose 95 % interval excludes the bin's mean
confidence) and its expected calibration error (the pair-weighted mean gap), and a second
verdict: bins off and the error, summed over the halves, both fall, and no half's pairs
precision falls by more than 0.001.

Each set is a folder holding `truth.json` (from the `make_set_*.py` scripts), optionally
`:CACHE`, the feature cache its scans share (default: `neardup`'s), and `:NEW_CACHE`, another
one for this checkout's scans (where the rule changes the features' version: a store holds one
version's features, so two checkouts sharing one would make each other's again). Both checkouts
scan with this interpreter, each with its own `src` first on the path, one after the other: they
share the cache's features, and of its pair findings only those stored under the same stage
version (a change to what a stage measures bumps its version). Which halves are judged, and
which are read once, is the rule's to say before its figures exist.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
MOST_FALL = 0.001
"""The most a half's groups precision (and, with `--reliability`, its pairs precision) may
fall."""
OFF = 0.05
"""The gap from which a reliability bin is off (where its 95 % interval leaves its mean out)."""


@dataclass(frozen=True)
class Scores:
    """One overall line of the eval's table: the pairs' (`overall`) or the groups' (every two
    images of a group counted as a predicted pair); NaN where the table shows `-`."""

    precision: float
    recall: float
    required: int
    predicted: int
    correct: int

    def exact_precision(self) -> float:
        """From the counts: the printed precision has three decimals."""
        return self.correct / max(self.predicted, 1)


class Row(NamedTuple):
    """One row of the reliability table as printed: pairs, mean confidence, share of
    duplicates, the gap (from the unrounded values) and the share's 95 % interval."""

    pairs: int
    confidence: float
    duplicates: float
    gap: float
    low: float
    high: float


@dataclass(frozen=True)
class Half:
    """One half's `neardup eval`: its groups' and pairs' lines and its reliability rows."""

    groups: Scores
    pairs: Scores
    bins: tuple[Row, ...]


def evaluated(src: Path, set_dir: Path, split: str, cache: str | None) -> Half:
    """`neardup eval` of one half with the package in `src`, read back."""
    command = [sys.executable, "-m", "neardup", "eval", str(set_dir / "truth.json")]
    command += ["--split", split] + (["--cache", cache] if cache else [])
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return read_eval(out, f"the eval of {set_dir} ({split})")


def read_eval(text: str, what: str = "the eval") -> Half:
    """The first line of the pairs' table (`overall`), the first of the groups' (`groups`)
    and the reliability rows of `neardup eval`'s table (`neardup.eval.table`): each read in
    its own section, so a kind of that name further down is not taken for it."""
    lines: dict[str, Scores] = {}
    bins: list[Row] = []
    section = ""
    for line in text.splitlines():
        fields = line.split()
        if line.startswith(("pairs:", "groups (every", "confidence ", "threshold ")):
            section = fields[0]
            continue
        wanted = {"pairs:": "overall", "groups": "groups"}.get(section)
        if wanted and fields[:1] == [wanted] and len(fields) == 7 and wanted not in lines:
            p, r, _, required, predicted, correct = fields[1:]
            lines[wanted] = Scores(
                _number(p), _number(r), int(required), int(predicted), int(correct)
            )
        elif section == "confidence" and len(fields) == 6:
            low, high = (float(v) for v in fields[5].split("-"))
            values = int(fields[1]), float(fields[2]), float(fields[3]), float(fields[4])
            bins.append(Row(*values, low, high))
    if "groups" not in lines or "overall" not in lines:
        raise ValueError(f"no groups or pairs line in {what}")
    return Half(lines["groups"], lines["overall"], tuple(bins))


def _number(shown: str) -> float:
    """A score as the table prints it, `-` (nothing to score) as NaN."""
    return math.nan if shown == "-" else float(shown)


def bins_off(bins: tuple[Row, ...]) -> int:
    """Bins whose gap is over `OFF` and whose 95 % interval leaves their mean out."""
    return sum(abs(b.gap) > OFF and not b.low <= b.confidence <= b.high for b in bins)


def calibration_error(bins: tuple[Row, ...]) -> float:
    """The pair-weighted mean gap between a bin's confidence and its share of duplicates."""
    total = sum(b.pairs for b in bins)
    return sum(b.pairs * abs(b.gap) for b in bins) / max(total, 1)


def mean_recall(halves: list[Half]) -> float:
    """The groups' recall over the halves that require pairs (a half with no original has
    none: `-`)."""
    values = [h.groups.recall for h in halves if not math.isnan(h.groups.recall)]
    return sum(values) / max(len(values), 1)


def _shown(groups: Scores) -> str:
    return f"{groups.precision:.3f} / {groups.recall:.3f} ({groups.correct}/{groups.predicted})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sets", nargs="+", help="set folders, each optionally :CACHE and :NEW_CACHE"
    )
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--split", default="test", help="calib or test (default test)")
    parser.add_argument(
        "--reliability", action="store_true", help="also the pairs and reliability figures"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    if not (args.baseline / "src" / "neardup").is_dir():  # else the installed neardup runs
        parser.error(f"--baseline {args.baseline} holds no src/neardup (a checkout or git archive)")
    rows = []
    for spec in args.sets:
        folder, _, caches = spec.partition(":")
        cache, _, new_cache = caches.partition(":")
        set_dir = Path(folder)
        base = evaluated(args.baseline.resolve() / "src", set_dir, args.split, cache or None)
        new = evaluated(HERE.parent / "src", set_dir, args.split, new_cache or cache or None)
        rows.append((set_dir.name, base, new))
    print(f"| {args.split} half | baseline groups P / R | this checkout | P fell by |")
    print("|---|---|---|---|")
    falls = []
    for name, base, new in rows:
        fall = base.groups.exact_precision() - new.groups.exact_precision()
        falls.append(fall)
        print(f"| {name} | {_shown(base.groups)} | {_shown(new.groups)} | {max(fall, 0.0):.4f} |")
    mean_base = mean_recall([b for _, b, _ in rows])
    mean_new = mean_recall([n for _, _, n in rows])
    passed = max(falls) <= MOST_FALL and mean_new >= mean_base
    print(f"\nmean recall {mean_base:.4f} -> {mean_new:.4f}", end="; ")
    print(f"largest precision fall {max(falls):.4f}")
    print("passes" if passed else "fails", f"(precision may fall by {MOST_FALL} at most on a half)")
    reliable = _reliability(rows) if args.reliability else None
    if args.out:
        figures = [{"set": n, "baseline": asdict(b), "new": asdict(w)} for n, b, w in rows]
        verdict = {"passes": passed, "reliability_passes": reliable}
        args.out.write_text(json.dumps({"split": args.split, "halves": figures, **verdict}))


def _reliability(rows: list[tuple[str, Half, Half]]) -> bool:
    """The pairs and reliability figures of each half, and their verdict: bins off and the
    calibration error, summed, both fall, and no half's pairs precision falls by more than
    `MOST_FALL` (from the counts)."""
    print("\n| half | pairs P / R | bins off | calibration error |")
    print("|---|---|---|---|")
    falls, off, error = [], [0, 0], [0.0, 0.0]
    for name, base, new in rows:
        falls.append(base.pairs.exact_precision() - new.pairs.exact_precision())
        counts = bins_off(base.bins), bins_off(new.bins)
        errors = calibration_error(base.bins), calibration_error(new.bins)
        off = [off[0] + counts[0], off[1] + counts[1]]
        error = [error[0] + errors[0], error[1] + errors[1]]
        pairs = f"{_pair(base.pairs)} -> {_pair(new.pairs)}"
        shown = f"{counts[0]} -> {counts[1]} | {errors[0]:.4f} -> {errors[1]:.4f}"
        print(f"| {name} | {pairs} | {shown} |")
    reasons = []
    if off[1] >= off[0]:
        reasons.append("bins off did not fall")
    if error[1] >= error[0]:
        reasons.append("the calibration error did not fall")
    if max(falls) > MOST_FALL:
        reasons.append(f"a half's pairs precision fell by more than {MOST_FALL}")
    summed = f"calibration error summed {error[0]:.4f} -> {error[1]:.4f}"
    print(f"\nbins off {off[0]} -> {off[1]}; {summed}")
    print(f"largest pairs precision fall {max(falls):.4f}")
    print("reliability", f"fails: {'; '.join(reasons)}" if reasons else "passes", end=" ")
    print(f"(bins off and the error both fall; pairs precision may fall by {MOST_FALL} at most)")
    return not reasons


def _pair(scores: Scores) -> str:
    return f"{scores.precision:.3f} / {scores.recall:.3f}"


if __name__ == "__main__":
    main()
