"""Read the text dumps users paste of ACPI tables and error status blocks.

Understood forms (several blocks per file, in any mix):

- ``acpidump``: ``HEST @ 0x...`` then ``    0000: 48 45 53 54 ...  HEST....``;
- iasl's ``Raw Table Data: Length N (0x..)`` section (same lines, ``//`` before the ASCII);
- edk2 ``acpiview``: ``00000000 : 48 45 53 54 E0 00 00 00 - 01 6B ...  HEST...``;
- ``hexdump -C``: ``00000000  43 50 45 52 ...  |CPER....|`` with ``*`` repeat lines;
- ``xxd``: ``00000000: 4350 4552 0001 ffff ...  CPER....``;
- ``od -A x -t x1`` (``z`` too): ``000000 43 50 45 52 ...`` with ``*`` repeat lines and the
  end offset alone on the last line;
- QEMU monitor ``xp /Nxb|h|w|g ADDR``: ``00000000785d80b0: 0x00000001 0x00000000 ...``
  (words little-endian, as on arm64/x86 guests);
- iasl field disassembly ``[30Ah 0778   2]  Source Id : 0001``: bytes are rebuilt from
  the field values (integers and 4-character signatures); an excerpt with no such lines
  cannot be converted, and one that does not start at offset 0 is only a partial table.

Each block's bytes are then decoded: ACPI tables with ``formats.acpi`` (checksum checked),
CPER records and Generic Error Status Blocks with ``formats.cper``. Whatever cannot be
read or decoded is kept in ``skipped`` with ``file:line`` and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..formats import acpi, cper
from ..formats.errors import FormatError

# The most bytes one block may stand for: a ``*`` repeat line of hexdump -C, or an iasl
# field's offset and length, expand to at most this many (an ACPI table or BERT region
# pasted as text is far smaller). Beyond it the line is skipped, said, never allocated.
MAX_BLOCK = 4 << 20


class DumpBlock(NamedTuple):
    """One contiguous run of bytes found in the text."""

    kind: str  # acpidump | iasl-raw | acpiview | hexdump | xxd | od | xp | iasl-fields
    name: str  # the signature the text gives, or "" when none
    address: int | None  # the address the text gives (acpidump, acpiview, xp)
    start: int  # offset of the first byte (non-zero only for a partial iasl excerpt)
    data: bytes
    where: str  # file:line of the block's first line
    declared_length: int | None = None  # length the text announces (acpiview, iasl Raw Table Data)
    missing: int = 0  # bytes inside the block the text does not give (iasl field excerpts)


class Skipped(NamedTuple):
    where: str
    reason: str


@dataclass
class Decoded:
    """A block and what it decoded to: an ACPI table, a CPER record/status block, or a HEST source entry."""

    block: DumpBlock
    obj: Any
    problems: list[str] = field(default_factory=list)


@dataclass
class AcpiDumpResult:
    tables: list[Decoded] = field(default_factory=list)  # acpi.Hest/Bert/Einj/GenericTable
    records: list[Decoded] = field(default_factory=list)  # cper.CperRecord / cper.Estatus
    entries: list[Decoded] = field(default_factory=list)  # HEST source entries of partial iasl excerpts
    skipped: list[Skipped] = field(default_factory=list)
    blocks: list[DumpBlock] = field(default_factory=list)


_HEX2 = r"[0-9A-Fa-f]{2}"
_ACPIDUMP_HDR = re.compile(r"^\s*([A-Za-z0-9_!]{4})\s+@\s+0x([0-9A-Fa-f]+)\s*$")
_ACPIDUMP_LINE = re.compile(rf"^\s*([0-9A-Fa-f]{{4,8}}):\s((?:{_HEX2} ){{0,15}}{_HEX2})(?=\s{{2}}|\s*$)")
_IASL_RAW_HDR = re.compile(r"^\s*Raw Table Data:\s*Length\s+(\d+)")
_ACPIVIEW_HDR = re.compile(r"^\s*-+\s*([A-Za-z0-9_]{4}) Table\s*-+\s*$")
_ACPIVIEW_ADDR = re.compile(r"^\s*Address\s*:\s*0x([0-9A-Fa-f]+)")
_ACPIVIEW_LEN = re.compile(r"^\s*Length\s*:\s*(\d+)")
_ACPIVIEW_LINE = re.compile(
    rf"^\s*([0-9A-Fa-f]{{8}}) : ((?:{_HEX2} ){{0,7}}{_HEX2})(?: - ((?:{_HEX2} ){{0,7}}{_HEX2}))?(?=\s{{2}}|\s*$)"
)
_HEXDUMP_LINE = re.compile(rf"^\s*([0-9A-Fa-f]{{8}})  ((?:{_HEX2} ){{0,7}}{_HEX2})(?:  ((?:{_HEX2} ){{0,7}}{_HEX2}))?\s+\|")
_HEXDUMP_END = re.compile(r"^\s*([0-9A-Fa-f]{6,8})\s*$")
_XXD_LINE = re.compile(r"^\s*([0-9a-f]{8}): ((?:[0-9a-f]{4} ){0,7}[0-9a-f]{2,4})(?=\s{2}|\s*$)")
_OD_LINE = re.compile(rf"^([0-9a-f]{{6,8}}) ((?:{_HEX2} ){{0,15}}{_HEX2})\s*(?:>.*<)?\s*$")
_REPEATS = ("hexdump", "od")  # the dumps that print '*' for repeated rows
_XP_CMD = re.compile(r"\bx[p]?\s+/(\d*)([a-z]*)\s+(0x[0-9A-Fa-f]+|\d+)")
_XP_LINE = re.compile(r"^\s*([0-9A-Fa-f]{8,16}):((?:\s+0x[0-9A-Fa-f]+)+)\s*$")
_IASL_BANNER = re.compile(r"Disassembly of |ACPI Data Table \[")
_IASL_FIELD = re.compile(r"^\s*\[([0-9A-Fa-f]{3,5})h\s+(\d{4,5})\s+(\d+)\]\s+([^:]*?)\s*:\s*(.*?)\s*$")


class _Builder:
    """The block being assembled, with the offset the next line must carry."""

    def __init__(self, kind: str, where: str, name: str = "", address: int | None = None,
                 declared: int | None = None, start: int = 0):
        self.kind, self.where, self.name, self.address = kind, where, name, address
        self.declared, self.start = declared, start
        self.data = bytearray()
        self.last_line = b""
        self.family = kind

    @property
    def next_offset(self) -> int:
        return self.start + len(self.data)

    def block(self) -> DumpBlock:
        return DumpBlock(self.kind, self.name, self.address, self.start, bytes(self.data),
                         self.where, self.declared)


def extract_dumps(text: str, *, source: str = "") -> tuple[list[DumpBlock], list[Skipped]]:
    """Find every hex dump in ``text`` and return its blocks (bytes only, nothing decoded)."""
    src = source or "<input>"
    blocks: list[DumpBlock] = []
    skipped: list[Skipped] = []
    cur: _Builder | None = None
    pending: dict[str, Any] = {}  # header facts seen before the first data line
    fields = _FieldBlock()
    hexdump_repeat = False

    def close() -> None:
        nonlocal cur
        if cur is not None and cur.data:
            blocks.append(cur.block())
        cur = None

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.replace("\u00a0", " ").rstrip("\r")
        where = f"{src}:{lineno}"
        if m := _ACPIDUMP_HDR.match(line):
            close()
            pending = {"kind": "acpidump", "name": m.group(1), "address": int(m.group(2), 16), "where": where}
            continue
        if m := _IASL_RAW_HDR.match(line):
            close()
            pending = {"kind": "iasl-raw", "declared": int(m.group(1)), "where": where}
            continue
        if m := _ACPIVIEW_HDR.match(line):
            close()
            pending = {"kind": "acpiview", "name": m.group(1), "where": where}
            continue
        if pending.get("kind") == "acpiview" and (m := _ACPIVIEW_ADDR.match(line)):
            pending["address"] = int(m.group(1), 16)
            continue
        if pending.get("kind") == "acpiview" and (m := _ACPIVIEW_LEN.match(line)):
            pending["declared"] = int(m.group(1))
            continue
        if m := _XP_CMD.search(line):
            close()
            pending = {"kind": "xp", "fmt": m.group(2), "where": where}
            if m.group(2) and not set(m.group(2)) <= set("xbhwg"):
                skipped.append(Skipped(where, f"QEMU dump format /{m.group(2)} is not hexadecimal (use /x)"))
            continue
        if m := _XP_LINE.match(line):
            addr = int(m.group(1), 16)
            try:
                data = _xp_words(m.group(2).split())
            except ValueError as e:
                skipped.append(Skipped(where, str(e)))
                continue
            if cur is None or cur.kind != "xp" or cur.address is None or addr != cur.address + len(cur.data):
                close()
                cur = _Builder("xp", pending.get("where", where) if pending.get("kind") == "xp" else where,
                               address=addr)
                pending = {}
            cur.data += data
            continue
        m = (_ACPIVIEW_LINE.match(line) or _ACPIDUMP_LINE.match(line) or _HEXDUMP_LINE.match(line)
             or _XXD_LINE.match(line) or _OD_LINE.match(line))
        if m:
            family = {_ACPIVIEW_LINE: "acpiview", _ACPIDUMP_LINE: "acpidump", _XXD_LINE: "xxd",
                      _OD_LINE: "od"}.get(m.re, "hexdump")
            off = int(m.group(1), 16)
            data = bytes.fromhex(" ".join(g for g in m.groups()[1:] if g))
            if cur is not None and cur.family in _REPEATS and hexdump_repeat and off > cur.next_offset:
                gap = off - cur.next_offset
                if off > MAX_BLOCK:
                    skipped.append(Skipped(where, f"a '*' repeat up to offset {off:#x} stands for more than "
                                                  f"{MAX_BLOCK} bytes; the block ends before this line"))
                    close()
                    hexdump_repeat = False
                    continue
                cur.data += (cur.last_line * (gap // max(1, len(cur.last_line)) + 1))[:gap]
            hexdump_repeat = False
            if cur is None or cur.family != family or off != cur.next_offset:
                if cur is not None and off != 0:
                    skipped.append(Skipped(where, f"offset {off:#x} does not follow {cur.next_offset:#x}: "
                                                  "lines missing; the block ends before this line"))
                close()
                if off != 0:
                    skipped.append(Skipped(where, f"hex dump starts at offset {off:#x}, not 0: partial dump"))
                    continue
                p = pending if pending.get("kind") not in (None, "xp") else {}
                cur = _Builder(p.get("kind", family), p.get("where", where), p.get("name", ""),
                               p.get("address"), p.get("declared"))
                cur.family = family
                pending = {}
            cur.data += data
            cur.last_line = data
            continue
        if cur is not None and cur.family in _REPEATS:
            if line.strip() == "*":
                hexdump_repeat = True
                continue
            if (m := _HEXDUMP_END.match(line)) and int(m.group(1), 16) == cur.next_offset:
                close()
                continue
        if m := _IASL_FIELD.match(line):
            fields.add(m, where)
            continue
        if _IASL_BANNER.search(line):
            fields.seen_header = fields.seen_header or where
        if cur is not None and cur.kind != "xp" and line.strip():
            close()
    close()
    fb = fields.block()
    if fb is not None and not blocks:  # a .dsl with a Raw Table Data section: the raw bytes win
        blocks.append(fb)
        skipped.extend(fields.skipped)
    elif fb is None and fields.seen_header and not blocks:
        skipped.append(Skipped(fields.seen_header, "iasl disassembly without raw bytes or field values: "
                                                   "cannot be converted (disassemble with iasl -d and keep "
                                                   "the 'Raw Table Data' section)"))
    return blocks, skipped


def _xp_words(tokens: list[str]) -> bytes:
    widths = {len(t) - 2 for t in tokens}
    if len(widths) != 1 or (w := widths.pop()) not in (2, 4, 8, 16):
        raise ValueError(f"QEMU dump words of mixed or unknown width {sorted(widths)}: expected 2/4/8/16 hex digits")
    return b"".join(int(t, 16).to_bytes(w // 2, "little") for t in tokens)


class _FieldBlock:
    """Bytes rebuilt from iasl ``[off len] name : value`` lines."""

    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}
        self.where = ""
        self.seen_header = ""
        self.skipped: list[Skipped] = []

    def add(self, m: re.Match[str], where: str) -> None:
        off, length, name, value = int(m.group(1), 16), int(m.group(3)), m.group(4), m.group(5)
        if off + length > MAX_BLOCK:
            self.skipped.append(Skipped(where, f"iasl field at [{off:#x} {length}] lies beyond {MAX_BLOCK} "
                                               "bytes: not part of a table"))
            return
        self.where = self.where or where
        if value.startswith("[") or not value:  # a container line: its sub-fields follow
            return
        tok = value.split()[0]
        if name.strip() in ("Signature", "Oem ID", "Oem Table ID", "Asl Compiler ID") or value.startswith('"'):
            text = value.strip('"').split('"')[0] if value.startswith('"') else tok
            data = text.encode("ascii", "replace").ljust(length, b" " if name.strip() != "Signature" else b"\0")[:length]
        elif re.fullmatch(r"[0-9A-Fa-f]+", tok) and len(tok) <= 2 * length:
            data = int(tok, 16).to_bytes(length, "little")
        else:
            self.skipped.append(Skipped(where, f"iasl field {name.strip()!r} value {value!r} is not raw bytes"))
            return
        for i, b in enumerate(data):
            self.bytes[off + i] = b

    def block(self) -> DumpBlock | None:
        if not self.bytes:
            return None
        lo, hi = min(self.bytes), max(self.bytes) + 1
        missing = [o for o in range(lo, hi) if o not in self.bytes]
        data = bytes(self.bytes.get(o, 0) for o in range(lo, hi))
        return DumpBlock("iasl-fields", "", None, lo, data, self.where, None, len(missing))


def read_acpidump(data: bytes | str, *, source: str = "") -> AcpiDumpResult:
    """Extract every dump in ``data`` and decode each block (tables, CPER, status blocks)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    blocks, skipped = extract_dumps(text, source=source)
    res = AcpiDumpResult(skipped=list(skipped), blocks=blocks)
    for b in blocks:
        _decode_block(b, res)
    return res


