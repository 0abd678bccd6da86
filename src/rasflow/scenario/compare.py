"""The verdicts ``rasflow compare`` puts side by side, one column per policy, each computed
from the runs: the scenario's own, and its twin's (the same fault on a plain host
process, :mod:`.twin`)."""

from __future__ import annotations

from typing import Any

from ..engine.costs import LAYERS
from .outcome import victims_of
from .runner import Run, run
from .twin import TWIN, host_process_of, twin_of

BREAKDOWN = (*LAYERS, "waiting")
ROWS = ("host alive", "VM alive", "right process killed", "guest address right",
        "raw host data exposed", "non-VM processes served", "time to containment (ns)",
        *(f"  {layer} (ns)" for layer in BREAKDOWN))


def compare_verdicts(r: Run, twin: Run | None = None) -> dict[str, Any]:
    """One column of the comparison for a finished run (and its twin's, if it has one)."""
    o = r.outcome.to_dict()
    contained = o["containment"] == "contained"
    col = {
        "host alive": o["host"] == "running",
        "VM alive": all(s == "running" for s in o["vms"].values()) if o["vms"] else None,
        "right process killed": right_process_killed(victims_of(r.scenario), o["processes"]),
        "guest address right": guest_address_right(r),
        "raw host data exposed": "; ".join(f"{e['what']}→{e['to']} ({e['where']})"
                                           for e in o["exposed"]) or "none",
        "non-VM processes served": non_vm_served(r, twin),
        "time to containment (ns)": o["containment_ns"] if contained else o["containment"],
    }
    for layer in BREAKDOWN:
        col[f"  {layer} (ns)"] = o["breakdown"].get(layer) if contained else None
    return col


def right_process_killed(victims: tuple[str, ...], processes: dict[str, str]) -> bool | None:
    """Every hurt process killed, and no other; None when the error hurts no process."""
    if not victims:
        return None
    return (all(processes.get(v) == "killed" for v in victims)
            and all(state != "killed" for p, state in processes.items() if p not in victims))


def guest_address_right(r: Run) -> bool | None:
    """For every fault on a VM's page: the guest kernel acted on that page, by its
    memory_failure pfn (the IPA's page) or the signal's si_addr (the VA's page), whatever
    carried the address to it, and on no other page. None when no fault is on a VM page."""
    faults = [e.fields for e in r.events if e.name == "fault" and "ipa" in e.fields]
    if not faults:
        return None
    o = r.outcome
    for f in faults:
        vm = f["target"].split(":", 1)[0]
        pfns = {p["pfn"] for p in o.pages.get(vm, ())}
        addrs = {s["si_addr"] >> 12 for s in o.signals
                 if s["target"].startswith(f"{vm}:") and s["signo"] == 7 and s["si_addr"]}
        if not pfns and not addrs:
            return False
        if not pfns <= {f["ipa"] >> 12} or not addrs <= {f["va"] >> 12}:
            return False
    return True


def non_vm_served(r: Run, twin: Run | None) -> str | None:
    """What a plain host process got for the same fault: from the twin run, or from this
    run when its fault is on a host process already. None when neither exists."""
    if twin is not None:
        return served(twin, f"host:{TWIN}")
    proc = host_process_of(r.scenario)
    return served(r, proc) if proc else None


def served(r: Run, proc: str) -> str:
    """``SIGBUS BUS_MCEERR_AR · killed · logged``: the signals ``proc`` got, its end state,
    and whether a kernel logged the error."""
    o = r.outcome
    if o.host == "panic":
        return "host panic"
    sigs = [f"{s['signal']} {s['si_code']}" for s in o.signals if s["target"] == proc]
    logged = "logged" if o.cper.get("host") else "not logged"
    return " · ".join([", ".join(dict.fromkeys(sigs)) or "no signal",
                       o.processes.get(proc, "gone"), logged])


def compare_runs(sc, policy: str) -> tuple[Run, Run | None]:
    """The scenario under ``policy``, and its twin under the same policy (if it has one)."""
    t = twin_of(sc)
    return run(sc, policy=policy), (run(t, policy=policy) if t is not None else None)
