"""Confidentiality: small peer groups and small roles never reach an output.

Two promises are checked through every output a user gets (results.json, report.html,
the executed notebook, roadmap.xlsx/csv and what the commands print):

- no statistic of a peer group under ``k`` appears, nor driver or instrument-quality
  statistics of a peer panel under ``k``;
- inside an organization, scores of a role with fewer than ``role_min`` respondents are
  withheld, with a second role held back when one alone would be recoverable; and
  respondent ids never appear.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from readiness.core.results import suppress_block, withheld_roles

from .conftest import ROOT

EXAMPLES = ROOT / "data" / "examples"
PANEL = ROOT / "data" / "peers" / "panel.csv"
PANEL_PROFILES = ROOT / "data" / "peers" / "panel.profiles.csv"
BIN = Path(sys.executable).parent
SECRET = "SECRET-RESPONDENT-"


# ---------------------------------------------------------------------- the rules, worked by hand
@pytest.mark.parametrize(
    "counts, role_min, expected",
    [
        ({"agent": 12, "supervisor": 4, "manager": 3}, 3, []),  # all large enough
        ({"agent": 12, "supervisor": 4, "manager": 1}, 3, ["supervisor", "manager"]),  # manager + smallest other
        ({"agent": 12, "supervisor": 2, "manager": 1}, 3, ["supervisor", "manager"]),  # two small: no partner needed
        ({"agent": 12, "manager": 1}, 3, ["agent", "manager"]),  # two roles: both go
        ({"agent": 2}, 3, ["agent"]),  # one small role alone: nothing to difference against
        ({"agent": 12, "supervisor": 5, "manager": 5}, 6, ["supervisor", "manager"]),  # threshold is configurable
        ({"agent": 12, "supervisor": 5, "manager": 1}, 1, []),  # role_min 1 shows everything
        ({"agent": 4, "supervisor": 4, "manager": 1}, 3, ["agent", "manager"]),  # tie: first in role order
        ({"agent": 9, "supervisor": 0, "manager": 2}, 3, ["agent", "manager"]),  # a role with nobody is ignored
    ],
)
def test_withheld_roles_worked_examples(counts, role_min, expected):
    assert withheld_roles(counts, role_min, ["agent", "supervisor", "manager"]) == expected


def test_suppress_block_blanks_withheld_roles():
    block = {"agent": 61.0, "supervisor": 70.0, "manager": 90.0}
    assert suppress_block(block, ["supervisor", "manager"]) == {"agent": 61.0, "supervisor": None, "manager": None}
    assert suppress_block(block, []) == block


def test_suppress_block_blanks_everything_when_one_hidden_score_would_be_recoverable():
    # the supervisor (the partner) gave no score on this facet: with the manager alone hidden,
    # manager = (facet score - weighted agent score) / weight, so the whole row is blanked
    block = {"agent": 61.0, "supervisor": None, "manager": 90.0}
    assert suppress_block(block, ["supervisor", "manager"]) == {"agent": None, "supervisor": None, "manager": None}


# ---------------------------------------------------------------------- through every output
def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    res = subprocess.run([str(BIN / "readiness"), *args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def _texts(folder: Path) -> dict[str, str]:
    """Every output file as text (xlsx: the XML inside the zip)."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                texts[path.name] = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif path.is_file():
            texts[path.name] = path.read_text(encoding="utf-8", errors="replace")
    return texts


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    """The example center with one manager left (ids made recognizable) and a three-center peer panel."""
    tmp = tmp_path_factory.mktemp("conf")
    responses = pd.read_csv(EXAMPLES / "responses.csv", dtype=str, keep_default_na=False)
    managers = responses.index[responses["role"] == "manager"]
    responses = responses.drop(managers[1:]).reset_index(drop=True)
    responses["respondent_id"] = [f"{SECRET}{i:03d}" for i in range(len(responses))]
    responses.to_csv(tmp / "client.csv", index=False)

    panel = pd.read_csv(PANEL, dtype=str, keep_default_na=False)
    profiles = pd.read_csv(PANEL_PROFILES, dtype=str, keep_default_na=False)
    three = sorted(panel["org_id"].unique())[:3]
    panel[panel["org_id"].isin(three)].to_csv(tmp / "peers.csv", index=False)
    profiles[profiles["org_id"].isin(three)].to_csv(tmp / "peers.profiles.csv", index=False)

    common = [
        str(tmp / "client.csv"),
        "--profiles",
        str(EXAMPLES / "profiles.csv"),
        "--peers",
        str(tmp / "peers.csv"),
        "--target",
        "80",
        "--bootstrap",
        "100",
    ]
    logs = _run("score", *common, "--out", str(tmp / "scored"), cwd=tmp)
    report = _run("assess", *common, "--org", "NORTHBANK", "--out", str(tmp / "report"), cwd=tmp)
    # what the three peers would show, were they shown: each one's overall and dimension scores
    _run(
        "score",
        str(tmp / "peers.csv"),
        "--profiles",
        str(tmp / "peers.profiles.csv"),
        "--bootstrap",
        "0",
        "--quiet",
        "--out",
        str(tmp / "peer-scores"),
        cwd=tmp,
    )
    peer_docs = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp / "peer-scores").glob("*/results.json")]
    return {
        "tmp": tmp,
        "logs": logs.stdout + logs.stderr + report.stdout + report.stderr,
        "outputs": {**_texts(tmp / "scored"), **{f"report/{k}": v for k, v in _texts(tmp / "report").items()}},
        "doc": json.loads((tmp / "report" / "results.json").read_text(encoding="utf-8")),
        "peer_docs": peer_docs,
    }


