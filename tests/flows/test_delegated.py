"""Delegated exception handling (the Arm RAS PRD), end to end on the seed's example: a guest
EL0 device access raises an SError that is still in flight at the app's SVC; the IESB of
the SVC's exception entry synchronizes it; firmware logs it and (the PRD's platform option)
reflects it into EL2; KVM stashes the context and enters the guest's recovery agent; the
agent triages and asks for a virtual SError by HVC; KVM restores and sets HCR_EL2.VSE; the
ESB at the SVC's entry defers the virtual SError into VDISR_EL2, which the guest reads as
DISR_EL1, and the guest kills the app. Every step is a register, an exception or an HVC."""

from __future__ import annotations

import dataclasses
from importlib.resources import files

import pytest

from rasflow.formats.arm import kernel as ak
from rasflow.formats.linux import kvm as uapi
from rasflow.kernel.arch.ras_agent import triage
from rasflow.scenario import load_scenario, parse_scenario
from rasflow.scenario.runner import run

VBAR = 0xFFFF_8000_1000_0000
SERROR = ak.ESR_ELx_EC_SERROR << ak.ESR_ELx_EC_SHIFT | ak.ESR_ELx_FSC_SERROR


def seed(policy: str = "delegated", **fault):
    sc = load_scenario("guest-serror-esb")
    faults = tuple(dataclasses.replace(f, **fault) for f in sc.faults)
    return run(dataclasses.replace(sc, faults=faults), policy=policy)


def test_the_seed_story_contains_the_error_to_the_el0_app():
    r = seed()
    o = r.outcome.to_dict()
    assert o["host"] == "running" and o["vms"] == {"vm0": "running"}
    assert o["processes"]["vm0:app"] == "killed" and o["processes"]["vmm:vm0"] == "running"
    assert [(s["target"], s["signal"]) for s in o["signals"]] == [("vm0:app", "SIGBUS")]
    # logged: the firmware's ARM processor record, processed by the host's GHES
    assert len(o["cper"]["host"]) == 1
    assert any("Hardware error from APEI Generic Hardware Error Source" in line
               for line in o["dmesg"]["host"])


def test_the_seed_story_runs_every_step_in_order():
    r = seed()
    ev = r.events
    agent = None

    def find(after: int, pred) -> int:
        return next(i for i in range(after + 1, len(ev)) if pred(ev[i]))

    i = find(-1, lambda e: e.name == "ras_agent_register")
    i = find(i, lambda e: e.name == "kvm_delegated_ea_register" and e.fields["ret"] == 0)
    agent = ev[i].fields["entry"]
    # the SError, synchronized by the IESB of the SVC's entry, taken to EL3 from EL1
    i = find(i, lambda e: e.name == "serror_pending" and e.fields["how"] == "synchronized")
    i = find(i, lambda e: e.name == "exception_entry" and e.fields["el"] == 3)
    assert ev[i].fields["esr"] & ak.ESR_ELx_IESB and ev[i].fields["from_el"] == 1
    svc_vector = ev[i].fields["elr"]
    i = find(i, lambda e: e.name == "ghes_record_cper_errors")
    i = find(i, lambda e: e.name == "inject_serror" and e.fields["target_el"] == 2)
    i = find(i, lambda e: e.name == "kvm_exit" and e.fields["exit_code"] == "ARM_EXCEPTION_EL1_SERROR")
    # KVM stashes and enters the agent with the syndrome in ESR_EL1
    i = find(i, lambda e: e.name == "kvm_delegate")
    d = ev[i].fields
    assert d["elr_el2"] == svc_vector and d["esr_el1"] == d["esr_el2"] and d["agent"] == agent
    i = find(i, lambda e: e.name == "eret" and e.fields["elr"] == agent and e.fields["el"] == 1)
    i = find(i, lambda e: e.name == "ras_agent_triage")
    assert ev[i].fields["verdict"] == "vserror" and ev[i].fields["elr"] == svc_vector
    # the agent's HVC; KVM restores and sets VSE with the syndrome's ISS
    i = find(i, lambda e: e.name == "kvm_exit" and e.fields["esr_ec"] == "HVC (AArch64)")
    assert ev[i].fields["esr"] & 0xFFFF == uapi.DELEGATED_EA_HVC_VSERROR
    i = find(i, lambda e: e.name == "kvm_delegated_ea_return" and e.fields["call"] == "vserror")
    i = find(i, lambda e: e.name == "kvm_inject_serror")
    vsesr = ev[i].fields["vsesr_el2"]
    assert vsesr == d["esr_el2"] & ak.ESR_ELx_ISS_MASK
    i = find(i, lambda e: e.name == "kvm_entry" and e.fields.get("vsesr_el2") == vsesr)
    i = find(i, lambda e: e.name == "eret" and e.fields["elr"] == svc_vector)
    # back at the SVC's entry: its ESB defers the virtual SError into VDISR_EL2
    i = find(i, lambda e: e.name == "exception_entry" and e.fields.get("via") == "eret"
             and e.fields["el"] == 1 and e.fields["from_el"] == 0)
    i = find(i, lambda e: e.name == "vesb_operation")
    vdisr = ev[i].fields["vdisr"]
    assert ev[i].fields["vdisr_decoded"]["A"] == 1 and ev[i].fields["vdisr_decoded"]["AET"] == 3
    i = find(i, lambda e: e.name == "ras_agent_deferred_serror")
    assert ev[i].fields["disr"] == vdisr  # DISR_EL1 read at EL1 is VDISR_EL2
    i = find(i, lambda e: e.name == "signal_generate" and e.component == "guest:vm0")
    i = find(i, lambda e: e.name == "do_exit" and e.fields["comm"] == "app")
    assert not [e for e in ev if e.name == "panic"]
    assert not [e for e in ev if e.name == "exception_entry" and e.fields.get("virtual")]


