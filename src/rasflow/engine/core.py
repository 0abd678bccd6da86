"""The event queue and generator processes (after SimPy's Environment/Process)."""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import random
from collections.abc import Callable, Generator, Iterator, Mapping
from heapq import heappush
from typing import Any

from .costs import typical
from .trace import Trace

NORMAL = 1
URGENT = 0


class Event:
    """Something that happens once; callbacks run when it is processed."""

    __slots__ = ("engine", "callbacks", "value", "triggered", "processed", "ok")

    def __init__(self, engine: Engine):
        self.engine = engine
        self.callbacks: list[Callable[[Event], None]] = []
        self.value: Any = None
        self.triggered = False
        self.processed = False
        self.ok = True

    def succeed(self, value: Any = None, *, delay: int = 0) -> Event:
        if self.triggered:
            raise RuntimeError("event already triggered")
        self.triggered, self.value = True, value
        engine = self.engine  # engine._push(delay, self._process, ...), inline: succeed is hot
        heappush(engine._queue, (engine.now + delay, URGENT if delay == 0 else NORMAL,
                                 next(engine._seq), self._process))
        return self

    def fail(self, exc: BaseException) -> Event:
        if self.triggered:
            raise RuntimeError("event already triggered")
        self.triggered, self.ok, self.value = True, False, exc
        self.engine._push(0, self._process, URGENT)
        return self

    def _process(self) -> None:
        self.processed = True
        callbacks, self.callbacks = self.callbacks, []
        if not self.ok and not callbacks:
            raise self.value  # a failure nobody waited for stops the run
        for cb in callbacks:
            cb(self)


class Timeout(Event):
    """An event that succeeds ``delay`` ns from now."""

    __slots__ = ()

    def __init__(self, engine: Engine, delay: int, value: Any = None):
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        # Event.__init__ and succeed(value, delay=delay), inline
        self.engine, self.callbacks, self.ok, self.processed = engine, [], True, False
        self.triggered, self.value = True, value
        heappush(engine._queue, (engine.now + delay, URGENT if delay == 0 else NORMAL,
                                 next(engine._seq), self._process))


class Process(Event):
    """Drives a generator: it yields Events (or ns delays) and resumes when they fire.
    The process itself is an Event that succeeds with the generator's return value."""

    __slots__ = ("gen", "name")

    def __init__(self, engine: Engine, gen: Generator, name: str = ""):
        self.engine, self.callbacks, self.value = engine, [], None  # Event.__init__, inline
        self.triggered = self.processed = False
        self.ok = True
        self.gen, self.name = gen, name
        heappush(engine._queue, (engine.now, URGENT, next(engine._seq), self._resume))  # _push(0)

    def _resume(self, ev: Event | None = None) -> None:
        """Run the generator to its next yield. Called with no event to start it (and after a
        ns delay), as a callback with the Event it waited on: its value is sent in, its
        failure thrown in. One method for all three: it is the engine's hottest."""
        gen = self.gen
        while True:
            try:
                if ev is None:
                    target = gen.send(None)
                elif ev.ok:
                    target = gen.send(ev.value)
                else:
                    target = gen.throw(ev.value)
            except StopIteration as stop:  # the process succeeds: succeed(stop.value), inline
                if self.triggered:
                    raise RuntimeError("event already triggered") from None
                self.triggered, self.value = True, stop.value
                engine = self.engine
                heappush(engine._queue, (engine.now, URGENT, next(engine._seq), self._process))
                return
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the process
                self.fail(exc)
                return
            if type(target) is int:  # a delay: resumed when it passes, as a Timeout would be
                if target < 0:
                    raise ValueError(f"negative delay {target}")
                engine = self.engine  # engine._push(target, self._resume, ...), inline
                heappush(engine._queue, (engine.now + target, URGENT if target == 0 else NORMAL,
                                         next(engine._seq), self._resume))
                return
            if not isinstance(target, Event):
                gen.throw(TypeError(f"process {self.name!r} yielded {target!r}, not an Event or ns delay"))
                return
            if not target.processed:
                target.callbacks.append(self._resume)
                return
            ev = target  # already processed: resumed at once with its outcome


@contextlib.contextmanager
def _fewer_collections(threshold: int = 20_000):
    """A run allocates a great many short-lived containers (trace fields, events, struct
    tuples) that die young: with the default generation-0 threshold (700) the cyclic
    collector runs every few flows and costs ~5% of a run. Raised for the run, restored
    after; the cycles the model does make are still collected."""
    old = gc.get_threshold()
    if old[0] >= threshold or not gc.isenabled():
        yield
        return
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@contextlib.contextmanager
def one_collection_per_run() -> Iterator[Callable[[], None]]:
    """For a loop of independent model runs (a campaign's rows). A built system is a web of
    cycles (components, processes and events refer to each other): the cyclic collector frees
    it, not reference counts. Left automatic, the collector traverses a run's objects several
    times while they are alive, promoting them up to the full-heap generation, where they are
    traversed again: a quarter of a campaign row's time. Here it is off, and the caller calls
    the yielded ``collect()`` once a run is done with and dropped: one generation-0 pass over
    that run's objects, garbage by then. The collector is process-wide: when it was already
    off (the caller's choice, or another thread's loop), this leaves it as it is."""
    if not gc.isenabled():
        yield lambda: None
        return
    gc.disable()
    try:
        yield lambda: gc.collect(0)
    finally:
        gc.enable()


