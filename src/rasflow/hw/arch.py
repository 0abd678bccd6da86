"""Architecture rules as pure functions of register values, and the register constants the
PE uses, each built once at import from the declarations in :mod:`rasflow.formats.arm`.

Routing and masking follow the Arm ARM (DDI0487): synchronous External abort routing
(SCR_EL3.EA, HCR_EL2.TEA/TGE), SError routing (SCR_EL3.EA, HCR_EL2.AMO/TGE), Table D1-23
(SError masking when EL2 is using AArch64), Table D1-21 (IRQ/FIQ masking) and the virtual
SError table (RBKHXL). FEAT_DoubleFault2 controls (SCTLR2_ELx.NMEA, HCRX_EL2.TMEA) are
not implemented: their Effective value is 0.
"""

from __future__ import annotations

from functools import lru_cache

from ..formats.arm.esr import ESR_ELx, encode_esr
from ..formats.arm.kernel import (
    ESR_ELx_EC_DABT_CUR,
    ESR_ELx_EC_DABT_LOW,
    ESR_ELx_EC_SERROR,
    ESR_ELx_FSC_EXTABT,
    ESR_ELx_FSC_SERROR,
    ESR_ELx_ISS_MASK,
)
from ..formats.arm.names import AET_SHORT, MODE64_NAMES, SET_NAMES
from ..formats.arm.sysreg import (
    DISR_EL1,
    HCR_EL2,
    ISR_EL1,
    SCR_EL3,
    VDISR_EL2,
    SCTLR_ELx,
    SPSR_ELx,
)


def bit(reg, name: str, layout: int = 0) -> int:
    """The mask of field ``name`` in a register declaration (or one of its layouts)."""
    lay = reg.layouts[layout] if hasattr(reg, "layouts") else reg
    f = lay.by_name[name]
    return f.max << f.lsb


# --- controls --------------------------------------------------------------------------
SCR_EA, SCR_NMEA, SCR_TMEA, SCR_EASE = (bit(SCR_EL3, n) for n in ("EA", "NMEA", "TMEA", "EASE"))
SCR_NS, SCR_EEL2, SCR_HCE, SCR_SMD = (bit(SCR_EL3, n) for n in ("NS", "EEL2", "HCE", "SMD"))
SCR_IRQ, SCR_FIQ = bit(SCR_EL3, "IRQ"), bit(SCR_EL3, "FIQ")
HCR_AMO, HCR_IMO, HCR_FMO = bit(HCR_EL2, "AMO"), bit(HCR_EL2, "IMO"), bit(HCR_EL2, "FMO")
HCR_TGE, HCR_E2H, HCR_TEA = bit(HCR_EL2, "TGE"), bit(HCR_EL2, "E2H"), bit(HCR_EL2, "TEA")
HCR_VSE, HCR_TSC = bit(HCR_EL2, "VSE"), bit(HCR_EL2, "TSC")
HCR_VI = bit(HCR_EL2, "VI")
HCR_ASYNC = HCR_VSE | HCR_VI  # a virtual SError or IRQ is pending
SCTLR_IESB = bit(SCTLR_ELx, "IESB")
ISR_A, ISR_I, ISR_F = bit(ISR_EL1, "A"), bit(ISR_EL1, "I"), bit(ISR_EL1, "F")

# --- ESR values ------------------------------------------------------------------------
ESR_SERROR = encode_esr(EC=ESR_ELx_EC_SERROR, IL=1)
"""ESR_ELx of an SError with an all-zero ISS (Uncategorized); OR the 25-bit syndrome in."""
_SERROR_RAS = next(lay for lay in ESR_ELx.layouts if lay.label == "SError, IDS=0, DFSC=0x11")
ESR_IESB = bit(_SERROR_RAS, "IESB")
ISS_MASK = ESR_ELx_ISS_MASK
SET = {name[name.index("(") + 1:-1]: code for code, name in SET_NAMES.items()}
"""Short name -> ESR_ELx.SET of a synchronous External abort (UER, UC, UEO)."""
SET["UEU"] = SET["UC"]  # EncodeSyncErrorSyndrome: UEU is reported as UC
AET = {short: code for code, short in AET_SHORT.items()}
"""Short name -> AET code (UC, UEU, UEO, UER, CE)."""


