"""Which host-only values reached a user process or a guest, found by value.

First the run's host-only values are collected from where the host alone holds them: the
syndrome registers KVM saved at every guest exit (ESR_EL2, FAR_EL2, HPFAR_EL2, traced by
``kvm_exit``), the host physical addresses of the error (the RAS record's ADDR, the injected
PA, the addresses in the host's CPER records, each also as its page), and the VMM's host
virtual addresses of guest RAM. Then every value that crossed into a user process or a
guest is checked against them, whatever design carried it:

- the ``kvm_run`` exit payload the VMM reads (each value searched at every byte offset);
- ``siginfo.si_addr`` of every signal, to the process it targets;
- registers: what KVM_GET_ONE_REG returns to the VMM, what KVM_SET_ONE_REG writes into the
  guest, what KVM puts in the guest's EL1 registers for a delegated error (``kvm_delegate``)
  or as the syndrome of an abort it injects for someone else, and the ESR_EL1/FAR_EL1 of
  every exception the guest takes (except a syndrome KVM built itself from the
  architecture's rules, ``kvm_inject_abt`` with ``built``: it equals a raw ESR_EL2 when the
  hardware said no more than that, and carries nothing of the host's);
- guest memory: the CPER records the VMM writes into the guest's error status blocks.

What a receiver holds by right is not an exposure: the VMM owns its HVAs and the guest's
IPAs; FAR_EL2 on an exit from a guest is the guest's own VA, so it is not looked for in the
guest; and a host PA that is also an IPA of the receiving guest's RAM is ambiguous and not
counted."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

_U64 = struct.Struct("<Q")
PAGE_MASK = ~0xFFF


class HostOnly:
    """The host-only values of one run, and the check of a value against them."""

    def __init__(self, system, events: Iterable, host_pas: Iterable[int] = ()) -> None:
        """``host_pas``: the addresses of the host's CPER records."""
        self.esr: set[int] = set()
        self.far: set[int] = set()
        self.hpfar: set[int] = set()
        self.pa: set[int] = set(host_pas)
        for ev in events:
            name, f = ev.name, ev.fields
            if name == "kvm_exit":
                for key, into in (("esr", self.esr), ("far", self.far), ("hpfar", self.hpfar)):
                    if f.get(key):
                        into.add(f[key])
            elif name == "ras_record" and f.get("addr"):
                self.pa.add(f["addr"])
            elif name == "inject" and f.get("pa"):
                self.pa.add(f["pa"])
        self.pa |= {a & PAGE_MASK for a in self.pa}
        self.vmms = system.vmms
        self._patterns: dict[str | None, list[tuple[str, bytes]]] = {}

    def patterns(self, vm: str | None) -> list[tuple[str, bytes]]:
        """(name, little-endian bytes) of every host-only value a receiver in ``vm`` (None:
        on the host) must not see: ESR_EL2 as 4 bytes, the addresses as 8."""
        pats = self._patterns.get(vm)
        if pats is None:
            values = {v for vs in (self.esr, self.hpfar, self.far, self.pa) for v in vs}
            pats = self._patterns[vm] = sorted(
                (what, v.to_bytes(4 if what == "ESR_EL2" else 8, "little"))
                for v in values if v < 1 << 64
                for what in (self.match(v, vm),) if what is not None)
        return pats

    def hvas_in(self, data: bytes) -> bool:
        """Whether ``data`` holds, at any offset, an HVA of a VMM's guest RAM."""
        for vmm in self.vmms.values():
            top = _U64.pack(vmm.hva_base)[5:]  # the high bytes every HVA of it shares
            i = data.find(top, 5)
            while i != -1:
                if vmm.hva_to_gpa(_U64.unpack_from(data, i - 5)[0]) is not None:
                    return True
                i = data.find(top, i + 1)
        return False

    def match(self, value: int, vm: str | None) -> str | None:
        """The name of the host-only value ``value`` is, for a receiver in VM ``vm`` (the
        guest kernel or one of its processes) or on the host (``None``: the VMM, a host
        process), or None."""
        if not value:
            return None
        if value in self.esr:
            return "ESR_EL2"
        if value in self.hpfar:
            return "HPFAR_EL2"
        if vm is None and value in self.far:
            return "FAR_EL2"
        if vm is not None:
            own = self.vmms.get(vm)
            for vmm in self.vmms.values():
                if vmm.hva_to_gpa(value) is not None:
                    return "HVA"
            if value in self.pa and (own is None or own.gpa_to_hva(value) is None):
                return "host PA"
            return None
        if value in self.pa:
            return "host PA"
        return None


