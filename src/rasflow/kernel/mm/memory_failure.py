"""mm/memory-failure.c: memory_failure(), soft_offline_page(), memory_failure_queue() and
its worker, kill_procs()/kill_accessing_process() (SIGBUS BUS_MCEERR_AR/AO)."""

from __future__ import annotations

from collections import deque

from ...formats.linux.errno import EBUSY, EFAULT, EHWPOISON, ENXIO
from ...formats.linux.mm import (
    MF_ACTION_REQUIRED,
    MF_DELAYED,
    MF_FAILED,
    MF_IGNORED,
    MF_RECOVERED,
    MF_SOFT_OFFLINE,
    PR_FMT,
    action_result_return,
    kill_proc_line,
    mf_flag_names,
    recovery_action_line,
)
from ...formats.linux.siginfo import BUS_MCEERR_AO, BUS_MCEERR_AR, SIGBUS
from ..task import SigInfo, Task, force_sig_info
from .page import HPAGE_ORDER, PAGE_SHIFT, Pages

MF_QUEUE_SIZE = 16  # memory_failure_fifo: a kfifo of 16 entries per CPU

# page state -> (enum mf_action_page_type, result) after unmapping (the error_states[] walk)
_ACTIONS = {
    "buddy": ("MF_MSG_BUDDY", MF_RECOVERED),
    "anon_dirty": ("MF_MSG_DIRTY_LRU", MF_RECOVERED),
    "anon_clean": ("MF_MSG_CLEAN_LRU", MF_RECOVERED),
    "pagecache_dirty": ("MF_MSG_DIRTY_LRU", MF_FAILED),
    "pagecache_clean": ("MF_MSG_CLEAN_LRU", MF_RECOVERED),
    "kernel": ("MF_MSG_KERNEL", MF_IGNORED),
    "reserved": ("MF_MSG_KERNEL", MF_IGNORED),
    "hugetlb": ("MF_MSG_HUGE", MF_RECOVERED),
}
_DIRTY = frozenset(state for state in _ACTIONS if state.endswith("dirty"))  # forcekill


