"""Helpers for the firmware tests: a machine with its EL3 firmware, recording handlers."""

from __future__ import annotations

from rasflow.engine import Engine
from rasflow.firmware import El3Firmware, El3Policy, Platform, hest_ghes_targets
from rasflow.formats import cper
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import Machine

VHE_HOST = HCR_EL2.encode(RW=1, E2H=1, TGE=1)  # a VHE host: EL0 apps, the kernel at EL2
GUEST = HCR_EL2.encode(RW=1, VM=1, AMO=1, IMO=1, FMO=1)  # a VM runs: EL1/EL0 are the guest's
RAM = ((0x4000_0000, 4 << 30),)


class Recorder:
    """An OS handler at some EL that records every entry; ``then(pe, exc)`` decides what next
    (default: stay in the handler, as a kernel that kills the task would)."""

    def __init__(self, then=None):
        self.entries = []
        self.then = then

    def on_exception(self, pe, exc):
        self.entries.append(exc)
        if self.then is not None:
            self.then(pe, exc)


def skip_and_return(el: int):
    """Return past the faulting instruction (a handler that fixed things up)."""

    def then(pe, exc):
        pe.write_sysreg(f"ELR_EL{el}", exc.elr + 4)
        pe.eret()

    return then


def boot(*, seed: int = 1, hcr: int = VHE_HOST, firmware_first: bool = True, sources=None,
         policy: El3Policy | None = None, ram=RAM, **machine_kw):
    """Machine + platform tables + EL3 firmware (or none when not firmware first)."""
    engine = Engine(seed=seed)
    m = Machine(engine, hcr_el2=hcr, firmware_first=firmware_first, ram=ram, **machine_kw)
    if not firmware_first:
        return m, None, None
    p = Platform(m) if sources is None else Platform(m, sources=sources)
    fw = El3Firmware(m, p, policy=policy)
    return m, p, fw


def source(m, p, notify: str):
    """The GHESv2 source with this notification type, read from the HEST bytes."""
    return next(t for t in hest_ghes_targets(m.memory, p.hest_pa) if t.notify == notify)


def status_block(m, t) -> cper.Estatus:
    """Decode the source's status block from memory, as the OS would."""
    block = m.memory.read_u64(t.error_status_address)
    return cper.decode(m.memory.read(block, t.error_block_length))


def os_ack(m, t) -> None:
    """ghes_ack_error(): (read & preserve) | write into the Read Ack Register."""
    v = m.memory.read_u64(t.read_ack_register)
    m.memory.write_u64(t.read_ack_register, (v & t.read_ack_preserve) | t.read_ack_write)
