"""Drive the kernel's EINJ debugfs interface (Documentation/firmware-guide/acpi/apei/einj.rst).

    writes = plan("MEMORY_CORRECTABLE", address=0x12345000)   # the ordered writes, nothing touched
    print(format_plan(writes))                                 # echo 0x8 > .../error_type ...
    inject("MEMORY_UNCORRECTABLE", address=pa)                 # as root, on a machine with EINJ

Error types are the ACPI EINJ bits, named as in ``formats.acpi.names.EINJ_ERROR_TYPES``
(``MEMORY_CORRECTABLE``, ...); ``"bit3"`` names a bit, an int or ``"0x8"`` is the mask
the kernel's ``error_type`` file takes. The base directory is a parameter so tests use
a fake one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..formats.acpi import names as an

DEFAULT_BASE = "/sys/kernel/debug/apei/einj"
PAGE_MASK = 0xFFFF_FFFF_FFFF_F000

# SET_ERROR_TYPE_WITH_ADDRESS flags, as the ``flags`` file takes them (einj.rst)
FLAG_APICID = 0x1  # param3
FLAG_MEMORY = 0x2  # param1 (address) and param2 (mask)
FLAG_SBDF = 0x4  # param4

_BY_NAME = {v: 1 << k for k, v in an.EINJ_ERROR_TYPES.items()}


class EinjError(RuntimeError):
    """Injection refused or failed; the message says why and what to do."""


class EinjWrite(NamedTuple):
    file: str  # the full path
    value: str  # the text written (without the newline)

    def shell(self) -> str:
        return f"echo {self.value} > {self.file}"


def type_mask(error_type: str | int) -> int:
    """The ``error_type`` value for a name (``MEMORY_CORRECTABLE``), ``bitN``, ``0x8`` or an int mask."""
    if isinstance(error_type, int):
        mask = error_type
    else:
        s = error_type.strip()
        key = s.upper().replace("-", "_").replace(" ", "_")
        if key in _BY_NAME:
            mask = _BY_NAME[key]
        elif key.startswith("BIT") and key[3:].isdigit():
            mask = 1 << int(key[3:])
        else:
            try:
                mask = int(s, 0)
            except ValueError:
                names = ", ".join(_BY_NAME)
                raise EinjError(f"unknown EINJ error type {error_type!r}; use one of {names}, "
                                "bitN, or a mask such as 0x8") from None
    if mask <= 0 or mask >= 1 << 32:
        raise EinjError(f"EINJ error type {mask:#x} is not a 32-bit mask with a bit set")
    return mask


def type_name(mask: int) -> str:
    bits = [an.EINJ_ERROR_TYPES.get(b, f"bit{b}") for b in range(32) if mask >> b & 1]
    return "|".join(bits) or f"{mask:#x}"


def parse_available(text: str) -> dict[int, str]:
    """``available_error_type``'s lines (``0x00000008\\tMemory Correctable``) as {mask: description}."""
    out: dict[int, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        tok = parts[0].removeprefix("V2_")
        try:
            out[int(tok, 16)] = parts[1].strip() if len(parts) > 1 else ""
        except ValueError:
            continue  # a heading or a line we do not know; it names no type
    return out


def plan(
    error_type: str | int,
    *,
    address: int | None = None,
    mask: int | None = None,
    apicid: int | None = None,
    sbdf: int | None = None,
    flags: int | None = None,
    notrigger: bool = False,
    base: str | os.PathLike[str] = DEFAULT_BASE,
) -> list[EinjWrite]:
    """The writes, in order, that inject ``error_type`` (touches nothing).

    ``flags`` defaults to the valid bits of what is given (address+mask, APIC id, SBDF);
    a mask without an address is refused; the mask defaults to the 4 KiB page.
    """
    et = type_mask(error_type)
    if mask is not None and address is None:
        raise EinjError("a mask was given without an address (param1)")
    b = str(base).rstrip("/")
    derived = (FLAG_MEMORY if address is not None else 0) | (FLAG_APICID if apicid is not None else 0) \
        | (FLAG_SBDF if sbdf is not None else 0)
    writes = [EinjWrite(f"{b}/error_type", f"{et:#x}")]
    writes.append(EinjWrite(f"{b}/flags", f"{derived if flags is None else flags:#x}"))
    if address is not None:
        writes.append(EinjWrite(f"{b}/param1", f"{address:#x}"))
        writes.append(EinjWrite(f"{b}/param2", f"{PAGE_MASK if mask is None else mask:#x}"))
    if apicid is not None:
        writes.append(EinjWrite(f"{b}/param3", f"{apicid:#x}"))
    if sbdf is not None:
        writes.append(EinjWrite(f"{b}/param4", f"{sbdf:#x}"))
    writes.append(EinjWrite(f"{b}/notrigger", "1" if notrigger else "0"))
    writes.append(EinjWrite(f"{b}/error_inject", "1"))
    return writes


def format_plan(writes: list[EinjWrite]) -> str:
    """The writes as shell lines (what ``--dry-run`` prints)."""
    return "".join(w.shell() + "\n" for w in writes)


def available_types(base: str | os.PathLike[str] = DEFAULT_BASE) -> dict[int, str]:
    """Read ``available_error_type``; EinjError when EINJ is absent."""
    path = Path(base) / "available_error_type"
    if not Path(base).is_dir():
        raise EinjError(
            f"no EINJ interface at {base}: mount debugfs (mount -t debugfs none /sys/kernel/debug), "
            "load the driver (modprobe einj) and check the firmware has an EINJ table "
            "(/sys/firmware/acpi/tables/EINJ); the kernel needs CONFIG_ACPI_APEI_EINJ")
    try:
        return parse_available(path.read_text())
    except OSError as e:
        raise EinjError(f"cannot read {path}: {e.strerror or e}") from None


def check(
    error_type: str | int,
    *,
    base: str | os.PathLike[str] = DEFAULT_BASE,
    euid: int | None = None,
) -> dict[int, str]:
    """Refuse unless root, EINJ is present and ``error_type`` is available; returns the available types."""
    uid = os.geteuid() if euid is None else euid
    if uid != 0:
        raise EinjError(f"EINJ injection needs root (debugfs is root-only); running as uid {uid}")
    avail = available_types(base)
    et = type_mask(error_type)
    if et not in avail:
        have = ", ".join(f"{m:#x} {d}" for m, d in avail.items()) or "none"
        raise EinjError(f"error type {et:#x} ({type_name(et)}) is not in {Path(base) / 'available_error_type'} "
                        f"(available: {have})")
    return avail


def inject(
    error_type: str | int,
    *,
    address: int | None = None,
    mask: int | None = None,
    apicid: int | None = None,
    sbdf: int | None = None,
    flags: int | None = None,
    notrigger: bool = False,
    base: str | os.PathLike[str] = DEFAULT_BASE,
    dry_run: bool = False,
    euid: int | None = None,
) -> list[EinjWrite]:
    """Check, then perform the writes of ``plan`` in order and return them.

    ``dry_run`` only plans (and checks the type against ``available_error_type`` when
    that file is readable). A write the kernel rejects raises EinjError naming the file.
    """
    writes = plan(error_type, address=address, mask=mask, apicid=apicid, sbdf=sbdf,
                  flags=flags, notrigger=notrigger, base=base)
    if dry_run:
        if (Path(base) / "available_error_type").is_file():
            et = type_mask(error_type)
            avail = available_types(base)
            if et not in avail:
                raise EinjError(f"error type {et:#x} ({type_name(et)}) is not available at {base}")
        return writes
    check(error_type, base=base, euid=euid)
    for w in writes:  # all present before the first write, so a refusal leaves nothing half-set
        if not os.path.exists(w.file):
            raise EinjError(f"{w.file} does not exist (this kernel's EINJ has no {Path(w.file).name})")
    for w in writes:
        try:
            with open(w.file, "w") as f:
                f.write(w.value + "\n")
        except OSError as e:
            raise EinjError(f"writing {w.value} to {w.file} failed: {e.strerror or e}") from None
    return writes


__all__ = [
    "DEFAULT_BASE",
    "FLAG_APICID",
    "FLAG_MEMORY",
    "FLAG_SBDF",
    "PAGE_MASK",
    "EinjError",
    "EinjWrite",
    "available_types",
    "check",
    "format_plan",
    "inject",
    "parse_available",
    "plan",
    "type_mask",
    "type_name",
]
