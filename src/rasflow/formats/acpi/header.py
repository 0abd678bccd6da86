"""The 36-byte ACPI table header, the Generic Address Structure, and what every table shares.

Layouts follow include/acpi/actbl.h (struct acpi_table_header, struct
acpi_generic_address). A decoded table keeps every
byte: the bytes its structure does not cover inside ``header.length`` are kept
in ``trailing``, the bytes after ``header.length`` in ``excess``, so
``encode(decode(b)) == b`` always. Checksum and lengths are fixed only by the
explicit helpers ``with_checksum()`` and ``with_lengths()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, LayoutBase, Names, layout, u8, u32, u64
from . import names as n

HEADER_SIZE = 36
CHECKSUM_OFFSET = 9


class Problem(str):
    """One ``check()`` finding: reads as ``path: message``; keeps path and offset for strict mode."""

    path: str
    offset: int | None
    message: str

    def __new__(cls, message: str, path: str = "", offset: int | None = None) -> Problem:
        self = super().__new__(cls, f"{path}: {message}" if path else message)
        self.message, self.path, self.offset = message, path, offset
        return self

    def within(self, segment: str) -> Problem:
        """The same finding one level down (``sources[2]`` + ``notify_length``)."""
        path = f"{segment}.{self.path}" if self.path else segment
        return Problem(self.message, path, self.offset)

    def error(self) -> FormatError:
        return FormatError(self.message, path=self.path, offset=self.offset)


_TEXT_FIELDS = ("signature", "oem_id", "oem_table_id", "asl_compiler_id")


@layout
class AcpiTableHeader:
    """struct acpi_table_header (36 bytes)."""

    signature: Bytes[4]
    length: u32
    revision: u8
    checksum: u8
    oem_id: Bytes[6]
    oem_table_id: Bytes[8]
    oem_revision: u32
    asl_compiler_id: Bytes[4]
    asl_compiler_revision: u32

    @property
    def sig(self) -> str:
        return self.signature.decode("latin-1")

    def to_dict(self) -> dict[str, Any]:
        """Raw hex for the id fields plus ``*_text`` (latin-1) for people."""
        d = LayoutBase.to_dict(self)
        for f in _TEXT_FIELDS:
            d[f + "_text"] = getattr(self, f).decode("latin-1")
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> AcpiTableHeader:
        if isinstance(d, Mapping):
            d = {k: v for k, v in d.items() if k not in {f + "_text" for f in _TEXT_FIELDS}}
        return LayoutBase.from_dict.__func__(cls, d, path=path)  # type: ignore[attr-defined]


@layout
class Gas:
    """struct acpi_generic_address (12 bytes, packed)."""

    space_id: Annotated[u8, Names(n.GAS_SPACE_IDS)]
    bit_width: u8
    bit_offset: u8
    access_width: Annotated[u8, Names(n.GAS_ACCESS_WIDTHS)]
    address: u64

    def check(self) -> list[Problem]:
        """apei_check_gar() (drivers/acpi/apei/apei-base.c): its first complaint, in its words."""
        tag = f"[{self.address:#x}/{self.bit_width}/{self.bit_offset}/{self.access_width}/{self.space_id}]"
        if not self.address:
            return [Problem(f"Invalid physical address in GAR {tag}", "address")]
        if not 1 <= self.access_width <= 4:
            return [Problem(f"Invalid access size code in GAR {tag}", "access_width")]
        access_bits = 1 << (self.access_width + 2)
        # the kernel's "Fixup common BIOS bug" widening
        if self.bit_width == 32 and self.bit_offset == 0 and self.address & 3 == 0 and access_bits < 32:
            access_bits = 32
        elif self.bit_width == 64 and self.bit_offset == 0 and self.address & 7 == 0 and access_bits < 64:
            access_bits = 64
        if self.bit_width + self.bit_offset > access_bits:
            return [Problem(f"Invalid bit width + offset in GAR {tag}", "bit_width")]
        if self.space_id not in (n.ACPI_ADR_SPACE_SYSTEM_MEMORY, n.ACPI_ADR_SPACE_SYSTEM_IO):
            return [Problem(f"Invalid address space type in GAR {tag}", "space_id")]
        return []


def gas_system_memory(address: int, bit_width: int = 64, access_width: int = 4) -> Gas:
    """A SystemMemory GAS, as QEMU's build_append_gas(AML_AS_SYSTEM_MEMORY, 0x40, 0, 4, addr)."""
    return Gas(n.ACPI_ADR_SPACE_SYSTEM_MEMORY, bit_width, 0, access_width, address)


def table_sum(data: bytes) -> int:
    """Sum of the bytes modulo 256; a correct table sums to 0."""
    return sum(data) & 0xFF


def decode_header(mv: memoryview) -> tuple[AcpiTableHeader, int]:
    """Decode the header and return it with the table's end (``header.length``), checked against the buffer."""
    try:
        header = AcpiTableHeader.decode(mv, 0)
    except FormatError as e:
        raise e.within("header") from None
    if header.length < HEADER_SIZE:
        raise FormatError(f"length {header.length} is smaller than the {HEADER_SIZE}-byte header", path="header.length", offset=4)
    if header.length > len(mv):
        raise FormatError(
            f"truncated: length says {header.length} bytes, have {len(mv)}",
            path="header.length", offset=4, need=header.length - len(mv),
        )
    return header, header.length


