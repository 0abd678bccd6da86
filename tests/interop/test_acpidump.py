"""Text dumps of ACPI tables and status blocks: the realworld vectors, writers, and bad input."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from rasflow.data import sample
from rasflow.formats import acpi, cper
from rasflow.formats.acpi.hest_sources import GhesV2
from rasflow.formats.cper.memory import CperSecMemErr
from rasflow.interop.acpidump import (
    extract_dumps,
    read_acpidump,
    sniff_acpidump,
    write_acpidump,
    write_xp,
)
from vectors import VECTORS, vector_files

TABLES = VECTORS / "realworld" / "tables"

# file -> (dump kind, table class, length, number of error sources / region length)
WHOLE_TABLES = {
    "04-fwts-test-hest-0001-handcrafted-hp-proliant-hest.acpidump.txt": ("acpidump", "Hest", 188, 3),
    "05-fwts-test-bert-0001-handcrafted-bert.acpidump.txt": ("acpidump", "Bert", 48, 1024),
    "06-arm-refinfra-hest-edk2-acpiview-hexdump.txt": ("acpiview", "Hest", 224, 2),
    "unattributed/u01-ami-hest-raw-table-data.txt": ("iasl-raw", "Hest", 636, 3),
    "unattributed/u02-ampere-altra-hest-raw-table-data.txt": ("iasl-raw", "Hest", 500, 5),
}


def _vector(name):
    p = TABLES / name
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


@pytest.mark.parametrize("name", sorted(WHOLE_TABLES))
def test_realworld_tables_decode_with_valid_checksums(name):
    p = _vector(name)
    kind, cls, length, count = WHOLE_TABLES[name]
    res = read_acpidump(p.read_bytes(), source=p.name)
    assert sniff_acpidump(p.read_bytes())
    assert res.skipped == [] and res.records == [] and len(res.tables) == 1
    d = res.tables[0]
    assert d.block.kind == kind and d.block.where == f"{p.name}:1"
    t = d.obj
    assert type(t).__name__ == cls and t.header.length == length == len(d.block.data)
    assert t.checksum_ok() and d.problems == []
    assert t.encode() == d.block.data
    if cls == "Hest":
        assert t.error_source_count == count == len(t.sources)
    else:
        assert t.region_length == count and t.address == 0xAFE96000


def test_realworld_source_types():
    types = {}
    for name in WHOLE_TABLES:
        p = _vector(name)
        t = read_acpidump(p.read_bytes()).tables[0].obj
        types[name[:3] if name[0] != "u" else name[13:16]] = [type(s).__name__ for s in getattr(t, "sources", ())]
    assert types["04-"] == ["AerRootPort", "AerEndpoint", "AerBridge"]
    assert types["06-"] == ["GhesV2", "GhesV2"]
    assert types["u01"] == ["Ghes", "Ghes", "IaCorrected"]
    assert types["u02"] == ["GhesV2"] * 5


def test_acpiview_address_and_sdei_sources():
    t = read_acpidump(_vector("06-arm-refinfra-hest-edk2-acpiview-hexdump.txt").read_text()).tables[0]
    assert t.block.address == 0xF97DE818 and t.block.name == "HEST" and t.block.declared_length == 224
    assert [s.notify_type for s in t.obj.sources] == [0x0B, 0x0B]


def test_hexdump_c_cper_record_with_repeat_lines():
    p = _vector("unattributed/u03-arm-rdv3r1-fvp-mcp-cper-firmware-error-record-hexdump.txt")
    res = read_acpidump(p.read_text(), source=p.name)
    assert res.skipped == [] and res.tables == []
    (d,) = res.records
    assert d.block.kind == "hexdump" and d.block.where == f"{p.name}:5" and len(d.block.data) == 232
    rec = d.obj
    assert isinstance(rec, cper.CperRecord) and rec.header.record_length == 232 and d.problems == []
    assert rec.sections[0].descriptor.fru_text.rstrip(b"\0") == b"Arm MCP Firmware"
    assert type(rec.sections[0].body).__name__ == "CperSecFwErrRecRef"


def test_qemu_xp_status_block_dump_is_partial():
    """The posted `xp /100x` shows only 0x60 of the 172 bytes QEMU wrote: the block header and
    the data entry header are there, the 80-byte memory section is cut after 4 bytes."""
    p = _vector("01-qemu-arm-ghes-error-status-block-xp-dump.txt")
    res = read_acpidump(p.read_text(), source=p.name)
    assert res.records == [] and res.tables == []
    assert [(b.kind, b.address, len(b.data)) for b in res.blocks] == [("xp", 0x785D0040, 4), ("xp", 0x785D80B0, 96)]
    data = res.blocks[1].data
    assert data[20:36] == bytes(cper.guids.CPER_SEC_PLATFORM_MEM)  # memory-error section GUID
    assert int.from_bytes(data[0x5C:0x60], "little") == 0x4002  # PA + memory-error-type valid
    assert [s.where for s in res.skipped] == [f"{p.name}:2", f"{p.name}:6"]
    assert "4 bytes: neither a CPER record nor a Generic Error Status Block" in res.skipped[0].reason
    assert "partial dump: the status block (20 + data_length) says 172 bytes, the dump gives 96" in res.skipped[1].reason


def test_iasl_field_excerpt_is_a_partial_table():
    p = _vector("02-qemu-arm-virt-hest-ghesv2-sea-iasl-excerpt.txt")
    res = read_acpidump(p.read_text(), source=p.name)
    assert res.tables == [] and res.skipped == []
    (d,) = res.entries
    assert d.block.kind == "iasl-fields" and d.block.start == 0x308 and len(d.block.data) == 92
    assert d.problems == ["partial iasl excerpt: bytes 0x308..0x363 of a table whose header is not shown; "
                          "no checksum can be verified"]
    e = d.obj
    assert isinstance(e, GhesV2) and e.notify_type == 8 and e.source_id == 1
    assert e.error_status_address_address == 0x785D0040 and e.read_ack_register_address == 0x785D0098
    assert e.error_block_length == 0x1000 and e.read_ack_preserve == 0xFFFFFFFE and e.read_ack_write == 1


def test_every_tables_text_vector_is_covered():
    covered = set(WHOLE_TABLES) | {
        "01-qemu-arm-ghes-error-status-block-xp-dump.txt",
        "02-qemu-arm-virt-hest-ghesv2-sea-iasl-excerpt.txt",
        "unattributed/u03-arm-rdv3r1-fvp-mcp-cper-firmware-error-record-hexdump.txt",
    }
    found = {str(p.relative_to(TABLES)) for p in vector_files("realworld/tables/**/*.txt")}
    if not found:
        pytest.skip("realworld vectors absent")
    assert found <= covered, found - covered


# --- writers and synthetic dumps -----------------------------------------------------------

def _tables():
    hest, _ = acpi.qemu_virt_hest(0x43F00000)
    bert = acpi.build_bert(0x400, 0x7F000000, oem_id=b"RASFLW").with_checksum()
    return [hest, bert]


def test_write_acpidump_round_trip_several_tables():
    tables = _tables()
    text = write_acpidump(tables, addresses=[0x1000, 0x2000])
    assert text.splitlines()[0] == "HEST @ 0x0000000000001000"
    res = read_acpidump(text, source="dump.txt")
    assert res.skipped == []
    assert [d.obj for d in res.tables] == tables
    assert [d.block.address for d in res.tables] == [0x1000, 0x2000]
    assert all(d.obj.checksum_ok() for d in res.tables)


@pytest.mark.skipif(shutil.which("acpixtract") is None, reason="acpixtract (acpica-tools) not installed")
def test_acpixtract_reads_what_we_write(tmp_path):
    tables = _tables()
    (tmp_path / "dump.txt").write_text(write_acpidump(tables))
    subprocess.run(["acpixtract", "-a", "dump.txt"], cwd=tmp_path, check=True, capture_output=True, timeout=20)
    assert (tmp_path / "hest.dat").read_bytes() == tables[0].encode()
    assert (tmp_path / "bert.dat").read_bytes() == tables[1].encode()


@pytest.mark.skipif(shutil.which("iasl") is None, reason="iasl (acpica-tools) not installed")
def test_iasl_disassembly_raw_and_fields_only(tmp_path):
    hest = _tables()[0]
    (tmp_path / "HEST").write_bytes(hest.encode())
    subprocess.run(["iasl", "-d", "HEST"], cwd=tmp_path, check=True, capture_output=True, timeout=20)
    dsl = (tmp_path / "HEST.dsl").read_text()
    res = read_acpidump(dsl)
    assert [(d.block.kind, d.obj) for d in res.tables] == [("iasl-raw", hest)] and res.skipped == []
    fields_only = dsl[: dsl.index("Raw Table Data")]
    res = read_acpidump(fields_only)
    assert [(d.block.kind, d.obj) for d in res.tables] == [("iasl-fields", hest)] and res.skipped == []


def _estatus():
    sec = CperSecMemErr(validation_bits=0x4002, physical_addr=0x7E000000)
    return cper.build_estatus([sec, sec._replace(physical_addr=0x7E001000)], error_severity=0)


@pytest.mark.parametrize("width", [1, 2, 4, 8])
def test_xp_status_block_decodes_to_cper(width):
    est = _estatus()
    text = write_xp(est.encode() + bytes(64), 0x43F00010, width=width)  # dumped past the block's end
    assert sniff_acpidump(text.encode())
    res = read_acpidump(text, source="xp.txt")
    assert res.skipped == [] and res.tables == []
    (d,) = res.records
    assert d.obj == est and d.block.address == 0x43F00010 and d.block.where == "xp.txt:1"
    rec = cper.estatus_to_record(d.obj)
    assert [s.body for s in rec.sections] == [e.body for e in est.entries]


def test_xp_lines_without_command_and_mixed_widths():
    est = _estatus()
    lines = write_xp(est.encode(), 0x1000).splitlines()[1:]
    res = read_acpidump("\n".join(lines))
    assert res.records[0].obj == est
    res = read_acpidump("0000000000001000: 0x01 0x0000\n0000000000001003: 0x00\n", source="m")
    assert res.skipped[0].where == "m:1" and "mixed or unknown width" in res.skipped[0].reason
    res = read_acpidump("(qemu) xp /4dw 0x1000\n0000000000001000: 1 0 0 0\n", source="d")
    assert res.skipped[0] == ("d:1", "QEMU dump format /dw is not hexadecimal (use /x)")


def test_missing_lines_bad_checksum_and_wrong_label():
    hest = _tables()[0]
    text = write_acpidump([hest])
    lines = text.splitlines()
    del lines[3]  # offset 0x20 missing
    res = read_acpidump("\n".join(lines), source="gap.txt")
    assert res.tables == []
    assert res.skipped[0] == ("gap.txt:4", "offset 0x30 does not follow 0x20: lines missing; the block ends before this line")
    assert ("gap.txt:4", "hex dump starts at offset 0x30, not 0: partial dump") in res.skipped
    assert any(s.where == "gap.txt:1" and "partial dump: the table header says 224 bytes, the dump gives 32" in s.reason
               for s in res.skipped)
    bad = bytearray(hest.encode())
    bad[9] ^= 1
    d = read_acpidump(write_acpidump([bytes(bad)])).tables[0]
    assert not d.obj.checksum_ok() and any("checksum" in p for p in d.problems)
    res = read_acpidump(write_acpidump([hest]).replace("HEST @", "BERT @"), source="l")
    assert res.skipped == [("l:1", "the dump is labelled BERT but the bytes start with b'HEST'")]


def test_iasl_without_raw_bytes_cannot_be_converted():
    text = ("/*\n * Disassembly of hest.dat, Sun Oct  6 00:11:47 2019\n *\n * ACPI Data Table [HEST]\n */\n"
            "   Subtable Type : Generic Hardware Error Source\n")
    blocks, skipped = extract_dumps(text, source="x.dsl")
    assert blocks == []
    assert skipped[0].where == "x.dsl:2" and "cannot be converted" in skipped[0].reason


def test_sniff_rejects_other_text():
    assert not sniff_acpidump(b"[    0.000000] Linux version 6.1\n{\"a\": 1}\n")
    assert not sniff_acpidump(b"")


def test_indented_hexdump_and_iasl_sniff():
    rec = cper.estatus_to_record(_estatus())
    data = rec.encode()
    rows = [f"  {o:08x}  " + " ".join(f"{b:02x}" for b in data[o : o + 8]) + "  "
            + " ".join(f"{b:02x}" for b in data[o + 8 : o + 16]) + "  |................|" for o in range(0, len(data), 16)]
    res = read_acpidump("\n".join(rows) + f"\n  {len(data):08x}\n")
    assert res.skipped == [] and res.records[0].obj == rec
    assert sniff_acpidump(b"[02Ah 0042   2]                    Source Id : 0000\n")


@pytest.mark.parametrize("argv", [["xxd"], ["od", "-A", "x", "-t", "x1"], ["od", "-A", "x", "-t", "x1z"]],
                         ids=["xxd", "od", "od-z"])
def test_xxd_and_od_dumps_read_back_the_bytes(argv, tmp_path):
    """The dumps people paste besides hexdump -C, made by the real tools (od's '*' repeats and
    end offset line included)."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} not installed")
    data = sample()
    (tmp_path / "r.cper").write_bytes(data)
    text = subprocess.run([*argv, str(tmp_path / "r.cper")], capture_output=True, check=True).stdout
    res = read_acpidump(text)
    assert [r.obj.encode() for r in res.records] == [data] and res.skipped == []
