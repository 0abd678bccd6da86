"""libcper's JSON for the GPU context data of an "NvidiaEvent" section
(sections/cper-section-nvidia-events.c, libcper 7c410e29): the init metadata, legacy Xid
and recommended actions layouts, their JSON both ways, and the libcper value forms
(add_untrusted_string, add_int_hex, add_int, get_value_hex, PDI) that render/libcper/nvidia.py
shares. The wrapping of a context (header, dataSize, padding) stays in nvidia.py.
"""

from __future__ import annotations

import re
from typing import Any

from ...cper import nvidia as nv
from ...errors import FormatError
from ...layout import Bytes, Tail, layout, u8, u16, u32, u64
from .common import get, get_int

# NV_PMC_BOOT_42 architecture, bits 29:24
GPU_ARCHITECTURE = {0x16: "Turing", 0x17: "Ampere", 0x18: "Hopper", 0x19: "Ada", 0x1A: "Blackwell",
                    0x1B: "Blackwell2", 0x1C: "Rubin"}


@layout
class CperNvidiaGpuCtxInitMetadata:
    """EFI_NVIDIA_GPU_CTX_INIT_METADATA (192 bytes); PCI info fills the 59-byte union."""

    device_name: Bytes[48]
    firmware_version: Bytes[16]
    pf_driver_microcode_version: Bytes[16]
    pf_driver_version: Bytes[16]
    vf_driver_version: Bytes[16]
    configuration: u64
    pdi: u64
    architecture_id: u32
    hardware_info_type: u8
    pci_class: u8
    pci_subclass: u8
    pci_rev: u8
    vendor_id: u16
    device_id: u16
    subsystem_vendor_id: u16
    subsystem_id: u16
    bar0_start: u64
    bar0_size: u64
    bar1_start: u64
    bar1_size: u64
    bar2_start: u64
    bar2_size: u64


@layout
class CperNvidiaGpuCtxLegacyXid:
    """EFI_NVIDIA_GPU_CTX_LEGACY_XID: the Xid code, then up to 236 message bytes."""

    xid_code: u32
    message: Tail


@layout
class CperNvidiaGpuCtxRecommendedActions:
    """EFI_NVIDIA_GPU_CTX_RECOMMENDED_ACTIONS (16 bytes)."""

    flags: u8
    reserved1: Bytes[3]
    recovery_action: u16
    diagnostic_flow: u16
    reserved2: u64


# (JSON key, field, JSON form) for the metadata: "s" string, n = add_int_hex width in bytes
_METADATA = (("deviceName", "device_name", "s"), ("firmwareVersion", "firmware_version", "s"),
             ("pfDriverMicrocodeVersion", "pf_driver_microcode_version", "s"),
             ("pfDriverVersion", "pf_driver_version", "s"), ("vfDriverVersion", "vf_driver_version", "s"),
             ("configuration", "configuration", 8))
_PCI_INFO = (("class", "pci_class", 1), ("subclass", "pci_subclass", 1), ("rev", "pci_rev", 1),
             ("vendorId", "vendor_id", 2), ("deviceId", "device_id", 2),
             ("subsystemVendorId", "subsystem_vendor_id", 2), ("subsystemId", "subsystem_id", 2),
             *((f"bar{i}{w}", f"bar{i}_{w.lower()}", 8) for i in range(3) for w in ("Start", "Size")))


def _untrusted(raw: bytes) -> str | None:
    """cper_printable_string_length(): text before a NUL inside ``raw``, else None."""
    text, nul, _ = raw.partition(b"\0")
    if not nul or not text or any(not 0x20 <= c < 0x7F for c in text):
        return None
    return text.decode("ascii")


def _hexs(value: int, nbytes: int) -> str:
    """add_int_hex_8/16/32/64."""
    return f"0x{value:0{2 * nbytes}X}"


def _c_int(value: int) -> int:
    """add_int() of a u32: json_object_new_int() takes an int32."""
    return value - (1 << 32) if value >= 1 << 31 else value


def _pdi(value: int) -> str:
    return ":".join(f"{value:016X}"[i : i + 2] for i in range(0, 16, 2))


def _obj(d: Any, key: str, path: str, *, required: bool = False) -> dict[str, Any]:
    v = get(d, key, path) if required else get(d, key, path, {})
    if not isinstance(v, dict):
        raise FormatError("expected an object", path=f"{path}.{key}")
    return v


def _text(d: dict[str, Any], key: str, path: str, size: int) -> bytes:
    """A string field as libcper copies it: up to ``size`` bytes, NUL-padded."""
    v = d.get(key, "")
    if not isinstance(v, str) or not v.isascii():
        raise FormatError("expected an ASCII string", path=f"{path}.{key}")
    return v.encode()[:size].ljust(size, b"\0")


