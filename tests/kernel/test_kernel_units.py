"""Unit tests of the host kernel's RAS pieces: memory_failure outcomes, the estatus cache,
the print rate limit, the GHESv2 read-ack, __ghes_check_estatus rejections, ghes_probe."""

from __future__ import annotations

import struct

import pytest

from kernel.khelpers import SECOND, Host
from rasflow.formats.linux.errno import EBUSY, EHWPOISON, ENXIO
from rasflow.formats.linux.mm import MF_ACTION_REQUIRED
from rasflow.formats.linux.siginfo import BUS_MCEERR_AR, BUS_OBJERR, SIGBUS
from rasflow.kernel.apei import EstatusCache, Ratelimit
from vectors import vector_bytes

PFN = 0x7E000


# --- memory_failure -------------------------------------------------------------------------
def test_free_buddy_page_recovered_then_already_poisoned():
    k = Host().kernel
    assert k.mf.memory_failure(PFN, 0) == 0
    assert k.mf.memory_failure(PFN, 0) == -EHWPOISON
    assert k.dmesg[-2:] == [
        "Memory failure: 0x7e000: recovery action for free buddy page: Recovered",
        "Memory failure: 0x7e000: recovery action for already poisoned: Failed"]


def test_already_poisoned_with_action_required_kills_the_accessing_process():
    h = Host()
    k = h.kernel
    task = k.spawn("app")
    k.map_page(task, 0x7000_1000, PFN)
    k.mf.memory_failure(PFN, 0)
    assert k.mf.memory_failure(PFN, MF_ACTION_REQUIRED) == -EHWPOISON
    assert k.dmesg[-2] == "Memory failure: 0x7e000: Sending SIGBUS to app:1 due to hardware memory corruption"
    (sig,) = task.pending
    assert (sig.si_signo, sig.si_code, sig.si_addr, sig.si_addr_lsb) == (SIGBUS, BUS_MCEERR_AR, 0x7000_1000, 12)


def test_dirty_anon_page_mapped_by_current_action_required():
    k = Host().kernel
    task = k.spawn("app")
    k.map_page(task, 0x7000_0000, PFN)
    k.pages.set(PFN, "anon_dirty")
    assert k.mf.memory_failure(PFN, MF_ACTION_REQUIRED) == 0
    assert k.dmesg[-2:] == [
        "Memory failure: 0x7e000: Sending SIGBUS to app:1 due to hardware memory corruption",
        "Memory failure: 0x7e000: recovery action for dirty LRU page: Recovered"]
    assert task.pending[0].si_code == BUS_MCEERR_AR and not task.mm


def test_kernel_page_ignored_and_outside_ram():
    k = Host().kernel
    k.pages.set(PFN, "kernel")
    assert k.mf.memory_failure(PFN, 0) == -EBUSY
    assert k.dmesg[-2:] == [  # what 6.12 prints (checked with rasflow verify kernel --mode sea)
        "Memory failure: 0x7e000: unhandlable page.",
        "Memory failure: 0x7e000: recovery action for get hwpoison page: Ignored"]
    assert k.mf.memory_failure(0x100000, 0) == -ENXIO
    assert k.dmesg[-1] == "Memory failure: 0x100000: memory outside kernel control"


def test_recovery_disabled_panics():
    h = Host(sysctl={"vm.memory_failure_recovery": 0})
    h.kernel.mf.memory_failure(PFN, 0)
    assert h.m.halted and h.kernel.dmesg[-1] == "Kernel panic - not syncing: Memory failure on page 7e000"


def test_memory_failure_queue_runs_in_a_worker_and_overflows_at_16():
    h = Host()
    k = h.kernel
    for i in range(17):
        k.mf.memory_failure_queue(PFN + i, 0)
    assert k.dmesg[-1] == f"Memory failure: buffer overflow when queuing memory failure at {PFN + 16:#x}"
    assert not any("recovery action" in ln for ln in k.dmesg)
    h.engine.run()
    assert sum("recovery action for free buddy page" in ln for ln in k.dmesg) == 16


# --- estatus cache and rate limit -----------------------------------------------------------
def test_estatus_cache_window_and_slots():
    c = EstatusCache()
    assert not c.cached(b"a", 0)
    c.add(b"a", 0)
    assert c.cached(b"a", 9 * SECOND) and not c.cached(b"a", 10 * SECOND)
    for i, blob in enumerate((b"b", b"c", b"d", b"e")):
        c.add(blob, SECOND + i)
    assert not c.cached(b"a", 2 * SECOND)  # evicted: 4 slots, the longest age per hit
    assert all(c.cached(b, 2 * SECOND) for b in (b"b", b"c", b"d", b"e"))


def test_ratelimit_two_per_five_seconds():
    rl = Ratelimit(5 * SECOND, 2)
    assert [rl(0), rl(1), rl(2)] == [True, True, False]
    assert rl(5 * SECOND)


