"""The fill-in questionnaire workbook: generated from an instrument, filled in by a script
with labels and N/A, then read back by `readiness validate` and `readiness score`.

Expected scores come from :func:`naive_scores`, a plain-loop reading of the rules in
DESIGN.md / docs/scoring.md, independent of the matrix code in readiness.core.scoring.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl
import pytest

from readiness.apps.cli import main
from readiness.core.instrument import META_COLUMNS, Instrument
from readiness.io.workbook import DK_TEXT, LISTS_SHEET, NA_TEXT, RESPONSES_SHEET, build_workbook, write_template

from .conftest import DATA

MINI = str(DATA / "mini.yaml")

#: One respondent as the tests write them: role and item id -> 1..k, "NA" or "DK".
Answers = tuple[str, Mapping[str, int | str]]


# ---------------------------------------------------------------------- independent scoring
def naive_scores(instrument: Instrument, respondents: Sequence[Answers]) -> dict:
    """Overall, dimension and facet scores of one organization, by the documented rules."""
    k = instrument.scale_points
    facet_role: dict[str, dict[str, list[float]]] = {}
    for role, answers in respondents:
        for dim in instrument.dimensions:
            for facet in dim.facets:
                counted = [
                    i
                    for i in facet.items
                    if role in i.roles
                    and not (answers.get(i.id) == "NA" and i.allows_na)
                    and answers.get(i.id) != "DK"  # don't know: out of the count, like N/A
                ]
                given = [i for i in counted if isinstance(answers.get(i.id), int)]
                if not counted or not given or 2 * len(given) < len(counted):
                    continue
                values = []
                for item in given:
                    x = answers[item.id]
                    x = (k + 1) - x if item.reverse else x
                    values.append((x - 1) / (k - 1) * 100)
                facet_role.setdefault(facet.id, {}).setdefault(role, []).append(sum(values) / len(values))
    facets: dict[str, float | None] = {}
    for facet_id in instrument.facets:
        by_role = facet_role.get(facet_id, {})
        if not by_role:
            facets[facet_id] = None
            continue
        weights = {r: instrument.roles[r] for r in by_role}
        facets[facet_id] = sum(weights[r] * sum(s) / len(s) for r, s in by_role.items()) / sum(weights.values())

    def weighted(pairs: list[tuple[float | None, float]]) -> float | None:
        present = [(s, w) for s, w in pairs if s is not None]
        return sum(s * w for s, w in present) / sum(w for _, w in present) if present else None

    dims = {d.id: weighted([(facets[f.id], f.weight) for f in d.facets]) for d in instrument.dimensions}
    overall = weighted([(dims[d.id], d.weight) for d in instrument.dimensions])
    return {"overall": overall, "dimensions": dims, "facets": facets}


def random_respondents(instrument: Instrument, n: int, seed: int) -> list[tuple[str, str, dict[str, int | str]]]:
    """(respondent id, role, answers) with every role, some blanks, N/A where allowed and don't know."""
    rng = random.Random(seed)
    roles = list(instrument.roles)
    out = []
    for r in range(n):
        role = roles[r % len(roles)]
        answers: dict[str, int | str] = {}
        for item in instrument.items.values():
            if role not in item.roles:
                continue
            draw = rng.random()
            if draw < 0.12:
                continue  # left empty
            if draw < 0.22 and item.allows_na:
                answers[item.id] = "NA"
            elif 0.22 <= draw < 0.28:
                answers[item.id] = "DK"
            else:
                answers[item.id] = rng.randint(1, instrument.scale_points)
        out.append((f"R{r + 1:02d}", role, answers))
    return out