def _hexv(d: dict[str, Any], key: str, path: str, nbytes: int) -> int:
    """get_value_hex_8/16/32/64: "0x" and exactly 2 * nbytes hex digits; absent is 0."""
    v = d.get(key)
    if v is None:
        return 0
    if not isinstance(v, str) or not re.fullmatch(f"0x[0-9A-Fa-f]{{{2 * nbytes}}}", v):
        raise FormatError(f"expected 0x and {2 * nbytes} hex digits", path=f"{path}.{key}")
    return int(v[2:], 16)


def _int(d: dict[str, Any], key: str, path: str, bits: int) -> int:
    """An integer field, absent is 0; a u32 printed by add_int() may be negative."""
    if bits == 32 and isinstance(d.get(key), int) and -(1 << 31) <= d[key] < 0:
        return d[key] & 0xFFFFFFFF
    return get_int(d, key, path, bits=bits, default=0)


def _pdi_from_ir(d: dict[str, Any], key: str, path: str) -> int:
    """The "XX:XX:...:XX" PDI string (sscanf "%02x:..." in libcper); absent is 0."""
    v = d.get(key)
    if v is None:
        return 0
    if not isinstance(v, str) or not re.fullmatch(r"[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){7}", v):
        raise FormatError("expected eight hex bytes joined by ':'", path=f"{path}.{key}")
    return int("".join(x.rjust(2, "0") for x in v.split(":")), 16)


def gpu_ctx_to_ir(t: int, data: bytes) -> dict[str, Any]:
    """The JSON object of a GPU context in data format ``t`` (CTX_GPU_*); {} when too short."""
    if t == nv.CTX_GPU_LEGACY_XID:
        if len(data) < 4:
            return {}
        xid = CperNvidiaGpuCtxLegacyXid.decode(data, 0, min(len(data), 240))
        return {"xidCode": _c_int(xid.xid_code), "message": _untrusted(xid.message) or ""}
    if t == nv.CTX_GPU_RECOMMENDED_ACTIONS:
        if len(data) < CperNvidiaGpuCtxRecommendedActions.SIZE:
            return {}
        a = CperNvidiaGpuCtxRecommendedActions.decode(data)
        return {"flags": _hexs(a.flags, 1), "recoveryAction": a.recovery_action, "diagnosticFlow": a.diagnostic_flow}
    if len(data) < CperNvidiaGpuCtxInitMetadata.SIZE:
        return {}
    m = CperNvidiaGpuCtxInitMetadata.decode(data)
    d: dict[str, Any] = {}
    for key, field, form in _METADATA:
        v = getattr(m, field)
        d[key] = (_untrusted(v) or "") if form == "s" else _hexs(v, form)
    arch = m.architecture_id >> 24 & 0x3F
    d.update(pdi=_pdi(m.pdi), architectureId={"raw": _hexs(m.architecture_id, 4),
                                              "architecture": GPU_ARCHITECTURE.get(arch, "Unknown")},
             hardwareInfoType=m.hardware_info_type)
    if m.hardware_info_type == 0:
        d["pciInfo"] = {key: _hexs(getattr(m, field), n) for key, field, n in _PCI_INFO}
    return d


def gpu_ctx_from_ir(t: int, inner: dict[str, Any], path: str) -> bytes:
    """The bytes libcper writes for a GPU context in data format ``t`` from its JSON object."""
    if t == nv.CTX_GPU_LEGACY_XID:
        return CperNvidiaGpuCtxLegacyXid(_int(inner, "xidCode", path, 32), _text(inner, "message", path, 236)).encode()
    if t == nv.CTX_GPU_RECOMMENDED_ACTIONS:
        return CperNvidiaGpuCtxRecommendedActions(
            flags=_hexv(inner, "flags", path, 1), recovery_action=get_int(inner, "recoveryAction", path, bits=16, default=0),
            diagnostic_flow=get_int(inner, "diagnosticFlow", path, bits=16, default=0)).encode()
    f: dict[str, Any] = {field: _text(inner, key, path, 48 if field == "device_name" else 16)
                         for key, field, form in _METADATA if form == "s"}
    pci = _obj(inner, "pciInfo", path)
    hw = get_int(inner, "hardwareInfoType", path, bits=8, default=0)
    if hw == 0:
        f.update({field: _hexv(pci, key, f"{path}.pciInfo", n) for key, field, n in _PCI_INFO})
    return CperNvidiaGpuCtxInitMetadata(
        configuration=_hexv(inner, "configuration", path, 8), pdi=_pdi_from_ir(inner, "pdi", path),
        architecture_id=_hexv(_obj(inner, "architectureId", path), "raw", f"{path}.architectureId", 4),
        hardware_info_type=hw, **f).encode()
