"""libcper's JSON for the PCI/PCI-X Bus Error section (cper-section-pci-bus.c)."""

from __future__ import annotations

from typing import Any

from ...cper import pci_bus as b
from ...errors import FormatError
from ...layout import Guid
from .common import error_status_from_ir, error_status_to_ir, get, get_int, readable_pair

MESSAGE = "A PCI/PCI-X Bus Error occurred"

# PCI_BUS_ERROR_TYPES_KEYS/VALUES
PCI_BUS_ERROR_TYPES = (
    "Unknown/OEM Specific Error", "Data Parity Error", "System Error", "Master Abort",
    "Bus Timeout/No Device Present (No DEVSEL#)", "Master Data Parity Error",
    "Address Parity Error", "Command Parity Error",
)

# (JSON key, validation bit, field) for the plain 64-bit values
_U64 = (
    ("busAddress", b.CPER_PCI_BUS_VALID_BUS_ADDRESS, "bus_address"),
    ("busData", b.CPER_PCI_BUS_VALID_BUS_DATA, "bus_data"),
    ("busRequestorID", b.CPER_PCI_BUS_VALID_REQUESTOR_ID, "requestor_id"),
    ("busCompleterID", b.CPER_PCI_BUS_VALID_COMPLETER_ID, "responder_id"),
    ("targetID", b.CPER_PCI_BUS_VALID_TARGET_ID, "target_id"),
)


def to_ir(sec: b.CperSecPciBus) -> dict[str, Any]:
    v = sec.validation_bits
    d: dict[str, Any] = {}
    if v & b.CPER_PCI_BUS_VALID_ERROR_STATUS:
        d["errorStatus"] = error_status_to_ir(sec.error_status)
    if v & b.CPER_PCI_BUS_VALID_ERROR_TYPE:
        d["errorType"] = readable_pair(sec.type, PCI_BUS_ERROR_TYPES, "Unknown (Reserved)")
    if v & b.CPER_PCI_BUS_VALID_BUS_ID:
        d["busID"] = {"busNumber": sec.bus_number, "segmentNumber": sec.segment_number}
    if v & b.CPER_PCI_BUS_VALID_BUS_ADDRESS:
        d["busAddress"] = sec.bus_address
    if v & b.CPER_PCI_BUS_VALID_BUS_DATA:
        d["busData"] = sec.bus_data
    if v & b.CPER_PCI_BUS_VALID_COMMAND:
        d["busCommandType"] = "PCI-X" if sec.pcix else "PCI"
    if v & b.CPER_PCI_BUS_VALID_REQUESTOR_ID:
        d["busRequestorID"] = sec.requestor_id
        d["busRequestorIDHex"] = f"0x{sec.requestor_id:016X}"
    if v & b.CPER_PCI_BUS_VALID_COMPLETER_ID:
        d["busCompleterID"] = sec.responder_id
        d["busCompleterIDHex"] = f"0x{sec.responder_id:016X}"
    if v & b.CPER_PCI_BUS_VALID_TARGET_ID:
        d["targetID"] = sec.target_id
    return {"message": MESSAGE, "PciBus": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> b.CperSecPciBus:
    """ir_section_pci_bus_to_cper(): a bus command other than "PCI" is PCI-X (bit 56 only)."""
    path = "PciBus"
    d = get(obj, "PciBus", "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    v = 0
    f: dict[str, Any] = {}
    if "errorStatus" in d:
        f["error_status"] = error_status_from_ir(d["errorStatus"], f"{path}.errorStatus")
        v |= b.CPER_PCI_BUS_VALID_ERROR_STATUS
    if "errorType" in d:
        f["type"] = get_int(d["errorType"], "value", f"{path}.errorType", bits=16)
        v |= b.CPER_PCI_BUS_VALID_ERROR_TYPE
    if "busID" in d:
        bp = f"{path}.busID"
        f["bus_id"] = get_int(d["busID"], "busNumber", bp, bits=8) | get_int(d["busID"], "segmentNumber", bp, bits=8) << 8
        v |= b.CPER_PCI_BUS_VALID_BUS_ID
    if "busCommandType" in d:
        cmd = d["busCommandType"]
        if not isinstance(cmd, str):
            raise FormatError("expected a string", path=f"{path}.busCommandType")
        f["bus_command"] = 0 if cmd == "PCI" else b.CPER_PCI_BUS_COMMAND_PCIX
        v |= b.CPER_PCI_BUS_VALID_COMMAND
    for key, bit, field in _U64:
        if key in d:
            f[field] = get_int(d, key, path)
            v |= bit
    return b.CperSecPciBus(validation_bits=v, **f)
