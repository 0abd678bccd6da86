"""The event queue: time order, deterministic ties, processes, failures, trace."""

from __future__ import annotations

import gc
import weakref

import pytest

from rasflow.engine import Component, Engine, one_collection_per_run


def test_time_order_and_fifo_ties():
    eng, seen = Engine(), []
    eng.schedule(10, seen.append, "b")
    eng.schedule(5, seen.append, "a")
    eng.schedule(10, seen.append, "c")
    eng.run()
    assert seen == ["a", "b", "c"] and eng.now == 10


def test_processes_wait_on_timeouts_events_and_each_other():
    eng, log = Engine(), []
    gate = eng.event()

    def child():
        yield 100
        log.append(("child", eng.now))
        return 7

    def parent():
        v = yield eng.process(child())
        log.append(("parent got", v, eng.now))
        w = yield gate
        log.append(("gate", w, eng.now))

    eng.process(parent())
    eng.schedule(250, gate.succeed, "open")
    eng.run()
    assert log == [("child", 100), ("parent got", 7, 100), ("gate", "open", 250)]


def test_an_unhandled_failure_stops_the_run():
    eng = Engine()

    def boom():
        yield 1
        raise ValueError("model bug")

    eng.process(boom())
    with pytest.raises(ValueError, match="model bug"):
        eng.run()


def test_run_until_and_determinism():
    def trace_of(seed):
        eng = Engine(seed)
        c = Component(eng, "cpu0")
        rng = eng.rng("faults")

        def proc():
            for _ in range(5):
                yield rng.randrange(1, 1000)
                c.trace("tick", value=rng.random())

        eng.process(proc())
        eng.run(until=10_000)
        return eng.trace.to_jsonl()

    assert trace_of(1) == trace_of(1) != trace_of(2)
    assert '"c":"cpu0","e":"tick"' in trace_of(1)


def test_schedule_keywords_and_peek():
    eng, seen = Engine(), []
    assert eng.peek() is None
    eng.schedule(30, lambda *, who: seen.append(who), who="fw")
    assert eng.peek() == 30
    eng.run()
    assert seen == ["fw"] and eng.peek() is None


def test_one_collection_per_run_frees_each_runs_cycles_and_restores_the_collector():
    class Node:
        pass

    assert gc.isenabled()
    with one_collection_per_run() as collect:
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counts alone never free it
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None
        collect()
        assert gone() is None
    assert gc.isenabled()


def test_one_collection_per_run_leaves_a_disabled_collector_alone():
    gc.disable()
    try:
        with one_collection_per_run() as collect:
            collect()
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
