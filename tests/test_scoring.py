"""Scores: per-method similarity bounds, the fused score, method names, thresholds."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

import neardup
from neardup import fusion
from neardup.engines.local import LocalEngine
from neardup.features.hashes import hamming, hash_similarity
from neardup.pipeline import compute_features, feature_config, parse_methods
from neardup.records import Features
from neardup.scoring import (
    ALL_METHODS,
    DEFAULT_METHODS,
    NEAR_IDENTICAL,
    PRESETS,
    Scored,
    fuse,
    needs_geometry,
    score_pair,
    score_pairs,
    threshold_for,
)
from neardup.sources import collect

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


# --- fusion: confidence and similarity --------------------------------------------------------


def one(
    scores: dict[str, float], methods: tuple[str, ...] = DEFAULT_METHODS, **facts: float
) -> Scored:
    return fuse(scores, methods, **facts)


def test_every_shipped_model_matches_its_features() -> None:
    shipped = fusion.fitted()
    for key, model in shipped.models.items():
        width = len(fusion.feature_names(key))
        assert model.trees.feature.max() < width and len(model.trees.roots) > 10
        xs, ys = model.calibration
        assert np.all(np.diff(xs) >= 0) and np.all(np.diff(ys) >= 0)
    assert {"sscd_distilled+pdq", "sscd+pdq", "pdq"} <= set(shipped.models)
    assert set(PRESETS) == {"strict", "default", "loose"}
    assert 0 < PRESETS["loose"] < PRESETS["default"] < PRESETS["strict"] < 1


@pytest.mark.parametrize("method", ["sscd_distilled", "pdq"])
@pytest.mark.parametrize("other", [0.0, 0.4, 0.8])
def test_confidence_never_falls_as_a_score_rises(method: str, other: float) -> None:
    partner = "pdq" if method != "pdq" else "sscd_distilled"
    values = [
        one({"exact": 0.0, method: float(x), partner: other}, pdq_quality=90).confidence
        for x in np.linspace(0, 1, 41)
    ]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(values))
    if other > 0:  # a cosine of 0 says "different" whatever PDQ says: flat is fine there
        assert values[-1] > values[0]


def test_shared_frame_raises_confidence_over_no_shared_frame() -> None:
    scores = {"exact": 0.0, "pdq": 0.2, "sscd_distilled": 0.75}
    crop = one(scores | {"geometry": 0.8}, inliers=60).confidence
    tile = one(scores | {"geometry": 0.0}, inliers=0).confidence
    assert crop > tile


def test_check_skips_pairs_their_hashes_settle_only_above_the_cut() -> None:
    settled = fusion.fitted().settled
    assert settled is not None and 0.76 < settled.pdq < 1.0  # stricter than PDQ's own match
    cut = PRESETS["default"]
    low, _ = fusion.fitted().verify_band(cut)
    scores = {"exact": 0.0, "sscd_distilled": 0.9, "thumb": 0.99}
    close = scores | {"pdq": settled.pdq}
    far = scores | {"pdq": settled.pdq - 0.01}
    sure = Scored(0.9, max(cut, low) + 0.01, close, "pdq")
    assert not needs_geometry(sure, cut, pdq_quality=100)
    # Low hash quality, a weaker hash, a dissimilar thumbnail or a pair below the cut: checked.
    assert needs_geometry(sure, cut, pdq_quality=settled.quality - 1)
    assert needs_geometry(Scored(0.9, sure.confidence, far, "pdq"), cut, pdq_quality=100)
    unlike = close | {"thumb": settled.thumb - 0.05}
    assert needs_geometry(Scored(0.9, sure.confidence, unlike, "pdq"), cut, pdq_quality=100)
    below = Scored(0.9, max(low, cut - 0.05), close, "pdq")
    assert needs_geometry(below, cut, pdq_quality=100)
    # Without a PDQ score (say --method sscd_distilled) nothing settles the pair.
    assert needs_geometry(Scored(0.9, sure.confidence, scores, "sscd_distilled"), cut, 100)


def test_exact_wins_outright() -> None:
    scored = one({"exact": 1.0, "pdq": 0.1, "sscd_distilled": 0.2})
    assert (scored.similarity, scored.confidence, scored.evidence) == (1.0, 1.0, "exact")


def test_similarity_is_below_one_unless_identical() -> None:
    scored = one({"exact": 0.0, "pdq": 1.0, "sscd_distilled": 1.0})
    assert scored.similarity == NEAR_IDENTICAL < 1.0
    assert scored.confidence > PRESETS["strict"]
    assert one({"exact": 0.0, "pdq": 1.0}, ("exact", "pdq")).similarity == NEAR_IDENTICAL


def test_similarity_is_the_embedding_cosine() -> None:
    scored = one({"exact": 0.0, "pdq": 0.1, "sscd_distilled": 0.62})
    assert scored.similarity == pytest.approx(0.62)
    assert one({"exact": 0.0, "pdq": 0.5, "phash": 0.7}, ("pdq", "phash")).similarity == 0.5


def test_evidence_names_the_method_that_decided() -> None:
    assert one({"exact": 0.0, "pdq": 1.0, "sscd_distilled": 0.35}, pdq_quality=100).evidence == (
        "pdq"
    )
    assert one({"exact": 0.0, "pdq": 0.05, "sscd_distilled": 0.97}).evidence == "sscd_distilled"


def test_model_for_method_sets_without_their_own_model() -> None:
    assert fusion.model_key(["pdq", "sscd_distilled"]) == "sscd_distilled+pdq"
    assert fusion.model_key(["pdq", "phash", "sscd_distilled"]) == "sscd_distilled+pdq"
    assert fusion.model_key(["exact"]) is None
    assert one({"exact": 0.0}, ("exact",)).confidence == 0.0


def test_fusion_can_be_refitted_and_pointed_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(resources.files("neardup").joinpath(fusion.MODEL_FILE).read_text())
    data["presets"]["default"] = 0.123
    own = tmp_path / "mine.json"
    own.write_text(json.dumps(data))
    monkeypatch.setenv(fusion.MODEL_ENV, str(own))
    fusion.fitted.cache_clear()
    try:
        assert fusion.fitted().presets["default"] == 0.123
    finally:
        monkeypatch.delenv(fusion.MODEL_ENV)
        fusion.fitted.cache_clear()
    assert fusion.fitted().presets["default"] == PRESETS["default"]


def test_a_model_fitted_on_other_features_is_refused_when_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(resources.files("neardup").joinpath(fusion.MODEL_FILE).read_text())
    data["models"]["pdq"]["features"] = ["pdq", "thumb"]  # as if fitted without `quality`
    own = tmp_path / "stale.json"
    own.write_text(json.dumps(data))
    monkeypatch.setenv(fusion.MODEL_ENV, str(own))
    fusion.fitted.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="model pdq was fitted on other features"):
            fusion.fitted()  # at load, before any scan work, though models build lazily
    finally:
        monkeypatch.delenv(fusion.MODEL_ENV)
        fusion.fitted.cache_clear()


def test_identical_bytes_are_exact() -> None:
    a, b = features("a", "same"), features("b", "same")
    scored = score_pair(a, b, DEFAULT_METHODS)
    assert (scored.similarity, scored.evidence, scored.scores) == (1.0, "exact", {"exact": 1.0})
    assert scored.confidence == 1.0


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


def test_pdq_views_are_the_hashes_of_each_turned_and_mirrored_picture() -> None:
    import pdqhash

    from neardup.features.hashes import PDQ_SIDE, pdq_dihedral

    # Texture at the hashing size: no coefficients tie at the median (blocks of one colour
    # would make many, and there one DCT and eight can break the ties differently).
    picture = np.random.default_rng(3).integers(0, 256, (PDQ_SIDE, PDQ_SIDE, 3), dtype=np.uint8)
    views, quality = pdq_dihedral(picture)
    expected = []
    for turns in range(4):
        turned = np.rot90(picture, turns)
        for view in (turned, turned[:, ::-1]):
            bits, _ = pdqhash.compute(np.ascontiguousarray(view))
            expected.append(np.packbits(np.asarray(bits, dtype=bool)))
    assert np.array_equal(views, np.stack(expected)) and quality > 50


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
        (None, None, PRESETS["default"]),
        ("strict", None, PRESETS["strict"]),
        ("loose", None, PRESETS["loose"]),
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
    assert pair.scores["pdq"] >= 0.9
    assert pair.confidence >= PRESETS["strict"]


def test_every_reported_pair_meets_the_threshold(trio: Path) -> None:
    for cut in (0.0, 0.5, 0.95):
        result = neardup.scan([trio], cache=False, workers=1, threshold=cut)
        assert result.settings["threshold"] == cut
        assert all(p.confidence >= cut for p in result.pairs)
    result = neardup.scan([trio], cache=False, workers=1, threshold=0.0)
    # Unrelated photos are not even candidates: only the turned copy is scored.
    assert {frozenset(Path(result.path(i)).name for i in (p.a, p.b)) for p in result.pairs} == {
        frozenset({"rocket.png", "rocket_turned.jpg"})
    }


def test_compare_is_symmetric_and_reports_every_method(trio: Path) -> None:
    one = neardup.compare(trio / "rocket.png", trio / "chelsea.png")
    other = neardup.compare(trio / "chelsea.png", trio / "rocket.png")
    checks = {"thumb", "geometry", "aligned", "agree"}
    assert set(ALL_METHODS) <= set(one.scores) <= {*ALL_METHODS, *checks}
    assert one.similarity == other.similarity
    assert one.similarity is not None and one.similarity < 0.5
    assert one.verdicts == {"strict": False, "default": False, "loose": False}


def test_scan_by_an_embedding_alone(trio: Path) -> None:
    """No PDQ score: the check's hash shortcut must not apply (it once raised TypeError)."""
    result = neardup.scan([trio], methods="sscd_distilled", cache=False, workers=1, floor=0.0)
    assert result.settings["methods"] == ["exact", "sscd_distilled"]
    assert result.stats.images == 3 and all("pdq" not in p.scores for p in result.pairs)


