"""Arm RAS node section: codec, libcper's "ArmRas" JSON, the ERR<n> registers through rasflow.formats.arm."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError, arm, cper
from rasflow.formats.cper import guids as g
from rasflow.formats.cper.arm_ras import (
    EFI_ARM_RAS_KVP_UUID_MPAM_PARTID,
    CperArmRasAuxContext,
    CperArmRasAuxContextHeader,
    CperArmRasAuxData,
    CperArmRasAuxHeader,
    CperArmRasAuxKeyValue,
    CperArmRasAuxRegister,
    CperArmRasErrorRecordDescriptor,
    CperArmRasNode,
    CperSecArmRas,
)
from rasflow.formats.cper.sections import RawSection, decode_section, section_class
from rasflow.formats.layout import Guid
from rasflow.formats.render.libcper import arm_ras as lc
from vectors import vector_files

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GUID = g.CPER_SEC_ARM_RAS
GENERATED = vector_files("libcper/generated/arm-ras.*.cper")
EXAMPLES = vector_files("libcper/examples/arm-ras.cperhex")


def _json(d):
    return json.loads(json.dumps(d))


def _record_bytes(path) -> bytes:
    if path.suffix == ".cperhex":
        return bytes.fromhex("".join(path.read_text().split()))
    return path.read_bytes()


def _section(data: bytes) -> tuple[int, int]:
    """Offset and length of the record's first section (every arm-ras vector has one)."""
    return struct.unpack_from("<II", data, 128)


# --- layout and dispatch ----------------------------------------------------------------


def test_sizes_and_dispatch():
    assert (CperArmRasNode.SIZE, CperArmRasErrorRecordDescriptor.SIZE, CperArmRasAuxHeader.SIZE) == (80, 72, 16)
    assert (CperArmRasAuxContextHeader.SIZE, CperArmRasAuxRegister.SIZE, CperArmRasAuxKeyValue.SIZE) == (16, 16, 24)
    assert section_class(GUID) is CperSecArmRas and CperSecArmRas.GUID == GUID


# --- property tests ---------------------------------------------------------------------


def _roundtrip(sec: CperSecArmRas) -> None:
    raw = sec.encode()
    assert len(raw) == sec.nbytes
    assert CperSecArmRas.decode(raw, 0, len(raw)) == sec
    assert CperSecArmRas.decode(b"\xaa" * 5 + raw + b"\xbb", 5, len(raw)) == sec
    assert CperSecArmRas.from_dict(_json(sec.to_dict())) == sec


@FAST
@given(sec=CperSecArmRas.strategy())
def test_objects_round_trip(sec):
    _roundtrip(sec)
    assert [p for p in sec.check() if "revision" not in p and "version" not in p] == []


@st.composite
def consistent_bytes(draw) -> bytes:
    """Random bytes whose counts, offsets and lengths fit; every other byte is random."""
    blob = lambda n: draw(st.binary(min_size=n, max_size=n))  # noqa: E731
    n, gap, has_aux = draw(st.integers(0, 3)), draw(st.integers(0, 9)), draw(st.booleans())
    aux = b""
    aux_gap = draw(st.integers(0, 9)) if has_aux else 0
    if has_aux:
        body = b""
        nctx = draw(st.integers(0, 3))
        for _ in range(nctx):
            regs, extra = draw(st.integers(0, 3)), draw(st.integers(0, 5))
            head = bytearray(blob(16))
            struct.pack_into("<I", head, 0, 16 + 16 * regs + extra)
            struct.pack_into("<H", head, 6, regs)
            body += bytes(head) + blob(16 * regs + extra)
        npairs = draw(st.integers(0, 3))
        before = blob(draw(st.integers(0, 7)))
        kv_off = 16 + len(body) + len(before) if npairs else draw(st.integers(0, 0xFFFFFFFF))
        body += before + blob(24 * npairs) + blob(draw(st.integers(0, 7)))
        head = bytearray(blob(16))
        struct.pack_into("<HIIH", head, 2, nctx, 16 + len(body), kv_off, npairs)
        if draw(st.booleans()):
            head[0] = 1  # the version libcper insists on
        aux = bytes(head) + body
    node = bytearray(blob(80))
    if draw(st.booleans()):
        node[:4] = b"\1\0\0\0"  # the revision libcper insists on
        node[64:80] = draw(st.text("abcxyz019 ~", max_size=16)).encode().ljust(16, b"\0")
    syn_end = 80 + gap + 72 * n
    struct.pack_into("<IHH", node, 8, n, 80 + gap, syn_end + aux_gap if has_aux else 0)
    return bytes(node) + blob(gap + 72 * n + aux_gap) + aux + blob(draw(st.integers(0, 9)))


