"""`neardup report`: the page's embedded data, thumbnails (embedded or in a folder, bounded in
size), differences and leakage carried through, and nothing in a path can break the page.
The browser test is tests/test_report_browser.py."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
from conftest import make_photo, write_review_result
from PIL import Image

from neardup.cli import main
from neardup.output.report import build_report
from neardup.output.report.thumbs import make_thumbs


def page_data(page: Path) -> dict[str, Any]:
    html = page.read_text(encoding="utf-8")
    found = re.search(
        r'<script type="application/json" id="neardup-data">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_report_embeds_data_and_small_thumbnails(tmp_path: Path) -> None:
    result = write_review_result(tmp_path / "set", 12)
    page = tmp_path / "out" / "report.html"
    assert main(["report", str(result), "-o", str(page), "--thumb-size", "48"]) == 0
    data = page_data(page)
    assert len(data["groups"]) == 12 and len(data["images"]) == 36
    assert data["leakage"]["test"]["with a copy in train"] == 7
    group = data["groups"][2]  # group 3: the first member is mirrored
    assert data["images"][group["k"]]["p"] == "g00003/keep.png"
    assert group["m"][0]["d"]["mirrored"] is True
    assert group["m"][0]["v"] == group["k"]
    for image, url in zip(data["images"], data["thumbs"], strict=True):
        assert url.startswith("data:image/jpeg;base64,"), image
        thumb = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert thumb.format == "JPEG" and max(thumb.size) <= 48
    # 64-bit mtimes are kept exact (as digits) for the decisions file.
    assert data["images"][0]["t"] == str(
        json.loads(result.read_text())["groups"][0]["keeper"]["mtime_ns"]
    )
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # nothing loaded from a network


def test_full_size_pictures_for_the_compare_view(tmp_path: Path) -> None:
    """Local files a browser shows get a file URL; remote paths, missing files, video frames
    and formats browsers cannot show get none (the view falls back to the thumbnail)."""
    result = write_review_result(tmp_path / "set", 3)
    doc = json.loads(result.read_text())
    doc["groups"][0]["members"][0]["path"] = "s3://bucket/copy.jpg"
    doc["groups"][1]["members"][0]["path"] = "gone/copy.jpg"
    doc["groups"][1]["members"][1] |= {"frame": 12}  # an (unlikely) frame of a JPEG path
    doc["groups"][2]["members"][0]["format"] = "TIFF"
    result.write_text(json.dumps(doc))
    page = tmp_path / "report.html"
    build_report(result, page, thumbs="none")
    data = page_data(page)
    full = dict(zip((image["p"] for image in data["images"]), data["full"], strict=True))
    for keeper in ("g00001/keep.png", "g00002/keep.png", "g00003/keep.png", "g00001/copy2.jpg"):
        url = full[keeper]
        assert url is not None and url.startswith("file:///")
        assert Path(unquote(url.removeprefix("file://"))) == tmp_path / "set" / keeper
    assert full["s3://bucket/copy.jpg"] is None
    assert full["gone/copy.jpg"] is None
    assert full["g00002/copy2.jpg"] is None  # the frame
    assert full["g00003/copy1.jpg"] is None  # TIFF
    assert full["g00003/copy2.jpg"] is not None


def test_report_thumbnail_folder(tmp_path: Path) -> None:
    result = write_review_result(tmp_path / "set", 5)
    page = tmp_path / "report.html"
    written = build_report(result, page, thumbs="folder", workers=2)
    assert written.folder == tmp_path / "report.html.files"
    assert written.thumbs == 15 and len(list(written.folder.iterdir())) == 15
    data = page_data(page)
    assert all(url.startswith("report.html.files/") for url in data["thumbs"])
    assert (tmp_path / data["thumbs"][0]).is_file()


def test_missing_images_and_hostile_paths(tmp_path: Path) -> None:
    result = write_review_result(tmp_path / "set", 3, files=False)
    doc = json.loads(result.read_text())
    doc["groups"][0]["keeper"]["path"] = "a/</script><script>alert(1)</script>.png"
    result.write_text(json.dumps(doc))
    page = tmp_path / "report.html"
    written = build_report(result, page, thumbs="embed")
    assert written.thumbs == 0
    html = page.read_text()
    assert html.count("</script>") == 2  # the data block's and the code's, nothing else
    assert page_data(page)["images"][0]["p"] == "a/</script><script>alert(1)</script>.png"


def test_report_rejects_other_files(tmp_path: Path, capsys: Any) -> None:
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"schema": "neardup.index-report/2"}))
    assert main(["report", str(other), "-o", str(tmp_path / "r.html")]) == 2
    assert "not a scan result" in capsys.readouterr().err


def test_report_into_a_folder_is_refused_before_any_work(tmp_path: Path, capsys: Any) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({"schema": "neardup.scan/2", "groups": [], "pairs": []}))
    (tmp_path / "out").mkdir()
    assert main(["report", str(result), "-o", str(tmp_path / "out")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_video_scan_lists_each_frame_with_its_thumbnail(tmp_path: Path) -> None:
    """A video's frames are items of their own on the page (not one per file), each with a
    thumbnail decoded from the video, matched to the frame it matched, and no file bytes
    counted as freed by a frame."""
    from media import scene_pictures, write_video

    import neardup
    from neardup.output import json as json_out

    clip = write_video(tmp_path / "clip.mp4", scene_pictures(["astronaut", "coffee"]))
    result = neardup.scan([clip], cache=False, workers=1, differences="none")
    frames = {(f.path, f.frame) for g in result.groups for f in [result.images[g.keeper]]}
    assert result.groups and all(frame is not None for _, frame in frames)
    doc = tmp_path / "result.json"
    doc.write_text(json_out.dumps(result))
    page = tmp_path / "report.html"
    assert main(["report", str(doc), "-o", str(page), "--thumb-size", "48"]) == 0
    data = page_data(page)
    listed = sum(1 + len(g.members) for g in result.groups)
    assert len(data["images"]) == listed  # every frame once, none folded into its file
    assert len({(i["p"], i["fr"]) for i in data["images"]}) == listed
    assert all(url and url.startswith("data:image/jpeg;base64,") for url in data["thumbs"])
    for group in data["groups"]:
        assert all(m["i"] != group["k"] for m in group["m"])  # no member is its keeper


def test_thumbnails_of_16_bit_and_float_pictures_show_the_picture(tmp_path: Path) -> None:
    """A tester: the cards of 16-bit grey PNGs were solid white and of float TIFFs solid black
    (Pillow's convert clips them), while the scan read both right."""
    grey = np.asarray(make_photo("coffee", 200).convert("L"), dtype=np.float64)
    Image.fromarray((grey * 257).astype(np.uint16)).save(tmp_path / "grey16.png")
    Image.fromarray((grey / 255).astype(np.float32), "F").save(tmp_path / "float.tif")
    items = [(str(tmp_path / name), None) for name in ("grey16.png", "float.tif")]
    for thumb in make_thumbs(items, 64):
        assert thumb is not None
        shown = np.asarray(Image.open(io.BytesIO(thumb)).convert("L"), dtype=np.float64)
        assert abs(shown.mean() - grey.mean()) < 12 and shown.std() > 20


def test_report_says_one_group_in_the_singular(tmp_path: Path, capsys: Any) -> None:
    result = write_review_result(tmp_path / "set", 1)
    assert main(["report", str(result), "-o", str(tmp_path / "r.html")]) == 0
    assert "(1 group, 3 thumbnails)" in capsys.readouterr().out
