"""Helpers for the kernel tests: a firmware-first QEMU-virt-like machine with the host kernel."""

from __future__ import annotations

from rasflow.engine import Engine
from rasflow.firmware import El3Firmware, El3Policy, Platform, hest_ghes_targets
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import Machine
from rasflow.kernel import Kernel

VHE_HOST = HCR_EL2.encode(RW=1, E2H=1, TGE=1)
RAM = ((0x4000_0000, 1 << 30),)  # QEMU virt: 1 GiB at 0x40000000
UNBACKED = 0x1_0000_0000  # no RAM, no device: a load here is a synchronous External abort
SECOND = 1_000_000_000


class Host:
    """Machine + platform tables + EL3 firmware + the host kernel at EL2."""

    def __init__(self, *, sources=("SEA",), seed: int = 1, sysctl=None, firmware_first=False):
        """``firmware_first=False`` is QEMU virt: no EL3, the platform (QEMU) publishes the
        HEST and the hw routes the SEA straight to EL2 (the entry test_el3 shows equal to
        the one EL3's inject_sync_ea64 fakes). With EL3, an abort no RAS record explains is
        reported from its syndrome (its record dropped while the SEA source is unacked)."""
        self.engine = Engine(seed=seed)
        self.m = Machine(self.engine, hcr_el2=VHE_HOST, firmware_first=firmware_first, ram=RAM)
        self.p = Platform(self.m, sources=sources)
        self.fw = (El3Firmware(self.m, self.p, policy=El3Policy(unhandled_ea="report"))
                   if firmware_first else None)
        self.kernel = Kernel(self.m, el=2, name="host", tables=self.p.tables(),
                             reserved=(self.p.region,), sysctl=sysctl)
        self.targets = hest_ghes_targets(self.m.memory, self.p.hest_pa)

    def target(self, notify: str):
        return next(t for t in self.targets if t.notify == notify)

    def write_status_block(self, data: bytes, notify: str = "SEA") -> None:
        """What the vector's user process did: the block's bytes at the address the HEST
        gives; the read-ack register left clear, as a firmware writer leaves it."""
        t = self.target(notify)
        block = self.m.memory.read_u64(t.error_status_address)
        self.m.memory.write(block, data)
        self.m.memory.write_u64(t.read_ack_register, 0)

    def run_user(self, program, comm: str = "busybox"):
        task = self.kernel.spawn(comm)
        proc = self.m.pes[0].run(program, el=0)
        self.engine.run()
        return task, proc

    def sea_from_user(self, data: bytes, comm: str = "busybox"):
        """Write a record, then a user load of an unbacked PA; the kernel's new lines."""
        start = len(self.kernel.dmesg)
        self.write_status_block(data)
        task, proc = self.run_user([("load", UNBACKED)], comm)
        return task, self.kernel.dmesg[start:]
