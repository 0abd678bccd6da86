"""The NvidiaEvent section (CPER_SEC_NVIDIA_EVENT, libcper "NvidiaEvent"): a 32-byte
event header, a 3-byte info header whose ``info_size`` counts itself and the device
info after it (CPU or GPU layout), then ``event_context_count`` contexts of ``ctx_size``
bytes each: a 16-byte context header, ``data_size`` bytes of data and padding. The data
stays bytes here; render/libcper/nvidia.py and nvidia_ctx.py read the formats (1-4
arrays, 0x8000-0x8002 GPU layouts) as libcper does.

Not in UEFI or Linux: the layouts are libcper's (cper-section-nvidia-events.h at
7c410e29), named in kernel style. The bounds and JSON helpers here are shared with
nvidia.py (the "Nvidia" section), which re-exports every name of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..errors import FormatError
from ..layout import Bytes, Names, Tail, layout, section_end, u8, u16, u32, u64
from .guids import CPER_SEC_NVIDIA_EVENT


def _bounds(mv: memoryview, off: int, length: int | None) -> int:
    return section_end(len(mv), off, length)


def _hex(d: Mapping[str, Any], key: str, path: str) -> bytes:
    try:
        return bytes.fromhex(d.get(key, ""))
    except (TypeError, ValueError):
        raise FormatError("not a hex string", path=f"{path}.{key}" if path else key) from None


def _list(d: Mapping[str, Any], key: str, path: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=f"{path}.{key}" if path else key)
    return v


def _object(d: Any, name: str, path: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise FormatError(f"expected an object for {name}", path=path)
    return d


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- NvidiaEvent (EFI_NVIDIA_EVENT_HEADER ...) -------------------------------------

NVIDIA_EVENT_HEADER_VERSION = 1
# NVIDIA_EVENT_SRC_DEV
NVIDIA_EVENT_DEV_CPU = 0
NVIDIA_EVENT_DEV_GPU = 1
SOURCE_DEVICE_TYPE = {0: "CPU", 1: "GPU", 2: "DPU", 3: "NIC", 4: "SWX", 5: "BMC"}
# NVIDIA_EVENT_CTX_DATA_TYPE
CTX_OPAQUE = 0
CTX_TYPE_1 = 1
CTX_TYPE_2 = 2
CTX_TYPE_3 = 3
CTX_TYPE_4 = 4
CTX_GPU_INIT_METADATA = 0x8000
CTX_GPU_LEGACY_XID = 0x8001
CTX_GPU_RECOMMENDED_ACTIONS = 0x8002
DATA_FORMAT_TYPE = {
    0: "opaque", 1: "key/value u64", 2: "key/value u32", 3: "values u64", 4: "values u32",
    0x8000: "GPU init metadata", 0x8001: "GPU legacy Xid", 0x8002: "GPU recommended actions",
}


@layout
class CperNvidiaEventHeader:
    """EFI_NVIDIA_EVENT_HEADER (32 bytes)."""

    event_version: u8
    event_context_count: u8
    source_device_type: Annotated[u8, Names(SOURCE_DEVICE_TYPE)]
    reserved1: u8
    event_type: u16
    event_subtype: u16
    event_link_id: u64
    signature: Bytes[16]


@layout
class CperNvidiaEventInfoHeader:
    """EFI_NVIDIA_EVENT_INFO_HEADER: version (major in the high byte) and the info size."""

    info_version: u16
    info_size: u8


@layout
class CperNvidiaCpuEventInfo:
    """EFI_NVIDIA_CPU_EVENT_INFO (29 bytes); bytes beyond it up to info_size in ``tail``."""

    socket_num: u8
    architecture: u32
    ecid0: u32
    ecid1: u32
    ecid2: u32
    ecid3: u32
    instance_base: u64
    tail: Tail


@layout
class CperNvidiaGpuEventInfo:
    """EFI_NVIDIA_GPU_EVENT_INFO (13 bytes); bytes beyond it up to info_size in ``tail``."""

    event_originator: u8
    source_partition: u16
    source_sub_partition: u16
    pdi: u64
    tail: Tail


@layout
class CperNvidiaEventCtxHeader:
    """EFI_NVIDIA_EVENT_CTX_HEADER (16 bytes); ctx_size spans header, data and padding."""

    ctx_size: u32
    ctx_version: u16
    reserved1: u16
    data_format_type: Annotated[u16, Names(DATA_FORMAT_TYPE)]
    data_format_version: u16
    data_size: u32


class CperNvidiaEventContext(NamedTuple):
    """One context: its header, ``data_size`` bytes of data, the rest of ``ctx_size``."""

    header: CperNvidiaEventCtxHeader
    data: bytes = b""
    padding: bytes = b""

    @property
    def nbytes(self) -> int:
        return CperNvidiaEventCtxHeader.SIZE + len(self.data) + len(self.padding)

    def encode(self) -> bytes:
        return self.header.encode() + self.data + self.padding

    def to_dict(self) -> dict[str, Any]:
        return {**self.header.to_dict(), "data": self.data.hex(), "padding": self.padding.hex()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperNvidiaEventContext:
        d = _object(d, "CperNvidiaEventContext", path)
        header = CperNvidiaEventCtxHeader.from_dict({k: v for k, v in d.items() if k not in ("data", "padding")}, path=path)
        return cls(header, _hex(d, "data", path), _hex(d, "padding", path))


EventInfo = CperNvidiaCpuEventInfo | CperNvidiaGpuEventInfo | bytes
_INFO_KINDS: dict[str, type] = {"cpu": CperNvidiaCpuEventInfo, "gpu": CperNvidiaGpuEventInfo}
_INFO_DEVICE = {CperNvidiaCpuEventInfo: NVIDIA_EVENT_DEV_CPU, CperNvidiaGpuEventInfo: NVIDIA_EVENT_DEV_GPU}


def decode_event_info(source_device_type: int, raw: bytes) -> EventInfo:
    """The device info as its layout when the device type has one and it fits, else raw bytes."""
    for cls, dev in _INFO_DEVICE.items():
        if source_device_type == dev and len(raw) >= cls.SIZE:
            return cls.decode(raw, 0, len(raw))
    return raw


class CperSecNvidiaEvent(NamedTuple):
    """The section: event header, info header and device ``info``, ``contexts``, ``tail``."""

    header: CperNvidiaEventHeader
    info_header: CperNvidiaEventInfoHeader
    info: EventInfo = b""
    contexts: tuple[CperNvidiaEventContext, ...] = ()
    tail: bytes = b""

    GUID = CPER_SEC_NVIDIA_EVENT
    SIZE = CperNvidiaEventHeader.SIZE + CperNvidiaEventInfoHeader.SIZE

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecNvidiaEvent:
        mv = memoryview(buf)
        end = _bounds(mv, off, length)
        header = CperNvidiaEventHeader.decode(mv[:end], off)
        info_header = CperNvidiaEventInfoHeader.decode(mv[:end], off + CperNvidiaEventHeader.SIZE)
        size = info_header.info_size
        if size < CperNvidiaEventInfoHeader.SIZE:
            raise FormatError(f"info_size {size} is smaller than the info header (3 bytes)",
                              path="info_header.info_size", offset=off + 34)
        pos = off + CperNvidiaEventHeader.SIZE + size
        if pos > end:
            raise FormatError(f"info_size {size} runs {pos - end} bytes past the section",
                              path="info_header.info_size", offset=off + 34, need=pos - end)
        info = decode_event_info(header.source_device_type, bytes(mv[off + cls.SIZE : pos]))
        contexts = []
        for i in range(header.event_context_count):
            path = f"contexts[{i}]"
            if pos + CperNvidiaEventCtxHeader.SIZE > end:
                raise FormatError(
                    f"event_context_count {header.event_context_count}: context {i} header runs past the section",
                    path=path, offset=pos, need=pos + CperNvidiaEventCtxHeader.SIZE - end,
                )
            ch = CperNvidiaEventCtxHeader.decode(mv[:end], pos)
            if ch.ctx_size < ch.SIZE:
                raise FormatError(f"ctx_size {ch.ctx_size} is smaller than the context header (16 bytes)",
                                  path=f"{path}.ctx_size", offset=pos)
            if pos + ch.ctx_size > end:
                raise FormatError(f"ctx_size {ch.ctx_size} runs {pos + ch.ctx_size - end} bytes past the section",
                                  path=f"{path}.ctx_size", offset=pos, need=pos + ch.ctx_size - end)
            if ch.data_size > ch.ctx_size - ch.SIZE:
                raise FormatError(f"data_size {ch.data_size} does not fit in ctx_size {ch.ctx_size}",
                                  path=f"{path}.data_size", offset=pos + 12)
            data_end = pos + ch.SIZE + ch.data_size
            contexts.append(CperNvidiaEventContext(ch, bytes(mv[pos + ch.SIZE : data_end]),
                                                   bytes(mv[data_end : pos + ch.ctx_size])))
            pos += ch.ctx_size
        return cls(header, info_header, info, tuple(contexts), bytes(mv[pos:end]))

    @property
    def info_bytes(self) -> bytes:
        return self.info if isinstance(self.info, bytes) else self.info.encode()

    def encode(self) -> bytes:
        return b"".join((self.header.encode(), self.info_header.encode(), self.info_bytes,
                         *(c.encode() for c in self.contexts), self.tail))

    @property
    def nbytes(self) -> int:
        return self.SIZE + len(self.info_bytes) + sum(c.nbytes for c in self.contexts) + len(self.tail)

    def to_dict(self) -> dict[str, Any]:
        if isinstance(self.info, bytes):
            info: dict[str, Any] = {"raw": self.info.hex()}
        else:
            info = {"cpu" if isinstance(self.info, CperNvidiaCpuEventInfo) else "gpu": self.info.to_dict()}
        return {
            "header": self.header.to_dict(),
            "info_header": self.info_header.to_dict(),
            "info": info,
            "contexts": [c.to_dict() for c in self.contexts],
            "tail": self.tail.hex(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecNvidiaEvent:
        d = _object(d, "CperSecNvidiaEvent", path)
        for key in d:
            if key not in cls._fields:
                raise FormatError(f"unknown field {key!r} in CperSecNvidiaEvent", path=_join(path, key))
        header = CperNvidiaEventHeader.from_dict(d.get("header", {}), path=_join(path, "header"))
        info_header = CperNvidiaEventInfoHeader.from_dict(d.get("info_header", {}), path=_join(path, "info_header"))
        ip = _join(path, "info")
        info_d = _object(d.get("info", {"raw": ""}), "info", ip)
        if len(info_d) != 1 or next(iter(info_d)) not in ("raw", *_INFO_KINDS):
            raise FormatError("expected one of 'raw', 'cpu', 'gpu'", path=ip)
        kind, value = next(iter(info_d.items()))
        info = _hex(info_d, "raw", ip) if kind == "raw" else _INFO_KINDS[kind].from_dict(value, path=f"{ip}.{kind}")
        cp = _join(path, "contexts")
        contexts = tuple(CperNvidiaEventContext.from_dict(c, path=f"{cp}[{i}]")
                         for i, c in enumerate(_list(d, "contexts", path)))
        return cls(header, info_header, info, contexts, _hex(d, "tail", path))

    def check(self) -> list[str]:
        out = []
        if self.header.event_context_count != len(self.contexts):
            out.append(f"event_context_count {self.header.event_context_count} but {len(self.contexts)} contexts")
        info_size = self.info_header.info_size
        if info_size != self.info_header.SIZE + len(self.info_bytes):
            out.append(f"info_size {info_size} but the info header and info take {3 + len(self.info_bytes)} bytes")
        dev = _INFO_DEVICE.get(type(self.info))
        if dev is not None and dev != self.header.source_device_type:
            out.append(f"{SOURCE_DEVICE_TYPE[dev]} info but source_device_type {self.header.source_device_type}")
        for i, c in enumerate(self.contexts):
            if c.header.ctx_size != c.nbytes:
                out.append(f"contexts[{i}]: ctx_size {c.header.ctx_size} but the context takes {c.nbytes} bytes")
            if c.header.data_size != len(c.data):
                out.append(f"contexts[{i}]: data_size {c.header.data_size} but {len(c.data)} data bytes")
        return out

    @classmethod
    def strategy(cls, max_contexts: int = 3):
        """Hypothesis: consistent sections (counts, sizes and info kind match the parts)."""
        from hypothesis import strategies as st

        def context(header, data, padding):
            return CperNvidiaEventContext(
                header._replace(ctx_size=16 + len(data) + len(padding), data_size=len(data)), data, padding)

        contexts = st.lists(st.builds(context, CperNvidiaEventCtxHeader.strategy(), st.binary(max_size=48),
                                      st.binary(max_size=16)), max_size=max_contexts)
        infos = st.one_of(st.binary(max_size=12), CperNvidiaCpuEventInfo.strategy(tail=st.binary(max_size=8)),
                          CperNvidiaGpuEventInfo.strategy(tail=st.binary(max_size=8)))

        def build(header, info_header, info, ctxs, tail):
            raw = info if isinstance(info, bytes) else info.encode()
            dev = _INFO_DEVICE.get(type(info))
            if dev is None:  # raw info: a device type that decode keeps raw for this size
                dev = header.source_device_type if header.source_device_type > 1 else 2
            header = header._replace(event_context_count=len(ctxs), source_device_type=dev)
            return cls(header, info_header._replace(info_size=3 + len(raw)), info, tuple(ctxs), tail)

        return st.builds(build, CperNvidiaEventHeader.strategy(), CperNvidiaEventInfoHeader.strategy(),
                         infos, contexts, st.binary(max_size=24))
