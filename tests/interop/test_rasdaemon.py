"""rasdaemon SQLite: round trips, schema errors, the real ras-mc-ctl, and the realworld texts."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from rasflow.data import sample
from rasflow.formats import cper
from rasflow.formats.cper.arm import CperSecProcArm
from rasflow.formats.cper.sections import RawSection
from rasflow.formats.errors import FormatError
from rasflow.interop import rasdaemon as rd
from vectors import VECTORS

VEC = VECTORS
KERNEL = VEC / "kernel"
RW = VEC / "realworld" / "rasdaemon"
ORDER = list(rd.TABLES)


def _records() -> list[cper.CperRecord]:
    if not KERNEL.is_dir():
        pytest.skip(f"{KERNEL} absent")
    out = []
    for p in sorted(KERNEL.glob("*.estatus.bin")):
        est = cper.decode(p.read_bytes())
        out.append(cper.estatus_to_record(est) if isinstance(est, cper.Estatus) else est)
    return out


def _by_table(events):
    return sorted(events, key=lambda e: ORDER.index(e.table))  # stable: keeps row order per table


def _arm_as_stored(s: CperSecProcArm) -> CperSecProcArm:
    """What survives the arm_event trace/row: valid fields, no midr, vendor bit = vendor bytes."""
    v = s.validation_bits
    return CperSecProcArm.decode(s._replace(
        validation_bits=(v & 7) | (8 if s.vendor_specific else 0), midr=0, reserved=b"\0\0\0",
        mpidr=s.mpidr if v & 1 else 0, affinity_level=s.affinity_level if v & 2 else 0,
        running_state=s.running_state if v & 4 else 0, psci_state=s.psci_state if v & 4 else 0,
    ).with_lengths().encode())


def test_round_trip_records_db_records(tmp_path):
    recs = _records()
    want = rd.events_from_records(recs)
    assert {e.table for e in want} == {"arm_event", "mc_event", "aer_event", "non_standard_event"}
    data = rd.write_rasdaemon(recs, str(tmp_path / "r.db"))
    assert (tmp_path / "r.db").read_bytes() == data and rd.sniff_rasdaemon(data)
    res = rd.read_rasdaemon(data, source="r.db")
    assert res.skipped == []
    assert all(v == "0.8.5" for v in res.tables.values())
    got, exp = res.events, _by_table(want)
    assert got == exp
    assert [e.id for e in got if e.table == "mc_event"] == list(range(1, 1 + sum(e.table == "mc_event" for e in got)))
    for g, e in zip(got, exp, strict=True):
        if g.table == "arm_event":
            assert g.section == _arm_as_stored(e.section)
        elif g.table == "non_standard_event":
            assert g.section.encode() == e.section.encode()
            assert not isinstance(g.section, RawSection) or g.section.guid == g.row["sec_type"]


def test_arm_err_info_blob_is_the_32_byte_entries():
    rec = next(r for r in _records() if isinstance(r.sections[0].body, CperSecProcArm))
    sec = rec.sections[0].body
    con = sqlite3.connect(":memory:")
    con.deserialize(rd.write_rasdaemon([rec]))
    (blob, n), = con.execute("SELECT err_info, error_count FROM arm_event")
    assert len(blob) == 32 * len(sec.err_info) == 32 * n
    assert blob == b"".join(e.encode() for e in sec.err_info)
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name='arm_event'").fetchone()[0]
    assert sql == ("CREATE TABLE arm_event (id INTEGER PRIMARY KEY, timestamp TEXT, error_count INTEGER, "
                   "affinity INTEGER, mpidr INTEGER, running_state INTEGER, psci_state INTEGER, err_info BLOB, "
                   "context_info BLOB, vendor_info BLOB, error_type TEXT, error_flags TEXT, error_info INTEGER, "
                   "virt_fault_addr INTEGER, phy_fault_addr INTEGER)")


def test_v068_arm_schema_reads():
    recs = [r for r in _records() if isinstance(r.sections[0].body, CperSecProcArm)][:3]
    res = rd.read_rasdaemon(rd.write_rasdaemon(recs, arm_version="0.6.8"))
    assert res.tables["arm_event"] == "0.6.8"
    arm = [e for e in res.events if e.table == "arm_event"]
    assert len(arm) == 3 and "error_type" not in arm[0].row
    assert [e.section for e in arm] == [_arm_as_stored(r.sections[0].body) for r in recs]


def _db(sql: list[str]) -> bytes:
    con = sqlite3.connect(":memory:")
    for s in sql:
        con.execute(s)
    return con.serialize()


def test_schema_mismatch_errors_name_table_and_column():
    mc = rd.create_sql("mc_event", rd.TABLES["mc_event"])
    with pytest.raises(FormatError, match="table mc_event missing") as ei:
        rd.read_rasdaemon(_db(["CREATE TABLE foo (x)"]), source="f.db")
    assert ei.value.path == "mc_event"
    arm = rd.TABLES["arm_event"]
    cut = rd.create_sql("arm_event", arm[:12])  # stops between v0.6.8 and v0.8.5
    with pytest.raises(FormatError, match="neither the v0.6.8 nor the v0.8.5") as ei:
        rd.read_rasdaemon(_db([mc, cut]))
    assert ei.value.path == "arm_event.error_info"
    aer = "CREATE TABLE aer_event (id INTEGER PRIMARY KEY, timestamp TEXT, dev_name TEXT, err_type TEXT)"
    with pytest.raises(FormatError) as ei:
        rd.read_rasdaemon(_db([mc, aer]))
    assert ei.value.path == "aer_event.err_msg"
    newer = rd.create_sql("aer_event", rd.TABLES["aer_event"] + [("tlp_header", "TEXT")])
    with pytest.raises(FormatError, match="unexpected column tlp_header"):
        rd.read_rasdaemon(_db([mc, newer]))
    with pytest.raises(FormatError, match="not a readable SQLite"):
        rd.read_rasdaemon(rd.SQLITE_MAGIC + b"\xff" * 200, source="bad.db")


def test_bad_arm_blob_is_skipped_with_reason():
    rec = next(r for r in _records() if isinstance(r.sections[0].body, CperSecProcArm))
    con = sqlite3.connect(":memory:")
    con.deserialize(rd.write_rasdaemon([rec, rec]))
    con.execute("UPDATE arm_event SET err_info = substr(err_info, 1, 20) WHERE id = 2")
    con.commit()
    res = rd.read_rasdaemon(con.serialize(), source="x.db")
    assert sum(e.table == "arm_event" for e in res.events) == 1
    (sk,) = res.skipped
    assert sk.where == "x.db:arm_event[id=2].err_info" and "32-byte" in sk.reason


# ---- the real ras-mc-ctl (Debian package rasdaemon) ----

RAS_MC_CTL = shutil.which("ras-mc-ctl") or next(
    (p for p in ("/usr/sbin/ras-mc-ctl", "/sbin/ras-mc-ctl") if os.access(p, os.X_OK)), None)


@pytest.fixture
def installed_db(tmp_path):
    """A database at ras-mc-ctl's fixed path (/var/lib/rasdaemon/ras-mc_event.db) seen only
    by ras-mc-ctl: it runs in a private mount namespace where a directory of ours is bound
    over /var/lib, so a live rasdaemon's database is never read or written."""
    if RAS_MC_CTL is None:
        pytest.skip("ras-mc-ctl not installed (Debian package rasdaemon: apt-get install rasdaemon)")
    if UNSHARE is None or subprocess.run([UNSHARE, "--mount", "true"], capture_output=True).returncode:
        pytest.skip("no private mount namespace here (unshare --mount needs root)")
    (tmp_path / "lib" / "rasdaemon").mkdir(parents=True)
    env = dict(os.environ)
    if not any(shutil.which("modprobe", path=d) for d in ("/sbin", "/usr/sbin", env.get("PATH", ""))):
        # ras-mc-ctl exits 1 at start-up unless it finds modprobe (only --status etc. use it)
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "modprobe").write_text("#!/bin/sh\nexit 0\n")
        (tmp_path / "bin" / "modprobe").chmod(0o755)
        env["PATH"] = f"{tmp_path / 'bin'}:{env.get('PATH', '')}"
    env["RASFLOW_VAR_LIB"] = str(tmp_path / "lib")
    return tmp_path / "lib" / "rasdaemon" / "ras-mc_event.db", env


