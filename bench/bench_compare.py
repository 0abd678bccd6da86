"""``rasflow compare`` of one scenario: the four policies, each with its twin run (the same
fault on a plain host process), as the command computes them. Target: under 1 s.

Writes bench/results/compare.json. ``--scenario NAME`` (default guest-ue-ar).
"""

from __future__ import annotations

import argparse
import time

from bench_hw_fw import write_result  # bench/ is the script's directory
from rasflow.policy import POLICIES
from rasflow.scenario import load_scenario
from rasflow.scenario.compare import compare_runs, compare_verdicts

TARGET_S = 1.0


def compare_once(name: str) -> float:
    sc = load_scenario(name)
    t = time.perf_counter()
    for policy in POLICIES:
        compare_verdicts(*compare_runs(sc, policy))
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", default="guest-ue-ar")
    args = p.parse_args()
    compare_once(args.scenario)  # warm: imports, the cost table
    best = min(compare_once(args.scenario) for _ in range(5))
    print(f"compare {args.scenario}: {len(POLICIES)} policies + twins in {best * 1000:.0f} ms "
          f"(best of 5; target < {TARGET_S * 1000:.0f} ms)")
    write_result("compare", {"scenario": args.scenario, "seconds": best, "target_s": TARGET_S})


if __name__ == "__main__":
    main()
