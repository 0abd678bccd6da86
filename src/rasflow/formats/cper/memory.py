"""Platform Memory Error section (UEFI N.2.5): struct cper_sec_mem_err, 80 bytes."""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Flags, Guid, Names, Tail, layout, u8, u16, u64
from .guids import CPER_SEC_PLATFORM_MEM

# Validation bits, include/linux/cper.h
CPER_MEM_VALID_ERROR_STATUS = 0x0001
CPER_MEM_VALID_PA = 0x0002
CPER_MEM_VALID_PA_MASK = 0x0004
CPER_MEM_VALID_NODE = 0x0008
CPER_MEM_VALID_CARD = 0x0010
CPER_MEM_VALID_MODULE = 0x0020
CPER_MEM_VALID_BANK = 0x0040
CPER_MEM_VALID_DEVICE = 0x0080
CPER_MEM_VALID_ROW = 0x0100
CPER_MEM_VALID_COLUMN = 0x0200
CPER_MEM_VALID_BIT_POSITION = 0x0400
CPER_MEM_VALID_REQUESTOR_ID = 0x0800
CPER_MEM_VALID_RESPONDER_ID = 0x1000
CPER_MEM_VALID_TARGET_ID = 0x2000
CPER_MEM_VALID_ERROR_TYPE = 0x4000
CPER_MEM_VALID_RANK_NUMBER = 0x8000
CPER_MEM_VALID_CARD_HANDLE = 0x10000
CPER_MEM_VALID_MODULE_HANDLE = 0x20000
CPER_MEM_VALID_ROW_EXT = 0x40000
CPER_MEM_VALID_BANK_GROUP = 0x80000
CPER_MEM_VALID_BANK_ADDRESS = 0x100000
CPER_MEM_VALID_CHIP_ID = 0x200000

CPER_MEM_EXT_ROW_MASK = 0x3
CPER_MEM_EXT_ROW_SHIFT = 16
CPER_MEM_BANK_ADDRESS_MASK = 0xFF
CPER_MEM_BANK_GROUP_SHIFT = 8
CPER_MEM_CHIP_ID_SHIFT = 5

# sizeof(struct cper_sec_mem_err_old): UEFI 2.1/2.2, up to error_type
CPER_SEC_MEM_ERR_OLD_SIZE = 73

MEM_VALID = {
    0: "error_status", 1: "physical_addr", 2: "physical_addr_mask", 3: "node", 4: "card",
    5: "module", 6: "bank", 7: "device", 8: "row", 9: "column", 10: "bit_pos",
    11: "requestor_id", 12: "responder_id", 13: "target_id", 14: "error_type",
    15: "rank", 16: "mem_array_handle", 17: "mem_dev_handle", 18: "row_ext",
    19: "bank_group", 20: "bank_address", 21: "chip_id",
}

# cper.c mem_err_type_strs[]
MEM_ERR_TYPE = {
    0: "unknown", 1: "no error", 2: "single-bit ECC", 3: "multi-bit ECC",
    4: "single-symbol chipkill ECC", 5: "multi-symbol chipkill ECC", 6: "master abort",
    7: "target abort", 8: "parity error", 9: "watchdog timeout", 10: "invalid address",
    11: "mirror Broken", 12: "memory sparing", 13: "scrub corrected error",
    14: "scrub uncorrected error", 15: "physical memory map-out event",
}


@layout
class CperSecMemErr:
    """struct cper_sec_mem_err; bytes past the 80 defined ones are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_PLATFORM_MEM

    validation_bits: Annotated[u64, Flags(MEM_VALID)]
    error_status: u64
    physical_addr: u64
    physical_addr_mask: u64
    node: u16
    card: u16
    module: u16
    bank: u16
    device: u16
    row: u16
    column: u16
    bit_pos: u16
    requestor_id: u64
    responder_id: u64
    target_id: u64
    error_type: Annotated[u8, Names(MEM_ERR_TYPE)]
    extended: u8
    rank: u16
    mem_array_handle: u16
    mem_dev_handle: u16
    tail: Tail

    @property
    def error_status_type(self) -> int:
        """Error Status (UEFI N.2.5 / N.2.11) bits 15:8: the error type code."""
        return (self.error_status >> 8) & 0xFF

    @property
    def pfn(self) -> int | None:
        """The 4 KiB page frame of physical_addr, when physical_addr is valid."""
        if self.validation_bits & CPER_MEM_VALID_PA:
            return self.physical_addr >> 12
        return None


def cper_get_mem_extension(validation_bits: int, extended: int) -> int:
    """Row bits 17:16 from ``extended`` when ROW_EXT is valid (cper.h)."""
    if not validation_bits & CPER_MEM_VALID_ROW_EXT:
        return 0
    return (extended & CPER_MEM_EXT_ROW_MASK) << CPER_MEM_EXT_ROW_SHIFT
