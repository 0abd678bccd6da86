"""Helpers shared by the libcper JSON mappings (cper-utils.c equivalents)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...cper.timestamp import bcd2bin, bin2bcd
from ...errors import FormatError, as_int
from ...layout import NULL_GUID, Guid

_MISSING = object()
MAX_FILL = 64 << 10  # zero fill for fields libcper leaves out: a few hundred bytes in practice


def get(d: Any, key: str, path: str, default: Any = _MISSING) -> Any:
    """``d[key]``, or a FormatError naming ``path.key`` when it is missing."""
    if not isinstance(d, Mapping):
        raise FormatError("expected an object", path=path)
    if key in d:
        return d[key]
    if default is not _MISSING:
        return default
    raise FormatError(f"missing field {key!r}", path=f"{path}.{key}" if path else key)


def get_obj(d: Any, key: str, path: str, default: Any = _MISSING) -> Mapping[str, Any]:
    """``d[key]`` that must be a JSON object."""
    v = get(d, key, path, default)
    if not isinstance(v, Mapping):
        raise FormatError(f"expected an object, got {type(v).__name__}", path=f"{path}.{key}" if path else key)
    return v


def get_int(d: Any, key: str, path: str, *, bits: int = 64, default: Any = _MISSING) -> int:
    return as_int(get(d, key, path, default), f"{path}.{key}" if path else key, bits=bits)


def zero_fill(raw: bytes, size: int, path: str) -> bytes:
    """``raw`` cut or zero-filled to the ``size`` a JSON field claims; never more than
    MAX_FILL zeros, so memory is never sized by the input's claim."""
    if size > len(raw) + MAX_FILL:
        raise FormatError(f"{size} bytes claimed where {len(raw)} are given; at most {MAX_FILL} "
                          "missing bytes are filled", path=path)
    return raw[:size].ljust(size, b"\0")


def get_bool(d: Any, key: str, path: str, default: Any = _MISSING) -> bool:
    v = get(d, key, path, default)
    if not isinstance(v, bool):
        raise FormatError(f"expected true or false, got {type(v).__name__}", path=f"{path}.{key}")
    return v


def get_guid(d: Any, key: str, path: str, *, default: bool = False) -> Guid:
    v = get(d, key, path, None if default else _MISSING)
    if v is None:
        return NULL_GUID
    return Guid.parse(v, path=f"{path}.{key}" if path else key)


def revision_to_ir(revision: int) -> dict[str, int]:
    return {"major": revision >> 8, "minor": revision & 0xFF}


def revision_from_ir(d: Any, *, path: str) -> int:
    return (get_int(d, "major", path, bits=8) << 8) | get_int(d, "minor", path, bits=8)


def timestamp_to_ir(ts: int) -> str | None:
    """cper-utils.c timestamp_to_string(): None where libcper refuses the value."""
    b = ts.to_bytes(8, "little")
    century, year = bcd2bin(b[7]) % 100, bcd2bin(b[6]) % 100
    month, day, hours, minutes, seconds = (bcd2bin(x) for x in (b[5], b[4], b[2], b[1], b[0]))
    if month > 12 or day > 31 or hours > 24 or minutes > 60 or seconds >= 60:
        return None
    return f"{century:02d}{year:02d}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}+00:00"


def timestamp_from_ir(text: Any, precise: bool, *, path: str) -> int:
    if not isinstance(text, str) or len(text) < 19 or text[4] != "-" or text[10] != "T":
        raise FormatError(f"not a libcper timestamp: {text!r}", path=path)
    try:
        century, year = int(text[0:2]), int(text[2:4])
        month, day = int(text[5:7]), int(text[8:10])
        hours, minutes, seconds = int(text[11:13]), int(text[14:16]), int(text[17:19])
    except ValueError:
        raise FormatError(f"not a libcper timestamp: {text!r}", path=path) from None
    if not all(0 <= x <= 99 for x in (century, year, month, day, hours, minutes, seconds)):
        raise FormatError(f"not a libcper timestamp: {text!r}", path=path)
    b = bytes([bin2bcd(seconds), bin2bcd(minutes), bin2bcd(hours), 1 if precise else 0,
               bin2bcd(day), bin2bcd(month), bin2bcd(year), bin2bcd(century)])
    return int.from_bytes(b, "little")


