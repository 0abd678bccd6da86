"""target/arm/kvm.c of the VMM: what QEMU does for an Arm vCPU with KVM. The SIGBUS a
memory error sends (kvm_arch_on_sigbus_vcpu: record a CPER through hw/acpi/ghes.c, inject
an SEA built in user space and written with KVM_SET_ONE_REG), the architecture's exits
(kvm_arch_handle_exit: KVM_EXIT_ARM_SEA, the 2017 proposal's KVM_EXIT_EXCEPTION), and
KVM_SET_VCPU_EVENTS (kvm_put_vcpu_events). Functions of the VMM and one of its vCPUs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..formats.arm.esr import encode_esr
from ..formats.arm.kernel import ESR_ELx_EC_DABT_CUR, ESR_ELx_EC_DABT_LOW, ESR_ELx_FSC_EXTABT
from ..formats.linux import kvm as uapi
from ..formats.linux.kvm import KVM_GET_ONE_REG, KVM_SET_ONE_REG, ONE_REG_IDS
from ..formats.linux.siginfo import BUS_MCEERR_AO, BUS_MCEERR_AR
from ..hw.arch import SPSR_ELH_MASKED, spsr_decode, vector_offset
from .acpi_ghes import ACPI_HEST_SRC_ID_SYNC

if TYPE_CHECKING:
    from . import CPUState, Vmm

SEA_FNV_ESR = {same_el: encode_esr(EC=ESR_ELx_EC_DABT_CUR if same_el else ESR_ELx_EC_DABT_LOW,
                                   IL=1, FnV=1, DFSC=ESR_ELx_FSC_EXTABT) for same_el in (False, True)}
"""syn_data_abort_no_iss(same_el, fnv=1, ea=0, cm=0, s1ptw=0, wnr=0, fsc=0x10), by same_el."""


@functools.lru_cache(maxsize=64)
def _sea_entry(pstate: int) -> tuple[int, int]:
    """The ESR of the SEA and the offset of its vector from VBAR_EL1, for a vCPU in
    ``pstate``: a pure function of it (arm_cpu_do_interrupt's choice of vector)."""
    from_el, sp = (spsr_decode(pstate) or (1, 1))[:2]
    return SEA_FNV_ESR[from_el == 1], vector_offset(1, from_el, sp, "sync")


def kvm_arch_on_sigbus_vcpu(vmm: Vmm, cpu: CPUState, code: int, addr: int) -> None:
    """AR on guest RAM -> a memory CPER through the read-ack protocol and an SEA (FnV=1,
    DFSC 0x10); a record that cannot be written -> abort(); AO -> the page is only marked
    poisoned (kvm_hwpoison_page_add); an address outside guest RAM -> "Hardware memory
    error!" and exit(1) for AR."""
    gpa = vmm.hva_to_gpa(addr) if addr else None
    if gpa is not None:
        vmm.kvm_hwpoison_page_add(gpa & ~0xFFF, addr)
        if code == BUS_MCEERR_AR and vmm.policy.vmm_sigbus_ar == "record-inject":
            if vmm.ghes.acpi_ghes_memory_errors(ACPI_HEST_SRC_ID_SYNC, gpa):
                vmm.error_report("failed to record the error")
                vmm.abort()
            kvm_inject_arm_sea(vmm, cpu)
        return
    if code == BUS_MCEERR_AO:
        vmm.error_report(f"Hardware memory error at addr {addr:#x} for memory used by "
                         "QEMU itself instead of guest system!")
        return
    vmm.error_report("Hardware memory error!")
    vmm.abort(1)


def kvm_inject_arm_sea(vmm: Vmm, cpu: CPUState) -> None:
    """kvm_inject_arm_sea(): the exception is built in user space (arm_cpu_do_interrupt)
    and written back with KVM_SET_ONE_REG. QEMU syncs the whole vCPU state around it
    (cpu_synchronize_state, then kvm_arch_put_registers at the next KVM_RUN): costed once
    as ``qemu_register_sync``, the eight ONE_REG ioctls traced here are the ones that carry
    the injection."""
    vmm.spend("qemu_register_sync")
    pc, pstate, vbar = (get_one_reg(vmm, cpu, r) for r in ("PC", "PSTATE", "VBAR_EL1"))
    esr, offset = _sea_entry(pstate)
    for reg, value in (("ESR_EL1", esr), ("ELR_EL1", pc), ("SPSR_EL1", pstate),
                       ("PSTATE", SPSR_ELH_MASKED[1]), ("PC", vbar + offset)):
        set_one_reg(vmm, cpu, reg, value)


def get_one_reg(vmm: Vmm, cpu: CPUState, reg: str) -> int:
    ret = vmm.host.sys_ioctl(cpu.task, cpu.fd, KVM_GET_ONE_REG, (ONE_REG_IDS[reg], 0))
    return ret[1] if type(ret) is tuple else 0


def set_one_reg(vmm: Vmm, cpu: CPUState, reg: str, value: int) -> int:
    return vmm.host.sys_ioctl(cpu.task, cpu.fd, KVM_SET_ONE_REG, (ONE_REG_IDS[reg], value))


def kvm_arch_handle_exit(vmm: Vmm, cpu: CPUState, reason: int, payload) -> None:
    """The architecture's exits: KVM_EXIT_ARM_SEA (record a CPER at gpa when valid, inject
    ext_dabt) and the 2017 design's KVM_EXIT_EXCEPTION (a guest CPER at the exit's address
    and a virtual SError with the syndrome KVM chose)."""
    if reason == uapi.KVM_EXIT_ARM_SEA:
        if payload.gpa_valid and vmm.ghes.acpi_ghes_memory_errors(ACPI_HEST_SRC_ID_SYNC,
                                                                  payload.gpa):
            vmm.error_report("failed to record the error")
            vmm.abort()
        set_vcpu_events(vmm, cpu, ext_dabt_pending=1)
    elif reason == uapi.KVM_EXIT_EXCEPTION:
        exit_ = uapi.KvmExitSError2017.decode(cpu.run, uapi.KVM_RUN_EXIT_OFFSET)
        if vmm.ghes.acpi_ghes_memory_errors(ACPI_HEST_SRC_ID_SYNC, exit_.address):
            vmm.error_report("failed to record the error")
            vmm.abort()
        set_vcpu_events(vmm, cpu, serror_pending=1, serror_has_esr=1,
                        serror_esr=exit_.syndrome_info & uapi.ESR_ELX_ISS_MASK)


def set_vcpu_events(vmm: Vmm, cpu: CPUState, **fields) -> int:
    """KVM_SET_VCPU_EVENTS with the given members (the rest zero)."""
    ev = uapi.KvmVcpuEvents(**{"serror_pending": 0, "serror_has_esr": 0, "ext_dabt_pending": 0,
                               "pad": bytes(5), "serror_esr": 0, "reserved": bytes(48), **fields})
    return vmm.ioctl(cpu.fd, uapi.KVM_SET_VCPU_EVENTS, ev.encode(), task=cpu.task)
