"""Routing and masking rules of the Arm ARM (DDI0487), one test per rule."""

from __future__ import annotations

import pytest

from hw.hwhelpers import Recorder, at_el
from rasflow.formats.arm.sysreg import HCR_EL2, SCR_EL3
from rasflow.hw import arch

NS = dict(NS=1, RW=1, HCE=1)


def scr(**f):
    return SCR_EL3.encode(**{**NS, **f})


def hcr(**f):
    return HCR_EL2.encode(RW=1, **f)


# --- synchronous External abort routing ------------------------------------------------
@pytest.mark.parametrize("from_el", [0, 1, 2, 3])
def test_sea_routed_to_el3_when_scr_el3_ea(from_el):
    """Arm ARM D1.4.6 / SCR_EL3.EA: with EA=1 synchronous External aborts from any EL are
    taken to EL3."""
    assert arch.sea_target_el(scr(EA=1), hcr(TEA=1, TGE=1), from_el) == 3


@pytest.mark.parametrize("from_el", [0, 1])
def test_sea_routed_to_el2_by_hcr_el2_tea(from_el):
    """Arm ARM D24.2.62 HCR_EL2.TEA: with SCR_EL3.EA=0 and EL2 enabled, TEA=1 routes
    synchronous External aborts from EL0 and EL1 to EL2."""
    assert arch.sea_target_el(scr(), hcr(TEA=1), from_el) == 2
    assert arch.sea_target_el(scr(), hcr(), from_el) == 1


def test_sea_tea_ignored_when_el2_disabled():
    """HCR_EL2 controls have no effect when EL2 is not enabled in the Security state
    (SCR_EL3.NS=0, EEL2=0): the abort stays at EL1."""
    assert arch.sea_target_el(SCR_EL3.encode(RW=1), hcr(TEA=1, TGE=1), 0) == 1


def test_sea_from_el0_routed_to_el2_by_tge():
    """HCR_EL2.TGE=1: exceptions that would go to EL1 from EL0 go to EL2 (a VHE host)."""
    assert arch.sea_target_el(scr(), hcr(TGE=1, E2H=1), 0) == 2


