"""IA32/X64 Processor Error section (UEFI N.2.4.2): struct cper_sec_proc_ia and what follows it.

The 64-byte header (struct cper_sec_proc_ia) is followed by ``validation_bits[7:2]``
error information structures (struct cper_ia_err_info, 64 bytes each) and then
``validation_bits[13:8]`` processor context structures (struct cper_ia_proc_ctx,
16 bytes plus ``reg_arr_size`` bytes of registers). Bytes after the last context
structure are kept in ``tail``. The check_info field of an error information
structure is decoded by the structure's GUID (cache, TLB, bus or MS check).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from ..arm.register import Register, RegValue
from ..errors import FormatError
from ..layout import (
    Bytes,
    Flags,
    Guid,
    GuidField,
    LayoutBase,
    Names,
    Tail,
    bits,
    layout,
    u16,
    u32,
    u64,
)
from .guids import CPER_SEC_PROC_IA

# cper-x86.c: validation bits of struct cper_sec_proc_ia
VALID_LAPIC_ID = 1 << 0
VALID_CPUID_INFO = 1 << 1
PROC_IA_VALID = {0: "lapic_id", 1: "cpuid"}


def VALID_PROC_ERR_INFO_NUM(validation_bits: int) -> int:  # noqa: N802 - kernel macro name
    return bits(validation_bits, 7, 2)


def VALID_PROC_CXT_INFO_NUM(validation_bits: int) -> int:  # noqa: N802 - kernel macro name
    return bits(validation_bits, 13, 8)


# Error information structure types (cper-x86.c INFO_ERR_STRUCT_TYPE_*)
INFO_ERR_STRUCT_TYPE_CACHE = Guid("a55701f5-e3ef-43de-ac72-249b573fad2c")
INFO_ERR_STRUCT_TYPE_TLB = Guid("fc06b535-5e1f-4562-9f25-0a3b9adb63c3")
INFO_ERR_STRUCT_TYPE_BUS = Guid("1cf3f8b3-c5b1-49a2-aa59-5eef92ffa63c")
INFO_ERR_STRUCT_TYPE_MS = Guid("48ab7f57-dc34-4f6c-a7d3-b0b5b0a74314")

# enum err_types
ERR_TYPE_CACHE, ERR_TYPE_TLB, ERR_TYPE_BUS, ERR_TYPE_MS, N_ERR_TYPES = range(5)
ERR_TYPES = {INFO_ERR_STRUCT_TYPE_CACHE: ERR_TYPE_CACHE, INFO_ERR_STRUCT_TYPE_TLB: ERR_TYPE_TLB,
             INFO_ERR_STRUCT_TYPE_BUS: ERR_TYPE_BUS, INFO_ERR_STRUCT_TYPE_MS: ERR_TYPE_MS}
ERR_TYPE_NAME = {ERR_TYPE_CACHE: "cache", ERR_TYPE_TLB: "tlb", ERR_TYPE_BUS: "bus", ERR_TYPE_MS: "ms"}

# Validation bits of struct cper_ia_err_info
INFO_VALID_CHECK_INFO = 1 << 0
INFO_VALID_TARGET_ID = 1 << 1
INFO_VALID_REQUESTOR_ID = 1 << 2
INFO_VALID_RESPONDER_ID = 1 << 3
INFO_VALID_IP = 1 << 4
IA_ERR_INFO_VALID = {0: "check_info", 1: "target_id", 2: "requestor_id", 3: "responder_id", 4: "ip"}

# cper-x86.c name tables
IA_CHECK_TRANS_TYPE = {0: "Instruction", 1: "Data Access", 2: "Generic"}
IA_CHECK_OP = {0: "generic error", 1: "generic read", 2: "generic write", 3: "data read", 4: "data write",
               5: "instruction fetch", 6: "prefetch", 7: "eviction", 8: "snoop"}
IA_CHECK_OP_TLB_BUS = {k: v for k, v in IA_CHECK_OP.items() if k < 7}  # "CACHE has more operation types"
IA_CHECK_BUS_PART_TYPE = {0: "Local Processor originated request", 1: "Local Processor responded to request",
                          2: "Local Processor observed", 3: "Generic"}
IA_CHECK_BUS_ADDR_SPACE = {0: "Memory Access", 1: "Reserved", 2: "I/O", 3: "Other Transaction"}
IA_CHECK_MS_ERROR_TYPE = {0: "No Error", 1: "Unclassified", 2: "Microcode ROM Parity Error",
                          3: "External Error", 4: "FRC Error", 5: "Internal Unclassified"}
IA_REG_CTX = {0: "Unclassified Data", 1: "MSR Registers (Machine Check and other MSRs)",
              2: "32-bit Mode Execution Context", 3: "64-bit Mode Execution Context", 4: "FXSAVE Context",
              5: "32-bit Mode Debug Registers (DR0-DR7)", 6: "64-bit Mode Debug Registers (DR0-DR7)",
              7: "Memory Mapped Registers"}
CTX_TYPE_MSR = 1
CTX_TYPE_IA32 = 2
CTX_TYPE_X64 = 3
CTX_TYPE_MMREG = 7

# check_info layouts (UEFI Tables N-19..N-22; cper-x86.c CHECK_*). Bits 15:0 say which fields are valid.
_COMMON = (
    ("validation_bits", 15, 0), ("trans_type", 17, 16, IA_CHECK_TRANS_TYPE), ("operation", 21, 18),
    ("level", 24, 22), ("pcc", 25, 25), ("uncorrected", 26, 26), ("precise_ip", 27, 27),
    ("restartable_ip", 28, 28), ("overflow", 29, 29),
)
CACHE_CHECK = Register("cache_check", [*_COMMON[:2], ("operation", 21, 18, IA_CHECK_OP), *_COMMON[3:]])
TLB_CHECK = Register("tlb_check", [*_COMMON[:2], ("operation", 21, 18, IA_CHECK_OP_TLB_BUS), *_COMMON[3:]])
BUS_CHECK = Register("bus_check", [
    *_COMMON[:2], ("operation", 21, 18, IA_CHECK_OP_TLB_BUS), *_COMMON[3:],
    ("part_type", 31, 30, IA_CHECK_BUS_PART_TYPE), ("time_out", 32, 32),
    ("addr_space", 34, 33, IA_CHECK_BUS_ADDR_SPACE),
])
MS_CHECK = Register("ms_check", [
    ("validation_bits", 15, 0), ("error_type", 18, 16, IA_CHECK_MS_ERROR_TYPE), ("pcc", 19, 19),
    ("uncorrected", 20, 20), ("precise_ip", 21, 21), ("restartable_ip", 22, 22), ("overflow", 23, 23),
])
CHECK_INFO = {ERR_TYPE_CACHE: CACHE_CHECK, ERR_TYPE_TLB: TLB_CHECK, ERR_TYPE_BUS: BUS_CHECK, ERR_TYPE_MS: MS_CHECK}

CPER_IA_ERR_INFO_SIZE = 64
CPER_IA_PROC_CTX_SIZE = 16


@layout
class CperSecProcIaHeader:
    """struct cper_sec_proc_ia: the fixed 64 bytes."""

    validation_bits: Annotated[u64, Flags(PROC_IA_VALID)]
    lapic_id: u64
    cpuid: Bytes[48]


@layout
class CperIaErrInfo:
    """struct cper_ia_err_info: one processor error information structure."""

    err_type: GuidField
    validation_bits: Annotated[u64, Flags(IA_ERR_INFO_VALID)]
    check_info: u64
    target_id: u64
    requestor_id: u64
    responder_id: u64
    ip: u64

    @property
    def kind(self) -> int:
        """cper_get_err_type(): ERR_TYPE_CACHE .. ERR_TYPE_MS, or N_ERR_TYPES."""
        return ERR_TYPES.get(self.err_type, N_ERR_TYPES)

    def check_info_decoded(self) -> RegValue | None:
        """check_info decoded by the structure's type; None for an unknown GUID."""
        reg = CHECK_INFO.get(self.kind)
        return None if reg is None else reg.decode(self.check_info)

    def to_dict(self) -> dict[str, Any]:
        d = LayoutBase.to_dict(self)
        d["err_type_name"] = ERR_TYPE_NAME.get(self.kind, "unknown")
        decoded = self.check_info_decoded()
        if decoded is not None:
            d["check_info_decoded"] = {k: v for k, v in decoded.to_dict().items() if k not in ("register", "value")}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperIaErrInfo:
        if isinstance(d, Mapping):
            d = {k: v for k, v in d.items() if k != "check_info_decoded"}
        # @layout rebuilds the class, so zero-argument super() cannot be used here
        return LayoutBase.from_dict.__func__(cls, d, path=path)


