"""Wrong checksums are reported (strict raises); truncation and impossible sizes are FormatErrors with field and offset."""

from __future__ import annotations

import struct

import pytest

from rasflow.formats import FormatError, acpi

BASE = 0x43F0_0000


@pytest.fixture()
def hest_bytes():
    return acpi.qemu_virt_hest(BASE)[0].encode()


def test_wrong_checksum_reported_and_decoding_continues(hest_bytes):
    bad = bytearray(hest_bytes)
    bad[9] ^= 0x55
    t = acpi.decode(bytes(bad))
    assert len(t.sources) == 2  # decode went on
    assert acpi.encode(t) == bytes(bad)  # encode does not fix it
    probs = t.check()
    assert [p.path for p in probs] == ["header.checksum"]
    assert probs[0].offset == 9 and "checksum" in probs[0] and t.problems == probs
    assert t.with_checksum().encode() == hest_bytes
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(bad), strict=True)
    assert ei.value.path == "header.checksum" and ei.value.offset == 9


@pytest.mark.parametrize("cut", [0, 3, 20, 35, 36, 39, 100, 223])
def test_truncated_table(hest_bytes, cut):
    with pytest.raises(FormatError) as ei:
        acpi.decode(hest_bytes[:cut])
    e = ei.value
    assert e.offset is not None and e.path.startswith("header")
    if cut >= 36:  # whole header present: its length says 224
        assert e.path == "header.length" and e.offset == 4 and e.need == 224 - cut
    else:  # the first header field cut short
        assert e.need is not None and e.offset <= cut


def _hest_with(sources_bytes: bytes, count: int) -> bytes:
    length = 40 + len(sources_bytes)
    head = b"HEST" + struct.pack("<IBB6s8sI4sI", length, 1, 0, b"", b"", 1, b"", 1) + struct.pack("<I", count)
    return head + sources_bytes


def test_entry_longer_than_table(hest_bytes):
    """A GHESv2 entry (92 bytes by type) with only 60 bytes left: names the entry, the field, the offset."""
    b = _hest_with(hest_bytes[40 : 40 + 60], 1)
    with pytest.raises(FormatError) as ei:
        acpi.decode(b)
    e = ei.value
    assert e.path == "sources[0].error_block_length"  # the first field past the end (+60)
    assert e.offset == 40 + 60 and e.need == 32
    assert "type 10" in e.message


def test_count_does_not_fit(hest_bytes):
    b = bytearray(hest_bytes)
    struct.pack_into("<I", b, 36, 3)
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(b))
    e = ei.value
    assert e.path == "error_source_count" and e.offset == 36
    assert "sources[2]" in e.message and "0xe0" in e.message


def test_source_type_changed_to_longer_type(hest_bytes):
    """Entry 1 retyped from GHESv2 (92) to AER bridge (56) leaves 36 bytes the count does not cover."""
    b = bytearray(hest_bytes)
    struct.pack_into("<H", b, 40 + 92, 8)
    t = acpi.decode(bytes(b))
    assert type(t.sources[1]) is acpi.AerBridge and len(t.trailing) == 36
    assert acpi.encode(t) == bytes(b)
    assert "trailing" in [p.path for p in t.check()]
    # retyped to IA-32 MCE with 200 banks: the bank count makes it too long
    struct.pack_into("<H", b, 40 + 92, 0)
    b[40 + 92 + 32] = 200
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(b))
    assert ei.value.path == "sources[1].num_hardware_banks" and ei.value.offset == 40 + 92 + 32


def test_unknown_source_type_kept_raw(hest_bytes):
    b = bytearray(hest_bytes)
    struct.pack_into("<H", b, 40, 4)  # type 4: not used, size unknown
    t = acpi.decode(bytes(b))
    assert len(t.sources) == 1 and type(t.sources[0]) is acpi.UnknownSource
    assert len(t.sources[0].body) == 224 - 40 - 4 and acpi.encode(t) == bytes(b)
    paths = [p.path for p in t.check()]
    assert "sources[0].type" in paths and "error_source_count" in paths


def test_ghes_problems():
    hest, _ = acpi.qemu_virt_hest(BASE)
    bad = hest.sources[0]._replace(notify_length=24, error_status_address_address=0,
                                   read_ack_register_access_width=7, source_id=1)
    t = hest._replace(sources=(bad, hest.sources[1])).with_checksum()
    msgs = {p.path: p.message for p in t.check()}
    assert "notify length 24" in msgs["sources[0].notify_length"]
    assert "Invalid physical address in GAR" in msgs["sources[0].error_status_address.address"]
    assert "Invalid access size code in GAR" in msgs["sources[0].read_ack_register.access_width"]
    assert "Duplicated hardware error source ID: 1" in msgs["sources[1].source_id"]


def test_excess_bytes_kept(hest_bytes):
    t = acpi.decode(hest_bytes + b"\xaa\xbb")
    assert t.excess == b"\xaa\xbb" and acpi.encode(t) == hest_bytes + b"\xaa\xbb"
    assert [p.path for p in t.check()] == ["excess"]
    with pytest.raises(FormatError):
        acpi.decode(hest_bytes + b"\0", strict=True)


def test_length_smaller_than_header():
    b = bytearray(acpi.build_bert(0, 0).encode())
    struct.pack_into("<I", b, 4, 20)
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(b))
    assert ei.value.path == "header.length" and ei.value.offset == 4


def test_bert_too_short():
    b = bytearray(acpi.build_bert(0x400, 0x1000).encode()[:44])
    struct.pack_into("<I", b, 4, 44)
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(b))
    assert ei.value.path == "address" and ei.value.offset == 40


def test_einj_count_does_not_fit():
    entry = acpi.EinjEntry(action=0, instruction=4)
    b = bytearray(acpi.build_einj([entry, entry]).encode())
    struct.pack_into("<I", b, 44, 5)
    with pytest.raises(FormatError) as ei:
        acpi.decode(bytes(b))
    assert ei.value.path == "entries" and ei.value.offset == 44 and "instructions[2]" in ei.value.message


def test_einj_problems():
    entry = acpi.EinjEntry(action=0x42, instruction=9)
    t = acpi.build_einj([entry])._replace(header_length=7, entries=0, instructions=(), trailing=entry.encode())
    t = t.with_checksum()
    paths = [p.path for p in acpi.decode(t.encode()).check()]
    assert paths == ["header_length", "entries", "trailing"]
    t2 = acpi.build_einj([entry])
    assert {p.path for p in t2.check()} == {"instructions[0].action", "instructions[0].instruction"}


def test_decode_tiny_inputs():
    for b in (b"", b"HE", b"HEST", b"XXXX" + bytes(10)):
        with pytest.raises(FormatError):
            acpi.decode(b)


def test_from_dict_errors():
    with pytest.raises(FormatError):
        acpi.from_dict([])
    d = acpi.qemu_virt_hest(0)[0].to_dict()
    d["sources"][0]["notify_type"] = 300
    with pytest.raises(FormatError) as ei:
        acpi.from_dict(d)
    assert ei.value.path == "sources[0].notify_type"


def test_looks_like_table():
    b = acpi.qemu_virt_hest(0)[0].encode()
    assert acpi.looks_like_table(b) and acpi.looks_like_table(b + b"\0")
    assert not acpi.looks_like_table(b[:100])  # length field larger than the input
    assert not acpi.looks_like_table(b"CPER" + bytes(200))  # length 0: not a table
    assert not acpi.looks_like_table(b"he$t" + b[4:]) and not acpi.looks_like_table(b[:30])