def sea_esr(*, same_el: bool, set_: str = "UER", wnr: int = 0, ea: int = 0,
            fnv: int = 0) -> int:
    """ESR_ELx of a synchronous External abort on a data access, not on a walk
    (EC 0x24/0x25, IL=1, ISV=0, SET, FnV, EA, WnR, DFSC 0x10)."""
    key = (same_el, set_, wnr, ea, fnv)
    v = _SEA_CACHE.get(key)
    if v is None:
        v = _SEA_CACHE[key] = encode_esr(
            EC=ESR_ELx_EC_DABT_CUR if same_el else ESR_ELx_EC_DABT_LOW, IL=1, ISV=0,
            SET=SET[set_], FnV=fnv, EA=ea, WnR=wnr, DFSC=ESR_ELx_FSC_EXTABT)
    return v


_SEA_CACHE: dict[tuple, int] = {}


def serror_syndrome(aet: str = "UER", *, ea: int = 0, ids: int = 0, impdef: int = 0) -> int:
    """The 25-bit SError ISS a device or node reports: IDS=0 with AET, EA and DFSC 0x11,
    or IDS=1 with an IMPLEMENTATION DEFINED value."""
    if ids:
        return encode_esr(EC=ESR_ELx_EC_SERROR, IDS=1, IMPDEF=impdef) & ISS_MASK
    return encode_esr(EC=ESR_ELx_EC_SERROR, IDS=0, AET=AET[aet], EA=ea,
                      DFSC=ESR_ELx_FSC_SERROR) & ISS_MASK


def serror_aet(syndrome: int) -> str:
    """The AET short name of an SError syndrome (UC when IDS=1 or Uncategorized)."""
    f = ESR_ELx.decode(ESR_SERROR | syndrome).fields
    return AET_SHORT.get(f["AET"], "UC") if "AET" in f else "UC"


# --- DISR_EL1 / VDISR_EL2 --------------------------------------------------------------
DISR_A = bit(DISR_EL1, "A")
_DISR_IDS = {}
for _lay in DISR_EL1.layouts:
    _ids = next(iter(_lay.when["IDS"]))
    _DISR_IDS[_ids] = sum(f.max << f.lsb for f in _lay.fields if not f.kind and f.name != "A")
_IDS = bit(DISR_EL1, "IDS")
VDISR_A = bit(VDISR_EL2, "A")


def disr_from_syndrome(syndrome: int) -> int:
    """DISR_EL1 an ESB writes for a deferred physical SError: A=1 and the fields of the
    syndrome that DISR_EL1 holds (IDS, and AET/EA/DFSC/WU/WnR(V) or the IMPDEF value)."""
    return DISR_A | (syndrome & _DISR_IDS[1 if syndrome & _IDS else 0])


def vdisr_from_vsesr(vsesr: int) -> int:
    """VDISR_EL2 a virtual ESB writes: A=1 and VSESR_EL2[24:0] (IDS, ISS)."""
    return VDISR_A | (vsesr & ISS_MASK)


# --- PSTATE <-> SPSR -------------------------------------------------------------------
MODE = {name: code for code, name in MODE64_NAMES.items()}  # "EL1h" -> 0b0101
_MODE_EL_SP = {code: (int(name[2]), 1 if name[3] == "h" else 0)
               for code, name in MODE64_NAMES.items()}
_SPSR_M4 = bit(SPSR_ELx, "M[4]")
SPSR_IL = bit(SPSR_ELx, "IL")
SPSR_D, SPSR_A, SPSR_I, SPSR_F = (bit(SPSR_ELx, n) for n in "DAIF")
DAIF_ALL = SPSR_D | SPSR_A | SPSR_I | SPSR_F  # every exception masked


def spsr_encode(el: int, sp: int, daif: int) -> int:
    """SPSR_ELx for PSTATE {EL, SP, D, A, I, F} (``daif`` as SPSR bits)."""
    return SPSR_TABLE[el, sp] | daif


