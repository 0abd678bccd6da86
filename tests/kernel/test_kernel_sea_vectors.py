"""Acceptance: the host kernel's firmware-first SEA path reproduces ../shared/vectors/kernel-sea/.

For every boot in boots.json a machine boots as QEMU virt with ras=on did for the vectors:
the platform's HEST has one GHESv2 SEA source, there is no EL3, and an EL0 process
(busybox) writes each record's bytes into the SEA source's status block, then loads an
unbacked PA: the hw raises a synchronous External abort at EL2 (the same entry EL3's
inject_sync_ea64 fakes, tests/firmware/test_el3.py), and the host kernel runs do_sea →
apei_claim_sea → ghes_notify_sea → ghes_proc_in_irq → ret_to_user. The ERET re-executes the
load: the block is now empty, so that second SEA is not claimed and the task dies of
SIGBUS BUS_OBJERR, printing nothing, as in the vectors' boots. With EL3 firmware first
the same chain runs after inject_sync_ea64 (last test)."""

from __future__ import annotations

import json

import pytest

from kernel.khelpers import SECOND, Host
from vectors import VECTORS, vector_bytes

KSEA = VECTORS / "kernel-sea"
BOOTS = json.loads((KSEA / "boots.json").read_text())["boots"] if KSEA.is_dir() else []


def _expected(name: str) -> list[str]:
    return (KSEA / f"{name}.kernel.txt").read_text().splitlines()


@pytest.mark.parametrize("boot", BOOTS, ids=["+".join(b) for b in BOOTS])
def test_kernel_sea_boot(boot):
    host = Host()
    for name in boot:
        task, lines = host.sea_from_user(vector_bytes(f"kernel-sea/{name}.estatus.bin"))
        lines = [ln.replace(f"{task.comm}:{task.pid}:", f"{task.comm}:PID:") for ln in lines]
        assert lines == _expected(name), name
        host.engine.run(until=host.engine.now + SECOND)


def test_the_sea_reached_the_kernel_through_firmware():
    host = Host(firmware_first=True)
    data = vector_bytes("kernel-sea/pub-mem-rec-pa-free.estatus.bin")
    task, _ = host.sea_from_user(data)
    ev = [(e.component, e.name) for e in host.engine.trace]
    order = [ev.index(x) for x in (("fw", "inject_sync_ea64"), ("host", "do_sea"),
                                   ("host", "ghes_notify_sea"), ("host", "ghes_proc_in_irq"),
                                   ("host", "memory_failure"), ("host", "apei_claim_sea"))]
    assert order == sorted(order[:5]) + order[5:]
    assert "Memory failure: 0x7e000: recovery action for free buddy page: Recovered" in host.kernel.dmesg
    # the ERET re-executes the load: EL3 now reports it from the syndrome (an ARM section)
    assert any("ARM processor error" in ln for ln in host.kernel.dmesg)
    assert not task.alive


@pytest.mark.skipif(not BOOTS, reason="../shared/vectors/kernel-sea is absent")
def test_deterministic_trace():
    def run():
        host = Host()
        for name in BOOTS[0]:
            host.sea_from_user(vector_bytes(f"kernel-sea/{name}.estatus.bin"))
            host.engine.run(until=host.engine.now + SECOND)
        return [(e.time, e.component, e.name, repr(e.fields)) for e in host.engine.trace]
    assert run() == run()
