"""Consumed-UE throughput through the machine and the EL3 firmware, on one core.

A 4 TiB machine (firmware first, a VHE host) runs one EL0 program: a loop of loads whose
VA the "MMU" maps to a new poisoned granule each time, spread over the whole 4 TiB. Each
load consumes poison: the memory controller records it, the PE takes the SEA to EL3, the
firmware probes the records, writes a memory CPER into the SEA source's GHESv2 block,
clears the records and injects the SEA at EL2; a stand-in host kernel at EL2 acks the
block (ghes_ack_error), repairs the line, poisons the next one and returns past the load.

Reports consumed-UE events/s and trace events ("steps": every hw/firmware crossing)/s,
and memory after 10k events and after all of them: RSS, the interpreter's allocated
blocks and the RAM pages the 4 TiB machine allocated (``--tracemalloc`` adds tracemalloc's
current/peak, at about a third of the speed). Writes bench/results/hw_fw.json.
``--events N`` (default 1,000,000).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

from rasflow.engine import Engine, Trace
from rasflow.firmware import El3Firmware, Platform, hest_ghes_targets
from rasflow.formats.arm.sysreg import HCR_EL2
from rasflow.hw import Machine

ROOT = Path(__file__).resolve().parents[1]
RAM_BASE, RAM_SIZE = 0x4000_0000, 4 << 40  # 4 TiB
VA = 0x7F00_0000_0000
STRIDE = 0x3_F1D3_6B40  # granule-aligned, co-prime with the RAM's granule count: covers it
TARGET = 100_000


def write_result(name: str, res: dict) -> None:
    """bench/results/NAME.json: a benchmark's figures, and the interpreter that gave them
    (the figures depend on its build: see scripts/setup.sh)."""
    res = {**res, "python": f"{sys.executable} {platform.python_version()}"}
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")


def rss_mib() -> float:
    """Current resident set size (Linux /proc), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class HostKernel:
    """The EL2 stand-in: ack the GHES block, repair the line, poison the next, skip the load."""

    def __init__(self, machine, ack_register: int, ack_write: int):
        self.m, self.ack, self.ack_write = machine, ack_register, ack_write
        self.i = 0
        self.pa = RAM_BASE
        self.events = 0

    def next_pa(self) -> int:
        self.i += 1
        return RAM_BASE + (self.i * STRIDE) % (RAM_SIZE - 0x10_0000)

    def mmu(self, va: int) -> int:
        return self.pa

    def on_exception(self, pe, exc):
        m = self.m
        self.events += 1
        m.memory.write_u64(self.ack, m.memory.read_u64(self.ack) | self.ack_write)
        m.memory.unpoison(self.pa)
        self.pa = self.next_pa()
        m.inject("memory-ue", pa=self.pa)
        pe.write_sysreg("ELR_EL2", exc.elr + 4)
        pe.eret()


def run(events: int, *, checkpoints=(10_000,), use_tracemalloc: bool = False) -> dict:
    trace = Trace(keep=False)
    engine = Engine(seed=1, trace=trace)
    m = Machine(engine, cpus=1, ram=[(RAM_BASE, RAM_SIZE)],
                hcr_el2=HCR_EL2.encode(RW=1, E2H=1, TGE=1))
    platform = Platform(m)
    El3Firmware(m, platform)
    sea = next(t for t in hest_ghes_targets(m.memory, platform.hest_pa) if t.notify == "SEA")
    host = HostKernel(m, sea.read_ack_register, sea.read_ack_write)
    m.pes[0].install(2, host)
    m.inject("memory-ue", pa=host.pa)
    if use_tracemalloc:
        tracemalloc.start()
    marks: dict[str, dict] = {}
    done = 0
    t0 = time.perf_counter()
    chunk_points = sorted({c for c in checkpoints if c < events} | {events})
    for point in chunk_points:
        m.pes[0].run([("loop", point - done, [("load", VA)])], host.mmu, el=0)
        engine.run()
        done = point
        mark = {"seconds": time.perf_counter() - t0, "rss_mib": rss_mib(),
                "allocated_blocks": sys.getallocatedblocks(), "pages_allocated": m.memory.pages_allocated}
        if use_tracemalloc:
            cur, peak = tracemalloc.get_traced_memory()
            mark.update(tracemalloc_current_mib=cur / 2**20, tracemalloc_peak_mib=peak / 2**20)
        marks[str(point)] = mark
    dt = time.perf_counter() - t0
    if use_tracemalloc:
        tracemalloc.stop()
    assert host.events == events, (host.events, events)
    assert not m.halted
    return {
        "events": events,
        "seconds": dt,
        "events_per_s": events / dt,
        "trace_events": trace.count,
        "steps_per_event": trace.count / events,
        "steps_per_s": trace.count / dt,
        "target_steps_per_s": TARGET,
        "ram_bytes": RAM_SIZE,
        "memory": marks,
        "tracemalloc": use_tracemalloc,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slow)")
    args = ap.parse_args(argv)
    res = run(args.events, use_tracemalloc=args.tracemalloc)
    print(f"consumed-UE events: {res['events']:,} in {res['seconds']:.1f} s on one core")
    print(f"  {res['events_per_s']:,.0f} events/s, {res['steps_per_event']:.1f} trace events each: "
          f"{res['steps_per_s']:,.0f} hw+firmware steps/s (target {TARGET:,})")
    for k, v in res["memory"].items():
        tm = (f"tracemalloc {v['tracemalloc_current_mib']:.2f} MiB (peak {v['tracemalloc_peak_mib']:.2f}), "
              if "tracemalloc_current_mib" in v else "")
        print(f"  after {int(k):>9,} events: {tm}RSS {v['rss_mib']:.1f} MiB, "
              f"{v['allocated_blocks']:,} Python blocks, {v['pages_allocated']} RAM pages of a 4 TiB machine")
    write_result("hw_fw", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
