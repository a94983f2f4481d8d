"""How much of a picture is paper and how much is strokes, at the working size.

A page of text (a document, a form, a screenshot, a chart) is mostly one background level with
many sharp steps across it (letters, rules); a photograph has neither. The two shares say
which pictures the fine comparison of their words (`neardup.detail_check`) is worth its decode
on, read from the picture the features are made of, at no cost worth naming.
"""

from __future__ import annotations

import numpy as np

from neardup.features.hashes import Picture, pillow

PAPER_LEVELS = 8
"""Grey levels either side of the most common one that count as the same background."""
STROKE_STEP = 48
"""Grey-level step between horizontal neighbours that counts as a stroke's edge."""
MOSTLY_PAPER = 0.6
"""Paper share from which a picture is mostly paper, whether or not it has the strokes to read
as a page of text: a form or a sheet of thin print (its words too small at the working size),
a blank page with one field. The overlay stage (`neardup.overlay_check`; chosen among 0.5-0.7,
R75), the grouping's joins (`neardup.group_joins`) and its stars (`neardup.group_stars`: such
an image told apart from as many images of a star as it matches stays out) read it, through
`mostly_paper`."""


def mostly_paper(page: tuple[float, float] | None) -> bool:
    """Whether a picture's page facts (`page_facts`; None where not measured) say it is mostly
    paper (`MOSTLY_PAPER`)."""
    return page is not None and page[0] >= MOSTLY_PAPER


def page_facts(picture: Picture) -> tuple[float, float]:
    """(paper, strokes): the share of the picture within `PAPER_LEVELS` of its most common grey
    level, and the share of horizontal neighbours that step by `STROKE_STEP` or more."""
    grey = np.asarray(pillow(picture).convert("L"), dtype=np.int16)
    counts = np.bincount(grey.ravel(), minlength=256)
    mode = int(counts.argmax())
    paper = float(counts[max(0, mode - PAPER_LEVELS) : mode + PAPER_LEVELS + 1].sum()) / grey.size
    steps = np.abs(np.diff(grey, axis=1)) >= STROKE_STEP if grey.shape[1] > 1 else np.zeros(1)
    return round(paper, 4), round(float(steps.mean()), 4)
