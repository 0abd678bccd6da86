"""Name tables for Arm syndromes and registers (Arm ARM DDI0487 wording where it has one).

Plain data, kept beside the codecs (which attach them to fields) and the describers.
Lookups go through ``register.name_of`` and never raise.
"""

from __future__ import annotations

# ESR_ELx.EC (Arm ARM "Exception Class encoding"); reserved values are absent.
EC_NAMES = {
    0x00: "Unknown reason",
    0x01: "Trapped WF* instruction execution",
    0x03: "Trapped MCR or MRC access with (coproc==0b1111)",
    0x04: "Trapped MCRR or MRRC access with (coproc==0b1111)",
    0x05: "Trapped MCR or MRC access with (coproc==0b1110)",
    0x06: "Trapped LDC or STC access",
    0x07: "Access to SME, SVE, Advanced SIMD or floating-point functionality trapped",
    0x08: "Trapped VMRS access, from ID group trap",
    0x09: "Trapped use of a Pointer authentication instruction",
    0x0A: "Trapped execution of an LD64B or ST64B* instruction",
    0x0C: "Trapped MRRC access with (coproc==0b1110)",
    0x0D: "Branch Target Exception",
    0x0E: "Illegal Execution state",
    0x11: "SVC instruction execution in AArch32 state",
    0x12: "HVC instruction execution in AArch32 state",
    0x13: "SMC instruction execution in AArch32 state",
    0x14: "Trapped MSRR, MRRS or System instruction execution in AArch64 state (128-bit)",
    0x15: "SVC instruction execution in AArch64 state",
    0x16: "HVC instruction execution in AArch64 state",
    0x17: "SMC instruction execution in AArch64 state",
    0x18: "Trapped MSR, MRS or System instruction execution in AArch64 state",
    0x19: "Access to SVE functionality trapped",
    0x1A: "Trapped ERET, ERETAA or ERETAB instruction execution",
    0x1B: "Exception from an access to a TSTART instruction",
    0x1C: "Exception from a PAC Fail",
    0x1D: "Access to SME functionality trapped",
    0x1F: "IMPLEMENTATION DEFINED exception to EL3",
    0x20: "Instruction Abort from a lower Exception level",
    0x21: "Instruction Abort taken without a change in Exception level",
    0x22: "PC alignment fault exception",
    0x24: "Data Abort from a lower Exception level",
    0x25: "Data Abort taken without a change in Exception level",
    0x26: "SP alignment fault exception",
    0x27: "Memory Operation Exception",
    0x28: "Trapped floating-point exception taken from AArch32 state",
    0x2C: "Trapped floating-point exception taken from AArch64 state",
    0x2D: "GCS exception",
    0x2F: "SError exception",
    0x30: "Breakpoint exception from a lower Exception level",
    0x31: "Breakpoint exception taken without a change in Exception level",
    0x32: "Software Step exception from a lower Exception level",
    0x33: "Software Step exception taken without a change in Exception level",
    0x34: "Watchpoint exception from a lower Exception level",
    0x35: "Watchpoint exception taken without a change in Exception level",
    0x38: "BKPT instruction execution in AArch32 state",
    0x3A: "Vector Catch exception from AArch32 state",
    0x3C: "BRK instruction execution in AArch64 state",
    0x3D: "PMU exception",
}

