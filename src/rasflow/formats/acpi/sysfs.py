"""Read a directory laid out like /sys/firmware/acpi/tables.

Tables are files named by signature (``HEST``, ``BERT``, ``EINJ``; a second
table of a signature gets a number, ``SSDT2``). ``data/BERT`` holds the boot
error region the BERT points at (drivers/acpi/sysfs.c, acpi_bert_data_init()).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..errors import FormatError
from .bert import BootErrorRegion, decode_boot_error_region


class AcpiTables(dict):
    """The decoded tables by file name (a plain dict), plus the boot error region raw and decoded."""

    def __init__(self, tables: dict[str, Any], bert_region: bytes | None = None, boot_errors: BootErrorRegion | None = None):
        super().__init__(tables)
        self.bert_region = bert_region
        self.boot_errors = boot_errors


def read_tables_dir(
    path: str | os.PathLike[str],
    *,
    signatures: Iterable[str] | None = None,
    strict: bool = False,
    lenient: bool = False,
) -> AcpiTables:
    """Decode every table file in ``path`` (or only ``signatures``), and ``data/BERT`` when present.

    A table that does not decode is a FormatError whose path starts with the file
    name. ``lenient`` is passed to the boot-error-region walk.
    """
    from . import decode  # the signature dispatch lives in the package

    wanted = {s.upper() for s in signatures} if signatures is not None else None
    tables: dict[str, Any] = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.startswith(".") or not os.path.isfile(full):  # sysfs names tables by signature
            continue
        if wanted is not None and name.rstrip("0123456789").upper() not in wanted:
            continue
        with open(full, "rb") as f:
            data = f.read()
        try:
            tables[name] = decode(data, strict=strict)
        except FormatError as e:
            raise e.within(name) from None
    region_path = os.path.join(path, "data", "BERT")
    region = None
    blocks = None
    if os.path.isfile(region_path):
        with open(region_path, "rb") as f:
            region = f.read()
        try:
            blocks = decode_boot_error_region(region, lenient=lenient)
        except FormatError as e:
            raise e.within("data/BERT") from None
    return AcpiTables(tables, region, blocks)
