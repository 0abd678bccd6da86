"""One entry point over every container reader: detect the kind, read, and hand back the
decoded objects with where they came from and what was skipped.

The table is literal, in detection order (the most specific sniff first); each reader's
own result type is adapted to ``Found`` here so that `rasflow decode` treats them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

# kind -> (module in rasflow.interop, reader, sniffer)
READERS: dict[str, tuple[str, str, str]] = {
    "rasdaemon": ("rasdaemon", "read_rasdaemon", "sniff_rasdaemon"),
    "redfish": ("redfish", "read_redfish", "sniff_redfish"),
    "qmp": ("qemu", "read_qmp", "sniff_qmp"),
    "dmesg": ("dmesg", "read_dmesg", "sniff_dmesg"),
    "acpidump": ("acpidump", "read_acpidump", "sniff_acpidump"),
}


@dataclass
class Item:
    """One decoded object (a CPER record, a status block, an ACPI table) and where it was."""

    obj: Any
    where: str
    problems: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)  # the object may not be what the input held


@dataclass
class Found:
    kind: str
    items: list[Item] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "file:line: reason"
    events: list[Any] = field(default_factory=list)

    def damaged(self) -> list[str]:
        return [d for item in self.items for d in item.damage]


def _funcs(kind: str) -> tuple[Callable[..., Any], Callable[[bytes], bool]] | None:
    module, read, sniff = READERS[kind]
    try:
        mod = import_module(f"{__package__}.{module}")
    except ModuleNotFoundError:
        return None
    return getattr(mod, read), getattr(mod, sniff)


def detect(data: bytes) -> str | None:
    """The first container kind whose sniffer accepts ``data``, or None."""
    for kind in READERS:
        funcs = _funcs(kind)
        if funcs is not None and funcs[1](data):
            return kind
    return None


def read_any(data: bytes, *, kind: str, source: str = "") -> Found:
    """Read ``data`` as ``kind`` (one of READERS) into a Found."""
    funcs = _funcs(kind)
    if funcs is None:
        raise ValueError(f"no reader for {kind!r} in this build")
    result = funcs[0](data, source=source)
    return _ADAPT.get(kind, _generic)(kind, result)


def _where_reason(s: Any) -> str:
    """A skipped item as one line: readers give (where, reason) tuples or objects with both."""
    if isinstance(s, tuple):
        return ": ".join(str(x) for x in s)
    if hasattr(s, "where") and hasattr(s, "reason"):
        return f"{s.where}: {s.reason}"
    return str(s)


def _dmesg(kind: str, r: Any) -> Found:
    items = [Item(rec.estatus, rec.where, list(rec.problems), list(rec.damage)) for rec in r.records]
    return Found(kind, items, [_where_reason(s) for s in r.skipped], list(r.events))


def _acpidump(kind: str, r: Any) -> Found:
    items = [Item(d.obj, d.block.where, list(d.problems)) for d in (*r.tables, *r.records, *r.entries)]
    return Found(kind, items, [_where_reason(s) for s in r.skipped])


def _generic(kind: str, r: Any) -> Found:
    """Readers whose result has ``records`` (objects, or items carrying one) and ``skipped``."""
    items = []
    for i, rec in enumerate(getattr(r, "records", [])):
        obj = getattr(rec, "estatus", None) or getattr(rec, "record", None) or getattr(rec, "obj", None) or rec
        where = getattr(rec, "where", f"record {i}")
        items.append(Item(obj, str(where), list(getattr(rec, "problems", []))))
    return Found(kind, items, [_where_reason(s) for s in getattr(r, "skipped", [])],
                 list(getattr(r, "events", [])))


def _redfish(kind: str, r: Any) -> Found:
    items = [Item(e.record, e.path) for e in r.entries]
    return Found(kind, items, [_where_reason(s) for s in r.skipped])


def _rasdaemon(kind: str, r: Any) -> Found:
    """Rows that carry a CPER section become records; the others (mc_event, aer_event,
    memory_failure_event, ras-mc-ctl text) are events."""
    from .rasdaemon import to_record

    items, events = [], []
    for ev in r.events:
        if ev.section is not None:
            items.append(Item(to_record(ev), f"{ev.table}[id={ev.id}]"))
        else:
            events.append(ev)
    return Found(kind, items, [_where_reason(s) for s in r.skipped], events)


_ADAPT = {"dmesg": _dmesg, "acpidump": _acpidump, "redfish": _redfish, "rasdaemon": _rasdaemon}
