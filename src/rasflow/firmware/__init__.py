"""EL3 firmware, firmware first: the platform's ACPI tables in memory, triage of the RAS
error records into CPER, GHESv2 status blocks with read-ack, notification of the OS and
delegation of the exception (after TF-A's RAS framework).

    machine = hw.Machine(engine, firmware_first=True)
    platform = Platform(machine)                 # HEST/BERT/status blocks as bytes in RAM
    fw = El3Firmware(machine, platform)          # installed at EL3 on every PE
    platform.tables()                            # {"HEST": pa, "BERT": pa}: what the OS finds
"""

from .el3 import El3Firmware
from .ghes import GhesTarget, GhesWriter, hest_ghes_targets
from .platform import DEFAULT_SOURCES, Platform, SourceSpec, read_hest, read_table
from .policy import El3Policy

__all__ = ["DEFAULT_SOURCES", "El3Firmware", "El3Policy", "GhesTarget", "GhesWriter", "Platform",
           "SourceSpec", "hest_ghes_targets", "read_hest", "read_table"]
