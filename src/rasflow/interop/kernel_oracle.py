"""The real Linux kernel as a CPER decoder: a Debian arm64 kernel booted under QEMU (TCG).

BERT mode: the status blocks of a boot (one by default; up to 5, the most BERT prints) go
into a boot error region inside the UEFI variable pflash (physical 0x05000000); a BERT
pointing at it reaches the kernel through the initrd table-upgrade cpio; ``/init`` prints
``dmesg`` between markers. One block per boot is what makes the comparison trustworthy: a
block BERT skips (1024 bytes or more) prints nothing, an invalid one ends the region, and a
short section reads its neighbour's bytes, so with several per boot the lines of one
record can be credited to another; with several, each result names its neighbours.
GHES (polled) and SEA modes live in ``kernel_oracle_ghes`` and ``kernel_oracle_sea``;
they share the boot and cpio helpers here. See ``shared/reference/kernel-oracle.md``.
"""

from __future__ import annotations

import difflib
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..formats import acpi
from ..formats.render.kernel import bert_print

T = TypeVar("T")
REGION_ADDR = 0x05000000
VARS_BASE = 0x04000000
PER_BOOT = 1  # status blocks per boot (BERT_MAX_PER_BOOT at most)
BERT_MAX_PER_BOOT = 5  # bert.c prints at most 5 records
# Zeros after the blocks, inside the region: a short section's reads past its end (a CXL
# DVSEC of up to 64 KiB, a struct's missing fields) land on mapped zeros, as rasflow reads
# them, instead of past the region's mapping (garbage, or an oops); the walk stops there
# (block_status 0).
REGION_PAD = 128 << 10
BEGIN, END = "RASFLOW-DMESG-BEGIN", "RASFLOW-DMESG-END"
AAVMF_CODE = Path("/usr/share/AAVMF/AAVMF_CODE.fd")
AAVMF_VARS = Path("/usr/share/AAVMF/AAVMF_VARS.fd")
QEMU = "qemu-system-aarch64"
APPEND = "console=ttyAMA0 earlycon nokaslr quiet panic=-1"
# BERT mode: a record's hex dump may run to thousands of lines; a 16 MiB log loses none of
# them (not in the GHES/SEA modes: the buffer takes RAM whose page states they compare)
BERT_APPEND = APPEND + " log_buf_len=16M"
KERNEL_PKG = re.compile(r"^linux-image-(\d[\w.+~-]*)-cloud-arm64-unsigned$")
_TS = re.compile(r"^\[\s*\d+\.\d+\] ?")
_KEEP = ("[Hardware Error]", "BERT: ", "[Firmware Warn]", "[Firmware Bug]")
_CORRECTED = "It has been corrected by h/w and requires no further action"
_BANNER = re.compile(r"^BERT: (Error records from previous boot:|Total records found: \d+)$")
INIT = f"""#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
echo {BEGIN}
/bin/busybox dmesg
echo {END}
/bin/busybox poweroff -f
"""


class OracleError(Exception):
    """Setup or boot failed: one line for the user."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rasflow/kernel-oracle`` (default ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rasflow" / "kernel-oracle"


# --- cpio (newc) ---------------------------------------------------------------------


def cpio_newc(entries: Iterable[tuple[str, int, bytes]], *, rdev: dict[str, tuple[int, int]] | None = None) -> bytes:
    """A newc cpio of ``(name, mode, data)`` entries (data is a symlink's target), with trailer."""
    out = bytearray()
    rdev = rdev or {}

    def put(ino: int, name: str, mode: int, data: bytes) -> None:
        nm = name.encode() + b"\0"
        major, minor = rdev.get(name, (0, 0))
        nlink = 2 if mode & 0o170000 == 0o040000 else 1
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, major, minor, len(nm), 0)
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + nm)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    ino = 0
    for ino, (name, mode, data) in enumerate(entries, 1):
        put(ino, name, mode, data)
    put(ino + 1, "TRAILER!!!", 0, b"")
    return bytes(out)


