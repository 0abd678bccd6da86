"""PCI Express Error section (UEFI N.2.7): struct cper_sec_pcie, 208 bytes.

The nested structs of include/linux/cper.h are flattened: ``version.minor``
is ``version_minor``, ``device_id.vendor_id`` is ``vendor_id``,
``serial_number.lower`` is ``serial_number_lower``, ``bridge.control`` is
``bridge_control``. ``aer_info`` holds struct aer_capability_regs
(include/linux/aer.h), decoded on demand by ``.aer``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Bytes, Flags, Guid, Names, Tail, layout, u8, u16, u32, u64
from .guids import CPER_SEC_PCIE

# Validation bits, include/linux/cper.h
CPER_PCIE_VALID_PORT_TYPE = 0x0001
CPER_PCIE_VALID_VERSION = 0x0002
CPER_PCIE_VALID_COMMAND_STATUS = 0x0004
CPER_PCIE_VALID_DEVICE_ID = 0x0008
CPER_PCIE_VALID_SERIAL_NUMBER = 0x0010
CPER_PCIE_VALID_BRIDGE_CONTROL_STATUS = 0x0020
CPER_PCIE_VALID_CAPABILITY = 0x0040
CPER_PCIE_VALID_AER_INFO = 0x0080

CPER_PCIE_SLOT_SHIFT = 3

PCIE_VALID = {
    0: "port_type", 1: "version", 2: "command_status", 3: "device_id",
    4: "serial_number", 5: "bridge_control_status", 6: "capability", 7: "aer_info",
}

# cper.c pcie_port_type_strs[] (UEFI N.2.7 Port Type)
PCIE_PORT_TYPE = {
    0: "PCIe end point", 1: "legacy PCI end point", 4: "root port",
    5: "upstream switch port", 6: "downstream switch port", 7: "PCIe to PCI/PCI-X bridge",
    8: "PCI/PCI-X to PCIe bridge", 9: "root complex integrated endpoint device",
    10: "root complex event collector",
}


@layout
class AerCapabilityRegs:
    """struct aer_capability_regs (56 bytes) at the start of ``aer_info``; ``tail``
    keeps the other 40 bytes (TLP prefix log and what firmware put after it)."""

    header: u32
    uncor_status: u32
    uncor_mask: u32
    uncor_severity: u32
    cor_status: u32
    cor_mask: u32
    cap_control: u32
    header_log_dw0: u32
    header_log_dw1: u32
    header_log_dw2: u32
    header_log_dw3: u32
    root_command: u32
    root_status: u32
    cor_err_source: u16
    uncor_err_source: u16
    tail: Tail

    @property
    def header_log(self) -> tuple[int, int, int, int]:
        """``header_log.dw[0..3]``: the TLP header."""
        return (self.header_log_dw0, self.header_log_dw1, self.header_log_dw2, self.header_log_dw3)


@layout
class CperSecPcie:
    """struct cper_sec_pcie; bytes past the 208 defined ones are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_PCIE

    validation_bits: Annotated[u64, Flags(PCIE_VALID)]
    port_type: Annotated[u32, Names(PCIE_PORT_TYPE)]
    version_minor: u8
    version_major: u8
    reserved_version: Bytes[2]
    command: u16
    status: u16
    reserved: u32
    vendor_id: u16
    device_id: u16
    class_code: Bytes[3]
    function: u8
    device: u8
    segment: u16
    bus: u8
    secondary_bus: u8
    slot: u16
    reserved_device_id: u8
    serial_number_lower: u32
    serial_number_upper: u32
    bridge_secondary_status: u16
    bridge_control: u16
    capability: Bytes[60]
    aer_info: Bytes[96]
    tail: Tail

    @property
    def aer(self) -> AerCapabilityRegs:
        """``aer_info`` as struct aer_capability_regs."""
        return AerCapabilityRegs.decode(self.aer_info, 0, len(self.aer_info))

    @property
    def class_code_value(self) -> int:
        """The 24-bit class code (base class in bits 23:16), as ``%02x%02x%02x`` of p[2], p[1], p[0]."""
        return int.from_bytes(self.class_code, "little")

    @property
    def slot_number(self) -> int:
        """Physical slot number: bits 15:3 of ``slot``."""
        return self.slot >> CPER_PCIE_SLOT_SHIFT

    @property
    def serial_number(self) -> int:
        """The 64-bit device serial number (lower dword first on the wire)."""
        return self.serial_number_upper << 32 | self.serial_number_lower
