"""Section-type dispatch: GUID -> codec class, and the raw section for everything else.

The table is one literal dict, like ghes_do_proc's guid_equal chain; codec
modules are imported on first use so that `rasflow decode` of a memory record
does not load the IA32 register tables.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, NamedTuple

from ..errors import FormatError
from ..layout import Guid
from . import guids as g

# GUID -> (module in rasflow.formats.cper, class name, short name used in our JSON)
SECTION_TYPES: dict[bytes, tuple[str, str, str]] = {
    g.CPER_SEC_PROC_GENERIC: ("proc_generic", "CperSecProcGeneric", "proc_generic"),
    g.CPER_SEC_PROC_IA: ("ia32x64", "CperSecProcIa", "ia32x64"),
    g.CPER_SEC_PROC_ARM: ("arm", "CperSecProcArm", "arm"),
    g.CPER_SEC_ARM_RAS: ("arm_ras", "CperSecArmRas", "arm_ras"),
    g.CPER_SEC_PLATFORM_MEM: ("memory", "CperSecMemErr", "memory"),
    g.CPER_SEC_PLATFORM_MEM2: ("memory2", "CperSecMemErr2", "memory2"),
    g.CPER_SEC_PCIE: ("pcie", "CperSecPcie", "pcie"),
    g.CPER_SEC_PCI_X_BUS: ("pci_bus", "CperSecPciBus", "pci_bus"),
    g.CPER_SEC_PCI_DEV: ("pci_dev", "CperSecPciDev", "pci_dev"),
    g.CPER_SEC_FW_ERR_REC_REF: ("firmware", "CperSecFwErrRecRef", "firmware"),
    g.CPER_SEC_DMAR_GENERIC: ("dmar", "CperSecDmarGeneric", "dmar_generic"),
    g.CPER_SEC_DMAR_VTD: ("dmar", "CperSecDmarVtd", "dmar_vtd"),
    g.CPER_SEC_DMAR_IOMMU: ("dmar", "CperSecDmarIommu", "dmar_iommu"),
    g.CPER_SEC_CCIX_PER: ("ccix_per", "CperSecCcixPer", "ccix_per"),
    g.CPER_SEC_CXL_PROT_ERR: ("cxl_protocol", "CperSecCxlProtErr", "cxl_protocol"),
    g.CPER_SEC_CXL_GEN_MEDIA: ("cxl_component", "CperSecCxlComponent", "cxl_general_media"),
    g.CPER_SEC_CXL_DRAM: ("cxl_component", "CperSecCxlComponent", "cxl_dram"),
    g.CPER_SEC_CXL_MEM_MODULE: ("cxl_component", "CperSecCxlComponent", "cxl_memory_module"),
    g.CPER_SEC_CXL_PHYS_SWITCH: ("cxl_component", "CperSecCxlComponent", "cxl_physical_switch"),
    g.CPER_SEC_CXL_VIRT_SWITCH: ("cxl_component", "CperSecCxlComponent", "cxl_virtual_switch"),
    g.CPER_SEC_CXL_MLD_PORT: ("cxl_component", "CperSecCxlComponent", "cxl_mld_port"),
    g.CPER_SEC_NVIDIA: ("nvidia", "CperSecNvidia", "nvidia"),
    g.CPER_SEC_NVIDIA_EVENT: ("nvidia_event", "CperSecNvidiaEvent", "nvidia_event"),
}

_SHORT_TO_GUID = {short: guid for guid, (_, _, short) in SECTION_TYPES.items()}
_classes: dict[bytes, type] = {}
# GUID -> (codec class, its fixed size, whether its decode takes the GUID), for decode_section
_decoders: dict[bytes, tuple[type, int, bool]] = {}


class RawSection(NamedTuple):
    """A section kept as its bytes: an unknown GUID, or (lenient) one too malformed to decode.

    ``problem`` says why a known type was kept raw; it is empty for unknown GUIDs,
    which are not an error (ghes.c sends them to ghes_defer_non_standard_event).
    """

    guid: Guid
    data: bytes
    problem: str = ""

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def encode(self) -> bytes:
        return self.data

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"raw": self.data.hex()}
        if self.problem:
            d["problem"] = self.problem
        return d

    def check(self) -> list[str]:
        return [self.problem] if self.problem else []


def section_class(guid: bytes) -> type | None:
    """The codec class for a section GUID, or None for a GUID we do not decode."""
    cls = _classes.get(guid)
    if cls is None:
        entry = SECTION_TYPES.get(guid)
        if entry is None:
            return None
        cls = getattr(import_module(f"{__package__}.{entry[0]}"), entry[1])
        _classes[guid] = cls
    return cls


def short_name(guid: bytes) -> str:
    """Our JSON's short name for a section type ("memory", "arm", ...) or "unknown"."""
    entry = SECTION_TYPES.get(guid)
    return entry[2] if entry else "unknown"


def guid_for_short_name(name: str) -> Guid | None:
    return _SHORT_TO_GUID.get(name)


def decode_section(guid: Guid, buf, off: int, length: int, *, lenient: bool = False):
    """Decode ``length`` bytes at ``off`` as a section of type ``guid``.

    Unknown GUIDs give a RawSection. A known type that cannot be decoded raises
    FormatError, or with ``lenient`` becomes a RawSection that says why.
    """
    decoder = _decoders.get(guid)
    if decoder is None:
        cls = section_class(guid)
        if cls is None:
            return RawSection(guid, bytes(buf[off : off + length]))
        decoder = _decoders[guid] = (cls, getattr(cls, "SIZE", 0), getattr(cls, "_guid_in_object", False))
    cls, minimum, guid_in_object = decoder
    try:
        if length < minimum:
            raise FormatError(
                f"section length {length} is smaller than {cls.__name__} ({minimum} bytes)",
                offset=off,
            )
        if guid_in_object:
            return cls.decode(buf, off, length, guid=guid)
        return cls.decode(buf, off, length)
    except FormatError as e:
        if not lenient:
            raise
        return RawSection(guid, bytes(buf[off : off + length]), str(e))


def section_from_dict(guid: Guid, d: Any, *, path: str = ""):
    """Inverse of a section's to_dict (``{"raw": hex}`` gives a RawSection)."""
    if isinstance(d, dict) and "raw" in d:
        try:
            data = bytes.fromhex(d["raw"])
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path=f"{path}.raw") from None
        return RawSection(guid, data, d.get("problem", ""))
    cls = section_class(guid)
    if cls is None:
        raise FormatError(f"section type {guid} is not decoded by rasflow; give it as {{'raw': hex}}", path=path)
    if getattr(cls, "_guid_in_object", False):
        return cls.from_dict(d, path=path, guid=guid)
    return cls.from_dict(d, path=path)


def section_guid(section) -> Guid:
    """The section-type GUID a decoded section belongs under."""
    guid = getattr(section, "guid", None)
    if isinstance(guid, Guid):
        return guid
    return section.GUID
