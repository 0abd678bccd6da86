"""Readable text for decoded CPER objects: ``name = value (meaning)`` lines, aligned.

Built on each object's ``to_dict()`` so every section type is described the
same way; derived ``_name``/``_flags`` keys become the parenthesised meaning.
"""

from __future__ import annotations

import re
from typing import Any

from .guids import GUID_NAMES
from .names import SEVERITY_KERNEL, name
from .timestamp import Timestamp

TEXT_FIELDS = ("signature", "fru_text")
_HEX = re.compile(r"[0-9a-f]+")
TIMESTAMPS = ("timestamp", "time_stamp")  # the record header's and a v300 data entry's (BCD)
# counts and ids people read in decimal (ps, /proc, ras-mc-ctl print them so)
DECIMAL = frozenset({"pid", "cpu", "count", "error_count", "err_count", "mc", "top_layer", "middle_layer",
                     "lower_layer"})


def _value(v: Any, key: str = "") -> str:
    if key in TEXT_FIELDS and isinstance(v, str):
        raw = bytes.fromhex(v).split(b"\0", 1)[0]
        return repr(raw.decode("latin-1"))
    if isinstance(v, bool):
        return "true" if v else "false"
    if key in TIMESTAMPS and isinstance(v, int) and v:
        t = Timestamp.from_u64(v)
        return f"{v:#x} ({t.kernel_str()}{', precise' if t.precise else ''})"
    if isinstance(v, int):
        return f"{v:#x}" if v > 9 and key not in DECIMAL else str(v)
    if isinstance(v, str) and v in GUID_NAMES:
        return f"{v} ({GUID_NAMES[v]})"
    if isinstance(v, bytes | bytearray):
        v = bytes(v).hex()
    if isinstance(v, str) and len(v) > 64 and _HEX.fullmatch(v):
        return f"{v[:64]}... ({len(v) // 2} bytes)"
    return str(v)


def describe_dict(d: dict[str, Any], indent: int = 0) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    keys = [k for k in d if not _derived(k, d)]
    width = max((len(k) for k in keys if not isinstance(d[k], dict | list)), default=0)
    for k in keys:
        v = d[k]
        if isinstance(v, dict):
            out.append(f"{pad}{k}:")
            out += describe_dict(v, indent + 1)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out.append(f"{pad}{k}[{i}]:")
                out += describe_dict(x, indent + 1)
        else:
            meaning = d.get(f"{k}_name")
            flags = d.get(f"{k}_flags")
            extra = f" ({meaning})" if meaning else ""
            if flags:
                extra += f" [{', '.join(flags)}]"
            out.append(f"{pad}{k:<{width}} = {_value(v, k)}{extra}")
    return out


def _derived(key: str, d: dict[str, Any]) -> bool:
    return any(key.endswith(s) and key[: -len(s)] in d for s in ("_name", "_flags"))


def describe(obj) -> list[str]:
    """Lines describing a CperRecord or an Estatus."""
    d = obj.to_dict()
    if d["kind"] == "cper_record":
        h = obj.header
        head = (f"CPER record: {obj.nbytes} bytes, severity {name(SEVERITY_KERNEL, h.error_severity)}, "
                f"{len(obj.sections)} section(s)")
        parts = d["sections"]
    else:
        b = obj.block
        head = (f"Generic Error Status Block: {obj.nbytes} bytes, severity {name(SEVERITY_KERNEL, b.error_severity)}, "
                f"{len(obj.entries)} entr{'y' if len(obj.entries) == 1 else 'ies'}")
        parts = d["entries"]
    out = [head]
    top = {k: v for k, v in d.items() if k not in ("kind", "sections", "entries")}
    out += describe_dict(top, 1)
    for i, p in enumerate(parts):
        out.append(f"  section {i}: {p['type']}")
        out += describe_dict({k: v for k, v in p.items() if k != "type"}, 2)
    problems = obj.check()
    if problems:
        out.append("  problems:")
        out += [f"    - {p}" for p in problems]
    return out
