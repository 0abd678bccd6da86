"""The boot error region walk (bert_print_all()) and reading a /sys/firmware/acpi/tables-like directory."""

from __future__ import annotations

import pytest

from rasflow.formats import FormatError, acpi
from vectors import vector_files

cper = pytest.importorskip("rasflow.formats.cper", reason="the region walk needs rasflow.formats.cper.decode_estatus")


def _block(pa: int, severity: int = 0) -> bytes:
    from rasflow.formats.cper.memory import CperSecMemErr

    sec = CperSecMemErr(validation_bits=0x4002, physical_addr=pa)  # PA and error type valid, as QEMU writes
    return cper.build_estatus([sec], error_severity=severity).encode()


def test_region_stops_at_zero_block_status():
    a, b = _block(0x7E000000), _block(0x7E001000, severity=2)
    region = a + b + bytes(1024 - len(a) - len(b))
    r = acpi.decode_boot_error_region(region)
    assert len(r.blocks) == 2 and r.blocks[1].block.error_severity == 2
    assert len(r.rest) == 1024 - 2 * 172 and not r.rest.strip(b"\0")
    assert r.encode() == region and r.check() == []
    d = r.to_dict()
    assert d["rest_zero_bytes"] == len(r.rest) and acpi.from_dict(d) == r


def test_region_short_tail_and_empty():
    a = _block(0x1000)
    assert acpi.decode_boot_error_region(a + bytes(19)).rest == bytes(19)  # < 20 bytes left: stop
    r = acpi.decode_boot_error_region(bytes(64))
    assert r.blocks == () and r.encode() == bytes(64)


def test_region_truncated_block_is_formaterror():
    a = _block(0x1000)
    with pytest.raises(FormatError) as ei:
        acpi.decode_boot_error_region(a + a[:100])
    assert ei.value.path.startswith("blocks[1]")


def test_kernel_vectors_as_a_region():
    files = [f for f in vector_files("kernel-edge/*mem*.estatus.bin")]
    if not files:
        pytest.skip("kernel-edge vectors absent")
    blocks = [f.read_bytes() for f in files[:2]]
    region = b"".join(blocks) + bytes(64)
    r = acpi.decode_boot_error_region(region)
    assert [b.encode() for b in r.blocks] == blocks and r.encode() == region


def test_read_tables_dir(tmp_path):
    hest, _ = acpi.qemu_virt_hest(0x43F00000)
    region = _block(0x7E000000) + bytes(512)
    bert = acpi.build_bert(len(region), 0xAFE96000)
    (tmp_path / "HEST").write_bytes(hest.encode())
    (tmp_path / "BERT").write_bytes(bert.encode())
    (tmp_path / "SSDT1").write_bytes(b"SSDT" + bert.encode()[4:])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "BERT").write_bytes(region)
    (tmp_path / "dynamic").mkdir()
    tables = acpi.read_tables_dir(tmp_path)
    assert set(tables) == {"HEST", "BERT", "SSDT1"}
    assert tables["HEST"] == hest and tables["BERT"] == bert
    assert type(tables["SSDT1"]) is acpi.GenericTable and "EINJ" not in tables
    assert tables.bert_region == region and len(tables.boot_errors.blocks) == 1
    only = acpi.read_tables_dir(tmp_path, signatures=["HEST"])
    assert set(only) == {"HEST"} and only.boot_errors is not None
    (tmp_path / "EINJ").write_bytes(b"EINJ\x10\x00")
    with pytest.raises(FormatError) as ei:
        acpi.read_tables_dir(tmp_path)
    assert ei.value.path.startswith("EINJ.")
