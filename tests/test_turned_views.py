"""A copy turned a quarter read upright: its embedding score is its turned picture's cosine,
and its pair with a look-alike of the original scores as the upright pair does
(`neardup.turned_views`; RESULTS.md, session 48, R113)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from neardup.api import compare, scan
from neardup.checked_scores import add_geometry
from neardup.method_scores import TURNED, facts
from neardup.pair_shapes import swapped
from neardup.records import Features
from neardup.scoring import Scored, prepare_stacks
from neardup.turned_views import rarer_side, to_turn


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A landscape photograph, its copy turned a quarter, and a look-alike: the same scene
    framed a little further right (another frame of a panning shot)."""
    folder = tmp_path_factory.mktemp("turned")
    scene = Image.fromarray(skdata.coffee()).convert("RGB")  # 600 x 400
    w, h = scene.size
    source = scene.crop((0, 0, w - 60, h))
    made = {
        "source.png": source,
        "turned.jpg": source.transpose(Image.Transpose.ROTATE_90),
        "pan.jpg": scene.crop((60, 0, w, h)),
    }
    for name, picture in made.items():
        picture.save(folder / name, quality=92)
    return {name.split(".")[0]: str(folder / name) for name in made}


def _image(width: int, height: int) -> Features:
    return Features(
        path=f"{width}x{height}",
        size=1,
        mtime_ns=0,
        width=width,
        height=height,
        format="PNG",
        bytes_hash=None,
        pixel_hash=None,
        pdq_quality=100,
    )


def test_swapped_shapes() -> None:
    logs = np.log(np.array([16 / 9, 9 / 16, 8 / 7, 7 / 8, 4 / 3]))
    a = np.array([0, 2, 0, 1])
    b = np.array([1, 3, 4, 3])
    assert swapped(logs[a], logs[b]).tolist() == [True, False, False, False]


def test_the_rarer_orientation_is_turned() -> None:
    logs = np.log(np.array([16 / 9, 4 / 3, 9 / 16, 1.0]))
    swapped_pairs = np.array([[0, 2], [1, 2]])
    assert rarer_side(logs, swapped_pairs) == [2]  # one portrait against two landscapes
    assert rarer_side(logs, swapped_pairs[:1]) == [2]  # one each: the portrait side


def test_only_pairs_that_may_be_copies_are_turned(pictures: dict[str, str]) -> None:
    """Pairs of swapped shapes below `TURN_FLOOR` as they read unturned embed nothing again."""
    result = scan(list(pictures.values()), cache=False, differences=False)
    images = list(result.images)
    names = [Path(image.path).stem for image in images]
    methods = ("exact", "pdq", "sscd_distilled")
    stacks = prepare_stacks(images, methods)
    pair = np.array([[names.index("source"), names.index("turned")]])
    assert to_turn(images, pair, methods, stacks) == [names.index("turned")]
    lone = [image for image in images if Path(image.path).stem != "source"]
    strangers = [lone[0], replace(lone[1], embeddings={}, pdq=None, small=None)]
    assert to_turn(strangers, np.array([[0, 1]]), methods, prepare_stacks(strangers, methods)) == []


def test_a_turned_pair_compares_its_shapes_turned() -> None:
    images = [_image(1600, 900), _image(900, 1600)]
    pairs = [(0, 1), (0, 1)]
    read = facts(images, pairs, turned=np.array([np.nan, 1.0]))
    assert read.aspect[0] == pytest.approx(2 * np.log(16 / 9))
    assert read.aspect[1] == pytest.approx(0.0)


def test_a_quarter_turned_copy_is_read_upright(pictures: dict[str, str]) -> None:
    result = scan(list(pictures.values()), cache=False, differences=False, floor=0.0)
    names = [Path(image.path).stem for image in result.images]
    pairs = {frozenset((names[p.a], names[p.b])): p for p in result.pairs}
    copy = pairs[frozenset(("source", "turned"))]
    assert copy.scores.get(TURNED) == 1.0
    assert copy.scores["sscd_distilled"] >= 0.9  # turned back: the same picture
    assert copy.confidence >= 0.95
    upright = pairs[frozenset(("source", "pan"))]
    turned = pairs[frozenset(("turned", "pan"))]
    # The turned copy and the look-alike read as the upright pair does: the same scores but
    # for the copy's small loss to JPEG, not a copy-shaped pair of other shapes.
    assert turned.scores.get(TURNED) == 1.0
    assert abs(turned.scores["sscd_distilled"] - upright.scores["sscd_distilled"]) < 0.05
    assert abs((turned.own_confidence or turned.confidence) - upright.confidence) < 0.15


def test_compare_reads_a_turned_copy_upright(pictures: dict[str, str]) -> None:
    found = compare(pictures["source"], pictures["turned"])
    assert found.scores.get(TURNED) == 1.0
    assert found.confidence >= 0.95


def test_the_check_reads_a_turned_pair_upright() -> None:
    """After the geometric check, a pair read upright compares its shapes turned: it scores as
    a pair of one shape with the same scores does, not as a pair of other shapes."""
    landscape, portrait = _image(1600, 900), _image(900, 1600)
    scores = {"thumb": 0.944, "pdq": 0.609, "sscd_distilled": 0.573}  # a turned film frame
    check = (0.986, 0.948, 0.956, 30, 0.99, False, 0.0)  # against another frame of its clip
    methods = ("exact", "pdq", "sscd_distilled")

    def checked(extra: dict[str, float], other: Features) -> float:
        scored = Scored(0.85, 0.5, scores | extra, "sscd_distilled")
        return add_geometry(scored, check, methods, landscape, other).confidence

    upright = checked({TURNED: 1.0}, portrait)
    assert upright == pytest.approx(checked({}, _image(1600, 900)))
    assert upright < checked({}, portrait) - 0.2