def _decode_block(b: DumpBlock, res: AcpiDumpResult) -> None:
    data = b.data
    if b.kind == "iasl-fields" and (b.start != 0 or b.missing):
        gaps = f", {b.missing} bytes inside it not given" if b.missing else ""
        why = (f"partial iasl excerpt: bytes {b.start:#x}..{b.start + len(data) - 1:#x} of a table whose "
               f"header is not shown{gaps}; no checksum can be verified")
        obj = _hest_entry(data) if not gaps else None
        if obj is None:
            res.skipped.append(Skipped(b.where, why))
        else:
            res.entries.append(Decoded(b, obj, [why]))
        return
    if b.declared_length is not None and b.declared_length != len(data):
        res.skipped.append(Skipped(b.where, f"the dump says length {b.declared_length} but gives {len(data)} bytes"))
    try:
        if data[:4] == b"CPER" or (b.kind in ("xp", "hexdump", "xxd", "od") and not acpi.looks_like_table(data)):
            need = _cper_len(data)
            if need > len(data):
                what = "CPER record_length" if data[:4] == b"CPER" else "status block (20 + data_length)"
                raise FormatError(f"partial dump: the {what} says {need} bytes, the dump gives {len(data)}",
                                  offset=0, need=need - len(data))
            obj = cper.decode(data[:need])
            res.records.append(Decoded(b, obj, list(obj.check())))
        else:
            if b.name and data[:4] != b.name.encode():
                res.skipped.append(Skipped(b.where, f"the dump is labelled {b.name} but the bytes start with {data[:4]!r}"))
            tlen = int.from_bytes(data[4:8], "little") if len(data) >= 8 else 0
            if tlen > len(data):
                raise FormatError(f"partial dump: the table header says {tlen} bytes, the dump gives {len(data)}",
                                  path="header.length", offset=4, need=tlen - len(data))
            obj = acpi.decode(data[:tlen] if tlen >= acpi.HEADER_SIZE else data)
            res.tables.append(Decoded(b, obj, [str(p) for p in obj.check()]))
    except FormatError as e:
        at = f" at {b.address:#x}" if b.address is not None else ""
        res.skipped.append(Skipped(b.where, f"{b.kind} block of {len(data)} bytes{at}: {e}"))


