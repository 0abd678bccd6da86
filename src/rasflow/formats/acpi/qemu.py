"""QEMU arm/virt's HEST and ``etc/hardware_errors`` blob, byte for byte (hw/acpi/ghes.c).

acpi_build_hest() writes one GHESv2 entry per notification source
(build_ghes_v2_entry()) and build_ghes_error_table() writes the blob:

    N x u64 error_block_address   patched by the firmware's linker to point at block i
    N x u64 read_ack_register     initialised to 1 so the first error can be recorded
    N x 1024-byte Generic Error Status Blocks

Each entry's Error Status Address GAS points at ``error_block_address[i]`` (a
pointer to the block, as the GHESv2 spec wants) and its Read Ack Register GAS at
``read_ack_register[i]``. The addresses here are what the guest sees once the
firmware has placed the blob at ``error_block_base`` and patched the pointers;
the checksum is computed after patching, as the linker's ADD_CHECKSUM does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..errors import FormatError
from ..layout import layout, u64
from . import names as n
from .header import text_bytes
from .hest import Hest, build_hest
from .hest_sources import GhesV2

ACPI_GHES_MAX_RAW_DATA_LENGTH = 1024  # the size of each error status block (docs/specs still say 4096)
QEMU_OEM_ID = b"BOCHS "  # ACPI_BUILD_APPNAME6
QEMU_OEM_TABLE_ID = b"BXPC    "  # ACPI_BUILD_APPNAME8
QEMU_CREATOR_ID = b"BXPC"  # first 4 bytes of ACPI_BUILD_APPNAME8, acpi_table_begin()

# hw/arm/virt-acpi-build.c: hest_ghes_notify[] = {SYNC(0), SEA}, {QMP(1), GPIO};
# hest_ghes_notify_10_0[] (machine types without x-has-hest-addr) = {SEA(0), SEA}.
QEMU_VIRT_SOURCES: tuple[str, ...] = ("SEA", "GPIO")
QEMU_VIRT_SOURCES_10_0: tuple[str, ...] = ("SEA",)
ACPI_HEST_SRC_ID_SYNC = 0
ACPI_HEST_SRC_ID_QMP = 1


@layout
class Le64:
    """One little-endian u64 of the blob's address arrays."""

    value: u64


class HardwareErrors(NamedTuple):
    """The ``etc/hardware_errors`` blob as the guest sees it at ``base``."""

    base: int
    error_block_address: tuple[int, ...]
    read_ack_register: tuple[int, ...]
    blocks: tuple[bytes, ...]

    @property
    def num_sources(self) -> int:
        return len(self.error_block_address)

    def error_block_address_slot(self, i: int) -> int:
        """Guest address of ``error_block_address[i]`` (the Error Status Address GAS points here)."""
        return self.base + 8 * i

    def read_ack_register_slot(self, i: int) -> int:
        """Guest address of ``read_ack_register[i]`` (the Read Ack Register GAS points here)."""
        return self.base + 8 * (self.num_sources + i)

    def block_address(self, i: int) -> int:
        """Guest address of the i-th 1024-byte Generic Error Status Block."""
        return self.base + 16 * self.num_sources + ACPI_GHES_MAX_RAW_DATA_LENGTH * i

    def encode(self) -> bytes:
        words = b"".join(Le64(v).encode() for v in (*self.error_block_address, *self.read_ack_register))
        return words + b"".join(self.blocks)

    @classmethod
    def decode(cls, blob, num_sources: int, base: int = 0) -> HardwareErrors:
        """Split a blob of ``num_sources`` sources (16·N + 1024·N bytes)."""
        mv = memoryview(blob)
        want = (16 + ACPI_GHES_MAX_RAW_DATA_LENGTH) * num_sources
        if len(mv) != want:
            raise FormatError(f"a blob for {num_sources} sources is {want} bytes, have {len(mv)}", offset=0,
                              need=max(0, want - len(mv)) or None)
        words = [Le64.decode(mv, 8 * i).value for i in range(2 * num_sources)]
        start = 16 * num_sources
        blocks = tuple(bytes(mv[start + i * ACPI_GHES_MAX_RAW_DATA_LENGTH : start + (i + 1) * ACPI_GHES_MAX_RAW_DATA_LENGTH])
                       for i in range(num_sources))
        return cls(base, tuple(words[:num_sources]), tuple(words[num_sources:]), blocks)


