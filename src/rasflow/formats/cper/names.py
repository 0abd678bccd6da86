"""Name tables for CPER values (severities, flags), shared by describers and renderers.

Values stay raw integers in decoded objects; these tables only name them, and
every lookup falls back to the raw value (``name(table, v)``).
"""

from __future__ import annotations

from collections.abc import Mapping

CPER_SEV_RECOVERABLE = 0
CPER_SEV_FATAL = 1
CPER_SEV_CORRECTED = 2
CPER_SEV_INFORMATIONAL = 3

# cper.c cper_severity_str(): the kernel's lower-case names
SEVERITY_KERNEL = {0: "recoverable", 1: "fatal", 2: "corrected", 3: "info"}
# libcper CPER_SEVERITY_TYPES
SEVERITY_LIBCPER = {0: "Recoverable", 1: "Fatal", 2: "Corrected", 3: "Informational"}

# Record header flags (UEFI N.2.1)
CPER_HW_ERROR_FLAGS_RECOVERED = 0x1
CPER_HW_ERROR_FLAGS_PREVERR = 0x2
CPER_HW_ERROR_FLAGS_SIMULATED = 0x4
RECORD_FLAGS = {0: "recovered", 1: "previous error", 2: "simulated"}

# Record header validation bits
CPER_VALID_PLATFORM_ID = 0x1
CPER_VALID_TIMESTAMP = 0x2
CPER_VALID_PARTITION_ID = 0x4
RECORD_VALID = {0: "platform_id", 1: "timestamp", 2: "partition_id"}

# Section descriptor flags (UEFI N.2.2) and validation bits
CPER_SEC_PRIMARY = 0x1
CPER_SEC_CONTAINMENT_WARNING = 0x2
CPER_SEC_RESET = 0x4
CPER_SEC_ERROR_THRESHOLD_EXCEEDED = 0x8
CPER_SEC_RESOURCE_NOT_ACCESSIBLE = 0x10
CPER_SEC_LATENT_ERROR = 0x20
CPER_SEC_PROPAGATED = 0x40
CPER_SEC_OVERFLOW = 0x80
SECTION_FLAGS = {
    0: "primary",
    1: "containment warning",
    2: "reset",
    3: "error threshold exceeded",
    4: "resource not accessible",
    5: "latent error",
    6: "propagated",
    7: "overflow",
}
CPER_SEC_VALID_FRU_ID = 0x1
CPER_SEC_VALID_FRU_TEXT = 0x2
SECTION_VALID = {0: "fru_id", 1: "fru_text"}

# ACPI Generic Error Status Block, block_status (ACPI 6.5 18.3.2.7.1)
ACPI_HEST_UNCORRECTABLE = 0x1
ACPI_HEST_CORRECTABLE = 0x2
ACPI_HEST_MULTIPLE_UNCORRECTABLE = 0x4
ACPI_HEST_MULTIPLE_CORRECTABLE = 0x8
ACPI_HEST_ERROR_ENTRY_COUNT_SHIFT = 4
ACPI_HEST_ERROR_ENTRY_COUNT_MASK = 0x3FF << 4
BLOCK_STATUS = {
    0: "uncorrectable",
    1: "correctable",
    2: "multiple uncorrectable",
    3: "multiple correctable",
}
GDATA_VALID = {0: "fru_id", 1: "fru_text", 2: "timestamp"}
ACPI_HEST_GEN_VALID_FRU_ID = 0x1
ACPI_HEST_GEN_VALID_FRU_STRING = 0x2
ACPI_HEST_GEN_VALID_TIMESTAMP = 0x4


def name(table: Mapping[int, str], value: int) -> str:
    """``table[value]``, or ``unknown (0x..)`` for a value the table does not know."""
    return table.get(value, f"unknown ({value:#x})")


def flag_names(table: Mapping[int, str], value: int) -> list[str]:
    return [n for bit, n in table.items() if value >> bit & 1]
