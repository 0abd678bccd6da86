"""DMAr sections (UEFI N.2.11.1-3): generic, Intel VT-d specific and IOMMU specific.

Linux has no structs for these (it prints them as unknown sections); the field
names follow the UEFI tables, snake_cased. Name tables are UEFI's, which differ
from libcper's for access and architecture type (libcper's live in its renderer).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..arm.register import Register, RegValue
from ..layout import Bytes, Guid, Names, Tail, layout, u8, u16, u32, u64
from .guids import CPER_SEC_DMAR_GENERIC, CPER_SEC_DMAR_IOMMU, CPER_SEC_DMAR_VTD

# UEFI Table N-34 (DMAr Generic Error Section)
DMAR_FAULT_REASON = {
    0x01: "domain mapping table entry is not present",
    0x02: "invalid domain mapping table entry",
    0x03: "error accessing the domain mapping table",
    0x04: "reserved bit set in the domain mapping table",
    0x05: "address beyond the device address width",
    0x06: "invalid read or write access",
    0x07: "invalid device request",
    0x08: "error accessing the address translation table",
    0x09: "reserved bit set in the address translation table",
    0x0A: "illegal command",
    0x0B: "error accessing the command buffer",
}
DMAR_ACCESS_TYPE = {0: "read", 1: "write"}
DMAR_ADDRESS_TYPE = {0: "untranslated request", 1: "translation request"}
DMAR_ARCH_TYPE = {1: "VT-d", 2: "IOMMU"}


@layout
class CperSecDmarGeneric:
    """DMAr Generic Error Section, 32 bytes; bytes past them are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_DMAR_GENERIC

    requester_id: u16
    segment_number: u16
    fault_reason: Annotated[u8, Names(DMAR_FAULT_REASON)]
    access_type: Annotated[u8, Names(DMAR_ACCESS_TYPE)]
    address_type: Annotated[u8, Names(DMAR_ADDRESS_TYPE)]
    arch_type: Annotated[u8, Names(DMAR_ARCH_TYPE)]
    device_addr: u64
    reserved: Bytes[16]
    tail: Tail


# VT-d fault recording register (Intel VT-d spec 11.4.14), 128 bits
VTD_FAULT_RECORD = Register("vtd_fault_record", [
    ("fi", 63, 12), ("sid", 79, 64), ("priv", 93, 93), ("exe", 94, 94), ("pp", 95, 95),
    ("fr", 103, 96), ("pv", 123, 104), ("at", 125, 124), ("t", 126, 126, {0: "write", 1: "read"}),
], width=128)


@layout
class CperSecDmarVtd:
    """Intel VT for Directed I/O specific DMAr Error Section, 144 bytes."""

    GUID: ClassVar[Guid] = CPER_SEC_DMAR_VTD

    version: u8
    revision: u8
    oem_id: Bytes[6]
    capability: u64
    extended_capability: u64
    global_command: u32
    global_status: u32
    fault_status: u32
    reserved: Bytes[12]
    fault_record: Bytes[16]
    root_entry: Bytes[16]
    context_entry: Bytes[16]
    pte_l6: u64
    pte_l5: u64
    pte_l4: u64
    pte_l3: u64
    pte_l2: u64
    pte_l1: u64
    tail: Tail

    def fault_record_decoded(self) -> RegValue:
        return VTD_FAULT_RECORD.decode(int.from_bytes(self.fault_record, "little"))


@layout
class CperSecDmarIommu:
    """IOMMU specific DMAr Error Section, 144 bytes."""

    GUID: ClassVar[Guid] = CPER_SEC_DMAR_IOMMU

    revision: u8
    reserved: Bytes[7]
    control: u64
    status: u64
    reserved2: Bytes[8]
    event_log_entry: Bytes[16]
    reserved3: Bytes[16]
    device_table_entry: Bytes[32]
    pte_l6: u64
    pte_l5: u64
    pte_l4: u64
    pte_l3: u64
    pte_l2: u64
    pte_l1: u64
    tail: Tail
