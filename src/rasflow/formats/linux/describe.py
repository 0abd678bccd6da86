"""Lines a person reads for the Linux/KVM structures (separate from the codecs; returns text)."""

from __future__ import annotations

from typing import Any

from .errno import errno_name
from .kvm import (
    CAP_NAMES,
    EXIT_REASONS,
    KvmExitArmNisv,
    KvmExitArmSea,
    KvmExitMmio,
    KvmRunHeader,
    KvmVcpuEvents,
)
from .siginfo import SIGNALS, Siginfo


def describe_siginfo(si: Siginfo) -> list[str]:
    sig = SIGNALS.get(si.si_signo, f"signal {si.si_signo}")
    line = f"{sig} {si.code_name} si_addr={si.si_addr:#x}"
    if si.is_mceerr:
        line += f" si_addr_lsb={si.si_addr_lsb} ({1 << si.si_addr_lsb if si.si_addr_lsb < 64 else '?'} bytes)"
    if si.si_errno:
        line += f" si_errno={si.si_errno}"
    return [line]


def describe_vcpu_events(ev: KvmVcpuEvents, has_ras: bool | None = None) -> list[str]:
    lines = [
        f"serror_pending={ev.serror_pending} serror_has_esr={ev.serror_has_esr} serror_esr={ev.serror_esr:#x} "
        f"ext_dabt_pending={ev.ext_dabt_pending}"
    ]
    if any(ev.pad) or any(ev.reserved):
        lines.append("non-zero pad/reserved bytes (KVM_SET_VCPU_EVENTS returns -EINVAL)")
    if has_ras is not None:
        lines.append(f"KVM_SET_VCPU_EVENTS with{'' if has_ras else 'out'} RAS -> {errno_name(ev.validate(has_ras))}")
    return lines


def describe_exit(head: KvmRunHeader, payload: Any = None) -> list[str]:
    lines = [f"exit_reason {head.exit_reason} ({EXIT_REASONS.get(head.exit_reason, 'unknown')})"]
    if isinstance(payload, KvmExitArmSea):
        gva = f"{payload.gva:#x}" if payload.gva_valid else "invalid (FnV)"
        gpa = f"{payload.gpa:#x}" if payload.gpa_valid else "invalid"
        lines.append(f"arm_sea: esr {payload.esr:#x}, gva {gva}, gpa {gpa}, flags {payload.flags:#x}")
    elif isinstance(payload, KvmExitArmNisv):
        lines.append(f"arm_nisv: esr_iss {payload.esr_iss:#x}, fault_ipa {payload.fault_ipa:#x}")
    elif isinstance(payload, KvmExitMmio):
        rw = "write" if payload.is_write else "read"
        lines.append(f"mmio {rw} {payload.len} bytes at {payload.phys_addr:#x}")
    return lines


def describe_cap(cap: int) -> str:
    return f"{CAP_NAMES.get(cap, 'unknown capability')} ({cap})"
