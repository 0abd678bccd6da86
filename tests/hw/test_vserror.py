"""Virtual SError (Arm ARM D1.4.6, D20.5.1, AArch64.TakeVirtualSErrorException)."""

from __future__ import annotations

from hw.hwhelpers import Recorder, at_el
from rasflow.formats.arm import decode_register
from rasflow.formats.arm.esr import decode_esr
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import arch
from rasflow.hw.arch import serror_syndrome

GUEST_HCR = HCR_EL2.encode(RW=1, VM=1, AMO=1, IMO=1, FMO=1)
VSESR = serror_syndrome("UER")


def guest_machine(make_machine, **kw):
    m = make_machine(firmware_first=True, hcr_el2=GUEST_HCR, **kw)
    pe = m.pes[0]
    pe.regs["VSESR_EL2"] = VSESR
    return m, pe


def test_vserror_taken_at_el1_with_vsesr_syndrome_and_vse_cleared(make_machine):
    """AArch64.TakeVirtualSErrorException: a pending virtual SError (HCR_EL2.VSE=1, AMO=1,
    TGE=0) is taken to EL1 when PSTATE.A=0, with ESR_EL1 = EC 0x2F, IL=1,
    ISS = VSESR_EL2[24:0], and taking it clears HCR_EL2.VSE."""
    m, pe = guest_machine(make_machine)
    guest = Recorder("eret")
    pe.install(1, guest)
    at_el(pe, 0)
    pe.pc = 0x40_0008
    pe.regs["HCR_EL2"] |= arch.HCR_VSE
    pe.execute(("esb",))  # an instruction boundary at EL0 with PSTATE.A=0
    e = guest.entries[0]
    esr = decode_esr(e.esr)
    assert (e.target_el, e.kind, esr.ec, esr.il) == (1, "serror", 0x2F, 1)
    assert esr.iss == VSESR and e.elr == 0x40_0008 and e.vector_offset == 0x580
    assert not pe.regs["HCR_EL2"] & arch.HCR_VSE
    assert m.engine.trace.named("exception_entry")[0].fields["virtual"] is True


def test_vserror_masked_by_pstate_a(make_machine):
    """RMMYBS: a virtual SError is masked by PSTATE.A at EL0/EL1; it stays pending
    (ISR_EL1.A=1 at EL1) and is taken when software clears PSTATE.A."""
    m, pe = guest_machine(make_machine)
    guest = Recorder("eret")
    pe.install(1, guest)
    at_el(pe, 1, a=1)
    pe.regs["HCR_EL2"] |= arch.HCR_VSE
    assert guest.entries == []
    assert decode_register("isr", pe.read_sysreg("ISR_EL1")).fields["A"] == 1
    pe.daifclr("A")
    assert len(guest.entries) == 1 and guest.entries[0].vector_offset == 0x380


def test_vserror_never_taken_at_el2_or_el3(make_machine):
    """RGYGBD: virtual asynchronous exceptions are always masked at EL2 and EL3, whatever
    PSTATE.A; the vSError stays pending until the PE returns to EL1/EL0."""
    m, pe = guest_machine(make_machine)
    guest, hyp = Recorder("eret"), Recorder("eret")
    pe.install(1, guest)
    pe.install(2, hyp)
    for el in (2, 3):
        at_el(pe, el)
        pe.regs["HCR_EL2"] |= arch.HCR_VSE
        pe.daifclr("A")
        assert guest.entries == [] and hyp.entries == []
    at_el(pe, 2)
    pe.regs["SPSR_EL2"], pe.regs["ELR_EL2"] = arch.spsr_encode(0, 0, 0), 0x40_0000
    pe.eret()
    assert len(guest.entries) == 1 and hyp.entries == []


def test_vserror_needs_amo_and_not_tge(make_machine):
    """RBKHXL: with HCR_EL2.AMO=0, or TGE=1, no virtual SError is pending or taken."""
    for hcr in (HCR_EL2.encode(RW=1, VSE=1), HCR_EL2.encode(RW=1, AMO=1, TGE=1, VSE=1)):
        m = make_machine(firmware_first=False, hcr_el2=hcr)
        pe = m.pes[0]
        guest = Recorder("eret")
        pe.install(1, guest)
        at_el(pe, 0)
        pe.execute(("esb",))
        assert guest.entries == []


def test_vesb_defers_virtual_serror_into_vdisr_read_as_disr_el1(make_machine):
    """D20.5.1 RLLLVR (vESBOperation): an ESB at EL1 with the virtual SError masked records
    VSESR_EL2 in VDISR_EL2 with A=1 and clears HCR_EL2.VSE; with AMO=1 an EL1 read of
    DISR_EL1 returns VDISR_EL2 (D24.9.1)."""
    m, pe = guest_machine(make_machine)
    at_el(pe, 1, a=1)
    pe.regs["HCR_EL2"] |= arch.HCR_VSE
    pe.esb()
    vdisr = decode_register("vdisr", pe.regs["VDISR_EL2"]).fields
    assert (vdisr["A"], vdisr["AET"], vdisr["DFSC"]) == (1, 3, 0x11)
    assert not pe.regs["HCR_EL2"] & arch.HCR_VSE
    assert pe.read_sysreg("DISR_EL1") == pe.regs["VDISR_EL2"] and pe.regs["DISR_EL1"] == 0


def test_virtual_irq_taken_at_el1_unless_masked(make_machine):
    """HCR_EL2.VI (IMO=1, TGE=0) is a virtual IRQ for EL1: masked by PSTATE.I, taken to the
    IRQ vector with the INTID the vGIC presents (ICV_IAR1_EL1), clearing VI."""
    m, pe = guest_machine(make_machine)
    guest = Recorder("eret")
    pe.install(1, guest)
    at_el(pe, 0)
    pe.virq = 41
    pe.daifset("I")
    pe.regs["HCR_EL2"] |= arch.HCR_VI
    pe.execute(("esb",))
    assert guest.entries == [] and pe.regs["HCR_EL2"] & arch.HCR_VI
    pe.daifclr("I")  # unmasked: taken at once
    e = guest.entries[0]
    assert (e.target_el, e.kind, e.vector_offset) == (1, "irq", 0x480)
    assert pe.acknowledge_interrupt(fiq=False) == 41
    assert not pe.regs["HCR_EL2"] & arch.HCR_VI
