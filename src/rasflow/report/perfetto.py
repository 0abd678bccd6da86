"""A run as Chrome trace-event JSON ("JSON Object Format" of the Trace Event Format, which
Perfetto's UI and chrome://tracing open): one process track per layer (hardware, EL3
firmware, host kernel, KVM, each VMM and guest kernel, each process), one thread track per
CPU in it. Every trace event is an instant event with its fields as args; every step the
cost model spent time on is a complete ("X") event of that duration, so the breakdown of
the containment time can be read off the tracks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .lifelines import lifeline_of


def _args(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe args: bytes as hex, addresses and registers stay numbers (the UI shows them)."""
    return json.loads(json.dumps(fields, default=lambda v: v.hex() if isinstance(v, bytes | bytearray) else str(v)))


class _Tracks:
    """pid per layer and tid per CPU, in order of first appearance, with their names."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.tids: set[tuple[int, int]] = set()
        self.meta: list[dict[str, Any]] = []

    def of(self, component: str, fields: dict[str, Any]) -> tuple[int, int]:
        label = lifeline_of(component).label
        pid = self.pids.get(label)
        if pid is None:
            pid = self.pids[label] = len(self.pids) + 1
            self.meta.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": label}})
            self.meta.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
                              "args": {"sort_index": pid}})
        cpu = fields.get("cpu", fields.get("vcpu"))
        tid = cpu + 1 if isinstance(cpu, int) and not isinstance(cpu, bool) and cpu >= 0 else 0
        if (pid, tid) not in self.tids:
            self.tids.add((pid, tid))
            name = f"cpu {tid - 1}" if tid else label
            self.meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
        return pid, tid


def trace_event_json(events: Sequence[Any], spent: Iterable[tuple[int, int, str, str]] = ()) -> dict[str, Any]:
    """The trace-event document for a run's ``events`` (engine.trace.TraceEvent) and the
    engine's ``spent`` ledger ((end ns, ns, step, component)). Times are in microseconds."""
    tracks = _Tracks()
    out: list[dict[str, Any]] = []
    for ev in events:
        pid, tid = tracks.of(ev.component, ev.fields)
        out.append({"name": ev.name, "cat": lifeline_of(ev.component).kind, "ph": "i", "s": "t",
                    "ts": ev.time / 1000, "pid": pid, "tid": tid, "args": _args(ev.fields)})
    for end, ns, step, component in spent:
        if not ns:  # setup is off the clock
            continue
        pid, tid = tracks.of(component, {})
        out.append({"name": step, "cat": "cost", "ph": "X", "ts": (end - ns) / 1000, "dur": ns / 1000,
                    "pid": pid, "tid": tid, "args": {"ns": ns}})
    out.sort(key=lambda e: e["ts"])
    return {"traceEvents": tracks.meta + out, "displayTimeUnit": "ns",
            "otherData": {"producer": "rasflow"}}


def write_perfetto(path: str, events: Sequence[Any], spent: Iterable[tuple[int, int, str, str]] = ()) -> None:
    with open(path, "w") as f:
        json.dump(trace_event_json(events, spent), f, separators=(",", ":"))
