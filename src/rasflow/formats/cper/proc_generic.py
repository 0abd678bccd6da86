"""Processor Generic Error section (UEFI N.2.4.1): struct cper_sec_proc_generic, 192 bytes."""

from __future__ import annotations

from typing import Annotated, ClassVar

from ..layout import Bytes, Flags, Guid, Names, Tail, layout, u8, u16, u64
from .guids import CPER_SEC_PROC_GENERIC

# Validation bits, include/linux/cper.h
CPER_PROC_VALID_TYPE = 0x0001
CPER_PROC_VALID_ISA = 0x0002
CPER_PROC_VALID_ERROR_TYPE = 0x0004
CPER_PROC_VALID_OPERATION = 0x0008
CPER_PROC_VALID_FLAGS = 0x0010
CPER_PROC_VALID_LEVEL = 0x0020
CPER_PROC_VALID_VERSION = 0x0040
CPER_PROC_VALID_BRAND_INFO = 0x0080
CPER_PROC_VALID_ID = 0x0100
CPER_PROC_VALID_TARGET_ADDRESS = 0x0200
CPER_PROC_VALID_REQUESTOR_ID = 0x0400
CPER_PROC_VALID_RESPONDER_ID = 0x0800
CPER_PROC_VALID_IP = 0x1000

PROC_VALID = {
    0: "proc_type", 1: "proc_isa", 2: "proc_error_type", 3: "operation", 4: "flags", 5: "level",
    6: "cpu_version", 7: "cpu_brand", 8: "proc_id", 9: "target_addr", 10: "requestor_id",
    11: "responder_id", 12: "ip",
}

# cper.c proc_type_strs[], proc_isa_strs[], cper_proc_error_type_strs[], proc_op_strs[], proc_flag_strs[]
PROC_TYPE = {0: "IA32/X64", 1: "IA64", 2: "ARM"}
PROC_ISA = {0: "IA32", 1: "IA64", 2: "X64", 3: "ARM A32/T32", 4: "ARM A64"}
PROC_ERROR_TYPE = {0: "cache error", 1: "TLB error", 2: "bus error", 3: "micro-architectural error"}
PROC_OP = {0: "unknown or generic", 1: "data read", 2: "data write", 3: "instruction execution"}
PROC_FLAG = {0: "restartable", 1: "precise IP", 2: "overflow", 3: "corrected"}


@layout
class CperSecProcGeneric:
    """struct cper_sec_proc_generic; bytes past the 192 defined ones are kept in ``tail``."""

    GUID: ClassVar[Guid] = CPER_SEC_PROC_GENERIC

    validation_bits: Annotated[u64, Flags(PROC_VALID)]
    proc_type: Annotated[u8, Names(PROC_TYPE)]
    proc_isa: Annotated[u8, Names(PROC_ISA)]
    proc_error_type: Annotated[u8, Flags(PROC_ERROR_TYPE)]
    operation: Annotated[u8, Names(PROC_OP)]
    flags: Annotated[u8, Flags(PROC_FLAG)]
    level: u8
    reserved: u16
    cpu_version: u64
    cpu_brand: Bytes[128]
    proc_id: u64
    target_addr: u64
    requestor_id: u64
    responder_id: u64
    ip: u64
    tail: Tail

    @property
    def cpu_brand_str(self) -> str:
        """The brand string up to its first NUL, bytes as latin-1."""
        return self.cpu_brand.split(b"\0", 1)[0].decode("latin-1")
