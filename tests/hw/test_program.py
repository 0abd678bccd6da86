"""Programs on a PE: instruction timing, loops, sleep, exceptions at boundaries, and
determinism of the trace."""

from __future__ import annotations

import pytest

from hw.hwhelpers import Recorder
from rasflow.engine import Engine
from rasflow.hw import Machine, arch
from rasflow.hw.program import compile_program


def test_compile_flattens_loops_in_place():
    """A program compiles to one instruction per address; loops become LOOP/ENDLOOP in
    place; unknown or malformed instructions are rasflow input errors."""
    code = compile_program([("load", 8), ("loop", 2, [("esb",), ("svc", 1)]), ("sleep", 5)])
    assert [op[0] for op in code] == [0, 7, 5, 2, 8, 6]
    with pytest.raises(ValueError):
        compile_program([("jump", 1)])
    with pytest.raises(ValueError):
        compile_program([("load",)])


def test_one_ns_per_instruction_and_loops(make_machine):
    """Each instruction takes 1 ns; loop control takes none; stores land in memory."""
    m = make_machine()
    pe = m.pes[0]
    proc = pe.run([("loop", 3, [("store", 0x4000_0000, 5), ("load", 0x4000_0000)])], el=0)
    m.engine.run()
    assert proc.value == "done" and m.engine.now == 6
    assert m.memory.read_u64(0x4000_0000) == 5


def test_svc_returns_into_the_program(make_machine):
    """The SVC handler's ERET resumes at the next instruction (ELR = SVC + 4)."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    k = Recorder("eret")
    pe.install(1, k)
    proc = pe.run([("svc", 1), ("svc", 2)], el=0, entry=0x1000)
    m.engine.run()
    assert [e.elr for e in k.entries] == [0x1004, 0x1008] and proc.value == "done"


def test_program_ends_when_software_does_not_return(make_machine):
    """A handler that does not ERET leaves the PE at its EL: the program ends ("left")."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    pe.install(1, Recorder("stay"))
    proc = pe.run([("svc", 0), ("svc", 0)], el=0)
    m.engine.run()
    assert proc.value == "left" and pe.pstate.el == 1


def test_serror_taken_at_instruction_boundary_with_next_pc(make_machine):
    """An SError arriving while the program runs is taken at the next instruction boundary;
    the preferred return address is the next instruction (asynchronous exception)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("eret")
    pe.install(3, fw)
    m.inject("device-serror", pa=0x0900_0000, delay_ns=3)
    pe.run([("load", 0x0900_0000)] + [("load", 0x4000_0000)] * 6, el=0, entry=0x1000)
    m.engine.run()
    e = fw.entries[0]
    assert (e.kind, e.elr) == ("serror", 0x1000 + 4 * 3)
    assert m.engine.trace.named("exception_entry")[0].time == 3


def test_sleep_wakes_for_an_interrupt(make_machine):
    """sleep behaves like WFI: an interrupt ends it early and is taken."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder(lambda pe, e: (pe.acknowledge_interrupt(), pe.eret()))
    pe.install(3, fw)
    m.engine.schedule(10, m.ras_interrupt, m.node("mc0"))
    proc = pe.run([("sleep", 1000)], el=0)
    m.engine.run()
    assert proc.value == "done" and m.engine.now == 1000
    assert fw.entries[0].kind == "fiq" and m.engine.trace.named("exception_entry")[0].time == 10


def _scenario(seed: int) -> str:
    m = Machine(Engine(seed), firmware_first=True, iesb=True)
    pe = m.pes[0]
    pe.install(3, Recorder(lambda pe, e: pe.eret(e.elr + (4 if e.kind == "sync" else 0))))
    pe.install(1, Recorder(lambda pe, e: (pe.esb(), pe.eret(e.elr, e.spsr))))
    m.inject("memory-ue", pa=0x4000_2000)
    m.inject("device-serror", pa=0x0900_0000, delay_ns=4)
    m.engine.schedule(7, lambda: m.inject("patrol-scrub", pa=0x4000_3000))
    pe.run([("load", 0x0900_0000), ("svc", 0), ("load", 0x4000_2000),
            ("store", 0x4000_3000, 1), ("sleep", 200), ("esb",)], el=0)
    m.engine.run()
    return m.engine.trace.to_jsonl()


def test_same_seed_same_trace():
    """Determinism: the same scenario and seed give the same trace, byte for byte."""
    a, b = _scenario(3), _scenario(3)
    assert a == b and len(a.splitlines()) > 10


def test_execute_runs_one_instruction_now(make_machine):
    """pe.execute runs one instruction synchronously (no simulated time)."""
    m = make_machine()
    pe = m.pes[0]
    pe.pstate.el, pe.pstate.sp, pe.pstate.daif = 0, 0, 0
    assert pe.execute(("store", 0x4000_0000, 9)) is True
    assert pe.execute(("load", 0x4000_0000)) == 9
    with pytest.raises(ValueError):
        pe.execute(("sleep", 3))
    assert pe.pstate.daif & arch.SPSR_A == 0



def test_an_immediate_serror_wakes_a_sleeping_program(make_machine):
    """An SError signalled while a program sleeps is taken at once when unmasked (at EL0
    with SCR_EL3.EA=0 and no AMO it is taken to EL1), not when the sleep ends."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    el1 = Recorder("stay")
    pe.install(1, el1)
    pe.run([("sleep", 1000)], el=0)
    m.engine.schedule(10, pe.raise_serror, 0x11)
    m.engine.run(until=2000)
    assert el1.entries and el1.entries[0].kind == "serror"
    assert [e.time for e in m.engine.trace if e.name == "exception_entry"][0] == 10
