"""Pick an engine by name: `local` (worker processes on this machine) or `ray` (Ray actors).

Ray is imported only when asked for, so the local engine needs none of it.
"""

from __future__ import annotations

from neardup.engines.base import Engine
from neardup.engines.local import LocalEngine

ENGINES = ("local", "ray")


def make_engine(
    name: str = "local", workers: int | None = None, address: str | None = None
) -> Engine:
    """An engine by name; `address` is a Ray cluster's ("auto", "ray://host:10001"), or None
    to start a local one. Raises ValueError with what to do when ray is not installed or no
    cluster answers at `address` (tried with a TCP connect first: Ray's own retries took
    minutes on a wrong host:port)."""
    if name == "local":
        if address:
            raise ValueError("--ray-address needs --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        try:
            from neardup.engines.ray import RayEngine
        except ImportError as error:
            raise ValueError(
                f"--engine ray needs Ray ({error}); install it with: pip install 'neardup[ray]'"
            ) from error
        try:
            return RayEngine(workers, address)
        except ConnectionError as error:  # no cluster at that address
            raise ValueError(f"--ray-address {address or 'RAY_ADDRESS'}: {error}") from error
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
