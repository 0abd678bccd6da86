"""The terminal timeline of one run (``rasflow run``), rendered with rich."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..formats.linux.kvm import CAP_NAMES
from .labels import event_label, format_value, is_interface, time_us
from .lifelines import lifeline_of
from .summary import summary_lines

# Bookkeeping events a reader of the timeline does not need.
NOISE = {"program_start", "program_end", "eret", "acpi_tables_published", "hest_init",
         "ghes_probe", "sched_process_fork", "task_work_add", "ghes_ack_error",
         "ghes_proc_in_irq", "ghes_in_nmi_queue_one_entry"}
_SKIP_FIELDS = {"esr_decoded", "estatus", "decoded", "bytes", "struct"}
_DETAIL_MAX = 100
_CAP_IOCTLS = ("KVM_CHECK_EXTENSION", "KVM_ENABLE_CAP")
MAX_ROWS = 400

Row = tuple[str, str, str, str]  # (time, layer, what, detail)


def _detail(fields: Mapping[str, Any]) -> str:
    text = ""
    for k, v in fields.items():
        if k in _SKIP_FIELDS or isinstance(v, Mapping | list | tuple):
            continue
        if k == "arg" and fields.get("cmd") in _CAP_IOCTLS and v in CAP_NAMES:
            v = CAP_NAMES[v]  # KVM_CHECK_EXTENSION arg=41 is KVM_CAP_VCPU_EVENTS
        part = f"{k}={format_value(k, v)}"
        if len(text) + len(part) >= _DETAIL_MAX:
            return text + " …"
        text = f"{text} {part}" if text else part
    return text


def timeline_rows(events: Sequence[Any], *, noise: set[str] = NOISE, full: bool = True) -> list[Row]:
    """One row per interesting event; printk lines appear as log rows of their kernel.
    Without ``full``, what happens before the first fault (booting the host, creating the
    VMs, starting the programs) is one folded row."""
    if not events:
        return []
    t0 = events[0].time
    rows: list[Row] = []
    first = next((i for i, ev in enumerate(events) if ev.name == "fault"), 0) if not full else 0
    if first:
        shown = sum(ev.name not in noise for ev in events[:first])
        rows.append(("…", "setup", f"{shown} setup steps folded (--full shows them)", ""))
    for ev in events[first:]:
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


def timeline_table(events: Sequence[Any], *, max_rows: int = MAX_ROWS, full: bool = True) -> Table:
    table = Table(title="the story, one row per step", show_lines=False, header_style="bold")
    for name, style in (("time", "dim"), ("layer", "cyan"), ("what", "bold"), ("detail", "")):
        table.add_column(name, style=style, overflow="fold",
                         no_wrap=name in ("time", "layer"))
    for t, layer, what, detail in _cap(timeline_rows(events, full=full), max_rows):
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


def print_timeline(events: Sequence[Any], outcome: Mapping[str, Any] | None = None,
                   verdicts: Sequence[tuple[str, Any, Any, bool]] = (),
                   console: Console | None = None, *, max_rows: int = MAX_ROWS, title: str = "",
                   full: bool = True, story: bool = True) -> None:
    """Print what happened (report.summary), the story (one row per step), then the
    verdicts (✓/✗), to ``console``."""
    console = console or Console()
    if outcome is not None:
        console.print(Text("\n".join(summary_lines(title, events, outcome, verdicts))))
    if story:
        console.print(timeline_table(events, max_rows=max_rows, full=full))
    if verdicts:
        console.print(verdict_table(verdicts))
