"""cper.c cper_print_proc_generic() and cper_print_bits()."""

from __future__ import annotations

from collections.abc import Mapping

from ...cper import proc_generic as p

_CPER_PRINT_BITS_BUF = 84  # char buf[84]
# Every pfx the kernel hands down starts with a log level, KERN_SOH and a digit (ghes.c
# __ghes_print_estatus: "%s{%u}" HW_ERR with KERN_ERR or KERN_WARNING; bert.c: KERN_INFO
# HW_ERR): printk strips them from the line, but cper_print_bits counts them in its length
# and its buffer. Our pfx carries no level, so they are added here.
_KERN_LEVEL = 2


def cper_print_bits(pfx: str, bits: int, strs: Mapping[int, str], strs_size: int) -> list[str]:
    """The names of the set bits, joined with ", ", a new line (with pfx) before 80 columns
    (drivers/firmware/efi/cper.c cper_print_bits, Linux 6.12), the log level of the pfx
    counted as the kernel counts it."""
    out: list[str] = []
    buf, length = "", 0
    for i in range(strs_size):
        if not bits >> i & 1:
            continue
        s = strs.get(i)
        if s is None:
            continue
        if length and length + len(s) + 2 > 80:
            out.append(buf)
            buf, length = "", 0
        if not length:
            buf = (pfx + s)[: _CPER_PRINT_BITS_BUF - 1 - _KERN_LEVEL]
            length = _KERN_LEVEL + len(pfx + s)  # snprintf returns the untruncated length
        else:
            buf = (buf + ", " + s)[: _CPER_PRINT_BITS_BUF - 1 - _KERN_LEVEL]
            length = _KERN_LEVEL + len(buf)
    if length:
        out.append(buf)
    return out


def _name(table: Mapping[int, str], v: int) -> str:
    return table.get(v, "unknown")


def cper_print_proc_generic(pfx: str, proc: p.CperSecProcGeneric, gdata) -> list[str]:
    v = proc.validation_bits
    out = []
    if v & p.CPER_PROC_VALID_TYPE:
        out.append(f"{pfx}processor_type: {proc.proc_type}, {_name(p.PROC_TYPE, proc.proc_type)}")
    if v & p.CPER_PROC_VALID_ISA:
        out.append(f"{pfx}processor_isa: {proc.proc_isa}, {_name(p.PROC_ISA, proc.proc_isa)}")
    if v & p.CPER_PROC_VALID_ERROR_TYPE:
        out.append(f"{pfx}error_type: 0x{proc.proc_error_type:02x}")
        out += cper_print_bits(pfx, proc.proc_error_type, p.PROC_ERROR_TYPE, len(p.PROC_ERROR_TYPE))
    if v & p.CPER_PROC_VALID_OPERATION:
        out.append(f"{pfx}operation: {proc.operation}, {_name(p.PROC_OP, proc.operation)}")
    if v & p.CPER_PROC_VALID_FLAGS:
        out.append(f"{pfx}flags: 0x{proc.flags:02x}")
        out += cper_print_bits(pfx, proc.flags, p.PROC_FLAG, len(p.PROC_FLAG))
    if v & p.CPER_PROC_VALID_LEVEL:
        out.append(f"{pfx}level: {proc.level}")
    if v & p.CPER_PROC_VALID_VERSION:
        out.append(f"{pfx}version_info: 0x{proc.cpu_version:016x}")
    if v & p.CPER_PROC_VALID_ID:
        out.append(f"{pfx}processor_id: 0x{proc.proc_id:016x}")
    if v & p.CPER_PROC_VALID_TARGET_ADDRESS:
        out.append(f"{pfx}target_address: 0x{proc.target_addr:016x}")
    if v & p.CPER_PROC_VALID_REQUESTOR_ID:
        out.append(f"{pfx}requestor_id: 0x{proc.requestor_id:016x}")
    if v & p.CPER_PROC_VALID_RESPONDER_ID:
        out.append(f"{pfx}responder_id: 0x{proc.responder_id:016x}")
    if v & p.CPER_PROC_VALID_IP:
        out.append(f"{pfx}IP: 0x{proc.ip:016x}")
    return out
