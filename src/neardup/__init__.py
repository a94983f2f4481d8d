"""neardup: find exact and near-duplicate images and say how similar each pair is."""

__version__ = "0.1.0"

from neardup.api import Comparison, compare, scan
from neardup.index.catalog import ImageIndex
from neardup.index.report import IndexReport
from neardup.records import Features, Group, Pair, ScanResult, Skipped, Stats

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
