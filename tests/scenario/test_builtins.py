"""The built-in scenarios parse, describe themselves and round-trip through to_dict."""

import json

import pytest

from rasflow.scenario import (
    ScenarioError,
    builtin_names,
    builtin_path,
    load_scenario,
    scenario_from_dict,
)

NAMES = builtin_names()
REQUIRED = {
    "guest-ue-ar", "guest-serror-esb", "guest-serror-user-esr", "host-process-ue",
    "patrol-scrub-ao", "patrol-scrub-ao-late", "corrected-polled", "tlb-error",
    "cache-error-pa", "unacked-second-error", "fatal-uc", "kernel-page-ue", "vmm-memory-ue",
}


def test_the_set():
    assert REQUIRED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_builtin(name):
    s = load_scenario(name)
    assert s.name == name
    assert s.source == str(builtin_path(name))
    assert s.description and "\n" not in s.description
    assert s.faults and s.expect is not None
    assert s.machine.cpus == 2 and s.machine.ram == 2 << 30
    assert all(vm.ram == 512 << 20 for vm in s.vms)


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name):
    s = load_scenario(name)
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    again = scenario_from_dict(d)
    assert again == s
    assert again.to_dict() == d


def test_load_by_path_equals_load_by_name(tmp_path):
    text = builtin_path("guest-ue-ar").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text)
    mine = load_scenario(path)
    assert mine.source == str(path)
    assert mine.faults == load_scenario("guest-ue-ar").faults


def test_unknown_builtin_suggests():
    with pytest.raises(ScenarioError) as e:
        load_scenario("guest-ue-arr")
    assert str(e.value).startswith("guest-ue-arr: no such scenario file or built-in (built-ins: ")
    assert str(e.value).endswith("; did you mean guest-ue-ar?")


def test_guest_serror_user_esr_syndrome():
    fault = load_scenario("guest-serror-user-esr").faults[0]
    assert (fault.kind, fault.esr, str(fault.target)) == ("vserror", 0xC11, "vm0")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match=rf"^{path}: No such file or directory$"):
        load_scenario(path)
