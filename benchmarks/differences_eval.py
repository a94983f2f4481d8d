"""How well `neardup.differences` names each edit of an evaluation set.

    python benchmarks/differences_eval.py SET [SET ...] [--split test] [--workers N]
        [--json out.json]

SET is a folder built by make_eval_set.py, make_set_graphics.py or make_set_photos.py (its
truth.json gives every copy's `edit`). Every (original, edited copy) pair of every group is
measured (through the engine, as scan does for reported pairs), whether or not a scan would
report it: this scores the description, not the detection.

Each edit kind names the difference kinds it must produce (`MUST`) and those it may also
produce as a side effect (`MAY`: a resize-and-recompress may also lower quality). Per edit
kind: `named` = share of pairs where every MUST kind is reported; `clean` = share where, in
addition, nothing outside MUST and MAY is. Per difference kind: recall over the pairs whose
edit must produce it, false alarms over the pairs whose edit neither must nor may.
Compound edits are scored from their recorded steps where the truth lists them, else skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from neardup.difference_measures import GREY_SPREAD, colour_spread
from neardup.differences import DIFFERENCES
from neardup.engines.local import LocalEngine
from neardup.records import DIFFERENCE_KINDS, Differences

Expect = tuple[frozenset[str], frozenset[str]]


def _e(must: str = "", may: str = "") -> Expect:
    return frozenset(must.split(",")) - {""}, frozenset(may.split(",")) - {""}


EXPECT: dict[str, Expect] = {
    "exact_copy": _e("identical file"),
    "resize_recompress": _e("scaled", "quality"),
    "recompress_chain": _e("", "quality,scaled"),
    "crop": _e("cropped"),
    "flip": _e("mirrored"),
    "rotate90": _e("turned"),
    "rotate_small": _e("turned", "cropped,scaled"),
    "exif_rotated": _e("orientation tag", "identical pixels"),
    "jpeg_heavy": _e("quality"),
    "color": _e("colour"),
    "brightness": _e("colour"),
    "darken": _e("colour"),
    "brighten": _e("colour"),
    "greyscale": _e("greyscale"),
    "blur": _e("quality"),
    "noise": _e("quality"),
    "sharpen": _e("quality"),
    "overlay": _e("overlay"),
    "text_banner": _e("overlay", "cropped,scaled,borders"),
    "letterbox": _e("borders"),
    # A border added and the whole resized back to the old size squeezes the picture inside
    # unless the border kept its proportions (photos, mixed: `resized_back`).
    "border": _e("borders", "scaled,stretched"),
    "screenshot": _e("cropped", "scaled,borders,overlay,quality"),
    # make_eval_set.py's compound: crop 80-90 %, scale 0.5-0.8, recolour, JPEG 70-85.
    "compound": _e("cropped,scaled,colour", "quality"),
}


def _compound(params: Any) -> Expect | None:
    """MUST and MAY of a compound edit from its recorded steps (graphics and photos sets)."""
    steps = params.get("steps") if isinstance(params, dict) else None
    if not isinstance(steps, list):
        return None
    must: set[str] = set()
    may: set[str] = set()
    for step in steps:
        kind = step.get("edit") if isinstance(step, dict) else None
        if kind not in EXPECT or kind == "compound":
            return None
        must |= EXPECT[kind][0]
        may |= EXPECT[kind][1]
    # Chained edits can hide one another (a blur under a heavy JPEG, a crop after a turn).
    return frozenset(), frozenset(must | may)


def _grey(path: Path) -> bool:
    with Image.open(path) as image:
        return bool(colour_spread(np.asarray(image.convert("RGB"))) < GREY_SPREAD)


Row = tuple[str, str, str, Expect, dict[str, Any]]


def load_pairs(folder: Path, split: str | None) -> list[Row]:
    """(original path, copy path, edit, expectation, drawn parameters) for every scoreable
    pair (the parameters are empty where the truth does not record them)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in truth["images"]:
        if record.get("group") is not None and (split is None or record.get("split") == split):
            groups[record["group"]].append(record)
    out = []
    for members in groups.values():
        originals = [m for m in members if m["edit"] == "original"]
        for original in originals:
            for copy in members:
                edit = copy["edit"]
                if edit == "original":
                    continue
                if edit == "compound" and "params" in copy:
                    expect = _compound(copy["params"])
                elif edit == "greyscale" and _grey(folder / original["path"]):
                    # Made grey from a grey picture: nothing to see, at most a new container.
                    edit, expect = "greyscale (of grey)", _e("", "identical pixels,quality")
                else:
                    expect = EXPECT.get(edit)
                if expect is None:
                    continue
                params = copy.get("params") if isinstance(copy.get("params"), dict) else {}
                a, b = str(folder / original["path"]), str(folder / copy["path"])
                out.append((a, b, edit, expect, params))
    return out


