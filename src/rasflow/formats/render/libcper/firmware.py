"""libcper's JSON for the Firmware Error Record Reference section (cper-section-firmware.c)."""

from __future__ import annotations

import base64
from typing import Any

from ...cper import firmware as f
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_guid, get_int, readable_pair

# cper-section-firmware.h FIRMWARE_ERROR_RECORD_TYPES_VALUES
RECORD_TYPES = {0: "IPF SAL Error Record", 1: "SOC Firmware Error Record (Type1 Legacy)",
                2: "SOC Firmware Error Record (Type2)"}


def to_ir(sec: f.CperSecFwErrRecRef, **options) -> dict[str, Any]:
    if sec.record_identifier_guid is None:
        # below sizeof(EFI_FIRMWARE_ERROR_DATA) libcper's to_ir fails and it keeps the bytes
        return {"Unknown": {"data": base64.b64encode(sec.encode()).decode()}}
    d = {
        "errorRecordType": readable_pair(sec.record_type, RECORD_TYPES, "Unknown (Reserved)"),
        "revision": sec.revision,
        "recordID": sec.record_identifier,
        "recordIDGUID": str(sec.record_identifier_guid),
    }
    return {"message": "A Firmware Error occurred", "Firmware": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> f.CperSecFwErrRecRef:
    path = "Firmware"
    d = get(obj, path, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    rtype = d.get("errorRecordType")
    return f.CperSecFwErrRecRef(
        record_type=0 if rtype is None else get_int(rtype, "value", f"{path}.errorRecordType", bits=8),
        revision=get_int(d, "revision", path, bits=8, default=0),
        record_identifier=get_int(d, "recordID", path, default=0),
        record_identifier_guid=get_guid(d, "recordIDGUID", path, default=True),
    )
