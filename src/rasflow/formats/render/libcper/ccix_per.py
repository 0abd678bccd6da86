"""libcper's JSON for the CCIX PER log section (cper-section-ccix-per.c).

``length`` is always printed; the PER log is base64 of bytes 16 to ``length``
(left out when there are none). Reading back, libcper writes the header and
the decoded log, whatever ``length`` says.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...cper import ccix_per as c
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_int

MESSAGE = "A CCIX PER Log Error occurred"


def to_ir(sec: c.CperSecCcixPer) -> dict[str, Any]:
    h = sec.header
    v = h.validation_bits
    d: dict[str, Any] = {"length": h.length}
    if v & c.CPER_CCIX_VALID_SOURCE_ID:
        d["ccixSourceID"] = h.source_id
    if v & c.CPER_CCIX_VALID_PORT_ID:
        d["ccixPortID"] = h.port_id
    if v & c.CPER_CCIX_VALID_PER_LOG and sec.per_log:
        d["ccixPERLog"] = base64.b64encode(sec.per_log).decode()
    return {"message": MESSAGE, "CcixPer": d}


def from_ir(obj: dict[str, Any], guid: Guid) -> c.CperSecCcixPer:
    path = "CcixPer"
    d = get(obj, "CcixPer", "")
    length = get_int(d, "length", path, bits=32, default=0)
    v = 0
    f: dict[str, Any] = {}
    if "ccixSourceID" in d:
        f["source_id"] = get_int(d, "ccixSourceID", path, bits=8)
        v |= c.CPER_CCIX_VALID_SOURCE_ID
    if "ccixPortID" in d:
        f["port_id"] = get_int(d, "ccixPortID", path, bits=8)
        v |= c.CPER_CCIX_VALID_PORT_ID
    data = b""
    if "ccixPERLog" in d:
        text = d["ccixPERLog"]
        if not isinstance(text, str):
            raise FormatError("expected a base64 string", path=f"{path}.ccixPERLog")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise FormatError("not base64", path=f"{path}.ccixPERLog") from None
        v |= c.CPER_CCIX_VALID_PER_LOG
    header = c.CperSecCcixHeader(length=length, validation_bits=v, **f)
    split = max(length - c.CperSecCcixPer.SIZE, 0)
    return c.CperSecCcixPer(header, data[:split], data[split:])
