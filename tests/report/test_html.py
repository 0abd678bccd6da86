import json
import re
import xml.etree.ElementTree as ET

from rasflow.report.html import ReportRun, render_html, tree
from rasflow.report.lifelines import lifelines
from report.rhelpers import OUTCOME, VERDICTS, flow, model_trace

XMLNS = "http://www.w3.org/2000/svg"


def _runs():
    return [ReportRun("memory UE <guest>", "upstream", flow(), OUTCOME, VERDICTS),
            ReportRun("memory UE", "kvm-serror-exit", model_trace(), {"host": "running"},
                      [("host alive", "running", "running", True)])]


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, re.S)]


def test_no_network_references():
    html = render_html(_runs())
    assert set(re.findall(r"https?://[^\s\"'<>)]*", html)) == {XMLNS}
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", html)


def test_one_lifeline_element_per_lifeline_in_each_diagram():
    runs = _runs()
    svgs = _svgs(render_html(runs))
    assert len(svgs) == 2
    for svg, run in zip(svgs, runs, strict=True):
        names = [g.get("data-name") for g in svg.iter() if g.get("class") == "lifeline"]
        assert names == [ln.label for ln in lifelines(run.events)]


def test_escaping():
    html = render_html(_runs(), title="a <b> & c")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html  # the guest log
    assert "memory UE &lt;guest&gt;" in html and "&lt;i&gt;guest&lt;/i&gt; killed" in html
    assert "<title>a &lt;b&gt; &amp; c</title>" in html
    assert html.count("</script>") == 3  # two event tables and the code


def test_embedded_events_decode():
    html = render_html(_runs())
    blob = re.search(r'id="run0-events">(.*?)</script>', html, re.S).group(1)
    events = json.loads(blob)
    arrows = [g for g in _svgs(html)[0].iter() if g.get("class") == "arrow"]
    for g in arrows:
        assert g.get("data-event") in events
    sig = next(e for e in events.values() if e["name"] == "signal_generate")
    assert sig["component"] == "host" and sig["fields"]["addr"] == 0x7F0000001040
    ioctl = next(e for e in events.values() if e["name"] == "kvm_vcpu_ioctl")
    assert ioctl["fields"]["struct"] == "00" * 64  # bytes as hex


def test_sections():
    html = render_html(_runs())
    assert 'class="runs"' in html and html.count('class="run"') == 2
    assert '<td class="pass">✓ pass</td>' in html and '<td class="fail">✗ fail</td>' in html
    assert "<h3>CPER records</h3>" in html and "physical_addr: 0x40001040" in html
    assert "<summary>vm0 record 0</summary>" in html  # a record object, via to_dict()
    assert "<h3>host kernel log</h3>" in html and "<h3>guest kernel vm0 log</h3>" in html
    assert "Hardware error from APEI Generic Hardware Error Source: 0" in html  # real run
    assert '<table class="compare">' in html


def test_single_run_has_no_comparison():
    html = render_html([ReportRun("t", "upstream", flow(), OUTCOME, VERDICTS)])
    assert '<table class="compare">' not in html and html.count('class="run"') == 1


def test_tree():
    out = tree({"a": {"b": [1, 0x40001040]}, "s": "<x>"}, "rec")
    assert out.count("<details") == 3 and "&lt;x&gt;" in out and "0x40001040" in out


def test_empty_run():
    html = render_html([ReportRun("empty", "p", [], {}, [])])
    assert "(no trace events)" in html and "(no verdicts)" in html
