"""The terminal timeline of one run (``rasflow run``), rendered with rich."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .labels import event_label, format_value, is_interface, time_us
from .lifelines import lifeline_of

# Bookkeeping events a reader of the timeline does not need.
NOISE = {"program_start", "program_end", "eret", "acpi_tables_published", "hest_init",
         "ghes_probe", "sched_process_fork", "task_work_add", "ghes_ack_error",
         "ghes_proc_in_irq", "ghes_in_nmi_queue_one_entry"}
_SKIP_FIELDS = {"esr_decoded", "estatus", "decoded", "bytes", "struct"}
_DETAIL_MAX = 100
MAX_ROWS = 400

Row = tuple[str, str, str, str]  # (time, layer, what, detail)


def _detail(fields: Mapping[str, Any]) -> str:
    text = ""
    for k, v in fields.items():
        if k in _SKIP_FIELDS or isinstance(v, Mapping | list | tuple):
            continue
        part = f"{k}={format_value(k, v)}"
        if len(text) + len(part) >= _DETAIL_MAX:
            return text + " …"
        text = f"{text} {part}" if text else part
    return text


def timeline_rows(events: Sequence[Any], *, noise: set[str] = NOISE) -> list[Row]:
    """One row per interesting event; printk lines appear as log rows of their kernel."""
    if not events:
        return []
    t0 = events[0].time
    rows: list[Row] = []
    for ev in events:
        if ev.name in noise:
            continue
        layer = lifeline_of(ev.component).label
        if ev.name == "printk":
            rows.append((time_us(ev.time, t0), layer, "  log", str(ev.fields.get("line", ""))))
            continue
        what = event_label(ev.name, ev.fields) if is_interface(ev.name) else ev.name
        rows.append((time_us(ev.time, t0), layer, what, _detail(ev.fields)))
    return rows


def _cap(rows: list[Row], limit: int) -> list[Row]:
    if len(rows) <= limit:
        return rows
    half = limit // 2
    skipped = len(rows) - 2 * half
    return rows[:half] + [("…", "", f"{skipped} rows omitted", "")] + rows[-half:]


def timeline_table(events: Sequence[Any], *, max_rows: int = MAX_ROWS) -> Table:
    table = Table(title="timeline", show_lines=False, header_style="bold")
    for name, style in (("time", "dim"), ("layer", "cyan"), ("what", "bold"), ("detail", "")):
        table.add_column(name, style=style, overflow="fold",
                         no_wrap=name in ("time", "layer"))
    for t, layer, what, detail in _cap(timeline_rows(events), max_rows):
        table.add_row(t, layer, Text(what), Text(detail), style="dim" if what == "  log" else None)
    return table


def verdict_table(verdicts: Sequence[tuple[str, Any, Any, bool]]) -> Table:
    table = Table(title="verdicts", header_style="bold")
    for name in ("", "verdict", "expected", "actual"):
        table.add_column(name)
    for name, expected, actual, ok in verdicts:
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        table.add_row(mark, Text(str(name)), Text(str(expected)), Text(str(actual)))
    return table


def outcome_table(outcome: Mapping[str, Any]) -> Table:
    table = Table(title="outcome", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for k, v in outcome.items():
        if k == "cper" and isinstance(v, Mapping):
            v = {who: f"{len(recs or ())} record(s)" for who, recs in v.items()}
        table.add_row(Text(str(k)), Text("—" if v is None else str(v)))
    return table


def print_timeline(events: Sequence[Any], outcome: Mapping[str, Any] | None = None,
                   verdicts: Sequence[tuple[str, Any, Any, bool]] = (),
                   console: Console | None = None, *, max_rows: int = MAX_ROWS) -> None:
    """Print the timeline, then the outcome and the verdicts (✓/✗), to ``console``."""
    console = console or Console()
    console.print(timeline_table(events, max_rows=max_rows))
    if outcome:
        console.print(outcome_table(outcome))
    if verdicts:
        console.print(verdict_table(verdicts))