def test_an_error_not_at_an_exception_boundary_is_the_guests_ordinary_panic():
    """Without the SVC, the SError arrives while the app runs on at EL0: no exception entry
    synchronized it (ESR.IESB=0, taken from EL0), so the agent cannot tell which context it
    belongs to; the guest panics as do_serror would, the host runs on."""
    text = (files("rasflow.scenario.builtin") / "guest-serror-esb.toml").read_text()
    assert '["svc", 0],' in text
    sc = parse_scenario(text.replace('["svc", 0],', ""), "no-svc.toml")
    r = run(sc, policy="delegated")
    triaged = next(e for e in r.events if e.name == "ras_agent_triage").fields
    assert triaged["verdict"] == "panic" and triaged["from_el"] == 0
    assert r.outcome.vms["vm0"] == "panic" and r.outcome.host == "running"


def test_without_delegation_the_guest_has_no_agent():
    r = seed("upstream")
    names = {e.name for e in r.events}
    assert not names & {"ras_agent_register", "kvm_delegate", "ras_agent_triage"}
    assert r.outcome.vms["vm0"] == "panic"  # upstream: KVM's impdef vSError, do_serror


@pytest.mark.parametrize("esr, elr, from_el, verdict", [
    (SERROR | ak.ESR_ELx_AET_UER | ak.ESR_ELx_IESB, VBAR + 0x400, 1, "vserror"),
    (SERROR | ak.ESR_ELx_AET_UEO | ak.ESR_ELx_IESB, VBAR + 0x580, 1, "vserror"),
    (SERROR | ak.ESR_ELx_AET_UER, VBAR + 0x400, 1, "panic"),  # not at an exception boundary
    (SERROR | ak.ESR_ELx_AET_UER | ak.ESR_ELx_IESB, VBAR + 0x200, 1, "panic"),  # from EL1
    (SERROR | ak.ESR_ELx_AET_UER | ak.ESR_ELx_IESB, 0x40_0000, 0, "panic"),  # not an entry
    (SERROR | ak.ESR_ELx_AET_UEU | ak.ESR_ELx_IESB, VBAR + 0x400, 1, "panic"),
    (SERROR | ak.ESR_ELx_AET_UC | ak.ESR_ELx_IESB, VBAR + 0x400, 1, "panic"),
    (SERROR | ak.ESR_ELx_IDS | ak.ESR_ELx_IESB, VBAR + 0x400, 1, "panic"),  # impdef
    (SERROR | ak.ESR_ELx_AET_CE, 0x40_0000, 0, "resume"),
    (ak.ESR_ELx_EC_DABT_LOW << ak.ESR_ELx_EC_SHIFT | 0x10, 0x40_0000, 0, "sea"),
    (ak.ESR_ELx_EC_SVC64 << ak.ESR_ELx_EC_SHIFT, 0x40_0000, 0, "panic"),
])
def test_agent_triage(esr, elr, from_el, verdict):
    assert triage(esr, elr, from_el, VBAR) == verdict


def test_kernel_first_delegation_needs_no_firmware():
    """guest-serror-esb-kernel-first: the SError is taken to EL2 directly (SCR_EL3.EA=0);
    KVM hands it to the agent as it does a reflected one, and the app alone dies."""
    r = run(load_scenario("guest-serror-esb-kernel-first"), policy="delegated")
    assert not [e for e in r.events if e.component == "fw" and e.time > 0]  # tables only
    verdict = next(e for e in r.events if e.name == "ras_agent_triage").fields["verdict"]
    assert verdict == "vserror" and any(e.name == "vesb_operation" for e in r.events)
    assert r.outcome.vms["vm0"] == "running" and r.outcome.processes["vm0:app"] == "killed"
