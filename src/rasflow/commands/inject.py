"""``rasflow inject``: errors into a real system — QEMU's inject-ghes-v2-error, or EINJ."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..formats.errors import FormatError
from .common import UserError, fail, read_input


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rasflow inject", description="Inject an error into QEMU or through EINJ.")
    sub = p.add_subparsers(dest="target", required=True)
    q = sub.add_parser("qemu", help="QEMU >= 10.2 inject-ghes-v2-error (virt, ras=on)",
                       description="Build the inject-ghes-v2-error payload (status block + data entry + "
                       "section, base64) from a CPER record or status block file; send it over QMP.")
    q.add_argument("input", help="a CPER record or Generic Error Status Block (binary, hex or base64; - for stdin)")
    q.add_argument("--qmp", metavar="HOST:PORT|PATH", help="QMP socket (TCP or UNIX) to send it to")
    q.add_argument("--dry-run", action="store_true", help="print the payload and the QMP command only")
    q.add_argument("--severity", type=int, choices=range(4), help="block severity (default: the record's)")
    e = sub.add_parser("einj", help="the kernel's EINJ debugfs interface (root)",
                       description="Drive /sys/kernel/debug/apei/einj: error_type, param1..4, flags, "
                       "notrigger, error_inject.")
    e.add_argument("error_type", help="a name (e.g. MEMORY_UNCORRECTABLE), bitN, or a mask like 0x10")
    e.add_argument("--address", type=lambda v: int(v, 0), help="physical address (param1)")
    e.add_argument("--mask", type=lambda v: int(v, 0), help="address mask (param2; default: the 4 KiB page)")
    e.add_argument("--notrigger", action="store_true")
    e.add_argument("--base", default=None, help="EINJ debugfs directory (default: the kernel's)")
    e.add_argument("--dry-run", action="store_true", help="print the writes without doing them")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.target == "qemu":
        return _qemu(args)
    return _einj(args)


def _qemu(args) -> int:
    from ..formats import cper
    from ..interop import qemu

    try:
        obj = cper.decode(read_input(args.input))
        payload = qemu.build_payload(obj, error_severity=args.severity)
    except (FormatError, UserError) as e:
        return fail("inject", e, args.input)
    if args.dry_run or not args.qmp:
        print(qemu.dry_run_text(payload))
        if not args.dry_run:
            print("(no --qmp given: nothing sent)", file=sys.stderr)
        return 0
    try:
        with qemu.QmpClient(args.qmp) as client:
            client.inject(payload)
    except (qemu.QmpError, OSError) as e:
        return fail("inject", UserError(f"QMP {args.qmp}: {e}"))
    print(f"sent {len(payload)} bytes to {args.qmp}")
    return 0


def _einj(args) -> int:
    from ..interop import einj

    kw = {"address": args.address, "mask": args.mask, "notrigger": args.notrigger, "dry_run": args.dry_run}
    if args.base:
        kw["base"] = args.base
    try:
        writes = einj.inject(args.error_type, **kw)
    except (einj.EinjError, ValueError) as e:
        return fail("inject", UserError(str(e)))
    print(einj.format_plan(writes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
