"""libcper's JSON for the Processor Generic Error section (cper-section-generic.c)."""

from __future__ import annotations

from typing import Any

from ...cper import proc_generic as p
from ...errors import FormatError
from ...layout import Guid
from .common import bitfield_to_ir, get, get_int, ir_to_bitfield, readable_pair, untrusted_string

# cper-section-generic.h GENERIC_*_TYPES_KEYS/VALUES
PROC_TYPES = {0: "IA32/X64", 1: "IA64", 2: "ARM"}
ISA_TYPES = {0: "IA32", 1: "IA64", 2: "X64", 3: "ARM A32/T32", 4: "ARM A64"}
ERROR_TYPES = {0: "Unknown", 1: "Cache Error", 2: "TLB Error", 4: "Bus Error", 8: "Micro-Architectural Error"}
OPERATION_TYPES = {0: "Unknown or Generic", 1: "Data Read", 2: "Data Write", 3: "Instruction Execution"}
FLAGS = ("restartable", "preciseIP", "overflow", "corrected")
_RESERVED = "Unknown (Reserved)"

# (JSON key, validation bit, field) for the plain integers
_INTS = (
    ("level", 5, "level", 8), ("cpuVersionInfo", 6, "cpu_version", 64), ("processorID", 8, "proc_id", 64),
    ("targetAddress", 9, "target_addr", 64), ("requestorID", 10, "requestor_id", 64),
    ("responderID", 11, "responder_id", 64), ("instructionIP", 12, "ip", 64),
)
# (JSON key, validation bit, field, names) for the readable pairs
_PAIRS = (
    ("processorType", 0, "proc_type", PROC_TYPES), ("processorISA", 1, "proc_isa", ISA_TYPES),
    ("errorType", 2, "proc_error_type", ERROR_TYPES), ("operation", 3, "operation", OPERATION_TYPES),
)


def to_ir(sec: p.CperSecProcGeneric, **options) -> dict[str, Any]:
    v = sec.validation_bits
    d: dict[str, Any] = {}
    for key, bit, field, names in _PAIRS:
        if v >> bit & 1:
            d[key] = readable_pair(getattr(sec, field), names, _RESERVED)
    if v >> 4 & 1:
        d["flags"] = bitfield_to_ir(sec.flags, FLAGS)
    for key, bit, field, _ in _INTS[:2]:
        if v >> bit & 1:
            d[key] = getattr(sec, field)
    if v >> 7 & 1:
        brand = untrusted_string(sec.cpu_brand)
        if brand is not None:
            d["cpuBrandString"] = brand
    for key, bit, field, _ in _INTS[2:]:
        if v >> bit & 1:
            d[key] = getattr(sec, field)
    return {"message": "A Generic Processor Error occurred", "GenericProcessor": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> p.CperSecProcGeneric:
    path = "GenericProcessor"
    d = get(obj, path, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    v = 0
    f: dict[str, Any] = {}
    for key, bit, field, _ in _PAIRS:
        if key in d:
            f[field] = get_int(d[key], "value", f"{path}.{key}", bits=8)
            v |= 1 << bit
    if "flags" in d:
        f["flags"] = ir_to_bitfield(d["flags"], FLAGS, f"{path}.flags")
        v |= 1 << 4
    for key, bit, field, width in _INTS:
        if key in d:
            f[field] = get_int(d, key, path, bits=width)
            v |= 1 << bit
    if "cpuBrandString" in d:
        brand = d["cpuBrandString"]
        if not isinstance(brand, str):
            raise FormatError("expected a string", path=f"{path}.cpuBrandString")
        # strncpy into char[128], the last byte forced to NUL
        raw = brand.encode("utf-8").split(b"\0", 1)[0][:127]
        f["cpu_brand"] = raw.ljust(128, b"\0")
        v |= 1 << 7
    return p.CperSecProcGeneric(validation_bits=v, **f)
