"""The campaign's one shutdown path: SIGINT and SIGTERM to the main process.

A job runner, ``timeout`` or ``kill -INT PID`` signals the main process alone; a terminal's
Ctrl-C signals the whole process group, and the workers ignore both signals
(:func:`ignore_in_worker`), so every stop goes through here. The first signal is a request:
the driver stops handing out work, the workers finish the row they are on, finished parts are
written atomically, and the command exits ``128 + signum`` (130 for SIGINT, 143 for SIGTERM),
as a shell reports a process stopped by that signal. A second signal stops at once: the
workers are killed and the process exits with the same status; a part being written is left
as a temporary file that the next run removes (:meth:`Store.open`), so nothing finished is
lost either way.

The handler only records the request: raising ``KeyboardInterrupt`` wherever the main thread
happens to be (inside ``concurrent.futures`` holding a lock, inside a Parquet write) is what
left a campaign hung or half-stopped. SIGINT is handled even when the process was started
with it ignored (a ``cmd &`` in a script): the user asked this process to stop.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """A stop request, polled by the campaign's driver and executors (``stop()``)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._at_once: list[Callable[[], None]] = []

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    @property
    def status(self) -> int:
        """The exit status for the signal received: ``128 + signum``."""
        return 128 + (self.signum or 0)

    def request(self, signum: int) -> None:
        """The first signal asks to stop; a second one stops at once."""
        if self.signum is None:
            self.signum = signum
            return
        for fn in reversed(self._at_once):
            try:
                fn()
            except Exception:  # exiting regardless: best effort
                pass
        os._exit(128 + signum)

    @contextmanager
    def at_once(self, fn: Callable[[], None]) -> Iterator[None]:
        """Run ``fn`` (kill the workers, say so) if a second signal comes while inside."""
        self._at_once.append(fn)
        try:
            yield
        finally:
            self._at_once.remove(fn)

    @contextmanager
    def handling(self) -> Iterator[Stop]:
        """Take SIGINT and SIGTERM while inside (main thread only; elsewhere signals cannot be
        handled, and the request comes from whoever calls :meth:`request`)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, lambda signum, _frame: self.request(signum)) for s in SIGNALS}
        try:
            yield self
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def ignore_in_worker() -> None:
    """Workers leave both signals to the driver, which tells them to stop and keeps what was
    written; a group-wide Ctrl-C or ``kill -TERM -PGID`` thus takes the same path."""
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
