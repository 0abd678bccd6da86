"""The arm64 KVM user-space ABI the RAS path uses: vCPU events, ``kvm_run`` exits, capabilities, ioctls.

Sources: include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h,
arch/arm64/kvm/arm.c and arch/arm64/kvm/guest.c (torvalds/linux), and
Documentation/virt/kvm/api.rst.
"""

from __future__ import annotations

import struct
from typing import Annotated, Any

from ..arm import kernel as ak
from ..layout import Bytes, Flags, Names, layout, u8, u16, u32, u64
from .errno import EINVAL, ENOEXEC

# --- ioctl numbers (include/uapi/asm-generic/ioctl.h; arm64 uses the generic encoding) ---

_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2
KVMIO = 0xAE


def _IOC(direction: int, type_: int, nr: int, size: int) -> int:  # noqa: N802 - the kernel's macro names
    """dir in bits 31:30, size in 29:16, type in 15:8, nr in 7:0."""
    assert 0 <= size < 1 << 14 and 0 <= nr < 256 and 0 <= type_ < 256
    return direction << 30 | size << 16 | type_ << 8 | nr


def _IO(type_: int, nr: int) -> int:  # noqa: N802
    return _IOC(_IOC_NONE, type_, nr, 0)


def _IOR(type_: int, nr: int, size: int) -> int:  # noqa: N802
    return _IOC(_IOC_READ, type_, nr, size)


def _IOW(type_: int, nr: int, size: int) -> int:  # noqa: N802
    return _IOC(_IOC_WRITE, type_, nr, size)


KVM_VCPU_EVENTS_SIZE = 64
KVM_ENABLE_CAP_SIZE = 104
KVM_ONE_REG_SIZE = 16

KVM_USERSPACE_MEMORY_REGION_SIZE = 32
KVM_VCPU_INIT_SIZE = 32

KVM_CREATE_VM = _IO(KVMIO, 0x01)
KVM_CHECK_EXTENSION = _IO(KVMIO, 0x03)
KVM_GET_VCPU_MMAP_SIZE = _IO(KVMIO, 0x04)
KVM_CREATE_VCPU = _IO(KVMIO, 0x41)
KVM_IRQ_LINE = _IOW(KVMIO, 0x61, 8)
KVM_SET_USER_MEMORY_REGION = _IOW(KVMIO, 0x46, KVM_USERSPACE_MEMORY_REGION_SIZE)
KVM_RUN = _IO(KVMIO, 0x80)
KVM_ARM_VCPU_INIT = _IOW(KVMIO, 0xAE, KVM_VCPU_INIT_SIZE)
KVM_GET_VCPU_EVENTS = _IOR(KVMIO, 0x9F, KVM_VCPU_EVENTS_SIZE)  # 0x8040ae9f
KVM_SET_VCPU_EVENTS = _IOW(KVMIO, 0xA0, KVM_VCPU_EVENTS_SIZE)  # 0x4040aea0
KVM_ENABLE_CAP = _IOW(KVMIO, 0xA3, KVM_ENABLE_CAP_SIZE)  # 0x4068aea3
KVM_GET_ONE_REG = _IOW(KVMIO, 0xAB, KVM_ONE_REG_SIZE)
KVM_SET_ONE_REG = _IOW(KVMIO, 0xAC, KVM_ONE_REG_SIZE)

IOCTLS = {
    KVM_CREATE_VM: "KVM_CREATE_VM",
    KVM_GET_VCPU_MMAP_SIZE: "KVM_GET_VCPU_MMAP_SIZE",
    KVM_CREATE_VCPU: "KVM_CREATE_VCPU",
    KVM_IRQ_LINE: "KVM_IRQ_LINE",
    KVM_SET_USER_MEMORY_REGION: "KVM_SET_USER_MEMORY_REGION",
    KVM_ARM_VCPU_INIT: "KVM_ARM_VCPU_INIT",
    KVM_CHECK_EXTENSION: "KVM_CHECK_EXTENSION",
    KVM_RUN: "KVM_RUN",
    KVM_GET_VCPU_EVENTS: "KVM_GET_VCPU_EVENTS",
    KVM_SET_VCPU_EVENTS: "KVM_SET_VCPU_EVENTS",
    KVM_ENABLE_CAP: "KVM_ENABLE_CAP",
    KVM_GET_ONE_REG: "KVM_GET_ONE_REG",
    KVM_SET_ONE_REG: "KVM_SET_ONE_REG",
}

