"""A pair's confidence read with its groups: the maps applied as fitted, the cut crossed upwards
only by a pair the grouping joins (from `HOLD`), the group's own links kept, the shipped maps
matching the presets, a scan's list the list an evaluation scores."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import neardup
from neardup import group_confidence
from neardup.engines.local import LocalEngine
from neardup.fusion import key_of
from neardup.group_confidence import (
    FAMILIES,
    MAP_ENV,
    RELATIONS,
    fusion_id,
    grouped_confidence,
    relation,
)
from neardup.index.catalog import ImageIndex
from neardup.index.storage import Settings
from neardup.output.json import to_dict
from neardup.pipeline import parse_methods
from neardup.records import Features, Group, Pair
from neardup.scoring import PRESETS

CUT = 0.9
METHODS = ("exact", "pdq", "sscd_distilled")


def image(name: str, page: tuple[float, float] | None = None) -> Features:
    return Features(
        path=name,
        size=1000,
        mtime_ns=0,
        width=100,
        height=100,
        format="PNG",
        bytes_hash=f"bytes-{name}",
        pixel_hash=None,
        page=page,
    )


def pair(a: int, b: int, confidence: float, evidence: str = "pdq") -> Pair:
    return Pair(a, b, confidence, confidence, {"pdq": confidence}, evidence)


# A map that makes each relation easy to tell: same -> 0.99, apart -> 0.1, one -> 0.5,
# none -> 0.2 for pictures; pages' "apart" -> 0.05.
FLAT = {"same": 0.99, "apart": 0.1, "one": 0.5, "none": 0.2}


def flat_maps(pages_apart: float = 0.05, cut: float = CUT) -> dict[str, object]:
    def knots(value: float) -> list[list[float]]:
        return [[0.0, 1.0], [value, value]]

    pictures = {rel: knots(v) for rel, v in FLAT.items()}
    pages = pictures | {"apart": knots(pages_apart)}
    return {
        "version": 1,
        "methods": "sscd_distilled+pdq",
        "fusion": fusion_id(),
        "fitted_on": [],
        "maps": {str(cut): {"pages": pages, "pictures": pictures}},
    }


@pytest.fixture(autouse=True)
def fresh_maps() -> Iterator[None]:
    """No test here leaves its maps or fusion fingerprint cached for the tests after it."""
    yield
    group_confidence.maps.cache_clear()
    group_confidence.fusion_id.cache_clear()


@pytest.fixture
def maps_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "maps.json"
    path.write_text(json.dumps(flat_maps()))
    monkeypatch.setenv(MAP_ENV, str(path))
    group_confidence.maps.cache_clear()
    yield path
    group_confidence.maps.cache_clear()


def test_relations() -> None:
    group_of = {0: 0, 1: 0, 2: 1}
    assert relation(group_of, 0, 1) == "same"
    assert relation(group_of, 1, 2) == "apart"
    assert relation(group_of, 2, 3) == "one"
    assert relation(group_of, 3, 4) == "none"


def test_pairs_read_with_their_groups(maps_file: Path) -> None:
    images = [image(n) for n in "abcdef"]
    groups = [Group(0, [(1, 0.9)]), Group(2, [(3, 0.9)])]
    pairs = [
        pair(0, 1, 0.95),  # same group, links member 1: raised to the map's 0.99
        pair(1, 2, 0.97),  # apart: lowered to 0.1, and left out (below the cut)
        pair(0, 4, 0.5),  # one grouped, below the cut: the map's 0.5
        pair(4, 5, 0.3),  # neither grouped: 0.2
        pair(3, 4, 1.0, evidence="exact"),  # an exact copy keeps 1.0
    ]
    out = {(p.a, p.b): p for p in grouped_confidence(images, pairs, groups, CUT, METHODS, keep=0.0)}
    assert out[0, 1].confidence == pytest.approx(0.99)
    assert out[0, 1].own_confidence == pytest.approx(0.95)
    assert out[1, 2].confidence == pytest.approx(0.1)
    assert out[0, 4].confidence == pytest.approx(0.5)
    assert out[4, 5].confidence == pytest.approx(0.2)
    assert out[3, 4].confidence == 1.0
    # With a floor (`--keep-below`: pairs kept by their own confidence) every pair stays;
    # without one, the pairs now below the cut leave the list: it matches the groups.
    assert len(out) == len(pairs)
    kept = grouped_confidence(images, pairs, groups, CUT, METHODS)
    assert {(p.a, p.b) for p in kept} == {(0, 1), (3, 4)}


def test_pages_have_their_own_map(maps_file: Path) -> None:
    page = (0.9, 0.01)
    images = [image("a", page), image("b", page), image("c", page)]
    groups = [Group(0, [(1, 0.9)])]
    pairs = [pair(1, 2, 0.95), pair(0, 2, 0.95)]
    kept = grouped_confidence(images, pairs, groups, CUT, METHODS, keep=0.0)
    assert [round(p.confidence, 6) for p in kept] == [0.5, 0.5]  # "one": 2 is in no group
    groups = [Group(0, [(1, 0.9)]), Group(2, [])]
    kept = grouped_confidence(images, pairs, groups, CUT, METHODS, keep=0.0)
    assert [round(p.confidence, 6) for p in kept] == [0.05, 0.05]  # pages kept apart


def test_the_cut_is_crossed_upwards_only_by_a_pair_the_grouping_joins(maps_file: Path) -> None:
    images = [image(n) for n in "abcd"]
    groups = [Group(0, [(1, 0.95), (2, 0.95)])]
    low, high = group_confidence.HOLD / 2, group_confidence.HOLD + 0.1
    pairs = [pair(0, 3, high), pair(1, 2, low), pair(0, 2, high)]
    out = {(p.a, p.b): p for p in grouped_confidence(images, pairs, groups, CUT, METHODS, 0.0)}
    assert out[0, 3].confidence == pytest.approx(0.5)  # "one": its map, below the cut anyway
    # Same group, map 0.99, but its own evidence below `HOLD`: kept under the cut.
    assert out[1, 2].confidence == pytest.approx(CUT - group_confidence.BELOW)
    assert out[0, 2].confidence == pytest.approx(0.99) and out[0, 2].own_confidence == high
    # Without a floor, the pair the grouping joins is listed; the others leave.
    kept = grouped_confidence(images, pairs, groups, CUT, METHODS)
    assert [(p.a, p.b) for p in kept] == [(0, 2)]
    # With a floor above a held pair's own confidence: that pair stays only if it reaches the cut.
    kept = grouped_confidence(images, pairs, groups, CUT, METHODS, keep=high + 0.01)
    assert [(p.a, p.b) for p in kept] == [(0, 2)]
    at = grouped_confidence(images, [pair(0, 2, group_confidence.HOLD)], groups, CUT, METHODS)
    assert [p.confidence for p in at] == [pytest.approx(0.99)]  # from `HOLD` itself


def test_a_scan_holds_its_pairs_from_hold_where_the_maps_are_in_use(
    maps_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor `all_duplicates` scores with: `HOLD` with maps (lower with a lower
    `--keep-below`), none without (another cut), the floor given in a leakage scan."""
    import neardup.index.duplicates as duplicates

    asked: list[float | None] = []

    def scoring(*args: object, floor: float | None = None, **kwargs: object) -> list[Pair]:
        asked.append(floor)
        return []

    monkeypatch.setattr(duplicates, "score_candidates", scoring)
    images = [image(n) for n in "ab"]
    index = ImageIndex.in_memory(Settings(methods=METHODS, model="", threshold=CUT))
    try:
        index.take(images, store=True, engine=LocalEngine(1), match_batch=False)
        for floor in (None, 0.5, 0.0):
            index.duplicates(floor=floor, verify=False)
        index.duplicates(threshold=0.8, verify=False)
        index.duplicates(floor=0.5, check_at=0.5, verify=False)
    finally:
        index.close()
    assert asked == [group_confidence.HOLD, group_confidence.HOLD, 0.0, None, 0.5]


