"""Scores: per-method similarity bounds, the fused score, method names, thresholds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

import neardup
from neardup.api import parse_methods
from neardup.features.hashes import hamming, hash_similarity
from neardup.records import Features
from neardup.scoring import (
    ALL_METHODS,
    CALIBRATION,
    DEFAULT_METHODS,
    MIN_PDQ_QUALITY,
    PRESETS,
    calibrate,
    fuse,
    score_pair,
    threshold_for,
)

if TYPE_CHECKING:
    from conftest import FileMaker


def features(name: str, bytes_hash: str = "", pixel_hash: str | None = None) -> Features:
    return Features(name, 100, 0, 64, 64, "PNG", bytes_hash or f"b-{name}", pixel_hash)


# --- hash similarity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "bits", "expected"),
    [
        (0, 256, 1.0),
        (128, 256, 0.0),
        (256, 256, 0.0),  # floored: a complement is not "negatively similar"
        (31, 256, 1 - 62 / 256),  # Meta's PDQ match threshold: about 0.76
        (0, 64, 1.0),
        (16, 64, 0.5),
        (64, 64, 0.0),
    ],
)
def test_hash_similarity_values(distance: int, bits: int, expected: float) -> None:
    assert hash_similarity(distance, bits) == pytest.approx(expected)


@pytest.mark.parametrize("bits", [64, 256])
def test_hash_similarity_is_bounded_and_monotone(bits: int) -> None:
    values = [hash_similarity(d, bits) for d in range(bits + 1)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values == sorted(values, reverse=True)
    assert values[0] == 1.0 and values[-1] == 0.0


def test_hamming_counts_differing_bits() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, 32, dtype=np.uint8)
    b = a.copy()
    b[0] ^= 0b1011
    b[31] ^= 0xFF
    assert int(hamming(a, b)) == 3 + 8
    stacked = np.stack([a, b, ~a])
    assert hamming(stacked, a).tolist() == [0, 11, 256]


# --- calibration and fusion ------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(CALIBRATION))
def test_calibration_is_monotone_from_zero_to_one(method: str) -> None:
    assert set(CALIBRATION) == {*ALL_METHODS, "geometry"}
    xs = np.linspace(0, 1, 101)
    ys = [calibrate(method, float(x)) for x in xs]
    assert ys[0] == 0.0 and ys[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(ys))
    assert calibrate(method, -0.5) == 0.0 and calibrate(method, 1.5) == 1.0


def test_pdq_match_threshold_maps_to_the_default_preset() -> None:
    assert calibrate("pdq", 0.76) == pytest.approx(PRESETS["default"])


def test_fuse_exact_wins_outright() -> None:
    scored = fuse({"exact": 1.0, "pdq": 0.1, "sscd_distilled": 0.2})
    assert (scored.similarity, scored.evidence) == (1.0, "exact")


def test_fuse_takes_the_strongest_calibrated_method() -> None:
    scored = fuse({"exact": 0.0, "pdq": 0.5, "sscd_distilled": 0.75})
    assert scored.evidence == "sscd_distilled"
    assert scored.similarity == pytest.approx(0.8)
    assert scored.scores == {"exact": 0.0, "pdq": 0.5, "sscd_distilled": 0.75}


def test_fuse_ignores_pdq_of_flat_pictures() -> None:
    scores = {"exact": 0.0, "pdq": 1.0, "sscd_distilled": 0.5}
    assert fuse(scores, pdq_quality=MIN_PDQ_QUALITY).evidence == "pdq"
    weak = fuse(scores, pdq_quality=MIN_PDQ_QUALITY - 1)
    assert (weak.evidence, weak.similarity) == ("sscd_distilled", 0.5)


def test_fuse_with_no_evidence() -> None:
    assert (fuse({}).similarity, fuse({}).evidence) == (0.0, "none")
    assert fuse({"exact": 0.0}).similarity == 0.0


def test_identical_bytes_are_exact() -> None:
    a, b = features("a", "same"), features("b", "same")
    scored = score_pair(a, b, DEFAULT_METHODS)
    assert (scored.similarity, scored.evidence, scored.scores) == (1.0, "exact", {"exact": 1.0})


def test_identical_pixels_are_exact_unknown_pixels_are_not() -> None:
    same = score_pair(features("a", pixel_hash="p"), features("b", pixel_hash="p"), ("exact",))
    assert same.similarity == 1.0
    unknown = score_pair(features("a"), features("b"), ("exact",))
    assert (unknown.similarity, unknown.scores) == (0.0, {"exact": 0.0})
    differ = score_pair(features("a", pixel_hash="p"), features("b", pixel_hash="q"), ("exact",))
    assert differ.similarity == 0.0


def test_methods_missing_on_one_image_are_not_scored() -> None:
    a, b = features("a"), features("b")
    a.pdq = np.zeros((8, 32), dtype=np.uint8)
    a.embeddings["sscd"] = np.ones(512, dtype=np.float32) / np.sqrt(512)
    scored = score_pair(a, b, ("exact", "pdq", "sscd"))
    assert scored.scores == {"exact": 0.0}


def test_pdq_matches_through_any_dihedral_view() -> None:
    rng = np.random.default_rng(5)
    views = rng.integers(0, 256, (8, 32), dtype=np.uint8)
    a, b = features("a"), features("b")
    a.pdq, b.pdq = views, views[[3, 1, 2, 0, 4, 5, 6, 7]]  # b is a as seen turned
    a.pdq_quality = b.pdq_quality = 100
    assert score_pair(a, b, ("pdq",)).scores["pdq"] == 1.0
    b.pdq = rng.integers(0, 256, (8, 32), dtype=np.uint8)
    assert score_pair(a, b, ("pdq",)).scores["pdq"] < 0.3


def test_embedding_score_is_clamped_cosine() -> None:
    a, b = features("a"), features("b")
    unit = np.zeros(512, dtype=np.float32)
    unit[0] = 1.0
    a.embeddings["sscd"], b.embeddings["sscd"] = unit, -unit
    assert score_pair(a, b, ("sscd",)).scores["sscd"] == 0.0
    b.embeddings["sscd"] = unit
    assert score_pair(a, b, ("sscd",)).scores["sscd"] == 1.0
    mirrored = np.zeros(512, dtype=np.float32)
    mirrored[1] = 1.0
    b.embeddings["sscd"] = mirrored
    assert score_pair(a, b, ("sscd",)).scores["sscd"] == 0.0
    a.embeddings_flip["sscd"] = mirrored  # a mirrored copy matches through the flipped view
    assert score_pair(a, b, ("sscd",)).scores["sscd"] == 1.0


# --- method names and thresholds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, DEFAULT_METHODS),
        ("default", DEFAULT_METHODS),
        ("fusion", DEFAULT_METHODS),
        ("pdq", ("exact", "pdq")),
        (" PDQ , sscd ", ("exact", "pdq", "sscd")),
        ("pdq,pdq,default", ("pdq", "exact", "sscd_distilled")),  # order as given
        (["phash", "exact"], ("phash", "exact")),
        ("exact", ("exact",)),
    ],
)
def test_parse_methods(given: str | list[str] | None, expected: tuple[str, ...]) -> None:
    assert parse_methods(given) == expected


@pytest.mark.parametrize("bad", ["bogus", "pdq,nope", "", "sscd-distilled"])
def test_parse_methods_rejects_unknown_names(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown method"):
        parse_methods(bad)


def test_scan_rejects_unknown_method_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown method 'bogus'"):
        neardup.scan([tmp_path / "missing"], methods="bogus", cache=False)


@pytest.mark.parametrize(
    ("preset", "threshold", "expected"),
    [
        (None, None, 0.8),
        ("strict", None, 0.9),
        ("loose", None, 0.7),
        ("strict", 0.5, 0.5),  # an explicit number wins
        (None, 0.0, 0.0),
        (None, 1.0, 1.0),
    ],
)
def test_threshold_for(preset: str | None, threshold: float | None, expected: float) -> None:
    assert threshold_for(preset, threshold) == expected


@pytest.mark.parametrize(
    ("preset", "threshold"), [(None, -0.01), (None, 1.01), ("medium", None), ("STRICT", None)]
)
def test_threshold_for_rejects(preset: str | None, threshold: float | None) -> None:
    with pytest.raises(ValueError):
        threshold_for(preset, threshold)


# --- end to end on real photos ---------------------------------------------------------------


@pytest.fixture
def trio(tmp_path: Path, make: FileMaker, photo: Callable[..., Image.Image]) -> Path:
    """A photo, a copy turned 90 degrees (pixels, no EXIF), and an unrelated photo."""
    picture = photo("rocket", 256)
    make.image(tmp_path / "rocket.png", picture)
    make.image(tmp_path / "rocket_turned.jpg", picture.transpose(Image.Transpose.ROTATE_90))
    make.image(tmp_path / "chelsea.png", "chelsea", 256)
    return tmp_path


def test_turned_copy_matches_by_pdq(trio: Path) -> None:
    result = neardup.scan([trio], cache=False, workers=1)
    [pair] = result.pairs
    names = {Path(result.path(pair.a)).name, Path(result.path(pair.b)).name}
    assert names == {"rocket.png", "rocket_turned.jpg"}
    # The views are hashed from turned pixels, so a turned copy matches almost bit for bit
    # (deriving them from one hash, as pdqhash.compute_dihedral does, misses by ~28 bits).
    assert pair.evidence == "pdq" and pair.scores["pdq"] >= 0.9
    assert pair.similarity >= PRESETS["strict"]


def test_every_reported_pair_meets_the_threshold(trio: Path) -> None:
    for cut in (0.0, 0.5, 0.95):
        result = neardup.scan([trio], cache=False, workers=1, threshold=cut)
        assert result.settings["threshold"] == cut
        assert all(p.similarity >= cut for p in result.pairs)
    result = neardup.scan([trio], cache=False, workers=1, threshold=0.0)
    # Unrelated photos are not even candidates: only the turned copy is scored.
    assert {frozenset(Path(result.path(i)).name for i in (p.a, p.b)) for p in result.pairs} == {
        frozenset({"rocket.png", "rocket_turned.jpg"})
    }


def test_compare_is_symmetric_and_reports_every_method(trio: Path) -> None:
    one = neardup.compare(trio / "rocket.png", trio / "chelsea.png")
    other = neardup.compare(trio / "chelsea.png", trio / "rocket.png")
    assert set(one.scores) == set(ALL_METHODS)
    assert one.similarity == other.similarity
    assert one.similarity is not None and one.similarity < 0.5
    assert one.verdicts == {"strict": False, "default": False, "loose": False}


def test_compare_with_an_unreadable_side(trio: Path, make: FileMaker) -> None:
    notes = make.text(trio / "notes.png")
    result = neardup.compare(trio / "rocket.png", notes)
    assert result.similarity is None and result.verdicts == {}
    assert [s.reason for s in result.skipped] == ["not an image: the file holds text"]
