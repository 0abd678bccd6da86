"""Running a campaign: the chunk function, the executors and the resumable driver.

:func:`run_chunk` turns rows ``lo..hi`` into columns; it is the only thing any executor
runs, so every executor gives the same rows. Executors yield ``(lo, hi, columns)`` as chunks
finish, keeping a bounded number in flight (memory does not grow with the campaign):

- ``in-process`` (``workers=1``);
- local processes (``concurrent.futures.ProcessPoolExecutor``, forkserver);
- a Dask distributed cluster (``scheduler="tcp://HOST:PORT"``; rasflow must be importable
  on its workers).

A :class:`~.stop.Stop` request (SIGINT, SIGTERM) reaches every executor the same way: no more
chunks are handed out, the running ones end at their next row and return the rows they
finished, and those are written like any part.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import costs, one_collection_per_run
from ..scenario import Scenario
from ..scenario.runner import run
from .row import COLUMNS, failed, inputs, verdicts
from .sample import Draw, configure, derive, draw, index_of, scenario_of
from .spec import Campaign
from .stop import Stop, ignore_in_worker
from .store import Store, chunks

Columns = dict[str, list]
Done = tuple[int, int, Columns]
DEFAULT_CHUNK = 1000
POLL = 0.1  # seconds between looks at the stop request while waiting for workers
GRACE = 2.0  # seconds the workers have, after a stop, to return the rows they finished


def run_chunk(c: Campaign, lo: int, hi: int, stop: Callable[[], bool] | None = None) -> Columns:
    """The rows ``lo..hi`` of campaign ``c``, as columns; when ``stop()`` turns true, the rows
    done so far (``lo..lo + len(cols["index"])``), so a stop waits for one row, not a chunk."""
    stop = stop or _worker_stop
    configured = [configure(c.base, s) for s in c.settings]
    cols: Columns = {k: [] for k in COLUMNS}
    last: tuple[int, Any] = (-1, None)
    with one_collection_per_run() as collect:
        for i in range(lo, hi):
            if stop():
                break
            sample, k = index_of(c, i)
            if last[0] != sample:  # paired rows share their sample's draw
                last = (sample, draw(c, sample))
            row = _row(c, i, sample, k, configured[k], last[1])
            collect()  # the row's system is garbage now
            for key, value in row.items():
                cols[key].append(value)
    return cols


def _row(c: Campaign, i: int, sample: int, k: int, configured: Scenario, d: Draw) -> dict[str, Any]:
    """Row ``i``: its inputs, then the run's verdicts, or the error the model raised (a model
    bug, kept as a row with outcome "error" so a million-fault run goes on, never lost)."""
    row = inputs(i, sample, c.settings[k], d)
    sc = scenario_of(configured, d, derive(c.seed, sample, "run"))
    try:
        r = run(sc, policy=c.settings[k].policy,
                costs=costs.sample(sc.seed) if c.costs == "sampled" else None)
        row.update(verdicts(sc, d, r.outcome.to_dict()))
    except Exception as e:
        row.update(failed(e))
    return row


def _done(lo: int, cols: Columns) -> Done:
    return lo, lo + len(cols["index"]), cols


def in_process(c: Campaign, todo: list[tuple[int, int]], stop: Stop) -> Iterator[Done]:
    for lo, hi in todo:
        if stop():
            return
        cols = run_chunk(c, lo, hi, stop)
        if cols["index"]:
            yield _done(lo, cols)


def _windowed(todo: list[tuple[int, int]], window: int, submit: Callable[[int, int], Any],
              wait_some: Callable[[list], Iterable], stop: Stop,
              halt: Callable[[list], None]) -> Iterator[Done]:
    """Keep ``window`` chunks in flight and yield them as they finish. Once ``stop()`` is
    true: no more work is handed out, ``halt(in_flight)`` tells the workers (once), and what
    they still return within ``GRACE`` seconds is yielded; the caller ends the rest."""
    pending: dict[Any, tuple[int, int]] = {}
    it = iter(todo)
    deadline: float | None = None
    while True:
        if deadline is None and stop():
            deadline = time.monotonic() + GRACE
            halt(list(pending))
        while deadline is None and len(pending) < window and (nxt := next(it, None)):
            pending[submit(*nxt)] = nxt
        if not pending or (deadline is not None and time.monotonic() > deadline):
            return
        for fut in sorted(wait_some(list(pending)), key=lambda f: pending[f]):
            lo, _ = pending.pop(fut)
            if not fut.cancelled() and (cols := fut.result())["index"]:
                yield _done(lo, cols)


_worker_stop: Callable[[], bool] = bool  # a worker's: its pool's stop event


def _worker_init(event: Any) -> None:
    global _worker_stop
    ignore_in_worker()
    _worker_stop = event.is_set


def local_pool(c: Campaign, todo: list[tuple[int, int]], workers: int,
               stop: Stop) -> Iterator[Done]:
    """Worker processes (forkserver). A stop sets the pool's event, which every worker polls
    between rows; a worker still busy after the grace period, or at a second signal, is
    killed. ``ProcessPoolExecutor`` has no public way to reach its processes before Python
    3.14's ``terminate_workers``, hence ``_processes`` and ``_executor_manager_thread``."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("forkserver")
    event = ctx.Event()
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(event,))

    def kill() -> None:
        for pid in list(getattr(pool, "_processes", None) or ()):  # a copy: it may change
            _kill(pid)

    def halt(in_flight: list) -> None:
        event.set()
        for fut in in_flight:
            fut.cancel()

    try:
        with stop.at_once(kill):
            yield from _windowed(
                todo, 2 * workers, lambda lo, hi: pool.submit(run_chunk, c, lo, hi),
                lambda fs: wait(fs, timeout=POLL, return_when=FIRST_COMPLETED).done, stop, halt)
    finally:
        # Also when the consumer stopped early (``stop_after``): the workers end their chunks
        # at the next row, and one that does not within the grace period is killed.
        event.set()
        procs = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + GRACE
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                _kill(p.pid)
        if manager is not None:
            manager.join(GRACE)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def dask_cluster(c: Campaign, todo: list[tuple[int, int]], address: str,
                 stop: Stop) -> Iterator[Done]:
    from distributed import Client

    def some(fs: list) -> list:
        """The finished among ``fs``, polled (``distributed.wait`` needs a default client)."""
        end = time.monotonic() + POLL
        while not (done := [f for f in fs if f.done()]) and time.monotonic() < end:
            time.sleep(0.005)
        return done

    with Client(address, set_as_default=False) as client:
        workers = max(1, sum(client.nthreads().values()))
        remote = client.scatter(c, broadcast=True)
        run = f"{c.digest()}-{os.getpid()}-{time.monotonic_ns()}"  # a resumed run's keys are new:
        # the scheduler may still hold a stopped run's cancelled ones

        def submit(lo: int, hi: int) -> Any:
            return client.submit(run_chunk, remote, lo, hi, retries=1,
                                 key=f"rasflow-chunk-{run}-{lo}-{hi}")

        yield from _windowed(todo, 2 * workers, submit, some, stop, client.cancel)


