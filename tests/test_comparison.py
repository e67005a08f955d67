"""Re-assessment end to end: two waves recorded by `assess --history`, compared with a filled-in roadmap.

The scenario of issue 16's check, on data drawn here: two waves of one center answered by
different people, one facet raised sharply and one lowered, the rest unchanged; two
actions marked Done in the earlier wave's workbook. Scores are recomputed independently
from the answer files (``naive_scores``), never taken from the code under test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from readiness.apps.cli import main
from readiness.core.synthetic_panel import generate_org
from readiness.io.comparison import compare_waves, load_comparison, load_history
from readiness.io.history_store import HistoryStore
from readiness.io.loaders import load_instrument
from readiness.report.html_safety import active_content
from readiness.report.pdf import find_chromium

from .test_change import naive
from .test_workbook import naive_scores  # noqa: F401  (naive() builds on it)

BIN = Path(sys.executable).parent
CENTER = dict(
    org_id="RIVERSIDE", org_name="Riverside Care & Sales", industry="other", agents=90, stage="transitioning", seed=33
)
UP, DOWN = "process.sales_process", "people.belief"
HEADER = [
    "Rank",
    "Action",
    "Action id",
    "Phase",
    "Priority",
    "Facets",
    "Owner",
    "After",
    "Status",
    "Responsible",
    "Due date",
    "Comments",
]


def filled_roadmap(path: Path, roadmap: list[dict], statuses: dict[str, str], *, title: str = "Roadmap") -> Path:
    """A roadmap workbook as the client fills it in: title rows, then the header row, one row per action."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Roadmap"
    ws.append([title])
    ws.append(["Assessment date", "2024-05-14"])
    ws.append(["Prepared by", "A. Consultant"])
    ws.append([])
    ws.append(HEADER)
    for a in roadmap:
        ws.append(
            [
                a["rank"],
                a["title"],
                a["action"],
                a["phase"],
                "High",
                ", ".join(a["facets"]),
                a["owner"],
                "",
                statuses.get(a["action"], "Not started"),
                "Jo Smith",
                None,
                "",
            ]
        )
    wb.save(path)
    return path


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "readiness"), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=900
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("waves")
    instrument = load_instrument()
    first, profiles = generate_org(
        instrument, respondents={"agent": 16, "supervisor": 5, "manager": 3}, respondent_seed=1, **CENTER
    )
    second, _ = generate_org(
        instrument,
        respondents={"agent": 18, "supervisor": 4, "manager": 4},
        respondent_seed=2,
        facet_shift={UP: 1.6, DOWN: -1.6},
        **CENTER,
    )
    second["respondent_id"] = [f"N{i:02d}" for i in range(1, len(second) + 1)]  # other people
    first.to_csv(tmp / "wave1.csv", index=False)
    second.to_csv(tmp / "wave2.csv", index=False)
    profiles.to_csv(tmp / "profiles.csv", index=False)
    history = tmp / "history.duckdb"
    common = ["--org", "RIVERSIDE", "--profiles", tmp / "profiles.csv", "--target", "75", "--bootstrap", "300"]
    one = cli(
        "assess", tmp / "wave1.csv", *common, "--out", tmp / "w1", "--history", history, "--wave", "2024-05", cwd=tmp
    )
    assert one.returncode == 0, one.stderr
    two = cli(
        "assess", tmp / "wave2.csv", *common, "--out", tmp / "w2", "--history", history, "--wave", "2024-11", cwd=tmp
    )
    assert two.returncode == 0, two.stderr
    roadmap = json.loads((tmp / "w1" / "results.json").read_text())["roadmap"]
    done = [roadmap[0]["action"], roadmap[1]["action"]]
    workbook = filled_roadmap(
        tmp / "roadmap-filled.xlsx", roadmap, {done[0]: "Done", done[1]: "done", roadmap[2]["action"]: "In progress"}
    )
    args = ["compare", "--history", history, "--org", "RIVERSIDE", "--roadmap", workbook, "--json", tmp / "c.json"]
    args += ["--out", tmp / "progress"] + (["--pdf"] if find_chromium() else [])
    res = cli(*args, cwd=tmp)
    assert res.returncode == 0, res.stderr
    listed = cli("history", "list", "--history", history, cwd=tmp)
    assert listed.returncode == 0, listed.stderr
    return {
        "tmp": tmp,
        "instrument": instrument,
        "first": first,
        "second": second,
        "history": history,
        "doc": json.loads((tmp / "c.json").read_text()),
        "done": done,
        "compare_out": res.stdout,
        "list_out": listed.stdout,
    }


