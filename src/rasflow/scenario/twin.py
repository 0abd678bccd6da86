"""The twin of a scenario: the same fault on a plain host process, under the same policies
and settings, so that "what does this design do for processes that are not VMs" is a run's
answer and never a property a design declares."""

from __future__ import annotations

from dataclasses import replace

from .model import Process, Scenario, Target

TWIN = "twin"  # the host process the twin's faults hit


def twin_of(sc: Scenario) -> Scenario | None:
    """``sc`` with every fault on a VM's process moved to a host process ``host:twin`` that
    runs the same program over the same memory; the VMs stay, with their policies, and the
    host settings are the same. None when no fault hits a VM's process (a fault on a host
    process is its own twin; one on a PA, a kernel page or the VMM has no process twin)."""
    vms = {vm.name: vm for vm in sc.vms}
    victims = {(f.target.kernel, f.target.process) for f in sc.faults
               if f.target.kind == "proc" and f.target.kernel in vms}
    if len(victims) != 1:  # one twin process stands for one hurt process
        return None
    (vm_name, proc_name), = victims
    guest = next(p for p in vms[vm_name].processes if p.name == proc_name)
    busy = {(vm.cpu + i) % sc.machine.cpus for vm in sc.vms for i in range(vm.vcpus)}
    busy |= {p.cpu for p in sc.host.processes}
    free = [c for c in range(sc.machine.cpus) if c not in busy]
    machine = sc.machine if free else replace(sc.machine, cpus=sc.machine.cpus + 1)
    cpu = free[0] if free else sc.machine.cpus
    twin = Process(TWIN, memory=guest.memory, va=guest.va, page=guest.page,
                   mce_kill=guest.mce_kill, sigbus_handler=guest.sigbus_handler, cpu=cpu,
                   start=guest.start, program=guest.program)
    faults = tuple(replace(f, target=Target("proc", "host", TWIN, f.target.addr))
                   if f.target.kind == "proc" and f.target.kernel == vm_name else f
                   for f in sc.faults)
    vms_left = tuple(replace(vm, processes=tuple(p for p in vm.processes if p.name != proc_name))
                     if vm.name == vm_name else vm for vm in sc.vms)
    return replace(sc, name=f"{sc.name} (twin)", machine=machine, vms=vms_left,
                   host=replace(sc.host, processes=sc.host.processes + (twin,)),
                   faults=faults, expect=None)


def host_process_of(sc: Scenario) -> str | None:
    """The host process a scenario's own faults hit, if one does (``host:NAME``)."""
    for f in sc.faults:
        if f.target.kind == "proc" and f.target.kernel == "host":
            return f"host:{f.target.process}"
    return None
