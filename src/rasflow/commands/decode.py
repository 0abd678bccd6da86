"""``rasflow decode``: CPER records, status blocks, ACPI tables, syndromes and registers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..data import sample
from ..formats.errors import FormatError
from .common import UserError, fail, looks_like_text, read_raw, text_to_bytes

REGISTER_KINDS = (
    "esr", "hcr", "scr", "disr", "vdisr", "vsesr", "errstatus", "erraddr", "errfr", "errctlr",
    "errmisc0", "midr", "mpidr", "spsr", "sctlr", "isr",
)
ACPI_SIGNATURES = (b"HEST", b"BERT", b"EINJ")
KINDS = ("auto", "cper", "estatus", "acpi", "dmesg", "acpidump", "qmp", "redfish", "rasdaemon")
FORMATS = ("text", "json", "libcper-json", "kernel")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow decode",
        description="Decode CPER records, Generic Error Status Blocks and ACPI tables (HEST, BERT, EINJ) "
        "from files (binary, hex or base64 text; - for stdin), or a register value: "
        "rasflow decode esr 0x96000050 (write 0x for hex: digits alone are read as decimal).",
    )
    p.add_argument("inputs", nargs="*", help="files, a directory of ACPI tables, '-', or KIND VALUE for a register")
    p.add_argument("--as", dest="kind", choices=KINDS, default="auto",
                   help="what the input is (default: detected): a CPER record, a status block, an ACPI "
                   "table, a kernel log (dmesg), an ACPI text dump (acpidump/acpiview/iasl/xp), "
                   "QEMU inject-ghes-v2-error QMP, a Redfish LogEntry, a rasdaemon database")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument("--lenient", action="store_true", help="keep what can be read and list the problems")
    p.add_argument("--strict", action="store_true", help="ACPI: a wrong checksum is an error")
    p.add_argument("--arm-types", choices=("uefi-2.9a", "uefi-2.9", "libcper"), default="libcper",
                   help="--format libcper-json: how ARM error-info types are named (default: libcper's own, "
                   "since that format is there to match libcper; uefi-2.9a is the bitmask Linux reads)")
    p.add_argument("--sample", action="store_true", help="decode the sample record rasflow ships")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    fmt = "json" if args.json else args.format
    if args.inputs and args.inputs[0].lower() in REGISTER_KINDS:
        return _register(args.inputs, fmt)
    sources: list[tuple[str, bytes]] = []
    try:
        if args.sample:
            sources.append(("sample.cper", sample()))
        for name in args.inputs:
            if name != "-" and Path(name).is_dir():
                return _tables_dir(name, fmt, args)
            sources.append((name, read_raw(name)))
    except UserError as e:
        return fail("decode", e)
    if not sources:
        return fail("decode", UserError("nothing to decode: give a FILE, '-', KIND VALUE or --sample"))
    status = 0
    for name, raw in sources:
        title = name if len(sources) > 1 else None
        try:
            objs = _json_objects(raw) if args.kind == "auto" else None
            container = None if objs is not None else _container_kind(raw, args.kind)
            if objs is not None:
                for obj in objs:
                    _emit(obj, fmt, args, title)
            elif container is not None:
                status = max(status, _emit_container(raw, container, name, fmt, args, title))
            else:
                _emit(_decode_for(text_to_bytes(raw, name), fmt, args, name), fmt, args, title)
        except FormatError as e:
            status = fail("decode", e, name)
        except UserError as e:  # already names the input
            status = fail("decode", e)
    return status


def _json_objects(raw: bytes) -> list | None:
    """Our JSON (``decode --json``, ``convert --to json``) or libcper's, one object or a list;
    None when ``raw`` is not such JSON."""
    head = raw.lstrip()[:1]
    if head not in (b"{", b"["):
        return None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    docs = doc if isinstance(doc, list) else [doc]
    if not docs or not all(isinstance(d, dict) and ("kind" in d or "sectionDescriptors" in d) for d in docs):
        return None
    from .encode import decode_document

    out = []
    for i, d in enumerate(docs):
        try:
            out.append(decode_document(d))
        except FormatError as e:
            raise e.within(f"[{i}]") if isinstance(doc, list) else e from None
    return out


def _container_kind(raw: bytes, kind: str) -> str | None:
    """A reader kind for containers (logs, dumps, JSON, databases); None for bytes we decode directly."""
    from ..interop.readers import READERS, detect

    if kind in READERS:
        return kind
    if kind != "auto" or (not looks_like_text(raw) and (raw[:4] == b"CPER" or raw[:4] in ACPI_SIGNATURES)):
        return None
    return detect(raw)


def load(name: str, raw: bytes, *, kind: str = "auto", lenient: bool = False) -> tuple[list, list[str]]:
    """Every object an input holds (records, status blocks, tables) and what was skipped:
    the reading `rasflow decode` does, for commands that convert."""
    objs = _json_objects(raw) if kind == "auto" else None
    if objs is not None:
        return objs, []
    container = _container_kind(raw, kind)
    if container is None:
        args = argparse.Namespace(kind=kind, lenient=lenient, strict=False)
        return [_decode_bytes(text_to_bytes(raw, name), args)], []
    from ..interop.readers import read_any

    found = _refuse_damaged(read_any(raw, kind=container, source=name), name, lenient)
    return [item.obj for item in found.items], found.skipped + found.damaged()


def _refuse_damaged(found, name: str, lenient: bool):
    """Without --lenient, records the input may not hold as they were printed (a line the
    kernel always prints is missing, lines out of order, a line nothing reads) are refused."""
    damaged = found.damaged()
    if damaged and not lenient:
        n = sum(bool(i.damage) for i in found.items)
        raise UserError(f"{name}: {n} record(s) may differ from what was printed: {damaged[0]}"
                        f"{f' (and {len(damaged) - 1} more)' if len(damaged) > 1 else ''}; "
                        "--lenient reads them anyway and lists every problem")
    return found


def _emit_container(raw: bytes, kind: str, name: str, fmt: str, args, title: str | None) -> int:
    """Every object a container reader found, then what it skipped (counted, on stderr)."""
    from ..interop.readers import read_any

    found = _refuse_damaged(read_any(raw, kind=kind, source=name), name, args.lenient)
    if title and fmt == "text":
        print(f"== {title} ({kind})")
    for item in found.items:
        if fmt == "text":
            print(f"-- {item.where}")
        _emit(item.obj, fmt, args, None)
        for p in item.problems + item.damage:
            print(f"   problem: {p}", file=sys.stderr)
    if fmt == "text":
        for ev in found.events:
            print("\n".join(_event_lines(ev)))
    if not found.items and not found.events:  # nothing of the kind in it: not a success
        first = f": {found.skipped[0]}" if found.skipped else ""
        more = f" (and {len(found.skipped) - 1} more skipped)" if len(found.skipped) > 1 else ""
        return fail("decode", UserError(f"{name}: nothing decoded as {kind}{first}{more}"))
    for s in found.skipped:
        print(f"rasflow decode: {name}: skipped {s}", file=sys.stderr)
    print(f"rasflow decode: {name}: {kind}: {len(found.items)} decoded, {len(found.events)} events, "
          f"{len(found.skipped)} skipped", file=sys.stderr)
    return 0


def _event_lines(ev) -> list[str]:
    """A kernel-log event (memory_failure, serror, ...) or a rasdaemon row, as aligned
    ``name = value`` lines with numbers in hex."""
    from ..formats.cper.describe import describe_dict

    if hasattr(ev, "kind"):  # interop.dmesg.Event
        return [f"event {ev.kind} at {ev.where}: {ev.text}", *describe_dict(ev.fields, 2)]
    return [f"event {ev.table} row {ev.id}:", *describe_dict(ev.row, 2)]  # a rasdaemon row


def _decode_for(data: bytes, fmt: str, args, name: str):
    """The bytes decoded; for ``--format kernel`` with the kernel's own leniency when the
    strict decoder refuses them (the kernel prints short sections and ARM counts that do not
    fit), said on stderr."""
    try:
        return _decode_bytes(data, args)
    except FormatError as e:
        if fmt != "kernel" or args.lenient:
            raise
        obj = _decode_bytes(data, argparse.Namespace(**{**vars(args), "lenient": True}))
        print(f"rasflow decode: {name}: the strict decoder refuses it ({e}); printed as the "
              "kernel reads it, which does not refuse it", file=sys.stderr)
        return obj


def _decode_bytes(data: bytes, args):
    kind = args.kind
    if kind == "auto":
        kind = "acpi" if data[:4] in ACPI_SIGNATURES else "cper-or-estatus"
    if kind == "acpi":
        from ..formats import acpi

        return acpi.decode(data, strict=args.strict)
    from ..formats import cper

    if kind == "estatus":
        return cper.decode_estatus(data, 0, len(data), lenient=args.lenient)
    if kind == "cper" and data[:4] != b"CPER":
        raise FormatError(f"not a CPER record: signature {data[:4]!r}", path="header.signature", offset=0)
    return cper.decode(data, lenient=args.lenient)


def _emit(obj, fmt: str, args, title: str | None) -> None:
    from ..formats import cper

    is_cper = isinstance(obj, cper.CperRecord | cper.Estatus)
    if title and fmt == "text":
        print(f"== {title}")
    if fmt == "json":
        print(json.dumps(obj.to_dict(), indent=2))
    elif fmt == "libcper-json":
        if not is_cper:
            raise UserError("--format libcper-json is for CPER records and status blocks")
        print(json.dumps(cper.to_libcper(obj, arm_type_names=args.arm_types), indent=4))
    elif fmt == "kernel":
        if not is_cper:
            raise UserError("--format kernel is for CPER records and status blocks")
        print("\n".join(cper.render_kernel(obj)))
    elif is_cper:
        from ..formats.cper.describe import describe

        print("\n".join(describe(obj)))
    elif hasattr(obj, "SIGNATURE") or getattr(obj, "kind", "").startswith("acpi"):
        from ..formats.acpi import describe as acpi_describe

        print("\n".join(acpi_describe(obj)))
    else:  # a single structure (e.g. a HEST source from a partial dump)
        print("\n".join(obj.describe()))


def _tables_dir(path: str, fmt: str, args) -> int:
    from ..formats import acpi

    try:
        tables = acpi.read_tables_dir(path)
    except (FormatError, OSError) as e:
        return fail("decode", e if isinstance(e, FormatError) else UserError(str(e)), path)
    if not tables.items() and tables.boot_errors is None:
        return fail("decode", UserError(f"{path}: no ACPI tables in this directory"))
    for name, table in tables.items():
        _emit(table, "json" if fmt == "json" else "text", args, name)
    region = tables.boot_errors
    if region is not None:
        if fmt == "json":
            print(json.dumps(region.to_dict(), indent=2))
        else:
            print(f"== data/BERT: boot error region, {len(region.blocks)} status block(s)")
            for block in region.blocks:
                _emit(block, "kernel" if fmt == "kernel" else "text", args, None)
    return 0


def _register(inputs: list[str], fmt: str) -> int:
    from ..formats import arm

    if len(inputs) != 2:
        return fail("decode", UserError(f"usage: rasflow decode {inputs[0]} 0xVALUE"))
    kind, text = inputs[0].lower(), inputs[1]
    try:
        value = int(text, 0)
    except ValueError:
        return fail("decode", UserError(f"{text!r} is not a number (write 0x... for hex)"))
    try:
        decoded = arm.decode_register(kind, value)
    except FormatError as e:
        return fail("decode", e)
    if fmt == "json":
        print(json.dumps(decoded.to_dict(), indent=2))
    else:
        print("\n".join(arm.describe(decoded)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
