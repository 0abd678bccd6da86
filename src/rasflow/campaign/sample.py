"""Drawing fault ``i`` of a campaign: a deterministic function of (campaign, i).

Row ``i`` runs sample ``i // len(settings)`` under setting ``i % len(settings)`` when the
campaign is paired (every sample under every setting), else sample ``i``. A sample's random
numbers come from ``blake2b(seed, sample)``, so a row never depends on which worker ran it.

A fault in a process's memory is consumed by that process: its program becomes a store
that maps the page, a sleep until ``at + access_after``, the consuming load or store
(``consume``), and a short tail. A fault in the host kernel or a VMM is consumed (``load``)
by the runner; guest or host RAM nobody maps is never consumed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace

from ..scenario import Fault, Process, Scenario, Target
from .spec import Campaign, Setting

TAIL = 10_000  # ns a process keeps running after its access
PAGE = 4096


@dataclass(frozen=True)
class Draw:
    """One drawn fault, the program change that consumes it, and its row inputs."""

    fault: Fault
    region: str | None = None
    address: int | None = None
    consume: str = "none"
    victim: str | None = None
    program: tuple | None = None  # the victim's new program, if it changes


def derive(seed: int, n: int, label: str = "fault") -> int:
    """A 64-bit seed for item ``n`` (and purpose ``label``) of a campaign with ``seed``."""
    text = f"{seed}/{n}/{label}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def index_of(c: Campaign, i: int) -> tuple[int, int]:
    """(sample, setting number) of row ``i``."""
    n = len(c.settings)
    return (i // n, i % n) if c.paired else (i, i % n)


def configure(base: Scenario, s: Setting) -> Scenario:
    """The base scenario under one setting of the sweep."""
    return replace(
        base, policy=s.policy,
        machine=replace(base.machine, notifications=s.notifications),
        host=replace(base.host, early_kill=s.early_kill, recovery=s.recovery),
        vms=tuple(replace(vm, policy=None, early_kill=s.early_kill, recovery=s.recovery)
                  for vm in base.vms))


def _pick(rng: random.Random, weights: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weights], [w for _, w in weights])[0]


def _access(p: Process, va: int, at: int, op: str) -> tuple:
    wait = max(0, at - p.start)
    access = ("load", va) if op == "load" else ("store", va, 2)
    return (("store", va, 1), ("sleep", wait), access, ("sleep", TAIL))


def _memory(c: Campaign, rng: random.Random, kind: str, at: int, after: int) -> Draw:
    base, dist = c.base, c.faults
    region = _pick(rng, dist.regions)
    consume = "none" if kind == "memory-ce" else _pick(rng, dist.consume)
    extra = {"count": rng.randint(*dist.ce_count)} if kind == "memory-ce" else {}
    if region in ("vm-process", "host-process"):
        procs = base.host.processes if region == "host-process" else tuple(
            p for vm in base.vms for p in vm.processes)
        p = rng.choice(procs)
        va = p.va + rng.randrange(p.memory // 8) * 8
        target = Target("proc", kernel=p.kernel, process=p.name, addr=va)
        program = None if consume == "none" else _access(p, va, at + after, consume)
        fault = Fault(at, kind, target, consume="none", **extra)
        return Draw(fault, region, va, consume, p.id, program)
    if region in ("host-kernel", "vmm"):
        vm = rng.choice(base.vms) if region == "vmm" else None
        target = Target("vmm", kernel=vm.name) if vm else Target("kernel", kernel="host")
        consume = "none" if consume == "none" else "load"  # the owner's own load
        fault = Fault(at, kind, target, consume=consume, **extra)
        return Draw(fault, region, None, consume, f"vmm:{vm.name}" if vm else None)
    if region == "guest-ram":
        vm = rng.choice(base.vms)
        ipa = vm.ipa_base + rng.randrange(vm.ram // 8) * 8
        fault = Fault(at, kind, Target("ipa", kernel=vm.name, addr=ipa), consume="none", **extra)
        return Draw(fault, region, ipa)
    m = base.machine
    pa = m.ram_base + rng.randrange(m.ram // 8) * 8
    return Draw(Fault(at, kind, Target("pa", addr=pa), consume="none", **extra), region, pa)


def draw(c: Campaign, sample: int) -> Draw:
    """The fault of ``sample`` (not yet tied to a setting)."""
    rng = random.Random(derive(c.seed, sample))
    dist, base = c.faults, c.base
    kind = _pick(rng, dist.kinds)
    at = rng.randint(*dist.at)
    after = rng.randint(*dist.access_after)
    if kind in ("memory-ue", "memory-ce", "patrol-scrub"):
        return _memory(c, rng, kind, at, after)
    if kind in ("cache", "tlb", "bus", "uncontainable"):
        cpu = rng.randrange(base.machine.cpus)
        if kind == "uncontainable":
            return Draw(Fault(at, kind, Target("cpu", cpu=cpu)))
        signal, aet = _pick(rng, dist.cpu_signal), _pick(rng, dist.cpu_aet)
        pa = None
        if rng.random() < dist.cpu_pa:
            pa = base.machine.ram_base + rng.randrange(base.machine.ram // PAGE) * PAGE
        fault = Fault(at, kind, Target("cpu", cpu=cpu), pa=pa, signal=signal, aet=aet, delay=0)
        return Draw(fault, address=pa)
    if kind == "device-serror":
        p = rng.choice(base.processes())
        va = (p.va + p.memory + 2 * PAGE - 1) & ~(PAGE - 1)  # a page past its memory
        program = (("sleep", max(0, at + after - p.start)), ("load", va), ("svc", 0),
                   ("sleep", TAIL))
        fault = Fault(at, kind, Target("proc", kernel=p.kernel, process=p.name, addr=va),
                      consume="none", aet=_pick(rng, dist.device_aet), delay=5)
        return Draw(fault, None, va, "load", p.id, program)
    vm = rng.choice(base.vms)  # vserror
    return Draw(Fault(at, kind, Target("vm", kernel=vm.name), aet=_pick(rng, dist.vserror_aet)),
                victim=None)


def with_program(sc: Scenario, pid: str, program: tuple) -> Scenario:
    """``sc`` with process ``pid``'s program replaced."""
    def fix(procs: tuple[Process, ...]) -> tuple[Process, ...]:
        return tuple(replace(p, program=program) if p.id == pid else p for p in procs)
    if pid.startswith("host:"):
        return replace(sc, host=replace(sc.host, processes=fix(sc.host.processes)))
    return replace(sc, vms=tuple(replace(vm, processes=fix(vm.processes)) for vm in sc.vms))


def scenario_of(configured: Scenario, d: Draw, seed: int) -> Scenario:
    """The concrete scenario of one row: the configured base plus the drawn fault."""
    sc = replace(configured, faults=(d.fault,), seed=seed)
    return with_program(sc, d.victim, d.program) if d.program is not None else sc
