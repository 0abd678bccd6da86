"""decode -> encode is exact for HEST/BERT/EINJ from random valid fields, real-world tables, and JSON."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from acpi.acpi_strategies import (
    VECTORS,
    any_table,
    bert_tables,
    einj_tables,
    hest_tables,
    hexdump_bytes,
)
from rasflow.formats import acpi

SETTINGS = settings(max_examples=60, deadline=None)


def _roundtrip(t):
    b = acpi.encode(t)
    t2 = acpi.decode(b)
    assert type(t2) is type(t)
    assert t2 == t
    assert acpi.encode(t2) == b
    return t2


@SETTINGS
@given(hest_tables())
def test_hest_roundtrip(t):
    t2 = _roundtrip(t)
    assert [type(s) for s in t2.sources] == [type(s) for s in t.sources]


@SETTINGS
@given(bert_tables())
def test_bert_roundtrip(t):
    _roundtrip(t)


@SETTINGS
@given(einj_tables())
def test_einj_roundtrip(t):
    _roundtrip(t)


@SETTINGS
@given(any_table)
def test_dict_roundtrip(t):
    d = t.to_dict()
    assert acpi.from_dict(d) == t
    assert type(acpi.from_dict(d)) is type(t)


@SETTINGS
@given(any_table)
def test_checksum_helper(t):
    fixed = t.with_checksum()
    assert fixed.checksum_ok() and sum(fixed.encode()[: fixed.header.length]) % 256 == 0
    assert not [p for p in fixed.check() if p.path == "header.checksum"]
    assert t.checksum_ok() == (t.header.checksum == fixed.header.checksum)


REALWORLD = [
    ("04-fwts-test-hest-0001-handcrafted-hp-proliant-hest.acpidump.txt", acpi.Hest, [6, 7, 8]),
    ("05-fwts-test-bert-0001-handcrafted-bert.acpidump.txt", acpi.Bert, None),
    ("06-arm-refinfra-hest-edk2-acpiview-hexdump.txt", acpi.Hest, [10, 10]),
    ("unattributed/u01-ami-hest-raw-table-data.txt", acpi.Hest, [9, 9, 1]),
    ("unattributed/u02-ampere-altra-hest-raw-table-data.txt", acpi.Hest, [10] * 5),
]


@pytest.mark.parametrize("name,cls,types", REALWORLD)
def test_realworld_tables(name, cls, types):
    path = VECTORS / "realworld" / "tables" / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    b = hexdump_bytes(path)
    t = acpi.decode(b, strict=True)  # real tables: valid checksum, no problems
    assert type(t) is cls and acpi.encode(t) == b and t.check() == []
    if types is not None:
        assert [s.type for s in t.sources] == types
    assert acpi.from_dict(t.to_dict()) == t
    assert acpi.describe(t)


def test_realworld_values():
    path = VECTORS / "realworld" / "tables" / "unattributed" / "u01-ami-hest-raw-table-data.txt"
    if not path.exists():
        pytest.skip("vector absent")
    t = acpi.decode(hexdump_bytes(path))
    nmi, polled, cmc = t.sources
    assert nmi.notify.type == acpi.names.ACPI_HEST_NOTIFY_NMI and nmi.error_status_address.address == 0x7D21F018
    assert polled.notify.poll_interval == 60000 and polled.error_block_length == 4096
    assert cmc.num_hardware_banks == 15 and len(cmc.error_banks) == 15 and cmc.nbytes == 48 + 15 * 28
    assert [b.bank_number for b in cmc.error_banks] == list(range(15))


def test_generic_table_roundtrip():
    b = acpi.build_hest([]).encode()
    other = b"SSDT" + b[4:]
    t = acpi.decode(other)
    assert type(t) is acpi.GenericTable and acpi.encode(t) == other
    assert acpi.from_dict(t.to_dict()) == t
    assert [p.path for p in t.check()] == ["header.checksum"]


def test_build_helpers_are_valid():
    entry = acpi.EinjEntry(action=0x8, instruction=2, register_region_space_id=0, register_region_bit_width=64,
                           register_region_access_width=4, register_region_address=0x1000, mask=0xFFFFFFFF)
    for t in (acpi.build_einj([entry]), acpi.build_bert(0x400, 0xAFE96000), acpi.build_hest([])):
        assert t.check() == []
        assert acpi.decode(t.encode(), strict=True) == t
