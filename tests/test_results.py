"""results.json built from scores (readiness.core.results): the don't-know fields, the
unwilling-or-unable share, comments, highlights and the method's thresholds, checked
against counts made by hand."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from readiness.core.assessment import Options, assess
from readiness.core.defaults import DONT_KNOW_LINE
from readiness.core.errors import InputError
from readiness.core.instrument import Instrument
from readiness.core.responses import Responses
from readiness.core.results import build_comments, build_results, highlights
from readiness.core.scoring import score
from readiness.io.loaders import load_responses
from readiness.report.sections import render_section

from .conftest import DATA


def test_dont_know_in_results(mini):
    doc = build_results(score(load_responses(DATA / "mini_dont_know.csv", mini), n_boot=0), "Y", mini)
    # 3 + 4 don't-know answers from the agents, 3 from the manager (docs/scoring.md)
    assert doc["respondents"]["answers"] == {"answered": 18, "not_applicable": 1, "dont_know": 10, "unanswered": 1}
    shares = {f: block["dont_know"] for f, block in doc["facets"].items()}
    assert shares == {
        "people.a": 0.375,
        "people.b": 0.5,
        "process.a": pytest.approx(1 / 3, abs=1e-4),
        "technology.a": pytest.approx(1 / 3, abs=1e-4),
        "knowledge.a": pytest.approx(1 / 6, abs=1e-4),
    }
    # More than a third: people.a and people.b; exactly a third (process.a, technology.a) is not.
    assert abs(DONT_KNOW_LINE - 1 / 3) < 1e-12
    assert doc["dont_know_facets"] == ["people.a", "people.b"]
    assert doc["method"]["dont_know_line"] == pytest.approx(1 / 3, abs=1e-4)
    flagged = [w for w in doc["warnings"] if "don't know" in w]
    assert len(flagged) == 2 and flagged[0].startswith("People A: 38%")


def test_no_dont_know_gives_zero_shares(mini):
    doc = build_results(score(load_responses(DATA / "mini_responses.csv", mini), n_boot=0), "X", mini)
    assert doc["respondents"]["answers"]["dont_know"] == 0
    assert all(block["dont_know"] == 0 for block in doc["facets"].values())
    assert doc["dont_know_facets"] == []
    assert doc["unwilling_or_unable"] is None  # the mini instrument does not ask it


# ---------------------------------------------------------------- unwilling or unable
@pytest.fixture(scope="module")
def willing_inst(mini):
    spec = mini.model_dump(mode="json")
    # P2 is a reverse-worded, agent-only item: "willing" read through the reversal; K1 "able".
    spec["unwilling_or_unable"] = {"role": "agent", "willing": "P2", "able": "K1"}
    return Instrument.from_dict(spec)


def _responses(inst, rows):
    items = list(inst.layout.item_ids)
    values = np.full((len(rows), len(items)), np.nan)
    dk = np.zeros(values.shape, dtype=bool)
    for r, (_, _, answers) in enumerate(rows):
        for item, answer in answers.items():
            if answer == "DK":
                dk[r, items.index(item)] = True
            else:
                values[r, items.index(item)] = answer
    return Responses.from_arrays(
        inst, ["O"] * len(rows), [r[0] for r in rows], [r[1] for r in rows], values, dont_know=dk
    )


AGENTS = [
    # id, role, answers (P2 is reversed: 4 or 5 there is the low end, "not willing")
    ("a1", "agent", {"P2": 5, "K1": 4}),  # unwilling (P2 5 -> 1)
    ("a2", "agent", {"P2": 1, "K1": 2}),  # willing, unable (K1 2)
    ("a3", "agent", {"P2": 4, "K1": 1}),  # unwilling and unable: counted once
    ("a4", "agent", {"P2": 2, "K1": 3}),  # willing (2 -> 4), able (3 is the middle, not low)
    ("a5", "agent", {"P2": 3, "K1": "DK"}),  # middle, don't know: not classified
    ("a6", "agent", {"P2": "DK", "K1": 2}),  # unable, whatever the other
    ("a7", "agent", {}),  # nothing: not classified
    ("m1", "manager", {"K1": 1}),  # not an agent: never counted
]


def test_unwilling_or_unable_share(willing_inst):
    doc = build_results(score(_responses(willing_inst, AGENTS), n_boot=0), "O", willing_inst, role_min=3)
    block = doc["unwilling_or_unable"]
    # classified: a1, a2, a3, a4, a6 (5); unwilling a1, a3; unable a2, a3, a6; either: a1 a2 a3 a6
    assert block["respondents"] == 7
    assert block["classified"] == 5
    assert (block["unwilling"], block["unable"], block["count"]) == (2, 3, 4)
    assert block["share"] == pytest.approx(4 / 5)
    assert block["withheld"] is False
    assert block["items"] == {"willing": "P2", "able": "K1"}


def test_unwilling_or_unable_withheld_below_role_min(willing_inst):
    rows = [r for r in AGENTS if r[0] in ("a1", "a2", "a5", "m1")]  # two classified agents
    block = build_results(score(_responses(willing_inst, rows), n_boot=0), "O", willing_inst, role_min=3)[
        "unwilling_or_unable"
    ]
    assert block["classified"] == 2 and block["withheld"] is True
    assert block["share"] is None and block["count"] is None and block["unwilling"] is None


def test_willingness_items_must_be_asked_of_the_role(mini):
    spec = mini.model_dump(mode="json")
    spec["unwilling_or_unable"] = {"role": "agent", "willing": "P5", "able": "NOPE"}
    from readiness.core.errors import InputError

    with pytest.raises(InputError) as err:
        Instrument.from_dict(spec)
    text = [str(p) for p in err.value.problems]
    assert any("P5 is not asked of agents" in t for t in text)
    assert any("unknown item 'NOPE'" in t for t in text)


# ---------------------------------------------------------------------- comments, highlights, method
def _comments(rows):
    return pd.DataFrame(rows, columns=["org_id", "respondent_id", "role", "topic", "text"])


def test_comments_grouped_by_facet_and_shown_only_when_enough_people_wrote(mini):
    rows = [
        ("X", "a1", "agent", "people.a", "Zebra: coaching is rare"),
        ("X", "a2", "agent", "P3", "apples: no time for it"),  # an item's comment counts for its facet
        ("X", "m1", "manager", "people.a", "Mostly ad hoc"),
        ("X", "a1", "agent", "process.a", "one voice"),
        ("X", "m1", "manager", "process.a", "another"),
        ("Y", "b1", "agent", "people.a", "other organization"),
    ]
    block = build_comments(_comments(rows), "X", mini, role_min=3)
    assert list(block) == ["people.a", "process.a"]  # the instrument's order
    people = block["people.a"]
    assert people["respondents"] == 3 and not people["withheld"] and people["title"] == "People A"
    # alphabetical, ignoring case: the order says nothing about who wrote what
    assert people["texts"] == ["apples: no time for it", "Mostly ad hoc", "Zebra: coaching is rare"]
    assert block["process.a"] == {
        "title": "Process A",
        "dimension": "process",
        "respondents": 2,
        "withheld": True,
        "texts": [],
    }
    assert build_comments(_comments(rows), "X", mini, role_min=2)["process.a"]["texts"] == ["another", "one voice"]


def test_comments_from_a_responses_file_reach_the_report_without_ids_or_roles(mini, tmp_path):
    text = (DATA / "mini_responses.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",comment:people.a,Comment:K1"
    text[1] += ',"Coaching happens when there is time",'
    text[2] += ',"We never see the results",Knowledge base is out of date'
    text[3] += ',"Only the top sellers get coached",'
    path = tmp_path / "answers.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    responses = load_responses(path, mini)
    assert not [w for w in responses.warnings if "comment" in w]  # recognized columns, not ignored ones
    doc = assess(responses, options=Options(n_boot=0, role_min=3))["X"]
    assert doc["comments"]["people.a"]["texts"] == [
        "Coaching happens when there is time",
        "Only the top sellers get coached",
        "We never see the results",
    ]
    assert doc["comments"]["knowledge.a"] == {
        "title": "Knowledge A",
        "dimension": "knowledge",
        "respondents": 1,
        "withheld": True,
        "texts": [],
    }
    html = render_section("comments", doc)
    assert "What people said" in html and "“We never see the results”" in html
    assert "Knowledge base is out of date" not in html and "Knowledge A" in html  # named as not shown
    for who in ("a1", "a2", "m1", "agent", "manager"):
        assert not re.search(rf"\b{who}\b", html), who


def test_comment_column_for_an_unknown_topic_is_an_error_unless_ignored(mini, tmp_path):
    # Like any column that is no item (issue 14): refused, naming it; a warning with --ignore-columns.
    text = (DATA / "mini_responses.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",comment:people.z"
    text[1:] = [line + ",x" for line in text[1:]]
    path = tmp_path / "answers.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="no facet or item") as refused:
        load_responses(path, mini)
    assert "comment:people.z" in str(refused.value) and "--ignore-columns" in str(refused.value)
    responses = load_responses(path, mini, ignore_columns=True)
    assert any("comment:people.z" in w and "no facet or item" in w for w in responses.warnings)
    assert responses.comments is None


def test_no_comments_no_section(mini):
    doc = assess(load_responses(DATA / "mini_responses.csv", mini), options=Options(n_boot=0))["X"]
    assert doc["comments"] == {}
    assert render_section("comments", doc).strip() == ""


def test_highlights_by_hand():
    doc = {
        "instrument": {"roles": ["agent", "supervisor", "manager"]},
        "dimensions": {
            "people": {
                "title": "People",
                "score": 40.0,
                "by_role": {"agent": 30.0, "supervisor": 50.0, "manager": None},
            },
            "process": {"title": "Process", "score": 40.0, "by_role": {"agent": 20.0, "supervisor": 44.0}},
            "technology": {"title": "Technology", "score": 61.0, "by_role": {"agent": 61.0}},
            "knowledge": {"title": "Knowledge", "score": 35.5, "by_role": {}},
        },
        "facets": {"people.a": {"title": "A", "score": 20.0}, "process.b": {"title": "B", "score": 50.0}},
        "plan": {"gaps": {"people.a": 30.0, "process.b": 5.0}, "targets": {"people.a": 50.0, "process.b": 55.0}},
    }
    h = highlights(doc)
    assert h["strongest_dimension"] == {"id": "technology", "title": "Technology", "score": 61.0}
    assert h["weakest_dimension"]["id"] == "knowledge"
    gap = h["role_gap"]  # process: 44 - 20 = 24 beats people: 50 - 30 = 20; a missing score never counts
    assert (gap["id"], gap["high_role"], gap["low_role"], gap["points"]) == ("process", "supervisor", "agent", 24.0)
    assert h["largest_gap"] == {"facet": "people.a", "title": "A", "score": 20.0, "target": 50.0, "gap": 30.0}
    doc["dimensions"]["people"]["score"] = 40.0
    assert highlights(doc)["weakest_dimension"]["id"] == "knowledge"


def test_method_records_the_thresholds_used(mini):
    responses = load_responses(DATA / "mini_responses.csv", mini)
    doc = assess(responses, options=Options(n_boot=0, role_min=2, barrier_threshold=60.0, k=7))["X"]
    method = doc["method"]
    assert (method["barrier_line"], method["role_min"], method["k"], method["scale_points"]) == (60.0, 2, 7, 5)
    assert method["item_total_min"] == pytest.approx(0.30)
    levels = method["levels"]  # the scale the report explains: 0 to 100 in order
    assert levels[0]["lower"] == 0 and levels[-1]["upper"] == 100
    assert all(a["upper"] == b["lower"] for a, b in zip(levels, levels[1:]))
    summary = render_section("summary", doc)
    assert "barrier line of 60" in summary or "below the barrier line of 60" in summary


def test_open_answers_are_said_under_the_same_rule(bundled):
    """The instrument's open question (what selling here needs most) reaches What people said."""
    from readiness.io.pipeline import bundled_example

    responses_path, _ = bundled_example()
    responses = load_responses(responses_path, bundled)
    answers = responses.open_answers_frame()
    question = bundled.open_questions[0]
    given = sorted(answers.loc[answers["question"] == question.id, "text"], key=lambda t: (t.casefold(), t))
    assert len(given) >= 3
    doc = assess(responses, options=Options(n_boot=0))[responses.org_ids[0]]
    block = doc["comments"][question.id]
    assert block == {
        "title": question.text,
        "dimension": None,
        "respondents": len(given),
        "withheld": False,
        "texts": given,
    }
    html = render_section("comments", doc)
    assert "Open questions" in html and question.text in html.replace("&#39;", "'")
    for rid in answers["respondent_id"]:
        assert not re.search(rf"\b{re.escape(rid)}\b", html)
    fewer = assess(responses, options=Options(n_boot=0, role_min=len(given) + 1))[responses.org_ids[0]]
    assert fewer["comments"][question.id]["withheld"] and fewer["comments"][question.id]["texts"] == []
