"""UEFI CPER records and ACPI Generic Error Status Blocks, byte-exact both ways.

    from rasflow.formats import cper
    rec = cper.decode(data)          # a CPER record or a Generic Error Status Block, detected
    assert cper.encode(rec) == data  # exact, for every valid input
    d = rec.to_dict(); assert cper.from_dict(d) == rec        # our JSON
    lj = cper.to_libcper(rec); rec2 = cper.from_libcper(lj)   # libcper's JSON
    lines = cper.render_kernel(rec)  # the lines the kernel prints for it
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import FormatError
from ..layout import Guid
from . import guids
from .estatus import (
    AcpiHestGenericData,
    AcpiHestGenericDataV300,
    AcpiHestGenericStatus,
    Estatus,
    GenericData,
    build_estatus,
    cper_estatus_len,
    decode_estatus,
)
from .record import (
    CPER_SIG_RECORD,
    CperRecord,
    CperRecordHeader,
    CperSectionDescriptor,
    RecordSection,
    build_record,
    decode_record,
)
from .sections import RawSection, section_class

Decoded = CperRecord | Estatus


def decode(data: bytes | bytearray | memoryview, *, lenient: bool = False) -> Decoded:
    """Decode a CPER record (starts with ``CPER``) or else a Generic Error Status Block.

    Raises FormatError naming the field and byte offset. ``lenient`` keeps what
    could be read (malformed sections as RawSection, unparsed bytes as trailing);
    ``obj.check()`` then lists the problems.
    """
    mv = memoryview(data)
    if mv[:4] == CPER_SIG_RECORD:
        return decode_record(mv, lenient=lenient)
    if len(mv) < AcpiHestGenericStatus.SIZE:
        raise FormatError(
            f"{len(mv)} bytes: neither a CPER record nor a Generic Error Status Block (20 bytes at least)",
            offset=0, need=AcpiHestGenericStatus.SIZE - len(mv),
        )
    return decode_estatus(mv, 0, len(mv), lenient=lenient)


def decode_all(data: bytes | bytearray | memoryview, *, lenient: bool = False) -> Iterator[CperRecord]:
    """Consecutive CPER records (an ERST or BMC dump), each bounded by its record_length."""
    mv = memoryview(data)
    pos = 0
    while pos < len(mv):
        if bytes(mv[pos : pos + 4]) != CPER_SIG_RECORD:
            raise FormatError("expected another CPER record", path="signature", offset=pos)
        rlen = int.from_bytes(mv[pos + 20 : pos + 24], "little")
        if rlen < 128:
            raise FormatError(f"record_length {rlen} is smaller than the header", path="record_length", offset=pos + 20)
        try:
            yield decode_record(mv, pos, length=min(rlen, len(mv) - pos), lenient=lenient)
        except FormatError as e:
            raise e.within(f"records[@{pos:#x}]") from None
        pos += rlen


def encode(obj: Decoded) -> bytes:
    return obj.encode()


def from_dict(d: dict[str, Any]) -> Decoded:
    """Our JSON (``obj.to_dict()``) back to the object; ``kind`` says which."""
    if not isinstance(d, dict):
        raise FormatError("expected a JSON object")
    kind = d.get("kind")
    if kind == CperRecord.kind:
        return CperRecord.from_dict(d)
    if kind == Estatus.kind:
        return Estatus.from_dict(d)
    raise FormatError(f"kind must be {CperRecord.kind!r} or {Estatus.kind!r}, got {kind!r}", path="kind")


def record_to_estatus(rec: CperRecord, *, revision: int = 0x0300) -> Estatus:
    """One Generic Error Data Entry per section (what firmware-first firmware does with
    a CPER record): section type, severity, FRU id/text and flags copied, the record's
    timestamp on every entry, the record's severity on the block."""
    from . import names as n

    entries = []
    ts_valid = bool(rec.header.validation_bits & n.CPER_VALID_TIMESTAMP)
    for s in rec.sections:
        d = s.descriptor
        hcls = AcpiHestGenericDataV300 if revision >> 8 >= 3 else AcpiHestGenericData
        fields = dict(
            section_type=d.section_type, error_severity=d.section_severity, revision=revision,
            validation_bits=(d.validation_bits & 0x3) | (n.ACPI_HEST_GEN_VALID_TIMESTAMP if ts_valid and hcls is AcpiHestGenericDataV300 else 0),
            flags=d.flags & 0xFF, error_data_length=s.body.nbytes, fru_id=d.fru_id, fru_text=d.fru_text,
        )
        if hcls is AcpiHestGenericDataV300:
            fields["time_stamp"] = rec.header.timestamp if ts_valid else 0
        entries.append(GenericData(hcls(**fields), s.body))
    sev = rec.header.error_severity
    status = n.ACPI_HEST_CORRECTABLE if sev == n.CPER_SEV_CORRECTED else n.ACPI_HEST_UNCORRECTABLE
    block = AcpiHestGenericStatus(block_status=status, error_severity=sev)
    return Estatus(block, tuple(entries)).with_lengths()


def estatus_to_record(est: Estatus, *, record_id: int = 0) -> CperRecord:
    """The inverse of record_to_estatus: a record with one section per entry.

    The first entry's timestamp (if valid) becomes the record's.
    """
    sections = []
    ts = None
    for e in est.entries:
        h = e.header
        if ts is None and e.timestamp is not None:
            ts = h.time_stamp
        fields = dict(
            revision=h.revision, validation_bits=h.validation_bits & 0x3, flags=h.flags,
            fru_id=h.fru_id, fru_text=h.fru_text, section_severity=h.error_severity,
        )
        sections.append((e.body, fields))
    return build_record(sections, error_severity=est.block.error_severity, timestamp=ts, record_id=record_id)


def render_kernel(obj: Decoded, *, seq: int | None = None, after: bytes = b"") -> list[str]:
    """The lines the Linux kernel prints for it ("[Hardware Error]: " prefix included).

    A CPER record is printed as the status block firmware would make of it
    (``record_to_estatus``); ``seq`` adds the ``{n}`` prefix GHES uses; ``after`` is the
    memory after the block, which the kernel reads for sections shorter than it assumes.
    """
    from ..render.kernel import render_estatus

    if isinstance(obj, CperRecord):
        obj = record_to_estatus(obj)
    return render_estatus(obj, seq=seq, after=after)


def to_libcper(obj: Decoded, *, arm_type_names: str = "libcper") -> dict[str, Any]:
    """libcper's JSON IR for a record (a status block is first wrapped into a record)."""
    from ..render.libcper import to_libcper as _to

    return _to(obj, arm_type_names=arm_type_names)


def from_libcper(d: dict[str, Any]) -> CperRecord:
    """A record from libcper's JSON IR (fields libcper left out encode as zero, as libcper does)."""
    from ..render.libcper import from_libcper as _from

    return _from(d)


__all__ = [
    "AcpiHestGenericData",
    "AcpiHestGenericDataV300",
    "AcpiHestGenericStatus",
    "CperRecord",
    "CperRecordHeader",
    "CperSectionDescriptor",
    "Estatus",
    "FormatError",
    "GenericData",
    "Guid",
    "RawSection",
    "RecordSection",
    "build_estatus",
    "build_record",
    "cper_estatus_len",
    "decode",
    "decode_all",
    "decode_estatus",
    "decode_record",
    "encode",
    "estatus_to_record",
    "from_dict",
    "from_libcper",
    "guids",
    "record_to_estatus",
    "render_kernel",
    "section_class",
    "to_libcper",
]
