"""Bad invocations and bad inputs of every command, run as a user runs them (a separate
process, with a time limit): one line on stderr naming what and where, the right exit
status (2 bad input or usage, 1 the environment), never a traceback, never a hang.

Each case is (argv, files, status, words): ``files`` maps names in a fresh directory to
their bytes (a callable gets that directory), ``{d}`` in argv is that directory, and every
word in ``words`` must be in the stderr line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rasflow.data import sample
from rasflow.formats import cper
from rasflow.formats.acpi.qemu import qemu_virt_hest

SAMPLE = sample()
BUILTIN = Path(cper.__file__).parents[2] / "scenario" / "builtin"
SCENARIO = (BUILTIN / "corrected-polled.toml").read_text()
HEST = qemu_virt_hest(0x43FE0000)[0].encode()
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_TOML = b"x = " + b"[" * 100_000 + b"]" * 100_000


def _scenario(old: str, new: str) -> bytes:
    assert old in SCENARIO
    return SCENARIO.replace(old, new, 1).encode()


def _campaign(extra: str) -> bytes:
    return (extra + '\n[base]\nscenario = "guest-ue-ar"\n').encode()


def _dmesg_without_midr() -> bytes:
    from rasflow.interop.dmesg import write_dmesg

    return "".join(x for x in write_dmesg([cper.decode(SAMPLE)]).splitlines(True) if "MIDR" not in x).encode()


def _libcper(key: str, value: Any) -> bytes:
    doc = cper.to_libcper(cper.decode(SAMPLE))
    doc["header"][key] = value
    return json.dumps(doc).encode()


def _hest_bad_checksum() -> bytes:
    data = bytearray(HEST)
    data[9] ^= 0xFF
    return bytes(data)


def _campaign_dir_of_junk(d: Path) -> None:
    (d / "junk").mkdir()
    (d / "junk" / "part-0000.parquet").write_bytes(b"not parquet")


F = "f"  # the one input file most cases use
CASES: list[tuple[str, list[str], dict[str, Any], int, tuple[str, ...]]] = [
    # the command line itself
    ("unknown command", ["decod"], {}, 2, ("unknown command 'decod'", "did you mean decode")),
    ("unknown option", ["decode", "--bogus", "x"], {}, 2, ("unrecognized arguments: --bogus",)),
    ("bad --format", ["decode", "--format", "xml", "--sample"], {}, 2, ("invalid choice: 'xml'",)),
    ("bad --as", ["decode", "--as", "pdf", "{d}/f"], {F: SAMPLE}, 2, ("invalid choice: 'pdf'",)),
    ("decode with nothing", ["decode"], {}, 2, ("nothing to decode",)),
    # files that are not there or not files
    ("missing file", ["decode", "{d}/nope"], {}, 2, ("nope", "No such file")),
    ("directory of non-tables as input", ["decode", "{d}"], {F: b""}, 2, ("f.header.signature", "truncated")),
    ("empty tables directory", ["decode", "{d}/tables"], {"tables/.keep": b""}, 2, ("no ACPI tables",)),
    ("empty file", ["decode", "{d}/f"], {F: b""}, 2, ("f",)),
    # bytes
    ("truncated record", ["decode", "{d}/f"], {F: SAMPLE[:100]}, 2, ("truncated",)),
    ("truncated section", ["decode", "{d}/f"], {F: SAMPLE[:-40]}, 2, ("truncated",)),
    ("bad ACPI checksum", ["decode", "--strict", "{d}/f"], {F: _hest_bad_checksum()}, 2, ("checksum",)),
    ("odd hex digits", ["decode", "{d}/f"], {F: b"435045520"}, 2, ("odd number of hex digits",)),
    ("bad base64", ["decode", "{d}/f"], {F: b"Q1BFUgAAAAAAAAAA=A=="}, 2, ("base64",)),
    ("text neither hex nor base64", ["decode", "--as", "cper", "{d}/f"], {F: b"hello, world\n"}, 2,
     ("neither hex nor base64",)),
    ("CPER signature wrong", ["decode", "--as", "cper", "{d}/f"], {F: b"CPEX" + SAMPLE[4:]}, 2, ("signature",)),
    ("garbage bytes", ["decode", "{d}/f"], {F: bytes(range(256)) * 4}, 2, ("f",)),
    # JSON
    ("JSON not UTF-8", ["encode", "{d}/f"], {F: b'{"kind": "\xff"}'}, 2, ("not UTF-8",)),
    ("JSON nested too deeply", ["encode", "{d}/f"], {F: DEEP_JSON}, 2, ("nested too deeply",)),
    ("JSON syntax", ["encode", "{d}/f"], {F: b'{"kind": '}, 2, ("JSON",)),
    ("JSON kind not a name", ["encode", "{d}/f"], {F: b'{"kind": {"acpi": 1}}'}, 2, ("kind",)),
    ("JSON wrong shape", ["encode", "{d}/f"], {F: b"[1, 2]"}, 2, ("object",)),
    ("libcper recordLength 4 GiB", ["encode", "{d}/f"], {F: _libcper("recordLength", 0xFFFFFFFF)}, 2,
     ("header.recordLength", "at most 65536")),
    ("libcper field of the wrong type", ["encode", "{d}/f"], {F: _libcper("flags", [])}, 2, ("flags",)),
    ("our JSON int too wide", ["encode", "{d}/f"],
     {F: json.dumps({**cper.decode(SAMPLE).to_dict(), "header": {
         **cper.decode(SAMPLE).to_dict()["header"], "record_id": 2**64}}).encode()}, 2, ("record_id", "64 bits")),
    # containers
    ("--as dmesg of garbage", ["decode", "--as", "dmesg", "{d}/f"], {F: b"hello\nworld\n"}, 2, ("nothing decoded",)),
    ("--as acpidump of garbage", ["decode", "--as", "acpidump", "{d}/f"], {F: b"hello\n"}, 2, ("nothing decoded",)),
    ("--as redfish not JSON", ["decode", "--as", "redfish", "{d}/f"], {F: b"{oops"}, 2, ("not valid JSON",)),
    ("--as qmp of garbage", ["decode", "--as", "qmp", "{d}/f"], {F: b"{}\n"}, 2, ("nothing decoded",)),
    ("--as rasdaemon damaged database", ["decode", "--as", "rasdaemon", "{d}/f"],
     {F: b"SQLite format 3\0" + bytes(200)}, 2, ("SQLite",)),
    ("kernel log missing a line", ["decode", "{d}/f"], {F: _dmesg_without_midr()}, 2,
     ("may differ from what was printed", "MIDR", "--lenient")),
    ("hexdump repeat to 2 GiB", ["decode", "--as", "acpidump", "{d}/f"],
     {F: b"00000000  43 50 45 52 00 00 00 00  00 00 00 00 00 00 00 00  |CPER............|\n*\n"
         b"7ffffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"}, 2, ("nothing decoded",)),
    ("rasdaemon text of nothing", ["decode", "--as", "rasdaemon", "{d}/f"], {F: b"$ ras-mc-ctl --summary\n"}, 2,
     ("nothing decoded",)),
    # registers
    ("register value not a number", ["decode", "esr", "zz"], {}, 2, ("not a number",)),
    ("register value too wide", ["decode", "esr", "0x10000000000000000"], {}, 2, ("ESR",)),
    ("register value negative", ["decode", "esr", "-1"], {}, 2, ("does not fit",)),
    ("register unknown", ["decode", "foo_el9", "1"], {}, 2, ("foo_el9",)),
    ("register without value", ["decode", "esr"], {}, 2, ("usage",)),
    # convert: outputs the environment refuses
    ("convert to rasdaemon-db without --out", ["convert", "--to", "rasdaemon-db", "{d}/f"], {F: SAMPLE}, 2,
     ("needs --out",)),
    ("convert ACPI only", ["convert", "--to", "json", "{d}/f"], {F: HEST}, 2, ("no CPER records",)),
    ("convert --out a directory", ["convert", "--to", "json", "--out", "{d}", "{d}/f"], {F: SAMPLE}, 1,
     ("Is a directory",)),
    ("convert --out under a file", ["convert", "--to", "json", "--out", "{d}/f/x.json", "{d}/f"], {F: SAMPLE}, 1,
     ("Not a directory",)),
    ("convert --out a full disk", ["convert", "--to", "json", "--out", "/dev/full", "{d}/f"], {F: SAMPLE}, 1,
     ("No space left",)),
    ("convert --out in a missing directory", ["convert", "--to", "kernel-log", "--out", "{d}/no/x", "{d}/f"],
     {F: SAMPLE}, 1, ("No such file",)),
    # scenario files
    ("unknown scenario", ["run", "no-such-scenario"], {}, 2, ("no-such-scenario",)),
    ("scenario not UTF-8", ["run", "{d}/s.toml"], {"s.toml": b'description = "\xff"\n'}, 2, ("UTF-8",)),
    ("scenario nested too deeply", ["run", "{d}/s.toml"], {"s.toml": DEEP_TOML}, 2, ("nested too deeply",)),
    ("scenario TOML syntax", ["run", "{d}/s.toml"], {"s.toml": b"[machine\n"}, 2, ("s.toml:1", "syntax")),
    ("scenario is a directory", ["run", "{d}"], {F: b""}, 2, ("",)),
    ("VM of 4KiB", ["run", "{d}/s.toml"], {"s.toml": _scenario('ram = "512MiB"', 'ram = "4KiB"')}, 2,
     ("vms[0].ram", "minimum 128MiB")),
    ("duration of hours", ["run", "{d}/s.toml"], {"s.toml": _scenario('duration = "5ms"', 'duration = "1000s"')}, 2,
     ("duration", "maximum 100ms")),
    ("GHES polled every ns", ["run", "{d}/s.toml"],
     {"s.toml": _scenario('poll_interval = "1ms"', 'poll_interval = "1ns"')}, 2, ("poll_interval", "100000 polls")),
    ("memory-ce count at 2**32", ["run", "{d}/s.toml"], {"s.toml": _scenario("count = 1", "count = 4294967296")},
     2, ("faults[0].count", "1..1048576")),
    ("scenario unknown key", ["run", "{d}/s.toml"], {"s.toml": _scenario("[machine]", "[machine]\nram_size = 1")},
     2, ("machine.ram_size", "unknown")),
    ("unknown policy", ["run", "--policy", "yolo", "guest-ue-ar"], {}, 2, ("yolo",)),
    ("--trace into a directory", ["run", "--quiet", "--trace", "{d}", "guest-ue-ar"], {F: b""}, 1,
     ("Is a directory",)),
    ("compare unknown policy", ["compare", "--policy", "upstream,yolo", "guest-ue-ar"], {}, 2, ("yolo",)),
    ("compare unknown scenario", ["compare", "nope"], {}, 2, ("nope",)),
    # campaigns
    ("campaign count 2**40", ["campaign", "{d}/c.toml", "--out", "{d}/out"], {"c.toml": _campaign("count = 1099511627776")},
     2, ("count", "10000000")),
    ("campaign --faults 0", ["campaign", "default", "--out", "{d}/out", "--faults", "0"], {}, 2, ("--faults",)),
    ("campaign --faults 2e10", ["campaign", "default", "--out", "{d}/out", "--faults", "20000000000"], {}, 2,
     ("--faults", "10,000,000")),
    ("campaign spec not UTF-8", ["campaign", "{d}/c.toml", "--out", "{d}/out"], {"c.toml": b"count = \xff\n"}, 2,
     ("UTF-8",)),
    ("campaign ce_count beyond the counter", ["campaign", "{d}/c.toml", "--out", "{d}/out"],
     {"c.toml": _campaign("[faults.memory]\nce_count = [1, 4294967296]")}, 2, ("ce_count", "1..1048576")),
    ("campaign --out is a file", ["campaign", "default", "--faults", "10", "--out", "{d}/f"], {F: b"x"}, 1,
     ("f",)),
    ("summary of a missing directory", ["campaign", "summary", "{d}/none"], {}, 2, ("none",)),
    ("summary of a directory of junk", ["campaign", "summary", "{d}/junk"], {"setup": _campaign_dir_of_junk}, 2,
     ("junk",)),
    ("resume of a missing directory", ["campaign", "resume", "{d}/none"], {}, 2, ("none",)),
    # injection and the kernel oracle
    ("inject a file that is not a record", ["inject", "qemu", "--dry-run", "{d}/f"], {F: b"\1" * 64}, 2, ("f",)),
    ("inject a block with nothing in it", ["inject", "qemu", "--dry-run", "{d}/f"], {F: b"\0" * 64}, 2,
     ("no error data entry",)),
    ("inject einj unknown type", ["inject", "einj", "--dry-run", "NOT_A_TYPE"], {}, 2, ("NOT_A_TYPE",)),
    ("verify a missing directory", ["verify", "kernel", "{d}/none"], {}, 2, ("none",)),
]


def _run(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "rasflow.cli", *argv], input=stdin, capture_output=True,
                          timeout=120, env=env)


@pytest.mark.parametrize(("argv", "files", "status", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, argv, files, status, words):
    for name, content in files.items():
        if isinstance(content, Callable):
            content(tmp_path)
            continue
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    p = _run([a.replace("{d}", str(tmp_path)) for a in argv])
    err = p.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert lines, "nothing said"
    if ": error: " not in lines[-1]:  # argparse prints its usage, then one error line
        assert len(lines) == 1, err
    assert p.returncode == status, err
    assert all(w in lines[-1] for w in words), err


def test_there_are_enough_cases():
    assert len(CASES) >= 60
