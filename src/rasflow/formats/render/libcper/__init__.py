"""libcper's JSON IR (openbmc/libcper), both directions.

The record-level mapping follows cper-parse.c (cper_header_to_ir,
cper_section_descriptor_to_ir) and ir-parse.c; each section's mapping lives in
a module of its own here with ``to_ir(section) -> dict`` (the whole
``{"message": ..., ShortName: {...}}`` object) and ``from_ir(obj, guid) -> section``.
libcper leaves out fields whose validation bit is off; reading its JSON back,
those fields are zero, as in libcper's own ir_to_cper.
"""

from __future__ import annotations

import base64
from importlib import import_module
from typing import Any

from ...cper import guids as g
from ...cper.estatus import Estatus
from ...cper.names import SEVERITY_LIBCPER
from ...cper.record import (
    CPER_SIG_END,
    CPER_SIG_RECORD,
    CperRecord,
    CperRecordHeader,
    CperSectionDescriptor,
    RecordSection,
)
from ...cper.sections import RawSection
from ...errors import FormatError
from ...layout import Guid
from .common import (
    MAX_FILL,
    get,
    get_guid,
    get_int,
    revision_from_ir,
    revision_to_ir,
    timestamp_from_ir,
    timestamp_to_ir,
    untrusted_string,
)

