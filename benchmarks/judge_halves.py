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
`:CACHE`, the feature cache its scans share (default: `neardup`'s). Both checkouts scan with
this interpreter, each with its own `src` first on the path, one after the other: they share
the cache's features, and of its pair findings only those stored under the same stage
version (a change to what a stage measures bumps its version). Which halves are judged,
and which are read once, is the rule's to say before its figures exist.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from neardup.eval.calibration import Bin

HERE = Path(__file__).resolve().parent
MOST_FALL = 0.001
"""The most groups precision may fall on a half."""


@dataclass(frozen=True)
class Groups:
    """One half's groups line: every two images of a group counted as a predicted pair."""

    precision: float
    recall: float
    required: int
    predicted: int
    correct: int


@dataclass(frozen=True)
class Half:
    """One half's `neardup eval`: its groups line, its pairs' precision and recall at the cut
    and its reliability table."""

    groups: Groups
    pairs: tuple[float, float]
    bins: tuple[Bin, ...]


def evaluated(src: Path, set_dir: Path, split: str, cache: str | None) -> Half:
    """`neardup eval` of one half with the package in `src`, read back."""
    command = [sys.executable, "-m", "neardup", "eval", str(set_dir / "truth.json")]
    command += ["--split", split] + (["--cache", cache] if cache else [])
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return read_eval(out, f"the eval of {set_dir} ({split})")


def read_eval(text: str, what: str = "the eval") -> Half:
    """The groups line, the pairs' overall line and the reliability rows of `neardup eval`'s
    table (`neardup.eval.table`)."""
    groups, pairs, bins, section = None, None, [], ""
    for line in text.splitlines():
        fields = line.split()
        if line.startswith(("pairs:", "groups (every", "confidence ", "threshold ")):
            section = fields[0]
            continue
        if section == "pairs:" and fields[:1] == ["overall"] and len(fields) == 7:
            pairs = (float(fields[1]), float(fields[2]))
        elif fields[:1] == ["groups"] and len(fields) == 7:
            p, r, _, required, predicted, correct = fields[1:]
            groups = Groups(float(p), float(r), int(required), int(predicted), int(correct))
        elif section == "confidence" and len(fields) == 6:
            low, high = (float(v) for v in fields[0].split("-"))
            likely = tuple(float(v) for v in fields[5].split("-"))
            count, mean, share = int(fields[1]), float(fields[2]), float(fields[3])
            bins.append(Bin(low, high, count, mean, share, (likely[0], likely[1])))
    if groups is None or pairs is None:
        raise ValueError(f"no groups or pairs line in {what}")
    return Half(groups, pairs, tuple(bins))


def bins_off(bins: tuple[Bin, ...]) -> int:
    """Bins whose gap is over 0.05 and whose 95 % interval excludes their mean confidence."""
    return sum(
        abs(b.duplicates - b.confidence) > 0.05 and not b.likely[0] <= b.confidence <= b.likely[1]
        for b in bins
    )


def calibration_error(bins: tuple[Bin, ...]) -> float:
    """The pair-weighted mean gap between a bin's confidence and its share of duplicates."""
    total = sum(b.pairs for b in bins)
    return sum(b.pairs * abs(b.duplicates - b.confidence) for b in bins) / max(total, 1)


def _shown(groups: Groups) -> str:
    return f"{groups.precision:.3f} / {groups.recall:.3f} ({groups.correct}/{groups.predicted})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", help="set folders, each optionally :CACHE")
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--split", default="test", help="calib or test (default test)")
    parser.add_argument(
        "--reliability", action="store_true", help="also the pairs and reliability figures"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    rows = []
    for spec in args.sets:
        folder, _, cache = spec.partition(":")
        set_dir = Path(folder)
        base = evaluated(args.baseline.resolve() / "src", set_dir, args.split, cache or None)
        new = evaluated(HERE.parent / "src", set_dir, args.split, cache or None)
        rows.append((set_dir.name, base, new))
    print(f"| {args.split} half | baseline groups P / R | this checkout | P fell by |")
    print("|---|---|---|---|")
    falls = []
    for name, base, new in rows:
        b, n = base.groups, new.groups
        fall = b.correct / max(b.predicted, 1) - n.correct / max(n.predicted, 1)
        falls.append(fall)
        print(f"| {name} | {_shown(b)} | {_shown(n)} | {max(fall, 0.0):.4f} |")
    mean_base = sum(b.groups.recall for _, b, _ in rows) / len(rows)
    mean_new = sum(n.groups.recall for _, _, n in rows) / len(rows)
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
    """The pairs and reliability figures of each half, and their verdict."""
    print("\n| half | pairs P / R | bins off | calibration error |")
    print("|---|---|---|---|")
    falls, off, error = [], [0, 0], [0.0, 0.0]
    for name, base, new in rows:
        falls.append(base.pairs[0] - new.pairs[0])
        counts = bins_off(base.bins), bins_off(new.bins)
        errors = calibration_error(base.bins), calibration_error(new.bins)
        off = [off[0] + counts[0], off[1] + counts[1]]
        error = [error[0] + errors[0], error[1] + errors[1]]
        pairs = (
            f"{base.pairs[0]:.3f} / {base.pairs[1]:.3f} -> {new.pairs[0]:.3f} / {new.pairs[1]:.3f}"
        )
        shown = f"{counts[0]} -> {counts[1]} | {errors[0]:.4f} -> {errors[1]:.4f}"
        print(f"| {name} | {pairs} | {shown} |")
    passed = off[1] < off[0] and error[1] < error[0] and max(falls) <= MOST_FALL
    summed = f"calibration error summed {error[0]:.4f} -> {error[1]:.4f}"
    print(f"\nbins off {off[0]} -> {off[1]}; {summed}")
    print(f"largest pairs precision fall {max(falls):.4f}")
    print(
        "reliability passes" if passed else "reliability fails",
        f"(bins off and the error both fall; pairs precision may fall by {MOST_FALL} at most)",
    )
    return passed


if __name__ == "__main__":
    main()
