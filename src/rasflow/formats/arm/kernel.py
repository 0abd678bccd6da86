"""Linux arm64 ESR constants and helpers, with the kernel's names and semantics.

From arch/arm64/include/asm/esr.h, traps.h, exception.h, kvm_emulate.h and
arch/arm64/kernel/traps.c (v6.x). ``this_cpu_has_cap(ARM64_HAS_RAS_EXTN)`` becomes the
keyword ``has_ras``. Functions that decide what the kernel *does* with an SError return
the name of the kernel action instead of doing it.
"""

from __future__ import annotations

from .names import ESR_CLASS_STR

# --- Exception classes ---------------------------------------------------------------
ESR_ELx_EC_UNKNOWN = 0x00
ESR_ELx_EC_WFx = 0x01
ESR_ELx_EC_CP15_32 = 0x03
ESR_ELx_EC_CP15_64 = 0x04
ESR_ELx_EC_CP14_MR = 0x05
ESR_ELx_EC_CP14_LS = 0x06
ESR_ELx_EC_FP_ASIMD = 0x07
ESR_ELx_EC_CP10_ID = 0x08
ESR_ELx_EC_PAC = 0x09
ESR_ELx_EC_OTHER = 0x0A
ESR_ELx_EC_CP14_64 = 0x0C
ESR_ELx_EC_BTI = 0x0D
ESR_ELx_EC_ILL = 0x0E
ESR_ELx_EC_SVC32 = 0x11
ESR_ELx_EC_HVC32 = 0x12
ESR_ELx_EC_SMC32 = 0x13
ESR_ELx_EC_SVC64 = 0x15
ESR_ELx_EC_HVC64 = 0x16
ESR_ELx_EC_SMC64 = 0x17
ESR_ELx_EC_SYS64 = 0x18
ESR_ELx_EC_SVE = 0x19
ESR_ELx_EC_ERET = 0x1A
ESR_ELx_EC_FPAC = 0x1C
ESR_ELx_EC_SME = 0x1D
ESR_ELx_EC_IMP_DEF = 0x1F
ESR_ELx_EC_IABT_LOW = 0x20
ESR_ELx_EC_IABT_CUR = 0x21
ESR_ELx_EC_PC_ALIGN = 0x22
ESR_ELx_EC_DABT_LOW = 0x24
ESR_ELx_EC_DABT_CUR = 0x25
ESR_ELx_EC_SP_ALIGN = 0x26
ESR_ELx_EC_MOPS = 0x27
ESR_ELx_EC_FP_EXC32 = 0x28
ESR_ELx_EC_FP_EXC64 = 0x2C
ESR_ELx_EC_GCS = 0x2D
ESR_ELx_EC_SERROR = 0x2F
ESR_ELx_EC_BREAKPT_LOW = 0x30
ESR_ELx_EC_BREAKPT_CUR = 0x31
ESR_ELx_EC_SOFTSTP_LOW = 0x32
ESR_ELx_EC_SOFTSTP_CUR = 0x33
ESR_ELx_EC_WATCHPT_LOW = 0x34
ESR_ELx_EC_WATCHPT_CUR = 0x35
ESR_ELx_EC_BKPT32 = 0x38
ESR_ELx_EC_VECTOR32 = 0x3A
ESR_ELx_EC_BRK64 = 0x3C
ESR_ELx_EC_MAX = 0x3F

ESR_ELx_EC_SHIFT = 26
ESR_ELx_EC_WIDTH = 6
ESR_ELx_EC_MASK = 0x3F << ESR_ELx_EC_SHIFT
ESR_ELx_IL_SHIFT = 25
ESR_ELx_IL = 1 << ESR_ELx_IL_SHIFT
ESR_ELx_ISS_MASK = (1 << 25) - 1
ESR_ELx_ISS2_SHIFT = 32
ESR_ELx_ISS2_MASK = ((1 << 24) - 1) << 32