def fill_workbook(path: Path, instrument: Instrument, org: str, people) -> None:
    """What a respondent does in Excel: labels from the drop-downs, N/A, don't know, blanks."""
    wb = openpyxl.load_workbook(path)
    ws = wb[RESPONSES_SHEET]
    header = [c.value for c in ws[1]]
    for row, (rid, role, answers) in enumerate(people, start=2):
        ws.cell(row=row, column=header.index("org_id") + 1, value=org)
        ws.cell(row=row, column=header.index("respondent_id") + 1, value=rid)
        ws.cell(row=row, column=header.index("role") + 1, value=role.capitalize() if row % 2 else role)
        for item_id, answer in answers.items():
            item = instrument.items[item_id]
            text = NA_TEXT if answer == "NA" else DK_TEXT if answer == "DK" else item.labels[answer - 1]
            if row % 3 == 0 and answer != "NA":
                text = text.upper()  # labels are read in any case
            ws.cell(row=row, column=header.index(item_id) + 1, value=text)
    wb.save(path)


def assert_scores_match(doc: dict, expected: dict) -> None:
    def close(a, b):
        return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-3)

    assert close(doc["overall"]["score"], expected["overall"]), (doc["overall"]["score"], expected["overall"])
    for d, value in expected["dimensions"].items():
        assert close(doc["dimensions"][d]["score"], value), (d, doc["dimensions"][d]["score"], value)
    for f, value in expected["facets"].items():
        assert close(doc["facets"][f]["score"], value), (f, doc["facets"][f]["score"], value)


# ---------------------------------------------------------------------- structure
@pytest.fixture(scope="module")
def bundled_book(tmp_path_factory):
    from readiness.io.loaders import load_instrument

    inst = load_instrument()
    path = tmp_path_factory.mktemp("book") / "questionnaire.xlsx"
    write_template(path, inst, rows=40)
    return inst, path, openpyxl.load_workbook(path)


