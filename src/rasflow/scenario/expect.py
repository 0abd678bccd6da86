"""The ``[expect]`` table: verdicts a run's ``Outcome.to_dict()`` is compared with.

Names (VMs, processes, signal targets) are checked against the scenario in ``validate``.
"""

from __future__ import annotations

from typing import Any

from ..formats.linux.siginfo import BUS_CODES, SI_CODES, SIGNALS
from . import fields as f
from .fields import Ctx
from .locate import Path
from .model import Expect

HOST_STATES = ("running", "panic")
VM_STATES = ("running", "panic", "stopped")
PROCESS_STATES = ("running", "killed", "exited")
SIGNAL_NAMES = tuple(dict.fromkeys([*SIGNALS.values(), "SIGABRT", "SIGTERM"]))
SI_CODE_NAMES = tuple(dict.fromkeys([*BUS_CODES.values(), *SI_CODES.values(), "SEGV_MAPERR",
                                     "SEGV_ACCERR"]))


def _mapping(value_conv: f.Conv, what: str) -> f.Conv:
    def conv(ctx: Ctx, raw: Any, path: Path) -> dict[str, Any]:
        if not isinstance(raw, dict):
            ctx.error(path, f"must be a table of {what}, got {f.typename(raw)}")
        return {k: value_conv(ctx, v, path + (k,)) for k, v in raw.items()}
    return conv


def _target_name(ctx: Ctx, raw: Any, path: Path) -> str:
    if not isinstance(raw, str):
        ctx.error(path, f"must be a process name (host:NAME, VM:NAME or vmm:VM), got {raw!r}")
    return raw


def _int_or_name(names: tuple[str, ...]) -> f.Conv:
    def conv(ctx: Ctx, raw: Any, path: Path) -> int | str:
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 1 << 32:
            return raw
        if isinstance(raw, str) and raw in names:
            return raw
        ctx.error(path, f"{raw!r} is not a number or one of {', '.join(names)}")
    return conv


def _signal(ctx: Ctx, raw: Any, path: Path) -> dict[str, Any]:
    d = f.table(ctx, raw, path, {"target": _target_name, "signo": _int_or_name(SIGNAL_NAMES),
                                 "si_code": _int_or_name(SI_CODE_NAMES), "si_addr": f.addr()})
    if not d:
        ctx.error(path, "empty: give at least one of target, signo, si_code, si_addr")
    return d


def _exposure(ctx: Ctx, raw: Any, path: Path) -> dict[str, str]:
    return f.table(ctx, raw, path, {"what": f.string, "to": f.string}, required=("what", "to"))


def _array(item: f.Conv, what: str) -> f.Conv:
    def conv(ctx: Ctx, raw: Any, path: Path) -> tuple:
        if not isinstance(raw, list):
            ctx.error(path, f"must be an array of {what}, got {f.typename(raw)}")
        return tuple(item(ctx, v, path + (i,)) for i, v in enumerate(raw))
    return conv


def parse_expect(ctx: Ctx, raw: Any, path: Path) -> Expect:
    """Convert ``[expect]``; every key is optional."""
    return Expect(**f.table(ctx, raw, path, {
        "host": f.choice(*HOST_STATES),
        "vms": _mapping(f.choice(*VM_STATES), "VM = state"),
        "processes": _mapping(f.choice(*PROCESS_STATES), "\"PROC\" = state"),
        "signals": _array(_signal, "{target, signo, si_code, si_addr} tables"),
        "no_signals": _array(_target_name, "process names"),
        "cper_host": f.integer(0, 1 << 32),
        "cper_guest": _mapping(f.integer(0, 1 << 32), "VM = count"),
        "exposed": _array(_exposure, "{what, to} tables"),
        "contained": f.boolean}))