def test_a_link_of_the_group_stays_at_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = flat_maps()
    low = [[0.0, 1.0], [0.3, 0.3]]
    spec["maps"][str(CUT)]["pictures"]["same"] = low  # type: ignore[index]
    path = tmp_path / "low.json"
    path.write_text(json.dumps(spec))
    monkeypatch.setenv(MAP_ENV, str(path))
    group_confidence.maps.cache_clear()
    try:
        images = [image(n) for n in "abc"]
        groups = [Group(0, [(1, 0.95), (2, 0.95)], via={2: 1})]
        pairs = [pair(0, 1, 0.95), pair(1, 2, 0.95), pair(0, 2, 0.95)]
        kept = {
            (p.a, p.b): p.confidence
            for p in grouped_confidence(images, pairs, groups, CUT, METHODS)
        }
        # The member links (0-1, and 2 through 1) stay at the cut; 0-2 links nothing: it goes.
        assert kept == {(0, 1): CUT, (1, 2): CUT}
    finally:
        group_confidence.maps.cache_clear()


def test_no_map_for_the_cut_leaves_the_pairs(maps_file: Path) -> None:
    images = [image(n) for n in "ab"]
    pairs = [pair(0, 1, 0.95)]
    assert grouped_confidence(images, pairs, [], 0.8, METHODS) is pairs
    assert grouped_confidence(images, pairs, [], CUT + 4e-5, METHODS) is pairs  # not a preset's
    # Other methods: another fusion's own confidence, which the maps were not fitted on.
    assert grouped_confidence(images, pairs, [], CUT, ("exact", "pdq")) is pairs
    assert grouped_confidence(images, pairs, [], CUT, METHODS) is not pairs


