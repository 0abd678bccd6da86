"""Triage of RAS error records into CPER sections: what a platform's RAS handler decides.

Pure functions over register *values* (the firmware reads them through the error node
interface, as TF-A reads ERXSTATUS after ERRSELR) and decoded through ``formats.arm``:

- :func:`classify` — the record's class and CPER severity: UE with UET=UC
  (uncontainable) → panic; UEU → fatal; UEO/UER, or a poisoned UE (PN) → recoverable;
  a deferred error (DE) → recoverable, latent; CE → corrected.
- :func:`mem_err_section` — a DRAM record → ``CperSecMemErr`` (PA, node, bank, row,
  column, error type, error status).
- :func:`arm_err_info` / :func:`proc_arm_section` — PE cache/TLB/bus records →
  ``CperSecProcArm`` with one error-information entry each and an AArch64 EL1 context
  (type 5) filled from the PE's EL1 registers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from ..formats import arm
from ..formats.cper import arm as carm
from ..formats.cper import memory as cmem
from ..formats.cper import names as cn
from ..formats.cper.fields import (
    CPER_ARM_CTX_AARCH64_EL1,
    CPER_ERROR_STATUS,
    ERR_BUS,
    ERR_CACHE,
    ERR_MEM,
    ERR_TLB,
    arm_ctx_info,
)

# ea_handle.h: why the RAS handler runs
ERROR_EA_ASYNC = 0
ERROR_EA_SYNC = 1
ERROR_EA_ESB = 2
ERROR_INTERRUPT = 3
EA_REASONS = {0: "ERROR_EA_ASYNC", 1: "ERROR_EA_SYNC", 2: "ERROR_EA_ESB", 3: "ERROR_INTERRUPT"}

# ERR<n>STATUS.UET
UET_UC, UET_UEU, UET_UEO, UET_UER = 0, 1, 2, 3

# CPER memory error types (cper.c mem_err_type_strs)
MEM_ERR_SINGLE_BIT_ECC = 2
MEM_ERR_MULTI_BIT_ECC = 3
MEM_ERR_SCRUB_UNCORRECTED = 14

# ErrorNode kind -> (ARM error-information type bit, UEFI Error Status type)
ARM_TYPE_BY_KIND = {"cache": carm.CPER_ARM_CACHE_ERROR, "tlb": carm.CPER_ARM_TLB_ERROR,
                    "bus": carm.CPER_ARM_BUS_ERROR}
STATUS_TYPE_BY_KIND = {"memory": ERR_MEM, "cache": ERR_CACHE, "tlb": ERR_TLB, "bus": ERR_BUS}
_ERROR_INFO_BY_KIND = {"cache": carm.ARM_CACHE_ERR_INFO, "tlb": carm.ARM_TLB_ERR_INFO,
                       "bus": carm.ARM_BUS_ERR_INFO}
_UINT64 = (1 << 64) - 1


class ErrRecordState(NamedTuple):
    """One error record's registers as the firmware read them (``node`` is the node's
    name, ``node_index`` its position among nodes of its kind: the memory controller number)."""

    node: str
    kind: str
    index: int
    node_index: int
    fr: int
    ctlr: int
    status: int
    addr: int
    misc0: int

    @property
    def fields(self) -> Mapping[str, int]:
        """ERR<n>STATUS decoded (formats.arm.ERR_STATUS)."""
        return status_fields(self.status)

    @property
    def address(self) -> Mapping[str, int]:
        """ERR<n>ADDR decoded (formats.arm.ERR_ADDR)."""
        return addr_fields(self.addr)

    @property
    def paddr(self) -> int:
        """ERR<n>ADDR.PADDR (``address["PADDR"]`` without decoding the other fields)."""
        return (self.addr >> _PADDR_LSB) & _PADDR_MAX




_ADDR_LAYOUT = tuple((f.name, f.lsb, f.max) for f in arm.ERR_ADDR.fields if not f.kind)
_PADDR_LSB, _PADDR_MAX = arm.ERR_ADDR.by_name["PADDR"].lsb, arm.ERR_ADDR.by_name["PADDR"].max


@lru_cache(maxsize=64)
def addr_fields(addr: int) -> Mapping[str, int]:
    """ERR<n>ADDR's fields (NS, SI, AI, VA, NSE, PADDR) by the declaration's positions,
    memoised for the few records handled together (addresses rarely repeat: no RegValue)."""
    return {name: (addr >> lsb) & mx for name, lsb, mx in _ADDR_LAYOUT}


@lru_cache(maxsize=4096)
def status_fields(status: int) -> Mapping[str, int]:
    """ERR<n>STATUS decoded through formats.arm.ERR_STATUS (memoised: few distinct values)."""
    return arm.ERR_STATUS.decode(status).fields


class Triage(NamedTuple):
    """What the record means: ``cls`` is uncontainable/fatal/recoverable/latent/corrected."""

    cls: str
    severity: int  # CPER_SEV_*
    flags: int  # section descriptor / generic data flags (CPER_SEC_*)


def classify(status: Mapping[str, int]) -> Triage:
    """Class and CPER severity of a record from its decoded ERR<n>STATUS."""
    # OF on a corrected-only record is the counter's overflow (the threshold), not lost syndromes
    flags = cn.CPER_SEC_OVERFLOW if status["OF"] and (status["UE"] or status["DE"]) else 0
    if status["UE"]:
        uet = status["UET"]
        if uet == UET_UC and not status["PN"]:
            return Triage("uncontainable", cn.CPER_SEV_FATAL, flags)
        if uet == UET_UEU:
            return Triage("fatal", cn.CPER_SEV_FATAL, flags)
        return Triage("recoverable", cn.CPER_SEV_RECOVERABLE, flags)
    if status["DE"]:
        return Triage("latent", cn.CPER_SEV_RECOVERABLE, flags | cn.CPER_SEC_LATENT_ERROR)
    if status["CE"]:
        return Triage("corrected", cn.CPER_SEV_CORRECTED, flags)
    return Triage("none", cn.CPER_SEV_INFORMATIONAL, flags)


@lru_cache(maxsize=4096)
def classify_status(status: int) -> Triage:
    """:func:`classify` of a raw ERR<n>STATUS value (memoised: few distinct values)."""
    return classify(status_fields(status))


_SEVERITY_ORDER = {cn.CPER_SEV_FATAL: 3, cn.CPER_SEV_RECOVERABLE: 2, cn.CPER_SEV_CORRECTED: 1,
                   cn.CPER_SEV_INFORMATIONAL: 0}


def worst(triages: Sequence[Triage]) -> int:
    """The block's severity: fatal over recoverable over corrected (ghes_severity order)."""
    return max((t.severity for t in triages), key=_SEVERITY_ORDER.__getitem__, default=cn.CPER_SEV_INFORMATIONAL)


