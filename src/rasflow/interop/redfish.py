"""Redfish ``LogEntry`` JSON carrying CPER: read and write.

DMTF LogEntry (v1_15_0 and later) carries CPER as base64 ``DiagnosticData`` with
``DiagnosticDataType`` ``"CPER"`` (a whole record) or ``"CPERSection"`` (one section
body; its GUID is ``CPER.SectionType``, the record's ``CPER.NotificationType``).
Accepted shapes: one LogEntry (or EventRecord), a LogEntryCollection (``Members``) or an
Event (``Events``). ``@odata.*`` and other properties are kept in ``RedfishEntry.entry``.

    res = read_redfish(text, source="entries.json")
    res.records            # CperRecord per readable entry
    res.skipped            # Skipped(where, reason): OEM data, attachments, bad entries
    write_redfish(res.records)   # LogEntryCollection JSON; read back gives equal records
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..formats import cper
from ..formats.cper import CperRecord, Estatus
from ..formats.cper.sections import decode_section
from ..formats.errors import FormatError
from ..formats.layout import Guid

_B64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_SEVERITY = {0: "Critical", 1: "Critical", 2: "Warning", 3: "OK"}  # CPER_SEV_* -> Redfish Health
_SEV_BACK = {"Critical": 0, "Warning": 2, "OK": 3}
LOGENTRY_TYPE = "#LogEntry.v1_15_0.LogEntry"


@dataclass(frozen=True)
class Skipped:
    """An item left out, where it is (JSON path, prefixed with the source) and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class RedfishEntry:
    """One LogEntry that carried CPER: its JSON path, the record, and the entry's JSON."""

    path: str
    record: CperRecord
    data_type: str
    entry: dict[str, Any]


