"""rasdaemon's SQLite database (ras-record.c, v0.8.5 and v0.6.8) and ras-mc-ctl's text.

    res = read_rasdaemon(db_bytes)        # RasEvent per row; ARM rows rebuild the section
    db = write_rasdaemon(records)         # bytes of a DB ras-mc-ctl --summary/--errors reads
    res = read_rasdaemon(text)            # ras-mc-ctl --summary/--errors output (rasdaemon_text.py)

The row and result types and ``to_record`` live in rasdaemon_model.py; this module holds
the schema, records -> rows, and the database writer and reader.

A record's sections become rows the way the kernel hands them to rasdaemon: ARM
processor -> ``arm_event`` (trace event arm_event: mpidr/affinity/running_state/psci_state,
the 32-byte error-info entries, context and vendor bytes; ``midr`` is not stored),
memory -> ``mc_event`` (as ghes_edac reports it), PCIe with device id and AER info
valid -> ``aer_event`` (what ghes_handle_aer passes on), anything else (a PCIe section
without them included, so nothing is dropped) -> ``non_standard_event`` (GUID, FRU id/text, severity, the section's bytes).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..formats import cper
from ..formats.cper import memory as mem_
from ..formats.cper.arm import CTX_HEAD, CperSecProcArm, CperSecProcArmHeader
from ..formats.cper.arm_names import ARM_ERR_TYPE_BITS, ARM_INFO_FLAGS
from ..formats.cper.memory import CperSecMemErr
from ..formats.cper.pcie import CperSecPcie
from ..formats.cper.sections import RawSection, decode_section
from ..formats.errors import FormatError, as_int
from ..formats.layout import Guid
from ..formats.render.kernel.memory import (
    cper_dimm_err_location,
    cper_mem_err_location,
    cper_mem_err_status_str,
    cper_mem_err_type_str,
)
from .rasdaemon_model import (  # noqa: F401  (re-exported)
    EPOCH,
    SEV_TEXT,
    U64,
    RasdaemonResult,
    RasEvent,
    Skipped,
    memory_failure_event,
    to_record,
)
from .rasdaemon_text import read_text, sniff_text

SQLITE_MAGIC = b"SQLite format 3\0"
DB_PATH = "/var/lib/rasdaemon/ras-mc_event.db"
PK, T, I, B = "INTEGER PRIMARY KEY", "TEXT", "INTEGER", "BLOB"  # noqa: E741

_PY: dict[str, type | tuple[type, ...]] = {PK: int, I: int, T: str, B: bytes}  # what each SQLite type reads as
_SQL = {int: "an INTEGER", float: "a REAL", str: "TEXT", bytes: "a BLOB"}

# ras-record.c: column names and SQLite types, in table order
ARM_V068 = [("id", PK), ("timestamp", T), ("error_count", I), ("affinity", I), ("mpidr", I),
            ("running_state", I), ("psci_state", I), ("err_info", B), ("context_info", B), ("vendor_info", B)]
TABLES: dict[str, list[tuple[str, str]]] = {
    "mc_event": [("id", PK), ("timestamp", T), ("err_count", I), ("err_type", T), ("err_msg", T), ("label", T),
                 ("mc", I), ("top_layer", I), ("middle_layer", I), ("lower_layer", I), ("address", I),
                 ("grain", I), ("syndrome", I), ("driver_detail", T)],
    "aer_event": [("id", PK), ("timestamp", T), ("dev_name", T), ("err_type", T), ("err_msg", T)],
    "non_standard_event": [("id", PK), ("timestamp", T), ("sec_type", B), ("fru_id", B), ("fru_text", T),
                           ("severity", T), ("error", B)],
    "arm_event": ARM_V068 + [("error_type", T), ("error_flags", T), ("error_info", I),
                             ("virt_fault_addr", I), ("phy_fault_addr", I)],
    "memory_failure_event": [("id", PK), ("timestamp", T), ("pfn", T), ("page_type", T), ("action_result", T)],
}
# tables rasdaemon also creates; written empty so ras-mc-ctl's queries find them
EXTRA_TABLES: dict[str, list[tuple[str, str]]] = {
    "extlog_event": [("id", PK), ("timestamp", T), ("etype", I), ("error_count", I), ("severity", I),
                     ("address", I), ("fru_id", B), ("fru_text", T), ("cper_data", B)],
    "devlink_event": [("id", PK), ("timestamp", T), ("bus_name", T), ("dev_name", T), ("driver_name", T),
                      ("reporter_name", T), ("msg", T)],
    "disk_errors": [("id", PK), ("timestamp", T), ("dev", T), ("sector", I), ("nr_sector", I), ("error", T),
                    ("rwbs", T), ("cmd", T)],
    "mce_record": [("id", PK), ("timestamp", T)] + [(c, I) for c in (
        "mcgcap", "mcgstatus", "status", "addr", "misc", "ip", "tsc", "walltime", "cpu", "cpuid", "apicid",
        "socketid", "cs", "bank", "cpuvendor")] + [(c, T) for c in (
        "bank_name", "error_msg", "mcgstatus_msg", "mcistatus_msg", "user_action", "mc_location")],
}
MC_TYPE = {0: "Uncorrected", 1: "Fatal", 2: "Corrected", 3: "Info"}
# cper_severity_to_aer(): recoverable -> non-fatal, corrected -> correctable, else fatal
AER_TYPE = {0: "Uncorrected (Non-Fatal)", 1: "Uncorrected (Fatal)", 2: "Corrected", 3: "Uncorrected (Fatal)"}
AER_COR = {0: "Receiver Error", 6: "Bad TLP", 7: "Bad DLLP", 8: "RELAY_NUM Rollover", 12: "Replay Timer Timeout",
           13: "Advisory Non-Fatal", 14: "Corrected Internal Error", 15: "Header Log Overflow"}
AER_UNCOR = {0: "Undefined", 4: "Data Link Protocol", 5: "Surprise Down Error", 12: "Poisoned TLP",
             13: "Flow Control Protocol", 14: "Completion Timeout", 15: "Completer Abort",
             16: "Unexpected Completion", 17: "Receiver Overflow", 18: "Malformed TLP", 19: "ECRC",
             20: "Unsupported Request", 21: "ACS Violation", 22: "Uncorrectable Internal Error",
             23: "MC Blocked TLP", 24: "AtomicOp Egress Blocked", 25: "TLP Prefix Blocked Error",
             26: "Poisoned TLP Egress Blocked"}


def sniff_rasdaemon(data: bytes) -> bool:
    """A SQLite file with an mc_event table, or ras-mc-ctl --summary/--errors text."""
    if data.startswith(SQLITE_MAGIC):
        return b"mc_event" in data[:1 << 20]
    return sniff_text(data)


# ---- records -> rows -------------------------------------------------------------------

def _ts(rec: cper.CperRecord) -> str:
    t = rec.timestamp
    if t is None:
        return EPOCH
    return (f"{t.century * 100 + t.year:04d}-{t.month:02d}-{t.day:02d} "
            f"{t.hours:02d}:{t.minutes:02d}:{t.seconds:02d} +0000")


def _names(value: int, table: dict[int, str]) -> str:
    return "|".join(n for b, n in table.items() if value >> b & 1)


def arm_row(sec: CperSecProcArm, ts: str = EPOCH) -> dict[str, Any]:
    """The arm_event row rasdaemon stores for an ARM processor section (trace arm_event)."""
    v = sec.validation_bits
    first = sec.err_info[0] if sec.err_info else None
    return {
        "timestamp": ts, "error_count": len(sec.err_info),
        "affinity": sec.affinity_level if v & 2 else 0xFF, "mpidr": sec.mpidr if v & 1 else (1 << 64) - 1,
        "running_state": sec.running_state if v & 4 else 0xFFFFFFFF,
        "psci_state": sec.psci_state if v & 4 else 0xFFFFFFFF,
        "err_info": b"".join(e.encode() for e in sec.err_info),
        "context_info": b"".join(c.encode() for c in sec.context_info), "vendor_info": sec.vendor_specific,
        "error_type": _names(first.type, ARM_ERR_TYPE_BITS) if first else "",
        "error_flags": _names(first.flags, ARM_INFO_FLAGS) if first else "",
        "error_info": first.error_info if first else 0, "virt_fault_addr": first.virt_fault_addr if first else 0,
        "phy_fault_addr": first.physical_fault_addr if first else 0,
    }


def arm_section(row: dict[str, Any], where: str = "arm_event") -> CperSecProcArm:
    """Rebuild the ARM processor section from an arm_event row (midr is not stored: 0)."""
    err, ctx, ven = (row.get(k) or b"" for k in ("err_info", "context_info", "vendor_info"))
    if len(err) % 32:
        raise FormatError(f"{len(err)} bytes is not a whole number of 32-byte entries",
                          path=f"{where}.err_info", offset=len(err) - len(err) % 32, need=32 - len(err) % 32)
    n_ctx, pos = 0, 0
    while pos < len(ctx):
        if pos + CTX_HEAD.size > len(ctx):
            raise FormatError("context header cut short", path=f"{where}.context_info", offset=pos)
        pos += CTX_HEAD.size + CTX_HEAD.unpack_from(ctx, pos)[2]
        n_ctx += 1
    if pos != len(ctx):
        raise FormatError(f"context {n_ctx - 1} runs {pos - len(ctx)} bytes past the blob",
                          path=f"{where}.context_info", offset=len(ctx))
    mpidr, aff = as_int(row["mpidr"], f"{where}.mpidr"), as_int(row["affinity"], f"{where}.affinity", bits=8)
    rs = as_int(row["running_state"], f"{where}.running_state", bits=32)
    psci = as_int(row["psci_state"], f"{where}.psci_state", bits=32)
    valid = (mpidr != (1 << 64) - 1) | (aff != 0xFF) << 1 | (rs != 0xFFFFFFFF) << 2 | bool(ven) << 3
    size = CperSecProcArmHeader.SIZE + len(err) + len(ctx) + len(ven)
    head = CperSecProcArmHeader.pack(
        valid, len(err) // 32, n_ctx, size, aff if valid & 2 else 0, b"\0\0\0", mpidr if valid & 1 else 0, 0,
        rs if valid & 4 else 0, psci if valid & 4 else 0)
    try:
        return CperSecProcArm.decode(head + err + ctx + ven)
    except FormatError as e:
        raise e.within(where) from None


def _mc_row(sec: CperSecMemErr, sev: int, ts: str) -> dict[str, Any]:
    """The mc_event ghes_edac_report_mem_error() traces (Linux 6.12 drivers/edac/ghes_edac.c):
    the location is cper_mem_err_location() and cper_dimm_err_location() (every field the
    CPER has, rank, bank group and address and the extended row among them), and
    driver_detail is print_mem_error_other_detail()'s "APEI location: ... status(...): ..."
    with its last space cut. Without DMI (QEMU) no DIMM is found: label "unknown memory",
    layers -1."""
    v = sec.validation_bits
    location = (cper_mem_err_location(sec) + cper_dimm_err_location(sec))[:-1]
    detail = f"APEI location: {location} "
    if v & mem_.CPER_MEM_VALID_ERROR_STATUS:
        detail += f"status(0x{sec.error_status:016x}): {cper_mem_err_status_str(sec.error_status)} "
    mask = sec.physical_addr_mask if v & mem_.CPER_MEM_VALID_PA_MASK else 0
    return {"timestamp": ts, "err_count": 1, "err_type": MC_TYPE.get(sev, "Info"),
            "err_msg": cper_mem_err_type_str(sec.error_type) if v & mem_.CPER_MEM_VALID_ERROR_TYPE else "unknown error",
            "label": "unknown memory", "mc": 0, "top_layer": -1, "middle_layer": -1, "lower_layer": -1,
            "address": sec.physical_addr if v & mem_.CPER_MEM_VALID_PA else 0,
            "grain": ((~mask & ((1 << 64) - 1)) + 1) & ((1 << 64) - 1) if mask else 1, "syndrome": 0,
            "driver_detail": detail[:-1]}


def _aer_row(sec: CperSecPcie, sev: int, ts: str) -> dict[str, Any]:
    aer = sec.aer  # pci_print_aer traces status & ~mask
    if sev == 2:
        msg = _names(aer.cor_status & ~aer.cor_mask, AER_COR)
    else:
        msg = _names(aer.uncor_status & ~aer.uncor_mask, AER_UNCOR)
    return {"timestamp": ts, "dev_name": f"{sec.segment:04x}:{sec.bus:02x}:{sec.device:02x}.{sec.function:x}",
            "err_type": AER_TYPE.get(sev, "Corrected"), "err_msg": msg.replace("|", ", ")}


def events_from_records(records, notes: list[str] | None = None) -> list[RasEvent]:
    """Rows for CPER records / status blocks, as ghes_do_proc() hands them to the trace
    events rasdaemon records; RasEvent items pass through unchanged. What a row cannot hold
    (an arm_event has no MIDR or severity column; a PCIe section without a device id and AER
    info is traced by nothing) is said in ``notes``."""
    out: list[RasEvent] = []
    notes = [] if notes is None else notes
    for rec in records:
        if isinstance(rec, RasEvent):
            out.append(rec)
            continue
        if isinstance(rec, cper.Estatus):
            rec = cper.estatus_to_record(rec)
        ts = _ts(rec)
        for i, s in enumerate(rec.sections):
            d, body = s.descriptor, s.body
            where = f"record {rec.header.record_id:#x} section {i}"
            if isinstance(body, CperSecProcArm):
                out.append(RasEvent("arm_event", arm_row(body, ts), section=body))
                notes.append(f"{where}: arm_event stores no MIDR ({body.midr:#x}) and no severity "
                             f"({SEV_TEXT.get(d.section_severity, d.section_severity)})")
            elif isinstance(body, CperSecMemErr):
                out.append(RasEvent("mc_event", _mc_row(body, d.section_severity, ts)))
            elif isinstance(body, CperSecPcie):
                if body.validation_bits & 0x88 == 0x88:  # cper_print_pcie -> pci_print_aer
                    out.append(RasEvent("aer_event", _aer_row(body, d.section_severity, ts)))
                else:
                    notes.append(f"{where}: a PCIe section without device id and AER info: the kernel "
                                 "traces no aer_event for it, so rasdaemon has no row")
            else:
                out.append(RasEvent("non_standard_event", {
                    "timestamp": ts, "sec_type": bytes(d.section_type), "fru_id": bytes(d.fru_id),
                    "fru_text": bytes(d.fru_text).split(b"\0")[0].decode("latin-1"),
                    "severity": SEV_TEXT.get(d.section_severity, "unknown"), "error": body.encode()}, section=body))
    return out


# ---- the database ------------------------------------------------------------------------

def create_sql(table: str, cols: list[tuple[str, str]]) -> str:
    """ras_mc_create_table's statement: ``CREATE TABLE IF NOT EXISTS t (name type, ...)``."""
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{n} {t}' for n, t in cols)})"


