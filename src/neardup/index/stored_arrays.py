"""Every stored image's scoring features as arrays, read from the index's rows in bulk.

`duplicates` scores and searches every stored image. Decoding a million rows into `Features`
objects cost about 3 GB and a minute at 10^6 images, though scoring only ever reads the
features stacked into arrays (`neardup.method_scores.Stacks`). This reads the rows a block at
a time and writes each blob's arrays straight into those stacks (rows of one layout sliced
together as one byte matrix), so the only per-image Python work is parsing its JSON header.
The stacks are the ones `prepare_stacks` would make from the decoded images: the same keys,
values and presence masks (tests compare the two).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.features.exact import IDENTITY_KEYS
from neardup.method_scores import (
    EMBEDDING_METHODS,
    HASH_METHODS,
    Stacks,
    empty_thumb_stacks,
    fill_thumb_stacks,
)
from neardup.records import VIEWS

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
READ_BLOCK = 65_536
"""Row ids read per query: the blobs of one block (about 100 MB at most) are in memory."""


def read_stacks(
    db: sqlite3.Connection,
    ids: I64,
    methods: tuple[str, ...],
    given: Stacks | None = None,
) -> Stacks:
    """The stacks scoring `methods` on the stored images `ids` (ascending row ids; position
    i is row ids[i]) reads, from their rows; `given` stacks (the index's vectors) are kept as
    they are."""
    reader = _Reader(len(ids), methods, given or {})
    for start in range(0, len(ids), READ_BLOCK):
        block = ids[start : start + READ_BLOCK]
        rows = db.execute(
            "SELECT id, meta, data FROM images WHERE id BETWEEN ? AND ? ORDER BY id",
            (int(block[0]), int(block[-1])),
        ).fetchall()
        reader.take(start, block, rows)
    return reader.finish()


class _Reader:
    """Accumulates the stacks block by block."""

    def __init__(self, n: int, methods: tuple[str, ...], given: Stacks) -> None:
        self.n = n
        self.methods = methods
        self.stacks: Stacks = dict(given)
        if "thumb:orbits" not in self.stacks:
            self.stacks.update(empty_thumb_stacks(n))
        self.facts = np.zeros((n, 3), dtype=np.float64)
        self.numbers: dict[str, dict[str, int]] = {key: {} for key in IDENTITY_KEYS}
        self.codes = {key: np.full(n, -1, dtype=np.int64) for key in IDENTITY_KEYS}
        self.wanted = _wanted_arrays(methods) - set(self.stacks)

    def take(self, start: int, block: I64, rows: list[tuple[int, str, bytes]]) -> None:
        """Rows (id, meta, data) of the row ids `block` (positions start..)."""
        found = np.array([row[0] for row in rows], dtype=np.int64)
        at = np.searchsorted(block, found)
        inside = at < len(block)
        keep = np.zeros(len(found), dtype=bool)
        keep[inside] = block[at[inside]] == found[inside]
        positions = (at + start).tolist()
        by_layout: dict[str, tuple[Any, list[int], list[bytes]]] = {}
        small = np.zeros((len(block), 32, 32), dtype=np.uint8)
        has_small = np.zeros(len(block), dtype=bool)
        for n, (_, meta, data) in enumerate(rows):
            if not keep[n]:
                continue
            facts = json.loads(meta)
            position = positions[n]
            self.facts[position] = (
                facts["pdq_quality"],
                _aspect(facts),
                facts.get("turned_back", 1.0),
            )
            for key in IDENTITY_KEYS:
                value = facts.get(key)
                if isinstance(value, str):
                    numbers = self.numbers[key]
                    self.codes[key][position] = numbers.setdefault(value, len(numbers))
            layout = facts["arrays"]
            name = str(layout)
            group = by_layout.get(name)
            if group is None:
                group = by_layout[name] = (layout, [], [])
            group[1].append(position)
            group[2].append(data)
        for layout, where, blobs in by_layout.values():
            self._slice(layout, np.array(where, dtype=np.int64), blobs, start, small, has_small)
        fill_thumb_stacks(self.stacks, start, small, has_small)

    def _slice(
        self,
        layout: list[tuple[str, str, list[int]]],
        positions: I64,
        blobs: list[bytes],
        start: int,
        small: npt.NDArray[np.uint8],
        has_small: npt.NDArray[np.bool_],
    ) -> None:
        """Rows of one layout: their blobs as one byte matrix, each array a column slice."""
        width = sum(np.dtype(dtype).itemsize * int(np.prod(shape)) for _, dtype, shape in layout)
        data = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), width)
        offset = 0
        for name, dtype, shape in layout:
            stored = np.dtype(dtype).newbyteorder("<")
            size = stored.itemsize * int(np.prod(shape))
            part = data[:, offset : offset + size]
            offset += size
            if name == "small":
                small[positions - start] = part.reshape(len(blobs), *shape)
                has_small[positions - start] = True
                continue
            key = _stack_key(name)
            if key is None or key not in self.wanted:
                continue
            values = np.ascontiguousarray(part).view(stored).reshape(len(blobs), *shape)
            if key not in self.stacks:
                self.stacks[key] = (
                    np.zeros((self.n, *shape), dtype=np.dtype(dtype)),
                    np.zeros(self.n, dtype=bool),
                )
            array, present = self.stacks[key]
            array[positions] = values
            present[positions] = True

    def finish(self) -> Stacks:
        """The stacks, every wanted one present (all absent where no image had it)."""
        for key in IDENTITY_KEYS:
            self.stacks["id:" + key] = (self.codes[key], self.codes[key] >= 0)
        self.stacks["facts"] = (self.facts, np.ones(self.n, dtype=bool))
        for key in sorted(self.wanted - set(self.stacks)):
            shape = (8, 32) if key == "pdq" else (8,)
            dtype: type = np.uint8
            if key.partition(":")[0] in VIEWS or key in EMBEDDING_METHODS:
                given = self.stacks.get(key.partition(":")[2] or key)
                shape = given[0].shape[1:] if given is not None else (0,)
                dtype = np.float32
            self.stacks[key] = (
                np.zeros((self.n, *shape), dtype=dtype),  # not resident: never written
                np.zeros(self.n, dtype=bool),
            )
        return self.stacks


def _wanted_arrays(methods: tuple[str, ...]) -> set[str]:
    """The stack keys of blob arrays that scoring `methods` reads."""
    wanted: set[str] = set()
    for method in methods:
        if method == "pdq" or method in HASH_METHODS:
            wanted.add(method)
        elif method in EMBEDDING_METHODS:
            wanted.update([method, *(f"{kind}:{method}" for kind in VIEWS)])
    return wanted


def _stack_key(name: str) -> str | None:
    """The stack a blob array goes to: `pdq`, `hash:<m>` -> m, `emb:<m>` -> m, `flip:<m>`,
    `inset:<m>` and `dark:<m>` as they are."""
    kind, _, key = name.partition(":")
    if kind == "pdq":
        return "pdq"
    if kind in ("hash", "emb"):
        return key
    if kind in VIEWS:
        return name
    return None


def _aspect(facts: dict[str, Any]) -> float:
    """`neardup.pair_shapes.aspect_ratio` from a row's JSON header."""
    left, top, right, bottom = facts.get("trimmed") or (0, 0, 0, 0)
    width = max(1, int(facts["width"]) - left - right)
    height = max(1, int(facts["height"]) - top - bottom)
    return width / height
