"""Groups: every found pair kept, no chains, the copy a person would keep as keeper, and the
same groups from the process pool as from one process."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image, ImageFilter
from skimage import data as skdata

import neardup
from neardup import fusion
from neardup.detail_check import two_pages
from neardup.engines import local
from neardup.features.page import MOSTLY_PAPER
from neardup.groups import (
    CENTRAL_FROM,
    CENTRAL_SHARE,
    LARGER_ORIGINAL,
    SAME_PICTURE,
    build_groups,
    keeper_rank,
)
from neardup.keeper_rank import same_frame
from neardup.records import Features, Group, Pair
from neardup.scoring import score_pair

if TYPE_CHECKING:
    from conftest import FileMaker

THRESHOLD = 0.8


def image(name: str, width: int = 100, height: int = 100, size: int = 1000) -> Features:
    return Features(
        path=name,
        size=size,
        mtime_ns=0,
        width=width,
        height=height,
        format="PNG",
        bytes_hash=f"bytes-{name}",
        pixel_hash=None,
    )


def pair(a: int, b: int, confidence: float) -> Pair:
    return Pair(a, b, confidence, confidence, {"pdq": confidence}, "pdq")


def as_names(images: list[Features], groups: list[Group]) -> dict[str, list[tuple[str, float]]]:
    return {images[g.keeper].path: [(images[m].path, s) for m, s in g.members] for g in groups}


def hops(pairs: list[Pair], threshold: float) -> dict[int, dict[int, int]]:
    """Shortest path lengths in the graph of passing pairs."""
    graph: dict[int, set[int]] = {}
    for p in pairs:
        if p.confidence >= threshold:
            graph.setdefault(p.a, set()).add(p.b)
            graph.setdefault(p.b, set()).add(p.a)
    out: dict[int, dict[int, int]] = {}
    for start in graph:
        seen, frontier, step = {start: 0}, [start], 0
        while frontier:
            step += 1
            frontier = [m for n in frontier for m in graph[n] if m not in seen]
            for m in frontier:
                seen.setdefault(m, step)
        out[start] = seen
    return out


def test_chain_of_three_is_one_group_around_its_middle() -> None:
    """A~B and B~C pass, A~C does not: B is the centre, A (the best copy) the keeper, and C is
    listed with its similarity to B, the image that brought it in."""
    images = [image("A", 300, 300), image("B", 200, 200), image("C", 100, 100)]
    pairs = [pair(0, 1, 0.9), pair(1, 2, 0.85), pair(0, 2, 0.5)]
    [group] = build_groups(images, pairs, THRESHOLD)
    assert as_names(images, [group]) == {"A": [("B", 0.9), ("C", 0.85)]}
    assert group.via == {2: 1}


def test_a_member_not_matching_the_keeper_names_the_image_it_matched() -> None:
    """K matches A and B; C matches only A: C is listed with its similarity to A."""
    images = [image("K", 300, 300), image("A"), image("B"), image("C")]
    pairs = [pair(0, 1, 0.95), pair(0, 2, 0.9), pair(1, 2, 0.9), pair(1, 3, 0.85)]
    [group] = build_groups(images, pairs, THRESHOLD)
    assert images[group.keeper].path in ("K", "A")
    named = {images[m].path: images[group.via.get(m, group.keeper)].path for m, _ in group.members}
    assert named["C"] == "A"


def test_copy_matching_the_original_but_not_the_keeper_stays_grouped() -> None:
    """The issue's case: the keeper (largest) is a letterboxed copy; a cropped copy matches the
    original but not the keeper. A star around the keeper dropped the crop; now all three are
    one group, found around the original."""
    images = [image("original", 200, 200), image("boxed", 400, 400), image("crop", 150, 150)]
    pairs = [pair(0, 1, 0.95), pair(0, 2, 0.9), pair(1, 2, 0.3)]
    [group] = build_groups(images, pairs, THRESHOLD)
    assert images[group.keeper].path == "boxed"
    assert {images[m].path for m, _ in group.members} == {"original", "crop"}
    assert group.via == {2: 0}


def test_long_chain_is_cut_into_short_groups() -> None:
    """0~1~2~...~9, each step passing, nothing else: never one group of ten, and no group
    holds two images more than three steps apart."""
    images = [image(f"img{i}", 1000 - 10 * i, 100) for i in range(10)]
    pairs = [pair(i, i + 1, 0.85) for i in range(9)]
    groups = build_groups(images, pairs, THRESHOLD)
    spans = [sorted([g.keeper, *(m for m, _ in g.members)]) for g in groups]
    assert sorted(i for span in spans for i in span) == list(range(10))
    assert all(span[-1] - span[0] <= 3 for span in spans)
    assert len(groups) == 3


def test_pairs_below_the_threshold_are_ignored() -> None:
    images = [image("A", 300, 300), image("B")]
    assert build_groups(images, [pair(0, 1, 0.79)], THRESHOLD) == []
    assert len(build_groups(images, [pair(0, 1, 0.79)], 0.79)) == 1


@pytest.mark.parametrize(
    ("specs", "keeper"),
    [
        ([("a", 100, 100, 9000), ("b", 200, 100, 10)], "b"),  # resolution first
        ([("a", 100, 100, 10), ("b", 100, 100, 11)], "b"),  # then file size
        ([("b", 100, 100, 10), ("a", 100, 100, 10)], "a"),  # then path
        # a byte copy in a hidden folder (`.ipynb_checkpoints`) is not kept over the file
        ([("j/.hidden/c.jpg", 100, 100, 10), ("j/coffee.jpg", 100, 100, 10)], "j/coffee.jpg"),
        ([("a", 50, 400, 10), ("b", 100, 100, 10)], "a"),  # pixels, not the longer side
    ],
)
def test_keeper_is_the_copy_to_keep(specs: list[tuple[str, int, int, int]], keeper: str) -> None:
    images = [image(n, w, h, s) for n, w, h, s in specs]
    [group] = build_groups(images, [pair(0, 1, 1.0)], THRESHOLD)
    assert images[group.keeper].path == keeper
    assert min(images, key=keeper_rank).path == keeper


def test_a_copy_turned_on_a_canvas_is_not_kept_over_its_original() -> None:
    """A turned copy's canvas (its corners fill) is larger than the picture: it was kept over
    its original (a tester). Found turned back, it ranks as a bordered copy."""
    turned, original = image("turned", 104, 104), image("original", 100, 100)
    turned.turned_back = 0.87
    [group] = build_groups([turned, original], [pair(0, 1, 1.0)], THRESHOLD)
    assert group.keeper == 1


def test_keeper_rank_excludes_trimmed_borders() -> None:
    """A letterboxed 300 x 300 copy holds a 300 x 100 picture: the plain 200 x 200 wins."""
    boxed, plain = image("boxed", 300, 300), image("plain", 200, 200)
    boxed.trimmed = (0, 100, 0, 100)
    images = [boxed, plain]
    [group] = build_groups(images, [pair(0, 1, 0.95)], THRESHOLD)
    assert images[group.keeper].path == "plain"
    boxed.trimmed = (0, 10, 0, 10)
    [group] = build_groups(images, [pair(0, 1, 0.95)], THRESHOLD)
    assert images[group.keeper].path == "boxed"


def test_members_best_first_and_groups_biggest_first() -> None:
    images = [
        image("k1", 500, 500),
        image("m1"),
        image("m2"),
        image("m3"),
        image("k2", 400, 400),
        image("m4"),
    ]
    pairs = [pair(0, 1, 0.82), pair(0, 2, 0.97), pair(0, 3, 0.9), pair(4, 5, 1.0)]
    groups = build_groups(images, pairs, THRESHOLD)
    assert as_names(images, groups) == {
        "k1": [("m2", 0.97), ("m3", 0.9), ("m1", 0.82)],
        "k2": [("m4", 1.0)],
    }
    assert [images[g.keeper].path for g in groups] == ["k1", "k2"]


def test_group_invariants_on_random_graphs() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(300):
        n = int(rng.integers(2, 16))
        images = [
            image(f"p{i:02d}", int(rng.integers(1, 4)) * 100, 100, int(rng.integers(1, 4)))
            for i in range(n)
        ]
        pairs = [
            pair(a, b, round(float(rng.uniform(0.5, 1.0)), 3))
            for a, b in itertools.combinations(range(n), 2)
            if rng.random() < 0.3
        ]
        score = {frozenset((p.a, p.b)): p.similarity for p in pairs}
        distance = hops(pairs, THRESHOLD)
        groups = build_groups(images, pairs, THRESHOLD)
        seen: set[int] = set()
        for g in groups:
            members = [m for m, _ in g.members]
            ids = [g.keeper, *members]
            assert members and not (set(ids) & seen), "groups overlap or are empty"
            seen.update(ids)
            for m, s in g.members:  # each member matches the keeper, or the image named in via
                other = g.via.get(m, g.keeper)
                assert other in ids and other != m
                assert score[frozenset((other, m))] == s >= THRESHOLD
            # the keeper is central (rule 5), and no central image has more resolution
            inside = set(ids)
            central = {
                i: sum(v for k, v in score.items() if i in k and k <= inside and v >= THRESHOLD)
                for i in ids
            }
            if len(ids) < CENTRAL_FROM:
                central = dict.fromkeys(ids, 0.0)
            floor = (1 - CENTRAL_SHARE) * max(central.values()) - 1e-9
            tops = [i for i in ids if central[i] >= floor]
            best = min(keeper_rank(images[i])[:2] for i in tops)
            if keeper_rank(images[g.keeper])[:2] != best or central[g.keeper] < floor:
                # or the same picture, much larger, as a central image of the best resolution
                assert any(
                    keeper_rank(images[k])[:2] == best
                    and score.get(frozenset((k, g.keeper)), 0.0) >= SAME_PICTURE
                    and images[g.keeper].content_pixels
                    >= LARGER_ORIGINAL * images[k].content_pixels
                    for k in tops
                )
            assert [s for _, s in g.members] == sorted((s for _, s in g.members), reverse=True)
            # no chains: two images of a group are at most four passing pairs apart
            for a, b in itertools.combinations(ids, 2):
                assert distance[a][b] <= 4
        # nothing is left out: every image with a passing pair is in a group with one it matches
        for key, s in score.items():
            if s >= THRESHOLD:
                assert key <= seen, f"matching pair {set(key)} left ungrouped"
        home = {i: n for n, g in enumerate(groups) for i in (g.keeper, *(m for m, _ in g.members))}
        for i in seen:
            assert any(home.get(j) == home[i] for j in distance[i] if distance[i][j] == 1), (
                f"image {i} shares its group with no image it matches"
            )


POOL_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "immunohistochemistry",
    "camera",
    "coins",
    "moon",
    "hubble_deep_field",
    "cell",
    "brick",
    "gravel",
)
"""Natural photos bundled with scikit-image, pairwise unrelated (fused similarity < 0.5)."""


def test_process_pool_gives_the_same_groups(
    photo_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """24 images (12 photos, each with a smaller JPEG copy): the pool path with 2 workers."""
    lanes: list[str] = []
    real_lane = local.Lane

    def counting_lane(stage: Any) -> Any:
        lanes.append(stage.name)
        return real_lane(stage)

    monkeypatch.setattr(local, "Lane", counting_lane)
    spec: dict[str, tuple[str, int] | tuple[str, int, dict[str, int]]] = {}
    for name in POOL_PHOTOS:
        spec[f"{name}.png"] = (name, 256)
        spec[f"{name}_copy.jpg"] = (name, 160, {"quality": 80})
    folder = photo_dir(spec)
    pooled = neardup.scan([folder], cache=False, workers=2)
    assert lanes == ["features", "features"]  # one worker process a lane
    inline = neardup.scan([folder], cache=False, workers=1)
    assert lanes == ["features", "features"]
    assert pooled.stats.images == inline.stats.images == 24
    expected = {
        str(folder / f"{name}.png"): [str(folder / f"{name}_copy.jpg")] for name in POOL_PHOTOS
    }
    for result in (pooled, inline):
        assert result.skipped == []
        got = {result.path(g.keeper): [result.path(m) for m, _ in g.members] for g in result.groups}
        assert got == expected
    assert [(p.a, p.b, p.similarity, p.scores) for p in pooled.pairs] == [
        (p.a, p.b, p.similarity, p.scores) for p in inline.pairs
    ]


def test_many_copies_of_one_photo_make_one_group(
    tmp_path: Path, make: FileMaker, photo: Callable[..., Any]
) -> None:
    base = photo("astronaut", 400)
    for i in range(20):
        side = 120 + 8 * i  # c19.jpg, the largest, is the keeper
        make.image(tmp_path / f"c{i:02d}.jpg", base.resize((side, side)), quality=70 + i)
    result = neardup.scan([tmp_path], cache=False, workers=1)
    images = result.images
    keeper = next(i for i, f in enumerate(images) if f.path.endswith("c19.jpg"))
    methods = tuple(result.settings["methods"])  # type: ignore[arg-type]
    cut = result.settings["threshold"]
    matching = {
        j
        for j in range(len(images))
        if j != keeper and score_pair(images[keeper], images[j], methods).confidence >= cut
    }
    assert len(matching) == 19  # every copy is a duplicate of the keeper...
    assert [(g.keeper, {m for m, _ in g.members}) for g in result.groups] == [(keeper, matching)]


def test_keeper_prefers_the_copy_without_added_borders() -> None:
    plain = image("plain.jpg", 640, 427, size=50_000)
    boxed = image("boxed.jpg", 640, 597, size=60_000)  # larger file, same picture inside
    boxed.trimmed = (0, 85, 0, 85)
    images = [boxed, plain]
    groups = build_groups(images, [pair(0, 1, 0.95)], THRESHOLD)
    assert images[groups[0].keeper].path == "plain.jpg"
    # A clearly larger picture still wins over a border-free smaller one.
    big = image("big.jpg", 1280, 854, size=10_000)
    big.trimmed = (0, 2, 0, 2)
    assert keeper_rank(big) < keeper_rank(plain)


def test_a_trim_a_row_off_does_not_make_the_bordered_copy_the_keeper() -> None:
    """The demo's letterboxed copy: its trim leaves 600 x 405 against the plain 600 x 400."""
    plain = image("plain.jpg", 600, 400, size=60_000)
    boxed = image("boxed.jpg", 600, 560, size=50_000)
    boxed.trimmed = (0, 77, 0, 78)
    images = [boxed, plain]
    [group] = build_groups(images, [pair(0, 1, 0.95)], THRESHOLD)
    assert images[group.keeper].path == "plain.jpg"


