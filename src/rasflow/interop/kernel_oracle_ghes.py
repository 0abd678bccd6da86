"""The kernel oracle's GHES paths: QEMU ``-machine virt,ras=on`` and busybox ``devmem``.

QEMU 7.2 (virt, 1 GiB, AAVMF) publishes a HEST with one GHESv2 SEA source whose
``etc/hardware_errors`` blob the firmware places in a 64 KiB ACPI NVS allocation at
0x7c410000 (checked by ``/init`` on every boot): the u64 pointer to the block at
+0x0, the read-ack register at +0x8, the 1024-byte SEA status block at +0x10. The rest of
the allocation is zero at boot and nobody else's, and Linux maps it as normal memory.

GHES mode (polled): a HEST with the same signature, OEM ID and OEM table ID and a higher
OEM revision replaces QEMU's through the initrd table upgrade. It has one polled GHES
(type 9, 100 ms) per record, source id = position: its Error Status Address register at
+0x800 + 8·i (zero, so empty, until ``/init`` points it at block i) and its 4 KiB block
at +0x1000 + 0x1000·i. ``/init`` writes record i's bytes, then the pointer, waits until
the kernel clears ``block_status`` and prints ``dmesg -c`` between markers. SEA mode
(``kernel_oracle_sea``) writes QEMU's SEA block instead and reads an unbacked PA.

Rate limits (ghes_print_estatus: 2 corrected + 2 uncorrected per 5 s), the estatus
cache (an identical block within 10 s is not printed) and panics (a fatal block) shape
the boots: :func:`plan_boots` packs records so that none of them bites.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..formats import cper
from ..formats.acpi import names as an
from ..formats.acpi.hest import build_hest
from ..formats.acpi.hest_sources import Ghes
from ..formats.acpi.qemu import QEMU_CREATOR_ID, QEMU_OEM_ID, QEMU_OEM_TABLE_ID
from ..formats.errors import FormatError
from ..formats.render.kernel import FW_WARN, ghes_print_estatus
from ..kernel.apei.estatus import (
    GHES_SEV_CORRECTED,
    GHES_SEV_PANIC,
    HEADER,
    HEADER_SIZE,
    cper_estatus_check,
    cper_estatus_check_header,
    cper_estatus_len,
    ghes_severity,
)
from ..kernel.apei.ghes import GHES_PFX
from .kernel_oracle import (
    OracleError,
    RecordResult,
    boot_qemu,
    init_overlay,
    require_ready,
    table_cpio,
)

HW_ERRORS = 0x7C410000  # QEMU 7.2 virt,ras=on + AAVMF, 1 GiB: where etc/hardware_errors lands
SEA_BLOCK = HW_ERRORS + 0x10  # QEMU's SEA status block (error_block_address[0] holds this)
SEA_ACK = HW_ERRORS + 0x8
QEMU_BLOCK_LENGTH = 1024
POLL_SLOTS = HW_ERRORS + 0x800
POLL_BLOCKS = HW_ERRORS + 0x1000
POLL_BLOCK_LENGTH = 0x1000
POLL_MS = 100
MAX_PER_BOOT = 8  # pr_warn_ratelimited allows 10 per 5 s per message; keep well under
PER_CLASS = 2  # ghes_print_estatus: 2 corrected + 2 uncorrected per 5 s
MACHINE = "virt,ras=on"
REC, DMESG, END = "RASFLOW-REC-", "RASFLOW-DMESG-", "RASFLOW-END-"
BOOT_BEGIN, BOOT_END = "RASFLOW-BOOT-BEGIN", "RASFLOW-BOOT-END"
LAYOUT_BAD = "RASFLOW-LAYOUT-MISMATCH"
_TS = re.compile(r"^\[\s*\d+\.\d+\] ?")
_MARK = re.compile(r"(RASFLOW-[A-Z]+(-[A-Z]+)?(-\d+)?)$")
_PID = re.compile(r"\b(busybox):\d+\b")  # /init's processes are all /bin/busybox
# What ghes_print_estatus prints: the record's lines, and the one warning cper.c's printing
# itself gives. Every other [Firmware Warn]/[Firmware Bug] line is an action of ghes_do_proc
# or of the CXL and memory-failure code it calls ("GHES: Unhandled processor error type",
# "CXL CPER Invalid section length", ...), which SEA mode compares against the model.
_GHES_KEEP = re.compile(r"^\{\d+\}\[Hardware Error\]: ")
_READ_CHECKS = ("Truncated error status block!", "Invalid error status block length!",
                "Invalid CPER header!", "Failed to read error status block!")  # ghes_read_estatus
_PRINT_WARNINGS = frozenset({f"{FW_WARN}error section length is too small",
                             *(f"{FW_WARN}{GHES_PFX}{m}" for m in _READ_CHECKS)})

PROLOGUE = f"""#!/bin/sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
echo 1 > /proc/sys/kernel/printk
if [ "$($B devmem {HW_ERRORS:#x} 64)" != "0x{SEA_BLOCK:016X}" ]; then
  echo {LAYOUT_BAD}; $B poweroff -f
