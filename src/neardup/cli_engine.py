"""`--engine local|ray` and `--ray-address`: the command-line options that choose where the
stages run (`neardup.engines.make_engine`), shared by scan and the index commands."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

from neardup.engines import ENGINES, make_engine
from neardup.engines.base import Engine


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """Register --engine and --ray-address on a sub-command."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="where the per-image and per-pair stages run: local processes (default) or Ray "
        "actors (pip install 'neardup[ray]')",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="a running Ray cluster (auto, host:6379, ray://host:10001), tried for a few seconds "
        "before the run; default: start a local one",
    )


@contextmanager
def engine_from(args: argparse.Namespace) -> Iterator[Engine]:
    """The engine the options ask for, closed (a local Ray cluster shut down) afterwards.
    With --quiet, Ray's start-up notes and warnings stay off stderr (its errors do not)."""
    with _quiet_ray() if args.engine == "ray" and getattr(args, "quiet", False) else nullcontext():
        engine = make_engine(args.engine, args.workers, args.ray_address)
    try:
        yield engine
    finally:
        engine.close()


def _quiet_ray() -> AbstractContextManager[object]:
    """Set `neardup.engines.ray.QUIET` while the engine starts. Where ray is not installed,
    nothing: `make_engine` then says how to install it."""
    try:
        from neardup.engines.ray import QUIET
    except ImportError:
        return nullcontext()
    return _set(QUIET)


@contextmanager
def _set(flag: ContextVar[bool]) -> Iterator[object]:
    token = flag.set(True)
    try:
        yield None
    finally:
        flag.reset(token)
