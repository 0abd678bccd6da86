"""The CPER timestamp: eight BCD bytes (sec, min, hour, flags, day, month, year, century)."""

from __future__ import annotations

from typing import NamedTuple

from ..errors import FormatError

CPER_TIMESTAMP_PRECISE = 0x1


def bcd2bin(v: int) -> int:
    """As the kernel's bcd2bin(): no validation, so 0x9a gives 100."""
    return (v & 0x0F) + (v >> 4) * 10


def bin2bcd(v: int) -> int:
    return ((v // 10) << 4) | (v % 10)


class Timestamp(NamedTuple):
    seconds: int
    minutes: int
    hours: int
    precise: bool
    day: int
    month: int
    year: int
    century: int

    @classmethod
    def from_u64(cls, ts: int) -> Timestamp:
        b = ts.to_bytes(8, "little")
        return cls(
            bcd2bin(b[0]), bcd2bin(b[1]), bcd2bin(b[2]), bool(b[3] & CPER_TIMESTAMP_PRECISE),
            bcd2bin(b[4]), bcd2bin(b[5]), bcd2bin(b[6]), bcd2bin(b[7]),
        )

    def kernel_str(self) -> str:
        """cper_estatus_print_section: ``%02d%02d-%02d-%02d %02d:%02d:%02d``."""
        return (
            f"{self.century:02d}{self.year:02d}-{self.month:02d}-{self.day:02d} "
            f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}"
        )


def encode_timestamp(
    year: int, month: int, day: int, hours: int, minutes: int, seconds: int, *, precise: bool = False
) -> int:
    """Build the u64 for a calendar time (year with century, e.g. 2024)."""
    vals = (seconds, minutes, hours, day, month, year % 100, year // 100)
    for name, v, hi in zip(("seconds", "minutes", "hours", "day", "month", "year", "century"), vals, (59, 59, 23, 31, 12, 99, 99), strict=True):
        if not 0 <= v <= hi:
            raise FormatError(f"{v} is out of range", path=f"timestamp.{name}")
    b = bytes(
        [bin2bcd(seconds), bin2bcd(minutes), bin2bcd(hours), CPER_TIMESTAMP_PRECISE if precise else 0,
         bin2bcd(day), bin2bcd(month), bin2bcd(year % 100), bin2bcd(year // 100)]
    )
    return int.from_bytes(b, "little")
