"""memory_failure() flags, results and log lines, and the PR_MCE_KILL prctl (mm/memory-failure.c, kernel/sys.c).

The page-type table is ``enum mf_action_page_type`` / ``action_page_types[]``
as of Linux ~6.17 (Kingxukai/linux mirror @9b44fff6); the enum has gained and
lost members over time (MF_MSG_SLAB, _DIFFERENT_COMPOUND, _BUDDY_2ND, ...), so
use the names, not the numbers, across versions.
"""

from __future__ import annotations

from typing import NamedTuple

from .errno import EBUSY, EINVAL

# include/linux/mm.h enum mf_flags
MF_COUNT_INCREASED = 1 << 0
MF_ACTION_REQUIRED = 1 << 1
MF_MUST_KILL = 1 << 2
MF_SOFT_OFFLINE = 1 << 3
MF_UNPOISON = 1 << 4
MF_SW_SIMULATED = 1 << 5
MF_NO_RETRY = 1 << 6
MF_MEM_PRE_REMOVE = 1 << 7

MF_FLAGS = {
    0: "MF_COUNT_INCREASED",
    1: "MF_ACTION_REQUIRED",
    2: "MF_MUST_KILL",
    3: "MF_SOFT_OFFLINE",
    4: "MF_UNPOISON",
    5: "MF_SW_SIMULATED",
    6: "MF_NO_RETRY",
    7: "MF_MEM_PRE_REMOVE",
}


def _flag_names(flags: int) -> list[str]:
    return [name for bit, name in MF_FLAGS.items() if flags >> bit & 1] + [
        f"bit{b}" for b in range(8, flags.bit_length()) if flags >> b & 1
    ]


_FLAG_NAMES = tuple(tuple(_flag_names(flags)) for flags in range(256))  # every 8-bit value


def mf_flag_names(flags: int) -> list[str]:
    if 0 <= flags < 256:
        return list(_FLAG_NAMES[flags])
    return _flag_names(flags)


# enum mf_result and action_name[]
MF_IGNORED, MF_FAILED, MF_DELAYED, MF_RECOVERED = range(4)
ACTION_NAMES = ("Ignored", "Failed", "Delayed", "Recovered")

# enum mf_action_page_type, in order, with action_page_types[] text
ACTION_PAGE_TYPES = (
    ("MF_MSG_KERNEL", "reserved kernel page"),
    ("MF_MSG_KERNEL_HIGH_ORDER", "high-order kernel page"),
    ("MF_MSG_HUGE", "huge page"),
    ("MF_MSG_FREE_HUGE", "free huge page"),
    ("MF_MSG_GET_HWPOISON", "get hwpoison page"),
    ("MF_MSG_UNMAP_FAILED", "unmapping failed page"),
    ("MF_MSG_DIRTY_SWAPCACHE", "dirty swapcache page"),
    ("MF_MSG_CLEAN_SWAPCACHE", "clean swapcache page"),
    ("MF_MSG_DIRTY_MLOCKED_LRU", "dirty mlocked LRU page"),
    ("MF_MSG_CLEAN_MLOCKED_LRU", "clean mlocked LRU page"),
    ("MF_MSG_DIRTY_UNEVICTABLE_LRU", "dirty unevictable LRU page"),
    ("MF_MSG_CLEAN_UNEVICTABLE_LRU", "clean unevictable LRU page"),
    ("MF_MSG_DIRTY_LRU", "dirty LRU page"),
    ("MF_MSG_CLEAN_LRU", "clean LRU page"),
    ("MF_MSG_TRUNCATED_LRU", "already truncated LRU page"),
    ("MF_MSG_BUDDY", "free buddy page"),
    ("MF_MSG_DAX", "dax page"),
    ("MF_MSG_UNSPLIT_THP", "unsplit thp"),
    ("MF_MSG_ALREADY_POISONED", "already poisoned"),  # "already poisoned page" after Kyle Meyer's 2025 fix
    ("MF_MSG_UNKNOWN", "unknown page"),
)
PAGE_TYPE = {name: i for i, (name, _) in enumerate(ACTION_PAGE_TYPES)}
PAGE_TYPE_TEXT = {name: text for name, text in ACTION_PAGE_TYPES}

