"""Structure-aware fuzzing of every reader and JSON decoder, shared by the tests
(tests/interop/test_fuzz_readers.py, a few hundred inputs per target) and the long run
(bench/fuzz_readers.py, a million).

A target is seed inputs plus a mutator plus the call a user's input reaches: the reader or
decoder, then every printer of what it decoded (so an input that reads fine but prints a
million lines is caught too). The only exceptions a target may raise are its layer's
bad-input errors (``FormatError``; ``ScenarioError`` for scenario and campaign files).
Seeds come from the project's own writers and in-repo vectors, so the run means the same on
a clone without ../shared; the shared real-world logs and tables are added when present.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rasflow.data import sample
from rasflow.formats import FormatError
from vectors import vector_files

HERE = Path(__file__).resolve().parent

# Values that broke readers before: widths beyond a field, offsets beyond the input, counts
# that allocate, text where numbers belong.
WEIRD_NUMBERS = ["0", "-1", "0xffffffff", "4294967295", "0x100000000", "7ffffff0", "999",
                 "0xfff", "18446744073709551616", "99999999999999999999999", "1e9", "0x", "-0x1"]
WEIRD_JSON: list[Any] = [None, [], {}, "", "x", "é", -1, 0, 2**64, 2**31, 1.5, True,
                         "0xffffffff", "A" * 300, [[[[]]]], {"a": {"b": {}}}, 0xFFFFFFFF]
NUMBER = re.compile(rb"0x[0-9a-fA-F]+|[0-9a-fA-F]{4,}|\d+")


# ---- mutators --------------------------------------------------------------------------

def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Bit flips, boundary bytes, truncations, 4-byte splices (as the CPER fuzz does)."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        i = rng.randrange(len(buf))
        op = rng.randrange(5)
        if op == 0:
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[i] = rng.choice([0, 0xFF, 0x7F, 0x80, 0x01])
        elif op == 2:
            del buf[i:]
        elif op == 3:
            buf[i:i + 4] = rng.randbytes(4)
        else:
            buf[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xf0\xff\xff\x7f"])
    return bytes(buf)


def mutate_lines(rng: random.Random, data: bytes) -> bytes:
    """What happens to logs and dumps on their way to us: lines dropped, duplicated,
    swapped, cut or replaced, numbers rewritten, bytes that are not UTF-8, the end cut."""
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.randrange(9)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == 3:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif op == 4:
            lines[i] = lines[rng.randrange(len(lines))]
        elif op in (5, 6):
            nums = list(NUMBER.finditer(lines[i]))
            if nums:
                m = rng.choice(nums)
                new = rng.choice(WEIRD_NUMBERS).encode()
                lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
        elif op == 7:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + rng.choice([b"\xff", b"\x00", b"\xc3", b"*\n", b"\t", b"\r"]) + lines[i][j:]
        else:
            lines = lines[:i + 1]
    return b"".join(lines)


def mutate_json(rng: random.Random, data: bytes) -> bytes:
    """A value replaced by one of the wrong type or size, a key dropped, a list grown;
    now and then a text-level cut, as a hand edit leaves it."""
    try:
        doc = json.loads(data)
    except ValueError:
        return mutate_lines(rng, data)
    for _ in range(rng.randint(1, 3)):
        nodes: list[tuple[Any, Any]] = []
        _walk(doc, nodes)
        if not nodes:
            break
        parent, key = rng.choice(nodes)
        op = rng.randrange(4)
        if op == 0 and isinstance(parent, dict):
            del parent[key]
        elif op == 1 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[key] = copy.deepcopy(rng.choice(WEIRD_JSON))
    out = json.dumps(doc).encode()
    return mutate_lines(rng, out) if rng.random() < 0.1 else out


def _walk(node: Any, out: list[tuple[Any, Any]]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((node, k))
            _walk(v, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((node, i))
            _walk(v, out)


TOML_VALUE = re.compile(rb"^(\s*[A-Za-z_.\"]+\s*=\s*)(.+?)\s*(#.*)?$", re.M)
WEIRD_TOML = [b'"4KiB"', b"0", b"-1", b"1e400", b"2147483647", b"1099511627776", b'"1s"', b'"1000s"',
              b'"x"', b"[]", b"{}", b"true", b"[[[[[[1]]]]]]", b'"0xffffffffffffffff"', b'["SEA", 5]',
              b'"1GiB"', b'"16TiB"', b"4294967296", b'"\xff"']


def mutate_toml(rng: random.Random, data: bytes) -> bytes:
    """Scenario and campaign files: a value replaced by a wrong or extreme one, a line
    dropped or duplicated."""
    for _ in range(rng.randint(1, 3)):
        values = list(TOML_VALUE.finditer(data))
        if not values or rng.random() < 0.2:
            data = mutate_lines(rng, data)
            continue
        m = rng.choice(values)
        data = data[:m.start(2)] + rng.choice(WEIRD_TOML) + data[m.end(2):]
    return data


# ---- seeds -----------------------------------------------------------------------------

@cache
def records() -> list[Any]:
    """A few CPER records and status blocks: the packaged sample, the in-repo kernel
    vectors' blocks and generated blocks of every section type the kernel prints."""
    from interop.blockgen import blocks
    from rasflow.formats import cper

    out: list[Any] = [cper.decode(sample())]
    for b in [p.read_bytes() for p in sorted((HERE / "interop" / "vectors").glob("*/*.estatus.bin"))] + blocks(7, 24):
        try:
            out.append(cper.decode(b))
        except FormatError:  # the kernel vectors include blocks only the kernel's leniency reads
            out.append(cper.decode(b, lenient=True))
    return out