fi
echo {BOOT_BEGIN}
$B dmesg -c
echo {BOOT_END}
"""
EPILOGUE = "$B poweroff -f\n"


# --- /init -----------------------------------------------------------------------------


def devmem_writes(addr: int, data: bytes, stale: int = 0) -> list[str]:
    """busybox ``devmem`` lines writing ``data`` at ``addr`` 8 bytes at a time: nonzero
    words, and zero words over the first ``stale`` bytes (a previous record's leftovers);
    the word holding ``block_status`` last."""
    data = data + bytes(-len(data) % 8)
    span = max(len(data), stale + (-stale % 8))
    padded = data.ljust(span, b"\0")
    words = [(o, int.from_bytes(padded[o : o + 8], "little")) for o in range(0, span, 8)]
    return [f"$B devmem {addr + o:#x} 64 {w:#x}" for o, w in words[1:] + words[:1] if w or o < stale]


def wait_cleared(addr: int, tries: int = 100) -> str:
    """Poll (50 ms steps) until the kernel has cleared ``block_status`` at ``addr``."""
    return (f"n=0; while [ \"$($B devmem {addr:#x} 32)\" != 0x00000000 ] && [ $n -lt {tries} ]; "
            "do $B usleep 50000; n=$((n+1)); done")


def record_steps(i: int, body: Sequence[str]) -> list[str]:
    """One record's part of /init: marker, ``body``, settle, ``dmesg -c`` between markers."""
    return [f"echo {REC}{i}", *body, "$B usleep 100000", f"echo {DMESG}{i}", "$B dmesg -c", f"echo {END}{i}"]


# --- console ---------------------------------------------------------------------------


def strip_ts(line: str) -> str:
    return _TS.sub("", line)


def record_chunks(console: str, n: int) -> tuple[list[str], list[list[str] | None]]:
    """(boot-time dmesg, per record the kernel's lines) from a console transcript.

    A record's lines are its ``dmesg -c`` output; for a record after which the kernel
    died (a panic), the console lines after its marker (only KERN_EMERG reaches the
    console: /init lowered the console level), cut after ``Kernel panic``. None: the
    boot never reached that record."""
    text = console.replace("\r\n", "\n")  # line ends only: a \r in a record is the record's
    if LAYOUT_BAD in text:
        raise OracleError(f"QEMU's hardware_errors blob is not at {HW_ERRORS:#x} (another QEMU or firmware?)")
    lines = text.split("\n")  # FRU text's \x1c, \x85 ... are not line ends
    marks = {m[1]: i for i, x in enumerate(lines) if (m := _MARK.search(x))}  # after any console escapes
    if BOOT_BEGIN not in marks or BOOT_END not in marks:
        raise OracleError("the console has no /init output (boot failed?)")
    boot = [strip_ts(x) for x in lines[marks[BOOT_BEGIN] + 1 : marks[BOOT_END]]]
    out: list[list[str] | None] = []
    for i in range(n):
        rec, dm, end = marks.get(f"{REC}{i}"), marks.get(f"{DMESG}{i}"), marks.get(f"{END}{i}")
        if rec is None:
            out.append(None)
        elif dm is not None and end is not None:
            out.append([strip_ts(x) for x in lines[dm + 1 : end] if _TS.match(x)])
        else:
            got = []
            for x in lines[rec + 1 :]:
                if _TS.match(x):
                    got.append(strip_ts(x))
                    if got[-1].startswith("Kernel panic - not syncing:"):
                        break
            out.append(got)
    return boot, out


def mask_pids(lines: Sequence[str]) -> list[str]:
    """``busybox:1234`` → ``busybox:PID`` (real and model pids differ)."""
    return [_PID.sub(r"\1:PID", x) for x in lines]


# --- planning boots --------------------------------------------------------------------


def print_class(block: bytes, block_length: int) -> str:
    """How ghes_proc treats ``block`` in a source of ``block_length`` bytes: ``empty``
    (block_status 0), ``invalid`` (a check fails: a warning, no print), or the print's
    rate-limit class ``corrected``/``uncorrected``, or ``panic``."""
    hdr = HEADER.unpack(block[:HEADER_SIZE].ljust(HEADER_SIZE, b"\0"))
    if not hdr[0]:
        return "empty"
    length = cper_estatus_len(hdr)
    if length < HEADER_SIZE or length > block_length or cper_estatus_check_header(hdr):
        return "invalid"
    if cper_estatus_check(block[:length].ljust(length, b"\0")):
        return "invalid"
    sev = ghes_severity(hdr[4])
    if sev >= GHES_SEV_PANIC:
        return "panic"
    return "corrected" if sev <= GHES_SEV_CORRECTED else "uncorrected"


def plan_boots(blocks: Sequence[bytes], block_length: int, *, per_boot: int = MAX_PER_BOOT) -> list[list[int]]:
    """Indexes of ``blocks`` per boot, first fit, so that no record is rate-limited or
    cached away: at most 2 corrected and 2 uncorrected prints, no block twice, a
    panicking block last and alone of its kind."""
    boots: list[list[int]] = []
    state: list[dict] = []
    for i, block in enumerate(blocks):
        cls = print_class(block, block_length)
        for b, st in zip(boots, state, strict=True):
            if (len(b) < per_boot and not st["panic"] and block not in st["seen"]
                    and (cls not in ("corrected", "uncorrected") or st[cls] < PER_CLASS)):
                break
        else:
            boots.append([])
            state.append({"panic": False, "seen": set(), "corrected": 0, "uncorrected": 0})
            b, st = boots[-1], state[-1]
        b.append(i)
        st["seen"].add(block)
        if cls == "panic":
            st["panic"] = True
        elif cls in ("corrected", "uncorrected"):
            st[cls] += 1
    return boots


def run_boots(items: Sequence[tuple[str, bytes]], plan: list[list[int]],
              one: Callable[[dict, Path, Sequence[tuple[str, bytes]]], list[RecordResult]],
              cache: Path | None, workers: int) -> list[RecordResult]:
    """Run ``one(info, cache, group)`` per planned boot, ``workers`` at once; results in input order."""
    info, cache = require_ready(cache)
    results: dict[int, RecordResult] = {}

    def run(idx: list[int]) -> None:
        for i, r in zip(idx, one(info, cache, [items[i] for i in idx]), strict=True):
            results[i] = r

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(run, plan))
    return [results[i] for i in range(len(items))]


