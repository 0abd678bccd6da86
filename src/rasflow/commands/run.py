"""``rasflow run`` and ``rasflow scenarios``: run a scenario and show how the error travelled."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .common import EXIT_USAGE

DEFAULT = "guest-ue-ar"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow run",
        description="Run a scenario (a TOML file or a built-in name; default: guest-ue-ar): "
        "a timeline of every layer's step, then the outcome and the [expect] verdicts. "
        "Exit status 1 if a verdict fails.")
    p.add_argument("scenario", nargs="?", default=DEFAULT, help="FILE.toml or built-in NAME")
    p.add_argument("--policy", help="run every VM under this policy (upstream, kvm-serror-exit, "
                   "sea-to-user, delegated)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--json", action="store_true", help="print the outcome and verdicts as JSON")
    p.add_argument("--trace", metavar="F.jsonl", help="write every trace event (JSON Lines)")
    p.add_argument("--html", metavar="F.html", help="write the HTML report")
    p.add_argument("--perfetto", metavar="F.json", help="write the trace as Chrome trace-event JSON (Perfetto, "
                   "chrome://tracing): a track per layer and per CPU, the cost model's steps as spans")
    p.add_argument("--quiet", action="store_true", help="only what happened and the verdicts, not the story")
    p.add_argument("--full", action="store_true", help="the story from boot on (setup steps are folded by default)")
    return p


def user_error(prog: str, msg: object) -> int:
    print(f"rasflow {prog}: {msg}", file=sys.stderr)
    return EXIT_USAGE


def load(name: str):
    """A scenario by file or built-in name (ScenarioError: one line)."""
    from ..scenario import load_scenario

    return load_scenario(name)


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    from ..engine import Trace
    from ..policy import POLICIES
    from ..report import ReportRun, print_timeline, render_html
    from ..scenario import ScenarioError
    from ..scenario.runner import run

    if args.policy and args.policy not in POLICIES:
        return user_error("run", f"--policy {args.policy!r}: one of {', '.join(POLICIES)}")
    try:
        sc = load(args.scenario)
    except ScenarioError as e:
        return user_error("run", e)
    # an output the system refuses (a directory, a full or read-only disk) is an OSError:
    # one line and status 1 at the CLI's edge, as for every command
    sink = open(args.trace, "w") if args.trace else None  # noqa: SIM115 - closed below
    try:
        r = run(sc, policy=args.policy, seed=args.seed, trace=Trace(sink=sink))
    except (ValueError, RuntimeError) as e:
        return user_error("run", f"{sc.source or sc.name}: {e}")
    finally:
        if sink is not None:
            sink.close()
    outcome = r.outcome.to_dict()
    if args.json:
        print(json.dumps({"scenario": sc.name, "policy": args.policy, "outcome": outcome,
                          "verdicts": [{"name": n, "expected": w, "actual": g, "ok": ok}
                                       for n, w, g, ok in r.verdicts]},
                         indent=2, default=str))
    else:
        print_timeline(r.events, outcome, r.verdicts, title=f"rasflow run {sc.name}, policy "
                       f"{args.policy or sc.policy}", full=args.full, story=not args.quiet)
    if args.perfetto:
        from ..report.perfetto import write_perfetto

        write_perfetto(args.perfetto, r.events, r.system.engine.spent)
    if args.html:
        html = render_html([ReportRun(sc.name, args.policy or sc.policy, r.events, outcome,
                                      r.verdicts)], title=f"rasflow run {sc.name}")
        Path(args.html).write_text(html)
    return 0 if r.passed else 1


def scenarios(argv: Sequence[str]) -> int:
    """``rasflow scenarios``: the built-in scenarios, one line each."""
    argparse.ArgumentParser(prog="rasflow scenarios",
                            description="List the built-in scenarios.").parse_args(argv)
    from ..scenario import builtin_names, load_scenario

    names = builtin_names()
    width = max(len(n) for n in names)
    for n in names:
        print(f"{n:<{width}}  {load_scenario(n).description}")
    return 0
