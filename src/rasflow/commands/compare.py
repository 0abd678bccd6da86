"""``rasflow compare``: the same scenarios under several policies, one column per policy."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .run import load, user_error


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rasflow compare",
        description="Run scenarios under several policies and compare the verdicts "
        "(host alive, VM alive, right process killed, guest address right, raw host data "
        "exposed, non-VM processes served, time to containment and where it went per "
        "layer), every one computed from the runs: the non-VM row from a twin run in which "
        "the same fault hits a plain host process).")
    p.add_argument("scenarios", nargs="+", help="FILE.toml or built-in NAME")
    p.add_argument("--policy", default="upstream,kvm-serror-exit,sea-to-user,delegated",
                   help="comma-separated policies (default: all four)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="Markdown tables")
    fmt.add_argument("--json", action="store_true", help="JSON")
    p.add_argument("--html", metavar="F.html", help="the HTML report, the runs side by side")
    return p


def _compare_one(sc, policies: list[str], runs: list, progress, todo) -> dict | str:
    """One scenario under each policy: its column per policy (or an error line)."""
    from ..report import ReportRun
    from ..scenario.compare import compare_runs, compare_verdicts

    columns = {}
    for pol in policies:
        progress.update(todo, description=f"{sc.name} · {pol}")
        try:
            r, twin = compare_runs(sc, pol)
        except (ValueError, RuntimeError) as e:
            return f"{sc.source or sc.name} under {pol}: {e}"
        columns[pol] = compare_verdicts(r, twin)
        runs.append(ReportRun(f"{sc.name} · {pol}", pol, r.events, r.outcome.to_dict(), r.verdicts))
        progress.advance(todo)
    return columns


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..policy import POLICIES
    from ..report import compare_rich, compare_table, render_html
    from ..scenario import ScenarioError
    from ..scenario.compare import ROWS

    policies = [p.strip() for p in args.policy.split(",") if p.strip()]
    bad = [p for p in policies if p not in POLICIES]
    if bad or not policies:
        return user_error("compare", f"--policy {','.join(bad)!r}: one of {', '.join(POLICIES)}")
    out, runs = {}, []
    console = Console()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                        disable=not sys.stderr.isatty())
    with progress:
        todo = progress.add_task("compare", total=len(args.scenarios) * len(policies))
        for name in args.scenarios:
            try:
                sc = load(name)
            except ScenarioError as e:
                return user_error("compare", e)
            status = _compare_one(sc, policies, runs, progress, todo)
            if isinstance(status, str):
                return user_error("compare", status)
            columns = status
            md, data = compare_table(ROWS, columns)
            out[sc.name] = data
            if args.markdown:
                print(f"### {sc.name}\n\n{md}\n")
            elif not args.json:
                console.print(compare_rich(ROWS, columns, title=sc.name))
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    if args.html:
        Path(args.html).write_text(render_html(runs, title="rasflow compare"))  # OSError: status 1
    return 0
