"""``rasflow verify kernel``: have the real Linux kernel decode our records and diff its lines with ours.

Exit status: 0 every record printed as rasflow prints it; 1 some differ; 3 a boot failed
(timed out, or no console), so some records were not compared; 4 an input was refused
(not a record or status block: pass ``--raw`` to let the kernel judge it); 2 a usage or
setup error. The worst one wins, in the order 3, 4, 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..formats import cper
from ..formats.errors import FormatError
from .common import UserError, fail, read_raw

MODES = ("bert", "ghes", "sea")
EXIT_DIFFERENT, EXIT_BOOT_FAILED, EXIT_REFUSED = 1, 3, 4
# what a directory contributes: binary records and status blocks (not README, expected
# output, JSON or scripts that sit beside them; name a JSON file to verify it)
RECORD_SUFFIXES = (".bin", ".cper", ".raw", ".estatus")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow verify kernel",
        description="Boot a Debian arm64 kernel under QEMU (TCG), have it handle our records and diff its "
        "lines with rasflow's. bert: a BERT boot error region (5 per boot), against rasflow's rendering; "
        "ghes: polled GHES sources (-machine virt,ras=on, HEST replaced through the initrd), against "
        "ghes_print_estatus; sea: QEMU's SEA source and a user read of an unbacked PA, against rasflow's "
        "kernel model (busybox:PID masked).",
    )
    p.add_argument("target", choices=("kernel",), help="what to verify against")
    p.add_argument("inputs", nargs="*", help="CPER records, status blocks, JSON, or directories of them")
    p.add_argument("--setup", action="store_true",
                   help="install QEMU/AAVMF and fetch the arm64 cloud kernel and busybox (root; cached)")
    p.add_argument("--mode", choices=MODES, default="bert", help="kernel path (default: bert)")
    p.add_argument("--workers", type=int, default=2, help="boots at once (default: 2)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per boot (default: 120)")
    p.add_argument("--per-boot", type=int, default=1, metavar="N",
                   help="bert: status blocks per boot, 1-5 (default 1: with more, a block the "
                   "kernel skips or a short section reading its neighbour can move lines "
                   "between records; each result then names its neighbours)")
    p.add_argument("--raw", action="store_true",
                   help="pass the files byte for byte as status blocks (also invalid ones: the kernel judges)")
    p.add_argument("--quiet", action="store_true", help="print only differing records and the summary")
    return p


def _files(inputs: Sequence[str]) -> list[str]:
    """The files named, and in each directory named its record files (RECORD_SUFFIXES)."""
    out: list[str] = []
    for name in inputs:
        path = Path(name)
        if name != "-" and path.is_dir():
            out += sorted(str(p) for p in path.rglob("*")
                          if p.is_file() and p.name.lower().endswith(RECORD_SUFFIXES))
        else:
            out.append(name)
    return out


def load_blocks(inputs: Sequence[str], *, raw: bool = False
                ) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """(name, encoded status block) for every record or status block the inputs hold, and
    (name, why) for every input refused; ``raw``: each file's bytes as they are."""
    from .decode import load

    items: list[tuple[str, bytes]] = []
    refused: list[tuple[str, str]] = []
    for name in _files(inputs):
        if raw:
            items.append((name, read_raw(name)))
            continue
        try:
            objs, _ = load(name, read_raw(name))
        except FormatError as e:
            refused.append((name, f"{e} (--raw passes it to the kernel as it is)"))
            continue
        for i, obj in enumerate(objs):
            label = name if len(objs) == 1 else f"{name}#{i + 1}"
            if isinstance(obj, cper.CperRecord):
                items.append((label, cper.record_to_estatus(obj).encode()))
            elif isinstance(obj, cper.Estatus):
                items.append((label, obj.encode()))
            else:
                refused.append((label, f"{type(obj).__name__} is neither a CPER record nor a status block"))
    return items, refused


def _runner(mode: str):
    if mode == "ghes":
        from ..interop.kernel_oracle_ghes import run_ghes

        return run_ghes
    if mode == "sea":
        from ..interop.kernel_oracle_sea import run_sea

        return run_sea
    from ..interop.kernel_oracle import run_bert

    return run_bert


def main(argv: Sequence[str]) -> int:
    args = parser().parse_intermixed_args(argv)
    from ..interop import kernel_oracle as ko

    try:
        if args.setup:
            ko.setup(log=lambda m: print(m, file=sys.stderr))
            if not args.inputs:
                return 0
        items, refused = load_blocks(args.inputs, raw=args.raw)
        if not items and not refused:
            raise UserError("nothing to verify: give records, status blocks or directories (or --setup)")
        kw = {"per_boot": args.per_boot} if args.mode == "bert" else {}
        results = _runner(args.mode)(items, workers=args.workers, timeout=args.timeout, **kw) if items else []
    except ko.OracleError as e:
        print(f"rasflow verify: {e}", file=sys.stderr)
        return 2
    except UserError as e:
        return fail("verify", e)
    return report(results, refused, quiet=args.quiet)


def report(results, refused: Sequence[tuple[str, str]], *, quiet: bool = False) -> int:
    """Every record's outcome, then one summary line; the exit status (module docstring)."""
    diffs = [r for r in results if r.diff and not r.error]
    failed = [r for r in results if r.error]
    for r in results:
        if quiet and not r.diff and not r.error:
            continue
        print(f"== {r.name}" + (f"  (booted with {', '.join(r.neighbours)})"
                                if r.neighbours else ""))
        if r.error:
            print(f"-- not compared: the boot failed: {r.error}")
            continue
        for line in r.kernel:
            print(f"  {line}")
        print("\n".join(r.diff) if r.diff else "-- same as rasflow")
    for name, why in refused:
        print(f"== {name}\n-- refused: {why}")
    same = len(results) - len(diffs) - len(failed)
    print(f"{len(results) + len(refused)} records: {same} same, {len(diffs)} different, "
          f"{len(failed)} not compared (boot failed), {len(refused)} refused")
    return (EXIT_BOOT_FAILED if failed else EXIT_REFUSED if refused
            else EXIT_DIFFERENT if diffs else 0)