# --- ISS fields ------------------------------------------------------------------------
ESR_ELx_WNR_SHIFT = 6
ESR_ELx_WNR = 1 << ESR_ELx_WNR_SHIFT
ESR_ELx_IDS_SHIFT = 24
ESR_ELx_IDS = 1 << ESR_ELx_IDS_SHIFT
ESR_ELx_AET_SHIFT = 10
ESR_ELx_AET = 0x7 << ESR_ELx_AET_SHIFT
ESR_ELx_AET_UC = 0 << ESR_ELx_AET_SHIFT
ESR_ELx_AET_UEU = 1 << ESR_ELx_AET_SHIFT
ESR_ELx_AET_UEO = 2 << ESR_ELx_AET_SHIFT
ESR_ELx_AET_UER = 3 << ESR_ELx_AET_SHIFT
ESR_ELx_AET_CE = 6 << ESR_ELx_AET_SHIFT
ESR_ELx_IESB_SHIFT = 13  # an SError syndrome's IESB bit (the VNCR bit of an abort's)
ESR_ELx_IESB = 1 << ESR_ELx_IESB_SHIFT
ESR_ELx_VNCR_SHIFT = 13
ESR_ELx_VNCR = 1 << ESR_ELx_VNCR_SHIFT
ESR_ELx_SET_SHIFT = 11
ESR_ELx_SET_MASK = 3 << ESR_ELx_SET_SHIFT
ESR_ELx_SET_UER = 0 << ESR_ELx_SET_SHIFT
ESR_ELx_SET_UC = 2 << ESR_ELx_SET_SHIFT
ESR_ELx_SET_UEO = 3 << ESR_ELx_SET_SHIFT
ESR_ELx_FnV_SHIFT = 10
ESR_ELx_FnV = 1 << ESR_ELx_FnV_SHIFT
ESR_ELx_EA_SHIFT = 9
ESR_ELx_EA = 1 << ESR_ELx_EA_SHIFT
ESR_ELx_S1PTW_SHIFT = 7
ESR_ELx_S1PTW = 1 << ESR_ELx_S1PTW_SHIFT
ESR_ELx_ISV_SHIFT = 24
ESR_ELx_ISV = 1 << ESR_ELx_ISV_SHIFT
ESR_ELx_SAS_SHIFT = 22
ESR_ELx_SAS = 3 << ESR_ELx_SAS_SHIFT
ESR_ELx_SSE_SHIFT = 21
ESR_ELx_SSE = 1 << ESR_ELx_SSE_SHIFT
ESR_ELx_SRT_SHIFT = 16
ESR_ELx_SRT_MASK = 0x1F << ESR_ELx_SRT_SHIFT
ESR_ELx_SF_SHIFT = 15
ESR_ELx_SF = 1 << ESR_ELx_SF_SHIFT
ESR_ELx_AR_SHIFT = 14
ESR_ELx_AR = 1 << ESR_ELx_AR_SHIFT
ESR_ELx_CM_SHIFT = 8
ESR_ELx_CM = 1 << ESR_ELx_CM_SHIFT
ESR_ELx_CV = 1 << 24
ESR_ELx_COND_SHIFT = 20
ESR_ELx_COND_MASK = 0xF << ESR_ELx_COND_SHIFT
ESR_ELx_xVC_IMM_MASK = (1 << 16) - 1

# --- Fault status codes ------------------------------------------------------------------
ESR_ELx_FSC = 0x3F
ESR_ELx_FSC_TYPE = 0x3C
ESR_ELx_FSC_LEVEL = 0x03
ESR_ELx_FSC_EXTABT = 0x10
ESR_ELx_FSC_MTE = 0x11
ESR_ELx_FSC_SERROR = 0x11
ESR_ELx_FSC_ACCESS = 0x08
ESR_ELx_FSC_FAULT = 0x04
ESR_ELx_FSC_PERM = 0x0C
ESR_ELx_FSC_SECC = 0x18
ESR_ELx_FSC_ADDRSZ = 0x00
ESR_ELx_FSC_FAULT_nL = 0x2C

DISR_EL1_IDS = 1 << 24
DISR_EL1_A = 1 << 31  # an ESB deferred an SError (what __guest_exit tests as non-zero)
DISR_EL1_ESR_MASK = ESR_ELx_AET | ESR_ELx_EA | ESR_ELx_FSC

