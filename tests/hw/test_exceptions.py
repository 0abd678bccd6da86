"""Exception entry and return (Arm ARM D1.4.2, AArch64.TakeException, ERET)."""

from __future__ import annotations

from hw.hwhelpers import Recorder, at_el
from rasflow.formats.arm import decode_register
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import arch
from rasflow.hw.machine import VBAR
from rasflow.hw.pe import DAIF_ALL


def test_exception_entry_writes_target_registers(make_machine):
    """AArch64.TakeException: ESR/ELR/SPSR/FAR of the target EL get the syndrome, the
    preferred return address, the old PSTATE and the faulting VA; PSTATE becomes ELxh with
    DAIF all masked; execution goes to VBAR_ELx + offset."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    rec = Recorder("stay")
    pe.install(1, rec)
    at_el(pe, 0)
    pe.pstate.daif = arch.SPSR_I
    e = pe.take_exception(1, "sync", 0x9200_0010, 0xDEAD_0000, return_address=0x40_0010)
    r = pe.regs
    assert (r["ESR_EL1"], r["ELR_EL1"], r["FAR_EL1"]) == (0x9200_0010, 0x40_0010, 0xDEAD_0000)
    spsr = decode_register("spsr", r["SPSR_EL1"]).fields
    assert (spsr["M[3:0]"], spsr["I"], spsr["A"]) == (0, 1, 0)
    assert (pe.pstate.el, pe.pstate.sp, pe.pstate.daif) == (1, 1, DAIF_ALL)
    assert e.vector_address == VBAR[1] + 0x400 and rec.entries == [e]
    assert (e.esr, e.far, e.elr, e.spsr) == (0x9200_0010, 0xDEAD_0000, 0x40_0010, r["SPSR_EL1"])
    ev = m.engine.trace.named("exception_entry")[0]
    assert ev.fields["esr_decoded"]["ec"] == "DABT (lower EL)"


def test_irq_does_not_write_esr_or_far(make_machine):
    """IRQ/FIQ exceptions leave ESR_ELx and FAR_ELx unchanged."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    pe.install(1, Recorder("stay"))
    pe.regs["ESR_EL1"], pe.regs["FAR_EL1"] = 0x1234, 0x5678
    at_el(pe, 0)
    e = pe.take_exception(1, "irq", None, return_address=0x100)
    assert (pe.regs["ESR_EL1"], pe.regs["FAR_EL1"]) == (0x1234, 0x5678)
    assert e.vector_offset == 0x480


