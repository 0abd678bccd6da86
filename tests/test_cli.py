"""The `rasflow` command as a user runs it: exit statuses, one-line errors, formats."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rasflow import cli
from vectors import VECTORS, vector_files

MEM = vector_files("kernel/memory.all.1.estatus.bin")


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rasflow.cli", *args], input=stdin, capture_output=True, timeout=60)


def test_help_and_unknown_command(capsys):
    assert cli.main(["--help"]) == 0
    assert "decode" in capsys.readouterr().out
    assert cli.main(["decod"]) == 2
    assert "did you mean decode" in capsys.readouterr().err


def test_decode_sample():
    r = run("decode", "--sample")
    assert r.returncode == 0, r.stderr
    assert b"CPER record" in r.stdout


@pytest.mark.skipif(not MEM, reason="../shared/vectors is absent")
def test_decode_formats_and_encode_back(tmp_path):
    path = MEM[0]
    kernel = run("decode", str(path), "--format", "kernel")
    assert kernel.stdout.decode().splitlines() == path.with_name("memory.all.1.kernel.txt").read_text().splitlines()
    js = run("decode", str(path), "--json")
    assert js.returncode == 0
    (tmp_path / "b.json").write_bytes(js.stdout)
    out = tmp_path / "b.bin"
    assert run("encode", str(tmp_path / "b.json"), "--out", str(out)).returncode == 0
    assert out.read_bytes() == path.read_bytes()
    hexed = run("decode", "-", "--format", "kernel", stdin=path.read_bytes().hex().encode())
    assert hexed.stdout == kernel.stdout


@pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors is absent")
def test_libcper_json_in_and_out(tmp_path):
    cperf = VECTORS / "libcper" / "generated" / "memory.all.1.cper"
    lj = run("decode", str(cperf), "--format", "libcper-json")
    assert json.loads(lj.stdout) == json.loads(cperf.with_suffix(".json").read_text())
    out = tmp_path / "r.cper"
    assert run("encode", str(cperf.with_suffix(".json")), "-o", str(out)).returncode == 0
    assert out.read_bytes() == cperf.read_bytes()


def test_bad_input_is_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"CPER" + b"\0" * 10)
    r = run("decode", str(bad))
    assert r.returncode == 2
    err = r.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "bad.bin" in err[0] and "offset" in err[0]
    missing = run("decode", str(tmp_path / "nope.bin"))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    (tmp_path / "x.json").write_text("{not json")
    r = run("encode", str(tmp_path / "x.json"))
    assert r.returncode == 2 and b"x.json:1:2" in r.stderr


def test_decode_acpi_table_json_encode_round_trip(tmp_path):
    from rasflow.formats import acpi

    hest, _ = acpi.qemu_virt_hest(0x7FFF_0000)
    path = tmp_path / "HEST"
    path.write_bytes(hest.encode())
    text = run("decode", str(path))
    assert text.returncode == 0 and b"SEA" in text.stdout and b"GPIO" in text.stdout
    js = run("decode", str(path), "--json")
    (tmp_path / "h.json").write_bytes(js.stdout)
    assert run("encode", str(tmp_path / "h.json"), "-o", str(tmp_path / "again")).returncode == 0
    assert (tmp_path / "again").read_bytes() == hest.encode()
    bad = bytearray(hest.encode())
    bad[9] ^= 0xFF  # checksum
    (tmp_path / "BAD").write_bytes(bytes(bad))
    lenient = run("decode", str(tmp_path / "BAD"))
    assert lenient.returncode == 0 and b"checksum" in lenient.stdout
    strict = run("decode", str(tmp_path / "BAD"), "--strict")
    assert strict.returncode == 2 and b"checksum" in strict.stderr and len(strict.stderr.splitlines()) == 1


def test_decode_tables_directory(tmp_path):
    from rasflow.formats import acpi

    hest, _ = acpi.qemu_virt_hest(0x7FFF_0000)
    (tmp_path / "HEST").write_bytes(hest.encode())
    r = run("decode", str(tmp_path))
    assert r.returncode == 0 and b"HEST" in r.stdout


def test_decode_registers():
    r = run("decode", "esr", "0x96000050", "--json")
    d = json.loads(r.stdout)
    assert r.returncode == 0 and d["EC"] == 0x25 and d["ISS"]["DFSC"] == 0x10
    uer = run("decode", "esr", "0xBE000C11")
    out = uer.stdout.decode()
    assert "UER" in out and "Recoverable" in out and "do_serror" in out and "kvm_handle_guest_serror" in out
    for kind in ("hcr", "scr", "disr", "vsesr", "errstatus", "erraddr", "midr", "mpidr"):
        assert run("decode", kind, "0x1").returncode == 0, kind
    assert run("decode", "esr", "0x1" + "0" * 17).returncode == 2  # does not fit in 64 bits


def test_decode_tables_directory_with_boot_error_region(tmp_path):
    from rasflow.formats import acpi, cper
    from rasflow.formats.cper.memory import CPER_MEM_VALID_PA, CperSecMemErr

    block = cper.build_estatus([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x1234000)],
                               error_severity=1)
    region = block.encode() + bytes(64)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "BERT").write_bytes(region)
    (tmp_path / "BERT").write_bytes(acpi.build_bert(len(region), 0x9000_0000).encode())
    r = run("decode", str(tmp_path), "--format", "kernel")
    assert r.returncode == 0, r.stderr
    assert b"physical_address: 0x0000000001234000" in r.stdout and b"boot error region, 1 status block" in r.stdout


@pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors is absent")
def test_decode_detects_each_container_in_a_mixed_folder(tmp_path):
    picks = {
        "dmesg.txt": VECTORS / "realworld/dmesg/05-arm64-guest-sea-memory-error-memory-failure.txt",
        "hest.txt": VECTORS / "realworld/tables/04-fwts-test-hest-0001-handcrafted-hp-proliant-hest.acpidump.txt",
        "block.bin": VECTORS / "kernel/arm.all.1.estatus.bin",
        "record.cper": VECTORS / "libcper/generated/memory.all.1.cper",
    }
    for name, src in picks.items():
        (tmp_path / name).write_bytes(src.read_bytes())
    r = run("decode", *(str(tmp_path / n) for n in picks))
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, err
    assert "dmesg: 1 decoded, 2 events, 0 skipped" in err and "acpidump: 1 decoded" in err
    assert "Generic Error Status Block" in out and "CPER record" in out and "HEST: 188 bytes" in out


def test_inject_dry_runs(tmp_path):
    from rasflow.formats import cper
    from rasflow.formats.cper.memory import CPER_MEM_VALID_PA, CperSecMemErr

    (tmp_path / "b.bin").write_bytes(cper.build_estatus(
        [CperSecMemErr(validation_bits=CPER_MEM_VALID_PA, physical_addr=0x4000)], error_severity=0).encode())
    q = run("inject", "qemu", str(tmp_path / "b.bin"), "--dry-run")
    assert q.returncode == 0 and b'"execute": "inject-ghes-v2-error"' in q.stdout
    e = run("inject", "einj", "MEMORY_UNCORRECTABLE", "--address", "0x80001000", "--dry-run",
            "--base", str(tmp_path / "no-einj"))
    assert e.returncode == 0 and b"error_inject" in e.stdout
    bad = run("inject", "einj", "nonsense", "--dry-run")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


@pytest.mark.skipif(not MEM, reason="../shared/vectors is absent")
@pytest.mark.parametrize("to", ["json", "kernel-log", "redfish", "rasdaemon-db", "qmp"])
def test_convert_round_trips_through_each_container(tmp_path, to):
    from rasflow.formats import cper

    # rasdaemon keeps memory errors as mc_event rows (not CPER): use an ARM section for it
    src = VECTORS / "kernel" / "arm.all.1.estatus.bin" if to == "rasdaemon-db" else MEM[0]
    out = tmp_path / f"out.{to}"
    r = run("convert", str(src), "--to", to, "--out", str(out))
    assert r.returncode == 0, r.stderr
    back = run("decode", str(out), "--format", "kernel")
    assert back.returncode == 0, back.stderr
    lines = [ln.split("]: ", 1)[-1].strip() for ln in back.stdout.decode().splitlines()]
    expected = [ln.split("]: ", 1)[-1].strip() for ln in cper.render_kernel(cper.decode(src.read_bytes()))]
    if to == "json":
        assert json.loads(out.read_text())[0]["kind"] == "estatus"
    if to == "rasdaemon-db":  # arm_event keeps no severity, timestamp or MIDR: compare from MPIDR on
        first = next(i for i, ln in enumerate(expected) if ln.startswith("Multiprocessor Affinity"))
        assert lines[lines.index(expected[first]):] == expected[first:]
    else:
        assert lines == expected


def test_decode_format_kernel_prints_what_the_strict_decoder_refuses(tmp_path, capsys):
    """The kernel prints a block whose memory section is 20 bytes (cper.c: "error section
    length is too small"); --format kernel reads it as the kernel does and says so, while
    the other formats still refuse it."""
    import struct

    from rasflow.formats import cper
    from rasflow.formats.cper.memory import CPER_MEM_VALID_PA, CperSecMemErr

    raw = bytearray(cper.build_estatus([CperSecMemErr(validation_bits=CPER_MEM_VALID_PA,
                                                      physical_addr=0x1000)], error_severity=0).encode())
    struct.pack_into("<I", raw, 20 + 24, 20)  # error_data_length
    struct.pack_into("<I", raw, 12, 72 + 20)  # data_length
    path = tmp_path / "short.bin"
    path.write_bytes(bytes(raw[:20 + 72 + 20]))
    assert cli.main(["decode", str(path), "--format", "kernel"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-2:] == ["[Hardware Error]:   section_type: memory error",
                                     "[Firmware Warn]: error section length is too small"]
    assert "the strict decoder refuses it" in err and "printed as the kernel reads it" in err
    assert cli.main(["decode", str(path)]) == 2


@pytest.mark.parametrize("make, status, message", [
    (lambda p: p.write_bytes(b'name = "\xff\xfe"\n'), 2, "UTF-8"),
    (lambda p: p.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n"), 2, None),
])
def test_bad_scenario_text_is_one_line(tmp_path, capsys, make, status, message):
    path = tmp_path / "bad.toml"
    make(path)
    assert cli.main(["run", str(path), "--quiet"]) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if message:
        assert message in err


def test_an_output_path_that_is_a_directory_is_one_line(tmp_path, capsys):
    assert cli.main(["run", "guest-ue-ar", "--quiet", "--trace", str(tmp_path)]) in (1, 2)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_nothing_decoded_is_not_a_success(tmp_path, capsys):
    """An empty directory, or text with no record of the kind asked for: one line, status 2."""
    empty = tmp_path / "tables"
    empty.mkdir()
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello world\nnot a log\n")
    assert cli.main(["decode", str(empty)]) == 2
    assert cli.main(["decode", "--as", "dmesg", str(garbage)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rasflow decode: {empty}: no ACPI tables in this directory",
                   f"rasflow decode: {garbage}: nothing decoded as dmesg"]


def test_decode_text_names_what_it_can_and_prints_no_python_reprs(tmp_path, capsys):
    """Issue 18: the BCD timestamp decoded, GUIDs named, events and rasdaemon rows as
    aligned name = value lines in hex, never a Python repr."""
    import fuzzing
    from rasflow.formats import cper
    from rasflow.interop.dmesg import write_dmesg

    assert cli.main(["decode", "--sample"]) == 0
    out = capsys.readouterr().out
    assert "= 0x2026112401093000 (2026-11-24 09:30:00, precise)" in out
    assert "(SEA notification)" in out and "(ARM Processor)" in out and "(Platform Memory)" in out
    log = tmp_path / "dmesg.txt"
    log.write_text(write_dmesg([cper.decode(fuzzing.records()[0].encode())])
                   + "Memory failure: 0x44002: recovery action for dirty LRU page: Recovered\n")
    rows = tmp_path / "ras-mc-ctl.txt"
    rows.write_bytes(fuzzing.RASDAEMON_TEXT)
    for path in (log, rows):
        assert cli.main(["decode", str(path)]) == 0
        out = capsys.readouterr().out
        assert "event " in out
        assert not any(r in out for r in ("{'", "Event(", "RasEvent(", "[{")), out
    assert cli.main(["decode", str(log)]) == 0
    assert "pfn       = 0x44002" in capsys.readouterr().out
