"""The fill-in questionnaire workbook: generated from an instrument, filled in by a script
with labels and N/A, then read back by `readiness validate` and `readiness score`.

Expected scores come from :func:`naive_scores`, a plain-loop reading of the rules in
DESIGN.md / docs/scoring.md, independent of the matrix code in readiness.core.scoring.
"""

from __future__ import annotations

import json
import random
import re
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
    header = [c.value for c in ws[1]]
    assert [h for h in header if not h.startswith("comment:")] == [
        *META_COLUMNS,
        *inst.layout.item_ids,
        *inst.open_question_ids,
    ]
    # a comment column after the last item of each facet
    for facet in inst.facets.values():
        assert header.index(f"comment:{facet.id}") == header.index(facet.items[-1].id) + 1
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
    for name in header:
        if name.startswith("comment:"):
            dv, _ = by_column[name]
            assert dv.type == "textLength" and dv.errorStyle == "stop"
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
            "sheet Roadmap, row 5, column Status: status 'Finished' is not one of Not started, In progress, Done, Dropped",
        ),
        ([_row("a", "Done"), _row("a", "Done")], "sheet Roadmap, row 6, column Action id: action 'a' is listed twice"),
        ([[None] * 12], "sheet Roadmap, row 4: lists no action below its header"),
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
    from readiness.io.workbook import read_roadmap_progress

    csv = tmp_path / "roadmap.xlsx"
    csv.write_text("Action id,Status\nx,Done\n")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_roadmap_progress(csv)
    questionnaire = write_template(tmp_path / "q.xlsx", mini)
    with pytest.raises(InputError, match="has no sheet 'Roadmap'"):
        read_roadmap_progress(questionnaire)
    # a roadmap.xlsx from before the Status column
    old = _roadmap_workbook(tmp_path / "old.xlsx", [[1, "A", "a"]], header=["Rank", "Action", "Action id"])
    with pytest.raises(InputError, match="no header row with the columns 'Action id' and 'Status'"):
        read_roadmap_progress(old)
    with pytest.raises(InputError, match="file not found"):
        read_roadmap_progress(tmp_path / "missing.xlsx")


# ====================================================================== the roadmap workbook
@pytest.fixture(scope="module")
def demo_doc():
    """The example center's results (bundled panel as peers), as assess writes them."""
    from readiness.io.pipeline import load_results

    return load_results(n_boot=50, prepared_by="A. Consultant", assessment_date="2025-03-14")


@pytest.fixture(scope="module")
def roadmap_book(demo_doc, tmp_path_factory):
    from readiness.io.workbook import write_roadmap_workbook

    path = tmp_path_factory.mktemp("roadmap") / "roadmap.xlsx"
    write_roadmap_workbook(path, demo_doc["roadmap"], results=demo_doc, title="Roadmap: Northbank")
    return path


def _header(ws) -> tuple[int, list[str]]:
    for r in range(1, 20):
        values = [c.value for c in ws[r]]
        if "Action id" in values:
            return r, values
    raise AssertionError("no header row")


def test_roadmap_workbook_title_rows_and_header(demo_doc, roadmap_book):
    from readiness.io.workbook import ROADMAP_SHEET

    wb = openpyxl.load_workbook(roadmap_book)
    assert wb.sheetnames[:2] == [ROADMAP_SHEET, "Facets"] and wb.active.title == ROADMAP_SHEET
    ws = wb[ROADMAP_SHEET]
    row, header = _header(ws)
    top = " ".join(str(ws.cell(row=r, column=1).value or "") for r in range(1, row))
    assert demo_doc["organization"]["name"] in top
    assert "Assessment date: 2025-03-14" in top and "Prepared by: A. Consultant" in top
    assert f"Target: {demo_doc['plan']['target']}" in top
    for name in (
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
    ):
        assert name in header, name
    assert ws.max_row == row + len(demo_doc["roadmap"])


def test_roadmap_workbook_is_the_same_bytes_each_time_dated_by_the_assessment(demo_doc, roadmap_book, tmp_path):
    import datetime as dt
    import time
    import zipfile

    from readiness.io.workbook import write_roadmap_workbook

    time.sleep(2.1)  # zip times count in two seconds: a later clock would show
    again = write_roadmap_workbook(
        tmp_path / "again.xlsx", demo_doc["roadmap"], results=demo_doc, title="Roadmap: Northbank"
    )
    assert again.read_bytes() == roadmap_book.read_bytes()
    with zipfile.ZipFile(again) as packed:
        assert {info.date_time for info in packed.infolist()} == {(2025, 3, 14, 0, 0, 0)}
    props = openpyxl.load_workbook(again).properties
    assert props.created == props.modified == dt.datetime(2025, 3, 14)


