"""Sources by URL: a scan of an S3 bucket (moto's server on 127.0.0.1, read with s3fs) finds
the near-duplicate pair, skips the corrupt object with its reason, and caches by URL + ETag;
`file://` URLs read through fsspec like plain paths.

Skipped only where moto or s3fs is not installed, never in CI (CI=true).
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

import neardup
from neardup.sources.remote import collect_sources, is_url, read_bytes, version_key

if TYPE_CHECKING:
    from conftest import FileMaker

if os.environ.get("CI") == "true":
    import boto3
    import fsspec
    from moto.server import ThreadedMotoServer
else:
    boto3 = pytest.importorskip("boto3")
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("s3fs")
    ThreadedMotoServer = pytest.importorskip("moto.server").ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty S3 server on 127.0.0.1; fsspec's s3:// and boto3 both point at it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(
        fsspec.config.conf, "s3", {"endpoint_url": endpoint, "use_listings_cache": False}
    )
    try:
        yield endpoint
    finally:
        fsspec.AbstractFileSystem.clear_instance_cache()
        server.stop()


def test_scan_of_an_s3_bucket(s3: str, make: FileMaker, tmp_path: Path) -> None:
    client = boto3.client("s3", endpoint_url=s3)
    client.create_bucket(Bucket="photos")
    photo = make.photo("astronaut", 256)
    objects = {
        "set/astronaut.png": make.encode(photo, "PNG"),
        "set/deeper/astronaut_small.jpg": make.encode(make.photo("astronaut", 170), "JPEG"),
        "set/coffee.jpg": make.encode(make.photo("coffee", 256), "JPEG"),
        "set/rocket.png": make.encode(make.photo("rocket", 256), "PNG"),
        "set/broken.jpg": make.encode(make.photo("chelsea", 256), "JPEG")[:3000],
        "set/notes.txt": b"not a picture",
        "other/outside.png": make.encode(photo, "PNG"),  # not under the scanned prefix
    }
    for key, body in objects.items():
        client.put_object(Bucket="photos", Key=key, Body=body)
    cache = tmp_path / "cache.sqlite"

    result = neardup.scan(["s3://photos/set"], cache=cache, workers=1)
    paths = sorted(f.path for f in result.images)
    assert paths == [
        "s3://photos/set/astronaut.png",
        "s3://photos/set/coffee.jpg",
        "s3://photos/set/deeper/astronaut_small.jpg",
        "s3://photos/set/rocket.png",
    ]
    assert [(s.path, s.reason.split(":")[0]) for s in result.skipped] == [
        ("s3://photos/set/broken.jpg", "truncated JPEG")
    ]
    assert result.stats.ignored == 1  # notes.txt
    groups = [
        sorted([result.images[g.keeper].path, *(result.images[i].path for i, _ in g.members)])
        for g in result.groups
    ]
    assert groups == [
        ["s3://photos/set/astronaut.png", "s3://photos/set/deeper/astronaut_small.jpg"]
    ]

    again = neardup.scan(["s3://photos/set"], cache=cache, workers=1)
    assert again.stats.from_cache == len(objects) - 2  # every image and the corrupt one
    assert [g.members for g in again.groups] == [g.members for g in result.groups]

    # Rewritten with other content: a new ETag, so the cached features are not reused.
    client.put_object(Bucket="photos", Key="set/coffee.jpg", Body=objects["set/rocket.png"])
    third = neardup.scan(["s3://photos/set"], cache=cache, workers=1)
    assert third.stats.from_cache == len(objects) - 3
    assert len(third.groups) == 2  # coffee.jpg is now a copy of rocket.png


def test_missing_bucket_is_a_skip_not_a_crash(s3: str) -> None:
    result = neardup.scan(["s3://no-such-bucket/x"], cache=False, workers=1)
    assert result.images == []
    assert [s.path for s in result.skipped] == ["s3://no-such-bucket/x"]
    with pytest.raises(OSError):
        read_bytes("s3://no-such-bucket/x.jpg")


def test_file_urls_read_like_paths(make: FileMaker, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    make.image(folder / "a.png", "astronaut")
    make.image(folder / "sub" / "b.jpg", "astronaut", 180)
    url = f"file://{folder}"
    assert is_url(url) and not is_url(str(folder)) and not is_url("C:/x")
    found = collect_sources([url])
    assert sorted(ref.path for ref in found.files) == [f"{url}/a.png", f"{url}/sub/b.jpg"]
    assert all(ref.mtime_ns > 0 for ref in found.files)
    result = neardup.scan([url], cache=False, workers=1)
    assert len(result.groups) == 1
    assert read_bytes(f"{url}/a.png") == (folder / "a.png").read_bytes()
    # What differs is measured on URLs too (it read them as local files, and failed).
    [pair] = [p for p in result.pairs if p.differences is not None]
    assert pair.differences is not None and "scaled" in pair.differences.kinds
    # A leakage scan tells URL sets apart (a store has no inodes: each set held everything).
    test = tmp_path / "test"
    make.image(test / "c.jpg", "astronaut", 200)
    leak = neardup.scan([url], against=[f"file://{test}"], cache=False, workers=1)
    assert leak.leakage is not None
    assert [s.images for s in leak.leakage.sets] == [2, 1]
    assert leak.leakage.sets[1].leaking["default"] == 1


def test_a_folder_served_over_http_is_read(make: FileMaker, tmp_path: Path) -> None:
    """An HTTP index lists names without sizes: every file was skipped as "empty file (0
    bytes)" and nothing fetched (a tester). Each size now comes from a HEAD request, and its
    Last-Modified keys the cache."""
    folder = tmp_path / "web"
    make.image(folder / "a.png", "astronaut")
    make.image(folder / "b.jpg", "astronaut", 180)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        found = collect_sources([url])
        assert sorted(ref.size for ref in found.files) == sorted(
            p.stat().st_size for p in folder.iterdir()
        )
        assert found.skipped == [] and all(ref.mtime_ns > 0 for ref in found.files)
        assert len(neardup.scan([url], cache=False, workers=1).groups) == 1
    finally:
        server.shutdown()
        server.server_close()


class _Plain(SimpleHTTPRequestHandler):
    """A server that sends no Last-Modified (nor ETag), and counts the requests for sizes."""

    heads: ClassVar[list[str]] = []

    def do_HEAD(self) -> None:
        _Plain.heads.append(self.path)
        super().do_HEAD()

    def send_header(self, keyword: str, value: str) -> None:
        if keyword != "Last-Modified":
            super().send_header(keyword, value)

    def log_message(self, *args: object) -> None:
        pass


def test_http_objects_without_a_version_are_never_taken_from_the_cache(
    make: FileMaker, tmp_path: Path
) -> None:
    """No ETag, no date: a file rewritten with other bytes of the same size kept its cached
    features (a review); such objects are read every time. Names that are no image names are
    not asked for their size (a web page links to anything)."""
    folder = tmp_path / "web"
    make.image(folder / "a.bmp", "astronaut", 64)
    (folder / "b.bmp").write_bytes((folder / "a.bmp").read_bytes())
    for n in range(5):
        (folder / f"notes{n}.txt").write_text("not a picture")
    handler = functools.partial(_Plain, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cache = tmp_path / "cache.db"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        _Plain.heads.clear()
        assert len(neardup.scan([url], cache=cache, workers=1).groups) == 1
        assert not any(h.endswith(".txt") for h in _Plain.heads)
        make.image(folder / "moon.bmp", "moon", 64)
        other = (folder / "moon.bmp").read_bytes()
        assert len(other) == (folder / "b.bmp").stat().st_size
        (folder / "moon.bmp").unlink()
        (folder / "b.bmp").write_bytes(other)
        assert neardup.scan([url], cache=cache, workers=1).groups == []
    finally:
        server.shutdown()
        server.server_close()


def test_version_key_follows_the_etag() -> None:
    a = version_key({"ETag": '"abc"', "size": 3})
    assert a == version_key({"ETag": '"abc"', "size": 3}) > 0
    assert a != version_key({"ETag": '"abd"', "size": 3})
    assert version_key({}) == 0
