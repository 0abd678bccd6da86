"""/dev/kvm, VMs and vCPUs and their ioctls (arch/arm64/kvm/arm.c, virt/kvm/kvm_main.c):
capabilities, KVM_ENABLE_CAP (a VM's flags), memslots, vCPU creation and init, the vGIC's
IRQ line, and kvm_arch_vcpu_ioctl_run, the KVM_RUN loop."""

from __future__ import annotations

from ..engine import Component, Event
from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EEXIST, EINTR, EINVAL, ENOEXEC, ENOTTY
from ..formats.linux.kvm import IOCTLS, KVM_GET_ONE_REG, KVM_RUN, KVM_SET_ONE_REG
from .guest import kvm_arm_one_reg, kvm_arm_vcpu_get_events, kvm_arm_vcpu_set_events
from .handle_exit import handle_exit
from .mmu import Memslot, Stage2
from .vcpu import KvmVcpu
from .view import VmView

CAPS = {uapi.KVM_CAP_VCPU_EVENTS: 1, uapi.KVM_CAP_ARM_INJECT_EXT_DABT: 1,
        uapi.KVM_CAP_ARM_NISV_TO_USER: 1, uapi.KVM_CAP_ARM_SEA_TO_USER: 1}
"""kvm_vm_ioctl_check_extension() (arch/arm64/kvm/arm.c): answered 1 whatever the hardware."""
VM_FLAGS = {uapi.KVM_CAP_ARM_NISV_TO_USER: "return_nisv_io_abort_to_user",
            uapi.KVM_CAP_ARM_SEA_TO_USER: "exit_sea",
            uapi.KVM_CAP_ARM_SERROR_EXIT_2017: "serror_exit_2017",
            uapi.KVM_CAP_ARM_DELEGATED_EA: "delegated_ea"}
"""kvm_vm_ioctl_enable_cap(): the VM capabilities that only set a flag of ``kvm->arch.flags``
(KVM_ARCH_FLAG_RETURN_NISV_IO_ABORT_TO_USER, KVM_ARCH_FLAG_EXIT_SEA), and the two proposals'
(``formats.linux.kvm.PROPOSAL_CAPS``), offered where the host has the RAS extension."""


class Kvm(Component):
    """The KVM module of the host kernel (``kvm_init``: registers ``/dev/kvm``)."""

    def __init__(self, host):
        super().__init__(host.engine, "kvm")
        self.host = host
        self.ras = bool(host.machine.ras)  # cpus_have_final_cap(ARM64_HAS_RAS_EXTN)
        self.vms: list[KvmVm] = []
        host.register_chrdev("/dev/kvm", self)

    def check_extension(self, cap: int) -> int:
        if cap == uapi.KVM_CAP_ARM_INJECT_SERROR_ESR or cap in uapi.PROPOSAL_CAPS:
            return int(self.ras)
        return CAPS.get(cap, 0)

    def open(self, task) -> KvmDev:
        return KvmDev(self)


class KvmDev:
    """An open ``/dev/kvm``: KVM_CHECK_EXTENSION, KVM_CREATE_VM, KVM_GET_VCPU_MMAP_SIZE."""

    def __init__(self, kvm: Kvm):
        self.kvm = kvm

    def ioctl(self, task, cmd: int, arg=0):
        k = self.kvm
        if cmd == uapi.KVM_CHECK_EXTENSION:
            ret = k.check_extension(arg)
        elif cmd == uapi.KVM_GET_VCPU_MMAP_SIZE:
            ret = uapi.KVM_RUN_SIZE
        elif cmd == uapi.KVM_CREATE_VM:
            vm = KvmVm(k, task, f"vm{len(k.vms)}")
            k.vms.append(vm)
            ret = k.host.install_fd(task, vm, "kvm-vm")
        else:
            ret = -ENOTTY
        k.trace("kvm_ioctl", pid=task.pid, cmd=uapi.IOCTLS.get(cmd) or hex(cmd), arg=arg, ret=ret, **_caller(task))
        return ret


def _caller(task) -> dict[str, str]:
    """The crossing an ioctl is: from the calling task's lifeline into KVM (none for a task
    its creator did not name)."""
    return {} if task.lifeline is None else {"from": task.lifeline}


