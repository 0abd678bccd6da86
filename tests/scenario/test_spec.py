"""Parsing: normalised values, defaults, and the cross-field checks."""

import pytest

from rasflow.scenario import (
    Expect,
    Fault,
    Machine,
    Process,
    ScenarioError,
    Target,
    parse_scenario,
)
from rasflow.scenario.expect import SI_CODE_NAMES
from rasflow.scenario.spec import parse_target

GUEST = '''
[[vms]]
name = "vm0"
ram = "512MiB"

[[vms.processes]]
name = "app"
memory = "64KiB"
'''


def test_defaults():
    s = parse_scenario("")
    assert (s.name, s.policy, s.seed, s.duration, s.source) == ("scenario", "upstream", 0,
                                                               10_000_000, None)
    assert s.machine == Machine()
    assert s.vms == () and s.faults == () and s.expect is None
    assert parse_scenario("", "dir/my-case.toml").name == "my-case"


def test_normalised_values():
    s = parse_scenario(GUEST + '''
program = [["load", "0x10000040"], ["store", 0x10000000, 1], ["svc", 0], ["esb"],
           ["sleep", "1us"], ["loop", 100, [["load", 0x10000000]]]]
share = "app2"
[[vms.processes]]
name = "app2"
va = "0x20000000"
cpu = 0
start = "2ms"

[[faults]]
at = "1us"
kind = "memory-ue"
target = "vm0:app:0x20000010"
''')
    app = s.process("vm0:app")
    assert app == Process(name="app", kernel="vm0", memory=65536, share="app2", program=(
        ("load", 0x10000040), ("store", 0x10000000, 1), ("svc", 0), ("esb",), ("sleep", 1000),
        ("loop", 100, (("load", 0x10000000),))))
    assert s.process("vm0:app2").va == 0x20000000 and s.process("vm0:app2").start == 2_000_000
    assert s.policy_of(s.vm("vm0")) == "upstream"
    assert s.faults == (Fault(at=1000, kind="memory-ue", consume="load",
                              target=Target("proc", kernel="vm0", process="app",
                                            addr=0x20000010)),)


@pytest.mark.parametrize(("kind", "extra", "fields"), [
    ("memory-ce", "", {"count": 1, "consume": "none"}),
    ("patrol-scrub", "", {"consume": "none"}),
    ("cache", "pa = 0x50000000", {"signal": "serror", "delay": 0, "pa": 0x50000000}),
    ("device-serror", 'target = "pa:0x9000000"', {"aet": "UER", "delay": 5, "consume": "none"}),
    ("uncontainable", "", {}),
    ("vserror", 'target = "vm0"\naet = "UEO"', {"aet": "UEO"}),
])
def test_fault_defaults(kind, extra, fields):
    target = 'target = "pa:0x50000000"' if kind in ("memory-ce", "patrol-scrub") else (
        'target = "cpu:1"' if kind == "cache" else "")
    s = parse_scenario(GUEST + f'[[faults]]\nat = 5\nkind = "{kind}"\n{target}\n{extra}\n')
    f = s.faults[0]
    got = {k: v for k, v in f.to_dict().items() if k not in ("at", "kind", "target")}
    assert got == fields
    if kind == "uncontainable":
        assert f.target == Target("cpu", cpu=0)


@pytest.mark.parametrize(("text", "target"), [
    ("host:db:0x10", Target("proc", kernel="host", process="db", addr=0x10)),
    ("pa:0x40000000", Target("pa", addr=0x40000000)),
    ("vm0:ipa:0x40001000", Target("ipa", kernel="vm0", addr=0x40001000)),
    ("vm0:kernel", Target("kernel", kernel="vm0")),
    ("host:kernel", Target("kernel", kernel="host")),
    ("vmm:vm0", Target("vmm", kernel="vm0")),
    ("cpu:3", Target("cpu", cpu=3)),
    ("vm0", Target("vm", kernel="vm0")),
])
def test_targets(text, target):
    assert parse_target(text) == target
    assert str(target) == text


@pytest.mark.parametrize("text", ["vm0:app", "host:ipa:0x10", "pa:zz", "a:b:c:d", "VM0", ""])
def test_bad_targets(text):
    assert parse_target(text) is None


