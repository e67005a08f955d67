"""Survey definitions out: Qualtrics Advanced Format, LimeSurvey's tab-separated survey, a question list.

Each file is read back here by a small parser of the tool's documented format, written
for the test, and compared with the instrument (mini and bundled, read at test time).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from readiness.apps.cli import main
from readiness.core.instrument import Instrument
from readiness.io.loaders import load_instrument
from readiness.io.survey_export import qualtrics_txt, question_list_csv, survey_text

from .conftest import DATA, with_open_question

MINI = DATA / "mini.yaml"


@pytest.fixture(scope="module", params=["mini", "bundled", "mini with an open question"])
def instrument(request):
    loaded = load_instrument(None if request.param == "bundled" else MINI)
    return with_open_question(loaded) if "open" in request.param else loaded


def expected_choices(item) -> list[str]:
    return [*item.labels, *(["Not applicable"] if item.allows_na else []), "Don't know"]


def one_line(text: str) -> str:
    return " ".join(text.split())


def parse_advanced_format(text: str) -> dict:
    """Blocks, page breaks and questions of a Qualtrics Advanced Format TXT file."""
    lines = text.splitlines()
    assert lines[0] == "[[AdvancedFormat]]"
    blocks: list[str] = []
    questions: list[dict] = []
    page_breaks = 0
    current: dict | None = None
    mode = ""
    for line in lines[1:]:
        if line.startswith("[[Block:"):
            blocks.append(line[len("[[Block:") : -2])
            current, mode = None, ""
        elif line == "[[PageBreak]]":
            page_breaks += 1
            current, mode = None, ""
        elif line.startswith("[[Question:"):
            current = {"type": line[2:-2], "id": None, "text": [], "choices": [], "block": blocks[-1]}
            questions.append(current)
            mode = "text"
        elif line.startswith("[[ID:"):
            assert current is not None
            current["id"] = line[len("[[ID:") : -2]
        elif line == "[[Choices]]":
            mode = "choices"
        elif line.startswith("[["):
            raise AssertionError(f"unexpected tag {line}")
        elif line.strip() and current is not None:
            current[mode].append(line)
    return {"blocks": blocks, "questions": questions, "page_breaks": page_breaks}


def test_qualtrics_one_multiple_choice_question_per_item_plus_role(instrument: Instrument):
    parsed = parse_advanced_format(qualtrics_txt(instrument))
    essays = [q for q in parsed["questions"] if q["type"] == "Question:TE:Essay"]
    questions = [q for q in parsed["questions"] if q not in essays]
    assert all(q["type"] == "Question:MC:SingleAnswer:Vertical" for q in questions)
    assert len(questions) == len(instrument.items) + 1
    # the open questions, answered in the respondent's own words, last and in a block of their own
    assert [(q["id"], q["text"], q["choices"]) for q in essays] == [
        (q.id, [one_line(q.text)], []) for q in instrument.open_questions
    ]
    assert parsed["questions"][len(questions) :] == essays
    role, items = questions[0], questions[1:]
    assert role["id"] == "role" and role["text"] == ["What is your role?"]
    assert [c.lower() for c in role["choices"]] == [r.replace("_", " ") for r in instrument.roles]
    assert [q["id"] for q in items] == list(instrument.layout.item_ids)
    for question in items:
        item = instrument.items[question["id"]]
        assert question["text"] == [one_line(item.text)]
        assert question["choices"] == expected_choices(item)  # every label, N/A where allowed, don't know
    titles = {d.id: d.title for d in instrument.dimensions}
    own_words = ["In your own words"] if instrument.open_questions else []
    assert parsed["blocks"] == ["About you", *(titles[d] for d in instrument.layout.dimension_ids), *own_words]
    for question in items:
        facet = instrument.facets[
            instrument.layout.facet_ids[instrument.layout.item_facet[instrument.layout.item_ids.index(question["id"])]]
        ]
        assert question["block"] == titles[facet.id.split(".")[0]]
    facets_per_dimension = [len(d.facets) for d in instrument.dimensions]
    assert parsed["page_breaks"] == sum(n - 1 for n in facets_per_dimension)


def test_qualtrics_text_cannot_open_a_tag_or_an_element():
    spec = {
        "id": "odd",
        "version": "1",
        "roles": {"agent": 1.0},
        "dimensions": [
            {
                "id": d,
                "title": f"{d.title()} [[Block:x]]",
                "facets": [
                    {
                        "id": f"{d}.a",
                        "title": "A",
                        "items": [
                            {
                                "id": f"{d[:2].upper()}1",
                                "text": "Line one\n[[PageBreak]] <script>alert(1)</script>",
                                "labels": ["=1+1", "b", "c", "d", "e"],
                                "roles": ["agent"],
                            }
                        ],
                    }
                ],
            }
            for d in ("people", "process", "technology", "knowledge")
        ],
    }
    text = qualtrics_txt(Instrument.from_dict(spec))
    parsed = parse_advanced_format(text)  # raises on any tag it does not expect
    assert len(parsed["questions"]) == 5 and parsed["page_breaks"] == 0
    assert "<script>" not in text and "&lt;script&gt;" in text


def read_tsv(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    head = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == len(head) for r in rows)
    return [dict(zip(head, r)) for r in rows]


def test_limesurvey_groups_list_questions_and_answers(instrument: Instrument):
    rows = read_tsv(survey_text(instrument, "limesurvey"))
    assert {"id", "class", "type/scale", "name", "relevance", "text", "language", "mandatory"} <= set(rows[0])
    survey = {r["name"]: r["text"] for r in rows if r["class"] in ("S", "SL")}
    assert survey["format"] == "G" and survey["language"] == "en"
    assert survey["surveyls_title"] == (instrument.title or instrument.id)
    groups = [r["name"] for r in rows if r["class"] == "G"]
    titles = {d.id: d.title for d in instrument.dimensions}
    own_words = ["In your own words"] if instrument.open_questions else []
    assert groups == ["About you", *(titles[d] for d in instrument.layout.dimension_ids), *own_words]
    questions = [r for r in rows if r["class"] == "Q"]
    free = questions[len(questions) - len(instrument.open_questions) :]
    assert [(q["type/scale"], q["text"]) for q in free] == [("T", one_line(q.text)) for q in instrument.open_questions]
    assert not [r for r in rows if r["class"] == "A" and r["id"] in {q["id"] for q in free}]
    questions = questions[: len(questions) - len(instrument.open_questions)]
    assert all(q["type/scale"] == "L" for q in questions)
    assert questions[0]["name"] == "role" and questions[0]["text"] == "What is your role?"
    names = [q["name"] for q in questions]
    assert len(set(n.lower() for n in names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,19}", n) for n in names)
    assert [q["text"] for q in questions[1:]] == [
        one_line(instrument.items[i].text) for i in instrument.layout.item_ids
    ]
    # answers follow their question and share its id
    role_codes = {}
    for question in questions:
        answers = [r for r in rows if r["class"] == "A" and r["id"] == question["id"]]
        if question["name"] == "role":
            role_codes = {a["text"].lower(): a["name"] for a in answers}
            assert list(role_codes) == [r.replace("_", " ") for r in instrument.roles]
            assert all(re.fullmatch(r"[A-Za-z0-9]{1,5}", c) for c in role_codes.values())
            continue
        item = next(i for i in instrument.items.values() if one_line(i.text) == question["text"])
        assert [a["text"] for a in answers] == expected_choices(item)
        k = instrument.scale_points
        assert [a["name"] for a in answers] == [str(v) for v in range(1, k + 1)] + (
            ["NA"] if item.allows_na else []
        ) + ["DK"]
        # shown only to the roles the item is asked of
        if set(item.roles) == set(instrument.roles):
            assert question["relevance"] == "1"
        else:
            asked = set(re.findall(r'role\.NAOK == "([^"]+)"', question["relevance"]))
            assert asked == {role_codes[r.replace("_", " ")] for r in item.roles}


def test_limesurvey_records_the_organization_in_a_hidden_question(mini):
    rows = read_tsv(survey_text(mini, "limesurvey", org_id="SITE-7"))
    org = [r for r in rows if r["class"] == "Q" and r["name"] == "orgid"]
    assert len(org) == 1 and org[0]["type/scale"] == "*" and org[0]["text"] == "SITE-7" and org[0]["hidden"] == "1"
    assert not [r for r in read_tsv(survey_text(mini, "limesurvey")) if r["name"] == "orgid"]


def test_question_list_has_the_ids_beside_the_exact_texts(instrument: Instrument):
    text = question_list_csv(instrument)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["item_id"] for r in rows] == ["role", *instrument.layout.item_ids, *instrument.open_question_ids]
    assert rows[0]["question"] == "What is your role?"
    n_open = len(instrument.open_questions)
    for row, question in zip(rows[len(rows) - n_open :], instrument.open_questions):
        assert (row["question"], row["choices"]) == (one_line(question.text), "")
    for row in rows[1 : len(rows) - n_open]:
        item = instrument.items[row["item_id"]]
        assert row["question"] == one_line(item.text)
        assert row["choices"].split("\n") == expected_choices(item)
    assert [r["number"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]


def test_question_list_is_formula_safe():
    spec = {
        "id": "odd",
        "version": "1",
        "roles": {"agent": 1.0},
        "dimensions": [
            {
                "id": d,
                "title": "=HYPERLINK(1)",
                "facets": [
                    {
                        "id": f"{d}.a",
                        "title": "A",
                        "items": [
                            {
                                "id": f"{d[:2].upper()}1",
                                "text": "+cmd|' /C calc'!A0",
                                "labels": list("abcde"),
                                "roles": ["agent"],
                            }
                        ],
                    }
                ],
            }
            for d in ("people", "process", "technology", "knowledge")
        ],
    }
    rows = list(csv.reader(io.StringIO(question_list_csv(Instrument.from_dict(spec))[1:])))
    cells = [c for row in rows[1:] for c in row]
    assert not any(c.lstrip().startswith(("=", "+", "-", "@")) for c in cells)
    assert "'+cmd|' /C calc'!A0" in cells


@pytest.mark.parametrize(("tool", "opening"), [("qualtrics", "[[AdvancedFormat]]"), ("limesurvey", "id\trelated_id")])
def test_survey_command(capsys, tmp_path, tool, opening):
    out = tmp_path / "survey.txt"
    code = main(["survey", "--to", tool, "--out", str(out)])
    stdout, _ = capsys.readouterr()
    assert code == 0 and out.read_text(encoding="utf-8").startswith(opening)
    bundled = load_instrument()
    assert f"{len(bundled.items)} questions" in stdout and "and the role question" in stdout
    assert f"{len(bundled.open_questions)} open question" in stdout or not bundled.open_questions


def test_survey_command_refuses_bad_input_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "survey.txt"
    code = main(["survey", "--to", "qualtrics", "--org", "=cmd", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and "starts like a spreadsheet formula" in err and not out.exists()
    code = main(["survey", "--to", "word", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and not out.exists()
    code = main(["survey", "--to", "csv", "--instrument", str(tmp_path / "missing.yaml"), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and "missing.yaml" in err and not out.exists()