# arch/arm64/kernel/traps.c esr_class_str[]; missing entries print "UNRECOGNIZED EC".
ESR_CLASS_STR = {
    0x00: "Unknown/Uncategorized", 0x01: "WFI/WFE", 0x03: "CP15 MCR/MRC",
    0x04: "CP15 MCRR/MRRC", 0x05: "CP14 MCR/MRC", 0x06: "CP14 LDC/STC", 0x07: "ASIMD",
    0x08: "CP10 MRC/VMRS", 0x09: "PAC", 0x0C: "CP14 MCRR/MRRC", 0x0D: "BTI",
    0x0E: "PSTATE.IL", 0x11: "SVC (AArch32)", 0x12: "HVC (AArch32)", 0x13: "SMC (AArch32)",
    0x15: "SVC (AArch64)", 0x16: "HVC (AArch64)", 0x17: "SMC (AArch64)",
    0x18: "MSR/MRS (AArch64)", 0x19: "SVE", 0x1A: "ERET/ERETAA/ERETAB", 0x1C: "FPAC",
    0x1D: "SME", 0x1F: "EL3 IMP DEF", 0x20: "IABT (lower EL)", 0x21: "IABT (current EL)",
    0x22: "PC Alignment", 0x24: "DABT (lower EL)", 0x25: "DABT (current EL)",
    0x26: "SP Alignment", 0x27: "MOPS", 0x28: "FP (AArch32)", 0x2C: "FP (AArch64)",
    0x2D: "Guarded Control Stack", 0x2F: "SError", 0x30: "Breakpoint (lower EL)",
    0x31: "Breakpoint (current EL)", 0x32: "Software Step (lower EL)",
    0x33: "Software Step (current EL)", 0x34: "Watchpoint (lower EL)",
    0x35: "Watchpoint (current EL)", 0x38: "BKPT (AArch32)", 0x3A: "Vector catch (AArch32)",
    0x3C: "BRK (AArch64)",
}

IL_NAMES = {0: "16-bit instruction trapped", 1: "32-bit instruction trapped"}

_TTW = "on translation table walk or hardware update of translation table"


def _levels(base: int, text: str, levels=range(4)) -> dict[int, str]:
    return {base + n: f"{text}, level {n}" for n in levels}


# DFSC/IFSC for Data and Instruction Aborts (Arm ARM ISS encodings for aborts).
FSC_ABORT = {
    0x00: "Address size fault, level 0 of translation or translation table base register",
    **_levels(0x00, "Address size fault", range(1, 4)),
    **_levels(0x04, "Translation fault"),
    **_levels(0x08, "Access flag fault"),
    **_levels(0x0C, "Permission fault"),
    0x10: f"Synchronous External abort, not {_TTW}",
    0x13: f"Synchronous External abort {_TTW}, level -1",
    **_levels(0x14, f"Synchronous External abort {_TTW}"),
    0x18: "Synchronous parity or ECC error on memory access, not on translation table walk",
    0x1B: f"Synchronous parity or ECC error on memory access {_TTW}, level -1",
    **_levels(0x1C, f"Synchronous parity or ECC error on memory access {_TTW}"),
    0x23: f"Granule Protection Fault {_TTW}, level -1",
    **_levels(0x24, f"Granule Protection Fault {_TTW}"),
    0x28: f"Granule Protection Fault, not {_TTW}",
    0x29: "Address size fault, level -1",
    0x2A: "Translation fault, level -2",
    0x2B: "Translation fault, level -1",
    0x2C: "Address size fault, level -2",
    0x30: "TLB conflict abort",
    0x34: "IMPLEMENTATION DEFINED fault (Lockdown)",
}
DFSC_NAMES = {
    **FSC_ABORT,
    0x11: "Synchronous Tag Check Fault",
    0x21: "Alignment fault",
    0x31: "Unsupported atomic hardware update fault",
    0x35: "IMPLEMENTATION DEFINED fault (Unsupported Exclusive or Atomic access)",
}
IFSC_NAMES = dict(FSC_ABORT)
SERROR_DFSC_NAMES = {0x00: "Uncategorized error", 0x11: "Asynchronous SError exception"}
DEBUG_FSC_NAMES = {0x22: "Debug exception"}

