"""Random Generic Error Status Blocks for differential runs against the real kernel: every
section type the kernel prints (and the CXL events it names, and unknown ones), odd
lengths around each printer's minimum, one to three sections, edge severities and entry
revisions. The bytes are random where the format leaves them free, so the kernel's reads
of short sections and of fields no one sets are exercised."""

from __future__ import annotations

import random
import struct

from rasflow.formats.cper import guids as g
from rasflow.formats.render.kernel import KERNEL_SECTIONS

GESB = struct.Struct("<5I")  # acpi_hest_generic_status
GDATA = struct.Struct("<16sIHBBI16s20s")  # acpi_hest_generic_data: ... length, fru_id, fru_text
FRU_TEXT = 20
TIMESTAMP = 8  # the v300 entry's extra field
SECTION_TYPES = [*KERNEL_SECTIONS, g.CPER_SEC_CXL_GEN_MEDIA, g.CPER_SEC_CXL_DRAM,
                 g.CPER_SEC_CXL_MEM_MODULE, g.CPER_SEC_PROC_IA]
NATURAL = {g.CPER_SEC_PROC_GENERIC: 192, g.CPER_SEC_PLATFORM_MEM: 80, g.CPER_SEC_PCIE: 208,
           g.CPER_SEC_PROC_ARM: 40 + 32, g.CPER_SEC_FW_ERR_REC_REF: 32, g.CPER_SEC_CXL_PROT_ERR: 116}


def _length(rng: random.Random, guid: bytes) -> int:
    entry = KERNEL_SECTIONS.get(guid)
    minimum = entry[1] if entry else 16
    natural = NATURAL.get(guid, minimum)
    return rng.choice([minimum - 1, minimum, minimum + 1, natural, natural + 3, rng.randrange(0, 300)])


def _body(rng: random.Random, guid: bytes, length: int) -> bytes:
    data = bytearray(rng.randbytes(length))
    if guid == g.CPER_SEC_PROC_ARM and length >= 40:  # counts that mostly fit
        n = rng.choice([0, 1, 1, 2, rng.randrange(0, 200)])
        struct.pack_into("<HH", data, 4, n, rng.choice([0, 0, 1]))
        struct.pack_into("<I", data, 8, rng.choice([length, 40 + 32 * n, rng.randrange(0, 512)]))
        for i in range(n):
            if 40 + 32 * i + 2 <= length:
                data[40 + 32 * i + 1] = rng.choice([32, 32, 32, 0, 16])  # err_info length
    if guid == g.CPER_SEC_FW_ERR_REC_REF and length >= 2:
        data[1] = rng.choice([0, 1, 2, 3])  # revision
    return bytes(data)


def status_block(rng: random.Random) -> bytes:
    """One status block: its header, then its entries, back to back."""
    entries = b""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        guid = rng.choice(SECTION_TYPES + [rng.randbytes(16)])
        length = _length(rng, guid)
        revision = rng.choice([0x0201, 0x0300, 0x0300, 0x0400])
        severity = rng.choice([0, 1, 2, 3, 0x10001, 5])
        valid = rng.choice([0, 1, 2, 3])
        fru_text = rng.choice([b"DIMM A1".ljust(FRU_TEXT, b"\0"), rng.randbytes(FRU_TEXT)])
        head = GDATA.pack(guid, severity, revision, valid, rng.choice([0, 1]), length,
                          rng.randbytes(16), fru_text)
        if revision >> 8 >= 3:
            head += rng.randbytes(TIMESTAMP)
        entries += head + _body(rng, guid, length)
    severity = rng.choice([0, 1, 2, 3, 0x10002])
    return GESB.pack(rng.choice([1, 2, 0x11]), 0, 0, len(entries), severity) + entries


def blocks(seed: int, n: int) -> list[bytes]:
    """``n`` blocks from ``seed``: the same seed gives the same bytes."""
    rng = random.Random(seed)
    return [status_block(rng) for _ in range(n)]
