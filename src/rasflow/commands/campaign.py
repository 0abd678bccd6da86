"""``rasflow campaign``: run or resume a fault-injection campaign, or summarise one.

    rasflow campaign SPEC.toml|default --out DIR [--faults N] [--workers K]
                     [--scheduler tcp://HOST:PORT] [--chunk ROWS]
    rasflow campaign resume DIR [--workers K] [--scheduler ...]
    rasflow campaign summary DIR [--by COLS] [--json] [--html F.html]

Running the same command again resumes: only the rows not yet in DIR are run. SIGINT or
SIGTERM stops it (see ``campaign.stop``): the finished rows stay, exit status 130 or 143.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .common import EXIT_USAGE


def _error(msg: object) -> int:
    print(f"rasflow campaign: {msg}", file=sys.stderr)
    return EXIT_USAGE


def run_parser(prog: str = "rasflow campaign") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Run a fault-injection campaign (a spec file or the built-in "
        "'default'): one Parquet row per fault under --out. Re-running the same command "
        "resumes where it stopped. 'rasflow campaign summary DIR' summarises.")
    p.add_argument("spec", help="SPEC.toml or a built-in name (default)")
    p.add_argument("--out", required=True, metavar="DIR", help="the result directory")
    p.add_argument("--faults", type=int, metavar="N", help="faults (rows) in all; default: "
                   "the spec's count")
    _executor_args(p)
    return p


def _executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                   help="local worker processes (1: in this process; default: one per CPU)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on this Dask distributed cluster instead")
    p.add_argument("--chunk", type=int, metavar="ROWS", help="rows per task and part file "
                   "(default: up to 1000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _execute(c, out: str, faults: int | None, args: argparse.Namespace, stop) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from ..campaign import StoreError, run_campaign

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.0f} faults/s" if task.speed else "- faults/s")

    if args.workers < 1 or (args.chunk is not None and args.chunk < 1):
        return _error("--workers and --chunk must be at least 1")
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   Rate(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   disable=args.quiet, transient=False)
    task = bar.add_task(c.name, total=None)

    def start(p) -> None:
        bar.update(task, total=p.total, completed=p.before)

    def at_once() -> None:
        bar.stop()
        print(f"rasflow campaign: stopped at once by a second {stop.name}; the finished parts "
              f"are in {out}: run the same command again to resume", file=sys.stderr, flush=True)

    try:
        with stop.at_once(at_once), bar:
            done = run_campaign(c, out, faults, workers=args.workers, scheduler=args.scheduler,
                                chunk=args.chunk, on_start=start, stop=stop,
                                on_chunk=lambda n: bar.advance(task, n))
    except StoreError as e:
        return _error(e)
    for part, why in done.damaged:
        print(f"rasflow campaign: {part.name} was damaged ({why}): set aside as damaged-{part.name}, "
              "its rows run again", file=sys.stderr)
    if stop():
        rows = done.before + done.ran
        left = "run the same command again to resume" if rows < done.total else "all are done"
        print(f"rasflow campaign: stopped by {stop.name}: {rows:,} of {done.total:,} rows are "
              f"in {out}; {left}", file=sys.stderr)
        return stop.status
    rate = done.ran / done.seconds if done.seconds else 0.0
    print(f"{out}: {done.before + done.ran:,} of {done.total:,} faults "
          f"({done.ran:,} run now in {done.seconds:.1f} s, {rate:,.0f} faults/s; "
          f"{done.before:,} were already there)")
    return 0


def run_main(argv: Sequence[str]) -> int:
    from ..campaign import Stop, load_campaign
    from ..campaign.spec import FAULTS_WHY, MAX_FAULTS
    from ..scenario import ScenarioError

    args = run_parser().parse_args(argv)
    if args.faults is not None and not 1 <= args.faults <= MAX_FAULTS:
        return _error(f"--faults must be 1..{MAX_FAULTS:,} ({FAULTS_WHY})")
    with Stop().handling() as stop:
        try:
            c = load_campaign(args.spec)
        except ScenarioError as e:
            return _error(e)
        return _execute(c, args.out, args.faults, args, stop)


def resume_main(argv: Sequence[str]) -> int:
    from ..campaign import Stop, Store, StoreError, load_campaign
    from ..scenario import ScenarioError

    p = argparse.ArgumentParser(prog="rasflow campaign resume",
                                description="Finish the campaign in DIR (its spec is the "
                                "file the manifest names).")
    p.add_argument("dir")
    _executor_args(p)
    args = p.parse_args(argv)
    with Stop().handling() as stop:
        try:
            m = Store(args.dir).manifest()
            if m is None:
                return _error(f"{args.dir}: no manifest.json: not a campaign directory")
            if not m.get("source"):
                return _error(f"{args.dir}: its spec was not a file; run the spec again")
            c = load_campaign(m["source"])
        except (StoreError, ScenarioError) as e:
            return _error(e)
        return _execute(c, args.dir, m["faults"], args, stop)


def summary_main(argv: Sequence[str]) -> int:
    from ..campaign import StoreError
    from ..campaign.plot import render_html
    from ..campaign.summary import (
        DEFAULT_BY,
        format_text,
        latency_quantiles,
        layer_breakdown,
        summarize,
    )

    p = argparse.ArgumentParser(prog="rasflow campaign summary",
                                description="Outcome rates (95%% Wilson intervals) and "
                                "containment latency percentiles of a campaign directory.")
    p.add_argument("dir")
    p.add_argument("--by", default=",".join(DEFAULT_BY), metavar="COLS",
                   help="group by these row columns (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--html", metavar="F.html", help="also write a page with plots")
    args = p.parse_args(argv)
    by = tuple(x for x in args.by.split(",") if x)
    try:
        s = summarize(args.dir, by)
        if args.html:
            Path(args.html).write_text(render_html(s, latency_quantiles(args.dir), layer_breakdown(args.dir)))
    except StoreError as e:
        return _error(e)
    print(json.dumps(s, indent=2) if args.json else format_text(s))
    return 0


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    sub = {"summary": summary_main, "resume": resume_main, "run": run_main}
    if argv and argv[0] in sub:
        return sub[argv[0]](argv[1:])
    return run_main(argv)
