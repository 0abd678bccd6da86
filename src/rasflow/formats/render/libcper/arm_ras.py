"""libcper's JSON for the Arm RAS node section (sections/cper-section-arm-ras.c, "ArmRas").

libcper's own quirks, kept so the JSON matches it:

- ``ipTypeFormat`` 1 ("SMMU_IIDR") prints ``iidr``/``aidr``, 2 ("GIC_IIDR") prints the
  PIDR bytes and 3 ("PIDR") prints nothing; ``ipInstanceFormat`` 3 prints a placeholder.
- descriptors print MISC2/MISC3 only when the RAS extension revision byte is not 0;
  an MPAM PARTID key-value pair prints ``mpamPartId`` (value bits 15:0) and no ``value``.
- the auxiliary data is left out when its header fails libcper's checks, its contexts
  when one of them does, and the key-value pairs when they do not fit.

Reading JSON back follows ir_section_arm_ras_to_cper: the descriptors start right after
the header, the auxiliary data right after them, and every count, length and offset is
recomputed from what the JSON holds. Where libcper loses data on its own round trip,
this does not: it reads ``addressSpaceIdentifierScope`` by name (libcper reads the
string as an integer, so always 0) and writes ``addressSpaceIdentifier`` for a local
scope (libcper never writes it).
"""

from __future__ import annotations

from typing import Any

from ...cper import arm_ras as ar
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_int, untrusted_string

SHORT = "ArmRas"
MESSAGE = "ARM RAS error occured"  # sic
COMPONENT_TYPE = ("ProcessorErrorNode", "MemoryErrorNode", "SMMUErrorNode", "VendorDefinedErrorNode",
                  "GICErrorNode", "PciExpressErrorNode", "ProxyErrorNode")
IP_INSTANCE_FORMAT = ("PE", "SystemPhysicalAddress", "LocalAddressIdentifier", "SocSpecificIpIdentifier")
IP_TYPE_FORMAT = ("PE", "SMMU_IIDR", "GIC_IIDR", "PIDR")
SCOPE = ("SystemPhysicalAddressSpace", "LocalAddressSpace")
_PIDR = ("pidr3", "pidr2", "pidr1", "pidr0", "pidr7", "pidr6", "pidr5", "pidr4")
# (JSON key, byte offset in ip_instance / ip_type, width in bytes), in libcper's reading order
_IP_INSTANCE = (("mpidrEl1", 0, 8), ("systemPhysicalAddress", 0, 8), ("localAddressIdentifier", 0, 8),
                ("baseAddress", 8, 8))
_IP_TYPE = (("midrEl1", 0, 8), ("revidrEl1", 8, 8), ("aidrEl1", 16, 8), ("iidr", 0, 4), ("aidr", 4, 4),
            *((name, i, 1) for i, name in enumerate(_PIDR)))
_REGS = (("errorRecordFeatureRegister", "err_fr"), ("errorRecordControlRegister", "err_ctlr"),
         ("errorRecordPrimaryStatusRegister", "err_status"), ("errorRecordAddressRegister", "err_addr"),
         ("errorRecordMiscRegister0", "err_misc0"), ("errorRecordMiscRegister1", "err_misc1"),
         ("errorRecordMiscRegister2", "err_misc2"), ("errorRecordMiscRegister3", "err_misc3"))
_HDR = ar.CperArmRasAuxHeader.SIZE
_CTX = ar.CperArmRasAuxContextHeader.SIZE
_REG = ar.CperArmRasAuxRegister.SIZE
_KVP = ar.CperArmRasAuxKeyValue.SIZE
_DESC = ar.CperArmRasErrorRecordDescriptor.SIZE
_U32 = 0xFFFFFFFF


def _hexn(value: int, nbytes: int) -> str:
    """add_int_hex_8/32/64: ``0x`` and upper-case digits, zero-padded to the width."""
    return f"0x{value:0{2 * nbytes}X}"


def _dict(value: int, names: tuple[str, ...]) -> dict[str, Any]:
    """add_dict(): the raw value, and its name when the table has one."""
    return {"raw": value, "value": names[value]} if value < len(names) else {"raw": value}


def _le(raw: bytes, at: int, width: int) -> int:
    return int.from_bytes(raw[at : at + width], "little")


