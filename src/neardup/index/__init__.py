"""Nearest-neighbour search: the interface, an exact flat index, a Hamming index."""

from neardup.index.base import VectorIndex, neighbour_pairs
from neardup.index.exact import FlatIndex, HammingIndex

__all__ = ["FlatIndex", "HammingIndex", "VectorIndex", "neighbour_pairs"]