def error_status(kind: str, status: Mapping[str, int]) -> int:
    """The UEFI Error Status field for a record of this node kind."""
    lost = int(bool(status["OF"] and (status["UE"] or status["DE"])))
    v = _ERROR_STATUS.get((kind, lost))
    if v is None:
        v = _ERROR_STATUS[kind, lost] = CPER_ERROR_STATUS.encode(
            ErrorType=STATUS_TYPE_BY_KIND.get(kind, ERR_MEM), Data=1, Overflow=lost)
    return v


_ERROR_STATUS: dict[tuple[str, int], int] = {}


def mem_err_type(status: Mapping[str, int]) -> int:
    """CPER memory error type: multi-bit ECC for an uncorrected error, the scrub form for a
    deferred one (found and poisoned by the patrol scrubber), single-bit ECC when corrected."""
    if status["UE"]:
        return MEM_ERR_MULTI_BIT_ECC
    if status["DE"]:
        return MEM_ERR_SCRUB_UNCORRECTED
    return MEM_ERR_SINGLE_BIT_ECC


def mem_err_section(rec: ErrRecordState, location) -> cmem.CperSecMemErr:
    """A DRAM record -> the CPER memory error section. ``location`` is the platform's
    decode of the PA (hw.memory.DramAddress: node, card, module, rank, bank, row, column)."""
    status = rec.status
    av, err_status, err_type = _mem_status(status)
    if av:
        loc = location
        row = loc.row
        valid = _MEM_VALID_LOCATED | (cmem.CPER_MEM_VALID_ROW_EXT if row >> 16 else 0)
        pa, mask = rec.paddr, _GRANULE_PA_MASK  # one 64-byte granule
        node, card, module, bank, column, rank = loc.node, loc.card, loc.module, loc.bank, loc.column, loc.rank
    else:
        valid, pa, mask, row = _MEM_VALID, 0, 0, 0
        node = card = module = bank = column = rank = 0
    return cmem.CperSecMemErr(
        validation_bits=valid, error_status=err_status, physical_addr=pa,
        physical_addr_mask=mask, node=node, card=card, module=module, bank=bank, device=0,
        row=row & 0xFFFF, column=column, bit_pos=0, requestor_id=0, responder_id=0,
        target_id=0, error_type=err_type, extended=(row >> 16) & cmem.CPER_MEM_EXT_ROW_MASK,
        rank=rank, mem_array_handle=0, mem_dev_handle=0, tail=b"")


