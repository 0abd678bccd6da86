"""Decode/encode throughput over the vector corpus, against PyPI `cper` (a libcper binding).

Single core, best of several rounds. Prints a table and writes bench/results/decode.json.
Targets (issue 2): full decode >= 3x cper.parse; >= 50,000 memory records/s; encode >= decode.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from rasflow.formats import cper as ours

ROOT = Path(__file__).resolve().parents[1]
# ../shared/vectors when it is there, else the subset the repository keeps (tests/vectors)
_SHARED = ROOT.parent / "shared" / "vectors" / "libcper" / "generated"
VECTORS = _SHARED if _SHARED.is_dir() else ROOT / "tests" / "vectors" / "libcper" / "generated"


def corpus(pattern: str = "*.cper") -> list[bytes]:
    return [p.read_bytes() for p in sorted(VECTORS.glob(pattern))]


def rate(fn, items, *, min_time: float = 1.0, rounds: int = 3) -> float:
    """Items per second, best of ``rounds`` runs of at least ``min_time`` seconds."""
    best = 0.0
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            for x in items:
                fn(x)
            n += len(items)
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        best = max(best, n / dt)
    return best


def main() -> int:
    if not VECTORS.is_dir():
        print(f"no vectors at {VECTORS}", file=sys.stderr)
        return 1
    allrec = corpus()
    mem = corpus("memory.*.cper")
    decoded = [ours.decode(b) for b in allrec]
    results = {
        "records_in_corpus": len(allrec),
        "rasflow_decode_all_per_s": rate(ours.decode, allrec),
        "rasflow_encode_all_per_s": rate(ours.encode, decoded),
        "rasflow_decode_memory_per_s": rate(ours.decode, mem),
        "rasflow_encode_memory_per_s": rate(ours.encode, [ours.decode(b) for b in mem]),
    }
    try:
        import cper as pypi_cper  # the libcper binding from PyPI

        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(2)
        os.dup2(devnull, 2)  # it prints unknown sections to stderr
        try:
            results["pypi_cper_parse_all_per_s"] = rate(pypi_cper.parse, allrec)
            results["pypi_cper_parse_memory_per_s"] = rate(pypi_cper.parse, mem)
        finally:
            os.dup2(saved, 2)
        results["speedup_all"] = results["rasflow_decode_all_per_s"] / results["pypi_cper_parse_all_per_s"]
        results["speedup_memory"] = results["rasflow_decode_memory_per_s"] / results["pypi_cper_parse_memory_per_s"]
    except ImportError:
        print("PyPI `cper` not installed (bash bench/run.sh installs it): no comparison", file=sys.stderr)
    width = max(len(k) for k in results)
    for k, v in results.items():
        print(f"{k:<{width}}  {v:>12,.1f}" if isinstance(v, float) else f"{k:<{width}}  {v:>12}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "decode.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
