"""`--ray-address` where no cluster listens fails at once, and `-q` keeps Ray's start-up notes
off stderr.

A tester gave an address nobody listened on: Ray retried it for the whole 170 s of their
timeout, printing warnings, and never gave neardup's error. The address is now tried with a
TCP connect of a few seconds first. Every address here is on this machine (a port found free
by binding it): nothing reaches the network. The commands run in a child process, so no Ray
state is shared with other tests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import make_photo

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.ray


def free_port() -> int:
    """A port no one listens on: bound on every interface, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("", 0))
        port: int = probe.getsockname()[1]
    return port


def neardup(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the command line in a child process (RAY_ADDRESS unset); the result and seconds."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "neardup", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return done, time.monotonic() - start


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    for name in ("astronaut", "coffee"):
        make_photo(name, 96).save(tmp_path / f"{name}.png")
    return tmp_path


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_nobody_listens_on_fails_fast_with_usage_error(
    photos: Path, scheme: str
) -> None:
    address = f"{scheme}127.0.0.1:{free_port()}"
    done, seconds = neardup(
        "scan", str(photos), "--engine", "ray", "--ray-address", address, "--no-cache", "-q",
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"--ray-address {address}: no Ray cluster answers at" in done.stderr
    assert seconds < 20


def test_check_reachable_names_a_malformed_address_as_given() -> None:
    from neardup.engines.ray import check_reachable

    with pytest.raises(ValueError, match=re.escape("'127.0.0.1:x' is not host:port")):
        check_reachable("127.0.0.1:x")
    with pytest.raises(ConnectionError, match="no Ray cluster answers"):
        check_reachable(f"127.0.0.1:{free_port()}", timeout=2)


@contextmanager
def serving(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A server on every interface of this machine (Ray rewrites 127.0.0.1 to this node's
    address) that treats each connection with `answer`; its port."""
    server = socket.create_server(("", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()


def _web(connection: socket.socket) -> None:
    connection.recv(1024)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _silent(connection: socket.socket) -> None:
    time.sleep(1.5)


def _grpc(connection: socket.socket) -> None:
    connection.recv(1024)
    connection.sendall(bytes([0, 0, 6, 4, 0, 0, 0, 0, 0]) + bytes([0, 3, 0, 0, 0, 100]))


@pytest.mark.parametrize(("answer", "scheme"), [(_web, ""), (_silent, "ray://")])
def test_a_port_that_is_not_ray_fails_fast(
    answer: Callable[[socket.socket], None], scheme: str
) -> None:
    """A tester's address of another service (a web server) was waited on by Ray for over
    5 minutes, printing warnings; a port that answers nothing too."""
    from neardup.engines.ray import check_reachable

    with serving(answer) as port:
        start = time.monotonic()
        with pytest.raises(ConnectionError, match="does not answer as a Ray cluster"):
            check_reachable(f"{scheme}127.0.0.1:{port}", timeout=1)
        assert time.monotonic() - start < 5


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_port_that_answers_as_grpc_passes(scheme: str) -> None:
    from neardup.engines.ray import check_reachable

    with serving(_grpc) as port:
        check_reachable(f"{scheme}127.0.0.1:{port}", timeout=2)


def test_quiet_keeps_ray_start_up_notes_off_stderr(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    args = ["scan", str(photos), "--engine", "ray", "--workers", "1", "--no-cache"]
    done, _ = neardup(*args, "-q", "--json", str(out))
    if done.returncode != 0 and not out.exists():
        pytest.skip(f"a local Ray cluster did not start here: {done.stderr[-500:]}")
    assert done.returncode == 0
    assert "Started a local Ray instance" not in done.stderr
    assert not re.search(r"\s(INFO|WARNING) ", done.stderr), done.stderr[-2000:]
