"""Campaign specs: the built-in, inline and named bases, the sweep, and one-line errors."""

import pytest

from rasflow.campaign import builtin_campaigns, load_campaign, parse_campaign
from rasflow.campaign.sample import configure, derive, draw, scenario_of
from rasflow.scenario import ScenarioError, scenario_from_dict
from rasflow.scenario.model import FAULT_KINDS, POLICIES

BASE = '[base]\nscenario = "guest-ue-ar"\n'


def test_default_mixes_every_kind_over_all_policies():
    assert "default" in builtin_campaigns()
    c = load_campaign("default")
    assert {k for k, _ in c.faults.kinds} == set(FAULT_KINDS)
    assert {s.policy for s in c.settings} == set(POLICIES)
    assert len(c.settings) == 8 and c.paired
    assert {vm.name for vm in c.base.vms} == {"vm0", "vm1"} and c.base.faults == ()


def test_named_base_and_defaults():
    c = parse_campaign(BASE + "[sweep]\nearly_kill = [false, true]\n", "x.toml")
    assert c.base.name == "guest-ue-ar" and c.base.faults == () and c.base.expect is None
    assert [(s.policy, s.early_kill) for s in c.settings] == [("upstream", False),
                                                             ("upstream", True)]
    assert c.faults.kinds == (("memory-ue", 1.0),)
    assert dict(c.faults.regions) == {"vm-process": 1, "host-kernel": 1, "vmm": 1,
                                      "guest-ram": 1, "host-ram": 1}
    assert c.digest() == parse_campaign(BASE + "[sweep]\nearly_kill = [false, true]\n"
                                        "# a comment changes nothing\n").digest()
    assert c.digest() != parse_campaign("seed = 1\n" + BASE).digest()


def test_base_file_next_to_the_spec(tmp_path):
    (tmp_path / "b.toml").write_text('duration = "1ms"\n[[host.processes]]\nname = "db"\n')
    (tmp_path / "c.toml").write_text('[base]\nscenario = "b.toml"\n')
    c = load_campaign(tmp_path / "c.toml")
    assert c.base.host.processes[0].id == "host:db" and c.name == "c"


def test_drawn_scenarios_are_valid():
    c = load_campaign("default")
    kinds = set()
    for sample in range(300):
        d = draw(c, sample)
        kinds.add(d.fault.kind)
        sc = scenario_of(configure(c.base, c.settings[sample % 8]), d, derive(0, sample))
        assert scenario_from_dict(sc.to_dict()) == sc
        assert draw(c, sample) == d  # deterministic
    assert kinds == set(FAULT_KINDS)


MALFORMED = {
    'base = { scenario = "guest-ue-ar" }\nfault = 3\n':
        "x.toml:2: fault: unknown key; allowed: name, description, seed, count, costs, base, sweep, "
        "faults",
    "seed = 1\n": "x.toml:1: base: missing (required)",
    '[base]\nscenario = "guest-ue-ar"\nduration = "1ms"\n':
        "x.toml:3: base.duration: give scenario (a file or built-in name) or an inline "
        "machine/host/vms, not both",
    '[base]\nscenario = "nope.toml"\n':
        "x.toml:2: base.scenario: nope.toml: No such file or directory",
    '[base]\nduration = "1ms"\n[[base.vms]]\nname = "vm0"\nram = "4GB"\n':
        "x.toml:5: base.vms[0].ram: bad size '4GB': unknown unit 'GB'; units are B, KiB, "
        "MiB, GiB, TiB",
    BASE + "[faults]\nkinds = { memory-ue = 1, dram = 2 }\n":
        "x.toml:4: faults.kinds.dram: unknown name; one of memory-ue, memory-ce, "
        "patrol-scrub, cache, tlb, bus, device-serror, uncontainable, vserror",
    BASE + "[faults]\nkinds = { memory-ue = -1 }\n":
        "x.toml:4: faults.kinds.memory-ue: a weight is a finite number >= 0, got -1",
    BASE + "[faults]\nkinds = { memory-ue = 0 }\n":
        "x.toml:4: faults.kinds: needs at least one weight > 0",
    '[base]\nscenario = "host-process-ue"\n[faults]\nkinds = { vserror = 1 }\n':
        "x.toml:4: faults.kinds.vserror: needs a VM; the base scenario 'host-process-ue' "
        "has none",
    '[base]\nscenario = "host-process-ue"\n\n[faults.memory]\nregions = { vm-process = 1 }\n':
        "x.toml:5: faults.memory.regions.vm-process: the base scenario 'host-process-ue' has "
        "no vm process",
    BASE + '[faults]\nat = ["5us", "1us"]\n': "x.toml:4: faults.at: low '5us' is above high '1us'",
    BASE + '[faults]\nat = ["1us", "2ms"]\n':
        "x.toml:4: faults.at: faults and their accesses run to 2002000 ns, not before the end "
        "of the base scenario (1000000 ns)",
    BASE + '[sweep]\npolicies = ["upstream", "sea_to_user"]\n':
        "x.toml:4: sweep.policies[1]: 'sea_to_user' is not one of upstream, kvm-serror-exit, "
        "sea-to-user, delegated",
    BASE + '[sweep]\npolicies = ["upstream", "upstream"]\n':
        "x.toml:4: sweep.policies[1]: 'upstream' is listed twice",
    BASE + '[sweep]\nnotifications = [["SEA", "NMI"]]\n':
        "x.toml:4: sweep.notifications[0][1]: 'NMI' is not one of SEA, SEI, SDEI, GPIO, GSIV, "
        "POLLED",
    BASE + "[faults.cpu]\naet = { CE = 1 }\n":
        "x.toml:4: faults.cpu.aet.CE: unknown name; one of UC, UEU, UEO, UER",
    BASE + "[faults.cpu]\npa = 1.5\n": "x.toml:4: faults.cpu.pa: must be a number 0..1, got 1.5",
    "[base]\nscenario = guest-ue-ar\n": "x.toml:2: syntax: Invalid value (column 12)",
    "count = 0\n" + BASE: ("x.toml:1: count: 0 is out of range 1..10000000 (about 1,200 faults/s per "
                               "core: ten million take a day on a few cores)"),
}


@pytest.mark.parametrize("text", list(MALFORMED))
def test_malformed(text):
    with pytest.raises(ScenarioError) as e:
        parse_campaign(text, "x.toml")
    assert str(e.value) == MALFORMED[text]
    assert "\n" not in str(e.value)


def test_unknown_builtin():
    with pytest.raises(ScenarioError, match="no such campaign spec file or built-in"):
        load_campaign("defualt")
