"""`neardup compare A B --json`: one pair as JSON (documented in docs/schema.md)."""

from __future__ import annotations

import json

from neardup.api import Comparison
from neardup.output.differences import to_dict as differences_dict


def dumps(result: Comparison) -> str:
    """The comparison as an indented JSON document."""
    return json.dumps(
        {
            "a": result.a,
            "a_frame": result.a_frame[0],
            "a_time": result.a_frame[1],
            "b": result.b,
            "b_frame": result.b_frame[0],
            "b_time": result.b_frame[1],
            "similarity": result.similarity,
            "confidence": result.confidence,
            "evidence": result.evidence,
            "scores": {k: round(v, 4) for k, v in result.scores.items()},
            "verdicts": result.verdicts,
            "same_file": result.same_file,
            "differences": None
            if result.differences is None
            else differences_dict(result.differences),
            "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        },
        indent=2,
    )
