"""Assembling a whole system from every layer: the machine and its EL3 firmware, the host
kernel with KVM, one VMM process and one guest kernel per VM, user processes, and faults.
This is the one place that imports all the layers (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine import Engine, Trace
from ..firmware import El3Firmware, El3Policy, Platform
from ..firmware.platform import SourceSpec
from ..formats.arm.sysreg import HCR_EL2
from ..formats.linux.mm import MceKill
from ..formats.linux.siginfo import SIGBUS
from ..hw import Machine
from ..kernel import Kernel
from ..kvm import Kvm
from ..policy import get_policy
from ..vmm import Vmm

MAX_STEPS = 2_000_000
SDEI_ENTRY = 0xFFFF_8000_0803_0000  # the host's __sdei_asm_handler
VHE_HOST = HCR_EL2.encode(RW=1, E2H=1, TGE=1)
DEVICE_VA_STATE = "device"
EL3_SERROR = {"tf-a": "never", "reflect": "uncorrected"}  # machine.el3_serror -> El3Policy
MCE_KILL = {"default": MceKill(), "early": MceKill(process=True, early=True),
            "late": MceKill(process=True, early=False)}


class System:
    """The model of one machine running VMs. Components in the trace: ``machine``/``cpuN``
    (hardware), ``fw``, ``host``, ``kvm``, ``vmm:<vm>``, ``guest:<vm>``."""

    def __init__(self, *, cpus: int = 2, ram: int = 2 << 30, ram_base: int = 0x4000_0000,
                 ras: bool = True, firmware_first: bool = True,
                 notifications: tuple[str, ...] = ("SEA", "GPIO", "POLLED"), iesb: bool = True,
                 poll_interval: int = 1_000_000, el3_serror: str = "tf-a", early_kill: bool = False,
                 recovery: bool = True, panic_on_oops: bool = True, seed: int = 0,
                 trace: Trace | None = None, costs: Mapping[str, int] | None = None):
        self.engine = Engine(seed=seed, trace=trace, costs=costs)
        self._costs, self.engine.costs = self.engine.costs, dict.fromkeys(self.engine.costs, 0)
        self.machine = Machine(self.engine, cpus=cpus, ram=[(ram_base, ram)], ras=ras,
                               firmware_first=firmware_first, hcr_el2=VHE_HOST, iesb=iesb)
        sources = [SourceSpec("POLLED", poll_interval_ms=max(1, poll_interval // 1_000_000))
                   if n == "POLLED" else n for n in notifications]
        self.platform = Platform(self.machine, sources=sources)
        el3 = El3Policy(delegate_serror=EL3_SERROR[el3_serror])
        self.fw = El3Firmware(self.machine, self.platform, policy=el3) if firmware_first else None
        self.host = Kernel(self.machine, el=2, name="host", tables=self.platform.tables(),
                           reserved=(self.platform.region,), sysctl=_sysctl(early_kill, recovery, panic_on_oops))
        self.kvm = Kvm(self.host)
        if self.fw is not None and self.host.ghes is not None:  # sdei_register_ghes + enable
            for event in self.host.ghes.sdei:
                self.fw.sdei_event_register(event, 2, SDEI_ENTRY)
        self.vmms: dict[str, Vmm] = {}
        self.guests: dict[str, Kernel] = {}
        self.tasks: dict[str, tuple[Kernel, Any]] = {}

    # --- building ----------------------------------------------------------------------
    def kernel(self, name: str) -> Kernel:
        return self.host if name == "host" else self.guests[name]

    def add_vm(self, name: str, *, ram: int = 512 << 20, ipa_base: int = 0x4000_0000,
               policy: str | None = None, cpu: int = 0, vcpus: int = 1, ras: bool = True,
               early_kill: bool = False, recovery: bool = True, hugepages: bool = False) -> Kernel:
        """A VMM process that creates the VM through /dev/kvm, and the guest kernel booted
        on the tables the VMM wrote into guest RAM."""
        pol = get_policy(policy)
        vmm = Vmm(self.host, name, ram_size=ram, ipa_base=ipa_base, cpu=cpu, vcpus=vcpus,
                  policy=pol, hugepages=hugepages)
        vm = self.kvm.vms[-1]
        vm.guest_ras = ras and self.kvm.ras
        guest = Kernel(vm.view, el=1, name=f"guest:{name}", tables=vmm.guest_tables(),
                       reserved=(vmm.tables_region,), sysctl=_sysctl(early_kill, recovery),
                       ras_agent=pol.guest_agent)
        vm.view.kernel = guest
        vmm.guest_lifeline = guest.name
        self.vmms[name], self.guests[name] = vmm, guest
        self.tasks[f"vmm:{name}"] = (self.host, vmm.task)
        return guest

    def add_process(self, kernel: str, name: str, *, memory: int = 64 << 10,
                    va: int = 0x1000_0000, page: str = "anon_dirty", share: str | None = None,
                    mce_kill: str = "default", sigbus_handler: bool = False, cpu: int = 0,
                    program: tuple = (), start: int = 0):
        k = self.kernel(kernel)
        task = k.spawn(name, cpu=cpu)
        task.lifeline = f"{kernel}:{name}"
        shared = self.tasks[f"{kernel}:{share}"][1] if share else None
        k.sys_mmap(task, va, memory, state=page, shared_with=shared)
        task.mce_kill = MCE_KILL[mce_kill]
        if sigbus_handler:
            task.handlers.add(SIGBUS)
        self.tasks[f"{kernel}:{name}"] = (k, task)
        if program:
            k.start_user(task, ((("sleep", start),) if start else ()) + tuple(program))
            if kernel == "host":
                self.engine.schedule(0, self._run_host, cpu)
        return task

    def _run_host(self, cpu: int) -> None:
        self.host.schedule(self.machine.pes[cpu])

    # --- addresses ---------------------------------------------------------------------------
    def process_pa(self, proc: str, va: int) -> int | None:
        """The host PA behind ``va`` of process ``host:NAME``/``VM:NAME`` (faulted in)."""
        return self.process_pa_of(*self.tasks[proc], va)

    def process_pa_of(self, kernel: Kernel, task, va: int) -> int | None:
        addr = kernel.user_pa(task, va)
        if addr is None or kernel is self.host:
            return addr
        return kernel.machine.stage2(addr)

    def ipa_to_pa(self, vm: str, ipa: int) -> int | None:
        return self.guests[vm].machine.stage2(ipa)

    def kernel_page_pa(self, kernel: str) -> int:
        """A page the kernel allocated for itself (slab, page tables)."""
        k = self.kernel(kernel)
        pa = k.pages.alloc("kernel") << 12
        return pa if k is self.host else self.ipa_to_pa(kernel, pa)

    # --- running ---------------------------------------------------------------------------
    def start(self) -> None:
        """The scenario's t=0: the clock starts counting costs (building and booting the
        system, before it, is off the clock) and the VMMs start their vCPUs."""
        self.engine.costs = self._costs
        for vmm in self.vmms.values():
            vmm.start()

    def run(self, until: int | None = None) -> None:
        self.engine.run(until=until, max_steps=MAX_STEPS)


def _sysctl(early_kill: bool, recovery: bool, panic_on_oops: bool = True) -> dict[str, int]:
    return {"vm.memory_failure_early_kill": int(early_kill),
            "vm.memory_failure_recovery": int(recovery), "kernel.panic_on_oops": int(panic_on_oops)}
