"""The kernel: one model class, instantiated for the host (EL2, VHE) and for guests (EL1).

    kernel = Kernel(machine, el=2, name="host", tables=platform.tables())
    task = kernel.spawn("busybox")          # an EL0 process; kernel.current[cpu] = task
    kernel.dmesg                            # every printk line, in order

It installs its vectors at its EL on every PE, finds the firmware's error sources by
parsing the HEST bytes at the address the firmware published (what the OS learns from the
RSDP/XSDT), and keeps its log. Every printk is also one ``printk`` trace event.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..engine import Component
from ..formats.linux.siginfo import SIGBUS
from .apei.estatus import NSEC_PER_SEC, Ratelimit
from .apei.ghes import GhesDriver
from .apei.hest import hest_init
from .arch import ArchEntry
from .arch.ras_agent import RasAgent
from .mm import MemoryFailure, Pages
from .syscall import Syscalls
from .task import SigInfo, Task, force_sig, force_sig_info

IPI_RESCHEDULE = 0
DEFAULT_SYSCTL = {"vm.memory_failure_recovery": 1, "vm.memory_failure_early_kill": 0}


class Kernel(Syscalls, Component):
    """One Linux kernel at ``el`` (2: the VHE host, 1: a guest)."""

    def __init__(self, machine, *, el: int = 2, name: str = "host",
                 sysctl: dict[str, int] | None = None, tables: dict[str, int] | None = None,
                 reserved: tuple[tuple[int, int], ...] = (), ras_agent: bool = False,
                 nomap: tuple[tuple[int, int], ...] = ()):
        super().__init__(machine.engine, name)
        self.machine = machine
        self.memory = machine.memory
        self.el = el
        self.sysctl = {**DEFAULT_SYSCTL, **(sysctl or {})}
        self.dmesg: list[str] = []
        self.tasks: dict[int, Task] = {}
        self.current: dict[int, Task | None] = {}
        self.chrdevs: dict = {}
        self.rmap: dict[int, list[tuple[Task, int]]] = {}  # pfn -> (task, VA) mapping it
        self.runqueue: dict[int, deque] = {}
        self.this_cpu = 0  # smp_processor_id() of the code running now
        self.cpu_id = getattr(machine, "cpu_id", None) or (lambda pe: pe.index)
        self._next_pid = 1
        self._printk_ratelimit: dict[str, Ratelimit] = {}
        ram = tuple((r.base, r.size) for r in self.memory.ram)
        self.pages = Pages(ram, reserved, nomap)
        self.mf = MemoryFailure(self, self.pages)
        self.arch = ArchEntry(self)
        self.ghes: GhesDriver | None = None
        self.ras_agent = RasAgent(self) if ras_agent else None  # the RAS PRD's guest agent
        for pe in machine.pes:
            pe.install(el, self.arch)
            if self.ras_agent is not None:
                self.ras_agent.register(pe)
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
        """A new user process; current on ``cpu`` if nothing else runs there."""
        if pid is None:
            pid = self._next_pid
        self._next_pid = max(self._next_pid, pid) + 1
        task = self.tasks[pid] = Task(pid, comm, cpu=cpu)
        running = self.current.get(cpu)
        if running is None or not running.alive:  # an idle CPU: the new task runs there
            self.current[cpu] = task
        engine = self.engine  # self.trace(...), inline (here and on the other per-flow events)
        engine.trace.emit(engine.now, self.name, "sched_process_fork",
                          {"pid": pid, "comm": comm, "cpu": cpu})
        return task

    def clone_thread(self, leader: Task, comm: str, *, cpu: int) -> Task:
        """clone(CLONE_VM|CLONE_FILES|CLONE_THREAD): a thread of ``leader``'s process."""
        t = self.spawn(comm, cpu=cpu)
        t.mm, t.vmas, t.poisoned, t.files = leader.mm, leader.vmas, leader.poisoned, leader.files
        t.mce_kill = leader.mce_kill  # copy_process() keeps PF_MCE_PROCESS / PF_MCE_EARLY
        t.group = leader.group
        t.group.append(t)
        t.lifeline = leader.lifeline
        return t

    def start_user(self, task: Task, program) -> None:
        """Queue ``task``'s program on its CPU; :meth:`schedule` runs it at EL0."""
        self.runqueue.setdefault(task.cpu, deque()).append((task, program))

    def schedule(self, pe) -> bool:
        """The CPU is ours: run the next queued user program on ``pe`` (False if none)."""
        queue = self.runqueue.get(self.cpu_id(pe))
        if not queue or pe.busy:  # busy: it runs when the current one ends
            return False
        task, program = queue.popleft()
        if task.exit_signal is not None or task.exit_code is not None:  # not task.alive
            return self.schedule(pe)
        self.current[task.cpu] = task
        if self.el == 2 and task.kick is None:  # signal_wake_up(): an IPI to its CPU
            task.kick = lambda: pe.raise_interrupt(IPI_RESCHEDULE)
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "sched_switch",
                          {"cpu": task.cpu, "next_pid": task.pid, "next_comm": task.comm})
        proc = pe.run(program, self.user_mmu(task), el=0, resume=True)
        proc.callbacks.append(lambda _: self.schedule(pe))  # run to completion, then the next
        return True

    def user_mmu(self, task: Task):
        """The translation the PE uses for ``task``: its page tables, then (in a guest) the
        stage 2 the hypervisor installed (``machine.stage2``: IPA -> PA)."""
        stage2 = getattr(self.machine, "stage2", None)
        user_pa = self.user_pa
        if stage2 is None:
            return lambda va: user_pa(task, va)

        def mmu(va: int):
            ipa = user_pa(task, va)
            return None if ipa is None else (stage2(ipa), ipa)

        return mmu

    def current_task(self, cpu: int | None = None) -> Task | None:
        """``current`` on ``cpu`` (default: the CPU this kernel code runs on)."""
        return self.current.get(self.this_cpu if cpu is None else cpu)

    def force_sig(self, task: Task, sig: int = SIGBUS) -> None:
        force_sig(self, task, sig)

    def kill(self, task: Task, sig: int) -> None:
        """kill()/tgkill() from user space: SI_TKILL."""
        force_sig_info(self, task, SigInfo(sig, -6))

    # --- log and death --------------------------------------------------------------------
    def printk(self, line: str) -> None:
        self.dmesg.append(line)
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "printk", {"line": line})

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