ESR_ELx_SYS64_ISS_DIR_MASK = 0x1
ESR_ELx_SYS64_ISS_DIR_READ = 0x1
ESR_ELx_SYS64_ISS_DIR_WRITE = 0x0
ESR_ELx_SYS64_ISS_RT_SHIFT = 5
ESR_ELx_SYS64_ISS_CRM_SHIFT = 1
ESR_ELx_SYS64_ISS_CRN_SHIFT = 10
ESR_ELx_SYS64_ISS_OP1_SHIFT = 14
ESR_ELx_SYS64_ISS_OP2_SHIFT = 17
ESR_ELx_SYS64_ISS_OP0_SHIFT = 20


# Function-like macros keep their upper-case kernel names.
def ESR_ELx_EC(esr: int) -> int:
    return (esr & ESR_ELx_EC_MASK) >> ESR_ELx_EC_SHIFT


def ESR_ELx_ISS(esr: int) -> int:
    return esr & ESR_ELx_ISS_MASK


def ESR_ELx_ISS2(esr: int) -> int:
    return (esr & ESR_ELx_ISS2_MASK) >> ESR_ELx_ISS2_SHIFT


def ESR_ELx_FSC_SEA_TTW(n: int) -> int:
    return 0x14 + n


def ESR_ELx_FSC_SECC_TTW(n: int) -> int:
    return 0x1C + n


def ESR_ELx_FSC_FAULT_L(n: int) -> int:
    return (ESR_ELx_FSC_FAULT_nL if n < 0 else ESR_ELx_FSC_FAULT) + n


def ESR_ELx_FSC_ACCESS_L(n: int) -> int:
    return ESR_ELx_FSC_ACCESS + n


def ESR_ELx_FSC_PERM_L(n: int) -> int:
    return ESR_ELx_FSC_PERM + n


def esr_get_class_string(esr: int) -> str:
    """traps.c esr_class_str[]: the short class name printed in panics and oopses."""
    return ESR_CLASS_STR.get((esr & ESR_ELx_EC_MASK) >> ESR_ELx_EC_SHIFT, "UNRECOGNIZED EC")


def esr_is_data_abort(esr: int) -> bool:
    return ESR_ELx_EC(esr) in (ESR_ELx_EC_DABT_LOW, ESR_ELx_EC_DABT_CUR)


_FAULT_L = frozenset(ESR_ELx_FSC_FAULT_L(n) for n in (3, 2, 1, 0, -1))
_PERM_L = frozenset(ESR_ELx_FSC_PERM_L(n) for n in (3, 2, 1, 0))
_ACCESS_L = frozenset(ESR_ELx_FSC_ACCESS_L(n) for n in (3, 2, 1, 0))
_SEA_TTW = frozenset(ESR_ELx_FSC_SEA_TTW(n) for n in (3, 2, 1, 0, -1))
_SECC_TTW = frozenset(ESR_ELx_FSC_SECC_TTW(n) for n in (3, 2, 1, 0, -1))
_SEA_ANY = frozenset({ESR_ELx_FSC_EXTABT, ESR_ELx_FSC_SECC}) | _SEA_TTW | _SECC_TTW


def esr_fsc_is_translation_fault(esr: int) -> bool:
    return esr & ESR_ELx_FSC in _FAULT_L


def esr_fsc_is_permission_fault(esr: int) -> bool:
    return esr & ESR_ELx_FSC in _PERM_L


def esr_fsc_is_access_flag_fault(esr: int) -> bool:
    return esr & ESR_ELx_FSC in _ACCESS_L


def esr_fsc_is_sea_ttw(esr: int) -> bool:
    """Synchronous External abort on a translation table walk, level -1..3 (0x13-0x17)."""
    return esr & ESR_ELx_FSC in _SEA_TTW


def esr_fsc_is_secc_ttw(esr: int) -> bool:
    """Synchronous parity/ECC error on a translation table walk, level -1..3 (0x1B-0x1F)."""
    return esr & ESR_ELx_FSC in _SECC_TTW