def test_expect():
    s = parse_scenario(GUEST + '''
[expect]
host = "running"
vms = { vm0 = "running" }
processes = { "vm0:app" = "killed", "vmm:vm0" = "running" }
signals = [{ target = "vm0:app", si_code = "BUS_MCEERR_AR", signo = 7, si_addr = "0x10000040" }]
no_signals = ["vmm:vm0"]
cper_host = 1
cper_guest = { vm0 = 1 }
exposed = []
contained = true
''')
    assert s.expect == Expect(
        host="running", vms={"vm0": "running"},
        processes={"vm0:app": "killed", "vmm:vm0": "running"},
        signals=({"target": "vm0:app", "si_code": "BUS_MCEERR_AR", "signo": 7,
                  "si_addr": 0x10000040},),
        no_signals=("vmm:vm0",), cper_host=1, cper_guest={"vm0": 1}, exposed=(),
        contained=True)
    assert s.expect.to_dict()["exposed"] == []


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "t.toml")
    return str(e.value)


@pytest.mark.parametrize(("body", "message"), [
    ('[machine]\ncpus = 0', "t.toml:2: machine.cpus: 0 is out of range 1..256"),
    ('[machine]\nram = "134221825"', "t.toml:2: machine.ram: '134221825' is not a multiple of 4096"),
    ('[machine]\nram = "4KiB"', "t.toml:2: machine.ram: '4KiB' is less than the minimum 128MiB (a kernel's image "
                                "and early allocations take the first 64MiB, as in kernel/mm/page.py)"),
    ('duration = "1000s"', "t.toml:1: duration: '1000s' is more than the maximum 100ms (a busy program runs "
                           "about 2 s per simulated ms: longer runs do not finish in minutes)"),
    ('[machine]\nram = 0', "t.toml:2: machine.ram: 0 is less than the minimum 128MiB (a kernel's image and early "
                            "allocations take the first 64MiB, as in kernel/mm/page.py)"),
    ('[machine]\nras = "yes"', "t.toml:2: machine.ras: must be true or false, got string 'yes'"),
    ('[machine]\nnotifications = ["SEA", "NMI"]',
     "t.toml:2: machine.notifications[1]: 'NMI' is not one of SEA, SEI, SDEI, GPIO, GSIV, "
     "POLLED"),
    ('[machine]\nnotifications = ["SEA", "SEA"]',
     "t.toml:2: machine.notifications[1]: SEA is listed twice"),
    ('[machine]\ncpus = 2\n[[host.processes]]\nname = "db"\ncpu = 2',
     "t.toml:5: host.processes[0].cpu: 2 is not a CPU of the machine (0..1)"),
    (GUEST + "cpu = 1", "t.toml:9: vms[0].processes[0].cpu: 1 is not a vCPU of vm0 (0..0)"),
    ('[[vms]]\nname = "a"\nram = "2GiB"\n[[vms]]\nname = "b"\nram = "1GiB"',
     "t.toml:6: vms[1].ram: VM RAM adds up to 3GiB, more than the host's 2GiB (machine.ram)"),
    ('[[vms]]\nname = "a"\n[[vms]]\nname = "a"', "t.toml:4: vms[1].name: duplicate VM name 'a'"),
    ('[[vms]]\nname = "host"',
     "t.toml:2: vms[0].name: 'host' is reserved in fault targets; pick another"),
    ('[[vms]]\nvcpus = 1', "t.toml:1: vms[0].name: missing (required)"),
    ('[[host.processes]]\nname = "DB"',
     "t.toml:2: host.processes[0].name: bad name 'DB': use lowercase letters, digits, '_' and "
     "'-'"),
    ('[[host.processes]]\nname = "db"\nprogram = [["sleep", 5, 6]]',
     "t.toml:3: host.processes[0].program[0]: sleep takes 1 operand(s): ['sleep', time], got 2"),
    ('[[host.processes]]\nname = "db"\nprogram = [["sleep", "5 days"]]',
     "t.toml:3: host.processes[0].program[0][1]: bad time '5 days': unknown unit 'days'; units "
     "are ns, us, ms, s"),
    ('[[host.processes]]\nname = "db"\nprogram = ["load"]',
     "t.toml:3: host.processes[0].program[0]: an instruction is an array [\"op\", operands...]; "
     "op is one of load, store, svc, hvc, smc, esb, sleep, loop"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "vserror"\ntarget = "vm0"\nesr = 0xC11\naet = "UER"',
     "t.toml:14: faults[0].aet: give esr (the whole ISS) or aet, not both"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "vserror"\ntarget = "vm0"\nesr = -1',
     "t.toml:13: faults[0].esr: -1 is out of range 0..18446744073709551615"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "vserror"\ntarget = "vm1"',
     "t.toml:12: faults[0].target: no VM 'vm1' (VMs: vm0)"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "vserror"\ntarget = "vm0:app:0x10000000"',
     "t.toml:12: faults[0].target: vserror cannot target PROC:VA ('vm0:app:0x10000000'); "
     "vserror targets: VM"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "tlb"\ntarget = "cpu:2"',
     "t.toml:12: faults[0].target: no cpu 2 (machine.cpus = 2: 0..1)"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "memory-ue"\ntarget = "vm0:ipa:0x10000"',
     "t.toml:12: faults[0].target: IPA 0x10000 is outside vm0's RAM [0x40000000, 0x60000000)"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "device-serror"\ntarget = "pa:0x40000000"',
     "t.toml:12: faults[0].target: PA 0x40000000 is host RAM [0x40000000, 0xc0000000); a "
     "device-serror needs a device address outside it"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "memory-ue"\ntarget = "vm0:app"',
     "t.toml:12: faults[0].target: bad target 'vm0:app'; memory-ue targets: PROC:VA | "
     "pa:0x... | VM:ipa:0x... | VM:kernel | host:kernel | vmm:VM (PROC is host:NAME or "
     "VM:NAME)"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "tlb"\ntarget = "cpu:0"\npa = 0x1000',
     "t.toml:13: faults[0].pa: PA 0x1000 is outside host RAM [0x40000000, 0xc0000000)"),
    (GUEST + '[[faults]]\nat = "20ms"\nkind = "uncontainable"',
     "t.toml:10: faults[0].at: 20ms is not before the end of the run (duration = 10ms)"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "memory-ue"\ntargte = "vm0"',
     "t.toml:12: faults[0].targte: unknown key; memory-ue takes at, kind, target, consume"),
    (GUEST + '[[faults]]\nat = "1us"\nkind = "ue"',
     "t.toml:11: faults[0].kind: 'ue' is not one of memory-ue, memory-ce, patrol-scrub, cache, "
     "tlb, bus, device-serror, uncontainable, vserror"),
    (GUEST + '[expect]\nvms = { vm1 = "running" }', "t.toml:10: expect.vms.vm1: no VM 'vm1' "
     "(VMs: vm0)"),
    (GUEST + '[expect]\nvms = { vm0 = "dead" }', "t.toml:10: expect.vms.vm0: 'dead' is not "
     "one of running, panic, stopped"),
    (GUEST + '[expect]\nprocesses = { "host:db" = "killed" }',
     't.toml:10: expect.processes."host:db": no process \'host:db\' (processes: vm0:app, '
     'vmm:vm0)'),
    (GUEST + '[expect]\nsignals = [{ target = "vm0:app", si_code = "BUS_MCEERR_XX" }]',
     "t.toml:10: expect.signals[0].si_code: 'BUS_MCEERR_XX' is not a number or one of "
     + ", ".join(SI_CODE_NAMES)),
    (GUEST + '[expect]\nexposed = [{ what = "esr" }]',
     "t.toml:10: expect.exposed[0].to: missing (required)"),
    (GUEST + '[expect]\ncontained = "yes"',
     "t.toml:10: expect.contained: must be true or false, got string 'yes'"),
    ('name = "x"\n[machine]\ncpus = 2\n[machine]\nram = 1',
     "t.toml:4: syntax: Cannot declare ('machine',) twice (column 9)"),
])
def test_errors(body, message):
    assert _error(body) == message