def test_another_fusion_leaves_the_pairs(
    maps_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fusion refitted (or your own, `NEARDUP_FUSION_MODEL`) scores on another scale: the
    maps, fitted on the shipped one's own confidence, are not used with it."""
    other = tmp_path / "fusion.json"
    other.write_text('{"version": 1}')
    monkeypatch.setenv("NEARDUP_FUSION_MODEL", str(other))
    group_confidence.fusion_id.cache_clear()
    try:
        pairs = [pair(0, 1, 0.95)]
        assert grouped_confidence([image("a"), image("b")], pairs, [], CUT, METHODS) is pairs
    finally:
        monkeypatch.delenv("NEARDUP_FUSION_MODEL")
        group_confidence.fusion_id.cache_clear()


def test_a_map_file_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for content in (None, "{not json", '{"version": 0}'):
        path = tmp_path / "maps.json"
        if content is not None:
            path.write_text(content)
        monkeypatch.setenv(MAP_ENV, str(path))
        group_confidence.maps.cache_clear()
        try:
            with pytest.raises(RuntimeError, match=r"maps\.json"):
                group_confidence.maps()
        finally:
            group_confidence.maps.cache_clear()


def test_maps_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAP_ENV, "")
    group_confidence.maps.cache_clear()
    try:
        assert group_confidence.maps().curves == {}
    finally:
        group_confidence.maps.cache_clear()


