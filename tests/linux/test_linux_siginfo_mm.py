"""SIGBUS siginfo round trip and offsets; memory_failure flags, log lines and PR_MCE_KILL."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings

from rasflow.formats import FormatError, linux
from rasflow.formats.linux import Siginfo, mm


def test_sigbus_mceerr_layout():
    si = Siginfo.mceerr(linux.BUS_MCEERR_AR, 0xFFFF_8000_1234_5000, 21)
    b = si.encode()
    assert len(b) == 128
    assert struct.unpack_from("<iii", b, 0) == (7, 0, 4)  # si_signo SIGBUS, si_errno, si_code BUS_MCEERR_AR
    assert struct.unpack_from("<Q", b, 16)[0] == 0xFFFF_8000_1234_5000  # si_addr at 16
    assert struct.unpack_from("<h", b, 24)[0] == 21  # si_addr_lsb at 24
    assert b[26:] == bytes(102)
    assert Siginfo.decode(b) == si and si.is_mceerr and si.code_name == "BUS_MCEERR_AR"
    assert linux.describe_siginfo(si) == ["SIGBUS BUS_MCEERR_AR si_addr=0xffff800012345000 si_addr_lsb=21 (2097152 bytes)"]


def test_constants_and_names():
    assert (linux.SIGBUS, linux.BUS_ADRALN, linux.BUS_ADRERR, linux.BUS_OBJERR) == (7, 1, 2, 3)
    assert (linux.BUS_MCEERR_AR, linux.BUS_MCEERR_AO) == (4, 5)
    assert Siginfo(si_signo=7, si_code=5).code_name == "BUS_MCEERR_AO"
    assert Siginfo(si_signo=7, si_code=0xFFFFFFFF).code == -1
    assert Siginfo(si_signo=11, si_code=0x80).code_name == "SI_KERNEL"
    assert Siginfo(si_signo=7, si_code=99).code_name == "unknown (99)"


@settings(max_examples=100, deadline=None)
@given(Siginfo.strategy())
def test_siginfo_roundtrip(si):
    b = si.encode()
    assert Siginfo.decode(b) == si and Siginfo.decode(b).encode() == b
    assert Siginfo.from_dict(si.to_dict()) == si
    linux.describe_siginfo(si)


def test_siginfo_truncated():
    with pytest.raises(FormatError) as ei:
        Siginfo.decode(bytes(20))
    assert ei.value.path == "si_addr" and ei.value.offset == 16


def test_mf_flags():
    assert [mm.MF_COUNT_INCREASED, mm.MF_ACTION_REQUIRED, mm.MF_MUST_KILL, mm.MF_SOFT_OFFLINE] == [1, 2, 4, 8]
    assert [mm.MF_UNPOISON, mm.MF_SW_SIMULATED, mm.MF_NO_RETRY, mm.MF_MEM_PRE_REMOVE] == [0x10, 0x20, 0x40, 0x80]
    assert mm.mf_flag_names(0x102) == ["MF_ACTION_REQUIRED", "bit8"]


def test_memory_failure_lines():
    assert mm.recovery_action_line(0x7E000, "MF_MSG_DIRTY_LRU", mm.MF_RECOVERED) == (
        "Memory failure: 0x7e000: recovery action for dirty LRU page: Recovered"
    )
    assert mm.recovery_action_line(0x40000, mm.PAGE_TYPE["MF_MSG_BUDDY"], mm.MF_DELAYED).endswith("free buddy page: Delayed")
    assert mm.recovery_action_line(1, 99, 7).endswith("unknown (99): unknown (7)")
    assert mm.kill_proc_line(0x7E000, "qemu-system-aar", 1234) == (
        "Memory failure: 0x7e000: Sending SIGBUS to qemu-system-aar:1234 due to hardware memory corruption"
    )
    assert mm.ACTION_NAMES == ("Ignored", "Failed", "Delayed", "Recovered")
    assert mm.action_result_return(mm.MF_FAILED) == -linux.EBUSY and mm.action_result_return(mm.MF_DELAYED) == 0


def test_prctl_mce_kill():
    assert (linux.PR_MCE_KILL, linux.PR_MCE_KILL_GET) == (33, 34)
    s = linux.MceKill()
    assert linux.prctl_mce_kill_get(s) == linux.PR_MCE_KILL_DEFAULT
    ret, s = linux.prctl_mce_kill(s, linux.PR_MCE_KILL_SET, linux.PR_MCE_KILL_EARLY)
    assert ret == 0 and linux.prctl_mce_kill_get(s) == linux.PR_MCE_KILL_EARLY
    ret, s = linux.prctl_mce_kill(s, linux.PR_MCE_KILL_SET, linux.PR_MCE_KILL_LATE)
    assert ret == 0 and linux.prctl_mce_kill_get(s) == linux.PR_MCE_KILL_LATE
    ret, s = linux.prctl_mce_kill(s, linux.PR_MCE_KILL_CLEAR, 0)
    assert ret == 0 and linux.prctl_mce_kill_get(s) == linux.PR_MCE_KILL_DEFAULT
    assert linux.prctl_mce_kill(s, linux.PR_MCE_KILL_CLEAR, 1)[0] == -linux.EINVAL
    assert linux.prctl_mce_kill(s, linux.PR_MCE_KILL_SET, 0, 1)[0] == -linux.EINVAL
    assert linux.prctl_mce_kill(s, 7, 0)[0] == -linux.EINVAL
    ret, s2 = linux.prctl_mce_kill(linux.MceKill(), linux.PR_MCE_KILL_SET, 9)
    assert ret == -linux.EINVAL and s2.process  # the kernel set PF_MCE_PROCESS before rejecting arg3
    assert linux.prctl_mce_kill_get(s, 1) == -linux.EINVAL
    assert linux.errno_name(-22) == "-EINVAL" and linux.errno_name(0) == "0"