def test_roadmap_workbook_cells_of_a_kind_look_alike(demo_doc, roadmap_book):
    """Cells share their column's look, and their phase's colour except where the client fills in."""
    ws = openpyxl.load_workbook(roadmap_book)["Roadmap"]
    row, header = _header(ws)
    looks: dict[tuple, set] = {}
    for r, item in enumerate(demo_doc["roadmap"], start=row + 1):
        for c, name in enumerate(header, start=1):
            cell = ws.cell(row=r, column=c)
            phase = None if name in ("Status", "Responsible", "Due date", "Comments") else item["phase"]
            look = (cell.font.sz, cell.font.b, cell.fill.fgColor.rgb, cell.alignment.wrap_text, cell.number_format)
            looks.setdefault((name, phase), set()).add(look)
    assert all(len(seen) == 1 for seen in looks.values())
    fills = {phase: next(iter(looks[("Action", phase)]))[2] for phase in {i["phase"] for i in demo_doc["roadmap"]}}
    assert len(set(fills.values())) == len(fills)  # each phase its own colour
    assert next(iter(looks[("Due date", None)]))[4] == "yyyy-mm-dd"


def test_roadmap_workbook_speaks_words(demo_doc, roadmap_book):
    ws = openpyxl.load_workbook(roadmap_book)["Roadmap"]
    row, header = _header(ws)
    col = {name: header.index(name) for name in header if name}
    titles = {a["action"]: a["title"] for a in demo_doc["roadmap"]}
    facet_titles = {f: b["title"] for f, b in demo_doc["facets"].items()}
    snake = re.compile(r"\b[a-z]+_[a-z_]+\b")
    for r, item in enumerate(demo_doc["roadmap"], start=row + 1):
        cells = [c.value for c in ws[r]]
        assert cells[col["Action id"]] == item["action"]  # the one id, for cross-reference
        for name in ("Owner", "After", "Facets", "KPIs it should move", "Phase", "Priority", "Why here"):
            value = str(cells[col[name]] or "")
            assert not snake.search(value), (name, value)
            assert not re.search(r"\b[a-z]+\.[a-z_]+\b", value), (name, value)  # no facet ids
        assert cells[col["Priority"]] in ("High", "Medium", "Low")
        assert cells[col["Priority score"]] == pytest.approx(item["priority"])
        planned_deps = [d for d in item["depends_on"] if d in titles]
        assert cells[col["After"]] == ", ".join(titles[d] for d in planned_deps) or cells[col["After"]] is None
        assert cells[col["Facets"]] == ", ".join(facet_titles[f] for f in item["facets"])
        assert cells[col["Status"]] == "Not started"
    facets = openpyxl.load_workbook(roadmap_book)["Facets"]
    names = [c.value for c in facets[4]]
    assert names[:5] == ["Dimension", "Facet", "Score", "Target", "Gap"]
    listed = {facets.cell(row=r, column=2).value: r for r in range(5, facets.max_row + 1)}
    for f, block in demo_doc["facets"].items():
        r = listed[block["title"]]
        assert facets.cell(row=r, column=3).value == pytest.approx(block["score"])
        assert facets.cell(row=r, column=5).value == pytest.approx(demo_doc["plan"]["gaps"][f])


def test_roadmap_workbook_dropdowns_dates_and_print_setup(demo_doc, roadmap_book):
    wb = openpyxl.load_workbook(roadmap_book)
    ws = wb["Roadmap"]
    row, header = _header(ws)
    letter = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(header)}
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            rules[openpyxl.utils.get_column_letter(rng.min_col)] = (dv, rng)
    dv, rng = rules[letter["Status"]]
    assert dv.type == "list" and dv.errorStyle == "stop" and rng.min_row == row + 1
    assert rng.max_row >= row + len(demo_doc["roadmap"])
    assert _range_values_of(wb, dv.formula1) == ["Not started", "In progress", "Done", "Dropped"]
    dv, _ = rules[letter["Owner"]]
    owners = _range_values_of(wb, dv.formula1)
    assert dv.type == "list" and set(owners) == {a["owner_name"] for a in demo_doc["roadmap"]}
    dv, _ = rules[letter["Phase"]]
    assert dv.type == "list" and len(_range_values_of(wb, dv.formula1)) == 4
    dv, _ = rules[letter["Due date"]]
    assert dv.type == "date"
    assert ws[f"{letter['Due date']}{row + 1}"].number_format == "yyyy-mm-dd"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows.replace("$", "") == f"{row}:{row}"
    assert not [c for s in wb.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]