def _tables() -> list[Any]:
    from rasflow.formats.acpi.qemu import qemu_virt_hest

    return [qemu_virt_hest(0x43FE0000)[0], qemu_virt_hest(0x43FE0000, ("SEA", "GPIO", "SEI", "SOFTWARE_DELEGATED", "POLLED"))[0]]


def _shared(pattern: str, step: int = 1) -> list[bytes]:
    return [p.read_bytes() for p in vector_files(pattern)[::step]]


def _seed_dmesg() -> list[bytes]:
    from rasflow.interop.dmesg import write_dmesg

    recs = records()
    out = [p.read_bytes() for p in sorted((HERE / "interop" / "vectors").glob("*/*.kernel.txt"))]
    out += [write_dmesg(recs[i:i + 2]).encode() for i in range(0, len(recs), 2)]
    return out + _shared("realworld/dmesg/*.txt")


def _seed_acpidump() -> list[bytes]:
    from rasflow.interop.acpidump import write_acpidump, write_xp

    hests = _tables()
    out = [write_acpidump(hests).encode(), write_xp(hests[0].encode(), 0x43FE0000).encode()]
    out += [write_xp(r.encode(), 0x43FE1000, width=8).encode() for r in records()[:4]]
    return out + _shared("realworld/tables/*.txt")


def _seed_qmp() -> list[bytes]:
    from rasflow.interop.qemu import write_qmp

    recs = records()
    return [write_qmp(recs[i:i + 3]).encode() for i in range(0, len(recs), 3)]


def _seed_redfish() -> list[bytes]:
    from rasflow.interop.redfish import write_redfish

    recs = records()
    out = [write_redfish(recs[i:i + 3]).encode() for i in range(0, len(recs), 3)]
    out.append(write_redfish(recs[:1], single=True).encode())
    return out + _shared("realworld/redfish/*.json.txt")


def _seed_rasdaemon_db() -> list[bytes]:
    from rasflow.interop.rasdaemon import write_rasdaemon

    recs = records()
    return [write_rasdaemon(recs[i:i + 6]) for i in range(0, len(recs), 6)]


RASDAEMON_TEXT = b"""$ ras-mc-ctl --summary
Memory controller events summary:
         Uncorrected on DIMM Label(s): 'SOCKET 1 CHANNEL 1 DIMM 0 DIMM1' location: 0:18:-1:-1 errors: 1

PCIe AER events summary:
         2 Uncorrected (Non-Fatal) errors: Completion Timeout

ARM processor events summary:
         CPU(mpidr=0x81090100) has 1 errors
No devlink errors.
Memory failure events summary:
         Recovered errors: 24
$ ras-mc-ctl --errors
Memory controller events:
1 2024-01-08 17:49:42 +0800 1 Uncorrected error(s): ue at DIMM1 location: 0:18:-1:-1, addr 4096, grain 1, syndrome 0 APEI location: node:0 card:0 module:0
ARM processor events:
1 2024-01-08 17:49:42 +0800 error: affinity_level=3, mpidr=0x81090100, running_state=0x1, psci_state=0x0
Memory failure events:
1 2024-01-08 17:49:42 +0800 error: pfn=0x44002, page_type=dirty LRU page, action_result=Recovered
"""


def _seed_rasdaemon_text() -> list[bytes]:
    return [RASDAEMON_TEXT, *_shared("realworld/rasdaemon/*.txt")]


def _seed_json() -> list[bytes]:
    from rasflow.formats import acpi

    docs = [r.to_dict() for r in records()[::3]] + [t.to_dict() for t in _tables()]
    docs.append(acpi.decode(_tables()[0].encode()).to_dict())
    return [json.dumps(d).encode() for d in docs]


