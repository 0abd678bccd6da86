"""The ACPI Generic Error Status Block and its Generic Error Data Entries.

This is what firmware writes into a GHES error status block, what BERT's boot
error region holds, and what QEMU's ``inject-ghes-v2-error`` takes (base64).
Layouts follow include/acpi/actbl1.h (struct acpi_hest_generic_status,
acpi_hest_generic_data, acpi_hest_generic_data_v300); checks follow
cper_estatus_check_header() and cper_estatus_check() in drivers/firmware/efi/cper.c.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, Guid, GuidField, Names, layout, u8, u16, u32, u64
from . import names as n
from .sections import decode_section, section_from_dict, section_guid, short_name
from .timestamp import Timestamp

_sev = Annotated[u32, Names(n.SEVERITY_KERNEL)]
GDATA_REVISION_MAJOR_MAX = 3  # ACPI 6.x's 0x0300; a newer one is read as the kernel reads it


@layout
class AcpiHestGenericStatus:
    """struct acpi_hest_generic_status (20 bytes): the head of an error status block."""

    block_status: Annotated[u32, Flags(n.BLOCK_STATUS)]
    raw_data_offset: u32
    raw_data_length: u32
    data_length: u32
    error_severity: _sev

    @property
    def error_entry_count(self) -> int:
        return (self.block_status & n.ACPI_HEST_ERROR_ENTRY_COUNT_MASK) >> n.ACPI_HEST_ERROR_ENTRY_COUNT_SHIFT


@layout
class AcpiHestGenericData:
    """struct acpi_hest_generic_data (64 bytes): a Generic Error Data Entry before revision 0x300."""

    section_type: GuidField
    error_severity: _sev
    revision: u16
    validation_bits: Annotated[u8, Flags(n.GDATA_VALID)]
    flags: Annotated[u8, Flags(n.SECTION_FLAGS)]
    error_data_length: u32
    fru_id: GuidField
    fru_text: Bytes[20]


@layout
class AcpiHestGenericDataV300(AcpiHestGenericData):
    """struct acpi_hest_generic_data_v300 (72 bytes): the same, then the timestamp."""

    time_stamp: u64


GESB = AcpiHestGenericStatus.SIZE
_REVISION = struct.Struct("<H")  # acpi_hest_generic_data.revision, at byte 20 of the entry


def gdata_class(revision: int) -> type:
    """acpi_hest_get_version(): revision major >= 3 has the 72-byte form."""
    return AcpiHestGenericDataV300 if revision >> 8 >= 3 else AcpiHestGenericData


class GenericData(NamedTuple):
    """One Generic Error Data Entry: its header and its decoded section."""

    header: AcpiHestGenericData | AcpiHestGenericDataV300
    body: Any

    @property
    def nbytes(self) -> int:
        return self.header.SIZE + self.body.nbytes

    @property
    def timestamp(self) -> Timestamp | None:
        h = self.header
        if h.SIZE == AcpiHestGenericDataV300.SIZE and h.validation_bits & n.ACPI_HEST_GEN_VALID_TIMESTAMP:
            return Timestamp.from_u64(h.time_stamp)
        return None


class Estatus(NamedTuple):
    """A Generic Error Status Block; ``trailing`` is every byte after the data area (raw data, padding)."""

    block: AcpiHestGenericStatus
    entries: tuple[GenericData, ...]
    trailing: bytes = b""

    kind = "estatus"

    @property
    def nbytes(self) -> int:
        return GESB + sum(e.nbytes for e in self.entries) + len(self.trailing)

    @property
    def raw_data(self) -> bytes:
        b = self.block
        if not b.raw_data_length:
            return b""
        start = b.raw_data_offset - GESB - sum(e.nbytes for e in self.entries)
        return self.trailing[max(0, start) : start + b.raw_data_length]

    def encode(self) -> bytes:
        parts = [self.block.encode()]
        for header, body in self.entries:
            parts.append(header.encode())
            parts.append(body.encode())
        parts.append(self.trailing)
        return b"".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "block": self.block.to_dict(),
            "entries": [
                {"type": short_name(e.header.section_type), "header": e.header.to_dict(), "body": e.body.to_dict()}
                for e in self.entries
            ],
        }
        if self.trailing:
            d["trailing"] = self.trailing.hex()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estatus:
        if not isinstance(d, dict):
            raise FormatError("expected an object")
        block = AcpiHestGenericStatus.from_dict(d.get("block"), path="block")
        entries = []
        raw_entries = d.get("entries", [])
        if not isinstance(raw_entries, list):
            raise FormatError("expected a list", path="entries")
        for i, e in enumerate(raw_entries):
            p = f"entries[{i}]"
            if not isinstance(e, dict) or not isinstance(e.get("header"), dict):
                raise FormatError("expected {header, body}", path=p)
            hcls = AcpiHestGenericDataV300 if "time_stamp" in e["header"] else AcpiHestGenericData
            header = hcls.from_dict(e["header"], path=f"{p}.header")
            entries.append(GenericData(header, section_from_dict(header.section_type, e.get("body"), path=f"{p}.body")))
        try:
            trailing = bytes.fromhex(d.get("trailing", ""))
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path="trailing") from None
        return cls(block, tuple(entries), trailing)

    def check(self, *, sections: bool = True) -> list[str]:
        """cper_estatus_check_header() and cper_estatus_check() as problems, then
        (with ``sections``) each section's own problems, which the kernel does not check."""
        b, out = self.block, []
        if b.data_length and b.data_length < AcpiHestGenericData.SIZE:
            out.append(f"data_length {b.data_length} is smaller than a generic data entry")
        if b.raw_data_length and b.raw_data_offset < GESB + b.data_length:
            out.append(f"raw_data_offset {b.raw_data_offset} overlaps the data area")
        used = sum(e.nbytes for e in self.entries)
        if used != b.data_length:
            out.append(f"data_length {b.data_length} but the entries take {used} bytes")
        for i, e in enumerate(self.entries):
            if sections and e.header.revision >> 8 > GDATA_REVISION_MAJOR_MAX:
                out.append(f"entries[{i}]: revision {e.header.revision:#06x} is newer than ACPI "
                           f"defines ({GDATA_REVISION_MAJOR_MAX:#04x}00): read in the 72-byte form, "
                           "as the kernel's acpi_hest_get_version() does")
            if e.header.error_data_length != e.body.nbytes:
                out.append(f"entries[{i}]: error_data_length {e.header.error_data_length} but the section is {e.body.nbytes} bytes")
            if sections:
                out += [f"entries[{i}]: {p}" for p in getattr(e.body, "check", list)()]
        return out

    def with_lengths(self) -> Estatus:
        """Fill data_length, every error_data_length and section_type from the entries."""
        entries = []
        data_length = 0
        for header, body in self.entries:
            size = body.nbytes
            entries.append(GenericData(header._replace(error_data_length=size, section_type=section_guid(body)), body))
            data_length += header.SIZE + size
        return self._make((self.block._replace(data_length=data_length), tuple(entries), self.trailing))


