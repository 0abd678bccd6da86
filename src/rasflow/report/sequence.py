"""The sequence diagram: lifelines, the crossings between them, and a hand-written SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from .labels import describe_fields, event_label, is_interface, is_outbound, time_us
from .lifelines import Lifeline, lifeline_of, lifelines

MAX_ARROWS = 400
LEFT, COL, HEAD, ROW, PAD = 100, 180, 48, 26, 24
_FILL = {"hardware": "#e8e8e8", "firmware": "#f6d9c8", "kernel": "#d5e3f5", "kvm": "#e1d5f5",
         "vmm": "#d5f0e4", "process": "#fdf1c8", "other": "#eeeeee"}
_LABEL_MAX = 30


@dataclass(frozen=True)
class Step:
    """One row of the diagram: an arrow between lifelines, a note on one, or an elided gap."""

    kind: str  # "arrow" | "note" | "gap"
    time: int  # ns
    src: str | None  # lifeline key the arrow leaves (None for notes and gaps)
    dst: str | None  # lifeline key the arrow enters / the note sits on
    label: str
    event: int  # index of the event the step describes (-1 for a gap)
    detail: str  # hover text: the decoded fields


def _detail(ev: Any) -> str:
    head = f"{ev.name} @ {ev.component} t={ev.time} ns"
    body = describe_fields(ev.fields)
    return head + ("\n" + body if body else "")


def crossings(events: Sequence[Any]) -> list[Step]:
    """Arrows. An event that names the crossing it is (``from`` and/or ``to``, set by the
    model code that crosses: an ioctl from its caller into KVM, a signal to its task, the
    VMM's CPER into guest RAM) is an arrow between those lifelines, every time. Otherwise
    an arrow is each event whose lifeline differs from the previous (non-printk) event's,
    labelled with the interface crossed: the outbound interface event that left the
    lifeline just before (the exception entry that took the CPU into the firmware), else
    the entering event's if it is an interface (an ERET…), else an earlier outbound event
    on the lifeline left, else the entering event's name."""
    return [s for s in steps(events, max_arrows=None) if s.kind == "arrow"]


def steps(events: Sequence[Any], max_arrows: int | None = MAX_ARROWS) -> list[Step]:
    """Arrows and collapsed printk notes in trace order; past ``max_arrows`` arrows, the
    middle is replaced by one gap step (the first and last halves are kept)."""
    out: list[Step] = []
    prev: str | None = None
    last_out: int | None = None  # the last outbound interface event on ``prev``
    last = -1  # the previous non-printk event
    for i, ev in enumerate(events):
        key = lifeline_of(ev.component).key
        if ev.name == "printk":
            line = str(ev.fields.get("line", ""))
            note = out[-1] if out else None
            if note and note.kind == "note" and note.dst == key and note.event == i - _n(note):
                out[-1] = _add_line(note, line)
            else:
                out.append(Step("note", ev.time, None, key, line, i, line))
            continue
        explicit = _ends(ev.fields)
        if explicit is not None:
            src, dst = explicit
            src, dst = src or key, dst or key
            if src != dst:
                out.append(Step("arrow", ev.time, src, dst, event_label(ev.name, ev.fields), i, _detail(ev)))
            last_out = None
            prev, last = key, i
            continue
        if prev is not None and key != prev:
            shown = i
            if last_out is not None and (last_out == last or not is_interface(ev.name)):
                shown = last_out
            e = events[shown]
            out.append(Step("arrow", ev.time, prev, key, event_label(e.name, e.fields), shown,
                            _detail(e)))
            last_out = None
        if is_outbound(ev.name):
            last_out = i
        prev, last = key, i
    return _cap(out, max_arrows) if max_arrows is not None else out


def _ends(fields: Any) -> tuple[str | None, str | None] | None:
    """(from, to) of an event that names the crossing it is, else None."""
    src, dst = fields.get("from"), fields.get("to")
    if not isinstance(src, str) and not isinstance(dst, str):
        return None
    return (src if isinstance(src, str) else None, dst if isinstance(dst, str) else None)


def _n(note: Step) -> int:
    return note.detail.count("\n") + 1


def _add_line(note: Step, line: str) -> Step:
    n = _n(note) + 1
    return Step("note", note.time, None, note.dst, f"{n} log lines", note.event,
                note.detail + "\n" + line)


def _cap(out: list[Step], max_arrows: int) -> list[Step]:
    arrows = [i for i, s in enumerate(out) if s.kind == "arrow"]
    if len(arrows) <= max_arrows:
        return out
    half = max(1, max_arrows // 2)
    cut_from, cut_to = arrows[half], arrows[-half]
    hidden = out[cut_from:cut_to]
    n = sum(1 for s in hidden if s.kind == "arrow")
    gap = Step("gap", hidden[0].time, None, None,
               f"… {n} crossings omitted ({len(hidden)} rows, t={hidden[0].time}–"
               f"{hidden[-1].time} ns) …", -1, "")
    return out[:cut_from] + [gap] + out[cut_to:]


def _short(s: str, limit: int = _LABEL_MAX) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_svg(rows: Sequence[Step], lines: Sequence[Lifeline], t0: int = 0,
               id_prefix: str = "seq") -> str:
    """The diagram as one standalone SVG string (parseable as XML)."""
    x = {ln.key: LEFT + COL * i + COL // 2 for i, ln in enumerate(lines)}
    width = LEFT + COL * len(lines) + PAD
    height = HEAD + ROW * (len(rows) + 1) + PAD
    a = escape(id_prefix)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" id="{a}" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<defs><marker id="{a}-ah" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
           f'<text x="{LEFT - 8}" y="{HEAD - 8}" text-anchor="end" fill="#666">time</text>']
    for ln in lines:
        cx = x[ln.key]
        out.append(f'<g class="lifeline" data-name="{escape(ln.label)}" data-key="{escape(ln.key)}">'
                   f'<title>{escape(ln.label)}</title>'
                   f'<rect x="{cx - COL // 2 + 8}" y="8" width="{COL - 16}" height="28" rx="4" '
                   f'fill="{_FILL.get(ln.kind, "#eee")}" stroke="#777"/>'
                   f'<text x="{cx}" y="26" text-anchor="middle" font-weight="bold">'
                   f'{escape(_short(ln.label))}</text>'
                   f'<line x1="{cx}" y1="36" x2="{cx}" y2="{height - PAD // 2}" stroke="#999" '
                   'stroke-dasharray="4 3"/></g>')
    shown_time = None
    for r, s in enumerate(rows):
        y = HEAD + ROW * r + ROW // 2
        if s.kind != "gap" and s.time != shown_time:
            shown_time = s.time
            out.append(f'<text class="time" x="{LEFT - 8}" y="{y + 4}" text-anchor="end" '
                       f'fill="#555">{escape(time_us(s.time, t0))}</text>')
        out.append(_row(s, y, x, width, a))
    out.append("</svg>")
    return "\n".join(out)


def _row(s: Step, y: int, x: dict[str, int], width: int, a: str) -> str:
    title = f"<title>{escape(s.detail)}</title>"
    if s.kind == "gap":
        return (f'<g class="gap"><line x1="{LEFT}" y1="{y}" x2="{width - PAD}" y2="{y}" '
                f'stroke="#c00" stroke-dasharray="2 4"/><text x="{(LEFT + width) // 2}" '
                f'y="{y - 4}" text-anchor="middle" fill="#c00">{escape(s.label)}</text></g>')
    ev = f'data-event="{s.event}" tabindex="0"'
    if s.kind == "note":
        cx = x[s.dst]
        first = s.detail.split("\n", 1)[0]
        text = _short(first) if s.label == first else f"{s.label}: {_short(first)}"
        return (f'<g class="note" {ev}>{title}<rect x="{cx + 4}" y="{y - 9}" width="{COL - 12}" '
                f'height="17" fill="#fffbe0" stroke="#d8c66a"/><text x="{cx + 8}" y="{y + 3}" '
                f'font-size="9" fill="#554">{escape(_short(text))}</text></g>')
    x1, x2 = x[s.src], x[s.dst]
    return (f'<g class="arrow" {ev} data-from="{escape(s.src)}" data-to="{escape(s.dst)}">'
            f'{title}<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#333" '
            f'stroke-width="1.3" marker-end="url(#{a}-ah)"/>'
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="transparent" stroke-width="10"/>'
            f'<text x="{(x1 + x2) // 2}" y="{y - 4}" text-anchor="middle">'
            f'{escape(_short(s.label, max(_LABEL_MAX, abs(x2 - x1) // 6)))}</text></g>')


def sequence_svg(events: Sequence[Any], *, max_arrows: int = MAX_ARROWS,
                 id_prefix: str = "seq") -> str:
    """Events → the SVG sequence diagram (lifelines from :func:`lifelines`)."""
    t0 = events[0].time if events else 0
    return render_svg(steps(events, max_arrows), lifelines(events), t0, id_prefix)