# ESR_ELx.AET for an SError (and DISR_EL1/VSESR_EL2); kernel ESR_ELx_AET_*.
AET_NAMES = {
    0b000: "Uncontainable (UC)",
    0b001: "Unrecoverable state (UEU)",
    0b010: "Restartable state (UEO)",
    0b011: "Recoverable state (UER)",
    0b110: "Corrected (CE)",
}
AET_SHORT = {0b000: "UC", 0b001: "UEU", 0b010: "UEO", 0b011: "UER", 0b110: "CE"}
# ESR_ELx.SET for a synchronous External abort (EncodeSyncErrorSyndrome: UEU reports as UC).
SET_NAMES = {0b00: "Recoverable state (UER)", 0b10: "Uncontainable (UC)",
             0b11: "Restartable state (UEO)"}
# VSESR_EL2.AET when EL1 is AArch32 (DFSR.AET encoding).
AET32_NAMES = {0b00: "Uncontainable (UC)", 0b01: "Unrecoverable state (UEU)",
               0b10: "Restartable state (UEO)", 0b11: "Recoverable state (UER)"}

SAS_NAMES = {0: "Byte", 1: "Halfword", 2: "Word", 3: "Doubleword"}
LST_NAMES = {0b00: "Unspecified or not a 64-byte load/store",
             0b01: "ST64BV instruction", 0b10: "LD64B or ST64B instruction",
             0b11: "ST64BV0 instruction"}
WFX_TI_NAMES = {0b00: "WFI", 0b01: "WFE", 0b10: "WFIT", 0b11: "WFET"}
OTHER_ISS_NAMES = {0: "ST64BV instruction trapped", 1: "ST64BV0 instruction trapped",
                   2: "LD64B or ST64B instruction trapped", 3: "TSB CSYNC trapped",
                   4: "PSB CSYNC trapped"}
SMTC_NAMES = {0: "SME disabled", 1: "Illegal instruction (PSTATE.SM/ZA)",
              2: "Streaming SVE mode disabled", 3: "ZA storage disabled",
              4: "ZT0 disabled"}
DIRECTION_NAMES = {0: "write (MSR/MCR)", 1: "read (MRS/MRC)"}

# ERR<n>STATUS (RAS System Architecture; TF-A ras_serr_to_str; AEST ras.h).
SERR_NAMES = {
    0x00: "No error",
    0x01: "IMPLEMENTATION DEFINED error",
    0x02: "Data value from (non-associative) internal memory",
    0x03: "IMPLEMENTATION DEFINED pin",
    0x04: "Assertion failure",
    0x05: "Error detected on internal data path",
    0x06: "Data value from associative memory",
    0x07: "Address/control value from associative memory",
    0x08: "Data value from a TLB",
    0x09: "Address/control value from a TLB",
    0x0A: "Data value from producer",
    0x0B: "Address/control value from producer",
    0x0C: "Data value from (non-associative) external memory",
    0x0D: "Illegal address (software fault)",
    0x0E: "Illegal access (software fault)",
    0x0F: "Illegal state (software fault)",
    0x10: "Internal data register",
    0x11: "Internal control register",
    0x12: "Error response from slave",
    0x13: "External timeout",
    0x14: "Internal timeout",
    0x15: "Deferred error from slave not supported at master",
}
UET_NAMES = {0b00: "Uncontainable (UC)", 0b01: "Unrecoverable state (UEU)",
             0b10: "Restartable state (UEO)", 0b11: "Recoverable state (UER)"}
ERR_CE_NAMES = {0b00: "No corrected error recorded",
                0b01: "At least one transient corrected error",
                0b10: "At least one corrected error (non-specific)",
                0b11: "At least one persistent corrected error"}
ERR_FEATURE_NAMES = {0b00: "Not implemented", 0b01: "Implemented, controllable",
                     0b10: "Implemented, always enabled (not controllable)",
                     0b11: "Implemented, separate read and write controls"}
ERR_CEC_NAMES = {0b000: "No standard corrected error counter", 0b010: "8-bit counter",
                 0b100: "16-bit counter"}
ADDR_SPACE_NAMES = {0b00: "Secure", 0b01: "Non-secure", 0b10: "Root", 0b11: "Realm"}

