"""Argument types the commands share: a value argparse refuses with a clear message (exit 2)
rather than one a run would misread."""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    """A count of at least 1 (a pixel limit of 0 would refuse every picture)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} refuses every picture; give at least 1")
    return value


def confidence(text: str) -> float:
    """A confidence in [0, 1] (NaN is none: it would be written into the JSON as NaN)."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a confidence in [0, 1]")
    return value