@FAST
@given(raw=consistent_bytes())
def test_bytes_round_trip(raw):
    sec = CperSecArmRas.decode(raw, 0, len(raw))
    assert sec.encode() == raw and sec.nbytes == len(raw)
    assert CperSecArmRas.from_dict(_json(sec.to_dict())) == sec
    assert [p for p in sec.check() if "revision" not in p and "version" not in p] == []
    lc.to_ir(sec)


@FAST
@given(raw=st.binary(max_size=400), cut=st.integers(0, 400))
def test_garbage_gives_format_error_only(raw, cut):
    for length in (len(raw), min(cut, len(raw)), len(raw) + 1):
        try:
            sec = decode_section(GUID, raw, 0, length)
        except FormatError as e:
            assert e.offset is not None
            continue
        assert sec.encode() == raw[:length]
        sec.check()
        sec.to_dict()
        lc.to_ir(sec)
    assert decode_section(GUID, raw, 0, len(raw), lenient=True).encode() == raw


@FAST
@given(raw=consistent_bytes(), data=st.data())
def test_truncated_or_flipped_gives_format_error_only(raw, data):
    cut = data.draw(st.integers(0, len(raw)))
    flip = bytearray(raw)
    i = data.draw(st.integers(0, len(raw) - 1))
    flip[i] ^= 1 << data.draw(st.integers(0, 7))
    for case in (raw[:cut], bytes(flip)):
        try:
            sec = decode_section(GUID, case, 0, len(case))
        except FormatError as e:
            assert e.offset is not None and 0 <= e.offset <= len(case)
            continue
        assert sec.encode() == case
        lc.to_ir(sec)


def _libcper_loses(ir: dict) -> bool:
    """JSON that cannot come back as itself, through libcper or here: an empty object (the
    reason is not in it), unprintable userData, auxData without its contexts or pairs."""
    d = ir["ArmRas"]
    aux = d.get("auxData", {"contexts": [], "keyValuePairs": []})
    return not d or "userData" not in d or "contexts" not in aux or "keyValuePairs" not in aux


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=consistent_bytes())
def test_libcper_json_is_stable(raw):
    """to_ir -> from_ir -> bytes (zero-filled to the section length, as in a record) -> to_ir."""
    ir = lc.to_ir(CperSecArmRas.decode(raw, 0, len(raw)))
    back = lc.from_ir(_json(ir), GUID)
    assert [p for p in back.check() if "revision" not in p] == []
    filled = back.encode().ljust(len(raw), b"\0")
    again = CperSecArmRas.decode(filled, 0, len(filled))
    if not _libcper_loses(ir):
        assert lc.to_ir(again) == ir


# --- counts and offsets that do not fit name the field -----------------------------------


def _valid(n=2, ctx_regs=(2,), pairs=1) -> CperSecArmRas:
    ctxs = tuple(
        CperArmRasAuxContext(CperArmRasAuxContextHeader(length=16 + 16 * r, register_array_entry_count=r),
                             tuple(CperArmRasAuxRegister(address=i, value=i + 1) for i in range(r)))
        for r in ctx_regs
    )
    kv_off = 16 + sum(c.nbytes for c in ctxs)
    kvps = tuple(CperArmRasAuxKeyValue(key=Guid(bytes(range(16))), value=7) for _ in range(pairs))
    aux = CperArmRasAuxData(CperArmRasAuxHeader(version=1, address_space_array_entry_count=len(ctxs),
                                                auxiliary_data_size=kv_off + 24 * pairs,
                                                key_value_pair_array_offset=kv_off,
                                                key_value_pair_array_entry_count=pairs), ctxs, b"", kvps)
    node = CperArmRasNode(revision=1, error_syndrome_array_num_entries=n, error_syndrome_array_offset=80,
                          auxiliary_data_offset=80 + 72 * n, user_data=b"node".ljust(16, b"\0"))
    syn = tuple(CperArmRasErrorRecordDescriptor(error_record_index=i, ras_extension_revision=0x12) for i in range(n))
    sec = CperSecArmRas(node, syndromes=syn, aux=aux)
    assert sec.check() == []
    return sec


