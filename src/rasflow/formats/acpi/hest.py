"""HEST, the Hardware Error Source Table (struct acpi_table_hest + error source structures).

The walk follows apei_hest_parse() (drivers/acpi/apei/hest.c): ``error_source_count``
sources, each sized by its type (hest_esrc_len()). A source that does not fit
in ``header.length``, or a count the table cannot hold, is a FormatError naming
the source index, the field and the absolute offset. A source of an unsized
type ends the walk (the kernel returns -EINVAL there); its bytes are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from ..errors import FormatError
from ..layout import layout, u32
from . import names as n
from .header import (
    HEADER_SIZE,
    AcpiTable,
    AcpiTableHeader,
    Problem,
    decode_header,
    hex_field,
    list_field,
    require_mapping,
    strict_check,
)
from .hest_sources import BANKS_AT, SOURCE_TYPES, HestSource, UnknownSource

SIGNATURE = b"HEST"
COUNT_OFFSET = HEADER_SIZE
SOURCES_OFFSET = HEADER_SIZE + 4


@layout
class HestFixed:
    """The part of struct acpi_table_hest after the header."""

    error_source_count: u32


class _HestBase(NamedTuple):
    header: AcpiTableHeader
    error_source_count: int
    sources: tuple[HestSource, ...]
    trailing: bytes = b""
    excess: bytes = b""


class Hest(AcpiTable, _HestBase):
    """A decoded HEST: its sources in table order, plus any bytes after them."""

    __slots__ = ()
    kind: ClassVar[str] = "acpi-hest"
    SIGNATURE: ClassVar[bytes] = SIGNATURE

    def structure_bytes(self) -> bytes:
        return HestFixed(self.error_source_count).encode() + b"".join(s.encode() for s in self.sources)

    def source_offsets(self) -> list[int]:
        """Absolute offset of each source in the table."""
        out, off = [], SOURCES_OFFSET
        for s in self.sources:
            out.append(off)
            off += s.nbytes
        return out

    def by_source_id(self, source_id: int) -> HestSource | None:
        """The first source with ``source_id`` (what QEMU's get_ghes_source_offsets() looks for)."""
        return next((s for s in self.sources if s.source_id == source_id), None)

    def check_structure(self) -> list[Problem]:
        out: list[Problem] = []
        if self.error_source_count != len(self.sources):
            out.append(Problem(f"error_source_count {self.error_source_count} but {len(self.sources)} sources decoded", "error_source_count", COUNT_OFFSET))
        seen: dict[int, int] = {}
        for i, (s, off) in enumerate(zip(self.sources, self.source_offsets(), strict=True)):
            seg = f"sources[{i}]"
            if isinstance(s, UnknownSource):
                out.append(Problem(
                    f"source type {s.type} has no defined size; the kernel stops parsing HEST here "
                    f"(apei_hest_parse: -EINVAL) and {len(s.body)} bytes after it are unreadable", f"{seg}.type", off))
                continue
            if s.source_id in seen:
                out.append(Problem(f"Duplicated hardware error source ID: {s.source_id} (also sources[{seen[s.source_id]}])", f"{seg}.source_id", off + 2))
            seen.setdefault(s.source_id, i)
            out += [Problem(p.message, f"{seg}.{p.path}", off) for p in s.check()]
        if self.trailing:
            out.append(Problem(f"{len(self.trailing)} bytes after the {len(self.sources)} sources (the kernel ignores them)", "trailing",
                               SOURCES_OFFSET + sum(s.nbytes for s in self.sources)))
        return out

    def with_counts(self) -> Hest:
        return self._replace(error_source_count=len(self.sources))

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header_dict(),
            "error_source_count": self.error_source_count,
            "sources": [s.to_dict() for s in self.sources],
            **self.tail_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hest:
        d = require_mapping(d, "HEST")
        header = AcpiTableHeader.from_dict(d.get("header", {}), path="header")
        fixed = HestFixed.from_dict({"error_source_count": d.get("error_source_count", 0)})
        sources = []
        for i, sd in enumerate(list_field(d, "sources")):
            path = f"sources[{i}]"
            if not isinstance(sd, Mapping):
                raise FormatError("expected an object", path=path)
            t = sd.get("type")
            scls = SOURCE_TYPES.get(t, UnknownSource) if isinstance(t, int) else UnknownSource
            sources.append(scls.from_dict(sd, path=path))
        return cls(header, fixed.error_source_count, tuple(sources), hex_field(d, "trailing"), hex_field(d, "excess"))

    @classmethod
    def decode(cls, buf, strict: bool = False) -> Hest:
        return decode(buf, strict)


def decode_source(mv: memoryview, off: int, end: int) -> HestSource:
    """Decode the source at ``off``; ``end`` is the table's end. Paths are relative to the source."""
    if off + 4 > end:
        raise FormatError(f"source header needs 4 bytes, {end - off} left in the table", path="type", offset=off, need=off + 4 - end)
    stype = mv[off] | mv[off + 1] << 8
    scls = SOURCE_TYPES.get(stype)
    if scls is None:
        return UnknownSource.decode(mv, off, end - off)
    name = n.name_of(n.HEST_TYPES, stype)
    size = scls.SIZE
    if off + size > end:
        e = scls._truncated(end, off)
        raise FormatError(
            f"type {stype} ({name}) is {size} bytes, only {end - off} left in the table",
            path=e.path, offset=e.offset, need=off + size - end,
        )
    if scls in BANKS_AT:
        banks = mv[off + BANKS_AT[scls]]
        size += banks * n.IA_ERROR_BANK_SIZE
        if off + size > end:
            raise FormatError(
                f"type {stype} ({name}) with num_hardware_banks {banks} is {size} bytes, only {end - off} left in the table",
                path="num_hardware_banks", offset=off + BANKS_AT[scls], need=off + size - end,
            )
    return scls.decode(mv, off, size)


def decode(buf, strict: bool = False) -> Hest:
    """Decode a HEST; ``strict`` raises the first ``check()`` problem (e.g. a wrong checksum)."""
    mv = memoryview(buf)
    header, end = decode_header(mv)
    body = mv[:end]
    fixed = HestFixed.decode(body, HEADER_SIZE)
    count = fixed.error_source_count
    sources: list[HestSource] = []
    off = SOURCES_OFFSET
    for i in range(count):
        if off >= end:
            raise FormatError(
                f"error_source_count is {count} but the table ends after {i} sources: "
                f"sources[{i}] would start at offset {off:#x}, table length {end}",
                path="error_source_count", offset=COUNT_OFFSET,
            )
        try:
            src = decode_source(body, off, end)
        except FormatError as e:
            raise e.within(f"sources[{i}]") from None
        sources.append(src)
        off += src.nbytes
        if isinstance(src, UnknownSource):
            break
    t = Hest(header, count, tuple(sources), bytes(mv[off:end]), bytes(mv[end:]))
    return strict_check(t, strict)


def build_hest(
    sources: list[HestSource] | tuple[HestSource, ...],
    *,
    oem_id: bytes = b"\0" * 6,
    oem_table_id: bytes = b"\0" * 8,
    revision: int = 1,
    oem_revision: int = 1,
    asl_compiler_id: bytes = b"\0" * 4,
    asl_compiler_revision: int = 1,
) -> Hest:
    """A well-formed HEST around ``sources``: count, length and checksum filled in."""
    header = AcpiTableHeader(SIGNATURE, 0, revision, 0, oem_id, oem_table_id, oem_revision, asl_compiler_id, asl_compiler_revision)
    return Hest(header, 0, tuple(sources)).with_lengths().with_checksum()
