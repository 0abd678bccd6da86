"""RAS standard error records: ERR<n>FR, CTLR, STATUS, ADDR, MISC0, and their memory map.

The same registers are reached through ERRSELR_EL1 + ERX*_EL1 (System registers) or at
``64*n`` in a memory-mapped RAS node. Bit positions: TF-A ``ras_arch.h``, the Arm RAS
System Architecture and the AEST ``ras.h`` patch (see the reference sheet, section 1).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import FormatError
from ..layout import layout, u64
from .names import (
    ADDR_SPACE_NAMES,
    ERR_CE_NAMES,
    ERR_CEC_NAMES,
    ERR_FEATURE_NAMES,
    SERR_NAMES,
    UET_NAMES,
)
from .register import Closed, Register, name_of


def _fr_check(f: Mapping[str, int]) -> list[str]:
    ext = [f[n] for n in ("CE", "DE", "UEO", "UER", "UEU", "UC")]
    if not f["FRX"] and any(ext):
        return ["FRX is 0, so ERR<n>FR[54:48] are RES0, but they are not zero"]
    return []


_FEAT = ERR_FEATURE_NAMES
ERR_FR = Register("ERR<n>FR", [
    ("IMPDEF_63_55", 63, 55), ("CE", 54, 53), ("DE", 52, 52), ("UEO", 51, 51), ("UER", 50, 50),
    ("UEU", 49, 49), ("UC", 48, 48), ("IMPDEF_47_32", 47, 32), ("FRX", 31, 31),
    ("TS", 25, 24), ("CI", 23, 22, _FEAT), ("INJ", 21, 20), ("CEO", 19, 18),
    ("DUI", 17, 16, _FEAT), ("RP", 15, 15), ("CEC", 14, 12, Closed(ERR_CEC_NAMES)),
    ("CFI", 11, 10, _FEAT), ("UE", 9, 8, _FEAT), ("FI", 7, 6, _FEAT), ("UI", 5, 4, _FEAT),
    ("IMPDEF_3_2", 3, 2), ("ED", 1, 0, _FEAT),
], check=_fr_check)
"""ERR<n>FR, the record's feature register (FRX=1 adds the UC..CE recording bits)."""

ERR_CTLR = Register("ERR<n>CTLR", [
    ("IMPDEF_63_12", 63, 12), ("WDUI", 11, 11), ("DUI", 10, 10), ("WCFI", 9, 9),
    ("CFI", 8, 8), ("WUE", 7, 7), ("WFI", 6, 6), ("WUI", 5, 5), ("UE", 4, 4), ("FI", 3, 3),
    ("UI", 2, 2), ("IMPDEF_1", 1, 1), ("ED", 0, 0),
])


def _status_check(f: Mapping[str, int]) -> list[str]:
    if not f["UE"] and f["UET"]:
        return ["UET is RES0 when UE is 0, but it is not zero"]
    return []


ERR_STATUS = Register("ERR<n>STATUS", [
    ("AV", 31, 31), ("V", 30, 30), ("UE", 29, 29), ("ER", 28, 28), ("OF", 27, 27),
    ("MV", 26, 26), ("CE", 25, 24, ERR_CE_NAMES), ("DE", 23, 23), ("PN", 22, 22),
    ("UET", 21, 20, UET_NAMES), ("CI", 19, 19), ("IERR", 15, 8), ("SERR", 7, 0, SERR_NAMES),
], check=_status_check)
"""ERR<n>STATUS: valid bit, error classes (UE/DE/CE, UET), SERR code. Write-1-to-clear."""


def _addr_space(f: Mapping[str, int]) -> dict[str, str]:
    return {"address_space": name_of(ADDR_SPACE_NAMES, f["NSE"] << 1 | f["NS"])}


ERR_ADDR = Register("ERR<n>ADDR", [
    ("NS", 63, 63), ("SI", 62, 62), ("AI", 61, 61), ("VA", 60, 60), ("NSE", 59, 59),
    ("PADDR", 55, 0),
], derive=_addr_space)
"""ERR<n>ADDR: the error's address; {NSE, NS} name the physical address space."""

