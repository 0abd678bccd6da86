"""The verdicts ``rasflow compare`` puts side by side, one column per policy."""

from __future__ import annotations

from typing import Any

from ..policy import get_policy
from .outcome import record_addresses
from .runner import Run

ROWS = ("host alive", "VM alive", "right process killed", "guest address right",
        "raw host data exposed", "non-VM processes served", "time to containment (ns)")


def compare_verdicts(r: Run) -> dict[str, Any]:
    """One column of the comparison for a finished run."""
    o = r.outcome.to_dict()
    fault = next((e.fields for e in r.events if e.name == "fault"), {})
    target = fault.get("target", "")
    victim = ":".join(target.split(":")[:2]) if target.count(":") == 2 else None
    others = [p for p, s in o["processes"].items() if p != victim and not p.startswith("vmm:")]
    right = (victim is not None and o["processes"].get(victim) == "killed"
             and all(o["processes"][p] != "killed" for p in others))
    ipa = fault.get("ipa")
    guest_right: Any = "—"
    if ipa is not None:
        vm = target.split(":")[0]
        logged = [a for rec in o["cper"].get(vm, ()) for a in record_addresses(rec)]
        guest_right = bool(logged) and all(a >> 12 == ipa >> 12 for a in logged)
    policies = {get_policy(p) for p in _policies(r)}
    return {
        "host alive": o["host"] == "running",
        "VM alive": all(s == "running" for s in o["vms"].values()) if o["vms"] else "—",
        "right process killed": right,
        "guest address right": guest_right,
        "raw host data exposed": ", ".join(f"{e['what']}→{e['to']}" for e in o["exposed"]) or False,
        "non-VM processes served": all(p.serves_non_vm for p in policies),
        "time to containment (ns)": o["containment_ns"],
    }


def _policies(r: Run) -> list[str]:
    if r.policy:
        return [r.policy]
    return [r.scenario.policy_of(vm) for vm in r.scenario.vms] or [r.scenario.policy]