def test_roles_under_the_minimum_are_withheld_everywhere_in_results(small_world):
    doc = small_world["doc"]
    assert doc["respondents"]["by_role"] == {"agent": 17, "manager": 1, "supervisor": 4}
    assert doc["respondents"]["withheld_roles"] == ["supervisor", "manager"]
    blocks = [doc["overall"], *doc["dimensions"].values(), *doc["facets"].values()]
    assert all(b["by_role"].get("manager") is None for b in blocks)
    # supervisors are held back with the manager wherever the manager has a score (overall and
    # every dimension here); a facet the manager left unanswered has nothing of theirs to protect
    assert all(b["by_role"].get("supervisor") is None for b in [doc["overall"], *doc["dimensions"].values()])
    assert any(b["by_role"].get("agent") is not None for b in blocks)  # agents (17) are still shown
    assert any("withheld" in w and "manager" in w for w in doc["warnings"])


def test_report_says_why_roles_are_missing(small_world):
    html = small_world["outputs"]["report/report.html"]
    assert "scores of the supervisors and managers are not shown" in html
    assert "managers score it" not in html  # the agents-vs-managers sentence needs both


def test_respondent_ids_never_reach_an_output(small_world):
    for name, text in {**small_world["outputs"], "logs": small_world["logs"]}.items():
        assert SECRET not in text, name


def test_small_peer_panel_shows_no_peer_statistic(small_world):
    doc = small_world["doc"]
    bench = doc["benchmark"]
    assert bench["peer_n"] is None and bench["k"] == 5
    assert "drivers" not in doc and "instrument_quality" not in doc
    assert all(block["percentile"] is None for block in doc["dimensions"].values())
    # the peers' own scores (what any statistic of the group is made of) appear in no output
    leaks = set()
    for peer in small_world["peer_docs"]:
        values = [peer["overall"]["score"], *(b["score"] for b in peer["dimensions"].values())]
        # at full precision: a round number like "60" would match anything
        leaks |= {text for v in values if v is not None and len(text := f"{v:.4f}".rstrip("0")) >= 6}
    assert len(leaks) >= 10
    for name, text in {**small_world["outputs"], "logs": small_world["logs"]}.items():
        found = sorted(v for v in leaks if v in text)
        assert not found, (name, found)
    assert "fewer than 5 peer centers were available" in small_world["outputs"]["report/report.html"]
    assert (
        "fewer than 5 peer centers, and so small a panel is never analysed"
        in small_world["outputs"]["report/report.html"]
    )


