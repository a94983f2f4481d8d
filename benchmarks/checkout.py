"""The commit of this checkout, so a benchmark's table or JSON names the code it measured."""

from __future__ import annotations

import subprocess
from pathlib import Path


def commit() -> str:
    """The short commit hash of the checkout holding these scripts, or "unknown" outside a git
    checkout (an archive, or no git installed)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip() or "unknown"
