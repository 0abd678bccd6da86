"""Summaries of a campaign directory, computed by DuckDB over its Parquet parts: outcome
rates per group (policy and settings by default) with 95% Wilson intervals, containment
latency percentiles, integrity (duplicate or missing rows) and the model errors seen."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .row import BREAKDOWN, COLUMNS, OUTCOMES
from .store import Store, StoreError

DEFAULT_BY = ("policy", "early_kill", "recovery", "notifications")
GROUPABLE = tuple(COLUMNS)[:tuple(COLUMNS).index("outcome") + 1]
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k/n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {"count": k, "rate": k / n if n else 0.0, "ci95": [lo, hi]}


def connect(root: str | Path) -> tuple[Any, list[tuple[Path, str]]]:
    """A DuckDB connection with view ``rows`` over the sound parts of ``root`` (Store.verify),
    and the damaged parts left out, with why."""
    import duckdb

    sound, damaged = Store(root).verify()
    if not sound:
        why = f"; damaged: {damaged[0][0].name} {damaged[0][1]}" if damaged else ""
        raise StoreError(f"{root}: no sound result parts (part-*.parquet){why}")
    db = duckdb.connect()
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for _, _, p in sound)
    db.execute(f"CREATE VIEW rows AS SELECT * FROM read_parquet([{files}])")
    return db, damaged


def summarize(root: str | Path, by: tuple[str, ...] = DEFAULT_BY) -> dict[str, Any]:
    """The summary of campaign directory ``root``, grouped by the columns ``by``."""
    for col in by:
        if col not in GROUPABLE:
            raise StoreError(f"--by {col!r}: one of {', '.join(GROUPABLE)}")
    db, damaged = connect(root)
    manifest = Store(root).manifest() or {}
    rows, distinct = db.execute("SELECT count(*), count(DISTINCT index) FROM rows").fetchone()
    keys = ", ".join(f'"{c}"' for c in by)
    counts = db.execute(f"SELECT {keys}, outcome, count(*) FROM rows GROUP BY ALL "
                        f"ORDER BY ALL").fetchall()
    lat = db.execute(
        f"SELECT {keys}, count(*), count(containment_ns), "
        f"quantile_cont(containment_ns, [0.5, 0.9, 0.99]) FROM rows GROUP BY ALL").fetchall()
    groups: dict[tuple, dict[str, Any]] = {}
    for *key, outcome, n in counts:
        g = groups.setdefault(tuple(key), {"key": dict(zip(by, key, strict=True)), "n": 0, "counts": {}})
        g["n"] += n
        g["counts"][outcome] = n
    for *key, n, contained, q in lat:
        g = groups[tuple(key)]
        g["contained"] = _rate(contained, n)
        g["latency_ns"] = ({"n": contained, "p50": q[0], "p90": q[1], "p99": q[2]}
                           if q is not None and contained else {"n": 0})
    for g in groups.values():
        counts_ = g.pop("counts")
        g["outcomes"] = {o: _rate(counts_.get(o, 0), g["n"]) for o in OUTCOMES
                         if o in counts_ or o != "error"}
    errors = db.execute("SELECT error, count(*) FROM rows WHERE error IS NOT NULL "
                        "GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 10").fetchall()
    asked = manifest.get("faults", distinct)
    return {"dir": str(root), "spec": manifest.get("spec"), "faults": asked, "rows": rows,
            "distinct": distinct, "duplicates": rows - distinct,
            "missing": max(0, asked - distinct), "by": list(by),
            "damaged": [{"part": p.name, "why": why} for p, why in damaged],
            "groups": list(groups.values()),
            "errors": [{"error": e, "count": n} for e, n in errors]}


def latency_quantiles(root: str | Path, by: str = "policy", points: int = 100) -> dict[str, dict[str, Any]]:
    """Per value of ``by``, the containment latency's distribution for a CDF: ``ns`` at the
    cumulative shares ``p`` (0, 1/points, ..., 1; DuckDB's quantile_cont), ``n`` and ``p50``."""
    db, _ = connect(root)
    ps = [i / points for i in range(points + 1)]
    out: dict[str, dict[str, Any]] = {}
    for value, n, qs in db.execute(
            f'SELECT "{by}", count(containment_ns), quantile_cont(containment_ns, {ps}) FROM rows '
            f"WHERE containment_ns IS NOT NULL GROUP BY ALL ORDER BY ALL").fetchall():
        out[str(value)] = {"n": n, "p": ps, "ns": list(qs), "p50": qs[points // 2]}
    return out


def layer_breakdown(root: str | Path, by: str = "policy") -> dict[str, dict[str, float]]:
    """Per value of ``by``, the mean time per layer of the contained faults (ns); empty for
    a directory written before the per-layer columns (store format 1)."""
    db, _ = connect(root)
    have = {r[0] for r in db.execute("DESCRIBE rows").fetchall()}
    if not set(BREAKDOWN) <= have:
        return {}
    means = ", ".join(f"avg({c})" for c in BREAKDOWN)
    return {str(value): dict(zip(BREAKDOWN.values(), vals, strict=True))
            for value, *vals in db.execute(f'SELECT "{by}", {means} FROM rows WHERE contained '
                                           f"GROUP BY ALL ORDER BY ALL").fetchall()}


def format_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g}{unit}"
    return f"{ns:.0f}ns"


def format_text(s: dict[str, Any]) -> str:
    """The summary as plain text, one block per group."""
    lines = [f"{s['dir']}: spec {s['spec']}, {s['rows']:,} rows of {s['faults']:,} "
             f"({s['duplicates']} duplicate, {s['missing']:,} missing)"]
    lines += [f"damaged part left out (its rows count as missing; a resume recomputes them): "
              f"{d['part']}: {d['why']}" for d in s.get("damaged", ())]
    for g in s["groups"]:
        key = " ".join(f"{k}={v}" for k, v in g["key"].items())
        lines.append(f"\n{key}  (n={g['n']:,})")
        for name, r in list(g["outcomes"].items()) + [("contained", g["contained"])]:
            lo, hi = r["ci95"]
            lines.append(f"  {name:<11} {r['rate'] * 100:6.2f}%  "
                         f"[{lo * 100:6.2f}, {hi * 100:6.2f}]  {r['count']:>9,}")
        lat = g["latency_ns"]
        if lat["n"]:
            lines.append(f"  latency     p50 {format_ns(lat['p50'])}  p90 "
                         f"{format_ns(lat['p90'])}  p99 {format_ns(lat['p99'])}")
    if s["errors"]:
        lines.append("\nmodel errors (outcome 'error'):")
        lines += [f"  {e['count']:>9,}  {e['error']}" for e in s["errors"]]
    return "\n".join(lines)