class AcpiTable:
    """Methods every table NamedTuple shares; it has ``header``, ``trailing`` and ``excess`` fields."""

    __slots__ = ()
    kind: ClassVar[str] = "acpi-table"
    SIGNATURE: ClassVar[bytes | None] = None

    header: AcpiTableHeader
    trailing: bytes
    excess: bytes

    def structure_bytes(self) -> bytes:
        """The bytes after the header that the table's structure covers (without ``trailing``)."""
        raise NotImplementedError

    def table_bytes(self) -> bytes:
        """The table as ``header.length`` describes it (no ``excess``)."""
        return self.header.encode() + self.structure_bytes() + self.trailing

    def encode(self) -> bytes:
        return self.table_bytes() + self.excess

    @property
    def nbytes(self) -> int:
        return len(self.encode())

    def checksum_ok(self) -> bool:
        return table_sum(self.table_bytes()) == 0

    def expected_checksum(self) -> int:
        return -table_sum(self.header._replace(checksum=0).encode() + self.structure_bytes() + self.trailing) & 0xFF

    def check(self) -> list[Problem]:
        """Header problems (signature, length, checksum) then the table's own."""
        out: list[Problem] = []
        h = self.header
        if self.SIGNATURE is not None and h.signature != self.SIGNATURE:
            out.append(Problem(f"signature {h.signature!r} is not {self.SIGNATURE!r}", "header.signature", 0))
        real = len(self.table_bytes())
        if h.length != real:
            out.append(Problem(f"length {h.length} but the table has {real} bytes", "header.length", 4))
        if not self.checksum_ok():
            out.append(
                Problem(
                    f"checksum {h.checksum:#04x} is wrong: the table sums to {table_sum(self.table_bytes()):#04x}, "
                    f"checksum should be {self.expected_checksum():#04x}",
                    "header.checksum", CHECKSUM_OFFSET,
                )
            )
        if self.excess:
            out.append(Problem(f"{len(self.excess)} bytes after the table's length (ignored)", "excess", h.length))
        return out + self.check_structure()

    def check_structure(self) -> list[Problem]:
        return []

    @property
    def problems(self) -> list[Problem]:
        return self.check()

    def with_checksum(self):
        """A copy whose checksum makes the table (``header.length`` bytes) sum to zero."""
        return self._replace(header=self.header._replace(checksum=self.expected_checksum()))  # type: ignore[attr-defined]

    def with_lengths(self):
        """A copy with ``header.length`` (and the table's own counts) matching its contents."""
        t = self.with_counts()
        length = HEADER_SIZE + len(t.structure_bytes()) + len(t.trailing)
        return t._replace(header=t.header._replace(length=length))

    def with_counts(self):
        return self

    def header_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "header": self.header.to_dict()}
        return d

    def tail_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.trailing:
            d["trailing"] = self.trailing.hex()
        if self.excess:
            d["excess"] = self.excess.hex()
        return d


def hex_field(d: Mapping[str, Any], key: str, path: str = "") -> bytes:
    """``bytes.fromhex(d[key])`` (empty when absent) with a FormatError naming the key."""
    v = d.get(key, "")
    if not isinstance(v, str):
        raise FormatError(f"expected a hex string, got {type(v).__name__}", path=f"{path}{key}")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise FormatError(f"not a hex string: {v[:40]!r}", path=f"{path}{key}") from None


def list_field(d: Mapping[str, Any], key: str) -> list[Any]:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=key)
    return v


def require_mapping(d: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise FormatError(f"expected an object for {what}")
    return d


class _GenericTableBase(NamedTuple):
    header: AcpiTableHeader
    body: bytes
    trailing: bytes = b""
    excess: bytes = b""


class GenericTable(AcpiTable, _GenericTableBase):
    """Any table rasflow does not parse: the header and the raw body (not an error)."""

    __slots__ = ()
    kind: ClassVar[str] = "acpi-table"

    def structure_bytes(self) -> bytes:
        return self.body

    def to_dict(self) -> dict[str, Any]:
        return {**self.header_dict(), "body": self.body.hex(), **self.tail_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GenericTable:
        d = require_mapping(d, cls.__name__)
        header = AcpiTableHeader.from_dict(d.get("header", {}), path="header")
        return cls(header, hex_field(d, "body"), hex_field(d, "trailing"), hex_field(d, "excess"))

    @classmethod
    def decode(cls, buf, strict: bool = False) -> GenericTable:
        mv = memoryview(buf)
        header, end = decode_header(mv)
        t = cls(header, bytes(mv[HEADER_SIZE:end]), b"", bytes(mv[end:]))
        return strict_check(t, strict)


def strict_check(table, strict: bool):
    """Return ``table``; with ``strict`` raise the first problem as a FormatError."""
    if strict:
        problems = table.check()
        if problems:
            first = problems[0]
            raise first.error() if isinstance(first, Problem) else FormatError(str(first))
    return table


def text_bytes(value: bytes | str, width: int, pad: bytes = b"\0") -> bytes:
    """An id field: ``value`` (str as ASCII) padded with ``pad`` to ``width``, as QEMU's build_append_padded_str."""
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    if len(raw) > width:
        raise ValueError(f"{raw!r} is longer than {width} bytes")
    return raw + pad * (width - len(raw))
