"""run --perfetto: Chrome trace-event JSON that Perfetto and chrome://tracing load.

The checks are the Trace Event Format's own rules for the JSON Object Format: a
``traceEvents`` array; every event with name, ph, ts (µs), pid and tid; instant events
with a scope; complete events with a non-negative dur; metadata naming every process and
thread a event uses."""

from __future__ import annotations

import json

from rasflow.cli import main


def test_perfetto_is_valid_trace_event_json(tmp_path, capsys):
    path = tmp_path / "t.json"
    trace = tmp_path / "t.jsonl"
    assert main(["run", "--quiet", "--perfetto", str(path), "--trace", str(trace), "guest-ue-ar"]) == 0
    capsys.readouterr()
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    assert doc["displayTimeUnit"] in ("ms", "ns")
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    for e in events:
        assert {"name", "ph", "pid", "tid"} <= e.keys() and e["ph"] in ("i", "X", "M"), e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        if e["ph"] != "M":
            assert isinstance(e["ts"], int | float) and e["ts"] >= 0
            assert e["pid"] in processes and (e["pid"], e["tid"]) in named, e
        if e["ph"] == "i":
            assert e["s"] in ("g", "p", "t")
        if e["ph"] == "X":
            assert e["dur"] > 0
    instants = [e for e in events if e["ph"] == "i"]
    assert len(instants) == len(trace.read_text().splitlines())  # every trace event, once
    assert {"hardware", "EL3 firmware", "host kernel", "KVM", "VMM vm0", "guest kernel vm0"} <= set(processes.values())
    spans = [e for e in events if e["ph"] == "X"]
    assert {"el3_entry", "memory_failure"} <= {e["name"] for e in spans}
    cpus = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name" and e["args"]["name"].startswith("cpu")]
    assert cpus  # per-CPU tracks where events name their CPU