@layout
class CperIaProcCtx:
    """struct cper_ia_proc_ctx plus its register array (``reg_arr``, reg_arr_size bytes)."""

    reg_ctx_type: Annotated[u16, Names(IA_REG_CTX)]
    reg_arr_size: u16
    msr_addr: u32
    mm_reg_addr: u64
    reg_arr: Tail


class CperSecProcIa(NamedTuple):
    """The whole IA32/X64 section: header, error information, context information, tail."""

    header: CperSecProcIaHeader = CperSecProcIaHeader()
    err_info: tuple[CperIaErrInfo, ...] = ()
    ctx_info: tuple[CperIaProcCtx, ...] = ()
    tail: bytes = b""

    GUID = CPER_SEC_PROC_IA
    SIZE = CperSecProcIaHeader.SIZE

    @property
    def validation_bits(self) -> int:
        return self.header.validation_bits

    @property
    def lapic_id(self) -> int:
        return self.header.lapic_id

    @property
    def cpuid(self) -> bytes:
        return self.header.cpuid

    @classmethod
    def decode(cls, buf, off: int = 0, length: int | None = None) -> CperSecProcIa:
        end = len(buf) if length is None else off + length
        if end > len(buf):
            raise FormatError(f"truncated: length says {length} bytes, have {len(buf) - off}",
                              offset=off, need=end - len(buf))
        if end - off < cls.SIZE:
            raise FormatError(f"truncated: CperSecProcIa needs {cls.SIZE} bytes, have {end - off}",
                              offset=off, need=cls.SIZE - (end - off))
        header = CperSecProcIaHeader.decode(buf, off)
        vb = header.validation_bits
        pos = off + cls.SIZE
        n_err, n_ctx = VALID_PROC_ERR_INFO_NUM(vb), VALID_PROC_CXT_INFO_NUM(vb)
        errs = []
        for i in range(n_err):
            if pos + CPER_IA_ERR_INFO_SIZE > end:
                raise FormatError(
                    f"validation_bits[7:2] says {n_err} error info structures; "
                    f"entry {i} runs past the section ({end - off} bytes)",
                    path=f"err_info[{i}]", offset=pos, need=pos + CPER_IA_ERR_INFO_SIZE - end,
                )
            errs.append(CperIaErrInfo.decode(buf, pos))
            pos += CPER_IA_ERR_INFO_SIZE
        ctxs = []
        for i in range(n_ctx):
            if pos + CPER_IA_PROC_CTX_SIZE > end:
                raise FormatError(
                    f"validation_bits[13:8] says {n_ctx} context info structures; "
                    f"entry {i} runs past the section ({end - off} bytes)",
                    path=f"ctx_info[{i}]", offset=pos, need=pos + CPER_IA_PROC_CTX_SIZE - end,
                )
            size = CPER_IA_PROC_CTX_SIZE + int.from_bytes(buf[pos + 2 : pos + 4], "little")
            if pos + size > end:
                raise FormatError(
                    f"context info structure {i} needs {size} bytes, {end - pos} left in the section",
                    path=f"ctx_info[{i}].reg_arr_size", offset=pos + 2, need=pos + size - end,
                )
            ctxs.append(CperIaProcCtx.decode(buf, pos, size))
            pos += size
        return cls(header, tuple(errs), tuple(ctxs), bytes(buf[pos:end]))

    def encode(self) -> bytes:
        parts = [self.header.encode()]
        parts += [e.encode() for e in self.err_info]
        parts += [c.encode() for c in self.ctx_info]
        parts.append(self.tail)
        return b"".join(parts)

    @property
    def nbytes(self) -> int:
        return (self.SIZE + CPER_IA_ERR_INFO_SIZE * len(self.err_info)
                + sum(c.nbytes for c in self.ctx_info) + len(self.tail))

    def to_dict(self) -> dict[str, Any]:
        d = self.header.to_dict()
        d["err_info"] = [e.to_dict() for e in self.err_info]
        d["ctx_info"] = [c.to_dict() for c in self.ctx_info]
        d["tail"] = self.tail.hex()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str = "") -> CperSecProcIa:
        if not isinstance(d, Mapping):
            raise FormatError("expected an object for CperSecProcIa", path=path)
        own = {"err_info", "ctx_info", "tail"}
        header = CperSecProcIaHeader.from_dict({k: v for k, v in d.items() if k not in own}, path=path)
        errs = tuple(CperIaErrInfo.from_dict(e, path=f"{_join(path, 'err_info')}[{i}]")
                     for i, e in enumerate(_list(d, "err_info", path)))
        ctxs = tuple(CperIaProcCtx.from_dict(c, path=f"{_join(path, 'ctx_info')}[{i}]")
                     for i, c in enumerate(_list(d, "ctx_info", path)))
        tail = d.get("tail", "")
        try:
            tail = bytes.fromhex(tail)
        except (TypeError, ValueError):
            raise FormatError("not a hex string", path=_join(path, "tail")) from None
        return cls(header, errs, ctxs, tail)

    def check(self) -> list[str]:
        out = []
        vb = self.validation_bits
        if VALID_PROC_ERR_INFO_NUM(vb) != len(self.err_info):
            out.append(f"validation_bits[7:2] says {VALID_PROC_ERR_INFO_NUM(vb)} error info structures, "
                       f"there are {len(self.err_info)}")
        if VALID_PROC_CXT_INFO_NUM(vb) != len(self.ctx_info):
            out.append(f"validation_bits[13:8] says {VALID_PROC_CXT_INFO_NUM(vb)} context info structures, "
                       f"there are {len(self.ctx_info)}")
        for i, c in enumerate(self.ctx_info):
            if c.reg_arr_size != len(c.reg_arr):
                out.append(f"ctx_info[{i}]: reg_arr_size {c.reg_arr_size} but the array is {len(c.reg_arr)} bytes")
        return out


def _list(d: Mapping[str, Any], key: str, path: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise FormatError("expected a list", path=_join(path, key))
    return v


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
