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
from typing import Any

from ...cper import nvidia as nv
from ...cper.names import SEVERITY_LIBCPER
from ...errors import FormatError
from ...layout import Guid
from .common import get_bool, get_int, zero_fill
from .nvidia_ctx import (  # noqa: F401  (layouts and GPU_ARCHITECTURE re-exported)
    GPU_ARCHITECTURE,
    CperNvidiaGpuCtxInitMetadata,
    CperNvidiaGpuCtxLegacyXid,
    CperNvidiaGpuCtxRecommendedActions,
    _c_int,
    _hexs,
    _hexv,
    _int,
    _obj,
    _pdi,
    _pdi_from_ir,
    _text,
    _untrusted,
    gpu_ctx_from_ir,
    gpu_ctx_to_ir,
)

CMET_DISABLED_REASON = ("Alias Checker Failed", "Training at POR frequency failed",
                        "Training at boot frequency failed", "Threshold of bad pages exceeded")
EVENT_ORIGINATOR = ("Invalid", "Reserved1", "PF_GSP_FW", "VF_GSP_FW", "PF_DRIVER", "VF_DRIVER")
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
        out["data"] = {_GPU_VARIANT[t]: gpu_ctx_to_ir(t, data)}
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


# --- from_ir ------------------------------------------------------------------------


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
        body = body.ljust(16 * count, b"\0")  # registerCount is 8 bits: 4 KiB at most
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
    data = zero_fill(raw, size, f"{path}.dataSize")
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
        return gpu_ctx_from_ir(t, inner, f"{path}.{key}")
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