def _range_values_of(wb, formula: str) -> list[str]:
    sheet, cells = formula.split("!")
    return [c.value for r in wb[sheet.strip("'")][cells.replace("$", "")] for c in r]


def test_filled_roadmap_reads_back_as_excel_leaves_it(demo_doc, roadmap_book, tmp_path):
    """What a client does: sort by owner, add a column and empty rows, type statuses in any case."""
    import datetime as dt

    from readiness.io.workbook import read_roadmap_progress

    wb = openpyxl.load_workbook(roadmap_book)
    ws = wb["Roadmap"]
    row, header = _header(ws)
    rows = [[c.value for c in ws[r]] for r in range(row + 1, ws.max_row + 1)]
    rows.sort(key=lambda r: str(r[header.index("Owner")]))  # re-sorted
    ws.delete_rows(row + 1, ws.max_row)
    ws.insert_cols(1)  # a column of their own in front
    ws.cell(row=row, column=1, value="Our notes")
    want = {}
    for n, values in enumerate(rows):
        r = row + 1 + n + (n // 3)  # an empty row every three
        for c, value in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=value)
        action = values[header.index("Action id")]
        status = ["done", " In Progress ", "DROPPED", "", "Not started"][n % 5]
        ws.cell(row=r, column=header.index("Status") + 2, value=status or None)
        due = dt.datetime(2025, 6, 1 + n % 28) if n % 2 else None
        ws.cell(row=r, column=header.index("Due date") + 2, value=due)
        ws.cell(row=r, column=header.index("Responsible") + 2, value=f"Person {n}" if n % 4 else None)
        want[action] = {
            "status": ["Done", "In progress", "Dropped", "Not started", "Not started"][n % 5],
            "responsible": f"Person {n}" if n % 4 else None,
            "due": due.date().isoformat() if due else None,
            "comments": None,
        }
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    assert read_roadmap_progress(path) == want


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Status", "Finished", "status 'Finished' is not one of"),
        ("Action id", None, "without an action id"),
    ],
)
def test_filled_roadmap_refused_with_file_sheet_row_column(roadmap_book, tmp_path, column, value, message):
    from readiness.core.errors import InputError
    from readiness.io.workbook import read_roadmap_progress

    wb = openpyxl.load_workbook(roadmap_book)
    ws = wb["Roadmap"]
    row, header = _header(ws)
    ws.cell(row=row + 2, column=header.index("Status") + 1, value="Done")
    ws.cell(row=row + 2, column=header.index(column) + 1).value = value
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as err:
        read_roadmap_progress(path)
    text = str(err.value)
    assert message in text and "bad.xlsx, sheet Roadmap" in text and f"row {row + 2}" in text
    assert f"column {column}" in text


def test_comment_columns_of_the_filled_workbook_reach_the_results(tmp_path, capsys, mini):
    path = tmp_path / "questionnaire.xlsx"
    assert main(["template", "--instrument", MINI, "--out", str(path), "--rows", "10"]) == 0
    people = random_respondents(mini, 4, seed=3)
    fill_workbook(path, mini, "ACME", people)
    wb = openpyxl.load_workbook(path)
    ws = wb[RESPONSES_SHEET]
    header = [c.value for c in ws[1]]
    said = ["Targets change every month", "=1+1 is not a formula here", "We coach on Fridays"]
    for row, text in zip((2, 3, 4), said):
        ws.cell(row=row, column=header.index("comment:people.a") + 1, value=text).data_type = "s"
    ws.cell(row=5, column=header.index("comment:process.a") + 1, value="only one person said this")
    wb.save(path)
    results = tmp_path / "results.json"
    code = main(["score", str(path), "--instrument", MINI, "--json", str(results), "--bootstrap", "0", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    warnings = json.loads(results.read_text())["warnings"]
    assert not [w for w in warnings if "comment" in w]  # comment columns are expected, not ignored
    comments = json.loads(results.read_text())["comments"]
    assert sorted(comments["people.a"]["texts"]) == sorted(said) and comments["people.a"]["respondents"] == 3
    assert comments["process.a"]["withheld"] and comments["process.a"]["texts"] == []