def score(results: list[tuple[str, Expect, Differences]]) -> dict[str, Any]:
    """Per edit kind (named, clean) and per difference kind (recall, false alarms)."""
    per_edit: dict[str, Counter[str]] = defaultdict(Counter)
    spurious: dict[str, Counter[str]] = defaultdict(Counter)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for edit, (must, may), found in results:
        kinds = set(found.kinds)
        named = must <= kinds
        extra = kinds - must - may
        per_edit[edit]["pairs"] += 1
        per_edit[edit]["named"] += named
        per_edit[edit]["clean"] += named and not extra
        per_edit[edit]["unaligned"] += found.aligned_by == "frame"
        per_edit[edit]["not_aligned"] += found.identical is None and found.aligned_by is None
        spurious[edit].update(extra)
        for kind in DIFFERENCE_KINDS:
            if kind in must:
                per_kind[kind]["positives"] += 1
                per_kind[kind]["found"] += kind in kinds
            elif kind not in may:
                per_kind[kind]["negatives"] += 1
                per_kind[kind]["false_alarms"] += kind in kinds
    return {
        "per_edit": {
            edit: dict(counts) | {"spurious": dict(spurious[edit].most_common())}
            for edit, counts in sorted(per_edit.items())
        },
        "per_kind": {kind: dict(per_kind[kind]) for kind in DIFFERENCE_KINDS},
    }


def _turn(angle: float) -> float:
    angle = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if angle == -180.0 else angle


def measures(rows: list[tuple[str, dict[str, Any], Differences]]) -> dict[str, Any]:
    """Measured against drawn values where the truth records them (graphics, photos sets):
    the angle of small and right-angle turns, the scale of resizes, the kept area of crops."""
    errors: dict[str, list[float]] = defaultdict(list)
    for edit, params, found in rows:
        if edit in ("rotate_small", "rotate90") and "angle" in params and found.turned is not None:
            errors[edit + " angle (deg)"].append(abs(_turn(float(params["angle"]) - found.turned)))
        if edit == "resize_recompress" and "scale" in params and found.scale:
            errors["resize scale (ratio)"].append(abs(found.scale / float(params["scale"]) - 1))
        if edit == "crop" and "area" in params and found.common is not None:
            errors["crop area (share)"].append(abs(found.common[0] - float(params["area"])))
    out = {}
    for name, values in sorted(errors.items()):
        v = np.asarray(values)
        out[name] = {
            "pairs": len(v),
            "median": round(float(np.median(v)), 4),
            "p90": round(float(np.percentile(v, 90)), 4),
        }
    return out


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


def markdown(name: str, scores: dict[str, Any]) -> str:
    lines = [f"### {name}", ""]
    lines += ["| edit | pairs | named | clean | frames / none | most common extra |"]
    lines.append("|---|---|---|---|---|---|")
    for edit, c in scores["per_edit"].items():
        extra = ", ".join(f"{k} ({v})" for k, v in list(c["spurious"].items())[:3]) or "-"
        lines.append(
            f"| {edit} | {c['pairs']} | {_share(c['named'], c['pairs'])} |"
            f" {_share(c['clean'], c['pairs'])} | {c['unaligned']} / {c['not_aligned']} |"
            f" {extra} |"
        )
    lines += ["", "| difference | recall | pairs | false alarms | pairs |", "|---|---|---|---|---|"]
    for kind, c in scores["per_kind"].items():
        positives, negatives = c.get("positives", 0), c.get("negatives", 0)
        lines.append(
            f"| {kind} | {_share(c.get('found', 0), positives)} | {positives} |"
            f" {_share(c.get('false_alarms', 0), negatives)} | {negatives} |"
        )
    if scores.get("measures"):
        lines += ["", "| measure | pairs | median error | 90th percentile |", "|---|---|---|---|"]
        for name, m in scores["measures"].items():
            lines.append(f"| {name} | {m['pairs']} | {m['median']} | {m['p90']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--split", help="only this split (calib or test); default both")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    engine = LocalEngine(args.workers)
    for folder in args.sets:
        pairs = load_pairs(folder, args.split)
        if not pairs:
            print(f"{folder}: no scoreable pairs", file=sys.stderr)
            continue
        start = time.perf_counter()
        found: dict[tuple[str, str], Differences] = {}
        jobs = sorted({(a, b) for a, b, *_ in pairs})
        for chunk, out in engine.map(DIFFERENCES, jobs):
            found.update(zip(chunk, out, strict=True))
        seconds = time.perf_counter() - start
        results = [(edit, expect, found[a, b]) for a, b, edit, expect, _ in pairs]
        drawn = [(edit, params, found[a, b]) for a, b, edit, _, params in pairs]
        scores = score(results) | {"measures": measures(drawn)}
        scores |= {"pairs": len(pairs), "seconds": round(seconds, 1)}
        report[folder.name] = scores
        print(markdown(f"{folder.name} ({len(pairs)} pairs, {seconds:.1f} s)", scores))
        print()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
