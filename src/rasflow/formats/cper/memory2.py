"""Platform Memory Error Section 2 (UEFI N.2.6): EFI_PLATFORM_MEMORY2_ERROR_DATA, 96 bytes.

Linux has no struct for it (cper.c prints it as an unknown section); field names
follow struct cper_sec_mem_err where the two agree.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Flags, Guid, Names, Tail, layout, u8, u16, u32, u64
from .guids import CPER_SEC_PLATFORM_MEM2
from .memory import MEM_ERR_TYPE

# Validation bits, UEFI 2.10 Table N-33
CPER_MEM2_VALID_ERROR_STATUS = 1 << 0
CPER_MEM2_VALID_PA = 1 << 1
CPER_MEM2_VALID_PA_MASK = 1 << 2
CPER_MEM2_VALID_NODE = 1 << 3
CPER_MEM2_VALID_CARD = 1 << 4
CPER_MEM2_VALID_MODULE = 1 << 5
CPER_MEM2_VALID_BANK = 1 << 6
CPER_MEM2_VALID_DEVICE = 1 << 7
CPER_MEM2_VALID_ROW = 1 << 8
CPER_MEM2_VALID_COLUMN = 1 << 9
CPER_MEM2_VALID_RANK = 1 << 10
CPER_MEM2_VALID_BIT_POSITION = 1 << 11
CPER_MEM2_VALID_CHIP_ID = 1 << 12
CPER_MEM2_VALID_ERROR_TYPE = 1 << 13
CPER_MEM2_VALID_STATUS = 1 << 14
CPER_MEM2_VALID_REQUESTOR_ID = 1 << 15
CPER_MEM2_VALID_RESPONDER_ID = 1 << 16
CPER_MEM2_VALID_TARGET_ID = 1 << 17
CPER_MEM2_VALID_CARD_HANDLE = 1 << 18
CPER_MEM2_VALID_MODULE_HANDLE = 1 << 19
CPER_MEM2_VALID_BANK_GROUP = 1 << 20
CPER_MEM2_VALID_BANK_ADDRESS = 1 << 21

MEM2_VALID = {
    0: "error_status", 1: "physical_addr", 2: "physical_addr_mask", 3: "node", 4: "card",
    5: "module", 6: "bank", 7: "device", 8: "row", 9: "column", 10: "rank", 11: "bit_pos",
    12: "chip_id", 13: "mem_error_type", 14: "status", 15: "requestor_id", 16: "responder_id",
    17: "target_id", 18: "card_handle", 19: "module_handle", 20: "bank_group", 21: "bank_address",
}

# Status bit 0 (UEFI N.2.6): 0 corrected, 1 uncorrected
MEM2_STATUS = {0: "corrected", 1: "uncorrected"}

CPER_MEM2_BANK_ADDRESS_MASK = 0xFF
CPER_MEM2_BANK_GROUP_SHIFT = 8


@layout
class CperSecMemErr2:
    """Memory Error Section 2; bytes past the 96 defined ones are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_PLATFORM_MEM2

    validation_bits: Annotated[u64, Flags(MEM2_VALID)]
    error_status: u64
    physical_addr: u64
    physical_addr_mask: u64
    node: u16
    card: u16
    module: u16
    bank: u16
    device: u32
    row: u32
    column: u32
    rank: u32
    bit_pos: u32
    chip_id: u8
    mem_error_type: Annotated[u8, Names(MEM_ERR_TYPE)]
    status: u8
    reserved: u8
    requestor_id: u64
    responder_id: u64
    target_id: u64
    card_handle: u32
    module_handle: u32
    tail: Tail

    @property
    def error_status_type(self) -> int:
        """Error Status (UEFI N.2.5 / N.2.11) bits 15:8: the error type code."""
        return (self.error_status >> 8) & 0xFF

    @property
    def bank_group(self) -> int:
        return self.bank >> CPER_MEM2_BANK_GROUP_SHIFT

    @property
    def bank_address(self) -> int:
        return self.bank & CPER_MEM2_BANK_ADDRESS_MASK

    @property
    def pfn(self) -> int | None:
        """The 4 KiB page frame of physical_addr, when physical_addr is valid."""
        if self.validation_bits & CPER_MEM2_VALID_PA:
            return self.physical_addr >> 12
        return None