# GUID -> (readable name, ShortName key, module here or None for libcper's base64 "Unknown")
LIBCPER_SECTIONS: dict[bytes, tuple[str, str, str | None]] = {
    g.CPER_SEC_PROC_GENERIC: ("Processor Generic", "GenericProcessor", "proc_generic"),
    g.CPER_SEC_PROC_IA: ("IA32/X64", "Ia32x64Processor", "ia32x64"),
    g.CPER_SEC_PROC_IPF: ("IPF", "Ipf", None),
    g.CPER_SEC_PROC_ARM: ("ARM", "ArmProcessor", "arm"),
    g.CPER_SEC_ARM_RAS: ("ARM RAS", "ArmRas", "arm_ras"),
    g.CPER_SEC_PLATFORM_MEM: ("Platform Memory", "Memory", "memory"),
    g.CPER_SEC_PLATFORM_MEM2: ("Platform Memory 2", "Memory2", "memory2"),
    g.CPER_SEC_PCIE: ("PCIe", "Pcie", "pcie"),
    g.CPER_SEC_FW_ERR_REC_REF: ("Firmware Error Record Reference", "Firmware", "firmware"),
    g.CPER_SEC_PCI_X_BUS: ("PCI/PCI-X Bus", "PciBus", "pci_bus"),
    g.CPER_SEC_PCI_DEV: ("PCI Component/Device", "PciComponent", "pci_dev"),
    g.CPER_SEC_DMAR_GENERIC: ("DMAr Generic", "GenericDmar", "dmar"),
    g.CPER_SEC_DMAR_VTD: ("Intel VT for Directed I/O Specific DMAr", "VtdDmar", "dmar"),
    g.CPER_SEC_DMAR_IOMMU: ("IOMMU Specific DMAr", "IommuDmar", "dmar"),
    g.CPER_SEC_CCIX_PER: ("CCIX PER Log Error", "CcixPer", "ccix_per"),
    g.CPER_SEC_CXL_PROT_ERR: ("CXL Protocol Error", "CxlProtocol", "cxl_protocol"),
    g.CPER_SEC_CXL_GEN_MEDIA: ("CXL General Media Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_CXL_DRAM: ("CXL DRAM Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_CXL_MEM_MODULE: ("CXL Memory Module Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_CXL_PHYS_SWITCH: ("CXL Physical Switch Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_CXL_VIRT_SWITCH: ("CXL Virtual Switch Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_CXL_MLD_PORT: ("CXL MLD Port Component Error", "CxlComponent", "cxl_component"),
    g.CPER_SEC_NVIDIA: ("NVIDIA", "Nvidia", "nvidia"),
    g.CPER_SEC_NVIDIA_EVENT: ("NvidiaEvent", "NvidiaEvent", "nvidia"),
}

# cper-parse.c readable_names[] for the notification types
NOTIFY_LIBCPER = g.NOTIFY_NAMES
# CPER_HEADER_FLAG_TYPES_KEYS/VALUES
HEADER_FLAGS = {1: "HW_ERROR_FLAGS_RECOVERED", 2: "HW_ERROR_FLAGS_PREVERR", 4: "HW_ERROR_FLAGS_SIMULATED"}
# CPER_SECTION_DESCRIPTOR_FLAGS_BITFIELD_NAMES
DESCRIPTOR_FLAGS = (
    "primary", "containmentWarning", "reset", "errorThresholdExceeded",
    "resourceNotAccessible", "latentError", "propagated", "overflow",
)


def _module(guid: bytes):
    entry = LIBCPER_SECTIONS.get(guid)
    if entry is None or entry[2] is None:
        return None
    return import_module(f"{__package__}.{entry[2]}")


def _severity(v: int) -> dict[str, Any]:
    return {"code": v, "name": SEVERITY_LIBCPER.get(v, "Unknown")}


def header_to_ir(h: CperRecordHeader) -> dict[str, Any]:
    d: dict[str, Any] = {
        "revision": revision_to_ir(h.revision),
        "sectionCount": h.section_count,
        "severity": _severity(h.error_severity),
        "recordLength": h.record_length,
    }
    if h.validation_bits & 0x2:
        ts = timestamp_to_ir(h.timestamp)
        if ts is not None:
            d["timestamp"] = ts
            d["timestampIsPrecise"] = bool(h.timestamp >> 24 & 1)
    if h.validation_bits & 0x1:
        d["platformID"] = str(h.platform_id)
    if h.validation_bits & 0x4:
        d["partitionID"] = str(h.partition_id)
    d["creatorID"] = str(h.creator_id)
    d["notificationType"] = {"guid": str(h.notification_type), "type": NOTIFY_LIBCPER.get(h.notification_type, "Unknown")}
    d["recordID"] = h.record_id
    d["flags"] = {"value": h.flags, "name": HEADER_FLAGS.get(h.flags, "Unknown")}
    d["persistenceInfo"] = h.persistence_information
    return d


def descriptor_to_ir(sd: CperSectionDescriptor) -> dict[str, Any]:
    d: dict[str, Any] = {
        "sectionOffset": sd.section_offset,
        "sectionLength": sd.section_length,
        "revision": revision_to_ir(sd.revision),
        "flags": {name: bool(sd.flags >> i & 1) for i, name in enumerate(DESCRIPTOR_FLAGS)},
        "sectionType": {
            "data": str(sd.section_type),
            "type": LIBCPER_SECTIONS.get(sd.section_type, ("Unknown",))[0],
        },
    }
    if sd.validation_bits & 0x1:
        d["fruID"] = str(sd.fru_id)
    if sd.validation_bits & 0x2:
        text = untrusted_string(sd.fru_text)
        if text is not None:
            d["fruText"] = text
    d["severity"] = _severity(sd.section_severity)
    return d


def section_to_ir(body, guid: bytes, **options) -> dict[str, Any]:
    mod = _module(guid)
    if mod is None or isinstance(body, RawSection):
        return {"Unknown": {"data": base64.b64encode(body.encode()).decode()}}
    return mod.to_ir(body, **options)


def to_libcper(obj: CperRecord | Estatus, *, arm_type_names: str = "libcper") -> dict[str, Any]:
    if isinstance(obj, Estatus):
        from ...cper import estatus_to_record

        obj = estatus_to_record(obj)
    return {
        "header": header_to_ir(obj.header),
        "sectionDescriptors": [descriptor_to_ir(s.descriptor) for s in obj.sections],
        "sections": [
            section_to_ir(s.body, s.descriptor.section_type, arm_type_names=arm_type_names)
            if s.descriptor.section_type == g.CPER_SEC_PROC_ARM
            else section_to_ir(s.body, s.descriptor.section_type)
            for s in obj.sections
        ],
    }


def header_from_ir(d: Any) -> CperRecordHeader:
    p = "header"
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    vb = 0
    ts = 0
    if "timestamp" in d:
        vb |= 0x2
        ts = timestamp_from_ir(d["timestamp"], bool(d.get("timestampIsPrecise", False)), path=f"{p}.timestamp")
    if "platformID" in d:
        vb |= 0x1
    if "partitionID" in d:
        vb |= 0x4
    return CperRecordHeader(
        signature=CPER_SIG_RECORD,
        revision=revision_from_ir(get(d, "revision", p), path=f"{p}.revision"),
        signature_end=CPER_SIG_END,
        section_count=get_int(d, "sectionCount", p, bits=16),
        error_severity=get_int(get(d, "severity", p), "code", f"{p}.severity", bits=32),
        validation_bits=vb,
        record_length=get_int(d, "recordLength", p, bits=32),
        timestamp=ts,
        platform_id=get_guid(d, "platformID", p, default=True),
        partition_id=get_guid(d, "partitionID", p, default=True),
        creator_id=get_guid(d, "creatorID", p, default=True),
        notification_type=get_guid(get(d, "notificationType", p), "guid", f"{p}.notificationType"),
        record_id=get_int(d, "recordID", p, bits=64),
        flags=get_int(get(d, "flags", p), "value", f"{p}.flags", bits=32),
        persistence_information=get_int(d, "persistenceInfo", p, bits=64, default=0),
    )


def descriptor_from_ir(d: Any, path: str) -> CperSectionDescriptor:
    flags_ir = get(d, "flags", path)
    if not isinstance(flags_ir, dict):
        raise FormatError("expected an object", path=f"{path}.flags")
    flags = sum(1 << i for i, name in enumerate(DESCRIPTOR_FLAGS) if flags_ir.get(name))
    vb = (0x1 if "fruID" in d else 0) | (0x2 if "fruText" in d else 0)
    text = d.get("fruText", "")
    if not isinstance(text, str):
        raise FormatError("expected a string", path=f"{path}.fruText")
    return CperSectionDescriptor(
        section_offset=get_int(d, "sectionOffset", path, bits=32),
        section_length=get_int(d, "sectionLength", path, bits=32),
        revision=revision_from_ir(get(d, "revision", path), path=f"{path}.revision"),
        validation_bits=vb,
        flags=flags,
        section_type=get_guid(get(d, "sectionType", path), "data", f"{path}.sectionType"),
        fru_id=get_guid(d, "fruID", path, default=True),
        section_severity=get_int(get(d, "severity", path), "code", f"{path}.severity", bits=32),
        fru_text=text.encode("latin-1", "replace")[:20].ljust(20, b"\0"),
    )


def section_from_ir(d: Any, guid: Guid, path: str):
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    if "Unknown" in d:
        try:
            data = base64.b64decode(get(d["Unknown"], "data", f"{path}.Unknown"), validate=True)
        except (ValueError, TypeError):
            raise FormatError("not base64", path=f"{path}.Unknown.data") from None
        return RawSection(guid, data)
    mod = _module(guid)
    if mod is None:
        raise FormatError(f"libcper section for {guid} is not one rasflow reads", path=path)
    try:
        return mod.from_ir(d, guid)
    except FormatError as e:
        raise e.within(path) from None


def from_libcper(d: Any) -> CperRecord:
    """A record from libcper JSON; offsets and lengths come from the descriptors as given."""
    if not isinstance(d, dict):
        raise FormatError("expected a libcper JSON object")
    header = header_from_ir(get(d, "header", ""))
    descs = get(d, "sectionDescriptors", "")
    secs = get(d, "sections", "")
    if not isinstance(descs, list) or not isinstance(secs, list) or len(descs) != len(secs):
        raise FormatError("sectionDescriptors and sections must be lists of the same length", path="sections")
    sections = []
    for i, (dd, sd) in enumerate(zip(descs, secs, strict=True)):
        desc = descriptor_from_ir(dd, f"sectionDescriptors[{i}]")
        body = section_from_ir(sd, desc.section_type, f"sections[{i}]")
        sections.append(RecordSection(desc, body))
    rec = CperRecord(header, tuple(sections))
    # Lengths in the JSON are kept as given. Where the sections libcper described take
    # less than recordLength (fields it left out), the record is zero-filled to that
    # length, so that it reads back as the record the JSON describes.
    short = header.record_length - rec.nbytes
    if short > MAX_FILL:  # never memory sized by the input's claim
        raise FormatError(f"recordLength {header.record_length} is {short} bytes more than the "
                          f"sections described take; at most {MAX_FILL} are filled",
                          path="header.recordLength")
    if short > 0:
        rec = rec._replace(extra=((rec.nbytes, bytes(short)),))
    return rec
