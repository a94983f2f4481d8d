"""An open index's images, read from SQLite only when asked for: opening decodes nothing.

`StoredImages` is the sequence of stored images (decoded one by one where a candidate needs
them, or all at once in row order where `duplicates` scores them all); `Positions`,
`StoredPaths` and `StoredIdentity` answer row id -> position, path -> row id and exact-copy
lookups from sorted arrays and SQLite's own indexes; `ProbedVectors` searches a few query
vectors in the memory-mapped vectors without building the IVF (one query at 10^6 images
reads four clusters, not two gigabytes).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from neardup.feature_rows import decode_features
from neardup.index.base import ClusteredIndex, Neighbours
from neardup.index.columns import Columns, hash_width
from neardup.index.neighbours import CandidateSearch
from neardup.method_scores import HASH_METHODS
from neardup.records import Features, FileRef

I64 = npt.NDArray[np.int64]
SELECT = "SELECT id, path, size, mtime_ns, meta, data FROM images"
DECODE_BATCH = 2048


def _decode(row: tuple[Any, ...]) -> Features:
    _, key, size, mtime, meta, data = row
    facts = json.loads(meta)
    frame = facts.get("frame")  # a video frame's row is keyed path#frame
    path = key if frame is None else key.removesuffix(f"#{frame}")
    ref = FileRef(path, size, mtime, frame=frame, time=facts.get("time"))
    return decode_features(ref, facts, data)


Vectors = Callable[[], npt.NDArray[np.float32]]
"""The index's vector column (row id -> embedding), read when asked."""


class StoredImages(Sequence[Features]):
    """The stored images in row id order; each decoded from SQLite on first use, then kept
    (callers may set a pixel hash or a promoted path on it, as on a list element)."""

    def __init__(
        self, db: sqlite3.Connection, ids: I64, vectors: Vectors | None = None, model: str = ""
    ) -> None:
        self.db = db
        self.ids = ids
        self._decoded: dict[int, Features] = {}
        self._vectors = vectors
        self._model = model
        """Rows keep no copy of the embedding the vector column holds (format 3): it is a
        view of that column, read where decoded."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (joblib, multiprocessing) as a plain list: every row decoded, no database."""
        return (list, (list(self),))

    def _row(self, row: tuple[Any, ...]) -> Features:
        found = _decode(row)
        if self._model and self._vectors is not None and self._model not in found.embeddings:
            found.embeddings[self._model] = self._vectors()[int(row[0])]
        return found

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def decoded(self) -> int:
        """How many images have been read so far (opening reads none)."""
        return len(self._decoded)

    @overload
    def __getitem__(self, position: int) -> Features: ...

    @overload
    def __getitem__(self, position: slice) -> list[Features]: ...

    def __getitem__(self, position: int | slice) -> Features | list[Features]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        row_id = int(self.ids[position])
        found = self._decoded.get(row_id)
        if found is None:
            row = self.db.execute(SELECT + " WHERE id=?", (row_id,)).fetchone()
            found = self._decoded[row_id] = self._row(row)
        return found

    def __iter__(self) -> Iterator[Features]:
        """Every image in order: the missing ones read in batches of consecutive rows."""
        for start in range(0, len(self.ids), DECODE_BATCH):
            block = self.ids[start : start + DECODE_BATCH].tolist()
            missing = [i for i in block if i not in self._decoded]
            if missing:
                rows = self.db.execute(
                    SELECT + " WHERE id BETWEEN ? AND ?", (missing[0], missing[-1])
                )
                wanted = set(missing)
                for row in rows:
                    if row[0] in wanted:
                        self._decoded[row[0]] = self._row(row)
            for row_id in block:
                yield self._decoded[row_id]

    def keep(self, decoded: StoredImages | Mapping[int, Features]) -> None:
        """Take over images already decoded (or made) for these rows."""
        self._decoded.update(decoded._decoded if isinstance(decoded, StoredImages) else decoded)

    def forget(self, row_ids: Sequence[int]) -> None:
        for row_id in row_ids:
            self._decoded.pop(row_id, None)