def similar(a: int, b: int, similarity: float) -> Pair:
    """A pair passing the threshold with the given similarity."""
    return Pair(a, b, similarity, 0.99, {"pdq": similarity}, "pdq")


def test_keeper_among_central_images_lossless_then_most_central_then_file() -> None:
    """Rule 5, a part at a time, in groups of four (A, B, C, D all match one another)."""
    sims = {(0, 1): 0.95, (0, 2): 0.95, (0, 3): 0.95, (1, 2): 0.95, (1, 3): 0.95, (2, 3): 0.95}

    def keeper(images: list[Features], changed: dict[tuple[int, int], float]) -> str:
        pairs = [similar(a, b, changed.get((a, b), s)) for (a, b), s in sims.items()]
        [group] = build_groups(images, pairs, THRESHOLD)
        return images[group.keeper].path

    # All equally central, same size: the lossless file wins over larger lossy ones.
    png = image("png", 100, 100, 10)
    jpegs = [image(f"jpeg{k}", 100, 100, 50) for k in range(3)]
    for j in jpegs:
        j.format = "JPEG"
    assert keeper([*jpegs, png], {}) == "png"
    # A WebP (lossy or not, the features do not say) is kept over JPEGs, a PNG over it, even
    # when the WebP is the more central (a tester: the WebP was kept, the PNG trashed).
    webp = image("webp", 100, 100, 20)
    webp.format = "WEBP"
    assert keeper([*jpegs[:2], webp, png], {(0, 3): 0.945, (1, 3): 0.945, (2, 3): 0.945}) == "png"
    assert keeper([*jpegs, webp], {}) == "webp"
    # All lossless: the more central wins over the larger file.
    files = [image("a", 100, 100, 10), image("b", 100, 100, 99), image("c"), image("d")]
    assert keeper(files, {(0, 2): 0.96, (0, 3): 0.96}) == "a"
    # Larger resolution wins among the central images, but not from outside the band: b is
    # 2 % less central than the others, a is 1 % less (inside).
    big_b = [image("a", 100, 100), image("b", 300, 300), image("c"), image("d")]
    lower_b = {(0, 1): 0.93, (1, 2): 0.93, (1, 3): 0.93}
    assert keeper(big_b, {}) == "b"
    assert keeper(big_b, lower_b) == "a"  # b left the central images; a, c, d tie: path
    big_a = [image("a", 300, 300), image("b"), image("c"), image("d")]
    assert keeper(big_a, {(0, 1): 0.94, (0, 2): 0.94, (0, 3): 0.94}) == "a"  # within 1 %


