"""One self-contained HTML report for one or more model runs (inline CSS, JS and SVG)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .assets import CSS, JS
from .labels import describe_fields, format_value, time_us
from .lifelines import lifeline_of, lifelines
from .sequence import MAX_ARROWS, render_svg, steps
from .summary import summary_rows

Verdict = tuple[str, Any, Any, bool]


@dataclass
class ReportRun:
    """What one run of the model gives the report."""

    title: str
    policy: str
    events: Sequence[Any]  # rasflow.engine.trace.TraceEvent
    outcome: Mapping[str, Any] = field(default_factory=dict)
    verdicts: Sequence[Verdict] = ()


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes | bytearray):
        return v.hex()
    if hasattr(v, "to_dict"):
        return v.to_dict()
    return str(v)


def _script_json(obj: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(obj, default=_jsonable, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _diagram(run: ReportRun, i: int, max_arrows: int) -> str:
    ev = list(run.events)
    if not ev:
        return "<p>(no trace events)</p>"
    rows = steps(ev, max_arrows)
    t0 = ev[0].time if ev else 0
    svg = render_svg(rows, lifelines(ev), t0, id_prefix=f"run{i}")
    data = {s.event: {"time": ev[s.event].time, "component": ev[s.event].component,
                      "name": ev[s.event].name, "fields": ev[s.event].fields,
                      "text": f"{time_us(ev[s.event].time, t0)}\n{describe_fields(ev[s.event].fields)}"}
            for s in rows if s.event >= 0}
    return (f'<div class="diagram">{svg}</div>\n<script type="application/json" '
            f'id="run{i}-events">{_script_json(data)}</script>')


def _verdicts(verdicts: Sequence[Verdict]) -> str:
    if not verdicts:
        return "<p>(no verdicts)</p>"
    rows = "".join(
        f'<tr><td>{escape(str(n))}</td><td>{escape(str(e))}</td><td>{escape(str(a))}</td>'
        f'<td class="{"pass" if ok else "fail"}">{"✓ pass" if ok else "✗ fail"}</td></tr>'
        for n, e, a, ok in verdicts)
    return ('<table class="verdicts"><tr><th>verdict</th><th>expected</th><th>actual</th>'
            f'<th></th></tr>{rows}</table>')


def _outcome(run: ReportRun) -> str:
    """What happened (report.summary): the fault and its addresses, the signals, who
    survived, the pages, the CPER records, containment, exposure, the verdicts."""
    if not run.outcome:
        return ""
    rows = "".join(f"<tr><th>{escape(head)}</th><td>{escape(text)}</td></tr>"
                   for head, text in summary_rows(run.events, run.outcome, run.verdicts))
    return f'<table class="outcome">{rows}</table>'


def tree(obj: Any, name: str = "record", *, open_: bool = False) -> str:
    """A decoded structure as nested <details> elements."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if isinstance(obj, Mapping):
        items = list(obj.items())
    elif isinstance(obj, list | tuple):
        items = [(f"[{i}]", x) for i, x in enumerate(obj)]
    else:
        return f'<div class="leaf">{escape(name)}: {escape(format_value(name, obj))}</div>'
    body = "".join(tree(v, str(k)) for k, v in items)
    return (f"<details{' open' if open_ else ''}><summary>{escape(name)}</summary>"
            f"{body}</details>")


def _cper(outcome: Mapping[str, Any]) -> str:
    records = outcome.get("cper") or {}
    if not records:
        return ""
    parts = [tree(rec, f"{who} record {i}", open_=True)
             for who, recs in records.items() for i, rec in enumerate(recs or ())]
    return "<h3>CPER records</h3>" + "".join(parts) if parts else ""


def _logs(events: Sequence[Any]) -> str:
    logs: dict[str, list[str]] = {}
    for ev in events:
        if ev.name == "printk":
            line = f"[{ev.time / 1e9:12.6f}] {ev.fields.get('line', '')}"
            logs.setdefault(lifeline_of(ev.component).label, []).append(line)
    return "".join(f"<h3>{escape(k)} log</h3><pre class=\"log\">{escape(chr(10).join(v))}</pre>"
                   for k, v in logs.items())


