"""Numbers and names for the APEI tables, as include/acpi/actbl1.h and ACPI 6.5 ch. 18 spell them.

Constants only: the codecs use these tables as ``Names``/``Flags`` metadata and
the describers use them for text. Values are ints; a lookup that misses falls
back to ``unknown (0x..)`` in the describers, never a KeyError.
"""

from __future__ import annotations

# --- Generic Address Structure (ACPI 6.5 5.2.3.2) ------------------------------

ACPI_ADR_SPACE_SYSTEM_MEMORY = 0
ACPI_ADR_SPACE_SYSTEM_IO = 1

GAS_SPACE_IDS = {
    0x00: "SystemMemory",
    0x01: "SystemIO",
    0x02: "PCI_Config",
    0x03: "EmbeddedControl",
    0x04: "SMBus",
    0x05: "SystemCMOS",
    0x06: "PciBarTarget",
    0x07: "IPMI",
    0x08: "GeneralPurposeIO",
    0x09: "GenericSerialBus",
    0x0A: "PCC",
    0x0B: "PRM",
    0x7F: "FunctionalFixedHW",
}

GAS_ACCESS_WIDTHS = {0: "Undefined", 1: "Byte", 2: "Word", 3: "DWord", 4: "QWord"}

# --- HEST (actbl1.h enum acpi_hest_types) ---------------------------------------

ACPI_HEST_TYPE_IA32_CHECK = 0
ACPI_HEST_TYPE_IA32_CORRECTED_CHECK = 1
ACPI_HEST_TYPE_IA32_NMI = 2
ACPI_HEST_TYPE_AER_ROOT_PORT = 6
ACPI_HEST_TYPE_AER_ENDPOINT = 7
ACPI_HEST_TYPE_AER_BRIDGE = 8
ACPI_HEST_TYPE_GENERIC_ERROR = 9
ACPI_HEST_TYPE_GENERIC_ERROR_V2 = 10
ACPI_HEST_TYPE_IA32_DEFERRED_CHECK = 11

HEST_TYPES = {
    0: "IA-32 Machine Check",
    1: "IA-32 Corrected Machine Check",
    2: "IA-32 NMI",
    3: "not used (3)",
    4: "not used (4)",
    5: "not used (5)",
    6: "PCIe Root Port AER",
    7: "PCIe Device AER",
    8: "PCIe Bridge AER",
    9: "GHES",
    10: "GHESv2",
    11: "IA-32 Deferred Machine Check",
}

# enum acpi_hest_notify_types
ACPI_HEST_NOTIFY_POLLED = 0
ACPI_HEST_NOTIFY_EXTERNAL = 1
ACPI_HEST_NOTIFY_LOCAL = 2
ACPI_HEST_NOTIFY_SCI = 3
ACPI_HEST_NOTIFY_NMI = 4
ACPI_HEST_NOTIFY_CMCI = 5
ACPI_HEST_NOTIFY_MCE = 6
ACPI_HEST_NOTIFY_GPIO = 7
ACPI_HEST_NOTIFY_SEA = 8
ACPI_HEST_NOTIFY_SEI = 9
ACPI_HEST_NOTIFY_GSIV = 10
ACPI_HEST_NOTIFY_SOFTWARE_DELEGATED = 11

NOTIFY_TYPES = {
    0: "POLLED",
    1: "EXTERNAL",
    2: "LOCAL",
    3: "SCI",
    4: "NMI",
    5: "CMCI",
    6: "MCE",
    7: "GPIO",
    8: "SEA",
    9: "SEI",
    10: "GSIV",
    11: "SOFTWARE_DELEGATED",
}
NOTIFY_BY_NAME = {v: k for k, v in NOTIFY_TYPES.items()}

HEST_NOTIFY_LENGTH = 28

# config_write_enable bits (ACPI_HEST_TYPE ... ACPI_HEST_ERR_THRESHOLD_WINDOW)
NOTIFY_CONFIG_WRITE = {
    0: "TYPE",
    1: "POLL_INTERVAL",
    2: "POLL_THRESHOLD_VALUE",
    3: "POLL_THRESHOLD_WINDOW",
    4: "ERR_THRESHOLD_VALUE",
    5: "ERR_THRESHOLD_WINDOW",
}

