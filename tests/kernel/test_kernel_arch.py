"""do_sea from kernel mode, do_serror, and a fatal status block (__ghes_panic)."""

from __future__ import annotations

import functools

from kernel.khelpers import UNBACKED, Host
from vectors import vector_bytes

UART = 0x0900_0000


def test_fatal_status_block_panics_in_the_nmi_path():
    h = Host()
    data = bytearray(vector_bytes("kernel-sea/pub-mem-rec-pa-free.estatus.bin"))
    data[16:20] = (1).to_bytes(4, "little")  # error_severity = CPER_SEV_FATAL
    _, lines = h.sea_from_user(bytes(data))
    assert lines[0] == "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0"
    assert lines[-1] == "Kernel panic - not syncing: GHES: Fatal hardware error"
    assert h.m.halted and not any("Memory failure" in ln for ln in lines)


def test_sea_in_kernel_mode_dies():
    h = Host()
    h.kernel.spawn("busybox")
    h.m.pes[0].run([("load", UNBACKED)], el=2)
    h.engine.run()
    assert h.kernel.dmesg[-2].startswith("Internal error: synchronous external abort: ")
    assert h.kernel.dmesg[-1] == "Kernel panic - not syncing: Fatal exception"
    assert h.m.halted


def test_uncontainable_serror_from_user_panics():
    h = Host()
    h.kernel.spawn("busybox")
    h.m.inject("device-serror", pa=UART, delay_ns=5, aet="UC")
    h.m.pes[0].run([("load", UART), ("sleep", 20)], el=0)
    h.engine.run()
    assert h.kernel.dmesg[-2].startswith("SError Interrupt on CPU0, code 0x")
    assert h.kernel.dmesg[-2].endswith(" -- SError")
    assert h.kernel.dmesg[-1] == "Kernel panic - not syncing: Asynchronous SError Interrupt"


def test_corrected_serror_from_user_returns():
    h = Host()
    task = h.kernel.spawn("busybox")
    h.m.inject("device-serror", pa=UART, delay_ns=5, aet="CE")
    proc = h.m.pes[0].run([("load", UART), ("sleep", 20)], el=0)
    h.engine.run()
    assert not h.m.halted and task.alive and proc.value == "done"
    assert any(e.name == "do_serror" for e in h.engine.trace)


def test_gsiv_source_interrupt_runs_ghes_proc():
    h = Host(sources=("SEA", "GSIV"))
    data = vector_bytes("kernel-sea/pub-mem-rec-pa-free.estatus.bin")
    h.write_status_block(data, "GSIV")
    t = h.target("GSIV")
    task = h.kernel.spawn("busybox")
    h.m.pes[0].run([("sleep", 10)], el=0)
    h.engine.schedule(2, h.m.pes[0].raise_interrupt, t.vector)
    h.engine.run()
    lines = h.kernel.dmesg
    assert "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 1" in lines
    assert lines[-1] == "Memory failure: 0x7e000: recovery action for free buddy page: Recovered"
    assert task.alive and not any("SIGBUS" in ln for ln in lines)


def test_hed_sources_are_notified_together_external_ones_alone():
    """ghes_probe(): GSIV and GPIO sources go on the ghes_hed list, and the platform's event
    for any of them (Notify(HED) -> ghes_notify_hed) runs ghes_proc on every one of them;
    an EXTERNAL source has its own interrupt (ghes_irq_func) and only that runs it."""
    h = Host(sources=("SEA", "GSIV", "GPIO", "EXTERNAL"))
    procs = []
    for ghes in h.kernel.ghes.ghes:
        ghes.ghes_proc = functools.partial(procs.append, ghes.notify)
    assert h.kernel.ghes.ghes_irq(h.target("GPIO").vector)
    assert sorted(procs) == ["GPIO", "GSIV"]
    procs.clear()
    assert h.kernel.ghes.ghes_irq(h.target("EXTERNAL").vector) and procs == ["EXTERNAL"]
    procs.clear()
    assert not h.kernel.ghes.ghes_irq(1000) and procs == []
