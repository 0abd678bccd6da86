"""What every command shares: reading inputs (binary, hex or base64 text), one-line errors."""

from __future__ import annotations

import base64
import binascii
import re
import sys
from pathlib import Path

from ..formats.errors import FormatError

EXIT_USAGE = 2

_HEX = re.compile(rb"^(?:0x)?[0-9a-fA-F\s]+$")
_B64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_TEXT = re.compile(rb"^[\x20-\x7e\t\r\n]+$")


class UserError(Exception):
    """A bad argument or input: printed as one line, exit status 2."""


def read_raw(name: str) -> bytes:
    """The bytes of a file or of stdin (``-``), as they are."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as e:
        raise UserError(f"{name}: {e.strerror}") from None


def read_input(name: str) -> bytes:
    """The bytes of a file or of stdin (``-``); hex or base64 text is converted."""
    return text_to_bytes(read_raw(name), name)


def looks_like_text(raw: bytes) -> bool:
    """Printable ASCII and whitespace only (binary records always hold other bytes)."""
    return bool(_TEXT.match(raw[:65536]))


def text_to_bytes(raw: bytes, name: str = "input") -> bytes:
    stripped = raw.strip()
    if not stripped or b"\0" in raw[:4096]:
        return raw
    if _HEX.match(stripped):
        digits = re.sub(rb"0x|\s", b"", stripped)
        if len(digits) % 2:
            raise UserError(f"{name}: odd number of hex digits ({len(digits)})")
        return binascii.unhexlify(digits)
    if _B64.match(stripped) and len(stripped) >= 16:
        try:
            return base64.b64decode(re.sub(rb"\s", b"", stripped), validate=True)
        except binascii.Error:
            raise UserError(f"{name}: looks like base64 but does not decode") from None
    if _TEXT.match(raw):
        first = stripped.splitlines()[0][:60].decode("ascii", "replace")
        raise UserError(f"{name}: text that is neither hex nor base64 (first line: {first!r})")
    return raw


def fail(prog: str, err: FormatError | UserError, source: str | None = None) -> int:
    """Print one line naming the input, the field and the offset; return exit status 2."""
    where = f"{source}: " if source else ""
    print(f"rasflow {prog}: {where}{err}", file=sys.stderr)
    return EXIT_USAGE