def _seed_libcper() -> list[bytes]:
    from rasflow.formats import cper

    out = []
    for r in records():
        rec = r if isinstance(r, cper.CperRecord) else cper.estatus_to_record(r)
        out.append(json.dumps(cper.to_libcper(rec)).encode())
    return out + _shared("libcper/generated/*.json", 9)


def _builtin(folder: str) -> list[bytes]:
    import rasflow

    return [p.read_bytes() for p in sorted((Path(rasflow.__file__).parent / folder).glob("*.toml"))]


# ---- what each input reaches -----------------------------------------------------------

OUTPUT_PER_BYTE = 400  # printed characters per input byte a printer may produce
OUTPUT_FLOOR = 200_000


def _print_all(objs: list[Any], size: int) -> None:
    """Every printer a user can ask for; their output bounded by the input's size."""
    from rasflow.formats import cper
    from rasflow.formats.cper.describe import describe

    total = 0
    for obj in objs:
        if isinstance(obj, cper.CperRecord | cper.Estatus):
            obj.to_dict()
            try:
                total += sum(map(len, cper.render_kernel(obj)))
                cper.to_libcper(obj)
            except FormatError:
                pass
            total += sum(map(len, describe(obj)))
        elif hasattr(obj, "to_dict"):
            obj.to_dict()
    assert total <= OUTPUT_FLOOR + OUTPUT_PER_BYTE * size, f"{total} characters printed for {size} input bytes"


def _reader(kind: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from rasflow.interop.readers import read_any

        found = read_any(data, kind=kind, source="fuzz")
        _print_all([i.obj for i in found.items], len(data))
        for ev in found.events:
            str(ev)
    return run


def _json_document(data: bytes) -> None:
    from rasflow.commands.decode import _json_objects

    _print_all(_json_objects(data) or [], len(data))


def _libcper(data: bytes) -> None:
    from rasflow.formats import cper

    try:
        doc = json.loads(data)
    except ValueError:
        return
    _print_all([cper.from_libcper(doc)], len(data))


def _scenario(data: bytes) -> None:
    from rasflow.scenario.spec import parse_scenario

    parse_scenario(data.decode("utf-8", "replace"), "fuzz.toml")


def _campaign(data: bytes) -> None:
    from rasflow.campaign.spec import parse_campaign

    parse_campaign(data.decode("utf-8", "replace"), "fuzz.toml")


def _cper_bytes(data: bytes) -> None:
    from rasflow.formats import cper

    _print_all([cper.decode(data, lenient=True)], len(data))


def _acpi_bytes(data: bytes) -> None:
    from rasflow.formats import acpi

    acpi.describe(acpi.decode(data))


def _scenario_errors() -> tuple[type[Exception], ...]:
    from rasflow.scenario.model import ScenarioError

    return (ScenarioError,)


@dataclass(frozen=True)
class Target:
    name: str
    seeds: Callable[[], list[bytes]]
    mutate: Callable[[random.Random, bytes], bytes]
    run: Callable[[bytes], None]
    allowed: Callable[[], tuple[type[Exception], ...]] = lambda: (FormatError,)


TARGETS = {t.name: t for t in [
    Target("dmesg", _seed_dmesg, mutate_lines, _reader("dmesg")),
    Target("acpidump", _seed_acpidump, mutate_lines, _reader("acpidump")),
    Target("qmp", _seed_qmp, mutate_json, _reader("qmp")),
    Target("redfish", _seed_redfish, mutate_json, _reader("redfish")),
    Target("rasdaemon-db", _seed_rasdaemon_db, mutate_bytes, _reader("rasdaemon")),
    Target("rasdaemon-text", _seed_rasdaemon_text, mutate_lines, _reader("rasdaemon")),
    Target("json", _seed_json, mutate_json, _json_document),
    Target("libcper-json", _seed_libcper, mutate_json, _libcper),
    Target("cper", lambda: [r.encode() for r in records()], mutate_bytes, _cper_bytes),
    Target("acpi", lambda: [t.encode() for t in _tables()], mutate_bytes, _acpi_bytes),
    Target("scenario", lambda: _builtin("scenario/builtin"), mutate_toml, _scenario, _scenario_errors),
    Target("campaign", lambda: _builtin("campaign/builtin"), mutate_toml, _campaign, _scenario_errors),
]}


@cache
def seeds(name: str) -> list[bytes]:
    return TARGETS[name].seeds()


def fuzz_input(name: str, n: int) -> bytes:
    """The n-th input of target ``name``: deterministic, so a failure names its repro."""
    rng = random.Random(f"{name}:{n}")
    return TARGETS[name].mutate(rng, rng.choice(seeds(name)))


def exercise(name: str, data: bytes) -> None:
    """Run one input; a bad-input error of the target's layer is the right answer."""
    target = TARGETS[name]
    try:
        target.run(data)
    except target.allowed() as e:
        assert str(e), "an error with no message"
