"""The Arm RAS PRD's delegated exception handling, KVM's side (a proposal, not in Linux:
the steps are the PRD's; the ABI, formats.linux.kvm DELEGATED_EA_*, is rasflow's). The
guest side is kernel.arch.ras_agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..formats.linux import kvm as uapi
from ..hw.arch import SPSR_ELH_MASKED
from .inject_fault import guest_abort_esr, inject_abt64, kvm_inject_serror_esr

if TYPE_CHECKING:
    from .vcpu import KvmVcpu

CALLS = {uapi.DELEGATED_EA_HVC_VSERROR: "vserror", uapi.DELEGATED_EA_HVC_RESUME: "resume",
         uapi.DELEGATED_EA_HVC_SEA: "sea"}


def can_delegate(vcpu: KvmVcpu) -> bool:
    """The VM opted in (KVM_CAP_ARM_DELEGATED_EA) and its guest registered an agent."""
    return "delegated_ea" in vcpu.vm.flags and vcpu.agent_entry is not None


def delegate(vcpu: KvmVcpu, esr: int, kind: str) -> None:
    """Enter the guest's delegated error recovery agent with the error: stash
    ELR/SPSR/ESR_EL2 and the live ELR/SPSR/ESR/FAR_EL1, put the error in the EL1 registers
    as an exception entry to EL1 would (ESR_EL1 the syndrome, with an abort's EC as the
    guest sees it; FAR_EL1 for an abort; ELR_EL1/SPSR_EL1 where the guest was) and ERET into
    the agent, EL1h with DAIF masked."""
    s = vcpu.sysregs
    far = vcpu.fault["far_el2"]
    vcpu.stash = (vcpu.pc, vcpu.pstate, esr, far,
                  (s["ELR_EL1"], s["SPSR_EL1"], s["ESR_EL1"], s["FAR_EL1"]))
    if kind == "sync":
        s.update(ESR_EL1=guest_abort_esr(esr, vcpu.pstate), FAR_EL1=far)
    else:
        s["ESR_EL1"] = esr
    s.update(ELR_EL1=vcpu.pc, SPSR_EL1=vcpu.pstate)
    vcpu.pc, vcpu.pstate = vcpu.agent_entry, SPSR_ELH_MASKED[1]
    vcpu.trace("kvm_delegate", esr_el2=esr, elr_el2=vcpu.stash[0], spsr_el2=vcpu.stash[1],
               esr_el1=s["ESR_EL1"], far_el1=s["FAR_EL1"], agent=vcpu.agent_entry)


def handle_hvc(vcpu: KvmVcpu, imm: int) -> bool:
    """The agent's hypercalls; False if ``imm`` is not one of them (or nothing is
    delegated). Register: needs the VM's flag. Then, with an error delegated: restore the
    stashed context, and set HCR_EL2.VSE with VSESR_EL2 = the stashed syndrome's ISS (a
    virtual SError), or inject the synchronous External abort, or nothing more."""
    if imm == uapi.DELEGATED_EA_HVC_REGISTER:
        ok = "delegated_ea" in vcpu.vm.flags
        if ok:
            vcpu.agent_entry = vcpu.sysregs["VBAR_EL1"] + uapi.DELEGATED_EA_AGENT_OFFSET
        vcpu.trace("kvm_delegated_ea_register", entry=vcpu.agent_entry, ret=0 if ok else -1)
        return True
    call = CALLS.get(imm)
    if call is None or vcpu.stash is None:
        return False
    elr, spsr, esr, far, el1 = vcpu.stash
    vcpu.stash = None
    vcpu.pc, vcpu.pstate = elr, spsr
    vcpu.sysregs.update(zip(("ELR_EL1", "SPSR_EL1", "ESR_EL1", "FAR_EL1"), el1, strict=True))
    vcpu.trace("kvm_delegated_ea_return", call=call, elr_el2=elr, spsr_el2=spsr)
    if call == "vserror":
        kvm_inject_serror_esr(vcpu, esr & uapi.ESR_ELX_ISS_MASK)
    elif call == "sea":
        inject_abt64(vcpu, far, esr=guest_abort_esr(esr, spsr))
    return True
