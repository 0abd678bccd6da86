"""Shared helpers for the machine tests: a machine factory and recording handlers."""

from __future__ import annotations

import pytest

from rasflow.engine import Engine
from rasflow.hw import Machine


class Recorder:
    """A Python handler that records each entry and the registers it saw, then
    ``action``: "eret" (return), "skip" (return past the instruction), "stay" (no ERET),
    or a callable(pe, entry) that does its own thing."""

    def __init__(self, action="eret"):
        self.action = action
        self.entries = []
        self.seen = []  # (entry, copy of pe.regs, PSTATE mode) per entry

    def on_exception(self, pe, e):
        self.entries.append(e)
        self.seen.append((e, dict(pe.regs), pe.pstate.mode))
        if callable(self.action):
            self.action(pe, e)
        elif self.action == "eret":
            pe.eret(e.elr, e.spsr)
        elif self.action == "skip":
            pe.eret(e.elr + 4, e.spsr)


@pytest.fixture
def make_machine():
    def make(seed: int = 0, **kw) -> Machine:
        return Machine(Engine(seed), **kw)

    return make


def at_el(pe, el: int, *, a: int = 0) -> None:
    """Put the PE at ELx (ELxh, EL0t) with only PSTATE.A as given (a test's starting state)."""
    pe.pstate.el, pe.pstate.sp, pe.pstate.il = el, 0 if el == 0 else 1, False
    pe.pstate.daif = 0
    if a:
        pe.daifset("A")