PR_FMT = "Memory failure: "  # mm/memory-failure.c pr_fmt


def page_type_text(page_type: int | str) -> str:
    if isinstance(page_type, str):
        return PAGE_TYPE_TEXT.get(page_type, page_type)
    if 0 <= page_type < len(ACTION_PAGE_TYPES):
        return ACTION_PAGE_TYPES[page_type][1]
    return f"unknown ({page_type})"


def action_name(result: int) -> str:
    return ACTION_NAMES[result] if 0 <= result < len(ACTION_NAMES) else f"unknown ({result})"


def recovery_action_line(pfn: int, page_type: int | str, result: int) -> str:
    """action_result()'s pr_err: ``Memory failure: 0x7e000: recovery action for dirty LRU page: Recovered``."""
    return f"{PR_FMT}{pfn:#x}: recovery action for {page_type_text(page_type)}: {action_name(result)}"


def action_result_return(result: int) -> int:
    """action_result()'s return: 0 for Recovered or Delayed, else -EBUSY."""
    return 0 if result in (MF_RECOVERED, MF_DELAYED) else -EBUSY


def kill_proc_line(pfn: int, comm: str, pid: int) -> str:
    """kill_proc()'s pr_err: ``Memory failure: %#lx: Sending SIGBUS to %s:%d due to hardware memory corruption``."""
    return f"{PR_FMT}{pfn:#x}: Sending SIGBUS to {comm}:{pid} due to hardware memory corruption"


# --- prctl(PR_MCE_KILL) (include/uapi/linux/prctl.h, kernel/sys.c) ---------------------------

PR_MCE_KILL = 33
PR_MCE_KILL_CLEAR = 0
PR_MCE_KILL_SET = 1
PR_MCE_KILL_LATE = 0
PR_MCE_KILL_EARLY = 1
PR_MCE_KILL_DEFAULT = 2
PR_MCE_KILL_GET = 34

MCE_KILL_POLICIES = {PR_MCE_KILL_LATE: "PR_MCE_KILL_LATE", PR_MCE_KILL_EARLY: "PR_MCE_KILL_EARLY", PR_MCE_KILL_DEFAULT: "PR_MCE_KILL_DEFAULT"}


class MceKill(NamedTuple):
    """A task's PF_MCE_PROCESS / PF_MCE_EARLY flags."""

    process: bool = False  # PF_MCE_PROCESS: the task chose a policy
    early: bool = False  # PF_MCE_EARLY: and it is early kill


def prctl_mce_kill(state: MceKill, arg2: int, arg3: int, arg4: int = 0, arg5: int = 0) -> tuple[int, MceKill]:
    """prctl(PR_MCE_KILL, arg2, arg3, arg4, arg5) as kernel/sys.c: (return value, new flags)."""
    if arg4 | arg5:
        return -EINVAL, state
    if arg2 == PR_MCE_KILL_CLEAR:
        if arg3 != 0:
            return -EINVAL, state
        return 0, state._replace(process=False)
    if arg2 == PR_MCE_KILL_SET:
        if arg3 == PR_MCE_KILL_EARLY:
            return 0, MceKill(True, True)
        if arg3 == PR_MCE_KILL_LATE:
            return 0, MceKill(True, False)
        if arg3 == PR_MCE_KILL_DEFAULT:
            return 0, MceKill(False, False)
        # the kernel has already set PF_MCE_PROCESS when it rejects arg3
        return -EINVAL, state._replace(process=True)
    return -EINVAL, state


def prctl_mce_kill_get(state: MceKill, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(PR_MCE_KILL_GET): EARLY/LATE when the task set a policy, else DEFAULT."""
    if arg2 | arg3 | arg4 | arg5:
        return -EINVAL
    if state.process:
        return PR_MCE_KILL_EARLY if state.early else PR_MCE_KILL_LATE
    return PR_MCE_KILL_DEFAULT
