"""SIGBUS siginfo for arm64: the 128-byte ``siginfo_t`` the kernel delivers for memory errors.

Layout (include/uapi/asm-generic/siginfo.h, 64-bit): ``si_signo``, ``si_errno``,
``si_code`` (ints), 4 bytes of padding (__ARCH_SI_PREAMBLE_SIZE is 16), then the
``_sigfault`` union: ``si_addr`` at 16 and, for BUS_MCEERR_AR/AO, the short
``si_addr_lsb`` at 24 (log2 of the poisoned extent). mm/memory-failure.c's
kill_proc() fills it through force_sig_mceerr() (AR, the current thread) or
send_sig_mceerr() (AO).
"""

from __future__ import annotations

from typing import Annotated

from ..layout import Bytes, Names, layout, u16, u32, u64

SIGILL = 4
SIGTRAP = 5
SIGBUS = 7
SIGFPE = 8
SIGKILL = 9
SIGUSR1 = 10  # QEMU's SIG_IPI
SIGSEGV = 11

SIGNALS = {SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV"}

BUS_ADRALN = 1
BUS_ADRERR = 2
BUS_OBJERR = 3
BUS_MCEERR_AR = 4  # hardware memory error consumed on a machine check: action required
BUS_MCEERR_AO = 5  # hardware memory error detected in process but not consumed: action optional

BUS_CODES = {
    BUS_ADRALN: "BUS_ADRALN",
    BUS_ADRERR: "BUS_ADRERR",
    BUS_OBJERR: "BUS_OBJERR",
    BUS_MCEERR_AR: "BUS_MCEERR_AR",
    BUS_MCEERR_AO: "BUS_MCEERR_AO",
}

SI_USER = 0
SI_KERNEL = 0x80
SI_CODES = {SI_USER: "SI_USER", SI_KERNEL: "SI_KERNEL"}

SIGINFO_SIZE = 128
PAGE_SHIFT = 12  # a 4 KiB page: si_addr_lsb for a single poisoned base page


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


@layout
class Siginfo:
    """siginfo_t (128 bytes) as delivered for SIGBUS/SIGSEGV on arm64; ints kept as raw u32."""

    si_signo: Annotated[u32, Names(SIGNALS)]
    si_errno: u32
    si_code: u32
    reserved: u32  # padding before the union on 64-bit
    si_addr: u64
    si_addr_lsb: u16
    reserved2: Bytes[102]

    @property
    def code(self) -> int:
        """``si_code`` as the signed int it is."""
        return _s32(self.si_code)

    @property
    def code_name(self) -> str:
        c = self.code
        if self.si_signo == SIGBUS and c in BUS_CODES:
            return BUS_CODES[c]
        if c in SI_CODES:
            return SI_CODES[c]
        return f"unknown ({c})"

    @property
    def is_mceerr(self) -> bool:
        return self.si_signo == SIGBUS and self.code in (BUS_MCEERR_AR, BUS_MCEERR_AO)

    @classmethod
    def mceerr(cls, code: int, addr: int, lsb: int = PAGE_SHIFT) -> Siginfo:
        """force_sig_mceerr()/send_sig_mceerr(): SIGBUS with ``code`` (AR or AO), ``si_addr``, ``si_addr_lsb``."""
        return cls(si_signo=SIGBUS, si_errno=0, si_code=code, si_addr=addr, si_addr_lsb=lsb)


assert Siginfo.SIZE == SIGINFO_SIZE
