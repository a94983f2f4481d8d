"""Plots: the data drawn is right (tested on the data functions, numbers worked out by hand),
and each writer makes a valid 800 x 450 PNG that shows it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_eval import IMAGES, pairs_in, write_truth

from neardup.cli import main
from neardup.eval import PLOT_THRESHOLDS, evaluate, load_truth, write_plots
from neardup.output.plots import (
    precision_recall,
    reliability_curve,
    scan_scores,
    score_histogram,
    write_precision_recall,
    write_reliability,
    write_score_histogram,
)

RED = (0xC0, 0x39, 0x2B)  # the cut's line


def _png(path: Path) -> np.ndarray:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (800, 450)
        return np.asarray(image.convert("RGB"))


def _has_colour(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=2) <= 12).any())


def _doc(confidence: list[float], similarity: list[float], cut: float = 0.9) -> dict[str, object]:
    pairs = [
        {"a": f"a{n}", "b": f"b{n}", "confidence": c, "similarity": s}
        for n, (c, s) in enumerate(zip(confidence, similarity, strict=True))
    ]
    settings = {"threshold": cut, "presets": {"strict": 0.99, "default": 0.9, "loose": 0.4}}
    return {"schema": "neardup.scan/2", "settings": settings, "pairs": pairs}


def test_score_histogram_counts_each_side_of_the_cut() -> None:
    confidence = [0.95, 0.91, 0.5, 0.05, 1.0]
    histogram = score_histogram(confidence, confidence, 0.9, bins=10)
    assert list(histogram.edges) == pytest.approx([n / 10 for n in range(11)])
    assert list(histogram.above) == [0] * 9 + [3]
    assert list(histogram.below) == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    # Similarity plotted, split by confidence: a low-similarity pair can be reported.
    similarity = [0.35, 0.95, 0.5, 0.05, 1.0]
    by_similarity = score_histogram(similarity, confidence, 0.9, bins=10)
    assert list(by_similarity.above) == [0, 0, 0, 1, 0, 0, 0, 0, 0, 2]
    assert by_similarity.below.sum() == 2


def test_scan_scores_reads_a_result_and_refuses_others() -> None:
    confidence, similarity, cut, presets = scan_scores(_doc([0.95, 0.2], [0.9, 0.1], 0.7))
    assert (confidence, similarity, cut) == ([0.95, 0.2], [0.9, 0.1], 0.7)
    assert presets["loose"] == 0.4
    with pytest.raises(ValueError, match="not a neardup scan result"):
        scan_scores({"schema": "neardup.index-report/2"})


def test_precision_recall_from_the_eval_sweep(tmp_path: Path) -> None:
    truth = load_truth(str(write_truth(tmp_path, IMAGES)))
    folder = tmp_path / "plots"
    written = write_plots(truth, pairs_in(tmp_path), 0.5, None, str(folder))
    assert "precision_recall.png" in written and "reliability.png" in written
    report = evaluate(truth, pairs_in(tmp_path), threshold=0.5, sweep=PLOT_THRESHOLDS)
    curve = precision_recall(list(reversed(report.sweep)))  # any order in, sorted out
    assert list(curve.thresholds) == sorted(curve.thresholds)
    rows = zip(curve.thresholds, curve.precision, curve.recall, strict=True)
    at = {round(float(t), 3): (p, r) for t, p, r in rows}
    # By hand (test_eval's pairs): at 0.5, 6 predicted, 3 correct, 2 of 4 required found;
    # at 0.85 the two found pairs are both right.
    assert at[0.5] == pytest.approx((0.5, 0.5))
    assert at[0.85] == pytest.approx((1.0, 0.5))
    assert math.isnan(at[1.0][0]) or at[1.0][0] == 1.0
    pixels = _png(folder / "precision_recall.png")
    assert _has_colour(pixels, RED)
    _png(folder / "reliability.png")


def test_reliability_curve_drops_empty_bins(tmp_path: Path) -> None:
    bins = [(0.0, 0.1, 10, 0.05, 0.0), (0.1, 0.2, 0, 0.0, 0.0), (0.9, 1.0, 4, 0.97, 0.75)]
    curve = reliability_curve(bins)
    assert list(curve.confidence) == [0.05, 0.97]
    assert list(curve.duplicates) == [0.0, 0.75]
    assert list(curve.pairs) == [10, 4]
    pixels = _png(write_reliability(bins, tmp_path / "r.png"))
    assert _has_colour(pixels, (0x3B, 0x75, 0xAF))


def test_plot_command_writes_the_histogram(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(_doc([0.99, 0.95, 0.3, 0.1], [0.98, 0.9, 0.4, 0.2])))
    target = tmp_path / "out" / "hist.png"
    assert main(["plot", str(result), "--scores", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    pixels = _png(target)
    assert _has_colour(pixels, RED) and _has_colour(pixels, (0x3B, 0x75, 0xAF))
    # The same data drawn directly gives the same picture.
    again = write_score_histogram(json.loads(result.read_text()), tmp_path / "again.png")
    assert np.array_equal(_png(again), pixels)
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["plot", str(tmp_path / "bad.json"), "--scores", str(target)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_precision_recall_writer_marks_the_cut(tmp_path: Path) -> None:
    sweep = [(0.1, 0.5, 1.0, 0.667), (0.5, 0.8, 0.9, 0.847), (0.9, 1.0, 0.5, 0.667)]
    pixels = _png(write_precision_recall(sweep, 0.5, tmp_path / "pr.png", {"loose": 0.4}))
    assert _has_colour(pixels, RED) and _has_colour(pixels, (0xE6, 0x7E, 0x22))


def test_eval_plot_option_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`neardup eval TRUTH --plot DIR` scans the truth's images and writes both plots."""
    from conftest import make_photo

    (tmp_path / "images").mkdir()
    coffee = make_photo("coffee", 256)
    coffee.save(tmp_path / "images" / "orig.png")
    coffee.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "images" / "flip.jpg")
    make_photo("moon", 256).save(tmp_path / "images" / "other.png")
    truth = write_truth(
        tmp_path,
        {
            "orig": ("g1", "original", "c", "test"),
            "flip": ("g1", "flip", "c", "test"),
            "other": ("g2", "original", "m", "test"),
        },
    )
    for stem, ext in (("orig", "png"), ("other", "png")):  # write_truth names them .jpg
        (tmp_path / "images" / f"{stem}.{ext}").rename(tmp_path / "images" / f"{stem}.jpg")
    folder = tmp_path / "plots"
    argv = ["eval", str(truth), "--plot", str(folder), "--cache", str(tmp_path / "c.db")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"wrote {folder / 'precision_recall.png'}" in out
    assert _has_colour(_png(folder / "precision_recall.png"), RED)
    _png(folder / "reliability.png")
