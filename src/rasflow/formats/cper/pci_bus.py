"""PCI/PCI-X Bus Error section (UEFI N.2.8), 72 bytes.

Linux has no struct for it (the kernel prints it as an unknown section); the
field names are EDK2's EFI_PCI_PCIX_BUS_ERROR_DATA members in kernel style.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Flags, Guid, Names, Tail, layout, u16, u32, u64
from .guids import CPER_SEC_PCI_X_BUS

# Validation bits (UEFI N.2.8)
CPER_PCI_BUS_VALID_ERROR_STATUS = 0x0001
CPER_PCI_BUS_VALID_ERROR_TYPE = 0x0002
CPER_PCI_BUS_VALID_BUS_ID = 0x0004
CPER_PCI_BUS_VALID_BUS_ADDRESS = 0x0008
CPER_PCI_BUS_VALID_BUS_DATA = 0x0010
CPER_PCI_BUS_VALID_COMMAND = 0x0020
CPER_PCI_BUS_VALID_REQUESTOR_ID = 0x0040
CPER_PCI_BUS_VALID_COMPLETER_ID = 0x0080
CPER_PCI_BUS_VALID_TARGET_ID = 0x0100

# Bus Command bit 56: the transaction was PCI-X (else PCI)
CPER_PCI_BUS_COMMAND_PCIX = 1 << 56

PCI_BUS_VALID = {
    0: "error_status", 1: "type", 2: "bus_id", 3: "bus_address", 4: "bus_data",
    5: "bus_command", 6: "requestor_id", 7: "responder_id", 8: "target_id",
}

# UEFI N.2.8 PCI/PCI-X Bus Error Type
PCI_BUS_ERROR_TYPE = {
    0: "unknown or OEM specific error", 1: "data parity error", 2: "system error",
    3: "master abort", 4: "bus timeout or no device present (no DEVSEL#)",
    5: "master data parity error", 6: "address parity error", 7: "command parity error",
}


@layout
class CperSecPciBus:
    """EFI_PCI_PCIX_BUS_ERROR_DATA; bytes past the 72 defined ones are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_PCI_X_BUS

    validation_bits: Annotated[u64, Flags(PCI_BUS_VALID)]
    error_status: u64
    type: Annotated[u16, Names(PCI_BUS_ERROR_TYPE)]
    bus_id: u16
    reserved: u32
    bus_address: u64
    bus_data: u64
    bus_command: u64
    requestor_id: u64
    responder_id: u64
    target_id: u64
    tail: Tail

    @property
    def bus_number(self) -> int:
        """Bus Id bits 7:0."""
        return self.bus_id & 0xFF

    @property
    def segment_number(self) -> int:
        """Bus Id bits 15:8."""
        return self.bus_id >> 8

    @property
    def pcix(self) -> bool:
        """Bus Command bit 56: a PCI-X command (else PCI)."""
        return bool(self.bus_command & CPER_PCI_BUS_COMMAND_PCIX)