@dataclass
class RedfishResult:
    entries: list[RedfishEntry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def records(self) -> list[CperRecord]:
        return [e.record for e in self.entries]


def sniff_redfish(data: bytes) -> bool:
    """A JSON object that mentions DiagnosticDataType or a LogEntry @odata.type."""
    head = data[:65536].lstrip()
    return head.startswith(b"{") and (b'"DiagnosticDataType"' in head or b"#LogEntry" in head)


def _b64(s: Any, path: str) -> bytes:
    if not isinstance(s, str):
        raise FormatError(f"expected a base64 string, got {type(s).__name__}", path=path)
    raw = s.encode("ascii", "replace")
    m = _B64.match(raw)
    if m.end() != len(raw):
        raise FormatError(f"invalid base64: character {raw[m.end():m.end() + 1]!r} at string offset {m.end()}",
                          path=path, offset=m.end())
    if len(raw) % 4:
        raise FormatError(f"truncated base64: {len(raw)} characters, not a multiple of 4", path=path,
                          offset=len(raw), need=4 - len(raw) % 4)
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as e:  # pragma: no cover - the regex already rejects these
        raise FormatError(f"invalid base64: {e}", path=path) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _guid(entry: dict, key: str, path: str) -> Guid | None:
    c = entry.get("CPER")
    v = c.get(key) if isinstance(c, dict) else None
    if v is None:
        return None
    try:
        return Guid(v)
    except (ValueError, TypeError):
        raise FormatError(f"not a GUID: {v!r}", path=_join(path, f"CPER.{key}")) from None


def decode_entry(entry: dict[str, Any], path: str = "") -> CperRecord:
    """The CPER record one LogEntry carries (raises FormatError naming the JSON path).

    A ``CPERSection`` entry becomes a one-section record (build_record), with the
    section severity from ``Severity`` (Critical -> fatal, Warning -> corrected, OK ->
    informational). A ``CPERSection`` whose data is a whole record (starts ``CPER``,
    as NVIDIA HGX BMCs send) is read as the record.
    """
    kind = entry.get("DiagnosticDataType")
    if kind not in ("CPER", "CPERSection"):
        raise FormatError(f"DiagnosticDataType is {kind!r}, not CPER/CPERSection", path=_join(path, "DiagnosticDataType"))
    if "DiagnosticData" not in entry:
        where = entry.get("AdditionalDataURI")
        why = f"CPER data is an attachment at {where} (not inline)" if where else "no DiagnosticData"
        raise FormatError(why, path=_join(path, "DiagnosticData"))
    dpath = _join(path, "DiagnosticData")
    data = _b64(entry["DiagnosticData"], dpath)
    try:
        if kind == "CPER" or data[:4] == b"CPER":
            if data[:4] != b"CPER":
                raise FormatError("a CPER record starts with 'CPER'", offset=0)
            rec = cper.decode(data)
            if rec.nbytes != len(data):
                raise FormatError(f"record_length says {rec.nbytes} bytes, DiagnosticData has {len(data)}",
                                  path="record_length", offset=20)
            return rec
        stype = _guid(entry, "SectionType", path)
        if stype is None:
            raise FormatError("CPERSection without CPER.SectionType", path=_join(path, "CPER.SectionType"))
        ntype = _guid(entry, "NotificationType", path) or Guid()
        body = decode_section(stype, memoryview(data), 0, len(data))
        severity = entry.get("Severity")
        if severity is not None and not isinstance(severity, str):
            raise FormatError("Severity is not a string", path=_join(path, "Severity"))
        sev = _SEV_BACK.get(severity, 3)
        return cper.build_record([(body, {"section_type": stype})], error_severity=sev,
                                 notification_type=bytes(ntype)).with_lengths()
    except FormatError as e:
        raise e.within(dpath) from None


def read_redfish(data: bytes | str, *, source: str = "", strict: bool = False) -> RedfishResult:
    """Read a LogEntry, a LogEntryCollection or an Event; bad entries are skipped with
    their JSON path and reason (``strict`` raises instead). Invalid JSON raises
    FormatError with ``source:line:col``."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(f"{source or '<input>'}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    if not isinstance(doc, dict):
        raise FormatError(f"expected a JSON object, got {type(doc).__name__}", path=source)
    res = RedfishResult()
    pre = f"{source}:" if source else ""
    if isinstance(doc.get("Members"), list):
        items = [(f"Members[{i}]", m) for i, m in enumerate(doc["Members"])]
        count = doc.get("Members@odata.count")
        if isinstance(count, int) and count != len(items):
            res.skipped.append(Skipped(f"{pre}Members@odata.count",
                                       f"says {count} members, {len(items)} present (paged collection?)"))
    elif isinstance(doc.get("Events"), list):
        items = [(f"Events[{i}]", m) for i, m in enumerate(doc["Events"])]
    else:
        items = [("", doc)]
    for path, m in items:
        if not isinstance(m, dict):
            err = FormatError(f"expected an object, got {type(m).__name__}", path=path)
            if strict:
                raise err
            res.skipped.append(Skipped(pre + (path or "$"), err.message))
            continue
        try:
            rec = decode_entry(m, path)
        except FormatError as e:
            if strict:
                raise
            res.skipped.append(Skipped(pre + (e.path or "$"), e.message))
            continue
        meta = {k: v for k, v in m.items() if k != "DiagnosticData"}
        res.entries.append(RedfishEntry(path or "$", rec, m["DiagnosticDataType"], meta))
    return res


def _created(rec: CperRecord) -> str | None:
    ts = rec.timestamp
    if ts is None:
        return None
    try:
        return (f"{ts.century * 100 + ts.year:04d}-{ts.month:02d}-{ts.day:02d}"
                f"T{ts.hours:02d}:{ts.minutes:02d}:{ts.seconds:02d}+00:00")
    except AttributeError:  # pragma: no cover - Timestamp without these fields
        return None


def to_entry(rec: CperRecord | Estatus, index: int, *, base: str, sections: bool = False) -> list[dict[str, Any]]:
    """LogEntry objects for one record: one ``CPER`` entry, or one ``CPERSection`` per section."""
    if isinstance(rec, Estatus):
        rec = cper.estatus_to_record(rec)
    notify = str(Guid(bytes(rec.header.notification_type)))
    common = {"@odata.type": LOGENTRY_TYPE, "EntryType": "Event", "Name": "CPER Log Entry"}
    created = _created(rec)
    if created:
        common["Created"] = created
    if not sections:
        return [{"@odata.id": f"{base}/{index}", "Id": str(index), **common,
                 "Severity": _SEVERITY.get(rec.header.error_severity, "OK"),
                 "DiagnosticDataType": "CPER", "CPER": {"NotificationType": notify},
                 "DiagnosticData": base64.b64encode(rec.encode()).decode()}]
    out = []
    for j, s in enumerate(rec.sections):
        eid = f"{index}.{j}"
        out.append({"@odata.id": f"{base}/{eid}", "Id": eid, **common,
                    "Severity": _SEVERITY.get(s.descriptor.section_severity, "OK"),
                    "DiagnosticDataType": "CPERSection",
                    "CPER": {"NotificationType": notify, "SectionType": str(Guid(bytes(s.descriptor.section_type)))},
                    "DiagnosticData": base64.b64encode(s.body.encode()).decode()})
    return out


def write_redfish(records, *, sections: bool = False, single: bool = False,
                  base: str = "/redfish/v1/Systems/system/LogServices/CPER/Entries") -> str:
    """A LogEntryCollection (or, with ``single``, the one LogEntry) as JSON text.

    ``sections`` writes one ``CPERSection`` entry per section (the descriptor and
    record header are then not carried); the default ``CPER`` entries round-trip exactly.
    """
    members = [e for i, r in enumerate(records) for e in to_entry(r, i, base=base, sections=sections)]
    if single:
        if len(members) != 1:
            raise ValueError(f"single=True needs exactly one entry, have {len(members)}")
        return json.dumps(members[0], indent=2) + "\n"
    doc = {"@odata.id": base, "@odata.type": "#LogEntryCollection.LogEntryCollection",
           "Name": "CPER Log Entries", "Members@odata.count": len(members), "Members": members}
    return json.dumps(doc, indent=2) + "\n"
