"""A policy belongs to its VM: the VMM opts in through KVM_ENABLE_CAP and KVM acts on that
VM's flags, whatever the VM is called and whatever the other VMs chose."""

from __future__ import annotations

import pytest

from rasflow.scenario import parse_scenario
from rasflow.scenario.runner import run

APP = """
[[vms.processes]]
name = "app"
memory = "64KiB"
va = 0x10000000
program = [["store", 0x10000040, 1], ["sleep", "2us"], ["load", 0x10000040], ["sleep", "10us"]]
"""


def scenario(vms: list[tuple[str, str]], *, firmware_first: bool = True) -> str:
    text = f"""
description = "one memory UE consumed in each VM's app"
duration = "1ms"
[machine]
cpus = 2
ram = "2GiB"
firmware_first = {str(firmware_first).lower()}
notifications = ["SEA", "GPIO", "POLLED"]
"""
    for i, (name, policy) in enumerate(vms):
        text += f'\n[[vms]]\nname = "{name}"\nram = "256MiB"\ncpu = {i}\npolicy = "{policy}"\n' + APP
    for name, _ in vms:
        text += (f'\n[[faults]]\nat = "1us"\nkind = "memory-ue"\n'
                 f'target = "{name}:app:0x10000040"\nconsume = "none"\n')
    return text


def by_vm(r) -> dict[str, list]:
    """KVM's events by the KVM VM they concern (KVM names its VMs itself: vm0, vm1, ...)."""
    out: dict[str, list] = {}
    for e in r.events:
        if e.component == "kvm" and "vm" in e.fields:
            out.setdefault(e.fields["vm"], []).append(e)
    return out


@pytest.mark.parametrize("name", ["vm0", "db", "web-01"])
def test_sea_to_user_follows_the_vm_whatever_its_name(name):
    r = run(parse_scenario(scenario([(name, "sea-to-user")], firmware_first=False), "t.toml"))
    exits = [e for e in r.events if e.name == "kvm_userspace_exit"]
    assert [e.fields["reason"] for e in exits] == ["KVM_EXIT_ARM_SEA"]
    assert r.outcome.processes[f"{name}:app"] == "killed"
    assert r.outcome.vms[name] == "running"


def test_two_vms_two_designs():
    """``db`` delegates, ``web`` takes KVM_EXIT_ARM_SEA: each VM's SEA goes its own VM's way,
    in one machine."""
    r = run(parse_scenario(scenario([("db", "delegated"), ("web", "sea-to-user")],
                                    firmware_first=False), "t.toml"))
    kvm = by_vm(r)
    db, web = kvm["vm0"], kvm["vm1"]
    enabled = [(e.fields["vm"], e.fields["arg"]["cap"], e.fields["ret"]) for e in r.events
               if e.name == "kvm_vm_ioctl" and e.fields["cmd"] == "KVM_ENABLE_CAP"]
    assert enabled == [("vm0", "KVM_CAP_ARM_DELEGATED_EA (rasflow)", 0),
                       ("vm1", "KVM_CAP_ARM_SEA_TO_USER", 0)]
    assert [e.name for e in db if e.name in ("kvm_delegate", "kvm_userspace_exit")] == \
        ["kvm_delegate"]
    assert [e.fields["reason"] for e in web if e.name == "kvm_userspace_exit"] == \
        ["KVM_EXIT_ARM_SEA"]
    assert r.outcome.processes["db:app"] == "killed"
    assert r.outcome.processes["web:app"] == "killed"


def test_upstream_vm_next_to_an_opted_in_one_keeps_the_default_path():
    r = run(parse_scenario(scenario([("db", "sea-to-user"), ("ref", "upstream")],
                                    firmware_first=False), "t.toml"))
    """Without KVM_ARCH_FLAG_EXIT_SEA an SEA the host cannot claim is a virtual SError
    (ESR_ELx_ISV), while the VM beside it exits to its VMM."""
    kvm = by_vm(r)
    exits = {vm: [e.fields["reason"] for e in evs if e.name == "kvm_userspace_exit"]
             for vm, evs in kvm.items()}
    assert exits["vm0"] == ["KVM_EXIT_ARM_SEA"] and "KVM_EXIT_ARM_SEA" not in exits["vm1"]
    assert [e.fields["vsesr_el2"] for e in kvm["vm1"] if e.name == "kvm_inject_serror"] == \
        [1 << 24]
