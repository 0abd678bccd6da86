"""The system-call surface a user process (the VMM) uses: open/ioctl on character devices
drivers register (``/dev/kvm``), anonymous mmap with demand paging, and the user-memory
accessors (copy_to_user/copy_from_user) that take a page fault or a hwpoison SIGBUS as the
real ones do. A driver's ``ioctl`` gets and returns struct *bytes*."""

from __future__ import annotations

from collections.abc import Generator
from types import GeneratorType
from typing import Any, Protocol

from ..formats.linux.errno import EBADF, EFAULT, EINVAL, ENOENT
from ..formats.linux.mm import (
    MCE_KILL_POLICIES,
    PR_MCE_KILL,
    PR_MCE_KILL_GET,
    prctl_mce_kill,
    prctl_mce_kill_get,
)
from ..formats.linux.siginfo import BUS_MCEERR_AR, SIGBUS
from .mm.page import HPAGE_ORDER, PAGE_SHIFT
from .task import PAGE_SIZE, SigInfo, Task, Vma, force_sig_info, get_signal

HPAGE_SIZE = 1 << (PAGE_SHIFT + HPAGE_ORDER)
PAGE_MASK = ~(PAGE_SIZE - 1)
_OFFSET_MASK = PAGE_SIZE - 1
PRCTL_OPTIONS = {PR_MCE_KILL: "PR_MCE_KILL", PR_MCE_KILL_GET: "PR_MCE_KILL_GET"}


class FileOperations(Protocol):
    """struct file_operations: what a driver registers for its device node."""

    def open(self, task: Task) -> Any: ...


class File:
    """struct file: the driver's object for one open (``private_data``)."""

    def __init__(self, private: Any, name: str):
        self.private, self.name = private, name