def test_a_pair_listed_twice_counts_once_whatever_the_order() -> None:
    images = [image("a", 200, 200), image("b"), image("c"), image("d")]
    base = [similar(0, 2, 0.95), similar(0, 3, 0.95), similar(1, 2, 0.95), similar(1, 3, 0.95)]
    strong, weak = Pair(0, 1, 0.99, 0.99, {}, "pdq"), Pair(0, 1, 0.5, 0.9, {}, "pdq")
    first = build_groups(images, [*base, strong, weak], THRESHOLD)
    second = build_groups(images, [*base, weak, strong], THRESHOLD)
    assert first == second


def test_the_original_is_kept_over_a_noisier_larger_file_and_smaller_copies(
    tmp_path: Path,
) -> None:
    """A real scan of a 512 px original with five copies: two half-size JPEGs, a quarter-size
    one, a blurred one and a noisy one at full size whose PNG is the largest file. Every copy
    is less like the others than the original is, or has less resolution: the original is
    kept. (By resolution, then file size alone, the noisy copy was kept.)"""
    original = Image.fromarray(skdata.astronaut()).resize((512, 512))
    original.save(tmp_path / "original.png")
    half = original.resize((256, 256), Image.Resampling.LANCZOS)
    half.save(tmp_path / "half_q90.jpg", quality=90)
    half.save(tmp_path / "half_q75.jpg", quality=75)
    original.resize((128, 128), Image.Resampling.LANCZOS).save(tmp_path / "quarter.jpg")
    original.filter(ImageFilter.GaussianBlur(3)).save(tmp_path / "blurred.jpg", quality=90)
    grain = np.random.default_rng(0).normal(0, 15, (512, 512, 3))
    noisy = np.clip(np.asarray(original, dtype=float) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    assert (tmp_path / "noisy.png").stat().st_size > (tmp_path / "original.png").stat().st_size
    result = neardup.scan([str(tmp_path)], cache=False, workers=1, differences="none")
    [group] = result.groups
    assert len(group.members) == 5
    assert Path(result.images[group.keeper].path).name == "original.png"
    ids = [group.keeper, *(m for m, _ in group.members)]
    by_size = min(ids, key=lambda i: keeper_rank(result.images[i]))
    assert Path(result.images[by_size].path).name == "noisy.png"


def test_groups_of_one_picture_join_when_their_keepers_score_as_it() -> None:
    """Step 6. A long chain splits into short groups (as above). When the keepers of linked
    groups score as the same picture now, a smaller group joins a larger one linked to it:
    one level only, so a group that took others in is never taken in (no chain), and
    nothing but keeper pairs is scored."""
    images = [image(f"img{i}", 1000 - 10 * i, 100) for i in range(10)]
    pairs = [pair(i, i + 1, 0.85) for i in range(9)]
    plain = build_groups(images, pairs, THRESHOLD)
    asked: list[list[tuple[int, int]]] = []

    def same(found: list[tuple[int, int]]) -> list[Pair]:
        asked.append(found)
        return [Pair(a, b, 0.99, 0.97, {"pdq": 0.99}, "pdq") for a, b in found]

    joined = build_groups(images, pairs, THRESHOLD, score_now=same)
    keepers = {g.keeper for g in plain}
    assert len(asked) == 1 and all(a in keepers and b in keepers for a, b in asked[0])
    # The largest group (6-9) takes in the one linked to it (3-5); 0-2, linked only to that
    # one, is not taken through it.
    assert len(plain) == 3
    assert sorted(sorted([g.keeper, *(m for m, _ in g.members)]) for g in joined) == [
        [0, 1, 2],
        [3, 4, 5, 6, 7, 8, 9],
    ]
    # Every member is listed with an image of its group that it matches.
    assert all(s > 0 for g in joined for _, s in g.members)

    # Look-alikes, not the same picture: their keeper pairs, scored now at the cut, are no
    # evidence that a group belongs to another either (counted, 3-5 would take in 0-2).
    def alike(found: list[tuple[int, int]]) -> list[Pair]:
        return [Pair(a, b, 0.95, 0.97, {"pdq": 0.95}, "pdq") for a, b in found]

    assert as_names(images, build_groups(images, pairs, THRESHOLD, score_now=alike)) == (
        as_names(images, plain)
    )

    # Groups A - B - C linked in a row, each keeper pair the same picture: A takes B, and
    # C, linked to B only, stays on its own (no chain through B).
    row = [image(f"row{i}", 1000 - 10 * i, 100) for i in range(9)]
    stars = [pair(0, 1, 0.9), pair(0, 2, 0.9), pair(0, 3, 0.9)]  # A: 0 with 1, 2, 3
    stars += [pair(4, 5, 0.9), pair(4, 6, 0.9)]  # B: 4 with 5, 6
    stars += [pair(7, 8, 0.9)]  # C: 7 with 8
    stars += [pair(3, 5, 0.85), pair(6, 8, 0.85)]  # A ~ B and B ~ C through members
    three = build_groups(row, stars, THRESHOLD)
    assert len(three) == 3
    two = build_groups(row, stars, THRESHOLD, score_now=same)
    assert sorted(sorted([g.keeper, *(m for m, _ in g.members)]) for g in two) == [
        [0, 1, 2, 3, 4, 5, 6],
        [7, 8],
    ]


def test_large_groups_that_no_pair_links_join_when_their_keepers_are_one_picture() -> None:
    """Step 6 for parts no pair links: with each image's neighbours bounded, a run of copies
    can split into parts whose members find all their neighbours inside their own part (each
    part then larger than the bound). The keepers of groups larger than the bound are searched
    among themselves and join as linked groups do; smaller groups are not searched, nor a
    group that took others in taken in."""
    stars = [image(f"a{i}", 1000 - i, 100) for i in range(5)]
    stars += [image(f"b{i}", 900 - i, 100) for i in range(4)]
    stars += [image(f"c{i}", 800 - i, 100) for i in range(3)]
    pairs = [pair(0, i, 0.9) for i in range(1, 5)]  # A: 0 with 1-4
    pairs += [pair(5, i, 0.9) for i in range(6, 9)]  # B: 5 with 6-8
    pairs += [pair(9, 10, 0.9), pair(9, 11, 0.9)]  # C: 9 with 10, 11; no pair across
    searched: list[list[int]] = []

    def near(keepers: list[int]) -> list[tuple[int, int]]:
        searched.append(keepers)
        return [(a, b) for a in keepers for b in keepers if a < b]

    def same(found: list[tuple[int, int]]) -> list[Pair]:
        return [Pair(a, b, 0.99, 0.97, {"pdq": 0.99}, "pdq") for a, b in found]

    def members(groups: list[Group]) -> list[list[int]]:
        return sorted(sorted([g.keeper, *(m for m, _ in g.members)]) for g in groups)

    assert len(build_groups(stars, pairs, THRESHOLD, score_now=same)) == 3
    joined = build_groups(stars, pairs, THRESHOLD, score_now=same, near_keepers=near, bound=3)
    # A (5) and B (4) are larger than the bound and join; C (3) is not searched.
    assert searched == [[0, 5]]
    assert members(joined) == [list(range(9)), [9, 10, 11]]
    assert build_groups(stars, pairs, THRESHOLD, score_now=same, near_keepers=near, bound=5) == (
        build_groups(stars, pairs, THRESHOLD, score_now=same)
    )

    def alike(found: list[tuple[int, int]]) -> list[Pair]:  # look-alikes: not one picture
        return [Pair(a, b, 0.95, 0.97, {"pdq": 0.95}, "pdq") for a, b in found]

    assert (
        len(build_groups(stars, pairs, THRESHOLD, score_now=alike, near_keepers=near, bound=3)) == 3
    )

    # A took D in (linked, one picture) and B took E: neither is taken in by the other.
    more = stars + [image(f"d{i}", 700 - i, 100) for i in range(2)]
    more += [image(f"e{i}", 600 - i, 100) for i in range(2)]
    linked = [*pairs, pair(12, 13, 0.9), pair(14, 15, 0.9), pair(1, 12, 0.85), pair(6, 14, 0.85)]
    two = build_groups(more, linked, THRESHOLD, score_now=same, near_keepers=near, bound=3)
    assert members(two) == [[0, 1, 2, 3, 4, 12, 13], [5, 6, 7, 8, 14, 15], [9, 10, 11]]


def test_a_grainy_original_is_kept_over_its_thumbnails(tmp_path: Path) -> None:
    """A tester: a grainy 320 x 240 PNG and three 160 x 120 JPEG thumbnails of it. The
    thumbnails (the grain smoothed away) are more like one another (0.99) than like it (0.91-
    0.93, under `SAME_PICTURE`), so a thumbnail was kept and `act` would trash the original.
    Their whole frames' hashes agree as closely as a settled pair's: one picture, kept at
    its largest."""
    rng = np.random.default_rng(100)
    y, x = np.mgrid[0:240, 0:320]
    planes = [128 + 60 * np.sin(x / (17 + 3 * c) + rng.random() * 6) for c in range(3)]
    picture = np.stack(planes, axis=-1) + 50 * np.cos(y / 11)[..., None]
    for _ in range(12):
        cx, cy, r = rng.integers(0, 320), rng.integers(0, 240), rng.integers(8, 40)
        picture[(x - cx) ** 2 + (y - cy) ** 2 < r**2] = rng.integers(0, 255, 3)
    grainy = np.clip(picture + rng.normal(0, 6, picture.shape), 0, 255).astype(np.uint8)
    original = Image.fromarray(grainy)
    original.save(tmp_path / "original.png")
    for k in range(3):
        original.resize((160, 120)).save(tmp_path / f"thumb{k}.jpg", quality=75 + 4 * k)
    result = neardup.scan([str(tmp_path)], cache=False, workers=1, differences="none")
    [group] = result.groups
    assert Path(result.images[group.keeper].path).name == "original.png"
    assert max(s for _, s in group.members) < SAME_PICTURE  # not the similarity rule's doing


def test_an_original_left_with_its_crop_joins_the_star_of_its_other_copies() -> None:
    """Step 6 (RESULTS.md, session 59). A blurred copy matches the original's other copies and
    three heavily edited copies, but not the original: it covers the most and is the first
    centre, the copies join it (ties go to the first centre), and the original is left a star
    with its crop. The original matches more of that star than of its own, so its group joins
    the star, though the two keepers do not score as one picture; pages so split stay apart
    (the words keep the pages of one template apart, and such a page matches many of another's
    copies), and so do sheets mostly paper (session 60), as do groups whose keeper matches
    more of its own."""
    names = ("original", "crop", "blurred", "copy 1", "copy 2", "copy 3", "edit 1", "edit 2")
    images = [image(n) for n in (*names, "edit 3")]
    images[1] = image("crop", 80, 80)  # the original is its star's keeper
    linked = [(2, n) for n in (3, 4, 5, 6, 7, 8)] + [(3, 4), (3, 5), (4, 5)]
    linked += [(0, 1), (0, 3), (0, 4), (0, 5)]

    def alike(found: list[tuple[int, int]]) -> list[Pair]:  # not the same picture
        return [Pair(a, b, 0.95, 0.9, {"pdq": 0.95}, "pdq") for a, b in found]

    pictures = [pair(a, b, 1.0) for a, b in linked]
    assert len(build_groups(images, pictures, THRESHOLD)) == 2
    joined = build_groups(images, pictures, THRESHOLD, score_now=alike)
    assert paths_of(images, joined) == [sorted(f.path for f in images)]
    # Every member is listed with an image of its group that it matches.
    assert all(s > 0 for g in joined for _, s in g.members)
    pages = [page_pair(a, b, 1.0) for a, b in linked]
    for f in images:
        f.page = (0.9, 0.01)
    assert len(build_groups(images, pages, THRESHOLD, score_now=alike)) == 2
    # Pages not mostly paper stay apart where the words told an image of theirs from another
    # (look-alike pages about); where they told none apart, a picture read as a page (pixel
    # art) joins as a picture does (session 67).
    for f in images:
        f.page = (0.5, 0.01)
    assert len(build_groups(images, pages, THRESHOLD, score_now=alike)) == 1
    look_alike = image("look-alike")
    look_alike.page = (0.5, 0.01)
    told = [*pages, page_pair(6, 9, 1.0)]
    with_it = [*images, look_alike]
    found = build_groups(with_it, told, THRESHOLD, score_now=alike, apart=[(2, 9)])
    assert not any({"original", "blurred"} <= set(g) for g in paths_of(with_it, found))
    assert len(build_groups(with_it, told, THRESHOLD, score_now=alike)) == 1
    # Spreadsheets of thin print: too few strokes to read as pages, but mostly paper.
    for f in images:
        f.page = (MOSTLY_PAPER, 0.0017)
    assert not two_pages(images[0], images[2])
    assert len(build_groups(images, pictures, THRESHOLD, score_now=alike)) == 2
    for keeper_page in ((MOSTLY_PAPER - 0.01, 0.0017), (0.25, 0.03), None):
        images[0].page = keeper_page  # one keeper not mostly paper, or not read: they join
        assert len(build_groups(images, pictures, THRESHOLD, score_now=alike)) == 1
    for f in images:
        f.page = None
    # The original matching as many of the other star (two copies) as of its own (two crops)
    # joins it (session 66, R-s66e2: a tie from two); one copy fewer, and it stays apart.
    tie = [p for p in pictures if (p.a, p.b) != (0, 5)] + [pair(0, 9, 1.0), pair(1, 9, 1.0)]
    more = [*images, image("crop 2", 80, 80)]
    assert len(build_groups(more, tie, THRESHOLD, score_now=alike)) == 1
    fewer = [p for p in tie if (p.a, p.b) != (0, 4)]
    assert len(build_groups(more, fewer, THRESHOLD, score_now=alike)) == 2


def test_a_split_star_whose_keeper_matches_only_its_own_joins_where_most_of_it_belongs() -> None:
    """Step 6 (RESULTS.md, session 68, R-s68b). A texture's original is the first centre, with
    six copies; a caption copy matching three of them heads a second star with a blurred copy
    and a copy under an overlay, the largest, which is kept and matches only its own star. The
    caption and the blurred copies each match more of the original's group than of their own,
    so the star joins it; where only the blurred copy does (and three pairs cross, as many as
    inside the star: R-s68c), it stays apart."""
    names = ["original", *(f"copy {k}" for k in range(1, 7)), "caption", "overlay", "blurred"]
    images = [image(n) for n in names]
    images[8] = image("overlay", 200, 200)  # the second star's keeper
    linked = [(0, n) for n in range(1, 7)] + [(1, 2), (3, 4), (5, 6)]
    linked += [(7, 1), (7, 2), (7, 3), (7, 8), (7, 9), (8, 9), (9, 0), (9, 4), (9, 5)]

    def alike(found: list[tuple[int, int]]) -> list[Pair]:  # not the same picture
        return [Pair(a, b, 0.95, 0.9, {"pdq": 0.95}, "pdq") for a, b in found]

    pictures = [pair(a, b, 1.0) for a, b in linked]
    assert len(build_groups(images, pictures, THRESHOLD)) == 2
    joined = build_groups(images, pictures, THRESHOLD, score_now=alike)
    assert paths_of(images, joined) == [sorted(names)]
    assert all(s > 0 for g in joined for _, s in g.members)
    one = [p for p in pictures if (p.a, p.b) not in ((7, 2), (7, 3), (9, 5))]
    assert len(build_groups(images, one, THRESHOLD, score_now=alike)) == 2


def test_a_copy_that_became_a_second_centre_joins_where_more_pairs_cross_than_stay() -> None:
    """Step 6 (RESULTS.md, session 68, R-s68c). A heavily compressed copy matches the original
    but also two copies the original does not: after the original's star it covers two new
    images and heads a star of its own, kept for its size. Its keeper matches more of its own
    star, and of its images only one matches more of the original's group than of its own;
    but four pairs cross to the original's group against three inside the star, so it joins.
    With one pair across fewer (three against three) it stays apart."""
    names = ["original", "blurred", "overlay", "turned", "compound"]
    names += ["compressed", "recompressed", "sharpened", "flipped"]
    images = [image(n) for n in names]
    images[5] = image("compressed", 200, 200)  # the second star's keeper
    pictures = [pair(0, n, 1.0) for n in (1, 2, 3, 4)] + [pair(1, 2, 1.0), pair(3, 4, 1.0)]
    compressed = Pair(5, 0, 0.9, 0.99, {"pdq": 0.99}, "pdq")  # not the same picture
    pictures += [compressed, pair(5, 6, 0.99), pair(5, 7, 0.99), pair(5, 8, 0.99)]
    pictures += [pair(7, 0, 0.94), pair(6, 4, 0.99), pair(6, 1, 0.99)]

    def alike(found: list[tuple[int, int]]) -> list[Pair]:  # not the same picture
        return [Pair(a, b, 0.95, 0.9, {"pdq": 0.95}, "pdq") for a, b in found]

    assert len(build_groups(images, pictures, THRESHOLD)) == 2
    joined = build_groups(images, pictures, THRESHOLD, score_now=alike)
    assert paths_of(images, joined) == [sorted(names)]
    assert all(s > 0 for g in joined for _, s in g.members)
    fewer = [p for p in pictures if (p.a, p.b) != (6, 1)]
    assert len(build_groups(images, fewer, THRESHOLD, score_now=alike)) == 2


def paths_of(images: list[Features], groups: list[Group]) -> list[list[str]]:
    """Each group's paths, sorted, the groups in order."""
    return sorted(
        sorted(images[i].path for i in [g.keeper, *(m for m, _ in g.members)]) for g in groups
    )


def page_pair(a: int, b: int, detail: float) -> Pair:
    """A passing pair of pages whose words were compared and agree `detail`."""
    return Pair(a, b, 1.0, 0.95, {"sscd_distilled": 0.95, "detail": detail}, "sscd_distilled")


def test_weak_page_pairs_link_only_images_nothing_else_links() -> None:
    """Two forms of one template, each with a copy: the first form's copy passes with the second
    form too, its words agreeing only 0.85. That pair links nothing (both images have pairs
    whose words agree), so the forms stay in two groups, the pair still listed; a copy whose
    only passing pair is weak keeps it, and joins the group of the image it matches."""
    images = [image(n) for n in ("form A", "copy A", "form B", "copy B", "blurred B")]
    pairs = [
        page_pair(0, 1, 1.0),
        page_pair(2, 3, 0.98),
        page_pair(1, 2, 0.85),  # a look-alike that passed: weak words
        page_pair(3, 4, 0.86),  # a blurred copy: its only pair is weak
    ]
    groups = build_groups(images, pairs, THRESHOLD)
    assert paths_of(images, groups) == [["blurred B", "copy B", "form B"], ["copy A", "form A"]]


def test_a_page_passing_only_weakly_joins_one_group_not_all() -> None:
    """Three forms of one template, each with its copy, and a fourth form without one that
    passes weakly (words 0.84-0.86) with the three: it keeps only its best weak pair, so it
    joins one form's group and is no hub joining the three groups into one."""
    images = [image(n) for n in ("A", "A copy", "B", "B copy", "C", "C copy", "look-alike")]
    pairs = [page_pair(0, 1, 1.0), page_pair(2, 3, 0.98), page_pair(4, 5, 0.99)]
    pairs += [page_pair(6, 0, 0.84), page_pair(6, 2, 0.86), page_pair(6, 4, 0.85)]
    groups = build_groups(images, pairs, THRESHOLD)
    assert paths_of(images, groups) == [
        ["A", "A copy"],
        ["B", "B copy", "look-alike"],
        ["C", "C copy"],
    ]


def test_a_copy_whose_words_read_weak_keeps_its_pages_copies() -> None:
    """A flipped copy whose words agree only 0.88 with its page and the page's two copies, and
    which the words comparison told apart from a third copy: it keeps all three weak pairs
    (its best partner's strong pairs lead to the other two), so it still matches more images
    of the page's star than it was told apart from and joins it, not left out of every group."""
    images = [image(n) for n in ("page", "copy 1", "copy 2", "copy 3", "flipped")]
    pairs = [page_pair(a, b, 1.0) for a, b in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))]
    pairs += [page_pair(4, 0, 0.88), page_pair(4, 1, 0.87), page_pair(4, 2, 0.86)]
    groups = build_groups(images, pairs, THRESHOLD, apart=[(3, 4)])
    assert paths_of(images, groups) == [["copy 1", "copy 2", "copy 3", "flipped", "page"]]


