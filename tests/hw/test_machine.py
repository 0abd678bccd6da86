"""The machine's side of each error and fault injection."""

from __future__ import annotations

from hw.hwhelpers import Recorder, at_el
from rasflow.formats.arm import decode_register
from rasflow.formats.arm.esr import decode_esr
from rasflow.formats.arm.sysreg_fault import ERRSELR_EL1
from rasflow.hw import arch
from rasflow.hw.machine import RAS_PPI, RAS_SPI_BASE
from rasflow.hw.serror import SPURIOUS_INTID

PA = 0x4000_1040
VA = 0x0000_AAAA_0040


def status(node, n=0):
    return decode_register("errstatus", node.read_status(n)).fields


def test_consumed_ue_takes_sea_to_el3_with_firmware_first(make_machine):
    """A load that consumes poison at EL0 takes a synchronous External abort: EC 0x24
    (lower EL), IL=1, DFSC 0x10, SET=UER, FnV=0, WnR=0, FAR=VA, ELR=the load, routed to EL3
    by SCR_EL3.EA=1; the memory controller recorded it first (UE, AV, ER, ADDR=PA)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("skip")
    pe.install(3, fw)
    m.inject("memory-ue", pa=PA)
    proc = pe.run([("load", VA)], lambda va: PA if va == VA else None, el=0, entry=0x40_0000)
    m.engine.run()
    assert proc.value == "done"
    e = fw.entries[0]
    esr = decode_esr(e.esr)
    f = esr.fields
    assert (esr.ec, esr.il, f["DFSC"], f["SET"], f["FnV"], f["WnR"], f["ISV"]) == \
        (0x24, 1, 0x10, 0, 0, 0, 0)
    assert (e.target_el, e.far, e.elr, e.spsr) == (3, VA, 0x40_0000, arch.spsr_encode(0, 0, 0))
    st = status(m.node("mc0"))
    assert (st["V"], st["UE"], st["AV"], st["ER"], st["UET"], st["SERR"]) == (1, 1, 1, 1, 3, 0x0C)
    assert m.node("mc0").read(0, "ADDR") & ((1 << 56) - 1) == PA & ~63
    names = [e.name for e in m.engine.trace]
    assert names.index("ras_record") < names.index("exception_entry")


def test_consumed_ue_kernel_first_routes_to_el1_and_same_el_class(make_machine):
    """SCR_EL3.EA=0: from EL0 the abort goes to EL1 (EC 0x24); from EL1 it stays at EL1
    with EC 0x25 (same EL)."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    k = Recorder("skip")
    pe.install(1, k)
    m.inject("memory-ue", pa=PA)
    at_el(pe, 0)
    pe.load(PA)
    at_el(pe, 1)
    pe.load(PA)
    assert [(e.target_el, e.esr >> 26) for e in k.entries] == [(1, 0x24), (1, 0x25)]


def test_uncontainable_memory_error_reports_set_uc(make_machine):
    """ESR_ELx.SET=UC (0b10) when the platform reports the consumed error uncontainable."""
    m = make_machine()
    pe = m.pes[0]
    fw = Recorder("skip")
    pe.install(3, fw)
    m.inject("memory-ue", pa=PA, uet="UC")
    at_el(pe, 0)
    pe.load(PA)
    assert decode_esr(fw.entries[0].esr).fields["SET"] == 0b10
    assert status(m.node("mc0"))["UET"] == 0


def test_store_to_poison_completes_and_writeback_raises_serror(make_machine):
    """A store into a poisoned line does not abort; the line's write-back raises an
    asynchronous, non-synchronizable SError ``writeback_delay_ns`` later."""
    m = make_machine(firmware_first=True, writeback_delay_ns=30)
    pe = m.pes[0]
    fw = Recorder("eret")
    pe.install(3, fw)
    m.inject("memory-ue", pa=PA)
    proc = pe.run([("store", PA, 7), ("sleep", 100)], el=0)
    m.engine.run()
    assert proc.value == "done" and m.memory.read_u64(PA) == 7
    assert [(e.kind, m.engine.now >= 30) for e in fw.entries] == [("serror", True)]
    ev = m.engine.trace.named("serror_pending")[0]
    assert ev.time == 30 and ev.fields["synchronizable"] is False
    assert decode_esr(fw.entries[0].esr).fields["AET"] == 2  # UEO


def test_patrol_scrub_interrupts_firmware_without_abort(make_machine):
    """A scrubber's UE: the node records a deferred error (DE, AV) and signals its error
    recovery interrupt (a FIQ to EL3 when firmware first); nothing aborts. A later load
    of the granule consumes the poison (PN set)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    got = []
    pe.install(3, Recorder(lambda pe, e: (got.append((e.kind, pe.acknowledge_interrupt())),
                                          pe.eret())))
    at_el(pe, 0)
    m.inject("patrol-scrub", pa=PA)
    assert got == [("fiq", RAS_SPI_BASE)]
    st = status(m.node("mc0"))
    assert (st["DE"], st["UE"], st["AV"]) == (1, 0, 1)
    assert m.ras_interrupts[RAS_SPI_BASE] is m.node("mc0")
    m.node("mc0").write_status(0, m.node("mc0").read_status(0))
    at_el(pe, 0)
    pe.load(PA)
    assert got[-1][0] == "sync" and status(m.node("mc0"))["PN"] == 1


def test_memory_ce_counts_without_exception(make_machine):
    """Corrected memory errors: recorded and counted, no exception; the fault handling
    interrupt fires only when the counter overflows (ERR<n>CTLR.CFI)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("eret")
    pe.install(3, fw)
    at_el(pe, 0)
    m.inject("memory-ce", pa=PA, count=5)
    node = m.node("mc0")
    assert fw.entries == [] and node.corrected_count(0) == (5, False)
    assert status(node)["CE"] != 0 and status(node)["UE"] == 0
    node.set_corrected_count(0, 0x7FFF)
    m.inject("memory-ce", pa=PA)
    assert [e.kind for e in fw.entries] == ["fiq"]


