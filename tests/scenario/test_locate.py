"""The key-path -> line locator (tomllib keeps no positions)."""

import tomllib

from rasflow.scenario.locate import format_path, locate

TEXT = '''\
name = "x"   # a comment with [brackets] and = signs
description = """two
lines"""

[machine]
cpus = 2
"quoted key" = 'lit'

[[vms]]
name = "vm0"

[[vms.processes]]
name = "a"

[[vms.processes]]
name = "b"
program = [
    ["load", 0x10],   # comment ]
    ["loop", 3, [
        ["sleep", "1us"],
        ["svc", 0],
    ]],
]

[[vms]]
name = "vm1"
[[vms.processes]]
name = "c"

[expect]
processes = { "vm0:a" = "killed", "vm1:c" = "running" }
signals = [{ target = "vm0:a" }, { target = "vm1:c", si_code = "BUS_MCEERR_AR" }]
'''


def test_lines():
    tomllib.loads(TEXT)  # the locator only sees valid TOML
    loc = locate(TEXT)
    line = loc.line
    assert line(("name",)) == 1
    assert line(("description",)) == 2
    assert line(("machine",)) == 5
    assert line(("machine", "cpus")) == 6
    assert line(("machine", "quoted key")) == 7
    assert line(("vms", 0)) == 9
    assert line(("vms", 0, "name")) == 10
    assert line(("vms", 0, "processes", 0)) == 12
    assert line(("vms", 0, "processes", 1, "name")) == 16
    assert line(("vms", 0, "processes", 1, "program")) == 17
    assert line(("vms", 0, "processes", 1, "program", 0)) == 18
    assert line(("vms", 0, "processes", 1, "program", 1)) == 19
    assert line(("vms", 0, "processes", 1, "program", 1, 2, 1)) == 21
    assert line(("vms", 0, "processes", 1, "program", 1, 2, 1, 0)) == 21
    assert line(("vms", 1, "name")) == 26
    assert line(("vms", 1, "processes", 0, "name")) == 28
    assert line(("expect", "processes", "vm1:c")) == 31
    assert line(("expect", "signals", 1, "si_code")) == 32


def test_missing_keys_fall_back_to_their_table():
    loc = locate(TEXT)
    assert loc.line(("vms", 1, "processes", 0, "memory")) == 27
    assert loc.line(("faults", 0, "target")) == 1
    assert loc.line(()) == 1


def test_format_path():
    assert format_path(("vms", 0, "processes", 1, "program", 2)) == "vms[0].processes[1].program[2]"
    assert format_path(("expect", "processes", "vm0:app")) == 'expect.processes."vm0:app"'
    assert format_path(()) == ""