UNSHARE = shutil.which("unshare")


def _ctl(opt: str, env) -> str:
    script = f'mount --bind "$RASFLOW_VAR_LIB" /var/lib && exec {RAS_MC_CTL} {opt}'
    p = subprocess.run([UNSHARE, "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_real_ras_mc_ctl_lists_our_db(installed_db):
    path, env = installed_db
    recs = _records()
    rd.write_rasdaemon(recs, str(path))
    ours = rd.read_rasdaemon(path.read_bytes())
    errors = rd.read_rasdaemon(_ctl("--errors", env), source="ras-mc-ctl --errors")
    assert errors.skipped == []
    listed = [t for t in errors.tables if t in rd.TABLES]
    assert "mc_event" in listed and "aer_event" in listed  # Debian's build also has arm when --enable-arm
    for t in listed:
        printed = [e for e in errors.events if e.table == t]
        stored = [e for e in ours.events if e.table == t]
        assert [e.id for e in printed] == [e.id for e in stored]
        for p, s in zip(printed, stored, strict=True):
            assert p.row == {k: s.row[k] for k in p.row}, t
    summary = rd.read_rasdaemon(_ctl("--summary", env), source="ras-mc-ctl --summary")
    assert summary.skipped == []
    counts = Counter()
    for s in summary.summary:
        counts[s["table"]] += s["count"]
    for t in listed:
        assert counts[t] == sum(e.table == t for e in ours.events), t


# ---- realworld ras-mc-ctl texts ----

def _rw(name: str) -> Path:
    p = RW / name
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def test_rw_01_alibaba_summary():
    p = _rw("01-arm64-alibaba-ras-mc-ctl-summary-memory-aer-arm-disk-memfailure.txt")
    assert rd.sniff_rasdaemon(p.read_bytes())
    res = rd.read_rasdaemon(p.read_bytes(), source=p.name)
    assert [s.where for s in res.skipped] == [f"{p.name}:1"]  # the "$ ras-mc-ctl --summary" prompt
    per = Counter()
    for s in res.summary:
        per[s["table"]] += s["count"]
    assert per == {"mc_event": 1, "aer_event": 2, "arm_event": 9, "disk_errors": 60 + 7 + 2162,
                   "memory_failure_event": 24}
    mc = next(s for s in res.summary if s["table"] == "mc_event")
    assert mc["label"] == "SOCKET 1 CHANNEL 1 DIMM 0 DIMM1" and (mc["top_layer"], mc["middle_layer"]) == (18, -1)
    assert {s["mpidr"] for s in res.summary if s["table"] == "arm_event"} >= {0x81090100, 0x813a0200}
    aer = next(s for s in res.summary if s["table"] == "aer_event")
    assert aer["err_type"] == "Uncorrected (Non-Fatal)" and aer["err_msg"] == "Completion Timeout"


def test_rw_02_03_amd_mce():
    p2 = _rw("02-x86-amd-ras-mc-ctl-summary-mce-only-rasdaemon-issue121.txt")
    res = rd.read_rasdaemon(p2.read_text(), source=p2.name)
    assert len(res.skipped) == 1 and res.events == []
    assert res.summary == [{"table": "mce_record", "line": 13, "count": 1,
                            "error_msg": "Corrected error, no action required."}]
    p3 = _rw("03-x86-amd-ras-mc-ctl-errors-mce-event-rasdaemon-issue121.txt")
    res = rd.read_rasdaemon(p3.read_bytes(), source=p3.name)
    assert len(res.skipped) == 1
    (ev,) = res.events
    assert ev.table == "mce_record" and ev.id == 1 and ev.row["timestamp"] == ".."
    assert ev.row["status"] == 0xDC2040000400011B and ev.row["addr"] == 0x7D41B7940 and ev.row["bank"] == 0x15


def test_text_unknown_lines_are_counted():
    text = "Memory controller events:\n1 2024-01-01 00:00:00 +0000 garbage\nhello\n"
    res = rd.read_rasdaemon(text, source="t.txt")
    assert [s.where for s in res.skipped] == ["t.txt:2", "t.txt:3"]
    assert "unrecognised line under mc_event" in res.skipped[0].reason


def test_events_back_to_records_and_memory_failure_rows():
    recs = _records()
    mf = rd.memory_failure_event(0x8aa306, "dirty LRU page", "Recovered", "2024-06-20 10:00:00 +0000")
    res = rd.read_rasdaemon(rd.write_rasdaemon([*recs, mf]))
    (got,) = [e for e in res.events if e.table == "memory_failure_event"]
    assert got == mf and got.row["pfn"] == "0x8aa306" and got.section is None
    back = res.records
    assert len(back) == sum(e.section is not None for e in res.events)
    nonstd = [e for e in res.events if e.table == "non_standard_event"]
    traced = (CperSecProcArm, rd.CperSecMemErr, rd.CperSecPcie)  # the sections with their own trace events
    orig = [s for r in recs for s in r.sections if not isinstance(s.body, traced)]
    for ev, s in zip(nonstd, orig, strict=True):
        (b,) = rd.to_record(ev).sections
        d = s.descriptor
        assert (b.descriptor.section_type, b.descriptor.fru_id, b.descriptor.fru_text, b.descriptor.section_severity) \
            == (d.section_type, d.fru_id, d.fru_text, d.section_severity)
        assert b.body.encode() == s.body.encode()
    for r in back:
        assert cper.decode(r.encode()) == r


def test_sniff():
    assert rd.sniff_rasdaemon(b"No Memory errors.\n\nNo PCIe AER errors.\n")
    assert not rd.sniff_rasdaemon(b"[ 1.0] sd 0:0:0:0: Disk errors were seen\n")
    assert not rd.sniff_rasdaemon(rd.SQLITE_MAGIC + b"\0" * 100)


def _db_with(sql: str) -> bytes:
    """A database of the packaged sample's records with ``sql`` applied to it."""
    import fuzzing

    con = sqlite3.connect(":memory:")
    con.deserialize(rd.write_rasdaemon(fuzzing.records()[:6]))
    con.execute(sql)
    con.commit()
    return con.serialize()


def test_text_that_is_not_utf8_is_kept_and_said():
    data = _db_with("UPDATE mc_event SET label = CAST(X'41FF42' AS TEXT) WHERE id = 1")
    res = rd.read_rasdaemon(data, source="r.db")
    row = next(e for e in res.events if e.table == "mc_event" and e.id == 1)
    assert row.row["label"] == "A\ufffdB"
    assert [str(s.where) for s in res.skipped] == ["r.db:mc_event[id=1].label"]


@pytest.mark.parametrize(("column", "value"), [("mpidr", "'x'"), ("affinity", "999"), ("err_info", "'text'")])
def test_a_column_of_the_wrong_type_skips_its_row_naming_the_column(column, value):
    data = _db_with(f"UPDATE arm_event SET {column} = {value}")  # mpidr: TEXT in an INTEGER column
    res = rd.read_rasdaemon(data, source="r.db")
    assert not [e for e in res.events if e.table == "arm_event"]
    assert res.skipped and all(s.where.endswith(f".{column}") for s in res.skipped)


def test_a_damaged_page_keeps_the_rows_before_it():
    import fuzzing

    data = bytearray(rd.write_rasdaemon(fuzzing.records() * 40))
    page = int.from_bytes(data[16:18], "big")
    data[-page:] = b"\xa5" * page  # the last page: garbage
    res = rd.read_rasdaemon(bytes(data), source="r.db")
    assert res.events  # the tables before the damage still read
    assert any("unreadable" in s.reason or "malformed" in s.reason for s in res.skipped)


def test_mc_event_holds_what_ghes_edac_traces():
    """ghes_edac_report_mem_error() (6.12): the location is cper_mem_err_location(), rank
    from bit 15, bank group and address, the extended row; driver_detail is
    print_mem_error_other_detail() with its last space cut."""
    from rasflow.formats.cper import memory as m

    v = (m.CPER_MEM_VALID_NODE | m.CPER_MEM_VALID_RANK_NUMBER | m.CPER_MEM_VALID_BANK_GROUP
         | m.CPER_MEM_VALID_BANK_ADDRESS | m.CPER_MEM_VALID_ROW | m.CPER_MEM_VALID_ROW_EXT
         | m.CPER_MEM_VALID_ERROR_STATUS | m.CPER_MEM_VALID_PA | m.CPER_MEM_VALID_ERROR_TYPE)
    sec = m.CperSecMemErr(validation_bits=v, node=1, rank=3, bank=(2 << 8) | 5, row=0x1234, extended=0b10,
                          error_status=0x400, physical_addr=0x8_0000_1000, error_type=3)
    (ev,) = rd.events_from_records([cper.build_record([sec], error_severity=0)])
    assert ev.row["driver_detail"] == ("APEI location: node:1 rank:3 bank_group:2 bank_address:5 row:135732 "
                                       "status(0x0000000000000400): Storage error in DRAM memory")
    assert (ev.row["err_msg"], ev.row["address"], ev.row["label"]) == ("multi-bit ECC", 0x8_0000_1000, "unknown memory")


def test_what_a_row_cannot_hold_is_said():
    from rasflow.formats.cper.pcie import CperSecPcie

    notes: list[str] = []
    arm = cper.decode(sample()).sections[1].body
    rd.write_rasdaemon([cper.build_record([arm, CperSecPcie(validation_bits=1)], error_severity=0)], notes=notes)
    assert any("arm_event stores no MIDR" in n for n in notes)
    assert any("traces no aer_event" in n for n in notes)


def test_real_ras_mc_ctl_shows_rank_row_and_bank(installed_db):
    """Issue 18: ras-mc-ctl --errors on our database shows the DIMM location the CPER has."""
    from rasflow.formats.cper import memory as m

    path, env = installed_db
    v = (m.CPER_MEM_VALID_RANK_NUMBER | m.CPER_MEM_VALID_BANK_GROUP | m.CPER_MEM_VALID_BANK_ADDRESS
         | m.CPER_MEM_VALID_ROW | m.CPER_MEM_VALID_PA)
    sec = m.CperSecMemErr(validation_bits=v, rank=3, bank=(2 << 8) | 5, row=77, physical_addr=0x8_0000_1000)
    rd.write_rasdaemon([cper.build_record([sec], error_severity=0)], str(path))
    out = _ctl("--errors", env)
    assert "rank:3 bank_group:2 bank_address:5 row:77" in out, out