class Positions(Mapping[int, int]):
    """Row id -> position among the stored images: a binary search in the sorted ids."""

    def __init__(self, ids: I64) -> None:
        self.ids = ids

    def __getitem__(self, row_id: int) -> int:
        at = int(np.searchsorted(self.ids, row_id))
        if at >= len(self.ids) or self.ids[at] != row_id:
            raise KeyError(row_id)
        return at

    def __contains__(self, row_id: object) -> bool:
        return isinstance(row_id, int | np.integer) and self.get(int(row_id)) is not None

    def many(self, row_ids: I64) -> I64:
        """Positions of many row ids at once, -1 for ids not stored."""
        at = np.searchsorted(self.ids, row_ids)
        inside = at < len(self.ids)
        found = np.zeros(len(row_ids), dtype=bool)
        found[inside] = self.ids[at[inside]] == row_ids[inside]
        return np.where(found, at, -1).astype(np.int64)

    def contains_many(self, row_ids: I64) -> npt.NDArray[np.bool_]:
        """Which of `row_ids` are stored."""
        found: npt.NDArray[np.bool_] = self.many(row_ids) >= 0
        return found

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids.tolist())

    def __len__(self) -> int:
        return len(self.ids)


class StoredPaths(Mapping[str, int]):
    """Path -> row id of every stored image, asked of SQLite (the path column is unique)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __getitem__(self, path: str) -> int:
        row = self.db.execute("SELECT id FROM images WHERE path=?", (path,)).fetchone()
        if row is None:
            raise KeyError(path)
        return int(row[0])

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def many(self, paths: Sequence[str]) -> dict[str, int]:
        """Path -> row id of those of `paths` that are stored, a few hundred per query."""
        wanted = sorted(set(paths))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            query = f"SELECT path, id FROM images WHERE path IN ({marks})"
            found.update(self.db.execute(query, part).fetchall())
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([row[0] for row in self.db.execute("SELECT path FROM images ORDER BY id")])

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM images").fetchone()[0])


class StoredIdentity:
    """(identity feature, value) -> the first stored row with it: bytes, pixel and JPEG-data
    hashes are indexed columns. `setdefault` (a batch matched before it is stored) is kept in
    memory on top."""

    KEYS = ("bytes_hash", "pixel_hash", "jpeg_hash")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.extra: dict[tuple[str, str], int] = {}

    def get(self, key: tuple[str, str], default: int | None = None) -> int | None:
        column, value = key
        if column not in self.KEYS:
            return default
        row = self.db.execute(
            f"SELECT MIN(id) FROM images WHERE {column}=?",  # a fixed column name, never input
            (value,),
        ).fetchone()
        if row is not None and row[0] is not None:
            return int(row[0])
        return self.extra.get(key, default)

    def first_ids(self, column: str, values: Sequence[str | None]) -> list[int | None]:
        """`get((column, v))` for many values, a few hundred per query."""
        if column not in self.KEYS:
            return [None] * len(values)
        wanted = sorted({v for v in values if v is not None})
        first: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            first.update(
                self.db.execute(
                    # A fixed column name (checked above), never input.
                    f"SELECT {column}, MIN(id) FROM images WHERE {column} IN ({marks}) "
                    f"GROUP BY {column}",
                    part,
                ).fetchall()
            )
        return [
            None if v is None else first[v] if v in first else self.extra.get((column, v))
            for v in values
        ]

    def setdefault(self, key: tuple[str, str], row_id: int) -> int:
        found = self.get(key)
        if found is None:
            self.extra[key] = row_id
            return row_id
        return found


class ProbedVectors:
    """`IVFIndex.search` over the memory-mapped vectors: each query's `nprobe` nearest
    clusters' live members, compared exactly. For a few queries; many use the built IVF."""

    def __init__(
        self,
        centroids: npt.NDArray[np.float32],
        nprobe: int,
        vectors: npt.NDArray[np.float32],
        clusters: npt.NDArray[np.int32],
        alive: npt.NDArray[np.bool_],
    ) -> None:
        self.centroids = centroids
        self.nprobe = min(nprobe, len(centroids))
        self.vectors = vectors
        self.clusters = np.where(alive, clusters, -1)
        self._len = int(alive.sum())

    @classmethod
    def of(
        cls, centroids: npt.NDArray[np.float32], nprobe: int, columns: Columns, ids: I64
    ) -> ProbedVectors:
        """The stored images `ids` of an index's columns."""
        alive = np.zeros(columns.count, dtype=bool)
        alive[ids] = True
        return cls(centroids, nprobe, columns.vectors(), columns.clusters(), alive)

    def __len__(self) -> int:
        return self._len

    def search(self, queries: npt.NDArray[np.float32], k: int) -> Neighbours:
        sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        for n, query in enumerate(np.asarray(queries, dtype=np.float32)):
            if len(self.centroids) == 1:
                members = np.flatnonzero(self.clusters >= 0)
            else:
                near = np.argsort(-(self.centroids @ query), kind="stable")[: self.nprobe]
                probed = self.clusters == near[0]
                for cluster in near[1:]:  # a few passes: cheaper than isin's sort
                    probed |= self.clusters == cluster
                members = np.flatnonzero(probed)
            if not members.size:
                continue
            scores = self.vectors[members] @ query
            take = min(k, members.size)
            top = np.argsort(-scores, kind="stable")[:take]
            sims[n, :take] = scores[top]
            found[n, :take] = members[top]
        return sims, found


