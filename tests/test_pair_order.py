"""Pairs ordered so that each worker of an engine reads a picture about once."""

from __future__ import annotations

import random

from neardup.engines.base import Shares, Stage, chunks_of, no_state
from neardup.pair_order import by_image


def _reads(pairs: list[tuple[str, str]], chunk: int, workers: int) -> int:
    """Pictures read when the chunks are dealt as the engines deal them, each worker reading a
    picture once (its cache holds every picture here)."""
    stage: Stage[tuple[str, str], None, None] = Stage("pairs", no_state, lambda s, i: i, chunk)
    shares = Shares(chunks_of(stage, pairs), workers)
    seen: list[set[str]] = [set() for _ in range(workers)]
    done = False
    while not done:  # the workers take a chunk each in turn, as equally fast workers would
        done = True
        for worker in range(workers):
            if (part := shares.next(worker)) is not None:
                seen[worker].update(picture for pair in part for picture in pair)
                done = False
    return sum(len(s) for s in seen)


def test_a_large_group_of_look_alikes_is_read_about_once_per_picture() -> None:
    rng = random.Random(7)
    names = [f"{n:04d}.jpg" for n in range(400)]
    # Look-alikes: each picture paired with a few within its neighbourhood of 20, listed in
    # name order (as candidate pairs come), one connected group of ~1,200 pairs.
    pairs = sorted(
        {
            (names[i], names[j])
            for i in range(len(names) - 3)
            for j in rng.sample(range(i + 1, min(i + 20, len(names) - 1) + 1), 3)
        }
    )
    ordered = by_image(pairs, 64)
    assert sorted(ordered) == pairs  # the same pairs
    assert _reads(ordered, 64, 2) <= 1.15 * len(names)
    shuffled = pairs[:]
    rng.shuffle(shuffled)  # the order pairs would come in from a search
    assert _reads(by_image(shuffled, 64), 64, 2) <= 1.15 * len(names)
    assert _reads(shuffled, 64, 2) > 1.6 * len(names)


def test_small_groups_keep_whole_in_chunks() -> None:
    pairs = [(f"{g}a", f"{g}b") for g in range(10)] + [(f"{g}a", f"{g}c") for g in range(10)]
    ordered = by_image(pairs, 4)
    assert sorted(ordered) == sorted(pairs)
    for start in range(0, len(ordered), 4):
        groups = {a[:-1] for a, _ in ordered[start : start + 4]}
        assert len(groups) == 2  # two groups of two pairs a chunk, none split
