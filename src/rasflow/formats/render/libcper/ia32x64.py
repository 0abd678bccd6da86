"""libcper's JSON for the IA32/X64 Processor Error section (cper-section-ia32x64.c).

libcper walks the context structures its own way: for the IA32 and X64
execution-context types it reads a fixed register-state struct (92 or 244
bytes) whatever reg_arr_size says, and for a structure that does not fit it
stays where it is. ``to_ir`` follows that walk over the section's bytes, so the
JSON is libcper's even where it disagrees with the kernel's reading.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from ...cper import ia32x64 as ia
from ...errors import FormatError
from ...layout import Guid
from .common import get, get_bool, get_guid, get_int, readable_pair

# cper-section-ia32x64.h
TRANSACTION_TYPES = {0: "Instruction", 1: "Data Access", 2: "Generic"}
OPERATION_TYPES = dict(enumerate((
    "Generic Error", "Generic Read", "Generic Write", "Data Read", "Data Write", "Instruction Fetch",
    "Prefetch", "Eviction", "Snoop",
)))
PARTICIPATION_TYPES = {0: "Local processor originated request", 1: "Local processor responded to request",
                       2: "Local processor observed", 3: "Generic"}
ADDRESS_SPACE_TYPES = {0: "Memory Access", 1: "Reserved", 2: "I/O", 3: "Other Transaction"}
# integer_to_readable_pair(..., 4, ...): only the first four MS error types are looked up
MS_ERROR_TYPES = {0: "No Error", 1: "Unclassified", 2: "Microcode ROM Parity Error", 3: "External Error"}
REGISTER_CONTEXT_TYPES = dict(enumerate((
    "Unclassified Data", "MSR Registers", "32-bit Mode Execution Context", "64-bit Mode Execution Context",
    "FXSave Context", "32-bit Mode Debug Registers", "64-bit Mode Debug Registers", "Memory Mapper Registers",
)))
ERROR_STRUCT_NAMES = {ia.ERR_TYPE_CACHE: "Cache Check Error", ia.ERR_TYPE_TLB: "TLB Check Error",
                      ia.ERR_TYPE_BUS: "Bus Check Error", ia.ERR_TYPE_MS: "MS Check Error"}
_RESERVED = "Unknown (Reserved)"


class _RegisterState:
    """EFI_CONTEXT_IA32_REGISTER_STATE / EFI_CONTEXT_X64_REGISTER_STATE: (name, struct code) in wire order."""

    def __init__(self, fields: tuple[tuple[str, str], ...]):
        self.names = tuple(n for n, _ in fields)
        self.bits = tuple({"Q": 64, "I": 32, "H": 16}[c] for _, c in fields)
        self.struct = struct.Struct("<" + "".join(c for _, c in fields))
        self.size = self.struct.size


def _regs(names: str, code: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, code) for n in names.split())


IA32_REGS = _RegisterState(
    _regs("eax ebx ecx edx esi edi ebp esp", "I") + _regs("cs ds ss es fs gs", "H")
    + _regs("eflags eip cr0 cr1 cr2 cr3 cr4 gdtr_lo gdtr_hi idtr_lo idtr_hi", "I") + _regs("ldtr tr", "H")
)
X64_REGS = _RegisterState(
    _regs("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15", "Q") + _regs("cs ds ss es fs gs", "H")
    + _regs("resv1", "I") + _regs("rflags eip cr0 cr1 cr2 cr3 cr4 cr8 gdtr_0 gdtr_1 idtr_0 idtr_1", "Q")
    + _regs("ldtr tr", "H")
)
REGISTER_STATES = {ia.CTX_TYPE_IA32: IA32_REGS, ia.CTX_TYPE_X64: X64_REGS}

# (JSON key, validation bit, check_info field) per check structure, with names where libcper has them
_CACHE_KEYS = (
    ("transactionType", 0, "trans_type", TRANSACTION_TYPES), ("operation", 1, "operation", OPERATION_TYPES),
    ("level", 2, "level", None), ("processorContextCorrupt", 3, "pcc", bool),
    ("uncorrected", 4, "uncorrected", bool), ("preciseIP", 5, "precise_ip", bool),
    ("restartableIP", 6, "restartable_ip", bool), ("overflow", 7, "overflow", bool),
)
_BUS_KEYS = _CACHE_KEYS + (
    ("participationType", 8, "part_type", PARTICIPATION_TYPES), ("timedOut", 9, "time_out", bool),
    ("addressSpace", 10, "addr_space", ADDRESS_SPACE_TYPES),
)
_MS_KEYS = (
    ("errorType", 0, "error_type", MS_ERROR_TYPES), ("processorContextCorrupt", 1, "pcc", bool),
    ("uncorrected", 2, "uncorrected", bool), ("preciseIP", 3, "precise_ip", bool),
    ("restartableIP", 4, "restartable_ip", bool), ("overflow", 5, "overflow", bool),
)
CHECK_KEYS = {ia.ERR_TYPE_CACHE: _CACHE_KEYS, ia.ERR_TYPE_TLB: _CACHE_KEYS, ia.ERR_TYPE_BUS: _BUS_KEYS,
              ia.ERR_TYPE_MS: _MS_KEYS}
_DEFAULTS = {"participationType": "Unknown", "addressSpace": "Unknown", "errorType": "Unknown (Processor Specific)"}


def check_info_to_ir(kind: int, check: int) -> dict[str, Any]:
    fields = ia.CHECK_INFO[kind].decode(check).fields
    valid = fields["validation_bits"]
    out: dict[str, Any] = {}
    for key, bit, field, names in CHECK_KEYS[kind]:
        if not valid >> bit & 1:
            continue
        v = fields[field]
        if names is bool:
            out[key] = bool(v)
        elif names is None:
            out[key] = v
        else:
            out[key] = readable_pair(v, names, _DEFAULTS.get(key, _RESERVED))
    return out


def err_info_to_ir(err: ia.CperIaErrInfo) -> dict[str, Any]:
    kind = err.kind
    d: dict[str, Any] = {"type": {"guid": str(err.err_type), "name": ERROR_STRUCT_NAMES.get(kind, "Unknown")}}
    v = err.validation_bits
    if v & 1 and kind in CHECK_KEYS:
        d["checkInfo"] = check_info_to_ir(kind, err.check_info)
    for key, bit, field in (("targetAddressID", 1, "target_id"), ("requestorID", 2, "requestor_id"),
                            ("responderID", 3, "responder_id"), ("instructionPointer", 4, "ip")):
        if v >> bit & 1:
            d[key] = getattr(err, field)
    return d


def _registers(regs: _RegisterState, raw: bytes) -> dict[str, int]:
    r = dict(zip(regs.names, regs.struct.unpack_from(raw), strict=True))
    r.pop("resv1", None)
    if regs is IA32_REGS:  # gdtr and idtr are one number each
        ldtr, tr = r.pop("ldtr"), r.pop("tr")
        r["gdtr"] = r.pop("gdtr_lo") + (r.pop("gdtr_hi") << 32)
        r["idtr"] = r.pop("idtr_lo") + (r.pop("idtr_hi") << 32)
        r["ldtr"], r["tr"] = ldtr, tr
    return r


def _contexts_to_ir(data: bytes, pos: int, count: int) -> list[Any]:
    """cper_ia32x64_processor_context_info_to_ir() over the raw bytes, libcper's walk."""
    remaining = len(data) - pos
    out: list[Any] = []
    for _ in range(count):
        if remaining < ia.CPER_IA_PROC_CTX_SIZE:
            out.append(None)
            continue
        remaining -= ia.CPER_IA_PROC_CTX_SIZE
        ctx = ia.CperIaProcCtx.decode(data, pos, ia.CPER_IA_PROC_CTX_SIZE)
        d: dict[str, Any] = {
            "registerContextType": readable_pair(ctx.reg_ctx_type, REGISTER_CONTEXT_TYPES, _RESERVED),
            "registerArraySize": ctx.reg_arr_size,
            "msrAddress": ctx.msr_addr,
            "mmRegisterAddress": ctx.mm_reg_addr,
        }
        body = pos + ia.CPER_IA_PROC_CTX_SIZE
        regs = REGISTER_STATES.get(ctx.reg_ctx_type)
        if regs is not None:
            if remaining >= regs.size:  # otherwise libcper stays at this header
                d["registerArray"] = _registers(regs, data[body : body + regs.size])
                pos = body + regs.size
                remaining -= regs.size
        else:
            pos = body
            if remaining >= ctx.reg_arr_size:
                d["registerArray"] = {"data": base64.b64encode(data[body : body + ctx.reg_arr_size]).decode()}
                pos += ctx.reg_arr_size
                remaining -= ctx.reg_arr_size
        out.append(d)
    return out


