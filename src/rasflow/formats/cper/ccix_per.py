"""CCIX Protocol Error Record log section (UEFI N.2.12): a 16-byte header
(struct cper_sec_ccix_header from the proposed Linux CCIX patches), then the
PER log of CCIX Base Specification 1.0 section 7.3.2 up to ``length``.

``length`` counts the whole structure, header included. Bytes of the section
past ``length`` are kept in ``tail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, layout, u8, u32, u64
from .guids import CPER_SEC_CCIX_PER

CPER_CCIX_VALID_SOURCE_ID = 0x1
CPER_CCIX_VALID_PORT_ID = 0x2
CPER_CCIX_VALID_PER_LOG = 0x4

CCIX_VALID = {0: "source_id", 1: "port_id", 2: "per_log"}


@layout
class CperSecCcixHeader:
    """struct cper_sec_ccix_header (16 bytes)."""

    length: u32
    validation_bits: Annotated[u64, Flags(CCIX_VALID)]
    source_id: u8
    port_id: u8
    reserved: Bytes[2]


class CperSecCcixPer(NamedTuple):
    """The section: ``header``, the PER log (bytes 16 to ``length``), and any bytes after it."""

    header: CperSecCcixHeader
    per_log: bytes = b""
    tail: bytes = b""

    GUID = CPER_SEC_CCIX_PER
    SIZE = CperSecCcixHeader.SIZE

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecCcixPer:
        mv = memoryview(buf)
        end = len(mv) if length is None else off + length
        if end > len(mv):
            raise FormatError(f"truncated: length says {length} bytes, have {len(mv) - off}", offset=off, need=end - len(mv))
        header = CperSecCcixHeader.decode(mv[:end], off)
        log_end = off + max(header.length, cls.SIZE)
        if log_end > end:
            raise FormatError(
                f"length {header.length} is beyond the section ({end - off} bytes)",
                path="length", offset=off, need=log_end - end,
            )
        return cls(header, bytes(mv[off + cls.SIZE : log_end]), bytes(mv[log_end:end]))

    def encode(self) -> bytes:
        return self.header.encode() + self.per_log + self.tail

    @property
    def nbytes(self) -> int:
        return self.SIZE + len(self.per_log) + len(self.tail)

    def to_dict(self) -> dict[str, Any]:
        return {**self.header.to_dict(), "per_log": self.per_log.hex(), "tail": self.tail.hex()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecCcixPer:
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecCcixPer", path=path)
        header = CperSecCcixHeader.from_dict({k: v for k, v in d.items() if k not in ("per_log", "tail")}, path=path)
        out = []
        for key in ("per_log", "tail"):
            try:
                out.append(bytes.fromhex(d.get(key, "")))
            except (TypeError, ValueError):
                raise FormatError("not a hex string", path=f"{path}.{key}" if path else key) from None
        return cls(header, *out)

    def check(self) -> list[str]:
        want = max(self.header.length - self.SIZE, 0)
        if len(self.per_log) != want:
            return [f"length {self.header.length} but the PER log is {len(self.per_log)} bytes (header + log = {self.SIZE + len(self.per_log)})"]
        return []

    @classmethod
    def strategy(cls):
        """Hypothesis: consistent sections (``length`` covers header and log)."""
        from hypothesis import strategies as st

        def build(header, log, tail):
            return cls(header._replace(length=cls.SIZE + len(log)), log, tail)

        return st.builds(build, CperSecCcixHeader.strategy(), st.binary(max_size=64), st.binary(max_size=16))
