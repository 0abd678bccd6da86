"""libcper's JSON for the PCI Express Error section (cper-section-pcie.c).

libcper prints the 60-byte capability structure and the 96-byte AER info as
base64 ``data`` plus a decode of their registers through packed C bitfields
(cper-section-pcie.h). Reading JSON back it uses only ``data``. Two libcper
layout facts are reproduced as they are: ``link_capabilities2`` is 8 bytes
(a 4-byte union after a 1-bit field), so link_control2/link_status2 are read
at 0x34/0x36; and the root error status interrupt message number is bits 29:25.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...cper import pcie as p
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_int, readable_pair

MESSAGE = "A PCIe Error occurred"

# PCIE_ERROR_PORT_TYPES_KEYS/VALUES
PORT_TYPES = {
    0: "PCI Express End Point", 1: "Legacy PCI End Point Device", 4: "Root Port",
    5: "Upstream Switch Port", 6: "Downstream Switch Port", 7: "PCI Express to PCI/PCI-X Bridge",
    8: "PCI/PCI-X Bridge to PCI Express Bridge", 9: "Root Complex Integrated Endpoint Device",
    10: "Root Complex Event Collector",
}

# add_dict()/add_bool_enum() tables; device_port_type_dict is indexed by the raw value
_DICTS = {
    "port": ("PCIE", "PCI", "ROOT_PORT", "UPSTREAM", "DOWNSTREAM", "PCIE_PCI_BRIDGE",
             "PCI_PCIE_BRIDGE", "RCiEP", "RCEC"),
    "sup": ("NotSupported", "Supported"),
    "ena": ("Disabled", "Enabled"),
    "pass": ("Failed", "Passing"),
    "sev": ("NonFatal", "Fatal"),
}

# (JSON object, byte offset, register bytes, ((key, lsb, width, kind), ...));
# kind: "int", "bool", "raw" (add_dict without names), or a _DICTS key.
_CAP_V1 = (
    ("pcie_capability_header", 0x0, 2, (("capability_id", 0, 8, "raw"), ("next_capability_pointer", 8, 8, "int"))),
    ("pcie_capabilities", 0x2, 2, (
        ("capability_version", 0, 4, "int"), ("device_port_type", 4, 4, "port"), ("slot_implemented", 8, 1, "bool"),
        ("interrupt_message_number", 9, 5, "int"), ("flit_mode_supported", 15, 1, "sup"))),
    ("device_capabilities", 0x4, 4, (
        ("max_payload_size_supported", 0, 3, "int"), ("phantom_functions_supported", 3, 2, "sup"),
        ("extended_tag_field_supported", 5, 1, "sup"), ("endpoint_l0s_acceptable_latency", 6, 3, "raw"),
        ("endpoint_l1_acceptable_latency", 9, 3, "raw"), ("role_based_error_reporting", 15, 1, "bool"),
        ("err_cor_subclass_capable", 16, 1, "bool"), ("rx_mps_fixed", 17, 1, "int"),
        ("captured_slot_power_limit_value", 18, 8, "int"), ("captured_slot_power_limit_scale", 26, 2, "int"),
        ("function_level_reset_capability_supported", 28, 1, "sup"), ("mixed_mps_supported", 29, 1, "sup"),
        ("tee_io_supported", 30, 1, "sup"))),
    ("device_control", 0x8, 2, (
        ("correctable_error_reporting_enable", 0, 1, "ena"), ("non_fatal_error_reporting_enable", 1, 1, "ena"),
        ("fatal_error_reporting_enable", 2, 1, "ena"), ("unsupported_request_reporting_enabled", 3, 1, "ena"),
        ("relaxed_ordering_enable", 4, 1, "ena"), ("max_payload_size", 5, 3, "int"),
        ("extended_tag_field_enable", 8, 1, "ena"), ("phantom_functions_enable", 9, 1, "ena"),
        ("aux_power_pm_enable", 10, 1, "ena"), ("enable_no_snoop", 11, 1, "int"),
        ("max_read_request_size", 12, 3, "int"), ("function_level_reset", 15, 1, "bool"))),
    ("device_status", 0xA, 2, (
        ("correctable_error_detected", 0, 1, "bool"), ("non_fatal_error_detected", 1, 1, "bool"),
        ("fatal_error_detected", 2, 1, "bool"), ("unsupported_request_detected", 3, 1, "bool"),
        ("aux_power_detected", 4, 1, "bool"), ("transactions_pending", 5, 1, "bool"),
        ("emergency_power_reduction", 6, 2, "int"))),
    ("link_capabilities", 0xC, 4, (
        ("max_link_speed", 0, 4, "int"), ("maximum_link_width", 4, 6, "int"), ("aspm_support", 10, 2, "int"),
        ("l0s_exit_latency", 12, 3, "int"), ("l1_exit_latency", 15, 3, "int"),
        ("clock_power_management", 18, 1, "bool"), ("surprise_down_error_reporting_capable", 19, 1, "bool"),
        ("data_link_layer_link_active_reporting_capable", 20, 1, "bool"),
        ("link_bandwidth_notification_capability", 21, 1, "bool"), ("aspm_optionality_compliance", 22, 1, "bool"),
        ("port_number", 24, 8, "int"))),
    ("link_control", 0x10, 2, (
        ("aspm_control", 0, 2, "int"), ("ptm_prop_delay_adaptation_interpretation", 2, 1, "bool"),
        ("link_disable", 4, 1, "int"), ("retrain_link", 5, 1, "int"), ("extended_synch", 7, 1, "int"),
        ("sris_clocking", 12, 1, "int"), ("flit_mode_disable", 13, 1, "int"))),
    ("link_status", 0x12, 2, (
        ("current_link_speed", 0, 4, "int"), ("negotiated_link_width", 4, 6, "int"), ("link_training", 11, 1, "int"))),
    ("slot_capabilities", 0x14, 4, (
        ("slot_power_limit_value", 7, 8, "raw"), ("slot_power_limit_scale", 15, 2, "int"),
        ("physical_slot_number", 19, 13, "int"))),
    ("slot_control", 0x18, 2, (
        ("attention_indicator_control", 6, 2, "int"), ("power_indicator_control", 8, 2, "int"), ("rsvdp", 15, 1, "int"))),
    ("slot_status", 0x1A, 2, (
        ("mrl_sensor_changed", 2, 1, "int"), ("command_completed", 4, 1, "int"), ("mrl_sensor_state", 5, 1, "int"))),
    ("root_status", 0x20, 4, (("pme_requester_id", 0, 16, "int"), ("pme_status", 16, 1, "int"), ("pme_pending", 17, 1, "int"))),
)
# Printed only when capability_version >= 2
_CAP_V2 = (
    ("device_capabilities2", 0x24, 4, (
        ("completion_timeout_ranges_supported", 0, 4, "int"), ("completion_timeout_disable_supported", 4, 1, "sup"),
        ("ari_forwarding_supported", 5, 1, "sup"), ("atomic_op_routing_supported", 6, 1, "sup"),
        ("_32_bit_atomicop_completer_supported", 7, 1, "sup"), ("_64_bit_atomicop_completer_supported", 8, 1, "sup"),
        ("_128_bit_cas_completer_supported", 9, 1, "sup"), ("no_ro_enabled_pr_pr_passing", 10, 1, "pass"),
        ("ltr_mechanism_supported", 11, 1, "sup"), ("tph_completer_supported", 12, 2, "sup"),
        ("obff_supported", 18, 2, "sup"), ("max_end_end_tlp_prefixes", 22, 2, "raw"),
        ("emergency_power_reduction_supported", 24, 2, "sup"), ("dmwr_lengths_supported", 29, 2, "int"))),
    ("device_control2", 0x28, 2, (
        ("completion_timeout_value", 0, 4, "int"), ("ari_forwarding_enable", 5, 1, "bool"),
        ("atomicop_requester_enable", 6, 1, "bool"), ("atomicop_egress_blocking", 7, 1, "bool"),
        ("ido_request_enable", 8, 1, "bool"), ("ido_completion_enable", 9, 1, "bool"),
        ("ltr_mechanism_enable", 10, 1, "bool"), ("emergency_power_reduction_request", 11, 1, "bool"),
        ("bit_tag_requester_10_enable", 12, 1, "bool"), ("obff_enable", 13, 2, "int"))),
    # 0x2C is a 1-bit field, then a 4-byte union (bits 7:1 read from 0x2D), then 24 bits from 0x31
    ("link_capabilities2", 0x2D, 1, (("supported_link_speeds", 0, 7, "int"),)),
    ("link_capabilities2", 0x31, 3, (
        ("crosslink_supported", 0, 1, "sup"), ("lower_skp_os_generation_supported", 1, 7, "int"),
        ("lower_skp_os_reception_supported", 8, 7, "int"), ("retimer_presence_detect_supported", 15, 1, "sup"),
        ("two_retimers_presence_detect_supported", 16, 1, "sup"), ("drs_supported", 23, 1, "sup"))),
    ("link_control2", 0x34, 2, (
        ("target_link_speed", 0, 4, "raw"), ("enter_compliance", 4, 1, "sup"),
        ("hardware_autonomous_speed_disable", 5, 1, "raw"), ("selectable_de_emphasis", 6, 1, "bool"),
        ("transmit_margin", 7, 3, "int"), ("enter_modified_compliance", 10, 1, "bool"),
        ("compliance_sos", 11, 1, "bool"), ("compliance_preset_de_emphasis", 12, 4, "int"))),
    ("link_status2", 0x36, 2, (
        ("current_de_emphasis_level", 0, 1, "int"), ("equalization_8gts_complete", 1, 1, "bool"),
        ("equalization_8gts_phase1_successful", 2, 1, "bool"), ("equalization_8gts_phase2_successful", 3, 1, "bool"),
        ("equalization_8gts_phase3_successful", 4, 1, "bool"), ("link_equalization_request_8gts", 5, 1, "bool"),
        ("retimer_presence_detected", 6, 1, "bool"), ("two_retimers_presence_detected", 7, 1, "bool"),
        ("crosslink_resolution", 8, 2, "int"), ("flit_mode_status", 10, 1, "int"),
        ("downstream_component_presence", 12, 3, "int"), ("drs_message_received", 15, 1, "bool"))),
)

# Uncorrectable error register bits 4, 5 and 12..31, as libcper names them
_UNCOR = (
    (4, "data_link_protocol_error"), (5, "surprise_down_error"), (12, "poisoned_tlp_received"),
    (13, "flow_control_protocol_error"), (14, "completion_timeout"), (15, "completer_abort"),
    (16, "unexpected_completion"), (17, "receiver_overflow"), (18, "malformed_tlp"), (19, "ecrc_error"),
    (20, "unsupported_request_error"), (21, "acs_violation"), (22, "uncorrectable_internal_error"),
    (23, "mc_blocked_tlp"), (24, "atomicop_egress_blocked"), (25, "tlp_prefix_blocked_error"),
    (26, "poisoned_tlp_egress_blocked"), (27, "dmwr_request_egress_blocked"), (28, "ide_check_failed"),
    (29, "misrouted_ide_tlp"), (30, "pcrc_check_failed"), (31, "tlp_translation_egress_blocked"),
)
_COR = (
    (0, "receiver_error"), (6, "bad_tlp"), (7, "bad_dllp"), (8, "replay_num_rollover"),
    (12, "replay_timer_timeout"), (13, "advisory_non_fatal_error"), (14, "corrected_internal_error"),
    (15, "header_log_overflow"),
)


def _suffixed(bits, suffix: str, kind: str, *, bare: str = "") -> tuple:
    return tuple((name if name == bare else f"{name}_{suffix}", lsb, 1, kind) for lsb, name in bits)


_AER = (
    ("capability_header", 0x0, 4, (
        ("capability_id", 0, 16, "int"), ("capability_version", 16, 4, "int"), ("next_capability_offset", 20, 12, "int"))),
    ("uncorrectable_error_status", 0x4, 4, _suffixed(_UNCOR, "status", "bool", bare="poisoned_tlp_received")),
    ("uncorrectable_error_mask", 0x8, 4, _suffixed(_UNCOR, "mask", "int")),
    ("uncorrectable_error_severity", 0xC, 4, _suffixed(_UNCOR, "severity", "sev")),
    ("correctable_error_status", 0x10, 4, _suffixed(_COR, "status", "bool")),
    ("correctable_error_mask", 0x14, 4, _suffixed(_COR, "mask", "int")),
    ("advanced_error_capabilities_and_control", 0x18, 4, (
        ("first_error_pointer", 0, 5, "int"), ("header_log_size", 13, 5, "int"), ("logged_tlp_size", 19, 5, "int"))),
    ("root_error_status", 0x30, 4, (("err_cor_subclass", 7, 2, "int"), ("advanced_error_interrupt_message_number", 25, 5, "int"))),
    ("error_source_id", 0x34, 4, (
        ("err_cor_source_identification", 0, 16, "int"), ("err_fatal_nonfatal_source_identification", 16, 16, "int"))),
)


def _registers(data: bytes, specs, out: dict[str, Any]) -> None:
    for obj, off, size, fields in specs:
        reg = int.from_bytes(data[off : off + size], "little")
        d = out.setdefault(obj, {})
        for key, lsb, width, kind in fields:
            v = (reg >> lsb) & ((1 << width) - 1)
            if kind == "int":
                d[key] = v
            elif kind == "bool":
                d[key] = bool(v)
            elif kind == "raw":
                d[key] = {"raw": v}
            elif kind == "port":
                names = _DICTS["port"]
                d[key] = {"raw": v, "value": names[v]} if v < len(names) else {"raw": v}
            else:
                d[key] = _DICTS[kind][1 if v else 0]


def capability_to_ir(cap: bytes) -> dict[str, Any]:
    """pcie_capability_to_ir(): base64 data and the decoded PCIe capability registers."""
    out: dict[str, Any] = {"data": base64.b64encode(cap).decode()}
    _registers(cap, _CAP_V1, out)
    if cap[2] & 0xF >= 2:
        _registers(cap.ljust(0x38, b"\0"), _CAP_V2, out)
    return out


def aer_to_ir(aer: bytes) -> dict[str, Any]:
    """pcie_aer_to_ir(): base64 data and the decoded AER capability registers."""
    out: dict[str, Any] = {"data": base64.b64encode(aer).decode()}
    _registers(aer, _AER, out)
    return out


def bcd_to_int(b: int) -> int:
    return (b >> 4) * 10 + (b & 0xF)


def int_to_bcd(v: int) -> int:
    """libcper's int_to_bcd() for 0..99; for 100..165, which libcper truncates, the
    byte bcd_to_int() maps back to ``v`` (0xA0..0xFF), so that JSON reads back the same."""
    if 100 <= v <= 165:
        hi = min(v // 10, 15)
        return hi << 4 | (v - hi * 10)
    out, shift = 0, 0
    while v > 0:
        out |= (v % 10) << shift
        v //= 10
        shift += 4
    return out & 0xFF


def to_ir(sec: p.CperSecPcie) -> dict[str, Any]:
    v = sec.validation_bits
    d: dict[str, Any] = {}
    if v & p.CPER_PCIE_VALID_PORT_TYPE:
        d["portType"] = readable_pair(sec.port_type, PORT_TYPES)
    if v & p.CPER_PCIE_VALID_VERSION:
        d["version"] = {"minor": bcd_to_int(sec.version_minor), "major": bcd_to_int(sec.version_major)}
    if v & p.CPER_PCIE_VALID_COMMAND_STATUS:
        d["commandStatus"] = {"commandRegister": sec.command, "statusRegister": sec.status}
    if v & p.CPER_PCIE_VALID_DEVICE_ID:
        d["deviceID"] = _device_id_to_ir(sec)
    if v & p.CPER_PCIE_VALID_SERIAL_NUMBER:
        d["deviceSerialNumber"] = sec.serial_number
    if v & p.CPER_PCIE_VALID_BRIDGE_CONTROL_STATUS:
        d["bridgeControlStatus"] = {
            "secondaryStatusRegister": sec.bridge_secondary_status, "controlRegister": sec.bridge_control,
        }
    if v & p.CPER_PCIE_VALID_CAPABILITY:
        d["capabilityStructure"] = capability_to_ir(sec.capability)
    if v & p.CPER_PCIE_VALID_AER_INFO:
        d["aerInfo"] = aer_to_ir(sec.aer_info)
    return {"message": MESSAGE, "Pcie": d}


def _device_id_to_ir(sec: p.CperSecPcie) -> dict[str, Any]:
    cc = sec.class_code
    slot = sec.slot_number
    d: dict[str, Any] = {}
    name = class_code_name(cc[2], cc[1], cc[0])
    if name is not None:
        d["class"] = name
    d.update({
        "deviceID_Hex": f"0x{sec.device_id:04X}", "vendorID_Hex": f"0x{sec.vendor_id:04X}",
        "classCode_Hex": f"0x{sec.class_code_value:06X}", "functionNumber_Hex": f"0x{sec.function:02X}",
        "deviceNumber_Hex": f"0x{sec.device:02X}", "segmentNumber_Hex": f"0x{sec.segment & 0xFF:02X}",
        "primaryOrDeviceBusNumber_Hex": f"0x{sec.bus:02X}", "secondaryBusNumber_Hex": f"0x{sec.secondary_bus:02X}",
        "slotNumber_Hex": f"0x{slot & 0xFF:02X}",
        "deviceID": sec.device_id, "vendorID": sec.vendor_id, "classCode": sec.class_code_value,
        "functionNumber": sec.function, "deviceNumber": sec.device, "segmentNumber": sec.segment,
        "primaryOrDeviceBusNumber": sec.bus, "secondaryBusNumber": sec.secondary_bus, "slotNumber": slot,
    })
    return d


def _b64(d: Any, path: str, size: int) -> bytes:
    text = get(d, "data", path, "")
    if not isinstance(text, str):
        raise FormatError("expected a base64 string", path=f"{path}.data")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError("not base64", path=f"{path}.data") from None
    if len(raw) > size:
        raise FormatError(f"{len(raw)} bytes do not fit in {size}", path=f"{path}.data")
    return raw.ljust(size, b"\0")


def from_ir(obj: dict[str, Any], guid: Guid) -> p.CperSecPcie:
    """ir_section_pcie_to_cper(); the decoded register objects are ignored, as libcper does."""
    path = "Pcie"
    d = get(obj, "Pcie", "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    v = 0
    f: dict[str, Any] = {}
    if "portType" in d:
        f["port_type"] = get_int(d["portType"], "value", f"{path}.portType", bits=32)
        v |= p.CPER_PCIE_VALID_PORT_TYPE
    if "version" in d:
        ver, vp = d["version"], f"{path}.version"
        f["version_minor"] = int_to_bcd(get_int(ver, "minor", vp, bits=8))
        f["version_major"] = int_to_bcd(get_int(ver, "major", vp, bits=8))
        v |= p.CPER_PCIE_VALID_VERSION
    if "commandStatus" in d:
        cs, cp = d["commandStatus"], f"{path}.commandStatus"
        f["command"] = get_int(cs, "commandRegister", cp, bits=16)
        f["status"] = get_int(cs, "statusRegister", cp, bits=16)
        v |= p.CPER_PCIE_VALID_COMMAND_STATUS
    if "deviceID" in d:
        f.update(_device_id_from_ir(d["deviceID"], f"{path}.deviceID"))
        v |= p.CPER_PCIE_VALID_DEVICE_ID
    if "deviceSerialNumber" in d:
        sn = get_int(d, "deviceSerialNumber", path)
        f["serial_number_lower"], f["serial_number_upper"] = sn & 0xFFFFFFFF, sn >> 32
        v |= p.CPER_PCIE_VALID_SERIAL_NUMBER
    if "bridgeControlStatus" in d:
        bc, bp = d["bridgeControlStatus"], f"{path}.bridgeControlStatus"
        f["bridge_secondary_status"] = get_int(bc, "secondaryStatusRegister", bp, bits=16)
        f["bridge_control"] = get_int(bc, "controlRegister", bp, bits=16)
        v |= p.CPER_PCIE_VALID_BRIDGE_CONTROL_STATUS
    if "capabilityStructure" in d:
        f["capability"] = _b64(d["capabilityStructure"], f"{path}.capabilityStructure", 60)
        v |= p.CPER_PCIE_VALID_CAPABILITY
    if "aerInfo" in d:
        f["aer_info"] = _b64(d["aerInfo"], f"{path}.aerInfo", 96)
        v |= p.CPER_PCIE_VALID_AER_INFO
    return p.CperSecPcie(validation_bits=v, **f)


def _device_id_from_ir(dev: Any, path: str) -> dict[str, Any]:
    cc = get_int(dev, "classCode", path, bits=24)
    return {
        "vendor_id": get_int(dev, "vendorID", path, bits=16),
        "device_id": get_int(dev, "deviceID", path, bits=16),
        "class_code": cc.to_bytes(3, "little"),
        "function": get_int(dev, "functionNumber", path, bits=8),
        "device": get_int(dev, "deviceNumber", path, bits=8),
        "segment": get_int(dev, "segmentNumber", path, bits=16),
        "bus": get_int(dev, "primaryOrDeviceBusNumber", path, bits=8),
        "secondary_bus": get_int(dev, "secondaryBusNumber", path, bits=8),
        "slot": get_int(dev, "slotNumber", path, bits=13) << p.CPER_PCIE_SLOT_SHIFT,
    }


_ANY = -1
# pci_class_codes[]: (base, sub, programming interface or _ANY) -> name; first match wins
PCI_CLASS_CODES: tuple[tuple[int, int, int, str], ...] = (
    (0x00, 0x00, 0x00, "All currently implemented devices except VGA-compatible devices"),
    (0x00, 0x01, 0x00, "VGA-compatible device"),
    (0x01, 0x00, 0x00, "SCSI controller - vendor-specific interface"),
    (0x01, 0x00, 0x11, "SCSI storage device - SCSI over PCI Express (SOP) with PQI"),
    (0x01, 0x00, 0x12, "SCSI controller - SCSI over PCI Express (SOP) with PQI"),
    (0x01, 0x00, 0x13, "SCSI storage device and SCSI controller - SOP with PQI"),
    (0x01, 0x00, 0x21, "SCSI storage device - SOP with NVM Express interface"),
    (0x01, 0x01, _ANY, "IDE controller"),
    (0x01, 0x02, 0x00, "Floppy disk controller - vendor-specific interface"),
    (0x01, 0x03, 0x00, "IPI bus controller - vendor-specific interface"),
    (0x01, 0x04, 0x00, "RAID controller - vendor-specific interface"),
    (0x01, 0x05, 0x20, "ATA controller with ADMA interface - single stepping"),
    (0x01, 0x05, 0x30, "ATA controller with ADMA interface - continuous operation"),
    (0x01, 0x06, 0x00, "Serial ATA controller - vendor-specific interface"),
    (0x01, 0x06, 0x01, "Serial ATA controller - AHCI interface"),
    (0x01, 0x06, 0x02, "Serial Storage Bus Interface"),
    (0x01, 0x07, 0x00, "Serial Attached SCSI (SAS) controller - vendor specific interface"),
    (0x01, 0x08, 0x00, "Non-volatile memory subsystem - vendor-specific interface"),
    (0x01, 0x08, 0x01, "Non-volatile memory subsystem - NVMHCI interface"),
    (0x01, 0x08, 0x02, "NVM Express (NVMe) I/O controller"),
    (0x01, 0x08, 0x03, "NVM Express (NVMe) administrative controller"),
    (0x01, 0x09, 0x00, "Universal Flash Storage (UFS) controller - vendor specific interface"),
    (0x01, 0x09, 0x01, "Universal Flash Storage (UFS) controller - UFSHCI"),
    (0x01, 0x80, 0x00, "Other mass storage controller - vendor-specific interface"),
    (0x02, 0x00, 0x00, "Ethernet controller"),
    (0x02, 0x00, 0x01, "Ethernet Controller with IDPF compliant Interface"),
    (0x02, 0x01, 0x00, "Token Ring controller"), (0x02, 0x02, 0x00, "FDDI controller"),
    (0x02, 0x03, 0x00, "ATM controller"), (0x02, 0x04, 0x00, "ISDN controller"),
    (0x02, 0x05, 0x00, "WorldFip controller"), (0x02, 0x06, _ANY, "PICMG 2.14 Multi Computing"),
    (0x02, 0x07, 0x00, "InfiniBand Controller"), (0x02, 0x08, 0x00, "Host fabric controller - vendor-specific"),
    (0x02, 0x80, 0x00, "Other network controller"),
    (0x03, 0x00, 0x00, "VGA-compatible controller"), (0x03, 0x00, 0x01, "8514-compatible controller"),
    (0x03, 0x01, 0x00, "XGA controller"), (0x03, 0x02, 0x00, "3D controller"),
    (0x03, 0x80, 0x00, "Other display controller"),
    (0x04, 0x00, 0x00, "Video device - vendor specific interface"),
    (0x04, 0x01, 0x00, "Audio device - vendor specific interface"),
    (0x04, 0x02, 0x00, "Computer telephony device - vendor specific interface"),
    (0x04, 0x03, 0x00, "High Definition Audio (HD-A) 1.0 compatible"),
    (0x04, 0x03, 0x80, "High Definition Audio (HD-A) 1.0 compatible with vendor extensions"),
    (0x04, 0x80, 0x00, "Other multimedia device - vendor specific interface"),
    (0x05, 0x00, 0x00, "RAM"), (0x05, 0x01, 0x00, "Flash"),
    (0x05, 0x02, 0x00, "CXL Memory Device - vendor specific interface"),
    (0x05, 0x02, 0x10, "CXL Memory Device following CXL 2.0 or later specification"),
    (0x05, 0x80, 0x00, "Other memory controller"),
    (0x06, 0x00, 0x00, "Host bridge"), (0x06, 0x01, 0x00, "ISA bridge"), (0x06, 0x02, 0x00, "EISA bridge"),
    (0x06, 0x03, 0x00, "MCA bridge"), (0x06, 0x04, 0x00, "PCI-to-PCI bridge"),
    (0x06, 0x04, 0x01, "Subtractive Decode PCI-to-PCI bridge"), (0x06, 0x05, 0x00, "PCMCIA bridge"),
    (0x06, 0x06, 0x00, "NuBus bridge"), (0x06, 0x07, 0x00, "CardBus bridge"), (0x06, 0x08, _ANY, "RACEway bridge"),
    (0x06, 0x09, 0x40, "Semi-transparent PCI-to-PCI bridge - primary bus towards host"),
    (0x06, 0x09, 0x80, "Semi-transparent PCI-to-PCI bridge - secondary bus towards host"),
    (0x06, 0x0A, 0x00, "InfiniBand-to-PCI host bridge"),
    (0x06, 0x0B, 0x00, "Advanced Switching to PCI host bridge - Custom Interface"),
    (0x06, 0x0B, 0x01, "Advanced Switching to PCI host bridge - ASI-SIG Defined Portal Interface"),
    (0x06, 0x80, 0x00, "Other bridge device"),
    (0x07, 0x00, 0x00, "Generic XT-compatible serial controller"),
    (0x07, 0x00, 0x01, "16450-compatible serial controller"), (0x07, 0x00, 0x02, "16550-compatible serial controller"),
    (0x07, 0x00, 0x03, "16650-compatible serial controller"), (0x07, 0x00, 0x04, "16750-compatible serial controller"),
    (0x07, 0x00, 0x05, "16850-compatible serial controller"), (0x07, 0x00, 0x06, "16950-compatible serial controller"),
    (0x07, 0x01, 0x00, "Parallel port"), (0x07, 0x01, 0x01, "Bi-directional parallel port"),
    (0x07, 0x01, 0x02, "ECP 1.X compliant parallel port"), (0x07, 0x01, 0x03, "IEEE1284 controller"),
    (0x07, 0x01, 0xFE, "IEEE1284 target device"), (0x07, 0x02, 0x00, "Multiport serial controller"),
    (0x07, 0x03, 0x00, "Generic modem"),
    (0x07, 0x03, 0x01, "Hayes compatible modem - 16450-compatible interface"),
    (0x07, 0x03, 0x02, "Hayes compatible modem - 16550-compatible interface"),
    (0x07, 0x03, 0x03, "Hayes compatible modem - 16650-compatible interface"),
    (0x07, 0x03, 0x04, "Hayes compatible modem - 16750-compatible interface"),
    (0x07, 0x04, 0x00, "GPIB (IEEE 488.1/2) controller"), (0x07, 0x05, 0x00, "Smart Card"),
    (0x07, 0x80, 0x00, "Other communications device"),
    (0x08, 0x00, 0x00, "Generic 8259 PIC"), (0x08, 0x00, 0x01, "ISA PIC"), (0x08, 0x00, 0x02, "EISA PIC"),
    (0x08, 0x00, 0x10, "I/O APIC interrupt controller"), (0x08, 0x00, 0x20, "I/O(x) APIC interrupt controller"),
    (0x08, 0x01, 0x00, "Generic 8237 DMA controller"), (0x08, 0x01, 0x01, "ISA DMA controller"),
    (0x08, 0x01, 0x02, "EISA DMA controller"), (0x08, 0x02, 0x00, "Generic 8254 system timer"),
    (0x08, 0x02, 0x01, "ISA system timer"), (0x08, 0x02, 0x02, "EISA system timers"),
    (0x08, 0x02, 0x03, "High Performance Event Timer"), (0x08, 0x03, 0x00, "Generic RTC controller"),
    (0x08, 0x03, 0x01, "ISA RTC controller"), (0x08, 0x04, 0x00, "Generic PCI Hot-Plug controller"),
    (0x08, 0x05, 0x00, "SD Host controller"), (0x08, 0x06, 0x00, "IOMMU"),
    (0x08, 0x07, 0x00, "Root Complex Event Collector"), (0x08, 0x08, 0x00, "Time Card - vendor-specific interface"),
    (0x08, 0x08, 0x01, "Time Card - OCP TAP interface"), (0x08, 0x80, 0x00, "Other system peripheral"),
    (0x09, 0x00, 0x00, "Keyboard controller"), (0x09, 0x01, 0x00, "Digitizer (pen)"),
    (0x09, 0x02, 0x00, "Mouse controller"), (0x09, 0x03, 0x00, "Scanner controller"),
    (0x09, 0x04, 0x00, "Gameport controller (generic)"), (0x09, 0x04, 0x10, "Gameport controller - legacy ports"),
    (0x09, 0x80, 0x00, "Other input controller"),
    (0x0A, 0x00, 0x00, "Generic docking station"), (0x0A, 0x80, 0x00, "Other type of docking station"),
    (0x0B, 0x00, 0x00, "386"), (0x0B, 0x01, 0x00, "486"), (0x0B, 0x02, 0x00, "Pentium"), (0x0B, 0x10, 0x00, "Alpha"),
    (0x0B, 0x20, 0x00, "PowerPC"), (0x0B, 0x30, 0x00, "MIPS"), (0x0B, 0x40, 0x00, "Co-processor"),
    (0x0B, 0x80, 0x00, "Other processors"),
    (0x0C, 0x00, 0x00, "IEEE 1394 (FireWire)"), (0x0C, 0x00, 0x10, "IEEE 1394 following 1394 OpenHCI specification"),
    (0x0C, 0x01, 0x00, "ACCESS.bus"), (0x0C, 0x02, 0x00, "SSA"),
    (0x0C, 0x03, 0x00, "USB - Universal Host Controller Specification"),
    (0x0C, 0x03, 0x10, "USB - Open Host Controller Specification"),
    (0x0C, 0x03, 0x20, "USB2 host controller - Intel EHCI"), (0x0C, 0x03, 0x30, "USB3 host controller - Intel xHCI"),
    (0x0C, 0x03, 0x40, "USB4 Host Interface"), (0x0C, 0x03, 0x80, "USB - no specific Programming Interface"),
    (0x0C, 0x03, 0xFE, "USB device (not host controller)"), (0x0C, 0x04, 0x00, "Fibre Channel"),
    (0x0C, 0x05, 0x00, "SMBus (System Management Bus)"), (0x0C, 0x07, 0x00, "IPMI SMIC Interface"),
    (0x0C, 0x07, 0x01, "IPMI Keyboard Controller Style Interface"), (0x0C, 0x07, 0x02, "IPMI Block Transfer Interface"),
    (0x0C, 0x08, 0x00, "SERCOS Interface Standard"), (0x0C, 0x09, 0x00, "CANbus"),
    (0x0C, 0x0A, 0x00, "MIPI I3C Host Controller Interface"),
    (0x0C, 0x0B, 0x00, "CXL Fabric Management Host Interface controller"),
    (0x0C, 0x0C, 0x00, "Memory Mapped Buffer Interface (MMBI) endpoint"),
    (0x0C, 0x80, 0x00, "Other Serial Bus Controllers"),
    (0x0D, 0x00, 0x00, "iRDA compatible controller"), (0x0D, 0x01, 0x00, "Consumer IR controller"),
    (0x0D, 0x01, 0x10, "UWB Radio controller"), (0x0D, 0x10, 0x00, "RF controller"), (0x0D, 0x11, 0x00, "Bluetooth"),
    (0x0D, 0x12, 0x00, "Broadband"), (0x0D, 0x20, 0x00, "Ethernet (802.11a - 5 GHz)"),
    (0x0D, 0x21, 0x00, "Ethernet (802.11b - 2.4 GHz)"), (0x0D, 0x40, 0x00, "Cellular controller/modem"),
    (0x0D, 0x41, 0x00, "Cellular controller/modem plus Ethernet (802.11)"),
    (0x0D, 0x80, 0x00, "Other type of wireless controller"),
    (0x0E, 0x00, 0x00, "I2O Architecture Specification 1.0 Message FIFO at offset 040h"),
    (0x0E, 0x00, _ANY, "Message FIFO at offset 040h"),
    (0x0F, 0x01, 0x00, "TV"), (0x0F, 0x02, 0x00, "Audio"), (0x0F, 0x03, 0x00, "Voice"), (0x0F, 0x04, 0x00, "Data"),
    (0x0F, 0x80, 0x00, "Other satellite communication controller"),
    (0x10, 0x00, 0x00, "Network and computing encryption and decryption controller"),
    (0x10, 0x10, 0x00, "Entertainment encryption and decryption controller"),
    (0x10, 0x20, 0x00, "Trusted Platform Module (TPM)"), (0x10, 0x80, 0x00, "Other encryption and decryption controller"),
    (0x11, 0x00, 0x00, "DPIO modules"), (0x11, 0x01, 0x00, "Performance counters"),
    (0x11, 0x10, 0x00, "Communications synchronization plus time and frequency test/measurement"),
    (0x11, 0x20, 0x00, "Management card"), (0x11, 0x80, 0x00, "Other data acquisition/signal processing controllers"),
    (0x12, 0x00, 0x00, "Processing Accelerator - vendor-specific interface"),
    (0x12, 0x01, 0x00, "SNIA Smart Data Accelerator Interface (SDXI) controller"),
    (0x13, 0x00, 0x00, "Non-Essential Instrumentation Function - Vendor specific interface"),
    (0xFF, 0x00, 0x00, "Device does not fit in any defined classes"),
)


def class_code_name(base: int, sub: int, prog: int) -> str | None:
    """get_class_code_name(): libcper's name for a class code, or None."""
    for b, s, pi, name in PCI_CLASS_CODES:
        if b == base and s == sub and (pi == prog or pi == _ANY):
            return name
    return None
