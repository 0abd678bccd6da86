"""Name tables for the ARM Processor Error section (UEFI N.2.4.4), kernel wording.

Strings follow drivers/firmware/efi/cper-arm.c and cper.c; register names follow
the UEFI tables (as libcper spells them). Plain data plus lookups that never raise.
"""

from __future__ import annotations

# struct cper_sec_proc_arm validation_bits (CPER_ARM_VALID_*)
ARM_VALID = {0: "mpidr", 1: "affinity_level", 2: "running_state", 3: "vendor_info"}

# struct cper_arm_err_info validation_bits (CPER_ARM_INFO_VALID_*)
ARM_INFO_VALID = {0: "multiple_error", 1: "flags", 2: "error_info", 3: "virt_fault_addr", 4: "physical_fault_addr"}

# struct cper_arm_err_info flags (CPER_ARM_INFO_FLAGS_*)
ARM_INFO_FLAGS = {0: "first", 1: "last", 2: "propagated", 3: "overflow"}

# cper.c cper_proc_error_type_strs[], indexed by type bits 4:1 (UEFI 2.9A)
CPER_PROC_ERROR_TYPE_STRS = ("cache error", "TLB error", "bus error", "micro-architectural error")

# error-info `type` as bit -> name (UEFI 2.9A/2.10, Linux, QEMU, rasdaemon)
ARM_ERR_TYPE_BITS = {i + 1: name for i, name in enumerate(CPER_PROC_ERROR_TYPE_STRS)}
# UEFI <= 2.9 enumeration
ARM_ERR_TYPE_UEFI_2_9 = dict(enumerate(CPER_PROC_ERROR_TYPE_STRS))
# libcper's ARM_ERROR_INFO_ENTRY_INFO_TYPES_KEYS/VALUES
ARM_ERR_TYPE_LIBCPER = {1: "Cache Error", 2: "TLB Error", 4: "Bus Error", 8: "Micro-Architectural Error"}
ARM_ERR_TYPE_RESERVED_MASK = 0xE1  # everything but bits 4:1

ARM_TYPE_ENCODINGS = ("uefi-2.9a", "uefi-2.9", "libcper")

# cper-arm.c arm_err_trans_type_strs[] and the per-type operation tables
ARM_ERR_TRANS_TYPE = {0: "Instruction", 1: "Data Access", 2: "Generic"}
_OPS = (
    "Generic error (type cannot be determined)",
    "Generic read (type of instruction or data request cannot be determined)",
    "Generic write (type of instruction of data request cannot be determined)",
    "Data read",
    "Data write",
    "Instruction fetch",
    "Prefetch",
)
ARM_BUS_ERR_OP = dict(enumerate(_OPS))
ARM_CACHE_ERR_OP = dict(enumerate((
    *_OPS,
    "Eviction",
    "Snooping (processor initiated a cache snoop that resulted in an error)",
    "Snooped (processor raised a cache error caused by another processor or device snooping its cache)",
    "Management",
)))
ARM_TLB_ERR_OP = dict(enumerate((
    *_OPS,
    "Local management operation (processor initiated a TLB management operation that resulted in an error)",
    "External management operation (processor raised a TLB error caused by another processor or device "
    "broadcasting TLB operations)",
)))
ARM_BUS_ERR_PART_TYPE = {
    0: "Local processor originated request",
    1: "Local processor responded to request",
    2: "Local processor observed",
    3: "Generic",
}
ARM_BUS_ERR_ADDR_SPACE = {
    0: "External Memory Access",
    1: "Internal Memory Access",
    2: "Unknown",
    3: "Device Memory Access",
}
ARM_BUS_ACCESS_MODE = {0: "secure", 1: "normal"}

# cper-arm.c arm_reg_ctx_strs[]
ARM_REG_CTX = dict(enumerate((
    "AArch32 general purpose registers",
    "AArch32 EL1 context registers",
    "AArch32 EL2 context registers",
    "AArch32 secure context registers",
    "AArch64 general purpose registers",
    "AArch64 EL1 context registers",
    "AArch64 EL2 context registers",
    "AArch64 EL3 context registers",
    "Misc. system register structure",
)))
CPER_ARM_CTX_TYPE_MISC = 8

