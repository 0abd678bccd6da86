"""A self-contained HTML page of a campaign summary: outcome bars per group (stacked,
with the 95% intervals in the tooltips) and containment-latency distributions, inline SVG."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from .row import OUTCOMES
from .summary import format_ns, format_text

COLOURS = {"error": "#000000", "host-panic": "#b2182b", "vm-lost": "#ef8a62",
           "killed": "#fddbc7", "signalled": "#d1e5f0", "logged": "#67a9cf",
           "silent": "#cccccc"}
LINE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
LABEL_W, BAR_W, ROW_H = 330, 520, 22


def outcome_bars(s: dict[str, Any]) -> str:
    """One stacked bar per group: the share of each outcome."""
    groups = s["groups"]
    varying = [k for k in s["by"] if len({str(g["key"][k]) for g in groups}) > 1] or s["by"]
    labels = [" ".join(f"{k}={g['key'][k]}" for k in varying) + f" (n={g['n']:,})"
              for g in groups]
    label_w = int(max([LABEL_W // 2] + [6.3 * len(x) for x in labels])) + 10
    legend_w = sum(14 + 8 * len(name) + 12 for name in OUTCOMES)
    h = ROW_H * len(s["groups"]) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + max(BAR_W, legend_w) + 20}" '
           f'height="{h}" font-family="sans-serif" font-size="12">']
    for i, g in enumerate(s["groups"]):
        y = 10 + i * ROW_H
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
                   f'{escape(labels[i])}</text>')
        x = float(label_w)
        for name in OUTCOMES:
            r = g["outcomes"].get(name)
            if not r or not r["count"]:
                continue
            w = r["rate"] * BAR_W
            lo, hi = r["ci95"]
            tip = f"{name}: {r['rate']:.2%} [{lo:.2%}, {hi:.2%}] ({r['count']:,})"
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW_H - 4}" '
                       f'fill="{COLOURS[name]}"><title>{escape(tip)}</title></rect>')
            x += w
    y = h - 18
    x = label_w
    for name in OUTCOMES:
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[name]}"/>'
                   f'<text x="{x + 14}" y="{y + 9}">{name}</text>')
        x += 14 + 8 * len(name) + 12
    out.append("</svg>")
    return "".join(out)


def latency_lines(hist: dict[str, dict[int, int]]) -> str:
    """Per value (policy): the share of contained faults in each power-of-two bin."""
    bins = sorted({b for h in hist.values() for b in h}) or [0]
    lo, hi = bins[0], bins[-1] + 1
    w, h, left, top = 640, 260, 50, 20
    span = max(1, hi - lo)

    def px(b: float) -> float:
        return left + (b - lo) / span * (w - left - 20)

    peak = max([0.05] + [n / (sum(c.values()) or 1) for c in hist.values() for n in c.values()])
    peak = math.ceil(peak * 10) / 10

    def py(f: float) -> float:
        return top + (1 - f / peak) * (h - top - 40)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20 * len(hist)}" '
           f'font-family="sans-serif" font-size="12">',
           f'<line x1="{left}" y1="{py(0)}" x2="{w - 20}" y2="{py(0)}" stroke="#333"/>',
           f'<line x1="{left}" y1="{py(0)}" x2="{left}" y2="{py(peak)}" stroke="#333"/>',
           f'<text x="{left - 4}" y="{py(peak) + 4}" text-anchor="end">{peak:.0%}</text>',
           f'<text x="{left - 4}" y="{py(0)}" text-anchor="end">0</text>']
    for b in range(lo, hi + 1, max(1, span // 8)):
        out.append(f'<text x="{px(b):.1f}" y="{py(0) + 16}" text-anchor="middle">'
                   f'{format_ns(2 ** b)}</text>')
    drawn: dict[str, str] = {}  # points -> the first value drawn with them
    for i, (name, counts) in enumerate(sorted(hist.items())):
        total = sum(counts.values()) or 1
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        pts = " ".join(f"{px(b + 0.5):.1f},{py(counts.get(b, 0) / total):.1f}"
                       for b in range(lo, hi))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        same = drawn.setdefault(pts, name)  # an identical curve hides under the first one
        note = f", the same as {same}" if same != name else ""
        y = h + 20 * i
        out.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + 14}" y="{y}">{escape(name)} (n={total:,}{escape(note)})</text>')
    out.append("</svg>")
    return "".join(out)


def _constants(s: dict[str, Any]) -> str:
    """The grouping columns every group shares, as one line."""
    same = {k: s["groups"][0]["key"][k] for k in s["by"] if s["groups"]
            and len({str(g["key"][k]) for g in s["groups"]}) == 1}
    text = ", ".join(f"{k}={v}" for k, v in same.items())
    return f"<p>All groups: {escape(text)}</p>" if same and len(same) < len(s["by"]) else ""


def render_html(s: dict[str, Any], hist: dict[str, dict[int, int]]) -> str:
    """The whole page: title, outcome bars, latency distributions, the text summary."""
    title = f"rasflow campaign {s['spec']}: {s['rows']:,} faults"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}pre{font-size:12px}</style>"
            f"</head><body><h1>{escape(title)}</h1>"
            f"<h2>Outcomes per {escape(', '.join(s['by']))}</h2>{_constants(s)}"
            f"{outcome_bars(s)}"
            f"<h2>Containment latency per policy</h2>{latency_lines(hist)}"
            f"<h2>Summary</h2><pre>{escape(format_text(s))}</pre></body></html>")
