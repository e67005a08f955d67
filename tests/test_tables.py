"""Files read by their cells: workbooks whatever they declare, sheets found, titles skipped, limits.

Every test builds its file from the mini example (``tests/data/mini_responses.csv``) and
checks either that it reads exactly like the CSV, or that it is refused with the file,
the sheet, the row and the column.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from readiness.core.errors import InputError
from readiness.io.loaders import load_profiles, load_responses, validate_files
from readiness.io.tables import Limits, read_table

from .conftest import DATA

GOOD = DATA / "mini_responses.csv"
MINI = DATA / "mini.yaml"
BIN = Path(sys.executable).parent


def _frame() -> pd.DataFrame:
    return pd.read_csv(GOOD, dtype=str, keep_default_na=False)


def _rows(frame: pd.DataFrame) -> list[list[object]]:
    out: list[list[object]] = [list(frame.columns)]
    for row in frame.itertuples(index=False):
        out.append([int(v) if v.isdigit() else (v or None) for v in row])
    return out


def _workbook(path: Path, sheets: dict[str, list[list[object]]], edit=None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if edit:
            edit(title, ws)
    wb.save(path)
    return path


def _rewrite(path: Path, member: str, change) -> None:
    """Rewrite one XML part of a workbook (what other tools write differently)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, change(data) if info.filename == member else data)
    path.write_bytes(buf.getvalue())


def _same(a, b) -> None:
    assert a.meta[["org_id", "respondent_id", "role"]].equals(b.meta[["org_id", "respondent_id", "role"]])
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.not_applicable, b.not_applicable)


def _errors(path, mini, **kw):
    problems, _, _ = validate_files(path, mini, **kw)
    return [p for p in problems if p.severity == "error"], [p for p in problems if p.severity == "warning"]


# ---------------------------------------------------------------------- workbooks by their cells
@pytest.mark.parametrize("declared", ["A1:C2", "A1:N2", "A1:B1"])
def test_xlsx_read_by_its_cells_not_its_declared_size(tmp_path, mini, declared):
    path = _workbook(tmp_path / "d.xlsx", {"Responses": _rows(_frame())})
    _rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda x: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{declared}"'.encode(), x),
    )
    with zipfile.ZipFile(path) as z:
        assert f'<dimension ref="{declared}"'.encode() in z.read("xl/worksheets/sheet1.xml")
    _same(load_responses(path, mini), load_responses(GOOD, mini))


def test_xlsx_instructions_first_the_answers_on_another_sheet(tmp_path, mini):
    sheets = {"Instructions": [["How to fill in this workbook"], ["One row per respondent."]], "Data": _rows(_frame())}
    path = _workbook(tmp_path / "two.xlsx", sheets)
    _same(load_responses(path, mini), load_responses(GOOD, mini))
    frame = _frame()
    frame.loc[1, "P2"] = "9"
    bad = _workbook(tmp_path / "bad.xlsx", {"Instructions": [["Read me"]], "Data": _rows(frame)})
    errors, _ = _errors(bad, mini)
    assert str(errors[0]).startswith("bad.xlsx, sheet 'Data', row 3, column P2: answer 9 is outside 1..5")


def test_xlsx_two_sheets_with_a_header_are_ambiguous_unless_named(tmp_path, mini):
    frame = _frame()
    path = _workbook(tmp_path / "both.xlsx", {"Site A": _rows(frame), "Site B": _rows(frame.iloc[:2])})
    errors, _ = _errors(path, mini)
    assert len(errors) == 1 and "sheets 'Site A', 'Site B' each hold a header" in errors[0].message
    assert "--sheet" in errors[0].message
    _same(load_responses(path, mini, sheet="Site A"), load_responses(GOOD, mini))
    with pytest.raises(InputError, match=r"has no sheet named 'Site C' \(its sheets: 'Site A', 'Site B'\)"):
        load_responses(path, mini, sheet="Site C")


