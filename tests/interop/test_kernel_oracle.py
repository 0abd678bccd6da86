"""The kernel oracle: cpio, VARS patching, batching, console parsing; a real boot when set up."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rasflow.cli import main as cli_main
from rasflow.formats.render.kernel import bert_print
from rasflow.interop import kernel_oracle as ko
from rasflow.interop import kernel_oracle_ghes as kg
from rasflow.interop import kernel_oracle_sea as ks
from vectors import VECTORS, vector_files

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
    assert [len(b) for b in ko.batches([b"x"] * 12, ko.BERT_MAX_PER_BOOT)] == [5, 5, 2]


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
    vec = [VECTORS / "kernel" / n for n in ("memory.random.1.estatus.bin", "arm.all.1.estatus.bin")]
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
    assert out.splitlines()[-1] == \
        "10 records: 10 same, 0 different, 0 not compared (boot failed), 0 refused", out
    assert status == 0


def test_setup_refuses_without_root(tmp_path, monkeypatch):
    monkeypatch.setattr(ko.os, "geteuid", lambda: 1000)
    with pytest.raises(ko.OracleError, match="needs root"):
        ko.setup(tmp_path / "cache", log=lambda m: None)


# --- bert_print: bert.c's truncation, size and count limits ------------------------------


def _edge(name: str) -> bytes:
    vec = vector_files(f"kernel-edge/{name}.estatus.bin")
    if not vec:
        pytest.skip("../shared/vectors/kernel-edge is absent")
    return vec[0].read_bytes()


def test_bert_print_truncated_status_block():
    block = bytearray(_edge("01_mem_corrected"))
    block[12:16] = (int.from_bytes(block[12:16], "little") + 64).to_bytes(4, "little")  # data_length past the region
    # what the real kernel printed for this block (rasflow verify kernel --raw)
    assert bert_print(bytes(block)) == ["BERT: [Firmware Bug]: Truncated status block (length: 236)."]
    good = _edge("01_mem_corrected")
    lines = bert_print(good + bytes(block))
    assert lines[:-1] == bert_print(good) and lines[-1].endswith("(length: 236).")
    # raw data counts by raw_data_length (cper_estatus_len), checked before block_status
    raw = bytearray(20)
    raw[4:8], raw[8:12] = (20).to_bytes(4, "little"), (40).to_bytes(4, "little")
    assert bert_print(bytes(raw)) == ["BERT: [Firmware Bug]: Truncated status block (length: 60)."]


def test_bert_print_limits():
    good = _edge("01_mem_corrected")
    one = bert_print(good)
    assert bert_print(good * 7) == one * 5 + ["BERT: [Hardware Error]: Skipped 2 error records"]


# --- GHES and SEA modes: the parts that need no QEMU -------------------------------------


def test_devmem_writes():
    lines = kg.devmem_writes(0x1000, bytes(range(1, 9)) + bytes(8) + b"\x07")
    assert lines == ["$B devmem 0x1010 64 0x7", "$B devmem 0x1000 64 0x807060504030201"]  # block_status last
    assert kg.devmem_writes(0x1000, b"\x01", stale=24) == [
        "$B devmem 0x1008 64 0x0", "$B devmem 0x1010 64 0x0", "$B devmem 0x1000 64 0x1"]


def _block(severity: int, tag: int = 0) -> bytes:
    from rasflow.formats import cper
    from rasflow.formats.cper.memory import CperSecMemErr

    sec = CperSecMemErr(**{**{f: 0 for f in CperSecMemErr._fields}, "tail": b"",
                           "validation_bits": 0x2, "physical_addr": 0x7E000000 + tag * 0x1000})
    return cper.build_estatus([sec], error_severity=severity).encode()


def test_plan_boots_respects_rate_limits_cache_and_panics():
    cor, rec, fatal, info = (_block(s) for s in (2, 0, 1, 3))
    blocks = [cor, _block(2, 1), _block(2, 2), rec, fatal, info, _block(0, 1), _block(0, 2), cor, bytes(32)]
    assert [kg.print_class(b, 4096) for b in (cor, rec, fatal, info, bytes(32))] == [
        "corrected", "uncorrected", "panic", "corrected", "empty"]
    bad = bytearray(cor)
    bad[12:16] = (10).to_bytes(4, "little")
    assert kg.print_class(bytes(bad), 4096) == "invalid" and kg.print_class(cor, 40) == "invalid"
    plan = kg.plan_boots(blocks, 4096)
    assert sorted(i for b in plan for i in b) == list(range(len(blocks)))
    for boot in plan:
        classes = [kg.print_class(blocks[i], 4096) for i in boot]
        assert classes.count("corrected") <= 2 and classes.count("uncorrected") <= 2
        assert "panic" not in classes[:-1]
        assert len({blocks[i] for i in boot}) == len(boot)


def test_ghes_hest_replaces_qemus():
    from rasflow.formats import acpi

    raw = kg.ghes_hest(3)
    hest = acpi.decode(raw, strict=True)
    assert raw[10:24] == b"BOCHS BXPC    " and hest.header.oem_revision == 2  # > QEMU's 1: the upgrade takes it
    assert [(s.TYPE, s.source_id, s.notify_type, s.notify_poll_interval, s.error_status_address_address,
             s.error_block_length) for s in hest.sources] == [
        (9, i, 0, kg.POLL_MS, kg.POLL_SLOTS + 8 * i, kg.POLL_BLOCK_LENGTH) for i in range(3)]
    with pytest.raises(ko.OracleError):
        kg.ghes_hest(16)
    init = kg.ghes_init([_block(2)])
    assert f"$B devmem {kg.POLL_SLOTS:#x} 64 {kg.POLL_BLOCKS:#x}" in init and init.index("RASFLOW-DMESG-0") < init.index("dmesg -c\necho RASFLOW-END-0")


def test_ghes_expect():
    from rasflow.formats import cper
    from rasflow.formats.render.kernel import ghes_print_estatus

    block = _block(0)
    lines, took = kg.ghes_expect(block, 3, 7)
    assert took and lines == ghes_print_estatus(cper.decode(block), 3, 7)
    assert lines[0] == "{7}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 3"
    assert kg.ghes_expect(block, 0, 1, block_length=40) == (["[Firmware Warn]: GHES: Invalid error status block length!"], False)
    assert kg.ghes_expect(bytes(64), 0, 1) == ([], False)
    bad = bytearray(block)
    bad[12:16] = (10).to_bytes(4, "little")
    assert kg.ghes_expect(bytes(bad), 0, 1) == (["[Firmware Warn]: GHES: Invalid CPER header!"], False)
    kept = kg.ghes_lines(["{1}[Hardware Error]: x", "Memory failure: 0x7e000: ...", "[Firmware Warn]: GHES: Invalid CPER header!",
                          "[Firmware Warn]: GHES: Unhandled processor error type 0x08: bus error"])
    assert kept == ["{1}[Hardware Error]: x", "[Firmware Warn]: GHES: Invalid CPER header!"]


def test_record_chunks():
    console = "\n".join([
        "\x1b[2J\x1b[01;01HRASFLOW-BOOT-BEGIN", "[    0.1] ACPI: Table Upgrade: override [HEST-BOCHS -BXPC    ]",
        "RASFLOW-BOOT-END", "RASFLOW-REC-0", "Bus error", "RASFLOW-DMESG-0", "[    2.5] {1}[Hardware Error]: a",
        "[    2.6] GHES GHES.0: [Hardware Error]: GHES: busybox:158: synchronous unrecoverable error (SIGBUS)",
        "RASFLOW-END-0", "RASFLOW-REC-1", "RASFLOW-DMESG-1", "RASFLOW-END-1", "RASFLOW-REC-2",
        "[    3.0] {2}[Hardware Error]: b", "[    3.1] Kernel panic - not syncing: GHES: Fatal hardware error",
        "[    3.2] Call trace:", ""])
    boot, chunks = kg.record_chunks(console, 4)
    assert boot == ["ACPI: Table Upgrade: override [HEST-BOCHS -BXPC    ]"]
    assert chunks[1] == [] and chunks[3] is None
    assert kg.mask_pids(chunks[0]) == [
        "{1}[Hardware Error]: a", "GHES GHES.0: [Hardware Error]: GHES: busybox:PID: synchronous unrecoverable error (SIGBUS)"]
    assert chunks[2] == ["{2}[Hardware Error]: b", "Kernel panic - not syncing: GHES: Fatal hardware error"]
    assert kg.mask_pids(["{1}[Hardware Error]:   node:0 bank:1 row:2 column:3 "]) == ["{1}[Hardware Error]:   node:0 bank:1 row:2 column:3 "]
    with pytest.raises(ko.OracleError, match="hardware_errors"):
        kg.record_chunks("RASFLOW-LAYOUT-MISMATCH\n", 1)
    with pytest.raises(ko.OracleError, match="no /init output"):
        kg.record_chunks("Kernel panic\n", 1)


def test_sea_model_harness():
    vec = vector_files("kernel-sea/pub-mem-rec-pa-free.estatus.bin")
    if not vec:
        pytest.skip("../shared/vectors/kernel-sea is absent")
    data = vec[0].read_bytes()
    want = vec[0].with_name("pub-mem-rec-pa-free.kernel.txt").read_text().splitlines()
    first, again = ks.model_lines([data, data])
    assert first == want
    assert again == []  # the estatus cache drops the same block seconds later, as the real kernel did
    init = ks.sea_init([data, data[:40]])
    assert init.count(f"$B devmem {ks.UNBACKED_REAL:#x}\n") == 2 and f"$B devmem {ks.SEA_ACK:#x} 64 0" in init


def test_verify_modes_in_the_cli():
    from rasflow.commands import verify

    assert verify.MODES == ("bert", "ghes", "sea")
    assert verify.parser().parse_args(["kernel", "--mode", "sea"]).mode == "sea"


# --- the real kernel: GHES (polled) and SEA ----------------------------------------------

NEEDS_SETUP = pytest.mark.skipif(ko.ready() is None,
                                 reason="kernel oracle not set up: run `rasflow verify kernel --setup` (root)")


@NEEDS_SETUP
def test_real_kernel_ghes_agrees(capsys):
    picks = [*vector_files("kernel/memory.all.1.estatus.bin"), *vector_files("kernel/arm.all.2.estatus.bin"),
             *(vector_files(f"kernel-edge/{n}.estatus.bin")[0] for n in ("02_arm_recoverable", "06_invalid_length", "07_mem_fatal")
               if vector_files(f"kernel-edge/{n}.estatus.bin"))]
    if len(picks) < 5:
        pytest.skip("../shared/vectors is absent")
    status = cli_main(["verify", "kernel", "--mode", "ghes", "--raw", *map(str, picks)])  # one boot
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == \
        "5 records: 5 same, 0 different, 0 not compared (boot failed), 0 refused", out
    assert "  {1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0" in out
    assert "  [Firmware Warn]: GHES: Failed to read error status block!" in out  # 06: cper_estatus_check
    assert "  {4}[Hardware Error]: event severity: fatal" in out  # printed, then the panic
    assert status == 0


@NEEDS_SETUP
def test_real_kernel_sea_agrees_with_the_model(capsys):
    names = ("pub-mem-cor-pa", "pub-arm-bus-rec", "pub-arm-cache-rec-pa", "pub-mem-rec-nopa")
    picks = [p for n in names for p in vector_files(f"kernel-sea/{n}.estatus.bin")]
    picks += vector_files("kernel-edge/07_mem_fatal.estatus.bin")
    if len(picks) < 5:
        pytest.skip("../shared/vectors is absent")
    status = cli_main(["verify", "kernel", "--mode", "sea", *map(str, picks)])  # two boots
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == \
        "5 records: 5 same, 0 different, 0 not compared (boot failed), 0 refused", out
    assert "  Memory failure: 0x7e001: recovery action for free buddy page: Recovered" in out
    assert "  GHES GHES.0: [Hardware Error]: GHES: busybox:PID: synchronous unrecoverable error (SIGBUS)" in out
    assert "  Kernel panic - not syncing: GHES: Fatal hardware error" in out
    assert status == 0


# --- the harness, without a boot --------------------------------------------------------

def test_a_directory_gives_its_record_files_only(tmp_path):
    from rasflow.commands.verify import _files

    for name in ("a.estatus.bin", "b.cper", "README.md", "expected.json", "gen.py", "c.kernel.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.rsplit("/", 1)[1] for p in _files([str(tmp_path)])] == ["a.estatus.bin", "b.cper"]


def test_a_refused_input_is_reported_and_the_others_still_run(tmp_path):
    from importlib.resources import files

    from rasflow.commands.verify import load_blocks

    good = tmp_path / "good.cper"
    good.write_bytes((files("rasflow.data") / "sample.cper").read_bytes())
    bad = tmp_path / "bad.cper"
    bad.write_bytes(b"CPER" + bytes(20))
    items, refused = load_blocks([str(good), str(bad)])
    assert [n for n, _ in items] == [str(good)]
    assert [n for n, _ in refused] == [str(bad)] and "--raw" in refused[0][1]


def test_the_exit_status_says_what_happened(capsys):
    from rasflow.commands.verify import EXIT_BOOT_FAILED, EXIT_DIFFERENT, EXIT_REFUSED, report

    same = ko.RecordResult("a", ["x"], ["x"])
    diff = ko.RecordResult("b", ["x"], ["y"], ["-y", "+x"])
    timeout = ko.RecordResult("c", [], ["y"], [], "boot timed out after 120 s")
    assert report([same], []) == 0
    assert report([same, diff], []) == EXIT_DIFFERENT
    assert report([same, diff], [("d", "not a record")]) == EXIT_REFUSED
    assert report([same, timeout], [("d", "not a record")]) == EXIT_BOOT_FAILED
    out = capsys.readouterr().out
    assert "-- not compared: the boot failed: boot timed out after 120 s" in out
    assert out.splitlines()[-1] == "3 records: 1 same, 0 different, 1 not compared (boot failed), 1 refused"


def test_bert_boots_hold_one_block_by_default_and_name_their_neighbours():
    assert ko.batches([b"a", b"b", b"c"]) == [[b"a"], [b"b"], [b"c"]]
    assert ko.batches([b"a", b"b", b"c"], 2) == [[b"a", b"b"], [b"c"]]
    with pytest.raises(ko.OracleError):
        ko.batches([b"a"], 6)
    r = ko.compare_boot(["x", "y"], [b"", b""], [], "")
    assert [x.neighbours for x in r] == [["y"], ["x"]]


SEA_VECTORS = sorted((Path(__file__).parent / "vectors" / "sea").glob("*.estatus.bin"))


@pytest.mark.parametrize("path", SEA_VECTORS, ids=lambda p: p.name.split(".")[0])
def test_sea_model_prints_what_the_real_kernel_printed(path):
    """Blocks whose lines the real 6.12 kernel gave in SEA mode (`verify kernel --mode sea`,
    captured in the .kernel.txt beside them): PA 0 on QEMU virt has a struct page but no
    online page; a page at the start of RAM is the kernel's, unhandlable."""
    expected = path.with_name(path.name.replace(".estatus.bin", ".kernel.txt")).read_text().splitlines()
    assert ks.model_lines([path.read_bytes()]) == [expected]


