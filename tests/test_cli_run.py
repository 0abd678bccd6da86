"""rasflow run / scenarios / compare, end to end through the CLI."""

from __future__ import annotations

import json

from rasflow.cli import main
from rasflow.scenario import builtin_names


def test_run_default_is_the_reference_flow(capsys):
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "BUS_MCEERR_AR" in out and "guest kernel vm0" in out and "✓" in out


def test_run_json_trace_and_html(tmp_path, capsys):
    trace, html = tmp_path / "t.jsonl", tmp_path / "r.html"
    assert main(["run", "host-process-ue", "--json", "--trace", str(trace), "--html", str(html)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"]["processes"]["host:db"] == "killed"
    assert all(v["ok"] for v in doc["verdicts"])
    lines = trace.read_text().splitlines()
    assert len(lines) == doc["outcome"]["trace_events"]
    assert json.loads(lines[0])["c"] and "<svg" in html.read_text()


def test_failed_verdict_is_exit_status_1(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('duration = "1ms"\n[[host.processes]]\nname = "db"\nprogram = [["load", 0x10000000]]\n'
                 '[expect]\nhost = "panic"\n')
    assert main(["run", str(f), "--quiet"]) == 1
    assert "✗" in capsys.readouterr().out


def test_user_errors_are_one_line_and_status_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[machine]\nram = "4GB"\n')
    assert main(["run", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"rasflow run: {f}:2: machine.ram:")
    assert main(["run", "guest-ue-ar", "--policy", "nope"]) == 2


def test_scenarios_lists_every_builtin(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == builtin_names()


def test_compare_shows_the_design_differences(capsys, tmp_path):
    html = tmp_path / "c.html"
    assert main(["compare", "guest-ue-ar", "guest-serror-esb", "--json", "--html", str(html)]) == 0
    data = json.loads(capsys.readouterr().out)
    v = data["guest-ue-ar"]["values"]
    assert v["upstream"]["right process killed"] is True and v["upstream"]["guest address right"] is True
    # the 2017 design exits with ESR_EL2 for SErrors only; an SEA takes the SIGBUS path
    assert v["kvm-serror-exit"]["raw host data exposed"] == "none"
    assert v["kvm-serror-exit"]["VM alive"] is True
    # an SError the guest kernel took: the proposal terminates the guest, exposes nothing
    serror = data["guest-serror-esb"]["values"]["kvm-serror-exit"]
    assert serror["VM alive"] is False and serror["raw host data exposed"] == "none"
    assert data["guest-serror-esb"]["values"]["delegated"]["right process killed"] is True
    assert v["sea-to-user"]["right process killed"] is True
    assert data["guest-serror-esb"]["values"]["upstream"]["VM alive"] is False
    assert html.read_text().count("<svg") == 8  # two scenarios x four policies, side by side


def test_run_says_what_happened_first(monkeypatch, capsys):
    """Issue 18: at 120 columns the first 25 lines answer "what happened" with the values the
    run measured, in hex, before the story; setup is folded unless --full."""
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["run", "guest-ue-ar"]) == 0
    out = capsys.readouterr().out.splitlines()
    head = "\n".join(out[:25])
    for line in ("fault      memory-ue at 1.400 µs on vm0:app: VA 0x10000040 → IPA 0x44000040 → PA 0x44002040",
                 "SIGBUS BUS_MCEERR_AR → vm0:app si_addr 0x10000000",
                 "outcome    host running · vm0 running · vmm:vm0 running · vm0:app killed",
                 "pages      host pfn 0x44002 MF_MSG_DIRTY_LRU: Recovered",
                 "contained  contained in 307.954 µs", "verdicts   9 of 9 hold", "setup steps folded"):
        assert line in head, head
    assert main(["run", "--full", "guest-ue-ar"]) == 0
    assert "KVM_CHECK_EXTENSION" in capsys.readouterr().out and "KVM_CHECK_EXTENSION" not in "\n".join(out)


def test_run_text_has_no_python_reprs_and_names_capabilities(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    for name in builtin_names():
        main(["run", "--full", name])
        out = capsys.readouterr().out
        assert not any(r in out for r in ("{'", "Event(", "RasEvent(", "[{")), name
    assert main(["run", "--full", "guest-ue-ar"]) == 0
    out = capsys.readouterr().out
    assert "KVM_CAP_VCPU_EVENTS" in out  # KVM_CHECK_EXTENSION's arg named, not 41


def test_run_quiet_prints_what_happened_and_the_verdicts(capsys):
    assert main(["run", "--quiet", "guest-ue-ar"]) == 0
    out = capsys.readouterr().out
    assert "contained in" in out and "verdicts" in out and "the story" not in out


def test_compare_html_heads_each_scenario_and_prints_no_reprs(tmp_path, capsys):
    page = tmp_path / "c.html"
    assert main(["compare", "guest-ue-ar", "host-process-ue", "--html", str(page)]) == 0
    capsys.readouterr()
    html = page.read_text()
    assert '<th colspan="4">guest-ue-ar</th><th colspan="4">host-process-ue</th>' in html
    text = html.split("<script", 1)[0]
    assert not any(r in text for r in ("('", "{'", "[{")), "a Python repr in the page"
