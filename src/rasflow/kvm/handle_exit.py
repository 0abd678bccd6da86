"""What KVM does with a guest exit (arch/arm64/kvm/handle_exit.c): handle_exit_early (an
SError the vector's ESB deferred into DISR_EL1), then handle_exit by exit code and, for a
trap, by exception class: aborts (mmu.c), HVC, the guest's SError."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..formats.arm import kernel as ak
from ..formats.arm.esr import decode_esr
from ..formats.linux import kvm as uapi
from . import delegated
from .inject_fault import kvm_inject_serror_esr
from .mmu import kvm_handle_guest_abort, kvm_handle_guest_sea
from .sei_2017 import kvm_handle_guest_sei_2017
from .vcpu import ARM_EXCEPTION_EL1_SERROR, ARM_EXCEPTION_IRQ, ARM_EXCEPTION_TRAP

if TYPE_CHECKING:
    from .vcpu import KvmVcpu

ARM_EXIT_WITH_SERROR_BIT = 1 << 31


def handle_exit(vcpu: KvmVcpu, code: int):
    """handle_exit_early then handle_exit: 1 resumes the guest, 0 exits to user space
    (kvm_run.exit_reason set), < 0 is an error."""
    esr = vcpu.fault["esr_el2"]
    if code & ARM_EXIT_WITH_SERROR_BIT:
        kvm_handle_guest_serror(vcpu, ak.disr_to_esr(vcpu.fault["disr_el1"]))
    code &= 3
    if code == ARM_EXCEPTION_EL1_SERROR:
        if "serror_exit_2017" in vcpu.vm.flags and vcpu.kvm.ras:
            return kvm_handle_guest_sei_2017(vcpu, esr)
        if delegated.can_delegate(vcpu):
            delegated.delegate(vcpu, esr, "serror")
            return 1
        kvm_handle_guest_serror(vcpu, esr)
        return 1
    if code == ARM_EXCEPTION_IRQ:  # the host takes its interrupt (a kick, a GHES GSIV)
        pe = vcpu.pe
        if pe.active_interrupts:  # taken from the guest by the hyp vector
            vcpu.kvm.host.arch.handle_irq(pe)
        else:  # still pending (__guest_enter did not enter): local_irq_enable()
            pe.daifclr("I")
            pe.daifset("I")
        return 1
    if code != ARM_EXCEPTION_TRAP:
        return 1
    ec = ak.ESR_ELx_EC(esr)
    if ec in (ak.ESR_ELx_EC_IABT_LOW, ak.ESR_ELx_EC_DABT_LOW):
        if ak.kvm_vcpu_abt_issea(esr):
            return (yield from kvm_handle_guest_sea(vcpu, esr))
        return kvm_handle_guest_abort(vcpu, esr)
    if ec == ak.ESR_ELx_EC_HVC64:
        return handle_hvc(vcpu, decode_esr(esr).fields["imm16"])
    return 1


def kvm_handle_guest_serror(vcpu: KvmVcpu, esr: int) -> None:
    """An SError the guest caused: impdef or not fatal -> ignored or an impdef vSError;
    uncontainable -> host panic (ak.kvm_handle_guest_serror_action gives the rule)."""
    action = ak.kvm_handle_guest_serror_action(esr, has_ras=vcpu.kvm.ras)
    vcpu.trace("kvm_handle_guest_serror", esr=esr, action=action)
    if action == ak.PANIC:
        vcpu.kvm.host.arch.arm64_serror_panic(vcpu.pe, esr)
    elif action == "kvm_inject_serror":
        kvm_inject_serror_esr(vcpu, uapi.ESR_ELX_ISV)


def handle_hvc(vcpu: KvmVcpu, imm: int) -> int:
    """HVC from the guest: the delegated agent's calls, or, after a guest panic (its HVC on
    the way down), KVM_EXIT_SYSTEM_EVENT; anything else returns to the guest."""
    if delegated.handle_hvc(vcpu, imm):
        return 1
    if vcpu.vm.halted:
        vcpu.set_exit(uapi.KVM_EXIT_SYSTEM_EVENT,
                      uapi.KVM_SYSTEM_EVENT_CRASH.to_bytes(4, "little"))
        return 0
    return 1
