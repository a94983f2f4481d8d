"""The bound on each image's candidates: its nearest `MAX_NEIGHBOURS` from each search.

The searches return every neighbour above a floor (a cosine, a Hamming radius), which is a
handful for most pictures. A picture copied thousands of times (a placeholder in scraped data,
a logo, a frame of a static shot) would bring every pair of its copies, a number that grows
with the square of the copies: 800 re-encodes of one photo gave all 319,600 pairs, 1,500 byte
copies 1,124,250 pairs and 2.2 GiB. Each search keeps the nearest `MAX_NEIGHBOURS` of each
image instead (the embedding search per probed cluster, the hash search over all views, the
byte copies' listing and what each copy inherits from its image), so memory grows with the
images: at 64, 73,622 and 93,920 pairs, 296-328 MiB (`benchmarks/many_copies.py`; at 32,
40,769 and 47,472, 191-246 MiB, RESULTS.md, session 45). The copies still all
land in groups, each with copies it matches; step 6 of `neardup.groups` joins the groups
whose keepers are the same picture, linked by a pair or, for large groups the bound split
off, found near each other (the 800: one group), without chains.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_NEIGHBOURS = 64
"""Neighbours kept per image and search. At 32 (the smallest of 32, 64 and 128 for which
default scans of the five evaluation sets of 2026-12-02 gave the same pairs, confidences and
groups as no bound) a documents set of many pages of one template lost pairs: on documents
4's calibration half 33 passing pairs were never candidates, 32 of them between copies of one
page, whose nearest 32 were look-alike pages of their template. At 64 they are, and its
groups go 0.952 / 0.968 -> 0.959 / 0.978; at 128 the four documents calibration halves are as
at 64 (RESULTS.md, session 45, R103)."""

K_NEIGHBOURS = 16
"""The first k of a k-nearest search, widened x4 while the k-th is still near enough, up to
`MAX_NEIGHBOURS`."""

Closeness = npt.NDArray[np.floating] | npt.NDArray[np.integer]


def most() -> int:
    """`MAX_NEIGHBOURS`, read when called (a test lowers it)."""
    return MAX_NEIGHBOURS


def nearest_per_query(
    queries: npt.NDArray[np.integer], closeness: Closeness, k: int | None = None
) -> npt.NDArray[np.intp]:
    """Positions of the entries to keep (in their order): for each query value, its `k`
    entries of highest closeness (ties: the earlier entry); `k` defaults to `most()`."""
    k = most() if k is None else k
    everything = np.arange(len(queries))
    if len(queries) <= k:
        return everything
    _, counts = np.unique(queries, return_counts=True)
    if counts.max() <= k:
        return everything
    order = np.lexsort((everything, -closeness.astype(np.float64), queries))
    grouped = queries[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    rank = everything - np.repeat(starts, np.diff(np.r_[starts, len(grouped)]))
    return np.sort(order[rank < k])