@lru_cache(maxsize=4096)
def _mem_status(status: int) -> tuple[int, int, int]:
    """What a memory section takes from ERR<n>STATUS: (AV, UEFI Error Status, memory error
    type), memoised by value."""
    st = status_fields(status)
    return st["AV"], error_status("memory", st), mem_err_type(st)


_MEM_VALID = cmem.CPER_MEM_VALID_ERROR_STATUS | cmem.CPER_MEM_VALID_ERROR_TYPE
_MEM_VALID_LOCATED = _MEM_VALID | (
    cmem.CPER_MEM_VALID_PA | cmem.CPER_MEM_VALID_PA_MASK | cmem.CPER_MEM_VALID_NODE
    | cmem.CPER_MEM_VALID_CARD | cmem.CPER_MEM_VALID_MODULE | cmem.CPER_MEM_VALID_BANK
    | cmem.CPER_MEM_VALID_ROW | cmem.CPER_MEM_VALID_COLUMN | cmem.CPER_MEM_VALID_RANK_NUMBER)
_GRANULE_PA_MASK = _UINT64 & ~0x3F


def arm_err_info(rec: ErrRecordState, *, first: bool, last: bool, va: int | None = None) -> carm.CperArmErrInfo:
    """A PE cache/TLB/bus record -> one error-information entry (UEFI 2.9A type bits)."""
    st = rec.fields
    t = classify(st)
    info = _ERROR_INFO_BY_KIND.get(rec.kind, carm.ARM_CACHE_ERR_INFO).encode(
        corrected_valid=1, corrected=1 if t.cls == "corrected" else 0,
        proc_context_corrupt_valid=1, proc_context_corrupt=1 if t.cls in ("uncontainable", "fatal") else 0,
    )
    valid = carm.CPER_ARM_INFO_VALID_FLAGS | carm.CPER_ARM_INFO_VALID_ERR_INFO
    flags = (carm.CPER_ARM_INFO_FLAGS_FIRST if first else 0) | (carm.CPER_ARM_INFO_FLAGS_LAST if last else 0)
    if st["OF"] and (st["UE"] or st["DE"]):
        flags |= carm.CPER_ARM_INFO_FLAGS_OVERFLOW
    pa = 0
    addr = rec.address
    if st["AV"] and not addr["VA"]:
        pa = addr["PADDR"]
        valid |= carm.CPER_ARM_INFO_VALID_PHYSICAL_ADDR
    if va is not None:
        valid |= carm.CPER_ARM_INFO_VALID_VIRT_ADDR
    return carm.CperArmErrInfo(
        version=0, length=carm.CPER_ARM_INFO_ENTRY_SIZE, validation_bits=valid,
        type=ARM_TYPE_BY_KIND.get(rec.kind, carm.CPER_ARM_CACHE_ERROR), multiple_error=0, flags=flags,
        error_info=info, virt_fault_addr=va or 0, physical_fault_addr=pa,
    )