def test_sheets_header_and_hidden_lists(bundled_book):
    inst, _, wb = bundled_book
    assert wb.sheetnames == ["Instructions", RESPONSES_SHEET, "Questions", LISTS_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    assert wb.active.title == "Instructions"
    ws = wb[RESPONSES_SHEET]
    assert [c.value for c in ws[1]] == [*META_COLUMNS, *inst.layout.item_ids, *inst.open_question_ids]
    assert ws.freeze_panes == "D2"
    # Each header of an item carries its question.
    assert inst.items["PEO_HIR_1"].text in ws["D1"].comment.text
    questions = wb["Questions"]
    assert questions.max_row == len(inst.items) + len(inst.open_questions) + 1
    # Sources as a person reads them: publication, year and title, never a file name.
    header_q = [c.value for c in questions[1]]
    sources = [row[header_q.index("source")] for row in questions.iter_rows(min_row=2, values_only=True)]
    assert all(sources) and not [s for s in sources if s.endswith(".txt")]
    assert "ICMI (2012), “Why Customer Service Reps Don’t Sell… and What You Can Do About It”" in sources


def _range_values(wb, formula: str) -> list[str]:
    sheet, cells = formula.split("!")
    assert sheet.strip("'") == LISTS_SHEET
    return [c.value for row in wb[LISTS_SHEET][cells.replace("$", "")] for c in row]


def test_every_item_has_a_dropdown_of_its_labels(bundled_book):
    inst, _, wb = bundled_book
    ws = wb[RESPONSES_SHEET]
    header = [c.value for c in ws[1]]
    by_column: dict[str, object] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert rng.min_col == rng.max_col
            by_column[header[rng.min_col - 1]] = (dv, rng)
    assert set(by_column) == set(header)
    for item_id, item in inst.items.items():
        dv, rng = by_column[item_id]
        assert dv.type == "list" and (rng.min_row, rng.max_row) == (2, 41)
        assert len(dv.formula1) < 255  # Excel's limit on a validation formula
        expected = [*item.labels, *([NA_TEXT] if item.allows_na else []), DK_TEXT]
        assert _range_values(wb, dv.formula1) == expected
    dv, rng = by_column["role"]
    assert dv.type == "list" and dv.errorStyle == "stop"
    assert _range_values(wb, dv.formula1) == list(inst.roles)
    assert sum(item.allows_na for item in inst.items.values()) > 0  # the N/A branch is exercised


def test_header_locked_answers_unlocked(bundled_book):
    inst, _, wb = bundled_book
    ws = wb[RESPONSES_SHEET]
    assert ws.protection.sheet is True
    assert all(c.protection.locked for c in ws[1])
    for row in (2, 20, 41):
        assert not any(ws.cell(row=row, column=c).protection.locked for c in range(1, ws.max_column + 1))
    assert ws.cell(row=42, column=1).protection.locked  # beyond the prepared rows
    assert wb[LISTS_SHEET].protection.sheet is True


def test_not_asked_cells_are_greyed_by_role(bundled_book):
    inst, _, wb = bundled_book
    ws = wb[RESPONSES_SHEET]
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    header = [c.value for c in ws[1]]
    col = openpyxl.utils.get_column_letter(header.index("PEO_HIR_2") + 1)  # supervisors and managers only
    assert rules[f"{col}2:{col}41"] == ['AND($C2<>"",$C2<>"supervisor",$C2<>"manager")']
    every_role = openpyxl.utils.get_column_letter(header.index("PEO_HIR_4") + 1)  # asked of every role
    assert f"{every_role}2:{every_role}41" not in rules


def test_text_that_looks_like_a_formula_stays_text(tmp_path, mini):
    spec = mini.model_dump(mode="json")
    spec["dimensions"][0]["facets"][0]["items"][0]["labels"] = ["=1+1", "+cmd", "-x", "@y", "fine"]
    inst = Instrument.from_dict(spec)
    wb = build_workbook(inst, rows=3)
    assert all(c.data_type == "s" for row in wb[LISTS_SHEET].iter_rows() for c in row if c.value is not None)


# ---------------------------------------------------------------------- round trip through the CLI
@pytest.mark.parametrize("which", ["mini", "bundled"])
def test_filled_workbook_validates_and_scores_as_expected(tmp_path, capsys, mini, bundled, which):
    inst, args = (mini, ["--instrument", MINI]) if which == "mini" else (bundled, [])
    path = tmp_path / "questionnaire.xlsx"
    assert main(["template", *args, "--out", str(path), "--rows", "30"]) == 0
    assert "answer rows" in capsys.readouterr().out
    people = random_respondents(inst, 9, seed=7)
    fill_workbook(path, inst, "ACME", people)

    assert main(["validate", str(path), *args]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "valid: 9 respondents, 1 organization"
    assert "error" not in err

    results = tmp_path / "results.json"
    code = main(["score", str(path), *args, "--json", str(results), "--bootstrap", "0", "--quiet"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(results.read_text())
    assert doc["respondents"]["n"] == 9
    expected = naive_scores(inst, [(role, answers) for _, role, answers in people])
    assert expected["overall"] is not None
    assert_scores_match(doc, expected)
    dont_know = sum(answer == "DK" for _, _, answers in people for answer in answers.values())
    assert dont_know > 0 and doc["respondents"]["answers"]["dont_know"] == dont_know


def test_template_with_org_offers_only_that_org(tmp_path, mini):
    path = tmp_path / "q.xlsx"
    write_template(path, mini, rows=5, org_id="ACME")
    wb = openpyxl.load_workbook(path)
    ws = wb[RESPONSES_SHEET]
    org_dv = next(dv for dv in ws.data_validations.dataValidation if "A2:A6" in str(dv.sqref))
    assert _range_values(wb, org_dv.formula1) == ["ACME"]
    assert "choose ACME" in " ".join(str(c.value) for c in wb["Instructions"]["A"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "q.csv"], "must be an .xlsx file"),
        (["--out", "q.xlsx", "--rows", "0"], "--rows must be between"),
        (["--out", "q.xlsx", "--org", "a/b"], "path separator"),
    ],
)
def test_template_bad_options_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["template", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


# ---------------------------------------------------------------------- the filled-in roadmap
def _roadmap_workbook(path: Path, rows: list[list], *, title_rows: int = 3, header: list[str] | None = None) -> Path:
    """A roadmap workbook to the contract: title rows, the header row, then one row per action."""
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Roadmap"
    for n in range(title_rows):
        ws.append([f"Title line {n + 1}", dt.date(2024, 5, 14) if n == 1 else None])
    ws.append(
        header
        or [
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
    )
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _row(action: str, status, responsible=None, due=None, comments=None) -> list:
    return [1, "Some action", action, 1, "High", "people.a", "Manager", "", status, responsible, due, comments]


def test_read_roadmap_progress_reads_what_the_client_wrote(tmp_path):
    import datetime as dt

    from readiness.io.workbook import read_roadmap_progress

    path = _roadmap_workbook(
        tmp_path / "filled.xlsx",
        [
            _row("define-offer", "Done", "Ana Lee", dt.datetime(2024, 7, 1), "finished early"),
            _row("coach-weekly", "in progress", "  Bo  ", "end of Q3"),
            [None] * 12,  # a blank row in between
            _row("buy-crm", None),
            _row("train-agents", "DROPPED"),
        ],
    )
    got = read_roadmap_progress(path)
    assert got == {
        "define-offer": {"status": "Done", "responsible": "Ana Lee", "due": "2024-07-01", "comments": "finished early"},
        "coach-weekly": {"status": "In progress", "responsible": "Bo", "due": "end of Q3", "comments": None},
        "buy-crm": {"status": "Not started", "responsible": None, "due": None, "comments": None},
        "train-agents": {"status": "Dropped", "responsible": None, "due": None, "comments": None},
    }


def test_read_roadmap_progress_needs_only_action_id_and_status(tmp_path):
    from readiness.io.workbook import read_roadmap_progress

    path = _roadmap_workbook(
        tmp_path / "few.xlsx", [["x1", "Done"], ["x2", ""]], title_rows=0, header=["action ID", " STATUS "]
    )
    assert {k: v["status"] for k, v in read_roadmap_progress(path).items()} == {"x1": "Done", "x2": "Not started"}


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [_row("a", "Finished")],
            "row 5, column Status: status 'Finished' is not one of Not started, In progress, Done, Dropped",
        ),
        ([_row("a", "Done"), _row("a", "Done")], "row 6, column Action id: action 'a' is listed twice"),
        ([[None] * 12], "row 4: sheet 'Roadmap' lists no action below its header"),
    ],
)
def test_read_roadmap_progress_refuses_bad_rows_in_one_line(tmp_path, rows, message):
    from readiness.core.errors import InputError
    from readiness.io.workbook import read_roadmap_progress

    path = _roadmap_workbook(tmp_path / "bad.xlsx", rows)
    with pytest.raises(InputError) as caught:
        read_roadmap_progress(path)
    assert str(caught.value) == f"bad.xlsx, {message}"


def test_read_roadmap_progress_refuses_other_files(tmp_path, mini):
    from readiness.core.errors import InputError
    from readiness.io.exporters import write_roadmap_xlsx
    from readiness.io.workbook import read_roadmap_progress

    csv = tmp_path / "roadmap.xlsx"
    csv.write_text("Action id,Status\nx,Done\n")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_roadmap_progress(csv)
    questionnaire = write_template(tmp_path / "q.xlsx", mini)
    with pytest.raises(InputError, match="has no sheet 'Roadmap'"):
        read_roadmap_progress(questionnaire)
    old = write_roadmap_xlsx(tmp_path / "old.xlsx", [{"rank": 1, "action": "a", "title": "A", "facets": ["x"]}])
    with pytest.raises(InputError, match="no header row with the columns 'Action id' and 'Status'"):
        read_roadmap_progress(old)
    with pytest.raises(InputError, match="file not found"):
        read_roadmap_progress(tmp_path / "missing.xlsx")