def test_xlsx_no_sheet_with_the_header_names_the_sheet_it_read(tmp_path, mini):
    path = _workbook(tmp_path / "none.xlsx", {"Instructions": [["Read me"]], "Notes": [["org", "who"], ["X", "a1"]]})
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("none.xlsx: no sheet holds a header with org_id, respondent_id, role")
    assert "(its sheets: 'Instructions', 'Notes')" in errors[0].message


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_title_above_the_header_is_skipped_with_a_warning(tmp_path, mini, kind):
    frame = _frame()
    if kind == "csv":
        path = tmp_path / "titled.csv"
        path.write_text(
            "Readiness survey, export of 2024-05-01\n\n" + GOOD.read_text(encoding="utf-8"), encoding="utf-8"
        )
        header_row = 3
    else:
        path = _workbook(tmp_path / "titled.xlsx", {"Responses": [["Readiness survey"], [None], *_rows(frame)]})
        header_row = 3
    parsed = load_responses(path, mini)
    _same(parsed, load_responses(GOOD, mini))
    assert parsed.meta["row"].min() == header_row + 1  # rows still count as the file counts them
    errors, warnings = _errors(path, mini)
    assert not errors and any("row 1 above the header" in w.message for w in warnings)


def test_merged_answer_cells_are_refused_with_their_range(tmp_path, mini):
    def merge(title, ws):
        ws.merge_cells("D3:E3")

    path = _workbook(tmp_path / "merged.xlsx", {"Responses": _rows(_frame())}, edit=merge)
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("merged.xlsx, sheet 'Responses', row 3, column P1: cells D3:E3 are merged")


def test_a_merged_title_above_the_header_is_fine(tmp_path, mini):
    def merge(title, ws):
        ws.merge_cells("A1:F1")

    path = _workbook(tmp_path / "title.xlsx", {"Responses": [["Survey of May"], *_rows(_frame())]}, edit=merge)
    _same(load_responses(path, mini), load_responses(GOOD, mini))


def test_hidden_rows_and_columns_holding_answers_are_refused(tmp_path, mini):
    def hide_row(title, ws):
        ws.row_dimensions[3].hidden = True

    def hide_column(title, ws):
        ws.column_dimensions["E"].hidden = True

    path = _workbook(tmp_path / "row.xlsx", {"Responses": _rows(_frame())}, edit=hide_row)
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("row.xlsx, sheet 'Responses', row 3: row 3 is hidden")
    path = _workbook(tmp_path / "col.xlsx", {"Responses": _rows(_frame())}, edit=hide_column)
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("col.xlsx, sheet 'Responses', row 1, column P2: column E is hidden")


def test_hidden_empty_rows_below_the_answers_are_harmless(tmp_path, mini):
    def hide(title, ws):
        ws.row_dimensions[10].hidden = True

    path = _workbook(tmp_path / "empty.xlsx", {"Responses": _rows(_frame())}, edit=hide)
    _same(load_responses(path, mini), load_responses(GOOD, mini))


def test_the_fill_in_workbook_reads_back(tmp_path, mini):
    """The framework's own template: instructions first, a hidden lists sheet."""
    from readiness.io.workbook import write_template

    path = tmp_path / "template.xlsx"
    write_template(path, mini, rows=5, org_id="X")
    wb = openpyxl.load_workbook(path)
    ws = wb["Responses"]
    # by the template's own header: a comment column follows each facet's items (issue 15)
    at = {cell.value: cell.column for cell in ws[1] if cell.value}
    header, *body = _rows(_frame())
    for r, row in enumerate(body, start=2):
        for name, value in zip(header, row):
            ws.cell(row=r, column=at[name], value=value)
    comment = next(name for name in at if str(name).startswith("comment:"))
    ws.cell(row=2, column=at[comment], value="Coaching is rushed")
    wb.save(path)
    read = load_responses(path, mini)
    _same(read, load_responses(GOOD, mini))
    said = read.comment_frame()
    assert said["text"].tolist() == ["Coaching is rushed"] and said["topic"].tolist() == [comment[len("comment:") :]]