SPSR_TABLE = {
    (el, sp): SPSR_ELx.encode(**{"M[4]": 0, "M[3:0]": MODE[f"EL{el}{'h' if sp else 't'}"]})
    for el in range(4) for sp in (0, 1) if f"EL{el}{'h' if sp else 't'}" in MODE
}
SPSR_TABLE[0, 1] = SPSR_TABLE[0, 0]  # EL0 always uses SP_EL0
SPSR_ELH_MASKED = {el: spsr_encode(el, 1, DAIF_ALL) for el in (1, 2, 3)}
"""create_spsr(): ELxh with every exception masked, by EL (what an exception entry sets)."""


@lru_cache(maxsize=4096)
def spsr_decode(spsr: int) -> tuple[int, int, int, bool] | None:
    """(EL, SP, DAIF bits, IL) from an SPSR_ELx, or None if M is not an AArch64 mode
    (memoised: software writes back the few values it read)."""
    if spsr & _SPSR_M4:
        return None
    mode = _MODE_EL_SP.get(_M_FIELD.get(spsr))
    if mode is None:
        return None
    return mode[0], mode[1], spsr & DAIF_ALL, bool(spsr & SPSR_IL)




_M_FIELD = SPSR_ELx.layouts[0].by_name["M[3:0]"]


# --- routing ---------------------------------------------------------------------------
def el2_enabled(scr: int, el2: bool = True) -> bool:
    """EL2 is implemented and enabled in the current Security state (NS=1, or EEL2=1)."""
    return el2 and bool(scr & (SCR_NS | SCR_EEL2))


def sync_target_el(scr: int, hcr: int, from_el: int, *, el2: bool = True) -> int:
    """Target of a synchronous exception that is not routed by a specific control:
    EL0 goes to EL1, or to EL2 when HCR_EL2.TGE=1; others stay at their EL."""
    if from_el == 0:
        return 2 if el2_enabled(scr, el2) and hcr & HCR_TGE else 1
    return from_el


def sea_target_el(scr: int, hcr: int, from_el: int, *, el2: bool = True) -> int:
    """Synchronous External abort routing (Arm ARM D24.2.62 HCR_EL2.TEA, SCR_EL3.EA):
    SCR_EL3.EA=1 -> EL3; else from EL0/EL1 with EL2 enabled and HCR_EL2.TEA=1, or from
    EL0 with HCR_EL2.TGE=1 -> EL2; else the current EL, at least EL1."""
    if scr & SCR_EA or from_el == 3:
        return 3
    if from_el < 2 and el2_enabled(scr, el2) and hcr & (HCR_TEA | HCR_TGE):
        return 2
    return max(from_el, 1)


def serror_target_el(scr: int, hcr: int, from_el: int, *, el2: bool = True) -> int:
    """Physical SError routing (Arm ARM D1.4.6): SCR_EL3.EA=1 -> EL3; else EL2 when EL2
    is enabled and HCR_EL2.AMO or TGE is 1; else EL1. (A target below the current EL
    means the SError is masked there: see :func:`physical_serror_masked`.)"""
    if scr & SCR_EA:
        return 3
    if el2_enabled(scr, el2) and hcr & (HCR_AMO | HCR_TGE):
        return 2
    return 1


def _async_masked(to_el3: bool, mo: bool, tge: bool, e2h: bool, el: int, pmask: bool,
                  nmea: bool = False) -> bool:
    """The shape shared by Table D1-21 (IRQ/FIQ) and Table D1-23 (SError) for AArch64:
    A (taken regardless), B (masked by the PSTATE bit) or C (not taken)."""
    if to_el3:
        return el == 3 and pmask and not nmea  # EL0-2: A; EL3: B, or A with NMEA
    if el == 3:
        return not nmea  # C: the target is below EL3 (A with SCR_EL3.NMEA for SError)
    if tge:  # EL1 is n/a; E2H=1 (a VHE host) lets PSTATE mask EL0 too
        return pmask if e2h or el == 2 else False
    if mo:
        return pmask if el == 2 else False  # EL0/EL1: A; EL2: B
    return True if el == 2 else pmask  # EL0/EL1: B; EL2: C (the target is EL1)