# ---------------------------------------------------------------------- how it will be checked
def test_each_change_is_the_independent_difference_of_the_waves(scenario):
    before = naive(scenario["first"], scenario["instrument"])
    after = naive(scenario["second"], scenario["instrument"])
    changes = {(c["level"], c["id"]): c for c in scenario["doc"]["changes"]}
    assert len(changes) == 1 + 4 + len(scenario["instrument"].facets)
    for facet in scenario["instrument"].facets:
        c = changes[("facet", facet)]
        assert c["from"] == pytest.approx(before["facets"][facet], abs=1e-4)
        assert c["to"] == pytest.approx(after["facets"][facet], abs=1e-4)
        assert c["delta"] == pytest.approx(after["facets"][facet] - before["facets"][facet], abs=2e-4)
    for dim, value in after["dimensions"].items():
        assert changes[("dimension", dim)]["delta"] == pytest.approx(value - before["dimensions"][dim], abs=2e-4)
    assert changes[("overall", "overall")]["delta"] == pytest.approx(after["overall"] - before["overall"], abs=2e-4)


def test_moved_facets_are_real_on_the_right_side_and_few_others_are(scenario):
    facets = {c["id"]: c for c in scenario["doc"]["changes"] if c["level"] == "facet"}
    assert facets[UP]["real"] and facets[UP]["ci"][0] > 0
    assert facets[DOWN]["real"] and facets[DOWN]["ci"][1] < 0
    others = [c for f, c in facets.items() if f not in (UP, DOWN)]
    assert sum(c["real"] for c in others) <= 3
    for c in facets.values():
        assert c["real"] == (c["ci"][0] > 0 or c["ci"][1] < 0)


def test_actions_marked_done_come_back_done(scenario):
    actions = {a["action"]: a for a in scenario["doc"]["actions"]}
    for ident in scenario["done"]:
        assert actions[ident]["status"] == "Done"
    assert sum(a["status"] == "Done" for a in actions.values()) == 2
    assert sum(a["status"] == "In progress" for a in actions.values()) == 1
    done = actions[scenario["done"][0]]
    assert set(done) == {"action", "title", "status", "facets", "expected", "observed"}
    assert set(done["expected"]) == set(done["facets"]) == set(done["observed"])
    assert not set(scenario["done"]) & {a["action"] for a in scenario["doc"]["next_roadmap"]}


def test_history_list_names_both_waves(scenario):
    out = scenario["list_out"]
    assert "2024-05" in out and "2024-11" in out and "RIVERSIDE" in out
    assert "2 wave(s) of 1 organization(s)" in out


def test_progress_report_names_both_waves_and_is_safe(scenario):
    folder = scenario["tmp"] / "progress"
    html = (folder / "progress.html").read_text(encoding="utf-8")
    assert "2024-05" in html and "2024-11" in html and "Riverside Care &amp; Sales" in html
    assert not re.search(r"<script\b", html, re.I) and not active_content(html)
    text = re.sub(r"<[^>]+>", " ", html)
    for rid in list(scenario["first"]["respondent_id"]) + list(scenario["second"]["respondent_id"]):
        assert not re.search(rf"\b{rid}\b", text)  # no respondent anywhere
    titles = scenario["doc"]["titles"]["scores"]
    assert titles[UP] in html and "Progress report" in html
    for name in ("compare.json", "progress.ipynb", "roadmap-next.xlsx", "roadmap-next.csv"):
        assert (folder / name).exists()
    assert json.loads((folder / "compare.json").read_text()) == scenario["doc"]


