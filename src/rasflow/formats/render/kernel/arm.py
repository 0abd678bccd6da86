"""cper-arm.c cper_print_proc_arm() and cper_print_arm_err_info(), Linux 6.12 (stable, with
"efi/cper: align ARM CPER type with UEFI 2.9A/2.10 specs").

Like the kernel, the printer walks the section's bytes by its own counts and by
``section_length``, so it also prints sections the codec would reject (it takes a
RawSection as well). Where the kernel would read past the section, bytes read as
zero, at most ``MAX_READ`` of them per read; its hex dumps show at most ``MAX_DUMP_PAST``
bytes past the section in all (a context size of 0xE2112A05 makes the kernel dump
whatever memory follows, gigabytes of it or a fault: not something to print in full).
"""

from __future__ import annotations

from ...cper import arm as a
from ...cper import arm_names as an
from .hexdump import hex_dump_lines

# cper_print_proc_arm walks the raw bytes by section_length, as cper-arm.c does,
# so it takes a RawSection (one our strict codec refused) as it is.
ACCEPTS_RAW_SECTION = True

MAX_READ = 0x10000
MAX_DUMP_PAST = 0x1000
_MAX_CTX_TYPE = len(an.ARM_REG_CTX) - 1


def _s32(v: int) -> int:
    """The C ``int`` a wider unsigned expression is stored into."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


class _Mem:
    """The section's bytes as the kernel sees them: zeros outside the section."""

    def __init__(self, data: bytes):
        self.data = data
        self.dump_past = MAX_DUMP_PAST

    def dump(self, off: int, n: int) -> bytes:
        """The bytes a print_hex_dump of ``n`` at ``off`` shows, within the past-the-section budget."""
        raw = self.read(off, n)
        inside = max(0, min(off + len(raw), len(self.data)) - max(off, 0))
        keep = inside + min(len(raw) - inside, self.dump_past)
        self.dump_past -= keep - inside
        return raw[:keep] if off >= 0 else raw[len(raw) - keep:]

    def read(self, off: int, n: int) -> bytes:
        n = max(0, min(n, MAX_READ))
        lo, hi = max(off, 0), max(min(off + n, len(self.data)), 0)
        inside = self.data[lo:hi] if hi > lo else b""
        before = b"\0" * max(0, min(n, -off)) if off < 0 else b""
        return (before + inside).ljust(n, b"\0")


def cper_bits_to_str(bits: int, strs: tuple[str, ...]) -> str:
    """cper.c cper_bits_to_str(): the names of the set bits, joined by ``|``."""
    return "|".join(s for i, s in enumerate(strs) if bits >> i & 1)


def cper_print_arm_err_info(pfx: str, err_type: int, error_info: int) -> list[str]:
    if err_type & a.CPER_ARM_VENDOR_ERROR:
        return []
    f = a.ARM_BUS_ERR_INFO.decode(error_info)
    out = []
    if f["transaction_type_valid"] and f["transaction_type"] in an.ARM_ERR_TRANS_TYPE:
        out.append(f"{pfx}transaction type: {an.ARM_ERR_TRANS_TYPE[f['transaction_type']]}")
    if f["operation_valid"]:
        op = f["operation"]
        for bit, what, table in (
            (a.CPER_ARM_CACHE_ERROR, "cache", an.ARM_CACHE_ERR_OP),
            (a.CPER_ARM_TLB_ERROR, "TLB", an.ARM_TLB_ERR_OP),
            (a.CPER_ARM_BUS_ERROR, "bus", an.ARM_BUS_ERR_OP),
        ):
            if err_type & bit and op in table:
                out.append(f"{pfx}{what} error, operation type: {table[op]}")
    if f["level_valid"]:
        level = f["level"]
        if err_type & a.CPER_ARM_CACHE_ERROR:
            out.append(f"{pfx}cache level: {level}")
        if err_type & a.CPER_ARM_TLB_ERROR:
            out.append(f"{pfx}TLB level: {level}")
        if err_type & a.CPER_ARM_BUS_ERROR:
            out.append(f"{pfx}affinity level at which the bus error occurred: {level}")
    if f["proc_context_corrupt_valid"]:
        out.append(f"{pfx}processor context {'corrupted' if f['proc_context_corrupt'] else 'not corrupted'}")
    if f["corrected_valid"]:
        out.append(f"{pfx}the error has {'been' if f['corrected'] else 'not been'} corrected")
    if f["precise_pc_valid"]:
        out.append(f"{pfx}PC is {'precise' if f['precise_pc'] else 'imprecise'}")
    if f["restartable_pc_valid"] and f["restartable_pc"]:
        out.append(f"{pfx}Program execution can be restarted reliably at the PC associated with the error.")
    # The stable backport kept this equality test, so only a pure bus error gets here.
    if err_type != a.CPER_ARM_BUS_ERROR:
        return out
    if f["participation_type_valid"]:
        out.append(f"{pfx}participation type: {an.ARM_BUS_ERR_PART_TYPE[f['participation_type']]}")
    if f["time_out_valid"] and f["time_out"]:
        out.append(f"{pfx}request timed out")
    if f["address_space_valid"]:
        out.append(f"{pfx}address space: {an.ARM_BUS_ERR_ADDR_SPACE[f['address_space']]}")
    if f["mem_attributes_valid"]:
        out.append(f"{pfx}memory access attributes:0x{f['mem_attributes']:x}")
    if f["access_mode_valid"]:
        out.append(f"{pfx}access mode: {'normal' if f['access_mode'] else 'secure'}")
    return out


