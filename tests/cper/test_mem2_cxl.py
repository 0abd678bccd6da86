"""Memory Error Section 2, CXL Protocol Error and the six CXL Component Event sections."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError, cper
from rasflow.formats.cper import guids as g
from rasflow.formats.cper.cxl_component import (
    CXL_COMPONENT_EVENTS,
    CperSecCxlComponent,
    CxlCperEventHdr,
)
from rasflow.formats.cper.cxl_protocol import (
    CperSecCxlProtErr,
    CperSecProtErrHdr,
    CxlRasCapabilityRegs,
)
from rasflow.formats.cper.memory2 import CperSecMemErr2
from rasflow.formats.cper.sections import (
    RawSection,
    decode_section,
    section_class,
    section_from_dict,
)
from rasflow.formats.render.kernel import bert_print
from rasflow.formats.render.kernel.cxl import cper_print_prot_err
from rasflow.formats.render.libcper import cxl_component as lc_comp
from rasflow.formats.render.libcper import cxl_protocol as lc_prot
from rasflow.formats.render.libcper import memory2 as lc_mem2
from vectors import vector_files

COMPONENT_GUIDS = list(CXL_COMPONENT_EVENTS)
PFX = "[Hardware Error]:   "


def _json(d):
    return json.loads(json.dumps(d))


# --- sizes and dispatch -------------------------------------------------------------------------


def test_sizes_match_the_structs():
    assert CperSecMemErr2.SIZE == 96
    assert CperSecProtErrHdr.SIZE == CperSecCxlProtErr.SIZE == 116
    assert CxlRasCapabilityRegs.SIZE == 88
    assert CxlCperEventHdr.SIZE == CperSecCxlComponent.SIZE == 32


def test_every_component_guid_decodes_to_the_shared_class_and_keeps_its_guid():
    assert len(COMPONENT_GUIDS) == 6
    for guid in COMPONENT_GUIDS:
        assert section_class(guid) is CperSecCxlComponent
        sec = CperSecCxlComponent(guid, CxlCperEventHdr(length=40, validation_bits=7), b"\1" * 8)
        rec = cper.build_record([sec], error_severity=2)
        back = cper.decode(rec.encode())
        assert back.sections[0].body == sec and back.sections[0].body.guid == guid
        assert cper.from_dict(_json(back.to_dict())) == back


# --- property round trips -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(CperSecMemErr2.strategy(tail=st.binary(max_size=16)))
def test_memory2_object_round_trips(sec):
    data = sec.encode()
    assert CperSecMemErr2.decode(data, 0, len(data)) == sec
    assert CperSecMemErr2.from_dict(_json(sec.to_dict())) == sec


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=96, max_size=120))
def test_memory2_bytes_round_trip(raw):
    assert CperSecMemErr2.decode(raw, 0, len(raw)).encode() == raw


@settings(max_examples=60, deadline=None)
@given(CperSecCxlProtErr.strategy())
def test_cxl_protocol_object_round_trips(sec):
    data = sec.encode()
    assert len(data) == sec.nbytes
    assert CperSecCxlProtErr.decode(data, 0, len(data)) == sec
    assert CperSecCxlProtErr.from_dict(_json(sec.to_dict())) == sec


@st.composite
def prot_err_bytes(draw):
    """Random bytes of a valid size: a random header whose lengths fit the section."""
    rest = draw(st.binary(max_size=160))
    hdr = bytearray(draw(st.binary(min_size=116, max_size=116)))
    dvsec_len = draw(st.integers(0, len(rest)))
    err_len = draw(st.integers(0, len(rest) - dvsec_len))
    struct.pack_into("<HH", hdr, 108, dvsec_len, err_len)
    return bytes(hdr) + rest


@settings(max_examples=80, deadline=None)
@given(prot_err_bytes())
def test_cxl_protocol_bytes_round_trip(raw):
    sec = CperSecCxlProtErr.decode(raw, 0, len(raw))
    assert sec.encode() == raw
    assert CperSecCxlProtErr.from_dict(_json(sec.to_dict())) == sec
    cper_print_prot_err(PFX, sec, None)
    lc_prot.to_ir(sec)


@settings(max_examples=60, deadline=None)
@given(CperSecCxlComponent.strategy())
def test_cxl_component_object_round_trips(sec):
    data = sec.encode()
    assert CperSecCxlComponent.decode(data, 0, len(data), guid=sec.guid) == sec
    assert CperSecCxlComponent.from_dict(_json(sec.to_dict()), guid=sec.guid) == sec
    assert section_from_dict(sec.guid, _json(sec.to_dict())) == sec


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=128), st.sampled_from(COMPONENT_GUIDS))
def test_cxl_component_bytes_round_trip(raw, guid):
    sec = CperSecCxlComponent.decode(raw, 0, len(raw), guid=guid)
    assert sec.encode() == raw
    assert CperSecCxlComponent.from_dict(_json(sec.to_dict()), guid=guid) == sec
    lc_comp.to_ir(sec)
    sec.check()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([g.CPER_SEC_PLATFORM_MEM2, g.CPER_SEC_CXL_PROT_ERR, *COMPONENT_GUIDS]))
def test_garbage_raises_only_format_error(raw, guid):
    for length in (len(raw), len(raw) + 7):
        try:
            sec = decode_section(guid, raw, 0, length)
        except FormatError:
            continue
        assert sec.encode() == raw
        sec.to_dict()


# --- FormatError --------------------------------------------------------------------------------


def test_truncated_sections_raise_format_error():
    with pytest.raises(FormatError):
        CperSecMemErr2.decode(b"\0" * 95, 0, 95)
    with pytest.raises(FormatError) as e:
        CperSecCxlProtErr.decode(b"\0" * 115, 0, 115)
    assert e.value.need == 1
    with pytest.raises(FormatError) as e:
        CperSecCxlComponent.decode(b"\0" * 31, 0, 31, guid=g.CPER_SEC_CXL_DRAM)
    assert e.value.need == 1
    with pytest.raises(FormatError) as e:
        CperSecCxlComponent.decode(b"\0" * 40, 0, 48, guid=g.CPER_SEC_CXL_DRAM)
    assert e.value.need == 8


@pytest.mark.parametrize("dvsec_len,err_len,path,field_off", [(9, 0, "dvsec_len", 108), (4, 5, "err_len", 110)])
def test_overrunning_lengths_name_the_field_and_offset(dvsec_len, err_len, path, field_off):
    data = CperSecProtErrHdr(dvsec_len=dvsec_len, err_len=err_len).encode() + b"\xaa" * 8
    buf = b"\xff" * 10 + data
    with pytest.raises(FormatError) as e:
        CperSecCxlProtErr.decode(buf, 10, len(data))
    assert e.value.path == path and e.value.offset == 10 + field_off
    # lenient: the record keeps the section raw and says why
    sec = decode_section(g.CPER_SEC_CXL_PROT_ERR, buf, 10, len(data), lenient=True)
    assert isinstance(sec, RawSection) and sec.data == data and path in sec.problem


def test_from_dict_rejects_inconsistent_or_malformed_json():
    sec = CperSecCxlProtErr(CperSecProtErrHdr(dvsec_len=2, err_len=1), b"ab", b"c")
    d = sec.to_dict()
    with pytest.raises(FormatError) as e:
        CperSecCxlProtErr.from_dict({**d, "dvsec": "00"})
    assert e.value.path == "dvsec"
    with pytest.raises(FormatError) as e:
        CperSecCxlProtErr.from_dict({**d, "err_log": "zz"}, path="body")
    assert e.value.path == "body.err_log"
    with pytest.raises(FormatError):
        CperSecCxlProtErr.from_dict({**d, "bogus": 1})
    with pytest.raises(FormatError):
        CperSecCxlProtErr.from_dict([1, 2])
    comp = CperSecCxlComponent(g.CPER_SEC_CXL_GEN_MEDIA, CxlCperEventHdr(), b"")
    with pytest.raises(FormatError) as e:
        CperSecCxlComponent.from_dict({**comp.to_dict(), "event_log": 5}, guid=comp.guid)
    assert e.value.path == "event_log"
    with pytest.raises(FormatError):
        CperSecCxlComponent.from_dict({**comp.to_dict(), "length": -1}, guid=comp.guid)


def test_libcper_json_errors_name_the_field():
    with pytest.raises(FormatError) as e:
        lc_prot.from_ir({"CxlProtocol": {"cxlDVSEC": "!!", "dvsecLength": 1}}, g.CPER_SEC_CXL_PROT_ERR)
    assert e.value.path == "CxlProtocol.cxlDVSEC"
    with pytest.raises(FormatError) as e:
        lc_prot.from_ir({"CxlProtocol": {"cxlDVSEC": "AAE=", "dvsecLength": 5}}, g.CPER_SEC_CXL_PROT_ERR)
    assert e.value.path == "CxlProtocol.dvsecLength"
    with pytest.raises(FormatError) as e:
        lc_prot.from_ir({"CxlProtocol": {"capabilityStructure": "AAAA" * 21}}, g.CPER_SEC_CXL_PROT_ERR)
    assert e.value.path == "CxlProtocol.capabilityStructure"
    with pytest.raises(FormatError) as e:
        lc_comp.from_ir({"CxlComponent": {"length": "x"}}, g.CPER_SEC_CXL_DRAM)
    assert e.value.path == "CxlComponent.length"
    with pytest.raises(FormatError) as e:
        lc_comp.from_ir({"CxlComponent": {"cxlComponentEventLog": {"data": "%"}}}, g.CPER_SEC_CXL_DRAM)
    assert e.value.path == "CxlComponent.cxlComponentEventLog.data"
    with pytest.raises(FormatError) as e:
        lc_mem2.from_ir({"Memory2": {"physicalAddressHex": "0xZZ"}}, g.CPER_SEC_PLATFORM_MEM2)
    assert e.value.path == "Memory2.physicalAddressHex"
    with pytest.raises(FormatError) as e:
        lc_mem2.from_ir({"Memory2": {"chipID": 256}}, g.CPER_SEC_PLATFORM_MEM2)
    assert e.value.path == "Memory2.chipID"


# --- kernel lines -------------------------------------------------------------------------------


def _kernel_section_lines(sec) -> list[str]:
    est = cper.build_estatus([sec], error_severity=1)
    lines = bert_print(est.encode())
    return lines[lines.index(f"{PFX}section_type: CXL Protocol Error") + 1 :]


def test_kernel_prints_sbdf_agents_other_than_cxl_1_1():
    # CXL Root Port: address as SBDF, device id, capability; no serial number line
    hdr = CperSecProtErrHdr(valid_bits=0x1F, agent_type=5, agent_addr=0x0012_3405_0201, vendor_id=0x8086,
                            device_id=0x1234, subsystem_vendor_id=1, subsystem_id=2, class_code=0x0604,
                            slot=5 << 3 | 7, lower_dw=1, upper_dw=2, capability=bytes(range(60)))
    lines = _kernel_section_lines(CperSecCxlProtErr(hdr))
    assert lines[:6] == [
        f"{PFX} agent_type: 5, CXL Root Port",
        f"{PFX} agent_address: 1234:05:02.1",
        f"{PFX} slot: 5",
        f"{PFX} vendor_id: 0x8086, device_id: 0x1234",
        f"{PFX} sub_vendor_id: 0x0001, sub_device_id: 0x0002",
        f"{PFX} class_code: 0604",
    ]
    assert lines[6] == f"{PFX}00000000: 03020100 07060504 0b0a0908 0f0e0d0c" and len(lines) == 10


def test_kernel_prints_unknown_agent_type_without_address():
    hdr = CperSecProtErrHdr(valid_bits=0x7F, agent_type=9, agent_addr=0xFFFF)
    ras = CxlRasCapabilityRegs(uncor_status=0xDEADBEEF, cap_control=0x1F, header_log=b"\x11" * 64)
    lines = _kernel_section_lines(CperSecCxlProtErr(hdr._replace(err_len=88), b"", ras.encode()))
    assert lines[:5] == [
        f"{PFX} agent_type: 9, unknown",
        f"{PFX} DVSEC length: 0x0000",
        f"{PFX} CXL DVSEC:",
        f"{PFX} Error log length: 0x0058",
        f"{PFX} CXL Error Log:",
    ]
    assert lines[5] == f"{PFX} cxl_ras_uncor_status: 0xdeadbeef" and lines[10] == f"{PFX} cap_control: 0x0000001f"
    assert lines[12:] == [f"{PFX}{i:08x}: 11111111 11111111 11111111 11111111" for i in range(0, 64, 16)]


def test_kernel_names_cxl_component_sections_and_prints_nothing_more():
    """cper.c ignore_sections (Linux >= 6.8, Ira Weiny, "cxl/cper: Fix errant CPER prints for
    CXL events"): the events go to the CXL subsystem; the real 6.12 kernel prints the name."""
    for guid, name in ((g.CPER_SEC_CXL_DRAM, "CXL DRAM Event"),
                       (g.CPER_SEC_CXL_GEN_MEDIA, "CXL General Media Event"),
                       (g.CPER_SEC_CXL_MEM_MODULE, "CXL Memory Module Event")):
        sec = CperSecCxlComponent(guid, CxlCperEventHdr(length=36, validation_bits=4), b"abcd")
        lines = bert_print(cper.build_estatus([sec], error_severity=2).encode())
        i = lines.index(f"{PFX}section_type: {name}")
        assert lines[i - 1].endswith("Error 0, type: corrected") and lines[i + 1:] == []


KERNEL_CXL = vector_files("kernel/cxlprotocol.*.estatus.bin")


@pytest.mark.skipif(not KERNEL_CXL, reason="../shared/vectors is absent")
@pytest.mark.parametrize("path", KERNEL_CXL, ids=[p.name for p in KERNEL_CXL])
def test_kernel_reads_the_error_log_past_the_section_into_the_next_block(path):
    """The vectors were booted five per BERT region, in name order, blocks back to back;
    the kernel reads 88 bytes of RAS registers whatever err_len says, so a short log runs
    into the next block. Given those bytes, the printer matches the kernel line for line."""
    every = vector_files("kernel/*.estatus.bin")
    i = every.index(path)
    after = every[i + 1].read_bytes() if i % 5 != 4 and i + 1 < len(every) else b""
    est = cper.decode(path.read_bytes())
    expected = path.with_name(path.name.replace(".estatus.bin", ".kernel.txt")).read_text().splitlines()
    start = expected.index(f"{PFX}section_type: CXL Protocol Error") + 1
    assert cper_print_prot_err(PFX, est.entries[0].body, est.entries[0].header, after=after) == expected[start:]


# --- libcper JSON -------------------------------------------------------------------------------


def test_libcper_memory2_message_and_quirks():
    sec = CperSecMemErr2(validation_bits=1 << 13 | 1 << 3 | 1 << 14 | 1, mem_error_type=20, node=3, status=0,
                         physical_addr=0xABC)
    ir = lc_mem2.to_ir(sec)
    assert ir["message"] == "A Unknown (Reserved) Memory Error occurred at address 0x0000000000000ABC on node 3"
    m = ir["Memory2"]
    assert m["memoryErrorType"] == {"value": 20, "name": "Unknown (Reserved)"}
    assert m["status"] == {"value": 0, "state": "Corrected"}
    assert m["physicalAddress"] == 0xABC and m["bank"] == {"address": 0, "group": 0}
    # physicalAddress hangs on bit 0 (error status) in libcper, the hex form is always there
    ir2 = lc_mem2.to_ir(sec._replace(validation_bits=1 << 1))
    assert "physicalAddress" not in ir2["Memory2"] and ir2["Memory2"]["physicalAddressHex"] == "0x0000000000000ABC"
    assert lc_mem2.from_ir(_json(ir2), g.CPER_SEC_PLATFORM_MEM2).physical_addr == 0xABC


def test_libcper_cxl_protocol_other_agent_types():
    hdr = CperSecProtErrHdr(valid_bits=0x0F, agent_type=5, agent_addr=0x1234, lower_dw=1)
    ir = lc_prot.to_ir(CperSecCxlProtErr(hdr))["CxlProtocol"]
    assert ir["agentType"] == {"value": 5, "name": "Unknown (Reserved)"}
    assert "cxlAgentAddress" not in ir and "deviceSerial" not in ir
    # nonzero reserved bytes make libcper's 64-bit agent type unknown too
    ir = lc_prot.to_ir(CperSecCxlProtErr(hdr._replace(agent_type=0, reserved=b"\1" + b"\0" * 6)))["CxlProtocol"]
    assert ir["agentType"]["value"] == 256 and "cxlAgentAddress" not in ir
    back = lc_prot.from_ir({"CxlProtocol": ir}, g.CPER_SEC_CXL_PROT_ERR)
    assert back.hdr.agent_type == 0 and back.hdr.reserved == b"\1" + b"\0" * 6


def test_libcper_cxl_component_bad_length_is_unknown_data():
    sec = CperSecCxlComponent(g.CPER_SEC_CXL_MLD_PORT, CxlCperEventHdr(length=64, validation_bits=7), b"\1" * 8)
    assert list(lc_comp.to_ir(sec)) == ["Unknown"]
    assert sec.check() == ["length 64 but the section is 40 bytes"]
    ok = sec._replace(hdr=sec.hdr._replace(length=36))  # the log is sized by length, not the section
    assert lc_comp.to_ir(ok)["CxlComponent"]["cxlComponentEventLog"] == {"data": "AQEBAQ=="}


def test_cxl_component_event_record_header_is_decoded_when_present():
    rec = struct.pack("<B3sHHQBBHB11s", 0x80, b"\1\0\0", 7, 8, 123456789, 2, 1, 5, 1, b"\0" * 11)
    sec = CperSecCxlComponent(g.CPER_SEC_CXL_GEN_MEDIA, CxlCperEventHdr(length=32 + 64), rec + b"\0" * 32)
    d = sec.to_dict()["event_record_hdr"]
    assert (d["length"], d["handle"], d["related_handle"], d["timestamp"], d["maint_op_class"], d["ld_id"]) == (
        0x80, 7, 8, 123456789, 2, 5)
    assert sec.check() == [] and sec.event_kind == "general media"
    assert CperSecCxlComponent(g.CPER_SEC_CXL_DRAM, CxlCperEventHdr(), b"\0" * 31).record_hdr is None
