"""neardup.eval on tiny hand-made truths, with every number worked out by hand."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from neardup.eval import (
    KindScore,
    Truth,
    evaluate,
    format_report,
    load_truth,
    required_pairs,
)

# path stem -> (group, edit, source, split)
IMAGES = {
    "a_orig": ("g1", "original", "a", "calib"),
    "a_crop": ("g1", "crop", "a", "calib"),
    "a_flip": ("g1", "flip", "a", "calib"),
    "a_copy": ("g1", "exact_copy", "a", "calib"),
    "t1": (None, "tile", "a", "calib"),
    "t2": (None, "tile", "a", "calib"),
    "b_orig": ("g2", "original", "b", "test"),
    "b_crop": ("g2", "crop", "b", "test"),
    "f1": (None, "frame", "clip", "test"),
}


def write_truth(folder: Path, images: Mapping[str, tuple[str | None, str, str, str]]) -> Path:
    records = [
        {"path": f"images/{stem}.jpg", "group": g, "edit": e, "source": s, "split": sp}
        for stem, (g, e, s, sp) in images.items()
    ]
    path = folder / "truth.json"
    path.write_text(json.dumps({"version": 1, "images": records}))
    return path


@pytest.fixture
def truth_file(tmp_path: Path) -> Path:
    return write_truth(tmp_path, IMAGES)


@pytest.fixture
def truth(truth_file: Path) -> Truth:
    return load_truth(str(truth_file))


def pairs_in(folder: Path) -> list[tuple[str, str, float]]:
    def p(stem: str) -> str:
        return str(folder / "images" / f"{stem}.jpg")

    return [
        (p("a_orig"), p("a_crop"), 0.9),  # required crop, found
        (p("a_copy"), p("a_orig"), 1.0),  # required exact_copy, given in reverse order
        (p("a_crop"), p("a_flip"), 0.8),  # correct, not required
        (p("a_orig"), p("t1"), 0.7),  # wrong: a negative
        (p("t1"), p("t2"), 0.6),  # wrong: two negatives
        (p("b_crop"), p("b_orig"), 0.1),  # required crop, lower duplicate of the next
        (p("b_orig"), p("b_crop"), 0.3),  # required crop, below 0.5
        (p("a_orig"), p("a_crop"), 0.2),  # lower duplicate: ignored
        (p("a_orig"), str(folder / "elsewhere.jpg"), 0.99),  # not in the truth: ignored
        (p("a_orig"), p("a_orig"), 1.0),  # self pair: ignored
        (p("b_crop"), p("f1"), 0.55),  # wrong: a frame
    ]


def by_kind(scores: list[KindScore]) -> dict[str, KindScore]:
    return {score.kind: score for score in scores}


def assert_score(score: KindScore, precision: float, recall: float, f1: float) -> None:
    for got, want in ((score.precision, precision), (score.recall, recall), (score.f1, f1)):
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want)


def test_load_truth_resolves_paths_against_the_truth_folder(truth_file: Path) -> None:
    truth = load_truth(str(truth_file))
    path = os.path.realpath(truth_file.parent / "images" / "a_crop.jpg")
    assert truth.images[path] == ("g1", "crop", "a", "calib")
    assert len(truth.images) == len(IMAGES)
    assert all(os.path.isabs(p) for p in truth.images)


def test_load_truth_rejects_other_versions(tmp_path: Path) -> None:
    bad = tmp_path / "truth.json"
    bad.write_text(json.dumps({"version": 2, "images": []}))
    with pytest.raises(ValueError, match="version 1"):
        load_truth(str(bad))


def test_load_truth_rejects_incomplete_records(tmp_path: Path) -> None:
    bad = tmp_path / "truth.json"
    bad.write_text(json.dumps({"version": 1, "images": [{"path": "x.jpg", "edit": "crop"}]}))
    with pytest.raises(ValueError, match="bad image record"):
        load_truth(str(bad))


def test_required_pairs_are_original_to_copy(truth: Truth) -> None:
    kinds = sorted(required_pairs(truth.images).values())
    assert kinds == ["crop", "crop", "exact_copy", "flip"]


def test_overall_scores(truth: Truth, truth_file: Path) -> None:
    report = evaluate(truth, pairs_in(truth_file.parent), threshold=0.5)
    overall = report.overall
    # predicted: a_orig-a_crop, a_copy-a_orig, a_crop-a_flip, a_orig-t1, t1-t2, b_crop-f1
    assert (overall.true_pairs, overall.predicted, overall.correct) == (4, 6, 3)
    assert_score(overall, 3 / 6, 2 / 4, 0.5)


def test_per_kind_scores(truth: Truth, truth_file: Path) -> None:
    kinds = by_kind(evaluate(truth, pairs_in(truth_file.parent), threshold=0.5).per_kind)
    assert list(kinds) == ["original", "crop", "exact_copy", "flip", "frame", "tile"]
    assert_score(kinds["original"], 2 / 3, math.nan, math.nan)
    assert (kinds["original"].predicted, kinds["original"].correct) == (3, 2)
    assert_score(kinds["crop"], 2 / 3, 1 / 2, 2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert kinds["crop"].true_pairs == 2
    assert_score(kinds["exact_copy"], 1.0, 1.0, 1.0)
    assert_score(kinds["flip"], 1.0, 0.0, 0.0)
    assert_score(kinds["tile"], 0.0, math.nan, 0.0)
    assert (kinds["tile"].predicted, kinds["tile"].correct) == (2, 0)
    assert_score(kinds["frame"], 0.0, math.nan, 0.0)


def test_split_keeps_pairs_inside_it(truth: Truth, truth_file: Path) -> None:
    pairs = pairs_in(truth_file.parent)
    calib = evaluate(truth, pairs, threshold=0.5, split="calib").overall
    assert (calib.true_pairs, calib.predicted, calib.correct) == (3, 5, 3)
    assert_score(calib, 3 / 5, 2 / 3, 2 * 0.6 * (2 / 3) / (0.6 + 2 / 3))
    test = evaluate(truth, pairs, threshold=0.5, split="test").overall
    assert (test.true_pairs, test.predicted, test.correct) == (1, 1, 0)
    assert_score(test, 0.0, 0.0, 0.0)


def test_duplicate_pairs_keep_their_highest_similarity(truth: Truth, truth_file: Path) -> None:
    report = evaluate(truth, pairs_in(truth_file.parent), threshold=0.25, split="test")
    assert by_kind(report.per_kind)["crop"].recall == 1.0


def test_sweep_uses_every_pair_whatever_the_threshold(truth: Truth, truth_file: Path) -> None:
    sweep = evaluate(
        truth, pairs_in(truth_file.parent), threshold=0.5, sweep=[0.0, 0.5, 0.95, 1.01]
    ).sweep
    assert [row[0] for row in sweep] == [0.0, 0.5, 0.95, 1.01]
    expected = [(4 / 7, 3 / 4), (3 / 6, 2 / 4), (1.0, 1 / 4), (math.nan, 0.0)]
    for (_, precision, recall, _), (want_p, want_r) in zip(sweep, expected, strict=True):
        assert precision == pytest.approx(want_p, nan_ok=True)
        assert recall == pytest.approx(want_r)
    assert sweep[2][3] == pytest.approx(0.4)
    assert sweep[3][3] == 0.0


def test_paths_are_normalised_through_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    truth = load_truth(str(write_truth(real, IMAGES)))
    (tmp_path / "link").symlink_to(real)
    report = evaluate(truth, pairs_in(tmp_path / "link"), threshold=0.5)
    assert (report.overall.predicted, report.overall.correct) == (6, 3)


def test_no_pairs(truth: Truth) -> None:
    report = evaluate(truth, [], sweep=[0.5])
    assert_score(report.overall, math.nan, 0.0, 0.0)
    _, precision, recall, _ = report.sweep[0]
    assert math.isnan(precision)
    assert recall == 0.0


def test_group_without_original_requires_nothing(tmp_path: Path) -> None:
    images = {"x1": ("g9", "crop", "x", "test"), "x2": ("g9", "flip", "x", "test")}
    truth = load_truth(str(write_truth(tmp_path, images)))
    x1, x2 = (str(tmp_path / "images" / f"{s}.jpg") for s in ("x1", "x2"))
    overall = evaluate(truth, [(x1, x2, 1.0)]).overall
    assert (overall.true_pairs, overall.predicted, overall.correct) == (0, 1, 1)
    assert_score(overall, 1.0, math.nan, math.nan)


def test_format_report(truth: Truth, truth_file: Path) -> None:
    report = evaluate(truth, pairs_in(truth_file.parent), threshold=0.5, sweep=[0.5, 1.01])
    text = format_report(report)
    lines = text.splitlines()
    assert lines[0] == "threshold 0.5, split all"
    overall = next(line for line in lines if line.startswith("overall"))
    assert overall.split() == ["overall", "0.500", "0.500", "0.500", "4", "6", "3"]
    tile = next(line for line in lines if line.startswith("tile"))
    assert tile.split() == ["tile", "0.000", "-", "0.000", "0", "2", "0"]
    assert lines[-1].split() == ["1.010", "-", "0.000", "0.000"]


def test_reliability_bins_carry_the_interval_their_pairs_allow() -> None:
    from neardup.eval.calibration import reliability, wilson

    # 15 pairs at 0.85 of which 13 are duplicates: a gap of +0.02, within what 15 pairs show.
    [row] = reliability([0.85] * 15, [True] * 13 + [False] * 2)
    low, high = row.likely
    assert (row.pairs, round(row.duplicates, 3)) == (15, 0.867)
    assert low < row.confidence < high and high - low > 0.3
    # Many pairs narrow it: 1,500 pairs give an interval about 0.035 wide.
    low, high = wilson(0.867, 1500)
    assert 0.84 < low < 0.867 < high < 0.89
    assert wilson(1.0, 20) == pytest.approx((0.8389, 1.0), abs=1e-3)  # never above 1
    assert wilson(0.0, 0) == (0.0, 1.0)