class KvmVm:
    """struct kvm: memslots, vCPUs, VM capabilities; its fd takes the VM ioctls."""

    def __init__(self, kvm: Kvm, task, name: str):
        self.kvm, self.name = kvm, name
        self.stage2 = Stage2(kvm.host, task)
        self.vcpus: list[KvmVcpu] = []
        self.flags: set[str] = set()  # kvm->arch.flags set through KVM_ENABLE_CAP (VM_FLAGS)
        self.guest_ras = kvm.ras
        self.halted = False
        self.view = VmView(self)

    def ioctl(self, task, cmd: int, arg=0):
        k = self.kvm
        decoded = None
        if cmd == uapi.KVM_SET_USER_MEMORY_REGION:
            r = uapi.KvmUserspaceMemoryRegion.decode(arg)
            decoded = r.to_dict()
            if any(s.slot == r.slot for s in self.stage2.slots):
                ret = -EEXIST
            else:
                self.stage2.slots.append(Memslot(r.slot, r.guest_phys_addr, r.memory_size,
                                                 r.userspace_addr))
                ret = 0
        elif cmd == uapi.KVM_CREATE_VCPU:
            vcpu = KvmVcpu(self, len(self.vcpus), task)
            self.vcpus.append(vcpu)
            ret = k.host.install_fd(task, VcpuFile(vcpu), "kvm-vcpu")
        elif cmd == uapi.KVM_ENABLE_CAP:
            cap = uapi.KvmEnableCap.decode(arg)
            decoded = {"cap": uapi.CAP_NAMES.get(cap.cap, cap.cap), "flags": cap.flags}
            ret = self.kvm_vm_ioctl_enable_cap(cap.cap, cap.flags)
        elif cmd == uapi.KVM_CHECK_EXTENSION:
            ret = k.check_extension(arg)
        elif cmd == uapi.KVM_IRQ_LINE:
            line = uapi.KvmIrqLevel.decode(arg)
            decoded = line.to_dict()
            ret = self.kvm_vm_ioctl_irq_line(line.irq, line.level)
        else:
            ret = -ENOTTY
        k.trace("kvm_vm_ioctl", vm=self.name, cmd=uapi.IOCTLS.get(cmd) or hex(cmd),
                arg=decoded if decoded is not None else arg, ret=ret, **_caller(task))
        return ret


    def kvm_vm_ioctl_enable_cap(self, cap: int, flags: int) -> int:
        """arch/arm64/kvm/arm.c kvm_vm_ioctl_enable_cap(): non-zero flags -> -EINVAL; a
        capability that sets a VM flag -> 0; any other -> -EINVAL. A proposal's capability
        needs the RAS extension, as its check_extension says."""
        flag = VM_FLAGS.get(cap)
        if flags or flag is None or (cap in uapi.PROPOSAL_CAPS and not self.kvm.ras):
            return -EINVAL
        self.flags.add(flag)
        return 0

    def kvm_vm_ioctl_irq_line(self, irq: int, level: int) -> int:
        """An SPI for the vGIC (type 1; SPIs go to vCPU 0 here): pending until the guest
        takes it; a running vCPU is kicked so the next entry presents it (HCR_EL2.VI)."""
        if irq >> 24 != uapi.KVM_ARM_IRQ_TYPE_SPI or not 32 <= irq & 0xFFFF < 1020:
            return -EINVAL
        if level and self.vcpus:
            vcpu = self.vcpus[0]
            vcpu.pending_virq.append(irq & 0xFFFF)
            if vcpu.task.kick is not None:
                vcpu.kvm_vcpu_kick()
        return 0


class VcpuFile:
    """A vCPU fd: KVM_ARM_VCPU_INIT, KVM_RUN, KVM_GET/SET_VCPU_EVENTS, KVM_GET/SET_ONE_REG,
    and mmap of its kvm_run page (kvm_arch_vcpu_ioctl)."""

    def __init__(self, vcpu: KvmVcpu):
        self.vcpu = vcpu

    def mmap(self) -> bytearray:
        return self.vcpu.run

    def ioctl(self, task, cmd: int, arg=0):
        v = self.vcpu
        if cmd == KVM_SET_ONE_REG or cmd == KVM_GET_ONE_REG:  # the most frequent
            ret, out, decoded = kvm_arm_one_reg(v, cmd == KVM_SET_ONE_REG, *arg)
            v.trace("kvm_vcpu_ioctl", cmd=IOCTLS[cmd], pid=task.pid, arg=decoded, ret=ret, **_caller(task))
            return ret if out is None else (ret, out)
        name = IOCTLS.get(cmd) or hex(cmd)
        if cmd == KVM_RUN:
            v.trace("kvm_vcpu_ioctl", cmd=name, pid=task.pid, **_caller(task))
            if not v.initialized:
                return -ENOEXEC
            return kvm_arch_vcpu_ioctl_run(v)
        decoded, out = None, None
        if cmd == uapi.KVM_ARM_VCPU_INIT:
            init = uapi.KvmVcpuInit.decode(arg)
            decoded = {"target": init.target}
            v.initialized, ret = True, 0
        elif cmd == uapi.KVM_SET_VCPU_EVENTS:
            ret, decoded = kvm_arm_vcpu_set_events(v, arg)
        elif cmd == uapi.KVM_GET_VCPU_EVENTS:
            ret, out, decoded = kvm_arm_vcpu_get_events(v)
        else:
            ret = -ENOTTY
        v.trace("kvm_vcpu_ioctl", cmd=name, pid=task.pid, arg=decoded, ret=ret, **_caller(task))
        return ret if out is None else (ret, out)


def kvm_arch_vcpu_ioctl_run(vcpu: KvmVcpu):
    """KVM_RUN: pending work and signals first (xfer_to_guest_mode_handle_work), then enter
    the guest and handle its exit, until one goes to user space (0) or fails (< 0)."""
    host, task = vcpu.kvm.host, vcpu.task
    while True:
        if task.task_works:  # resume_user_mode_work
            works, task.task_works = task.task_works, []
            for w in works:
                w()
        if task.pending or not task.alive:
            vcpu.set_exit(uapi.KVM_EXIT_INTR)
            return -EINTR
        if vcpu.vm.halted or host.machine.halted:
            return -EINTR
        yield vcpu.kvm.engine.wait("world_switch", vcpu.kvm.name)  # __guest_enter
        if task.pending or vcpu.vm.halted or host.machine.halted:
            continue
        vcpu.exit_event = Event(vcpu.kvm.engine)
        vcpu.kvm_vcpu_run()
        code = yield vcpu.exit_event
        if host.machine.halted:
            return -EINTR
        ret = yield from handle_exit(vcpu, code)
        if ret <= 0:
            return ret