def untrusted_string(raw: bytes) -> str | None:
    """add_untrusted_string(): up to the first NUL; None if any byte before it is not printable."""
    text = raw.split(b"\0", 1)[0]
    if any(not 0x20 <= c < 0x7F for c in text):
        return None
    return text.decode("ascii")


def readable_pair(value: int, names: Mapping[int, str] | Sequence[str], default: str = "Unknown") -> dict[str, Any]:
    """integer_to_readable_pair(): {"value": v, "name": ...}."""
    if isinstance(names, Mapping):
        name = names.get(value, default)
    else:
        name = names[value] if 0 <= value < len(names) else default
    return {"value": value, "name": name}


def bitfield_to_ir(value: int, names: Sequence[str]) -> dict[str, bool]:
    return {n: bool(value >> i & 1) for i, n in enumerate(names)}


def ir_to_bitfield(d: Any, names: Sequence[str], path: str) -> int:
    if not isinstance(d, Mapping):
        raise FormatError("expected an object", path=path)
    return sum(1 << i for i, n in enumerate(names) if d.get(n))


# cper-utils: CPER_GENERIC_ERROR_TYPES_KEYS/VALUES/DESCRIPTIONS (UEFI N.2.5 Error Status types)
GENERIC_ERROR_TYPES: dict[int, tuple[str, str]] = {
    1: ("ERR_INTERNAL", "Error detected internal to the component."),
    4: ("ERR_MEM", "Storage error in memory (DRAM)."),
    5: ("ERR_TLB", "Storage error in TLB."),
    6: ("ERR_CACHE", "Storage error in cache."),
    7: ("ERR_FUNCTION", "Error in one or more functional units."),
    8: ("ERR_SELFTEST", "Component failed self test."),
    9: ("ERR_FLOW", "Overflow or underflow of internal queue."),
    16: ("ERR_BUS", "Error detected in the bus."),
    17: ("ERR_MAP", "Virtual address not found on IO-TLB or IO-PDIR."),
    18: ("ERR_IMPROPER", "Improper access error."),
    19: ("ERR_UNIMPL", "Access to a memory address which is not mapped to any component."),
    20: ("ERR_LOL", "Loss of Lockstep error."),
    21: ("ERR_RESPONSE", "Response not associated with a request."),
    22: ("ERR_PARITY", "Bus parity error (must also set the A, C, or D bits)."),
    23: ("ERR_PROTOCOL", "Detection of a protocol error."),
    24: ("ERR_ERROR", "Detection of a PATH_ERROR."),
    25: ("ERR_TIMEOUT", "Bus operation timeout."),
    26: ("ERR_POISONED", "A read was issued to data that has been poisoned."),
}
_STATUS_BITS = ("addressSignal", "controlSignal", "dataSignal", "detectedByResponder",
                "detectedByRequester", "firstError", "overflowDroppedLogs")


def error_status_to_ir(status: int) -> dict[str, Any]:
    """cper_generic_error_status_to_ir(): the 64-bit UEFI Error Status field."""
    etype = (status >> 8) & 0xFF
    et: dict[str, Any] = {"value": etype}
    if etype in GENERIC_ERROR_TYPES:
        name, desc = GENERIC_ERROR_TYPES[etype]
        et["description"] = desc
    else:
        name = "Unknown (Reserved)"
    et["name"] = name
    out: dict[str, Any] = {"errorType": et}
    for i, key in enumerate(_STATUS_BITS):
        out[key] = bool(status >> (16 + i) & 1)
    return out


def error_status_from_ir(d: Any, path: str) -> int:
    """ir_generic_error_status_to_cper(): reserved bits come back as zero."""
    etype = get_int(get(d, "errorType", path), "value", f"{path}.errorType", bits=8)
    v = etype << 8
    for i, key in enumerate(_STATUS_BITS):
        if get(d, key, path, False):
            v |= 1 << (16 + i)
    return v
