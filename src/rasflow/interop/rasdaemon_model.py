"""rasdaemon rows as Python values: ``RasEvent`` (one row of a ras-record.c table, with the
CPER section rebuilt from it), ``RasdaemonResult`` (what rasdaemon.py's and
rasdaemon_text.py's readers return) and ``to_record``, the row's section in a CPER record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..formats import cper
from ..formats.cper.timestamp import encode_timestamp
from ..formats.errors import FormatError
from ..formats.layout import Guid

# u64 columns: SQLite stores them signed, the readers give them back unsigned
U64 = {"mpidr", "error_info", "virt_fault_addr", "phy_fault_addr", "address", "grain", "syndrome"}
EPOCH = "1970-01-01 00:00:00 +0000"
SEV_TEXT = {0: "recoverable", 1: "fatal", 2: "corrected", 3: "informational"}  # rasdaemon err_severity()


@dataclass(frozen=True)
class Skipped:
    where: str
    reason: str


@dataclass
class RasEvent:
    """One row: its table, its columns (unsigned ints, ``id`` apart), and the CPER section
    rebuilt from it (arm_event, non_standard_event) or None."""

    table: str
    row: dict[str, Any]
    id: int | None = None
    section: Any = None

    def __eq__(self, other: object) -> bool:  # rows compare by content, not by id
        return isinstance(other, RasEvent) and (self.table, self.row) == (other.table, other.row)


@dataclass
class RasdaemonResult:
    events: list[RasEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # table -> schema version / "absent"
    summary: list[dict[str, Any]] = field(default_factory=list)  # ras-mc-ctl --summary counts

    @property
    def records(self) -> list[cper.CperRecord]:
        """A one-section CPER record per event that carries a section (see to_record)."""
        return [to_record(e) for e in self.events if e.section is not None]


def memory_failure_event(pfn: int, page_type: str, action_result: str, ts: str = EPOCH) -> RasEvent:
    """A memory_failure_event row as ras-memory-failure-handler.c stores it (pfn as ``%#llx``)."""
    return RasEvent("memory_failure_event",
                    {"timestamp": ts, "pfn": f"{pfn:#x}", "page_type": page_type, "action_result": action_result})


def _ts_u64(ts: str) -> int | None:
    m = re.match(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", ts or "")
    if not m or ts == EPOCH:
        return None
    try:
        return encode_timestamp(*map(int, m.groups()))
    except FormatError:
        return None


def to_record(ev: RasEvent) -> cper.CperRecord:
    """The event's section in a one-section record: non_standard_event keeps its GUID, FRU
    id/text and severity; arm_event stores no severity, so the record says recoverable (0)."""
    if ev.section is None:
        raise ValueError(f"{ev.table} row {ev.id} carries no CPER section")
    sev, fields = 0, {}
    if ev.table == "non_standard_event":
        sev = {v: k for k, v in SEV_TEXT.items()}.get(ev.row.get("severity"), 0)
        fid, ftext = ev.row.get("fru_id"), str(ev.row.get("fru_text") or "").encode("latin-1", "replace")[:20]
        fid = fid if isinstance(fid, bytes) else b""
        fields = {"section_type": Guid(ev.row["sec_type"]), "fru_text": ftext.ljust(20, b"\0"),
                  "validation_bits": (1 if any(fid) else 0) | (2 if ftext else 0)}
        if len(fid) == 16:
            fields["fru_id"] = Guid(fid)
    return cper.build_record([(ev.section, fields)], error_severity=sev, timestamp=_ts_u64(ev.row.get("timestamp")),
                             record_id=ev.id or 0).with_lengths()
