"""What a batch of new images is, against an index: already there (same bytes, pixels or
JPEG data), or new, and which stored images each new one duplicates, with scores. Read-only:
`ImageIndex.add` stores what `classify` calls fresh, `query` stores nothing."""

from __future__ import annotations

from collections.abc import Mapping

from neardup.engines.base import Engine
from neardup.features.exact import IDENTITY_KEYS
from neardup.index.neighbours import first_ids, pairs_of, pairs_within
from neardup.index.report import Entry, Match
from neardup.index.view import IndexView
from neardup.pipeline import score_candidates
from neardup.records import Features
from neardup.store import CacheSetting


def classify(
    index: IndexView, new: list[Features]
) -> tuple[list[Entry], list[Features], list[int]]:
    """Entries for every new image, the images to match and store (not already indexed by
    bytes or pixels), and the rows they replace (an indexed path whose file changed: to new
    content, or to an exact copy of another image, which it is then recorded as)."""
    entries: list[Entry] = []
    fresh: list[Features] = []
    replaced: list[int] = []
    seen: dict[tuple[str, str], str] = {}
    # Stored rows looked up for the whole batch at once (a few queries, not one per image).
    stored = {
        key: first_ids(index.identity, key, [getattr(f, key) for f in new]) for key in IDENTITY_KEYS
    }
    paths = stored_rows(index.by_path, [f.key for f in new])
    going = _changed_rows(new, stored, paths, index.aliases)
    for n, f in enumerate(new):
        same = None
        for key in IDENTITY_KEYS:
            value = getattr(f, key)
            if value is None:
                continue
            row = stored[key][n]
            if row is not None and row in going:
                # The row's file changed in this batch: the content lives on only under a
                # recorded copy of it (which the row then takes on), else not at all.
                same = going[row]
                if same is not None:
                    break
                row = None
            if row is not None:
                same = index.images[index.positions[row]].key
                break
            if (key, value) in seen:
                same = seen[(key, value)]
                break
        if same is not None:
            if same != f.key and f.key in paths:  # its file now holds another's content
                replaced.append(paths[f.key])
            entries.append(Entry(f.key, "already indexed", same_as=same))
            continue
        if f.key in paths:
            replaced.append(paths[f.key])
        for key in IDENTITY_KEYS:
            value = getattr(f, key)
            if value is not None:
                seen[(key, value)] = f.key
        entries.append(Entry(f.key, "new"))
        fresh.append(f)
    return entries, fresh, replaced


def _changed_rows(
    new: list[Features],
    stored: dict[str, list[int | None]],
    paths: Mapping[str, int],
    aliases: Mapping[str, int],
) -> dict[int, str | None]:
    """The stored rows whose file is in the batch with other content now, each with the
    path of a recorded exact copy of it that stays (the row lives on under it when stored,
    `StoringIndex._copies_living_on`), or None."""
    changed: set[int] = set()
    for n, f in enumerate(new):
        own = paths.get(f.key)
        if own is not None and not any(stored[key][n] == own for key in IDENTITY_KEYS):
            changed.add(own)
    if not changed:
        return {}
    given = {f.key for f in new}  # a copy given again is classified afresh, not kept as one
    going: dict[int, str | None] = dict.fromkeys(changed)
    for path, row in sorted(aliases.items()):
        if row in changed and going[row] is None and path not in given:
            going[row] = path
    return going


def stored_rows(by_path: Mapping[str, int], keys: list[str]) -> dict[str, int]:
    """The row id of each of `keys` that is stored (one query per few hundred keys where the
    mapping is an index's rows)."""
    many = getattr(by_path, "many", None)
    if many is not None:
        found: dict[str, int] = many(keys)
        return found
    return {k: by_path[k] for k in keys if k in by_path}


def match(
    index: IndexView,
    fresh: list[Features],
    *,
    engine: Engine,
    verify: bool,
    cache: CacheSetting = False,
) -> dict[str, list[Match]]:
    """Score each new image against the members of its nearest clusters (and the batch); the
    check's findings and turned views are read from and kept in `cache`'s pair store, as a
    scan's are, so a query asked again checks nothing it checked before."""
    if not fresh:
        return {}
    # Only the stored images that are candidates are read (an open index decodes no other).
    neighbours = list(pairs_of(index.indexed_neighbours(fresh)))
    stored = sorted({row_id for _, row_id in neighbours})
    images = [index.images[index.positions[row_id]] for row_id in stored] + fresh
    offset = len(stored)
    at = {row_id: n for n, row_id in enumerate(stored)}
    candidates: set[tuple[int, int]] = set()
    for n, row_id in neighbours:
        candidates.add((at[row_id], offset + n))
    for a, b in pairs_within(fresh, index.settings.methods, index.settings.model):
        candidates.add((offset + a, offset + b))
    pairs = score_candidates(
        images,
        candidates,
        index.settings.methods,
        index.settings.threshold,
        verify,
        engine,
        cache=cache,
    )
    found: dict[str, list[Match]] = {}
    for pair in sorted(pairs, key=lambda p: -p.confidence):
        for me, other in ((pair.b, pair.a), (pair.a, pair.b)):
            if me >= offset:
                match = Match(
                    images[other].key, pair.similarity, pair.confidence, pair.evidence, pair.scores
                )
                found.setdefault(images[me].key, []).append(match)
    return found
