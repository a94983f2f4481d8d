"""neardup: find exact and near-duplicate images and say how similar each pair is."""

from neardup.api import Comparison, compare, scan
from neardup.index.catalog import ImageIndex
from neardup.index.report import IndexReport
from neardup.records import Features, Group, Pair, ScanResult, Skipped, Stats
from neardup.version import __version__

__all__ = [
    "Comparison",
    "Features",
    "Group",
    "ImageIndex",
    "IndexReport",
    "Pair",
    "ScanResult",
    "Skipped",
    "Stats",
    "__version__",
    "compare",
    "scan",
]