# ---------------------------------------------------------------------- JSON
def test_json_duplicate_key_is_refused(tmp_path, mini):
    path = tmp_path / "dup.json"
    path.write_text('[{"org_id": "X", "respondent_id": "a1", "role": "agent", "P1": 4, "P1": 5}]', encoding="utf-8")
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("dup.json, row 1, column P1: has the key 'P1' twice")


def test_json_nan_is_refused_not_read_as_unanswered(tmp_path, mini):
    path = tmp_path / "nan.json"
    path.write_text('[{"org_id": "X", "respondent_id": "a1", "role": "agent", "P1": NaN}]', encoding="utf-8")
    errors, _ = _errors(path, mini)
    assert str(errors[0]).startswith("nan.json, row 1, column P1: NaN is not a value JSON allows")


# ---------------------------------------------------------------------- columns that are no items
@pytest.mark.parametrize(
    "header, guess",
    [
        ("P-1", "P1"),
        ("p 1", "P1"),
        ("Practice one", "P1"),  # the item's question text
        ("Process\ntwo", "R2"),
        ("K_1", "K1"),
    ],
)
def test_a_misnamed_item_column_is_an_error_with_the_closest_item(tmp_path, mini, header, guess):
    frame = _frame()
    column = {"P-1": "P1", "p 1": "P1", "Practice one": "P1", "Process\ntwo": "R2", "K_1": "K1"}[header]
    frame = frame.rename(columns={column: header})
    path = tmp_path / "misnamed.csv"
    frame.to_csv(path, index=False)
    errors, _ = _errors(path, mini)
    assert len(errors) == 1 and errors[0].row == 1
    assert f"(did you mean {guess}?)" in errors[0].message and "--ignore-columns" in errors[0].message


def test_ignore_columns_reads_without_them(tmp_path, mini):
    frame = _frame()
    frame["Comment"] = "fine"
    path = tmp_path / "extra.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="'Comment' is no item"):
        load_responses(path, mini)
    _same(load_responses(path, mini, ignore_columns=True), load_responses(GOOD, mini))


