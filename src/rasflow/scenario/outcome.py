"""What a run did, computed from its trace (and the final state of its processes): who
survived, who got which signal, what the kernels logged, which pages were poisoned, what
host-only values reached user space or a guest, and how long containment took."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.costs import LAYERS, layer_of
from ..formats import cper
from ..formats.errors import FormatError
from ..formats.linux.siginfo import BUS_CODES, SI_CODES, SIGNALS, SIGUSR1
from .exposure import exposures


@dataclass
class Outcome:
    host: str
    vms: dict[str, str]
    processes: dict[str, str]
    signals: list[dict[str, Any]]
    cper: dict[str, list[dict]]
    pages: dict[str, list[dict]]
    exposed: list[dict[str, str]]
    containment_ns: int | None
    trace_events: int
    containment: str = "not contained"  # or "contained", "host panic", "guest panic", "VMM abort"
    breakdown: dict[str, int] = field(default_factory=dict)  # ns per layer, and "waiting"
    dmesg: dict[str, list[str]] = field(default_factory=dict)
    vmm_log: dict[str, list[str]] = field(default_factory=dict)
    verdicts: list[tuple[str, Any, Any, bool]] = field(default_factory=list, repr=False)
    events: list = field(default_factory=list, repr=False)  # the trace (TraceEvent)

    @property
    def passed(self) -> bool:
        """Every ``[expect]`` verdict holds."""
        return all(v[3] for v in self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "vms": dict(self.vms), "processes": dict(self.processes),
                "signals": list(self.signals), "cper": self.cper, "pages": self.pages,
                "exposed": list(self.exposed), "containment_ns": self.containment_ns,
                "containment": self.containment, "breakdown": dict(self.breakdown),
                "trace_events": self.trace_events, "dmesg": self.dmesg, "vmm_log": self.vmm_log}


def _kernel_of(component: str) -> str:
    return "host" if component == "host" else component.split(":", 1)[1]


def _decode(raw: Any) -> dict:
    try:
        return cper.decode(bytes(raw), lenient=True).to_dict()
    except FormatError as e:
        return {"error": str(e)}


def record_addresses(record: dict) -> set[int]:
    """Physical addresses a decoded status block names (memory and ARM sections)."""
    out: set[int] = set()
    for entry in record.get("entries", ()):
        body = entry.get("body") or {}
        if isinstance(body.get("physical_addr"), int):
            out.add(body["physical_addr"])
        for info in body.get("err_info", ()) or ():
            if isinstance(info, dict) and isinstance(info.get("physical_fault_addr"), int):
                out.add(info["physical_fault_addr"])
    return out


def victims_of(sc) -> tuple[str, ...]:
    """The processes the error hurts: those ``[expect]`` says end killed, else every fault's
    target process (``VM:PROC``, ``host:PROC``, ``vmm:VM``); a fault on a PA, an IPA or a
    kernel page has none."""
    if sc.expect is not None and sc.expect.processes:
        hurt = tuple(p for p, state in sc.expect.processes.items() if state == "killed")
        if hurt:
            return hurt
    out: dict[str, None] = {}
    for f in sc.faults:
        t = f.target
        if t.kind == "proc":
            out[f"{t.kernel}:{t.process}"] = None
        elif t.kind == "vmm":
            out[f"vmm:{t.kernel}"] = None
    return tuple(out)


LOGGED = frozenset({"ghes_do_proc", "mc_event", "memory_failure_event"})


def _containment(system, events, names, victims: tuple[str, ...], vms: dict[str, str]):
    """(result, ns, per-layer breakdown): from the first detection or consumption of the
    error (its RAS record, else its injection) to the moment the last hurt process is
    signalled or killed, or, when no process is hurt, the error is first logged. A host
    panic, a guest panic and a VMM that ended without being the victim are results of their
    own, never "contained"."""
    t0 = next((e.time for e in events if e.name == "ras_record"), None)
    if t0 is None:
        t0 = next((e.time for e in events if e.name in ("inject", "fault")), None)
    if system.machine.halted:
        return "host panic", None, {}
    if any(state == "panic" for state in vms.values()):
        return "guest panic", None, {}
    if any(state != "running" and f"vmm:{vm}" not in victims for vm, state in vms.items()):
        return "VMM abort", None, {}
    if t0 is None:
        return "not contained", None, {}
    reached: dict[str, int] = {}
    logged = None
    for ev in events:
        if ev.time < t0:
            continue
        name, f = ev.name, ev.fields
        if name == "signal_generate" and f["sig"] != SIGUSR1 or name == "do_exit":
            who = names.get((ev.component, f["pid"]))
            if who in victims and who not in reached:
                reached[who] = ev.time
        elif logged is None and name in LOGGED:
            logged = ev.time
    if victims:
        if len(reached) < len(victims):
            return "not contained", None, {}
        t_end = max(reached.values())
    elif logged is None:
        return "not contained", None, {}
    else:
        t_end = logged
    layers = dict.fromkeys(LAYERS, 0)
    for t, ns, _, component in system.engine.spent:
        if t0 < t <= t_end:
            layers[layer_of(component)] += ns
    layers["waiting"] = t_end - t0 - sum(layers.values())
    return "contained", t_end - t0, layers


def outcome_of(system, victims: tuple[str, ...] = ()) -> Outcome:
    """The outcome of a finished :class:`~rasflow.scenario.system.System` run;
    ``victims``: the processes the error hurts (:func:`victims_of`)."""
    events = system.engine.trace.events
    names = {(k.name, t.pid): pid for pid, (k, t) in system.tasks.items()}
    for vm, vmm in system.vmms.items():
        for t in [c.task for c in vmm.cpus] + [vmm.io_thread]:
            if t is not None:
                names[("host", t.pid)] = f"vmm:{vm}"
    host = "panic" if system.machine.halted else "running"
    vms = {}
    for name, vmm in system.vmms.items():
        vms[name] = ("stopped" if host == "panic" else  # the host took it down
                     "panic" if system.guests[name].machine.vm.halted else
                     vmm.state if vmm.task.alive else "stopped")
    processes = {}
    for pid, (_, t) in system.tasks.items():
        processes[pid] = ("killed" if t.exit_signal is not None else
                          "exited" if t.exit_code is not None else "running")
    signals, cper_logs, pages = [], {"host": []}, {"host": []}
    for vm in system.vmms:
        cper_logs[vm], pages[vm] = [], []
    for ev in events:
        name, f = ev.name, ev.fields
        if name == "signal_generate" and f["sig"] != SIGUSR1:
            kernel = _kernel_of(ev.component)
            code = f["code"]
            signals.append({"target": names.get((ev.component, f["pid"]), f"{kernel}:{f['comm']}"),
                            "signo": f["sig"], "signal": SIGNALS.get(f["sig"], str(f["sig"])),
                            "si_code": (BUS_CODES if f["sig"] == 7 else SI_CODES).get(code, code),
                            "si_addr": f["addr"], "time": ev.time})
        elif name == "ghes_do_proc":
            cper_logs.setdefault(_kernel_of(ev.component), []).append(_decode(f["estatus"]))
        elif name == "cper_record":  # what the VMM wrote into the guest's error source
            cper_logs.setdefault(ev.component, []).append(_decode(f["estatus"]))
        elif name == "memory_failure_event":
            pages.setdefault(_kernel_of(ev.component), []).append(
                {"pfn": f["pfn"], "type": f["type"], "result": f["result"]})
    host_pas = set().union(*(record_addresses(r) for r in cper_logs["host"]))
    result, ns, layers = _containment(system, events, names, victims, vms)
    return Outcome(
        host=host, vms=vms, processes=processes, signals=signals, cper=cper_logs, pages=pages,
        exposed=exposures(system, events, names, host_pas), containment_ns=ns,
        containment=result, breakdown=layers, trace_events=system.engine.trace.count,
        dmesg={"host": list(system.host.dmesg),
               **{vm: list(g.dmesg) for vm, g in system.guests.items()}},
        vmm_log={vm: list(v.log) for vm, v in system.vmms.items()})


def verdicts(expect, outcome: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
    """(name, expected, actual, ok) for every verdict the ``[expect]`` table gives."""
    out: list[tuple[str, Any, Any, bool]] = []
    if expect is None:
        return out
    if expect.host is not None:
        out.append(("host", expect.host, outcome["host"], expect.host == outcome["host"]))
    for vm, want in (expect.vms or {}).items():
        got = outcome["vms"].get(vm)
        out.append((f"vms.{vm}", want, got, want == got))
    for pid, want in (expect.processes or {}).items():
        got = outcome["processes"].get(pid)
        out.append((f"processes.{pid}", want, got, want == got))
    for want in expect.signals or ():
        hit = any(all(s.get(k) == v or (k == "signo" and s.get("signal") == v)
                      for k, v in want.items()) for s in outcome["signals"])
        out.append((f"signal {_fmt(want)}", "sent", "sent" if hit else "not sent", hit))
    for target in expect.no_signals or ():
        got = [s["si_code"] for s in outcome["signals"] if s["target"] == target]
        out.append((f"no signal to {target}", [], got, not got))
    if expect.cper_host is not None:
        n = len(outcome["cper"].get("host", ()))
        out.append(("cper_host", expect.cper_host, n, n == expect.cper_host))
    for vm, want in (expect.cper_guest or {}).items():
        n = len(outcome["cper"].get(vm, ()))
        out.append((f"cper_guest.{vm}", want, n, n == want))
    if expect.exposed is not None:
        want = sorted((e["what"], e["to"]) for e in expect.exposed)
        got = sorted((e["what"], e["to"]) for e in outcome["exposed"])
        out.append(("exposed", want, got, want == got))
    if expect.contained is not None:
        got = outcome["containment_ns"] is not None
        out.append(("contained", expect.contained, got, got == expect.contained))
    return out


def _fmt(d: dict) -> str:
    return " ".join(f"{k}={v:#x}" if isinstance(v, int) and k == "si_addr" else f"{k}={v}"
                    for k, v in d.items())
