"""Lines a person reads for a decoded ACPI table (separate from the codecs; returns text, prints nothing)."""

from __future__ import annotations

from typing import Any

from . import names as n
from .bert import Bert
from .einj import Einj, EinjEntry, EinjErrorTypeWithAddr
from .header import AcpiTableHeader, Gas
from .hest import Hest
from .hest_sources import (
    Ghes,
    GhesV2,
    IaCorrected,
    IaDeferredCheck,
    IaMachineCheck,
    IaNmi,
    UnknownSource,
)


def _text(b: bytes) -> str:
    return b.decode("latin-1").rstrip("\0")


def describe_header(h: AcpiTableHeader, checksum_ok: bool | None = None, expected: int | None = None) -> str:
    ck = f"checksum {h.checksum:#04x}"
    if checksum_ok is False:
        ck += f" WRONG (should be {expected:#04x})" if expected is not None else " WRONG"
    elif checksum_ok:
        ck += " ok"
    return (
        f"{_text(h.signature)}: {h.length} bytes, revision {h.revision}, OEM {_text(h.oem_id)!r} "
        f"{_text(h.oem_table_id)!r} rev {h.oem_revision}, creator {_text(h.asl_compiler_id)!r} "
        f"rev {h.asl_compiler_revision:#x}, {ck}"
    )


def describe_gas(g: Gas) -> str:
    """``0x43f00000 (SystemMemory, 64-bit at bit 0, QWord access)``."""
    return (
        f"{g.address:#x} ({n.name_of(n.GAS_SPACE_IDS, g.space_id)}, {g.bit_width}-bit at bit {g.bit_offset}, "
        f"{n.name_of(n.GAS_ACCESS_WIDTHS, g.access_width)} access)"
    )


def describe_notify_type(value: int) -> str:
    return f"{n.name_of(n.NOTIFY_TYPES, value)} ({value})"


def describe_source(i: int, s: Any) -> list[str]:
    head = f"source[{i}] id {s.source_id}: {n.name_of(n.HEST_TYPES, s.type)} (type {s.type})"
    if isinstance(s, UnknownSource):
        return [head + f", {len(s.body)} raw bytes (size unknown: the rest of the table)"]
    enabled = getattr(s, "enabled", None)
    if enabled is not None:
        head += ", enabled" if enabled else ", disabled"
    lines = [head]
    if isinstance(s, Ghes):  # GhesV2 extends Ghes
        related = "none" if s.related_source_id == 0xFFFF else str(s.related_source_id)
        lines.append(f"  notify {describe_notify_type(s.notify_type)}, related source {related}")
        if s.notify_type == n.ACPI_HEST_NOTIFY_POLLED or s.notify_poll_interval:
            lines.append(f"  poll interval {s.notify_poll_interval} ms")
        if s.notify_vector:
            lines.append(f"  vector {s.notify_vector}")
        lines.append(f"  error status address {describe_gas(s.error_status_address)}")
        lines.append(
            f"  error block length {s.error_block_length}, max raw data {s.max_raw_data_length}, "
            f"records {s.records_to_preallocate}, max sections {s.max_sections_per_record}"
        )
        if isinstance(s, GhesV2):
            lines.append(f"  read ack register {describe_gas(s.read_ack_register)}")
            lines.append(f"  read ack preserve {s.read_ack_preserve:#x}, write {s.read_ack_write:#x}")
    elif isinstance(s, IaMachineCheck | IaCorrected | IaDeferredCheck):
        if isinstance(s, IaCorrected):  # IaDeferredCheck extends it
            lines.append(f"  notify {describe_notify_type(s.notify_type)}")
        flags = n.flag_names(n.HEST_SOURCE_FLAGS, s.flags)
        lines.append(f"  {s.num_hardware_banks} hardware banks, flags {', '.join(flags) or 'none'}")
        banks = s.error_banks
        if banks and not s.banks.strip(b"\0"):
            lines.append(f"  banks 0..{len(banks) - 1}: all fields 0")
        for b in banks if s.banks.strip(b"\0") else ():
            lines.append(f"  bank {b.bank_number}: control {b.control_register:#x} status {b.status_register:#x} addr {b.address_register:#x}")
    elif isinstance(s, IaNmi):
        lines.append(f"  max raw data length {s.max_raw_data_length}")
    else:  # AER sources
        flags = n.flag_names(n.HEST_SOURCE_FLAGS, s.flags)
        seg = (s.bus >> 8) & 0xFFFF
        lines.append(
            f"  device {seg:04x}:{s.bus & 0xFF:02x}:{s.device:02x}.{s.function:x}, flags {', '.join(flags) or 'none'}, "
            f"uncorrectable mask {s.uncorrectable_mask:#x} severity {s.uncorrectable_severity:#x}, correctable mask {s.correctable_mask:#x}"
        )
    return lines


def describe_error_types(mask: int) -> str:
    return ", ".join(n.flag_names(n.EINJ_ERROR_TYPES, mask)) or "none"


def describe_einj_entry(i: int, e: EinjEntry) -> str:
    return (
        f"[{i}] {n.name_of(n.EINJ_ACTIONS, e.action)}: {n.name_of(n.EINJ_INSTRUCTIONS, e.instruction)} "
        f"{describe_gas(e.register_region)} value {e.value:#x} mask {e.mask:#x}"
        + (" preserve" if e.flags & 1 else "")
    )


def describe_error_type_with_addr(s: EinjErrorTypeWithAddr) -> list[str]:
    flags = n.flag_names(n.EINJ_SETWA_FLAGS, s.flags)
    return [
        f"error type {s.error_type:#x}: {describe_error_types(s.error_type)}",
        f"flags {', '.join(flags) or 'none'}, apic id {s.apic_id}, address {s.address:#x} range {s.range:#x}, pcie {s.pcie_id:#x}",
    ]


def describe(table: Any) -> list[str]:
    """The lines for any decoded table (HEST, BERT, EINJ or a generic one), problems last."""
    lines = [describe_header(table.header, table.checksum_ok(), table.expected_checksum())]
    if isinstance(table, Hest):
        lines.append(f"{table.error_source_count} error sources")
        for i, s in enumerate(table.sources):
            lines += describe_source(i, s)
    elif isinstance(table, Bert):
        lines.append(f"boot error region: {table.region_length} bytes at {table.address:#x}")
    elif isinstance(table, Einj):
        lines.append(f"injection header length {table.header_length}, flags {table.flags:#x}, {table.entries} entries")
        lines += [describe_einj_entry(i, e) for i, e in enumerate(table.instructions)]
    else:
        lines.append(f"{len(table.body)} bytes of body (not decoded)")
    lines += [f"problem: {p}" for p in table.check()]
    return lines