def test_a_dimension_without_any_answer_is_an_error(tmp_path, mini):
    frame = _frame()
    frame[["T1", "T2"]] = ""
    path = tmp_path / "no_tech.csv"
    frame.to_csv(path, index=False)
    errors, _ = _errors(path, mini)
    assert [(e.row, e.column) for e in errors] == [(2, "T1")]
    assert "organization 'X' has no answer to any technology item (T1 to T2)" in errors[0].message
    res = subprocess.run(
        [str(BIN / "readiness"), "score", str(path), "--instrument", str(MINI), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and "no answer to any technology item" in res.stderr


# ---------------------------------------------------------------------- limits, before parsing
def test_too_many_rows_refused_before_parsing(tmp_path, mini):
    path = tmp_path / "long.csv"
    text = GOOD.read_text(encoding="utf-8")
    path.write_text(text + "".join(f"X,r{i},agent,3,,,,,,,,,,\n" for i in range(200)), encoding="utf-8")
    with pytest.raises(InputError, match="more than the limit of 100 rows; raise it with --max-rows"):
        load_responses(path, mini, limits=Limits(max_rows=100))
    assert len(load_responses(path, mini, limits=Limits(max_rows=1000))) == 203


def test_unpacked_size_refused_before_unpacking(tmp_path, mini):
    path = _workbook(
        tmp_path / "big.xlsx", {"Responses": _rows(_frame()) + [["X", f"r{i}", "agent", 3] for i in range(20000)]}
    )
    with pytest.raises(InputError, match=r"unpacks to \d+ MB, more than the limit of 0.1 MB"):
        read_table(path, limits=Limits(max_unpacked_mb=0.1))


def _zip_bomb(path: Path, unpacked_mb: int) -> None:
    """A workbook whose sheet unpacks to ``unpacked_mb`` MB (blank rows), written in pieces."""
    good = _workbook(path.with_name("seed.xlsx"), {"Responses": _rows(_frame())})
    row = b'<row r="1"/>' * 4096
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info.filename))
                continue
            sheet = src.read(info.filename)
            head, tail = sheet.split(b"</sheetData>")
            member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(member, "w", force_zip64=True) as out:
                out.write(head)
                for _ in range(unpacked_mb * 1_000_000 // len(row)):
                    out.write(row)
                out.write(b"</sheetData>" + tail)


def test_a_zip_bomb_is_refused_within_seconds(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    _zip_bomb(bomb, 1000)
    assert bomb.stat().st_size < 5_000_000  # a few MB that unpack to about 1 GB
    started = time.monotonic()
    res = subprocess.run(
        [str(BIN / "readiness"), "validate", str(bomb), "--instrument", str(MINI)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert res.returncode == 2 and "unpacks to 1,000 MB, more than the limit of 200 MB" in res.stderr
    assert seconds < 30, seconds


def test_parquet_rows_checked_from_its_metadata(tmp_path, mini):
    frame = _frame()
    path = tmp_path / "r.parquet"
    pd.concat([frame] * 40, ignore_index=True).assign(
        respondent_id=lambda f: [f"r{i}" for i in range(len(f))]
    ).to_parquet(path)
    with pytest.raises(InputError, match="has 120 rows, more than the limit of 100"):
        read_table(path, limits=Limits(max_rows=100))


# ---------------------------------------------------------------------- profiles
@pytest.mark.parametrize(
    "cells, column, words",
    [
        ("X,Banking,120,,,", None, None),  # a documented synonym
        ("X,retail,120,,,", "industry", "industry 'retail' is not one of financial_services"),
        ("X,other,120.5,,,", "agents", "agents '120.5' must be a whole number"),
        ("X,other,inf,,,", "agents", "agents 'inf' must be a whole number"),
        ("X,other,0,,,", "agents", "must be a whole number of at least 1"),
        ("X,other,400,51-150,,", "size_band", "size_band '51-150' does not agree with agents 400, which is in 151-500"),
        (
            "X,other,40,,0.85,",
            "first_call_resolution",
            "looks like a fraction, but percentages are expected (85 for 0.85)",
        ),
        ("X,other,40,,0.85%,", None, None),  # written with % it is taken as meant
        ("X,other,40,,,0.2", None, None),  # revenue per call is no rate
    ],
)
def test_profiles_are_checked_for_plausibility(tmp_path, cells, column, words):
    path = tmp_path / "p.csv"
    path.write_text("org_id,industry,agents,size_band,first_call_resolution,revenue_per_call\n" + cells + "\n", "utf-8")
    if column is None:
        prof = load_profiles(path)
        assert prof.loc["X", "industry"] in ("financial_services", "other")
        return
    with pytest.raises(InputError) as info:
        load_profiles(path)
    problem = info.value.problems[0]
    assert (problem.row, problem.column) == (2, column) and words in problem.message


def test_json_profiles_limits_apply(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"org_id": f"o{i}", "industry": "other"} for i in range(5)]), encoding="utf-8")
    with pytest.raises(InputError, match="has 5 records, more than the limit of 3 rows"):
        load_profiles(path, limits=Limits(max_rows=3))


def test_one_workbook_with_answers_and_profiles(tmp_path, mini):
    """Both sheets hold org_id: each reader takes the sheet named for what it reads."""
    profiles = [["org_id", "industry", "agents"], ["X", "other", 12]]
    path = _workbook(tmp_path / "both.xlsx", {"Responses": _rows(_frame()), "Profiles": profiles})
    _same(load_responses(path, mini), load_responses(GOOD, mini))
    assert list(load_profiles(path).index) == ["X"]
