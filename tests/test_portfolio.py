"""Portfolio: many organizations at once (tables, figures, notebook, command)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from readiness.core import portfolio
from readiness.report import figures as plots
from readiness.report.execute import portfolio_notebook
from readiness.report.html import to_html

from .conftest import ROOT

BIN = Path(sys.executable).parent
PANEL = ROOT / "data" / "peers" / "panel.csv"
PANEL_PROFILES = ROOT / "data" / "peers" / "panel.profiles.csv"


def _doc(
    org: str,
    overall: float | None,
    facets: dict[str, tuple[float, float | None]],
    actions=(),
    barrier: str | None = None,
) -> dict:
    """A results document cut down to what the portfolio reads: facets are {id: (score, gap)}."""
    return {
        "organization": {
            "id": org,
            "name": f"Center {org}",
            "industry": "retail",
            "size_band": "51-150",
            "stage": "piloting",
        },
        "respondents": {"n": 10},
        "overall": {
            "score": overall,
            "ci": None if overall is None else [overall - 4, overall + 4],
            "level": None,
            "barrier": barrier,
            "percentile": None,
        },
        "benchmark": None,
        "dimensions": {d: {"score": overall} for d in ("people", "process", "technology", "knowledge")},
        "facets": {
            f: {"dimension": f.split(".")[0], "title": f.split(".")[1].title(), "score": s}
            for f, (s, _) in facets.items()
        },
        "plan": {"gaps": {f: g for f, (_, g) in facets.items() if g is not None}},
        "roadmap": [{"action": a, "title": a.replace("-", " "), "phase": p, "rank": r} for a, p, r in actions],
    }


@pytest.fixture
def docs():
    return [
        _doc(
            "B",
            60.0,
            {"people.coaching": (40.0, 20.0), "process.goals": (70.0, 0.0)},
            [("train-managers", 1, 1), ("revise-goals", 2, 2)],
            barrier="people.coaching",
        ),
        _doc(
            "A",
            72.5,
            {"people.coaching": (55.0, 5.0), "process.goals": (50.0, 10.0)},
            [("revise-goals", 1, 1), ("train-managers", 1, 2)],
        ),
        _doc(
            "C",
            60.0,
            {"people.coaching": (30.0, 30.0), "process.goals": (80.0, None)},
            [("train-managers", 1, 2)],
            barrier="people.coaching",
        ),
        _doc("D", None, {"people.coaching": (None, None), "process.goals": (None, None)}),
    ]


# ---------------------------------------------------------------------- tables, worked by hand
def test_ranking_orders_by_score_then_id_missing_last(docs):
    table = portfolio.ranking(docs)
    assert list(table["org_id"]) == ["A", "B", "C", "D"]  # B and C tie on 60: id decides
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table.loc[0, "ci_low"] == 68.5 and table.loc[0, "ci_high"] == 76.5


def test_common_gaps_counts_and_means(docs):
    table = portfolio.common_gaps(docs).set_index("facet")
    # coaching: gaps 20, 5, 30 -> 3 below target, mean 55/3; barrier in B and C
    assert table.loc["people.coaching", "with_gap"] == 3
    assert table.loc["people.coaching", "mean_gap"] == pytest.approx(55 / 3)
    assert table.loc["people.coaching", "mean_score"] == pytest.approx((40 + 55 + 30) / 3)
    assert table.loc["people.coaching", "barrier"] == 2
    # goals: gaps 0 and 10 (C has none planned) -> one below target
    assert table.loc["process.goals", "with_gap"] == 1 and table.loc["process.goals", "mean_gap"] == 10
    assert list(portfolio.common_gaps(docs)["facet"]) == ["people.coaching", "process.goals"]


def test_frequent_actions_in_the_first_phase(docs):
    table = portfolio.frequent_actions(docs, phase=1)
    assert list(table["action"]) == ["train-managers", "revise-goals"]
    first = table.iloc[0]
    assert first["organizations"] == 3 and first["share"] == 0.75 and first["mean_rank"] == pytest.approx(5 / 3)
    every = portfolio.frequent_actions(docs, phase=None).set_index("action")
    assert every.loc["revise-goals", "organizations"] == 2


def test_summary_headlines(docs):
    s = portfolio.summary(docs)
    assert s["organizations"] == 4 and s["respondents"] == 40
    assert s["mean_overall"] == pytest.approx((60 + 72.5 + 60) / 3)
    assert s["commonest_barrier"] == "people.coaching" and s["barrier_count"] == 2


# ---------------------------------------------------------------------- figures
def test_portfolio_figures_draw_one_row_per_organization_or_facet(docs):
    ax = plots.portfolio_ranking(docs)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["1. Center A", "2. Center B", "3. Center C"]  # D has no score: not drawn
    ax = plots.portfolio_gaps(docs)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Coaching", "Goals"]
    ax = plots.portfolio_dimensions(docs)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["People", "Process", "Technology", "Knowledge"]
    plt.close("all")


def test_portfolio_figures_explain_what_is_missing():
    empty = [_doc("X", None, {"people.coaching": (None, None)})]
    for draw in (plots.portfolio_ranking, plots.portfolio_dimensions, plots.portfolio_gaps):
        ax = draw(empty)
        assert not ax.axison  # a note in place of the chart
        assert any(t.get_text().startswith("No ") for t in ax.texts)
    plt.close("all")


def test_ranking_caps_the_rows_and_says_so():
    many = [_doc(f"O{i:03d}", 20 + i * 0.5, {"people.coaching": (50.0, 5.0)}) for i in range(plots.MAX_RANKED + 7)]
    ax = plots.portfolio_ranking(many)
    assert len(ax.get_yticklabels()) == plots.MAX_RANKED
    assert f"best {plots.MAX_RANKED} of {plots.MAX_RANKED + 7} organizations" in ax.get_title(loc="left")
    plt.close("all")


# ---------------------------------------------------------------------- notebook and command
@pytest.fixture(scope="module")
def batch_results(tmp_path_factory):
    """results.json for five panel centers, as `score --out` writes them (one folder each)."""
    tmp = tmp_path_factory.mktemp("portfolio")
    import pandas as pd

    panel = pd.read_csv(PANEL, dtype=str, keep_default_na=False)
    five = sorted(panel["org_id"].unique())[:5]
    panel[panel["org_id"].isin(five)].to_csv(tmp / "five.csv", index=False)
    res = subprocess.run(
        [
            str(BIN / "readiness"),
            "score",
            str(tmp / "five.csv"),
            "--profiles",
            str(PANEL_PROFILES),
            "--peers",
            str(PANEL),
            "--bootstrap",
            "50",
            "--quiet",
            "--out",
            str(tmp / "results"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return tmp / "results"


def test_portfolio_notebook_runs_with_papermill(batch_results, tmp_path):
    out = tmp_path / "portfolio.ipynb"
    res = subprocess.run(
        [
            str(BIN / "papermill"),
            str(portfolio_notebook()),
            str(out),
            "-p",
            "results_dir",
            str(batch_results),
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    nb = nbformat.read(str(out), as_version=4)
    html = to_html(nb, title="Portfolio")
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(batch_results.glob("*/results.json"))]
    best = max(docs, key=lambda d: d["overall"]["score"])
    assert "Portfolio readiness" in html and "5 organizations" in html
    # the ranking table's first row is the best-scoring center, with its score to one decimal
    first = re.search(r"<td class=\"n\">1</td><td>([^<]+)</td>.*?</tr>", html, re.S)
    assert first and first.group(1) == best["organization"]["name"]
    assert f"{best['overall']['score']:,.1f}" in first.group(0)
    assert len(re.findall(r"<img[^>]+src=\"data:image/svg\+xml;base64,", html)) == 3  # ranking, spread, gaps
    assert not re.search(r"<script\b", html, re.I) and "load_many" not in html


def test_portfolio_command_writes_html_beside_the_results(batch_results, tmp_path):
    res = subprocess.run(
        [str(BIN / "readiness"), "portfolio", str(batch_results), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    html = (tmp_path / "portfolio.html").read_text(encoding="utf-8")
    for path in batch_results.glob("*/results.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["organization"]["name"] in html


def test_portfolio_command_on_a_folder_without_results(tmp_path):
    res = subprocess.run(
        [str(BIN / "readiness"), "portfolio", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 2
    assert "holds no */results.json" in res.stderr and "Traceback" not in res.stderr
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------- trend across waves
def test_trend_table_worked_by_hand():
    from readiness.core.portfolio import trend_table

    nan = float("nan")
    history = pd.DataFrame(
        {
            "org_id": ["B", "B", "B", "A"],
            "name": ["Beta", "Beta", "Beta", "Alpha"],
            "wave": ["w1", "w2", "w3", "w1"],
            "date": ["2024-01-01", "2024-06-01", "2025-01-01", "2024-03-01"],
            "overall": [40.0, 48.0, 47.0, 60.0],
            "change": [nan, 8.0, -1.0, nan],
            "change_low": [nan, 2.0, -6.0, nan],
            "change_high": [nan, 14.0, 4.0, nan],
            "change_real": [False, True, False, False],
        }
    )
    alpha, beta = trend_table(history)  # by name
    assert (alpha["name"], alpha["waves"], alpha["change"], alpha["real"]) == ("Alpha", 1, None, None)
    assert beta["first"] == ("w1", 40.0) and beta["latest"] == ("w3", 47.0)
    assert (beta["change"], beta["ci_low"], beta["ci_high"], beta["real"]) == (-1.0, -6.0, 4.0, False)
    assert [real for *_, real in beta["series"]] == [False, True, False]
    assert trend_table(history.iloc[0:0]) == []


def _table_texts(html: str) -> tuple[list[list[str]], str]:
    """Each table's header cells, and the page's visible text, as a reader gets them."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    headers = [[th.get_text(" ", strip=True) for th in t.find_all("th")] for t in soup.find_all("table")]
    return headers, " ".join(soup.get_text(" ").split())


