"""Running a campaign: the chunk function, the executors and the resumable driver.

:func:`run_chunk` turns rows ``lo..hi`` into columns; it is the only thing any executor
runs, so every executor gives the same rows. Executors yield ``(lo, hi, columns)`` as chunks
finish, keeping a bounded number in flight (memory does not grow with the campaign):

- ``in-process`` (``workers=1``);
- local processes (``concurrent.futures.ProcessPoolExecutor``, forkserver);
- a Dask distributed cluster (``scheduler="tcp://HOST:PORT"``; rasflow must be importable
  on its workers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import one_collection_per_run
from ..scenario import Scenario
from ..scenario.runner import run
from .row import COLUMNS, failed, inputs, verdicts
from .sample import Draw, configure, derive, draw, index_of, scenario_of
from .spec import Campaign
from .store import Store, chunks

Columns = dict[str, list]
Done = tuple[int, int, Columns]
DEFAULT_CHUNK = 1000


def run_chunk(c: Campaign, lo: int, hi: int) -> Columns:
    """The rows ``lo..hi`` of campaign ``c``, as columns."""
    configured = [configure(c.base, s) for s in c.settings]
    cols: Columns = {k: [] for k in COLUMNS}
    last: tuple[int, Any] = (-1, None)
    with one_collection_per_run() as collect:
        for i in range(lo, hi):
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
        r = run(sc, policy=c.settings[k].policy)
        row.update(verdicts(sc, d, r.outcome.to_dict()))
    except Exception as e:
        row.update(failed(e))
    return row


def in_process(c: Campaign, todo: list[tuple[int, int]]) -> Iterator[Done]:
    for lo, hi in todo:
        yield lo, hi, run_chunk(c, lo, hi)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the driver, which stops them and keeps what was written."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def local_pool(c: Campaign, todo: list[tuple[int, int]], workers: int) -> Iterator[Done]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("forkserver")
    pending: dict[Any, tuple[int, int]] = {}
    it = iter(todo)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ignore_sigint) as pool:
        try:
            while True:
                while len(pending) < 2 * workers and (nxt := next(it, None)) is not None:
                    pending[pool.submit(run_chunk, c, *nxt)] = nxt
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f]):
                    lo, hi = pending.pop(fut)
                    yield lo, hi, fut.result()
        finally:
            for fut in pending:
                fut.cancel()


def dask_cluster(c: Campaign, todo: list[tuple[int, int]], address: str) -> Iterator[Done]:
    from distributed import Client, as_completed

    with Client(address, set_as_default=False) as client:
        workers = max(1, sum(client.nthreads().values()))
        remote = client.scatter(c, broadcast=True)
        it = iter(todo)
        ranges: dict[str, tuple[int, int]] = {}
        digest = c.digest()

        def submit() -> list:
            nxt = next(it, None)
            if nxt is None:
                return []
            key = f"rasflow-chunk-{digest}-{nxt[0]}-{nxt[1]}"
            fut = client.submit(run_chunk, remote, *nxt, key=key, retries=1)
            ranges[fut.key] = nxt
            return [fut]

        futures = as_completed([f for _ in range(2 * workers) for f in submit()],
                               loop=client.loop)
        for fut in futures:
            lo, hi = ranges.pop(fut.key)
            yield lo, hi, fut.result()
            fut.release()
            for new in submit():
                futures.add(new)


@dataclass
class Progress:
    """What :func:`run_campaign` did."""

    total: int
    before: int  # rows already in the directory
    ran: int = 0
    seconds: float = 0.0
    stopped: bool = False  # ``stop_after`` cut it short


def run_campaign(c: Campaign, out: str | Path, faults: int | None = None, *, workers: int = 1,
                 scheduler: str | None = None, chunk: int | None = None,
                 on_chunk: Callable[[int], None] | None = None,
                 on_start: Callable[[Progress], None] | None = None,
                 stop_after: int | None = None) -> Progress:
    """Run (or resume) ``c`` into directory ``out``: the rows of ``0..faults`` not there yet.

    ``on_chunk(rows)`` is called after each part is written; ``stop_after`` stops after that
    many parts (to test resuming). Returns what was done.
    """
    n = faults if faults is not None else c.count
    store = Store(out)
    store.open(c, n)
    gaps = store.missing(n)
    left = sum(hi - lo for lo, hi in gaps)
    size = chunk or max(1, min(DEFAULT_CHUNK, math.ceil(left / (4 * max(1, workers))) or 1))
    todo = chunks(gaps, size)
    prog = Progress(total=n, before=n - left)
    if on_start:
        on_start(prog)
    if scheduler:
        stream = dask_cluster(c, todo, scheduler)
    elif workers > 1:
        stream = local_pool(c, todo, workers)
    else:
        stream = in_process(c, todo)
    t0 = time.perf_counter()
    try:
        for written, (lo, hi, cols) in enumerate(stream, 1):
            store.write(lo, hi, cols)
            prog.ran += hi - lo
            if on_chunk:
                on_chunk(hi - lo)
            if stop_after is not None and written >= stop_after:
                prog.stopped = True
                break
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
        prog.seconds = time.perf_counter() - t0
    return prog