def table_cpio(aml: bytes, name: str = "BERT") -> bytes:
    """The uncompressed table-upgrade cpio (``kernel/firmware/acpi/NAME.aml``), 4-byte padded."""
    d = 0o040755
    data = cpio_newc([("kernel", d, b""), ("kernel/firmware", d, b""), ("kernel/firmware/acpi", d, b""),
                      (f"kernel/firmware/acpi/{name}.aml", 0o100644, aml)])
    return data + b"\0" * (-len(data) % 4)


def initramfs(busybox: bytes) -> bytes:
    """The gzipped busybox initramfs whose ``/init`` prints dmesg between markers and powers off."""
    d = 0o040755
    entries = [("bin", d, b""), ("dev", d, b""), ("proc", d, b""), ("sys", d, b""),
               ("dev/console", 0o020600, b""), ("bin/busybox", 0o100755, busybox),
               ("bin/sh", 0o120777, b"busybox"), ("init", 0o100755, INIT.encode())]
    return gzip.compress(cpio_newc(entries, rdev={"dev/console": (5, 1)}), mtime=0)


# --- setup ---------------------------------------------------------------------------


def _run(cmd: Sequence[str], cwd: Path | None = None) -> str:
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        p = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise OracleError(f"{cmd[0]}: not found") from None
    if p.returncode:
        last = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or [""]
        raise OracleError(f"{' '.join(cmd)} failed (exit {p.returncode}): {last[0]}")
    return p.stdout


def newest_kernel_package(names: Iterable[str]) -> str:
    """The newest ``linux-image-VERSION-cloud-arm64-unsigned`` name (Debian version order)."""
    found = [n for n in names if KERNEL_PKG.match(n)]
    if not found:
        raise OracleError("no linux-image-*-cloud-arm64-unsigned package in the apt lists (is arm64 enabled?)")
    def key(n: str) -> list[int]:
        return [int(x) for x in re.findall(r"\d+", KERNEL_PKG.match(n)[1])]  # type: ignore[index]

    return max(found, key=key)