def _error(raw: bytes, base: int = 8) -> FormatError:
    data = b"\xee" * base + raw
    with pytest.raises(FormatError) as e:
        CperSecArmRas.decode(data, base, len(raw))
    return e.value


def _patch(raw: bytes, at: int, fmt: str, *values) -> bytes:
    buf = bytearray(raw)
    struct.pack_into(fmt, buf, at, *values)
    return bytes(buf)


def test_overrunning_counts_and_offsets_name_the_field():
    raw = _valid().encode()
    aux = 80 + 144
    cases = [
        (_patch(raw, 8, "<I", 9), "error_syndrome_array_num_entries", 8, 9 * 72 - (len(raw) - 80)),
        (_patch(raw, 8, "<I", 0xFFFFFFFF), "error_syndrome_array_num_entries", 8, None),
        (_patch(raw, 12, "<H", 40), "error_syndrome_array_offset", 12, None),
        (_patch(raw, 12, "<H", len(raw) + 4), "error_syndrome_array_offset", 12, None),
        (_patch(raw, 14, "<H", 100), "auxiliary_data_offset", 14, None),
        (_patch(raw, 14, "<H", len(raw) - 8), "auxiliary_data_offset", 14, 8),
        (_patch(raw, aux + 4, "<I", 500), "aux.auxiliary_data_size", aux + 4, 500 - (len(raw) - aux)),
        (_patch(raw, aux + 4, "<I", 8), "aux.auxiliary_data_size", aux + 4, None),
        (_patch(raw, aux + 2, "<H", 5), "aux.contexts[1].length", aux + 16 + 48, None),
        (_patch(raw, aux + 16, "<I", 20), "aux.contexts[0].register_array_entry_count", aux + 16 + 6, None),
        (_patch(raw, aux + 16, "<I", 400), "aux.contexts[0].length", aux + 16, None),
        (_patch(raw, aux + 8, "<I", 20), "aux.key_value_pair_array_offset", aux + 8, None),
        (_patch(raw, aux + 12, "<H", 3), "aux.key_value_pair_array_entry_count", aux + 12, 48),
        (_patch(raw, aux + 8, "<I", 0x10000), "aux.key_value_pair_array_offset", aux + 8, None),
    ]
    for data, path, at, need in cases:
        e = _error(data)
        assert (e.path, e.offset) == (path, 8 + at), (path, str(e))
        if need is not None:
            assert e.need == need, path
    no_pairs = _valid(pairs=0).encode()
    e = _error(_patch(no_pairs, aux + 2, "<H", 2))
    assert (e.path, e.offset, e.need) == ("aux.address_space_array_entry_count", 8 + aux + 2, 16)
    e = _error(raw[:-3])
    assert e.path == "aux.auxiliary_data_size" and e.need == 3
    with pytest.raises(FormatError) as ei:
        CperSecArmRas.decode(raw, 0, len(raw) + 1)
    assert ei.value.need == 1
    with pytest.raises(FormatError) as ei:
        decode_section(GUID, raw[:70], 0, 70)
    assert ei.value.offset == 0
    assert isinstance(decode_section(GUID, raw[:70], 0, 70, lenient=True), RawSection)


