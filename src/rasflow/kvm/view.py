"""The machine as a guest kernel sees it (KVM's side of the guest's boot): its physical
memory through stage 2, its vCPUs (where it installs its EL1 vectors and entry points, and
makes its boot-time hypercalls), halting (a guest panic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .handle_exit import handle_hvc
from .mmu import GuestMemory

if TYPE_CHECKING:
    from .arm import KvmVm
    from .vcpu import KvmVcpu

GED_INTID = 32 + 9  # QEMU virt's Generic Event Device (VIRT_ACPI_GED): the guest's HED interrupt


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
        return handle_hvc(self.vcpu, imm)
