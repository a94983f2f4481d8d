"""Per-image arrays kept beside `index.sqlite`, so opening an index reads no image row.

One row ("slot") per stored image, the slot number being the image's row id in SQLite:
- `vectors.f32`: the model embedding, float32, memory-mapped (read only where searched);
- `codes.<method>.u8`: one presence byte, then the hash the method searches (PDQ: the
  image's own view, 32 bytes; the imagehash family: 8 bytes);
- `clusters.<n>.i32`: each slot's IVF cluster; a rebalance writes a new file and names it in
  the meta table, so the old assignment stays whole until the new one is committed.
Only the first `slots` rows (a meta value committed with the rows themselves) count. A write
appends past them, fsyncs, then commits the new count in the same SQLite transaction as the
rows: a kill before the commit leaves a tail no reader looks at, cut off by the next writer.
Removed slots are listed in the `removed` table (same transaction as the row deletion).
In-memory indexes (`scan`) keep the same arrays in memory.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup import methods
from neardup.index.files import fsync_dir

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]


HASH_NAMES = methods.IMAGEHASHES
"""The imagehash family (64-bit hashes)."""


def hash_width(method: str) -> int:
    """Bytes of the hash a method searches: 256-bit PDQ, 64-bit imagehashes."""
    return methods.HASH_BITS[method] // 8


class Columns:
    """The slot arrays of one index: file-backed (`folder`) or in memory (`folder=None`)."""

    def __init__(
        self,
        folder: Path | None,
        methods: tuple[str, ...],
        *,
        count: int = 0,
        dim: int = 0,
        clusters_name: str = "clusters.0.i32",
    ) -> None:
        self.folder = folder
        self.methods = methods
        self.count = count
        """Committed slots."""
        self.dim = dim
        self.clusters_name = clusters_name
        self._pending = count
        self._memory: dict[str, npt.NDArray[np.generic]] = {}
        self._cache: dict[str, tuple[int, npt.NDArray[np.generic]]] = {}

    @classmethod
    def open(cls, folder: Path, meta: dict[str, str], methods: tuple[str, ...]) -> Columns:
        """The columns of the index in `folder`, as far as its meta table commits them."""
        return cls(
            folder,
            methods,
            count=int(meta.get("slots", "0")),
            dim=int(meta.get("vector_dim", "0")),
            clusters_name=meta.get("clusters_file", "clusters.0.i32"),
        )

    def _path(self, name: str) -> Path:
        assert self.folder is not None
        return self.folder / name

    def _read(self, name: str, dtype: type, width: int) -> npt.NDArray[np.generic]:
        """The first `count` rows of one column (memory-mapped vectors, other columns read)."""
        cached = self._cache.get(name)
        if cached is not None and cached[0] == self.count:
            return cached[1]
        if self.folder is None:
            whole = self._memory.get(name, np.empty((0, width), dtype=dtype))
            array = whole[: self.count]
        elif self.count == 0 or not self._path(name).exists():
            array = np.empty((0, width), dtype=dtype)
        elif name == "vectors.f32":
            array = np.memmap(self._path(name), dtype=dtype, mode="r", shape=(self.count, width))
        else:
            array = np.fromfile(self._path(name), dtype=dtype, count=self.count * width)
            array = array.reshape(self.count, width)
        self._cache[name] = (self.count, array)
        return array

    def vectors(self) -> F32:
        """count x dim embeddings (a read-only memory map for an index on disk)."""
        return self._read("vectors.f32", np.float32, self.dim)  # type: ignore[return-value]

    def gather(self, slots: npt.NDArray[np.int64], block: int = 65_536) -> F32:
        """A copy of the vectors of `slots` (ascending), read block by block rather than
        through the memory map, so a full pass leaves no 4 KiB page of it resident."""
        out = np.empty((len(slots), self.dim), dtype=np.float32)
        if self.folder is None or not len(slots):
            out[:] = self.vectors()[slots]
            return out
        row = 4 * self.dim
        with open(self._path("vectors.f32"), "rb") as handle:
            for start in range(0, len(slots), block):
                part = slots[start : start + block]
                low, high = int(part[0]), int(part[-1]) + 1
                data = os.pread(handle.fileno(), (high - low) * row, low * row)
                rows = np.frombuffer(data, dtype="<f4").reshape(high - low, self.dim)
                out[start : start + len(part)] = rows[part - low]
        return out

    def clusters(self) -> I32:
        """Each committed slot's cluster (removed slots included: callers select theirs)."""
        return self._read(self.clusters_name, np.int32, 1).reshape(-1)  # type: ignore[return-value]

    def codes(self, method: str) -> tuple[U8, npt.NDArray[np.bool_]]:
        """count x width hashes of `method`, and which slots have one."""
        rows = self._read(f"codes.{method}.u8", np.uint8, 1 + hash_width(method))
        return rows[:, 1:], rows[:, 0].astype(bool)  # type: ignore[return-value]

    def append(
        self,
        vectors: F32 | None,
        codes: dict[str, tuple[U8, npt.NDArray[np.bool_]]],
        clusters: npt.NDArray[np.integer],
    ) -> None:
        """Write slots count.. past the committed ones and make them durable; they count only
        once `record` has committed them."""
        n = len(clusters)
        columns: dict[str, npt.NDArray[np.generic]] = {
            self.clusters_name: clusters.astype("<i4").reshape(-1, 1)
        }
        if vectors is not None:
            self.dim = int(vectors.shape[1])
            columns["vectors.f32"] = np.ascontiguousarray(vectors, dtype="<f4")
        for method, (code, present) in codes.items():
            row = np.zeros((n, 1 + hash_width(method)), dtype=np.uint8)
            row[:, 0] = present
            row[:, 1:] = code
            columns[f"codes.{method}.u8"] = row
        for name, rows in columns.items():
            self._write(name, self.count, rows)
        if self.folder is not None:
            fsync_dir(self.folder)
        self._pending = self.count + n

    def _write(self, name: str, start: int, rows: npt.NDArray[np.generic]) -> None:
        if self.folder is None:
            whole = self._memory.get(name)
            head = rows[:0] if whole is None else whole[:start]
            self._memory[name] = np.concatenate([head, rows])
            return
        width = rows.shape[1] * rows.dtype.itemsize
        with open(self._path(name), "ab+") as handle:
            handle.truncate(start * width)  # a crashed writer's uncommitted tail
            handle.seek(start * width)
            handle.write(rows.tobytes())
            handle.flush()
            os.fsync(handle.fileno())

    def rewrite_clusters(self, clusters: npt.NDArray[np.integer]) -> str:
        """A new clusters file for every committed slot (made durable); returns its name, to
        be committed with `record`. The old file stays until that commit."""
        number = int(self.clusters_name.split(".")[1]) + 1
        name = f"clusters.{number}.i32"
        self._write(name, 0, clusters.astype("<i4").reshape(-1, 1))
        if self.folder is not None:
            fsync_dir(self.folder)
        return name

    def record(self, db: sqlite3.Connection, clusters_name: str | None = None) -> None:
        """Inside the batch's transaction: commit the appended slots (and a new clusters file)."""
        rows = [("slots", str(self._pending)), ("vector_dim", str(self.dim))]
        if clusters_name is not None:
            rows.append(("clusters_file", clusters_name))
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows)

    def committed(self, clusters_name: str | None = None) -> None:
        """After the commit: the appended slots (and a new clusters file) count."""
        self.count = self._pending
        if clusters_name is not None and clusters_name != self.clusters_name:
            old, self.clusters_name = self.clusters_name, clusters_name
            if self.folder is None:
                self._memory.pop(old, None)
                return
            # The file just replaced stays one generation: a reader that read the meta
            # before this commit may still be about to read it.
            number = int(clusters_name.split(".")[1])
            for path in self.folder.glob("clusters.*.i32"):
                if int(path.name.split(".")[1]) < number - 1:
                    path.unlink(missing_ok=True)

    def copy_to(self, target: Path, count: int, clusters_name: str | None) -> None:
        """Write the first `count` slots of every column into `target` (a snapshot)."""
        clusters_name = clusters_name or "clusters.0.i32"
        if self.folder is None:
            names = list(self._memory)
        else:
            names = [path.name for path in self.folder.iterdir()]
        for name in names:
            kind = name.split(".")[0]
            if kind not in ("vectors", "codes", "clusters") or name.endswith(".tmp"):
                continue
            if kind == "clusters" and name != clusters_name:
                continue
            size = count * self._row_bytes(name)
            if self.folder is None:
                data = self._memory[name].tobytes()[:size]
            else:
                with open(self._path(name), "rb") as source:
                    data = source.read(size)
            with open(target / name, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())

    def problems(self) -> list[str]:
        """Column files holding fewer rows than the committed count, as sentences."""
        return [f"{name} {detail}" for name, detail in self.damaged()]

    def damaged(self) -> list[tuple[str, str]]:
        """(file name, what is wrong) for each column file holding fewer rows than the
        committed count (damaged: the write protocol never commits rows it has not made
        durable). A stat per file: cheap enough to run at every open."""
        if self.folder is None or not self.count:
            return []
        wanted = ["vectors.f32", self.clusters_name] if self.dim else []
        wanted += [f"codes.{m}.u8" for m in self.methods if m == "pdq" or m in HASH_NAMES]
        out = []
        for name in wanted:
            path = self._path(name)
            size = path.stat().st_size if path.exists() else 0
            if size < self.count * self._row_bytes(name):
                out.append((name, f"holds {size} bytes, fewer than {self.count} slots need"))
        return out

    def _row_bytes(self, name: str) -> int:
        if name == "vectors.f32":
            return 4 * self.dim
        if name.startswith("codes."):
            return 1 + hash_width(name.split(".")[1])
        return 4


def removed_slots(db: sqlite3.Connection, count: int) -> npt.NDArray[np.bool_]:
    """Which of the first `count` slots hold a stored image (not removed or replaced)."""
    alive = np.ones(count, dtype=bool)
    gone = [row[0] for row in db.execute("SELECT id FROM removed WHERE id < ?", (count,))]
    alive[np.array(gone, dtype=np.int64)] = False
    return alive
