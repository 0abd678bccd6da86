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
from .pci_classes import PCI_CLASS_CODES, class_code_name  # noqa: F401  (re-exported)

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
