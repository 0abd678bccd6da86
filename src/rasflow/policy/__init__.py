"""The design alternatives for getting a guest's hardware error to the guest, as the VMM's
configuration (never a fork of the KVM or VMM code). A policy belongs to a VM: the VMM opts
its VM into a design through KVM_ENABLE_CAP, and KVM acts on that VM's flags alone, as the
kernel keeps ``kvm->arch.flags``; the VMM's own part is how it answers a SIGBUS; the
delegated design also needs a guest OS with its error recovery agent (``guest_agent``).

| policy             | the VM capability the VMM enables          | KVM then, per VM                      | VMM on SIGBUS AR       |
|--------------------|--------------------------------------------|---------------------------------------|------------------------|
| ``upstream``       | none                                       | kvm_handle_guest_sea: apei_claim_sea, | guest CPER + SEA       |
|                    |                                            | else a virtual SError;                | (kvm_inject_arm_sea)   |
|                    |                                            | kvm_handle_guest_serror               |                        |
| ``kvm-serror-exit``| KVM_CAP_ARM_SERROR_EXIT_2017 (rasflow's)   | SErrors: classify, then exit with a   | guest CPER + SEA       |
|                    |                                            | chosen syndrome and an address, end   |                        |
|                    |                                            | the guest or panic; SEAs as upstream  |                        |
| ``sea-to-user``    | KVM_CAP_ARM_SEA_TO_USER                    | an SEA apei_claim_sea cannot claim:   | guest CPER + SEA       |
|                    |                                            | KVM_EXIT_ARM_SEA (esr, gva, gpa)      |                        |
| ``delegated``      | KVM_CAP_ARM_DELEGATED_EA (rasflow's)       | stash SPSR/ELR/ESR_EL2, enter the     | mark the page poisoned |
|                    |                                            | guest's recovery agent; HVC asks for  | only                   |
|                    |                                            | a vSError: restore and set VSE        |                        |
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formats.linux.kvm import (
    KVM_CAP_ARM_DELEGATED_EA,
    KVM_CAP_ARM_SEA_TO_USER,
    KVM_CAP_ARM_SERROR_EXIT_2017,
)


@dataclass(frozen=True)
class Policy:
    name: str
    summary: str
    vm_cap: int | None  # the VM capability the VMM enables (KVM_ENABLE_CAP), if any
    vmm_sigbus_ar: str  # "record-inject" (QEMU's kvm_arch_on_sigbus_vcpu) | "poison-only"
    guest_agent: bool = False  # the guest OS has the PRD's delegated error recovery agent


POLICIES: dict[str, Policy] = {p.name: p for p in (
    Policy("upstream", "Linux >= 4.19 + QEMU: host APEI, SIGBUS to the VMM, guest CPER + SEA",
           None, "record-inject"),
    Policy("kvm-serror-exit", "2017 proposal: KVM classifies a guest SError, then exits with a syndrome for the VMM's vSError, or ends the guest",
           KVM_CAP_ARM_SERROR_EXIT_2017, "record-inject"),
    Policy("sea-to-user", "KVM_EXIT_ARM_SEA for SEAs host APEI cannot claim; VMM injects ext_dabt",
           KVM_CAP_ARM_SEA_TO_USER, "record-inject"),
    Policy("delegated", "hypervisor-delegated: the guest's recovery agent gets the syndrome, asks for a vSError by HVC",
           KVM_CAP_ARM_DELEGATED_EA, "poison-only", guest_agent=True),
)}


def get_policy(name: str | Policy | None) -> Policy:
    """A policy by name (``None``: upstream); a clear error naming the choices."""
    if isinstance(name, Policy):
        return name
    try:
        return POLICIES[name or "upstream"]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; one of {', '.join(POLICIES)}") from None


__all__ = ["POLICIES", "Policy", "get_policy"]
