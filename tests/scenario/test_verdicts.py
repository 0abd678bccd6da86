"""Every verdict of ``rasflow compare`` is computed from the runs: each row changes when the
run's behaviour changes (issue 15), and containment is timed by the cost model."""

from __future__ import annotations

import dataclasses

from rasflow.scenario import load_scenario
from rasflow.scenario.compare import compare_runs, compare_verdicts
from rasflow.scenario.runner import run
from rasflow.scenario.spec import parse_scenario


def column(sc, policy="upstream"):
    if isinstance(sc, str):
        sc = load_scenario(sc)
    return compare_verdicts(*compare_runs(sc, policy))


def variant(name: str, old: str, new: str):
    from importlib.resources import files
    text = (files("rasflow.scenario.builtin") / f"{name}.toml").read_text()
    assert old in text
    return parse_scenario(text.replace(old, new), f"{name}-variant.toml")


def test_host_alive_and_vm_alive_follow_the_run():
    ok, fatal, guest_panic = column("guest-ue-ar"), column("fatal-uc"), column("guest-serror-esb")
    assert ok["host alive"] is True and fatal["host alive"] is False
    assert ok["VM alive"] is True and guest_panic["VM alive"] is False
    assert column("host-process-ue")["VM alive"] is None


def test_right_process_killed_follows_the_run():
    assert column("guest-ue-ar")["right process killed"] is True
    assert column("vmm-memory-ue")["right process killed"] is True  # the VMM itself is hit
    panics = variant("guest-ue-ar", 'name = "vm0"\n', 'name = "vm0"\nrecovery = false\n')
    assert column(panics)["right process killed"] is False  # the guest panics, the app lives on
    assert column("cache-error-pa")["right process killed"] is None  # no process hurt


def test_guest_address_right_by_whatever_carried_it():
    upstream, delegated = column("guest-ue-ar"), column("guest-ue-ar", "delegated")
    assert upstream["guest address right"] is True  # the guest's memory_failure pfn
    assert delegated["guest address right"] is True  # the signal's si_addr from FAR_EL1
    r = run("guest-ue-ar", "delegated")
    assert not r.outcome.pages["vm0"] and any(s["target"] == "vm0:app" for s in r.outcome.signals)
    # the same fault under kvm-serror-exit with the guest's SError path: the guest panics
    # and acts on no page at all
    no_svc = variant("guest-serror-esb", '["svc", 0],', "")
    assert column(no_svc, "kvm-serror-exit")["guest address right"] is False


def test_exposure_by_value():
    """A design that copies ESR_EL2 into a guest register is reported, with where; one in
    which nothing host-only crosses reports nothing."""
    assert column("guest-ue-ar")["raw host data exposed"] == "none"
    r = run("guest-ue-ar", "delegated")
    esr_el2 = next(e.fields["esr"] for e in r.events if e.name == "kvm_exit")
    assert {"what": "ESR_EL2", "to": "guest:vm0", "where": "ESR_EL1 (delegated)"} in r.outcome.exposed
    assert next(e.fields["esr_el1"] for e in r.events if e.name == "kvm_delegate") == esr_el2
    assert "ESR_EL2→guest:vm0 (ESR_EL1 (delegated))" in column("guest-ue-ar", "delegated")[
        "raw host data exposed"]


def test_non_vm_row_is_the_twin_run():
    col = column("guest-ue-ar")
    assert col["non-VM processes served"] == "SIGBUS BUS_MCEERR_AR · killed · logged"
    sc = load_scenario("guest-ue-ar")
    r, twin = compare_runs(sc, "delegated")
    assert twin is not None and "host:twin" in twin.outcome.processes
    assert twin.outcome.processes["host:twin"] == "killed" and twin.scenario.vms
    no_recovery = dataclasses.replace(sc, host=dataclasses.replace(sc.host, recovery=False))
    assert column(no_recovery)["non-VM processes served"] == "host panic"
    # a fault on a host process is its own twin
    assert column("host-process-ue")["non-VM processes served"] == \
        "SIGBUS BUS_MCEERR_AR · killed · logged"
    assert column("cache-error-pa")["non-VM processes served"] is None


def test_containment_is_timed_and_explained_by_its_breakdown():
    upstream, delegated = column("guest-ue-ar"), column("guest-ue-ar", "delegated")
    t_up, t_del = upstream["time to containment (ns)"], delegated["time to containment (ns)"]
    assert isinstance(t_up, int) and isinstance(t_del, int) and t_up != t_del
    for col, total in ((upstream, t_up), (delegated, t_del)):
        parts = {k: v for k, v in col.items() if k.startswith("  ")}
        assert sum(parts.values()) == total and all(v >= 0 for v in parts.values())
    assert upstream["  VMM (ns)"] > 0 and delegated["  VMM (ns)"] == 0  # no exit to user space
    assert column("fatal-uc")["time to containment (ns)"] == "host panic"
    assert column("guest-serror-esb")["time to containment (ns)"] == "guest panic"


def test_containment_counts_from_the_error_to_the_victims_signal():
    r = run("guest-ue-ar")
    t0 = next(e.time for e in r.events if e.name == "ras_record")
    end = next(e.time for e in r.events if e.name == "signal_generate" and e.component == "guest:vm0")
    assert r.outcome.containment_ns == end - t0


def test_panic_on_oops_is_honoured():
    off = variant("kernel-page-ue", "panic_on_oops = true", "panic_on_oops = false")
    off = dataclasses.replace(off, expect=None)
    r = run(off)
    assert r.outcome.host == "running" and [e for e in r.events if e.name == "oops"]
    assert any(line.startswith("Internal error: ") for line in r.outcome.dmesg["host"])
    assert run("kernel-page-ue").outcome.host == "panic"