def _cper_len(data: bytes) -> int:
    """Bytes the record or status block claims (a dump may run past it, e.g. ``xp /256x``)."""
    if data[:4] == b"CPER" and len(data) >= 24:
        return max(int.from_bytes(data[20:24], "little"), 128)
    if len(data) >= 20:
        blk = cper.AcpiHestGenericStatus.decode(memoryview(data), 0)
        return max(cper.cper_estatus_len(blk), 20 + blk.data_length)
    return len(data)


def _hest_entry(data: bytes) -> Any:
    """A HEST error source entry from a partial excerpt that starts at one, else None."""
    from ..formats.acpi.hest_sources import SOURCE_TYPES

    if len(data) < 2:
        return None
    cls = SOURCE_TYPES.get(int.from_bytes(data[:2], "little"))
    if cls is None or len(data) < getattr(cls, "SIZE", 1 << 30):
        return None
    try:
        return cls.decode(memoryview(data), 0)
    except (FormatError, TypeError):
        return None


def sniff_acpidump(data: bytes) -> bool:
    """True when the text holds a hex dump this module reads (checks the first 64 KiB)."""
    text = data[:65536].decode("utf-8", "replace")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if (_ACPIDUMP_HDR.match(line) or _IASL_RAW_HDR.match(line) or _ACPIVIEW_HDR.match(line)
                or _IASL_FIELD.match(line)):
            return True
        if (_XP_LINE.match(line) or _HEXDUMP_LINE.match(line) or _XXD_LINE.match(line) or _OD_LINE.match(line)) \
                and i + 1 < len(lines):
            return True
    return False