# --- capabilities ------------------------------------------------------------------

KVM_CAP_VCPU_EVENTS = 41
KVM_CAP_ARM_INJECT_SERROR_ESR = 158
KVM_CAP_ARM_NISV_TO_USER = 177
KVM_CAP_ARM_INJECT_EXT_DABT = 178
# Jiaqi Yan's "KVM_EXIT_ARM_SEA" series, merged late 2025 (selftest arm64/sea_to_user.c is in
# torvalds/linux); a VM capability enabled with KVM_ENABLE_CAP. Earlier revisions of the series
# proposed 240 and 244; 245 is the merged number (QEMU's linux-headers carry 245 too).
KVM_CAP_ARM_SEA_TO_USER = 245
# The designs never merged into Linux need an opt-in too, or they could not belong to a VM:
# the model gives each a VM capability the VMM enables with KVM_ENABLE_CAP, as it enables
# KVM_CAP_ARM_SEA_TO_USER. Neither proposal defines one (neither is in include/uapi/linux/kvm.h),
# so these are rasflow's own, numbered far above Linux's (KVM_CAP_* are below 300) so that no
# real number is ever shadowed.
RASFLOW_CAP_BASE = 0x7266_0000
KVM_CAP_ARM_SERROR_EXIT_2017 = RASFLOW_CAP_BASE + 1  # the 2017 SError exit with the syndrome
KVM_CAP_ARM_DELEGATED_EA = RASFLOW_CAP_BASE + 2  # the RAS PRD's delegated exception handling

CAPS = {
    KVM_CAP_VCPU_EVENTS: "KVM_CAP_VCPU_EVENTS",
    KVM_CAP_ARM_INJECT_SERROR_ESR: "KVM_CAP_ARM_INJECT_SERROR_ESR",
    KVM_CAP_ARM_NISV_TO_USER: "KVM_CAP_ARM_NISV_TO_USER",
    KVM_CAP_ARM_INJECT_EXT_DABT: "KVM_CAP_ARM_INJECT_EXT_DABT",
    KVM_CAP_ARM_SEA_TO_USER: "KVM_CAP_ARM_SEA_TO_USER",
}
"""The capabilities QEMU asks about when it sets up an Arm VM."""
PROPOSAL_CAPS = {
    KVM_CAP_ARM_SERROR_EXIT_2017: "KVM_CAP_ARM_SERROR_EXIT_2017 (rasflow)",
    KVM_CAP_ARM_DELEGATED_EA: "KVM_CAP_ARM_DELEGATED_EA (rasflow)",
}
CAP_NAMES = CAPS | PROPOSAL_CAPS

# The delegated exception handling ABI between a guest's error recovery agent and the
# hypervisor. The Arm RAS PRD describes the steps (register the agent, enter it with the
# syndrome, the agent's request for a virtual SError) but no encoding, so these are
# rasflow's: the HVC immediate selects the call (the model has no general-purpose registers
# to carry an SMCCC function id), and the agent's entry point is at a fixed offset past its
# EL1 vector table (where the register call would pass it in x1).
DELEGATED_EA_HVC_VSERROR = 1  # restore the interrupted context, then a virtual SError
DELEGATED_EA_HVC_REGISTER = 2  # register the agent at VBAR_EL1 + DELEGATED_EA_AGENT_OFFSET
DELEGATED_EA_HVC_RESUME = 3  # restore the interrupted context: the agent dealt with it
DELEGATED_EA_HVC_SEA = 4  # restore, then take it as a synchronous External abort
DELEGATED_EA_AGENT_OFFSET = 0x800

# --- exit reasons (include/uapi/linux/kvm.h) ------------------------------------------

