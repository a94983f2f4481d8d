"""CPU cost of the differences stage, and whether two checkouts describe pairs alike.

    python benchmarks/differences_cost.py SET [SET ...] [--split calib] [--out results.pkl]
        [--compare other.pkl]

Measures every (original, edited copy) pair of the sets' split (the pairs
`differences_eval.py` scores), in this process, one `Differ` per set as a worker has, and
prints the CPU seconds (steadier than wall time on a shared machine). Run it alternately
with another checkout's sources first on `PYTHONPATH` to time two versions; `--out` keeps
the results and `--compare` counts the pairs whose description differs from a kept run
(whole records, then the kinds reported, then each field).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import time
from collections import Counter
from pathlib import Path

from differences_eval import load_pairs

from neardup.differences import Differ
from neardup.records import Differences

Results = dict[tuple[str, str], Differences]


def measure(sets: list[Path], split: str) -> tuple[float, Results]:
    """(CPU seconds, results) over every pair of the sets' split."""
    cpu = 0.0
    results: Results = {}
    for set_dir in sets:
        pairs = sorted({(a, b) for a, b, *_ in load_pairs(set_dir, split)})
        differ = Differ()
        start = time.process_time()
        found = [differ.measure(a, b) for a, b in pairs]
        cpu += time.process_time() - start
        results.update(zip(pairs, found, strict=True))
    return cpu, results


def compare(ours: Results, theirs: Results) -> str:
    """How many pairs are described alike, differ in kinds, and which fields differ."""
    same = kinds = 0
    fields: Counter[str] = Counter()
    for pair, mine in ours.items():
        other = theirs.get(pair)
        if other == mine:
            same += 1
            continue
        if other is None:
            fields["(missing)"] += 1
            continue
        kinds += mine.kinds != other.kinds
        fields.update(
            f.name
            for f in dataclasses.fields(mine)
            if getattr(mine, f.name) != getattr(other, f.name)
        )
    return f"{same} of {len(ours)} pairs identical; kinds differ on {kinds}; fields {dict(fields)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--split", default="calib")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    cpu, results = measure(args.sets, args.split)
    each = 1000 * cpu / max(1, len(results))
    print(f"{len(results)} pairs, {cpu:.2f} s CPU ({each:.1f} ms a pair)")
    if args.out:
        args.out.write_bytes(pickle.dumps(results))
    if args.compare:
        print(compare(results, pickle.loads(args.compare.read_bytes())))


if __name__ == "__main__":
    main()