def test_gaps_and_tails_are_kept():
    sec = _valid()
    node = sec.node._replace(error_syndrome_array_offset=83, auxiliary_data_offset=83 + 144 + 2)
    odd = sec._replace(node=node, gap=b"abc", aux_gap=b"de", tail=b"zz")
    assert odd.check() == []
    _roundtrip(odd)
    no_aux = sec._replace(node=sec.node._replace(auxiliary_data_offset=0), aux=None)
    raw = no_aux.encode() + sec.aux.encode()
    back = CperSecArmRas.decode(raw, 0, len(raw))
    assert back.aux is None and back.tail == sec.aux.encode()
    ctx = sec.aux.contexts[0]
    longer = ctx._replace(header=ctx.header._replace(length=ctx.nbytes + 3), tail=b"xyz")
    kv_off = sec.aux.header.key_value_pair_array_offset + 3 + 4
    aux = sec.aux._replace(contexts=(longer,), gap=b"\1\2\3\4", tail=b"end")
    aux = aux._replace(header=aux.header._replace(auxiliary_data_size=aux.nbytes, key_value_pair_array_offset=kv_off))
    _roundtrip(sec._replace(aux=aux))
    assert sec._replace(aux=aux).check() == []
    assert "aux: key_value_pair_array_offset" in " ".join(sec._replace(aux=aux._replace(gap=b"")).check())


# --- the ERR<n> registers, through rasflow.formats.arm -------------------------------------


def test_registers_decode_through_the_arm_declarations():
    d = CperArmRasErrorRecordDescriptor(err_fr=0x4000 | 0x8000, err_status=0xE4F31687, err_addr=1 << 63 | 0x1000,
                                        err_misc0=0x1234 << 32, ras_extension_revision=0xF4)
    assert d.decode_register("errstatus") == arm.decode_register("errstatus", 0xE4F31687)
    assert d.decode_register("erraddr") == arm.decode_register("erraddr", d.err_addr)
    assert d.decode_register("errmisc0") == arm.decode_register("errmisc0", d.err_misc0, fr=d.err_fr)
    assert set(d.registers()) == {"errfr", "errctlr", "errstatus", "erraddr", "errmisc0"}
    assert (d.revision_field, d.arch_version) == (15, 4)
    with pytest.raises(FormatError) as e:
        d.decode_register("errmisc1")
    assert e.value.path == "kind"


# --- libcper vectors -----------------------------------------------------------------------


VECTORS = [(p, p.with_suffix(".json")) for p in GENERATED + EXAMPLES]


@pytest.mark.parametrize("path,js", VECTORS, ids=[p.name for p, _ in VECTORS])
def test_vector_section(path, js):
    data = _record_bytes(path)
    off, length = _section(data)
    sec = CperSecArmRas.decode(data, off, length)
    assert sec.encode() == data[off : off + length] and sec.check() == []
    assert CperSecArmRas.from_dict(_json(sec.to_dict())) == sec
    expected = json.loads(js.read_text())["sections"][0]
    assert lc.to_ir(sec) == expected
    back = lc.from_ir(_json(expected), GUID)
    assert lc.to_ir(CperSecArmRas.decode(back.encode(), 0, back.nbytes)) == expected


@pytest.mark.parametrize("path,js", VECTORS, ids=[p.name for p, _ in VECTORS])
def test_vector_record(path, js):
    data = _record_bytes(path)
    rec = cper.decode(data)
    assert cper.encode(rec) == data
    assert cper.from_dict(_json(rec.to_dict())) == rec
    expected = json.loads(js.read_text())
    assert cper.to_libcper(rec) == expected
    again = cper.to_libcper(cper.decode(cper.encode(cper.from_libcper(_json(expected)))))
    assert again == expected


def test_libcper_json_to_bytes_is_byte_exact_for_vectors():
    """The generator lays sections out as libcper writes them, so JSON -> bytes gives the bytes back."""
    for path, js in VECTORS:
        data = _record_bytes(path)
        off, length = _section(data)
        back = lc.from_ir(json.loads(js.read_text())["sections"][0], GUID).encode()
        if path.suffix == ".cper":
            assert back == data[off : off + length], path.name


# --- libcper's quirks, by hand ---------------------------------------------------------------


def test_empty_object_when_libcper_rejects_the_node():
    sec = _valid()
    assert lc.to_ir(sec._replace(node=sec.node._replace(revision=2))) == {
        "message": "ARM RAS (empty): unsupported ARM RAS revision: 2", "ArmRas": {}}
    bare = CperSecArmRas(CperArmRasNode(revision=1, error_syndrome_array_offset=80))
    assert lc.to_ir(bare) == {"message": "ARM RAS (empty): invalid ARM RAS offsets", "ArmRas": {}}
    assert lc.to_ir(bare._replace(tail=b"\0"))["message"] == "ARM RAS error occured"


