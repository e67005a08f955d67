"""Survey-tool exports back in: round trips to the same scores, the report, bad exports.

Every export here is simulated from its tool's documented layout (tests/survey_simulators.py)
from canonical answers generated at test time, for the mini instrument and the bundled
one (no bundled item id or text is written down). A round trip passes when the converted
file holds exactly the original answers and scores exactly as the original canonical
file does; the scores are also recomputed here by hand from the documented rules.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from readiness.apps.cli import main
from readiness.core.errors import InputError
from readiness.io.loaders import load_instrument
from readiness.io.pipeline import load_inputs, make_options, run
from readiness.io.survey_export import survey_text
from readiness.io.survey_import import ExportOptions, convert_export

from . import survey_simulators as sim
from .conftest import DATA, with_open_question

MINI = DATA / "mini.yaml"


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module", params=["mini", "bundled"])
def instrument_case(request):
    path = MINI if request.param == "mini" else None
    return request.param, path, load_instrument(path)


def _answers(instrument, *, seed=3, orgs=("NORTH", "SOUTH", "EAST")):
    """Canonical answers with "not applicable", "don't know" and blanks among them."""
    per_role = dict.fromkeys(instrument.roles, 4)
    answers = sim.canonical_answers(instrument, list(orgs), per_role=per_role, seed=seed, dont_know=True)
    return answers, True


def _instrument_args(path):
    return ["--instrument", path] if path else []


def _scores(doc):
    """The numbers of a results document that answers decide (not its warnings)."""
    return {
        "overall": (doc["overall"]["score"], doc["overall"]["ci"], doc["overall"]["level"]),
        "dimensions": {d: (v["score"], v["ci"]) for d, v in doc["dimensions"].items()},
        "facets": {f: (v["score"], v["ci"], v["by_role"], v.get("rwg")) for f, v in doc["facets"].items()},
        "respondents": doc["respondents"],
    }


def _assess(path, instrument_path, export=None, n_boot=50):
    inputs = load_inputs(path, instrument=instrument_path, export=export)
    return run(inputs, options=make_options(n_boot=n_boot, seed=11))


def _independent_overall(instrument, answers: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """Facet, dimension and overall scores per organization by the documented rules, by hand.

    Reverse x' = k + 1 - x; normalized (x' - 1)/(k - 1) * 100; a respondent's facet score
    is the mean of the answered items asked of their role less N/A and don't-know, missing
    when fewer than half of those are answered; an organization's facet score is the
    role-weighted mean of the roles' mean facet scores; dimensions and overall are
    weighted means of what exists.
    """
    k = instrument.scale_points
    out: dict[str, dict[str, float | None]] = {}
    for org, rows in answers.groupby("org_id"):
        scores: dict[str, float | None] = {}
        dims = {}
        for dim in instrument.dimensions:
            facet_scores = {}
            for facet in dim.facets:
                by_role: dict[str, list[float]] = {}
                for _, row in rows.iterrows():
                    asked = [i for i in facet.items if row["role"] in i.roles]
                    counted = [i for i in asked if row[i.id] not in ("NA", "DK")]
                    answered = [i for i in counted if row[i.id] != ""]
                    if not answered or 2 * len(answered) < len(counted):
                        continue
                    values = []
                    for item in answered:
                        x = int(row[item.id])
                        x = k + 1 - x if item.reverse else x
                        values.append((x - 1) / (k - 1) * 100)
                    by_role.setdefault(row["role"], []).append(sum(values) / len(values))
                if by_role:
                    weights = {r: instrument.roles[r] for r in by_role}
                    facet_scores[facet.id] = (
                        sum(weights[r] * sum(v) / len(v) for r, v in by_role.items()) / sum(weights.values()),
                        facet.weight,
                    )
                scores[facet.id] = facet_scores[facet.id][0] if facet.id in facet_scores else None
            if facet_scores:
                total = sum(w for _, w in facet_scores.values())
                dims[dim.id] = (sum(s * w for s, w in facet_scores.values()) / total, dim.weight)
            scores[dim.id] = dims[dim.id][0] if dim.id in dims else None
        total = sum(w for _, w in dims.values())
        scores["overall"] = sum(s * w for s, w in dims.values()) / total if dims else None
        out[str(org)] = scores
    return out


def _assert_same_scores(instrument, original_path, converted_docs, answers, instrument_path):
    original = _assess(original_path, instrument_path)
    assert set(converted_docs) == set(original) == set(answers["org_id"])
    by_hand = _independent_overall(instrument, answers)
    for org, doc in converted_docs.items():
        assert _scores(doc) == _scores(original[org])
        assert doc["overall"]["score"] == pytest.approx(
            by_hand[org]["overall"], abs=6e-5
        )  # results.json rounds to 4 decimals
        for dim in instrument.layout.dimension_ids:
            assert doc["dimensions"][dim]["score"] == pytest.approx(
                by_hand[org][dim], abs=6e-5
            )  # results.json rounds to 4 decimals
        for facet in instrument.layout.facet_ids:
            expected = by_hand[org][facet]
            got = doc["facets"][facet]["score"]
            assert (got is None and expected is None) or got == pytest.approx(
                expected, abs=6e-5
            )  # results.json rounds to 4 decimals


def _same_answers(converted: pd.DataFrame, answers: pd.DataFrame):
    """The converted file holds exactly the original answers, cell for cell."""
    key = ["org_id", "respondent_id"]
    left = converted.astype(str).sort_values(key).reset_index(drop=True)
    right = answers[list(converted.columns)].astype(str).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


# ---------------------------------------------------------------------- Qualtrics
def _qualtrics_tags(instrument) -> dict[str, str]:
    """Export tags the Advanced Format file gives: read from the file, as Qualtrics would."""
    text = survey_text(instrument, "qualtrics")
    tags = re.findall(r"^\[\[ID:([^\]]+)\]\]$", text, flags=re.MULTILINE)
    assert tags[0] == "role" and sorted(tags[1:]) == sorted(sim.questions(instrument))
    return dict(zip(tags, tags))


def test_qualtrics_round_trip_scores_as_the_original(capsys, tmp_path, instrument_case):
    name, path, instrument = instrument_case
    answers, _ = _answers(instrument)
    _qualtrics_tags(instrument)  # the tags the survey definition sets are the item ids
    original = tmp_path / "original.csv"
    answers.to_csv(original, index=False)
    export = sim.write_csv(tmp_path / "qualtrics.csv", sim.qualtrics_rows(instrument, answers))
    out = tmp_path / "converted.csv"
    code, stdout, err = cli(capsys, "convert", export, "--org-column", "site", "--out", out, *_instrument_args(path))
    assert code == 0, err
    assert "Qualtrics export" in stdout and f"{len(answers)} respondent(s) of 3 organization(s)" in stdout
    converted = pd.read_csv(out, dtype=str, keep_default_na=False)
    _same_answers(converted, answers)
    docs = _assess(out, path)
    _assert_same_scores(instrument, original, docs, answers, path)
    # and straight from the export, without the intermediate file
    direct = _assess(export, path, export=ExportOptions(tool="qualtrics", org_column="site"))
    assert {o: _scores(d) for o, d in direct.items()} == {o: _scores(d) for o, d in docs.items()}


@pytest.mark.parametrize("numeric", [False, True])
def test_qualtrics_default_tags_matched_by_text(tmp_path, instrument_case, numeric):
    _, _, instrument = instrument_case
    answers, _ = _answers(instrument)
    rows = sim.qualtrics_rows(instrument, answers, tags="default", numeric=numeric)
    export = sim.write_csv(tmp_path / "q.csv", rows)
    conversion = convert_export(export, instrument, ExportOptions(org_column="site"))
    assert {how for _, _, how in conversion.report.items} == {"text"}
    _same_answers(conversion.frame(), answers)


def test_qualtrics_report_lists_metadata_embedded_partial_duplicates_and_previews(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.qualtrics_rows(mini, answers, preview=True, unfinished=[2], repeat=[4])
    export = sim.write_csv(tmp_path / "q.csv", rows)
    report_file = tmp_path / "report.json"
    out = tmp_path / "c.csv"
    code, stdout, _ = cli(
        capsys,
        "convert",
        export,
        "--from",
        "qualtrics",
        "--org-column",
        "site",
        "--instrument",
        MINI,
        "--report",
        report_file,
        "--out",
        out,
    )
    assert code == 0
    report = json.loads(report_file.read_text())
    assert report["tool"] == "qualtrics" and report["respondents"] == len(answers)
    columns = report["columns"]
    assert columns["organization"] == "site" and columns["respondent_id"] == "ResponseId"
    assert {"StartDate", "Status", "Progress", "Finished", "UserLanguage"} <= set(columns["metadata"])
    assert columns["embedded_data"] == ["wave"]
    assert [c["item"] for c in columns["items"]] == list(mini.layout.item_ids)
    # header rows 1-3, the preview on row 4, then respondent n on row 5 + n (+1 after the repeat)
    assert report["excluded"] == [{"row": 4, "reason": "a survey preview"}]
    assert report["partial"] == [{"row": 7, "respondent_id": answers.respondent_id[2], "progress": "45%"}]
    assert report["duplicates"] == [{"row": 10, "first_row": 9, "respondent_id": answers.respondent_id[4]}]
    assert "unfinished response(s), kept" in stdout and "repeated response(s), left out" in stdout
    converted = pd.read_csv(out, dtype=str, keep_default_na=False)
    _same_answers(converted, answers)  # the preview and the repeat left out, the unfinished one kept


def test_repeated_response_id_with_other_answers_is_refused(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.qualtrics_rows(mini, answers)
    again = list(rows[5])
    p1 = rows[0].index("P1")
    again[p1] = mini.items["P1"].labels[0] if again[p1] != mini.items["P1"].labels[0] else mini.items["P1"].labels[1]
    rows.append(again)
    export = sim.write_csv(tmp_path / "q.csv", rows)
    out = tmp_path / "c.csv"
    code, _, err = cli(capsys, "convert", export, "--org-column", "site", "--instrument", MINI, "--out", out)
    assert code == 2 and not out.exists()
    assert err.strip().startswith(f"error: q.csv, row {len(rows)}, column ResponseId: response id")
    assert "first at row 6" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------- SurveyMonkey
def test_surveymonkey_xlsx_round_trip_with_matrix_and_custom_data(capsys, tmp_path, instrument_case):
    name, path, instrument = instrument_case
    answers, _ = _answers(instrument, seed=5)
    rows, spans = sim.surveymonkey_rows(instrument, answers, matrix=3)
    export = sim.write_xlsx(tmp_path / "monkey.xlsx", rows, merge_first_row=spans)
    out = tmp_path / "converted.csv"
    code, stdout, err = cli(
        capsys, "convert", export, "--org-column", "Custom Data 1", "--out", out, *_instrument_args(path)
    )
    assert code == 0, err
    assert "SurveyMonkey export" in stdout
    converted = pd.read_csv(out, dtype=str, keep_default_na=False)
    _same_answers(converted, answers)
    original = tmp_path / "original.csv"
    answers.to_csv(original, index=False)
    _assert_same_scores(instrument, original, _assess(out, path), answers, path)


def test_other_texts_and_display_orders_are_left_out(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows, _ = sim.surveymonkey_rows(mini, answers)
    at = rows[0].index(mini.items["P2"].text) + 1
    for n, row in enumerate(rows):
        row.insert(at, ["", "Other (please specify)"][n] if n < 2 else "typed text")
    monkey = convert_export(sim.write_csv(tmp_path / "m.csv", rows), mini)
    assert any("Other (please specify)" in name for name in monkey.report.metadata)
    _same_answers(monkey.frame(), answers)
    rows = sim.qualtrics_rows(mini, answers)
    at = rows[0].index("P2") + 1
    extra = [["P2_6_TEXT", f"{mini.items['P2'].text} - Other - Text", '{"ImportId":"QID3_6_TEXT"}']]
    extra.append(["FL_12_DO", "Block randomizer - Display Order", '{"ImportId":"FL_12_DO"}'])
    for n, row in enumerate(rows):
        for cells in reversed(extra):
            row.insert(at, cells[n] if n < 3 else "x")
    qualtrics = convert_export(sim.write_csv(tmp_path / "q.csv", rows), mini)
    assert {"P2_6_TEXT", "FL_12_DO"} <= set(qualtrics.report.metadata)
    _same_answers(qualtrics.frame(), answers)


def test_surveymonkey_csv_auto_detected(tmp_path, mini):
    answers, _ = _answers(mini, seed=8)
    rows, _ = sim.surveymonkey_rows(mini, answers)
    export = sim.write_csv(tmp_path / "monkey.csv", rows)
    conversion = convert_export(export, mini, ExportOptions(org_column="custom data 1"))
    assert conversion.report.tool == "surveymonkey"
    assert conversion.report.id_column == "Respondent ID"
    assert set(conversion.report.metadata) >= {"Respondent ID", "Collector ID"} - {"Respondent ID"}
    _same_answers(conversion.frame(), answers)


# ---------------------------------------------------------------------- LimeSurvey
def _limesurvey_codes(instrument) -> tuple[dict[str, str], dict[str, str]]:
    """Question codes and role answer codes as the tab-separated survey file sets them."""
    lines = [line.split("\t") for line in survey_text(instrument, "limesurvey").splitlines()]
    head = lines[0]
    questions = [dict(zip(head, line)) for line in lines[1:] if line[head.index("class")] == "Q"]
    items = [q for q in questions if q["name"] not in ("role", "orgid")]
    assert len(items) == len(sim.questions(instrument))
    by_text = {q["text"]: q["name"] for q in items}
    codes = {i: by_text[" ".join(sim.question_text(instrument, i).split())] for i in sim.questions(instrument)}
    answers = [dict(zip(head, line)) for line in lines[1:] if line[head.index("class")] == "A"]
    role_answers = [a for a in answers if a["id"] == questions[0]["id"]]
    roles = {a["text"]: a["name"] for a in role_answers}
    return codes, {role: roles[sim.role_text(role)] for role in instrument.roles}


@pytest.mark.parametrize(("headings", "codes"), [("code", True), ("text", False), ("both", True)])
def test_limesurvey_round_trip(tmp_path, instrument_case, headings, codes):
    name, path, instrument = instrument_case
    answers, _ = _answers(instrument, seed=9)
    item_codes, role_codes = _limesurvey_codes(instrument)
    assert all(sim.ls_code(i) == c for i, c in item_codes.items())  # the simulator writes the file's codes
    assert all(sim.ls_role_code(r) == c for r, c in role_codes.items())
    if headings == "text":
        # Under full-text headings the hidden question is headed by its value: one survey per
        # organization, named with --org.
        answers = answers[answers.org_id == "NORTH"].reset_index(drop=True)
    rows = sim.limesurvey_rows(instrument, answers, headings=headings, codes=codes, org_column=headings != "text")
    export = sim.write_csv(tmp_path / "results-survey123.csv", rows)
    options = ExportOptions(org_id="NORTH") if headings == "text" else ExportOptions()
    conversion = convert_export(export, instrument, options)
    assert conversion.report.tool == "limesurvey"
    assert conversion.report.org_column == ("--org NORTH" if headings == "text" else rows[0][6])
    assert conversion.report.id_column == rows[0][0]
    answers["respondent_id"] = [str(n) for n in range(1, len(answers) + 1)]  # LimeSurvey numbers its responses
    _same_answers(conversion.frame(), answers)


def test_limesurvey_incomplete_response_kept_with_its_last_page(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.limesurvey_rows(mini, answers)
    rows[3][1] = ""  # submitdate empty: not submitted
    rows[3][2] = "2"
    export = sim.write_csv(tmp_path / "ls.csv", rows)
    report = convert_export(export, mini).report
    assert report.partial == [(4, "3", "last page 2")]


# ---------------------------------------------------------------------- Forms
def test_google_forms_numbered_questions_one_organization(capsys, tmp_path, instrument_case):
    name, path, instrument = instrument_case
    answers, _ = _answers(instrument, seed=12, orgs=("WEST",))
    export = sim.write_csv(tmp_path / "Form responses 1.csv", sim.google_forms_rows(instrument, answers, numbered=True))
    out = tmp_path / "c.csv"
    code, stdout, err = cli(capsys, "convert", export, "--org", "WEST", "--out", out, *_instrument_args(path))
    assert code == 0, err
    assert "respondent id from: (generated from the row number)" in stdout
    converted = pd.read_csv(out, dtype=str, keep_default_na=False)
    ids = list(converted["respondent_id"])
    assert ids[0] == "row2" and len(set(ids)) == len(ids) and all(re.fullmatch(r"row\d+", i) for i in ids)
    converted["respondent_id"] = list(answers["respondent_id"])  # Google Forms keeps no id
    _same_answers(converted, answers)
    original = tmp_path / "original.csv"
    answers.to_csv(original, index=False)
    docs = _assess(out, path, n_boot=0)
    assert _scores(docs["WEST"]) == _scores(_assess(original, path, n_boot=0)["WEST"])


def test_microsoft_forms_xlsx(tmp_path, mini):
    answers, _ = _answers(mini, seed=13, orgs=("WEST",))
    export = sim.write_xlsx(tmp_path / "Survey.xlsx", sim.microsoft_forms_rows(mini, answers))
    conversion = convert_export(export, mini, ExportOptions(tool="forms", org_id="WEST"))
    assert conversion.report.id_column == "ID"
    assert {"Start time", "Completion time", "Email", "Name"} <= set(conversion.report.metadata)
    _same_answers(conversion.frame(), answers)


# ---------------------------------------------------------------------- open questions
@pytest.mark.parametrize("tool", ["qualtrics", "surveymonkey", "limesurvey", "forms"])
def test_open_question_answers_carried_as_written(tmp_path, mini, tool):
    instrument = with_open_question(mini)
    answers, _ = _answers(instrument, orgs=("NORTH",))
    assert answers["OPEN_1"].str.contains("\n").any()  # commas, quotes and line breaks in own words
    if tool == "qualtrics":
        rows = sim.qualtrics_rows(instrument, answers)
    elif tool == "surveymonkey":
        rows, _ = sim.surveymonkey_rows(instrument, answers)
    elif tool == "limesurvey":
        rows = sim.limesurvey_rows(instrument, answers)
        answers["respondent_id"] = [str(n) for n in range(1, len(answers) + 1)]
    else:
        rows = sim.google_forms_rows(instrument, answers)
    export = sim.write_csv(tmp_path / "export.csv", rows)
    conversion = convert_export(export, instrument, ExportOptions(org_id="NORTH", tool=tool))
    assert [q for _, q, _ in conversion.report.open_questions] == ["OPEN_1"]
    frame = conversion.frame()
    assert list(frame.columns)[-1] == "OPEN_1"
    if tool == "forms":
        frame["respondent_id"] = list(answers["respondent_id"])
    _same_answers(frame, answers)


# ---------------------------------------------------------------------- don't know
def test_dont_know_is_written_as_dk(tmp_path, mini):
    answers = sim.canonical_answers(mini, ["NORTH"], seed=1, dont_know=True, blank=0)
    assert (answers == "DK").any().any()
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    frame = convert_export(export, mini, ExportOptions(org_column="site")).frame()
    _same_answers(frame, answers)  # "Don't know" chosen -> DK in the canonical file


def test_dont_know_scores_out_of_the_half_rule(tmp_path, mini):
    answers = sim.canonical_answers(mini, ["NORTH", "SOUTH"], seed=4, dont_know=True)
    original = tmp_path / "o.csv"
    answers.to_csv(original, index=False)
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    docs = _assess(export, MINI, export=ExportOptions(org_column="site"))
    _assert_same_scores(mini, original, docs, answers, MINI)


# ---------------------------------------------------------------------- messy exports
def test_texts_written_differently_still_match(tmp_path, mini):
    """Curly quotes, non-breaking and zero-width spaces, HTML and case: the same question and answer."""
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.google_forms_rows(mini, answers)
    rows[0] = [
        h if i < 2 else "<b>" + h.upper().replace(" ", "\u00a0", 1) + "</b>\u200b" for i, h in enumerate(rows[0])
    ]
    for row in rows[1:]:
        for i in range(3, len(row)):
            row[i] = row[i].replace("'", "\u2019").lower().replace(" ", "  ")
    export = sim.write_csv(tmp_path / "f.csv", rows)
    conversion = convert_export(export, mini, ExportOptions(org_id="NORTH"))
    answers["respondent_id"] = [f"row{n}" for n in range(2, len(answers) + 2)]
    _same_answers(conversion.frame(), answers)


def test_unknown_answer_names_the_exports_row_and_column(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.qualtrics_rows(mini, answers)
    column = rows[0].index("R1")
    rows[6][column] = "Sometimes"
    export = sim.write_csv(tmp_path / "q.csv", rows)
    out = tmp_path / "c.csv"
    out.write_text("keep me")
    code, _, err = cli(capsys, "convert", export, "--org-column", "site", "--instrument", MINI, "--out", out)
    assert code == 2 and out.read_text() == "keep me"
    assert err.startswith("error: q.csv, row 7, column R1: unknown answer 'Sometimes'")


def test_question_matching_no_item_is_refused_unless_ignored(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.google_forms_rows(mini, answers)
    rows[0].append("Anything else you would like to tell us?")
    for row in rows[1:]:
        row.append("More coaching, please")
    export = sim.write_csv(tmp_path / "f.csv", rows)
    out = tmp_path / "c.csv"
    code, _, err = cli(capsys, "convert", export, "--org", "NORTH", "--instrument", MINI, "--out", out)
    assert code == 2 and not out.exists()
    letter = chr(ord("A") + len(rows[0]) - 1)
    assert err.startswith(f"error: f.csv, row 1, column {letter} (Anything else you would like to tell us?)")
    assert "--ignore-columns" in err
    code, stdout, _ = cli(
        capsys, "convert", export, "--org", "NORTH", "--instrument", MINI, "--ignore-columns", "--out", out
    )
    assert code == 0 and out.exists()
    assert "left out, matching no item (--ignore-columns):" in stdout


def test_close_question_text_is_suggested(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.google_forms_rows(mini, answers)
    rows[0][3] = rows[0][3] + " at our center"  # the first item's text, edited in the tool
    export = sim.write_csv(tmp_path / "f.csv", rows)
    with pytest.raises(InputError) as caught:
        convert_export(export, mini, ExportOptions(org_id="NORTH"))
    assert f"closest question is {mini.layout.item_ids[0]}" in str(caught.value)


def test_role_question_found_by_its_own_text_or_by_its_answers(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.google_forms_rows(mini, answers)
    rows[0][2] = "Which best describes your job?"
    export = sim.write_csv(tmp_path / "f.csv", rows)
    named = convert_export(export, mini, ExportOptions(org_id="NORTH", role_question="Which best describes your job?"))
    assert named.report.role_column.endswith("(Which best describes your job?)") and not named.report.role_found_by
    found = convert_export(export, mini, ExportOptions(org_id="NORTH"))
    assert found.report.role_column == named.report.role_column and "answers" in found.report.role_found_by
    assert found.frame().equals(named.frame())
    rows[3][2] = "Team lead"  # an answer that is no role: the question is no longer recognized
    export = sim.write_csv(tmp_path / "g.csv", rows)
    with pytest.raises(InputError, match="no role question found"):
        convert_export(export, mini, ExportOptions(org_id="NORTH", ignore_columns=True))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ExportOptions(), "no organization: give --org ID"),
        (ExportOptions(org_id="A", org_column="site"), "not both"),
        (ExportOptions(org_column="nope"), "no column named 'nope'"),
        (ExportOptions(tool="surveymonkey", org_id="A"), "matches no item"),  # forced onto the wrong layout
    ],
)
def test_refused_options(tmp_path, mini, options, message):
    answers, _ = _answers(mini, orgs=("NORTH",))
    export = sim.write_csv(tmp_path / "f.csv", sim.google_forms_rows(mini, answers))
    with pytest.raises(InputError, match=message):
        convert_export(export, mini, options)


def test_unknown_layout_and_empty_exports_refused(capsys, tmp_path, mini):
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n")
    code, _, err = cli(capsys, "convert", odd, "--org", "X", "--instrument", MINI, "--out", tmp_path / "o.csv")
    assert code == 2 and "odd.csv, row 1: cannot tell which survey tool" in err
    answers, _ = _answers(mini, orgs=("NORTH",))
    header_only = sim.write_csv(tmp_path / "h.csv", sim.qualtrics_rows(mini, answers)[:3])
    code, _, err = cli(capsys, "convert", header_only, "--org", "X", "--instrument", MINI, "--out", tmp_path / "o.csv")
    assert code == 2 and "h.csv" in err and "no response rows" in err
    code, _, err = cli(capsys, "convert", header_only, "--org", "X", "--out", tmp_path / "o.xlsx")
    assert code == 2 and ".csv or .parquet" in err
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.xlsx").exists()


def test_bad_organization_id_from_a_column_names_the_export(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    answers.loc[1, "org_id"] = "=HYPERLINK(1)"
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    code, _, err = cli(
        capsys, "convert", export, "--org-column", "site", "--instrument", MINI, "--out", tmp_path / "o.csv"
    )
    assert code == 2 and err.startswith("error: q.csv, row 5, column site: org_id '=HYPERLINK(1)' starts like")


# ---------------------------------------------------------------------- --from on the other commands
def test_validate_and_score_take_an_export(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH", "SOUTH"))
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    code, out, err = cli(capsys, "validate", export, "--from", "auto", "--org-column", "site", "--instrument", MINI)
    assert code == 0 and out.strip() == f"valid: {len(answers)} respondents, 2 organizations"
    assert "answers converted from a Qualtrics export (q.csv)" in err
    target = tmp_path / "south.json"
    code, _, err = cli(
        capsys,
        "score",
        export,
        "--from",
        "qualtrics",
        "--org-column",
        "site",
        "--org",
        "SOUTH",
        "--instrument",
        MINI,
        "--json",
        target,
        "--quiet",
    )
    assert code == 0, err
    doc = json.loads(target.read_text())
    assert doc["organization"]["id"] == "SOUTH"
    assert any("answers converted from a Qualtrics export" in w for w in doc["warnings"])
    # without an organization column, --org names the organization of every row
    forms = sim.write_csv(tmp_path / "f.csv", sim.google_forms_rows(mini, answers[answers.org_id == "NORTH"]))
    code, _, err = cli(
        capsys, "score", forms, "--from", "forms", "--org", "NORTH", "--instrument", MINI, "--json", target, "--quiet"
    )
    assert code == 0, err and json.loads(target.read_text())["organization"]["id"] == "NORTH"
    code, _, err = cli(capsys, "validate", export, "--org-column", "site", "--instrument", MINI)
    assert code == 2 and "go with --from" in err


def test_validate_lists_every_problem_of_an_export(capsys, tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.qualtrics_rows(mini, answers)
    rows[4][rows[0].index("role")] = "Boss"
    rows[5][rows[0].index("T1")] = "7"
    export = sim.write_csv(tmp_path / "q.csv", rows)
    code, _, err = cli(capsys, "validate", export, "--from", "qualtrics", "--org-column", "site", "--instrument", MINI)
    assert code == 2
    assert err.strip().splitlines() == [
        "error: q.csv, row 5, column role: unknown role 'Boss'; expected one of agent, manager",  # quoted as written
        "error: q.csv, row 6, column T1: answer 7 is outside 1..5",
    ]


def test_batch_path_sets_aside_a_bad_organization_of_an_export(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH", "SOUTH"))
    rows = sim.qualtrics_rows(mini, answers)
    bad_row = next(n for n, r in enumerate(rows) if n >= 3 and r[-2] == "SOUTH")
    rows[bad_row][rows[0].index("K1")] = "maybe"
    export = sim.write_csv(tmp_path / "q.csv", rows)
    inputs = load_inputs(export, instrument=MINI, isolate=True, export=ExportOptions(org_column="site"))
    assert inputs.responses.org_ids == ("NORTH",)
    assert inputs.rejected["SOUTH"].startswith(f"q.csv, row {bad_row + 1}, column K1: unknown answer 'maybe'")


def test_organization_column_found_by_its_name(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH", "SOUTH"))
    # the same response ids at two sites: one respondent each, not a repeat
    answers["respondent_id"] = [f"r{n % 8}" for n in range(len(answers))]
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    conversion = convert_export(export, mini)
    assert conversion.report.org_column == "site" and conversion.report.embedded == ["wave"]
    _same_answers(conversion.frame(), answers)
    rows, _ = sim.surveymonkey_rows(mini, answers)
    monkey = sim.write_xlsx(tmp_path / "m.xlsx", rows)
    assert convert_export(monkey, mini).report.org_column == "Custom Data 1"
    both = sim.qualtrics_rows(mini, answers, embedded=("site", "center"))
    with pytest.raises(InputError, match="no organization"):
        convert_export(sim.write_csv(tmp_path / "two.csv", both), mini)


def test_same_person_twice_is_reported_not_dropped(tmp_path, mini):
    answers, _ = _answers(mini, orgs=("NORTH",))
    rows = sim.qualtrics_rows(mini, answers)
    email = rows[0].index("RecipientEmail")
    rows[6][email] = rows[3][email]
    export = sim.write_csv(tmp_path / "q.csv", rows)
    report = convert_export(export, mini, ExportOptions(org_column="site")).report
    assert report.same_person == [(7, 4, "RecipientEmail")]
    assert report.respondents == len(answers)


def test_conversion_is_deterministic(tmp_path, mini):
    answers, _ = _answers(mini)
    export = sim.write_csv(tmp_path / "q.csv", sim.qualtrics_rows(mini, answers))
    outs = []
    for n in range(2):
        out = tmp_path / f"c{n}.csv"
        assert main(["convert", str(export), "--org-column", "site", "--instrument", str(MINI), "--out", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
