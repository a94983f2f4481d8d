"""The per-file stage: read each file once, decode it once, compute every requested feature.

`extract_batch` is a pure batch function (files in, features or skips out), so the local
engine runs it in worker processes and a distributed engine can map the very same function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from neardup.decode import Decoded, DecodeSpec, RGBArray, decode
from neardup.features.embed import embed
from neardup.features.exact import bytes_hash, jpeg_hash, thumb
from neardup.features.hashes import hamming, hash_similarity, imagehashes, pdq_dihedral
from neardup.features.inset import find_picture
from neardup.features.page import page_facts
from neardup.features.thumbnail import small_grey
from neardup.pixel_modes import BLACK
from neardup.records import Features, FileRef, Skipped
from neardup.sources.remote import read_bytes
from neardup.sources.video import Sampling

FEATURES_VERSION = 15
"""Bumped whenever a change would make cached features differ from freshly computed ones."""


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Which features to compute, and how to decode for them."""

    pdq: bool = True
    imagehashes: tuple[str, ...] = ()
    models: tuple[str, ...] = ("sscd_distilled",)
    flip_views: tuple[str, ...] = ()
    """Models whose embedding is also taken of the mirrored picture."""
    inset_views: tuple[str, ...] = ()
    """Models whose embedding is also taken of the picture inside a frame, where there is one
    (`neardup.features.inset`)."""
    dark_views: tuple[str, ...] = ()
    """Models whose embedding is also taken of a picture with see-through parts shown over
    black (`Features.embeddings_dark`)."""
    decode: DecodeSpec = field(default_factory=DecodeSpec)
    threads: int = 1
    """onnxruntime threads per worker process."""
    video: Sampling = field(default_factory=Sampling)
    """Which frames of a video become items (`neardup.sources.video`)."""

    def names(self) -> set[str]:
        """Feature names this config produces (what a cached record must hold). The decode
        side is one: features made from another size differ (a PDQ hash from a 224-px
        decode is not the one a hash-only pass makes), so a record made at another is
        recomputed, and a scan gives what it would with no cache."""
        out = {"exact", "page", f"side:{self.decode.min_side}"}
        if self.pdq:
            out.add("pdq")
        out.update(self.imagehashes)
        out.update(f"emb:{m}" for m in self.models)
        out.update(f"flip:{m}" for m in self.flip_views)
        return out


def extract_batch(files: list[FileRef], config: FeatureConfig) -> list[Features | Skipped]:
    """Features for each file, in order; a file that cannot be used becomes a `Skipped`."""
    results: list[Features | Skipped] = []
    pictures = []
    turned = []
    dark = []
    for ref in files:
        item = _extract_one(ref, config)
        if isinstance(item, Skipped):
            results.append(item)
        else:
            features, decoded, data = item
            results.append(features)
            pictures.append((features, decoded.rgb))
            if decoded.unturned is not None:
                turned.append((features, decoded.unturned))
            if decoded.transparent and config.dark_views:
                spec = replace(config.decode, background=BLACK)
                over_black = decode(data, ref.path, spec, hash_pixels=False)
                if isinstance(over_black, Decoded):
                    dark.append((features, over_black.rgb))
    embed_pictures(pictures, config)
    measure_turned_back(turned, config)
    for model in config.dark_views:
        vectors = embed(model, [rgb for _, rgb in dark], threads=config.threads)
        for (features, _), vector in zip(dark, vectors, strict=True):
            features.embeddings_dark[model] = vector
    return results


def measure_turned_back(turned: list[tuple[Features, RGBArray]], config: FeatureConfig) -> None:
    """`Features.turned_back` of pictures turned back: their cosine with the canvas as it is,
    with the first model (the one `similarity` reads), else PDQ's agreement."""
    if not turned:
        return
    if config.models:
        model = config.models[0]
        vectors = embed(model, [rgb for _, rgb in turned], threads=config.threads)
        for (features, _), vector in zip(turned, vectors, strict=True):
            cosine = float(np.dot(vector, features.embeddings[model]))
            features.turned_back = round(min(1.0, max(0.0, cosine)), 4)
    elif config.pdq:
        for features, rgb in turned:
            if features.pdq is None:
                continue
            hashes, _ = pdq_dihedral(rgb)
            distance = hamming(hashes[0], features.pdq[0])
            features.turned_back = round(float(hash_similarity(distance, 256)), 4)


def embed_pictures(pictures: list[tuple[Features, RGBArray]], config: FeatureConfig) -> None:
    """Add the configured models' embeddings to each picture's features, in batches."""
    for model in config.models:
        vectors = embed(model, [rgb for _, rgb in pictures], threads=config.threads)
        for (features, _), vector in zip(pictures, vectors, strict=True):
            features.embeddings[model] = vector
    for model in config.flip_views:
        vectors = embed(model, [rgb[:, ::-1] for _, rgb in pictures], threads=config.threads)
        for (features, _), vector in zip(pictures, vectors, strict=True):
            features.embeddings_flip[model] = vector
    if not config.inset_views:
        return
    insets = []
    for features, rgb in pictures:
        box = find_picture(rgb)
        if box is not None:
            left, top, right, bottom = box
            insets.append((features, rgb[top:bottom, left:right]))
    for model in config.inset_views:
        vectors = embed(model, [rgb for _, rgb in insets], threads=config.threads)
        for (features, _), vector in zip(insets, vectors, strict=True):
            features.embeddings_inset[model] = vector


def _extract_one(ref: FileRef, config: FeatureConfig) -> Skipped | tuple[Features, Decoded, bytes]:
    try:
        data = read_bytes(ref.path)  # a file, or a URL through fsspec
    except OSError as error:
        reason = error.strerror.lower() if error.strerror else str(error)
        return Skipped(ref.path, f"unreadable file: {reason}")
    decoded = decode(data, ref.path, config.decode)
    if isinstance(decoded, Skipped):
        return decoded
    jpeg = jpeg_hash(data, decoded.orientation) if decoded.format == "JPEG" else None
    features = features_of(ref, decoded, config, len(data), bytes_hash(data), jpeg)
    return features, decoded, data


def features_of(
    ref: FileRef,
    decoded: Decoded,
    config: FeatureConfig,
    size: int,
    content_hash: str,
    jpeg: str | None = None,
) -> Features:
    """The per-picture features (all but the embeddings, made in batches) of one decode."""
    picture = decoded.picture if decoded.picture is not None else decoded.rgb
    features = Features(
        path=ref.path,
        size=size,
        mtime_ns=ref.mtime_ns,
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        bytes_hash=content_hash,
        pixel_hash=decoded.pixel_hash,
        trimmed=decoded.trimmed,
        thumb=thumb(picture),
        small=small_grey(picture),
        page=page_facts(picture),
        jpeg_hash=jpeg,
        transparent=decoded.transparent,
        frame=ref.frame,
        time=ref.time,
    )
    if config.pdq:
        features.pdq, features.pdq_quality = pdq_dihedral(picture)
    if config.imagehashes:
        features.hashes = imagehashes(decoded.rgb, list(config.imagehashes))
    return features
