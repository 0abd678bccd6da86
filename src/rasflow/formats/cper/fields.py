"""What firmware-first firmware needs to turn Arm state into CPER fields, declared once.

- :data:`CPER_ERROR_STATUS`: the UEFI Error Status field (UEFI N.2.11, "Error Status"),
  carried by the memory-error section's ``error_status`` (and the PCIe/bus sections).
  The kernel prints bits 15:8 (cper_mem_err_status_str()); libcper decodes every bit.
- :func:`arm_ctx_info`: one ARM processor context-information entry (UEFI N.2.4.4.2)
  from register values by name (the names of ``ARM_CTX_REGS``), packed by the context
  type's declared register array.

Declared with the Arm register mechanism (``formats.arm.register``), which every bit-field
declaration in formats/ uses.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from ..arm.register import Register, Table
from ..errors import FormatError
from . import arm_names as an
from .arm import CperArmCtxInfo

# UEFI N.2.11 Error Status, bits 15:8 (cper.c cper_mem_err_status_str, libcper cper-utils)
ERROR_STATUS_TYPES = Table({
    1: "ERR_INTERNAL", 4: "ERR_MEM", 5: "ERR_TLB", 6: "ERR_CACHE", 7: "ERR_FUNCTION",
    8: "ERR_SELFTEST", 9: "ERR_FLOW", 16: "ERR_BUS", 17: "ERR_MAP", 18: "ERR_IMPROPER",
    19: "ERR_UNIMPL", 20: "ERR_LOL", 21: "ERR_RESPONSE", 22: "ERR_PARITY", 23: "ERR_PROTOCOL",
    24: "ERR_ERROR", 25: "ERR_TIMEOUT", 26: "ERR_POISONED",
})
ERR_INTERNAL = 1
ERR_MEM = 4
ERR_TLB = 5
ERR_CACHE = 6
ERR_BUS = 16
ERR_POISONED = 26

CPER_ERROR_STATUS = Register("CPER Error Status", [
    ("Overflow", 22, 22), ("FirstError", 21, 21), ("Requester", 20, 20), ("Responder", 19, 19),
    ("Data", 18, 18), ("Control", 17, 17), ("Address", 16, 16),
    ("ErrorType", 15, 8, ERROR_STATUS_TYPES),
], label="UEFI Error Status (N.2.11)")
"""UEFI Error Status: ErrorType 15:8, then the Address/Control/Data signal bits, who
detected it (Responder/Requester), FirstError and Overflow (errors were dropped)."""

_CTX_STRUCTS = {t: struct.Struct(f"<{len(names)}{code}") for t, (code, names) in an.ARM_CTX_REGS.items()}

CPER_ARM_CTX_AARCH64_EL1 = 5
CPER_ARM_CTX_AARCH64_GPR = 4


def arm_ctx_info(ctx_type: int, regs: Mapping[str, int], *, version: int = 0) -> CperArmCtxInfo:
    """A context-information entry of ``ctx_type`` (0-7) holding ``regs`` by name.

    Registers not given are zero (what firmware writes for state it does not keep);
    a name the context type does not have is a FormatError.
    """
    entry = an.ARM_CTX_REGS.get(ctx_type)
    if entry is None:
        raise FormatError(f"no register array declared for context type {ctx_type}", path="type")
    names = entry[1]
    unknown = set(regs) - set(names)
    if unknown:
        raise FormatError(f"context type {ctx_type} has no register {sorted(unknown)[0]!r}",
                          path=f"regs.{sorted(unknown)[0]}")
    st = _CTX_STRUCTS[ctx_type]
    try:
        raw = st.pack(*(regs.get(n, 0) for n in names))
    except struct.error as e:
        raise FormatError(f"a register does not fit: {e}", path="regs") from None
    return CperArmCtxInfo(version=version, type=ctx_type, size=len(raw), regs=raw)


__all__ = [
    "CPER_ARM_CTX_AARCH64_EL1",
    "CPER_ARM_CTX_AARCH64_GPR",
    "CPER_ERROR_STATUS",
    "ERROR_STATUS_TYPES",
    "ERR_BUS",
    "ERR_CACHE",
    "ERR_INTERNAL",
    "ERR_MEM",
    "ERR_POISONED",
    "ERR_TLB",
    "arm_ctx_info",
]
