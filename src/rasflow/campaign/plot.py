"""A self-contained HTML page of a campaign summary, its plots drawn by matplotlib as inline
SVG (text kept as text; no script, no network): the share of each outcome per group with its
95% Wilson interval and the percentage written next to it, and the containment latency as a
CDF per policy on a log axis. The text summary follows as a table."""

from __future__ import annotations

import io
from html import escape
from typing import Any

from ..report.html import LAYER_COLOURS  # the run report's containment-bar colours
from .row import OUTCOMES
from .summary import format_ns

COLOURS = {"error": "#000000", "host-panic": "#b2182b", "vm-lost": "#ef8a62",
           "killed": "#d6604d", "signalled": "#4393c3", "logged": "#2166ac",
           "silent": "#878787"}
LINE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                                "axes.spines.right": False, "svg.hashsalt": "rasflow"})
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # inline: no XML prolog or doctype


def _labels(s: dict[str, Any]) -> list[str]:
    """Each group by the grouping columns that vary between groups, and its n."""
    groups = s["groups"]
    varying = [k for k in s["by"] if len({str(g["key"][k]) for g in groups}) > 1] or s["by"]
    return [" ".join(f"{k}={g['key'][k]}" for k in varying) + f"  (n={g['n']:,})" for g in groups]


def outcome_chart(s: dict[str, Any]) -> str:
    """One panel per outcome that happened: each group's share as a point with its 95%
    Wilson interval, the percentage written beside it."""
    plt = _pyplot()
    groups, labels = s["groups"], _labels(s)
    shown = [o for o in OUTCOMES if any(g["outcomes"].get(o, {}).get("count") for g in groups)]
    if not shown:
        return "<p>No rows.</p>"
    fig, axes = plt.subplots(1, len(shown), sharey=True, squeeze=False,
                             figsize=(1.7 * len(shown) + 2.5, 0.32 * len(groups) + 1.1))
    ys = list(range(len(groups)))[::-1]
    for ax, name in zip(axes[0], shown, strict=True):
        for y, g in zip(ys, groups, strict=True):
            r = g["outcomes"].get(name, {"rate": 0.0, "ci95": (0.0, 0.0), "count": 0})
            lo, hi = r["ci95"]
            ax.errorbar([r["rate"] * 100], [y], xerr=[[(r["rate"] - lo) * 100], [(hi - r["rate"]) * 100]],
                        fmt="o", color=COLOURS[name], ms=4, capsize=2, lw=1)
            ax.annotate(f"{r['rate']:.1%}", (hi * 100, y), xytext=(4, -3), textcoords="offset points")
        ax.set_title(name)
        ax.set_xlim(0, 118)
        ax.set_xlabel("% of faults")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(ys, labels)
    return _svg(fig)


