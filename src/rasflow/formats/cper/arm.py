"""ARM Processor Error section (UEFI N.2.4.4): struct cper_sec_proc_arm and what follows it.

Wire order: the 40-byte header, ``err_info_num`` 32-byte error-information entries
(struct cper_arm_err_info), ``context_info_num`` context-information entries
(struct cper_arm_ctx_info: 8-byte header then ``size`` bytes of registers), then
vendor-specific bytes to the end of the section. The counts and sizes in the bytes
decide the walk; ``section_length`` is only reported by ``check()`` (firmware gets it
wrong and the kernel and libcper both read it, so it must stay representable).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..arm.register import Register, RegValue
from ..errors import FormatError
from ..layout import Bytes, Flags, Names, Tail, layout, u8, u16, u32, u64
from . import arm_names as an
from .guids import CPER_SEC_PROC_ARM

# include/linux/cper.h
CPER_ARM_VALID_MPIDR = 0x1
CPER_ARM_VALID_AFFINITY_LEVEL = 0x2
CPER_ARM_VALID_RUNNING_STATE = 0x4
CPER_ARM_VALID_VENDOR_INFO = 0x8

CPER_ARM_INFO_VALID_MULTI_ERR = 0x1
CPER_ARM_INFO_VALID_FLAGS = 0x2
CPER_ARM_INFO_VALID_ERR_INFO = 0x4
CPER_ARM_INFO_VALID_VIRT_ADDR = 0x8
CPER_ARM_INFO_VALID_PHYSICAL_ADDR = 0x10

CPER_ARM_INFO_FLAGS_FIRST = 0x1
CPER_ARM_INFO_FLAGS_LAST = 0x2
CPER_ARM_INFO_FLAGS_PROPAGATED = 0x4
CPER_ARM_INFO_FLAGS_OVERFLOW = 0x8

CPER_ARM_ERR_TYPE_MASK = 0x1E  # GENMASK(4, 1), UEFI 2.9A
CPER_ARM_CACHE_ERROR = 0x2
CPER_ARM_TLB_ERROR = 0x4
CPER_ARM_BUS_ERROR = 0x8
CPER_ARM_VENDOR_ERROR = 0x10

CPER_ARM_INFO_ENTRY_SIZE = 32

# error_info[63:0] (UEFI N.2.4.4.1-3): validation bits in 15:0, then the values.
_VALID = (
    ("transaction_type_valid", 0, 0), ("operation_valid", 1, 1), ("level_valid", 2, 2),
    ("proc_context_corrupt_valid", 3, 3), ("corrected_valid", 4, 4),
    ("precise_pc_valid", 5, 5), ("restartable_pc_valid", 6, 6),
)
_BUS_VALID = (
    ("participation_type_valid", 7, 7), ("time_out_valid", 8, 8), ("address_space_valid", 9, 9),
    ("mem_attributes_valid", 10, 10), ("access_mode_valid", 11, 11),
)


def _common(ops: Mapping[int, str]) -> list[tuple]:
    return [
        *_VALID, ("transaction_type", 17, 16, an.ARM_ERR_TRANS_TYPE), ("operation", 21, 18, ops),
        ("level", 24, 22), ("proc_context_corrupt", 25, 25), ("corrected", 26, 26),
        ("precise_pc", 27, 27), ("restartable_pc", 28, 28),
    ]


ARM_CACHE_ERR_INFO = Register("error_info", _common(an.ARM_CACHE_ERR_OP), label="cache error_info")
ARM_TLB_ERR_INFO = Register("error_info", _common(an.ARM_TLB_ERR_OP), label="TLB error_info")
ARM_BUS_ERR_INFO = Register("error_info", [
    *_common(an.ARM_BUS_ERR_OP), *_BUS_VALID,
    ("participation_type", 30, 29, an.ARM_BUS_ERR_PART_TYPE), ("time_out", 31, 31),
    ("address_space", 33, 32, an.ARM_BUS_ERR_ADDR_SPACE), ("mem_attributes", 42, 34),
    ("access_mode", 43, 43, an.ARM_BUS_ACCESS_MODE),
], label="bus error_info")


def error_info_register(err_type: int) -> Register:
    """The error_info layout a ``type`` byte selects (UEFI 2.9A bits: bus, then TLB, else cache)."""
    if err_type & CPER_ARM_BUS_ERROR:
        return ARM_BUS_ERR_INFO
    if err_type & CPER_ARM_TLB_ERROR and not err_type & CPER_ARM_CACHE_ERROR:
        return ARM_TLB_ERR_INFO
    return ARM_CACHE_ERR_INFO


@layout
class CperSecProcArmHeader:
    """The 40 bytes of struct cper_sec_proc_arm before the error-information entries."""

    validation_bits: Annotated[u32, Flags(an.ARM_VALID)]
    err_info_num: u16
    context_info_num: u16
    section_length: u32
    affinity_level: u8
    reserved: Bytes[3]
    mpidr: u64
    midr: u64
    running_state: u32
    psci_state: u32


@layout
class CperArmErrInfo:
    """struct cper_arm_err_info (32 bytes); ``type`` names are the UEFI 2.9A bitmask."""

    version: u8
    length: u8
    validation_bits: Annotated[u16, Flags(an.ARM_INFO_VALID)]
    type: Annotated[u8, Flags(an.ARM_ERR_TYPE_BITS)]
    multiple_error: u16
    flags: Annotated[u8, Flags(an.ARM_INFO_FLAGS)]
    error_info: u64
    virt_fault_addr: u64
    physical_fault_addr: u64

    def decode_error_info(self) -> RegValue:
        """``error_info`` split into its declared fields, by the layout ``type`` selects."""
        return error_info_register(self.type).decode(self.error_info)


@layout
class CperArmCtxInfo:
    """struct cper_arm_ctx_info (8 bytes) and its ``size`` bytes of registers in ``regs``."""

    version: u16
    type: Annotated[u16, Names(an.ARM_REG_CTX)]
    size: u32
    regs: Tail

    def registers(self) -> dict[str, int]:
        """The registers of this context type by name (those fully present in ``regs``)."""
        regs = self.regs
        if self.type == an.CPER_ARM_CTX_TYPE_MISC:
            if len(regs) < an.ARM_MISC_SIZE:
                return {}
            mrs, value = struct.unpack_from("<HQ", regs)
            out = {name: (mrs >> lsb) & ((1 << (msb - lsb + 1)) - 1) for name, msb, lsb in an.ARM_MISC_MRS_FIELDS}
            out["value"] = value
            return out
        entry = an.ARM_CTX_REGS.get(self.type)
        if entry is None:
            return {}
        code, names = entry
        count = min(len(names), len(regs) // struct.calcsize(code))
        return dict(zip(names, struct.unpack_from(f"<{count}{code}", regs), strict=False))


HEADER_SIZE = CperSecProcArmHeader.SIZE
CTX_HEAD = CperArmCtxInfo.STRUCT  # the 8-byte header before the registers
_ERR = CperArmErrInfo.STRUCT
_N_HEADER = len(CperSecProcArmHeader._fields)


class CperSecProcArm(NamedTuple):
    """struct cper_sec_proc_arm, its entries, contexts and vendor-specific bytes, byte-exact."""

    validation_bits: int = 0
    err_info_num: int = 0
    context_info_num: int = 0
    section_length: int = 0
    affinity_level: int = 0
    reserved: bytes = b"\0\0\0"
    mpidr: int = 0
    midr: int = 0
    running_state: int = 0
    psci_state: int = 0
    err_info: tuple[CperArmErrInfo, ...] = ()
    context_info: tuple[CperArmCtxInfo, ...] = ()
    vendor_specific: bytes = b""

    GUID = CPER_SEC_PROC_ARM
    SIZE = HEADER_SIZE

    @property
    def header(self) -> CperSecProcArmHeader:
        return tuple.__new__(CperSecProcArmHeader, self[:_N_HEADER])

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecProcArm:
        """Decode ``length`` bytes at ``off`` (default: to the end of ``buf``)."""
        mv = memoryview(buf)
        end = len(mv) if length is None else off + length
        if end > len(mv):
            raise FormatError(f"truncated: section needs {end - off} bytes, have {len(mv) - off}",
                              offset=off, need=end - len(mv))
        if end - off < HEADER_SIZE:
            raise FormatError(f"section is {end - off} bytes, the header alone is {HEADER_SIZE}",
                              offset=off, need=HEADER_SIZE - (end - off))
        head = CperSecProcArmHeader.decode(mv, off)
        pos = off + HEADER_SIZE
        err_end = pos + CPER_ARM_INFO_ENTRY_SIZE * head.err_info_num
        if err_end > end:
            k = (end - pos) // CPER_ARM_INFO_ENTRY_SIZE
            raise FormatError(
                f"err_info_num {head.err_info_num} needs {err_end - pos} bytes after the header, "
                f"the section has {end - pos}",
                path=f"err_info[{k}]", offset=pos + CPER_ARM_INFO_ENTRY_SIZE * k, need=err_end - end,
            )
        err = tuple(tuple.__new__(CperArmErrInfo, v) for v in _ERR.iter_unpack(mv[pos:err_end]))
        pos = err_end
        ctxs = []
        for i in range(head.context_info_num):
            if pos + CTX_HEAD.size > end:
                raise FormatError(
                    f"context_info_num {head.context_info_num}: no room for context {i}'s header",
                    path=f"context_info[{i}]", offset=pos, need=pos + CTX_HEAD.size - end,
                )
            version, ctx_type, size = CTX_HEAD.unpack_from(mv, pos)
            regs_end = pos + CTX_HEAD.size + size
            if regs_end > end:
                raise FormatError(
                    f"size {size} runs {regs_end - end} bytes past the section",
                    path=f"context_info[{i}].size", offset=pos + 4, need=regs_end - end,
                )
            regs = bytes(mv[pos + CTX_HEAD.size : regs_end])
            ctxs.append(tuple.__new__(CperArmCtxInfo, (version, ctx_type, size, regs)))
            pos = regs_end
        return tuple.__new__(cls, (*head, err, tuple(ctxs), bytes(mv[pos:end])))

    def encode(self) -> bytes:
        parts = [CperSecProcArmHeader.pack(*self[:_N_HEADER])]
        parts += [e.encode() for e in self.err_info]
        parts += [c.encode() for c in self.context_info]
        parts.append(self.vendor_specific)
        return b"".join(parts)

    @property
    def nbytes(self) -> int:
        return (HEADER_SIZE + CPER_ARM_INFO_ENTRY_SIZE * len(self.err_info)
                + sum(c.nbytes for c in self.context_info) + len(self.vendor_specific))

    def to_dict(self) -> dict[str, Any]:
        d = self.header.to_dict()
        d["err_info"] = [{**e.to_dict(), "error_info_fields": _fields_dict(e.decode_error_info())}
                         for e in self.err_info]
        d["context_info"] = [{**c.to_dict(), "registers": c.registers()} for c in self.context_info]
        d["vendor_specific"] = self.vendor_specific.hex()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecProcArm:
        """Inverse of to_dict. Missing counts, sizes and section_length are derived."""
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecProcArm", path=path)
        d = dict(d)
        items = {}
        for key, sub in (("err_info", CperArmErrInfo), ("context_info", CperArmCtxInfo)):
            raw = d.pop(key, [])
            if not isinstance(raw, list):
                raise FormatError("expected a list", path=_join(path, key))
            items[key] = tuple(_entry_from_dict(sub, e, _join(path, f"{key}[{i}]")) for i, e in enumerate(raw))
        vendor = d.pop("vendor_specific", "")
        try:
            vendor = bytes.fromhex(vendor)
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path=_join(path, "vendor_specific")) from None
        d.setdefault("err_info_num", len(items["err_info"]))
        d.setdefault("context_info_num", len(items["context_info"]))
        head = CperSecProcArmHeader.from_dict(d, path=path)
        sec = tuple.__new__(cls, (*head, items["err_info"], items["context_info"], vendor))
        if "section_length" not in d:
            sec = sec._replace(section_length=sec.nbytes)
        for key, num in (("err_info", sec.err_info_num), ("context_info", sec.context_info_num)):
            if num != len(items[key]):
                raise FormatError(f"{key}_num is {num} but {key} has {len(items[key])} entries",
                                  path=_join(path, f"{key}_num"))
        return sec

    def with_lengths(self) -> CperSecProcArm:
        """Fill err_info_num, context_info_num, each context ``size`` and section_length."""
        ctxs = tuple(c._replace(size=len(c.regs)) for c in self.context_info)
        sec = self._replace(err_info_num=len(self.err_info), context_info_num=len(ctxs), context_info=ctxs)
        return sec._replace(section_length=sec.nbytes)

    def check(self) -> list[str]:
        """What a careful reader would flag; none of it stops decoding."""
        out = []
        if self.err_info_num != len(self.err_info):
            out.append(f"err_info_num {self.err_info_num} but {len(self.err_info)} entries")
        if self.context_info_num != len(self.context_info):
            out.append(f"context_info_num {self.context_info_num} but {len(self.context_info)} contexts")
        if self.section_length != self.nbytes:
            out.append(f"section_length {self.section_length} but the section is {self.nbytes} bytes")
        if self.validation_bits >> 4:
            out.append(f"reserved validation bits set: {self.validation_bits:#x}")
        if any(self.reserved):
            out.append(f"reserved bytes after affinity_level are {self.reserved.hex()}")
        if self.running_state >> 1:
            out.append(f"running_state reserved bits set: {self.running_state:#x}")
        for i, e in enumerate(self.err_info):
            out += [f"err_info[{i}]: {p}" for p in _err_info_problems(e)]
        for i, c in enumerate(self.context_info):
            p = f"context_info[{i}]"
            if c.size != len(c.regs):
                out.append(f"{p}: size {c.size} but {len(c.regs)} register bytes")
            want = an.arm_ctx_regs_size(c.type)
            if want is None:
                out.append(f"{p}: unknown register context type {c.type}")
            elif c.size < want:
                out.append(f"{p}: size {c.size} is smaller than the {want} bytes of {an.ARM_REG_CTX[c.type]}")
        if self.vendor_specific and not self.validation_bits & CPER_ARM_VALID_VENDOR_INFO:
            out.append(f"{len(self.vendor_specific)} vendor-specific bytes but the vendor_info validation bit is clear")
        return out

    @classmethod
    def strategy(cls, max_entries: int = 3):
        """Hypothesis strategy: consistent sections (counts and sizes match), any section_length."""
        from hypothesis import strategies as st

        @st.composite
        def ctx(draw):
            ctx_type = draw(st.integers(0, 10))
            want = an.arm_ctx_regs_size(ctx_type) or 0
            size = draw(st.sampled_from([want, want + 8]) | st.integers(0, 300))
            regs = draw(st.binary(min_size=size, max_size=size))
            return CperArmCtxInfo(draw(st.integers(0, 0xFFFF)), ctx_type, size, regs)

        head = CperSecProcArmHeader.strategy()
        return st.builds(
            lambda h, err, ctxs, vendor: cls(*h, err, ctxs, vendor)._replace(
                err_info_num=len(err), context_info_num=len(ctxs)),
            head, st.lists(CperArmErrInfo.strategy(), max_size=max_entries).map(tuple),
            st.lists(ctx(), max_size=max_entries).map(tuple), st.binary(max_size=40),
        )


def _err_info_problems(e: CperArmErrInfo) -> list[str]:
    out = []
    if e.length != CPER_ARM_INFO_ENTRY_SIZE:
        out.append(f"length {e.length}, not {CPER_ARM_INFO_ENTRY_SIZE} (ghes.c steps by it)")
    if e.validation_bits >> 5:
        out.append(f"reserved validation bits set: {e.validation_bits:#x}")
    if not e.type & CPER_ARM_ERR_TYPE_MASK:
        out.append(f"type {e.type:#04x} names no error type")
    elif e.type & ~CPER_ARM_ERR_TYPE_MASK:
        out.append(f"type {e.type:#04x} has reserved bits set")
    if e.flags >> 4:
        out.append(f"reserved flag bits set: {e.flags:#x}")
    if e.validation_bits & CPER_ARM_INFO_VALID_ERR_INFO and not e.type & CPER_ARM_VENDOR_ERROR:
        out += [f"error_info: {p}" for p in e.decode_error_info().problems]
    return out


def _fields_dict(rv: RegValue) -> dict[str, Any]:
    out: dict[str, Any] = {"layout": rv.layout.label}
    for f in rv.layout.fields:
        if f.kind:
            continue
        out[f.name] = rv[f.name]
        if f.names is not None:
            out[f.name + "_name"] = rv.name(f.name)
    return out


def _entry_from_dict(sub: type, e: Any, path: str):
    if not isinstance(e, Mapping):
        raise FormatError(f"expected an object for {sub.__name__}", path=path)
    e = {k: v for k, v in e.items() if k not in ("error_info_fields", "registers")}
    out = sub.from_dict(e, path=path)
    if sub is CperArmCtxInfo:
        if "size" not in e:
            out = out._replace(size=len(out.regs))
        elif out.size != len(out.regs):
            raise FormatError(f"size is {out.size} but regs has {len(out.regs)} bytes", path=f"{path}.size")
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
