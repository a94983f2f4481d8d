"""Where stages run: local worker processes or Ray actors (`make_engine` picks one by name)."""

from neardup.engines.factory import ENGINES, make_engine

__all__ = ["ENGINES", "make_engine"]