def cper_estatus_len(block: AcpiHestGenericStatus) -> int:
    """The kernel's cper_estatus_len(): the block's bytes, raw data included."""
    if block.raw_data_length:
        return block.raw_data_offset + block.raw_data_length
    return GESB + block.data_length


def decode_estatus(buf, off: int = 0, length: int | None = None, *, lenient: bool = False) -> Estatus:
    """Decode the status block at ``off``.

    ``length`` bounds it; by default it is cper_estatus_len() (so a walker over a
    BERT region can step by ``.nbytes``). Strict decoding raises FormatError when
    the entries do not add up to data_length; ``lenient`` keeps the rest as trailing.
    """
    mv = memoryview(buf)
    try:
        block = AcpiHestGenericStatus.decode(mv, off)
    except FormatError as e:
        raise e.within("block") from None
    if length is None:
        length = max(cper_estatus_len(block), GESB + block.data_length)
    end_all = off + length
    buf_len = len(mv)
    if end_all > buf_len:
        raise FormatError(
            f"status block needs {length} bytes, have {buf_len - off}",
            path="block.data_length", offset=off + 12, need=end_all - buf_len,
        )
    data_end = off + GESB + block.data_length
    if data_end > end_all:
        if not lenient:
            raise FormatError(
                f"data_length {block.data_length} is beyond the block ({length} bytes)",
                path="block.data_length", offset=off + 12, need=data_end - end_all,
            )
        data_end = end_all
    entries = []
    pos = off + GESB
    while pos < data_end:
        try:
            if pos + 22 > data_end:
                raise FormatError(f"{data_end - pos} bytes left in data_length, too few for an entry header", path="header", offset=pos)
            rev = _REVISION.unpack_from(mv, pos + 20)[0]
            hcls = gdata_class(rev)  # any major >= 3: the 72-byte form, as the kernel reads it
            spos = pos + hcls.SIZE
            if spos > data_end:
                raise FormatError(
                    f"entry header needs {hcls.SIZE} bytes, {data_end - pos} left in data_length",
                    path="header", offset=pos, need=spos - data_end,
                )
            header = hcls.decode(mv, pos)
            slen = header.error_data_length
            if spos + slen > data_end:
                raise FormatError(
                    f"error_data_length {slen} runs past data_length by {spos + slen - data_end} bytes",
                    path="header.error_data_length", offset=pos + 24,
                )
            try:
                body = decode_section(header.section_type, mv, spos, slen, lenient=lenient)
            except FormatError as e:
                raise e.within("body") from None
        except FormatError as e:
            if not lenient:
                raise e.within(f"entries[{len(entries)}]") from None
            break
        entries.append(GenericData(header, body))
        pos = spos + slen
    return Estatus(block, tuple(entries), bytes(mv[pos:end_all]) if pos != end_all else b"")


def build_estatus(
    sections: Iterable[Any | tuple[Any, dict[str, Any]]],
    *,
    error_severity: int,
    block_status: int | None = None,
    revision: int = 0x0300,
) -> Estatus:
    """Build a well-formed status block, one entry per section (what firmware writes).

    ``block_status`` defaults to the UE or CE bit from the severity, as firmware
    (and QEMU's acpi_ghes_memory_errors) sets it.
    """
    entries = []
    hcls = gdata_class(revision)
    for item in sections:
        body, fields = (item, {}) if hasattr(item, "encode") else item
        header = hcls(**{"error_severity": error_severity, "revision": revision, **fields})
        entries.append(GenericData(header, body))
    if block_status is None:
        block_status = n.ACPI_HEST_CORRECTABLE if error_severity == n.CPER_SEV_CORRECTED else n.ACPI_HEST_UNCORRECTABLE
    block = AcpiHestGenericStatus(block_status=block_status, error_severity=error_severity)
    return Estatus(block, tuple(entries)).with_lengths()


__all__ = [
    "AcpiHestGenericData",
    "AcpiHestGenericDataV300",
    "AcpiHestGenericStatus",
    "Estatus",
    "GenericData",
    "Guid",
    "build_estatus",
    "cper_estatus_len",
    "decode_estatus",
]
