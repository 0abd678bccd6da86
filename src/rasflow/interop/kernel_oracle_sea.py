"""The kernel oracle's SEA mode: the real kernel's firmware-first SEA path against rasflow's model.

Real side (QEMU ``-machine virt,ras=on``, see ``kernel_oracle_ghes``): per record ``/init``
writes the status block into QEMU's SEA GHESv2 block (zeroing the previous record's
leftovers), clears the read-ack register, then ``/bin/busybox devmem 0x0c000000`` reads an
unbacked PA: QEMU raises a synchronous external abort from EL0 and the kernel runs do_sea →
apei_claim_sea → ghes_notify_sea → ghes_proc_in_irq (+ memory_failure as task_work).
The record's lines are the ``dmesg -c`` that follows.

Model side (:class:`SeaModel`): QEMU virt as rasflow models it (1 GiB of RAM at
0x40000000, no EL3, a platform HEST with one GHESv2 SEA source), the host kernel at EL2; a
``busybox`` process writes the same 1024 bytes into the SEA block, then loads an unbacked
PA. The model's new dmesg lines are compared with the kernel's, with ``comm:pid`` masked
to ``comm:PID`` on both sides (pids differ; nothing else is masked).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..engine import Engine
from ..firmware import Platform, hest_ghes_targets
from ..formats.arm.sysreg import HCR_EL2
from ..hw import Machine
from ..kernel import Kernel
from .kernel_oracle import OracleError, RecordResult, boot_qemu, init_overlay
from .kernel_oracle_ghes import (
    EPILOGUE,
    MACHINE,
    PROLOGUE,
    QEMU_BLOCK_LENGTH,
    SEA_ACK,
    SEA_BLOCK,
    devmem_writes,
    diff_result,
    mask_pids,
    plan_boots,
    record_chunks,
    record_steps,
    run_boots,
)

UNBACKED_REAL = 0x0C000000  # QEMU virt: between the GIC redistributors and the UART: nothing
VHE_HOST = HCR_EL2.encode(RW=1, E2H=1, TGE=1)
RAM = ((0x4000_0000, 1 << 30),)  # QEMU virt -m 1G
# QEMU virt's flash (VIRT_FLASH, hw/arm/virt.c): the real 6.12 kernel booted by AAVMF finds a
# struct page for pfn 0 (ghes_do_memory_failure lets it through) but no online page
# (memory_failure: "memory outside kernel control"), as for memblock nomap memory
NOMAP = ((0, 0x0800_0000),)
UNBACKED_MODEL = 0x1_0000_0000  # no RAM, no device in the model: a load is a synchronous External abort
GAP_NS = 250_000_000  # about the real time between two records in /init
COMM = "busybox"  # /init runs /bin/busybox devmem


class SeaModel:
    """Machine + QEMU-virt-like platform (one GHESv2 SEA source) + the host kernel at EL2."""

    def __init__(self, *, seed: int = 1):
        self.engine = Engine(seed=seed)
        self.m = Machine(self.engine, hcr_el2=VHE_HOST, firmware_first=False, ram=RAM)
        self.p = Platform(self.m, sources=("SEA",))
        self.kernel = Kernel(self.m, el=2, name="host", tables=self.p.tables(), reserved=(self.p.region,),
                             nomap=NOMAP)
        self.target = next(t for t in hest_ghes_targets(self.m.memory, self.p.hest_pa) if t.notify == "SEA")

    def sea_from_user(self, data: bytes, comm: str = COMM) -> list[str]:
        """Write the block (1024 bytes, zero-padded) and clear the read-ack register, then
        a user load of an unbacked PA; the kernel model's new dmesg lines."""
        if self.m.halted:
            return []
        start = len(self.kernel.dmesg)
        mem = self.m.memory
        mem.write(mem.read_u64(self.target.error_status_address), sea_bytes(data).ljust(QEMU_BLOCK_LENGTH, b"\0"))
        mem.write_u64(self.target.read_ack_register, 0)
        self.kernel.spawn(comm)
        self.m.pes[0].run([("load", UNBACKED_MODEL)], el=0)
        self.engine.run()
        lines = self.kernel.dmesg[start:]
        if not self.m.halted:
            self.engine.run(until=self.engine.now + GAP_NS)
        return lines


def sea_bytes(block: bytes) -> bytes:
    """What fits QEMU's SEA block (the kernel rejects a longer one by its header)."""
    return block[:QEMU_BLOCK_LENGTH]


def sea_init(blocks: Sequence[bytes]) -> str:
    """/init for one SEA boot."""
    lines = [PROLOGUE.rstrip("\n")]
    stale = 0
    for i, block in enumerate(blocks):
        data = sea_bytes(block)
        body = [*devmem_writes(SEA_BLOCK, data, stale), f"$B devmem {SEA_ACK:#x} 64 0",
                f"$B devmem {UNBACKED_REAL:#x}"]
        stale = len(data)
        lines += record_steps(i, body)
    return "\n".join(lines) + "\n" + EPILOGUE


def model_lines(blocks: Sequence[bytes]) -> list[list[str]]:
    """The kernel model's lines per record, one fresh model per boot."""
    model = SeaModel()
    return [mask_pids(model.sea_from_user(b)) for b in blocks]


def _sea_boot(info: dict, cache: Path, group: Sequence[tuple[str, bytes]], timeout: float) -> list[RecordResult]:
    blocks = [b for _, b in group]
    ours = model_lines(blocks)
    initrd = (cache / "initramfs.gz").read_bytes() + init_overlay(sea_init(blocks))
    try:
        _, chunks = record_chunks(boot_qemu(initrd, info, machine=MACHINE, timeout=timeout), len(blocks))
    except OracleError as e:
        return [diff_result(name, None, o, str(e)) for (name, _), o in zip(group, ours, strict=True)]
    return [diff_result(name, None if c is None else mask_pids(c), o)
            for (name, _), c, o in zip(group, chunks, ours, strict=True)]


def run_sea(items: Sequence[tuple[str, bytes]], *, cache: Path | None = None, workers: int = 2,
            timeout: float = 120.0) -> list[RecordResult]:
    """Have the kernel's SEA path handle every (name, status block) item and diff with the model."""
    plan = plan_boots([sea_bytes(b) for _, b in items], QEMU_BLOCK_LENGTH)
    return run_boots(items, plan, lambda info, cache, group: _sea_boot(info, cache, group, timeout), cache, workers)