def test_shipped_maps_cover_every_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refitted fusion would leave the maps unused: refit them too (`make fit`)."""
    monkeypatch.delenv(MAP_ENV, raising=False)
    group_confidence.maps.cache_clear()
    try:
        shipped = group_confidence.maps()
        assert shipped.methods == key_of(parse_methods(None))
        assert shipped.fusion == group_confidence.fusion_id()  # fitted on the shipped fusion
        for cut in PRESETS.values():
            curves = shipped.curves[cut]
            assert set(curves) == {(f, r) for f in FAMILIES for r in RELATIONS}
            for xs, ys in curves.values():
                assert len(xs) == len(ys) >= 1
                assert (ys[1:] >= ys[:-1]).all() and ys[0] >= 0.0 and ys[-1] <= 1.0
    finally:
        group_confidence.maps.cache_clear()


def test_scan_reads_its_pairs_with_its_groups(
    photo_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wired into the one pipeline: the groups are the ones the own confidence makes, each
    pair keeps its own confidence, and the list holds what passes or links a member."""
    folder = photo_dir(
        {
            "a.png": "astronaut",
            "a_small.jpg": ("astronaut", 160),
            "a_q.jpg": ("astronaut", 256, {"quality": 40}),
            "c.png": "coffee",
            "c_small.jpg": ("coffee", 180),
            "r.png": "rocket",
        }
    )
    monkeypatch.delenv(MAP_ENV, raising=False)
    group_confidence.maps.cache_clear()
    read = neardup.scan([folder])
    monkeypatch.setenv(MAP_ENV, "")
    group_confidence.maps.cache_clear()
    try:
        alone = neardup.scan([folder])
    finally:
        monkeypatch.delenv(MAP_ENV)
        group_confidence.maps.cache_clear()

    def shape(result: neardup.ScanResult) -> list[tuple[str, list[str]]]:
        return [
            (result.path(g.keeper), sorted(result.path(m) for m, _ in g.members))
            for g in result.groups
        ]

    assert shape(read) == shape(alone) and len(read.groups) == 2
    cut = read.settings["threshold"]
    assert isinstance(cut, float)
    links = group_confidence.linking(read.groups)
    for p in read.pairs:
        assert p.own_confidence is not None
        assert p.confidence >= cut or (min(p.a, p.b), max(p.a, p.b)) in links
    assert all(p.own_confidence is None for p in alone.pairs)
    pairs = to_dict(read)["pairs"]
    assert all("own_confidence" in p for p in pairs)


def test_a_scan_lists_what_an_evaluation_scores(
    photo_dir: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan keeps its scored pairs from `HOLD` until its groups are made, so the pairs it
    lists are those at or above the cut when every scored pair is kept (`floor`, as `neardup
    eval` scans), with the same confidence and the same groups: here a small, coarse copy
    joins its group through a passing pair, and its pair with the original (below the cut on
    its own) is listed at the map's 0.99."""
    cut = 0.95
    path = tmp_path / "maps.json"
    path.write_text(json.dumps(flat_maps(cut=cut)))
    monkeypatch.setenv(MAP_ENV, str(path))
    group_confidence.maps.cache_clear()
    folder = photo_dir(
        {
            "a.png": "astronaut",
            "a_small.jpg": ("astronaut", 160),
            "a_q.jpg": ("astronaut", 256, {"quality": 12}),
            "a_tiny.jpg": ("astronaut", 64, {"quality": 10}),
            "c.png": "coffee",
            "c_small.jpg": ("coffee", 180),
            "r.png": "rocket",
        }
    )
    listed = neardup.scan([folder], threshold=cut)
    every = neardup.scan([folder], threshold=cut, floor=0.0)
    # `--keep-below` above the cut, and between `HOLD` and the cut: the same pairs pass.
    above = neardup.scan([folder], threshold=cut, floor=0.96)
    between = neardup.scan([folder], threshold=cut, floor=0.6)

    def passing(result: neardup.ScanResult) -> dict[tuple[str, str], float]:
        return {
            (result.path(p.a), result.path(p.b)): p.confidence
            for p in result.pairs
            if p.confidence >= cut
        }

    assert passing(listed) == passing(every) == passing(above) == passing(between)
    assert [(g.keeper, g.members) for g in listed.groups] == [
        (g.keeper, g.members) for g in every.groups
    ]
    kept = [p for p in between.pairs if p.confidence < cut]
    assert all(p.own_confidence is not None and p.own_confidence >= 0.6 for p in kept)
    assert len({(min(p.a, p.b), max(p.a, p.b)) for p in every.pairs}) == len(every.pairs)
    assert all(p.confidence >= cut for p in listed.pairs)
    lifted = [p for p in listed.pairs if p.own_confidence is not None and p.own_confidence < cut]
    assert lifted and all(p.own_confidence >= group_confidence.HOLD for p in lifted)
    assert all(p.confidence == pytest.approx(0.99) for p in lifted)
