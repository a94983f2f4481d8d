"""The progress bar on stderr (tqdm): one per stage of a scan, so a long run shows where it is."""

from __future__ import annotations

import os
import sys


class ProgressBar:
    """A tqdm progress bar on stderr, one per stage (features, then the pairs' scoring, check,
    dense alignment, detail comparison and differences), made on its first call (so nothing
    shows for cache hits)."""

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
            # A terminal that reports no size (a pty never sized) gets a fixed one: in 0 rows
            # tqdm draws nothing, in 0 columns blank lines.
            columns, lines = _size()
            self.bar = tqdm(
                total=total,
                unit=unit,
                desc=stage,
                file=sys.stderr,
                dynamic_ncols=columns > 0,
                ncols=None if columns > 0 else 80,
                nrows=None if lines > 0 else 24,
            )
            self.stage = stage
        bar = self.bar
        assert isinstance(bar, tqdm)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]
            self.bar = None


def _size() -> tuple[int, int]:
    """(columns, lines) of the terminal stderr writes to; 0 where it is none, or says none."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return 0, 0
    return size.columns, size.lines
