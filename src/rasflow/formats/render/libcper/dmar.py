"""libcper's JSON for the three DMAr sections (cper-section-dmar-generic.c, -vtd.c, -iommu.c)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...cper import dmar as m
from ...cper import guids as g
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_bool, get_int, readable_pair

# cper-section-dmar-generic.h (libcper's names; access and architecture differ from UEFI's)
FAULT_REASONS: dict[int, tuple[str, str]] = {
    0x1: ("DMT Entry Missing", "Domain mapping table entry is not present."),
    0x2: ("DMT Entry Invalid", "Invalid domain mapping table entry."),
    0x3: ("DMT Access Error", "DMAr unit's attempt to access the domain mapping table resulted in an error."),
    0x4: ("DMT Reserved Bit Invalid", "Reserved bit set to non-zero value in the domain mapping table."),
    0x5: ("DMA Address Out of Bounds", "DMA request to access an address beyond the device address width."),
    0x6: ("Invalid Read/Write", "Invalid read or write access."),
    0x7: ("Invalid Device Request", "Invalid device request."),
    0x8: ("ATT Access Error", "DMAr unit's attempt to access the address translation table resulted in an error."),
    0x9: ("ATT Reserved Bit Invalid", "Reserved bit set to non-zero value in the address translation table."),
    0xA: ("Illegal Command", "Illegal command error."),
    0xB: ("Command Buffer Access Error", "DMAr unit's attempt to access the command buffer resulted in an error."),
}
ACCESS_TYPES = {0: "DMA Write", 1: "DMA Read"}
ADDRESS_TYPES = {0: "Untranslated Request", 1: "Translation Request"}
ARCH_TYPES = {0: "VT-d", 1: "IOMMU"}
# cper-section-dmar-vtd.h
VTD_FAULT_RECORD_TYPES = {0: "Write Request", 1: "Read/AtomicOp Request"}
_RESERVED = "Unknown (Reserved)"

_PTES = tuple((f"pageTableEntry_Level{n}", f"pte_l{n}") for n in range(6, 0, -1))
# faultRecord key -> (field of the VT-d fault record register, boolean?)
_FAULT_RECORD = (
    ("faultInformation", "fi", False), ("sourceIdentifier", "sid", False),
    ("privelegeModeRequested", "priv", True), ("executePermissionRequested", "exe", True),
    ("pasidPresent", "pp", True), ("faultReason", "fr", False), ("pasidValue", "pv", False),
    ("addressType", "at", False),
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(d: dict[str, Any], key: str, path: str, size: int) -> bytes:
    """base64_decode into a fixed array: absent is zeros; longer than the array is an error."""
    if key not in d:
        return b"\0" * size
    v = d[key]
    try:
        raw = base64.b64decode(v, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise FormatError("not base64", path=f"{path}.{key}") from None
    if len(raw) > size:
        raise FormatError(f"{len(raw)} bytes do not fit in {size}", path=f"{path}.{key}")
    return raw.ljust(size, b"\0")


def _section(obj: Any, key: str) -> dict[str, Any]:
    d = get(obj, key, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=key)
    return d


def _pair(d: dict[str, Any], key: str, path: str, bits: int) -> int:
    v = d.get(key)
    return 0 if v is None else get_int(v, "value", f"{path}.{key}", bits=bits)


def generic_to_ir(sec: m.CperSecDmarGeneric) -> dict[str, Any]:
    reason: dict[str, Any] = {"value": sec.fault_reason}
    if sec.fault_reason in FAULT_REASONS:
        name, desc = FAULT_REASONS[sec.fault_reason]
        reason["description"] = desc
    else:
        name = _RESERVED
    reason["name"] = name
    d = {
        "requesterID": sec.requester_id,
        "segmentNumber": sec.segment_number,
        "faultReason": reason,
        "accessType": readable_pair(sec.access_type, ACCESS_TYPES, _RESERVED),
        "addressType": readable_pair(sec.address_type, ADDRESS_TYPES, _RESERVED),
        "architectureType": readable_pair(sec.arch_type, ARCH_TYPES, _RESERVED),
        "deviceAddress": sec.device_addr,
    }
    return {"message": "A DMAr Generic Error occurred", "GenericDmar": d}


def vtd_to_ir(sec: m.CperSecDmarVtd) -> dict[str, Any]:
    fr = sec.fault_record_decoded()
    record: dict[str, Any] = {key: bool(fr[field]) if flag else fr[field] for key, field, flag in _FAULT_RECORD}
    record["type"] = readable_pair(fr["t"], VTD_FAULT_RECORD_TYPES, "Unknown")
    d: dict[str, Any] = {
        "version": sec.version,
        "revision": sec.revision,
        "oemID": int.from_bytes(sec.oem_id, "little"),
        "capabilityRegister": sec.capability,
        "extendedCapabilityRegister": sec.extended_capability,
        "globalCommandRegister": sec.global_command,
        "globalStatusRegister": sec.global_status,
        "faultStatusRegister": sec.fault_status,
        "faultRecord": record,
        "rootEntry": _b64(sec.root_entry),
        "contextEntry": _b64(sec.context_entry),
    }
    for key, field in _PTES:
        d[key] = getattr(sec, field)
    return {"message": "A VT-d DMAr Error occurred", "VtdDmar": d}


def iommu_to_ir(sec: m.CperSecDmarIommu) -> dict[str, Any]:
    d: dict[str, Any] = {
        "revision": sec.revision,
        "controlRegister": sec.control,
        "statusRegister": sec.status,
        "eventLogEntry": _b64(sec.event_log_entry),
        "deviceTableEntry": _b64(sec.device_table_entry),
    }
    for key, field in _PTES:
        d[key] = getattr(sec, field)
    return {"message": "A IOMMU Specific DMAr Error occurred", "IommuDmar": d}


def to_ir(sec, **options) -> dict[str, Any]:
    if isinstance(sec, m.CperSecDmarVtd):
        return vtd_to_ir(sec)
    if isinstance(sec, m.CperSecDmarIommu):
        return iommu_to_ir(sec)
    return generic_to_ir(sec)


def generic_from_ir(obj: Any) -> m.CperSecDmarGeneric:
    p = "GenericDmar"
    d = _section(obj, p)
    return m.CperSecDmarGeneric(
        requester_id=get_int(d, "requesterID", p, bits=16, default=0),
        segment_number=get_int(d, "segmentNumber", p, bits=16, default=0),
        fault_reason=_pair(d, "faultReason", p, 8),
        access_type=_pair(d, "accessType", p, 8),
        address_type=_pair(d, "addressType", p, 8),
        arch_type=_pair(d, "architectureType", p, 8),
        device_addr=get_int(d, "deviceAddress", p, default=0),
    )


def vtd_from_ir(obj: Any) -> m.CperSecDmarVtd:
    p = "VtdDmar"
    d = _section(obj, p)
    fr = d.get("faultRecord", {})
    fp = f"{p}.faultRecord"
    fields: dict[str, int] = {}
    for key, field, flag in _FAULT_RECORD:
        if flag:
            fields[field] = int(get_bool(fr, key, fp, False))
        else:
            fields[field] = get_int(fr, key, fp, bits=m.VTD_FAULT_RECORD.by_name[field].width, default=0)
    fields["t"] = _pair(fr, "type", fp, 1)
    return m.CperSecDmarVtd(
        version=get_int(d, "version", p, bits=8, default=0),
        revision=get_int(d, "revision", p, bits=8, default=0),
        oem_id=get_int(d, "oemID", p, bits=48, default=0).to_bytes(6, "little"),
        capability=get_int(d, "capabilityRegister", p, default=0),
        extended_capability=get_int(d, "extendedCapabilityRegister", p, default=0),
        global_command=get_int(d, "globalCommandRegister", p, bits=32, default=0),
        global_status=get_int(d, "globalStatusRegister", p, bits=32, default=0),
        fault_status=get_int(d, "faultStatusRegister", p, bits=32, default=0),
        fault_record=m.VTD_FAULT_RECORD.encode(**fields).to_bytes(16, "little"),
        root_entry=_unb64(d, "rootEntry", p, 16),
        context_entry=_unb64(d, "contextEntry", p, 16),
        **{field: get_int(d, key, p, default=0) for key, field in _PTES},
    )


def iommu_from_ir(obj: Any) -> m.CperSecDmarIommu:
    p = "IommuDmar"
    d = _section(obj, p)
    return m.CperSecDmarIommu(
        revision=get_int(d, "revision", p, bits=8, default=0),
        control=get_int(d, "controlRegister", p, default=0),
        status=get_int(d, "statusRegister", p, default=0),
        event_log_entry=_unb64(d, "eventLogEntry", p, 16),
        device_table_entry=_unb64(d, "deviceTableEntry", p, 32),
        **{field: get_int(d, key, p, default=0) for key, field in _PTES},
    )


def from_ir(obj: dict[str, Any], guid: Guid):
    """The DMAr section for ``guid`` from libcper's JSON."""
    if guid == g.CPER_SEC_DMAR_VTD:
        return vtd_from_ir(obj)
    if guid == g.CPER_SEC_DMAR_IOMMU:
        return iommu_from_ir(obj)
    return generic_from_ir(obj)
