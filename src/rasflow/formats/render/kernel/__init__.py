"""The lines the Linux kernel prints for CPER (drivers/firmware/efi/cper.c and friends).

``cper_estatus_print`` follows the kernel function of that name line for line;
section printers live one module per kernel file (memory, arm, pcie, ...), each
``cper_print_*(pfx, section, gdata) -> list[str]``. Nothing here checks or
fixes input: a status block the kernel would reject is rejected by
``bert_print``/``ghes_print_estatus`` with the kernel's own message.
"""

from __future__ import annotations

import functools
from importlib import import_module

from ...cper import guids as g
from ...cper import names as n
from ...cper.estatus import AcpiHestGenericStatus, Estatus, GenericData, decode_estatus
from ...cper.sections import RawSection, section_class
from ...errors import FormatError
from .hexdump import hex_dump_lines

HW_ERR = "[Hardware Error]: "
FW_WARN = "[Firmware Warn]: "
FW_BUG = "[Firmware Bug]: "
# cper.c ignore_sections (Linux >= 6.8, "cxl/cper: Fix errant CPER prints for CXL events"):
# the CXL component events go to the CXL subsystem; the section is named and nothing more
IGNORE_SECTIONS = {g.CPER_SEC_CXL_GEN_MEDIA: "CXL General Media Event",
                   g.CPER_SEC_CXL_DRAM: "CXL DRAM Event",
                   g.CPER_SEC_CXL_MEM_MODULE: "CXL Memory Module Event"}

# cper_estatus_print_section's guid_equal chain on an arm64 kernel
# (CONFIG_UEFI_CPER_X86 is off, so IA32/X64 sections print as unknown):
# GUID -> (section_type text, minimum error_data_length, module, printer)
KERNEL_SECTIONS: dict[bytes, tuple[str, int, str, str]] = {
    g.CPER_SEC_PROC_GENERIC: ("general processor error", 192, "proc_generic", "cper_print_proc_generic"),
    g.CPER_SEC_PLATFORM_MEM: ("memory error", 73, "memory", "cper_print_mem"),
    g.CPER_SEC_PCIE: ("PCIe error", 208, "pcie", "cper_print_pcie"),
    g.CPER_SEC_PROC_ARM: ("ARM processor error", 40, "arm", "cper_print_proc_arm"),
    g.CPER_SEC_FW_ERR_REC_REF: ("Firmware Error Record Reference", 16, "firmware", "cper_print_fw_err"),
    g.CPER_SEC_CXL_PROT_ERR: ("CXL Protocol Error", 116, "cxl", "cper_print_prot_err"),
}

# Architectures: what cper_estatus_print_section dispatches differs by CONFIG
ARCH_X86_SECTIONS: dict[bytes, tuple[str, int, str, str]] = {
    g.CPER_SEC_PROC_IA: ("IA32/X64 processor error", 64, "ia32x64", "cper_print_proc_ia"),
}


@functools.cache
def _printer(module: str, func: str):
    """The printer and its module, whose flags say how it reads:
    ACCEPTS_RAW_SECTION (it walks the bytes as the kernel does, so it takes a RawSection)
    and READS_PAST_SECTION (like the kernel, it reads memory after the section: ``after=``)."""
    mod = import_module(f"{__package__}.{module}")
    return getattr(mod, func), mod


def cper_estatus_print_section(pfx: str, gdata: GenericData, sec_no: int, *, after: bytes = b"") -> list[str]:
    """One entry's lines; ``after`` is the memory that follows the section (the rest of
    the block and beyond), which the kernel reads where a section is shorter than it assumes."""
    h = gdata.header
    out = []
    ts = gdata.timestamp
    if ts is not None:
        out.append(f"{pfx}{'precise ' if ts.precise else 'imprecise '}tstamp: {ts.kernel_str()}")
    severity = h.error_severity & 0xFFFF  # "__u16 severity = gdata->error_severity"
    out.append(f"{pfx}Error {sec_no}, type: {n.SEVERITY_KERNEL.get(severity, 'unknown')}")
    if h.validation_bits & n.CPER_SEC_VALID_FRU_ID:
        out.append(f"{pfx}fru_id: {h.fru_id}")
    if h.validation_bits & n.CPER_SEC_VALID_FRU_TEXT:
        # printk ends a line at every "\n" of its text; what follows is a line of its own
        out += f"{pfx}fru_text: {_c_string(h.fru_text)}".split("\n")
    newpfx = pfx + " "
    ignored = IGNORE_SECTIONS.get(h.section_type)
    if ignored is not None:
        out.append(f"{newpfx}section_type: {ignored}")
        return out
    entry = KERNEL_SECTIONS.get(h.section_type)
    if entry is None:
        data = gdata.body.encode()
        out.append(f"{newpfx}section type: unknown, {h.section_type}")
        out.append(f"{newpfx}section length: {h.error_data_length:#x}")
        out += hex_dump_lines(newpfx, data[: h.error_data_length], ascii=True)
        return out
    title, minimum, module, func = entry
    out.append(f"{newpfx}section_type: {title}")
    if h.error_data_length < minimum:
        out.append(f"{FW_WARN}error section length is too small")
        return out
    body = gdata.body
    printer, mod = _printer(module, func)
    if isinstance(body, RawSection) and not getattr(mod, "ACCEPTS_RAW_SECTION", False):
        body = _padded(body, after)
        if body is None:
            return out
    if getattr(mod, "READS_PAST_SECTION", False):
        out += printer(newpfx, body, h, after=after)
    else:
        out += printer(newpfx, body, h)
    return out