class Syscalls:
    """The syscalls of one kernel (a mixin of :class:`~rasflow.kernel.core.Kernel`)."""

    def register_chrdev(self, path: str, fops: FileOperations) -> None:
        self.chrdevs[path] = fops
        self.trace("register_chrdev", path=path)

    def install_fd(self, task: Task, private: Any, name: str) -> int:
        """anon_inode_getfd(): a new fd for ``private`` in ``task``'s table."""
        fd = 3 + len(task.files)
        task.files[fd] = File(private, name)
        return fd

    def sys_open(self, task: Task, path: str) -> int:
        fops = self.chrdevs.get(path)
        if fops is None:
            return -ENOENT
        private = fops.open(task)
        fd = self.install_fd(task, private, path)
        self.trace("sys_openat", pid=task.pid, comm=task.comm, path=path, fd=fd)
        return fd

    def sys_ioctl(self, task: Task, fd: int, cmd: int, arg: bytes | bytearray | int = 0):
        """ioctl(fd, cmd, arg): the driver's ``ioctl(task, cmd, arg)`` result (an int,
        ``(int, bytes)`` for _IOR commands, or an engine Event for a blocking one)."""
        f = task.files.get(fd)
        if f is None:
            return -EBADF
        self.spend("ioctl")
        ret = f.private.ioctl(task, cmd, arg)
        if type(ret) is GeneratorType:  # a blocking ioctl (KVM_RUN)
            return self.engine.process(self._blocking_syscall(task, ret), name=f"{self.name}:ioctl")
        if task.task_works or task.pending:  # else syscall_exit_to_user_mode() has nothing to do
            self.syscall_exit_to_user_mode(task)
        return ret

    def _blocking_syscall(self, task: Task, gen: Generator):
        ret = yield from gen
        self.syscall_exit_to_user_mode(task)
        return ret

    def syscall_exit_to_user_mode(self, task: Task) -> None:
        """task_work, then signal delivery (a handler's user code runs here)."""
        if task.task_works:
            works, task.task_works = task.task_works, []
            for work in works:
                work()
        if task.pending and not get_signal(self, task):
            self.do_group_exit(task)

    def do_group_exit(self, task: Task) -> None:
        """The task died of a signal (or exited): every thread of its process goes too,
        and the dead are reaped (release_task: no longer in the task list)."""
        engine = self.engine  # self.trace(...), inline (here and on the other per-flow events)
        engine.trace.emit(engine.now, self.name, "do_exit",
                          {"pid": task.pid, "comm": task.comm, "sig": task.exit_signal,
                           "code": task.exit_code})
        self.tasks.pop(task.pid, None)
        group = task.group
        if len(group) == 1 and group[0] is task:  # a single-threaded process
            return
        for t in [t for t in group if t is not task and t.alive]:
            t.exit_signal, t.exit_code = task.exit_signal, task.exit_code
            self.trace("do_exit", pid=t.pid, comm=t.comm, sig=t.exit_signal, code=t.exit_code)
            self.tasks.pop(t.pid, None)
            self.machine.pes[t.cpu].end_program("killed")

    def sys_prctl(self, task: Task, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0,
                  arg5: int = 0) -> int:
        """prctl() (kernel/sys.c): PR_MCE_KILL and PR_MCE_KILL_GET, the options a VMM uses;
        any other -> -EINVAL."""
        if option == PR_MCE_KILL:
            ret, task.mce_kill = prctl_mce_kill(task.mce_kill, arg2, arg3, arg4, arg5)
        elif option == PR_MCE_KILL_GET:
            ret = prctl_mce_kill_get(task.mce_kill, arg2, arg3, arg4, arg5)
        else:
            ret = -EINVAL
        self.trace("sys_prctl", pid=task.pid, comm=task.comm,
                   option=PRCTL_OPTIONS.get(option, option), arg2=arg2,
                   arg3=MCE_KILL_POLICIES.get(arg3, arg3) if option == PR_MCE_KILL else arg3,
                   ret=ret)
        return ret

    def sys_mmap_fd(self, task: Task, fd: int):
        """mmap() of a driver's fd (a vCPU's kvm_run page): the shared buffer."""
        return task.files[fd].private.mmap()

    def sys_exit(self, task: Task, code: int, *, sig: int | None = None) -> None:
        """exit_group(code), or (``sig``) death by a signal it raised itself (abort())."""
        if sig is None:
            task.exit_code = code
        else:
            task.exit_signal = sig
        self.do_group_exit(task)

    # --- memory ------------------------------------------------------------------------------
    def sys_mmap(self, task: Task, va: int, size: int, *, state: str = "anon_dirty",
                 shared_with: Task | None = None, pa: int | None = None) -> int:
        """mmap(va, size, MAP_FIXED|MAP_ANONYMOUS [MAP_SHARED with ``shared_with``]):
        pages are allocated on first touch (handle_mm_fault)."""
        size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        task.vmas.append(Vma(va, va + size, state, shared_with, pa))
        engine = self.engine
        engine.trace.emit(engine.now, self.name, "mmap",
                          {"pid": task.pid, "comm": task.comm, "va": va, "size": size, "state": state})
        return va

    def handle_mm_fault(self, task: Task, va: int) -> int | None:
        """The pfn ``va`` maps, faulting the page in; None: no vma (SIGSEGV) or a hwpoison
        entry (the caller sends SIGBUS)."""
        page = va & PAGE_MASK
        pfn = task.mm.get(page) if task.mm is not None else None
        if pfn is not None:
            return pfn
        if page in task.poisoned:
            return None
        vma = task.find_vma(va)
        if vma is None:
            return None
        if vma.pa is not None:  # a device: no struct page
            pfn = (vma.pa + page - vma.start) >> PAGE_SHIFT
        elif vma.state == "hugetlb":  # hugetlb_fault(): the whole 2 MiB folio
            huge = va & ~(HPAGE_SIZE - 1)
            head = vma.huge.get(huge)
            if head is None:
                head = self.pages.alloc_huge()
                if head is None:
                    return None
                vma.huge[huge] = head
            pfn = head + ((page - huge) >> PAGE_SHIFT)
        elif vma.shared_with is not None:
            pfn = self.handle_mm_fault(vma.shared_with, va - vma.start + vma.shared_with.vmas[0].start)
        else:
            pfn = self.pages.alloc(vma.state)
        if pfn is None:
            return None
        self.map_page(task, page, pfn)
        return pfn

    def map_page(self, task: Task, va: int, pfn: int) -> None:
        """Set the pte and add the mm to the page's reverse map (anon_vma/i_mmap)."""
        page = va & PAGE_MASK
        task.mm[page] = pfn
        self.rmap.setdefault(pfn, []).append((task, page))

    def user_pa(self, task: Task, va: int) -> int | None:
        mm = task.mm
        if mm is not None:
            pfn = mm.get(va & PAGE_MASK)
            if pfn is not None:  # the pte is there
                return pfn << PAGE_SHIFT | (va & _OFFSET_MASK)
        pfn = self.handle_mm_fault(task, va)
        return None if pfn is None else pfn << PAGE_SHIFT | (va & _OFFSET_MASK)

    def _user_access(self, task: Task, va: int, n: int):
        """(pa, length) pieces of [va, va+n); -EFAULT after a hwpoison SIGBUS."""
        out = []
        while n > 0:
            pa = self.user_pa(task, va)
            if pa is None:
                if va & PAGE_MASK in task.poisoned:  # kill_accessing_process
                    force_sig_info(self, task, SigInfo(SIGBUS, BUS_MCEERR_AR, va, PAGE_SHIFT))
                return -EFAULT
            chunk = PAGE_SIZE - (va & _OFFSET_MASK)
            if n < chunk:
                chunk = n
            out.append((pa, chunk))
            va, n = va + chunk, n - chunk
        return out

    def copy_to_user(self, task: Task, va: int, data: bytes) -> int:
        pieces = self._user_access(task, va, len(data))
        if type(pieces) is int:
            return pieces
        write = self.memory.write
        if len(pieces) == 1:  # inside one page: the whole buffer
            write(pieces[0][0], data[:pieces[0][1]])
            return 0
        off = 0
        for pa, n in pieces:
            write(pa, data[off:off + n])
            off += n
        return 0

    def copy_from_user(self, task: Task, va: int, n: int) -> bytes | int:
        pieces = self._user_access(task, va, n)
        if type(pieces) is int:
            return pieces
        read = self.memory.read
        if len(pieces) == 1:  # inside one page
            return read(*pieces[0])
        return b"".join([read(pa, k) for pa, k in pieces])