def test_progress_pdf_pages(scenario):
    pdf = scenario["tmp"] / "progress" / "progress.pdf"
    if not find_chromium() or not shutil.which("pdftoppm"):
        pytest.skip("needs the Debian packages chromium and poppler-utils (make test installs them)")
    assert pdf.stat().st_size > 10_000
    out = scenario["tmp"] / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(out)], check=True, timeout=120)
    assert list(scenario["tmp"].glob("page*.png"))


def test_compare_prints_the_changes(scenario):
    out = scenario["compare_out"]
    assert "2024-05" in out and "2024-11" in out and "Roadmap progress" in out
    assert scenario["doc"]["titles"]["scores"][UP][:20] in out


# ---------------------------------------------------------------------- the command line around it
def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_json_alone_equals_the_report_document(scenario, capsys, tmp_path):
    code, _, _ = run(
        capsys, "compare", "--history", scenario["history"], "--org", "RIVERSIDE", "--json", tmp_path / "d.json",
        "--roadmap", scenario["tmp"] / "roadmap-filled.xlsx", "--quiet",
    )  # fmt: skip
    assert code == 0
    assert json.loads((tmp_path / "d.json").read_text()) == scenario["doc"]  # same history, same seed, same document


@pytest.mark.parametrize(
    "args, message",
    [
        (["--org", "NOBODY"], "organization 'NOBODY' has no wave in this history; organizations in it: RIVERSIDE"),
        (["--org", "RIVERSIDE", "--from", "2023-01"], "has no wave '2023-01'; its waves: 2024-05, 2024-11"),
        (["--org", "RIVERSIDE", "--from", "2024-11", "--to", "2024-11"], "are the same wave"),
        (["--org", "RIVERSIDE", "--to", "2024-05"], "is the first wave"),
    ],
)
def test_compare_bad_waves_exit_2_in_one_line(scenario, capsys, args, message):
    code, out, err = run(capsys, "compare", "--history", scenario["history"], *args, "--quiet")
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


def test_compare_with_a_workbook_of_another_roadmap_is_refused(scenario, capsys, tmp_path):
    other = filled_roadmap(
        tmp_path / "other.xlsx",
        [{"rank": 1, "title": "X", "action": "no-such-action", "phase": 1, "facets": [], "owner": "hr"}],
        {"no-such-action": "Done"},
    )
    code, _, err = run(capsys, "compare", "--history", scenario["history"], "--org", "RIVERSIDE", "--roadmap", other)
    assert code == 2 and "other.xlsx: none of its actions is in the roadmap of wave 2024-05" in err
    bad = tmp_path / "bad.xlsx"
    roadmap = json.loads((scenario["tmp"] / "w1" / "results.json").read_text())["roadmap"]
    filled_roadmap(bad, roadmap, {roadmap[0]["action"]: "Finished"})
    code, _, err = run(capsys, "compare", "--history", scenario["history"], "--org", "RIVERSIDE", "--roadmap", bad)
    assert code == 2 and "bad.xlsx, sheet Roadmap, row 6, column Status: status 'Finished' is not one of" in err


def test_history_add_and_remove(scenario, capsys, tmp_path):
    history = tmp_path / "h.duckdb"
    w1 = scenario["tmp"] / "w1"
    code, out, _ = run(
        capsys, "history", "add", w1, "--history", history, "--date", "2024-05-14",
        "--responses", scenario["tmp"] / "wave1.csv",
    )  # fmt: skip
    assert code == 0 and "RIVERSIDE wave 2024-05 (2024-05-14, 24 respondents, with respondents' scores)" in out
    code, out, _ = run(
        capsys, "history", "add", scenario["tmp"] / "w2" / "results.json", "--history", history, "--wave", "later"
    )
    assert code == 0 and "without respondents' scores" in out
    frame = HistoryStore(history).waves()
    assert list(frame["wave"]) == ["2024-05", "later"] and frame["has_scores"].tolist() == [True, False]
    doc = compare_waves(history, "RIVERSIDE", n_boot=200)
    assert "approximate" in " ".join(doc["warnings"])
    # the wrong responses file for these results is refused, and nothing is recorded
    code, _, err = run(
        capsys, "history", "add", w1, "--history", history, "--wave", "x", "--responses", scenario["tmp"] / "wave2.csv",
    )  # fmt: skip
    assert code == 2 and "wave2.csv: these responses do not give the scores of results.json" in err
    code, out, _ = run(capsys, "history", "remove", "--history", history, "--org", "RIVERSIDE", "--wave", "later")
    assert code == 0 and list(HistoryStore(history).waves()["wave"]) == ["2024-05"]
    code, _, err = run(capsys, "history", "remove", "--history", history, "--org", "RIVERSIDE", "--wave", "later")
    assert code == 2 and "has no wave 'later'" in err


