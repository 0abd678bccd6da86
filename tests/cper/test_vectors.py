"""Differential tests against real tools' output: libcper's JSON and the Linux kernel's lines.

Every vector is found by globbing ../shared/vectors; the whole module skips when
the folder is absent. Test ids carry the vector name (``-k memory`` selects a type).
"""

from __future__ import annotations

import json

import pytest

from rasflow.formats import cper
from rasflow.formats.render.kernel import bert_print
from vectors import VECTORS, vector_files

pytestmark = pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors is absent")

LIBCPER_BIN = vector_files("libcper/generated/*.cper")
LIBCPER_HEX = vector_files("libcper/examples/*.cperhex")
KERNEL = vector_files("kernel/*.estatus.bin") + vector_files("kernel-edge/*.estatus.bin")

# Vendor sections libcper decodes that UEFI does not define; rasflow keeps them raw.
VENDOR_ONLY = ("ampere",)


def _ids(paths):
    return [p.name for p in paths]


def _libcper_records():
    out = [(p, p.read_bytes(), p.with_suffix(".json")) for p in LIBCPER_BIN]
    out += [(p, bytes.fromhex("".join(p.read_text().split())), p.with_suffix(".json")) for p in LIBCPER_HEX]
    return out


RECORDS = _libcper_records()


# libcper's own example whose header says more than the file holds: libcper parses the
# buffer it is given; we decode it only leniently, and say what is wrong.
INCONSISTENT = {"nvidia_event_all_types.cperhex": "record_length 568 but the record spans 440 bytes"}


@pytest.mark.parametrize("path,data,js", RECORDS, ids=[r[0].name for r in RECORDS])
def test_libcper_record_decodes_and_round_trips(path, data, js):
    if path.name in INCONSISTENT:
        with pytest.raises(cper.FormatError, match="record_length"):
            cper.decode(data)
        rec = cper.decode(data, lenient=True)
        assert INCONSISTENT[path.name] in rec.check()
    else:
        rec = cper.decode(data)
    assert cper.encode(rec) == data
    assert cper.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec


def _strip_arm_type_names(ir):
    for sec in ir.get("sections", []):
        arm = sec.get("ArmProcessor")
        if not arm:
            continue
        for info in arm.get("errorInfo", []):
            et = info.get("errorType")
            if isinstance(et, dict):
                et.pop("name", None)
    return ir


@pytest.mark.parametrize("path,data,js", RECORDS, ids=[r[0].name for r in RECORDS])
def test_libcper_json_matches(path, data, js):
    if any(v in path.name for v in VENDOR_ONLY):
        pytest.skip("vendor section: rasflow keeps it raw (documented)")
    expected = json.loads(js.read_text())
    ours = cper.to_libcper(cper.decode(data, lenient=path.name in INCONSISTENT))
    assert _strip_arm_type_names(ours) == _strip_arm_type_names(expected)


@pytest.mark.parametrize("path,data,js", RECORDS, ids=[r[0].name for r in RECORDS])
def test_libcper_json_to_bytes_is_stable(path, data, js):
    if any(v in path.name for v in VENDOR_ONLY):
        pytest.skip("vendor section: rasflow keeps it raw (documented)")
    expected = json.loads(js.read_text())
    rec = cper.from_libcper(expected)
    again = cper.to_libcper(cper.decode(cper.encode(rec)))
    assert _strip_arm_type_names(again) == _strip_arm_type_names(json.loads(js.read_text()))


def _expected(path):
    return path.with_name(path.name.replace(".estatus.bin", ".kernel.txt")).read_text().splitlines()


def boot_region(path) -> bytes:
    """The kernel/ vectors were booted five per BERT region, in name order, blocks back to
    back; where the kernel reads past a short section it reads the next block."""
    every = vector_files("kernel/*.estatus.bin")
    if path not in every:
        return path.read_bytes()
    i = every.index(path)
    end = (i // 5 + 1) * 5
    return b"".join(p.read_bytes() for p in every[i:end])


@pytest.mark.parametrize("path", KERNEL, ids=_ids(KERNEL))
def test_kernel_lines(path):
    expected = _expected(path)
    got = bert_print(boot_region(path))
    assert got[: len(expected)] == expected
    assert len(got) == len(expected) or got[len(expected)].startswith(("[Hardware Error]: event severity",
                                                                       "[Hardware Error]: It has been"))


@pytest.mark.parametrize("path", vector_files("kernel/*.estatus.bin"), ids=_ids(vector_files("kernel/*.estatus.bin")))
def test_kernel_block_round_trips_and_renders(path):
    data = path.read_bytes()
    est = cper.decode(data)
    assert cper.encode(est) == data
    region = boot_region(path)
    assert cper.render_kernel(est, after=region[len(data):]) == _expected(path)
