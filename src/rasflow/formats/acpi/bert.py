"""BERT, the Boot Error Record Table, and the boot error region it points at.

struct acpi_table_bert is the header plus ``region_length`` and ``address``. The
region (``/sys/firmware/acpi/tables/data/BERT`` on Linux) is a sequence of
Generic Error Status Blocks; decode_boot_error_region() walks it the way
bert_print_all() (drivers/acpi/apei/bert.c) does, stopping at a block whose
``block_status`` is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from ..errors import FormatError
from ..layout import layout, u32, u64
from . import names as n
from .header import (
    HEADER_SIZE,
    AcpiTable,
    AcpiTableHeader,
    Problem,
    decode_header,
    hex_field,
    require_mapping,
    strict_check,
)

SIGNATURE = b"BERT"


@layout
class BertFixed:
    """The part of struct acpi_table_bert after the header."""

    region_length: u32
    address: u64


class _BertBase(NamedTuple):
    header: AcpiTableHeader
    region_length: int
    address: int
    trailing: bytes = b""
    excess: bytes = b""


class Bert(AcpiTable, _BertBase):
    """A decoded BERT: where the boot error region is and how long it is."""

    __slots__ = ()
    kind: ClassVar[str] = "acpi-bert"
    SIGNATURE: ClassVar[bytes] = SIGNATURE

    def structure_bytes(self) -> bytes:
        return BertFixed(self.region_length, self.address).encode()

    def check_structure(self) -> list[Problem]:
        out = []
        # bert_init(): "Invalid BERT table: %llx-%llx" would follow an unmappable region;
        # an empty region is "BERT: empty" there and simply nothing to read here.
        if self.region_length and not self.address:
            out.append(Problem(f"region_length {self.region_length} but address is 0", "address", HEADER_SIZE + 4))
        if self.trailing:
            out.append(Problem(f"{len(self.trailing)} bytes after the {n.BERT_SIZE}-byte table", "trailing", n.BERT_SIZE))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**self.header_dict(), "region_length": self.region_length, "address": self.address, **self.tail_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Bert:
        d = require_mapping(d, "BERT")
        header = AcpiTableHeader.from_dict(d.get("header", {}), path="header")
        fixed = BertFixed.from_dict({k: d[k] for k in ("region_length", "address") if k in d})
        return cls(header, fixed.region_length, fixed.address, hex_field(d, "trailing"), hex_field(d, "excess"))

    @classmethod
    def decode(cls, buf, strict: bool = False) -> Bert:
        return decode(buf, strict)


def decode(buf, strict: bool = False) -> Bert:
    """Decode a BERT; ``strict`` raises the first ``check()`` problem."""
    mv = memoryview(buf)
    header, end = decode_header(mv)
    fixed = BertFixed.decode(mv[:end], HEADER_SIZE)
    t = Bert(header, fixed.region_length, fixed.address, bytes(mv[n.BERT_SIZE:end]), bytes(mv[end:]))
    return strict_check(t, strict)


def build_bert(region_length: int, address: int, *, oem_id: bytes = b"\0" * 6, oem_table_id: bytes = b"\0" * 8) -> Bert:
    """A well-formed BERT: length and checksum filled in."""
    header = AcpiTableHeader(SIGNATURE, 0, 1, 0, oem_id, oem_table_id, 1, b"\0" * 4, 1)
    return Bert(header, region_length, address).with_lengths().with_checksum()


# --- the boot error region -----------------------------------------------------------

GESB_SIZE = 20  # struct acpi_hest_generic_status / acpi_bert_region


class BootErrorRegion(NamedTuple):
    """The status blocks before the first ``block_status == 0``, and every byte after them."""

    blocks: tuple[Any, ...]
    rest: bytes = b""

    kind = "acpi-bert-region"

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.blocks) + len(self.rest)

    def encode(self) -> bytes:
        return b"".join(b.encode() for b in self.blocks) + self.rest

    def check(self) -> list[str]:
        return [f"blocks[{i}]: {p}" for i, b in enumerate(self.blocks) for p in b.check()]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "blocks": [b.to_dict() for b in self.blocks]}
        if self.rest.strip(b"\0"):
            d["rest"] = self.rest.hex()
        else:
            d["rest_zero_bytes"] = len(self.rest)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BootErrorRegion:
        from .. import cper

        d = require_mapping(d, "boot error region")
        blocks = d.get("blocks", [])
        if not isinstance(blocks, list):
            raise FormatError("expected a list", path="blocks")
        out = []
        for i, b in enumerate(blocks):
            try:
                out.append(cper.Estatus.from_dict(b))
            except FormatError as e:
                raise e.within(f"blocks[{i}]") from None
        zeros = d.get("rest_zero_bytes", 0)
        if not isinstance(zeros, int) or isinstance(zeros, bool) or zeros < 0:
            raise FormatError("expected a non-negative integer", path="rest_zero_bytes")
        rest = hex_field(d, "rest") if "rest" in d else b"\0" * zeros
        return cls(tuple(out), rest)


def decode_boot_error_region(region, *, lenient: bool = False) -> BootErrorRegion:
    """Walk the Generic Error Status Blocks of a boot error region (bert_print_all()).

    A block with ``block_status == 0`` ends the walk, as does fewer than 20 bytes
    left. A block that does not fit or does not decode is a FormatError at
    ``blocks[i]`` (``lenient`` is passed on to decode_estatus()).
    """
    # imported here so the ACPI codecs do not depend on the CPER package at import time
    from .. import cper

    mv = memoryview(region)
    blocks = []
    off = 0
    while len(mv) - off >= GESB_SIZE:
        head = cper.AcpiHestGenericStatus.decode(mv, off)
        if not head.block_status:
            break
        try:
            est = cper.decode_estatus(mv, off, lenient=lenient)
        except FormatError as e:
            raise e.within(f"blocks[{len(blocks)}]") from None
        if est.nbytes <= 0:  # guard the loop; decode_estatus always consumes the 20-byte head
            raise FormatError("status block of zero length", path=f"blocks[{len(blocks)}]", offset=off)
        blocks.append(est)
        off += est.nbytes
    return BootErrorRegion(tuple(blocks), bytes(mv[off:]))
