"""The user-space VMM (QEMU-like), one host process per VM. It reaches KVM only through
the host kernel's system calls (``/dev/kvm``, ioctls with struct bytes) and learns of
errors only through the signals the kernel delivers.

- memslots: guest RAM is an anonymous mapping of this process (HVA), given to KVM;
- the guest's ACPI tables: QEMU virt's HEST (SEA + GPIO GHESv2 sources) and the
  ``etc/hardware_errors`` blob, in guest RAM;
- the vCPU threads (accel/kvm: kvm_cpu_exec, the KVM_RUN loop), SIGBUS and SIG_IPI
  (system/cpus.c: sigbus_handler, run_on_cpu), the early kill QEMU asks for itself;
- target/arm/kvm.c in arm_kvm.py: kvm_arch_on_sigbus_vcpu, the SEA it injects, the
  architecture's exits (KVM_EXIT_ARM_SEA, the 2017 syndrome exit);
- hw/acpi/ghes.c in acpi_ghes.py (``vmm.ghes``): CPERs into ``etc/hardware_errors``, QMP's
  ``inject-ghes-v2-error``, the GED event.
"""

from __future__ import annotations

import functools

from ..engine import Component
from ..formats.acpi.qemu import qemu_hardware_errors, qemu_virt_hest
from ..formats.linux import kvm as uapi
from ..formats.linux.errno import EINTR
from ..formats.linux.mm import PR_MCE_KILL, PR_MCE_KILL_EARLY, PR_MCE_KILL_SET
from ..formats.linux.siginfo import BUS_MCEERR_AO, BUS_MCEERR_AR, SIGBUS, SIGUSR1
from ..policy import Policy, get_policy
from .acpi_ghes import AcpiGhes
from .arm_kvm import kvm_arch_handle_exit, kvm_arch_on_sigbus_vcpu, set_vcpu_events

SIGABRT = 6
HVA_BASE = 0xFFFF_8000_0000  # where this model's VMM maps guest RAM
TABLES_SIZE = 0x1_0000  # top 64 KiB of guest RAM: HEST + etc/hardware_errors
class CPUState:
    """One vCPU as the VMM holds it: its thread, its vCPU fd and its kvm_run page."""

    def __init__(self, index: int, task):
        self.index, self.task = index, task
        self.fd = -1
        self.run = bytearray()


class VmmAbort(Exception):
    """QEMU called abort() or exit(): the VM is gone."""


_MCEERR_NAMES = {BUS_MCEERR_AR: "BUS_MCEERR_AR", BUS_MCEERR_AO: "BUS_MCEERR_AO"}


@functools.lru_cache(maxsize=64)
def virt_acpi_build_hest(hw_errors_gpa: int) -> tuple[bytes, bytes, int]:
    """QEMU virt's HEST bytes, ``etc/hardware_errors`` blob and number of sources for a
    blob at ``hw_errors_gpa``: a pure function of that address, built once per address."""
    hest, blob = qemu_virt_hest(hw_errors_gpa)
    return hest.encode(), blob, len(hest.sources)


