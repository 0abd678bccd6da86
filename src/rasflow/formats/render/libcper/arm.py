"""libcper's JSON for the ARM Processor Error section (sections/cper-section-arm.c).

libcper picks the error_info sub-structure by ``type`` == 1/2/4 (cache/TLB/bus); this
module makes the same choice so every value matches. Only ``errorType.name`` differs
by default: we name ``type`` by the UEFI 2.9A bitmask (``arm_type_names="libcper"``
gives libcper's own names). A section libcper would refuse becomes its base64
``Unknown`` object, as cper_buf_section_to_ir does.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from ...cper import arm as a
from ...cper import arm_names as an
from ...errors import FormatError, as_int
from ...layout import Guid
from .common import (
    bitfield_to_ir,
    get,
    get_bool,
    get_int,
    get_obj,
    ir_to_bitfield,
    readable_pair,
    zero_fill,
)

FLAGS = ("firstErrorCaptured", "lastErrorCaptured", "propagated", "overflow")
TRANSACTION_TYPES = {0: "Instruction", 1: "Data Access", 2: "Generic"}
_OPS = ("Generic Error", "Generic Read", "Generic Write", "Data Read", "Data Write", "Instruction Fetch", "Prefetch")
CACHE_OPS = dict(enumerate((*_OPS, "Eviction", "Snooping", "Snooped", "Management")))
BUS_OPS = dict(enumerate(_OPS))
TLB_OPS = dict(enumerate((*_OPS, "Local Management Operation", "External Management Operation")))
PARTICIPATION_TYPES = dict(enumerate((
    "Local Processor Originated Request", "Local Processor Responded to Request",
    "Local Processor Observed", "Generic",
)))
ADDRESS_SPACES = {0: "External Memory Access", 1: "Internal Memory Access", 3: "Device Memory Access"}
CONTEXT_TYPES = dict(enumerate((
    "AArch32 General Purpose Registers", "AArch32 EL1 Context Registers",
    "AArch32 EL2 Context Registers", "AArch32 Secure Context Registers",
    "AArch64 General Purpose Registers", "AArch64 EL1 Context Registers",
    "AArch64 EL2 Context Registers", "AArch64 EL3 Context Registers",
    "Miscellaneous System Register Structure",
)))
# libcper's ARM_ERROR_INFORMATION_TYPE_* and the sub-object each selects
TYPE_CACHE, TYPE_TLB, TYPE_BUS = 1, 2, 4
_SUB_KEYS = {TYPE_CACHE: "cacheError", TYPE_TLB: "tlbError", TYPE_BUS: "busError"}
_DESC = {TYPE_CACHE: "Cache Error", TYPE_TLB: "TLB Error", TYPE_BUS: "Bus Error"}
_NAMES_2_9A = {1: "Cache Error", 2: "TLB Error", 3: "Bus Error", 4: "Micro-Architectural Error"}
_NAMES_2_9 = {0: "Cache Error", 1: "TLB Error", 2: "Bus Error", 3: "Micro-Architectural Error"}

SECTION_DESC_STRING_SIZE = 512
EFI_ERROR_INFORMATION_DESCRIPTION_STRING_LEN = 128
MAX_PAD = 0x10000
_COMMON_KEYS = (
    ("transactionType", "transaction_type"), ("operation", "operation"), ("level", "level"),
    ("processorContextCorrupt", "proc_context_corrupt"), ("corrected", "corrected"),
    ("precisePC", "precise_pc"), ("restartablePC", "restartable_pc"),
)


def error_type_name(value: int, encoding: str = "uefi-2.9a") -> str:
    """``errorType.name``: libcper's spelling, by the chosen reading of ``type``."""
    if encoding == "libcper":
        return an.ARM_ERR_TYPE_LIBCPER.get(value, "Unknown (Reserved)")
    if encoding == "uefi-2.9":
        return _NAMES_2_9.get(value, "Unknown (Reserved)")
    names = [name for bit, name in _NAMES_2_9A.items() if value >> bit & 1]
    return ", ".join(names) or "Unknown (Reserved)"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _add_int(v: int) -> int:
    """cper-utils add_int(): the value goes through a C ``int`` into a uint64."""
    v &= 0xFFFFFFFF
    return v | 0xFFFFFFFF00000000 if v >> 31 else v


def libcper_refuses(sec: a.CperSecProcArm) -> bool:
    """Where cper_section_arm_to_ir returns NULL for a section our codec decodes."""
    for c in sec.context_info:
        want = an.arm_ctx_regs_size(c.type)
        if want is not None and c.size < want:
            return True
    vendor_valid = sec.validation_bits & a.CPER_ARM_VALID_VENDOR_INFO
    return bool(vendor_valid and sec.section_length > sec.nbytes)