def diff_result(name: str, kernel: list[str] | None, ours: list[str], error: str = "") -> RecordResult:
    if error or kernel is None:
        return RecordResult(name, [], ours, [], error or "the boot ended before this record")
    return RecordResult(name, kernel, ours, list(difflib.unified_diff(ours, kernel, "rasflow", "kernel", lineterm="", n=2)))


# --- GHES (polled) ---------------------------------------------------------------------


def ghes_hest(n: int, *, poll_ms: int = POLL_MS) -> bytes:
    """The HEST replacing QEMU's: ``n`` polled GHES sources (ids 0..n-1), higher OEM revision."""
    if not 0 < n <= (POLL_BLOCKS - POLL_SLOTS) // 8 or POLL_BLOCKS + n * POLL_BLOCK_LENGTH > HW_ERRORS + 0x10000:
        raise OracleError(f"{n} polled sources do not fit the hardware_errors allocation")
    entries = [Ghes(type=Ghes.TYPE, source_id=i, related_source_id=0xFFFF, reserved=0, enabled=1,
                    records_to_preallocate=1, max_sections_per_record=1, max_raw_data_length=POLL_BLOCK_LENGTH,
                    error_status_address_space_id=an.ACPI_ADR_SPACE_SYSTEM_MEMORY,
                    error_status_address_bit_width=64, error_status_address_bit_offset=0,
                    error_status_address_access_width=4, error_status_address_address=POLL_SLOTS + 8 * i,
                    notify_type=an.NOTIFY_BY_NAME["POLLED"], notify_length=an.HEST_NOTIFY_LENGTH,
                    notify_config_write_enable=0, notify_poll_interval=poll_ms, notify_vector=0,
                    notify_polling_threshold_value=0, notify_polling_threshold_window=0,
                    notify_error_threshold_value=0, notify_error_threshold_window=0,
                    error_block_length=POLL_BLOCK_LENGTH)
               for i in range(n)]
    hest = build_hest(entries, oem_id=QEMU_OEM_ID, oem_table_id=QEMU_OEM_TABLE_ID, revision=1,
                      oem_revision=2, asl_compiler_id=QEMU_CREATOR_ID, asl_compiler_revision=1)
    return hest.encode()