def test_a_noisy_copy_read_as_a_page_is_not_kept_out_by_one_wrong_veto() -> None:
    """A salt-and-pepper copy read as a page: its words agree strongly with one copy only
    (0.95) and weakly with the page and another copy (0.85-0.86), so the grouping links it
    through that one copy; the words comparison told it apart from a bannered copy. The page
    and both copies match both it and the bannered copy: the veto is the comparison's rare
    wrong one and does not count, so the noisy copy joins its page's group."""
    images = [image(n) for n in ("page", "copy 1", "copy 2", "bannered", "noisy")]
    pairs = [page_pair(a, b, 1.0) for a, b in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))]
    pairs += [page_pair(4, 1, 0.95), page_pair(4, 0, 0.85), page_pair(4, 2, 0.86)]
    groups = build_groups(images, pairs, THRESHOLD, apart=[(3, 4)])
    assert paths_of(images, groups) == [["bannered", "copy 1", "copy 2", "noisy", "page"]]


def test_same_frame_reads_every_pair_at_the_cut() -> None:
    """`keeper_rank.same_frame`: the pairs at the cut whose PDQ hashes (of enough quality) and
    thumbnails settle them (`fusion.Settled`), smaller position first; not one below the cut,
    nor one whose thumbnails differ; a NaN confidence is not below the cut (as `framed`)."""
    assert fusion.fitted().settled is not None
    images = [image(n) for n in "abcd"]
    for f in images:
        f.pdq_quality = 100

    def scored(a: int, b: int, confidence: float, thumb: float) -> Pair:
        return Pair(a, b, confidence, confidence, {"pdq": 1.0, "thumb": thumb}, "pdq")

    pairs = [scored(1, 0, 0.99, 1.0), scored(0, 2, 0.5, 1.0), scored(2, 3, 0.99, 0.0)]
    pairs.append(scored(3, 1, math.nan, 1.0))
    assert same_frame(images, pairs, THRESHOLD) == {(0, 1), (1, 3)}
    images[0].pdq_quality = 0  # PDQ of too little quality settles nothing
    assert same_frame(images, pairs, THRESHOLD) == {(1, 3)}
    assert same_frame(images, [], THRESHOLD) == set()
