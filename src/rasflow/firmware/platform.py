"""The platform's firmware tables, laid out as bytes in the machine's physical memory.

At boot the firmware reserves a region of RAM (the top 64 KiB of the first RAM range
unless told otherwise, as QEMU's firmware places ``etc/hardware_errors``) and writes:

    +0x0000  HEST                 one GHESv2 source per notification (formats.acpi)
    +0x1000  BERT                 points at the boot error region
    +0x2000  boot error region    Generic Error Status Blocks left by a previous boot
    +0x3000  hardware_errors      QEMU's blob: N error_block_address pointers, N read-ack
                                  registers (initialised to 1), N 1024-byte status blocks

The default sources are QEMU virt's (``SEA``, then ``GPIO``) plus a ``POLLED`` source
for corrected errors; ``SEI``, ``SOFTWARE_DELEGATED`` (SDEI) and ``GSIV`` can be added.
Each GHESv2 entry's Error Status Address GAS points at a u64 holding its block's
address, and its Read Ack Register GAS at the ack word, exactly as QEMU lays them out.

Everyone finds these by reading bytes: the OS through :meth:`Platform.tables` (its
"RSDP"), the EL3 firmware by decoding the HEST it wrote (:func:`read_hest`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from ..engine import Component
from ..formats import acpi, cper
from ..formats.acpi.names import NOTIFY_BY_NAME, NOTIFY_TYPES
from ..formats.acpi.qemu import (
    ACPI_GHES_MAX_RAW_DATA_LENGTH,
    qemu_ghes_v2_entry,
    qemu_hardware_errors,
)
from ..hw.memory import DramAddress, DramGeometry

DEFAULT_SOURCES: tuple[str, ...] = ("SEA", "GPIO", "POLLED")
FW_REGION_SIZE = 0x10000
HEST_OFFSET = 0x0000
BERT_OFFSET = 0x1000
BOOT_ERROR_REGION_OFFSET = 0x2000
BOOT_ERROR_REGION_SIZE = 0x1000
HARDWARE_ERRORS_OFFSET = 0x3000
POLL_INTERVAL_MS = 1000  # ghes.c arms a timer of notify.poll_interval ms for a POLLED source
GSIV_BASE = 96  # the first SPI the platform wires to a GSIV/GPIO error source
SDEI_EVENT_BASE = 804  # Neoverse RD's RAM ECC SDEI event number (TF-A nrd_ras_cpu.c)
OEM_ID = b"RASFLW"
OEM_TABLE_ID = b"RASFLOW "


class SourceSpec(NamedTuple):
    """One GHESv2 source to publish: notification type name, and its vector / poll interval
    (the vector is the GSIV interrupt or the SDEI event number the OS binds to)."""

    notify: str
    vector: int = 0
    poll_interval_ms: int = 0


def _spec(s: str | int | SourceSpec | tuple, i: int) -> SourceSpec:
    try:
        return _spec_cached(s, i)
    except TypeError:  # unhashable: no cache
        return _make_spec(s, i)


def _make_spec(s: str | int | SourceSpec | tuple, i: int) -> SourceSpec:
    if isinstance(s, SourceSpec):
        spec = s
    elif isinstance(s, tuple):
        spec = SourceSpec(*s)
    else:
        spec = SourceSpec(NOTIFY_TYPES.get(s, str(s)) if isinstance(s, int) else s.upper())
    if spec.notify not in NOTIFY_BY_NAME:
        raise ValueError(f"unknown notification type {spec.notify!r}; one of {', '.join(NOTIFY_BY_NAME)}")
    if spec.notify in ("GSIV", "GPIO") and not spec.vector:
        spec = spec._replace(vector=GSIV_BASE + i)
    elif spec.notify == "SOFTWARE_DELEGATED" and not spec.vector:
        spec = spec._replace(vector=SDEI_EVENT_BASE + i)
    elif spec.notify == "POLLED" and not spec.poll_interval_ms:
        spec = spec._replace(poll_interval_ms=POLL_INTERVAL_MS)
    return spec


_spec_cached = lru_cache(maxsize=256)(_make_spec)


def build_platform_hest(hardware_errors_pa: int, specs: Sequence[SourceSpec]) -> tuple[acpi.Hest, bytes]:
    """HEST + ``etc/hardware_errors`` blob for ``specs`` (source id = position, as QEMU)."""
    try:
        return _platform_hest(hardware_errors_pa, tuple(specs))
    except TypeError:  # unhashable specs: build without the cache
        return _build_platform_hest(hardware_errors_pa, specs)


@lru_cache(maxsize=64)
def _platform_hest(hardware_errors_pa: int, specs: tuple[SourceSpec, ...]) -> tuple[acpi.Hest, bytes]:
    """build_platform_hest, once per configuration (the Hest and the blob are immutable)."""
    return _build_platform_hest(hardware_errors_pa, specs)


@lru_cache(maxsize=64)
def _platform_hest_bytes(hardware_errors_pa: int, specs: tuple[SourceSpec, ...]) -> tuple[bytes, bytes]:
    """The HEST's bytes and the blob of :func:`build_platform_hest`, once per configuration."""
    hest, blob = _platform_hest(hardware_errors_pa, specs)
    return hest.encode(), blob


@lru_cache(maxsize=64)
def _bert_bytes(boot_error_region_pa: int) -> bytes:
    """The BERT pointing at the boot error region (a constant of its address)."""
    return acpi.build_bert(BOOT_ERROR_REGION_SIZE, boot_error_region_pa, oem_id=OEM_ID,
                           oem_table_id=OEM_TABLE_ID).encode()


