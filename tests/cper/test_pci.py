"""PCIe, PCI/PCI-X bus, PCI component and CCIX PER sections: codecs, kernel lines, libcper JSON."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasflow.formats import FormatError
from rasflow.formats.cper import guids as g
from rasflow.formats.cper import pcie as p
from rasflow.formats.cper.ccix_per import CperSecCcixHeader, CperSecCcixPer
from rasflow.formats.cper.pci_bus import CperSecPciBus
from rasflow.formats.cper.pci_dev import CperPciDevRegister, CperSecPciDev, CperSecPciDevHeader
from rasflow.formats.cper.sections import decode_section, section_class
from rasflow.formats.render.kernel.pcie import cper_print_pcie
from rasflow.formats.render.libcper import ccix_per as lc_ccix
from rasflow.formats.render.libcper import pci_bus as lc_bus
from rasflow.formats.render.libcper import pci_dev as lc_dev
from rasflow.formats.render.libcper import pcie as lc_pcie

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = [
    (g.CPER_SEC_PCIE, p.CperSecPcie, lc_pcie),
    (g.CPER_SEC_PCI_X_BUS, CperSecPciBus, lc_bus),
    (g.CPER_SEC_PCI_DEV, CperSecPciDev, lc_dev),
    (g.CPER_SEC_CCIX_PER, CperSecCcixPer, lc_ccix),
]
IDS = ["pcie", "pci_bus", "pci_dev", "ccix_per"]


def test_dispatch_and_sizes():
    for guid, cls, _ in TYPES:
        assert section_class(guid) is cls and cls.GUID == guid
    assert (p.CperSecPcie.SIZE, p.AerCapabilityRegs.SIZE, CperSecPciBus.SIZE) == (208, 56, 72)
    assert (CperSecPciDev.SIZE, CperPciDevRegister.SIZE, CperSecCcixPer.SIZE) == (40, 16, 16)


def _roundtrip(cls, obj):
    raw = obj.encode()
    assert len(raw) == obj.nbytes
    assert cls.decode(raw, 0, len(raw)) == obj
    assert cls.decode(b"\xaa" * 3 + raw, 3, len(raw)) == obj
    assert cls.from_dict(json.loads(json.dumps(obj.to_dict()))) == obj


@pytest.mark.parametrize("cls", [t[1] for t in TYPES], ids=IDS)
@FAST
@given(data=st.data())
def test_objects_round_trip(cls, data):
    _roundtrip(cls, data.draw(cls.strategy()))


def _consistent_bytes(cls, data) -> bytes:
    """Random bytes of a valid size: counts and lengths that fit."""
    if cls is CperSecPciDev:
        head = data.draw(st.binary(min_size=32, max_size=32))
        mem, io = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
        body = data.draw(st.binary(min_size=16 * (mem + io), max_size=16 * (mem + io)))
        return head + mem.to_bytes(4, "little") + io.to_bytes(4, "little") + body + data.draw(st.binary(max_size=20))
    if cls is CperSecCcixPer:
        rest = data.draw(st.binary(min_size=12, max_size=100))
        length = data.draw(st.integers(0, 4 + len(rest)))
        return length.to_bytes(4, "little") + rest
    return data.draw(st.binary(min_size=cls.SIZE, max_size=cls.SIZE + 40))


@pytest.mark.parametrize("cls", [t[1] for t in TYPES], ids=IDS)
@FAST
@given(data=st.data())
def test_bytes_round_trip(cls, data):
    raw = _consistent_bytes(cls, data)
    obj = cls.decode(raw, 0, len(raw))
    assert obj.encode() == raw and obj.nbytes == len(raw)
    assert cls.from_dict(obj.to_dict()) == obj
    assert getattr(obj, "check", list)() == []


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
        getattr(obj, "check", list)()
        obj.to_dict()
    assert decode_section(guid, raw, 0, len(raw), lenient=True).encode() == raw


@pytest.mark.parametrize("guid,cls,mod", TYPES, ids=IDS)
@FAST
@given(data=st.data())
def test_libcper_json_is_stable(guid, cls, mod, data):
    """to_ir -> from_ir -> bytes (zero-filled to the section length, as in a record) -> to_ir."""
    raw = _consistent_bytes(cls, data)
    ir = mod.to_ir(cls.decode(raw, 0, len(raw)))
    back = mod.from_ir(json.loads(json.dumps(ir)), guid).encode()
    again = back.ljust(len(raw), b"\0")[: max(len(raw), len(back))]
    assert mod.to_ir(cls.decode(again, 0, len(again))) == ir


# --- PCIe -----------------------------------------------------------------


def _aer(**regs) -> bytes:
    return p.AerCapabilityRegs(tail=b"\0" * 40, **regs).encode()


def test_kernel_lines_for_odd_values():
    sec = p.CperSecPcie(
        validation_bits=0xFF, port_type=0x80000002, version_major=0x10, version_minor=0x20,
        command=0x12, status=0x3, vendor_id=0x8086, device_id=0x1234, class_code=bytes([0x02, 0x08, 0x01]),
        function=3, device=0x1f, segment=1, bus=0x80, secondary_bus=0x81, slot=(12 << 3) | 5,
        serial_number_lower=0x12, serial_number_upper=0xABCDE, bridge_secondary_status=1, bridge_control=2,
        aer_info=_aer(cor_status=1, cor_mask=2, uncor_status=3, uncor_mask=4, uncor_severity=5,
                      header_log_dw0=0xA, header_log_dw3=0xDEADBEEF),
    )
    assert cper_print_pcie("P ", sec, None) == [
        "P port_type: -2147483646, unknown",
        "P version: 16.32",
        "P command: 0x0012, status: 0x0003",
        "P device_id: 0001:80:1f.3",
        "P slot: 12",
        "P secondary_bus: 0x81",
        "P vendor_id: 0x8086, device_id: 0x1234",
        "P class_code: 010802",
        "P serial number: 0x0012, 0xabcde",
        "P bridge: secondary_status: 0x0001, control: 0x0002",
        "P aer_cor_status: 0x00000001, aer_cor_mask: 0x00000002",
        "P aer_uncor_status: 0x00000003, aer_uncor_mask: 0x00000004",
        "P aer_uncor_severity: 0x00000005",
        "P TLP Header: 0000000a 00000000 00000000 deadbeef",
    ]
    assert cper_print_pcie("", sec._replace(validation_bits=p.CPER_PCIE_VALID_PORT_TYPE, port_type=2), None) == [
        "port_type: 2, unknown"
    ]


def test_aer_sub_layout():
    aer = p.CperSecPcie(aer_info=_aer(header=0x14010001, root_status=7, cor_err_source=0x100, uncor_err_source=0x200)).aer
    assert (aer.header, aer.root_status, aer.cor_err_source, aer.uncor_err_source) == (0x14010001, 7, 0x100, 0x200)
    assert len(aer.tail) == 40 and aer.header_log == (0, 0, 0, 0)


def test_libcper_device_id_and_class_name():
    sec = p.CperSecPcie(validation_bits=p.CPER_PCIE_VALID_DEVICE_ID, class_code=bytes([0x02, 0x08, 0x01]),
                        segment=0x1234, slot=0x1FFF << 3, function=0x14)
    dev = lc_pcie.to_ir(sec)["Pcie"]["deviceID"]
    assert dev["class"] == "NVM Express (NVMe) I/O controller"
    assert (dev["classCode"], dev["classCode_Hex"]) == (0x010802, "0x010802")
    assert (dev["segmentNumber"], dev["segmentNumber_Hex"]) == (0x1234, "0x34")
    assert (dev["slotNumber"], dev["slotNumber_Hex"]) == (0x1FFF, "0xFF")
    assert dev["functionNumber_Hex"] == "0x14"
    assert "class" not in lc_pcie.to_ir(sec._replace(class_code=b"\x01\x02\x03"))["Pcie"]["deviceID"]
    assert lc_pcie.class_code_name(0x01, 0x01, 0x8A) == "IDE controller"


def test_libcper_capability_version_and_port_type():
    cap = bytearray(60)
    cap[2] = 0x51  # capability_version 1, device/port type 5
    ir = lc_pcie.capability_to_ir(bytes(cap))
    assert ir["pcie_capabilities"]["device_port_type"] == {"raw": 5, "value": "PCIE_PCI_BRIDGE"}
    assert "device_capabilities2" not in ir and "link_status2" not in ir
    cap[2] = 0xB2  # version 2, type 11: past libcper's table
    ir = lc_pcie.capability_to_ir(bytes(cap))
    assert ir["pcie_capabilities"]["device_port_type"] == {"raw": 11}
    assert {"device_capabilities2", "device_control2", "link_capabilities2", "link_control2", "link_status2"} <= set(ir)


@pytest.mark.parametrize("byte", [0x00, 0x09, 0x42, 0x99, 0xA0, 0xA5, 0xFF, 0x9F])
def test_libcper_version_bcd_reads_back(byte):
    v = lc_pcie.bcd_to_int(byte)
    assert lc_pcie.bcd_to_int(lc_pcie.int_to_bcd(v)) == v
    if v <= 99:
        assert lc_pcie.int_to_bcd(v) == (v // 10) << 4 | v % 10


@pytest.mark.parametrize("ir,path", [
    ({"Pcie": {"capabilityStructure": {"data": "not base64!"}}}, "Pcie.capabilityStructure.data"),
    ({"Pcie": {"aerInfo": {"data": base64.b64encode(b"x" * 97).decode()}}}, "Pcie.aerInfo.data"),
    ({"Pcie": {"commandStatus": {"commandRegister": "1"}}}, "Pcie.commandStatus.commandRegister"),
    ({"Pcie": {"deviceID": {"vendorID": 1}}}, "Pcie.deviceID.classCode"),
    ({"PciBus": {"busCommandType": 1}}, "PciBus.busCommandType"),
    ({"PciComponent": {"registerDataPairs": {}}}, "PciComponent.registerDataPairs"),
    ({"PciComponent": {"registerDataPairs": [{"firstHalf": 1}]}}, "PciComponent.registerDataPairs[0].secondHalf"),
    ({"CcixPer": {"ccixPERLog": "%%%"}}, "CcixPer.ccixPERLog"),
    ({"CcixPer": {"length": -1}}, "CcixPer.length"),
    ({"CcixPer": []}, "CcixPer"),
    ({"Pcie": "x"}, "Pcie"),
    ({"PciBus": [1]}, "PciBus"),
    ({"PciComponent": 3}, "PciComponent"),
])
def test_libcper_bad_json_names_the_field(ir, path):
    mod = {"Pcie": lc_pcie, "PciBus": lc_bus, "PciComponent": lc_dev, "CcixPer": lc_ccix}[next(iter(ir))]
    with pytest.raises(FormatError) as e:
        mod.from_ir(ir, None)
    assert e.value.path == path


# --- PCI bus ----------------------------------------------------------------


def test_pci_bus_command_and_ids():
    sec = CperSecPciBus(validation_bits=0x1FF, bus_id=0x3B91, bus_command=1 << 56 | 0x55, type=9)
    ir = lc_bus.to_ir(sec)["PciBus"]
    assert ir["busCommandType"] == "PCI-X" and ir["busID"] == {"busNumber": 0x91, "segmentNumber": 0x3B}
    assert ir["errorType"] == {"value": 9, "name": "Unknown (Reserved)"}
    back = lc_bus.from_ir({"PciBus": ir}, None)
    assert back.bus_command == 1 << 56 and back.bus_id == 0x3B91 and back.validation_bits == 0x1FF


# --- PCI component ------------------------------------------------------------


def _pci_dev_bytes(mem: int, io: int, pairs: int, tail: int = 0) -> bytes:
    head = CperSecPciDevHeader(validation_bits=0x1F, memory_number=mem, io_number=io).encode()
    return head + bytes(range(16)) * pairs + b"\xee" * tail


def test_pci_dev_counts_that_overrun_name_the_field():
    with pytest.raises(FormatError) as e:
        CperSecPciDev.decode(_pci_dev_bytes(3, 0, 2), 0, 40 + 32)
    assert (e.value.path, e.value.offset, e.value.need) == ("memory_number", 32, 16)
    with pytest.raises(FormatError) as e:
        CperSecPciDev.decode(b"\0" * 8 + _pci_dev_bytes(1, 0xFFFFFFFF, 1), 8, 40 + 16)
    assert (e.value.path, e.value.offset) == ("io_number", 8 + 36)
    with pytest.raises(FormatError) as e:
        CperSecPciDev.decode(_pci_dev_bytes(0, 0, 0)[:30], 0, 30)
    assert e.value.need


def test_pci_dev_registers_and_tail():
    sec = CperSecPciDev.decode(_pci_dev_bytes(1, 1, 2, 5), 0, 40 + 32 + 5)
    assert len(sec.registers) == 2 and sec.tail == b"\xee" * 5
    assert sec.registers[0].address == int.from_bytes(bytes(range(8)), "little")
    assert sec.check() == []
    assert sec._replace(registers=sec.registers[:1]).check()


def test_pci_dev_libcper_infers_the_absent_count():
    pairs = [{"firstHalf": i, "secondHalf": i + 1} for i in range(5)]
    sec = lc_dev.from_ir({"PciComponent": {"memoryNumber": 2, "registerDataPairs": pairs}}, None)
    h = sec.header
    assert (h.memory_number, h.io_number, h.validation_bits) == (2, 3, 0x14)
    assert sec.check() == []
    assert lc_dev.to_ir(sec)["PciComponent"] == {"memoryNumber": 2, "registerDataPairs": pairs}
    only_pairs = lc_dev.from_ir({"PciComponent": {"registerDataPairs": pairs[:2]}}, None).header
    assert (only_pairs.memory_number, only_pairs.io_number) == (2, 0)
    both = lc_dev.from_ir({"PciComponent": {"memoryNumber": 1, "ioNumber": 0, "registerDataPairs": pairs}}, None)
    assert (both.header.memory_number, both.header.io_number, len(both.registers)) == (1, 0, 5)


# --- CCIX PER -----------------------------------------------------------------


def test_ccix_length_beyond_section_names_length():
    raw = CperSecCcixHeader(length=100, validation_bits=7).encode() + b"\1" * 20
    with pytest.raises(FormatError) as e:
        CperSecCcixPer.decode(raw, 0, len(raw))
    assert (e.value.path, e.value.need) == ("length", 64)


def test_ccix_libcper_log_and_short_length():
    log = bytes(range(32))
    sec = CperSecCcixPer(CperSecCcixHeader(length=48, validation_bits=5, source_id=9), log, b"\xff")
    ir = lc_ccix.to_ir(sec)
    assert ir == {"message": "A CCIX PER Log Error occurred",
                  "CcixPer": {"length": 48, "ccixSourceID": 9, "ccixPERLog": base64.b64encode(log).decode()}}
    short = CperSecCcixPer.decode(CperSecCcixHeader(length=8, validation_bits=4).encode() + b"ab", 0, 18)
    assert short.per_log == b"" and short.tail == b"ab"
    assert "ccixPERLog" not in lc_ccix.to_ir(short)["CcixPer"]
    back = lc_ccix.from_ir(ir, None)
    assert back.per_log == log and back.tail == b"" and back.header.validation_bits == 5
