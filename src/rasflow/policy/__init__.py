"""The design alternatives for getting a guest's hardware error to the guest, as data the
KVM and VMM models read (never a fork of their code).

| policy            | KVM on a guest SEA / SError                         | VMM                                  |
|-------------------|-----------------------------------------------------|--------------------------------------|
| ``upstream``      | apei_claim_sea, else a virtual SError;              | SIGBUS AR: guest CPER + SEA          |
|                   | kvm_handle_guest_serror                             | (kvm_inject_arm_sea, registers)      |
| ``kvm-serror-exit``| exit to user with the raw ESR_EL2 and an address   | vSError with that syndrome and a     |
|                   | from FAR_EL2/HPFAR_EL2 (the 2017 proposal)          | guest CPER at that address           |
| ``sea-to-user``   | apei_claim_sea, else KVM_EXIT_ARM_SEA (esr masked,  | guest CPER at gpa + ext_dabt_pending |
|                   | gva, gpa)                                           |                                      |
| ``delegated``     | stash SPSR/ELR/ESR_EL2, enter the guest's recovery  | SIGBUS: mark the page poisoned only  |
|                   | agent with the syndrome in the EL1 registers; HVC   |                                      |
|                   | asks for a vSError: restore and set VSE             |                                      |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    name: str
    summary: str
    kvm_guest_sea: str  # "apei-vserror" | "apei-exit-sea" | "exit-syndrome" | "delegate"
    kvm_guest_serror: str  # "handle" (kvm_handle_guest_serror) | "exit-syndrome" | "delegate"
    vmm_sigbus_ar: str  # "record-inject" (QEMU) | "poison-only"
    sea_to_user: bool = False  # the VMM enables KVM_CAP_ARM_SEA_TO_USER
    serves_non_vm: bool = True  # the mechanism also contains errors of non-VM processes
    exposes_raw_syndrome: bool = False  # host ESR_EL2 reaches user space by design


POLICIES: dict[str, Policy] = {p.name: p for p in (
    Policy("upstream", "Linux >= 4.19 + QEMU: host APEI, SIGBUS to the VMM, guest CPER + SEA",
           "apei-vserror", "handle", "record-inject"),
    Policy("kvm-serror-exit", "2017 proposal: KVM exits with ESR_EL2 and FAR/HPFAR; VMM sets the vSError syndrome",
           "exit-syndrome", "exit-syndrome", "poison-only", serves_non_vm=False,
           exposes_raw_syndrome=True),
    Policy("sea-to-user", "KVM_EXIT_ARM_SEA for SEAs host APEI cannot claim; VMM injects ext_dabt",
           "apei-exit-sea", "handle", "record-inject", sea_to_user=True),
    Policy("delegated", "hypervisor-delegated: the guest's recovery agent gets the syndrome, asks for a vSError by HVC",
           "delegate", "delegate", "poison-only", serves_non_vm=False),
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