def to_ir(sec: a.CperSecProcArm, arm_type_names: str = "libcper") -> dict[str, Any]:
    """The whole section object; ``arm_type_names`` is one of arm_names.ARM_TYPE_ENCODINGS."""
    if arm_type_names not in an.ARM_TYPE_ENCODINGS:
        raise ValueError(f"unknown ARM error type encoding {arm_type_names!r}; "
                         f"use one of {', '.join(an.ARM_TYPE_ENCODINGS)}")
    if libcper_refuses(sec):
        return {"Unknown": {"data": _b64(sec.encode())}}
    v = sec.validation_bits
    d: dict[str, Any] = {
        "errorInfoNum": sec.err_info_num,
        "contextInfoNum": sec.context_info_num,
        "sectionLength": sec.section_length,
    }
    if v & a.CPER_ARM_VALID_AFFINITY_LEVEL:
        level = sec.affinity_level | int.from_bytes(sec.reserved, "little") << 8  # a UINT32 in libcper
        d["errorAffinity"] = {"value": _add_int(level), "type": "Vendor Defined" if level < 4 else "Reserved"}
    if v & a.CPER_ARM_VALID_MPIDR:
        d["mpidrEl1"] = sec.mpidr
        d["affinity3"] = (sec.mpidr >> 32) & 0xFF
    d["midrEl1"] = sec.midr
    if v & a.CPER_ARM_VALID_RUNNING_STATE:
        d["running"] = bool(sec.running_state & 1)
    if not sec.running_state >> 31:
        d["psciState"] = sec.psci_state
    d["errorInfo"] = [_err_info_to_ir(e, arm_type_names) for e in sec.err_info]
    d["contextInfo"] = [_ctx_to_ir(c) for c in sec.context_info]
    start = sec.nbytes - len(sec.vendor_specific)
    if v & a.CPER_ARM_VALID_VENDOR_INFO and start < sec.section_length:
        d["vendorSpecificInfo"] = {"data": _b64(sec.vendor_specific[: sec.section_length - start])}
    return {"message": _message(sec), "ArmProcessor": d}


def _message(sec: a.CperSecProcArm) -> str:
    desc = "An ARM Processor Error occurred"
    if sec.validation_bits & a.CPER_ARM_VALID_MPIDR:
        node = f" on CPU {(sec.mpidr >> 32) & 0xFF}"
        if len(node) + len(desc) < SECTION_DESC_STRING_SIZE:
            desc += node
    desc += "; Error Type(s): {"
    for i, e in enumerate(sec.err_info):
        item = _err_info_desc(e)
        if len(desc) + len(item) < SECTION_DESC_STRING_SIZE:
            desc += item
        if i == len(sec.err_info) - 1:
            if len(desc) + 2 < SECTION_DESC_STRING_SIZE:
                desc += "}"
            break
        if len(desc) + 3 < SECTION_DESC_STRING_SIZE:
            desc += ", "
    return desc


def _err_info_desc(e: a.CperArmErrInfo) -> str:
    vb = e.validation_bits
    item = _DESC.get(e.type, "Unknown Error") if vb & a.CPER_ARM_INFO_VALID_ERR_INFO else "Unknown Error"
    for bit, text in ((a.CPER_ARM_INFO_VALID_VIRT_ADDR, f" at Virtual Addr=0x{e.virt_fault_addr:X}"),
                      (a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR, f" Physical Addr=0x{e.physical_fault_addr:X}")):
        if vb & bit and len(item) + len(text) < EFI_ERROR_INFORMATION_DESCRIPTION_STRING_LEN:
            item += text
    return item


def _err_info_to_ir(e: a.CperArmErrInfo, names: str) -> dict[str, Any]:
    vb = e.validation_bits
    d: dict[str, Any] = {
        "version": e.version,
        "length": e.length,
        "errorType": {"value": e.type, "name": error_type_name(e.type, names)},
    }
    if vb & a.CPER_ARM_INFO_VALID_MULTI_ERR:
        d["multipleError"] = {"value": e.multiple_error,
                              "type": "Single Error" if e.multiple_error < 1 else "Multiple Errors"}
    if vb & a.CPER_ARM_INFO_VALID_FLAGS:
        d["flags"] = bitfield_to_ir(e.flags, FLAGS)
    if vb & a.CPER_ARM_INFO_VALID_ERR_INFO and e.type in _SUB_KEYS:
        d["errorInformation"] = {_SUB_KEYS[e.type]: _error_information_to_ir(e.type, e.error_info)}
    if vb & a.CPER_ARM_INFO_VALID_VIRT_ADDR:
        d["virtualFaultAddress"] = e.virt_fault_addr
    if vb & a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR:
        d["physicalFaultAddress"] = e.physical_fault_addr
    return d