def syndrome_err_info(esr: int, far: int | None) -> carm.CperArmErrInfo:
    """No record claimed the abort: describe it from the syndrome alone, as a bus error
    (an external abort signalled by the interconnect) with the faulting VA when known."""
    valid = carm.CPER_ARM_INFO_VALID_FLAGS | carm.CPER_ARM_INFO_VALID_ERR_INFO
    if far is not None:
        valid |= carm.CPER_ARM_INFO_VALID_VIRT_ADDR
    uc = _syndrome_uncontained(esr)
    info = carm.ARM_BUS_ERR_INFO.encode(proc_context_corrupt_valid=1, proc_context_corrupt=int(uc),
                                        corrected_valid=1, corrected=0)
    return carm.CperArmErrInfo(
        version=0, length=carm.CPER_ARM_INFO_ENTRY_SIZE, validation_bits=valid,
        type=carm.CPER_ARM_BUS_ERROR, multiple_error=0,
        flags=carm.CPER_ARM_INFO_FLAGS_FIRST | carm.CPER_ARM_INFO_FLAGS_LAST,
        error_info=info, virt_fault_addr=far or 0, physical_fault_addr=0,
    )


def syndrome_severity(esr: int) -> int:
    """CPER severity from an ESR alone: SError AET / abort SET (UC, UEU fatal; else recoverable)."""
    return cn.CPER_SEV_FATAL if _syndrome_uncontained(esr) else cn.CPER_SEV_RECOVERABLE


def _syndrome_uncontained(esr: int) -> bool:
    f = arm.decode_esr(esr).fields
    if "AET" in f:
        return f["AET"] in (0, 1)  # UC, UEU
    if "SET" in f:
        return f["SET"] == 2  # UC
    return False


EL1_CONTEXT = {  # AArch64 EL1 context (type 5) register name -> PE register name
    "elr_el1": "ELR_EL1", "esr_el1": "ESR_EL1", "far_el1": "FAR_EL1", "isr_el1": "ISR_EL1",
    "mair_el1": "MAIR_EL1", "midr_el1": "MIDR_EL1", "mpidr_el1": "MPIDR_EL1",
    "sctlr_el1": "SCTLR_EL1", "sp_el0": "SP_EL0", "sp_el1": "SP_EL1", "spsr_el1": "SPSR_EL1",
    "tcr_el1": "TCR_EL1", "tpidr_el0": "TPIDR_EL0", "tpidr_el1": "TPIDR_EL1",
    "tpidrro_el0": "TPIDRRO_EL0", "ttbr0_el1": "TTBR0_EL1", "ttbr1_el1": "TTBR1_EL1",
}


def proc_arm_section(err_info: Sequence[carm.CperArmErrInfo], el1_regs: Mapping[str, int], *,
                     midr: int, mpidr: int) -> carm.CperSecProcArm:
    """The ARM processor error section: entries, then the AArch64 EL1 context (type 5)."""
    ctx = arm_ctx_info(CPER_ARM_CTX_AARCH64_EL1, el1_regs)
    return carm.CperSecProcArm(
        validation_bits=carm.CPER_ARM_VALID_MPIDR | carm.CPER_ARM_VALID_RUNNING_STATE,
        mpidr=mpidr, midr=midr, running_state=1,
        err_info=tuple(err_info), context_info=(ctx,),
    ).with_lengths()