def test_ip_formats_user_data_and_misc23():
    sec = _valid(n=1)
    node = sec.node._replace(ip_instance_format=3, ip_type_format=255, user_data=b"\x01bad".ljust(16, b"\0"))
    ir = lc.to_ir(sec._replace(node=node, syndromes=(sec.syndromes[0]._replace(ras_extension_revision=0),)))["ArmRas"]
    assert ir["ipInstance"] == {"socSpecificIpIdentifier": "<OpaqueData>"}
    assert (ir["ipTypeFormat"], ir["ipType"]) == ({"raw": 255}, {})
    assert "userData" not in ir
    assert "errorRecordMiscRegister2" not in ir["errorSyndromes"][0]
    node = node._replace(ip_instance_format=2, ip_type_format=1, user_data=b"0123456789abcdef",
                         ip_instance=bytes(range(16)), ip_type=bytes(range(24)))
    ir = lc.to_ir(sec._replace(node=node))["ArmRas"]
    assert ir["ipInstance"] == {"localAddressIdentifier": "0x0706050403020100", "baseAddress": "0x0F0E0D0C0B0A0908"}
    assert ir["ipType"] == {"iidr": "0x03020100", "aidr": "0x07060504"} and ir["userData"] == "0123456789abcdef"
    assert ir["errorSyndromes"][0]["errorRecordMiscRegister3"] == "0x0000000000000000"
    back = lc.from_ir({"ArmRas": ir}, GUID).node
    assert (back.ip_instance, back.ip_type[:8], back.user_data) == (node.ip_instance, node.ip_type[:8], node.user_data)


def test_aux_data_libcper_checks():
    sec = _valid(ctx_regs=(1, 2), pairs=0)
    h = sec.aux.header
    assert h.key_value_pair_array_offset == h.auxiliary_data_size
    assert lc.to_ir(sec)["ArmRas"]["auxData"]["keyValuePairs"] == []
    bad = sec._replace(aux=sec.aux._replace(header=h._replace(version=2)))
    assert "auxData" not in lc.to_ir(bad)["ArmRas"]
    early = sec._replace(aux=sec.aux._replace(header=h._replace(key_value_pair_array_offset=16)))
    assert lc.to_ir(early)["ArmRas"]["auxData"] == {"version": 1}


def test_context_scope_asid_and_mpam():
    sec = _valid(ctx_regs=(1, 1, 0), pairs=2)
    ctxs = sec.aux.contexts
    ctxs = (ctxs[0]._replace(header=ctxs[0].header._replace(flags=1, address_space_identifier=0xBEEF)),
            ctxs[1]._replace(header=ctxs[1].header._replace(flags=2, address_space_identifier=0x1234)), ctxs[2])
    mpam = CperArmRasAuxKeyValue(key=EFI_ARM_RAS_KVP_UUID_MPAM_PARTID, value=0x1_0042)
    sec = sec._replace(aux=sec.aux._replace(contexts=ctxs, key_value_pairs=(mpam, sec.aux.key_value_pairs[1])))
    aux = lc.to_ir(sec)["ArmRas"]["auxData"]
    assert aux["contexts"][0] == {"flags": {"addressSpaceIdentifierScope": "LocalAddressSpace"},
                                  "addressSpaceIdentifier": 0xBEEF,
                                  "registers": [{"address": "0x0000000000000000", "value": "0x0000000000000001"}]}
    assert aux["contexts"][1]["flags"] == {"addressSpaceIdentifierScope": "SystemPhysicalAddressSpace"}
    assert "addressSpaceIdentifier" not in aux["contexts"][1] and aux["contexts"][2]["registers"] == []
    assert aux["keyValuePairs"][0] == {"key": "ebb45182-fb03-4bf9-9aca-8613709fd789", "mpamPartId": 0x42}
    assert aux["keyValuePairs"][1] == {"key": "03020100-0504-0706-0809-0a0b0c0d0e0f", "value": "0x0000000000000007"}
    back = lc.from_ir({"ArmRas": lc.to_ir(sec)["ArmRas"]}, GUID)
    assert back.aux.contexts[0].header.address_space_identifier == 0xBEEF  # libcper writes 0 here
    assert back.aux.contexts[1].header.flags == 0
    assert back.aux.key_value_pairs[0].value == 0x42