def ghes_init(blocks: Sequence[bytes]) -> str:
    """/init for one GHES boot: record i into block i, then source i's pointer, wait."""
    lines = [PROLOGUE.rstrip("\n")]
    for i, block in enumerate(blocks):
        addr = POLL_BLOCKS + i * POLL_BLOCK_LENGTH
        body = [*devmem_writes(addr, block[:POLL_BLOCK_LENGTH]), f"$B devmem {POLL_SLOTS + 8 * i:#x} 64 {addr:#x}",
                wait_cleared(addr)]
        lines += record_steps(i, body)
    return "\n".join(lines) + "\n" + EPILOGUE


def ghes_expect(block: bytes, source_id: int, seq: int, block_length: int = POLL_BLOCK_LENGTH) -> tuple[list[str], bool]:
    """What ghes_proc prints for ``block`` (memory after it is zero): the check's warning,
    or __ghes_print_estatus's lines with ``{seq}``; and whether it took a sequence number."""
    warn = f"{FW_WARN}{GHES_PFX}"
    hdr = HEADER.unpack(block[:HEADER_SIZE].ljust(HEADER_SIZE, b"\0"))
    if not hdr[0]:
        return [], False
    length = cper_estatus_len(hdr)
    if length < HEADER_SIZE:
        return [f"{warn}{_READ_CHECKS[0]}"], False
    if length > block_length:
        return [f"{warn}{_READ_CHECKS[1]}"], False
    if cper_estatus_check_header(hdr):
        return [f"{warn}{_READ_CHECKS[2]}"], False
    buf = block[:length].ljust(length, b"\0")
    if cper_estatus_check(buf):
        return [f"{warn}{_READ_CHECKS[3]}"], False
    try:
        est = cper.decode(buf, lenient=True)
    except FormatError:
        return [], True
    return ghes_print_estatus(est, source_id, seq), True


def ghes_lines(lines: Sequence[str]) -> list[str]:
    """The kernel lines ghes_expect predicts: the record's print and the read checks'
    warnings (ghes_do_proc's actions, ``Memory failure`` etc., are left out)."""
    return [x for x in lines if _GHES_KEEP.match(x) or x in _PRINT_WARNINGS]


def _ghes_boot(info: dict, cache: Path, group: Sequence[tuple[str, bytes]], timeout: float) -> list[RecordResult]:
    blocks = [b for _, b in group]
    initrd = (table_cpio(ghes_hest(len(blocks)), "HEST") + (cache / "initramfs.gz").read_bytes()
              + init_overlay(ghes_init(blocks)))
    ours, seq = [], 1
    for i, block in enumerate(blocks):
        lines, took = ghes_expect(block, i, seq)
        ours.append(lines)
        seq += took
    try:
        boot, chunks = record_chunks(boot_qemu(initrd, info, machine=MACHINE, timeout=timeout), len(blocks))
        if not any("Table Upgrade: override [HEST-" in x for x in boot):
            raise OracleError("the kernel did not take our HEST (no `Table Upgrade: override [HEST-...]`)")
    except OracleError as e:
        return [diff_result(name, None, o, str(e)) for (name, _), o in zip(group, ours, strict=True)]
    return [diff_result(name, None if c is None else ghes_lines(c), o)
            for (name, _), c, o in zip(group, chunks, ours, strict=True)]


def run_ghes(items: Sequence[tuple[str, bytes]], *, cache: Path | None = None, workers: int = 2,
             timeout: float = 120.0) -> list[RecordResult]:
    """Have the kernel's polled GHES path decode every (name, status block) item."""
    plan = plan_boots([b for _, b in items], POLL_BLOCK_LENGTH)
    return run_boots(items, plan, lambda info, cache, group: _ghes_boot(info, cache, group, timeout), cache, workers)

