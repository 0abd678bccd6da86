"""Trace components → the lifelines of the sequence diagram, in a fixed order.

Order: hardware (every hardware component merged), EL3 firmware, host kernel, KVM, host
processes, other components, then per VM: its VMM, its guest kernel, its processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_HW = re.compile(r"machine|cpu\d+|mc\d+|bus\d+")
_NUM = re.compile(r"(\d+)")

HW, FW, HOST, KVM = "hw", "fw", "host", "kvm"


@dataclass(frozen=True)
class Lifeline:
    key: str  # "hw", "fw", "host", "kvm", "host:db", "vmm:vm0", "guest:vm0", "vm0:app", …
    label: str
    kind: str  # hardware | firmware | kernel | kvm | process | vmm | other
    vm: str | None = None


def _natural(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in _NUM.split(s))


def lifeline_of(component: str) -> Lifeline:
    """The lifeline a trace component belongs to."""
    if _HW.fullmatch(component):
        return Lifeline(HW, "hardware", "hardware")
    if component == FW:
        return Lifeline(FW, "EL3 firmware", "firmware")
    if component == HOST:
        return Lifeline(HOST, "host kernel", "kernel")
    if component == KVM:
        return Lifeline(KVM, "KVM", "kvm")
    head, sep, tail = component.partition(":")
    if sep and tail:
        if head == "vmm":
            return Lifeline(component, f"VMM {tail}", "vmm", tail)
        if head == "guest":
            return Lifeline(component, f"guest kernel {tail}", "kernel", tail)
        return Lifeline(component, component, "process", None if head == HOST else head)
    return Lifeline(component, component, "other")


def _rank(line: Lifeline, first: dict[str, int]) -> tuple:
    fixed = {HW: 0, FW: 1, HOST: 2, KVM: 3}
    if line.key in fixed:
        return (fixed[line.key],)
    if line.vm is None:
        return (4 if line.kind == "process" else 5, first[line.key])
    within = {"vmm": 0, "kernel": 1}.get(line.kind, 2)
    return (6, _natural(line.vm), within, first[line.key])


def lifelines(events: Iterable[Any]) -> list[Lifeline]:
    """The lifelines that appear in ``events`` (hardware and host kernel always), ordered.

    Within a group, processes keep the order they first appear in; VMs sort by name."""
    first: dict[str, int] = {HW: -2, HOST: -1}
    lines = {HW: lifeline_of("machine"), HOST: lifeline_of(HOST)}
    for i, ev in enumerate(events):
        ends = [ev.component] + [ev.fields[k] for k in ("from", "to") if isinstance(ev.fields.get(k), str)]
        for component in ends:  # a crossing's other end (the task a signal goes to) is a lifeline too
            line = lifeline_of(component)
            if line.key not in lines:
                lines[line.key] = line
                first[line.key] = i
    return sorted(lines.values(), key=lambda ln: _rank(ln, first))