@pytest.mark.parametrize("ir,path", [
    ({"ArmRas": []}, "ArmRas"),
    ({"ArmRas": {"revision": "1"}}, "ArmRas.revision"),
    ({"ArmRas": {"componentType": 3}}, "ArmRas.componentType"),
    ({"ArmRas": {"ipInstance": {"mpidrEl1": 5}}}, "ArmRas.ipInstance.mpidrEl1"),
    ({"ArmRas": {"ipType": {"pidr0": "0x100"}}}, "ArmRas.ipType.pidr0"),
    ({"ArmRas": {"userData": "x" * 17}}, "ArmRas.userData"),
    ({"ArmRas": {"errorSyndromes": {}}}, "ArmRas.errorSyndromes"),
    ({"ArmRas": {"errorSyndromes": [{"rasExtensionArchVersion": 16}]}},
     "ArmRas.errorSyndromes[0].rasExtensionArchVersion"),
    ({"ArmRas": {"errorSyndromes": [{"errorRecordMiscRegister1": "zz"}]}},
     "ArmRas.errorSyndromes[0].errorRecordMiscRegister1"),
    ({"ArmRas": {"auxData": {"contexts": [{"flags": {"addressSpaceIdentifierScope": "Nope"}}]}}},
     "ArmRas.auxData.contexts[0].flags.addressSpaceIdentifierScope"),
    ({"ArmRas": {"auxData": {"contexts": [{"registers": [{"address": 1}]}]}}},
     "ArmRas.auxData.contexts[0].registers[0].address"),
    ({"ArmRas": {"auxData": {"keyValuePairs": [{"key": "not-a-guid"}]}}}, "ArmRas.auxData.keyValuePairs[0].key"),
    ({"ArmRas": {"auxData": {"keyValuePairs": [{"mpamPartId": -1}]}}}, "ArmRas.auxData.keyValuePairs[0].mpamPartId"),
    ({"ArmRas": {"auxData": {"keyValuePairs": [{}] * 3000}}}, "ArmRas.auxData"),
])
def test_libcper_bad_json_names_the_field(ir, path):
    with pytest.raises(FormatError) as e:
        lc.from_ir(ir, GUID)
    assert e.value.path == path


def test_from_ir_defaults_are_zero():
    sec = lc.from_ir({"ArmRas": {"errorSyndromes": [{}], "auxData": {"contexts": [{}], "keyValuePairs": [{}]}}}, GUID)
    assert sec.node.revision == 0 and sec.node.auxiliary_data_offset == 80 + 72
    assert sec.syndromes[0] == CperArmRasErrorRecordDescriptor()
    assert sec.aux.key_value_pairs[0] == CperArmRasAuxKeyValue() and sec.check() == ["revision 0 is not 1"]


def test_bad_our_json_names_the_field():
    d = _valid().to_dict()
    for key, bad, path in (("gap", "zz", "gap"), ("syndromes", {}, "syndromes"), ("aux", [], "aux"),
                           ("tail", 3, "tail")):
        with pytest.raises(FormatError) as e:
            CperSecArmRas.from_dict({**d, key: bad})
        assert e.value.path == path
    with pytest.raises(FormatError) as e:
        CperSecArmRas.from_dict({**d, "aux": {**d["aux"], "contexts": [{"registers": [{"address": -1}]}]}})
    assert e.value.path == "aux.contexts[0].registers[0].address"


# --- the kernel: an unknown section type ----------------------------------------------------


def test_kernel_prints_it_as_unknown():
    sec = _valid(n=1)
    lines = cper.render_kernel(cper.build_estatus([sec], error_severity=2))
    assert any(line.endswith(f"section type: unknown, {GUID}") for line in lines)
    assert any(f"section length: {sec.nbytes:#x}" in line for line in lines)