def cper_print_proc_arm(pfx: str, sec, gdata=None) -> list[str]:
    """The kernel's lines for an ARM processor error section (decoded or raw).

    The section_length checks are cper-arm.c's after upstream eae21beecb95 ("EFI/CPER: don't
    go past the ARM processor CPER record buffer", 2026), which the stable trees took in
    March 2026 (6.12.y among them): too small for its ERR_INFO_NUM entries, or bigger than
    the entry's error_data_length (the CPER size), both say the two sizes and stop."""
    raw = sec.encode()
    mem = _Mem(raw)
    head = a.CperSecProcArmHeader.decode(mem.read(0, a.HEADER_SIZE))
    out = [f"{pfx}MIDR: 0x{head.midr:016x}"]
    n = head.err_info_num
    cper_size = gdata.error_data_length if gdata is not None else len(raw)
    length = _s32(head.section_length - (a.HEADER_SIZE + n * a.CPER_ARM_INFO_ENTRY_SIZE))
    if length < 0 or head.section_length > cper_size:
        return out + [
            f"{pfx}section length: {_s32(head.section_length)}, CPER size: {_s32(cper_size)}",
            f"{pfx}section length is too {'small' if length < 0 else 'big'}",
            f"{pfx}firmware-generated error record is incorrect",
            f"{pfx}ERR_INFO_NUM is {n}",
        ]
    v = head.validation_bits
    if v & a.CPER_ARM_VALID_MPIDR:
        out.append(f"{pfx}Multiprocessor Affinity Register (MPIDR): 0x{head.mpidr:016x}")
    if v & a.CPER_ARM_VALID_AFFINITY_LEVEL:
        out.append(f"{pfx}error affinity level: {head.affinity_level}")
    if v & a.CPER_ARM_VALID_RUNNING_STATE:
        out.append(f"{pfx}running state: 0x{head.running_state:x}")
        out.append(f"{pfx}Power State Coordination Interface state: {_s32(head.psci_state)}")
    newpfx = pfx + " "
    pos = a.HEADER_SIZE
    for i in range(n):
        e = a.CperArmErrInfo.decode(mem.read(pos, a.CPER_ARM_INFO_ENTRY_SIZE))
        out += _err_info_lines(pfx, newpfx, i, e)
        pos += a.CPER_ARM_INFO_ENTRY_SIZE
    for i in range(head.context_info_num):
        _, ctx_type, size = a.CTX_HEAD.unpack(mem.read(pos, a.CTX_HEAD.size))
        total = _s32(a.CTX_HEAD.size + size)
        out.append(f"{pfx}Context info structure {i}:")
        if length < total:
            return out + [f"{newpfx}section length is too small", f"{pfx}firmware-generated error record is incorrect"]
        if ctx_type > _MAX_CTX_TYPE:
            return out + [f"{newpfx}Invalid context type: {ctx_type} (max: {_MAX_CTX_TYPE})"]
        out.append(f"{newpfx}register context type: {an.ARM_REG_CTX[ctx_type]}")
        out += hex_dump_lines(newpfx, mem.dump(pos + a.CTX_HEAD.size, size))
        length = _s32(length - total)
        pos += total
    if length > 0:
        out.append(f"{pfx}Vendor specific error info has {length} bytes:")
        out += hex_dump_lines(newpfx, mem.dump(pos, length), ascii=True)
    return out


def _err_info_lines(pfx: str, newpfx: str, i: int, e: a.CperArmErrInfo) -> list[str]:
    out = [f"{pfx}Error info structure {i}:", f"{pfx}num errors: {e.multiple_error + 1}"]
    vb = e.validation_bits
    if vb & a.CPER_ARM_INFO_VALID_FLAGS:
        for flag, text in (
            (a.CPER_ARM_INFO_FLAGS_FIRST, "first error captured"),
            (a.CPER_ARM_INFO_FLAGS_LAST, "last error captured"),
            (a.CPER_ARM_INFO_FLAGS_PROPAGATED, "propagated error captured"),
            (a.CPER_ARM_INFO_FLAGS_OVERFLOW, "overflow occurred, error info is incomplete"),
        ):
            if e.flags & flag:
                out.append(f"{newpfx}{text}")
    names = cper_bits_to_str((e.type & a.CPER_ARM_ERR_TYPE_MASK) >> 1, an.CPER_PROC_ERROR_TYPE_STRS)
    reserved = " with reserved bit(s)" if e.type & ~a.CPER_ARM_ERR_TYPE_MASK else ""
    out.append(f"{newpfx}error_type: 0x{e.type:02x}: {names}{reserved}")
    if vb & a.CPER_ARM_INFO_VALID_ERR_INFO:
        out.append(f"{newpfx}error_info: 0x{e.error_info:016x}")
        out += cper_print_arm_err_info(newpfx + " ", e.type, e.error_info)
    if vb & a.CPER_ARM_INFO_VALID_VIRT_ADDR:
        out.append(f"{newpfx}virtual fault address: 0x{e.virt_fault_addr:016x}")
    if vb & a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR:
        out.append(f"{newpfx}physical fault address: 0x{e.physical_fault_addr:016x}")
    return out
