"""Cross-field checks of a parsed scenario: names exist and are unique, addresses fall
inside the memory they name, CPU numbers fit the machine, faults happen before the end."""

from __future__ import annotations

from .fields import Ctx
from .locate import Path
from .model import Fault, Process, Scenario, Target
from .units import format_size, format_time


def _span(base: int, size: int) -> str:
    return f"[{base:#x}, {base + size:#x})"


def _check_processes(ctx: Ctx, procs: tuple[Process, ...], path: Path, cpus: int,
                     cpu_word: str) -> None:
    seen: dict[str, int] = {}
    for i, p in enumerate(procs):
        at = path + (i,)
        if p.name in seen:
            ctx.error(at + ("name",), f"duplicate process name {p.name!r}: processes"
                                      f"[{seen[p.name]}] of {p.kernel} has it already")
        seen[p.name] = i
        if p.cpu >= cpus:
            ctx.error(at + ("cpu",), f"{p.cpu} is not a {cpu_word} (0..{cpus - 1})")
        if p.va + p.memory > 1 << 64:
            ctx.error(at + ("memory",), f"{_span(p.va, p.memory)} runs past 2**64")
    for i, p in enumerate(procs):
        if p.share is not None and (p.share not in seen or p.share == p.name):
            others = ", ".join(n for n in seen if n != p.name) or "none"
            ctx.error(path + (i, "share"), f"no other process {p.share!r} in {p.kernel} "
                                           f"(processes: {others})")


def _check_vms(ctx: Ctx, s: Scenario) -> None:
    seen: set[str] = set()
    total = 0
    for i, vm in enumerate(s.vms):
        at = ("vms", i)
        if vm.name in seen:
            ctx.error(at + ("name",), f"duplicate VM name {vm.name!r}")
        seen.add(vm.name)
        if vm.cpu >= s.machine.cpus:
            ctx.error(at + ("cpu",), f"{vm.cpu} is not a CPU of the machine "
                                     f"(0..{s.machine.cpus - 1})")
        total += vm.ram
        if total > s.machine.ram:
            ctx.error(at + ("ram",), f"VM RAM adds up to {format_size(total)}, more than the "
                                     f"host's {format_size(s.machine.ram)} (machine.ram)")
        _check_processes(ctx, vm.processes, at + ("processes",), vm.vcpus, f"vCPU of {vm.name}")
    _check_cpu_sharing(ctx, s)


def _check_cpu_sharing(ctx: Ctx, s: Scenario) -> None:
    """A vCPU owns its physical CPU (the model does not time-share a CPU between a guest
    and anything else): no two vCPUs, and no host process with a program, on one CPU."""
    owner: dict[int, str] = {}
    for i, vm in enumerate(s.vms):
        for v in range(vm.vcpus):
            cpu = (vm.cpu + v) % s.machine.cpus
            if cpu in owner:
                ctx.error(("vms", i, "cpu"), f"vCPU {v} of {vm.name} would run on CPU {cpu}, "
                                             f"which {owner[cpu]} has (one vCPU per CPU)")
            owner[cpu] = f"vCPU {v} of {vm.name}"
    for i, p in enumerate(s.host.processes):
        if p.program and p.cpu in owner:
            ctx.error(("host", "processes", i, "cpu"),
                      f"CPU {p.cpu} runs {owner[p.cpu]}; give the host process another CPU")


def _all_ids(s: Scenario) -> list[str]:
    return [p.id for p in s.processes()]


def _no_process(ctx: Ctx, s: Scenario, path: Path, pid: str, vmm_ok: bool = False) -> None:
    known = _all_ids(s) + ([f"vmm:{vm.name}" for vm in s.vms] if vmm_ok else [])
    ctx.error(path, f"no process {pid!r} (processes: {', '.join(known) or 'none'})")


def _check_proc_target(ctx: Ctx, s: Scenario, fault: Fault, path: Path) -> None:
    t = fault.target
    pid = f"{t.kernel}:{t.process}"
    if t.kernel != "host" and t.kernel not in {vm.name for vm in s.vms}:
        ctx.error(path, f"no VM {t.kernel!r} for {pid!r} (PROC is host:NAME or VM:NAME; "
                        f"VMs: {', '.join(vm.name for vm in s.vms) or 'none'})")
    try:
        proc = s.process(pid)
    except KeyError:
        _no_process(ctx, s, path, pid)
    if fault.kind == "device-serror":
        return  # the runner maps a device page at VA in this process
    spans = [proc] + ([s.process(f"{proc.kernel}:{proc.share}")] if proc.share else [])
    if not any(p.va <= t.addr < p.va + p.memory for p in spans):
        where = " or ".join(f"{p.id}'s {_span(p.va, p.memory)}" for p in spans)
        ctx.error(path, f"VA {t.addr:#x} is outside the memory it names: {where}")


