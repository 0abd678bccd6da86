"""Run a scenario: build the :class:`System` it describes, schedule its faults, run for its
duration, and compute the outcome and its verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import Trace
from .model import Fault, Scenario
from .outcome import Outcome, outcome_of, verdicts, victims_of
from .spec import load_scenario
from .system import System

VMM_HEAP_VA = 0x5555_0000_0000  # the VMM's own (non-guest) memory
DEVICE_PA = 0x0A00_0000  # QEMU virt's virtio-mmio window: the device a process maps


@dataclass
class Run:
    """A finished run: its scenario, policy override, system and outcome (which carries the
    verdicts and the trace)."""

    scenario: Scenario
    policy: str | None
    system: System
    outcome: Outcome

    @property
    def verdicts(self) -> list[tuple[str, Any, Any, bool]]:
        return self.outcome.verdicts

    @property
    def events(self):
        return self.outcome.events

    @property
    def passed(self) -> bool:
        return self.outcome.passed


def build(sc: Scenario, *, policy: str | None = None, seed: int | None = None,
          trace: Trace | None = None, costs: Mapping[str, int] | None = None) -> System:
    """The system ``sc`` describes, its faults scheduled; ``costs``: the cost model's figures
    (step -> ns; the typical ones unless given, see engine.costs)."""
    m, h = sc.machine, sc.host
    system = System(cpus=m.cpus, ram=m.ram, ram_base=m.ram_base, ras=m.ras,
                    firmware_first=m.firmware_first, notifications=m.notifications, iesb=m.iesb,
                    el3_serror=m.el3_serror,
                    poll_interval=m.poll_interval, early_kill=h.early_kill, recovery=h.recovery,
                    panic_on_oops=h.panic_on_oops, seed=sc.seed if seed is None else seed,
                    trace=trace, costs=costs)
    _add_processes(system, "host", h.processes)
    for vm in sc.vms:
        system.add_vm(vm.name, ram=vm.ram, ipa_base=vm.ipa_base,
                      policy=policy or sc.policy_of(vm), cpu=vm.cpu, vcpus=vm.vcpus, ras=vm.ras,
                      early_kill=vm.early_kill, recovery=vm.recovery, hugepages=vm.hugepages)
        _add_processes(system, vm.name, vm.processes)
    for fault in sc.faults:
        _prepare(system, fault)
        system.engine.schedule(fault.at, apply_fault, system, fault)
    return system


def _add_processes(system: System, kernel: str, procs) -> None:
    pending = list(procs)
    while pending:  # a process that shares another's memory comes after it
        p = next(p for p in pending if not p.share or f"{kernel}:{p.share}" in system.tasks)
        pending.remove(p)
        system.add_process(kernel, p.name, memory=p.memory, va=p.va, page=p.page,
                           share=p.share, mce_kill=p.mce_kill, sigbus_handler=p.sigbus_handler,
                           cpu=p.cpu, program=p.program, start=p.start)


def _prepare(system: System, fault: Fault) -> None:
    """Mappings a fault needs before the run: a device page for a device-serror target."""
    t = fault.target
    if fault.kind == "device-serror" and t.kind == "proc":
        k, task = system.tasks[f"{t.kernel}:{t.process}"]
        if task.find_vma(t.addr) is None:
            page = t.addr & ~0xFFF
            k.sys_mmap(task, page, 0x1000, state="device", pa=DEVICE_PA)


def target_pa(system: System, fault: Fault) -> int | None:
    t = fault.target
    if t.kind == "proc":
        return system.process_pa(f"{t.kernel}:{t.process}", t.addr)
    if t.kind == "pa":
        return t.addr
    if t.kind == "ipa":
        return system.ipa_to_pa(t.kernel, t.addr)
    if t.kind == "kernel":
        return system.kernel_page_pa(t.kernel)
    if t.kind == "vmm":
        vmm = system.vmms[t.kernel]
        thread = vmm.heap_thread(VMM_HEAP_VA)
        return system.host.user_pa(thread, VMM_HEAP_VA)
    return fault.pa


def apply_fault(system: System, fault: Fault) -> None:
    """The fault, now: the hardware's injection, and (``consume``) the access that
    consumes it when no process's program does."""
    m, t, kind = system.machine, fault.target, fault.kind
    fields = {"kind": kind, "target": str(t)}
    if t.kind == "proc":  # where the faulted VA lives, for the verdicts
        k, task = system.tasks[f"{t.kernel}:{t.process}"]
        addr = k.user_pa(task, t.addr)
        fields["va"] = t.addr
        if addr is not None and k is not system.host:
            fields["ipa"] = addr
    system.engine.trace.emit(system.engine.now, "machine", "fault", fields)  # hardware lifeline
    if kind == "vserror":
        system.vmms[t.kernel].inject_vserror(fault.esr)
        return
    cpu = t.cpu if t.cpu is not None else 0
    if kind == "uncontainable":
        m.inject(kind, cpu=cpu)
        return
    pa = target_pa(system, fault)
    if kind in ("cache", "tlb", "bus"):
        params = {"cpu": cpu, "signal": fault.signal or "serror", "uet": fault.aet or "UER"}
        if fault.pa is not None:
            params["pa"] = fault.pa
        m.inject(kind, **params)
        return
    if kind == "device-serror":
        m.inject(kind, pa=pa if pa is not None else DEVICE_PA, aet=fault.aet or "UER",
                 delay_ns=fault.delay if fault.delay is not None else 5,
                 **({"synchronizable": False} if fault.synchronizable is False else {}))
        return
    if pa is None:
        raise ValueError(f"fault target {t} has no physical address")
    if kind == "memory-ue":
        m.inject(kind, pa=pa)
    elif kind == "memory-ce":
        m.inject(kind, pa=pa, count=fault.count or 1)
    elif kind == "patrol-scrub":
        m.inject(kind, pa=pa)
    if fault.consume == "load" and t.kind in ("kernel", "vmm"):
        _consume(system, t, pa)


def _consume(system: System, t, pa: int) -> None:
    """The owner of the memory loads it: the host kernel (EL2) on the last CPU, or the
    VMM's own thread."""
    if t.kind == "vmm":
        system.vmms[t.kernel].touch_heap(VMM_HEAP_VA)
        return
    if t.kernel != "host":
        raise ValueError(f"{t}: only the host kernel's own accesses are modeled")
    idle = [pe for pe in reversed(system.machine.pes) if not pe.busy]
    if not idle:
        raise ValueError(f"{t}: no idle CPU for the host kernel's access (every CPU runs a program)")
    idle[0].run([("load", pa)], el=2)


def run(scenario: Scenario | str | Path, policy: str | None = None, seed: int | None = None,
        *, trace: Trace | None = None, costs: Mapping[str, int] | None = None) -> Run:
    """Run a scenario (object, file or built-in name) under its own policies or ``policy``."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    system = build(sc, policy=policy, seed=seed, trace=trace, costs=costs)
    system.start()
    system.run(until=sc.duration)
    outcome = outcome_of(system, victims_of(sc))
    outcome.verdicts = verdicts(sc.expect, outcome.to_dict())
    outcome.events = system.engine.trace.events
    return Run(sc, policy, system, outcome)
