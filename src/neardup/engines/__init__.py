"""Where stages run: the local process pool (a distributed engine maps the same functions)."""
