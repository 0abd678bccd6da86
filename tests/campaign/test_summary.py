"""Summaries: DuckDB's numbers agree with the rows; Wilson intervals; the CLI and HTML."""

import json
from collections import Counter

import pytest

from rasflow.campaign import Store, load_campaign, run_campaign, summarize, wilson
from rasflow.campaign.plot import render_html
from rasflow.campaign.summary import latency_quantiles, layer_breakdown
from rasflow.commands.campaign import main

N = 160


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("campaign")
    run_campaign(load_campaign("default"), out, N, workers=1, chunk=50)
    return out


def test_wilson():
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_summary_matches_rows(out):
    rows = Store(out).read().to_pylist()
    s = summarize(out)
    assert (s["rows"], s["distinct"], s["duplicates"], s["missing"]) == (N, N, 0, 0)
    assert len(s["groups"]) == 8 and sum(g["n"] for g in s["groups"]) == N
    for g in s["groups"]:
        mine = [r for r in rows if all(r[k] == v for k, v in g["key"].items())]
        assert g["n"] == len(mine) == N // 8
        counts = Counter(r["outcome"] for r in mine)
        for name, r in g["outcomes"].items():
            assert r["count"] == counts.get(name, 0)
            assert r["rate"] == pytest.approx(r["count"] / g["n"])
            assert r["ci95"][0] <= r["rate"] <= r["ci95"][1]
        lat = sorted(r["containment_ns"] for r in mine if r["containment_ns"] is not None)
        assert g["contained"]["count"] == len(lat) == g["latency_ns"]["n"]
        if lat:
            assert lat[0] <= g["latency_ns"]["p50"] <= g["latency_ns"]["p99"] <= lat[-1]


def test_summary_by_kind(out):
    s = summarize(out, ("policy", "kind"))
    assert {tuple(g["key"]) for g in s["groups"]} == {("policy", "kind")}
    assert sum(g["n"] for g in s["groups"]) == N


def test_html(out):
    """The page draws its plots with matplotlib as inline SVG (text kept as text), with the
    percentages and the intervals, and holds no script."""
    s = summarize(out)
    page = render_html(s, latency_quantiles(out), layer_breakdown(out))
    assert page.count("<svg") == 3 and "<script" not in page and "<?xml" not in page
    assert "mean time to containment (µs), by layer" in page
    assert "upstream" in page and "time to containment (ns)" in page
    g = s["groups"][0]
    for r in g["outcomes"].values():
        if r["count"]:
            assert f"{r['rate']:.1%}" in page and f"[{r['ci95'][0]:.2%}, {r['ci95'][1]:.2%}]" in page


def test_latency_quantiles_are_the_cdf_of_the_rows(out):
    q = latency_quantiles(out)
    s = summarize(out, ("policy",))
    for g in s["groups"]:
        mine = q.get(g["key"]["policy"])
        if not g["latency_ns"]["n"]:
            assert mine is None
            continue
        assert mine["n"] == g["latency_ns"]["n"] and mine["p"][0] == 0 and mine["p"][-1] == 1
        assert mine["ns"] == sorted(mine["ns"]) and mine["p50"] == g["latency_ns"]["p50"]


def test_cli(out, tmp_path, capsys):
    assert main(["summary", str(out), "--json", "--html", str(tmp_path / "s.html")]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["rows"] == N and (tmp_path / "s.html").read_text().startswith("<!doctype html>")
    assert main(["summary", str(out), "--by", "nope"]) == 2
    assert "--by 'nope': one of index" in capsys.readouterr().err
    assert main(["default", "--faults", "16", "--workers", "1", "--quiet",
                 "--out", str(tmp_path / "c")]) == 0
    assert "16 of 16 faults" in capsys.readouterr().out
    assert main(["resume", str(tmp_path / "c"), "--workers", "1", "--quiet"]) == 0
    assert "0 run now" in capsys.readouterr().out
    assert main(["nope.toml", "--out", str(tmp_path / "d")]) == 2
    assert main(["summary", str(tmp_path / "empty")]) == 2


def test_latency_cdf_says_which_curves_coincide():
    from rasflow.campaign.plot import latency_cdf

    same = {"n": 4, "p": [0, 0.5, 1], "ns": [1000, 2000, 4000], "p50": 2000}
    svg = latency_cdf({"delegated": {"n": 4, "p": [0, 0.5, 1], "ns": [10, 20, 40], "p50": 20},
                       "sea-to-user": same, "upstream": dict(same)})
    assert "upstream (n=4, p50 2us, the same as sea-to-user)" in svg
    assert "delegated (n=4, p50 20ns)" in svg


def test_layer_breakdown_adds_up_to_the_containment_time(out):
    """The per-layer columns split each contained row's containment_ns: their means add up
    to the mean containment time."""
    import duckdb

    from rasflow.campaign.row import BREAKDOWN

    means = layer_breakdown(out)
    db = duckdb.connect()
    files = [str(p) for p in sorted(out.glob("part-*.parquet"))]
    for policy, m in means.items():
        (mean,) = db.execute("SELECT avg(containment_ns) FROM read_parquet(?) WHERE contained AND policy = ?",
                             [files, policy]).fetchone()
        assert sum(m.values()) == pytest.approx(mean)
        assert set(m) == set(BREAKDOWN.values())
