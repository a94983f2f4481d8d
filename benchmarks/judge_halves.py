"""A rule judged as the sessions judge one: `neardup eval` of each half with a baseline
checkout and with this one, the groups' precision and recall side by side, and the verdict
(groups precision falls by no more than 0.001 on any half, mean recall does not fall).

    python benchmarks/judge_halves.py --baseline ../neardup-main [--split test] \
        eval-photos eval-mixed eval-graphics:cache-graphics.db ...

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


def groups_of(src: Path, set_dir: Path, split: str, cache: str | None) -> Groups:
    """`neardup eval` of one half with the package in `src`, its groups line read back."""
    command = [sys.executable, "-m", "neardup", "eval", str(set_dir / "truth.json")]
    command += ["--split", split] + (["--cache", cache] if cache else [])
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:1] == ["groups"] and len(fields) == 7:
            p, r, _, required, predicted, correct = fields[1:]
            return Groups(float(p), float(r), int(required), int(predicted), int(correct))
    raise ValueError(f"no groups line in the eval of {set_dir} ({split})")


def _shown(groups: Groups) -> str:
    return f"{groups.precision:.3f} / {groups.recall:.3f} ({groups.correct}/{groups.predicted})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", help="set folders, each optionally :CACHE")
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--split", default="test", help="calib or test (default test)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    rows = []
    for spec in args.sets:
        folder, _, cache = spec.partition(":")
        set_dir = Path(folder)
        base = groups_of(args.baseline.resolve() / "src", set_dir, args.split, cache or None)
        new = groups_of(HERE.parent / "src", set_dir, args.split, cache or None)
        rows.append((set_dir.name, base, new))
    print(f"| {args.split} half | baseline groups P / R | this checkout | P fell by |")
    print("|---|---|---|---|")
    falls = []
    for name, base, new in rows:
        fall = base.correct / max(base.predicted, 1) - new.correct / max(new.predicted, 1)
        falls.append(fall)
        print(f"| {name} | {_shown(base)} | {_shown(new)} | {max(fall, 0.0):.4f} |")
    mean_base = sum(b.recall for _, b, _ in rows) / len(rows)
    mean_new = sum(n.recall for _, _, n in rows) / len(rows)
    passed = max(falls) <= MOST_FALL and mean_new >= mean_base
    print(f"\nmean recall {mean_base:.4f} -> {mean_new:.4f}", end="; ")
    print(f"largest precision fall {max(falls):.4f}")
    print("passes" if passed else "fails", f"(precision may fall by {MOST_FALL} at most on a half)")
    if args.out:
        figures = [{"set": n, "baseline": asdict(b), "new": asdict(w)} for n, b, w in rows]
        args.out.write_text(json.dumps({"split": args.split, "halves": figures, "passes": passed}))


if __name__ == "__main__":
    main()
