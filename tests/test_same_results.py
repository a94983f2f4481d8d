"""The faster code paths give the very same numbers as the plain ones they replaced.

Each speed-up in the scoring and the geometric check is exact by construction (integer
arithmetic, the same order statistics, the same per-row operations); these tests hold them to
bit-identical results against the straightforward version, so a verdict can never move.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from neardup.aligned_pixels import _quartiles
from neardup.borders import (
    BORDER_FLAT,
    BORDER_TOLERANCE,
    EDGE_CONTRAST,
    EDGE_SHARE,
    MIN_CONTENT,
    find_borders,
)
from neardup.checked_scores import add_geometry, add_geometry_many
from neardup.features.thumbnail import thumb_similarity, thumb_similarity_of
from neardup.method_scores import facts, flat_apart
from neardup.pair_order import by_image
from neardup.records import Features
from neardup.scoring import DEFAULT_METHODS, fuse, score_pairs
from neardup.verify import ratio_matches

cv2 = pytest.importorskip("cv2")


def _knn_ratio(des_a: npt.NDArray[np.uint8], des_b: npt.NDArray[np.uint8]) -> list[list[int]]:
    """What the check did before: OpenCV's brute-force 2-NN and Lowe's ratio test."""
    found = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_a, des_b, k=2)
    good = [m[0] for m in found if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
    return [[m.queryIdx for m in good], [m.trainIdx for m in good]]


def test_ratio_matches_equal_opencv_knn_match() -> None:
    rng = np.random.default_rng(7)
    orb = cv2.ORB_create(nfeatures=400)
    for n in range(12):
        picture = cv2.GaussianBlur(rng.integers(0, 256, (200, 260), dtype=np.uint8), (5, 5), 2)
        _, des_a = orb.detectAndCompute(picture, None)
        turned = cv2.warpAffine(
            picture, cv2.getRotationMatrix2D((130, 100), 3 * n, 1.0), (260, 200)
        )
        _, des_b = orb.detectAndCompute(turned, None)
        query, train = ratio_matches(des_a, des_b)
        assert [query.tolist(), train.tolist()] == _knn_ratio(des_a, des_b)
    for rows in (1, 2, 5, 40):  # few codes, many ties (codes drawn from 4 values)
        codes = rng.integers(0, 4, (rows, 32), dtype=np.uint8)
        other = rng.integers(0, 4, (max(1, rows - 1), 32), dtype=np.uint8)
        query, train = ratio_matches(codes, other)
        assert [query.tolist(), train.tolist()] == _knn_ratio(codes, other)


def test_quartiles_equal_numpy_percentile() -> None:
    rng = np.random.default_rng(3)
    for n in [16, 17, 18, 19, 100, 1023, 4096]:
        for sample in (rng.normal(120, 40, n), rng.integers(0, 256, n), rng.random(n) * 3.7):
            v = sample.astype(np.float32)
            assert [float(q) for q in _quartiles(v)] == np.percentile(v, (25, 50, 75)).tolist()


def test_thumb_similarity_of_equals_per_pair_similarity_to_float32_rounding() -> None:
    rng = np.random.default_rng(5)
    thumbs = rng.integers(0, 256, (60, 32, 32), dtype=np.uint8)
    thumbs[3] = 128  # a flat thumbnail
    thumbs[4] = np.rot90(thumbs[5])  # a turned copy
    a = rng.integers(0, 60, 500)
    b = rng.integers(0, 60, 500)
    a[:3], b[:3] = (3, 4, 4), (5, 3, 5)
    fast = thumb_similarity_of(thumbs, a, b)
    # The per-pair version normalises in float32; the fast one is exact (integer sums).
    assert np.allclose(fast, thumb_similarity(thumbs[a], thumbs[b]), rtol=0, atol=1e-5)
    assert fast[0] == 0.0 and fast[1] == 0.0  # a flat thumbnail correlates with nothing
    assert fast[2] == pytest.approx(1.0, abs=1e-12)  # the turned copy


def _float_borders(rgb: npt.NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """The float version `find_borders` replaced (same rule, written plainly)."""
    h, w = rgb.shape[:2]
    if h < 16 or w < 16:
        return None
    img = rgb.astype(np.int16)

    def run(lines: npt.NDArray[np.int16]) -> int:
        colour = np.median(lines[0], axis=0)
        limit = int(len(lines) * (1 - MIN_CONTENT)) + 1
        count = 0
        while count < limit:
            close = np.abs(lines[count] - colour).max(axis=1) <= BORDER_TOLERANCE
            if close.mean() < 0.99:
                break
            count += 1
        edge = lines[count : count + 3]
        far = np.abs(edge - colour).max(axis=2) > EDGE_CONTRAST
        if not count or not len(edge) or far.mean(axis=1).max() < EDGE_SHARE:
            return 0
        flat = lines[: max(1, count - 2)]
        return count if float(np.abs(flat - colour).mean()) <= BORDER_FLAT else 0

    top, bottom = run(img), run(img[::-1])
    left, right = run(img.transpose(1, 0, 2)), run(img.transpose(1, 0, 2)[::-1])
    if top + bottom > h * (1 - MIN_CONTENT):
        top = bottom = 0
    if left + right > w * (1 - MIN_CONTENT):
        left = right = 0
    top, bottom = (v if v >= max(2, h // 100) else 0 for v in (top, bottom))
    left, right = (v if v >= max(2, w // 100) else 0 for v in (left, right))
    return (left, top, right, bottom) if top or bottom or left or right else None


def test_find_borders_equals_the_float_rule() -> None:
    rng = np.random.default_rng(11)
    found = 0
    for _ in range(600):
        h, w = (int(v) for v in rng.integers(16, 90, 2))
        if rng.random() < 0.5:
            img = rng.integers(0, 256, (h, w, 3))
        else:  # flat-ish pictures: the hard cases for the median and the edge test
            img = rng.integers(0, 256, 3) + rng.integers(-20, 21, (h, w, 3)) * (rng.random() < 0.5)
        colour = rng.integers(0, 256, 3)
        for side in range(4):
            width = int(rng.integers(0, (h if side % 2 == 0 else w) // 2 + 1))
            if rng.random() < 0.4 or not width:
                continue
            noise = rng.integers(-3, 4, (h, w, 3)) * (rng.random() < 0.5)
            bar = [np.s_[:width], np.s_[:, :width], np.s_[-width:], np.s_[:, -width:]][side]
            img[bar] = (colour + noise)[bar]
        rgb = np.clip(img, 0, 255).astype(np.uint8)
        expected = _float_borders(rgb)
        found += expected is not None
        assert find_borders(rgb) == expected
    assert found > 100  # the sample exercises trimming, not only its absence


def test_rescoring_many_equals_rescoring_each() -> None:
    """Rescoring checked pairs in arrays gives what fusing each pair's scores alone gives."""
    rng = np.random.default_rng(2)
    images = []
    for n in range(12):
        image = Features(f"{n}.png", 100, 0, 300 + 10 * n, 200, "PNG", f"b{n}", None)
        image.embeddings["sscd_distilled"] = (v := rng.normal(size=512).astype(np.float32)) / (
            np.linalg.norm(v)
        )
        image.pdq = rng.integers(0, 256, (8, 32), dtype=np.uint8)
        image.pdq_quality = int(rng.integers(0, 101))
        image.small = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        images.append(image)
    pairs = [(a, b) for a in range(12) for b in range(a + 1, 12)][:40]
    scored = score_pairs(images, pairs, DEFAULT_METHODS)
    checks = [
        (
            float(rng.random()),
            float(rng.random()),
            float(rng.random()),
            int(rng.integers(0, 200)),
            float(rng.random()),
            False,
            0.0,
        )
        for _ in pairs
    ]
    many = add_geometry_many(images, list(zip(pairs, scored, checks, strict=True)), DEFAULT_METHODS)
    for (a, b), s, (geometry, aligned, agree, inliers, *_), got in zip(
        pairs, scored, checks, many, strict=True
    ):
        pair_facts = facts([images[a], images[b]], [(0, 1)])
        each = fuse(
            s.scores
            | {"geometry": round(geometry, 4), "aligned": round(aligned, 4)}
            | {"agree": round(agree, 4)},
            DEFAULT_METHODS,
            pdq_quality=float(pair_facts.quality[0]),
            aspect=float(pair_facts.aspect[0]),
            inliers=float(inliers),
            apart=bool(flat_apart([images[a], images[b]], [(0, 1)], pair_facts.aspect)[0]),
        )
        assert got == each
        check = checks[pairs.index((a, b))]
        assert add_geometry(s, check, DEFAULT_METHODS, images[a], images[b]) == got