# ERR<n>MISC0 is mostly IMPLEMENTATION DEFINED; its standard corrected-error counter
# forms depend on ERR<n>FR.CEC (8 or 16 bits) and ERR<n>FR.RP (repeat counter).
ERR_MISC0_IMPDEF = Register("ERR<n>MISC0", [("IMPDEF", 63, 0)],
                            label="ERR<n>MISC0 (no standard counter)")
ERR_MISC0_CEC8 = Register("ERR<n>MISC0", [
    ("IMPDEF_63_40", 63, 40), ("OF", 39, 39), ("CEC", 38, 32), ("IMPDEF_31_0", 31, 0),
], label="ERR<n>MISC0 (8-bit corrected error counter)")
ERR_MISC0_CEC16 = Register("ERR<n>MISC0", [
    ("IMPDEF_63_48", 63, 48), ("OF", 47, 47), ("CEC", 46, 32), ("IMPDEF_31_0", 31, 0),
], label="ERR<n>MISC0 (16-bit corrected error counter)")
ERR_MISC0_CEC16_RP = Register("ERR<n>MISC0", [
    ("OFO", 63, 63), ("CECO", 62, 48), ("OFR", 47, 47), ("CECR", 46, 32),
    ("IMPDEF_31_0", 31, 0),
], label="ERR<n>MISC0 (16-bit counters, repeat and other)")


def misc0_layout(fr: int | None = None) -> Register:
    """The ERR<n>MISC0 form ERR<n>FR selects; without FR, the 16-bit counter form."""
    if fr is None:
        return ERR_MISC0_CEC16
    cec, rp = fr >> 12 & 0b111, fr >> 15 & 1
    if cec == 0b100:
        return ERR_MISC0_CEC16_RP if rp else ERR_MISC0_CEC16
    if cec == 0b010:
        return ERR_MISC0_CEC8
    return ERR_MISC0_IMPDEF


def decode_errmisc0(value: int, fr: int | None = None):
    """Decode ERR<n>MISC0 in the counter form that ``fr`` (ERR<n>FR) describes."""
    if fr is not None:
        ERR_FR.check_width(fr)
    return misc0_layout(fr).decode(value)


@layout
class ErrRecord:
    """One standard error record in a memory-mapped node: 64 bytes starting at ``64*n``.

    MISC2/MISC3 at +0x30/+0x38 follow from the stride (not verified against the spec).
    """

    err_fr: u64
    err_ctlr: u64
    err_status: u64
    err_addr: u64
    err_misc0: u64
    err_misc1: u64
    err_misc2: u64
    err_misc3: u64


ERR_RECORD_STRIDE = ErrRecord.SIZE
ERR_RECORD_OFFSETS = {f.name[4:].upper(): f.offset for f in ErrRecord._fields_info}
"""Register -> byte offset within a record: FR 0x00, CTLR 0x08, STATUS 0x10, ADDR 0x18,
MISC0 0x20, MISC1 0x28, MISC2 0x30, MISC3 0x38."""
ERRGSR_OFFSET = 0xE00  # + 8*i, one bit per record, 64 records per ERRGSR
ERRDEVARCH_OFFSET = 0xFBC  # REV in bits 19:16
ERRDEVID_OFFSET = 0xFC8  # NUM in bits 15:0: records in this node
ERRDEVID = Register("ERRDEVID", [("NUM", 15, 0)], width=32)


def err_record_offset(n: int, reg: str) -> int:
    """Byte offset of ``ERR<n><reg>`` (e.g. ``reg="STATUS"``) in a 4 KiB RAS node."""
    off = ERR_RECORD_OFFSETS.get(reg.upper())
    if off is None:
        raise FormatError(f"no error record register {reg!r}; one of "
                          f"{', '.join(ERR_RECORD_OFFSETS)}", path="ERR<n>")
    if not 0 <= n < ERRGSR_OFFSET // ERR_RECORD_STRIDE:
        raise FormatError(f"record {n} is outside a 4 KiB node", path=f"ERR{n}{reg.upper()}")
    return n * ERR_RECORD_STRIDE + off