def test_pe_cache_error_serror_and_sync(make_machine):
    """A PE cache/TLB/bus error is recorded in the PE's own node (records 0/1/2) and
    signalled as an SError (default) or consumed by the next load as a synchronous
    External abort."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("skip")
    pe.install(3, fw)
    at_el(pe, 0)
    m.inject("cache", cpu=0, uet="UEO")
    assert fw.entries[-1].kind == "serror" and decode_esr(fw.entries[-1].esr).fields["AET"] == 2
    assert status(pe.node, 0)["SERR"] == 0x06
    at_el(pe, 0)
    m.inject("tlb", cpu=0, signal="sync")
    at_el(pe, 0)
    pe.load(PA)
    assert fw.entries[-1].kind == "sync" and decode_esr(fw.entries[-1].esr).fields["DFSC"] == 0x10
    assert status(pe.node, 1)["SERR"] == 0x08
    m.inject("bus", cpu=0, ue=False, ce=True)
    assert status(pe.node, 2)["CE"] != 0


def test_uncontainable_error_serror_uc(make_machine):
    """An uncontainable error: the PE node records UET=UC and an SError with AET=UC is
    raised at once."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("stay")
    pe.install(3, fw)
    at_el(pe, 1, a=1)
    m.inject("uncontainable", cpu=0)
    assert decode_esr(fw.entries[0].esr).fields["AET"] == 0 and status(pe.node)["UET"] == 0


def test_unbacked_pa_and_translation_fault(make_machine):
    """An access to an unbacked PA is a synchronous External abort; an mmu that returns
    None is a translation fault (DFSC 0x07) to EL1."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    k = Recorder("skip")
    pe.install(1, k)
    at_el(pe, 0)
    pe.load(0x1_0000)
    pe.store(0x2000, 1, lambda va: None)
    f0, f1 = decode_esr(k.entries[0].esr).fields, decode_esr(k.entries[1].esr).fields
    assert (f0["DFSC"], f1["DFSC"], f1["WnR"]) == (0x10, 0x07, 1)


def test_error_records_through_errselr_and_erx(make_machine):
    """TF-A ser_probe_sysreg: ERRIDR_EL1.NUM, write ERRSELR_EL1, read ERXSTATUS_EL1; a W1C
    write through ERXSTATUS_EL1 clears it; SEL >= NUM is RAZ/WI."""
    m = make_machine()
    pe = m.pes[0]
    m.inject("tlb", cpu=0, signal="none")
    assert pe.read_sysreg("ERRIDR_EL1") == 3
    pe.write_sysreg("ERRSELR_EL1", ERRSELR_EL1.encode(SEL=1))
    st = pe.read_sysreg("ERXSTATUS_EL1")
    assert decode_register("errstatus", st).fields["V"] == 1
    pe.write_sysreg("ERXSTATUS_EL1", st)
    assert pe.read_sysreg("ERXSTATUS_EL1") == 0
    pe.write_sysreg("ERRSELR_EL1", ERRSELR_EL1.encode(SEL=9))
    assert pe.read_sysreg("ERXSTATUS_EL1") == 0


def test_pe_node_interrupt_is_a_ppi_and_spurious_ack(make_machine):
    """A PE node's RAS interrupt is a PPI on that PE (FIQ to EL3, Table D1-21 with
    SCR_EL3.FIQ=1); acknowledging with nothing active gives the spurious INTID 1023."""
    m = make_machine()
    pe = m.pes[0]
    acks = []
    pe.install(3, Recorder(lambda pe, e: (acks.append(pe.acknowledge_interrupt()),
                                          acks.append(pe.acknowledge_interrupt()), pe.eret())))
    at_el(pe, 0)
    m.ras_interrupt(pe.node)
    assert acks == [RAS_PPI, SPURIOUS_INTID]


def test_halt_stops_programs(make_machine):
    """A platform panic (machine.halt) stops every PE: programs end with "halted"."""
    m = make_machine()
    pe = m.pes[0]
    pe.install(3, Recorder(lambda pe, e: pe.machine.halt("plat_handle_uncontainable_ea")))
    m.inject("memory-ue", pa=PA)
    proc = pe.run([("loop", 10, [("load", PA)])], el=0)
    m.engine.run()
    assert proc.value == "halted" and m.halted and m.halt_reason == "plat_handle_uncontainable_ea"
    assert m.engine.trace.named("halt")[0].fields["reason"] == "plat_handle_uncontainable_ea"


def test_each_injection_is_one_trace_event(make_machine):
    """Every injection emits exactly one ``inject`` trace event."""
    m = make_machine()
    m.inject("memory-ue", pa=PA)
    m.inject("device-serror", pa=0x0900_0000)
    evs = m.engine.trace.named("inject")
    assert [e.fields["fault"] for e in evs] == ["memory-ue", "device-serror"]
    assert len(m.engine.trace) == 2
