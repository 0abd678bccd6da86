"""libcper's JSON for Memory Error Section 2 (cper-section-memory.c, the memory2 half).

libcper quirks kept on output: ``physicalAddress`` (and the address in the
message) is gated by validation bit 0 (error status), not bit 1, and
``physicalAddressHex`` is always printed. Reading JSON back, libcper sets bit 1
for ``physicalAddress`` and bits 20 and 21 for a bank given as address/group
(or not given at all). One departure: when ``physicalAddress`` is absent the
address is taken from ``physicalAddressHex``, so that JSON -> bytes -> JSON is
stable (libcper writes 0 there and then prints ``0x0000000000000000``).
"""

from __future__ import annotations

from typing import Any

from ...cper import memory2 as m2
from ...errors import FormatError
from ...layout import Guid
from .common import error_status_from_ir, error_status_to_ir, get, get_int, readable_pair
from .memory import MEMORY_ERROR_TYPES, memory_message

# (JSON key, validation bit, field, width in bits) in libcper's output order
_SIMPLE = (
    ("physicalAddressMask", 2, "physical_addr_mask", 64), ("node", 3, "node", 16),
    ("card", 4, "card", 16), ("module", 5, "module", 16), ("device", 7, "device", 32),
    ("row", 8, "row", 32), ("column", 9, "column", 32), ("rank", 10, "rank", 32),
    ("bitPosition", 11, "bit_pos", 32), ("chipID", 12, "chip_id", 8),
    ("requestorID", 15, "requestor_id", 64), ("responderID", 16, "responder_id", 64),
    ("targetID", 17, "target_id", 64), ("cardSmbiosHandle", 18, "card_handle", 32),
    ("moduleSmbiosHandle", 19, "module_handle", 32),
)


def to_ir(sec: m2.CperSecMemErr2) -> dict[str, Any]:
    v = sec.validation_bits
    d: dict[str, Any] = {}
    if v & 1:
        d["errorStatus"] = error_status_to_ir(sec.error_status)
    if v >> 6 & 1:
        d["bank"] = {"value": sec.bank}
    else:
        d["bank"] = {"address": sec.bank_address, "group": sec.bank_group}
    type_name = None
    if v >> 13 & 1:
        d["memoryErrorType"] = readable_pair(sec.mem_error_type, MEMORY_ERROR_TYPES, "Unknown (Reserved)")
        type_name = d["memoryErrorType"]["name"]
    if v >> 14 & 1:
        d["status"] = {"value": sec.status, "state": "Uncorrected" if sec.status & 1 else "Corrected"}
    if v & 1:
        d["physicalAddress"] = sec.physical_addr
    d["physicalAddressHex"] = f"0x{sec.physical_addr:016X}"
    for key, bit, field, _ in _SIMPLE:
        if v >> bit & 1:
            d[key] = getattr(sec, field)
    message = memory_message(
        type_name, sec.physical_addr if v & 1 else None, sec.node if v >> 3 & 1 else None, node_word="on"
    )
    return {"message": message, "Memory2": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> m2.CperSecMemErr2:
    p = "Memory2"
    d = get(obj, "Memory2", "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    v = 0
    f: dict[str, Any] = {}
    if "errorStatus" in d:
        f["error_status"] = error_status_from_ir(d["errorStatus"], f"{p}.errorStatus")
        v |= 1
    bank = get(d, "bank", p, {})
    if not isinstance(bank, dict):
        raise FormatError("expected an object", path=f"{p}.bank")
    if "value" in bank:
        f["bank"] = get_int(bank, "value", f"{p}.bank", bits=16)
        v |= 1 << 6
    else:
        address = get_int(bank, "address", f"{p}.bank", bits=8, default=0)
        group = get_int(bank, "group", f"{p}.bank", bits=8, default=0)
        f["bank"] = address | group << 8
        v |= 1 << 20 | 1 << 21
    if "memoryErrorType" in d:
        f["mem_error_type"] = get_int(d["memoryErrorType"], "value", f"{p}.memoryErrorType", bits=8)
        v |= 1 << 13
    if "status" in d:
        f["status"] = get_int(d["status"], "value", f"{p}.status", bits=8)
        v |= 1 << 14
    if "physicalAddress" in d:
        f["physical_addr"] = get_int(d, "physicalAddress", p)
        v |= 1 << 1
    elif "physicalAddressHex" in d:
        f["physical_addr"] = _hex_u64(d["physicalAddressHex"], f"{p}.physicalAddressHex")
    for key, bit, field, width in _SIMPLE:
        if key in d:
            f[field] = get_int(d, key, p, bits=width)
            v |= 1 << bit
    return m2.CperSecMemErr2(validation_bits=v, **f)


def _hex_u64(text: Any, path: str) -> int:
    try:
        value = int(text, 16) if isinstance(text, str) else -1
    except ValueError:
        value = -1
    if not 0 <= value < 1 << 64:
        raise FormatError(f"not a 64-bit hex value: {text!r}", path=path)
    return value
