"""Render the HTML report in a real headless Chromium: a screenshot and the live DOM."""

import os
import re
import shutil
import subprocess

import pytest

from rasflow.report.html import ReportRun, render_html
from rasflow.report.lifelines import lifelines
from report.png import colours, decode_png
from report.rhelpers import OUTCOME, VERDICTS, flow, model_trace

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser: install Debian's chromium package "
                            "(apt-get install --no-install-recommends chromium)")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}", *args]
    env = {**os.environ, "HOME": str(tmp_path)}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{BROWSER} did not finish in 60 s")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    runs = [ReportRun("memory UE in a guest", "upstream", flow(), OUTCOME, VERDICTS),
            ReportRun("host user load", "firmware-first", model_trace(), {"host": "running"},
                      [])]
    path.write_text(render_html(runs), encoding="utf-8")
    return path, runs


def test_screenshot_is_not_blank(report, tmp_path):
    path, _ = report
    png = tmp_path / "out.png"
    proc = _chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,900",
                     path.as_uri())
    assert png.exists(), proc.stderr[-2000:]
    width, height, bpp, rows = decode_png(png.read_bytes())
    assert (width, height) == (1280, 900)
    seen = colours(rows, bpp)
    assert len(seen) > 10, f"only {len(seen)} colours: a blank page"


def test_dom_has_the_diagrams(report, tmp_path):
    path, runs = report
    proc = _chromium(tmp_path, "--dump-dom", path.as_uri())
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert dom.count("<svg") == 2
    names = re.findall(r'<g class="lifeline" data-name="([^"]*)"', dom)
    expected = [ln.label for run in runs for ln in lifelines(run.events)]
    assert names == expected
    assert "VMM vm0" in names and "guest kernel vm0" in names
    assert 'id="panel"' in dom and "SEA ESR=0x92000010" in dom


def _click(report, tmp_path, selector: str) -> tuple[str, str]:
    """The DOM after clicking the element ``selector`` picks, and the side panel's text."""
    path, _ = report
    click = (f"<script>{selector}"
             ".dispatchEvent(new MouseEvent('click', {bubbles: true}));</script></body>")
    clicked = tmp_path / "clicked.html"
    clicked.write_text(path.read_text(encoding="utf-8").replace("</body>", click),
                       encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", clicked.as_uri()).stdout
    return dom, re.search(r'<pre id="panel-body">(.*?)</pre>', dom, re.S).group(1)


def test_click_shows_the_decoded_event(report, tmp_path):
    dom, panel = _click(report, tmp_path, "document.querySelectorAll('g.arrow')[2]")
    # decoded fields as name = value lines, registers and addresses in hex (issue 18)
    assert "esr = 0x92000010" in panel and "esr_decoded.DFSC = 0x10" in panel and "far = 0x40001040" in panel
    assert "2449473552" not in panel
    assert '<h3 id="panel-title">exception_entry @ cpu0</h3>' in dom
    assert 'class="arrow selected"' in dom


def test_click_on_a_log_note_shows_its_lines(report, tmp_path):
    _, panel = _click(report, tmp_path, "document.querySelector('g.note')")
    assert "event severity: recoverable" in panel and "Error 0, type: recoverable" in panel


def test_at_1400_px_no_run_is_hidden_behind_the_side_panel(report, tmp_path):
    """Issue 18: the run's card (and its diagram, which scrolls inside it) ends left of the
    fixed side panel."""
    path, _ = report
    probe = ("<script>var r=document.querySelector('.run').getBoundingClientRect(),"
             "p=document.getElementById('panel').getBoundingClientRect();"
             "document.body.setAttribute('data-probe', Math.round(r.right)+' '+Math.round(p.left));</script></body>")
    page = tmp_path / "probe.html"
    page.write_text(path.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom = _chromium(tmp_path, "--window-size=1400,900", "--dump-dom", page.as_uri()).stdout
    right, panel_left = map(int, re.search(r'data-probe="(\d+) (\d+)"', dom).groups())
    assert 0 < right <= panel_left, (right, panel_left)


def test_the_outcome_says_what_happened_in_hex(report, tmp_path):
    path, _ = report
    html = path.read_text(encoding="utf-8")
    assert "<th>signals</th><td>" in html and "→ vm0:app si_addr 0x1000" in html
    assert "{'" not in html.split("<script", 1)[0]


def test_every_interface_crossing_of_a_run_has_its_arrow(tmp_path):
    """Issue 18: each crossing the model names (an ioctl from the VMM into KVM, KVM_SET_ONE_REG
    for the SEA injection among them; the VMM's CPER into guest RAM; each signal to its task)
    is an arrow from that end to that end in the page Chromium renders, even where the
    lifeline does not change (back-to-back ioctls); the hurt process has a lifeline."""
    from rasflow.scenario.runner import run

    r = run("guest-ue-ar")
    events = list(r.events)
    path = tmp_path / "run.html"
    path.write_text(render_html([ReportRun("guest-ue-ar", "upstream", events, r.outcome.to_dict(), r.verdicts)]),
                    encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", path.as_uri()).stdout
    arrows = {int(m.group(1)): (m.group(2), m.group(3)) for m in re.finditer(
        r'<g class="arrow" data-event="(\d+)" tabindex="0" data-from="([^"]*)" data-to="([^"]*)"', dom)}
    named = {i: e for i, e in enumerate(events) if "from" in e.fields or "to" in e.fields}
    assert len(named) > 20
    for i, e in named.items():
        own = e.component
        want = (e.fields.get("from", own), e.fields.get("to", own))
        assert arrows.get(i) == want, (i, e.name, e.fields.get("cmd"), want, arrows.get(i))
    cmds = [e.fields.get("cmd") for e in named.values()]
    assert cmds.count("KVM_SET_ONE_REG") >= 2  # back to back on KVM's lifeline, each its own arrow
    assert ("vmm:vm0", "guest:vm0") in arrows.values() and ("guest:vm0", "vm0:app") in arrows.values()
    assert 'data-name="vm0:app"' in dom