def _invalid(sec: ar.CperSecArmRas) -> str | None:
    """arm_ras_read_node()'s reason for an empty ``ArmRas`` object, or None."""
    nd, size = sec.node, sec.nbytes
    if _DESC * nd.error_syndrome_array_num_entries > (size - nd.error_syndrome_array_offset) & _U32:
        return "descriptor array out of range"
    if nd.revision != ar.ARM_RAS_NODE_REVISION:
        return f"unsupported ARM RAS revision: {nd.revision}"
    aux = nd.auxiliary_data_offset
    if not sec.SIZE <= nd.error_syndrome_array_offset < size or (aux and aux >= size):
        return "invalid ARM RAS offsets"
    return None


def to_ir(sec: ar.CperSecArmRas) -> dict[str, Any]:
    reason = _invalid(sec)
    if reason is not None:
        return {"message": f"ARM RAS (empty): {reason}", SHORT: {}}
    nd = sec.node
    d: dict[str, Any] = {
        "revision": nd.revision,
        "componentType": _dict(nd.component_type, COMPONENT_TYPE),
        "errorSyndromeArrayNumEntries": nd.error_syndrome_array_num_entries,
        "ipInstanceFormat": _dict(nd.ip_instance_format, IP_INSTANCE_FORMAT),
        "ipInstance": _ip_instance_to_ir(nd),
        "ipTypeFormat": _dict(nd.ip_type_format, IP_TYPE_FORMAT),
        "ipType": _ip_type_to_ir(nd),
    }
    user = untrusted_string(nd.user_data)
    if user is not None:
        d["userData"] = user
    d["errorSyndromes"] = [_syndrome_to_ir(s) for s in sec.syndromes]
    aux = _aux_to_ir(sec)
    if aux is not None:
        d["auxData"] = aux
    return {"message": MESSAGE, SHORT: d}


def _ip_instance_to_ir(nd: ar.CperArmRasNode) -> dict[str, Any]:
    fmt, raw = nd.ip_instance_format, nd.ip_instance
    if fmt == 3:
        return {"socSpecificIpIdentifier": "<OpaqueData>"}
    keys = {0: ("mpidrEl1",), 1: ("systemPhysicalAddress",), 2: ("localAddressIdentifier", "baseAddress")}
    return {key: _hexn(_le(raw, at, w), w) for key, at, w in _IP_INSTANCE if key in keys.get(fmt, ())}


def _ip_type_to_ir(nd: ar.CperArmRasNode) -> dict[str, Any]:
    keys = {0: ("midrEl1", "revidrEl1", "aidrEl1"), 1: ("iidr", "aidr"), 2: _PIDR}.get(nd.ip_type_format, ())
    return {key: _hexn(_le(nd.ip_type, at, w), w) for key, at, w in _IP_TYPE if key in keys}


def _syndrome_to_ir(s: ar.CperArmRasErrorRecordDescriptor) -> dict[str, Any]:
    d: dict[str, Any] = {
        "errorRecordIndex": s.error_record_index,
        "rasExtensionRevisionField": s.revision_field,
        "rasExtensionArchVersion": s.arch_version,
    }
    regs = _REGS if s.ras_extension_revision else _REGS[:6]
    d.update((key, _hexn(getattr(s, field), 8)) for key, field in regs)
    return d


