"""The kernel oracle: cpio, VARS patching, batching, console parsing; a real boot when set up."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rasflow.cli import main as cli_main
from rasflow.formats.render.kernel import bert_print
from rasflow.interop import kernel_oracle as ko
from vectors import vector_files

HERE = Path(__file__).parent
CONSOLE = HERE / "kernel_console_bert.txt"  # our own capture: memory.random.1 + arm.all.1 in one boot


def _parse_newc(data: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    out, pos = [], 0
    while True:
        assert data[pos : pos + 6] == b"070701"
        f = [int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        nlen, size = f[11], f[6]
        name = data[pos + 110 : pos + 110 + nlen - 1].decode()
        pos = (pos + 110 + nlen + 3) & ~3
        body = data[pos : pos + size]
        pos = (pos + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out.append((name, f[1], body, (f[9], f[10])))


def test_cpio_newc_roundtrip():
    data = ko.cpio_newc([("d", 0o040755, b""), ("d/f", 0o100644, b"abcde"), ("l", 0o120777, b"d/f")])
    assert len(data) % 4 == 0
    assert _parse_newc(data) == [("d", 0o040755, b"", (0, 0)), ("d/f", 0o100644, b"abcde", (0, 0)),
                                 ("l", 0o120777, b"d/f", (0, 0))]


def test_table_cpio_and_initramfs():
    aml = b"BERT" + bytes(44)
    t = ko.table_cpio(aml + b"x")
    assert len(t) % 4 == 0
    assert ("kernel/firmware/acpi/BERT.aml", 0o100644, aml + b"x", (0, 0)) in _parse_newc(t)
    entries = {e[0]: e for e in _parse_newc(gzip.decompress(ko.initramfs(b"\x7fELF")))}
    assert entries["dev/console"][1:] == (0o020600, b"", (5, 1))
    assert entries["bin/busybox"][2] == b"\x7fELF"
    assert b"dmesg" in entries["init"][2] and entries["init"][2].startswith(b"#!/bin/sh")


def test_patch_vars_and_batches():
    vars_ = bytes(0x02000000)
    out = ko.patch_vars(vars_, b"\x01\x02\x03")
    assert len(out) == len(vars_) and out[0x01000000 : 0x01000003] == b"\x01\x02\x03"
    assert out.count(0) == len(vars_) - 3
    with pytest.raises(ko.OracleError):
        ko.patch_vars(bytes(16), b"x")
    assert [len(b) for b in ko.batches([b"x"] * 12)] == [5, 5, 2]


def test_newest_kernel_package():
    names = ["linux-image-6.1.0-40-cloud-arm64-unsigned", "linux-image-6.12.117+deb12-cloud-arm64-unsigned",
             "linux-image-6.12.9+deb12-cloud-arm64-unsigned", "linux-image-cloud-arm64"]
    assert ko.newest_kernel_package(names) == "linux-image-6.12.117+deb12-cloud-arm64-unsigned"
    with pytest.raises(ko.OracleError):
        ko.newest_kernel_package(["busybox"])


def test_console_parsing_matches_our_rendering():
    lines = ko.console_lines(CONSOLE.read_text())
    assert lines[0] == "[Hardware Error]: It has been corrected by h/w and requires no further action"
    assert not any(x.startswith("BERT: ") for x in lines)  # banner and total are cut
    chunks = ko.split_records(lines)
    assert len(chunks) == 2 and "event severity:" in chunks[0][1] and chunks[1][0] == lines[0]
    vec = [HERE.parents[1].parent / "shared/vectors/kernel" / n for n in ("memory.random.1.estatus.bin", "arm.all.1.estatus.bin")]
    if not all(p.is_file() for p in vec):
        pytest.skip("../shared/vectors/kernel is absent")
    assert lines == bert_print(b"".join(p.read_bytes() for p in vec))
    res = ko.compare_boot(["a", "b"], [p.read_bytes() for p in vec], lines)
    assert [r.diff for r in res] == [[], []]
    assert ko.compare_boot(["a", "b"], [p.read_bytes() for p in vec], lines[:-1])[1].diff


def test_console_without_markers():
    with pytest.raises(ko.OracleError, match="markers"):
        ko.console_lines("Kernel panic - not syncing\n")


def test_verify_needs_setup(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    vec = vector_files("kernel/memory.random.1.estatus.bin")
    if not vec:
        pytest.skip("../shared/vectors/kernel is absent")
    assert cli_main(["verify", "kernel", str(vec[0])]) == 2
    assert "rasflow verify kernel --setup" in capsys.readouterr().err


@pytest.mark.skipif(ko.ready() is None, reason="kernel oracle not set up: run `rasflow verify kernel --setup` (root)")
def test_real_kernel_agrees(capsys):
    picks = [p for kind in ("memory", "arm", "pcie", "generic", "firmware")
             for p in vector_files(f"kernel/{kind}.*.estatus.bin")[:2]]
    if len(picks) < 10:
        pytest.skip("../shared/vectors/kernel is absent")
    status = cli_main(["verify", "kernel", "--quiet", *map(str, picks)])
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "10 records, 0 differences", out
    assert status == 0


def test_setup_refuses_without_root(tmp_path, monkeypatch):
    monkeypatch.setattr(ko.os, "geteuid", lambda: 1000)
    with pytest.raises(ko.OracleError, match="needs root"):
        ko.setup(tmp_path / "cache", log=lambda m: None)