# flags of IA-32 and AER sources (ACPI_HEST_FIRMWARE_FIRST, _GLOBAL, _GHES_ASSIST)
HEST_SOURCE_FLAGS = {0: "FIRMWARE_FIRST", 1: "GLOBAL", 2: "GHES_ASSIST"}

IA_ERROR_BANK_SIZE = 28
GHES_ESTATUS_MAX_SIZE = 65536  # drivers/acpi/apei/ghes.c: larger error_block_length is clamped

# --- BERT -------------------------------------------------------------------------

BERT_SIZE = 48

# --- EINJ (enum acpi_einj_actions / acpi_einj_instructions) ------------------------

EINJ_ACTIONS = {
    0x0: "BEGIN_INJECTION_OPERATION",
    0x1: "GET_TRIGGER_ERROR_ACTION_TABLE",
    0x2: "SET_ERROR_TYPE",
    0x3: "GET_ERROR_TYPE",
    0x4: "END_OPERATION",
    0x5: "EXECUTE_OPERATION",
    0x6: "CHECK_BUSY_STATUS",
    0x7: "GET_COMMAND_STATUS",
    0x8: "SET_ERROR_TYPE_WITH_ADDRESS",
    0x9: "GET_EXECUTE_OPERATION_TIMINGS",
    0x11: "EINJV2_GET_ERROR_TYPE",  # ACPICA 6975cd07 (ACPI 6.5 errata EINJv2)
    0xFF: "TRIGGER_ERROR",
}
EINJ_ACTION_BY_NAME = {v: k for k, v in EINJ_ACTIONS.items()}

EINJ_INSTRUCTIONS = {
    0: "READ_REGISTER",
    1: "READ_REGISTER_VALUE",
    2: "WRITE_REGISTER",
    3: "WRITE_REGISTER_VALUE",
    4: "NOOP",
    5: "FLUSH_CACHELINE",  # actbl1.h ACPI_EINJ_FLUSH_CACHELINE; not in ACPI 6.5's EINJ table
}
EINJ_INSTRUCTION_BY_NAME = {v: k for k, v in EINJ_INSTRUCTIONS.items()}

EINJ_ENTRY_FLAGS = {0: "PRESERVE_REGISTER"}  # ACPI_EINJ_PRESERVE

# Error type bits (ACPI_EINJ_* in actbl1.h; CXL bits 12..17 from ACPI 6.5).
EINJ_ERROR_TYPES = {
    0: "PROCESSOR_CORRECTABLE",
    1: "PROCESSOR_UNCORRECTABLE",
    2: "PROCESSOR_FATAL",
    3: "MEMORY_CORRECTABLE",
    4: "MEMORY_UNCORRECTABLE",
    5: "MEMORY_FATAL",
    6: "PCIE_CORRECTABLE",
    7: "PCIE_UNCORRECTABLE",
    8: "PCIE_FATAL",
    9: "PLATFORM_CORRECTABLE",
    10: "PLATFORM_UNCORRECTABLE",
    11: "PLATFORM_FATAL",
    12: "CXL_CACHE_CORRECTABLE",
    13: "CXL_CACHE_UNCORRECTABLE",
    14: "CXL_CACHE_FATAL",
    15: "CXL_MEM_CORRECTABLE",
    16: "CXL_MEM_UNCORRECTABLE",
    17: "CXL_MEM_FATAL",
    30: "EINJV2",
    31: "VENDOR_DEFINED",
}
EINJ_MEMORY_UNCORRECTABLE = 0x10

# SET_ERROR_TYPE_WITH_ADDRESS flags (einj-core.c SETWA_FLAGS_*)
EINJ_SETWA_FLAGS = {0: "APICID_VALID", 1: "MEMORY_ADDRESS_VALID", 2: "PCIE_SBDF_VALID", 3: "EINJV2"}

EINJ_COMMAND_STATUS = {0: "SUCCESS", 1: "FAILURE", 2: "INVALID_ACCESS"}

EINJ_ENTRY_SIZE = 32


def name_of(table: dict[int, str], value: int) -> str:
    """``table[value]``, or ``unknown (0x..)`` like cper_severity_str()."""
    return table.get(value, f"unknown ({value:#x})")


def flag_names(table: dict[int, str], value: int) -> list[str]:
    """Names of the set bits; unnamed set bits appear as ``bitN``."""
    out = []
    bit = 0
    while value >> bit:
        if value >> bit & 1:
            out.append(table.get(bit, f"bit{bit}"))
        bit += 1
    return out