def physical_serror_masked(scr: int, hcr: int, el: int, a: bool, *, el2: bool = True) -> bool:
    """Arm ARM Table D1-23, SError exception masking when EL2 is using AArch64.

    SCR_EL3.EA=1: taken regardless of PSTATE.A at EL0-EL2; at EL3 masked by PSTATE.A
    unless SCR_EL3.NMEA=1. SCR_EL3.EA=0: at EL3 not taken (unless NMEA); SCR_EL3.TMEA=1
    makes it unmaskable below EL3; HCR_EL2.TGE=1: EL0 unmaskable (E2H=0) or masked by A
    (E2H=1), EL2 masked by A; AMO=1,TGE=0: unmaskable at EL0/EL1, masked by A at EL2;
    AMO=0,TGE=0: masked by A at EL0/EL1, not taken at EL2."""
    if not scr & SCR_EA and scr & SCR_TMEA and el < 3:
        return False
    on = el2_enabled(scr, el2)
    return _async_masked(bool(scr & SCR_EA), on and bool(hcr & HCR_AMO),
                         on and bool(hcr & HCR_TGE), on and bool(hcr & HCR_E2H), el, a,
                         bool(scr & SCR_NMEA))


def interrupt_target_el(scr: int, hcr: int, fiq: bool, *, el2: bool = True) -> int:
    """Physical IRQ/FIQ routing: SCR_EL3.IRQ/FIQ -> EL3; HCR_EL2.IMO/FMO or TGE -> EL2; EL1."""
    if scr & (SCR_FIQ if fiq else SCR_IRQ):
        return 3
    if el2_enabled(scr, el2) and hcr & ((HCR_FMO if fiq else HCR_IMO) | HCR_TGE):
        return 2
    return 1


def interrupt_masked(scr: int, hcr: int, el: int, fiq: bool, pmask: bool, *,
                     el2: bool = True) -> bool:
    """Arm ARM Table D1-21, FIQ and IRQ interrupt masking (Non-secure, EL2 AArch64)."""
    on = el2_enabled(scr, el2)
    return _async_masked(bool(scr & (SCR_FIQ if fiq else SCR_IRQ)),
                         on and bool(hcr & (HCR_FMO if fiq else HCR_IMO)),
                         on and bool(hcr & HCR_TGE), on and bool(hcr & HCR_E2H), el, pmask)


def virtual_serror_enabled(scr: int, hcr: int, *, el2: bool = True) -> bool:
    """A virtual SError can be pending: EL2 enabled, HCR_EL2.TGE=0 and AMO=1 (RBKHXL)."""
    return el2_enabled(scr, el2) and not hcr & HCR_TGE and bool(hcr & HCR_AMO)


def virtual_serror_masked(scr: int, hcr: int, el: int, a: bool, *, el2: bool = True) -> bool:
    """Virtual SError masking (Arm ARM RMMYBS/RBKHXL): only at EL0/EL1, by PSTATE.A; always
    masked at EL2 and EL3 and when virtual SErrors are not enabled."""
    if el >= 2 or not virtual_serror_enabled(scr, hcr, el2=el2):
        return True
    return a


VECTOR_OFFSET = {"sync": 0x000, "irq": 0x080, "fiq": 0x100, "serror": 0x180}
"""Offset within a vector group by exception type (Arm ARM RRYXCL)."""
GROUP_SP0, GROUP_SPX, GROUP_LOWER64 = 0x000, 0x200, 0x400
"""Vector groups: current EL with SP_EL0, current EL with SP_ELx, lower EL (AArch64)."""


def vector_offset(target_el: int, from_el: int, sp: int, kind: str) -> int:
    """VBAR_ELx offset for an exception of ``kind`` taken from ``from_el`` (with PSTATE.SP
    ``sp``) to ``target_el``."""
    if target_el > from_el:
        return GROUP_LOWER64 + VECTOR_OFFSET[kind]
    return (GROUP_SPX if sp else GROUP_SP0) + VECTOR_OFFSET[kind]
