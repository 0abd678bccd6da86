"""NVIDIA sections ("Nvidia", "NvidiaEvent"): codecs, FormatError on bad counts, libcper JSON."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError, cper
from rasflow.formats.cper import guids as g
from rasflow.formats.cper import nvidia as nv
from rasflow.formats.cper.sections import decode_section, section_class
from rasflow.formats.render.libcper import nvidia as lc
from vectors import vector_files

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = [(g.CPER_SEC_NVIDIA, nv.CperSecNvidia), (g.CPER_SEC_NVIDIA_EVENT, nv.CperSecNvidiaEvent)]
IDS = ["nvidia", "nvidia_event"]
EXAMPLES = vector_files("libcper/examples/nvidia*.cperhex")
# The example whose header says more than the file holds (see INCONSISTENT in test_vectors.py)
INCONSISTENT = {"nvidia_event_all_types.cperhex": "record_length 568 but the record spans 440 bytes"}


def test_dispatch_and_sizes():
    for guid, cls in TYPES:
        assert section_class(guid) is cls and cls.GUID == guid
    assert (nv.CperSecNvidia.SIZE, nv.CperNvidiaRegister.SIZE, nv.CperNvidiaFwError.SIZE) == (32, 16, 88)
    assert (nv.CperSecNvidiaEvent.SIZE, nv.CperNvidiaEventCtxHeader.SIZE) == (35, 16)
    assert (nv.CperNvidiaCpuEventInfo.SIZE, nv.CperNvidiaGpuEventInfo.SIZE) == (29, 13)
    assert (lc.CperNvidiaGpuCtxInitMetadata.SIZE, lc.CperNvidiaGpuCtxRecommendedActions.SIZE) == (192, 16)


# --- codec properties ---------------------------------------------------------------


@pytest.mark.parametrize("cls", [t[1] for t in TYPES], ids=IDS)
@FAST
@given(data=st.data())
def test_objects_round_trip(cls, data):
    obj = data.draw(cls.strategy())
    raw = obj.encode()
    assert len(raw) == obj.nbytes
    assert cls.decode(raw, 0, len(raw)) == obj
    assert cls.decode(b"\xaa" * 3 + raw + b"\xbb", 3, len(raw)) == obj
    assert cls.from_dict(json.loads(json.dumps(obj.to_dict()))) == obj
    assert obj.check() == []


def _ctx_bytes(data, data_type: int) -> bytes:
    version, reserved, format_version = data.draw(st.tuples(*[st.integers(0, 0xFFFF)] * 3))
    big = data_type == 0x8000 and data.draw(st.booleans())  # room for the 192-byte GPU metadata
    body = data.draw(st.binary(min_size=192, max_size=200) if big else st.binary(max_size=40))
    pad = data.draw(st.binary(max_size=20))
    size = 16 + len(body) + len(pad)
    return struct.pack("<IHHHHI", size, version, reserved, data_type, format_version, len(body)) + body + pad


def _consistent_bytes(cls, data, *, version=None, device=None) -> bytes:
    """Random bytes of a valid size: counts and sizes that fit."""
    if cls is nv.CperSecNvidia:
        head = bytearray(data.draw(st.binary(min_size=32, max_size=32)))
        head[22] = n = data.draw(st.integers(0, 4))
        return bytes(head) + data.draw(st.binary(min_size=16 * n, max_size=16 * n + 120))
    head = bytearray(data.draw(st.binary(min_size=32, max_size=32)))
    head[1] = n = data.draw(st.integers(0, 4))
    if version is not None:
        head[0] = version
    head[2] = data.draw(st.integers(0, 7)) if device is None else device
    info = data.draw(st.binary(max_size=40))
    out = bytes(head) + data.draw(st.binary(min_size=2, max_size=2)) + bytes([3 + len(info)]) + info
    for _ in range(n):
        out += _ctx_bytes(data, data_type=data.draw(st.sampled_from([0, 1, 2, 3, 4, 5, 0x8000, 0x8001, 0x8002])))
    return out + data.draw(st.binary(max_size=24))


@pytest.mark.parametrize("cls", [t[1] for t in TYPES], ids=IDS)
@FAST
@given(data=st.data())
def test_bytes_round_trip(cls, data):
    raw = _consistent_bytes(cls, data)
    obj = cls.decode(raw, 0, len(raw))
    assert obj.encode() == raw and obj.nbytes == len(raw)
    assert cls.from_dict(json.loads(json.dumps(obj.to_dict()))) == obj
    assert obj.check() == []


@pytest.mark.parametrize("guid", [t[0] for t in TYPES], ids=IDS)
@FAST
@given(raw=st.binary(max_size=300), cut=st.integers(0, 300))
def test_garbage_gives_format_error_only(guid, raw, cut):
    for length in (len(raw), min(cut, len(raw)), len(raw) + 1):
        try:
            obj = decode_section(guid, raw, 0, length)
        except FormatError as e:
            assert e.offset is not None
            continue
        assert obj.encode() == raw[:length]
        obj.check()
        obj.to_dict()
        lc.to_ir(obj)
    assert decode_section(guid, raw, 0, len(raw), lenient=True).encode() == raw


@pytest.mark.parametrize("cls", [t[1] for t in TYPES], ids=IDS)
@FAST
@given(data=st.data())
def test_truncation_is_a_format_error(cls, data):
    raw = _consistent_bytes(cls, data)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(FormatError) as e:
        cls.decode(raw, 0, len(raw) + 1)
    assert e.value.need == 1
    try:
        cls.decode(raw[:cut], 0, cut)
    except FormatError as e:
        assert e.offset is not None and e.offset <= len(raw)


def _event(info=b"", contexts=(), *, device=5, version=1, info_version=0x0100, signature=b"TEST\0") -> bytes:
    ctx = b"".join(contexts)
    head = struct.pack("<BBBBHHQ16s", version, len(contexts), device, 0, 0x0100, 0x0200, 0, signature)
    return head + struct.pack("<HB", info_version, 3 + len(info)) + info + ctx


def _ctx(data: bytes, data_type: int = 0, *, ctx_size: int | None = None, data_size: int | None = None) -> bytes:
    size = 16 + len(data) + (-(16 + len(data)) % 16) if ctx_size is None else ctx_size
    head = struct.pack("<IHHHHI", size, 0, 0, data_type, 0x100, len(data) if data_size is None else data_size)
    return (head + data).ljust(max(size, 16 + len(data)), b"\0")


@pytest.mark.parametrize("raw,path,offset", [
    (b"CMET-INFO".ljust(22, b"\0") + b"\x03" + bytes(9) + bytes(40), "number_regs", 22),
    (_event()[:34] + b"\x02", "info_header.info_size", 34),
    (_event()[:34] + b"\x30" + bytes(4), "info_header.info_size", 34),
    (_event(contexts=[_ctx(b"abcd")])[:-1], "contexts[0].ctx_size", 35),
    (_event(contexts=[_ctx(b"abcd"), _ctx(b"")])[:-10], "contexts[1]", 67),
    (_event(contexts=[_ctx(b"abcd", ctx_size=8)]), "contexts[0].ctx_size", 35),
    (_event(contexts=[_ctx(b"abcd", data_size=100)]), "contexts[0].data_size", 47),
])
def test_counts_that_overrun_name_the_field(raw, path, offset):
    guid = g.CPER_SEC_NVIDIA if raw.startswith(b"CMET") else g.CPER_SEC_NVIDIA_EVENT
    with pytest.raises(FormatError) as e:
        decode_section(guid, b"\xee" * 7 + raw, 7, len(raw))
    assert (e.value.path, e.value.offset) == (path, 7 + offset)
    rec_raw = decode_section(guid, raw, 0, len(raw), lenient=True)
    assert rec_raw.encode() == raw and rec_raw.problem


# --- libcper JSON ---------------------------------------------------------------------


def _stable(guid, cls, raw):
    ir = lc.to_ir(cls.decode(raw, 0, len(raw)))
    if "Unknown" in ir:
        return ir
    back = lc.from_ir(json.loads(json.dumps(ir)), guid).encode()
    again = back.ljust(len(raw), b"\0")
    assert lc.to_ir(cls.decode(again, 0, len(again))) == ir
    return ir


@FAST
@given(data=st.data(), sig=st.text("ABCDEFGHIJ-_ 0123", min_size=1, max_size=15),
       kind=st.sampled_from([b"", b"CMET-INFO", b"FWERROR"]))
def test_libcper_json_is_stable_nvidia(data, sig, kind):
    raw = bytearray(_consistent_bytes(nv.CperSecNvidia, data))
    raw[:16] = (kind + sig.encode())[:15].ljust(16, b"\0")
    d = _stable(g.CPER_SEC_NVIDIA, nv.CperSecNvidia, bytes(raw))["Nvidia"]
    assert d["signature"] == (kind + sig.encode())[:15].decode()


@FAST
@given(data=st.data())
def test_libcper_json_is_stable_nvidia_event(data):
    raw = bytearray(_consistent_bytes(nv.CperSecNvidiaEvent, data, version=1, device=data.draw(st.integers(0, 5))))
    if raw[2] == 1 and raw[34] >= 16:
        raw[35] %= len(lc.EVENT_ORIGINATOR)
    if data.draw(st.booleans()):  # the info versions libcper reads
        raw[32:34] = struct.pack("<H", 0x0100 if raw[2] == 1 else 0x0001)
    _stable(g.CPER_SEC_NVIDIA_EVENT, nv.CperSecNvidiaEvent, bytes(raw))


def _load(path):
    data = bytes.fromhex("".join(path.read_text().split()))
    return data, json.loads(path.with_suffix(".json").read_text())


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_vector_decodes_and_round_trips(path):
    data, _ = _load(path)
    if path.name in INCONSISTENT:
        with pytest.raises(FormatError, match="record_length"):
            cper.decode(data)
        rec = cper.decode(data, lenient=True)
        assert rec.check() == [INCONSISTENT[path.name]]
    else:
        rec = cper.decode(data)
        assert rec.check() == []
    assert all(type(s.body) in (nv.CperSecNvidia, nv.CperSecNvidiaEvent) for s in rec.sections)
    assert cper.encode(rec) == data
    assert cper.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_vector_libcper_json_matches(path):
    data, expected = _load(path)
    assert cper.to_libcper(cper.decode(data, lenient=True)) == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_vector_libcper_json_to_bytes_is_stable(path):
    data, expected = _load(path)
    back = cper.encode(cper.from_libcper(expected))
    assert cper.to_libcper(cper.decode(back)) == expected
    if path.name in INCONSISTENT:  # zero-filled to the record_length the header gives
        # and CPU Architecture 0x11111111 as the JSON gives it: pre-silicon 0x11 -> 1, bits 30:25 gone
        assert back == data[:236] + struct.pack("<I", 0x00111111) + data[240:].ljust(568 - 240, b"\0")
    elif path.name == "nvidia_cmet_info.cperhex":  # the channel bits the JSON leaves out
        masked = bytearray(data)
        for pos in range(200 + 32, 808, 16):
            masked[pos + 12 : pos + 16] = bytes([masked[pos + 12] & 0x1B, 0, 0, 0])
        assert back == bytes(masked)
    else:
        assert back == data


# --- hand-made cases: what the vectors do not cover -----------------------------------


def _nvidia(signature: bytes, body: bytes, number_regs: int, *, severity=1, socket=3) -> nv.CperSecNvidia:
    raw = signature.ljust(16, b"\0") + struct.pack("<HHBBBBQ", 7, 8, severity, socket, number_regs, 0, 9) + body
    return nv.CperSecNvidia.decode(raw)


def test_nvidia_fwerror_and_message():
    fw = nv.CperNvidiaFwError(initiating_firmware=b"MB1\0\0\0\0\0", task_checkpoint=0x12, mb1_error_code=0xABC,
                              mb1_version_string=b"1.2.3456", bad_pages_retired_mask=1, scratch_dram_disable=5)
    sec = _nvidia(b"FWERROR", fw.encode(), 0)
    assert sec.fwerror == fw and sec.tail == fw.encode()
    ir = lc.to_ir(sec)
    assert ir["message"] == "A Fatal FWERROR NVIDIA Error occurred on CPU 3"
    assert ir["Nvidia"]["FWErrorInfo"] == {
        "initiating_firmware": "MB1", "task_checkpoint": "0x0000000000000012", "mb1_error_code": "0x0000000000000ABC",
        "bad_pages_retired_mask": "0x0000000000000001", "training_or_alias_check_retired_mask": "0x0000000000000000",
    }  # mb1_version_string fills its 8 bytes without a NUL: libcper leaves it out
    assert "registers" not in ir["Nvidia"]
    back = lc.from_ir(json.loads(json.dumps(ir)), g.CPER_SEC_NVIDIA)
    assert back.fwerror == fw._replace(mb1_version_string=bytes(8), scratch_dram_disable=0)
    short = _nvidia(b"FWERROR-X", bytes(80), 5, severity=9)
    ir = lc.to_ir(short)
    assert ir["Nvidia"]["FWErrorInfo"] is None and ir["Nvidia"]["severity"] == {"code": 9, "name": "Unknown"}
    assert lc.from_ir(ir, g.CPER_SEC_NVIDIA).encode() == short.encode()


def test_nvidia_cmet_counts_are_c_ints():
    value = 0x80000001 | 1 << 32 | 1 << 33 | 3 << 35
    sec = _nvidia(b"CMET-INFO", struct.pack("<QQ", 0xA, value), 1)
    (entry,) = lc.to_ir(sec)["Nvidia"]["CMETInfo"]
    assert entry == {"ChannelAddress": "0x000000000000000A", "ErrorCount": -2147483647, "ChannelEnabled": True,
                     "ChannelIsSpare": True, "DisabledReason": {"raw": 3, "value": "Threshold of bad pages exceeded"}}
    assert lc.from_ir(lc.to_ir(sec), g.CPER_SEC_NVIDIA) == sec


def test_nvidia_signature_edge_cases():
    ir = lc.to_ir(_nvidia(b"ABCDEFGHIJKLMNOP", b"", 0))  # no NUL in 16 bytes: libcper leaves it out
    assert "signature" not in ir["Nvidia"] and ir["Nvidia"]["registers"] == []
    assert "signature" not in lc.to_ir(_nvidia(b"", b"", 0))["Nvidia"]
    back = lc.from_ir({"Nvidia": {"signature": "X", "registerCount": 2}}, g.CPER_SEC_NVIDIA)
    assert back.registers == (nv.CperNvidiaRegister(),) * 2  # libcper aborts without "registers"


def test_event_version_other_than_1_is_libcpers_unknown():
    raw = _event(version=2)
    ir = lc.to_ir(nv.CperSecNvidiaEvent.decode(raw))
    assert ir == {"Unknown": {"data": base64.b64encode(raw).decode()}}
    with pytest.raises(FormatError) as e:
        lc.from_ir({"NvidiaEvent": {"eventHeader": {"version": 2}}}, g.CPER_SEC_NVIDIA_EVENT)
    assert e.value.path == "NvidiaEvent.eventHeader.version"


def test_event_context_data_libcper_cannot_read():
    metadata = _ctx(bytes(100), 0x8000)  # shorter than EFI_NVIDIA_GPU_CTX_INIT_METADATA
    xid = _ctx(struct.pack("<I", 0xFFFFFFFF) + b"no terminator", 0x8001)
    unknown = _ctx(b"\x01\x02", 0x9001)
    empty_unknown = _ctx(b"", 0x9001)
    many = _ctx(bytes(16 * 256), 1)  # 256 entries: libcper counts them in a UINT8
    gpu = struct.pack("<BHHQ", 2, 1, 2, 0x1122334455667788)
    raw = _event(gpu, [metadata, xid, unknown, empty_unknown, many, _ctx(b"", 0)], device=1)
    sec = nv.CperSecNvidiaEvent.decode(raw)
    ir = lc.to_ir(sec)
    assert ir["message"] == "A TEST Nvidia Event occurred"
    ev = ir["NvidiaEvent"]
    assert ev["eventInfo"] == {"version": "1.0", "gpu": {"EventOriginator": "PF_GSP_FW", "SourcePartition": 1,
                                                         "SourceSubPartition": 2, "Pdi": "11:22:33:44:55:66:77:88"}}
    assert [c["data"] for c in ev["eventContexts"]] == [
        {"gpuInitMetadata": {}}, {"gpuLegacyXid": {"xidCode": -1, "message": ""}}, {"opaque": "0102"},
        {"opaque": {}}, {"type1": {"keyValArray64": []}}, {},
    ]
    back = lc.from_ir(json.loads(json.dumps(ir)), g.CPER_SEC_NVIDIA_EVENT)
    assert lc.to_ir(back) == ir and back.check() == []
    assert [len(c.data) for c in back.contexts] == [len(c.data) for c in sec.contexts]


def test_event_devices_without_a_reader_keep_their_contexts():
    raw = _event(b"dpu info", [_ctx(struct.pack("<II", 1, 2), 2)], device=2)
    ir = lc.to_ir(nv.CperSecNvidiaEvent.decode(raw))
    assert ir["NvidiaEvent"]["eventInfo"] == {"version": "1.0"}
    assert ir["NvidiaEvent"]["eventHeader"]["sourceDeviceType"] == "DPU"
    back = lc.from_ir(ir, g.CPER_SEC_NVIDIA_EVENT)
    assert back.info == b"" and back.info_header.info_size == 3  # libcper writes no info header, no contexts
    assert lc.to_ir(back) == ir


def test_event_cpu_info_short_or_wrong_version():
    cpu = struct.pack("<BIIIIIQ", 1, 0x80F2_1A35, 1, 2, 3, 4, 5)
    ir = lc.to_ir(nv.CperSecNvidiaEvent.decode(_event(cpu, device=0, info_version=0x0001)))
    assert ir["NvidiaEvent"]["eventInfo"]["cpu"]["Architecture"] == {
        "hidFam": "0x05", "revision": "3.2", "chipId": "0x1A", "preSiPlatform": "PreSilicon", "errorInjection": True}
    back = lc.from_ir(ir, g.CPER_SEC_NVIDIA_EVENT)
    assert back.info.architecture == 0x8012_1A35  # pre-silicon comes back as 1; bits 30:25 are not in the JSON
    assert lc.to_ir(nv.CperSecNvidiaEvent.decode(_event(cpu[:20], device=0, info_version=0x0001))
                    )["NvidiaEvent"]["eventInfo"] == {"version": "0.1", "cpu": {}}
    assert lc.to_ir(nv.CperSecNvidiaEvent.decode(_event(cpu, device=0, info_version=0x0100))
                    )["NvidiaEvent"]["eventInfo"] == {"version": "1.0"}


@pytest.mark.parametrize("ir,path", [
    ({"NvidiaEvent": {"eventHeader": {"version": 1, "type": "0x1"}}}, "NvidiaEvent.eventHeader.type"),
    ({"NvidiaEvent": {"eventHeader": {"version": 1}, "eventInfo": {"version": "one"}}}, "NvidiaEvent.eventInfo.version"),
    ({"NvidiaEvent": {"eventHeader": {"version": 1, "sourceDeviceType": "GPU"},
                      "eventInfo": {"version": "1.0", "gpu": {"Pdi": "11:22"}}}}, "NvidiaEvent.eventInfo.gpu.Pdi"),
    ({"NvidiaEvent": {"eventHeader": {"version": 1}, "eventContexts": [{"data": {"opaque": "xyz"}}]}},
     "NvidiaEvent.eventContexts[0].data.opaque"),
    ({"NvidiaEvent": {"eventHeader": {"version": 1}, "eventContexts": [
        {"dataFormatType": "0x0001", "data": {"type1": {"keyValArray64": [{"key64": 5}]}}}]}},
     "NvidiaEvent.eventContexts[0].data.type1.keyValArray64[0].key64"),
    ({"Nvidia": {"registers": {}}}, "Nvidia.registers"),
    ({"Nvidia": {"registerCount": 300}}, "Nvidia.registerCount"),
    ({"Nvidia": {"signature": 5}}, "Nvidia.signature"),
    ({"Nvidia": {"CMETInfo": [{"ChannelAddress": "0x12"}]}}, "Nvidia.CMETInfo[0].ChannelAddress"),
])
def test_malformed_libcper_json_names_the_field(ir, path):
    guid = g.CPER_SEC_NVIDIA_EVENT if "NvidiaEvent" in ir else g.CPER_SEC_NVIDIA
    with pytest.raises(FormatError) as e:
        lc.from_ir(ir, guid)
    assert e.value.path == path