def hash_codes(
    images: Sequence[Features], methods: Sequence[str]
) -> dict[str, tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]]:
    """The hash each searched method indexes, per image (PDQ: the displayed view), and which
    images have one: the rows `Columns.append` stores."""
    out = {}
    for method in methods:
        if method != "pdq" and method not in HASH_METHODS:
            continue
        width = hash_width(method)
        codes = np.zeros((len(images), width), dtype=np.uint8)
        present = np.zeros(len(images), dtype=bool)
        for n, f in enumerate(images):
            code = (f.pdq[0] if f.pdq is not None else None) if method == "pdq" else None
            if method != "pdq":
                code = f.hashes.get(method)
            if code is not None:
                codes[n], present[n] = code.reshape(-1), True
        out[method] = (codes, present)
    return out


def load_codes(search: CandidateSearch, columns: Columns, ids: I64) -> None:
    """Put the stored hashes of the slots `ids` into the candidate search."""
    for hashes in search.hashes:
        codes, present = columns.codes(hashes.method)
        if not len(codes):
            continue
        mine = ids[present[ids]]
        if len(mine) == len(codes):  # every slot stored and hashed: no gather needed
            hashes.add_codes(np.ascontiguousarray(codes), mine)
        else:
            hashes.add_codes(np.ascontiguousarray(codes[mine]), mine)


def fill(index: ClusteredIndex, columns: Columns, ids: I64, block: int = 65_536) -> None:
    """Add the stored vectors of slots `ids` to a vector index, each in its stored cluster
    (no coarse search), a block at a time (so only one block is in memory twice)."""
    clusters = columns.clusters()[ids]
    stored = not len(clusters) or 0 <= clusters.min() <= clusters.max() < index.nlist
    for start in range(0, len(ids), block):
        part = ids[start : start + block]
        where = clusters[start : start + block] if stored else None
        index.add(columns.gather(part), part, clusters=where)


class Followed(Sequence[Features]):
    """The stored images followed by a few more (the exact copies `duplicates` adds back):
    a sequence over both that copies neither, so the stored ones stay decoded only where
    read."""

    def __init__(self, head: Sequence[Features], tail: list[Features]) -> None:
        self.head = head
        self.tail = tail

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as a plain list, as `StoredImages` is."""
        return (list, (list(self),))

    def __len__(self) -> int:
        return len(self.head) + len(self.tail)

    @overload
    def __getitem__(self, position: int) -> Features: ...

    @overload
    def __getitem__(self, position: slice) -> list[Features]: ...

    def __getitem__(self, position: int | slice) -> Features | list[Features]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        if position < len(self.head):
            return self.head[position]
        return self.tail[position - len(self.head)]
