"""Kernel log reader: kernel-vector round trips, every realworld/dmesg file, damage and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasflow.data import sample
from rasflow.formats import cper
from rasflow.formats.cper import guids as g
from rasflow.formats.cper.sections import RawSection
from rasflow.interop.dmesg import read_dmesg, sniff_dmesg, write_dmesg
from vectors import VECTORS

VEC = VECTORS
KERNEL_TXT = sorted((VEC / "kernel").glob("*.kernel.txt")) if (VEC / "kernel").is_dir() else []
DMESG = VEC / "realworld" / "dmesg"
pytestmark = pytest.mark.skipif(not VEC.is_dir(), reason="../shared/vectors is absent")

FATAL, RECOV, CORR = 1, 0, 2
MEM, PCIE, ARM, PROC, FW, IA = (g.CPER_SEC_PLATFORM_MEM, g.CPER_SEC_PCIE, g.CPER_SEC_PROC_ARM,
                                g.CPER_SEC_PROC_GENERIC, g.CPER_SEC_FW_ERR_REC_REF, g.CPER_SEC_PROC_IA)
CXL_GM = bytes(__import__("uuid").UUID("fbcd0a77-c260-417f-85a9-088b1621eba6").bytes_le)


def _addr(body) -> int | None:
    """The address a section carries (memory PA, ARM error-info PA), when valid."""
    if hasattr(body, "physical_addr"):
        return body.physical_addr if body.validation_bits & 2 else None
    if hasattr(body, "err_info"):
        pas = [e.physical_fault_addr for e in body.err_info if e.validation_bits & 0x10]
        return pas[0] if pas else None
    return None


@pytest.mark.parametrize("txt", KERNEL_TXT, ids=lambda p: p.name.removesuffix(".kernel.txt"))
def test_kernel_vector_round_trip(txt: Path) -> None:
    lines = [ln for ln in txt.read_text("utf-8", "replace").splitlines() if "[Hardware Error]" in ln]
    res = read_dmesg("\n".join(lines), source=txt.name)
    assert not res.skipped, [str(s) for s in res.skipped]
    assert len(res.records) == 1
    rec = res.records[0]
    # the lines again, byte for byte
    assert cper.render_kernel(rec.estatus) == lines
    # and the fields the kernel printed equal the block the kernel was given
    want = cper.decode(txt.with_name(txt.name.replace(".kernel.txt", ".estatus.bin")).read_bytes())
    assert rec.estatus.block.error_severity == want.block.error_severity
    assert len(rec.estatus.entries) == len(want.entries)
    for got, exp in zip(rec.estatus.entries, want.entries, strict=True):
        assert got.header.section_type == exp.header.section_type
        assert got.header.error_severity == exp.header.error_severity
        assert _addr(got.body) == _addr(exp.body)
        if isinstance(exp.body, RawSection):
            assert got.body.encode() == exp.body.encode()


# file prefix -> ([(seq, source_id, block severity, [(section guid, severity, address)])], events by kind, skipped)
REALWORLD: dict[str, tuple[list, dict[str, int], int]] = {
    "01": ([(763, 11, FATAL, [(PCIE, FATAL, None)])], {}, 0),
    "02": ([(24, 10, FATAL, [(PCIE, FATAL, None)])], {}, 0),
    "03": ([(1, 1, FATAL, [(PCIE, FATAL, None)])], {}, 0),
    "04": ([(3, 308, RECOV, [(MEM, RECOV, 0xAECCDE180)])], {"memory_failure": 3}, 0),
    "05": ([(1, 8, RECOV, [(MEM, RECOV, 0x40FA6000)])], {"memory_failure": 2}, 0),
    "06": ([(1, 0, RECOV, [(PROC, RECOV, None)])], {"memory_failure": 2}, 1),
    "07": ([(57, 9, RECOV, [(ARM, RECOV, 0x1000093C00)]), (59, 9, RECOV, [(ARM, RECOV, 0x1000093C00)])],
           {"memory_failure": 3, "suppressed": 1}, 0),
    "08": ([(1, None, RECOV, [(ARM, RECOV, 0x5CDFD492)])], {"firmware_warn": 4}, 0),
    "09": ([(1, 0, RECOV, [(ARM, RECOV, 0xDEADBEEF)])], {"memory_failure": 1}, 0),
    "10": ([(2, 1, RECOV, [(ARM, RECOV, None)])], {"memory_failure": 1}, 0),
    "11": ([(None, 1, RECOV, [(ARM, RECOV, None)])], {}, 0),
    "12": ([], {"memory_failure": 2}, 20),
    "13": ([(3, 2, CORR, [(MEM, CORR, 0x93724C020)])], {}, 0),
    "14": ([(2, 2, CORR, [(MEM, CORR, 0x8D2EF4020)])], {}, 0),
    "15": ([], {}, 6),
    "16": ([(1, 4, FATAL, [(MEM, FATAL, 0x5C7A4DF000)])], {}, 0),
    "17": ([(1, 4, FATAL, [(MEM, FATAL, 0x46FE735000)])], {}, 0),
    "18": ([], {"memory_failure": 1}, 16),
    "19": ([], {}, 21),
    "20": ([(None, None, FATAL, [(FW, FATAL, None)])], {}, 0),
    "21": ([(None, None, FATAL, [(FW, FATAL, None)])], {}, 0),
    "22": ([(None, None, FATAL, [(FW, FATAL, None)] * 3)], {}, 0),
    "23": ([(1, 5, FATAL, [(PCIE, FATAL, None)])], {}, 0),
    "24": ([(1, 1, RECOV, [(CXL_GM, RECOV, None)])], {}, 0),
    "25": ([(1, 1, RECOV, [(PROC, RECOV, None)])], {}, 0),
    "26": ([], {"serror": 2, "serror_panic": 1}, 0),
    "27": ([], {"serror": 1, "serror_panic": 1}, 0),
    "28": ([(359, 512, CORR, [(PCIE, CORR, None)] * 8)], {}, 0),
    "29": ([(1, 0, CORR, [(PCIE, CORR, None)])], {}, 0),
    "30": ([(9, 0, CORR, [(PCIE, CORR, None)])], {}, 0),
    "31": ([(7, 0, CORR, [(PCIE, CORR, None)] * 14), (8, 0, CORR, [(PCIE, CORR, None)] * 3)], {}, 0),
    "32": ([(2, 2, RECOV, [(MEM, RECOV, 0x89C033400)])], {"memory_failure": 1}, 0),
    "33": ([(1, 1, RECOV, [(MEM, CORR, 0x1F03FEDCD)])], {"firmware_warn": 1}, 0),
    "34": ([(1, 9, RECOV, [(ARM, RECOV, 0x27CAF50770)])], {}, 0),
    "35": ([(35, 4, CORR, [(MEM, CORR, 0x6A47D1F540)])], {}, 0),
    "36": ([(37, 162, CORR, [(MEM, CORR, 0xB50C68CE80)])], {}, 0),
    "u01": ([(None, None, FATAL, [(IA, FATAL, None)])], {}, 8),
}
RW_FILES = sorted(DMESG.rglob("*.txt")) if DMESG.is_dir() else []


@pytest.mark.parametrize("path", RW_FILES, ids=lambda p: p.name[:3].rstrip("-"))
def test_realworld(path: Path) -> None:
    key = path.name.split("-", 1)[0]
    recs, events, nskipped = REALWORLD[key]
    data = path.read_bytes()
    assert sniff_dmesg(data)
    res = read_dmesg(data, source=path.name)
    got = [(r.seq, r.source_id, r.estatus.block.error_severity,
            [(bytes(e.header.section_type), e.header.error_severity, _addr(e.body)) for e in r.estatus.entries])
           for r in res.records]
    assert got == [(s, src, sev, [(bytes(t), es, a) for t, es, a in secs]) for s, src, sev, secs in recs]
    kinds: dict[str, int] = {}
    for ev in res.events:
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
    assert kinds == events
    assert len(res.skipped) == nskipped, [str(s) for s in res.skipped]
    for s in res.skipped:
        assert s.where.startswith(f"{path.name}:") and s.reason


def test_realworld_details() -> None:
    if not DMESG.is_dir():
        pytest.skip("no realworld vectors")
    pcie = read_dmesg((DMESG / "23-x86-dell-r640-pcie-fatal-shutdown-panic-gmail-wrapped.txt").read_bytes())
    body = pcie.records[0].estatus.entries[0].body
    assert (body.vendor_id, body.device_id, body.function) == (0x14E4, 0x165F, 1)
    assert body.aer.uncor_mask == 0x10000 and body.aer.header_log == (0x40000001, 0xF, 0x90028090, 0)  # re-joined
    mf = read_dmesg((DMESG / "05-arm64-guest-sea-memory-error-memory-failure.txt").read_bytes()).events
    assert mf[1].fields == {"pfn": 0x40FA6, "message": "recovery action for dirty LRU page: Recovered",
                            "page_type": "dirty LRU page", "result": "Recovered"}
    assert mf[0].fields["comm"] == "mca-recover" and mf[0].fields["pid"] == 1296
    serr = read_dmesg((DMESG / "27-arm64-azure-cobalt100-serror-cppc-panic.txt").read_bytes()).events[0]
    assert serr.fields == {"cpu": 26, "esr": 0xBE000011}
    bert = read_dmesg((DMESG / "20-x86-atom-bert-fatal-unknown-section-fw-error-record-hexdump.txt").read_bytes())
    assert bert.records[0].bert and any("64 of 656 bytes" in p for p in bert.records[0].problems)
    nbsp = read_dmesg((DMESG / "22-x86-atom-e3900-bert-syslog-three-fw-error-sections-outlook-nbsp.txt").read_bytes())
    assert [len(e.body.encode()) for e in nbsp.records[0].estatus.entries] == [0x290, 0x68C, 0xB10]
    assert not nbsp.records[0].problems
    mem = read_dmesg((DMESG / "32-arm64-alibaba-yitian-sdei-memory-multisymbol-chipkill-precise-tstamp.txt").read_bytes())
    e = mem.records[0].estatus.entries[0]
    assert e.timestamp.precise and e.timestamp.kernel_str() == "2022-09-29 09:31:27"
    assert e.body.error_type == 5 and e.body.row == 624 and e.body.card == 3


def test_prefixes_and_write_round_trip() -> None:
    est = cper.decode((VEC / "kernel" / "memory.all.1.estatus.bin").read_bytes())
    text = write_dmesg([est], source_id=7, seq_start=12)
    for pfx in ("", "[  12.345678] ", "Nov 10 12:12:03 host kernel: ", "kernel: [    C1] ", "\t"):
        res = read_dmesg("".join(pfx + ln + "\n" for ln in text.splitlines()), source="x")
        (r,) = res.records
        assert (r.seq, r.source_id) == (12, 7) and not res.skipped
        assert "\n".join(r.render()) + "\n" == text


def test_interleaved_records_and_bad_lines() -> None:
    a = cper.render_kernel(cper.decode((VEC / "kernel" / "pcie.all.1.estatus.bin").read_bytes()), seq=1)
    b = cper.render_kernel(cper.decode((VEC / "kernel" / "memory.all.1.estatus.bin").read_bytes()), seq=2)
    mixed = [x for pair in zip(a, b, strict=False) for x in pair] + a[len(b):] + b[len(a):]
    mixed.insert(3, "{1}[Hardware Error]:   frobnicator: 12")
    res = read_dmesg("\n".join(mixed), source="mix.log")
    assert [r.seq for r in res.records] == [1, 2]
    assert cper.render_kernel(res.records[0].estatus, seq=1) == a
    assert cper.render_kernel(res.records[1].estatus, seq=2) == b
    assert [(s.where, s.text) for s in res.skipped] == [("mix.log:4", "frobnicator: 12")]
    stray = read_dmesg("[Hardware Error]:   physical_address: 0x1000\n", source="s")
    assert not stray.records and stray.skipped[0].reason == "CPER line outside any record"
    assert not sniff_dmesg(b"hello\n") and not sniff_dmesg(b"\0" * 10)


SEA_TXT = sorted((VEC / "kernel-sea").glob("*.kernel.txt")) if (VEC / "kernel-sea").is_dir() else []


@pytest.mark.parametrize("txt", SEA_TXT, ids=lambda p: p.name.removesuffix(".kernel.txt"))
def test_kernel_sea_lines(txt: Path) -> None:
    """GHES-numbered records, Memory failure / Firmware Warn / SIGBUS lines as the SEA path printed them."""
    text = txt.read_text("utf-8", "replace")
    res = read_dmesg(text, source=txt.name)
    assert not res.skipped, [str(s) for s in res.skipped]
    hw = [ln for ln in text.splitlines() if "[Hardware Error]" in ln and "SIGBUS" not in ln]
    assert [ln for r in res.records for ln in r.render()] == hw
    kinds = [e.kind for e in res.events]
    assert kinds.count("sigbus") == text.count("(SIGBUS)")
    assert kinds.count("memory_failure") == text.count("Memory failure: ")
    assert kinds.count("firmware_warn") == text.count("[Firmware Warn]: GHES: ")


def test_claims_in_the_text_are_not_memory_and_cut_values_are_problems():
    """A section length of 0xffffffff and a hex row cut mid-word: the fill is bounded and
    said, the cut row is a problem; a value wider than its field makes the record one
    skipped line naming where it starts (never an OverflowError)."""
    from rasflow.interop.dmesg import read_dmesg

    text = ("[    1.0] [Hardware Error]: event severity: recoverable\n"
            "[    1.0] [Hardware Error]:  Error 0, type: recoverable\n"
            "[    1.0] [Hardware Error]:   section type: unknown, 11111111-2222-3333-4444-555555555555\n"
            "[    1.0] [Hardware Error]:   section length: 0xffffffff\n"
            "[    1.0] [Hardware Error]:   00000000: 875\n")
    res = read_dmesg(text, source="h1")
    (rec,) = res.records
    problems = " ".join(rec.problems)
    assert "hex dump word '875' is cut" in problems and "at most 4096 missing bytes are filled" in problems
    wide = ("[    1.0] [Hardware Error]: event severity: recoverable\n"
            "[    1.0] [Hardware Error]:  Error 0, type: recoverable\n"
            "[    1.0] [Hardware Error]:   section_type: PCIe error\n"
            "[    1.0] [Hardware Error]:   aer_uncor_severity: 0x100000000\n")
    res = read_dmesg(wide, source="h2")
    assert not res.records and res.skipped[0].where == "h2:1"
    assert "cannot build the record" in res.skipped[0].reason


def _sample_log() -> list[str]:
    """The kernel's lines for the packaged sample record (an ARM processor error with a
    cache error info and an AArch64 EL1 register context)."""
    rec = cper.decode(sample())
    return write_dmesg([rec]).splitlines()


def _damage(lines: list[str]) -> list[str]:
    return [d for r in read_dmesg("\n".join(lines)).records for d in r.damage]


def test_an_intact_log_has_no_damage():
    assert _damage(_sample_log()) == []


@pytest.mark.parametrize(("edit", "says"), [
    (lambda ls: [x for x in ls if "MIDR:" not in x], "the kernel always prints 'MIDR' here; the log lacks it"),
    (lambda ls: [x for x in ls if "num errors:" not in x], "the kernel always prints 'num errors' here"),
    (lambda ls: [x.replace("AArch64 EL1 context registers", "AArc") for x in ls],
     "'register context type: AArc' is not understood"),
    (lambda ls: [x for x in ls if "register context type" not in x],
     "the kernel always prints 'register context type' here"),
    (lambda ls: _swap(ls, "MIDR:", "Multiprocessor Affinity"), "is not where the kernel prints it"),
    (lambda ls: _twice(ls, "error_info:"), "'error_info' is not where the kernel prints it"),
], ids=["MIDR dropped", "num errors dropped", "value cut", "context type dropped", "swapped", "repeated"])
def test_damage_the_kernel_would_not_print_is_reported(edit, says):
    """Issue 17: a dropped MIDR line read as MIDR=0 and a cut context type read as type 0,
    with no word; a line the kernel always prints, and the order it prints them in, are known."""
    damage = _damage(edit(_sample_log()))
    assert any(says in d for d in damage), damage


def _swap(lines: list[str], a: str, b: str) -> list[str]:
    i = next(k for k, x in enumerate(lines) if a in x)
    j = next(k for k, x in enumerate(lines) if b in x)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _twice(lines: list[str], a: str) -> list[str]:
    i = next(k for k, x in enumerate(lines) if a in x)
    return lines[:i + 1] + lines[i:]


def test_decode_refuses_a_damaged_log_unless_lenient(tmp_path, capsys):
    from rasflow.cli import main

    log = tmp_path / "dmesg.txt"
    log.write_text("\n".join(x for x in _sample_log() if "MIDR:" not in x) + "\n")
    assert main(["decode", str(log)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 record(s) may differ from what was printed" in err[0] and "--lenient" in err[0]
    assert main(["decode", "--lenient", str(log)]) == 0
    captured = capsys.readouterr()
    assert "the kernel always prints 'MIDR' here" in captured.err and "midr" in captured.out


def test_a_cut_fixed_width_value_is_reported():
    lines = [x[: x.index("MIDR: 0x") + 15] if "MIDR: 0x" in x else x for x in _sample_log()]
    assert any("is not how the kernel prints the value read from it" in d and "MIDR" in d for d in _damage(lines))