# Register arrays by context type: (struct code of one register, names in order)
ARM_CTX_REGS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("I", (*(f"r{i}" for i in range(13)), "r13_sp", "r14_lr", "r15_pc")),
    1: ("I", (
        "dfar", "dfsr", "ifar", "isr", "mair0", "mair1", "midr", "mpidr", "nmrr", "prrr",
        "sctlr_ns", "spsr", "spsr_abt", "spsr_fiq", "spsr_irq", "spsr_svc", "spsr_und",
        "tpidrprw", "tpidruro", "tpidrurw", "ttbcr", "ttbr0", "ttbr1", "dacr",
    )),
    2: ("I", (
        "elr_hyp", "hamair0", "hamair1", "hcr", "hcr2", "hdfar", "hifar", "hpfar", "hsr",
        "htcr", "htpidr", "httbr", "spsr_hyp", "vtcr", "vttbr", "dacr32_el2",
    )),
    3: ("I", ("sctlr_s", "spsr_mon")),
    4: ("Q", (*(f"x{i}" for i in range(31)), "sp")),
    5: ("Q", (
        "elr_el1", "esr_el1", "far_el1", "isr_el1", "mair_el1", "midr_el1", "mpidr_el1",
        "sctlr_el1", "sp_el0", "sp_el1", "spsr_el1", "tcr_el1", "tpidr_el0", "tpidr_el1",
        "tpidrro_el0", "ttbr0_el1", "ttbr1_el1",
    )),
    6: ("Q", (
        "elr_el2", "esr_el2", "far_el2", "hacr_el2", "hcr_el2", "hpfar_el2", "mair_el2",
        "sctlr_el2", "sp_el2", "spsr_el2", "tcr_el2", "tpidr_el2", "ttbr0_el2", "vtcr_el2",
        "vttbr_el2",
    )),
    7: ("Q", (
        "elr_el3", "esr_el3", "far_el3", "mair_el3", "sctlr_el3", "sp_el3", "spsr_el3",
        "tcr_el3", "tpidr_el3", "ttbr0_el3",
    )),
}
# Type 8: a 16-bit MRS encoding (fields below, lsb first) then the 64-bit value: 10 bytes
ARM_MISC_MRS_FIELDS = (("op2", 2, 0), ("crm", 6, 3), ("crn", 10, 7), ("op1", 13, 11), ("o0", 15, 14))
ARM_MISC_SIZE = 10


def arm_ctx_regs_size(ctx_type: int) -> int | None:
    """Bytes of the register set the UEFI table defines for a context type (None if unknown)."""
    if ctx_type == CPER_ARM_CTX_TYPE_MISC:
        return ARM_MISC_SIZE
    entry = ARM_CTX_REGS.get(ctx_type)
    if entry is None:
        return None
    return len(entry[1]) * (4 if entry[0] == "I" else 8)


def name_of(table: dict[int, str], value: int) -> str:
    return table.get(value, f"unknown ({value:#x})")


def arm_error_type_names(value: int, encoding: str = "uefi-2.9a") -> list[str]:
    """Names of an error-information ``type`` byte under one of the encodings in use.

    ``uefi-2.9a`` (default; Linux, QEMU, rasdaemon): a bitmask, bit1 cache ... bit4
    micro-architectural; reserved bits are named ``reserved (0x..)``.
    ``uefi-2.9``: the enumeration 0 cache, 1 TLB, 2 bus, 3 micro-architectural.
    ``libcper``: libcper's keys 1/2/4/8, in its spelling.
    """
    if encoding == "uefi-2.9a":
        names = [name for bit, name in ARM_ERR_TYPE_BITS.items() if value >> bit & 1]
        if value & ARM_ERR_TYPE_RESERVED_MASK:
            names.append(f"reserved ({value & ARM_ERR_TYPE_RESERVED_MASK:#x})")
        return names
    if encoding == "uefi-2.9":
        return [name_of(ARM_ERR_TYPE_UEFI_2_9, value)]
    if encoding == "libcper":
        return [ARM_ERR_TYPE_LIBCPER.get(value, "Unknown (Reserved)")]
    raise ValueError(f"unknown ARM error type encoding {encoding!r}; use one of {', '.join(ARM_TYPE_ENCODINGS)}")
