"""ARM Processor Error section: codec properties, errors, kernel lines, libcper JSON."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasflow.formats.cper import arm as a
from rasflow.formats.cper.arm_names import arm_error_type_names
from rasflow.formats.cper.sections import RawSection
from rasflow.formats.errors import FormatError
from rasflow.formats.render.kernel.arm import cper_print_proc_arm
from rasflow.formats.render.libcper import arm as lc

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PFX = "[Hardware Error]:   "


def _sec(err=(), ctx=(), vendor=b"", **kw) -> a.CperSecProcArm:
    return a.CperSecProcArm(err_info=tuple(err), context_info=tuple(ctx), vendor_specific=vendor, **kw).with_lengths()


def _err(**kw) -> a.CperArmErrInfo:
    return a.CperArmErrInfo(length=32, **kw)


def _ctx(ctx_type: int, regs: bytes, version: int = 0) -> a.CperArmCtxInfo:
    return a.CperArmCtxInfo(version, ctx_type, len(regs), regs)


# --- codec -----------------------------------------------------------------------------

@FAST
@given(a.CperSecProcArm.strategy())
def test_object_bytes_object(sec):
    data = sec.encode()
    assert len(data) == sec.nbytes
    assert a.CperSecProcArm.decode(data) == sec
    assert a.CperSecProcArm.decode(b"xx" + data + b"yy", 2, len(data)) == sec


@FAST
@given(a.CperSecProcArm.strategy())
def test_our_json_round_trips(sec):
    d = json.loads(json.dumps(sec.to_dict()))
    assert a.CperSecProcArm.from_dict(d) == sec


@st.composite
def _section_bytes(draw):
    """Bytes shaped like a section (small counts, sizes that mostly fit), else random."""
    n_err, n_ctx = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    head = bytearray(draw(st.binary(min_size=40, max_size=40)))
    struct.pack_into("<HH", head, 4, n_err, n_ctx)
    body = bytearray(head + draw(st.binary(min_size=32 * n_err, max_size=32 * n_err)))
    for _ in range(n_ctx):
        regs = draw(st.binary(max_size=80))
        size = len(regs) + draw(st.sampled_from([0, 0, 0, 1, 1000]))
        body += struct.pack("<HHI", draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 12)), size) + regs
    return bytes(body + draw(st.binary(max_size=20)))


@FAST
@given(st.one_of(_section_bytes(), st.binary(min_size=40, max_size=200)))
def test_bytes_object_bytes_or_format_error(data):
    try:
        sec = a.CperSecProcArm.decode(data)
    except FormatError:
        return
    assert sec.encode() == data
    assert a.CperSecProcArm.from_dict(json.loads(json.dumps(sec.to_dict()))) == sec


@FAST
@given(st.binary(max_size=120), st.integers(0, 130))
def test_garbage_and_truncation_raise_only_format_error(data, cut):
    try:
        a.CperSecProcArm.decode(data[:cut])
    except FormatError:
        pass


def test_err_info_overrun_names_the_entry():
    data = _sec([_err(), _err()]).encode()
    data = data[:4] + struct.pack("<H", 3) + data[6:]
    with pytest.raises(FormatError) as ei:
        a.CperSecProcArm.decode(b"\0" * 8 + data, 8, len(data))
    assert ei.value.path == "err_info[2]"
    assert ei.value.offset == 8 + 40 + 64
    assert ei.value.need == 32


def test_context_size_overrun_names_the_size_field():
    sec = _sec([_err()], [_ctx(7, bytes(80)), _ctx(4, bytes(256))])
    data = bytearray(sec.encode())
    ctx1 = 40 + 32 + 88
    struct.pack_into("<I", data, ctx1 + 4, 300)
    with pytest.raises(FormatError) as ei:
        a.CperSecProcArm.decode(bytes(data))
    assert ei.value.path == "context_info[1].size"
    assert ei.value.offset == ctx1 + 4
    assert ei.value.need == 44


def test_context_header_overrun_and_short_section():
    data = bytearray(_sec([], [], b"\0" * 5).encode())
    struct.pack_into("<H", data, 6, 1)
    with pytest.raises(FormatError) as ei:
        a.CperSecProcArm.decode(bytes(data))
    assert (ei.value.path, ei.value.offset) == ("context_info[0]", 40)
    with pytest.raises(FormatError):
        a.CperSecProcArm.decode(bytes(39))
    with pytest.raises(FormatError):
        a.CperSecProcArm.decode(bytes(50), 0, 60)


def test_section_length_mismatch_is_data_not_an_error():
    sec = _sec([_err(type=2)], vendor=b"abc")._replace(section_length=7)
    again = a.CperSecProcArm.decode(sec.encode())
    assert again.section_length == 7
    assert "section_length 7 but the section is 75 bytes" in again.check()
    assert _sec([_err(type=2)]).check() == []


def test_from_dict_rejects_inconsistent_counts_and_derives_missing_ones():
    d = _sec([_err()]).to_dict()
    d["err_info_num"] = 2
    with pytest.raises(FormatError) as ei:
        a.CperSecProcArm.from_dict(d)
    assert ei.value.path == "err_info_num"
    d = {"err_info": [{"type": 2, "length": 32}], "context_info": [{"type": 3, "regs": "0011223344556677"}]}
    sec = a.CperSecProcArm.from_dict(d)
    assert (sec.err_info_num, sec.context_info_num, sec.context_info[0].size, sec.section_length) == (1, 1, 8, 88)
    d["context_info"][0]["size"] = 9
    with pytest.raises(FormatError, match="size is 9"):
        a.CperSecProcArm.from_dict(d)


def test_registers_by_name():
    gpr = _ctx(4, struct.pack("<32Q", *range(32)))
    assert gpr.registers()["x30"] == 30 and gpr.registers()["sp"] == 31
    el1 = _ctx(1, struct.pack("<24I", *range(24)))
    assert list(el1.registers())[:3] == ["dfar", "dfsr", "ifar"] and el1.registers()["dacr"] == 23
    mrs = 2 | 14 << 3 | 11 << 7 | 1 << 11 | 2 << 14
    misc = _ctx(8, struct.pack("<HQ", mrs, 0x1234))
    assert misc.registers() == {"op2": 2, "crm": 14, "crn": 11, "op1": 1, "o0": 2, "value": 0x1234}
    assert _ctx(9, b"abc").registers() == {}
    assert len(_ctx(5, bytes(20)).registers()) == 2


def test_error_info_fields_are_declared():
    e = _err(type=a.CPER_ARM_BUS_ERROR, error_info=0xFFF | 1 << 16 | 3 << 29 | 1 << 31 | 2 << 32 | 0x155 << 34 | 1 << 43)
    f = e.decode_error_info()
    assert f.layout is a.ARM_BUS_ERR_INFO
    assert (f["transaction_type"], f["participation_type"], f["time_out"], f["address_space"]) == (1, 3, 1, 2)
    assert (f["mem_attributes"], f["access_mode"], f["access_mode_valid"]) == (0x155, 1, 1)
    assert _err(type=a.CPER_ARM_TLB_ERROR).decode_error_info().layout is a.ARM_TLB_ERR_INFO
    assert _err(type=a.CPER_ARM_CACHE_ERROR).decode_error_info().layout is a.ARM_CACHE_ERR_INFO


def test_type_names_by_encoding():
    assert arm_error_type_names(0x02) == ["cache error"]
    assert arm_error_type_names(0x0C) == ["TLB error", "bus error"]
    assert arm_error_type_names(0x01) == ["reserved (0x1)"]
    assert arm_error_type_names(0x01, "uefi-2.9") == ["TLB error"]
    assert arm_error_type_names(0x07, "uefi-2.9") == ["unknown (0x7)"]
    assert arm_error_type_names(0x04, "libcper") == ["Bus Error"]
    with pytest.raises(ValueError):
        arm_error_type_names(1, "uefi-3")
    assert _sec([_err(type=0x12)]).to_dict()["err_info"][0]["type_flags"] == ["cache error", "micro-architectural error"]


# --- kernel lines ----------------------------------------------------------------------

def test_kernel_multi_bit_type_decodes_each_part():
    e = _err(type=0x06, validation_bits=0x4, error_info=0x6 | 4 << 18 | 1 << 22)
    lines = cper_print_proc_arm(PFX, _sec([e]), None)
    assert f"{PFX} error_type: 0x06: cache error|TLB error" in lines
    assert f"{PFX}  cache error, operation type: Data write" in lines
    assert f"{PFX}  TLB error, operation type: Data write" in lines
    assert lines[-2:] == [f"{PFX}  cache level: 1", f"{PFX}  TLB level: 1"]


def test_kernel_vendor_type_and_bus_fields():
    vendor = _err(type=0x10, validation_bits=0x4, error_info=0x7F)
    assert cper_print_proc_arm(PFX, _sec([vendor]), None)[-1] == f"{PFX} error_info: 0x000000000000007f"
    ei = 0xFFF | 1 << 28 | 1 << 29 | 1 << 31 | 3 << 32 | 0xD8 << 34
    bus = cper_print_proc_arm(PFX, _sec([_err(type=0x08, validation_bits=0x4, error_info=ei)]), None)
    assert bus[-6:] == [
        f"{PFX}  Program execution can be restarted reliably at the PC associated with the error.",
        f"{PFX}  participation type: Local processor responded to request",
        f"{PFX}  request timed out",
        f"{PFX}  address space: Device Memory Access",
        f"{PFX}  memory access attributes:0xd8",
        f"{PFX}  access mode: secure",
    ]
    # bus bit plus another: the bus-only fields are skipped (type != CPER_ARM_BUS_ERROR)
    both = cper_print_proc_arm(PFX, _sec([_err(type=0x0A, validation_bits=0x4, error_info=ei)]), None)
    assert not any("participation" in line for line in both)


def test_kernel_section_length_too_small():
    sec = _sec([_err(), _err()])._replace(section_length=0x50)
    assert cper_print_proc_arm(PFX, sec, None) == [
        f"{PFX}MIDR: 0x0000000000000000",
        f"{PFX}section length: 80, CPER size: 104",
        f"{PFX}section length is too small",
        f"{PFX}firmware-generated error record is incorrect",
        f"{PFX}ERR_INFO_NUM is 2",
    ]


def test_kernel_context_checks_and_vendor_from_section_length():
    sec = _sec([], [_ctx(7, bytes(80))])
    short = cper_print_proc_arm(PFX, sec._replace(section_length=100), None)
    assert short[-3:] == [f"{PFX}Context info structure 0:", f"{PFX} section length is too small",
                          f"{PFX}firmware-generated error record is incorrect"]
    bad = cper_print_proc_arm(PFX, _sec([], [_ctx(9, bytes(4))]), None)
    assert bad[-1] == f"{PFX} Invalid context type: 9 (max: 8)"
    # section_length larger than the CPER entry: stopped since eae21beecb95 (stable 2026)
    long = cper_print_proc_arm(PFX, _sec([], [], b"AB")._replace(section_length=44), None)
    assert long[1:] == [f"{PFX}section length: 44, CPER size: 42", f"{PFX}section length is too big",
                        f"{PFX}firmware-generated error record is incorrect", f"{PFX}ERR_INFO_NUM is 0"]


def test_kernel_prints_a_raw_section_the_codec_refuses():
    data = bytearray(_sec([_err(type=2)]).encode())
    struct.pack_into("<H", data, 4, 2)
    raw = RawSection(a.CPER_SEC_PROC_ARM, bytes(data))
    assert cper_print_proc_arm(PFX, raw, None)[1:] == [
        f"{PFX}section length: 72, CPER size: 72", f"{PFX}section length is too small",
        f"{PFX}firmware-generated error record is incorrect", f"{PFX}ERR_INFO_NUM is 2",
    ]
    struct.pack_into("<I", data, 8, 104)  # room for entry 1, but past the CPER entry: too big
    lines = cper_print_proc_arm(PFX, RawSection(a.CPER_SEC_PROC_ARM, bytes(data)), None)
    assert lines[1:3] == [f"{PFX}section length: 104, CPER size: 72", f"{PFX}section length is too big"]


# --- libcper JSON ----------------------------------------------------------------------

@FAST
@given(a.CperSecProcArm.strategy())
def test_libcper_json_bytes_json_is_stable(sec):
    ir = lc.to_ir(sec)
    if "Unknown" in ir:
        assert lc.libcper_refuses(sec)
        return
    ir = json.loads(json.dumps(ir))
    back = lc.from_ir(ir, a.CPER_SEC_PROC_ARM)
    assert lc.to_ir(a.CperSecProcArm.decode(back.encode())) == ir


def test_libcper_type_names_and_sub_structure_choice():
    e = _err(type=0x02, validation_bits=0x4, error_info=0x2 | 3 << 18)
    for names, want in (("uefi-2.9a", "Cache Error"), ("libcper", "TLB Error"), ("uefi-2.9", "Bus Error")):
        info = lc.to_ir(_sec([e]), arm_type_names=names)["ArmProcessor"]["errorInfo"][0]
        assert info["errorType"] == {"value": 2, "name": want}
        assert info["errorInformation"] == {"tlbError": {"operation": {"value": 3, "name": "Data Read"}}}
    assert lc.error_type_name(0x0C) == "TLB Error, Bus Error"
    assert lc.error_type_name(0x01) == "Unknown (Reserved)"
    vendor = lc.to_ir(_sec([_err(type=8, validation_bits=0x4)]))
    assert "errorInformation" not in vendor["ArmProcessor"]["errorInfo"][0]


def test_libcper_message_affinity_and_psci():
    sec = _sec([_err(type=4, validation_bits=0x1C, virt_fault_addr=0xAB, physical_fault_addr=0xCD)],
               validation_bits=0xF, mpidr=0x2A_8000_0000, affinity_level=1, reserved=b"\0\0\x80",
               running_state=0x8000_0001)
    ir = lc.to_ir(sec)
    assert ir["message"] == ("An ARM Processor Error occurred on CPU 42; Error Type(s): "
                             "{Bus Error at Virtual Addr=0xAB Physical Addr=0xCD}")
    arm = ir["ArmProcessor"]
    assert arm["errorAffinity"] == {"value": 0xFFFF_FFFF_8000_0001, "type": "Reserved"}
    assert "psciState" not in arm and arm["running"] is True
    back = lc.from_ir(ir, a.CPER_SEC_PROC_ARM)
    assert (back.affinity_level, back.reserved, back.running_state >> 31) == (1, b"\0\0\x80", 1)
    assert lc.to_ir(_sec())["message"] == "An ARM Processor Error occurred; Error Type(s): {"


def test_libcper_refusals_become_unknown():
    short_ctx = _sec([], [_ctx(4, bytes(8))])
    assert set(lc.to_ir(short_ctx)) == {"Unknown"}
    long_vendor = _sec([], [], b"v", validation_bits=a.CPER_ARM_VALID_VENDOR_INFO)._replace(section_length=50)
    assert set(lc.to_ir(long_vendor)) == {"Unknown"}


def test_libcper_from_ir_errors_name_the_field():
    ir = lc.to_ir(_sec([_err(type=4, validation_bits=0x4, error_info=0x1)]))
    del ir["ArmProcessor"]["errorInfoNum"]
    with pytest.raises(FormatError) as ei:
        lc.from_ir(ir, a.CPER_SEC_PROC_ARM)
    assert ei.value.path == "ArmProcessor.errorInfoNum"
    ir = lc.to_ir(_sec([_err(type=4, validation_bits=0x4, error_info=0x1)]))
    ir["ArmProcessor"]["errorInfo"][0]["errorInformation"]["busError"]["transactionType"]["value"] = 7
    with pytest.raises(FormatError) as ei:
        lc.from_ir(ir, a.CPER_SEC_PROC_ARM)
    assert ei.value.path == "ArmProcessor.errorInfo[0].errorInformation.busError.transactionType"
    ir = lc.to_ir(_sec([], [], b"x", validation_bits=8))
    ir["ArmProcessor"]["vendorSpecificInfo"]["data"] = "%%%"
    with pytest.raises(FormatError, match="base64"):
        lc.from_ir(ir, a.CPER_SEC_PROC_ARM)


def test_libcper_from_ir_pads_to_section_length_without_vendor_info():
    sec = _sec([], [], b"vendor!")  # vendor bit clear: libcper leaves the bytes out
    back = lc.from_ir(lc.to_ir(sec), a.CPER_SEC_PROC_ARM)
    assert back.nbytes == sec.section_length and back.vendor_specific == bytes(7)
