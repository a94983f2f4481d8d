"""`neardup report`: one HTML page to review a scan result (docs/report.md).

The result is embedded as JSON and the page builds the DOM of one page of groups at a time,
so it stays quick at 10,000 groups. Thumbnails (longer side `thumb_side`, JPEG) are made in
parallel on a `LocalEngine` and embedded as data URIs, or, for large results, written to a
folder beside the page. The page's HTML, CSS and JavaScript are the static files beside this
module; it loads nothing from the network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from neardup import __version__
from neardup.engines.local import map_batches
from neardup.output.report.thumbs import make_thumbs
from neardup.result_folders import recorded_folders

EMBED_UP_TO = 3000
"""--thumbs auto embeds thumbnails up to this many images, else writes the folder."""
THUMB_MODES = ("auto", "embed", "folder", "none")
SHOWN_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "AVIF"})
"""Formats a browser shows itself: the compare view loads these files at full size."""


@dataclass(frozen=True, slots=True)
class Written:
    page: Path
    groups: int
    images: int
    thumbs: int
    folder: Path | None


def _static(name: str) -> str:
    return resources.files("neardup.output.report").joinpath("static", name).read_text("utf-8")


ItemKey = tuple[str, int | None]
"""An image of the result: its path, and its frame for a video's frame."""


def _pair_key(a: ItemKey, b: ItemKey) -> tuple[ItemKey, ItemKey]:
    return (a, b) if (a[0], a[1] or 0) <= (b[0], b[1] or 0) else (b, a)


