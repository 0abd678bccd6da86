"""The UEFI CPER record: 128-byte header, 72-byte section descriptors, section bodies.

Layouts follow include/linux/cper.h (struct cper_record_header,
struct cper_section_descriptor). A decoded record keeps every byte: bytes no
header, descriptor or section covers are kept in ``extra`` so that
``encode(decode(b)) == b`` even for records with gaps or odd offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, GuidField, Names, layout, u8, u16, u32, u64
from . import names as n
from .sections import decode_section, section_from_dict, section_guid, short_name
from .timestamp import Timestamp

CPER_SIG_RECORD = b"CPER"
CPER_SIG_END = 0xFFFFFFFF
CPER_RECORD_REV = 0x0100
RECORD_REVISION_MAJOR_MAX = 1  # UEFI 2.10 writes 0x0101; libcper writes 0


_sev = Annotated[u32, Names(n.SEVERITY_KERNEL)]


@layout
class CperRecordHeader:
    """struct cper_record_header (128 bytes)."""

    signature: Bytes[4]
    revision: u16
    signature_end: u32
    section_count: u16
    error_severity: _sev
    validation_bits: Annotated[u32, Flags(n.RECORD_VALID)]
    record_length: u32
    timestamp: u64
    platform_id: GuidField
    partition_id: GuidField
    creator_id: GuidField
    notification_type: GuidField
    record_id: u64
    flags: Annotated[u32, Flags(n.RECORD_FLAGS)]
    persistence_information: u64
    reserved: Bytes[12]


@layout
class CperSectionDescriptor:
    """struct cper_section_descriptor (72 bytes)."""

    section_offset: u32
    section_length: u32
    revision: u16
    validation_bits: Annotated[u8, Flags(n.SECTION_VALID)]
    reserved: u8
    flags: Annotated[u32, Flags(n.SECTION_FLAGS)]
    section_type: GuidField
    fru_id: GuidField
    section_severity: _sev
    fru_text: Bytes[20]


HDR = CperRecordHeader.SIZE
DESC = CperSectionDescriptor.SIZE


class RecordSection(NamedTuple):
    """One section: its descriptor and its decoded body."""

    descriptor: CperSectionDescriptor
    body: Any


class CperRecord(NamedTuple):
    """A whole CPER record; ``extra`` holds (offset, bytes) runs nothing else covers."""

    header: CperRecordHeader
    sections: tuple[RecordSection, ...]
    extra: tuple[tuple[int, bytes], ...] = ()

    kind = "cper_record"

    @property
    def nbytes(self) -> int:
        """Bytes the record spans: header, descriptors, sections and extra runs (a decoded
        record keeps any bytes up to record_length as extra, so this is its length)."""
        return _covered_end(self)

    @property
    def timestamp(self) -> Timestamp | None:
        if self.header.validation_bits & n.CPER_VALID_TIMESTAMP:
            return Timestamp.from_u64(self.header.timestamp)
        return None

    def encode(self) -> bytes:
        """The record's bytes exactly as decoded (nothing is recomputed: see with_lengths)."""
        buf = bytearray(self.nbytes)
        buf[0:HDR] = self.header.encode()
        pos = HDR
        for s in self.sections:
            buf[pos : pos + DESC] = s.descriptor.encode()
            pos += DESC
        for s in self.sections:
            off = s.descriptor.section_offset
            body = s.body.encode()
            buf[off : off + len(body)] = body
        for off, data in self.extra:
            buf[off : off + len(data)] = data
        return bytes(buf)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "header": self.header.to_dict(),
            "sections": [
                {
                    "type": short_name(s.descriptor.section_type),
                    "descriptor": s.descriptor.to_dict(),
                    "body": s.body.to_dict(),
                }
                for s in self.sections
            ],
            **({"extra": [{"offset": o, "data": d.hex()} for o, d in self.extra]} if self.extra else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CperRecord:
        header = CperRecordHeader.from_dict(d.get("header"), path="header")
        sections = []
        for i, s in enumerate(_list(d, "sections")):
            p = f"sections[{i}]"
            if not isinstance(s, dict):
                raise FormatError("expected an object", path=p)
            desc = CperSectionDescriptor.from_dict(s.get("descriptor"), path=f"{p}.descriptor")
            body = section_from_dict(desc.section_type, s.get("body"), path=f"{p}.body")
            sections.append(RecordSection(desc, body))
        extra = []
        for i, e in enumerate(_list(d, "extra", required=False)):
            try:
                extra.append((int(e["offset"]), bytes.fromhex(e["data"])))
            except (KeyError, TypeError, ValueError):
                raise FormatError("expected {offset, data}", path=f"extra[{i}]") from None
        return cls(header, tuple(sections), tuple(extra))

    def check(self) -> list[str]:
        """Problems a strict reader would reject, without raising."""
        h, out = self.header, []
        if h.signature != CPER_SIG_RECORD:
            out.append(f"signature {h.signature!r} is not b'CPER'")
        if h.signature_end != CPER_SIG_END:
            out.append(f"signature_end {h.signature_end:#x} is not 0xffffffff")
        if h.section_count != len(self.sections):
            out.append(f"section_count {h.section_count} but {len(self.sections)} sections")
        if h.record_length != self.nbytes:
            out.append(f"record_length {h.record_length} but the record spans {self.nbytes} bytes")
        for i, s in enumerate(self.sections):
            if s.descriptor.section_length != s.body.nbytes:
                out.append(f"sections[{i}]: section_length {s.descriptor.section_length} but body is {s.body.nbytes} bytes")
            out += [f"sections[{i}]: {p}" for p in getattr(s.body, "check", list)()]
        return out

    def with_lengths(self) -> CperRecord:
        """Lay the sections out contiguously and fill the derived counts, lengths and offsets."""
        pos = HDR + DESC * len(self.sections)
        sections = []
        for s in self.sections:
            size = s.body.nbytes
            desc = s.descriptor._replace(section_offset=pos, section_length=size, section_type=section_guid(s.body))
            sections.append(RecordSection(desc, s.body))
            pos += size
        header = self.header._replace(
            signature=CPER_SIG_RECORD, signature_end=CPER_SIG_END,
            section_count=len(sections), record_length=pos,
        )
        return CperRecord(header, tuple(sections), ())


def decode_record(buf, off: int = 0, *, length: int | None = None, lenient: bool = False) -> CperRecord:
    """Decode the CPER record at ``off``; ``length`` (default: to the buffer end) bounds it."""
    mv = memoryview(buf)[off : None if length is None else off + length]
    size = len(mv)
    header = CperRecordHeader.decode(mv, 0)
    if header.signature != CPER_SIG_RECORD:
        raise FormatError(f"not a CPER record: signature {bytes(header.signature)!r}", path="header.signature", offset=off)
    problems_ok = lenient
    if header.signature_end != CPER_SIG_END and not problems_ok:
        raise FormatError(f"signature_end is {header.signature_end:#x}, not 0xffffffff", path="header.signature_end", offset=off + 6)
    if header.revision >> 8 > RECORD_REVISION_MAJOR_MAX and not problems_ok:
        raise FormatError(f"unknown record revision {header.revision:#06x}", path="header.revision", offset=off + 4)
    rlen = header.record_length
    if rlen > size:
        if not lenient:
            raise FormatError(
                f"record_length {rlen} but only {size} bytes", path="header.record_length", offset=off + 20, need=rlen - size
            )
        rlen = size
    if size > rlen and not lenient:
        raise FormatError(f"{size - rlen} bytes after the record's record_length ({rlen})", path="header.record_length", offset=off + rlen)
    count = header.section_count
    if HDR + DESC * count > rlen and not lenient:
        raise FormatError(
            f"section_count {count} needs {HDR + DESC * count} bytes, record_length is {rlen}",
            path="header.section_count", offset=off + 10,
        )
    sections = []
    for i in range(count):
        dpos = HDR + DESC * i
        try:
            desc = CperSectionDescriptor.decode(mv, dpos)
        except FormatError as e:
            e.offset = (e.offset or 0) + off
            raise e.within(f"sections[{i}].descriptor") from None
        so, sl = desc.section_offset, desc.section_length
        if so + sl > size or (so + sl > rlen and not lenient):
            raise FormatError(
                f"section_offset {so} + section_length {sl} is beyond the record ({rlen} bytes)",
                path=f"sections[{i}].descriptor.section_length", offset=off + dpos + 4,
            )
        try:
            body = decode_section(desc.section_type, mv, so, sl, lenient=lenient)
        except FormatError as e:
            e.offset = (e.offset or 0) + off
            raise e.within(f"sections[{i}].body") from None
        sections.append(RecordSection(desc, body))
    rec = CperRecord(header, tuple(sections))
    return CperRecord(header, rec.sections, _uncovered(mv, rec, size))


def _covered_end(rec: CperRecord) -> int:
    end = HDR + DESC * len(rec.sections)
    for s in rec.sections:
        end = max(end, s.descriptor.section_offset + s.body.nbytes)
    for o, d in rec.extra:
        end = max(end, o + len(d))
    return end


def _uncovered(mv: memoryview, rec: CperRecord, size: int) -> tuple[tuple[int, bytes], ...]:
    spans = sorted((s.descriptor.section_offset, s.descriptor.section_offset + s.body.nbytes) for s in rec.sections)
    pos = HDR + DESC * len(rec.sections)
    out = []
    for start, end in spans:
        if start > pos:
            out.append((pos, bytes(mv[pos:start])))
        pos = max(pos, end)
    if size > pos:
        out.append((pos, bytes(mv[pos:size])))
    return tuple(out)


def _list(d: Any, key: str, *, required: bool = True) -> list:
    if not isinstance(d, dict):
        raise FormatError("expected an object")
    v = d.get(key, None if required else [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=key)
    return v


def build_record(
    sections: Iterable[tuple[Any, dict[str, Any]] | Any],
    *,
    error_severity: int,
    notification_type: bytes = b"\0" * 16,
    record_id: int = 0,
    timestamp: int | None = None,
    flags: int = 0,
    platform_id: bytes | None = None,
    creator_id: bytes = b"\0" * 16,
    revision: int = CPER_RECORD_REV,
) -> CperRecord:
    """Build a well-formed record from section bodies (each optionally with descriptor fields)."""
    from ..layout import Guid

    vb = 0
    if timestamp is not None:
        vb |= n.CPER_VALID_TIMESTAMP
    if platform_id is not None:
        vb |= n.CPER_VALID_PLATFORM_ID
    header = CperRecordHeader(
        signature=CPER_SIG_RECORD, revision=revision, signature_end=CPER_SIG_END,
        error_severity=error_severity, validation_bits=vb, timestamp=timestamp or 0,
        platform_id=Guid(platform_id or b"\0" * 16), creator_id=Guid(creator_id),
        notification_type=Guid(notification_type), record_id=record_id, flags=flags,
    )
    out = []
    for item in sections:
        body, fields = (item, {}) if hasattr(item, "encode") else item
        desc = CperSectionDescriptor(revision=0x0300, section_severity=error_severity)._replace(**fields)
        out.append(RecordSection(desc, body))
    return CperRecord(header, tuple(out)).with_lengths()


def descriptors(rec: CperRecord) -> Sequence[CperSectionDescriptor]:
    return [s.descriptor for s in rec.sections]