def write_acpidump(tables: list[Any], *, addresses: list[int] | None = None) -> str:
    """acpidump's text for ``tables`` (decoded tables or raw bytes): header line, 16-byte rows."""
    out = []
    for i, t in enumerate(tables):
        data = bytes(t) if isinstance(t, bytes | bytearray | memoryview) else t.encode()
        addr = addresses[i] if addresses else 0
        out.append(f"{data[:4].decode('ascii', 'replace')} @ 0x{addr:016x}")
        for off in range(0, len(data), 16):
            row = data[off : off + 16]
            hexes = " ".join(f"{b:02X}" for b in row)
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
            out.append(f"    {off:04X}: {hexes:<47}  {text}")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def write_xp(data: bytes, address: int, *, width: int = 4) -> str:
    """QEMU ``xp /Nx`` style text for ``data`` at ``address`` (4 words a line, little-endian)."""
    if len(data) % width:
        data += b"\0" * (width - len(data) % width)
    words = [int.from_bytes(data[i : i + width], "little") for i in range(0, len(data), width)]
    per = 16 // width
    fmt = {1: "b", 2: "h", 4: "w", 8: "g"}[width]
    out = [f"(qemu) xp /{len(words)}x{fmt} {address:#x}"]
    for i in range(0, len(words), per):
        out.append(f"{address + i * width:016x}: " + " ".join(f"0x{w:0{2 * width}x}" for w in words[i : i + per]))
    return "\n".join(out) + "\n"


__all__ = [
    "AcpiDumpResult",
    "Decoded",
    "DumpBlock",
    "Skipped",
    "extract_dumps",
    "read_acpidump",
    "sniff_acpidump",
    "write_acpidump",
    "write_xp",
]
