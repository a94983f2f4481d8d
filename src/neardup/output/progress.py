"""The progress bar on stderr (tqdm): one per stage of a scan, so a long run shows where it is."""

from __future__ import annotations

import sys


class ProgressBar:
    """A tqdm progress bar on stderr, one per stage (features, then the pairs' scoring, check
    and differences), made on its first call (so nothing shows for cache hits)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: object | None = None
        self.stage = ""

    def __call__(self, done: int, total: int, stage: str = "features") -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if self.bar is None or stage != self.stage:
            self.close()
            unit = "img" if stage == "features" else "pair"
            self.bar = tqdm(total=total, unit=unit, desc=stage, file=sys.stderr, dynamic_ncols=True)
            self.stage = stage
        bar = self.bar
        assert isinstance(bar, tqdm)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]
            self.bar = None