class Engine:
    """Simulated time in integer nanoseconds, deterministic tie-breaking, one trace, and
    the cost model: ``costs`` (step -> ns; the typical figures unless given) and ``spent``,
    the ledger of every costed step, (time it ended, ns, step, component)."""

    def __init__(self, seed: int = 0, *, trace: Trace | None = None,
                 costs: Mapping[str, int] | None = None):
        self.now = 0
        self.seed = seed
        self.trace = trace if trace is not None else Trace()
        self.costs = costs if costs is not None else typical()
        self.spent: list[tuple[int, int, str, str]] = []
        self._queue: list[tuple[int, int, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def spend(self, step: str, component: str) -> None:
        """``component`` does ``step`` now, which takes the step's cost. The cost moves the
        clock the trace is stamped with (``Trace.busy``), never the order of events: which
        steps run, and in what order, is the scenario's alone; how long they take is the
        cost model's. The model runs one step at a time, so work on different PEs adds up
        as if it were serial (a few microseconds at most in one error's flow)."""
        ns = self.costs[step]
        trace = self.trace
        trace.busy += ns
        self.spent.append((self.now + trace.busy, ns, step, component))

    def wait(self, step: str, component: str) -> int:
        """For a step that others may overtake (the world switch into a guest: a signal or an
        interrupt that arrives meanwhile is seen first): its cost in ns, for the caller's
        process to ``yield``, on the ledger as ``spend`` puts it. Unlike ``spend``, this
        moves engine time, so a sampled figure can change what comes first."""
        ns = self.costs[step]
        self.spent.append((self.now + ns + self.trace.busy, ns, step, component))
        return ns

    def _push(self, delay: int, fn: Callable[[], None], priority: int = NORMAL) -> None:
        heappush(self._queue, (self.now + delay, priority, next(self._seq), fn))

    def schedule(self, delay: int, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Call ``fn(*args, **kwargs)`` ``delay`` ns from now (after events already due then)."""
        self._push(delay, (lambda: fn(*args, **kwargs)) if args or kwargs else fn)

    def peek(self) -> int | None:
        """The time of the next event, or None when nothing is scheduled."""
        return self._queue[0][0] if self._queue else None

    def event(self) -> Event:
        return Event(self)

    def timeout(self, delay: int, value: Any = None) -> Timeout:
        return Timeout(self, delay, value)

    def process(self, gen: Generator, name: str = "") -> Process:
        return Process(self, gen, name)

    def rng(self, stream: str) -> random.Random:
        """An independent random stream per component name, derived from the seed."""
        return random.Random(f"{self.seed}:{stream}")

    def step(self) -> None:
        self.now, _, _, fn = heapq.heappop(self._queue)
        fn()

    def run(self, until: int | None = None, *, max_steps: int | None = None) -> None:
        """Process events until the queue is empty or simulated time would pass ``until``;
        ``max_steps``: a runaway model (an endless loop in zero time) raises RuntimeError."""
        with _fewer_collections():
            self._run(until, max_steps)

    def _run(self, until: int | None, max_steps: int | None) -> None:
        queue, pop = self._queue, heapq.heappop
        if until is None and max_steps is None:  # the common case, without the checks
            while queue:
                self.now, _, _, fn = pop(queue)  # step(), inline: this loop is the hottest
                fn()
            return
        steps = 0
        while queue:
            if until is not None and queue[0][0] > until:
                self.now = until
                return
            self.now, _, _, fn = pop(queue)  # step(), inline: this loop is the hottest
            fn()
            steps += 1
            if max_steps is not None and steps > max_steps:
                raise RuntimeError(f"more than {max_steps} events by t={self.now} ns: "
                                   "the model loops (an access retried forever?)")
        if until is not None:
            self.now = max(self.now, until)

    @property
    def pending(self) -> int:
        return len(self._queue)


class Component:
    """A model object with a trace name: ``fw``, ``host``, ``kvm``, ``vmm:vm0``, ``cpu0``..."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name

    @property
    def now(self) -> int:
        return self.engine.now

    def spend(self, step: str) -> None:
        """This component does ``step``: its cost in the cost model passes (Engine.spend)."""
        self.engine.spend(step, self.name)

    def trace(self, kind: str, **fields: Any) -> None:
        """One trace event per crossing, named as the kernel/firmware function or tracepoint."""
        engine = self.engine
        engine.trace.emit(engine.now, self.name, kind, fields)
