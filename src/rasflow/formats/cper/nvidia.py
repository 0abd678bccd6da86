"""NVIDIA vendor sections (NVIDIA Grace / Arm64 servers emit them; libcper decodes them).

- ``CperSecNvidia`` (CPER_SEC_NVIDIA, libcper "Nvidia"): EFI_NVIDIA_ERROR_DATA, a
  32-byte header (IP signature, error type and instance, severity, socket,
  ``number_regs``, instance base), then ``number_regs`` 16-byte register pairs. For
  the "CMET-INFO" signature a pair's value is EFI_NVIDIA_CMET_CHANNEL_INFO; for
  "FWERROR" the bytes after the header are one EFI_NVIDIA_FWERROR (``fwerror``).
- ``CperSecNvidiaEvent`` (CPER_SEC_NVIDIA_EVENT, libcper "NvidiaEvent") lives in
  nvidia_event.py; its names are re-exported here.

Neither is in UEFI or Linux: the layouts are libcper's (include/libcper/Cper.h,
cper-section-nvidia-events.h at 7c410e29), named in kernel style.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Names, decode_entries, layout, u8, u16, u32, u64
from .guids import CPER_SEC_NVIDIA
from .names import SEVERITY_KERNEL
from .nvidia_event import (  # noqa: F401  (the NvidiaEvent names are re-exported)
    CPER_SEC_NVIDIA_EVENT,
    CTX_GPU_INIT_METADATA,
    CTX_GPU_LEGACY_XID,
    CTX_GPU_RECOMMENDED_ACTIONS,
    CTX_OPAQUE,
    CTX_TYPE_1,
    CTX_TYPE_2,
    CTX_TYPE_3,
    CTX_TYPE_4,
    DATA_FORMAT_TYPE,
    NVIDIA_EVENT_DEV_CPU,
    NVIDIA_EVENT_DEV_GPU,
    NVIDIA_EVENT_HEADER_VERSION,
    SOURCE_DEVICE_TYPE,
    CperNvidiaCpuEventInfo,
    CperNvidiaEventContext,
    CperNvidiaEventCtxHeader,
    CperNvidiaEventHeader,
    CperNvidiaEventInfoHeader,
    CperNvidiaGpuEventInfo,
    CperSecNvidiaEvent,
    EventInfo,
    _bounds,
    _hex,
    _join,
    _list,
    _object,
    decode_event_info,
)

# --- Nvidia (EFI_NVIDIA_ERROR_DATA) -------------------------------------------------

NVIDIA_SIG_CMET_INFO = b"CMET-INFO"
NVIDIA_SIG_FWERROR = b"FWERROR"


@layout
class CperSecNvidiaHeader:
    """The fixed 32 bytes of EFI_NVIDIA_ERROR_DATA."""

    signature: Bytes[16]
    error_type: u16
    error_instance: u16
    severity: Annotated[u8, Names(SEVERITY_KERNEL)]
    socket: u8
    number_regs: u8
    reserved: u8
    instance_base: u64


@layout
class CperNvidiaRegister:
    """EFI_NVIDIA_REGISTER_DATA: an address and a value (CMET channel info for CMET-INFO)."""

    address: u64
    value: u64


@layout
class CperNvidiaFwError:
    """EFI_NVIDIA_FWERROR (88 bytes), what follows the header for the FWERROR signature."""

    initiating_firmware: Bytes[8]
    task_checkpoint: u64
    mb1_error_code: u64
    mb1_version_string: Bytes[8]
    bad_pages_retired_mask: u64
    training_or_alias_check_retired_mask: u64
    worst_bad_pages_channel_number: u32
    worst_bad_pages_bad_page_count: u32
    second_worst_bad_pages_channel_number: u32
    second_worst_bad_pages_bad_page_count: u32
    third_worst_bad_pages_channel_number: u32
    third_worst_bad_pages_bad_page_count: u32
    mss_aon_cfg_scratch_register_0: u64
    scratch_dram_disable: u64


REG_SIZE = CperNvidiaRegister.SIZE


class CperSecNvidia(NamedTuple):
    """The section: ``header``, its ``registers`` and any bytes after them in ``tail``."""

    header: CperSecNvidiaHeader
    registers: tuple[CperNvidiaRegister, ...] = ()
    tail: bytes = b""

    GUID = CPER_SEC_NVIDIA
    SIZE = CperSecNvidiaHeader.SIZE

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecNvidia:
        mv = memoryview(buf)
        end = _bounds(mv, off, length)
        header = CperSecNvidiaHeader.decode(mv[:end], off)
        pos = off + cls.SIZE
        stop = pos + header.number_regs * REG_SIZE
        if stop > end:
            raise FormatError(
                f"number_regs {header.number_regs} register pairs need {stop - pos} bytes, "
                f"the section has {end - pos} after the header",
                path="number_regs", offset=off + 22, need=stop - end,
            )
        regs = decode_entries(CperNvidiaRegister, mv, pos, header.number_regs)
        return cls(header, regs, bytes(mv[stop:end]))

    def encode(self) -> bytes:
        return b"".join((self.header.encode(), *(r.encode() for r in self.registers), self.tail))

    @property
    def nbytes(self) -> int:
        return self.SIZE + REG_SIZE * len(self.registers) + len(self.tail)

    @property
    def body(self) -> bytes:
        """The bytes after the header (registers and tail), whatever the signature."""
        return self.encode()[self.SIZE :]

    @property
    def fwerror(self) -> CperNvidiaFwError | None:
        """The body read as EFI_NVIDIA_FWERROR, when it is long enough."""
        body = self.body
        return CperNvidiaFwError.decode(body) if len(body) >= CperNvidiaFwError.SIZE else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.header.to_dict(), "registers": [r.to_dict() for r in self.registers], "tail": self.tail.hex()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecNvidia:
        d = _object(d, "CperSecNvidia", path)
        header = CperSecNvidiaHeader.from_dict({k: v for k, v in d.items() if k not in ("registers", "tail")}, path=path)
        rp = _join(path, "registers")
        regs = tuple(CperNvidiaRegister.from_dict(r, path=f"{rp}[{i}]") for i, r in enumerate(_list(d, "registers", path)))
        return cls(header, regs, _hex(d, "tail", path))

    def check(self) -> list[str]:
        if self.header.number_regs != len(self.registers):
            return [f"number_regs {self.header.number_regs} but {len(self.registers)} register pairs"]
        return []

    @classmethod
    def strategy(cls, max_registers: int = 4):
        """Hypothesis: consistent sections (number_regs matches the pairs)."""
        from hypothesis import strategies as st

        def build(header, regs, tail):
            return cls(header._replace(number_regs=len(regs)), tuple(regs), tail)

        return st.builds(build, CperSecNvidiaHeader.strategy(),
                         st.lists(CperNvidiaRegister.strategy(), max_size=max_registers), st.binary(max_size=100))

