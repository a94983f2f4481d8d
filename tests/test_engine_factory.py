"""Choosing an engine: by name, with clear errors; the local engine never imports Ray."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neardup.engines import make_engine
from neardup.engines.local import LocalEngine


def test_importing_neardup_and_using_the_local_engine_does_not_import_ray() -> None:
    code = (
        "import sys, neardup, neardup.cli, neardup.engines\n"
        "from neardup.engines import make_engine\n"
        "make_engine('local', 2).close()\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
        "assert 's3fs' not in sys.modules, 's3fs was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_make_engine_by_name() -> None:
    engine = make_engine("local", 3)
    assert isinstance(engine, LocalEngine) and engine.workers == 3
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        make_engine("spark")
    with pytest.raises(ValueError, match="--ray-address needs --engine ray"):
        make_engine("local", None, "auto")


def test_no_cluster_at_the_address_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    code = (
        "from neardup.cli import main\n"
        "import sys\n"
        "sys.exit(main(['scan', '.', '--engine', 'ray', '--ray-address', 'auto', '-q']))\n"
    )
    # A fresh Ray temp folder: no cluster another test or user started can be found there.
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {
        "RAY_TMPDIR": str(tmp_path)
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if "Connected to Ray cluster" in done.stderr and not os.environ.get("CI"):
        # 'auto' also finds a cluster another program runs on this machine (seen while a
        # benchmark ran); CI runs nothing else, so there the test always decides.
        pytest.skip("a Ray cluster is running on this machine, and 'auto' found it")
    assert done.returncode == 2
    assert "neardup: error: --ray-address auto: Could not find any running Ray instance" in (
        done.stderr
    )