class Vmm(Component):
    """One VM's VMM process (``vmm:<name>`` in the trace)."""

    def __init__(self, host, name: str, *, ram_size: int, ipa_base: int = 0x4000_0000,
                 cpu: int = 0, vcpus: int = 1, policy: str | Policy | None = None,
                 hva_base: int = HVA_BASE, hugepages: bool = False):
        super().__init__(host.engine, f"vmm:{name}")
        self.host, self.vm_name = host, name
        self.policy = get_policy(policy)
        self.ram_size, self.ipa_base, self.hva_base = ram_size, ipa_base, hva_base
        self.hugepages = hugepages  # -mem-path /dev/hugepages: guest RAM in 2 MiB folios
        self.task = host.spawn("qemu-system-aar", cpu=cpu)
        self.task.lifeline = self.name  # its ioctls and the signals it gets cross from/to "vmm:NAME"
        self.guest_lifeline: str | None = None  # the guest kernel's, set by whoever boots it
        # qemu_init_sigbus() (system/cpus.c), before any vCPU thread: early kill for the whole
        # process, so an action-optional error in guest RAM reaches QEMU at once
        host.sys_prctl(self.task, PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY)
        self.cpus = [CPUState(i, self._vcpu_thread(i, cpu)) for i in range(vcpus)]
        self.work: list = []  # run_on_cpu() items, run when the vCPU thread is out of KVM_RUN
        self.io_thread = None
        self.state = "running"
        self.log: list[str] = []
        self.hwpoison_pages: list[int] = []
        self._setup()

    def _vcpu_thread(self, i: int, cpu: int):
        """qemu_thread_create() for vCPU ``i``: a thread of this process (shared mm and fd
        table) on physical CPU ``cpu + i``; SIGBUS and SIG_IPI handled as QEMU does."""
        t = self.task
        if i:
            t = self.host.clone_thread(self.task, "qemu-system-aar",
                                       cpu=(cpu + i) % len(self.host.machine.pes))
        t.handlers.update((SIGBUS, SIGUSR1))
        t.actions[SIGBUS] = lambda info: self.sigbus_handler(info, self.cpus[i])
        t.actions[SIGUSR1] = lambda info: self.sig_ipi_handler(info, self.cpus[i])
        return t

    # --- system calls -------------------------------------------------------------------
    def ioctl(self, fd: int, cmd: int, arg=0, task=None):
        return self.host.sys_ioctl(task or self.task, fd, cmd, arg)

    def error_report(self, msg: str) -> None:
        self.log.append(msg)
        self.trace("error_report", message=msg)

    def _setup(self) -> None:
        h, t = self.host, self.task
        self.kvm_fd = h.sys_open(t, "/dev/kvm")
        self.caps = {c: self.ioctl(self.kvm_fd, uapi.KVM_CHECK_EXTENSION, c) for c in uapi.CAPS}
        self.vm_fd = self.ioctl(self.kvm_fd, uapi.KVM_CREATE_VM)
        h.sys_mmap(t, self.hva_base, self.ram_size,
                   state="hugetlb" if self.hugepages else "anon_dirty")
        region = uapi.KvmUserspaceMemoryRegion(slot=0, flags=0, guest_phys_addr=self.ipa_base,
                                               memory_size=self.ram_size, userspace_addr=self.hva_base)
        self.ioctl(self.vm_fd, uapi.KVM_SET_USER_MEMORY_REGION, region.encode())
        self.enable_design_cap()
        init = uapi.KvmVcpuInit(target=uapi.KVM_ARM_TARGET_GENERIC_V8, features=bytes(28))
        for c in self.cpus:
            c.fd = self.ioctl(self.vm_fd, uapi.KVM_CREATE_VCPU, c.index, task=c.task)
            self.ioctl(c.fd, uapi.KVM_ARM_VCPU_INIT, init.encode(), task=c.task)
            c.run = h.sys_mmap_fd(c.task, c.fd)
        # virt-acpi-build: the HEST and the hardware_errors blob, in guest RAM (reserved)
        self.tables_gpa = self.ipa_base + self.ram_size - TABLES_SIZE
        self.hw_errors_gpa = self.tables_gpa + 0x1000
        hest, blob, sources = virt_acpi_build_hest(self.hw_errors_gpa)
        self.ghes = AcpiGhes(self, qemu_hardware_errors(self.hw_errors_gpa, sources))
        self.write_guest(self.tables_gpa, hest)
        self.write_guest(self.hw_errors_gpa, blob)
        self.trace("acpi_build", HEST=self.tables_gpa, hardware_errors=self.hw_errors_gpa,
                   sources=["SEA", "GPIO"])

    def enable_design_cap(self) -> int:
        """Opt the VM into its design: KVM_ENABLE_CAP with the policy's VM capability, once
        KVM_CHECK_EXTENSION says it is there (QEMU's kvm_vm_enable_cap() after
        kvm_check_extension()); KVM keeps it as a flag of this VM."""
        cap = self.policy.vm_cap
        if cap is None:
            return 0
        have = self.caps.get(cap)
        if have is None:
            have = self.caps[cap] = self.ioctl(self.kvm_fd, uapi.KVM_CHECK_EXTENSION, cap)
        if have <= 0:  # the VM runs without it: KVM's default path
            return -1
        arg = uapi.KvmEnableCap(cap=cap, flags=0, args0=0, args1=0, args2=0, args3=0,
                                pad=bytes(64))
        return self.ioctl(self.vm_fd, uapi.KVM_ENABLE_CAP, arg.encode())

    def guest_tables(self) -> dict[str, int]:
        return {"HEST": self.tables_gpa}

    @property
    def tables_region(self) -> tuple[int, int]:
        return (self.tables_gpa, TABLES_SIZE)

    # --- guest memory through our own mapping -----------------------------------------------
    def gpa_to_hva(self, gpa: int) -> int | None:
        off = gpa - self.ipa_base
        return self.hva_base + off if 0 <= off < self.ram_size else None

    def hva_to_gpa(self, hva: int) -> int | None:
        """kvm_physical_memory_addr_from_host(): HVA -> GPA through our memslot."""
        off = hva - self.hva_base
        return self.ipa_base + off if 0 <= off < self.ram_size else None

    def write_guest(self, gpa: int, data: bytes) -> int:
        return self.host.copy_to_user(self.task, self.gpa_to_hva(gpa), data)

    def read_guest_u64(self, gpa: int) -> int:
        raw = self.host.copy_from_user(self.task, self.gpa_to_hva(gpa), 8)
        return -1 if isinstance(raw, int) else int.from_bytes(raw, "little")

    # --- the vCPU thread -----------------------------------------------------------------
    def start(self) -> None:
        for c in self.cpus:
            self.engine.process(self.kvm_cpu_exec(c), name=f"{self.name}:vcpu{c.index}")

    def kvm_cpu_exec(self, cpu: CPUState):
        """kvm_cpu_exec(): KVM_RUN until the VM stops; act on each exit."""
        while self.state == "running" and cpu.task.alive:
            ret = yield self.host.sys_ioctl(cpu.task, cpu.fd, uapi.KVM_RUN)
            if not cpu.task.alive or self.state != "running":
                break
            if ret == -EINTR:
                if self.host.machine.halted:
                    break
                continue
            if ret < 0:
                self.error_report(f"kvm run failed {ret}")
                self.stop("stopped")
                break
            try:
                self.handle_exit(cpu)
            except VmmAbort:
                break

    def handle_exit(self, cpu: CPUState) -> None:
        head, payload = uapi.decode_exit(bytes(cpu.run))
        reason = head.exit_reason
        self.trace("kvm_exit_to_vmm", reason=uapi.EXIT_REASONS.get(reason, reason),
                   **({"payload": payload.to_dict()} if payload is not None else {}))
        if reason == uapi.KVM_EXIT_SYSTEM_EVENT:
            self.stop("panic")
            raise VmmAbort
        kvm_arch_handle_exit(self, cpu, reason, payload)

    def stop(self, state: str) -> None:
        self.state = state
        self.trace("vm_state", state=state)

    def abort(self, code: int | None = None) -> None:
        """abort() (SIGABRT) or exit(code): the process and its VM end."""
        self.host.sys_exit(self.task, code or 0, sig=SIGABRT if code is None else None)
        self.stop("stopped")
        raise VmmAbort

    # --- the VMM's own memory and threads ------------------------------------------------
    def heap_thread(self, va: int, size: int = 0x1_0000):
        """A worker thread (an iothread) sharing our mm, and a heap mapping at ``va``."""
        if self.io_thread is None:
            cpu = (self.task.cpu + 1) % len(self.host.machine.pes)
            # an iothread blocks SIGBUS (QEMU takes it through signalfd in the main loop):
            # an action-required SIGBUS forced on it kills the process (kvm_on_sigbus)
            self.io_thread = self.host.clone_thread(self.task, "qemu-system-aar", cpu=cpu)
            self.host.sys_mmap(self.task, va, size)
        return self.io_thread

    def touch_heap(self, va: int) -> None:
        """The iothread loads from its heap (a program at EL0 on its CPU)."""
        t = self.heap_thread(va)
        self.host.start_user(t, (("load", va),))
        self.host.schedule(self.host.machine.pes[t.cpu])

    # --- SIG_IPI: run_on_cpu -----------------------------------------------------------------
    def run_on_cpu(self, cpu: CPUState, fn) -> None:
        """Queue ``fn`` for the vCPU thread and kick it out of KVM_RUN (qemu_cpu_kick)."""
        self.work.append((cpu, fn))
        self.host.kill(cpu.task, SIGUSR1)

    def sig_ipi_handler(self, info, cpu: CPUState) -> None:
        mine = [fn for c, fn in self.work if c is cpu]
        self.work = [(c, fn) for c, fn in self.work if c is not cpu]
        for fn in mine:
            fn()

    def inject_vserror(self, esr: int | None, vcpu: int = 0) -> None:
        """A virtual SError with a chosen syndrome (``None``: KVM chooses): KVM_SET_VCPU_EVENTS
        from the vCPU thread, as kvm_arch_put_registers() does."""
        cpu = self.cpus[vcpu]
        self.run_on_cpu(cpu, lambda: set_vcpu_events(
            self, cpu, serror_pending=1, serror_has_esr=int(esr is not None),
            serror_esr=esr or 0))

    # --- SIGBUS: kvm_arch_on_sigbus_vcpu ---------------------------------------------------
    def sigbus_handler(self, info, cpu: CPUState) -> None:
        code, addr = info.si_code, info.si_addr
        self.trace("sigbus", si_code=_MCEERR_NAMES.get(code, code), si_addr=addr)
        if code not in (BUS_MCEERR_AR, BUS_MCEERR_AO):  # sigbus_reraise(): die of it
            self.host.sys_exit(self.task, 0, sig=SIGBUS)
            self.stop("stopped")
            return
        try:
            kvm_arch_on_sigbus_vcpu(self, cpu, code, addr)
        except VmmAbort:
            pass

    def kvm_hwpoison_page_add(self, gpa: int, hva: int) -> None:
        """accel/kvm kvm_hwpoison_page_add(): remember a poisoned page, once."""
        if gpa not in self.hwpoison_pages:
            self.hwpoison_pages.append(gpa)
            self.trace("kvm_hwpoison_page_add", gpa=gpa, hva=hva)

    def inject_ghes_v2_error(self, cper_b64: str) -> dict:
        """QMP ``inject-ghes-v2-error`` (hw/acpi/ghes_cper.c)."""
        return self.ghes.inject_ghes_v2_error(cper_b64)