EXIT_REASONS = {
    0: "KVM_EXIT_UNKNOWN", 1: "KVM_EXIT_EXCEPTION", 2: "KVM_EXIT_IO", 3: "KVM_EXIT_HYPERCALL",
    4: "KVM_EXIT_DEBUG", 5: "KVM_EXIT_HLT", 6: "KVM_EXIT_MMIO", 7: "KVM_EXIT_IRQ_WINDOW_OPEN",
    8: "KVM_EXIT_SHUTDOWN", 9: "KVM_EXIT_FAIL_ENTRY", 10: "KVM_EXIT_INTR", 11: "KVM_EXIT_SET_TPR",
    12: "KVM_EXIT_TPR_ACCESS", 13: "KVM_EXIT_S390_SIEIC", 14: "KVM_EXIT_S390_RESET", 15: "KVM_EXIT_DCR",
    16: "KVM_EXIT_NMI", 17: "KVM_EXIT_INTERNAL_ERROR", 18: "KVM_EXIT_OSI", 19: "KVM_EXIT_PAPR_HCALL",
    20: "KVM_EXIT_S390_UCONTROL", 21: "KVM_EXIT_WATCHDOG", 22: "KVM_EXIT_S390_TSCH", 23: "KVM_EXIT_EPR",
    24: "KVM_EXIT_SYSTEM_EVENT", 25: "KVM_EXIT_S390_STSI", 26: "KVM_EXIT_IOAPIC_EOI", 27: "KVM_EXIT_HYPERV",
    28: "KVM_EXIT_ARM_NISV", 29: "KVM_EXIT_X86_RDMSR", 30: "KVM_EXIT_X86_WRMSR", 31: "KVM_EXIT_DIRTY_RING_FULL",
    32: "KVM_EXIT_AP_RESET_HOLD", 33: "KVM_EXIT_X86_BUS_LOCK", 34: "KVM_EXIT_XEN", 35: "KVM_EXIT_RISCV_SBI",
    36: "KVM_EXIT_RISCV_CSR", 37: "KVM_EXIT_NOTIFY", 38: "KVM_EXIT_LOONGARCH_IOCSR", 39: "KVM_EXIT_MEMORY_FAULT",
    40: "KVM_EXIT_TDX", 41: "KVM_EXIT_ARM_SEA",
}
KVM_EXIT_EXCEPTION = 1
KVM_EXIT_MMIO = 6
KVM_EXIT_INTR = 10
KVM_EXIT_INTERNAL_ERROR = 17
KVM_EXIT_SYSTEM_EVENT = 24
KVM_EXIT_ARM_NISV = 28
KVM_EXIT_ARM_SEA = 41

KVM_EXIT_ARM_SEA_FLAG_GPA_VALID = 1 << 0  # the only flag in the merged ABI (an earlier revision also had GVA_VALID)

# --- struct kvm_vcpu_events (arm64) ------------------------------------------------------

ESR_ELX_ISS_MASK = (1 << 25) - 1  # GENMASK(24, 0): ISS plus IDS (bit 24)
ESR_ELX_ISV = 1 << 24  # kvm_inject_vabt()/kvm_inject_serror(): the implementation-defined syndrome


@layout
class KvmVcpuEvents:
    """struct kvm_vcpu_events for arm64 (64 bytes): the ``exception`` struct then ``u32 reserved[12]``."""

    serror_pending: u8
    serror_has_esr: u8
    ext_dabt_pending: u8
    pad: Bytes[5]
    serror_esr: u64
    reserved: Bytes[48]

    def validate(self, has_ras: bool, *, initialized: bool = True) -> int:
        """What KVM_SET_VCPU_EVENTS returns for these bytes: 0 or a negative errno.

        - arch/arm64/kvm/arm.c kvm_arch_vcpu_ioctl(): ``!kvm_vcpu_initialized`` ->
          -ENOEXEC (added in 6.17; older kernels go on).
        - arm.c kvm_arm_vcpu_set_events(): any non-zero ``reserved[i]``, then any
          non-zero ``exception.pad[i]`` -> -EINVAL.
        - guest.c __kvm_arm_vcpu_set_events() (v6.17+): ``ext_dabt_pending`` is
          injected and committed first; then with no ``serror_pending`` -> 0;
          ``has_esr`` without ARM64_HAS_RAS_EXTN -> -EINVAL; ``has_esr`` with
          ``serror_esr & ~ESR_ELx_ISS_MASK`` (bits 63:25) -> -EINVAL; else inject.
          v4.19..v6.16 check the same two SError rules (only when pending) and
          inject ext_dabt last, so the return value is the same.
        - ext_dabt_pending together with serror_pending is accepted by every
          version (both are injected); ``serror_has_esr`` without
          ``serror_pending`` is ignored.
        """
        if not initialized:
            return -ENOEXEC
        if any(self.reserved):
            return -EINVAL
        if any(self.pad):
            return -EINVAL
        if not self.serror_pending:
            return 0
        if self.serror_has_esr and not has_ras:
            return -EINVAL
        if self.serror_has_esr and self.serror_esr & ~ESR_ELX_ISS_MASK:
            return -EINVAL
        return 0

    def injected_esr(self) -> int | None:
        """The syndrome a valid SET injects as a virtual SError: ``serror_esr`` or ESR_ELx_ISV; None if none."""
        if not self.serror_pending:
            return None
        return self.serror_esr if self.serror_has_esr else ESR_ELX_ISV

    @classmethod
    def get_events(cls, serror_pending: bool, vsesr: int, has_ras: bool) -> KvmVcpuEvents:
        """__kvm_arm_vcpu_get_events(): has_esr = RAS present; esr only when pending and RAS; ext_dabt never."""
        esr = vsesr if serror_pending and has_ras else 0
        return cls(serror_pending=int(bool(serror_pending)), serror_has_esr=int(bool(has_ras)), serror_esr=esr)


