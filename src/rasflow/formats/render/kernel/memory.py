"""cper.c cper_print_mem(), cper_mem_err_location(), cper_dimm_err_location()."""

from __future__ import annotations

from ...cper import memory as m

# cper.c cper_mem_err_status_str()
MEM_ERR_STATUS_STR = {
    1: "Error detected internal to the component",
    4: "Storage error in DRAM memory",
    5: "Storage error in TLB",
    6: "Storage error in cache",
    7: "Error in one or more functional units",
    8: "Component failed self test",
    9: "Overflow or undervalue of internal queue",
    16: "Error detected in the bus",
    17: "Virtual address not found on IO-TLB or IO-PDIR",
    18: "Improper access error",
    19: "Access to a memory address which is not mapped to any component",
    20: "Loss of Lockstep",
    21: "Response not associated with a request",
    22: "Bus parity error - must also set the A, C, or D Bits",
    23: "Detection of a protocol error",
    24: "Detection of a PATH_ERROR",
    25: "Bus operation timeout",
    26: "A read was issued to data that has been poisoned",
}


def cper_mem_err_status_str(status: int) -> str:
    return MEM_ERR_STATUS_STR.get((status >> 8) & 0xFF, "Reserved")


def cper_mem_err_type_str(etype: int) -> str:
    return m.MEM_ERR_TYPE.get(etype, "unknown")


def cper_mem_err_location(mem: m.CperSecMemErr) -> str:
    """The location line: every valid field followed by a space."""
    v = mem.validation_bits
    parts = []
    if v & m.CPER_MEM_VALID_NODE:
        parts.append(f"node:{mem.node} ")
    if v & m.CPER_MEM_VALID_CARD:
        parts.append(f"card:{mem.card} ")
    if v & m.CPER_MEM_VALID_MODULE:
        parts.append(f"module:{mem.module} ")
    if v & m.CPER_MEM_VALID_RANK_NUMBER:
        parts.append(f"rank:{mem.rank} ")
    if v & m.CPER_MEM_VALID_BANK:
        parts.append(f"bank:{mem.bank} ")
    if v & m.CPER_MEM_VALID_BANK_GROUP:
        parts.append(f"bank_group:{mem.bank >> m.CPER_MEM_BANK_GROUP_SHIFT} ")
    if v & m.CPER_MEM_VALID_BANK_ADDRESS:
        parts.append(f"bank_address:{mem.bank & m.CPER_MEM_BANK_ADDRESS_MASK} ")
    if v & m.CPER_MEM_VALID_DEVICE:
        parts.append(f"device:{mem.device} ")
    if v & (m.CPER_MEM_VALID_ROW | m.CPER_MEM_VALID_ROW_EXT):
        row = mem.row | m.cper_get_mem_extension(v, mem.extended)
        parts.append(f"row:{row} ")
    if v & m.CPER_MEM_VALID_COLUMN:
        parts.append(f"column:{mem.column} ")
    if v & m.CPER_MEM_VALID_BIT_POSITION:
        parts.append(f"bit_position:{mem.bit_pos} ")
    if v & m.CPER_MEM_VALID_REQUESTOR_ID:
        parts.append(f"requestor_id:0x{mem.requestor_id:016x} ")
    if v & m.CPER_MEM_VALID_RESPONDER_ID:
        parts.append(f"responder_id:0x{mem.responder_id:016x} ")
    if v & m.CPER_MEM_VALID_TARGET_ID:
        parts.append(f"target_id:0x{mem.target_id:016x} ")
    if v & m.CPER_MEM_VALID_CHIP_ID:
        parts.append(f"chip_id:{mem.extended >> m.CPER_MEM_CHIP_ID_SHIFT} ")
    return "".join(parts)


def cper_dimm_err_location(mem: m.CperSecMemErr) -> str:
    """Without DMI tables (as under QEMU), the handle-only form."""
    if not mem.validation_bits & m.CPER_MEM_VALID_MODULE_HANDLE:
        return ""
    return f"DIMM location: not present. DMI handle: 0x{mem.mem_dev_handle:04x} "


def cper_print_mem(pfx: str, mem: m.CperSecMemErr, gdata) -> list[str]:
    v = mem.validation_bits
    if gdata.error_data_length == m.CPER_SEC_MEM_ERR_OLD_SIZE and v & ~(m.CPER_MEM_VALID_RANK_NUMBER - 1):
        return ["[Firmware Warn]: valid bits set for fields beyond structure"]
    out = []
    if v & m.CPER_MEM_VALID_ERROR_STATUS:
        out.append(f"{pfx} error_status: {cper_mem_err_status_str(mem.error_status)} (0x{mem.error_status:016x})")
    if v & m.CPER_MEM_VALID_PA:
        out.append(f"{pfx}physical_address: 0x{mem.physical_addr:016x}")
    if v & m.CPER_MEM_VALID_PA_MASK:
        out.append(f"{pfx}physical_address_mask: 0x{mem.physical_addr_mask:016x}")
    loc = cper_mem_err_location(mem)
    if loc:
        out.append(f"{pfx}{loc}")
    if v & m.CPER_MEM_VALID_ERROR_TYPE:
        out.append(f"{pfx}error_type: {mem.error_type}, {cper_mem_err_type_str(mem.error_type)}")
    dimm = cper_dimm_err_location(mem)
    if dimm:
        out.append(f"{pfx}{dimm}")
    return out