def test_print_rate_limit_per_class():
    """Three different corrected records within 5 s: the third is not printed (nor cached)."""
    h = Host()
    data = bytearray(vector_bytes("kernel-sea/pub-mem-cor-pa.estatus.bin"))
    printed = []
    for i in range(3):
        data[-20] = i + 1  # a different byte in the memory section: not a cache hit
        _, lines = h.sea_from_user(bytes(data))
        printed.append(any("Hardware error from APEI" in ln for ln in lines))
    assert printed == [True, True, False]


def test_duplicate_record_dropped_by_the_cache_without_sigbus():
    h = Host()
    data = vector_bytes("kernel-sea/pub-mem-cor-pa.estatus.bin")
    h.sea_from_user(data)
    task, lines = h.sea_from_user(data)
    assert lines == []
    assert any(e.name == "ghes_estatus_cached" for e in h.engine.trace)
    assert task.exit_signal == SIGBUS  # the re-executed load: nothing claimed it (BUS_OBJERR)


# --- GHESv2 read-ack and __ghes_check_estatus ---------------------------------------------
def test_ghes_ack_error_uses_preserve_and_write_masks():
    h = Host()
    (ghes,) = h.kernel.ghes.ghes_sea
    g = ghes.generic
    reg = g.read_ack_register_address
    h.m.memory.write_u64(reg, 0xFFFF_0000_F0F0_F0F0)
    ghes.ghes_ack_error()
    shift = g.read_ack_register_bit_offset
    want = (0xFFFF_0000_F0F0_F0F0 & (g.read_ack_preserve << shift)) | (g.read_ack_write << shift)
    assert h.m.memory.read_u64(reg) == want


def _header(raw_off=0, raw_len=0, data_len=0, sev=0, status=1):
    return struct.pack("<IIIII", status, raw_off, raw_len, data_len, sev)


@pytest.mark.parametrize("block, message", [
    (_header(raw_off=4, raw_len=1), "Truncated error status block!"),  # raw_off + raw_len < 20
    (_header(data_len=0x10000), "Invalid error status block length!"),
    (_header(data_len=10), "Invalid CPER header!"),
    (_header(data_len=64) + bytes(24) + struct.pack("<I", 100) + bytes(36),
     "Failed to read error status block!"),
])
def test_ghes_check_estatus_rejections(block, message):
    h = Host()
    task, lines = h.sea_from_user(block)
    assert lines == [f"[Firmware Warn]: GHES: {message}"]
    t = h.target("SEA")
    blk = h.m.memory.read_u64(t.error_status_address)
    assert h.m.memory.read(blk, 4) == bytes(4)  # block_status cleared
    assert h.m.memory.read_u64(t.read_ack_register) & 1  # and acked
    sigs = [e.fields for e in h.engine.trace if e.name == "signal_deliver"]
    assert sigs[0]["code"] == BUS_OBJERR and not task.alive  # not claimed: arm64_notify_die


def test_ghes_probe_notification_types():
    h = Host(sources=("SEA", "GPIO", "SEI", "POLLED"))
    d = h.kernel.ghes
    assert [g.notify for g in d.ghes] == ["SEA", "GPIO", "POLLED"]
    assert "GHES: Unknown notification type: 9 for generic hardware error source: 2" in h.kernel.dmesg


def test_polled_source_ghes_proc():
    h = Host(sources=("SEA", "POLLED"))
    data = vector_bytes("kernel-sea/pub-mem-cor-pa.estatus.bin")
    h.write_status_block(data, "POLLED")
    (polled,) = [g for g in h.kernel.ghes.ghes if g.notify == "POLLED"]
    h.engine.run(until=polled.generic.notify_poll_interval * 1_000_000 + 1)
    assert any("Hardware error from APEI Generic Hardware Error Source: 1" in ln for ln in h.kernel.dmesg)
    assert not any("SIGBUS" in ln for ln in h.kernel.dmesg)  # not synchronous


def test_pcie_section_goes_to_aer_recover_queue():
    from rasflow.formats import cper
    from rasflow.formats.cper.pcie import (
        CPER_PCIE_VALID_AER_INFO,
        CPER_PCIE_VALID_DEVICE_ID,
        CperSecPcie,
    )

    h = Host(sources=("SEA", "GPIO"))
    k = h.kernel
    sec = CperSecPcie.decode(bytes(CperSecPcie.SIZE))._replace(
        validation_bits=CPER_PCIE_VALID_DEVICE_ID | CPER_PCIE_VALID_AER_INFO, bus=1, device=2,
        function=3)
    est = cper.build_estatus([(sec, {"flags": 0x4})], error_severity=0)  # CPER_SEC_RESET
    gpio = h.target("GPIO")
    h.m.memory.write(h.m.memory.read_u64(gpio.error_status_address), est.encode())
    ghes = next(g for g in k.ghes.other["GPIO"])
    ghes.ghes_proc()
    h.engine.run()
    (aer,) = h.engine.trace.named("aer_recover_queue")
    assert aer.fields == {"device": "0000:01:02.3", "severity": "AER_FATAL"}
    assert k.dmesg[-1] == "AER: no pci_dev for 0000:01:02.3"
