"""EINJ debugfs driver against a fake debugfs directory."""

from __future__ import annotations

import pytest

from rasflow.interop import einj

AVAILABLE = "0x00000002\tProcessor Uncorrectable non-fatal\n0x00000008\tMemory Correctable\n" \
            "0x00000010\tMemory Uncorrectable non-fatal\n"
FILES = ["available_error_type", "error_type", "error_inject", "flags", "notrigger",
         "param1", "param2", "param3", "param4"]


@pytest.fixture
def fake(tmp_path):
    base = tmp_path / "einj"
    base.mkdir()
    for name in FILES:
        (base / name).write_text(AVAILABLE if name == "available_error_type" else "0x0\n")
    return base


def test_type_mask_names_bits_and_masks():
    assert einj.type_mask("MEMORY_CORRECTABLE") == 0x8
    assert einj.type_mask("memory-uncorrectable") == 0x10
    assert einj.type_mask("bit3") == 0x8
    assert einj.type_mask("0x8") == 0x8
    assert einj.type_mask(0x20) == 0x20
    assert einj.type_name(0x10) == "MEMORY_UNCORRECTABLE"
    with pytest.raises(einj.EinjError, match="unknown EINJ error type 'FOO'"):
        einj.type_mask("FOO")
    with pytest.raises(einj.EinjError, match="32-bit mask"):
        einj.type_mask(0)


def test_parse_available():
    assert einj.parse_available(AVAILABLE) == {
        0x2: "Processor Uncorrectable non-fatal", 0x8: "Memory Correctable",
        0x10: "Memory Uncorrectable non-fatal"}


def test_plan_order_and_values(tmp_path):
    w = einj.plan("MEMORY_CORRECTABLE", address=0x12345000, base="/x")
    assert [(x.file, x.value) for x in w] == [
        ("/x/error_type", "0x8"), ("/x/flags", "0x2"), ("/x/param1", "0x12345000"),
        ("/x/param2", "0xfffffffffffff000"), ("/x/notrigger", "0"), ("/x/error_inject", "1")]
    assert einj.format_plan(w).splitlines()[0] == "echo 0x8 > /x/error_type"
    w = einj.plan(0x2, apicid=3, sbdf=0x100, notrigger=True, base="/x")
    assert [x.value for x in w] == ["0x2", "0x5", "0x3", "0x100", "1", "1"]
    with pytest.raises(einj.EinjError, match="mask was given without an address"):
        einj.plan(0x8, mask=0xFFF)


def test_inject_writes_in_order(fake):
    writes = einj.inject("MEMORY_UNCORRECTABLE", address=0x7E000000, mask=0xFFFFFFFFFFFFFFC0,
                         base=fake, euid=0)
    assert [w.file.rsplit("/", 1)[1] for w in writes][-1] == "error_inject"
    assert (fake / "error_type").read_text() == "0x10\n"
    assert (fake / "flags").read_text() == "0x2\n"
    assert (fake / "param1").read_text() == "0x7e000000\n"
    assert (fake / "param2").read_text() == "0xffffffffffffffc0\n"
    assert (fake / "error_inject").read_text() == "1\n"
    assert (fake / "param3").read_text() == "0x0\n"  # untouched


def test_dry_run_touches_nothing(fake):
    writes = einj.inject("MEMORY_CORRECTABLE", address=0x1000, base=fake, dry_run=True, euid=1000)
    assert len(writes) == 6
    assert (fake / "error_type").read_text() == "0x0\n"
    with pytest.raises(einj.EinjError, match="not available"):
        einj.inject("PCIE_FATAL", base=fake, dry_run=True)
    # no EINJ directory: a dry run still plans
    assert einj.inject(0x8, base=fake / "absent", dry_run=True)[0].value == "0x8"


def test_refusals(fake, tmp_path):
    with pytest.raises(einj.EinjError, match="needs root .* uid 1000"):
        einj.inject(0x8, base=fake, euid=1000)
    with pytest.raises(einj.EinjError, match="no EINJ interface at .*modprobe einj"):
        einj.inject(0x8, base=tmp_path / "absent", euid=0)
    with pytest.raises(einj.EinjError, match=r"0x100 \(PCIE_FATAL\) is not in .*available: 0x2"):
        einj.inject("PCIE_FATAL", base=fake, euid=0)
    assert (fake / "error_inject").read_text() == "0x0\n"
    (fake / "param4").unlink()
    with pytest.raises(einj.EinjError, match="param4 does not exist"):
        einj.inject(0x8, sbdf=1, base=fake, euid=0)
    assert (fake / "error_type").read_text() == "0x0\n"  # nothing written