def _compare(runs: Sequence[ReportRun]) -> str:
    names: list[str] = []
    for r in runs:
        names += [v[0] for v in r.verdicts if v[0] not in names]
    if len(runs) < 2 or not names:
        return ""
    groups: list[list[Any]] = []  # [scenario, columns] for runs of one scenario side by side
    for r in runs:
        scenario = r.title.split(" · ")[0]  # compare titles its runs "SCENARIO · POLICY"
        if groups and groups[-1][0] == scenario:
            groups[-1][1] += 1
        else:
            groups.append([scenario, 1])
    scenarios = "".join(f'<th colspan="{n}">{escape(t)}</th>' for t, n in groups)
    head = "".join(f"<th>{escape(r.policy)}</th>" for r in runs)
    body = ""
    for n in names:
        cells = ""
        for r in runs:
            v = next((v for v in r.verdicts if v[0] == n), None)
            cells += ("<td>—</td>" if v is None else
                      f'<td class="{"pass" if v[3] else "fail"}">{"✓" if v[3] else "✗"} '
                      f"{escape(str(v[2]))}</td>")
        body += f"<tr><th>{escape(n)}</th>{cells}</tr>"
    return (f'<h2>Comparison</h2><table class="compare"><tr><th></th>{scenarios}</tr>'
            f"<tr><th></th>{head}</tr>{body}</table>")


LAYER_COLOURS = {"firmware": "#8e6c8a", "host kernel": "#4e79a7", "KVM": "#f28e2b",
                 "VMM": "#e15759", "guest": "#59a14f", "waiting": "#bab0ac"}


def containment_bar(outcome: Mapping[str, Any], scale_ns: int | None = None) -> str:
    """Time to containment as a bar split by layer (firmware, host kernel, KVM, VMM, guest,
    waiting), ``scale_ns`` wide (several runs share one scale); a result that is not
    "contained" (a panic, a VMM abort) is said instead."""
    result, ns = outcome.get("containment"), outcome.get("containment_ns")
    if result is None:
        return ""
    if result != "contained" or not ns:
        return f'<p class="containment">containment: <b>{escape(str(result))}</b></p>'
    parts = [(k, v) for k, v in (outcome.get("breakdown") or {}).items() if v > 0]
    width = 100 * ns / (scale_ns or ns)
    segs = "".join(f'<span style="flex:{v};background:{LAYER_COLOURS.get(k, "#999")}" '
                   f'title="{escape(k)}: {v:,} ns"></span>' for k, v in parts)
    legend = " · ".join(f'<span style="color:{LAYER_COLOURS.get(k, "#999")}">■</span> '
                        f"{escape(k)} {v:,} ns" for k, v in parts)
    return (f'<div class="containment"><div>time to containment: <b>{ns:,} ns</b></div>'
            f'<div class="bar" style="width:{width:.1f}%">{segs}</div>'
            f'<div class="legend">{legend}</div></div>')


def _containment_compare(runs: Sequence[ReportRun]) -> str:
    if len(runs) < 2:
        return ""
    scale = max((r.outcome.get("containment_ns") or 0 for r in runs), default=0) or None
    rows = "".join(f"<tr><th>{escape(r.policy)}</th><td>{containment_bar(r.outcome, scale)}</td></tr>"
                   for r in runs)
    return f'<h2>Time to containment</h2><table class="compare bars">{rows}</table>'


def _run(run: ReportRun, i: int, max_arrows: int) -> str:
    return (f'<section class="run" id="run{i}-section"><h2>{escape(run.title)} '
            f'<span class="policy">{escape(run.policy)}</span></h2>'
            f"{_outcome(run)}{containment_bar(run.outcome)}"
            f"{_diagram(run, i, max_arrows)}"
            f"<h3>Verdicts</h3>{_verdicts(run.verdicts)}{_cper(run.outcome)}"
            f"{_logs(run.events)}</section>")


def render_html(runs: Sequence[ReportRun], *, title: str = "rasflow report",
                max_arrows: int = MAX_ARROWS) -> str:
    """The whole report: per run its sequence diagram, verdicts, CPER records and kernel
    logs; several runs sit side by side (a horizontally scrollable grid)."""
    cards = "\n".join(_run(r, i, max_arrows) for i, r in enumerate(runs))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1>{_compare(runs)}{_containment_compare(runs)}"
            f"<div class=\"runs\">{cards}</div>"
            '<aside id="panel"><h3 id="panel-title">event</h3>'
            '<pre id="panel-body">Click an arrow or a log note to see its decoded fields.</pre>'
            f"</aside><script>{JS}</script></body></html>\n")