def test_a_crashed_boot_says_where_the_kernel_died():
    console = ("[    1.248469] Internal error: Oops: 0000000096000007 [#1] SMP\r\n"
               "[    1.251755] Call trace:\r\n[    1.251854]  hex_dump_to_buffer+0x348/0x488\r\n"
               "[    1.323776] Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\r\n")
    with pytest.raises(ko.OracleError) as e:
        ko.console_lines(console)
    assert str(e.value) == ("the kernel crashed: Internal error: Oops: 0000000096000007 [#1] SMP "
                            "in hex_dump_to_buffer+0x348/0x488")


def test_console_lines_keep_a_records_own_control_bytes():
    """A \\r or \\x1c in FRU text is the record's, not a line end (only the console's \\r\\n is)."""
    console = (f"{ko.BEGIN}\r\n[    1.0] [Hardware Error]:  fru_text: \rA\x1cB\r\n{ko.END}\r\n")
    assert ko.console_lines(console) == ["[Hardware Error]:  fru_text: \rA\x1cB"]


BERT_VECTORS = sorted((Path(__file__).parent / "vectors" / "bert").glob("*.estatus.bin"))


@pytest.mark.parametrize("path", BERT_VECTORS, ids=lambda p: p.name.split(".")[0])
def test_generated_blocks_print_as_the_real_kernel_printed_them(path):
    """Blocks from tests/interop/blockgen.py (seed 1) that once differed, each with the lines
    the real 6.12 kernel printed for it alone in a BERT region (`verify kernel --raw`): an
    entry revision 0x0400, FRU text holding \\r or \\x1c, a short firmware error record
    reference, severities above 0xFFFF, CXL events."""
    expected = path.with_name(path.name.replace(".estatus.bin", ".kernel.txt")).read_bytes()
    assert bert_print(path.read_bytes()) == expected.decode("latin-1").split("\n")[:-1]


@pytest.mark.skipif(ko.ready() is None, reason="kernel oracle not set up: run `rasflow verify kernel --setup` (root)")
def test_freshly_generated_blocks_print_as_the_real_kernel_prints_them(tmp_path, capsys):
    """A differential run: blocks no one has seen (blockgen, a fixed seed), one per boot;
    none may differ (a kernel that crashes on one is 'not compared', and says where)."""
    from interop.blockgen import blocks

    for i, block in enumerate(blocks(20261207, 10)):
        (tmp_path / f"b{i:02d}.estatus.bin").write_bytes(block)
    status = cli_main(["verify", "kernel", "--raw", "--quiet", str(tmp_path)])
    out = capsys.readouterr().out
    assert ", 0 different," in out.splitlines()[-1], out
    assert status in (0, 3), out