def test_check_compares_frames_only_under_a_transform_with_support(trio: Path) -> None:
    from neardup.verify import MIN_INLIERS, check_pairs

    turned, unrelated = check_pairs(
        [
            (str(trio / "rocket.png"), str(trio / "rocket_turned.jpg")),
            (str(trio / "rocket.png"), str(trio / "chelsea.png")),
        ]
    )
    assert turned is not None and turned.inliers >= MIN_INLIERS and turned.score > 0.9
    assert turned.aligned > 0.9 and turned.agree > 0.8
    # Unrelated pictures: any transform RANSAC settles on is chance, and is not compared.
    assert unrelated is not None and unrelated.inliers < MIN_INLIERS
    assert (unrelated.score, unrelated.aligned, unrelated.agree) == (0.0, 0.0, 0.0)


def test_compare_with_an_unreadable_side(trio: Path, make: FileMaker) -> None:
    notes = make.text(trio / "notes.png")
    result = neardup.compare(trio / "rocket.png", notes)
    assert result.similarity is None and result.verdicts == {}
    assert [s.reason for s in result.skipped] == ["not an image: the file holds text"]


# --- similarity is graded -------------------------------------------------------------------


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _crop(share: float) -> Callable[[Image.Image], Image.Image]:
    def edit(image: Image.Image) -> Image.Image:
        side = share**0.5
        return image.crop((0, 0, round(image.width * side), round(image.height * side)))

    return edit