def ready(cache: Path | None = None) -> dict | None:
    """The setup manifest when the cache holds everything a boot needs, else None."""
    cache = cache or cache_dir()
    try:
        info = json.loads((cache / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    need = [Path(info.get("kernel", "")), cache / "initramfs.gz", AAVMF_CODE, AAVMF_VARS]
    if not all(p.is_file() for p in need) or shutil.which(QEMU) is None:
        return None
    return info


def setup(cache: Path | None = None, log=print) -> dict:
    """Install QEMU and AAVMF, fetch the arm64 cloud kernel and static busybox, build the initramfs."""
    cache = cache or cache_dir()
    if (info := ready(cache)) is not None:
        log(f"kernel oracle ready in {cache} ({info['package']})")
        return info
    if os.geteuid() != 0:
        raise OracleError("setup needs root (apt-get install, dpkg --add-architecture); run it with sudo")
    if shutil.which(QEMU) is None or not AAVMF_CODE.is_file():
        log("installing qemu-system-arm qemu-efi-aarch64")
        _run(["apt-get", "install", "-y", "-q", "qemu-system-arm", "qemu-efi-aarch64"])
    if "arm64" not in _run(["dpkg", "--print-foreign-architectures"]).split():
        _run(["dpkg", "--add-architecture", "arm64"])
    log("apt-get update")
    _run(["apt-get", "update", "-q"])
    names = _run(["apt-cache", "search", "--names-only", r"^linux-image-.*-cloud-arm64-unsigned$"])
    pkg = newest_kernel_package(line.split(" ", 1)[0] for line in names.splitlines())
    debs = cache / "debs"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    log(f"apt-get download {pkg}:arm64 busybox-static:arm64")
    _run(["apt-get", "download", f"{pkg}:arm64", "busybox-static:arm64"], cwd=debs)
    root = cache / "root"
    shutil.rmtree(root, ignore_errors=True)
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg", "-x", str(deb), str(root)])
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    busybox = next((p for p in (root / "bin/busybox", root / "usr/bin/busybox") if p.is_file()), None)
    if not kernels or busybox is None:
        raise OracleError(f"{debs}: the packages hold no /boot/vmlinuz-* or busybox")
    (cache / "initramfs.gz").write_bytes(initramfs(busybox.read_bytes()))
    version = _run(["dpkg-deb", "-f", str(next(debs.glob("linux-image-*.deb"))), "Version"]).strip()
    info = {"package": pkg, "version": version, "kernel": str(kernels[-1])}
    (cache / "manifest.json").write_text(json.dumps(info, indent=1) + "\n")
    log(f"kernel oracle ready in {cache} ({pkg} {version})")
    return info


# --- boots ---------------------------------------------------------------------------


def batches(blocks: Sequence[T], size: int = PER_BOOT) -> list[list[T]]:
    """Status blocks (or named ones), ``size`` per boot (BERT prints at most 5 records per boot)."""
    if not 1 <= size <= BERT_MAX_PER_BOOT:
        raise OracleError(f"{size} blocks per boot: BERT prints 1 to {BERT_MAX_PER_BOOT}")
    return [list(blocks[i : i + size]) for i in range(0, len(blocks), size)]


def patch_vars(template: bytes, region: bytes, address: int = REGION_ADDR) -> bytes:
    """The VARS pflash image with the boot error region at physical ``address``."""
    off = address - VARS_BASE
    if off < 0 or off + len(region) > len(template):
        raise OracleError(f"region of {len(region)} bytes does not fit the VARS image at {address:#x}")
    return template[:off] + region + template[off + len(region) :]


def console_lines(console: str) -> list[str]:
    """The kernel's CPER lines from a console transcript: between the markers, timestamps
    stripped, ``[Hardware Error]``/``[Firmware ...]``/``BERT:`` lines only (not the banner
    and ``Total records found``, which bert_print leaves out)."""
    text = console.replace("\r\n", "\n")  # the serial console's line ends; a \r in a record stays
    if BEGIN + "\n" not in text or "\n" + END not in text:
        raise OracleError(crash_of(text) or "the console has no dmesg between the markers (boot failed?)")
    body = text.split(BEGIN + "\n", 1)[1].split("\n" + END, 1)[0]
    return kept([_TS.sub("", line) for line in body.split("\n")])  # not splitlines(): \x1c, \x85 ... in FRU text are not line ends


def kept(lines: Sequence[str]) -> list[str]:
    """The CPER lines of a log, the same rule for the kernel's and ours: a line a "\n" in
    FRU text started carries no prefix, and is indistinguishable from other messages."""
    return [x for x in lines if x.startswith(_KEEP) and not _BANNER.match(x)]


def crash_of(text: str) -> str:
    """What a console says about a kernel that died: its oops or panic line and the first
    function of the call trace ("" when it says nothing of the kind)."""
    lines = [_TS.sub("", x) for x in text.split("\n")]
    first = next((x for x in lines if x.startswith(("Internal error:", "Kernel panic - not syncing:"))), "")
    if not first:
        return ""
    trace = next((lines[i + 1].strip() for i, x in enumerate(lines[:-1]) if x.strip() == "Call trace:"), "")
    return f"the kernel crashed: {first}" + (f" in {trace}" if trace else "")


def split_records(lines: Sequence[str]) -> list[list[str]]:
    """Lines per record: one starts at ``It has been corrected by h/w`` (printed first for a
    corrected block) or else at ``event severity:``; lines before the first go with it."""
    chunks: list[list[str]] = []
    prev = ""
    for line in lines:
        corrected = line.endswith(_CORRECTED)
        starts = corrected or ("event severity:" in line and not prev.endswith(_CORRECTED))
        if not chunks or (starts and any("event severity:" in x for x in chunks[-1])):
            chunks.append([])
        chunks[-1].append(line)
        prev = line
    return chunks


def init_overlay(script: str) -> bytes:
    """A gzipped cpio holding only ``/init``: appended after the cached initramfs, it
    replaces that ``/init`` (the kernel unpacks the archives in order)."""
    return gzip.compress(cpio_newc([("init", 0o100755, script.encode())]), mtime=0)


def boot_qemu(initrd: bytes, info: dict, *, vars_image: bytes | None = None, machine: str = "virt",
              timeout: float = 120.0, append: str = APPEND) -> str:
    """Boot the kernel once under QEMU ``-machine MACHINE`` with ``initrd``; return the console."""
    with tempfile.TemporaryDirectory(prefix="rasflow-oracle-") as tmp:
        t = Path(tmp)
        (t / "initrd").write_bytes(initrd)
        (t / "vars.fd").write_bytes(AAVMF_VARS.read_bytes() if vars_image is None else vars_image)
        cmd = [QEMU, "-machine", machine, "-cpu", "cortex-a72", "-accel", "tcg", "-m", "1G", "-smp", "1",
               "-nographic", "-no-reboot", "-nic", "none",
               "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={AAVMF_CODE}",
               "-drive", f"if=pflash,format=raw,unit=1,file={t / 'vars.fd'}",
               "-kernel", info["kernel"], "-initrd", str(t / "initrd"), "-append", append]
        try:
            p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise OracleError(f"boot timed out after {timeout:.0f} s") from None
        return p.stdout.decode("latin-1")  # the console's bytes: %.20s FRU text is not UTF-8


def region_of(blocks: Sequence[bytes]) -> bytes:
    """A boot error region: the blocks back to back, then REGION_PAD zeros."""
    return b"".join(blocks) + bytes(REGION_PAD)


def boot(region: bytes, info: dict, cache: Path, timeout: float = 120.0) -> str:
    """Boot the kernel once with ``region`` as the boot error region; return the console."""
    aml = acpi.build_bert(len(region), REGION_ADDR).encode()
    initrd = table_cpio(aml) + (cache / "initramfs.gz").read_bytes()
    return boot_qemu(initrd, info, vars_image=patch_vars(AAVMF_VARS.read_bytes(), region), timeout=timeout,
                     append=BERT_APPEND)


def require_ready(cache: Path | None = None) -> tuple[dict, Path]:
    """The manifest and cache directory, or OracleError telling how to set up."""
    cache = cache or cache_dir()
    info = ready(cache)
    if info is None:
        raise OracleError(f"the kernel oracle is not set up in {cache}: run `rasflow verify kernel --setup`")
    return info, cache


@dataclass
class RecordResult:
    """One record: what the kernel printed, what we render, the diff."""

    name: str
    kernel: list[str]
    ours: list[str]
    diff: list[str] = field(default_factory=list)
    error: str = ""  # the boot failed (timed out, no console): no comparison was made
    neighbours: list[str] = field(default_factory=list)  # the records booted with it




def compare_boot(names: Sequence[str], blocks: Sequence[bytes], kernel: list[str] | None, error: str = "") -> list[RecordResult]:
    """Per record: the kernel's lines and ours for one boot's region, with a unified diff."""
    ours = split_records(kept(bert_print(region_of(blocks))))
    theirs = split_records(kernel or [])
    out = []
    for i, name in enumerate(names):
        k = theirs[i] if i < len(theirs) else []
        o = ours[i] if i < len(ours) else []
        if i == len(names) - 1:  # whatever is left over belongs to the last record
            k = [x for c in theirs[i:] for x in c]
            o = [x for c in ours[i:] for x in c]
        others = [n for n in names if n != name]
        if error:
            out.append(RecordResult(name, [], o, [], error, others))
            continue
        diff = list(difflib.unified_diff(o, k, "rasflow", "kernel", lineterm="", n=2))
        out.append(RecordResult(name, k, o, diff, neighbours=others))
    return out


def run_bert(items: Sequence[tuple[str, bytes]], *, cache: Path | None = None, workers: int = 2,
             timeout: float = 120.0, per_boot: int = PER_BOOT) -> list[RecordResult]:
    """Boot the kernel on every (name, status block) item, ``per_boot`` per boot in input
    order (nothing about the grouping comes from rasflow's own rendering), ``workers``
    boots at once."""
    info, cache = require_ready(cache)
    groups = batches(items, per_boot)

    def one(group: Sequence[tuple[str, bytes]]) -> list[RecordResult]:
        names, blocks = [n for n, _ in group], [b for _, b in group]
        try:
            lines = console_lines(boot(region_of(blocks), info, cache, timeout))
        except OracleError as e:
            return compare_boot(names, blocks, None, str(e))
        return compare_boot(names, blocks, lines)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return [r for res in pool.map(one, groups) for r in res]