def exposures(system, events: list, names: dict, host_cper_addrs: Iterable[int]) -> list[dict[str, str]]:
    """Every host-only value seen crossing into a user process or a guest: ``what`` (the
    value's name), ``to`` (the receiver), ``where`` (the carrier), one entry per
    (what, to, where)."""
    secret = HostOnly(system, events, host_cper_addrs)
    cpu_vm = {f"cpu{v.pe.index}": vm.name for vm in system.kvm.vms for v in vm.vcpus}
    built = {(e.fields["vm"], e.fields["esr_el1"]) for e in events
             if e.name == "kvm_inject_abt" and e.fields.get("built")}
    seen: dict[tuple[str, str, str], dict[str, str]] = {}

    def vm_of(to: str) -> str | None:  # guest:vm0 and vm0:app are in vm0; vmm:vm0 is not
        kernel, _, rest = to.partition(":")
        return rest if kernel == "guest" else kernel if kernel in system.vmms else None

    def found(what: str, to: str, where: str) -> None:
        seen.setdefault((what, to, where), {"what": what, "to": to, "where": where})

    def check(value: Any, to: str, where: str) -> None:
        if isinstance(value, int) and (what := secret.match(value, vm_of(to))) is not None:
            found(what, to, where)

    def scan(data: bytes, to: str, where: str) -> None:
        vm = vm_of(to)
        for what, pattern in secret.patterns(vm):
            if pattern in data:
                found(what, to, where)
        if vm is not None and secret.hvas_in(data):
            found("HVA", to, where)

    for ev in events:
        name, f = ev.name, ev.fields
        if name == "kvm_userspace_exit" and f.get("payload"):
            scan(bytes.fromhex(f["payload"]), f"vmm:{f['vm']}", f"kvm_run ({f['reason']})")
        elif name == "signal_generate":
            check(f["addr"], names.get((ev.component, f["pid"]), f"{ev.component}:{f['comm']}"),
                  "siginfo.si_addr")
        elif name == "kvm_vcpu_ioctl" and isinstance(f.get("arg"), dict):
            cmd, arg = f["cmd"], f["arg"]
            if "value" not in arg:
                continue
            if cmd == "KVM_SET_ONE_REG":
                check(arg["value"], f"guest:{f['vm']}", f"{arg['reg']} (KVM_SET_ONE_REG)")
            elif cmd == "KVM_GET_ONE_REG":
                check(arg["value"], f"vmm:{f['vm']}", f"{arg['reg']} (KVM_GET_ONE_REG)")
        elif name == "kvm_inject_abt" and not f.get("built"):
            check(f["esr_el1"], f"guest:{f['vm']}", "ESR_EL1 (kvm_inject_abt)")
        elif name == "kvm_delegate":
            check(f["esr_el1"], f"guest:{f['vm']}", "ESR_EL1 (delegated)")
            check(f.get("far_el1"), f"guest:{f['vm']}", "FAR_EL1 (delegated)")
        elif name == "exception_entry" and f["el"] == 1 and ev.component in cpu_vm:
            vm = cpu_vm[ev.component]
            to = f"guest:{vm}"
            if (vm, f.get("esr")) not in built:  # the syndrome KVM built itself is no host data
                check(f.get("esr"), to, "ESR_EL1")
            check(f.get("far"), to, "FAR_EL1")
        elif name == "cper_record":
            scan(bytes.fromhex(f["estatus"]) if isinstance(f["estatus"], str) else bytes(f["estatus"]),
                 f"guest:{ev.component.split(':', 1)[1]}", "guest CPER (hardware_errors)")
    return list(seen.values())