def test_assess_with_a_bad_history_writes_nothing(scenario, capsys, tmp_path):
    not_history = tmp_path / "peers.duckdb"
    not_history.write_bytes(b"not a database at all" * 100)
    code, _, err = run(
        capsys, "assess", scenario["tmp"] / "wave1.csv", "--org", "RIVERSIDE", "--out", tmp_path / "out",
        "--history", not_history,
    )  # fmt: skip
    assert code == 2 and err.startswith("error: peers.duckdb") and not (tmp_path / "out").exists()
    code, _, err = run(capsys, "assess", scenario["tmp"] / "wave1.csv", "--org", "RIVERSIDE", "--wave", "x")
    assert code == 2 and "--wave needs --history" in err


def test_load_history_gives_the_change_since_the_previous_wave(scenario):
    frame = load_history(str(scenario["history"]), n_boot=300)
    assert list(frame["wave"]) == ["2024-05", "2024-11"]
    first, last = frame.iloc[0], frame.iloc[1]
    assert pd.isna(first["change"]) and not first["change_real"]
    overall = next(c for c in scenario["doc"]["changes"] if c["level"] == "overall")
    assert last["change"] == pytest.approx(overall["delta"], abs=1e-3)
    assert last["change_low"] < last["change"] < last["change_high"]


def test_the_progress_notebook_default_is_the_bundled_example():
    doc = load_comparison(n_boot=200)
    assert doc["from"]["wave"] == "2024-05" and doc["to"]["wave"] == "2024-11"
    assert doc["organization"]["id"] == "NORTHBANK" and doc["next_roadmap"]
    assert all(a["status"] is None for a in doc["actions"])


def test_portfolio_shows_each_centers_trend_from_the_history(scenario, tmp_path):
    res = cli("portfolio", "--history", scenario["history"], "--out", tmp_path, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "portfolio.html").read_text(encoding="utf-8")
    assert "Trend across the waves" in html and "Riverside Care &amp; Sales" in html
    assert "2024-05" in html and "2024-11" in html and "RIVERSIDE" not in re.sub(r"<[^>]+>", " ", html)
    overall = next(c for c in scenario["doc"]["changes"] if c["level"] == "overall")
    assert f"{overall['to']:.0f}" in html  # the latest wave's overall score
    assert not re.search(r"<script\b", html, re.I) and not active_content(html)


def test_batch_records_every_organization_in_one_wave(scenario, tmp_path):
    both = pd.concat(
        [scenario["first"], scenario["second"].assign(org_id="LAKESIDE")], ignore_index=True
    )  # two centers in one file
    both.to_csv(tmp_path / "both.csv", index=False)
    history = tmp_path / "h.duckdb"
    res = cli(
        "batch", tmp_path / "both.csv", "--target", "75", "--bootstrap", "100", "--out", tmp_path / "out",
        "--workers", "1", "--no-progress", "--history", history, "--wave", "2025-Q1",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    frame = HistoryStore(history).waves()
    assert sorted(frame["org_id"]) == ["LAKESIDE", "RIVERSIDE"] and set(frame["wave"]) == {"2025-Q1"}
    assert frame["has_scores"].all() and sorted(frame["respondents"]) == sorted(
        [len(scenario["first"]), len(scenario["second"])]
    )