SERIES: dict[str, list[Callable[[Image.Image], Image.Image]]] = {
    "crop 95 -> 40 %": [_crop(f) for f in (0.95, 0.8, 0.65, 0.5, 0.4)],
    "jpeg quality 90 -> 2": [lambda im, q=q: _jpeg(im, q) for q in (90, 50, 20, 8, 2)],  # type: ignore[misc]
    "blur 1 -> 8 px": [
        lambda im, r=r: im.filter(ImageFilter.GaussianBlur(r))  # type: ignore[misc]
        for r in (1, 2, 4, 8)
    ],
    "darken 80 -> 30 %": [
        lambda im, f=f: ImageEnhance.Brightness(im).enhance(f)  # type: ignore[misc]
        for f in (0.8, 0.65, 0.5, 0.3)
    ],
    "rotate 2 -> 45 degrees": [
        lambda im, a=a: im.rotate(a, resample=Image.Resampling.BICUBIC)  # type: ignore[misc]
        for a in (2, 5, 10, 20, 45)
    ],
    # Turned on a canvas that grows to hold it: from 2 degrees on, the features see the
    # picture turned back (`neardup.straighten`), but `similarity` still falls with the turn.
    "turn on a white canvas 1 -> 30 degrees": [
        lambda im, a=a: im.rotate(  # type: ignore[misc]
            a, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255)
        )
        for a in (1, 2, 5, 10, 20, 30)
    ],
}


