"""The record/status-block machinery: round trips, builders, and every kind of bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError, cper
from rasflow.formats.cper.estatus import (
    AcpiHestGenericData,
    AcpiHestGenericDataV300,
    AcpiHestGenericStatus,
)
from rasflow.formats.cper.memory import CPER_MEM_VALID_PA, CperSecMemErr
from rasflow.formats.cper.record import CperRecordHeader, CperSectionDescriptor
from rasflow.formats.cper.timestamp import Timestamp, encode_timestamp

LAYOUTS = [CperRecordHeader, CperSectionDescriptor, AcpiHestGenericStatus, AcpiHestGenericData,
           AcpiHestGenericDataV300]


@pytest.mark.parametrize("cls", LAYOUTS + [CperSecMemErr], ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_layout_round_trips(cls, data):
    obj = data.draw(cls.strategy())
    assert cls.decode(obj.encode(), 0, len(obj.encode())) == obj
    raw = data.draw(st.binary(min_size=cls.SIZE, max_size=cls.SIZE))
    assert cls.decode(raw, 0, cls.SIZE).encode() == raw
    assert cls.from_dict(json.loads(json.dumps(obj.to_dict()))) == obj


def test_sizes_match_the_kernel_structs():
    assert (CperRecordHeader.SIZE, CperSectionDescriptor.SIZE) == (128, 72)
    assert (AcpiHestGenericStatus.SIZE, AcpiHestGenericData.SIZE, AcpiHestGenericDataV300.SIZE) == (20, 64, 72)
    assert CperSecMemErr.SIZE == 80


mem_sections = CperSecMemErr.strategy(tail=st.binary(max_size=16))


@settings(max_examples=40, deadline=None)
@given(st.lists(mem_sections, min_size=1, max_size=4), st.integers(0, 3), st.integers(0, 2**64 - 1))
def test_built_record_round_trips(secs, sev, rid):
    rec = cper.build_record(secs, error_severity=sev, record_id=rid, timestamp=encode_timestamp(2024, 5, 17, 12, 34, 56))
    data = rec.encode()
    assert len(data) == rec.header.record_length == 128 + 72 * len(secs) + sum(s.nbytes for s in secs)
    back = cper.decode(data)
    assert back == rec and back.check() == []
    assert cper.from_dict(back.to_dict()) == back
    est = cper.record_to_estatus(back)
    assert cper.decode(est.encode()) == est and est.check() == []


@settings(max_examples=40, deadline=None)
@given(st.lists(mem_sections, min_size=0, max_size=4), st.integers(0, 3), st.sampled_from([0x0201, 0x0300]),
       st.binary(max_size=24))
def test_built_estatus_round_trips(secs, sev, rev, trailing):
    est = cper.build_estatus(secs, error_severity=sev, revision=rev)._replace(trailing=trailing)
    data = est.encode()
    back = cper.decode_estatus(data, 0, len(data))
    assert back == est
    assert cper.from_dict(json.loads(json.dumps(back.to_dict()))) == back


def _record() -> bytes:
    mem = CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x8000_1000)
    return cper.build_record([mem, mem], error_severity=0).encode()


def test_every_truncation_is_a_format_error_with_an_offset():
    data = _record()
    for n in range(len(data)):
        with pytest.raises(FormatError) as e:
            cper.decode(data[:n] if n >= 4 else b"CPER"[:n] + data[n:4][:0])
        assert e.value.offset is not None or n < 20


def test_wrong_signature_and_revision():
    data = bytearray(_record())
    data[4:6] = (0x0300).to_bytes(2, "little")
    with pytest.raises(FormatError, match="unknown record revision") as e:
        cper.decode(bytes(data))
    assert e.value.path == "header.revision" and e.value.offset == 4
    data = bytearray(_record())
    data[6:10] = b"\0\0\0\0"
    with pytest.raises(FormatError) as e:
        cper.decode(bytes(data))
    assert e.value.path == "header.signature_end"


def test_section_beyond_record_names_the_descriptor():
    data = bytearray(_record())
    off = 128 + 72 + 4  # second descriptor's section_length
    data[off : off + 4] = (4000).to_bytes(4, "little")
    with pytest.raises(FormatError) as e:
        cper.decode(bytes(data))
    assert e.value.path == "sections[1].descriptor.section_length"
    assert e.value.offset == off


def test_section_count_that_does_not_fit():
    data = bytearray(_record())
    data[10:12] = (50).to_bytes(2, "little")
    with pytest.raises(FormatError) as e:
        cper.decode(bytes(data))
    assert e.value.path == "header.section_count"


def test_trailing_bytes_after_record_are_reported_and_kept_when_lenient():
    data = _record() + b"\xaa" * 5
    with pytest.raises(FormatError, match="5 bytes after"):
        cper.decode(data)
    rec = cper.decode(data, lenient=True)
    assert cper.encode(rec) == data
    assert any("record_length" in p for p in rec.check())


def test_too_short_section_is_kept_raw_when_lenient():
    mem = CperSecMemErr(validation_bits=CPER_MEM_VALID_PA)
    est = cper.build_estatus([mem], error_severity=2)
    data = bytearray(est.encode())
    # shrink the section to 16 bytes: error_data_length and data_length
    data[20 + 24 : 20 + 28] = (16).to_bytes(4, "little")
    data[12:16] = (72 + 16).to_bytes(4, "little")
    data = bytes(data[: 20 + 72 + 16])
    with pytest.raises(FormatError, match="smaller than CperSecMemErr") as e:
        cper.decode(data)
    assert e.value.path == "entries[0].body"
    lenient = cper.decode(data, lenient=True)
    assert cper.encode(lenient) == data
    assert isinstance(lenient.entries[0].body, cper.RawSection)
    assert lenient.check() and "smaller" in lenient.check()[0]


def test_unknown_guid_is_raw_not_an_error():
    raw = cper.RawSection(cper.Guid("01234567-89ab-cdef-0123-456789abcdef"), bytes(range(24)))
    est = cper.build_estatus([raw], error_severity=3)
    back = cper.decode(est.encode())
    assert back.entries[0].body == raw and back.check() == []


def test_decode_all_walks_consecutive_records():
    one = _record()
    recs = list(cper.decode_all(one + one))
    assert len(recs) == 2 and recs[0].encode() == one


@pytest.mark.parametrize(
    "doc,path",
    [
        ({"kind": "nope"}, "kind"),
        ({"kind": "cper_record", "header": {"revision": "x"}, "sections": []}, "header.revision"),
        ({"kind": "cper_record", "header": {}, "sections": [{"descriptor": {"section_type": "zz"}}]},
         "sections[0].descriptor.section_type"),
        ({"kind": "estatus", "block": {"bogus": 1}, "entries": []}, "block.bogus"),
        ({"kind": "estatus", "block": {"data_length": 2**40}, "entries": []}, "block.data_length"),
    ],
)
def test_bad_json_names_the_field(doc, path):
    with pytest.raises(FormatError) as e:
        cper.from_dict(doc)
    assert e.value.path == path


def test_timestamp_bcd():
    ts = encode_timestamp(2024, 5, 17, 12, 34, 56, precise=True)
    assert ts.to_bytes(8, "little") == bytes([0x56, 0x34, 0x12, 1, 0x17, 0x05, 0x24, 0x20])
    t = Timestamp.from_u64(ts)
    assert t.precise and t.kernel_str() == "2024-05-17 12:34:56"
    with pytest.raises(FormatError):
        encode_timestamp(2024, 13, 1, 0, 0, 0)


def test_kernel_lines_read_severities_as_the_kernels_u16():
    """cper_estatus_print and cper_estatus_print_section keep the severity in a __u16
    (drivers/firmware/efi/cper.c, Linux 6.12): a block severity of 0x10002 prints as
    corrected, a section severity of 0x10001 as fatal, as the real kernel printed them."""
    import struct

    from rasflow.formats.render.kernel import render_estatus

    rec = cper.build_record([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x1000)],
                            error_severity=0)
    raw = bytearray(cper.record_to_estatus(rec).encode())
    struct.pack_into("<I", raw, 16, 0x10002)  # acpi_hest_generic_status.error_severity
    struct.pack_into("<I", raw, 20 + 16, 0x10001)  # acpi_hest_generic_data.error_severity
    lines = render_estatus(cper.decode(bytes(raw), lenient=True))
    assert lines[:3] == [
        "[Hardware Error]: It has been corrected by h/w and requires no further action",
        "[Hardware Error]: event severity: corrected",
        "[Hardware Error]:  Error 0, type: fatal"]


def test_a_newer_entry_revision_is_read_as_the_kernel_reads_it():
    """acpi_hest_get_version() >= 3 selects the 72-byte entry (include/acpi/ghes.h): the real
    kernel prints an entry of revision 0x0400 normally; we decode it, say so in check(), and
    keep its bytes."""
    import struct

    from rasflow.formats.render.kernel import render_estatus

    rec = cper.build_record([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x1000)],
                            error_severity=1)
    raw = bytearray(cper.record_to_estatus(rec).encode())
    assert struct.unpack_from("<H", raw, 20 + 20)[0] >> 8 == 3
    struct.pack_into("<H", raw, 20 + 20, 0x0400)
    est = cper.decode(bytes(raw))
    assert len(est.entries) == 1 and est.encode() == bytes(raw)
    assert any("revision 0x0400" in p for p in est.check())
    assert "physical_address: 0x0000000000001000" in " ".join(render_estatus(est))


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d["header"].__setitem__("recordLength", 0xFFFFFFFF), "header.recordLength"),
    (lambda d: d.__setitem__("header", [1, 2]), "header"),
    (lambda d: d["sectionDescriptors"][0].__setitem__("flags", None), "sectionDescriptors[0].flags"),
])
def test_hostile_libcper_json_is_one_format_error(mutate, path):
    """A libcper JSON record whose recordLength claims 4 GiB, or whose objects are of the
    wrong JSON type: one FormatError naming the field, never 4 GiB of zeros or an
    AttributeError."""
    from rasflow.formats.render.libcper import from_libcper

    rec = cper.build_record([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x1000)],
                            error_severity=0)
    d = json.loads(json.dumps(cper.to_libcper(rec)))
    mutate(d)
    with pytest.raises(FormatError) as e:
        from_libcper(d)
    assert e.value.path == path
