"""Exception injection into a guest (arch/arm64/kvm/inject_fault.c): an External abort at
the guest's EL1 (inject_abt64, kvm_inject_sea_dabt) and a virtual SError with a syndrome
(kvm_set_sei_esr / kvm_inject_serror_esr: VSESR_EL2 and HCR_EL2.VSE, written at entry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..formats.arm import kernel as ak
from ..formats.arm.esr import encode_esr
from ..formats.linux import kvm as uapi
from ..hw.arch import SPSR_ELH_MASKED, spsr_decode, vector_offset
from .vcpu import HCR_VSE

if TYPE_CHECKING:
    from .vcpu import KvmVcpu


def kvm_inject_serror_esr(vcpu: KvmVcpu, esr: int) -> None:
    """A virtual SError: VSESR_EL2 = esr[24:0], HCR_EL2.VSE (written at the next entry)."""
    vcpu.vsesr_el2 = esr & uapi.ESR_ELX_ISS_MASK
    vcpu.hcr_el2 |= HCR_VSE
    vcpu.trace("kvm_inject_serror", vsesr_el2=vcpu.vsesr_el2)


def inject_abt64(vcpu: KvmVcpu, addr: int, *, is_iabt: bool = False,
                 esr: int | None = None) -> None:
    """An External abort for the guest's EL1: ESR_EL1/FAR_EL1, then enter_exception64
    (ELR_EL1, SPSR_EL1, PSTATE = EL1h masked, PC = VBAR_EL1 + offset)."""
    from_el, sp = (spsr_decode(vcpu.pstate) or (1, 1))[:2]
    built = esr is None  # KVM's own syndrome (not the caller's)
    if esr is None:  # EC IABT_LOW/CUR, or-ed with DABT_LOW for a data abort, as KVM does
        ec = ak.ESR_ELx_EC_IABT_LOW if from_el == 0 else ak.ESR_ELx_EC_IABT_CUR
        if not is_iabt:
            ec |= ak.ESR_ELx_EC_DABT_LOW
        esr = encode_esr(EC=ec, IL=1, ISS=ak.ESR_ELx_FSC_EXTABT)
    vcpu.sysregs.update(ESR_EL1=esr, FAR_EL1=addr, ELR_EL1=vcpu.pc, SPSR_EL1=vcpu.pstate)
    vcpu.pc = vcpu.sysregs["VBAR_EL1"] + vector_offset(1, from_el, sp, "sync")
    vcpu.pstate = SPSR_ELH_MASKED[1]
    vcpu.trace("kvm_inject_abt", esr_el1=esr, far_el1=addr, vector=vcpu.pc, built=built)


def kvm_inject_sea_dabt(vcpu: KvmVcpu) -> None:
    """KVM_SET_VCPU_EVENTS.ext_dabt_pending: a data abort at the address of the last fault
    (kvm_inject_sea_dabt(vcpu, kvm_vcpu_get_hfar(vcpu)))."""
    inject_abt64(vcpu, vcpu.fault.get("far_el2", 0))


def guest_abort_esr(esr_el2: int, pstate: int) -> int:
    """The ESR_EL1 of a data abort the guest takes at EL1 for ``esr_el2``: the EC of an abort
    from the guest's EL (DABT_LOW from EL0, DABT_CUR from EL1), the rest as ESR_EL2 has it."""
    from_el = (spsr_decode(pstate) or (1,))[0]
    ec = ak.ESR_ELx_EC_DABT_LOW if from_el == 0 else ak.ESR_ELx_EC_DABT_CUR
    return ec << ak.ESR_ELx_EC_SHIFT | esr_el2 & ~ak.ESR_ELx_EC_MASK
