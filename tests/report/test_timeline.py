from rich.console import Console

from rasflow.report.timeline import print_timeline, timeline_rows
from report.rhelpers import OUTCOME, VERDICTS, ev, flow


def test_rows():
    rows = timeline_rows(flow())
    whats = [r[2] for r in rows]
    assert "program_start" not in whats and not any(w.startswith("ERET") for w in whats)
    assert rows[0] == ("0.000 µs", "hardware", "inject memory-ue pa=0x40001040",
                       "fault=memory-ue pa=0x40001040")
    assert ("0.200 µs", "hardware", "SEA ESR=0x92000010") == rows[1][:3]
    logs = [r for r in rows if r[2] == "  log"]
    assert [r[1] for r in logs] == ["host kernel", "host kernel", "guest kernel vm0"]
    assert logs[0][3] == "{1}[Hardware Error]: event severity: recoverable"
    sig = next(r for r in rows if r[1] == "vm0:app")
    assert sig[:3] == ("1.700 µs", "vm0:app", "SIGBUS BUS_MCEERR_AR addr=0x1000")


def test_time_is_relative_microseconds():
    rows = timeline_rows([ev(5_000, "host", "a"), ev(6_234_567, "host", "b")])
    assert [r[0] for r in rows] == ["0.000 µs", "6229.567 µs"]
    assert timeline_rows([]) == []


def test_print_timeline():
    console = Console(record=True, width=220, color_system=None)
    print_timeline(flow(), OUTCOME, VERDICTS, console=console)
    text = console.export_text()
    assert "KVM_SET_VCPU_EVENTS" in text and "guest kernel vm0" in text
    assert "✓" in text and "✗" in text and "host alive" in text
    assert "[bold]x[/bold]" in text  # log text is not rich markup
    assert "CPER       host 1 · vm0 1" in text
    assert "SIGBUS BUS_MCEERR_AR → vm0:app si_addr 0x1000" in text
    assert "exposed    ESR_EL2 to vmm:vm0" in text


def test_long_timelines_are_capped():
    console = Console(record=True, width=120, color_system=None)
    print_timeline([ev(i, "host", "x") for i in range(1000)], console=console, max_rows=10)
    assert "990 rows omitted" in console.export_text()


def test_setup_is_folded_unless_full():
    events = [ev(0, "host", "setup_a"), ev(1, "host", "setup_b"), ev(2, "machine", "fault"), ev(3, "host", "c")]
    folded = timeline_rows(events, full=False)
    assert folded[0][1] == "setup" and "setup steps folded" in folded[0][2]
    assert len(folded) < len(timeline_rows(events))