def latency_cdf(quantiles: dict[str, dict[str, Any]]) -> str:
    """Per policy, the share of contained faults contained within a time (log axis)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    drawn: dict[tuple, str] = {}  # curve -> the first policy drawn with it
    for i, (name, q) in enumerate(sorted(quantiles.items())):
        xs = [max(v, 1) for v in q["ns"]]
        same = drawn.setdefault(tuple(xs), name)
        note = f", the same as {same}" if same != name else ""
        ax.step(xs, q["p"], where="post", color=LINE_COLOURS[i % len(LINE_COLOURS)],
                lw=2 if not note else 1, ls="-" if not note else "--",
                label=f"{name} (n={q['n']:,}, p50 {format_ns(q['p50'])}{note})")
    if not quantiles:
        ax.text(0.5, 0.5, "no fault was contained", ha="center", transform=ax.transAxes)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time to containment (ns)")
    ax.set_ylabel("share of contained faults")
    ax.grid(alpha=0.3, which="both")
    if quantiles:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    return _svg(fig)


def breakdown_chart(means: dict[str, dict[str, float]]) -> str:
    """Per policy, where the mean time to containment went: one stacked bar, a segment per
    layer, its mean in µs written on the wide ones."""
    if not means:
        return "<p>No per-layer times in these rows (written before rasflow recorded them).</p>"
    plt = _pyplot()
    names = sorted(means)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
    total = max(sum(v or 0 for v in m.values()) for m in means.values()) or 1
    for y, name in enumerate(reversed(names)):
        left = 0.0
        for layer, colour in LAYER_COLOURS.items():
            us = (means[name].get(layer) or 0) / 1000
            if not us:
                continue
            ax.barh(y, us, left=left, color=colour, height=0.6, label=layer if y == 0 else None)
            if us * 1000 > total * 0.08:
                ax.text(left + us / 2, y, f"{us:.1f}", ha="center", va="center", fontsize=8, color="white")
            left += us
    ax.set_yticks(range(len(names)), list(reversed(names)))
    ax.set_xlabel("mean time to containment (µs), by layer")
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    ax.legend(seen.values(), seen.keys(), loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    return _svg(fig)


def _constants(s: dict[str, Any]) -> str:
    """The grouping columns every group shares, as one line."""
    same = {k: s["groups"][0]["key"][k] for k in s["by"] if s["groups"]
            and len({str(g["key"][k]) for g in s["groups"]}) == 1}
    text = ", ".join(f"{k}={v}" for k, v in same.items())
    return f"<p>All groups: {escape(text)}</p>" if same and len(same) < len(s["by"]) else ""


def summary_table(s: dict[str, Any]) -> str:
    """Every group's outcome rates with their intervals and its latency percentiles."""
    rows = []
    for g, label in zip(s["groups"], _labels(s), strict=True):
        cells = "".join(f"<td>{r['rate']:.2%} <small>[{r['ci95'][0]:.2%}, {r['ci95'][1]:.2%}]</small></td>"
                        for r in (g["outcomes"].get(o, {"rate": 0, "ci95": (0, 0)}) for o in OUTCOMES))
        lat = g["latency_ns"]
        ps = " / ".join(format_ns(lat.get(p)) for p in ("p50", "p90", "p99")) if lat["n"] else "-"
        rows.append(f"<tr><th>{escape(label)}</th>{cells}<td>{ps}</td></tr>")
    head = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    return (f'<table class="summary"><tr><th></th>{head}<th>latency p50 / p90 / p99</th></tr>'
            f"{''.join(rows)}</table>")


def render_html(s: dict[str, Any], quantiles: dict[str, dict[str, Any]],
                means: dict[str, dict[str, float]] | None = None) -> str:
    """The whole page: title, what the rows are, outcome chart, latency CDF, where the time
    went per layer, the table."""
    title = f"rasflow campaign {s['spec']}: {s['rows']:,} faults"
    notes = [f"{s['duplicates']} duplicate and {s['missing']:,} missing rows"]
    notes += [f"damaged part left out: {d['part']}: {d['why']}" for d in s.get("damaged", ())]
    errors = "".join(f"<li>{e['count']:,} × {escape(str(e['error']))}</li>" for e in s["errors"])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}svg{max-width:100%;height:auto}table.summary{border-collapse:collapse;"
            "font-size:12px}table.summary td,table.summary th{border:1px solid #ccc;padding:3px 6px;"
            "text-align:right}table.summary th:first-child{text-align:left}</style>"
            f"</head><body><h1>{escape(title)}</h1><p>{escape('; '.join(notes))}</p>"
            f"<h2>Outcomes per {escape(', '.join(s['by']))}, with 95% Wilson intervals</h2>{_constants(s)}"
            f"{outcome_chart(s)}"
            f"<h2>Time to containment per policy</h2>{latency_cdf(quantiles)}"
            f"<h2>Where the time to containment went</h2>{breakdown_chart(means or {})}"
            f"<h2>Summary</h2>{summary_table(s)}"
            + (f"<h2>Model errors</h2><ul>{errors}</ul>" if errors else "") + "</body></html>")