def _frame(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def report_data(doc: dict[str, Any], result: str) -> dict[str, Any]:
    """The page's data: images once each (short keys; a video's frames each one), groups as
    indices, differences."""
    images: list[dict[str, Any]] = []
    index: dict[ItemKey, int] = {}

    def image(entry: dict[str, Any]) -> int:
        key = (str(entry["path"]), _frame(entry.get("frame")))
        if key not in index:
            index[key] = len(images)
            item: dict[str, Any] = {
                "p": key[0],
                "w": entry.get("width"),
                "h": entry.get("height"),
                "b": entry.get("bytes"),
                "f": entry.get("format"),
            }
            if isinstance(entry.get("mtime_ns"), int):
                item["t"] = str(entry["mtime_ns"])  # 64-bit: kept exact as digits
            if entry.get("blake2b"):
                item["x"] = entry["blake2b"]
            if key[1] is not None:
                item["fr"] = key[1]  # a video frame: no file shows it at full size
                if isinstance(entry.get("time"), (int, float)):
                    item["tm"] = round(float(entry["time"]), 2)
            images.append(item)
        return index[key]

    differences: dict[tuple[ItemKey, ItemKey], Any] = {}
    for pair in doc.get("pairs", []):
        if isinstance(pair, dict) and pair.get("differences") is not None:
            a = (str(pair["a"]), _frame(pair.get("a_frame")))
            b = (str(pair["b"]), _frame(pair.get("b_frame")))
            differences[_pair_key(a, b)] = pair["differences"]
    groups = []
    for group in doc.get("groups", []):
        keeper = image(group["keeper"])
        keeper_key = (str(group["keeper"]["path"]), _frame(group["keeper"].get("frame")))
        members = []
        for member in group.get("members", []):
            i = image(member)
            me = (str(member["path"]), _frame(member.get("frame")))
            matched = (
                (str(member["matched"]), _frame(member.get("matched_frame")))
                if member.get("matched")
                else keeper_key
            )
            found = member.get("differences")
            if found is None:
                found = differences.get(_pair_key(me, matched))
            members.append(
                {
                    "i": i,
                    "v": index.get(matched, keeper),
                    "s": member.get("similarity", 0.0),
                    "c": member.get("confidence", 0.0),
                    "e": member.get("evidence"),
                    "d": found if isinstance(found, dict) else None,
                }
            )
        groups.append({"k": keeper, "m": members})
    settings = doc.get("settings") or {}
    return {
        "neardup": __version__,
        "result": result,
        "cwd": doc.get("cwd"),
        "folders": recorded_folders(doc),
        "stats": doc.get("stats") or {},
        "settings": {k: settings.get(k) for k in ("threshold", "preset", "methods")},
        "images": images,
        "groups": groups,
        "leakage": doc.get("leakage"),
        "skipped": [
            {"path": str(s.get("path")), "reason": str(s.get("reason"))}
            for s in doc.get("skipped") or []
            if isinstance(s, dict)
        ],
    }


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no `</script>` can close it early)."""
    return (
        json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def build_report(
    result: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    thumbs: str = "auto",
    thumb_side: int = 160,
    workers: int | None = None,
    base: str | None = None,
) -> Written:
    """Write the report page for the scan result at `result`."""
    if thumbs not in THUMB_MODES:
        raise ValueError(f"--thumbs must be one of {', '.join(THUMB_MODES)}")
    if not 16 <= thumb_side <= 512:
        raise ValueError("--thumb-size must be between 16 and 512 pixels")
    text = Path(result).read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{result} is not JSON: {error}") from error
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("neardup.scan/"):
        raise ValueError(f"{result} is not a scan result (schema neardup.scan/*)")
    data = report_data(
        doc, os.path.abspath(result)
    )  # a decisions file names it wherever it is read
    data["id"] = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    images = data["images"]
    mode = thumbs
    if mode == "auto":
        mode = "embed" if len(images) <= EMBED_UP_TO else "folder"
    page = Path(output)
    page.parent.mkdir(parents=True, exist_ok=True)
    folder = page.with_name(page.name + ".files") if mode == "folder" else None
    urls: list[str | None] = [None] * len(images)
    made = 0
    if mode != "none" and images:
        root = base or _root(doc)
        items = [(os.path.join(root, str(item["p"])), item.get("fr")) for item in images]
        if folder is not None:
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
        position = {item: n for n, item in enumerate(items)}
        # Sorted, so a video's frames go to one batch and the video is opened once there.
        todo = sorted(items, key=lambda item: (item[0], item[1] or 0))
        for chunk, results in map_batches(make_thumbs, todo, thumb_side, workers=workers):
            for item, jpeg in zip(chunk, results, strict=True):
                n = position[item]
                if jpeg is None:
                    continue
                made += 1
                if folder is None:
                    urls[n] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
                else:
                    name = f"{n:07d}.jpg"
                    (folder / name).write_bytes(jpeg)
                    urls[n] = quote(folder.name) + "/" + name
    data["thumbs"] = urls
    data["full"] = full_images(images, base or _root(doc))
    if mode == "none":
        data["thumbs_note"] = "no thumbnails (--thumbs none)"
    html = _static("report.html")
    head, rest = html.split("/*CSS*/", 1)
    middle, tail = rest.split("__DATA__", 1)
    middle_js, end = tail.split("/*JS*/", 1)
    page.write_text(
        head
        + _static("report.css")
        + middle
        + _script_json(data)
        + middle_js
        + _static("report.js")
        + end,
        encoding="utf-8",
    )
    return Written(page, len(data["groups"]), len(images), made, folder)


def _root(doc: dict[str, Any]) -> str:
    """The folder the result's relative paths are relative to (the scan's working folder)."""
    return doc["cwd"] if isinstance(doc.get("cwd"), str) else os.getcwd()


def full_images(images: list[dict[str, Any]], root: str) -> list[str | None]:
    """Per image, a file URL of the full-size picture for the compare view, where a browser
    can show it: a local file that exists, in a format browsers decode, not a video frame
    (None elsewhere: the view then shows the thumbnail and says why)."""
    urls: list[str | None] = []
    for item in images:
        path, fmt = str(item["p"]), str(item.get("f") or "").split(" ")[0]
        url = None
        if "://" not in path and "fr" not in item and fmt in SHOWN_FORMATS:
            full = Path(root, path).absolute()
            if full.is_file():
                url = full.as_uri()
        urls.append(url)
    return urls
