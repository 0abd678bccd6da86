"""ESB and IESB (Arm ARM D20.5, reference sheet section 2)."""

from __future__ import annotations

from hw.hwhelpers import Recorder, at_el
from rasflow.formats.arm import decode_register
from rasflow.formats.arm.esr import decode_esr
from rasflow.hw import arch
from rasflow.hw.arch import serror_syndrome
from rasflow.hw.pe import DAIF_ALL


def esr_iesb(esr):
    return decode_esr(esr).fields.get("IESB")


def test_esb_defers_masked_synchronizable_serror_into_disr_el1(make_machine):
    """ESBOperation (Arm ARM D20.5, RNPPGJ): a pending synchronizable physical SError that
    is masked at the current EL is recorded in DISR_EL1 {A=1, IDS/AET/EA/DFSC} and its
    pending state is cleared (ISR_EL1.A reads 0)."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    at_el(pe, 1, a=1)
    syn = serror_syndrome("UER")
    pe.raise_serror(syn)
    assert decode_register("isr", pe.read_sysreg("ISR_EL1")).fields["A"] == 1
    pe.esb()
    disr = decode_register("disr", pe.read_sysreg("DISR_EL1")).fields
    assert (disr["A"], disr["IDS"], disr["AET"], disr["DFSC"]) == (1, 0, 3, 0x11)
    assert pe.serror_pending is None
    assert decode_register("isr", pe.read_sysreg("ISR_EL1")).fields["A"] == 0


def test_esb_does_not_defer_a_non_synchronizable_serror(make_machine):
    """R_SFHDS: a pending SError that is not synchronizable stays pending and DISR_EL1 is
    not updated by an ESB executed with SErrors masked."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    at_el(pe, 1, a=1)
    pe.raise_serror(serror_syndrome("UEU"), synchronizable=False)
    pe.esb()
    assert pe.read_sysreg("DISR_EL1") == 0 and pe.serror_pending is not None


def test_esb_synchronizes_an_error_still_in_flight(make_machine):
    """SynchronizeErrors: an SError on its way (raised with a delay) becomes pending at the
    ESB, before it would have arrived; its later arrival does nothing."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    at_el(pe, 1, a=1)
    pe.raise_serror(serror_syndrome("UEO"), delay_ns=50)
    assert pe.serror_pending is None
    pe.esb()
    assert decode_register("disr", pe.read_sysreg("DISR_EL1")).fields["AET"] == 2
    m.engine.run()
    assert pe.serror_pending is None
    assert len(m.engine.trace.named("serror_pending")) == 1


def test_esb_with_scr_el3_ea_takes_serror_to_el3_and_disr_reads_zero(make_machine):
    """SCR_EL3.EA=1 (Table D1-23: never masked below EL3): the ESB does not defer into
    DISR_EL1; the SError is taken to EL3 at the ESB with the ESB as preferred return
    address (R_KNWBN); an EL1 read of DISR_EL1 is RAZ (D24.9.1)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("eret")
    pe.install(3, fw)
    at_el(pe, 1, a=1)
    pe.pc = 0xFFFF_0000_1000
    pe.raise_serror(serror_syndrome("UER"), delay_ns=10)
    pe.esb()
    e = fw.entries[0]
    assert (e.target_el, e.kind, e.from_el, e.elr) == (3, "serror", 1, 0xFFFF_0000_1000)
    assert decode_esr(e.esr).fields["AET"] == 3 and esr_iesb(e.esr) == 0
    assert pe.regs["DISR_EL1"] == 0 and pe.read_sysreg("DISR_EL1") == 0
    pe.regs["DISR_EL1"] = 0x8000_0000
    assert pe.read_sysreg("DISR_EL1") == 0  # RAZ at EL1 with EA=1
    pe.write_sysreg("DISR_EL1", 0)
    assert pe.regs["DISR_EL1"] == 0x8000_0000  # WI
    assert pe.pstate.el == 1


