"""Comparison tables: one row per verdict (or metric), one column per policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

MISSING = "—"


def cell(value: Any) -> str:
    """A value as table text: booleans as ✓/✗, None as —."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare_table(rows: Sequence[str], columns: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[str, dict[str, Any]]:
    """(Markdown table, JSON-able dict) comparing ``columns`` (policy → row → value)."""
    policies = list(columns)
    lines = ["| | " + " | ".join(_md_escape(p) for p in policies) + " |",
             "|---|" + "---|" * len(policies)]
    for r in rows:
        cells = [_md_escape(cell(columns[p].get(r))) for p in policies]
        lines.append(f"| {_md_escape(r)} | " + " | ".join(cells) + " |")
    data = {"rows": list(rows), "columns": policies,
            "values": {p: {r: _jsonable(columns[p].get(r)) for r in rows} for p in policies}}
    return "\n".join(lines) + "\n", data


def compare_rich(rows: Sequence[str], columns: Mapping[str, Mapping[str, Any]],
                 title: str = "comparison") -> Table:
    """The same comparison as a rich Table (✓ green, ✗ red)."""
    table = Table(title=title, header_style="bold")
    table.add_column("")
    for p in columns:
        table.add_column(p)
    for r in rows:
        cells = []
        for p in columns:
            text = cell(columns[p].get(r))
            cells.append(Text(text, style={"✓": "green", "✗": "red"}.get(text, "")))
        table.add_row(Text(r), *cells)
    return table
