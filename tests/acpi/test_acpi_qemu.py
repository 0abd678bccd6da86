"""QEMU virt's HEST and etc/hardware_errors, checked against hw/acpi/ghes.c offsets and values (reference A1)."""

from __future__ import annotations

import struct

import pytest

from rasflow.formats import acpi

BASE = 0x43F0_0000  # where the firmware placed etc/hardware_errors


def u8(b, off):
    return b[off]


def u16(b, off):
    return struct.unpack_from("<H", b, off)[0]


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def u64(b, off):
    return struct.unpack_from("<Q", b, off)[0]


@pytest.fixture(scope="module")
def virt():
    hest, blob = acpi.qemu_virt_hest(BASE)
    return hest.encode(), blob


def test_header(virt):
    b, _ = virt
    assert len(b) == 224 == 36 + 4 + 2 * 92
    assert b[0:4] == b"HEST"
    assert u32(b, 4) == 224
    assert u8(b, 8) == 1  # revision
    assert sum(b) % 256 == 0  # checksum valid
    assert b[10:16] == b"BOCHS "
    assert b[16:24] == b"BXPC    "
    assert u32(b, 24) == 1
    assert b[28:32] == b"BXPC"
    assert u32(b, 32) == 1
    assert u32(b, 36) == 2  # error source count


@pytest.mark.parametrize("i,source_id,notify", [(0, 0, 8), (1, 1, 7)])  # SYNC/SEA, QMP/GPIO
def test_ghes_v2_entries(virt, i, source_id, notify):
    b, _ = virt
    e = 40 + 92 * i
    assert u16(b, e + 0) == 10
    assert u16(b, e + 2) == source_id
    assert u16(b, e + 4) == 0xFFFF  # related source id
    assert u8(b, e + 6) == 0  # flags
    assert u8(b, e + 7) == 1  # enabled
    assert u32(b, e + 8) == 1  # records to pre-allocate
    assert u32(b, e + 12) == 1  # max sections per record
    assert u32(b, e + 16) == 1024  # max raw data length
    # Error Status Address GAS at +20 (GHES_ERR_STATUS_ADDR_OFF): SystemMemory, 64-bit, QWord
    assert b[e + 20 : e + 24] == bytes([0, 0x40, 0, 4])
    assert u64(b, e + 24) == BASE + 8 * i  # -> error_block_address[i]
    # notification structure at +32: type, length 28, the rest 0
    assert u8(b, e + 32) == notify and u8(b, e + 33) == 28
    assert b[e + 34 : e + 60] == bytes(26)
    assert u32(b, e + 60) == 1024  # error status block length
    # Read Ack Register GAS at +64 (GHES_READ_ACK_ADDR_OFF)
    assert b[e + 64 : e + 68] == bytes([0, 0x40, 0, 4])
    assert u64(b, e + 68) == BASE + 8 * (2 + i)  # -> read_ack_register[i]
    assert u64(b, e + 76) == 0xFFFF_FFFF_FFFF_FFFE  # read ack preserve ~1
    assert u64(b, e + 84) == 1  # read ack write


def test_hardware_errors_blob(virt):
    _, blob = virt
    assert len(blob) == 2080 == 16 * 2 + 1024 * 2
    assert u64(blob, 0) == BASE + 32  # error_block_address[0] -> block 0
    assert u64(blob, 8) == BASE + 32 + 1024
    assert u64(blob, 16) == 1 and u64(blob, 24) == 1  # read_ack_register initialised to 1
    assert blob[32:] == bytes(2048)


def test_gas_resolve_through_the_blob(virt):
    """Following the HEST's GAS into the blob reaches the status block and the ack word, as the guest does."""
    b, blob = virt
    hest = acpi.decode(b)
    hw = acpi.HardwareErrors.decode(blob, 2, BASE)
    for i, src in enumerate(hest.sources):
        slot = src.error_status_address.address - BASE
        assert u64(blob, slot) == hw.block_address(i)
        assert u64(blob, src.read_ack_register.address - BASE) == 1
    assert hw.encode() == blob


def test_decoded_fields_and_describe(virt):
    hest = acpi.decode(virt[0])
    assert isinstance(hest, acpi.Hest) and hest.check() == []
    sea, gpio = hest.sources
    assert (sea.type, sea.source_id, sea.notify.type, sea.notify.length) == (10, 0, 8, 28)
    assert gpio.notify_type == acpi.names.ACPI_HEST_NOTIFY_GPIO
    assert hest.by_source_id(1) is gpio
    lines = acpi.describe(hest)
    assert any("GHESv2 (type 10)" in ln for ln in lines)
    assert any("notify SEA (8)" in ln for ln in lines) and any("notify GPIO (7)" in ln for ln in lines)
    assert any(f"{BASE:#x}" in ln for ln in lines)


def test_legacy_single_sea():
    hest, blob = acpi.qemu_virt_hest_legacy(BASE)
    b = hest.encode()
    assert len(b) == 132 and u32(b, 4) == 132 and u32(b, 36) == 1 and sum(b) % 256 == 0
    assert u8(b, 40 + 32) == 8
    assert u64(b, 40 + 24) == BASE and u64(b, 40 + 68) == BASE + 8
    assert len(blob) == 1040 and u64(blob, 0) == BASE + 16 and u64(blob, 8) == 1


def test_custom_sources_and_oem():
    hest, blob = acpi.qemu_virt_hest(0x1000, [(5, "SEA"), (9, 11)], oem_id="ACME", oem_table_id="T")
    b = hest.encode()
    assert b[10:16] == b"ACME\0\0" and b[16:24] == b"T" + bytes(7)
    assert [s.source_id for s in hest.sources] == [5, 9]
    assert hest.sources[1].notify_type == acpi.names.ACPI_HEST_NOTIFY_SOFTWARE_DELEGATED
    with pytest.raises(ValueError):
        acpi.qemu_virt_hest(0, ["BOGUS"])