def esr_iss_is_eretax(esr: int) -> bool:
    return bool(esr & 0x2)


def esr_iss_is_eretab(esr: int) -> bool:
    return bool(esr & 0x1)


def kvm_vcpu_abt_issea(esr: int) -> bool:
    """KVM's test for a synchronous External abort (any level, ECC or not) in an abort ESR."""
    return esr & ESR_ELx_FSC in _SEA_ANY


def disr_to_esr(disr: int) -> int:
    """asm/exception.h: the ESR of the SError an ESB deferred into DISR_EL1 (IL stays 0)."""
    esr = ESR_ELx_EC_SERROR << ESR_ELx_EC_SHIFT
    if disr & DISR_EL1_IDS:
        return esr | (disr & ESR_ELx_ISS_MASK)
    return esr | (disr & DISR_EL1_ESR_MASK)


def arm64_is_ras_serror(esr: int, *, has_ras: bool = True) -> bool:
    """traps.h: an architected (IDS=0) SError syndrome on a CPU with the RAS extension."""
    return not (esr & ESR_ELx_IDS) and has_ras


def arm64_ras_serror_get_severity(esr: int, *, has_ras: bool = True) -> int:
    """traps.h: the ESR_ELx_AET_* value, or ESR_ELx_AET_UC when it cannot be read:
    not a RAS SError (IDS=1 or no RAS), or DFSC is not 0x11 (AET is then RES0)."""
    if not arm64_is_ras_serror(esr, has_ras=has_ras):
        return ESR_ELx_AET_UC
    if esr & ESR_ELx_FSC != ESR_ELx_FSC_SERROR:
        return ESR_ELx_AET_UC
    return esr & ESR_ELx_AET


# What arm64_is_fatal_ras_serror() ends in: returns false, returns true, or panics inside.
NOT_FATAL = "false"
FATAL = "true"
PANIC = "arm64_serror_panic"


def arm64_fatal_ras_serror_path(esr: int, *, has_ras: bool = True) -> str:
    """traps.c arm64_is_fatal_ras_serror(): CE and UEO -> "false" (the CPU can make
    progress); UEU and UER -> "true" (it cannot; the exception may have been imprecise);
    UC or any other value -> "arm64_serror_panic", called from inside the function."""
    aet = arm64_ras_serror_get_severity(esr, has_ras=has_ras)
    if aet in (ESR_ELx_AET_CE, ESR_ELx_AET_UEO):
        return NOT_FATAL
    if aet in (ESR_ELx_AET_UEU, ESR_ELx_AET_UER):
        return FATAL
    return PANIC


def arm64_is_fatal_ras_serror(esr: int, *, has_ras: bool = True) -> bool:
    """True when the SError is fatal (including the UC case, where the kernel panics
    inside the function; see :func:`arm64_fatal_ras_serror_path`)."""
    return arm64_fatal_ras_serror_path(esr, has_ras=has_ras) != NOT_FATAL


def do_serror_action(esr: int, *, has_ras: bool = True) -> str:
    """traps.c do_serror(): "arm64_serror_panic" unless a RAS SError that is not fatal,
    then "ignore" (no signal is ever sent, from user or kernel mode)."""
    if not arm64_is_ras_serror(esr, has_ras=has_ras) or arm64_is_fatal_ras_serror(
            esr, has_ras=has_ras):
        return PANIC
    return "ignore"


def kvm_handle_guest_serror_action(esr: int, *, has_ras: bool = True) -> str:
    """handle_exit.c kvm_handle_guest_serror() for an SError taken while a guest ran:
    "kvm_inject_serror" (a virtual SError for the guest) if not a RAS SError or fatal;
    "arm64_serror_panic" (the host) for UC, from inside arm64_is_fatal_ras_serror;
    "ignore" for CE and UEO. The vCPU is resumed (returns 1) unless the host panicked."""
    if not arm64_is_ras_serror(esr, has_ras=has_ras):
        return "kvm_inject_serror"
    path = arm64_fatal_ras_serror_path(esr, has_ras=has_ras)
    if path == PANIC:
        return PANIC
    return "kvm_inject_serror" if path == FATAL else "ignore"