@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"])
def test_stronger_edits_never_score_higher(
    tmp_path: Path, make: FileMaker, photo: Callable[..., Image.Image], name: str
) -> None:
    original = photo(name, 512)
    make.image(tmp_path / "original.png", original)
    for kind, steps in SERIES.items():
        for n, edit in enumerate(steps):
            make.image(tmp_path / f"{kind}-{n}.png", edit(original))
    found = collect([str(tmp_path)])
    images, _, _ = compute_features(
        found.files, feature_config(DEFAULT_METHODS), False, LocalEngine(1)
    )
    position = {Path(f.path).stem: i for i, f in enumerate(images)}
    for kind, steps in SERIES.items():
        pairs = [(position["original"], position[f"{kind}-{n}"]) for n in range(len(steps))]
        values = [s.similarity for s in score_pairs(images, pairs, DEFAULT_METHODS)]
        assert all(b <= a for a, b in itertools.pairwise(values)), (kind, values)
        assert values[0] < 1.0 and values[-1] < values[0], (kind, values)


def test_only_identical_pixels_score_one(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "a.png", "chelsea", 256)
    make.image(tmp_path / "b.png", "chelsea", 256)  # same pixels, other bytes
    make.image(tmp_path / "c.jpg", "chelsea", 256, quality=98)
    result = neardup.compare(tmp_path / "a.png", tmp_path / "b.png")
    assert result.similarity == 1.0
    near = neardup.compare(tmp_path / "a.png", tmp_path / "c.jpg")
    assert near.similarity is not None and 0.95 < near.similarity < 1.0


def test_a_flat_picture_is_no_copy_of_one_of_another_colour(tmp_path: Path) -> None:
    # A tester: a 1 x 50 green strip scored confidence 1.000 against a red page (SSCD 0.92,
    # and the shapes' difference read as a crop), and joined a yellow page into its group.
    Image.new("RGB", (640, 480), (220, 30, 30)).save(tmp_path / "red.png")
    Image.new("RGB", (640, 480), (230, 220, 40)).save(tmp_path / "yellow.png")
    Image.new("RGB", (1, 50), (30, 200, 60)).save(tmp_path / "green_strip.png")
    Image.new("RGB", (640, 480), (220, 30, 30)).save(tmp_path / "red_again.png")
    strip = neardup.compare(tmp_path / "red.png", tmp_path / "green_strip.png")
    assert strip.confidence == 0.0 and not strip.verdicts["loose"]
    result = neardup.scan([tmp_path])
    # Only the identical pixels are a copy; nothing joins the other colours.
    groups = [[g.keeper, *(m for m, _ in g.members)] for g in result.groups]
    names = [sorted(Path(result.path(i)).name for i in group) for group in groups]
    assert names == [["red.png", "red_again.png"]]
    assert len(result.pairs) == 1


def test_a_fine_texture_keeps_its_recoloured_copy(tmp_path: Path) -> None:
    # Noise around one colour looks flat in the 32 x 32 and 4 x 4 thumbnails; its grey copy
    # is a copy (a reviewer: a veto on flat thumbnails alone gave it confidence 0).
    rng = np.random.default_rng(0)
    noise = rng.integers(-40, 41, (1800, 2400, 1))
    texture = np.clip(np.array([70, 120, 190]) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(texture).save(tmp_path / "texture.png")
    Image.fromarray(texture).convert("L").convert("RGB").save(tmp_path / "grey.png")
    found = neardup.compare(tmp_path / "texture.png", tmp_path / "grey.png")
    assert found.verdicts["default"]
