"""``rasflow convert``: any readable input to any container we write."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..formats.errors import FormatError
from .common import UserError, fail, read_raw
from .decode import KINDS, load

TARGETS = ("json", "libcper-json", "kernel-log", "redfish", "rasdaemon-db", "qmp")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow convert",
        description="Read CPER records and status blocks from any input `rasflow decode` reads "
        "(binary, hex, base64, kernel logs, ACPI dumps, QMP, Redfish, rasdaemon) and write them as "
        "one container.",
    )
    p.add_argument("inputs", nargs="+", help="files, or - for stdin")
    p.add_argument("--to", required=True, choices=TARGETS)
    p.add_argument("--out", "-o", help="output file (required for rasdaemon-db; default: stdout)")
    p.add_argument("--as", dest="kind", choices=KINDS, default="auto")
    p.add_argument("--lenient", action="store_true")
    return p


def main(argv: Sequence[str]) -> int:
    from ..formats import cper

    args = parser().parse_args(argv)
    records, tables = [], 0
    for name in args.inputs:
        try:
            objs, skipped = load(name, read_raw(name), kind=args.kind, lenient=args.lenient)
        except (FormatError, UserError) as e:
            return fail("convert", e, name if isinstance(e, FormatError) else None)
        for s in skipped:
            print(f"rasflow convert: {name}: skipped {s}", file=sys.stderr)
        cpers = [o for o in objs if isinstance(o, cper.CperRecord | cper.Estatus)]
        records += cpers
        tables += len(objs) - len(cpers)
    if not records:
        why = f" ({tables} ACPI table(s): use decode)" if tables else ""
        return fail("convert", UserError(f"no CPER records or status blocks in the inputs{why}"))
    if tables:
        print(f"rasflow convert: {tables} ACPI table(s) are not converted (use decode)", file=sys.stderr)
    try:
        out = _write(records, args.to, args.out)
    except (FormatError, UserError) as e:
        return fail("convert", e)
    if out is not None:
        if args.out:
            Path(args.out).write_text(out)
        else:
            sys.stdout.write(out)
    print(f"rasflow convert: {len(records)} record(s) written as {args.to}", file=sys.stderr)
    return 0


def _write(records: list, to: str, out: str | None) -> str | None:
    from ..formats import cper

    if to == "json":
        return json.dumps([r.to_dict() for r in records], indent=2) + "\n"
    if to == "libcper-json":
        return json.dumps([cper.to_libcper(r) for r in records], indent=4) + "\n"
    if to == "kernel-log":
        from ..interop.dmesg import write_dmesg

        return write_dmesg(records)
    if to == "redfish":
        from ..interop.redfish import write_redfish

        return write_redfish(records)
    if to == "qmp":
        from ..interop.qemu import write_qmp

        return write_qmp(records)
    if not out:
        raise UserError("--to rasdaemon-db needs --out FILE")
    from ..interop.rasdaemon import write_rasdaemon

    notes: list[str] = []
    write_rasdaemon(records, out, notes=notes)
    for note in notes:  # what the database cannot hold, said rather than dropped
        print(f"rasflow convert: {note}", file=sys.stderr)
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