def test_checks_ordered_by_image_keep_every_pair_and_group_copies() -> None:
    pairs = [("a", "b"), ("x", "y"), ("b", "c"), ("y", "z"), ("a", "c"), ("p", "q")]
    ordered = by_image(pairs)
    assert sorted(ordered) == sorted(pairs)
    assert ordered == [("a", "b"), ("b", "c"), ("a", "c"), ("x", "y"), ("y", "z"), ("p", "q")]


def test_checks_are_packed_so_a_chunk_holds_whole_groups() -> None:
    groups = [[("a", "b"), ("b", "c"), ("a", "c")], [("d", "e"), ("e", "f")], [("g", "h")]]
    groups += [[("i", "j"), ("j", "k")]]
    pairs = [pair for group in groups for pair in group]
    ordered = by_image(pairs, chunk=4)
    assert sorted(ordered) == sorted(pairs)
    chunks = [{p for pair in ordered[i : i + 4] for p in pair} for i in range(0, len(pairs), 4)]
    for n, pictures in enumerate(chunks):  # no picture needed by two chunks
        assert not any(pictures & other for other in chunks[n + 1 :])
    big = [(f"{n}", f"{n + 1}") for n in range(10)]  # one group over 2.5 chunks
    assert sorted(by_image(big, chunk=4)) == sorted(big)