def test_portfolio_tables_have_no_nan_none_or_run_together_headers(docs):
    from readiness.report.sections import render_portfolio

    docs[1]["organization"].update(industry=None, size_band=None, stage=None)  # a center without a profile
    docs[1]["respondents"]["n"] = None
    html = render_portfolio(docs)
    headers, text = _table_texts(html)
    assert not re.search(r"\b(nan|NaN|None|null)\b", text), text
    ranking = headers[0]
    assert ranking[:3] == ["#", "Organization", "Industry"]  # each header its own cell
    assert "OrganizationIndustry" not in text
    # a center without a barrier says so in words; the others are named, not by id
    row_a = re.search(r"Center A.*?</tr>", html, re.S).group(0)
    assert "none: no facet below the barrier line" in row_a
    assert "Coaching" in re.search(r"Center B.*?</tr>", html, re.S).group(0)
    assert "people.coaching" not in text


def test_portfolio_html_has_no_nan_and_alt_texts(batch_results, tmp_path):
    res = subprocess.run(
        [str(BIN / "readiness"), "portfolio", str(batch_results), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0 and res.stderr == "", res.stderr[-2000:]
    html = (tmp_path / "portfolio.html").read_text(encoding="utf-8")
    _, text = _table_texts(html)
    assert not re.search(r"\b(nan|NaN|None)\b", text)
    alts = re.findall(r'<img[^>]+alt="([^"]*)"', html)
    assert len(alts) == 3 and all(len(a) > 30 and "No description" not in a for a in alts)
