"""Worker processes for the local engine, one a lane: each runs one stage, takes chunks
through its own pipe and sends each chunk's results back, so the engine chooses which worker
runs which chunk (`engines.base.Shares`), as a process pool's shared queue would not.

Every lane of a stage is forked before any is fed, so the engine starts no thread of its own
before a fork (a pool of one process a lane would fork each later lane beside the earlier
pools' threads, which can leave a child a lock no thread will release). A worker makes the
stage's state once (`Stage.setup`) and keeps it for every chunk, ignores Ctrl-C (the engine
ends it) and dies with its parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
import weakref
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from neardup.engines.base import Stage


def die_with_parent() -> None:
    """Worker start-up: on Linux, ask the kernel to kill this worker when its parent dies.

    A forked worker inherits its parent's open files, the index's writer lock among them, and
    both ends of the pipes, so it never sees the parent go: after a `kill -9` of the parent it
    would wait forever and hold the lock.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


class WorkerDied(RuntimeError):
    """A worker process ended while it held chunks (killed, out of memory, a native crash)."""


class RemoteTraceback(Exception):
    """The worker's traceback of an error raised there, kept as the error's cause."""

    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""'


def _serve(stage: Stage[Any, Any, Any], conn: Connection) -> None:
    """A worker's life: the stage's state made once, then each chunk received run and its
    results (or the error it raised, with its traceback) sent back, until told it is done.
    A thread sends the results (pickled and written while the next chunk runs, as a process
    pool's result queue does)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run and ends workers
    replies: queue.SimpleQueue[tuple[str, Any, str] | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(conn, replies), daemon=True)
    sender.start()
    failed: tuple[BaseException, str] | None = None
    try:
        state = stage.setup()
    except BaseException as error:  # every chunk then answers with it
        failed = (error, traceback.format_exc())
    while True:
        try:
            part = conn.recv()
        except (EOFError, OSError):
            break
        if part is None:  # the engine is done with this worker
            break
        try:
            if failed is not None:
                raise failed[0]
            replies.put(("ok", stage.run(state, part), ""))
        except BaseException as error:
            replies.put(("error", _sendable(error), traceback.format_exc()))
    replies.put(None)
    sender.join()


def _send_all(conn: Connection, replies: queue.SimpleQueue[tuple[str, Any, str] | None]) -> None:
    """Each reply sent in turn, until None; results that cannot be pickled sent as an error."""
    while (reply := replies.get()) is not None:
        try:
            conn.send(reply)
        except (TypeError, AttributeError, pickle.PicklingError) as error:
            conn.send(("error", _sendable(error), traceback.format_exc()))
        except OSError:  # the parent is gone
            return


def _sendable(error: BaseException) -> BaseException:
    """`error`, or a RuntimeError saying it where it cannot be pickled."""
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


class Lane:
    """One worker process for `stage` and its pipe; `sent` holds its chunks in flight."""

    def __init__(self, stage: Stage[Any, Any, Any]) -> None:
        context = (
            multiprocessing.get_context("fork")
            if sys.platform == "linux"
            else multiprocessing.get_context("spawn")
        )
        self.conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(stage, child), daemon=True)
        self._process.start()
        child.close()
        self._name = stage.name
        self.sent: deque[list[Any]] = deque()
        # An engine dropped without `close` (a library caller's) still stops its workers.
        self._stop = weakref.finalize(self, _stop, self._process, self.conn, 1.0)

    def send(self, part: list[Any]) -> None:
        try:
            self.conn.send(part)
        except OSError:  # the worker is gone: its pipe is closed
            raise self._died() from None
        self.sent.append(part)

    def receive(self) -> tuple[list[Any], list[Any]]:
        """(chunk, results) of the oldest chunk in flight; its error raised here."""
        try:
            kind, value, trace = self.conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        part = self.sent.popleft()
        if kind == "error":
            raise value from RemoteTraceback(trace)
        return part, value

    def _died(self) -> WorkerDied:
        self._process.join(1.0)
        return WorkerDied(
            f"a worker process of the {self._name} stage ended while it held work (exit code "
            f"{self._process.exitcode}): killed, out of memory, or a crash"
        )

    def end(self) -> None:
        """Stop the worker: at once where it holds chunks, else when it reads that it is done."""
        if self.sent and self._process.is_alive():
            self._process.terminate()
        self._stop.detach()
        _stop(self._process, self.conn, 5.0)


def _stop(process: BaseProcess, conn: Connection, wait: float) -> None:
    """Tell a worker it is done (every later worker holds a copy of its pipe's end, so closing
    it tells nothing) and wait for it; killed where it does not end within `wait` seconds."""
    with contextlib.suppress(OSError, ValueError):  # gone already, or the pipe closed
        conn.send(None)
    conn.close()
    process.join(wait)
    if process.is_alive():
        process.kill()
        process.join()
