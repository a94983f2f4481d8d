"""Adding images: paths become features, each is classified (already indexed or new) and
matched against the index, then stored (`build`, `add`) or not (`query`). The report says
what each image is a duplicate of."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, Self

from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.engines.base import Engine
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE
from neardup.index.matching import classify, match
from neardup.index.report import IndexReport
from neardup.index.storage import (
    IndexError_,
    Settings,
    build_unfinished,
    mark_built,
    read_meta,
    write_lock,
)
from neardup.index.storing import StoringIndex
from neardup.pipeline import compute_features, feature_config, local_engine, parse_methods
from neardup.records import Features
from neardup.sources import Paths, collect_sources, one_or_many
from neardup.sources.remote import is_url
from neardup.store import CacheSetting


class AddingIndex(StoringIndex):
    """An open index that takes new images from paths (or from features already made)."""

    @classmethod
    def build(
        cls,
        folder: str | os.PathLike[str],
        paths: Paths,
        *,
        methods: str | Sequence[str] | None = None,
        nprobe: int = DEFAULT_NPROBE,
        cluster_size: int = CLUSTER_SIZE,
        threshold: float | None = None,
        preset: str | None = None,
        cache: Any = None,
        workers: int | None = None,
        progress: Any = None,
        engine: Engine | None = None,
        report: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> tuple[Self, IndexReport]:
        """Create an index from `paths`: features, k-means on a sample, every image stored.
        `report=False` skips matching the images against one another (the report then lists
        no duplicates: `duplicates()` finds them all, as `scan` does)."""
        from neardup.features.embed import MODELS
        from neardup.scoring import threshold_for

        if nprobe < 1 or cluster_size < 1:
            raise ValueError(f"nprobe and cluster_size must be >= 1, got {nprobe}, {cluster_size}")
        method_names = parse_methods(methods)
        models = [m for m in method_names if m in MODELS]
        settings = Settings(
            methods=method_names,
            model=models[0] if models else "",
            nprobe=nprobe,
            cluster_size=cluster_size,
            threshold=threshold_for(preset, threshold),
        )
        with write_lock(Path(folder)):
            index = cls._unfinished(folder, settings) or cls.create(folder, settings, True)
            found = index._add(
                paths,
                store=True,
                cache=cache,
                workers=workers,
                progress=progress,
                engine=engine,
                match_batch=report,
                max_pixels=max_pixels,
            )
            mark_built(index.db)
        return index, found

    @classmethod
    def _unfinished(cls, folder: str | os.PathLike[str], settings: Settings) -> Self | None:
        """The index at `folder` when a build of these settings was interrupted there, to be
        resumed (the images it holds are found already indexed, the rest added); None when
        there is no index. IndexError_ for a finished index, or an unfinished one of other
        settings (resuming it with these would mix two kinds of features)."""
        path = Path(folder)
        if not (path / "index.sqlite").exists():
            return None
        index = cls.open(path)
        if not build_unfinished(read_meta(index.db)):
            index.close()
            raise IndexError_(
                f"an index already exists at {path} (grow it with: neardup index add)"
            )
        if index.settings != settings:
            other = [
                f"{field.name} {getattr(index.settings, field.name)!r}"
                for field in fields(Settings)
                if getattr(index.settings, field.name) != getattr(settings, field.name)
            ]
            index.close()
            raise IndexError_(
                f"the unfinished build at {path} has other settings ({', '.join(other)}): "
                "build again with those to resume it, or remove the folder to start anew"
            )
        return index

    def add(self, paths: Paths, **options: Any) -> IndexReport:
        """Report each new image's duplicates in the index, then store the new images."""
        with write_lock(self.folder):
            self._reload_if_changed()
            return self._add(paths, store=True, **options)

    def query(self, paths: Paths, **options: Any) -> IndexReport:
        """Each image's duplicates in the index; nothing is stored."""
        return self._add(paths, store=False, **options)

    def _add(
        self,
        paths: Paths,
        *,
        store: bool,
        cache: Any = None,
        workers: int | None = None,
        progress: Any = None,
        verify: bool = True,
        engine: Engine | None = None,
        match_batch: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> IndexReport:
        start = time.perf_counter()
        listed = one_or_many(paths)
        if self.folder != Path(":memory:") and not self._typed_paths():
            # A stored index is used from any folder: its paths must not depend on the one
            # it was built in (a scan's in-memory index keeps them as typed, beside its cwd).
            listed = [p if is_url(p) else os.path.abspath(p) for p in listed]
        found = collect_sources(listed)
        config = feature_config(self.settings.methods, max_pixels)
        run_on = local_engine(engine, workers)
        new, skipped, _ = compute_features(found.files, config, cache, run_on, progress)
        report = self.take(
            new, store=store, engine=run_on, verify=verify, match_batch=match_batch, cache=cache
        )
        report.skipped = found.skipped + skipped
        report.seconds = time.perf_counter() - start
        return report

    def _typed_paths(self) -> bool:
        """Whether the index holds a relative path (built before paths were stored absolute):
        it then keeps taking paths as typed, or one file would be stored under two names."""
        if os.name != "posix":  # drive letters: ask the paths themselves
            return any(not is_url(p) and not os.path.isabs(p) for p in self.by_path)
        found = self.db.execute(  # one pass over the table, in SQLite, on a POSIX system
            "SELECT 1 FROM images WHERE substr(path, 1, 1) != '/' AND instr(path, '://') = 0"
            " UNION ALL SELECT 1 FROM aliases WHERE substr(path, 1, 1) != '/'"
            " AND instr(path, '://') = 0 LIMIT 1"
        ).fetchone()
        return found is not None

    def take(
        self,
        new: list[Features],
        *,
        store: bool,
        engine: Engine,
        verify: bool = True,
        match_batch: bool = True,
        cache: CacheSetting = False,
    ) -> IndexReport:
        """Classify images whose features are made (already indexed or new), match the new
        ones against the index (and one another, with `match_batch`; the pairs' findings kept
        in `cache`'s pair store), store them if asked. The caller holds the write lock when
        storing."""
        lacking = [
            f for f in new if self.settings.model and self.settings.model not in f.embeddings
        ]
        if lacking:
            raise IndexError_(f"features of {lacking[0].path} lack {self.settings.model}")
        entries, fresh, replaced = classify(self, new)
        matches = (
            match(self, fresh, engine=engine, verify=verify, cache=cache) if match_batch else {}
        )
        for entry, features in zip(entries, new, strict=True):
            if entry.status != "already indexed":
                entry.duplicates = matches.get(features.key, [])
                entry.status = "added" if store else "new"
        reason = None
        # A file recorded as an exact copy that is no longer that copy loses the record: it
        # is stored as what it is now (an image, or a copy of what it now equals).
        stale = [
            f.key
            for e, f in zip(entries, new, strict=True)
            if f.key in self.aliases and not self._recorded_copy(f, e.same_as)
        ]
        copies = {
            f.key: e.same_as
            for e, f in zip(entries, new, strict=True)
            if e.same_as is not None
            and e.same_as != f.key
            and (f.key not in self.aliases or f.key in stale)
        }
        sizes = {f.key: (f.size, f.mtime_ns) for f in new}
        if store and (fresh or copies or stale or replaced):
            self._store(
                fresh, replaced, {p: (same, *sizes[p]) for p, same in copies.items()}, stale
            )
            reason = self._maybe_rebalance()
        if store:  # after `_store`, which forgets the features of the stale copies
            self.copies.update((f.key, f) for f in new if f.key in copies)
        return IndexReport(entries, [], 0.0, reason is not None, reason)

    def _recorded_copy(self, features: Features, same_as: str | None) -> bool:
        """Whether the index records this file as it is now: an exact copy of the stored
        image `same_as`, with the file's size and time. A copy edited in place (or made a
        copy of another image) fails it, and is recorded afresh rather than kept as
        identical to what it no longer is."""
        if same_as is None or same_as == features.key:
            return False
        recorded = self.alias_files.get(features.key)
        return self.aliases.get(features.key) == self.by_path.get(same_as) and recorded == (
            features.size,
            features.mtime_ns,
        )