# --- kvm_run --------------------------------------------------------------------------------

KVM_RUN_EXIT_OFFSET = 32  # the exit union starts after the 32-byte head on arm64
KVM_RUN_EXIT_REASON_OFFSET = 8  # __u32 exit_reason, after the two u8 and padding1[6]
_EXIT_REASON = struct.Struct("<I")


def kvm_run_set_exit_reason(run: bytearray, reason: int) -> None:
    """Write kvm_run.exit_reason in place (the rest of the head as it is)."""
    _EXIT_REASON.pack_into(run, KVM_RUN_EXIT_REASON_OFFSET, reason)


@layout
class KvmRunHeader:
    """The first 32 bytes of struct kvm_run."""

    request_interrupt_window: u8
    immediate_exit: u8
    padding1: Bytes[6]
    exit_reason: Annotated[u32, Names(EXIT_REASONS)]
    ready_for_interrupt_injection: u8
    if_flag: u8
    flags: u16
    cr8: u64
    apic_base: u64


@layout
class KvmExitMmio:
    """kvm_run.mmio (KVM_EXIT_MMIO): 21 meaningful bytes of the union."""

    phys_addr: u64
    data: Bytes[8]
    len: u32
    is_write: u8


@layout
class KvmExitArmNisv:
    """kvm_run.arm_nisv (KVM_EXIT_ARM_NISV, with KVM_CAP_ARM_NISV_TO_USER)."""

    esr_iss: u64
    fault_ipa: u64


@layout
class KvmExitArmSea:
    """kvm_run.arm_sea (KVM_EXIT_ARM_SEA, with KVM_CAP_ARM_SEA_TO_USER), as merged: flags, esr, gva, gpa.

    ``esr`` is sanitised (EC, IL, FnV, EA, CM, WNR, FSC, and SET when the guest
    has RAS); ``gva`` is valid iff ESR.FnV is 0; ``gpa`` iff FLAG_GPA_VALID.
    """

    flags: Annotated[u64, Flags({0: "GPA_VALID"})]
    esr: u64
    gva: u64
    gpa: u64

    @property
    def gpa_valid(self) -> bool:
        return bool(self.flags & KVM_EXIT_ARM_SEA_FLAG_GPA_VALID)

    @property
    def gva_valid(self) -> bool:
        return not self.esr >> 10 & 1  # ESR_ELx_FnV


def arm_sea_exit_esr(esr: int, *, guest_has_ras: bool) -> int:
    """The ESR KVM_EXIT_ARM_SEA reports: EC, IL, FnV, EA, CM, WnR and FSC of ESR_EL2, plus
    SET when the guest has RAS (kvm_handle_guest_sea(), as merged)."""
    mask = (ak.ESR_ELx_EC_MASK | ak.ESR_ELx_IL | ak.ESR_ELx_FnV | ak.ESR_ELx_EA | ak.ESR_ELx_CM
            | ak.ESR_ELx_WNR | ak.ESR_ELx_FSC)
    return esr & (mask | (ak.ESR_ELx_SET_MASK if guest_has_ras else 0))


EXIT_PAYLOADS: dict[int, type] = {KVM_EXIT_MMIO: KvmExitMmio, KVM_EXIT_ARM_NISV: KvmExitArmNisv, KVM_EXIT_ARM_SEA: KvmExitArmSea}


