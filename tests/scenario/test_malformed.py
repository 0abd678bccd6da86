"""Each file in malformed/ fails with exactly one one-line ``FILE:LINE: FIELD: message``."""

from pathlib import Path

import pytest

from rasflow.scenario import ScenarioError, load_scenario, parse_scenario

HERE = Path(__file__).parent / "malformed"

EXPECTED = {
    "unknown-key.toml": "unknown-key.toml:5: machine.rams: unknown key; allowed: cpus, ram, "
                        "ram_base, ras, firmware_first, notifications, iesb, poll_interval, "
                        "el3_serror",
    "bad-size-unit.toml": "bad-size-unit.toml:5: machine.ram: bad size '4GB': unknown unit "
                          "'GB'; units are B, KiB, MiB, GiB, TiB",
    "missing-process.toml": "missing-process.toml:16: faults[0].target: no process 'vm0:ap' "
                            "(processes: host:db, vm0:app)",
    "pa-outside-ram.toml": "pa-outside-ram.toml:10: faults[0].target: PA 0x10000000 is outside "
                           "host RAM [0x40000000, 0xc0000000)",
    "duplicate-process.toml": "duplicate-process.toml:10: vms[0].processes[1].name: duplicate "
                              "process name 'app': processes[0] of vm0 has it already",
    "syntax.toml": "syntax.toml:4: syntax: Invalid value (column 8)",
    "missing-target.toml": "missing-target.toml:3: faults[0].target: missing (required): "
                           "memory-ce targets: PROC:VA | pa:0x... | VM:ipa:0x... | "
                           "VM:kernel | host:kernel | vmm:VM",
    "bad-policy.toml": "bad-policy.toml:6: vms[0].policy: 'sea_to_user' is not one of "
                       "upstream, kvm-serror-exit, sea-to-user, delegated",
    "bad-instruction.toml": "bad-instruction.toml:9: host.processes[0].program[1][2][1]: "
                            "unknown instruction 'lod'; one of load, store, svc, hvc, smc, "
                            "esb, sleep, loop",
    "share-missing.toml": "share-missing.toml:14: vms[0].processes[1].share: no other process "
                          "'db' in vm0 (processes: app)",
    "esr-not-vserror.toml": "esr-not-vserror.toml:13: faults[0].esr: does not apply to "
                            "memory-ue (only to vserror); memory-ue takes at, kind, target, "
                            "consume",
    "va-outside-process.toml": "va-outside-process.toml:11: faults[0].target: VA 0x10010000 is "
                               "outside the memory it names: host:db's [0x10000000, 0x10010000)",
}


def test_every_file_has_an_expectation():
    assert sorted(p.name for p in HERE.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed(name):
    path = HERE / name
    with pytest.raises(ScenarioError) as e:
        parse_scenario(path.read_text(), name)
    message = str(e.value)
    assert message == EXPECTED[name]
    assert "\n" not in message
    assert e.value.file == name
    assert message.split(": ")[0] == f"{name}:{e.value.line}"
    assert message.startswith(f"{e.value.file}:{e.value.line}: {e.value.field}: ")


def test_load_scenario_names_the_path():
    path = HERE / "bad-policy.toml"
    with pytest.raises(ScenarioError, match=rf"^{path}:6: vms\[0\]\.policy: "):
        load_scenario(path)


def test_error_pickles():
    import pickle

    e = ScenarioError("a.toml", 3, "machine.ram", "bad")
    again = pickle.loads(pickle.dumps(e))
    assert (str(again), again.file, again.line, again.field) == (str(e), "a.toml", 3, "machine.ram")
