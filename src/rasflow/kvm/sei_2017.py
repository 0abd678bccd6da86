"""The 2017 proposal for guest SErrors, KVM's side (never merged): as its author set it out
in review (gengdongjiu, linux-arm-kernel, 2017-10-15, "Re: [PATCH v3 15/20] KVM: arm64: Set
an impdef ESR for Virtual-SError using VSESR_EL2"), with the RAS extension KVM classifies
ESR_EL2 first, then exits to user space with the syndrome the guest should get, or
terminates the guest, or panics the host."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..formats.arm import kernel as ak
from ..formats.linux import kvm as uapi
from ..hw.arch import spsr_decode
from .mmu import kvm_vcpu_get_fault_ipa

if TYPE_CHECKING:
    from .vcpu import KvmVcpu


def sei_2017_class(esr: int, guest_pstate: int) -> str:
    """The classification of a guest SError (RAS extension present): an IMPLEMENTATION
    DEFINED or uncategorized syndrome -> "impdef" (exit: the VMM picks an impdef vSError,
    ESR_ELx_ISV); UC (propagated) -> "panic" the host; a categorized, unpropagated UEU/UER
    from the guest's EL0 -> "user" (exit: a recoverable syndrome, UER), from the guest
    kernel -> "terminate" the guest; CE and UEO, which the proposal does not name ->
    "ignore" (the CPU can make progress, as arm64_is_fatal_ras_serror says)."""
    if esr & ak.ESR_ELx_IDS or esr & ak.ESR_ELx_FSC != ak.ESR_ELx_FSC_SERROR:
        return "impdef"
    aet = esr & ak.ESR_ELx_AET
    if aet == ak.ESR_ELx_AET_UC:
        return "panic"
    if aet in (ak.ESR_ELx_AET_CE, ak.ESR_ELx_AET_UEO):
        return "ignore"
    return "user" if (spsr_decode(guest_pstate) or (1,))[0] == 0 else "terminate"


def kvm_handle_guest_sei_2017(vcpu: KvmVcpu, esr: int) -> int:
    """The handle_exit result for a guest SError of a VM opted into the proposal."""
    how = sei_2017_class(esr, vcpu.pstate)
    vcpu.trace("kvm_handle_guest_sei", esr=esr, action=how)
    if how == "panic":
        vcpu.kvm.host.arch.arm64_serror_panic(vcpu.pe, esr)
        return -1
    if how == "terminate":
        return -1  # "return -1 to terminate guest": KVM_RUN fails with -EPERM
    if how == "ignore":
        return 1
    return exit_syndrome(vcpu, uapi.ESR_ELX_ISV if how == "impdef"
                         else ak.ESR_ELx_AET_UER | ak.ESR_ELx_FSC_SERROR)


def exit_syndrome(vcpu: KvmVcpu, syndrome: int) -> int:
    """The exit: KVM_EXIT_EXCEPTION with the syndrome KVM chose for the guest and an address
    built from HPFAR_EL2 and FAR_EL2's page offset (stale for an SError: neither is written
    by one)."""
    address = kvm_vcpu_get_fault_ipa(vcpu) | (vcpu.fault["far_el2"] & 0xFFF)
    payload = uapi.KvmExitSError2017(syndrome_info=syndrome, address=address).encode()
    vcpu.set_exit(uapi.KVM_EXIT_EXCEPTION, payload)
    return 0