def _padded(raw: RawSection, after: bytes = b""):
    """A section the kernel accepts but our codec does not (shorter than our layout): the
    kernel reads its struct on into the bytes that follow it (the next entry, the rest of
    the buffer: ``after``), then zeros here. None when even that does not decode."""
    cls = section_class(raw.guid)
    size = max(getattr(cls, "SIZE", 0), len(raw.data))
    try:
        return cls.decode((raw.data + after)[:size].ljust(size, b"\0"), 0, size)
    except FormatError:
        return None


def _c_string(b: bytes) -> str:
    """``%.20s``: up to the first NUL, bytes as the console shows them."""
    return b.split(b"\0", 1)[0].decode("latin-1")


def cper_estatus_print(pfx: str, estatus: Estatus, *, after: bytes = b"") -> list[str]:
    """The kernel's cper_estatus_print(); ``after`` is the memory after the block."""
    out = []
    sev = estatus.block.error_severity & 0xFFFF  # cper.c keeps it in a __u16 (Linux 6.12)
    if sev == n.CPER_SEV_CORRECTED:
        out.append(f"{pfx}It has been corrected by h/w and requires no further action")
    out.append(f"{pfx}event severity: {n.SEVERITY_KERNEL.get(sev, 'unknown')}")
    newpfx = pfx + " "
    following = estatus.encode()  # a short section's reads go on into what follows it
    pos = AcpiHestGenericStatus.SIZE
    for i, gdata in enumerate(estatus.entries):
        pos += gdata.nbytes
        out += cper_estatus_print_section(newpfx, gdata, i, after=following[pos:] + after)
    return out


def render_estatus(estatus: Estatus, *, seq: int | None = None, after: bytes = b"") -> list[str]:
    """The lines for one status block; ``seq`` adds GHES's ``{n}`` prefix."""
    pfx = HW_ERR if seq is None else f"{{{seq}}}{HW_ERR}"
    return cper_estatus_print(pfx, estatus, after=after)


def ghes_print_estatus(estatus: Estatus, source_id: int, seq: int) -> list[str]:
    """__ghes_print_estatus(): the source line, then cper_estatus_print."""
    pfx = f"{{{seq}}}{HW_ERR}"
    return [f"{pfx}Hardware error from APEI Generic Hardware Error Source: {source_id}", *cper_estatus_print(pfx, estatus)]


BERT_MAX_BLOCK = 1024  # bert.c: ACPI_BERT_PRINT_MAX_LEN (a block of this size or more is skipped)
BERT_MAX_RECORDS = 5  # bert.c: ACPI_BERT_PRINT_MAX_RECORDS


def _kernel_estatus_len(mv: memoryview, pos: int) -> int:
    """cper_estatus_len() as the kernel computes it: by raw_data_length, in a u32."""
    raw_off, raw_len, data_len = (int.from_bytes(mv[pos + i : pos + i + 4], "little") for i in (4, 8, 12))
    return (raw_off + raw_len if raw_len else AcpiHestGenericStatus.SIZE + data_len) & 0xFFFF_FFFF


def bert_print(region: bytes) -> list[str]:
    """bert.c bert_print_all(): every status block in a boot error region.

    A block longer than what is left of the region ends the walk with
    "[Firmware Bug]: Truncated status block (length: N)." (checked before
    block_status, as bert.c does); a block failing cper_estatus_check ends it with
    "[Firmware Bug]: Invalid error record."; blocks of 1024 bytes or more, and any
    after the fifth printed, are skipped and counted.
    """
    out: list[str] = []
    mv = memoryview(region)
    pos, printed, skipped = 0, 0, 0
    while len(mv) - pos >= AcpiHestGenericStatus.SIZE:
        size = _kernel_estatus_len(mv, pos)
        if len(mv) - pos < size:
            out.append(f"BERT: {FW_BUG}Truncated status block (length: {size}).")
            break
        if int.from_bytes(mv[pos : pos + 4], "little") == 0:
            break
        try:
            est = decode_estatus(mv, pos, max(size, AcpiHestGenericStatus.SIZE), lenient=True)
        except FormatError:
            out.append(f"BERT: {FW_BUG}Invalid error record.")
            break
        if est.check(sections=False):
            out.append(f"BERT: {FW_BUG}Invalid error record.")
            break
        if size < BERT_MAX_BLOCK and printed < BERT_MAX_RECORDS:
            out += cper_estatus_print(HW_ERR, est, after=bytes(mv[pos + size :]))
            printed += 1
        else:
            skipped += 1
        if not size:  # a u32 wrap to 0: the kernel would walk the same block forever
            break
        pos += size
    if skipped:
        out.append(f"BERT: {HW_ERR}Skipped {skipped} error records")
    return out
