"""Processes and signals (kernel/signal.c, include/linux/sched.h), as small as the RAS path
needs: a task has a pid, a comm, an mm (user VA page -> pfn), its PF_MCE_* policy, the
signals it handles, pending signals and task_work run on return to user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...formats.linux.mm import MceKill
from ...formats.linux.siginfo import SIGBUS

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT


@dataclass(slots=True)
class SigInfo:
    """The kernel_siginfo fields the RAS path fills (si_addr_lsb for BUS_MCEERR_*)."""

    si_signo: int
    si_code: int
    si_addr: int = 0
    si_addr_lsb: int = 0


@dataclass(slots=True)
class Vma:
    """struct vm_area_struct, as far as page faults and rmap need it: [start, end), the
    kind of page a fault allocates, and (MAP_SHARED) the task whose pages it maps."""

    start: int
    end: int
    state: str = "anon_dirty"
    shared_with: Task | None = None
    pa: int | None = None  # a device mapping (ioremap/VFIO): the physical address of ``start``
    huge: dict[int, int] = field(default_factory=dict)  # hugetlb: huge-page VA -> head pfn


@dataclass(eq=False, slots=True)
class Task:
    """struct task_struct, the few members used here."""

    pid: int
    comm: str
    mm: dict[int, int] | None = field(default_factory=dict)  # user VA page -> pfn; None: kthread
    mce_kill: MceKill = MceKill()
    handlers: set[int] = field(default_factory=set)  # signals with a user handler
    pending: list[SigInfo] = field(default_factory=list)
    task_works: list[Callable[[], Any]] = field(default_factory=list)
    exit_signal: int | None = None  # set when a signal killed the task
    exit_code: int | None = None  # set when the task called exit()
    vmas: list[Vma] = field(default_factory=list)
    actions: dict[int, Callable[[SigInfo], Any]] = field(default_factory=dict)  # user code of a handler
    files: dict[int, Any] = field(default_factory=dict)  # fd -> open file
    cpu: int = 0
    poisoned: set[int] = field(default_factory=set)  # VA pages whose pte is a hwpoison entry
    kick: Callable[[], Any] | None = None  # set while in guest mode: kvm_vcpu_kick()
    group: list[Task] = field(default_factory=list)  # the thread group (shares mm, files)
    # the name its creator gives it in traces ("vm0:app", "vmm:vm0"): interface crossings
    # into and out of the task (a signal, an ioctl) name it as their other end
    lifeline: str | None = None

    def __post_init__(self) -> None:
        self.group.append(self)

    @property
    def alive(self) -> bool:
        return self.exit_signal is None and self.exit_code is None

    def find_vma(self, va: int) -> Vma | None:
        for v in self.vmas:
            if v.start <= va < v.end:
                return v
        return None

    def vma_address(self, pfn: int) -> int | None:
        """page_address_in_vma(): the user VA this task maps ``pfn`` at, or None."""
        if not self.mm:
            return None
        return next((va for va, p in self.mm.items() if p == pfn), None)


def force_sig_info(kernel, task: Task, info: SigInfo) -> None:
    """Queue a signal (force: it cannot be blocked); delivered on return to user."""
    task.pending.append(info)
    engine = kernel.engine  # kernel.trace(...), inline: once per signal
    fields = {"pid": task.pid, "comm": task.comm, "sig": info.si_signo,
              "code": info.si_code, "addr": info.si_addr, "addr_lsb": info.si_addr_lsb}
    if task.lifeline is not None:  # the crossing: kernel -> the task
        fields["to"] = task.lifeline
    engine.trace.emit(engine.now, kernel.name, "signal_generate", fields)
    if task.kick is not None:  # signal_wake_up(): a vCPU in guest mode is kicked out
        task.kick()


def force_sig(kernel, task: Task, sig: int = SIGBUS) -> None:
    """force_sig(): SI_KERNEL (0x80)."""
    force_sig_info(kernel, task, SigInfo(sig, 0x80))


def get_signal(kernel, task: Task) -> bool:
    """Deliver the pending signals: a handled one runs the handler, an unhandled fatal one
    kills the task. True if the task survives."""
    pending = task.pending
    if not pending:
        return True
    task.pending = []
    engine = kernel.engine
    for info in pending:
        handled = info.si_signo in task.handlers
        engine.spend("signal_delivery", kernel.name)
        engine.trace.emit(engine.now, kernel.name, "signal_deliver",  # kernel.trace(...), inline
                          {"pid": task.pid, "comm": task.comm, "sig": info.si_signo,
                           "code": info.si_code, "addr": info.si_addr,
                           "addr_lsb": info.si_addr_lsb, "handled": handled})
        if not handled:
            task.exit_signal = info.si_signo
            return False
        action = task.actions.get(info.si_signo)
        if action is not None:
            action(info)
            if not task.alive:
                return False
    return True