@dataclass
class Progress:
    """What :func:`run_campaign` did."""

    total: int
    before: int  # rows already in the directory
    ran: int = 0
    seconds: float = 0.0
    stopped: bool = False  # ``stop_after`` or a stop request cut it short
    damaged: list = field(default_factory=list)  # (part, why) set aside and recomputed


def run_campaign(c: Campaign, out: str | Path, faults: int | None = None, *, workers: int = 1,
                 scheduler: str | None = None, chunk: int | None = None,
                 on_chunk: Callable[[int], None] | None = None,
                 on_start: Callable[[Progress], None] | None = None,
                 stop_after: int | None = None, stop: Stop | None = None) -> Progress:
    """Run (or resume) ``c`` into directory ``out``: the rows of ``0..faults`` not there yet.

    ``on_chunk(rows)`` is called after each part is written; ``stop_after`` stops after that
    many parts (to test resuming); ``stop`` (see :mod:`.stop`) ends the run early, keeping
    every row finished by then. Returns what was done.
    """
    stop = stop or Stop()
    n = faults if faults is not None else c.count
    store = Store(out)
    store.lock()
    try:
        return _run_locked(c, store, n, workers=workers, chunk=chunk, scheduler=scheduler,
                           on_start=on_start, on_chunk=on_chunk, stop_after=stop_after, stop=stop)
    finally:
        store.unlock()


def _run_locked(c: Campaign, store: Store, n: int, *, workers: int, chunk: int | None,
                scheduler: str | None, on_start, on_chunk, stop_after: int | None,
                stop: Stop) -> Progress:
    store.open(c, n)
    gaps = store.missing(n)
    left = sum(hi - lo for lo, hi in gaps)
    size = chunk or max(1, min(DEFAULT_CHUNK, math.ceil(left / (4 * max(1, workers))) or 1))
    todo = chunks(gaps, size)
    prog = Progress(total=n, before=n - left, damaged=store.damaged)
    if on_start:
        on_start(prog)
    if scheduler:
        stream = dask_cluster(c, todo, scheduler, stop)
    elif workers > 1:
        stream = local_pool(c, todo, workers, stop)
    else:
        stream = in_process(c, todo, stop)
    t0 = time.perf_counter()
    try:
        for written, (lo, hi, cols) in enumerate(stream, 1):
            store.write(lo, hi, cols)
            prog.ran += hi - lo
            if on_chunk:
                on_chunk(hi - lo)
            if stop_after is not None and written >= stop_after:
                break
    finally:
        prog.stopped = prog.before + prog.ran < n
        close = getattr(stream, "close", None)
        if close:
            close()
        prog.seconds = time.perf_counter() - t0
    return prog