def decode_exit(run) -> tuple[KvmRunHeader, Any]:
    """The kvm_run head and, for the exits above, the decoded payload (else None)."""
    head = KvmRunHeader.decode(run, 0)
    cls = EXIT_PAYLOADS.get(head.exit_reason)
    return head, cls.decode(run, KVM_RUN_EXIT_OFFSET) if cls else None


@layout
class KvmEnableCap:
    """struct kvm_enable_cap (104 bytes): KVM_ENABLE_CAP's argument."""

    cap: Annotated[u32, Names(CAP_NAMES)]
    flags: u32
    args0: u64
    args1: u64
    args2: u64
    args3: u64
    pad: Bytes[64]


@layout
class KvmUserspaceMemoryRegion:
    """struct kvm_userspace_memory_region (32 bytes): KVM_SET_USER_MEMORY_REGION's argument."""

    slot: u32
    flags: u32
    guest_phys_addr: u64
    memory_size: u64
    userspace_addr: u64


@layout
class KvmVcpuInit:
    """struct kvm_vcpu_init (32 bytes): KVM_ARM_VCPU_INIT's argument."""

    target: u32
    features: Bytes[28]


@layout
class KvmIrqLevel:
    """struct kvm_irq_level: KVM_IRQ_LINE's argument; on arm64 ``irq`` is
    type << 24 | vcpu << 16 | number (type 1: an SPI, number = its INTID)."""

    irq: u32
    level: u32


KVM_ARM_IRQ_TYPE_SPI = 1


@layout
class KvmOneReg:
    """struct kvm_one_reg (16 bytes): the register id and the user address of its value."""

    id: u64
    addr: u64


@layout
class KvmExitSError2017:
    """The exit payload of the 2017 proposal ("arm64: kvm: inject SError with user space
    specified syndrome", never merged): the raw ESR_EL2 and an address from FAR/HPFAR.
    Modeled as two u64 in the kvm_run union under KVM_EXIT_EXCEPTION."""

    syndrome_info: u64
    address: u64


KVM_ARM_TARGET_GENERIC_V8 = 5
KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_CRASH = 1, 2, 5
KVM_RUN_SIZE = 4096  # what KVM_GET_VCPU_MMAP_SIZE answers (one page of struct kvm_run)
_KVM_REG_ARM64_U64 = 0x6030_0000_0000_0000  # KVM_REG_ARM64 | KVM_REG_SIZE_U64
_KVM_REG_ARM_CORE = 0x0010 << 16
_KVM_REG_ARM64_SYSREG = 0x0013 << 16


def core_reg(offset: int) -> int:
    """KVM_REG_ARM_CORE id of the u64 at byte ``offset`` of struct kvm_regs (offset / 4)."""
    return _KVM_REG_ARM64_U64 | _KVM_REG_ARM_CORE | offset // 4


def sys_reg(op0: int, op1: int, crn: int, crm: int, op2: int) -> int:
    """ARM64_SYS_REG(): the KVM_REG_ARM64_SYSREG id of a system register."""
    return _KVM_REG_ARM64_U64 | _KVM_REG_ARM64_SYSREG | op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2


# struct kvm_regs { struct user_pt_regs regs {x[31], sp, pc, pstate}; u64 sp_el1; u64 elr_el1; u64 spsr[5]; ...}
ONE_REGS = {
    core_reg(31 * 8 + 8): "PC",
    core_reg(31 * 8 + 16): "PSTATE",
    core_reg(34 * 8 + 8): "ELR_EL1",
    core_reg(34 * 8 + 16): "SPSR_EL1",
    sys_reg(3, 0, 5, 2, 0): "ESR_EL1",
    sys_reg(3, 0, 6, 0, 0): "FAR_EL1",
    sys_reg(3, 0, 12, 0, 0): "VBAR_EL1",
}
ONE_REG_IDS = {v: k for k, v in ONE_REGS.items()}


assert KvmUserspaceMemoryRegion.SIZE == 32 and KvmVcpuInit.SIZE == 32 and KvmOneReg.SIZE == 16
assert KvmVcpuEvents.SIZE == KVM_VCPU_EVENTS_SIZE and KvmEnableCap.SIZE == KVM_ENABLE_CAP_SIZE
assert KvmRunHeader.SIZE == KVM_RUN_EXIT_OFFSET and KvmExitArmSea.SIZE == 32
