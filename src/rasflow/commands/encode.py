"""``rasflow encode``: our JSON or libcper's JSON back to the exact bytes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..formats.errors import FormatError
from .common import UserError, fail


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow encode",
        description="Encode a JSON file (rasflow's `decode --json` output, or libcper's JSON) to bytes.",
    )
    p.add_argument("input", help="JSON file, or - for stdin")
    p.add_argument("--out", "-o", help="output file (default: stdout; hex when stdout is a terminal)")
    p.add_argument("--with-lengths", action="store_true",
                   help="recompute counts, lengths and offsets instead of keeping them as given")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    try:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
    except OSError as e:
        return fail("encode", UserError(f"{args.input}: {e.strerror}"))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return fail("encode", UserError(f"{args.input}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}"))
    try:
        data = encode_document(doc, with_lengths=args.with_lengths)
    except FormatError as e:
        return fail("encode", e, args.input)
    if args.out:
        Path(args.out).write_bytes(data)
    elif sys.stdout.isatty():
        print(data.hex())
    else:
        sys.stdout.buffer.write(data)
    return 0


def decode_document(doc):
    """The object for our JSON (it has "kind") or libcper's (it has "header" and "sections")."""
    from ..formats import acpi, cper

    if not isinstance(doc, dict):
        raise FormatError("expected a JSON object")
    if "kind" in doc and str(doc["kind"]).startswith("acpi"):
        return acpi.from_dict(doc)
    if "kind" in doc:
        return cper.from_dict(doc)
    if "header" in doc and "sections" in doc:
        return cper.from_libcper(doc)
    raise FormatError("neither rasflow JSON (no 'kind') nor libcper JSON (no 'header'/'sections')")


def encode_document(doc, *, with_lengths: bool = False) -> bytes:
    """Bytes for our JSON or libcper's (see decode_document)."""
    obj = decode_document(doc)
    if with_lengths:
        obj = obj.with_lengths()
    return obj.encode()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
