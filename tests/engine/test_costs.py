"""The cost model's file: every figure has its source, a damaged file is one clear error,
and every step the model spends is in the file (and every entry is spent by some run)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rasflow.engine import costs
from rasflow.scenario import builtin_names, load_scenario
from rasflow.scenario.runner import run


def test_every_entry_cites_its_source_and_holds_its_range():
    table = costs.table()
    assert table
    for c in table.values():
        assert c.source.strip() and c.what.strip()
        assert c.basis in costs.BASES
        assert 0 <= c.low <= c.typical <= c.high


@pytest.mark.parametrize("text, message", [
    ('[x]\nwhat = "a"\nlow = 1\ntypical = 2\nhigh = 3\nbasis = "measured"\n',
     "costs.toml: [x].source: missing or not str"),
    ('[x]\nwhat = "a"\nlow = 1\ntypical = 2\nhigh = 3\nbasis = "measured"\nsource = " "\n',
     "costs.toml: [x].source: empty: every figure cites its source"),
    ('[x]\nwhat = "a"\nlow = 3\ntypical = 2\nhigh = 3\nbasis = "measured"\nsource = "s"\n',
     "costs.toml: [x]: needs 0 <= low <= typical <= high, got 3, 2, 3"),
    ('[x]\nwhat = "a"\nlow = 1\ntypical = 2\nhigh = 3\nbasis = "guess"\nsource = "s"\n',
     "costs.toml: [x].basis: 'guess', not one of measured, derived, estimate"),
    ('[x]\nwhat = "a"\nlow = true\ntypical = 2\nhigh = 3\nbasis = "measured"\nsource = "s"\n',
     "costs.toml: [x].low: missing or not int"),
    ("x = 1\n", "costs.toml: [x]: not a table"),
    ("[x\n", "costs.toml: "),
])
def test_a_damaged_cost_file_is_one_clear_error(text, message):
    with pytest.raises(costs.CostError) as e:
        costs.parse(text)
    assert str(e.value).startswith(message)


def test_every_step_spent_is_in_the_file_and_every_entry_is_spent():
    scenarios = [load_scenario(name) for name in builtin_names()]
    ue = load_scenario("guest-ue-ar")  # and the SDEI notification, which no built-in uses
    scenarios.append(replace(ue, machine=replace(ue.machine, notifications=("SDEI", "GPIO"))))
    spent = set()
    for sc in scenarios:
        for policy in ("upstream", "delegated"):
            spent |= {step for _, ns, step, _ in run(sc, policy).system.engine.spent}
    assert spent == set(costs.table())


def test_sampling_depends_on_the_seed_alone_and_stays_in_range():
    a, b, c = costs.sample(1), costs.sample(1), costs.sample(2)
    assert a == b and a != c
    for step, cost in costs.table().items():
        assert cost.low <= a[step] <= cost.high


def test_a_run_uses_the_typical_figures_and_given_ones_change_only_the_times():
    typical = run("guest-ue-ar")
    sampled = run("guest-ue-ar", costs=costs.sample(7))
    assert [(e.component, e.name) for e in typical.events] == \
        [(e.component, e.name) for e in sampled.events]
    assert typical.outcome.containment_ns != sampled.outcome.containment_ns
    assert typical.outcome.containment == sampled.outcome.containment == "contained"
