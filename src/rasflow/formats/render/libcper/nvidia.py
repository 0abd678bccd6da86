"""libcper's JSON for the NVIDIA sections: "Nvidia" (sections/cper-section-nvidia.c) and
"NvidiaEvent" (sections/cper-section-nvidia-events.c), libcper 7c410e29.

Strings follow add_untrusted_string() as of that commit: the text before the first NUL
inside the field, left out (or "" where libcper sets that default) when it is empty,
unterminated or not printable. add_int() values are C ints, so a u32 of 2**31 or more
prints negative (``dataSize``, ``xidCode``, ``ErrorCount``).

Reading JSON back follows ir_section_nvidia_to_cper / ir_section_nvidia_events_to_cper
where those work, and does better where they lose the record:

- Nvidia: libcper reads only ``registers`` (it aborts on a CMET-INFO or FWERROR section,
  which have none); here ``CMETInfo`` entries become register pairs (reserved channel
  bits are not in the JSON and come back zero) and ``FWErrorInfo`` the FWERROR block.
  The signature keeps 16 characters (libcper 15).
- NvidiaEvent: every context's data is libcper's bytes cut or zero-filled to its
  ``dataSize``, and ``ctx_size`` covers them, so the contexts stay aligned (libcper writes
  e.g. 192 metadata bytes whatever ``dataSize`` says). A device info libcper could not
  read (``{}``) or has no reader for (DPU...) is written as an empty info (info_size 3),
  where libcper writes no info header and no contexts. Event version 1 only, as libcper.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ...cper import nvidia as nv
from ...cper.names import SEVERITY_LIBCPER
from ...errors import FormatError
from ...layout import Bytes, Guid, Tail, layout, u8, u16, u32, u64
from .common import get, get_bool, get_int

CMET_DISABLED_REASON = ("Alias Checker Failed", "Training at POR frequency failed",
                        "Training at boot frequency failed", "Threshold of bad pages exceeded")
EVENT_ORIGINATOR = ("Invalid", "Reserved1", "PF_GSP_FW", "VF_GSP_FW", "PF_DRIVER", "VF_DRIVER")
# NV_PMC_BOOT_42 architecture, bits 29:24
GPU_ARCHITECTURE = {0x16: "Turing", 0x17: "Ampere", 0x18: "Hopper", 0x19: "Ada", 0x1A: "Blackwell",
                    0x1B: "Blackwell2", 0x1C: "Rubin"}
# device type -> (JSON key, expected info major version, device info layout)
_INFO = {nv.NVIDIA_EVENT_DEV_CPU: ("cpu", 0, nv.CperNvidiaCpuEventInfo),
         nv.NVIDIA_EVENT_DEV_GPU: ("gpu", 1, nv.CperNvidiaGpuEventInfo)}
_ARRAYS = {  # data format -> (variant key, array key, (JSON key, bytes) for each value of an entry)
    nv.CTX_TYPE_1: ("type1", "keyValArray64", (("key64", 8), ("val64", 8))),
    nv.CTX_TYPE_2: ("type2", "keyValArray32", (("key32", 4), ("val32", 4))),
    nv.CTX_TYPE_3: ("type3", "valArray64", (("val64", 8),)),
    nv.CTX_TYPE_4: ("type4", "valArray32", (("val32", 4),)),
}
_GPU_VARIANT = {nv.CTX_GPU_INIT_METADATA: "gpuInitMetadata", nv.CTX_GPU_LEGACY_XID: "gpuLegacyXid",
                nv.CTX_GPU_RECOMMENDED_ACTIONS: "gpuRecommendedActions"}
_MAX_FILL = 1 << 24  # zero-fill for dataSize stops here (a JSON typo must not allocate 4 GiB)


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


# --- to_ir --------------------------------------------------------------------------


def to_ir(sec: nv.CperSecNvidia | nv.CperSecNvidiaEvent) -> dict[str, Any]:
    if isinstance(sec, nv.CperSecNvidiaEvent):
        return _event_to_ir(sec)
    h = sec.header
    sev = SEVERITY_LIBCPER.get(h.severity, "Unknown")
    d: dict[str, Any] = {}
    sig = _untrusted(h.signature)
    if sig is not None:
        d["signature"] = sig
    d.update(severity={"code": h.severity, "name": sev}, errorType=h.error_type, errorInstance=h.error_instance,
             socket=h.socket, registerCount=h.number_regs, instanceBase=h.instance_base)
    if h.signature.startswith(nv.NVIDIA_SIG_CMET_INFO):
        d["CMETInfo"] = [_cmet_to_ir(r.address, r.value) for r in sec.registers]
    elif h.signature.startswith(nv.NVIDIA_SIG_FWERROR):
        fw = sec.fwerror
        d["FWErrorInfo"] = None if fw is None else _fwerror_to_ir(fw)
    else:
        d["registers"] = [{"address": r.address, "value": r.value} for r in sec.registers]
    # "%s" of the signature: C reads on to the first NUL (approximated inside the section)
    text = sec.encode().partition(b"\0")[0].decode("latin-1")
    return {"message": f"A {sev} {text} NVIDIA Error occurred on CPU {h.socket}", "Nvidia": d}


def _cmet_to_ir(address: int, value: int) -> dict[str, Any]:
    reason = value >> 35 & 3
    return {"ChannelAddress": _hexs(address, 8), "ErrorCount": _c_int(value & 0xFFFFFFFF),
            "ChannelEnabled": bool(value >> 32 & 1), "ChannelIsSpare": bool(value >> 33 & 1),
            "DisabledReason": {"raw": reason, "value": CMET_DISABLED_REASON[reason]}}


def _fwerror_to_ir(fw: nv.CperNvidiaFwError) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key in ("initiating_firmware", "task_checkpoint", "mb1_error_code", "mb1_version_string",
                "bad_pages_retired_mask", "training_or_alias_check_retired_mask"):
        v = getattr(fw, key)
        if isinstance(v, int):
            d[key] = _hexs(v, 8)
        elif (text := _untrusted(v)) is not None:
            d[key] = text
    return d


def _event_to_ir(sec: nv.CperSecNvidiaEvent) -> dict[str, Any]:
    h = sec.header
    if h.event_version != nv.NVIDIA_EVENT_HEADER_VERSION:  # libcper's parser gives up: base64
        return {"Unknown": {"data": base64.b64encode(sec.encode()).decode()}}
    sig = _untrusted(h.signature)
    eh: dict[str, Any] = {} if sig is None else {"signature": sig}
    eh.update(version=h.event_version, sourceDeviceType=nv.SOURCE_DEVICE_TYPE.get(h.source_device_type, "Unknown"),
              type=_hexs(h.event_type, 2), subtype=_hexs(h.event_subtype, 2))
    if h.event_link_id:
        eh["linkId"] = _hexs(h.event_link_id, 8)
    major, minor = sec.info_header.info_version >> 8, sec.info_header.info_version & 0xFF
    info: dict[str, Any] = {"version": f"{major}.{minor}"}
    entry = _INFO.get(h.source_device_type)
    if entry is not None and entry[1] == major:
        key, _, cls = entry
        dev = sec.info if isinstance(sec.info, cls) else None
        info[key] = {} if dev is None else _cpu_to_ir(dev) if key == "cpu" else _gpu_to_ir(dev)
    contexts = [_ctx_to_ir(h.source_device_type, c) for c in sec.contexts]
    body = {"eventHeader": eh, "eventInfo": info, "eventContexts": contexts}
    return {"message": f"A {sig or ''} Nvidia Event occurred", "NvidiaEvent": body}


def _cpu_to_ir(c: nv.CperNvidiaCpuEventInfo) -> dict[str, Any]:
    a = c.architecture
    arch = {"hidFam": _hexs(a & 0xF, 1), "revision": f"{a >> 4 & 0xF}.{a >> 16 & 0xF}",
            "chipId": _hexs(a >> 8 & 0xFF, 1), "preSiPlatform": "PreSilicon" if a >> 20 & 0x1F else "Silicon",
            "errorInjection": bool(a >> 31)}
    return {"SocketNum": c.socket_num, "Architecture": arch, "Ecid1": _hexs(c.ecid0, 4), "Ecid2": _hexs(c.ecid1, 4),
            "Ecid3": _hexs(c.ecid2, 4), "Ecid4": _hexs(c.ecid3, 4), "InstanceBase": _hexs(c.instance_base, 8)}


def _gpu_to_ir(g: nv.CperNvidiaGpuEventInfo) -> dict[str, Any]:
    o = g.event_originator
    return {"EventOriginator": EVENT_ORIGINATOR[o] if o < len(EVENT_ORIGINATOR) else "Unknown",
            "SourcePartition": g.source_partition, "SourceSubPartition": g.source_sub_partition, "Pdi": _pdi(g.pdi)}


def _ctx_to_ir(dev: int, c: nv.CperNvidiaEventContext) -> dict[str, Any]:
    ch, data = c.header, c.data
    t = ch.data_format_type
    out = {"version": ch.ctx_version, "dataFormatType": _hexs(t, 2), "dataFormatVersion": ch.data_format_version,
           "dataSize": _c_int(ch.data_size)}
    opaque = {"opaque": data.hex()} if data else {}
    if t == nv.CTX_OPAQUE:
        out["data"] = opaque
    elif dev == nv.NVIDIA_EVENT_DEV_GPU and t in _GPU_VARIANT:
        out["data"] = {_GPU_VARIANT[t]: _gpu_ctx_to_ir(t, data)}
    elif t in _ARRAYS:
        variant, key, fields = _ARRAYS[t]
        size = sum(n for _, n in fields)
        entries = []
        for i in range(len(data) // size & 0xFF):  # libcper counts entries in a UINT8
            pos = i * size
            entry = {}
            for name, n in fields:
                entry[name] = _hexs(int.from_bytes(data[pos : pos + n], "little"), n)
                pos += n
            entries.append(entry)
        out["data"] = {variant: {key: entries}}
    else:  # the "opaque" variant object, replaced by the hex string when there is data
        out["data"] = opaque or {"opaque": {}}
    return out


def _gpu_ctx_to_ir(t: int, data: bytes) -> dict[str, Any]:
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


# --- from_ir ------------------------------------------------------------------------


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


def _name_index(d: dict[str, Any], key: str, names, path: str) -> int:
    """A name written back as its index; names libcper does not know give 0, as there."""
    v = d.get(key)
    if v is not None and not isinstance(v, str):
        raise FormatError("expected a string", path=f"{path}.{key}")
    return list(names).index(v) if v in names else 0


def from_ir(obj: dict[str, Any], guid: Guid) -> nv.CperSecNvidia | nv.CperSecNvidiaEvent:
    if guid == nv.CPER_SEC_NVIDIA_EVENT:
        return _event_from_ir(obj)
    p = "Nvidia"
    d = _obj(obj, "Nvidia", "", required=True)
    count = get_int(d, "registerCount", p, bits=8, default=0)
    header = nv.CperSecNvidiaHeader(
        signature=_text(d, "signature", p, 16), error_type=get_int(d, "errorType", p, bits=16, default=0),
        error_instance=get_int(d, "errorInstance", p, bits=16, default=0),
        severity=get_int(_obj(d, "severity", p), "code", f"{p}.severity", bits=8, default=0),
        socket=get_int(d, "socket", p, bits=8, default=0), number_regs=count,
        instance_base=get_int(d, "instanceBase", p, bits=64, default=0),
    )
    if "CMETInfo" in d:
        pairs = [_cmet_from_ir(e, f"{p}.CMETInfo[{i}]") for i, e in enumerate(_entries(d, "CMETInfo", p))]
        return nv.CperSecNvidia(header, tuple(nv.CperNvidiaRegister(a, v) for a, v in pairs))
    if "FWErrorInfo" in d:
        fw = d["FWErrorInfo"]
        body = b"" if fw is None else _fwerror_from_ir(fw, f"{p}.FWErrorInfo").encode()
        body = body.ljust(16 * count, b"\0")
        regs = nv.CperSecNvidia.decode(header.encode() + body).registers
        return nv.CperSecNvidia(header, regs, body[16 * count :])
    if "registers" not in d:  # libcper aborts here; the count's worth of zero pairs instead
        return nv.CperSecNvidia(header, (nv.CperNvidiaRegister(),) * count)
    regs = (nv.CperNvidiaRegister() if r is None else nv.CperNvidiaRegister(  # null: libcper could not read it
        get_int(r, "address", f"{p}.registers[{i}]", default=0), get_int(r, "value", f"{p}.registers[{i}]", default=0))
        for i, r in enumerate(_entries(d, "registers", p)))
    return nv.CperSecNvidia(header, tuple(regs))


def _entries(d: dict[str, Any], key: str, path: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=f"{path}.{key}")
    return v


def _cmet_from_ir(e: Any, path: str) -> tuple[int, int]:
    if e is None:  # an entry libcper printed as null
        return 0, 0
    if not isinstance(e, dict):
        raise FormatError("expected an object or null", path=path)
    value = _int(e, "ErrorCount", path, 32)
    value |= get_bool(e, "ChannelEnabled", path, False) << 32 | get_bool(e, "ChannelIsSpare", path, False) << 33
    value |= get_int(_obj(e, "DisabledReason", path), "raw", f"{path}.DisabledReason", bits=2, default=0) << 35
    return _hexv(e, "ChannelAddress", path, 8), value


def _fwerror_from_ir(fw: Any, path: str) -> nv.CperNvidiaFwError:
    if not isinstance(fw, dict):
        raise FormatError("expected an object or null", path=path)
    f: dict[str, Any] = {}
    for key in ("initiating_firmware", "mb1_version_string"):
        f[key] = _text(fw, key, path, 8)
    for key in ("task_checkpoint", "mb1_error_code", "bad_pages_retired_mask", "training_or_alias_check_retired_mask"):
        f[key] = _hexv(fw, key, path, 8)
    return nv.CperNvidiaFwError(**f)


def _event_from_ir(obj: dict[str, Any]) -> nv.CperSecNvidiaEvent:
    p = "NvidiaEvent"
    d = _obj(obj, p, "", required=True)
    hp = f"{p}.eventHeader"
    eh = _obj(d, "eventHeader", p)
    version = get_int(eh, "version", hp, bits=8, default=0)
    if version != nv.NVIDIA_EVENT_HEADER_VERSION:
        raise FormatError(f"event version {version}: libcper reads and writes version 1 only", path=f"{hp}.version")
    dev = _name_index(eh, "sourceDeviceType", nv.SOURCE_DEVICE_TYPE.values(), hp)
    ctxs = d.get("eventContexts", [])
    ctxs = ctxs if isinstance(ctxs, list) else []
    if len(ctxs) > 0xFF:
        raise FormatError(f"{len(ctxs)} contexts do not fit event_context_count (u8)", path=f"{p}.eventContexts")
    header = nv.CperNvidiaEventHeader(
        event_version=version, event_context_count=len(ctxs), source_device_type=dev,
        event_type=_hexv(eh, "type", hp, 2), event_subtype=_hexv(eh, "subtype", hp, 2),
        event_link_id=_hexv(eh, "linkId", hp, 8), signature=_text(eh, "signature", hp, 16),
    )
    ip = f"{p}.eventInfo"
    ei = _obj(d, "eventInfo", p)
    ver = ei.get("version", "0.0")
    try:
        major, minor = (int(x) for x in ver.split("."))
        info_version = (major << 8 | minor & 0xFF) & 0xFFFF
    except (AttributeError, ValueError):
        raise FormatError("expected 'major.minor'", path=f"{ip}.version") from None
    info: nv.EventInfo = b""
    entry = _INFO.get(dev)
    if entry is not None and entry[1] == major:
        key = entry[0]
        variant = _obj(ei, key, ip) if key in ei else ei
        if variant:
            info = (_cpu_from_ir if key == "cpu" else _gpu_from_ir)(variant, f"{ip}.{key}")
    raw_info = info if isinstance(info, bytes) else info.encode()
    info_header = nv.CperNvidiaEventInfoHeader(info_version=info_version, info_size=3 + len(raw_info))
    contexts = tuple(_ctx_from_ir(dev, c, f"{p}.eventContexts[{i}]") for i, c in enumerate(ctxs))
    return nv.CperSecNvidiaEvent(header, info_header, info, contexts)


def _cpu_from_ir(d: dict[str, Any], path: str) -> nv.CperNvidiaCpuEventInfo:
    ap = f"{path}.Architecture"
    a = _obj(d, "Architecture", path)
    try:
        hid = int(a.get("hidFam", "0"), 0) & 0xF
        chip = int(a.get("chipId", "0"), 0) & 0xFF
        major, minor = (int(x) & 0xF for x in a.get("revision", "0.0").split("."))
    except (AttributeError, TypeError, ValueError):
        raise FormatError("expected hidFam and chipId numbers and a 'major.minor' revision", path=ap) from None
    pre_si = 0 if a.get("preSiPlatform") == "Silicon" else 1  # libcper: anything else is pre-silicon
    einj = get_bool(a, "errorInjection", ap, False)
    arch = hid | major << 4 | chip << 8 | minor << 16 | pre_si << 20 | einj << 31
    return nv.CperNvidiaCpuEventInfo(
        socket_num=get_int(d, "SocketNum", path, bits=8, default=0), architecture=arch,
        ecid0=_hexv(d, "Ecid1", path, 4), ecid1=_hexv(d, "Ecid2", path, 4), ecid2=_hexv(d, "Ecid3", path, 4),
        ecid3=_hexv(d, "Ecid4", path, 4), instance_base=_hexv(d, "InstanceBase", path, 8),
    )


def _gpu_from_ir(d: dict[str, Any], path: str) -> nv.CperNvidiaGpuEventInfo:
    return nv.CperNvidiaGpuEventInfo(
        event_originator=_name_index(d, "EventOriginator", EVENT_ORIGINATOR, path),
        source_partition=get_int(d, "SourcePartition", path, bits=16, default=0),
        source_sub_partition=get_int(d, "SourceSubPartition", path, bits=16, default=0),
        pdi=_pdi_from_ir(d, "Pdi", path),
    )


def _ctx_from_ir(dev: int, c: Any, path: str) -> nv.CperNvidiaEventContext:
    if not isinstance(c, dict):
        raise FormatError("expected an object", path=path)
    t = _hexv(c, "dataFormatType", path, 2)
    raw = _ctx_data_from_ir(dev, t, _obj(c, "data", path), f"{path}.data")
    size = _int(c, "dataSize", path, 32) if "dataSize" in c else len(raw)
    if size > len(raw) + _MAX_FILL:
        raise FormatError(f"dataSize {size} is far beyond the {len(raw)} bytes the data gives", path=f"{path}.dataSize")
    data = raw[:size].ljust(size, b"\0")
    pad = -(16 + size) % 16
    header = nv.CperNvidiaEventCtxHeader(
        ctx_size=16 + size + pad, ctx_version=get_int(c, "version", path, bits=16, default=0), data_format_type=t,
        data_format_version=get_int(c, "dataFormatVersion", path, bits=16, default=0), data_size=size,
    )
    return nv.CperNvidiaEventContext(header, data, bytes(pad))


def _ctx_data_from_ir(dev: int, t: int, d: dict[str, Any], path: str) -> bytes:
    """The bytes libcper's writer for this data format produces."""
    if dev == nv.NVIDIA_EVENT_DEV_GPU and t in _GPU_VARIANT:
        key = _GPU_VARIANT[t]
        inner = _obj(d, key, path) if key in d else d
        if not inner:  # libcper could not read it: nothing to write
            return b""
        path = f"{path}.{key}"
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
    if t in _ARRAYS:
        variant, key, fields = _ARRAYS[t]
        inner = _obj(d, variant, path) if variant in d else d
        out = []
        for i, e in enumerate(_entries(inner, key, f"{path}.{variant}")):
            ep = f"{path}.{variant}.{key}[{i}]"
            if not isinstance(e, dict):
                raise FormatError("expected an object", path=ep)
            out += [_hexv(e, name, ep, n).to_bytes(n, "little") for name, n in fields]
        return b"".join(out)
    v = d.get("opaque")
    if not isinstance(v, str):  # absent, or the empty "opaque" object: libcper writes nothing
        return b""
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise FormatError("not a hex string", path=f"{path}.opaque") from None