# PSTATE.M[3:0] / SPSR_ELx.M[3:0].
MODE64_NAMES = {0b0000: "EL0t", 0b0100: "EL1t", 0b0101: "EL1h", 0b1000: "EL2t",
                0b1001: "EL2h", 0b1100: "EL3t", 0b1101: "EL3h"}
MODE32_NAMES = {0x0: "User", 0x1: "FIQ", 0x2: "IRQ", 0x3: "Supervisor", 0x6: "Monitor",
                0x7: "Abort", 0xA: "Hyp", 0xB: "Undefined", 0xF: "System"}
NRW_NAMES = {0: "AArch64", 1: "AArch32"}

# MIDR_EL1.Implementer (Arm ARM list plus later allocations used by Linux cputype.h).
IMPLEMENTER_NAMES = {
    0x00: "Reserved for software use", 0x41: "Arm Limited", 0x42: "Broadcom Corporation",
    0x43: "Cavium Inc.", 0x44: "Digital Equipment Corporation", 0x46: "Fujitsu Ltd.",
    0x48: "HiSilicon", 0x49: "Infineon Technologies AG", 0x4D: "Motorola or Freescale",
    0x4E: "NVIDIA Corporation", 0x50: "Applied Micro Circuits Corporation",
    0x51: "Qualcomm Inc.", 0x53: "Samsung", 0x56: "Marvell International Ltd.",
    0x61: "Apple Inc.", 0x66: "Faraday Technology Corporation", 0x69: "Intel Corporation",
    0x6D: "Microsoft Corporation", 0x70: "Phytium", 0xC0: "Ampere Computing",
}
ARCHITECTURE_NAMES = {0x1: "Armv4", 0x2: "Armv4T", 0x3: "Armv5", 0x4: "Armv5T",
                      0x5: "Armv5TE", 0x6: "Armv5TEJ", 0x7: "Armv6",
                      0xF: "Architectural features are individually identified"}
# (Implementer, PartNum) -> name.
PART_NAMES = {
    (0x41, 0xD03): "Cortex-A53", (0x41, 0xD04): "Cortex-A35", (0x41, 0xD05): "Cortex-A55",
    (0x41, 0xD07): "Cortex-A57", (0x41, 0xD08): "Cortex-A72", (0x41, 0xD09): "Cortex-A73",
    (0x41, 0xD0A): "Cortex-A75", (0x41, 0xD0B): "Cortex-A76", (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD0D): "Cortex-A77", (0x41, 0xD40): "Neoverse-V1", (0x41, 0xD41): "Cortex-A78",
    (0x41, 0xD44): "Cortex-X1", (0x41, 0xD46): "Cortex-A510", (0x41, 0xD47): "Cortex-A710",
    (0x41, 0xD48): "Cortex-X2", (0x41, 0xD49): "Neoverse-N2", (0x41, 0xD4A): "Neoverse-E1",
    (0x41, 0xD4B): "Cortex-A78C", (0x41, 0xD4D): "Cortex-A715", (0x41, 0xD4E): "Cortex-X3",
    (0x41, 0xD4F): "Neoverse-V2", (0x41, 0xD80): "Cortex-A520", (0x41, 0xD81): "Cortex-A720",
    (0x41, 0xD82): "Cortex-X4", (0x41, 0xD84): "Neoverse-V3", (0x41, 0xD8E): "Neoverse-N3",
    (0x43, 0x0AF): "ThunderX2", (0x46, 0x001): "A64FX", (0x48, 0xD01): "TSV110 (Kunpeng 920)",
    (0x4E, 0x004): "Carmel", (0x50, 0x000): "X-Gene", (0xC0, 0xAC3): "AmpereOne",
}

