"""libcper's JSON for the six CXL Component Event sections (cper-section-cxl-component.c).

libcper sizes the event log by the header's ``length`` (not the section's), and
refuses a section whose ``length`` is below the header or beyond the section:
it then prints the whole section as base64 ``Unknown`` data, as here.
"""

from __future__ import annotations

import base64
from typing import Any

from ...cper import cxl_component as cc
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_int

# (JSON key, field, width in bits) of deviceID, slotNumber apart
_DEVICE_ID = (
    ("vendorID", "vendor_id", 16), ("deviceID", "device_id", 16), ("functionNumber", "func_num", 8),
    ("deviceNumber", "device_num", 8), ("busNumber", "bus_num", 8), ("segmentNumber", "segment_num", 16),
)


def to_ir(sec: cc.CperSecCxlComponent) -> dict[str, Any]:
    h = sec.hdr
    if not cc.CxlCperEventHdr.SIZE <= h.length <= sec.nbytes:
        return {"Unknown": {"data": base64.b64encode(sec.encode()).decode()}}
    d: dict[str, Any] = {"length": h.length}
    v = h.validation_bits
    if v & cc.CPER_CXL_DEVICE_ID_VALID:
        dev = {key: getattr(h, field) for key, field, _ in _DEVICE_ID}
        dev["slotNumber"] = h.slot_number
        d["deviceID"] = dev
    if v & cc.CPER_CXL_DEVICE_SN_VALID:
        d["deviceSerial"] = h.dev_serial_num
    log = sec.event_log[: h.length - cc.CxlCperEventHdr.SIZE]
    if v & cc.CPER_CXL_COMP_EVENT_LOG_VALID and log:
        d["cxlComponentEventLog"] = {"data": base64.b64encode(log).decode()}
    return {"message": "A CXL Component Error occurred", "CxlComponent": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> cc.CperSecCxlComponent:
    p = "CxlComponent"
    d = get(obj, p, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    v = 0
    f: dict[str, Any] = {"length": get_int(d, "length", p, bits=32, default=0)}
    if "deviceID" in d:
        dev, dp = d["deviceID"], f"{p}.deviceID"
        for key, field, width in _DEVICE_ID:
            f[field] = get_int(dev, key, dp, bits=width, default=0)
        f["slot_num"] = get_int(dev, "slotNumber", dp, bits=13, default=0) << cc.CPER_PCIE_SLOT_SHIFT
        v |= cc.CPER_CXL_DEVICE_ID_VALID
    if "deviceSerial" in d:
        f["dev_serial_num"] = get_int(d, "deviceSerial", p)
        v |= cc.CPER_CXL_DEVICE_SN_VALID
    log = b""
    if "cxlComponentEventLog" in d:
        lp = f"{p}.cxlComponentEventLog"
        try:
            log = base64.b64decode(get(d["cxlComponentEventLog"], "data", lp), validate=True)
        except (ValueError, TypeError):
            raise FormatError("not base64", path=f"{lp}.data") from None
        v |= cc.CPER_CXL_COMP_EVENT_LOG_VALID
    return cc.CperSecCxlComponent(guid, cc.CxlCperEventHdr(validation_bits=v, **f), log)
