"""The `--differences` option shared by `scan` and `index duplicates`: which pairs get what
differs measured (`neardup.differences`)."""

from __future__ import annotations

import argparse

CHOICES = ("auto", "groups", "all", "none")


def add_differences_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--differences",
        choices=list(CHOICES),
        default="auto",
        help="measure what differs on the pair that puts each group member in its group, on "
        "every reported pair, or on none; auto (default): groups, or none when the methods "
        "are hashes alone (the fast pass, e.g. --method pdq)",
    )


def differences_setting(args: argparse.Namespace) -> bool | str:
    """What `--differences` (and scan's `--no-differences`) ask for: "auto", "groups",
    "all", or False for none."""
    if getattr(args, "no_differences", False) or args.differences == "none":
        return False
    return str(args.differences)