def to_ir(sec: ia.CperSecProcIa, **options) -> dict[str, Any]:
    v = sec.validation_bits
    n_err, n_ctx = ia.VALID_PROC_ERR_INFO_NUM(v), ia.VALID_PROC_CXT_INFO_NUM(v)
    data = sec.encode()
    pos = ia.CperSecProcIa.SIZE + ia.CPER_IA_ERR_INFO_SIZE * n_err
    if len(data) < pos + ia.CPER_IA_PROC_CTX_SIZE * n_ctx:
        # "Invalid processor error/context info num": libcper keeps the bytes
        return {"Unknown": {"data": base64.b64encode(data).decode()}}
    d: dict[str, Any] = {"processorErrorInfoNum": n_err, "processorContextInfoNum": n_ctx}
    if v & ia.VALID_LAPIC_ID:
        d["localAPICID"] = sec.lapic_id
    if v & ia.VALID_CPUID_INFO:
        d["cpuidInfo"] = dict(zip(("eax", "ebx", "ecx", "edx"), struct.unpack_from("<4Q", sec.cpuid), strict=True))
    errs = [ia.CperIaErrInfo.decode(data, ia.CperSecProcIa.SIZE + ia.CPER_IA_ERR_INFO_SIZE * i) for i in range(n_err)]
    d["processorErrorInfo"] = [err_info_to_ir(e) for e in errs]
    d["processorContextInfo"] = _contexts_to_ir(data, pos, n_ctx)
    return {"message": "An IA32/x64 Processor Error occurred", "Ia32x64Processor": d}