def _aux_to_ir(sec: ar.CperSecArmRas) -> dict[str, Any] | None:
    """arm_ras_parse_aux_data() over the decoded block."""
    aux, nd = sec.aux, sec.node
    if aux is None or not nd.auxiliary_data_offset:
        return None
    if nd.auxiliary_data_offset < sec.SIZE + _DESC * nd.error_syndrome_array_num_entries:
        return None
    h = aux.header
    size, kv_off, kv_count = h.auxiliary_data_size, h.key_value_pair_array_offset, h.key_value_pair_array_entry_count
    kv_ok = (kv_count == 0 and kv_off == size) or kv_off < size
    if not (h.version == ar.ARM_RAS_AUX_VERSION and _HDR <= size <= sec.nbytes - nd.auxiliary_data_offset
            and kv_ok and kv_off >= _HDR):
        return None
    out: dict[str, Any] = {"version": h.version}
    contexts = []
    pos, remaining = _HDR, size - _HDR
    for c in aux.contexts[: h.address_space_array_entry_count]:
        ch = c.header
        needed = _CTX + _REG * ch.register_array_entry_count
        if remaining < _CTX or ch.length < needed or needed > remaining or pos + ch.length > kv_off:
            return out
        local = ch.flags & ar.ARM_RAS_AUX_SCOPE_LOCAL
        ctx: dict[str, Any] = {"flags": {"addressSpaceIdentifierScope": SCOPE[local]}}
        if local:
            ctx["addressSpaceIdentifier"] = ch.address_space_identifier
        ctx["registers"] = [{"address": _hexn(r.address, 8), "value": _hexn(r.value, 8)} for r in c.registers]
        contexts.append(ctx)
        pos += ch.length
        remaining = (remaining - ch.length) & _U32
    out["contexts"] = contexts
    if _KVP * kv_count > (size - kv_off) & _U32:
        return out
    out["keyValuePairs"] = [_kvp_to_ir(k) for k in aux.key_value_pairs[:kv_count]]
    return out


def _kvp_to_ir(k: ar.CperArmRasAuxKeyValue) -> dict[str, Any]:
    if k.key == ar.EFI_ARM_RAS_KVP_UUID_MPAM_PARTID:
        return {"key": str(k.key), "mpamPartId": k.value & 0xFFFF}
    return {"key": str(k.key), "value": _hexn(k.value, 8)}


# --- JSON -> section ----------------------------------------------------------


def _hex_value(d: Any, key: str, path: str, nbytes: int = 8, default: int = 0) -> int:
    """get_value_hex_*: a ``0x...`` string that fits in ``nbytes``."""
    text = get(d, key, path, None)
    if text is None:
        return default
    try:
        value = int(text, 16) if isinstance(text, str) else -1
    except ValueError:
        value = -1
    if not 0 <= value < 1 << (8 * nbytes):
        raise FormatError(f"not a {8 * nbytes}-bit hex string: {text!r}", path=f"{path}.{key}")
    return value


def _raw(d: dict, key: str, path: str) -> int:
    if key not in d:
        return 0
    return get_int(d[key], "raw", f"{path}.{key}", bits=8, default=0)


def _fill(d: dict, key: str, path: str, fields: tuple, size: int) -> bytes:
    buf = bytearray(size)
    obj = d.get(key)
    if obj is None:
        return bytes(buf)
    if not isinstance(obj, dict):
        raise FormatError("expected an object", path=f"{path}.{key}")
    for name, at, width in fields:
        if name in obj:
            buf[at : at + width] = _hex_value(obj, name, f"{path}.{key}", width).to_bytes(width, "little")
    return bytes(buf)


def _user_data(d: dict, path: str) -> bytes:
    text = d.get("userData", "")
    if not isinstance(text, str) or len(text) > 16 or any(not " " <= c <= "~" for c in text):
        raise FormatError("expected up to 16 printable ASCII characters", path=f"{path}.userData")
    return text.encode("ascii").ljust(16, b"\0")


def _list(d: dict, key: str, path: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=f"{path}.{key}")
    return v