def test_esb_takes_unmasked_serror_at_current_el(make_machine):
    """TakeUnmaskedSErrorInterrupts: with PSTATE.A=0 at EL1 (target EL1) the ESB takes
    the SError instead of deferring it."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    k = Recorder("eret")
    pe.install(1, k)
    at_el(pe, 1, a=1)
    pe.raise_serror(serror_syndrome("UEO"), delay_ns=5)
    pe.pstate.daif = 0
    pe.esb()
    assert k.entries[0].kind == "serror" and k.entries[0].vector_offset == 0x380
    assert pe.regs["DISR_EL1"] == 0


def test_iesb_at_entry_takes_unmasked_serror_first(make_machine):
    """D20.5.3.1: with SCTLR_EL1.IESB=1 exception entry to EL1 is an error synchronization
    event; an SError it makes pending that is not masked (SCR_EL3.EA=1) is taken first,
    to EL3, with ESR_EL3.IESB=1 and the original vector as preferred return address;
    when EL3 returns, the original handler runs."""
    m = make_machine(firmware_first=True, iesb=True)
    pe = m.pes[0]
    order = []
    fw = Recorder(lambda pe, e: (order.append("el3"), pe.eret()))
    k = Recorder(lambda pe, e: (order.append("el1"), pe.eret(e.elr, e.spsr)))
    pe.install(3, fw)
    pe.install(1, k)
    at_el(pe, 0)
    pe.raise_serror(serror_syndrome("UER"), delay_ns=20)
    pe.pc = 0x40_0000
    pe.svc(0)
    assert order == ["el3", "el1"]
    e3 = fw.entries[0]
    assert esr_iesb(e3.esr) == 1 and e3.elr == pe.regs["VBAR_EL1"] + 0x400
    assert k.entries[0].elr == 0x40_0004 and pe.pstate.el == 0


def test_iesb_at_entry_leaves_masked_serror_pending_without_disr(make_machine):
    """I_WDSBL: an implicit error synchronization event never writes DISR_EL1; an SError
    it makes pending that is masked at the target EL stays pending."""
    m = make_machine(firmware_first=False, iesb=True)
    pe = m.pes[0]
    seen = []
    pe.install(1, Recorder(lambda pe, e: seen.append(pe.serror_pending)))
    at_el(pe, 0)
    pe.raise_serror(serror_syndrome("UER"), delay_ns=20)
    pe.svc(0)
    assert seen == [serror_syndrome("UER")] and pe.regs["DISR_EL1"] == 0


def test_iesb_at_eret_takes_serror_before_returning(make_machine):
    """D20.5.3.2 (RSKRCR, RLPKVM): with SCTLR_EL1.IESB=1 an ERET at EL1 is an error
    synchronization event; with SCR_EL3.EA=1 the SError is taken to EL3 with the ERET as
    preferred return address (ESR.IESB=1, our IMPLEMENTATION DEFINED choice), and the
    ERET then completes."""
    m = make_machine(firmware_first=True, iesb=True)
    pe = m.pes[0]
    fw = Recorder("eret")
    pe.install(3, fw)
    at_el(pe, 1, a=1)
    pe.pc = 0xFFFF_0000_2000
    pe.regs["SPSR_EL1"], pe.regs["ELR_EL1"] = arch.spsr_encode(0, 0, 0), 0x40_0040
    pe.raise_serror(serror_syndrome("UEO"), delay_ns=20)
    pe.eret()
    assert fw.entries[0].elr == 0xFFFF_0000_2000 and esr_iesb(fw.entries[0].esr) == 1
    assert (pe.pstate.el, pe.pc) == (0, 0x40_0040)


def test_two_pending_serrors_keep_the_worse_syndrome(make_machine):
    """One SError line: a second SError while one is pending merges into it, keeping the
    more severe state (UC > UEU > UER > UEO > CE) - an IMPLEMENTATION DEFINED choice."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    at_el(pe, 1, a=1)
    pe.raise_serror(serror_syndrome("UEO"))
    pe.raise_serror(serror_syndrome("UER"))
    pe.raise_serror(serror_syndrome("CE"))
    assert pe.serror_pending == serror_syndrome("UER")


def test_serror_pending_at_el3_is_taken_after_eret_to_a_lower_el(make_machine):
    """Table D1-23, SCR_EL3.EA=1: at EL3 the SError is masked by PSTATE.A (NMEA=0) and stays
    pending; once ERET reaches EL1 it is unmasked and taken back to EL3, with the
    preferred return address the instruction ERET returned to."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    fw = Recorder("stay")
    pe.install(3, fw)
    at_el(pe, 3, a=1)
    pe.raise_serror(serror_syndrome("UER"))
    assert fw.entries == [] and pe.serror_pending is not None
    pe.regs["SPSR_EL3"], pe.regs["ELR_EL3"] = arch.spsr_encode(1, 1, DAIF_ALL), 0xFFFF_0000_8000
    pe.eret()
    e = fw.entries[0]
    assert (e.kind, e.from_el, e.elr, e.vector_offset) == ("serror", 1, 0xFFFF_0000_8000, 0x580)
