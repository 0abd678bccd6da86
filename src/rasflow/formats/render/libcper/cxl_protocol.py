"""libcper's JSON for the CXL Protocol Error section (cper-section-cxl-protocol.c).

libcper reads the agent type as a 64-bit value (agent_type and the 7 reserved
bytes after it) and prints the agent address and serial number only for its
two CXL 1.1 agent types. Reading JSON back, three departures from libcper's
ir_to_cper keep JSON -> bytes -> JSON stable where libcper's own is not:
- with no ``agentType`` the agent type is taken from the address form
  (``value``: host downstream port, else device) and its validation bit stays clear;
- ``deviceID`` sets validation bit 2 only when it holds more than ``vendorID``
  (libcper always prints ``vendorID``);
- ``capabilityStructure`` is read for every agent type (libcper prints it for
  every type but reads it back only for CXL 1.1 devices).
"""

from __future__ import annotations

import base64
from typing import Any

from ...cper import cxl_protocol as c
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_int, readable_pair

# CXL_PROTOCOL_ERROR_AGENT_TYPES_KEYS/VALUES
AGENT_TYPES = {0: "CXL 1.1 Device", 1: "CXL 1.1 Host Downstream Port"}
CXL_PROTOCOL_ERROR_DEVICE_AGENT = 0
CXL_PROTOCOL_ERROR_HOST_DOWNSTREAM_PORT_AGENT = 1

