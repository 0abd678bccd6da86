import json

from rich.console import Console

from rasflow.report.compare import compare_rich, compare_table

COLUMNS = {"upstream": {"host alive": True, "guest killed": "vm0:app", "containment": 1800},
           "kvm-serror-exit": {"host alive": False, "guest killed": None},
           "a|b": {"host alive": True}}
ROWS = ["host alive", "guest killed", "containment"]


def test_markdown():
    md, _ = compare_table(ROWS, COLUMNS)
    assert md.splitlines() == [
        "| | upstream | kvm-serror-exit | a\\|b |",
        "|---|---|---|---|",
        "| host alive | ✓ | ✗ | ✓ |",
        "| guest killed | vm0:app | — | — |",
        "| containment | 1800 | — | — |",
    ]


def test_json():
    _, data = compare_table(ROWS, {**COLUMNS, "odd": {"host alive": object.__new__(object)}})
    again = json.loads(json.dumps(data))
    assert again["rows"] == ROWS and again["columns"][:2] == ["upstream", "kvm-serror-exit"]
    assert again["values"]["upstream"] == {"host alive": True, "guest killed": "vm0:app",
                                           "containment": 1800}
    assert again["values"]["kvm-serror-exit"]["containment"] is None


def test_rich():
    console = Console(record=True, width=120, color_system=None)
    console.print(compare_rich(ROWS + ["[red]x"], COLUMNS))
    text = console.export_text()
    assert "kvm-serror-exit" in text and "✓" in text and "✗" in text and "[red]x" in text
