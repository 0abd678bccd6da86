"""cper-x86.c cper_print_proc_ia() (CONFIG_UEFI_CPER_X86 kernels only).

For MSR context structures the kernel first offers the registers to
arch_apei_report_x86_error() (AMD SMCA decoding); this model is of a machine
without SMCA, where that returns an error and the register array is printed.
"""

from __future__ import annotations

from ...cper import ia32x64 as ia
from ...layout import bits
from .hexdump import hex_dump_lines

# cper.c cper_proc_error_type_strs[], indexed by enum err_types
_ERR_TYPE_STRS = ("cache error", "TLB error", "bus error", "micro-architectural error")


def _bool(pfx: str, name: str, check: int, bit: int) -> str:
    return f"{pfx}{name}: {'true' if check >> bit & 1 else 'false'}"


def _named(pfx: str, label: str, value: int, table: dict[int, str]) -> str:
    return f"{pfx}{label}: {value}, {table.get(value, 'unknown')}"


def print_err_info_ms(pfx: str, valid: int, check: int) -> list[str]:
    out = []
    if valid & 1 << 0:
        out.append(_named(pfx, "Error Type", bits(check, 18, 16), ia.IA_CHECK_MS_ERROR_TYPE))
    for vbit, name, bit in ((1, "Processor Context Corrupt", 19), (2, "Uncorrected", 20), (3, "Precise IP", 21),
                            (4, "Restartable IP", 22), (5, "Overflow", 23)):
        if valid >> vbit & 1:
            out.append(_bool(pfx, name, check, bit))
    return out


def print_err_info(pfx: str, err_type: int, check: int) -> list[str]:
    valid = bits(check, 15, 0)
    if err_type == ia.ERR_TYPE_MS:
        return print_err_info_ms(pfx, valid, check)
    out = []
    if valid & 1 << 0:
        out.append(_named(pfx, "Transaction Type", bits(check, 17, 16), ia.IA_CHECK_TRANS_TYPE))
    if valid & 1 << 1:
        ops = ia.IA_CHECK_OP if err_type == ia.ERR_TYPE_CACHE else ia.IA_CHECK_OP_TLB_BUS
        out.append(_named(pfx, "Operation", bits(check, 21, 18), ops))
    if valid & 1 << 2:
        out.append(f"{pfx}Level: {bits(check, 24, 22)}")
    for vbit, name, bit in ((3, "Processor Context Corrupt", 25), (4, "Uncorrected", 26), (5, "Precise IP", 27),
                            (6, "Restartable IP", 28), (7, "Overflow", 29)):
        if valid >> vbit & 1:
            out.append(_bool(pfx, name, check, bit))
    if err_type != ia.ERR_TYPE_BUS:
        return out
    if valid & 1 << 8:
        out.append(_named(pfx, "Participation Type", bits(check, 31, 30), ia.IA_CHECK_BUS_PART_TYPE))
    if valid & 1 << 9:
        out.append(_bool(pfx, "Time Out", check, 32))
    if valid & 1 << 10:
        out.append(_named(pfx, "Address Space", bits(check, 34, 33), ia.IA_CHECK_BUS_ADDR_SPACE))
    return out


def cper_print_proc_ia(pfx: str, proc: ia.CperSecProcIa, gdata) -> list[str]:
    out = []
    v = proc.validation_bits
    if v & ia.VALID_LAPIC_ID:
        out.append(f"{pfx}Local APIC_ID: 0x{proc.lapic_id:x}")
    if v & ia.VALID_CPUID_INFO:
        out.append(f"{pfx}CPUID Info:")
        out += hex_dump_lines(pfx, proc.cpuid)
    newpfx = pfx + " "
    for i, err in enumerate(proc.err_info):
        out.append(f"{pfx}Error Information Structure {i}:")
        kind = err.kind
        out.append(f"{newpfx}Error Structure Type: {_ERR_TYPE_STRS[kind] if kind < 4 else 'unknown'}")
        if kind >= ia.N_ERR_TYPES:
            out.append(f"{newpfx}Error Structure Type: {err.err_type}")
        if err.validation_bits & ia.INFO_VALID_CHECK_INFO:
            out.append(f"{newpfx}Check Information: 0x{err.check_info:016x}")
            if kind < ia.N_ERR_TYPES:
                out += print_err_info(newpfx + " ", kind, err.check_info)
        if err.validation_bits & ia.INFO_VALID_TARGET_ID:
            out.append(f"{newpfx}Target Identifier: 0x{err.target_id:016x}")
        if err.validation_bits & ia.INFO_VALID_REQUESTOR_ID:
            out.append(f"{newpfx}Requestor Identifier: 0x{err.requestor_id:016x}")
        if err.validation_bits & ia.INFO_VALID_RESPONDER_ID:
            out.append(f"{newpfx}Responder Identifier: 0x{err.responder_id:016x}")
        if err.validation_bits & ia.INFO_VALID_IP:
            out.append(f"{newpfx}Instruction Pointer: 0x{err.ip:016x}")
    for i, ctx in enumerate(proc.ctx_info):
        out.append(f"{pfx}Context Information Structure {i}:")
        out.append(f"{newpfx}Register Context Type: {ia.IA_REG_CTX.get(ctx.reg_ctx_type, 'unknown')}")
        out.append(f"{newpfx}Register Array Size: 0x{ctx.reg_arr_size:04x}")
        groupsize = 4
        if ctx.reg_ctx_type == ia.CTX_TYPE_MSR:
            groupsize = 8  # MSRs are 8 bytes wide
            out.append(f"{newpfx}MSR Address: 0x{ctx.msr_addr:08x}")
        if ctx.reg_ctx_type == ia.CTX_TYPE_MMREG:
            out.append(f"{newpfx}MM Register Address: 0x{ctx.mm_reg_addr:016x}")
        out.append(f"{newpfx}Register Array:")
        out += hex_dump_lines(newpfx, ctx.reg_arr[: ctx.reg_arr_size], groupsize=groupsize)
    return out