_DEVICE_ID = (
    ("deviceID", "device_id"), ("subsystemVendorID", "subsystem_vendor_id"),
    ("subsystemDeviceID", "subsystem_id"), ("classCode", "class_code"),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def to_ir(sec: c.CperSecCxlProtErr) -> dict[str, Any]:
    h = sec.hdr
    v = h.valid_bits
    agent = h.agent_type | int.from_bytes(h.reserved, "little") << 8
    d: dict[str, Any] = {}
    if v & c.PROT_ERR_VALID_AGENT_TYPE:
        d["agentType"] = readable_pair(agent, AGENT_TYPES, "Unknown (Reserved)")
    if v & c.PROT_ERR_VALID_AGENT_ADDRESS:
        if agent == CXL_PROTOCOL_ERROR_DEVICE_AGENT:
            d["cxlAgentAddress"] = {"functionNumber": h.function, "deviceNumber": h.device,
                                    "busNumber": h.bus, "segmentNumber": h.segment}
        elif agent == CXL_PROTOCOL_ERROR_HOST_DOWNSTREAM_PORT_AGENT:
            d["cxlAgentAddress"] = {"value": h.rcrb_base_addr}
    dev: dict[str, Any] = {"vendorID": h.vendor_id}
    if v & c.PROT_ERR_VALID_DEVICE_ID:
        for key, field in _DEVICE_ID:
            dev[key] = getattr(h, field)
        dev["slotNumber"] = h.slot_number
    d["deviceID"] = dev
    if v & c.PROT_ERR_VALID_SERIAL_NUMBER and agent == CXL_PROTOCOL_ERROR_DEVICE_AGENT:
        d["deviceSerial"] = h.dev_serial_num
    if v & c.PROT_ERR_VALID_CAPABILITY:
        d["capabilityStructure"] = _b64(h.capability)
    if v & c.PROT_ERR_VALID_DVSEC:
        d["dvsecLength"] = h.dvsec_len
        d["cxlDVSEC"] = _b64(sec.dvsec)
    if v & c.PROT_ERR_VALID_ERROR_LOG:
        d["errorLogLength"] = h.err_len
        d["cxlErrorLog"] = _b64(sec.err_log)
    return {"message": "A CXL Protocol Error occurred", "CxlProtocol": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> c.CperSecCxlProtErr:
    p = "CxlProtocol"
    d = get(obj, p, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    v = 0
    f: dict[str, Any] = {}
    address = d.get("cxlAgentAddress")
    if address is not None and not isinstance(address, dict):
        raise FormatError("expected an object", path=f"{p}.cxlAgentAddress")
    if "agentType" in d:
        agent = get_int(d["agentType"], "value", f"{p}.agentType")
        v |= c.PROT_ERR_VALID_AGENT_TYPE
    elif address is not None and "value" in address:
        agent = CXL_PROTOCOL_ERROR_HOST_DOWNSTREAM_PORT_AGENT
    else:
        agent = CXL_PROTOCOL_ERROR_DEVICE_AGENT
    f["agent_type"] = agent & 0xFF
    f["reserved"] = (agent >> 8).to_bytes(7, "little")
    if address is not None:
        ap = f"{p}.cxlAgentAddress"
        if agent == CXL_PROTOCOL_ERROR_DEVICE_AGENT:
            f["agent_addr"] = (get_int(address, "functionNumber", ap, bits=8, default=0)
                               | get_int(address, "deviceNumber", ap, bits=8, default=0) << 8
                               | get_int(address, "busNumber", ap, bits=8, default=0) << 16
                               | get_int(address, "segmentNumber", ap, bits=16, default=0) << 24)
        elif agent == CXL_PROTOCOL_ERROR_HOST_DOWNSTREAM_PORT_AGENT:
            f["agent_addr"] = get_int(address, "value", ap, default=0)
        v |= c.PROT_ERR_VALID_AGENT_ADDRESS
    if "deviceID" in d:
        dev, dp = d["deviceID"], f"{p}.deviceID"
        f["vendor_id"] = get_int(dev, "vendorID", dp, bits=16, default=0)
        for key, field in _DEVICE_ID:
            f[field] = get_int(dev, key, dp, bits=16, default=0)
        f["slot"] = get_int(dev, "slotNumber", dp, bits=13, default=0) << c.CPER_PCIE_SLOT_SHIFT
        if any(key in dev for key, _ in _DEVICE_ID) or "slotNumber" in dev:
            v |= c.PROT_ERR_VALID_DEVICE_ID
    if "deviceSerial" in d and agent == CXL_PROTOCOL_ERROR_DEVICE_AGENT:
        serial = get_int(d, "deviceSerial", p)
        f["lower_dw"], f["upper_dw"] = serial & 0xFFFFFFFF, serial >> 32
        v |= c.PROT_ERR_VALID_SERIAL_NUMBER
    if "capabilityStructure" in d:
        cap = _unb64(d, "capabilityStructure", p)
        if len(cap) > c.CXL_CAP_LEN:
            raise FormatError(f"{len(cap)} bytes, the capability structure is {c.CXL_CAP_LEN}",
                              path=f"{p}.capabilityStructure")
        f["capability"] = cap.ljust(c.CXL_CAP_LEN, b"\0")
        v |= c.PROT_ERR_VALID_CAPABILITY
    f["dvsec_len"] = get_int(d, "dvsecLength", p, bits=16, default=0)
    f["err_len"] = get_int(d, "errorLogLength", p, bits=16, default=0)
    body = b""
    if "cxlDVSEC" in d:
        body += _unb64(d, "cxlDVSEC", p)
        v |= c.PROT_ERR_VALID_DVSEC
    if "cxlErrorLog" in d:
        body += _unb64(d, "cxlErrorLog", p)
        v |= c.PROT_ERR_VALID_ERROR_LOG
    # What libcper's ir_to_cper writes: the fixed part, then the decoded DVSEC and log as given.
    data = c.CperSecProtErrHdr(valid_bits=v, **f).encode() + body
    try:
        return c.CperSecCxlProtErr.decode(data, 0, len(data))
    except FormatError as e:
        key = "dvsecLength" if e.path == "dvsec_len" else "errorLogLength"
        raise FormatError(f"{e.message} (the JSON's DVSEC and error log give {len(body)} bytes)",
                          path=f"{p}.{key}") from None


def _unb64(d: dict[str, Any], key: str, path: str) -> bytes:
    v = d[key]
    try:
        return base64.b64decode(v, validate=True)
    except (ValueError, TypeError):
        raise FormatError("not base64", path=f"{path}.{key}") from None
