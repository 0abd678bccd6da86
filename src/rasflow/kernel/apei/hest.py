"""drivers/acpi/apei/hest.c: find the HEST the firmware published, parse its bytes, and
hand every enabled GHES/GHESv2 entry to ghes_probe (hest_parse_ghes)."""

from __future__ import annotations

import functools

from ...formats import acpi
from ...formats.errors import FormatError


def acpi_get_table(kernel, memory, pa: int | None) -> bytes | None:
    """The table at ``pa``: its header, then header.length bytes."""
    if pa is None:
        return None
    head = acpi.AcpiTableHeader.decode(memory.read(pa, acpi.AcpiTableHeader.SIZE))
    return memory.read(pa, max(head.length, acpi.AcpiTableHeader.SIZE))


def hest_init(kernel, memory, tables: dict[str, int]) -> list:
    """acpi_hest_init(): the GHES entries (types 9 and 10) of the HEST, in table order."""
    raw = acpi_get_table(kernel, memory, tables.get("HEST"))
    if raw is None:
        kernel.printk("HEST: Table not found.")
        return []
    try:
        sources, ghes = hest_parse(raw)
    except FormatError as e:
        kernel.trace("hest_init", error=str(e))
        kernel.printk("[Firmware Bug]: HEST: Table contents overflow for hardware error source")
        return []
    kernel.trace("hest_init", pa=tables["HEST"], length=len(raw), sources=sources,
                 ghes=len(ghes))
    kernel.printk("HEST: Table parsing has been initialized.")
    return list(ghes)


@functools.lru_cache(maxsize=64)
def hest_parse(raw: bytes) -> tuple[int, tuple]:
    """(number of sources, the GHES entries) of the HEST bytes ``raw``. The decoded entries
    are immutable, so every kernel that boots on the same table shares one parse."""
    hest = acpi.decode(raw)
    return len(hest.sources), tuple(s for s in hest.sources if getattr(s, "TYPE", None) in (9, 10))
