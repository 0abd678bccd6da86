"""One row per fault: its inputs, what happened (verdict columns), latency and counts.

``outcome`` is the worst thing that happened, in this order: ``error`` (the model raised:
a rasflow bug, kept as data so a million-fault run goes on), ``host-panic``, ``vm-lost``
(a VM panicked or stopped), ``killed`` (a process died), ``signalled``, ``logged`` (a CPER
reached a kernel), ``silent``.
"""

from __future__ import annotations

from typing import Any

from ..scenario import Scenario
from .sample import Draw
from .spec import Setting

OUTCOMES = ("error", "host-panic", "vm-lost", "killed", "signalled", "logged", "silent")

# name -> Arrow type name (see store.schema); the order is the files' column order
COLUMNS: dict[str, str] = {
    "index": "int64", "sample": "int64", "policy": "string", "early_kill": "bool",
    "recovery": "bool", "notifications": "string", "kind": "string", "region": "string",
    "target": "string", "address": "uint64", "at_ns": "int64", "consume": "string",
    "count": "int64", "aet": "string", "signal": "string", "victim": "string",
    "outcome": "string", "host": "string", "vm": "string", "vms_lost": "int32",
    "victim_state": "string", "killed": "string", "killed_count": "int32",
    "collateral": "int32", "signals": "int32", "si_codes": "string", "cper_host": "int32",
    "cper_guest": "int32", "exposed": "string", "contained": "bool",
    "containment_ns": "int64", "firmware_ns": "int64", "host_kernel_ns": "int64", "kvm_ns": "int64",
    "vmm_ns": "int64", "guest_ns": "int64", "waiting_ns": "int64", "trace_events": "int32", "error": "string",
}
# containment_ns split by where the time went (scenario.outcome's breakdown): column -> layer
BREAKDOWN = {"firmware_ns": "firmware", "host_kernel_ns": "host kernel", "kvm_ns": "KVM", "vmm_ns": "VMM",
             "guest_ns": "guest", "waiting_ns": "waiting"}


def inputs(i: int, sample: int, s: Setting, d: Draw) -> dict[str, Any]:
    f = d.fault
    return {"index": i, "sample": sample, "policy": s.policy, "early_kill": s.early_kill,
            "recovery": s.recovery, "notifications": ",".join(s.notifications),
            "kind": f.kind, "region": d.region, "target": str(f.target), "address": d.address,
            "at_ns": f.at, "consume": d.consume, "count": f.count, "aet": f.aet,
            "signal": f.signal, "victim": d.victim}


def _vm_of(sc: Scenario, d: Draw) -> str | None:
    t = d.fault.target
    names = {vm.name for vm in sc.vms}
    return t.kernel if t.kernel in names else None


def classify(o: dict[str, Any]) -> str:
    if o["host"] == "panic":
        return "host-panic"
    if any(v != "running" for v in o["vms"].values()):
        return "vm-lost"
    if any(v == "killed" for v in o["processes"].values()):
        return "killed"
    if o["signals"]:
        return "signalled"
    if any(o["cper"].values()):
        return "logged"
    return "silent"


def verdicts(sc: Scenario, d: Draw, o: dict[str, Any]) -> dict[str, Any]:
    """The outcome columns of a finished run (``o`` is ``Outcome.to_dict()``)."""
    vm = _vm_of(sc, d)
    killed = sorted(p for p, state in o["processes"].items() if state == "killed")
    vms = {vm.name for vm in sc.vms}
    return {
        "outcome": classify(o), "host": o["host"], "vm": o["vms"].get(vm) if vm else None,
        "vms_lost": sum(v != "running" for v in o["vms"].values()),
        "victim_state": o["processes"].get(d.victim) if d.victim else None,
        "killed": ",".join(killed), "killed_count": len(killed),
        "collateral": sum(p != d.victim for p in killed),
        "signals": len(o["signals"]), "si_codes": ",".join(s["si_code"] if isinstance(
            s["si_code"], str) else str(s["si_code"]) for s in o["signals"]),
        "cper_host": len(o["cper"].get("host", ())),
        "cper_guest": sum(len(v) for k, v in o["cper"].items() if k in vms),
        "exposed": ",".join(f"{e['what']}>{e['to']}" for e in o["exposed"]),
        "contained": o["containment_ns"] is not None, "containment_ns": o["containment_ns"],
        **{col: o["breakdown"].get(layer) if o["containment_ns"] is not None else None
           for col, layer in BREAKDOWN.items()},
        "trace_events": o["trace_events"], "error": None}


OUTCOME_COLUMNS = tuple(COLUMNS)[tuple(COLUMNS).index("outcome"):]


def failed(e: BaseException) -> dict[str, Any]:
    """The outcome columns of a run that raised."""
    cols: dict[str, Any] = dict.fromkeys(OUTCOME_COLUMNS)
    cols.update(outcome="error", error=f"{type(e).__name__}: {e}")
    return cols