def test_leaf_masks_give_the_sums_of_walking_every_tree() -> None:
    from neardup import fusion

    rng = np.random.default_rng(11)
    for key, model in fusion.models().items():
        trees = model.trees
        assert trees.masks is not None  # every shipped tree has at most 64 leaves
        x = rng.random((3000, len(fusion.feature_names(key)))) * 2.0
        # Rows exactly at a node's threshold go left in both: the edge that must not move.
        inner = np.flatnonzero(~trees.leaf)
        for row, node in enumerate(rng.choice(inner, 500)):
            x[row, trees.feature[node]] = trees.threshold[node]
        assert np.array_equal(trees.raw(x), trees.walk(x)), key


def test_differences_chunks_hold_whole_groups() -> None:
    """A keeper's pairs (keeper sorted after some members) go to one worker's chunk, so its
    picture is decoded and described once, not once per chunk it appears in."""
    from collections.abc import Iterator, Sequence
    from typing import Any

    from neardup.differences import DIFFERENCES, measure_reported
    from neardup.records import Differences, Pair

    names = [f"{n:02d}.png" for n in range(40)]
    images = [Features(p, 100, 0, 64, 64, "PNG", f"b{p}", None) for p in names]
    # Keepers 10, 20, 30 with members on both sides of them in path order, and pairs of
    # unrelated pictures between: sorted by path, each group spans chunks.
    pairs = [
        Pair(min(k, m), max(k, m), 0.9, 0.99, {}, "sscd")
        for k in (10, 20, 30)
        for m in range(k - 4, k + 5)
        if m != k
    ]
    pairs += [Pair(n, n + 1, 0.9, 0.99, {}, "sscd") for n in (0, 2, 36, 38)]
    seen: list[list[Any]] = []

    class Recording:
        workers = 2

        def map(self, stage: Any, items: Sequence[Any]) -> Iterator[tuple[list[Any], list[Any]]]:
            for start in range(0, len(items), stage.chunk):
                chunk = list(items[start : start + stage.chunk])
                seen.append(chunk)
                yield chunk, [Differences(()) for _ in chunk]

        def close(self) -> None:
            pass

    out = measure_reported(images, pairs, 0.5, Recording())  # type: ignore[arg-type]
    assert all(p.differences is not None for p in out)
    assert sorted(pair for chunk in seen for pair in chunk) == sorted(
        (names[p.a], names[p.b]) for p in pairs
    )
    assert DIFFERENCES.chunk == 16
    for keeper in (10, 20, 30):  # 8 pairs each: one chunk holds them all
        assert sum(any(names[keeper] in pair for pair in chunk) for chunk in seen) == 1