def from_ir(obj: dict[str, Any], guid: Guid | None = None) -> ar.CperSecArmRas:
    p = SHORT
    d = get(obj, SHORT, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    items = _list(d, "errorSyndromes", p)
    if len(items) > ar.ARM_RAS_MAX_SYNDROMES:
        raise FormatError(f"{len(items)} descriptors; a node has at most {ar.ARM_RAS_MAX_SYNDROMES}",
                          path=f"{p}.errorSyndromes")
    syndromes = tuple(_syndrome_from_ir(s, f"{p}.errorSyndromes[{i}]") for i, s in enumerate(items))
    aux = _aux_from_ir(d["auxData"], f"{p}.auxData") if "auxData" in d else None
    syn_end = ar.CperArmRasNode.SIZE + _DESC * len(syndromes)
    node = ar.CperArmRasNode(
        revision=get_int(d, "revision", p, bits=32, default=0),
        component_type=_raw(d, "componentType", p),
        error_syndrome_array_num_entries=len(syndromes),
        error_syndrome_array_offset=ar.CperArmRasNode.SIZE,
        auxiliary_data_offset=syn_end if aux is not None else 0,
        ip_instance_format=_raw(d, "ipInstanceFormat", p),
        ip_type_format=_raw(d, "ipTypeFormat", p),
        ip_instance=_fill(d, "ipInstance", p, _IP_INSTANCE, 16),
        ip_type=_fill(d, "ipType", p, _IP_TYPE, 24),
        user_data=_user_data(d, p),
    )
    return ar.CperSecArmRas(node, syndromes=syndromes, aux=aux)


def _syndrome_from_ir(s: Any, path: str) -> ar.CperArmRasErrorRecordDescriptor:
    if not isinstance(s, dict):
        raise FormatError("expected an object", path=path)
    rev = get_int(s, "rasExtensionRevisionField", path, bits=4, default=0)
    arch = get_int(s, "rasExtensionArchVersion", path, bits=4, default=0)
    return ar.CperArmRasErrorRecordDescriptor(
        error_record_index=get_int(s, "errorRecordIndex", path, bits=32, default=0),
        ras_extension_revision=rev << 4 | arch,
        **{field: _hex_value(s, key, path) for key, field in _REGS},
    )


def _aux_from_ir(a: Any, path: str) -> ar.CperArmRasAuxData:
    if not isinstance(a, dict):
        raise FormatError("expected an object", path=path)
    contexts = tuple(_context_from_ir(c, f"{path}.contexts[{i}]") for i, c in enumerate(_list(a, "contexts", path)))
    kvps = tuple(_kvp_from_ir(k, f"{path}.keyValuePairs[{i}]") for i, k in enumerate(_list(a, "keyValuePairs", path)))
    if len(contexts) > 0xFFFF or len(kvps) > 0xFFFF:
        raise FormatError("more than 65535 contexts or key-value pairs", path=path)
    kv_off = _HDR + sum(c.nbytes for c in contexts)
    size = kv_off + _KVP * len(kvps)
    if size > 0xFFFF:
        raise FormatError(f"{size} bytes of auxiliary data; libcper writes at most 65535", path=path)
    header = ar.CperArmRasAuxHeader(
        version=ar.ARM_RAS_AUX_VERSION, address_space_array_entry_count=len(contexts), auxiliary_data_size=size,
        key_value_pair_array_offset=kv_off, key_value_pair_array_entry_count=len(kvps),
    )
    return ar.CperArmRasAuxData(header, contexts, b"", kvps)


def _context_from_ir(c: Any, path: str) -> ar.CperArmRasAuxContext:
    if not isinstance(c, dict):
        raise FormatError("expected an object", path=path)
    scope = get(get(c, "flags", path, {}), "addressSpaceIdentifierScope", f"{path}.flags", SCOPE[0])
    if scope not in SCOPE:
        raise FormatError(f"expected one of {', '.join(SCOPE)}", path=f"{path}.flags.addressSpaceIdentifierScope")
    local = SCOPE.index(scope)
    regs = tuple(
        ar.CperArmRasAuxRegister(address=_hex_value(r, "address", f"{path}.registers[{i}]"),
                                 value=_hex_value(r, "value", f"{path}.registers[{i}]"))
        for i, r in enumerate(_list(c, "registers", path))
    )
    if len(regs) > 0xFFFF:
        raise FormatError(f"{len(regs)} registers do not fit a context", path=f"{path}.registers")
    asid = get_int(c, "addressSpaceIdentifier", path, bits=16, default=0) if local else 0
    header = ar.CperArmRasAuxContextHeader(length=_CTX + _REG * len(regs), flags=local,
                                           register_array_entry_count=len(regs), address_space_identifier=asid)
    return ar.CperArmRasAuxContext(header, regs)


def _kvp_from_ir(k: Any, path: str) -> ar.CperArmRasAuxKeyValue:
    if not isinstance(k, dict):
        raise FormatError("expected an object", path=path)
    key = Guid.parse(k["key"], path=f"{path}.key") if "key" in k else Guid()
    value = _hex_value(k, "value", path)
    if "mpamPartId" in k:
        value = get_int(k, "mpamPartId", path)
    return ar.CperArmRasAuxKeyValue(key=key, value=value)
