"""libcper's JSON for the Platform Memory Error section (cper-section-memory.c)."""

from __future__ import annotations

from typing import Any

from ...cper import memory as m
from ...layout import Guid
from .common import (
    error_status_from_ir,
    error_status_to_ir,
    get_bool,
    get_int,
    get_obj,
    readable_pair,
)

# MEMORY_ERROR_TYPES_VALUES (libcper's spelling of the UEFI names)
MEMORY_ERROR_TYPES = (
    "Unknown", "No Error", "Single-bit ECC", "Multi-bit ECC", "Single-symbol ChipKill ECC",
    "Multi-symbol ChipKill ECC", "Master Abort", "Target Abort", "Parity Error", "Watchdog Timeout",
    "Invalid Address", "Mirror Broken", "Memory Sparing", "Scrub Corrected Error",
    "Scrub Uncorrected Error", "Physical Memory Map-out Event",
)

# (JSON key, validation bit, field)
_SIMPLE = (
    ("node", 3, "node"), ("card", 4, "card"), ("moduleRank", 5, "module"), ("device", 7, "device"),
    ("row", 8, "row"), ("column", 9, "column"), ("bitPosition", 10, "bit_pos"),
    ("requestorID", 11, "requestor_id"), ("responderID", 12, "responder_id"),
    ("targetID", 13, "target_id"), ("rankNumber", 15, "rank"),
)


def memory_message(type_name: str | None, pa: int | None, node: int | None, *, node_word: str = "at") -> str:
    msg = f"A {type_name} Memory Error occurred" if type_name is not None else "An Unknown Memory Error occurred"
    if pa is not None:
        msg += f" at address 0x{pa:016X}"
    if node is not None:
        msg += f" {node_word} node {node}"
    return msg


def to_ir(sec: m.CperSecMemErr) -> dict[str, Any]:
    v = sec.validation_bits
    d: dict[str, Any] = {}
    if v & 1:
        d["errorStatus"] = error_status_to_ir(sec.error_status)
    if v >> 6 & 1:
        d["bank"] = {"value": sec.bank}
    else:
        d["bank"] = {"address": sec.bank & 0xFF, "group": sec.bank >> 8}
    type_name = None
    if v >> 14 & 1:
        d["memoryErrorType"] = readable_pair(sec.error_type, MEMORY_ERROR_TYPES, "Unknown (Reserved)")
        type_name = d["memoryErrorType"]["name"]
    if v >> 18 & 1:
        ext: dict[str, Any] = {"rowBit16": bool(sec.extended & 1), "rowBit17": bool(sec.extended >> 1 & 1)}
        if v >> 21 & 1:
            ext["chipIdentification"] = sec.extended >> 5
        d["extended"] = ext
    if v >> 16 & 1:
        d["cardSmbiosHandle"] = sec.mem_array_handle
    if v >> 17 & 1:
        d["moduleSmbiosHandle"] = sec.mem_dev_handle
    if v >> 1 & 1:
        d["physicalAddress"] = sec.physical_addr
        d["physicalAddressHex"] = f"0x{sec.physical_addr:016X}"
    if v >> 2 & 1:
        d["physicalAddressMask"] = sec.physical_addr_mask
    for key, bit, field in _SIMPLE:
        if v >> bit & 1:
            d[key] = getattr(sec, field)
    message = memory_message(
        type_name, sec.physical_addr if v >> 1 & 1 else None, sec.node if v >> 3 & 1 else None
    )
    return {"message": message, "Memory": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> m.CperSecMemErr:
    p = "Memory"
    d = get_obj(obj, "Memory", "")
    v = 0
    f: dict[str, Any] = {}
    if "errorStatus" in d:
        f["error_status"] = error_status_from_ir(d["errorStatus"], f"{p}.errorStatus")
        v |= 1
    if "bank" in d:
        bank = get_obj(d, "bank", p)
        if "value" in bank:
            f["bank"] = get_int(bank, "value", f"{p}.bank", bits=16)
            v |= 1 << 6
        else:
            f["bank"] = get_int(bank, "address", f"{p}.bank", bits=8) | get_int(bank, "group", f"{p}.bank", bits=8) << 8
            v |= 1 << 19 | 1 << 20
    if "extended" in d:
        ext = get_obj(d, "extended", p)
        e = int(get_bool(ext, "rowBit16", f"{p}.extended", False)) | int(get_bool(ext, "rowBit17", f"{p}.extended", False)) << 1
        if "chipIdentification" in ext:
            e |= get_int(ext, "chipIdentification", f"{p}.extended", bits=3) << 5
            v |= 1 << 21
        f["extended"] = e
        v |= 1 << 18
    if "memoryErrorType" in d:
        f["error_type"] = get_int(d["memoryErrorType"], "value", f"{p}.memoryErrorType", bits=8)
        v |= 1 << 14
    if "physicalAddress" in d:
        f["physical_addr"] = get_int(d, "physicalAddress", p)
        v |= 1 << 1
    if "physicalAddressMask" in d:
        f["physical_addr_mask"] = get_int(d, "physicalAddressMask", p)
        v |= 1 << 2
    for key, bit, field in _SIMPLE:
        if key in d:
            f[field] = get_int(d, key, p, bits=64 if field.endswith("_id") else 16)
            v |= 1 << bit
    if "cardSmbiosHandle" in d:
        f["mem_array_handle"] = get_int(d, "cardSmbiosHandle", p, bits=16)
        v |= 1 << 16
    if "moduleSmbiosHandle" in d:
        f["mem_dev_handle"] = get_int(d, "moduleSmbiosHandle", p, bits=16)
        v |= 1 << 17
    return m.CperSecMemErr(validation_bits=v, **f)
