"""`neardup compare` with a video on either side: which frames are the pair to compare.

A video gives one item per sampled frame, so `compare photo.jpg clip.mp4` asks which frame of
the clip is most like the photo (is it a still of that video?), and `compare a.mp4 b.mp4`
which two frames are most alike. The pair is the one with the highest SSCD cosine, found by a
nearest-neighbour search of one side's frames among the other's (memory grows with the number
of frames, never with their product); it is then scored like any pair.
"""

from __future__ import annotations

import numpy as np

from neardup.records import Features

PICK_MODEL = "sscd_distilled"


def pick_pair(side_a: list[Features], side_b: list[Features]) -> tuple[Features, Features] | None:
    """The most alike item of `side_a` and item of `side_b` (the only ones, for two stills)."""
    if not side_a or not side_b:
        return None
    if len(side_a) == 1 and len(side_b) == 1:
        return side_a[0], side_b[0]
    import faiss

    if not all(PICK_MODEL in f.embeddings for f in (*side_a, *side_b)):
        return side_a[0], side_b[0]
    base = np.stack([f.embeddings[PICK_MODEL] for f in side_b]).astype(np.float32)
    queries = np.stack([f.embeddings[PICK_MODEL] for f in side_a]).astype(np.float32)
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base))
    scores, found = index.search(np.ascontiguousarray(queries), 1)
    best = int(np.argmax(scores[:, 0]))
    return side_a[best], side_b[int(found[best, 0])]