def _check_target(ctx: Ctx, s: Scenario, fault: Fault, path: Path) -> None:
    t: Target = fault.target
    m = s.machine
    vms = {vm.name: vm for vm in s.vms}
    vm_list = ", ".join(vms) or "none"
    if t.kind == "proc":
        _check_proc_target(ctx, s, fault, path)
    elif t.kind == "pa":
        inside = m.ram_base <= t.addr < m.ram_base + m.ram
        if fault.kind == "device-serror" and inside:
            ctx.error(path, f"PA {t.addr:#x} is host RAM {_span(m.ram_base, m.ram)}; "
                            "a device-serror needs a device address outside it")
        if fault.kind != "device-serror" and not inside:
            ctx.error(path, f"PA {t.addr:#x} is outside host RAM {_span(m.ram_base, m.ram)}")
    elif t.kind == "cpu":
        if t.cpu >= m.cpus:
            ctx.error(path, f"no cpu {t.cpu} (machine.cpus = {m.cpus}: 0..{m.cpus - 1})")
    elif t.kernel != "host" and t.kernel not in vms:
        ctx.error(path, f"no VM {t.kernel!r} (VMs: {vm_list})")
    elif t.kind == "ipa":
        vm = vms[t.kernel]
        if not vm.ipa_base <= t.addr < vm.ipa_base + vm.ram:
            ctx.error(path, f"IPA {t.addr:#x} is outside {vm.name}'s RAM "
                            f"{_span(vm.ipa_base, vm.ram)}")


def _check_faults(ctx: Ctx, s: Scenario) -> None:
    m = s.machine
    for i, fault in enumerate(s.faults):
        at = ("faults", i)
        if fault.at >= s.duration:
            ctx.error(at + ("at",), f"{format_time(fault.at)} is not before the end of the run "
                                    f"(duration = {format_time(s.duration)})")
        _check_target(ctx, s, fault, at + ("target",))
        if fault.pa is not None and not m.ram_base <= fault.pa < m.ram_base + m.ram:
            ctx.error(at + ("pa",), f"PA {fault.pa:#x} is outside host RAM "
                                    f"{_span(m.ram_base, m.ram)}")


def _check_expect(ctx: Ctx, s: Scenario) -> None:
    e = s.expect
    if e is None:
        return
    at = ("expect",)
    vms = [vm.name for vm in s.vms]
    targets = set(_all_ids(s)) | {f"vmm:{vm}" for vm in vms}
    for key in ("vms", "cper_guest"):
        for name in getattr(e, key) or {}:
            if name not in vms:
                ctx.error(at + (key, name), f"no VM {name!r} (VMs: {', '.join(vms) or 'none'})")
    for pid in e.processes or {}:
        if pid not in targets:
            _no_process(ctx, s, at + ("processes", pid), pid, vmm_ok=True)
    for i, sig in enumerate(e.signals or ()):
        if "target" in sig and sig["target"] not in targets:
            _no_process(ctx, s, at + ("signals", i, "target"), sig["target"], vmm_ok=True)
    for i, pid in enumerate(e.no_signals or ()):
        if pid not in targets:
            _no_process(ctx, s, at + ("no_signals", i), pid, vmm_ok=True)


MAX_POLLS = 100_000  # GHES polls in one run: about 25 s of run time


def _check_polls(ctx: Ctx, s: Scenario) -> None:
    m = s.machine
    if "POLLED" in m.notifications and s.duration // m.poll_interval > MAX_POLLS:
        ctx.error(("machine", "poll_interval"), f"{format_time(m.poll_interval)} polls the GHES "
                  f"{s.duration // m.poll_interval} times in {format_time(s.duration)}; at most "
                  f"{MAX_POLLS} polls finish in reasonable time")


def validate(ctx: Ctx, s: Scenario) -> None:
    """Raise the first cross-field problem of ``s`` as a ScenarioError."""
    _check_polls(ctx, s)
    _check_processes(ctx, s.host.processes, ("host", "processes"), s.machine.cpus,
                     "CPU of the machine")
    _check_vms(ctx, s)
    _check_faults(ctx, s)
    _check_expect(ctx, s)