class MemoryFailure:
    """The memory-failure side of one kernel (its pages, tasks and log)."""

    def __init__(self, kernel, pages: Pages):
        self.kernel = kernel
        self.pages = pages
        self.fifo: dict[int, deque[tuple[int, int]]] = {}
        self._work_scheduled: set[int] = set()

    # --- memory_failure ------------------------------------------------------------------
    def action_result(self, pfn: int, page_type: str, result: int) -> int:
        k = self.kernel
        engine = k.engine  # k.trace(...), inline (here and on the other per-flow events)
        engine.trace.emit(engine.now, k.name, "memory_failure_event",
                          {"pfn": pfn, "type": page_type, "result": result})
        k.printk(recovery_action_line(pfn, page_type, result))
        return action_result_return(result)

    def memory_failure(self, pfn: int, flags: int) -> int:
        """Returns 0, -EBUSY, -EHWPOISON, -ENXIO (or -EFAULT from kill_accessing_process)."""
        k = self.kernel
        engine = k.engine
        engine.trace.emit(engine.now, k.name, "memory_failure",
                          {"pfn": pfn, "flags": mf_flag_names(flags)})
        engine.spend("memory_failure", k.name)
        if not k.sysctl.get("vm.memory_failure_recovery", 1):
            k.panic(f"Memory failure on page {pfn:x}")
            return -EBUSY
        pages = self.pages
        if not pages.online(pfn):  # no pfn_to_online_page(), no dev_pagemap
            k.printk(f"{PR_FMT}{pfn:#x}: memory outside kernel control")
            return -ENXIO
        page = pages.page(pfn)
        if page.hwpoison:
            res = -EHWPOISON
            if flags & MF_ACTION_REQUIRED:
                res = self.kill_accessing_process(k.current_task(), pfn, flags)
            self.action_result(pfn, "MF_MSG_ALREADY_POISONED", MF_FAILED)
            return res
        state = page.state
        if state == "hugetlb":
            return self.try_memory_failure_hugetlb(pfn, flags)
        page.hwpoison = True
        page_type, result = _ACTIONS[state]
        if state == "kernel" or state == "reserved":  # get_hwpoison_page(): not HWPoisonHandlable
            k.printk(f"{PR_FMT}{pfn:#x}: unhandlable page.")
            return self.action_result(pfn, "MF_MSG_GET_HWPOISON", MF_IGNORED)
        if state != "buddy":
            self.hwpoison_user_mappings(pfn, flags, forcekill=state in _DIRTY)
            page.state = "isolated"
        return self.action_result(pfn, page_type, result)

    def try_memory_failure_hugetlb(self, pfn: int, flags: int) -> int:
        """A hugetlb folio: the head is poisoned, every mapping of the 2 MiB page goes, and
        the signals carry the huge page's address with si_addr_lsb 21 ("huge page")."""
        head = self.pages.huge_head[pfn]
        self.pages.page(head).hwpoison = True
        self.hwpoison_user_mappings(head, flags, forcekill=True, order=HPAGE_ORDER, report=pfn)
        return self.action_result(pfn, "MF_MSG_HUGE", MF_RECOVERED)

    def hwpoison_user_mappings(self, pfn: int, flags: int, *, forcekill: bool,
                               order: int = 0, report: int | None = None) -> None:
        """Unmap the page (a 2**order folio at head ``pfn``) from every mm; collect_procs()
        + kill_procs(): per process (the threads sharing an mm), the accessing thread on
        MF_ACTION_REQUIRED, else the process when it is early-kill; unmapped pages lose
        the pte. The signal names the folio's first address, si_addr_lsb its shift."""
        k = self.kernel
        current = k.current_task()
        ar = flags & MF_ACTION_REQUIRED
        tokill = []
        mms: dict[int, tuple[list[Task], list[tuple[int, int]]]] = {}
        rmap_pop = k.rmap.pop
        for sub in range(pfn, pfn + (1 << order)):
            for mapper, v in rmap_pop(sub, ()):  # rmap_walk: who maps it, and where
                mm = mapper.mm
                if mm and mapper.alive and mm.get(v) == sub:
                    group = mms.get(id(mm))
                    if group is None:
                        group = mms[id(mm)] = ([t for t in mapper.group if t.alive], [])
                    group[1].append((v, sub))
        for threads, mapped in mms.values():
            leader = threads[0]
            leader_mm = leader.mm
            for v, _ in mapped:
                leader_mm.pop(v, None)  # try_to_unmap: the pte becomes a hwpoison entry
                for t in threads:
                    t.poisoned.add(v)
            va = mapped[0][0] - ((mapped[0][1] - pfn) << PAGE_SHIFT)
            if ar and current in threads:
                tokill.append((current, va, True))
            else:
                mce_kill = leader.mce_kill
                if (mce_kill.process and mce_kill.early) or (
                        not mce_kill.process and k.sysctl.get("vm.memory_failure_early_kill", 0)):
                    tokill.append((leader, va, False))
        if forcekill:
            if report is None:
                report = pfn
            for task, va, is_ar in tokill:
                self.kill_proc(task, va, report, is_ar, PAGE_SHIFT + order)

    def kill_proc(self, task: Task, va: int, pfn: int, ar: bool, lsb: int = PAGE_SHIFT) -> None:
        k = self.kernel
        k.printk(kill_proc_line(pfn, task.comm, task.pid))
        force_sig_info(k, task, SigInfo(SIGBUS, BUS_MCEERR_AR if ar else BUS_MCEERR_AO, va, lsb))

    def kill_accessing_process(self, task: Task | None, pfn: int, flags: int) -> int:
        """An already-poisoned page touched again: SIGBUS AR to the task if its mm maps it."""
        if task is None or not task.mm:
            return -EHWPOISON
        va = task.vma_address(pfn)
        if va is None:
            return -EFAULT
        self.kill_proc(task, va, pfn, True)
        return -EHWPOISON

    # --- soft offline ------------------------------------------------------------------
    def soft_offline_page(self, pfn: int, flags: int) -> int:
        k = self.kernel
        k.trace("soft_offline_page", pfn=pfn)
        if not self.pages.pfn_valid(pfn):
            return -ENXIO
        page = self.pages.page(pfn)
        if page.hwpoison:
            k.printk(f"{PR_FMT}soft_offline_page: {pfn:#x} page already poisoned")
            return 0
        if page.state in ("kernel", "reserved"):
            k.printk(f"{PR_FMT}{pfn:#x}: unknown page type: {page.state}")
            return -EBUSY
        page.hwpoison = True  # free: taken off the buddy; in use: migrated, then poisoned
        page.state = "buddy"
        return 0

    # --- memory_failure_queue and its worker -------------------------------------------
    def memory_failure_queue(self, pfn: int, flags: int, cpu: int = 0) -> None:
        fifo = self.fifo.setdefault(cpu, deque())
        if len(fifo) >= MF_QUEUE_SIZE:
            self.kernel.printk(f"{PR_FMT}buffer overflow when queuing memory failure at {pfn:#x}")
            return
        fifo.append((pfn, flags))
        self.kernel.trace("memory_failure_queue", pfn=pfn, flags=mf_flag_names(flags), cpu=cpu)
        if cpu not in self._work_scheduled:
            self._work_scheduled.add(cpu)
            self.kernel.engine.schedule(0, self.memory_failure_work_func, cpu)

    def memory_failure_work_func(self, cpu: int) -> None:
        self._work_scheduled.discard(cpu)
        fifo = self.fifo.get(cpu, deque())
        while fifo:
            pfn, flags = fifo.popleft()
            if flags & MF_SOFT_OFFLINE:
                self.soft_offline_page(pfn, flags)
            else:
                self.memory_failure(pfn, flags)


__all__ = ["MF_DELAYED", "MF_QUEUE_SIZE", "MemoryFailure"]