def _error_information_to_ir(err_type: int, value: int) -> dict[str, Any]:
    bus = err_type == TYPE_BUS
    f = (a.ARM_BUS_ERR_INFO if bus else a.ARM_CACHE_ERR_INFO).decode(value)
    ops = BUS_OPS if bus else CACHE_OPS if err_type == TYPE_CACHE else TLB_OPS
    d: dict[str, Any] = {}
    if f["transaction_type_valid"]:
        d["transactionType"] = readable_pair(f["transaction_type"], TRANSACTION_TYPES, "Unknown (Reserved)")
    if f["operation_valid"]:
        d["operation"] = readable_pair(f["operation"], ops, "Unknown (Reserved)")
    if f["level_valid"]:
        d["level"] = f["level"]
    for key, field in _COMMON_KEYS[3:]:
        if f[field + "_valid"]:
            d[key] = bool(f[field])
    if not bus:
        return d
    if f["participation_type_valid"]:
        d["participationType"] = readable_pair(f["participation_type"], PARTICIPATION_TYPES, "Unknown")
    if f["time_out_valid"]:
        d["timedOut"] = bool(f["time_out"])
    if f["address_space_valid"]:
        d["addressSpace"] = readable_pair(f["address_space"], ADDRESS_SPACES, "Unknown")
    if f["mem_attributes_valid"]:
        d["memoryAttributes"] = f["mem_attributes"]
    if f["time_out_valid"]:  # libcper tests the timeout bit (8) here, not access mode's (11)
        d["accessMode"] = {"value": f["access_mode"], "name": "Normal" if f["access_mode"] else "Secure"}
    return d


def _ctx_to_ir(c: a.CperArmCtxInfo) -> dict[str, Any]:
    if c.type == an.CPER_ARM_CTX_TYPE_MISC:
        regs = c.registers()
        array: dict[str, Any] = {"mrsEncoding": {k: regs[k] for k, _, _ in an.ARM_MISC_MRS_FIELDS},
                                 "value": regs["value"]}
    elif c.type in an.ARM_CTX_REGS:
        array = c.registers()
    else:
        array = {"data": _b64(c.regs)}
    return {
        "version": c.version,
        "registerContextType": readable_pair(c.type, CONTEXT_TYPES, "Unknown (Reserved)"),
        "registerArraySize": c.size,
        "registerArray": array,
    }


def from_ir(obj: dict[str, Any], guid: Guid) -> a.CperSecProcArm:
    """libcper's ir_section_arm_to_cper, kept self-consistent: fields absent from the JSON
    are zero with their validation bits clear; an absent ``psciState`` sets running_state
    bit 31 (what made libcper leave it out); without ``vendorSpecificInfo`` the section is
    zero-filled up to ``sectionLength`` (a gap over MAX_PAD is left for check() to report)."""
    p = "ArmProcessor"
    d = get(obj, p, "")
    vb = 0
    f: dict[str, Any] = {
        "err_info_num": get_int(d, "errorInfoNum", p, bits=16),
        "context_info_num": get_int(d, "contextInfoNum", p, bits=16),
        "section_length": get_int(d, "sectionLength", p, bits=32),
        "midr": get_int(d, "midrEl1", p, default=0),
    }
    if "mpidrEl1" in d:
        f["mpidr"] = get_int(d, "mpidrEl1", p)
        vb |= a.CPER_ARM_VALID_MPIDR
    if "errorAffinity" in d:
        level = get_int(d["errorAffinity"], "value", f"{p}.errorAffinity") & 0xFFFFFFFF
        f["affinity_level"], f["reserved"] = level & 0xFF, (level >> 8).to_bytes(3, "little")
        vb |= a.CPER_ARM_VALID_AFFINITY_LEVEL
    running = 0
    if "running" in d:
        running = int(get_bool(d, "running", p))
        vb |= a.CPER_ARM_VALID_RUNNING_STATE
    if "psciState" in d:
        f["psci_state"] = get_int(d, "psciState", p, bits=32)
    else:
        running |= 1 << 31
    f["running_state"] = running
    err = _list(d, "errorInfo", p, f["err_info_num"])
    ctx = _list(d, "contextInfo", p, f["context_info_num"])
    f["err_info"] = tuple(_err_info_from_ir(e, f"{p}.errorInfo[{i}]") for i, e in enumerate(err))
    f["context_info"] = tuple(_ctx_from_ir(c, f"{p}.contextInfo[{i}]") for i, c in enumerate(ctx))
    if "vendorSpecificInfo" in d:
        f["vendor_specific"] = _unb64(get(d["vendorSpecificInfo"], "data", f"{p}.vendorSpecificInfo"),
                                      f"{p}.vendorSpecificInfo.data")
        vb |= a.CPER_ARM_VALID_VENDOR_INFO
    sec = a.CperSecProcArm(validation_bits=vb, **f)
    gap = sec.section_length - sec.nbytes
    if "vendorSpecificInfo" not in d and 0 < gap <= MAX_PAD:
        sec = sec._replace(vendor_specific=b"\0" * gap)
    return sec


