"""Where `method_scores` reads the cosines of pairs shown over their copy's colour: the stack
names `neardup.see_through` fills, and the lookup of a block of pairs among them."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

SHOWN = "shown:"
"""Stack name prefix (+ method) of the cosines of pairs whose see-through picture is shown over
the colour its copy was flattened onto (`neardup.see_through`), one per pair of `SHOWN_PAIRS`."""
SHOWN_PAIRS = "shown:pairs"
"""Those pairs' codes (a * images + b, a < b), sorted."""


def shown_cosines(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    n: int,
    codes: npt.NDArray[np.int64],
    cosines: npt.NDArray[Any],
) -> npt.NDArray[np.float64]:
    """The cosine of each pair (a, b) of `n` images shown over its copy's colour (`codes`, the
    `SHOWN_PAIRS` stack, and `cosines`, the method's); -1 for the pairs not so shown."""
    if not len(codes):
        return np.full(len(a), -1.0)
    wanted = np.minimum(a, b) * n + np.maximum(a, b)
    at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
    return np.where(codes[at] == wanted, cosines[at], -1.0)
