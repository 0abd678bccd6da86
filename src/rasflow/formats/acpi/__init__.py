"""ACPI APEI tables, byte-exact both ways: the table header, HEST, BERT, EINJ.

    from rasflow.formats import acpi
    t = acpi.decode(table_bytes)           # Hest / Bert / Einj by signature, else GenericTable
    assert acpi.encode(t) == table_bytes   # exact, wrong checksums included
    t.check()                              # problems (checksum, counts, GAS, ...); strict=True raises
    hest, blob = acpi.qemu_virt_hest(0x43F00000)   # QEMU virt's HEST and etc/hardware_errors
    lines = acpi.describe(t)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import FormatError
from . import names
from .bert import Bert, BootErrorRegion, build_bert, decode_boot_error_region
from .describe import describe
from .einj import (
    Einj,
    EinjEntry,
    EinjErrorTypeWithAddr,
    EinjTrigger,
    EinjVendor,
    TriggerTable,
    build_einj,
    decode_trigger_table,
)
from .header import (
    HEADER_SIZE,
    AcpiTable,
    AcpiTableHeader,
    Gas,
    GenericTable,
    Problem,
    gas_system_memory,
    table_sum,
)
from .hest import Hest, build_hest
from .hest_sources import (
    SOURCE_TYPES,
    AerBridge,
    AerEndpoint,
    AerRootPort,
    Ghes,
    GhesV2,
    HestNotify,
    IaCorrected,
    IaDeferredCheck,
    IaErrorBank,
    IaMachineCheck,
    IaNmi,
    UnknownSource,
)
from .qemu import (
    ACPI_GHES_MAX_RAW_DATA_LENGTH,
    QEMU_VIRT_SOURCES,
    QEMU_VIRT_SOURCES_10_0,
    HardwareErrors,
    qemu_hardware_errors,
    qemu_virt_hest,
    qemu_virt_hest_legacy,
)
from .sysfs import AcpiTables, read_tables_dir

TABLES: dict[bytes, type] = {b"HEST": Hest, b"BERT": Bert, b"EINJ": Einj}
KINDS: dict[str, type] = {cls.kind: cls for cls in (Hest, Bert, Einj, GenericTable)}


def decode(buf, strict: bool = False) -> Hest | Bert | Einj | GenericTable:
    """Decode one table, dispatching on its signature; anything else is a GenericTable.

    A wrong checksum (or any other ``check()`` problem) is reported by
    ``t.check()`` / ``t.problems``; ``strict=True`` raises it as a FormatError.
    """
    mv = memoryview(buf)
    if len(mv) < 4:
        raise FormatError(f"truncated: an ACPI table header is {HEADER_SIZE} bytes, have {len(mv)}",
                          path="header.signature", offset=0, need=HEADER_SIZE - len(mv))
    cls = TABLES.get(bytes(mv[:4]), GenericTable)
    return cls.decode(mv, strict)


def looks_like_table(buf) -> bool:
    """True when ``buf`` starts like an ACPI table: a 4-character [A-Z0-9_] signature and a
    length field between 36 and ``len(buf)`` (for input detection; decode() is the real test)."""
    mv = memoryview(buf)
    if len(mv) < HEADER_SIZE or not all(c in _SIG_CHARS for c in bytes(mv[:4])):
        return False
    length = AcpiTableHeader.decode(mv, 0).length
    return HEADER_SIZE <= length <= len(mv)


_SIG_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def encode(table: AcpiTable) -> bytes:
    """The table's bytes, exactly as decoded or built (encode never fixes anything)."""
    return table.encode()


def from_dict(d: Mapping[str, Any]) -> Hest | Bert | Einj | GenericTable | BootErrorRegion:
    """Inverse of ``t.to_dict()``, dispatching on ``kind`` (or the header's signature)."""
    if not isinstance(d, Mapping):
        raise FormatError("expected an object for an ACPI table")
    if not isinstance(d.get("kind", ""), str):
        raise FormatError("kind is not a string", path="kind")
    if d.get("kind") == BootErrorRegion.kind:
        return BootErrorRegion.from_dict(d)
    cls = KINDS.get(d.get("kind", ""))
    if cls is None:
        sig = AcpiTableHeader.from_dict(d.get("header", {}), path="header").signature
        cls = TABLES.get(sig, GenericTable)
    return cls.from_dict(d)


__all__ = [
    "ACPI_GHES_MAX_RAW_DATA_LENGTH",
    "QEMU_VIRT_SOURCES",
    "QEMU_VIRT_SOURCES_10_0",
    "SOURCE_TYPES",
    "AcpiTable",
    "AcpiTableHeader",
    "AcpiTables",
    "AerBridge",
    "AerEndpoint",
    "AerRootPort",
    "Bert",
    "BootErrorRegion",
    "Einj",
    "EinjEntry",
    "EinjErrorTypeWithAddr",
    "EinjTrigger",
    "EinjVendor",
    "Gas",
    "GenericTable",
    "Ghes",
    "GhesV2",
    "HardwareErrors",
    "Hest",
    "HestNotify",
    "IaCorrected",
    "IaDeferredCheck",
    "IaErrorBank",
    "IaMachineCheck",
    "IaNmi",
    "Problem",
    "TriggerTable",
    "UnknownSource",
    "build_bert",
    "build_einj",
    "build_hest",
    "decode",
    "decode_boot_error_region",
    "decode_trigger_table",
    "describe",
    "encode",
    "from_dict",
    "gas_system_memory",
    "looks_like_table",
    "names",
    "qemu_hardware_errors",
    "qemu_virt_hest",
    "qemu_virt_hest_legacy",
    "read_tables_dir",
    "table_sum",
]