_EMPTY_BOOT_ERROR_REGION = bytes(BOOT_ERROR_REGION_SIZE)


def _build_platform_hest(hardware_errors_pa: int, specs: Sequence[SourceSpec]) -> tuple[acpi.Hest, bytes]:
    hw = qemu_hardware_errors(hardware_errors_pa, len(specs))
    entries = []
    for i, spec in enumerate(specs):
        e = qemu_ghes_v2_entry(i, spec.notify, hw.error_block_address_slot(i), hw.read_ack_register_slot(i))
        entries.append(e._replace(notify_vector=spec.vector, notify_poll_interval=spec.poll_interval_ms))
    hest = acpi.build_hest(entries, oem_id=OEM_ID, oem_table_id=OEM_TABLE_ID)
    return hest, hw.encode()


def read_table(memory, pa: int) -> bytes:
    """The ACPI table at ``pa``, ``header.length`` bytes (read the header, then the rest)."""
    head = acpi.AcpiTableHeader.decode(memory.read(pa, acpi.AcpiTableHeader.SIZE))
    return memory.read(pa, max(head.length, acpi.AcpiTableHeader.SIZE))


def read_hest(memory, hest_pa: int) -> acpi.Hest:
    """Decode the HEST in memory (what the firmware and the OS both do)."""
    return acpi.decode(read_table(memory, hest_pa))  # type: ignore[return-value]


class Platform(Component):
    """Lays out HEST, BERT, the boot error region and the GHESv2 status blocks in memory.

    ``sources``: notification names (``"SEA"``, ``"GPIO"``, ``"POLLED"``, ``"SEI"``,
    ``"GSIV"``, ``"SOFTWARE_DELEGATED"``/``"SDEI"``) or :class:`SourceSpec`. ``base``: the
    reserved region's PA (default: the top 64 KiB of the first RAM range). ``boot_errors``:
    status blocks (formats.cper.Estatus) the previous boot left for BERT.
    """

    def __init__(
        self,
        machine,
        *,
        sources: Iterable[str | int | SourceSpec | tuple] = DEFAULT_SOURCES,
        base: int | None = None,
        boot_errors: Iterable[cper.Estatus] = (),
        dram: DramGeometry | None = None,
    ):
        super().__init__(machine.engine, "fw")
        self.machine = machine
        memory = machine.memory
        raw = [("SOFTWARE_DELEGATED" if isinstance(s, str) and s.upper() == "SDEI" else s) for s in sources]
        self.sources = tuple(_spec(s, i) for i, s in enumerate(raw))
        if base is None:
            ram_base, ram_size = _first_ram(machine)
            base = ram_base + ram_size - FW_REGION_SIZE
        self.base = base
        self.hest_pa = base + HEST_OFFSET
        self.bert_pa = base + BERT_OFFSET
        self.boot_error_region_pa = base + BOOT_ERROR_REGION_OFFSET
        self.hardware_errors_pa = base + HARDWARE_ERRORS_OFFSET
        self.dram = dram or getattr(machine, "dram", None) or DramGeometry()
        need = HARDWARE_ERRORS_OFFSET + (16 + ACPI_GHES_MAX_RAW_DATA_LENGTH) * len(self.sources)
        if need > FW_REGION_SIZE:
            raise ValueError(f"{len(self.sources)} sources need {need} bytes, the firmware region is {FW_REGION_SIZE}")

        hest_bytes, blob = _platform_hest_bytes(self.hardware_errors_pa, self.sources)
        if len(hest_bytes) > BERT_OFFSET - HEST_OFFSET:
            raise ValueError(f"HEST of {len(hest_bytes)} bytes does not fit before the BERT")
        memory.write(self.hest_pa, hest_bytes)
        memory.write(self.hardware_errors_pa, blob)

        region = b"".join(e.encode() for e in boot_errors)
        if len(region) > BOOT_ERROR_REGION_SIZE:
            raise ValueError(f"boot errors take {len(region)} bytes, the region is {BOOT_ERROR_REGION_SIZE}")
        memory.write(self.boot_error_region_pa,
                     region.ljust(BOOT_ERROR_REGION_SIZE, b"\0") if region else _EMPTY_BOOT_ERROR_REGION)
        memory.write(self.bert_pa, _bert_bytes(self.boot_error_region_pa))
        self.trace("acpi_tables_published", HEST=self.hest_pa, BERT=self.bert_pa,
                   sources=[s.notify for s in self.sources], hest_length=len(hest_bytes),
                   boot_error_bytes=len(region))

    @property
    def region(self) -> tuple[int, int]:
        """The reserved firmware region (base, size): the OS must not allocate it."""
        return (self.base, FW_REGION_SIZE)

    def tables(self) -> dict[str, int]:
        """Signature -> PA of each published ACPI table (what the OS finds via its RSDP/XSDT)."""
        return {"HEST": self.hest_pa, "BERT": self.bert_pa}

    def dram_location(self, pa: int, node: int = 0) -> DramAddress:
        """The DRAM location (node, card, module, rank, bank, row, column) of ``pa`` behind
        memory controller ``node``: the platform's address decoder, as TF-A platform code has."""
        r = self.machine.memory.region(pa)
        return self.dram.decode(pa - (r.base if r is not None else 0), node)

    def describe(self) -> dict[str, Any]:
        return {"tables": self.tables(), "region": self.region,
                "sources": [s._asdict() for s in self.sources]}


def _first_ram(machine) -> tuple[int, int]:
    ram = machine.memory.ram
    if not ram:
        raise ValueError("the machine has no RAM for the firmware region")
    return ram[0].base, ram[0].size