def _signed(col: str, v: Any) -> Any:
    return v - (1 << 64) if col in U64 and isinstance(v, int) and v >= 1 << 63 else v


def write_rasdaemon(records, path: str | None = None, *, arm_version: str = "0.8.5",
                    notes: list[str] | None = None) -> bytes:
    """A rasdaemon database (all of ras-record.c's tables) holding the records' rows; the
    bytes are returned and, with ``path``, also written there. What the rows cannot hold
    goes to ``notes`` (see events_from_records)."""
    con = sqlite3.connect(":memory:")
    tables = dict(TABLES, **EXTRA_TABLES)
    if arm_version == "0.6.8":
        tables["arm_event"] = ARM_V068
    elif arm_version != "0.8.5":
        raise ValueError(f"arm_version must be '0.8.5' or '0.6.8', got {arm_version!r}")
    for t, cols in tables.items():
        con.execute(create_sql(t, cols))
    for ev in events_from_records(records, notes):
        cols = [n for n, _ in tables[ev.table][1:]]
        missing = [c for c in cols if c not in ev.row]
        if missing:
            raise ValueError(f"{ev.table} row lacks column {missing[0]}")
        con.execute(f"INSERT INTO {ev.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [_signed(c, ev.row[c]) for c in cols])
    con.commit()
    data = con.serialize()
    con.close()
    if path:
        with open(path, "wb") as f:
            f.write(data)
    return data


def _check_schema(con: sqlite3.Connection, table: str) -> tuple[str, list[str]]:
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    want = [n for n, _ in TABLES[table]]
    if table == "arm_event" and cols == [n for n, _ in ARM_V068]:
        return "0.6.8", cols
    for i, c in enumerate(want):
        if c not in cols:
            if table == "arm_event" and i >= len(ARM_V068) and cols[: len(ARM_V068)] == want[: len(ARM_V068)]:
                raise FormatError(f"column {c} missing: neither the v0.6.8 nor the v0.8.5 arm_event schema",
                                  path=f"arm_event.{c}")
            raise FormatError(f"column {c} missing (rasdaemon v0.8.5 schema: {', '.join(want)})",
                              path=f"{table}.{c}")
    extra = [c for c in cols if c not in want]
    if extra:
        raise FormatError(f"unexpected column {extra[0]}: not the rasdaemon v0.8.5 schema", path=f"{table}.{extra[0]}")
    return "0.8.5", cols


class _Garbled(str):
    """TEXT that is not UTF-8 (a damaged page): read with U+FFFD, and said."""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _Garbled(raw.decode("utf-8", "replace"))


def read_db(data: bytes, *, source: str = "") -> RasdaemonResult:
    """Rows of the five tables (absent tables are noted; mc_event, which rasdaemon always
    creates, is required). A row whose section cannot be rebuilt is skipped with its reason;
    a damaged page ends its table's rows there, said, and the rows before it are kept."""
    con = sqlite3.connect(":memory:")
    con.text_factory = _text
    try:
        con.deserialize(data)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
        raise FormatError(f"{source or '<db>'}: not a readable SQLite database: {e}", offset=0) from None
    if "mc_event" not in names:
        raise FormatError(f"{source or '<db>'}: table mc_event missing: not a rasdaemon database "
                          f"(tables: {', '.join(sorted(names)) or 'none'})", path="mc_event")
    res = RasdaemonResult()
    pre = f"{source}:" if source else ""
    for table in TABLES:
        if table not in names:
            res.tables[table] = "absent"
            continue
        rid = None
        try:
            res.tables[table], cols = _check_schema(con, table)
            for values in con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id"):
                rid = _row(res, pre, table, dict(zip(cols, values, strict=True)))
        except sqlite3.DatabaseError as e:
            after = f" after id {rid}" if rid is not None else ""
            res.skipped.append(Skipped(f"{pre}{table}", f"rows{after} unreadable: {e}"))
    con.close()
    return res


# table -> column -> SQLite type (both arm_event schemas' columns)
_SQL_TYPES = {t: dict(cols + ARM_V068) for t, cols in TABLES.items()}


def _row(res: RasdaemonResult, pre: str, table: str, row: dict[str, Any]) -> Any:
    """One row into ``res``: u64 columns unsigned, its section rebuilt; skipped with the
    reason when it cannot be."""
    row = {c: (v + (1 << 64) if c in U64 and isinstance(v, int) and v < 0 else v) for c, v in row.items()}
    rid = row.pop("id")
    where = f"{table}[id={rid}]"
    sql = _SQL_TYPES[table]
    wrong = next((c for c, v in row.items() if v is not None and not isinstance(v, _PY[sql[c]])), None)
    if wrong is not None:
        res.skipped.append(Skipped(pre + f"{where}.{wrong}", f"a {sql[wrong]} column holds "
                                   f"{_SQL.get(type(row[wrong]), type(row[wrong]).__name__)}"))
        return rid
    garbled = [c for c, v in row.items() if isinstance(v, _Garbled)]
    if garbled:
        res.skipped.append(Skipped(pre + f"{where}.{garbled[0]}", "text is not UTF-8 (kept with U+FFFD)"))
    ev = RasEvent(table, {c: str(v) if isinstance(v, _Garbled) else v for c, v in row.items()}, rid)
    try:
        if table == "arm_event":
            ev.section = arm_section(ev.row, where)
        elif table == "non_standard_event":
            ev.section = _nonstd_section(ev.row, where)
    except FormatError as e:
        res.skipped.append(Skipped(pre + (e.path or where), e.message))
        return rid
    res.events.append(ev)
    return rid


def _nonstd_section(row: dict[str, Any], where: str):
    g, data = row.get("sec_type") or b"", row.get("error") or b""
    if len(g) != 16:
        raise FormatError(f"sec_type is {len(g)} bytes, a GUID is 16", path=f"{where}.sec_type")
    try:
        return decode_section(Guid(g), memoryview(data), 0, len(data), lenient=True)
    except FormatError:
        return RawSection(Guid(g), bytes(data), "does not decode as its section type")


def read_rasdaemon(data: bytes | str, *, source: str = "") -> RasdaemonResult:
    """A rasdaemon SQLite database (bytes), or ras-mc-ctl --summary/--errors text."""
    if isinstance(data, bytes | bytearray) and data.startswith(SQLITE_MAGIC):
        return read_db(bytes(data), source=source)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    return read_text(text, source=source)
