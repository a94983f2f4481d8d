"""Choosing an engine: by name, with clear errors; the local engine never imports Ray."""

from __future__ import annotations

import subprocess
import sys

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