@pytest.mark.parametrize("from_el,target", [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_sea_default_stays_at_current_el_at_least_el1(from_el, target):
    """Without EA/TEA/TGE a synchronous External abort is taken to max(current EL, EL1)."""
    assert arch.sea_target_el(scr(), hcr(), from_el) == target


# --- SError routing ---------------------------------------------------------------------
def test_serror_routing_by_ea_amo_tge():
    """Arm ARM D1.4.6: physical SError target is EL3 if SCR_EL3.EA, else EL2 if
    HCR_EL2.AMO or TGE (EL2 enabled), else EL1."""
    assert arch.serror_target_el(scr(EA=1), hcr(AMO=1), 0) == 3
    assert arch.serror_target_el(scr(), hcr(AMO=1), 1) == 2
    assert arch.serror_target_el(scr(), hcr(TGE=1), 0) == 2
    assert arch.serror_target_el(scr(), hcr(), 0) == 1
    assert arch.serror_target_el(SCR_EL3.encode(RW=1), hcr(AMO=1), 1) == 1  # EL2 disabled


# --- Table D1-23 ------------------------------------------------------------------------
# (SCR_EL3 fields, HCR_EL2 fields) -> effect at EL0, EL1, EL2, EL3:
# A = taken regardless of PSTATE.A, B = masked by PSTATE.A, C = not taken, - = n/a.
TABLE_D1_23 = [
    ({}, {}, "BBCC"),
    ({}, {"AMO": 1}, "AABC"),
    ({}, {"TGE": 1}, "A-BC"),
    ({}, {"TGE": 1, "E2H": 1}, "B-BC"),
    ({"NMEA": 1}, {}, "BBCA"),
    ({"NMEA": 1}, {"AMO": 1}, "AABA"),
    ({"NMEA": 1}, {"TGE": 1}, "A-BA"),
    ({"NMEA": 1}, {"TGE": 1, "E2H": 1}, "B-BA"),
    ({"TMEA": 1}, {}, "AAAC"),
    ({"TMEA": 1}, {"TGE": 1}, "A-AC"),
    ({"TMEA": 1, "NMEA": 1}, {}, "AAAA"),
    ({"EA": 1}, {}, "AAAB"),
    ({"EA": 1}, {"TGE": 1}, "A-AB"),
    ({"EA": 1, "NMEA": 1}, {}, "AAAA"),
    ({"EA": 1, "NMEA": 1}, {"TGE": 1}, "A-AA"),
]


@pytest.mark.parametrize("scr_f,hcr_f,row", TABLE_D1_23,
                         ids=[f"{s}-{h}" for s, h, _ in TABLE_D1_23])
def test_table_d1_23_serror_masking(scr_f, hcr_f, row):
    """Arm ARM Table D1-23 (SError exception masking when EL2 is using AArch64), row by
    row: A = not masked whatever PSTATE.A, B = masked exactly when PSTATE.A=1,
    C = never taken."""
    s, h = scr(**scr_f), hcr(**hcr_f)
    for el, effect in enumerate(row):
        if effect == "-":
            continue
        got = (arch.physical_serror_masked(s, h, el, False),
               arch.physical_serror_masked(s, h, el, True))
        want = {"A": (False, False), "B": (False, True), "C": (True, True)}[effect]
        assert got == want, f"EL{el}: {effect}"


def test_table_d1_23_el2_disabled_uses_effective_zero_hcr():
    """Table D1-23 terms: with EL2 disabled (NS=0, EEL2=0) AMO/TGE/E2H are effectively 0:
    the AMO=0,TGE=0 row applies even if HCR_EL2 says otherwise."""
    s = SCR_EL3.encode(RW=1)
    for el in (0, 1):
        assert not arch.physical_serror_masked(s, hcr(AMO=1), el, False)
        assert arch.physical_serror_masked(s, hcr(AMO=1), el, True)


def test_pe_physical_serror_masked_reads_pstate_a(make_machine):
    """The PE applies Table D1-23 to its own SCR_EL3/HCR_EL2/PSTATE: with SCR_EL3.EA=1 an
    SError is not masked at EL1 even with PSTATE.A=1."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    at_el(pe, 1, a=1)
    assert not pe.physical_serror_masked()
    m2 = make_machine(firmware_first=False)
    at_el(m2.pes[0], 1, a=1)
    assert m2.pes[0].physical_serror_masked()


# --- IRQ/FIQ (Table D1-21) --------------------------------------------------------------
def test_table_d1_21_fiq_routed_to_el3_unmaskable_below():
    """Arm ARM Table D1-21: SCR_EL3.FIQ=1 routes FIQs to EL3; they are taken regardless of
    PSTATE.F at EL0-EL2 and masked by PSTATE.F at EL3."""
    s = scr(FIQ=1)
    assert arch.interrupt_target_el(s, hcr(), True) == 3
    assert not arch.interrupt_masked(s, hcr(), 1, True, True)
    assert arch.interrupt_masked(s, hcr(), 3, True, True)
    assert not arch.interrupt_masked(s, hcr(), 3, True, False)


def test_table_d1_21_irq_to_el1_masked_by_i_and_not_taken_at_el2():
    """Arm ARM Table D1-21, IMO=0 TGE=0: an IRQ for EL1 is masked by PSTATE.I at EL0/EL1
    and is not taken at EL2 (target below the current EL)."""
    s, h = scr(), hcr()
    assert arch.interrupt_target_el(s, h, False) == 1
    assert arch.interrupt_masked(s, h, 0, False, True)
    assert not arch.interrupt_masked(s, h, 0, False, False)
    assert arch.interrupt_masked(s, h, 2, False, False)


# --- vectors ------------------------------------------------------------------------------
@pytest.mark.parametrize("target,from_el,sp,kind,offset", [
    (1, 1, 0, "sync", 0x000), (1, 1, 1, "sync", 0x200), (1, 0, 0, "sync", 0x400),
    (1, 1, 0, "serror", 0x180), (1, 1, 1, "irq", 0x280), (2, 1, 1, "serror", 0x580),
    (3, 2, 1, "fiq", 0x500), (3, 3, 1, "serror", 0x380),
])
def test_vector_offsets(target, from_el, sp, kind, offset):
    """Arm ARM RRYXCL: VBAR_ELx + 0x000 (current EL, SP_EL0), 0x200 (current EL, SP_ELx),
    0x400 (lower EL, AArch64), + 0x000 sync, 0x080 IRQ, 0x100 FIQ, 0x180 SError."""
    assert arch.vector_offset(target, from_el, sp, kind) == offset


def test_ease_sends_external_aborts_to_el3_serror_vector(make_machine):
    """Arm ARM RRYXCL: with SCR_EL3.EASE=1 a synchronous External abort taken to EL3 uses
    the SError vector offset (0x580 from a lower EL)."""
    m = make_machine(firmware_first=True)
    pe = m.pes[0]
    pe.regs["SCR_EL3"] |= arch.SCR_EASE
    fw = Recorder("skip")
    pe.install(3, fw)
    m.inject("memory-ue", pa=0x4000_0000)
    at_el(pe, 0)
    pe.load(0x4000_0000)
    e = fw.entries[0]
    assert (e.kind, e.vector_offset) == ("sync", 0x580)


# --- exception-generating instructions ------------------------------------------------
def test_svc_hvc_smc_targets(make_machine):
    """Arm ARM D1.4.1: SVC from EL0 goes to EL1 (EL2 with HCR_EL2.TGE), HVC to EL2, SMC to
    EL3; the preferred return address is the next instruction; HVC/SMC at EL0 are
    UNDEFINED (EC 0x00 to EL1, ELR = the instruction); HCR_EL2.TSC traps SMC from EL1 to
    EL2 with ELR = the SMC."""
    m = make_machine()
    pe = m.pes[0]
    rec = {el: Recorder("stay") for el in (1, 2, 3)}
    for el, r in rec.items():
        pe.install(el, r)
    at_el(pe, 0)
    pe.pc = 0x1000
    pe.svc(7)
    e = rec[1].entries[-1]
    assert (e.target_el, e.esr >> 26, e.esr & 0xFFFF, e.elr) == (1, 0x15, 7, 0x1004)
    pe.pc = 0x2000
    pe.hvc(1)
    e = rec[2].entries[-1]
    assert (e.target_el, e.esr >> 26, e.elr) == (2, 0x16, 0x2004)
    pe.pc = 0x3000
    pe.smc(0)
    e = rec[3].entries[-1]
    assert (e.target_el, e.esr >> 26, e.elr) == (3, 0x17, 0x3004)
    at_el(pe, 0)
    pe.pc = 0x4000
    pe.hvc(0)
    e = rec[1].entries[-1]
    assert (e.esr >> 26, e.elr) == (0, 0x4000)
    at_el(pe, 1)
    pe.regs["HCR_EL2"] |= arch.HCR_TSC
    pe.pc = 0x5000
    pe.smc(0)
    e = rec[2].entries[-1]
    assert (e.esr >> 26, e.elr) == (0x17, 0x5000)
    at_el(pe, 0)
    pe.regs["HCR_EL2"] |= arch.HCR_TGE
    pe.svc(0)
    assert rec[2].entries[-1].esr >> 26 == 0x15


def test_register_constants_come_from_the_declarations():
    """The PE's precomputed masks are the formats declarations' encodings (no hand masks)."""
    assert arch.SCR_EA == SCR_EL3.encode(EA=1) and arch.HCR_VSE == HCR_EL2.encode(VSE=1)
    assert arch.HCR_TEA == HCR_EL2.encode(TEA=1) and arch.SCR_NMEA == SCR_EL3.encode(NMEA=1)
    assert arch.sea_esr(same_el=False) == 0x9200_0010  # EC 0x24, IL, DFSC 0x10, SET=UER
    assert arch.sea_esr(same_el=True, set_="UC") == 0x9600_1010
