"""EINJ, the Error Injection table, its instruction entries and the structures its actions use.

Layouts follow include/acpi/actbl1.h: struct acpi_table_einj, struct
acpi_whea_header (one 32-byte injection instruction entry), struct
acpi_einj_error_type_with_addr (the SET_ERROR_TYPE_WITH_ADDRESS structure),
struct acpi_einj_vendor and struct acpi_einj_trigger. Checks follow
einj_check_table() in drivers/acpi/apei/einj-core.c.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, Names, layout, u8, u16, u32, u64
from . import names as n
from .header import (
    HEADER_SIZE,
    AcpiTable,
    AcpiTableHeader,
    Gas,
    Problem,
    decode_header,
    hex_field,
    list_field,
    require_mapping,
    strict_check,
)

SIGNATURE = b"EINJ"
ENTRIES_OFFSET = HEADER_SIZE + 12

_space = Annotated[u8, Names(n.GAS_SPACE_IDS)]
_access = Annotated[u8, Names(n.GAS_ACCESS_WIDTHS)]


@layout
class EinjFixed:
    """The part of struct acpi_table_einj after the header."""

    header_length: u32
    flags: u8
    reserved: Bytes[3]
    entries: u32


@layout
class EinjEntry:
    """struct acpi_whea_header (32 bytes): one injection instruction entry; the GAS is flattened."""

    action: Annotated[u8, Names(n.EINJ_ACTIONS)]
    instruction: Annotated[u8, Names(n.EINJ_INSTRUCTIONS)]
    flags: Annotated[u8, Flags(n.EINJ_ENTRY_FLAGS)]
    reserved: u8
    register_region_space_id: _space
    register_region_bit_width: u8
    register_region_bit_offset: u8
    register_region_access_width: _access
    register_region_address: u64
    value: u64
    mask: u64

    @property
    def register_region(self) -> Gas:
        return Gas(
            self.register_region_space_id,
            self.register_region_bit_width,
            self.register_region_bit_offset,
            self.register_region_access_width,
            self.register_region_address,
        )


@layout
class EinjErrorTypeWithAddr:
    """struct acpi_einj_error_type_with_addr (36 bytes): what SET_ERROR_TYPE_WITH_ADDRESS's register points at.

    einj-core.c names the same fields type, vendor_extension, flags, apicid,
    memory_address, memory_address_range, pcie_sbdf.
    """

    error_type: Annotated[u32, Flags(n.EINJ_ERROR_TYPES)]
    vendor_struct_offset: u32
    flags: Annotated[u32, Flags(n.EINJ_SETWA_FLAGS)]
    apic_id: u32
    address: u64
    range: u64
    pcie_id: u32


@layout
class EinjVendor:
    """struct acpi_einj_vendor (16 bytes): the vendor extension at ``vendor_struct_offset``."""

    length: u32
    pcie_id: u32
    vendor_id: u16
    device_id: u16
    revision_id: u8
    reserved: Bytes[3]


@layout
class EinjTrigger:
    """struct acpi_einj_trigger (16 bytes): the head of the Trigger Error Action Table."""

    header_size: u32
    revision: u32
    table_size: u32
    entry_count: u32


class _EinjBase(NamedTuple):
    header: AcpiTableHeader
    header_length: int
    flags: int
    reserved: bytes
    entries: int
    instructions: tuple[EinjEntry, ...]
    trailing: bytes = b""
    excess: bytes = b""


class Einj(AcpiTable, _EinjBase):
    """A decoded EINJ: ``entries`` is the count field, ``instructions`` the decoded entries."""

    __slots__ = ()
    kind: ClassVar[str] = "acpi-einj"
    SIGNATURE: ClassVar[bytes] = SIGNATURE

    def structure_bytes(self) -> bytes:
        fixed = EinjFixed(self.header_length, self.flags, self.reserved, self.entries).encode()
        return fixed + b"".join(e.encode() for e in self.instructions)

    def actions(self, action: int) -> list[EinjEntry]:
        """The instructions implementing one action, in table order (what apei_exec_run() runs)."""
        return [e for e in self.instructions if e.action == action]

    def check_structure(self) -> list[Problem]:
        out: list[Problem] = []
        # einj_check_table(): header_length is sizeof(acpi_table_einj) minus or including the header
        if self.header_length not in (12, ENTRIES_OFFSET):
            out.append(Problem(f"header_length {self.header_length} is neither 12 nor {ENTRIES_OFFSET}", "header_length", HEADER_SIZE))
        room = (self.header.length - ENTRIES_OFFSET) // n.EINJ_ENTRY_SIZE if self.header.length >= ENTRIES_OFFSET else 0
        if self.entries != room:
            out.append(Problem(f"entries {self.entries} but the table length has room for {room}", "entries", HEADER_SIZE + 8))
        for i, e in enumerate(self.instructions):
            off = ENTRIES_OFFSET + i * n.EINJ_ENTRY_SIZE
            if e.action not in n.EINJ_ACTIONS:
                out.append(Problem(f"unknown action {e.action:#x}", f"instructions[{i}].action", off))
            if e.instruction not in n.EINJ_INSTRUCTIONS:
                out.append(Problem(f"unknown instruction {e.instruction}", f"instructions[{i}].instruction", off + 1))
        if self.trailing:
            out.append(Problem(f"{len(self.trailing)} bytes after the instruction entries", "trailing",
                               ENTRIES_OFFSET + len(self.instructions) * n.EINJ_ENTRY_SIZE))
        return out

    def with_counts(self) -> Einj:
        return self._replace(entries=len(self.instructions))

    def to_dict(self) -> dict[str, Any]:
        fixed = EinjFixed(self.header_length, self.flags, self.reserved, self.entries).to_dict()
        return {**self.header_dict(), **fixed, "instructions": [e.to_dict() for e in self.instructions], **self.tail_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Einj:
        d = require_mapping(d, "EINJ")
        header = AcpiTableHeader.from_dict(d.get("header", {}), path="header")
        fixed = EinjFixed.from_dict({k: d[k] for k in EinjFixed._fields if k in d})
        instructions = tuple(EinjEntry.from_dict(e, path=f"instructions[{i}]") for i, e in enumerate(list_field(d, "instructions")))
        return cls(header, *fixed, instructions, hex_field(d, "trailing"), hex_field(d, "excess"))

    @classmethod
    def decode(cls, buf, strict: bool = False) -> Einj:
        return decode(buf, strict)


def decode(buf, strict: bool = False) -> Einj:
    """Decode an EINJ; ``strict`` raises the first ``check()`` problem."""
    mv = memoryview(buf)
    header, end = decode_header(mv)
    body = mv[:end]
    fixed = EinjFixed.decode(body, HEADER_SIZE)
    room = (end - ENTRIES_OFFSET) // n.EINJ_ENTRY_SIZE
    if fixed.entries > room:
        raise FormatError(
            f"entries is {fixed.entries} but the table (length {end}) holds {room}: "
            f"instructions[{room}] would start at offset {ENTRIES_OFFSET + room * n.EINJ_ENTRY_SIZE:#x}",
            path="entries", offset=HEADER_SIZE + 8,
        )
    instructions = tuple(EinjEntry.decode(body, ENTRIES_OFFSET + i * n.EINJ_ENTRY_SIZE) for i in range(fixed.entries))
    stop = ENTRIES_OFFSET + fixed.entries * n.EINJ_ENTRY_SIZE
    t = Einj(header, *fixed, instructions, bytes(mv[stop:end]), bytes(mv[end:]))
    return strict_check(t, strict)


def build_einj(instructions, *, flags: int = 0, oem_id: bytes = b"\0" * 6, oem_table_id: bytes = b"\0" * 8) -> Einj:
    """A well-formed EINJ: header_length 12, count, length and checksum filled in."""
    header = AcpiTableHeader(SIGNATURE, 0, 1, 0, oem_id, oem_table_id, 1, b"\0" * 4, 1)
    return Einj(header, 12, flags, b"\0" * 3, 0, tuple(instructions)).with_lengths().with_checksum()


class TriggerTable(NamedTuple):
    """A Trigger Error Action Table (what GET_TRIGGER_ERROR_ACTION_TABLE returns the address of)."""

    head: EinjTrigger
    instructions: tuple[EinjEntry, ...]
    gap: bytes = b""  # between the 16-byte head and header_size
    trailing: bytes = b""

    def encode(self) -> bytes:
        return self.head.encode() + self.gap + b"".join(e.encode() for e in self.instructions) + self.trailing


def decode_trigger_table(buf) -> TriggerTable:
    """Decode a trigger table: ``entry_count`` 32-byte entries after ``header_size`` bytes, within ``table_size``."""
    mv = memoryview(buf)
    head = EinjTrigger.decode(mv, 0)
    end = min(len(mv), head.table_size) if head.table_size >= EinjTrigger.SIZE else len(mv)
    start = head.header_size
    if start < EinjTrigger.SIZE or start > end:
        raise FormatError(f"header_size {start} is outside the table ({end} bytes)", path="header_size", offset=0)
    if start + head.entry_count * n.EINJ_ENTRY_SIZE > end:
        raise FormatError(
            f"entry_count {head.entry_count} needs {head.entry_count * n.EINJ_ENTRY_SIZE} bytes after the header, "
            f"{end - start} available", path="entry_count", offset=12,
        )
    entries = tuple(EinjEntry.decode(mv, start + i * n.EINJ_ENTRY_SIZE) for i in range(head.entry_count))
    stop = start + head.entry_count * n.EINJ_ENTRY_SIZE
    return TriggerTable(head, entries, bytes(mv[EinjTrigger.SIZE : start]), bytes(mv[stop:]))
