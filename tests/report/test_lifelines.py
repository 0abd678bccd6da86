import pytest

from rasflow.report.lifelines import lifeline_of, lifelines
from report.rhelpers import ev, flow


@pytest.mark.parametrize("component,key,label", [
    ("machine", "hw", "hardware"), ("cpu0", "hw", "hardware"), ("cpu12", "hw", "hardware"),
    ("mc0", "hw", "hardware"), ("bus3", "hw", "hardware"),
    ("fw", "fw", "EL3 firmware"), ("host", "host", "host kernel"), ("kvm", "kvm", "KVM"),
    ("vmm:vm0", "vmm:vm0", "VMM vm0"), ("guest:vm0", "guest:vm0", "guest kernel vm0"),
    ("vm0:app", "vm0:app", "vm0:app"), ("host:db", "host:db", "host:db"),
    ("smmu", "smmu", "smmu"),
])
def test_lifeline_of(component, key, label):
    line = lifeline_of(component)
    assert (line.key, line.label) == (key, label)


def test_vm_of_processes():
    assert lifeline_of("vm0:app").vm == "vm0"
    assert lifeline_of("host:db").vm is None
    assert lifeline_of("guest:vm1").vm == "vm1"


def test_fixed_order():
    keys = [ln.key for ln in lifelines(flow())]
    assert keys == ["hw", "fw", "host", "kvm", "host:db", "vmm:vm0", "guest:vm0", "vm0:app"]


def test_order_ignores_appearance_and_sorts_vms_naturally():
    events = [ev(0, c, "x") for c in ("vm10:b", "guest:vm2", "vm2:a", "kvm", "vmm:vm10",
                                      "host:z", "host:y", "fw", "mc0", "vm2:0first")]
    keys = [ln.key for ln in lifelines(events)]
    assert keys == ["hw", "fw", "host", "kvm", "host:z", "host:y",
                    "guest:vm2", "vm2:a", "vm2:0first", "vmm:vm10", "vm10:b"]


def test_hardware_and_host_always_present():
    assert [ln.label for ln in lifelines([])] == ["hardware", "host kernel"]
    assert [ln.key for ln in lifelines([ev(0, "fw", "x")])] == ["hw", "fw", "host"]


def test_hardware_components_merge():
    events = [ev(0, c, "x") for c in ("cpu0", "cpu1", "mc0", "bus0", "machine")]
    assert [ln.key for ln in lifelines(events)] == ["hw", "host"]
