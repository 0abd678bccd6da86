"""Golden traces: every built-in scenario's full trace (JSON Lines), byte for byte.

A change to the model that changes a trace fails here; when the change is intended,
regenerate with ``RASFLOW_UPDATE_GOLDEN=1 python -m pytest tests/scenario/test_golden.py``
and review the diff of tests/scenario/golden/ like any other change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rasflow.scenario import builtin_names
from rasflow.scenario.runner import run

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", builtin_names())
def test_golden_trace(name):
    got = run(name).system.engine.trace.to_jsonl()
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("RASFLOW_UPDATE_GOLDEN"):
        path.write_text(got)
    assert path.exists(), f"no golden trace for {name}: run with RASFLOW_UPDATE_GOLDEN=1"
    want = path.read_text()
    if got != want:
        for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines(), strict=False)):
            assert a == b, f"{name}: trace line {i + 1} differs"
        assert got.count("\n") == want.count("\n"), f"{name}: {got.count(chr(10))} events, golden has {want.count(chr(10))}"