# ---------------------------------------------------------------------- the role minimum counts answers
def _example_with(managers_answering: dict[str, list[str] | None]):
    """The example center with its three managers' answers replaced.

    ``managers_answering`` maps each manager (by position 0..2) to the item prefixes they
    keep (``None``: all their answers; ``[]``: none, a blank row).
    """
    from readiness.io.loaders import load_instrument, load_profiles, load_responses

    inst = load_instrument()
    responses = pd.read_csv(EXAMPLES / "responses.csv", dtype=str, keep_default_na=False)
    managers = list(responses.index[responses["role"] == "manager"])
    assert len(managers) == 3
    items = [c for c in responses.columns if c not in ("org_id", "respondent_id", "role")]
    for position, keep in managers_answering.items():
        if keep is None:
            continue
        for item in items:
            if not any(item.startswith(prefix) for prefix in keep):
                responses.at[managers[position], item] = ""
    return inst, responses, load_profiles(EXAMPLES / "profiles.csv"), load_responses


def _assess_frame(tmp_path, frame, inst, profiles, load_responses, role_min=3):
    from readiness.core.assessment import Options, assess

    path = tmp_path / "client.csv"
    frame.to_csv(path, index=False)
    return assess(load_responses(path, inst), profiles=profiles, options=Options(n_boot=0, role_min=role_min))[
        "NORTHBANK"
    ]


def test_managers_who_answered_nothing_do_not_count_toward_the_minimum(tmp_path):
    """Three managers listed, two of them blank: the one manager's scores are withheld everywhere."""
    inst, frame, profiles, load = _example_with({0: None, 1: [], 2: []})
    doc = _assess_frame(tmp_path, frame, inst, profiles, load)
    assert doc["respondents"]["by_role"]["manager"] == 3  # listed
    assert doc["respondents"]["answering_by_role"]["manager"] == 1  # with a score
    assert "manager" in doc["respondents"]["withheld_roles"]
    blocks = [doc["overall"], *doc["dimensions"].values(), *doc["facets"].values()]
    assert all(b["by_role"].get("manager") is None for b in blocks)
    # complementary: the next smallest role (supervisors, 4) is held back with it overall
    assert doc["overall"]["by_role"]["supervisor"] is None and doc["overall"]["by_role"]["agent"] is not None
    assert any("fewer than 3 respondents with answers" in w for w in doc["warnings"])


def test_three_answering_managers_are_shown(tmp_path):
    inst, frame, profiles, load = _example_with({0: None, 1: None, 2: None})
    doc = _assess_frame(tmp_path, frame, inst, profiles, load)
    assert doc["respondents"]["answering_by_role"]["manager"] == 3
    assert doc["overall"]["by_role"]["manager"] is not None
    assert "manager" not in doc["respondents"]["withheld_roles"]
    # a facet where fewer than three managers have a score still hides them there
    for facet, roles in doc["respondents"]["withheld_in"].items():
        assert all(doc["facets"].get(facet, doc["dimensions"].get(facet))["by_role"][r] is None for r in roles)


def test_a_facet_only_one_manager_answered_is_withheld_for_managers(tmp_path):
    """One manager of three answered the hiring items: the managers' hiring score is not shown."""
    inst, frame, profiles, load = _example_with(
        {0: None, 1: ["PEO_LEA", "PRO", "TEC", "KNO"], 2: ["PEO_LEA", "PRO", "TEC", "KNO"]}
    )
    doc = _assess_frame(tmp_path, frame, inst, profiles, load)
    hiring = doc["facets"]["people.hiring"]["by_role"]
    assert hiring["manager"] is None
    # with managers hidden, one more role is hidden so the facet score cannot give it away
    assert sum(v is None for v in hiring.values()) >= 2
    # elsewhere the three managers count: their overall and leadership scores are shown
    assert doc["overall"]["by_role"]["manager"] is not None
    assert doc["facets"]["people.leadership"]["by_role"]["manager"] is not None
    # the hidden value is not the lone manager's facet score anywhere in the document
    from readiness.core.scoring import respondent_facet_scores
    from readiness.io.loaders import load_responses

    path = tmp_path / "client.csv"
    responses = load_responses(path, inst)
    S = respondent_facet_scores(responses)
    lone = responses.meta.index[(responses.meta["role"] == "manager")]
    facet = list(inst.layout.facet_ids).index("people.hiring")
    values = [round(float(S[i, facet]), 4) for i in lone if S[i, facet] == S[i, facet]]
    assert len(values) == 1
    assert str(values[0]) not in json.dumps(doc["facets"]["people.hiring"])
    assert "manager" in doc["respondents"]["withheld_in"]["people.hiring"]
    assert any(f"{inst.facets['people.hiring'].title} (" in w and "managers" in w for w in doc["warnings"])  # in words