def _check_info_from_ir(kind: int, d: Any, path: str) -> int:
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    reg = ia.CHECK_INFO[kind]
    fields: dict[str, int] = {}
    valid = 0
    for key, bit, field, names in CHECK_KEYS[kind]:
        if key not in d:
            continue
        if names is bool:
            fields[field] = int(get_bool(d, key, path))
        elif names is None:
            fields[field] = get_int(d, key, path, bits=reg.by_name[field].width)
        else:
            fields[field] = get_int(d[key], "value", f"{path}.{key}", bits=reg.by_name[field].width)
        valid |= 1 << bit
    return reg.encode(validation_bits=valid, **fields)


def _err_info_from_ir(d: Any, path: str) -> ia.CperIaErrInfo:
    err_type = get_guid(get(d, "type", path), "guid", f"{path}.type")
    kind = ia.ERR_TYPES.get(err_type, ia.N_ERR_TYPES)
    f: dict[str, Any] = {}
    v = 0
    if "checkInfo" in d:
        if kind in CHECK_KEYS:
            f["check_info"] = _check_info_from_ir(kind, d["checkInfo"], f"{path}.checkInfo")
        v |= 1
    for key, bit, field in (("targetAddressID", 1, "target_id"), ("requestorID", 2, "requestor_id"),
                            ("responderID", 3, "responder_id"), ("instructionPointer", 4, "ip")):
        if key in d:
            f[field] = get_int(d, key, path)
            v |= 1 << bit
    return ia.CperIaErrInfo(err_type=err_type, validation_bits=v, **f)


def _registers_from_ir(regs: _RegisterState, d: Any, path: str) -> bytes:
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    if regs is IA32_REGS:
        gdtr = get_int(d, "gdtr", path, default=0)
        idtr = get_int(d, "idtr", path, default=0)
        d = {**d, "gdtr_lo": gdtr & 0xFFFFFFFF, "gdtr_hi": gdtr >> 32, "idtr_lo": idtr & 0xFFFFFFFF,
             "idtr_hi": idtr >> 32}
    values = [0 if n == "resv1" else get_int(d, n, path, bits=w, default=0)
              for n, w in zip(regs.names, regs.bits, strict=True)]
    return regs.struct.pack(*values)


def _ctx_from_ir(d: Any, path: str) -> ia.CperIaProcCtx:
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=path)
    ctype = get_int(get(d, "registerContextType", path), "value", f"{path}.registerContextType", bits=16)
    arr = d.get("registerArray")
    regs = REGISTER_STATES.get(ctype)
    if regs is not None:
        raw = _registers_from_ir(regs, arr, f"{path}.registerArray")
    else:
        try:
            raw = base64.b64decode(get(arr, "data", f"{path}.registerArray"), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise FormatError("not base64", path=f"{path}.registerArray.data") from None
    return ia.CperIaProcCtx(
        reg_ctx_type=ctype,
        reg_arr_size=get_int(d, "registerArraySize", path, bits=16, default=0),
        msr_addr=get_int(d, "msrAddress", path, bits=32, default=0),
        mm_reg_addr=get_int(d, "mmRegisterAddress", path, default=0),
        reg_arr=raw,
    )


def from_ir(obj: dict[str, Any], guid: Guid) -> ia.CperSecProcIa:
    p = "Ia32x64Processor"
    d = get(obj, p, "")
    if not isinstance(d, dict):
        raise FormatError("expected an object", path=p)
    n_err = get_int(d, "processorErrorInfoNum", p, default=0) & 0x3F
    n_ctx = get_int(d, "processorContextInfoNum", p, default=0) & 0x3F
    v = n_err << 2 | n_ctx << 8
    lapic = 0
    if "localAPICID" in d:
        lapic = get_int(d, "localAPICID", p)
        v |= ia.VALID_LAPIC_ID
    cpuid = b"\0" * 48
    if "cpuidInfo" in d:
        c = d["cpuidInfo"]
        cp = f"{p}.cpuidInfo"
        cpuid = struct.pack("<4Q16x", *(get_int(c, k, cp, default=0) for k in ("eax", "ebx", "ecx", "edx")))
        v |= ia.VALID_CPUID_INFO
    errs_ir = _list(d, "processorErrorInfo", p, n_err)
    ctxs_ir = _list(d, "processorContextInfo", p, n_ctx)
    header = ia.CperSecProcIaHeader(validation_bits=v, lapic_id=lapic, cpuid=cpuid)
    errs = tuple(_err_info_from_ir(errs_ir[i], f"{p}.processorErrorInfo[{i}]") for i in range(n_err))
    ctxs = tuple(_ctx_from_ir(ctxs_ir[i], f"{p}.processorContextInfo[{i}]") for i in range(n_ctx))
    return ia.CperSecProcIa(header, errs, ctxs)


def _list(d: dict[str, Any], key: str, path: str, count: int) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=f"{path}.{key}")
    if len(v) < count:
        raise FormatError(f"{count} entries expected, {len(v)} given", path=f"{path}.{key}")
    return v