def qemu_hardware_errors(error_block_base: int, num_sources: int) -> HardwareErrors:
    """build_ghes_error_table(), with the linker's pointer patches applied for a blob at ``error_block_base``."""
    start = error_block_base + 16 * num_sources
    return HardwareErrors(
        error_block_base,
        tuple(start + i * ACPI_GHES_MAX_RAW_DATA_LENGTH for i in range(num_sources)),
        (1,) * num_sources,
        (b"\0" * ACPI_GHES_MAX_RAW_DATA_LENGTH,) * num_sources,
    )


def _notify(value: str | int) -> int:
    if isinstance(value, int):
        return value
    try:
        return n.NOTIFY_BY_NAME[value.upper()]
    except KeyError:
        raise ValueError(f"unknown notification type {value!r}; one of {', '.join(n.NOTIFY_TYPES.values())}") from None


def qemu_ghes_v2_entry(source_id: int, notify: str | int, error_status_slot: int, read_ack_slot: int) -> GhesV2:
    """build_ghes_v2_entry(): one 92-byte GHESv2 source as QEMU writes it."""
    return GhesV2(
        type=n.ACPI_HEST_TYPE_GENERIC_ERROR_V2,
        source_id=source_id,
        related_source_id=0xFFFF,
        reserved=0,  # QEMU's "Flags"
        enabled=1,
        records_to_preallocate=1,
        max_sections_per_record=1,
        max_raw_data_length=ACPI_GHES_MAX_RAW_DATA_LENGTH,
        error_status_address_space_id=n.ACPI_ADR_SPACE_SYSTEM_MEMORY,
        error_status_address_bit_width=0x40,
        error_status_address_bit_offset=0,
        error_status_address_access_width=4,  # QWord access
        error_status_address_address=error_status_slot,
        notify_type=_notify(notify),
        notify_length=n.HEST_NOTIFY_LENGTH,  # build_ghes_hw_error_notification(): everything else 0
        error_block_length=ACPI_GHES_MAX_RAW_DATA_LENGTH,
        read_ack_register_space_id=n.ACPI_ADR_SPACE_SYSTEM_MEMORY,
        read_ack_register_bit_width=0x40,
        read_ack_register_bit_offset=0,
        read_ack_register_access_width=4,
        read_ack_register_address=read_ack_slot,
        read_ack_preserve=~1 & (1 << 64) - 1,  # only bit 0 is OSPM's to write
        read_ack_write=1,
    )


def qemu_virt_hest(
    error_block_base: int,
    sources: Sequence[str | int | tuple[int, str | int]] = QEMU_VIRT_SOURCES,
    *,
    oem_id: bytes | str = QEMU_OEM_ID,
    oem_table_id: bytes | str = QEMU_OEM_TABLE_ID,
) -> tuple[Hest, bytes]:
    """QEMU virt's HEST and its ``etc/hardware_errors`` blob placed at guest address ``error_block_base``.

    ``sources`` lists notification types (source id = position, as in QEMU) or
    ``(source_id, notify)`` pairs. The default is today's ``("SEA", "GPIO")``:
    a 224-byte HEST and a 2080-byte blob. Returns ``(hest, blob)``; ``hest.encode()``
    gives the table bytes.
    """
    pairs = [s if isinstance(s, tuple) else (i, s) for i, s in enumerate(sources)]
    hw = qemu_hardware_errors(error_block_base, len(pairs))
    entries = [
        qemu_ghes_v2_entry(sid, notify, hw.error_block_address_slot(i), hw.read_ack_register_slot(i))
        for i, (sid, notify) in enumerate(pairs)
    ]
    hest = build_hest(
        entries,
        oem_id=text_bytes(oem_id, 6),
        oem_table_id=text_bytes(oem_table_id, 8),
        revision=1,
        oem_revision=1,
        asl_compiler_id=QEMU_CREATOR_ID,
        asl_compiler_revision=1,
    )
    return hest, hw.encode()


def qemu_virt_hest_legacy(error_block_base: int, **kw) -> tuple[Hest, bytes]:
    """The single-SEA-source layout of older machine types (hest_ghes_notify_10_0): 132-byte HEST, 1040-byte blob."""
    return qemu_virt_hest(error_block_base, QEMU_VIRT_SOURCES_10_0, **kw)
