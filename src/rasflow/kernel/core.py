"""The kernel: one model class, instantiated for the host (EL2, VHE) and for guests (EL1).

    kernel = Kernel(machine, el=2, name="host", tables=platform.tables())
    task = kernel.spawn("busybox")          # an EL0 process; kernel.current[cpu] = task
    kernel.dmesg                            # every printk line, in order

It installs its vectors at its EL on every PE, finds the firmware's error sources by
parsing the HEST bytes at the address the firmware published (what the OS learns from the
RSDP/XSDT), and keeps its log. Every printk is also one ``printk`` trace event.
"""

from __future__ import annotations

from typing import Any

from ..engine import Component
from ..formats.linux.siginfo import SIGBUS
from .apei.estatus import NSEC_PER_SEC, Ratelimit
from .apei.ghes import GhesDriver
from .apei.hest import hest_init
from .arch import ArchEntry
from .mm import MemoryFailure, Pages
from .task import Task, force_sig

DEFAULT_SYSCTL = {"vm.memory_failure_recovery": 1, "vm.memory_failure_early_kill": 0}


class Kernel(Component):
    """One Linux kernel at ``el`` (2: the VHE host, 1: a guest)."""

    def __init__(self, machine, *, el: int = 2, name: str = "host",
                 sysctl: dict[str, int] | None = None, tables: dict[str, int] | None = None,
                 reserved: tuple[tuple[int, int], ...] = ()):
        super().__init__(machine.engine, name)
        self.machine = machine
        self.memory = machine.memory
        self.el = el
        self.sysctl = {**DEFAULT_SYSCTL, **(sysctl or {})}
        self.dmesg: list[str] = []
        self.tasks: dict[int, Task] = {}
        self.current: dict[int, Task | None] = {}
        self._next_pid = 1
        self._printk_ratelimit: dict[str, Ratelimit] = {}
        ram = tuple((r.base, r.size) for r in self.memory.ram)
        self.pages = Pages(ram, reserved)
        self.mf = MemoryFailure(self, self.pages)
        self.arch = ArchEntry(self)
        self.ghes: GhesDriver | None = None
        for pe in machine.pes:
            pe.install(el, self.arch)
        if tables is not None:
            self.acpi_init(tables)

    # --- boot ------------------------------------------------------------------------------
    def acpi_init(self, tables: dict[str, int]) -> None:
        """hest_init + ghes_init: probe every GHES source found in the HEST bytes."""
        self.ghes = GhesDriver(self, self.memory)
        for i, generic in enumerate(hest_init(self, self.memory, tables)):
            self.ghes.ghes_probe(generic, i)

    # --- tasks --------------------------------------------------------------------------------
    def spawn(self, comm: str, *, cpu: int = 0, pid: int | None = None) -> Task:
        """A new user process, made current on ``cpu``."""
        if pid is None:
            pid = self._next_pid
        self._next_pid = max(self._next_pid, pid) + 1
        task = self.tasks[pid] = Task(pid, comm)
        self.current[cpu] = task
        self.trace("sched_process_fork", pid=pid, comm=comm, cpu=cpu)
        return task

    def current_task(self, cpu: int = 0) -> Task | None:
        return self.current.get(cpu)

    def force_sig(self, task: Task, sig: int = SIGBUS) -> None:
        force_sig(self, task, sig)

    # --- log and death --------------------------------------------------------------------
    def printk(self, line: str) -> None:
        self.dmesg.append(line)
        self.trace("printk", line=line)

    def printk_ratelimited(self, line: str, *, key: str | None = None) -> bool:
        """pr_*_ratelimited: 10 per 5 s per call site (keyed by the format's start)."""
        rl = self._printk_ratelimit.setdefault(key or line[:40], Ratelimit(5 * NSEC_PER_SEC, 10))
        if rl(self.now):
            self.printk(line)
            return True
        return False

    def panic(self, msg: str, **fields: Any) -> None:
        self.printk(f"Kernel panic - not syncing: {msg}")
        self.trace("panic", message=msg, **fields)
        self.machine.halt(f"{self.name}: kernel panic: {msg}")
