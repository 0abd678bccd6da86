"""PCI/PCI-X Component Error section (UEFI N.2.9): 40 fixed bytes, then
``memory_number + io_number`` register data pairs of 16 bytes (address, value).

Linux has no struct for it (the kernel prints it as an unknown section); the
field names are EDK2's EFI_PCI_PCIX_DEVICE_ERROR_DATA members in kernel style.
Memory-mapped register pairs come first, then programmed-I/O ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Flags, decode_entries, layout, section_end, u8, u16, u32, u64
from .guids import CPER_SEC_PCI_DEV

# Validation bits (UEFI N.2.9)
CPER_PCI_DEV_VALID_ERROR_STATUS = 0x0001
CPER_PCI_DEV_VALID_ID_INFO = 0x0002
CPER_PCI_DEV_VALID_MEMORY_NUMBER = 0x0004
CPER_PCI_DEV_VALID_IO_NUMBER = 0x0008
CPER_PCI_DEV_VALID_REGISTER_DATA_PAIR = 0x0010

PCI_DEV_VALID = {0: "error_status", 1: "id_info", 2: "memory_number", 3: "io_number", 4: "register_data_pair"}


@layout
class CperSecPciDevHeader:
    """The fixed 40 bytes: validation bits, error status, ID info, the two counts."""

    validation_bits: Annotated[u64, Flags(PCI_DEV_VALID)]
    error_status: u64
    vendor_id: u16
    device_id: u16
    class_code: Bytes[3]
    function: u8
    device: u8
    bus: u8
    segment: u8
    reserved: Bytes[5]
    memory_number: u32
    io_number: u32

    @property
    def class_code_value(self) -> int:
        return int.from_bytes(self.class_code, "little")


@layout
class CperPciDevRegister:
    """One register data pair (16 bytes)."""

    address: u64
    value: u64


REG_SIZE = CperPciDevRegister.SIZE


class CperSecPciDev(NamedTuple):
    """The section: ``header``, its ``registers`` and any bytes after them in ``tail``."""

    header: CperSecPciDevHeader
    registers: tuple[CperPciDevRegister, ...] = ()
    tail: bytes = b""

    GUID = CPER_SEC_PCI_DEV
    SIZE = CperSecPciDevHeader.SIZE

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecPciDev:
        mv = memoryview(buf)
        end = section_end(len(mv), off, length)
        header = CperSecPciDevHeader.decode(mv[:end], off)
        pos = off + cls.SIZE
        count = header.memory_number + header.io_number
        if pos + count * REG_SIZE > end:
            mem_fits = pos + header.memory_number * REG_SIZE <= end
            field = "io_number" if mem_fits else "memory_number"
            raise FormatError(
                f"memory_number {header.memory_number} + io_number {header.io_number} register pairs "
                f"need {count * REG_SIZE} bytes, the section has {end - pos} after the header",
                path=field, offset=off + (36 if mem_fits else 32), need=pos + count * REG_SIZE - end,
            )
        stop = pos + count * REG_SIZE
        regs = decode_entries(CperPciDevRegister, mv, pos, count)
        return cls(header, regs, bytes(mv[stop:end]))

    def encode(self) -> bytes:
        return b"".join((self.header.encode(), *(r.encode() for r in self.registers), self.tail))

    @property
    def nbytes(self) -> int:
        return self.SIZE + REG_SIZE * len(self.registers) + len(self.tail)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header.to_dict(),
            "registers": [r.to_dict() for r in self.registers],
            "tail": self.tail.hex(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecPciDev:
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecPciDev", path=path)
        rest = {k: v for k, v in d.items() if k not in ("registers", "tail")}
        header = CperSecPciDevHeader.from_dict(rest, path=path)
        regs = d.get("registers", [])
        rp = f"{path}.registers" if path else "registers"
        if not isinstance(regs, list):
            raise FormatError("expected a list", path=rp)
        registers = tuple(CperPciDevRegister.from_dict(r, path=f"{rp}[{i}]") for i, r in enumerate(regs))
        tail = d.get("tail", "")
        try:
            tail_bytes = bytes.fromhex(tail)
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path=f"{path}.tail" if path else "tail") from None
        return cls(header, registers, tail_bytes)

    def check(self) -> list[str]:
        h = self.header
        if h.memory_number + h.io_number != len(self.registers):
            return [f"memory_number {h.memory_number} + io_number {h.io_number} but {len(self.registers)} register pairs"]
        return []

    @classmethod
    def strategy(cls, max_registers: int = 4):
        """Hypothesis: consistent sections (counts match the register pairs)."""
        from hypothesis import strategies as st

        def build(header, mem, regs, tail):
            mem = min(mem, len(regs))
            return cls(header._replace(memory_number=mem, io_number=len(regs) - mem), tuple(regs), tail)

        return st.builds(
            build, CperSecPciDevHeader.strategy(), st.integers(0, max_registers),
            st.lists(CperPciDevRegister.strategy(), max_size=max_registers), st.binary(max_size=32),
        )