# System register encodings (op0, op1, CRn, CRm, op2) for MSR/MRS traps (EC 0x18).
SYSREG_NAMES = {
    (3, 0, 0, 0, 0): "MIDR_EL1", (3, 0, 0, 0, 5): "MPIDR_EL1",
    (3, 0, 0, 4, 0): "ID_AA64PFR0_EL1", (3, 0, 0, 4, 1): "ID_AA64PFR1_EL1",
    (3, 0, 1, 0, 0): "SCTLR_EL1", (3, 0, 1, 0, 3): "SCTLR2_EL1",
    (3, 4, 1, 0, 0): "SCTLR_EL2", (3, 6, 1, 0, 0): "SCTLR_EL3",
    (3, 4, 1, 1, 0): "HCR_EL2", (3, 4, 1, 2, 2): "HCRX_EL2", (3, 6, 1, 1, 0): "SCR_EL3",
    (3, 0, 4, 0, 0): "SPSR_EL1", (3, 0, 4, 0, 1): "ELR_EL1",
    (3, 4, 4, 0, 0): "SPSR_EL2", (3, 4, 4, 0, 1): "ELR_EL2",
    (3, 5, 4, 0, 0): "SPSR_EL12", (3, 5, 4, 0, 1): "ELR_EL12",
    (3, 6, 4, 0, 0): "SPSR_EL3", (3, 6, 4, 0, 1): "ELR_EL3",
    (3, 0, 5, 1, 0): "AFSR0_EL1", (3, 0, 5, 1, 1): "AFSR1_EL1",
    (3, 0, 5, 2, 0): "ESR_EL1", (3, 4, 5, 2, 0): "ESR_EL2", (3, 5, 5, 2, 0): "ESR_EL12",
    (3, 6, 5, 2, 0): "ESR_EL3", (3, 4, 5, 2, 3): "VSESR_EL2",
    (3, 0, 5, 3, 0): "ERRIDR_EL1", (3, 0, 5, 3, 1): "ERRSELR_EL1", (3, 0, 5, 3, 2): "ERXGSR_EL1",
    (3, 0, 5, 4, 0): "ERXFR_EL1", (3, 0, 5, 4, 1): "ERXCTLR_EL1",
    (3, 0, 5, 4, 2): "ERXSTATUS_EL1", (3, 0, 5, 4, 3): "ERXADDR_EL1",
    (3, 0, 5, 4, 4): "ERXPFGF_EL1", (3, 0, 5, 4, 5): "ERXPFGCTL_EL1",
    (3, 0, 5, 4, 6): "ERXPFGCDN_EL1",
    (3, 0, 5, 5, 0): "ERXMISC0_EL1", (3, 0, 5, 5, 1): "ERXMISC1_EL1",
    (3, 0, 5, 5, 2): "ERXMISC2_EL1", (3, 0, 5, 5, 3): "ERXMISC3_EL1",
    (3, 0, 6, 0, 0): "FAR_EL1", (3, 0, 6, 0, 5): "PFAR_EL1", (3, 4, 6, 0, 0): "FAR_EL2",
    (3, 4, 6, 0, 4): "HPFAR_EL2", (3, 4, 6, 0, 5): "PFAR_EL2", (3, 5, 6, 0, 0): "FAR_EL12",
    (3, 6, 6, 0, 0): "FAR_EL3",
    (3, 0, 12, 0, 0): "VBAR_EL1", (3, 4, 12, 0, 0): "VBAR_EL2", (3, 6, 12, 0, 0): "VBAR_EL3",
    (3, 0, 12, 1, 0): "ISR_EL1", (3, 0, 12, 1, 1): "DISR_EL1", (3, 4, 12, 1, 1): "VDISR_EL2",
}


def sysreg_name(op0: int, op1: int, crn: int, crm: int, op2: int) -> str:
    """Register name for an encoding, or the generic ``S<op0>_<op1>_C<n>_C<m>_<op2>``."""
    return SYSREG_NAMES.get((op0, op1, crn, crm, op2), f"S{op0}_{op1}_C{crn}_C{crm}_{op2}")
