"""What happened in one run, in the order a RAS engineer asks: the fault and its addresses,
who was signalled with what, who survived, the pages, the CPER records, whether and how fast
the error was contained (and where the time went), what was exposed, the verdicts. Every
line is computed from the run's trace events and outcome; addresses are in hex."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..formats.linux.mm import action_name
from ..formats.linux.siginfo import SIGNALS
from .labels import time_us

_WIDTH = 10
Row = tuple[str, str]  # (what, text): "fault", "memory-ue at 1.400 µs on vm0:app: VA ... → PA ..."


def _fault_lines(events: Sequence[Any], t0: int) -> list[Row]:
    """One line per injected fault: kind, target and every address it has (VA, IPA, PA)."""
    out = []
    pas = [ev.fields.get("pa") for ev in events if ev.name == "inject"]
    for i, ev in enumerate(e for e in events if e.name == "fault"):
        f = ev.fields
        addrs = [f"{k.upper()} {f[k]:#x}" for k in ("va", "ipa", "pa") if isinstance(f.get(k), int)]
        pa = pas[i] if i < len(pas) else None
        if isinstance(pa, int) and "pa" not in f:
            addrs.append(f"PA {pa:#x}")
        target = str(f.get("target", ""))
        if "va" in f:  # "vm0:app:0x10000040": the process; its VA follows
            target = target.rsplit(":", 1)[0]
        out.append(("fault" if not out else "", f"{f.get('kind', '?')} at {time_us(ev.time, t0)}"
                          f"{f' on {target}' if target else ''}" + (f": {' → '.join(addrs)}" if addrs else "")))
    return out or [("fault", "none injected")]


def _signal_lines(signals: Sequence[Mapping[str, Any]], t0: int) -> list[Row]:
    out = []
    for s in signals:
        addr = s.get("si_addr")
        where = f" si_addr {addr:#x}" if isinstance(addr, int) else ""
        out.append(("signals" if not out else "",
                         f"{time_us(s.get('time', t0), t0):>12}  "
                         f"{s.get('signal') or SIGNALS.get(s.get('signo'), s.get('signo'))} "
                         f"{s.get('si_code', '')} → {s.get('target', '?')}{where}"))
    return out or [("signals", "none")]


def _states(outcome: Mapping[str, Any]) -> str:
    parts = [f"host {outcome.get('host', '?')}"]
    parts += [f"{vm} {state}" for vm, state in (outcome.get("vms") or {}).items()]
    parts += [f"{p} {state}" for p, state in (outcome.get("processes") or {}).items()]
    return " · ".join(parts)


def _pages(outcome: Mapping[str, Any]) -> str:
    parts = []
    for who, pages in (outcome.get("pages") or {}).items():
        for p in pages or ():
            result = action_name(p["result"]) if isinstance(p.get("result"), int) else p.get("result")
            parts.append(f"{who} pfn {p.get('pfn', 0):#x} {p.get('type', '')}: {result}")
    return " · ".join(parts) or "none poisoned"


def _containment(outcome: Mapping[str, Any]) -> str:
    ns = outcome.get("containment_ns")
    state = outcome.get("containment", "?")
    if not isinstance(ns, int):
        return str(state)
    parts = [f"{layer} {t / 1000:.3f}" for layer, t in (outcome.get("breakdown") or {}).items() if t]
    return f"{state} in {time_us(ns, 0)}" + (f": {' · '.join(parts)} µs" if parts else "")


def _exposure(e: Any) -> str:
    """scenario.exposure's {what, to, where}: host data a guest-side reader was given."""
    if not isinstance(e, Mapping):
        return str(e)
    where = f" (in {e['where']})" if e.get("where") else ""
    return f"{e.get('what', '?')} to {e.get('to', '?')}{where}"


def summary_rows(events: Sequence[Any], outcome: Mapping[str, Any],
                 verdicts: Sequence[tuple[str, Any, Any, bool]]) -> list[Row]:
    """The run's answer to "what happened", a dozen (what, text) rows; a row whose what is
    empty continues the one before (a second fault or signal)."""
    t0 = events[0].time if events else 0
    cper = {who: len(recs or ()) for who, recs in (outcome.get("cper") or {}).items()}
    exposed = outcome.get("exposed") or []
    failed = [name for name, _, _, ok in verdicts if not ok]
    rows = [*_fault_lines(events, t0), *_signal_lines(outcome.get("signals") or [], t0),
            ("outcome", _states(outcome)), ("pages", _pages(outcome)),
            ("CPER", " · ".join(f"{who} {n}" for who, n in cper.items()) or "none"),
            ("contained", _containment(outcome)),
            ("exposed", " · ".join(map(_exposure, exposed)) if exposed else "none")]
    if verdicts:
        held = len(verdicts) - len(failed)
        rows.append(("verdicts", f"{held} of {len(verdicts)} hold"
                                      + (f"; failed: {', '.join(failed)}" if failed else "")))
    return rows


def summary_lines(title: str, events: Sequence[Any], outcome: Mapping[str, Any],
                  verdicts: Sequence[tuple[str, Any, Any, bool]]) -> list[str]:
    """The title, then summary_rows as aligned text lines."""
    return [title, *(f"{head:<{_WIDTH}} {text}" for head, text in summary_rows(events, outcome, verdicts))]
