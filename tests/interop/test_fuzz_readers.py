"""Every reader and JSON decoder under structure-aware fuzzing (tests/fuzzing.py): the
only exception is the layer's bad-input error, and what reads prints a bounded amount.

Each target runs RASFLOW_FUZZ_EXAMPLES inputs (a few hundred here); `bash bench/run.sh`
runs the long run, bench/fuzz_readers.py, over a million.
"""

from __future__ import annotations

import os
import struct

import pytest

import fuzzing

EXAMPLES = int(os.environ.get("RASFLOW_FUZZ_EXAMPLES", "300"))


@pytest.mark.parametrize("name", list(fuzzing.TARGETS))
def test_target_has_seeds_that_read(name):
    """A fuzz run from seeds that do not read would only test the first error path. The
    project's own seeds all read; a real-world one may be something else (a mail excerpt)."""
    target, ok = fuzzing.TARGETS[name], 0
    for data in fuzzing.seeds(name):
        try:
            target.run(data)
            ok += 1
        except target.allowed():
            pass
    assert ok >= max(1, len(fuzzing.seeds(name)) // 2)


@pytest.mark.parametrize("name", list(fuzzing.TARGETS))
def test_mutated_inputs(name):
    for n in range(EXAMPLES):
        data = fuzzing.fuzz_input(name, n)
        try:
            fuzzing.exercise(name, data)
        except Exception as e:  # name the input so that it can be replayed
            raise AssertionError(f"{name} input {n} ({len(data)} bytes): {type(e).__name__}: {e}") from e


def _arm_block_of_65535_err_infos() -> bytes:
    """A status block whose 40-byte ARM section claims 0xFFFF error info entries (it printed
    266,244 lines before the kernel's 'section length is too small' check was modelled)."""
    from rasflow.formats.cper import guids as g

    body = struct.pack("<IHHI", 0, 0xFFFF, 0, 40).ljust(40, b"\0")
    gdata = struct.pack("<16sIHBBI16s20s", bytes(g.CPER_SEC_PROC_ARM), 0, 0x300, 0, 0, 40, bytes(16), bytes(20))
    gdata += bytes(8)  # the v300 entry's timestamp
    return struct.pack("<5I", 1, 0, 0, len(gdata) + 40, 0) + gdata + body


@pytest.mark.parametrize("case", [
    ("cper", _arm_block_of_65535_err_infos()),
    ("qmp", b'{"execute": "inject-ghes-v2-error", "arguments": ["cper"]}'),
    ("qmp", '{"execute": "inject-ghes-v2-error", "arguments": {"cper": "\u00e9"}}'.encode()),
    ("redfish", b'{"Members": [{"@odata.type": "#LogEntry.v1_15_0.LogEntry", "Severity": ["Critical"]}]}'),
    ("json", b'{"kind": {"acpi": 1}}'),
    ("libcper-json", b'{"header": {"recordLength": 4294967295, "sectionCount": 0}, "sectionDescriptors": [],'
                     b' "sections": []}'),
    ("dmesg", b"[    1.0] {1}[Hardware Error]: event severity: fatal\n"
              b"[    1.0] {1}[Hardware Error]:  Error 0, type: fatal\n"
              b"[    1.0] {1}[Hardware Error]:   section_type: memory error\n"
              b"[    1.0] {1}[Hardware Error]:   node:02 card: 0\n"),
    ("dmesg", b"[    1.0] {1}[Hardware Error]: event severity: fatal\n"
              b"[    1.0] {1}[Hardware Error]:  Error 0, type: fatal\n"
              b"[    1.0] {1}[Hardware Error]:   section length: 0xffffffff\n"
              b"[    1.0] {1}[Hardware Error]:   00000000: 875\n"
              b"[    1.0] {1}[Hardware Error]:   7ffffff0: 00000000\n"),
    ("acpidump", b"00000000  43 50 45 52 00 00 00 00  00 00 00 00 00 00 00 00  |CPER............|\n*\n"
                 b"7ffffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"),
], ids=lambda c: c[0])
def test_inputs_that_broke_readers(case):
    """The crash sites the first fuzzing of the readers found (issue 17), kept as cases."""
    fuzzing.exercise(*case)