def _list(d: Any, key: str, path: str, count: int) -> list:
    v = get(d, key, path, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=f"{path}.{key}")
    if len(v) != count:
        raise FormatError(f"{len(v)} entries but the count says {count}", path=f"{path}.{key}")
    return v


def _unb64(text: Any, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise FormatError("not base64", path=path) from None


def _err_info_from_ir(e: Any, p: str) -> a.CperArmErrInfo:
    vb = 0
    t = get_int(get(e, "errorType", p, {"value": 0}), "value", f"{p}.errorType", bits=8)
    f: dict[str, Any] = {
        "version": get_int(e, "version", p, bits=8, default=0),
        "length": get_int(e, "length", p, bits=8, default=0),
        "type": t,
    }
    if "multipleError" in e:
        f["multiple_error"] = get_int(e["multipleError"], "value", f"{p}.multipleError", bits=16)
        vb |= a.CPER_ARM_INFO_VALID_MULTI_ERR
    if "flags" in e:
        f["flags"] = ir_to_bitfield(e["flags"], FLAGS, f"{p}.flags")
        vb |= a.CPER_ARM_INFO_VALID_FLAGS
    if "errorInformation" in e:
        info = get(e, "errorInformation", p)
        key = _SUB_KEYS.get(t)
        if key is not None and isinstance(info, dict) and key in info:
            f["error_info"] = _error_information_from_ir(t, get_obj(info, key, f"{p}.errorInformation"),
                                                         f"{p}.errorInformation.{key}")
        vb |= a.CPER_ARM_INFO_VALID_ERR_INFO
    if "virtualFaultAddress" in e:
        f["virt_fault_addr"] = get_int(e, "virtualFaultAddress", p)
        vb |= a.CPER_ARM_INFO_VALID_VIRT_ADDR
    if "physicalFaultAddress" in e:
        f["physical_fault_addr"] = get_int(e, "physicalFaultAddress", p)
        vb |= a.CPER_ARM_INFO_VALID_PHYSICAL_ADDR
    return a.CperArmErrInfo(validation_bits=vb, **f)


def _error_information_from_ir(err_type: int, d: Any, p: str) -> int:
    bus = err_type == TYPE_BUS
    reg = a.ARM_BUS_ERR_INFO if bus else a.ARM_CACHE_ERR_INFO
    keys = list(_COMMON_KEYS)
    if bus:
        keys += [("participationType", "participation_type"), ("timedOut", "time_out"),
                 ("addressSpace", "address_space"), ("memoryAttributes", "mem_attributes"),
                 ("accessMode", "access_mode")]
    fields: dict[str, int] = {}
    for key, field in keys:
        if key not in d:
            continue
        v = d[key]
        if isinstance(v, bool):
            v = int(v)
        elif isinstance(v, dict):
            v = get_int(v, "value", f"{p}.{key}")
        else:
            v = as_int(v, f"{p}.{key}")
        fields[field], fields[field + "_valid"] = v, 1
    try:
        return reg.encode(**fields)
    except FormatError as err:
        field = err.path.rsplit(".", 1)[-1].removesuffix("_valid")
        key = next((k for k, fl in keys if fl == field), field)
        raise FormatError(err.message, path=f"{p}.{key}") from None


def _ctx_from_ir(c: Any, p: str) -> a.CperArmCtxInfo:
    size = get_int(c, "registerArraySize", p, bits=32)
    ctx_type = get_int(get(c, "registerContextType", p), "value", f"{p}.registerContextType", bits=16)
    array = get(c, "registerArray", p)
    ap = f"{p}.registerArray"
    if ctx_type == an.CPER_ARM_CTX_TYPE_MISC:
        mrs_d = get(array, "mrsEncoding", ap)
        mrs = 0
        for name, msb, lsb in an.ARM_MISC_MRS_FIELDS:
            mrs |= get_int(mrs_d, name, f"{ap}.mrsEncoding", bits=msb - lsb + 1, default=0) << lsb
        regs = struct.pack("<HQ", mrs, get_int(array, "value", ap, default=0))
    elif ctx_type in an.ARM_CTX_REGS:
        code, names = an.ARM_CTX_REGS[ctx_type]
        bits = 32 if code == "I" else 64
        regs = struct.pack(f"<{len(names)}{code}", *(get_int(array, n, ap, bits=bits, default=0) for n in names))
    else:
        regs = _unb64(get(array, "data", ap), f"{ap}.data")
    regs = zero_fill(regs, size, f"{p}.registerArraySize")
    version = get_int(c, "version", p, bits=16, default=0)
    return a.CperArmCtxInfo(version=version, type=ctx_type, size=size, regs=regs)
