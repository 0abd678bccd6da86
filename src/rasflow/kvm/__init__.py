"""KVM, the hypervisor in the host kernel: ``/dev/kvm`` registered with the host kernel as a
character device, VM and vCPU file descriptors, and their ioctls with the real struct bytes.

    kvm = Kvm(host_kernel)
    # the VMM: fd = host.sys_open(task, "/dev/kvm"); host.sys_ioctl(task, fd, KVM_CREATE_VM) ...

What KVM does with a VM's errors depends only on that VM's flags, set by its VMM through
KVM_ENABLE_CAP (``kvm->arch.flags``), never on a name or a table outside the ioctls.
"""

from __future__ import annotations

from ..engine import Component
from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EEXIST, EINVAL, ENOEXEC, ENOTTY
from ..formats.linux.kvm import IOCTLS, KVM_GET_ONE_REG, KVM_RUN, KVM_SET_ONE_REG
from .mmu import GuestMemory, Memslot, Stage2
from .vcpu import KvmVcpu

GED_INTID = 32 + 9  # QEMU virt's Generic Event Device (VIRT_ACPI_GED): the guest's HED interrupt
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
_ONE_REGS = {reg_id: (reg, hex(reg_id)) for reg_id, reg in uapi.ONE_REGS.items()}
"""KVM_{GET,SET}_ONE_REG ids: (the register, the id as the trace shows it)."""
_NO_REG = (None, None)  # an id KVM does not know: -EINVAL


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
        k.trace("kvm_ioctl", pid=task.pid, cmd=uapi.IOCTLS.get(cmd) or hex(cmd), arg=arg, ret=ret)
        return ret


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
                arg=decoded if decoded is not None else arg, ret=ret)
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
    and mmap of its kvm_run page."""

    def __init__(self, vcpu: KvmVcpu):
        self.vcpu = vcpu

    def mmap(self) -> bytearray:
        return self.vcpu.run

    def ioctl(self, task, cmd: int, arg=0):
        v = self.vcpu
        if cmd == KVM_SET_ONE_REG or cmd == KVM_GET_ONE_REG:  # the most frequent
            # kvm_arm_set_reg / kvm_arm_get_reg, inline: 0 (set), (0, the value) (get), -EINVAL
            reg_id, value = arg
            reg, hex_id = _ONE_REGS.get(reg_id, _NO_REG)
            ret, out = 0, None
            if not v.initialized:  # kvm_arch_vcpu_ioctl(): -ENOEXEC before KVM_ARM_VCPU_INIT
                ret, reg = -ENOEXEC, None
            elif reg is None:
                ret = -EINVAL
            elif cmd == KVM_SET_ONE_REG:
                if reg == "PC":
                    v.pc = value
                elif reg == "PSTATE":
                    v.pstate = value
                else:
                    v.sysregs[reg] = value
            else:
                value = out = (v.pc if reg == "PC" else v.pstate if reg == "PSTATE"
                               else v.sysregs.get(reg, 0))
            decoded = ({"id": hex(reg_id), "reg": None} if reg is None
                       else {"id": hex_id, "reg": reg, "value": value})
            v.trace("kvm_vcpu_ioctl", cmd=IOCTLS[cmd], pid=task.pid, arg=decoded, ret=ret)
            return ret if out is None else (ret, out)
        name = IOCTLS.get(cmd) or hex(cmd)
        if cmd == KVM_RUN:
            v.trace("kvm_vcpu_ioctl", cmd=name, pid=task.pid)
            if not v.initialized:
                return -ENOEXEC
            return v.kvm_arch_vcpu_ioctl_run()
        decoded, out = None, None
        if cmd == uapi.KVM_ARM_VCPU_INIT:
            init = uapi.KvmVcpuInit.decode(arg)
            decoded = {"target": init.target}
            v.initialized, ret = True, 0
        elif cmd == uapi.KVM_SET_VCPU_EVENTS:
            ev = uapi.KvmVcpuEvents.decode(arg)
            decoded = ev.to_dict()
            ret = ev.validate(v.vm.guest_ras, initialized=v.initialized)
            # __kvm_arm_vcpu_set_events() (v6.17+): ext_dabt_pending is injected and committed
            # before the SError checks, so it stays injected when they fail
            before_serror = ev._replace(serror_pending=0).validate(
                v.vm.guest_ras, initialized=v.initialized)
            if before_serror == 0 and ev.ext_dabt_pending:
                v.inject_abt64(v.fault.get("far_el2", 0))  # kvm_inject_sea_dabt(vcpu, hfar)
            esr = ev.injected_esr() if ret == 0 else None
            if esr is not None:
                v.kvm_inject_serror_esr(esr)
        elif cmd == uapi.KVM_GET_VCPU_EVENTS:
            if not v.initialized:  # kvm_arch_vcpu_ioctl(): -ENOEXEC before KVM_ARM_VCPU_INIT
                ret = -ENOEXEC
            else:
                ev = uapi.KvmVcpuEvents.get_events(bool(v.hcr_el2 & (1 << 8)), v.vsesr_el2,
                                                   v.vm.guest_ras)
                ret, out = 0, ev.encode()
                decoded = ev.to_dict()
        else:
            ret = -ENOTTY
        v.trace("kvm_vcpu_ioctl", cmd=name, pid=task.pid, arg=decoded, ret=ret)
        return ret if out is None else (ret, out)


class VmView:
    """The machine as a guest kernel sees it: its physical memory (through stage 2), its
    vCPUs (where it installs its EL1 vectors), halting (a guest panic)."""

    def __init__(self, vm: KvmVm):
        self.vm = vm
        self.engine = vm.kvm.engine
        self.memory = GuestMemory(vm.stage2)
        self.stage2 = vm.stage2
        self.ras = vm.guest_ras
        self.ged_intid = GED_INTID
        self.kernel = None  # the guest kernel, once it boots

    @property
    def pes(self) -> list[_VcpuSlot]:
        return [_VcpuSlot(v) for v in self.vm.vcpus]

    @property
    def halted(self) -> bool:
        return self.vm.halted or self.vm.kvm.host.machine.halted

    def cpu_id(self, pe) -> int:
        for v in self.vm.vcpus:
            if v.pe is pe:
                return v.index
        return 0

    def enter(self, vcpu: KvmVcpu, pe) -> None:
        """First entry of a vCPU: the guest kernel schedules its first user task."""
        if self.kernel is not None:
            self.kernel.schedule(pe)

    def halt(self, reason: str, **fields) -> None:
        """The guest panicked: it stops; its vCPU leaves the guest (an HVC, as the guest's
        reset/poweroff call does) and KVM exits to user space with a crash event."""
        if self.vm.halted:
            return
        self.vm.halted = True
        self.vm.kvm.trace("guest_halt", vm=self.vm.name, reason=reason)
        for v in self.vm.vcpus:
            if v.pe.pstate.el == 1 and v.pe.handlers[2] is v:
                v.pe.hvc(0)


class _VcpuSlot:
    """One vCPU as the guest kernel's boot code sees it: where its EL1 vectors go."""

    def __init__(self, vcpu: KvmVcpu):
        self.vcpu, self.index = vcpu, vcpu.index

    def install(self, el: int, handler) -> None:
        if el != 1:
            raise ValueError("a guest kernel runs at EL1")
        self.vcpu.el1_handler = handler

    def install_entry(self, el: int, address: int, fn) -> None:
        """Guest software at an EL1 address that is not a vector (its recovery agent)."""
        if el != 1:
            raise ValueError("a guest kernel runs at EL1")
        self.vcpu.el1_entries[address] = fn

    def read_sysreg(self, name: str) -> int:
        """The vCPU's EL1 register as its boot code reads it (VBAR_EL1)."""
        return self.vcpu.sysregs[name]

    def hvc(self, imm: int) -> int:
        """A hypercall at boot. The model's boot is instantaneous (vectors installed, ACPI
        parsed in zero time, before the first guest entry), so a boot-time HVC is handled
        as KVM's handle_hvc() would handle the exit, without a world switch."""
        return self.vcpu.handle_hvc(imm)


__all__ = ["Kvm", "KvmVcpu", "KvmVm", "VmView"]