def test_eret_restores_pstate_and_pc(make_machine):
    """ERET: PSTATE from SPSR_ELx (EL, SP, DAIF), PC from ELR_ELx."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    at_el(pe, 1)
    pe.regs["SPSR_EL1"] = arch.spsr_encode(0, 0, arch.SPSR_F)
    pe.regs["ELR_EL1"] = 0x40_0100
    pe.eret()
    assert (pe.pstate.el, pe.pstate.sp, pe.pstate.daif, pe.pc) == (0, 0, arch.SPSR_F, 0x40_0100)
    assert m.engine.trace.named("eret")[0].fields["el"] == 0


def test_illegal_exception_return(make_machine):
    """An ERET to a higher EL (or EL2 when EL2 is disabled) is an illegal return: EL is
    unchanged and PSTATE.IL is set."""
    m = make_machine()
    pe = m.pes[0]
    at_el(pe, 1)
    pe.regs["SPSR_EL1"] = arch.spsr_encode(2, 1, 0)
    pe.eret()
    assert pe.pstate.el == 1 and pe.pstate.il
    assert m.engine.trace.named("eret")[0].fields["illegal"]


def test_eret_to_a_vector_runs_that_handler(make_machine):
    """TF-A inject_sync_ea64: EL3 writes ESR/ELR/SPSR/FAR_EL2, sets ELR_EL3 to
    VBAR_EL2 + 0x400 with SPSR_EL3 = EL2h DAIF masked and ERETs: the EL2 handler runs with
    the entry those registers describe."""
    m = make_machine(hcr_el2=HCR_EL2.encode(RW=1, TGE=1, E2H=1))
    pe = m.pes[0]
    hyp = Recorder("stay")
    pe.install(2, hyp)
    at_el(pe, 3)
    r = pe.regs
    r["ESR_EL2"], r["FAR_EL2"], r["ELR_EL2"] = 0x9200_0010, 0xAB00, 0x40_0000
    r["SPSR_EL2"] = arch.spsr_encode(0, 0, 0)
    r["ELR_EL3"] = r["VBAR_EL2"] + 0x400
    r["SPSR_EL3"] = arch.spsr_encode(2, 1, DAIF_ALL)
    pe.eret()
    e = hyp.entries[0]
    assert (e.target_el, e.kind, e.from_el, e.esr, e.far, e.elr) == \
        (2, "sync", 0, 0x9200_0010, 0xAB00, 0x40_0000)
    assert m.engine.trace.named("exception_entry")[-1].fields["via"] == "eret"


def test_eret_to_an_installed_entry_runs_that_software(make_machine):
    """Software at an address that is not a vector (a guest's delegated error recovery
    agent): an ERET landing there runs it at the new EL; an ERET elsewhere runs nothing."""
    m = make_machine(hcr_el2=HCR_EL2.encode(RW=1))
    pe = m.pes[0]
    ran = []
    agent = pe.regs["VBAR_EL1"] + 0x800
    pe.install_entry(1, agent, lambda p: ran.append((p.pstate.el, p.pc)))
    for target in (agent + 0x40, agent):
        at_el(pe, 2)
        pe.regs["ELR_EL2"], pe.regs["SPSR_EL2"] = target, arch.spsr_encode(1, 1, DAIF_ALL)
        pe.eret()
    assert ran == [(1, agent + 4)]


def test_hpfar_el2_gets_the_ipa_of_an_abort_taken_to_el2(make_machine):
    """With stage 2 on, an abort taken to EL2 records the faulting IPA in HPFAR_EL2.FIPA
    (IPA[51:12]) and the VA in FAR_EL2."""
    m = make_machine(firmware_first=False, hcr_el2=HCR_EL2.encode(RW=1, VM=1, TEA=1))
    pe = m.pes[0]
    hyp = Recorder("skip")
    pe.install(2, hyp)
    m.inject("memory-ue", pa=0x4000_3000)
    at_el(pe, 0)
    pe.load(0x1234_5000, lambda va: (0x4000_3000, 0x8_0000_3000))
    hpfar = decode_register_hpfar(pe.regs["HPFAR_EL2"])
    assert hpfar == 0x8_0000_3000 >> 12
    assert hyp.seen[0][1]["FAR_EL2"] == 0x1234_5000


def decode_register_hpfar(value):
    from rasflow.formats.arm.sysreg_fault import HPFAR_EL2

    return HPFAR_EL2.decode(value).fields["FIPA"]


def test_nested_exception_at_same_el_uses_spx_group(make_machine):
    """An exception taken from ELx with SP_ELx to ELx uses the 0x200 group (e.g. an
    SError at EL1 after the handler unmasks PSTATE.A: offset 0x380)."""
    m = make_machine(firmware_first=False)
    pe = m.pes[0]
    inner = []

    def handler(pe, e):
        inner.append(e)
        if len(inner) == 1:
            pe.raise_serror(arch.serror_syndrome("UEO"))
            assert len(inner) == 1  # masked at EL1 by PSTATE.A
            pe.daifclr("A")
            pe.eret(e.elr, e.spsr)
        else:
            pe.eret()

    pe.install(1, Recorder(handler))
    at_el(pe, 0)
    pe.svc(0)
    assert [(e.kind, e.vector_offset) for e in inner] == [("sync", 0x400), ("serror", 0x380)]
    assert pe.pstate.el == 0
