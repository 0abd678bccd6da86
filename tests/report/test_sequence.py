import xml.etree.ElementTree as ET

from rasflow.report.labels import event_label, time_us
from rasflow.report.lifelines import lifelines
from rasflow.report.sequence import crossings, render_svg, sequence_svg, steps
from report.rhelpers import ESR_SEA, ESTATUS, SEA_DEC, ev, flow, model_trace

SVG = "{http://www.w3.org/2000/svg}"


def test_crossings_of_the_reference_flow():
    got = [(s.src, s.dst, s.label) for s in crossings(flow())]
    assert got == [
        ("hw", "host:db", "program_start"),
        ("host:db", "vm0:app", "program_start"),
        ("vm0:app", "hw", "SEA ESR=0x92000010"),
        ("hw", "fw", "SEA ESR=0x92000010"),
        ("fw", "hw", "SEA ESR=0x92000010 → EL2"),
        ("hw", "host", "do_sea"),
        ("host", "vmm:vm0", "SIGBUS BUS_MCEERR_AR addr=0x7f0000001040"),
        ("vmm:vm0", "kvm", "KVM_SET_VCPU_EVENTS"),
        ("kvm", "guest:vm0", "world switch vsesr_el2=0x0"),
        ("guest:vm0", "vm0:app", "SIGBUS BUS_MCEERR_AR addr=0x1000"),
    ]


def test_arrow_refers_to_the_event_it_names():
    events = flow()
    for s in crossings(events):
        e = events[s.event]
        assert event_label(e.name, e.fields) == s.label
        assert e.name in s.detail


def test_printk_lines_are_collapsed_notes_not_arrows():
    rows = steps(flow())
    notes = [s for s in rows if s.kind == "note"]
    assert [(n.dst, n.label) for n in notes] == [
        ("host", "2 log lines"), ("guest:vm0", "<script>alert('x')</script> & [bold]x[/bold]")]
    assert "Error 0, type: recoverable" in notes[0].detail
    assert all(s.src != s.dst for s in rows if s.kind == "arrow")


def test_labels():
    assert event_label("exception_entry", {"exception": "sync", "esr": ESR_SEA,
                                           "esr_decoded": SEA_DEC}) == "SEA ESR=0x92000010"
    assert event_label("exception_entry", {"exception": "serror", "esr": 0xBE000011,
                                           "esr_decoded": {"ec": "SError"}}) == \
        "SError ESR=0xbe000011"
    assert event_label("exception_entry", {"exception": "sync", "esr": 0x56000000,
                                           "esr_decoded": {"ec": "SVC64"}}) == \
        "sync SVC64 ESR=0x56000000"
    assert event_label("signal_deliver", {"sig": 7, "code": 5, "addr": 0x2000}) == \
        "SIGBUS BUS_MCEERR_AO addr=0x2000"
    assert event_label("signal_generate", {"sig": 9, "code": 0x80}) == "SIGKILL SI_KERNEL"
    assert event_label("kvm_ioctl", {"cmd": "KVM_RUN", "errno": "EINTR"}) == "KVM_RUN = EINTR"
    assert event_label("kvm_exit", {"exit_reason": "KVM_EXIT_ARM_SEA"}) == \
        "kvm_exit KVM_EXIT_ARM_SEA"
    assert event_label("ghes_proc", {}) == "ghes_proc"
    assert event_label("kvm_vm_ioctl", {"cmd": 0x4040AE9F, "ret": -22}) == "ioctl 0x4040ae9f = -22"
    assert event_label("vmm_ioctl", {"cmd": 1, "name": "KVM_RUN"}) == "KVM_RUN"


def test_cper_label_from_the_decoded_record():
    from rasflow.formats.cper.estatus import decode_estatus
    rec = decode_estatus(ESTATUS).to_dict()
    assert event_label("cper_record", {"estatus": ESTATUS, "decoded": rec}) == \
        "CPER memory PA=0x40001040"


def test_time_labels():
    assert time_us(2500, 1000) == "1.500 µs"
    assert time_us(1000, 1000) == "0.000 µs"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_svg_structure():
    events = flow()
    root = _parse(sequence_svg(events))
    lines = [g for g in root.iter() if g.get("class") == "lifeline"]
    assert [g.get("data-name") for g in lines] == [ln.label for ln in lifelines(events)]
    arrows = [g for g in root.iter() if g.get("class") == "arrow"]
    assert len(arrows) == len(crossings(events))
    for g in arrows:
        assert int(g.get("data-event")) >= 0
        assert g.find(f"{SVG}title").text
    times = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "time"]
    assert times[0] == "0.000 µs" and "1.000 µs" in times
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0


def test_svg_escapes_text():
    svg = sequence_svg(flow())
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    _parse(svg)


def test_long_traces_are_capped():
    events = [ev(i, "host" if i % 2 else "fw", "x", n=i) for i in range(5000)]
    rows = steps(events, max_arrows=400)
    arrows = [s for s in rows if s.kind == "arrow"]
    assert len(arrows) == 400
    gaps = [s for s in rows if s.kind == "gap"]
    assert len(gaps) == 1 and "4599 crossings omitted" in gaps[0].label
    assert arrows[0].time == 1 and arrows[-1].time == 4999
    svg = sequence_svg(events)
    assert len(svg) < 250_000
    root = _parse(svg)
    assert sum(1 for g in root.iter() if g.get("class") == "gap") == 1


def test_real_model_trace():
    events = model_trace()
    arrows = crossings(events)
    assert ("hw", "fw", "SEA ESR=0x92000010") in [(s.src, s.dst, s.label) for s in arrows]
    assert ("fw", "hw", "SEA ESR=0x92000010 → EL2") in [(s.src, s.dst, s.label) for s in arrows]
    assert ("hw", "host", "SEA ESR=0x92000010") in [(s.src, s.dst, s.label) for s in arrows]
    assert ("host", "hw", "ERET EL2→EL0") in [(s.src, s.dst, s.label) for s in arrows]
    root = _parse(render_svg(steps(events), lifelines(events), events[0].time))
    names = [g.get("data-name") for g in root.iter() if g.get("class") == "lifeline"]
    assert names == ["hardware", "EL3 firmware", "host kernel"]


def test_hover_text_formats_fields():
    from rasflow.report.labels import describe_fields
    text = describe_fields({"esr": 0x92000010, "esr_decoded": {"DFSC": 16, "WnR": 0},
                            "raw": b"\x01\x02",
                            "blob": "ab" * 100, "flags": ["MF_ACTION_REQUIRED"], "n": 3})
    assert text.splitlines()[:4] == ["esr = 0x92000010", "esr_decoded.DFSC = 0x10",
                                     "esr_decoded.WnR = 0", "raw = 0102"]
    assert "(200 chars)" in text and "flags = [MF_ACTION_REQUIRED]" in text and "n = 3" in text
