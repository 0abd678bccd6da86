"""The long fuzz run over every reader and JSON decoder (tests/fuzzing.py's targets).

    .venv/bin/python bench/fuzz_readers.py [--inputs 1000000] [--jobs 2] [--targets dmesg,qmp]

Inputs are split evenly over the targets and run in --jobs processes. Reported: inputs run,
exceptions other than the target's bad-input error (with the target and input number that
replays them: fuzzing.fuzz_input(target, n)), inputs over 1 s (an input still running after
10 s is stopped and counted as an exception), and each worker's peak resident memory;
the figures go to bench/results/fuzz_readers.json.
Exit status 1 when any of those three limits is broken (issue 17's acceptance).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import fuzzing  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "fuzz_readers.json"
SLOW_S = 1.0
STOP_S = 10
PEAK_MB = 256
CHUNK = 2000


class _Stopped(Exception):
    pass


def _alarm(signum, frame):
    raise _Stopped(f"still running after {STOP_S} s")


def _chunk(job: tuple[str, int, int]) -> dict:
    name, start, stop = job
    signal.signal(signal.SIGALRM, _alarm)
    failures, slow, worst = [], [], 0.0
    for n in range(start, stop):
        data = fuzzing.fuzz_input(name, n)
        t0 = time.perf_counter()
        signal.alarm(STOP_S)
        try:
            fuzzing.exercise(name, data)
        except Exception as e:  # noqa: BLE001 - every other exception is the finding
            frame = traceback.extract_tb(e.__traceback__)[-1]
            failures.append((name, n, type(e).__name__, str(e)[:120], f"{Path(frame.filename).name}:{frame.lineno}"))
        finally:
            signal.alarm(0)
        took = time.perf_counter() - t0
        worst = max(worst, took)
        if took > SLOW_S:
            slow.append((name, n, round(took, 2)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"name": name, "count": stop - start, "failures": failures, "slow": slow, "worst": worst, "peak_mb": peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--targets", default=",".join(fuzzing.TARGETS))
    args = ap.parse_args()
    names = args.targets.split(",")
    per = -(-args.inputs // len(names))  # every target gets as many; the total is at least --inputs
    jobs = [(name, s, min(per, s + CHUNK)) for name in names for s in range(0, per, CHUNK)]
    t0 = time.perf_counter()
    totals: dict[str, dict] = {n: {"count": 0, "failures": [], "slow": [], "worst": 0.0} for n in names}
    peak = 0.0
    with ProcessPoolExecutor(args.jobs, max_tasks_per_child=None) as pool:
        for r in pool.map(_chunk, jobs):
            t = totals[r["name"]]
            t["count"] += r["count"]
            t["failures"] += r["failures"]
            t["slow"] += r["slow"]
            t["worst"] = max(t["worst"], r["worst"])
            peak = max(peak, r["peak_mb"])
    took = time.perf_counter() - t0
    print(f"{'target':<16}{'inputs':>10}{'exceptions':>12}{'over 1 s':>10}{'slowest':>10}")
    for name, t in totals.items():
        print(f"{name:<16}{t['count']:>10,}{len(t['failures']):>12}{len(t['slow']):>10}{t['worst']:>9.3f}s")
    count = sum(t["count"] for t in totals.values())
    failures = [f for t in totals.values() for f in t["failures"]]
    slow = [s for t in totals.values() for s in t["slow"]]
    print(f"{'all':<16}{count:>10,}{len(failures):>12}{len(slow):>10}   in {took:.0f} s, {args.jobs} jobs; "
          f"peak memory of a worker {peak:.0f} MB")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "inputs": count, "exceptions": len(failures), "over_1s": len(slow), "seconds": round(took),
        "jobs": args.jobs, "peak_mb_per_worker": round(peak),
        "targets": {n: {"inputs": t["count"], "exceptions": len(t["failures"]), "slowest_s": round(t["worst"], 3)}
                    for n, t in totals.items()},
        "first_exceptions": failures[:20]}, indent=2) + "\n")
    for f in failures[:20]:
        print("exception:", *f)
    for s in slow[:20]:
        print("slow:", *s)
    return 1 if failures or slow or peak >= PEAK_MB else 0


if __name__ == "__main__":
    sys.exit(main())
