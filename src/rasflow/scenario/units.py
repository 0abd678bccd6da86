"""Sizes, times and addresses as scenario files write them, normalised to ints.

Each parser takes the raw TOML value and returns an int, or raises ``ValueError`` whose
message says what is allowed (the caller adds the file, line and field).

- size: an int (bytes) or ``"4096"``, ``"64KiB"``, ``"4GiB"`` (B, KiB, MiB, GiB, TiB);
- time: an int (ns) or ``"10ns"``, ``"250us"``, ``"1.5ms"``, ``"2s"`` (a whole number of ns);
- address: an int (``0x...`` in TOML) or a ``"0x..."`` string, ``0 <= a < 2**64``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SIZE_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
TIME_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_NUMBER_UNIT = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9_]+)?)\s*([A-Za-zµ]*)\s*")
ADDR_LIMIT = 1 << 64


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scaled(value: object, units: dict[str, int], what: str, unit_of_int: str) -> int:
    allowed = ", ".join(units)
    hint = f"an integer number of {unit_of_int} or a number with a unit ({allowed})"
    if _is_int(value):
        if value < 0:
            raise ValueError(f"{what} must not be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{what} must be {hint}, got {type(value).__name__} {value!r}")
    m = _NUMBER_UNIT.fullmatch(value)
    if m is None:
        raise ValueError(f"bad {what} {value!r}: use {hint}")
    number, unit = m.group(1).replace("_", ""), m.group(2) or next(iter(units))
    unit = "us" if unit == "µs" else unit
    if unit not in units:
        raise ValueError(f"bad {what} {value!r}: unknown unit {unit!r}; units are {allowed}")
    try:
        exact = Decimal(number) * units[unit]
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"bad {what} {value!r}: use {hint}") from None
    if exact != exact.to_integral_value():
        raise ValueError(f"bad {what} {value!r}: not a whole number of {unit_of_int}")
    return int(exact)


def parse_size(value: object) -> int:
    """Bytes from an int or ``"64KiB"``-style string."""
    return _scaled(value, SIZE_UNITS, "size", "bytes")


def parse_time(value: object) -> int:
    """Nanoseconds from an int or ``"250us"``-style string."""
    return _scaled(value, TIME_UNITS, "time", "ns")


def parse_addr(value: object) -> int:
    """An address from an int or a ``"0x..."`` string."""
    if isinstance(value, str):
        s = value.strip().replace("_", "")
        if not re.fullmatch(r"0[xX][0-9a-fA-F]+", s):
            raise ValueError(f"bad address {value!r}: use an integer or a '0x...' hex string")
        value = int(s, 16)
    elif not _is_int(value):
        raise ValueError(f"an address must be an integer or a '0x...' string, got {value!r}")
    if not 0 <= value < ADDR_LIMIT:
        raise ValueError(f"address {value:#x} is outside 0..2**64-1")
    return value


def format_size(n: int) -> str:
    """The largest unit that divides ``n`` exactly: 65536 -> ``"64KiB"``."""
    for unit, scale in reversed(SIZE_UNITS.items()):
        if n and n % scale == 0:
            return f"{n // scale}{unit}"
    return f"{n}B"


def format_time(ns: int) -> str:
    """The largest unit that divides ``ns`` exactly: 250000 -> ``"250us"``."""
    for unit, scale in reversed(TIME_UNITS.items()):
        if ns and ns % scale == 0:
            return f"{ns // scale}{unit}"
    return f"{ns}ns"
