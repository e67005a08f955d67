"""Loading responses and profiles: formats, labels, and every bad-input case."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from readiness.core.errors import InputError
from readiness.io.loaders import load_instrument, load_profiles, load_responses, validate_files

from .conftest import DATA

HEADER = "org_id,respondent_id,role,P1,P2,P3,P4,P5,R1,R2,T1,T2,K1,K2"
GOOD = [
    "X,a1,agent,4,2,NA,5,,3,,1,2,5,4",
    "X,a2,agent,2,5,3,,,4,4,2,,3,3",
    "X,m1,manager,5,,4,4,2,5,5,3,3,4,",
]


def write(tmp_path, text: str, name: str = "r.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reference(mini):
    return load_responses(DATA / "mini_responses.csv", mini)


def same_answers(a, b):
    assert a.meta[["org_id", "respondent_id", "role"]].equals(b.meta[["org_id", "respondent_id", "role"]])
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.not_applicable, b.not_applicable)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_any_delimiter(tmp_path, mini, delimiter):
    text = "\n".join(line.replace(",", delimiter) for line in [HEADER, *GOOD]) + "\n"
    same_answers(load_responses(write(tmp_path, text), mini), reference(mini))


def test_csv_with_bom_and_crlf(tmp_path, mini):
    text = "\ufeff" + "\r\n".join([HEADER, *GOOD]) + "\r\n"
    same_answers(load_responses(write(tmp_path, text), mini), reference(mini))


def test_labels_any_case_and_trimmed(tmp_path, mini):
    rows = [
        "X,a1,agent, agree ,DISAGREE,n/a,Embedded,,Neutral,,strongly disagree,Disagree,5,4",
        "X,a2,agent,2,5,3,,,4,4,2,,3,3",
        "X,m1,manager,5,,4,managed,2,5,5,3,3,4,",
    ]
    same_answers(load_responses(write(tmp_path, "\n".join([HEADER, *rows])), mini), reference(mini))


def test_xlsx_json_parquet_equal_csv(tmp_path, mini):
    frame = pd.read_csv(DATA / "mini_responses.csv", dtype=str, keep_default_na=False)
    xlsx = tmp_path / "r.xlsx"
    numeric = frame.copy()
    for c in frame.columns[3:]:
        numeric[c] = [int(v) if v.isdigit() else v for v in frame[c]]
    numeric.to_excel(xlsx, index=False, sheet_name="Responses")
    same_answers(load_responses(xlsx, mini), reference(mini))
    records = [
        {k: (int(v) if v.isdigit() else (None if v == "" else v)) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    (tmp_path / "r.json").write_text(json.dumps({"responses": records}))
    same_answers(load_responses(tmp_path / "r.json", mini), reference(mini))
    (tmp_path / "l.json").write_text(json.dumps(records))
    same_answers(load_responses(tmp_path / "l.json", mini), reference(mini))
    frame.to_parquet(tmp_path / "r.parquet")
    same_answers(load_responses(tmp_path / "r.parquet", mini), reference(mini))


def test_excel_float_answers_are_accepted(tmp_path, mini):
    text = "\n".join([HEADER, "X,a1,agent,4.0,2,NA,5,,3,,1,2,5,4", *GOOD[1:]])
    same_answers(load_responses(write(tmp_path, text), mini), reference(mini))


def problems_of(tmp_path, mini, text, name="r.csv", profiles=None, encoding="utf-8"):
    path = write(tmp_path, text, name, encoding) if isinstance(text, str) else text
    found, parsed, _ = validate_files(path, mini, profiles)
    return [p for p in found if p.severity == "error"], [p for p in found if p.severity == "warning"]


@pytest.mark.parametrize(
    "row, column, message",
    [
        ("X,a9,cashier,1,1,1,1,1,1,1,1,1,1,1", "role", "unknown role"),
        ("X,a9,agent,7,1,1,1,1,1,1,1,1,1,1", "P1", "outside 1..5"),
        ("X,a9,agent,0,1,1,1,1,1,1,1,1,1,1", "P1", "outside 1..5"),
        ("X,a9,agent,2.5,1,1,1,1,1,1,1,1,1,1", "P1", "not a whole number"),
        ("X,a9,agent,sometimes,1,1,1,1,1,1,1,1,1,1", "P1", "unknown answer"),
        ("X,a1,agent,1,1,1,1,1,1,1,1,1,1,1", "respondent_id", "duplicate respondent"),
        (",a9,agent,1,1,1,1,1,1,1,1,1,1,1", "org_id", "org_id is empty"),
        ("../etc,a9,agent,1,1,1,1,1,1,1,1,1,1,1", "org_id", "path separator"),
    ],
)
def test_each_bad_value_is_named_by_row_and_column(tmp_path, mini, row, column, message):
    errors, _ = problems_of(tmp_path, mini, "\n".join([HEADER, *GOOD, row]))
    assert len(errors) == 1
    problem = errors[0]
    assert problem.row == 5 and problem.column == column and message in problem.message
    assert str(problem).startswith("r.csv, row 5, column " + column + ": ")


def test_all_problems_reported_at_once(tmp_path, mini):
    rows = [
        "X,b1,agent,9,1,1,1,1,1,1,1,1,1,1",
        "X,b2,boss,1,1,1,1,1,1,1,1,1,1,1",
        "X,b3,agent,1,1,1,1,1,1,1,1,1,1,maybe",
    ]
    errors, _ = problems_of(tmp_path, mini, "\n".join([HEADER, *GOOD, *rows]))
    assert [(p.row, p.column) for p in sorted(errors, key=lambda p: p.row)] == [(5, "P1"), (6, "role"), (7, "K2")]


def test_problem_cap(tmp_path, mini):
    rows = [f"X,z{i},agent,9,1,1,1,1,1,1,1,1,1,1" for i in range(200)]
    errors, _ = problems_of(tmp_path, mini, "\n".join([HEADER, *rows]))
    assert len(errors) == 50


def test_missing_required_column(tmp_path, mini):
    errors, _ = problems_of(tmp_path, mini, "org_id,role,P1\nX,agent,3\n")
    assert errors[0].column == "respondent_id" and "missing required column" in errors[0].message


def test_unknown_item_column_is_an_error_naming_it(tmp_path, mini):
    text = "\n".join([HEADER + ",EXTRA_1", *(r + ",5" for r in GOOD)])
    errors, _ = problems_of(tmp_path, mini, text)
    assert errors[0].column == "EXTRA_1" and errors[0].row == 1
    assert "'EXTRA_1' is no item of instrument 'mini'" in errors[0].message and "--ignore-columns" in errors[0].message


def test_unknown_item_column_ignored_on_request_is_a_warning(tmp_path, mini):
    path = write(tmp_path, "\n".join([HEADER + ",EXTRA_1", *(r + ",5" for r in GOOD)]))
    problems, parsed, _ = validate_files(path, mini, ignore_columns=True)
    assert not [p for p in problems if p.severity == "error"]
    assert any(p.column == "EXTRA_1" and "left out" in p.message for p in problems)
    same_answers(parsed, reference(mini))


def test_na_on_item_without_na_counts_as_unanswered(tmp_path, mini):
    text = "\n".join([HEADER, "X,a1,agent,NA,2,NA,5,,3,,1,2,5,4", *GOOD[1:]])
    errors, warnings = problems_of(tmp_path, mini, text)
    assert not errors and any("do not allow N/A" in w.message for w in warnings)
    parsed = load_responses(write(tmp_path, text), mini)
    j = mini.layout.item_ids.index("P1")
    assert np.isnan(parsed.values[0, j]) and not parsed.not_applicable[0, j]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        (HEADER + "\n", "no respondent rows"),
        (HEADER + "\nX,a1,agent,1,2\n", "fields; the header has"),
        ("org_id,respondent_id,role,P1,P1\nX,a,agent,1,1\n", "duplicate column"),
        ("org_id,respondent_id,role,Q9\nX,a,agent,1\n", "no column matches an item"),
    ],
)
def test_bad_files(tmp_path, mini, content, message):
    errors, _ = problems_of(tmp_path, mini, content)
    assert errors and message in errors[0].message


def test_binary_and_wrong_encoding(tmp_path, mini):
    errors, _ = problems_of(tmp_path, mini, write(tmp_path, "", "x.csv").parent / "x.csv")
    (tmp_path / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    errors, _ = problems_of(tmp_path, mini, tmp_path / "bin.csv")
    assert "binary" in errors[0].message
    errors, _ = problems_of(tmp_path, mini, HEADER + "\nX,é,agent,1,1,1,1,1,1,1,1,1,1,1\n", encoding="latin-1")
    assert "UTF-8" in errors[0].message and errors[0].row == 2
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip at all")
    errors, _ = problems_of(tmp_path, mini, tmp_path / "bad.xlsx")
    assert "cannot be read as an Excel workbook" in errors[0].message
    (tmp_path / "bad.json").write_text("{not json")
    errors, _ = problems_of(tmp_path, mini, tmp_path / "bad.json")
    assert "not valid JSON" in errors[0].message


def test_input_error_is_one_line(tmp_path, mini):
    text = "\n".join([HEADER, *GOOD, "X,b1,agent,9,1,1,1,1,1,1,1,1,1,1", "X,b2,boss,1,1,1,1,1,1,1,1,1,1,1"])
    with pytest.raises(InputError) as info:
        load_responses(write(tmp_path, text), mini)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("r.csv, row 5, column P1:") and "1 more problem" in message


# ---------------------------------------------------------------- profiles
PROFILE_HEADER = "org_id,org_name,industry,agents,stage,sales_conversion_rate,average_handle_time"


def test_profiles_derive_size_band(tmp_path):
    path = write(
        tmp_path,
        "\n".join(
            [
                PROFILE_HEADER,
                "X,Center X,Financial Services,120,considering,12.5,420",
                "Y,,technology,51,established,,300",
                "Z,Z co,Banking,1000,transitioning,3%,600",
            ]
        ),
        "p.csv",
    )
    prof = load_profiles(path)
    assert prof.loc["X", "size_band"] == "51-150" and prof.loc["Y", "size_band"] == "51-150"
    assert prof.loc["Z", "size_band"] == ">500"
    assert prof.loc["X", "industry"] == "financial_services"
    assert prof.loc["Z", "industry"] == "financial_services"  # a synonym of the vocabulary (core.profile)
    assert prof.loc["Y", "org_name"] == "Y"
    assert np.isnan(prof.loc["Y", "sales_conversion_rate"]) and prof.loc["Z", "sales_conversion_rate"] == 3.0


@pytest.mark.parametrize(
    "row, column, message",
    [
        ("Q,Q,other,ten,considering,1,1", "agents", "whole number"),
        ("Q,Q,other,10,maybe,1,1", "stage", "is not one of"),
        ("Q,Q,other,10,considering,140,1", "sales_conversion_rate", "outside"),
        ("Q,Q,other,10,considering,x,1", "sales_conversion_rate", "not a number"),
        ("X,Q,other,10,considering,1,1", "org_id", "duplicate org_id"),
    ],
)
def test_bad_profiles(tmp_path, row, column, message):
    path = write(tmp_path, "\n".join([PROFILE_HEADER, "X,Center X,other,12,considering,1,1", row]), "p.csv")
    with pytest.raises(InputError) as info:
        load_profiles(path)
    p = info.value.problems[0]
    assert p.row == 3 and p.column == column and message in p.message


def test_profile_org_without_respondents(tmp_path, mini):
    prof = write(
        tmp_path,
        "\n".join([PROFILE_HEADER, "X,Center X,other,12,considering,1,1", "W,Center W,other,12,considering,1,1"]),
        "p.csv",
    )
    errors, _ = problems_of(tmp_path, mini, DATA / "mini_responses.csv", profiles=prof)
    assert len(errors) == 1 and "'W' has no respondents" in errors[0].message and errors[0].row == 3
    none = write(tmp_path, "\n".join([PROFILE_HEADER, "V,Center V,other,12,considering,1,1"]), "q.csv")
    errors, _ = problems_of(tmp_path, mini, DATA / "mini_responses.csv", profiles=none)
    assert "matches an organization" in errors[0].message


def _xlsx_with_formula(path, cell_xml: bytes) -> None:
    """The mini responses as a workbook whose cell D2 (P1 of a1) is replaced by ``cell_xml``."""
    import io
    import re
    import zipfile

    frame = pd.read_csv(DATA / "mini_responses.csv", dtype=str, keep_default_na=False)
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, sheet_name="Responses")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content, n = re.subn(rb'<c r="D2"[^>]*?(/>|>.*?</c>)', cell_xml, content)
                assert n == 1
            dst.writestr(info, content)
    path.write_bytes(out.getvalue())


def test_xlsx_formula_with_a_saved_result_reads_as_its_result(tmp_path, mini):
    path = tmp_path / "saved.xlsx"
    _xlsx_with_formula(path, b'<c r="D2"><f>2+2</f><v>4</v></c>')  # as Excel saves it: P1 of a1 is 4
    same_answers(load_responses(path, mini), reference(mini))


def test_xlsx_formula_never_calculated_is_an_error_not_a_blank(tmp_path, mini):
    path = tmp_path / "unsaved.xlsx"
    _xlsx_with_formula(path, b'<c r="D2"><f>2+2</f></c>')  # as openpyxl and scripts write it
    with pytest.raises(InputError) as info:
        load_responses(path, mini)
    p = info.value.problems[0]
    assert (p.source, p.row, p.column) == ("unsaved.xlsx, sheet 'Responses'", 2, "P1") and "never saved" in p.message


def test_utf16_without_byte_order_mark(tmp_path, mini):
    path = write(tmp_path, "\n".join([HEADER, *GOOD]) + "\n", encoding="utf-16-le")
    errors, _ = problems_of(tmp_path, mini, path)
    assert [(e.row, e.message) for e in errors] == [(None, "is UTF-16 text; save it as UTF-8 CSV")]


def test_multiline_record_is_named_by_its_first_line(tmp_path, mini):
    text = "\n".join([HEADER, GOOD[0], 'X,"a\n2",agent,9,5,3,,,4,4,2,,3,3', GOOD[2]]) + "\n"
    errors, _ = problems_of(tmp_path, mini, text)
    assert [(e.row, e.column) for e in errors] == [(3, "respondent_id"), (3, "P1")]  # a newline is a control character


# ---------------------------------------------------------------------- batches: bad organizations set aside
def _two_orgs(tmp_path, y_rows: list[str]):
    lines = (DATA / "mini_responses.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "two.csv"
    path.write_text("\n".join(lines + y_rows) + "\n", encoding="utf-8")
    return path


def test_isolating_loader_sets_a_bad_organization_aside(tmp_path, mini):
    from readiness.io.loaders import load_responses_isolating

    path = _two_orgs(
        tmp_path,
        [
            "Y,b1,agent,9,2,3,4,5,3,3,1,2,5,4",  # row 5: 9 is off the scale
            "Y,b2,boss,1,2,3,4,5,3,3,1,2,5,4",
        ],
    )  # row 6: unknown role
    responses, rejected = load_responses_isolating(path, mini)
    assert list(responses.org_ids) == ["X"] and len(responses) == 3
    assert rejected == {"Y": "two.csv, row 5, column P1: answer 9 is outside 1..5"}


def test_isolating_loader_refuses_what_belongs_to_no_organization(tmp_path, mini):
    from readiness.io.loaders import load_responses_isolating

    with pytest.raises(InputError, match="row 5, column org_id: org_id is empty"):
        load_responses_isolating(_two_orgs(tmp_path, [",b1,agent,3,2,3,4,5,3,3,1,2,5,4"]), mini)
    only_bad = tmp_path / "bad.csv"
    only_bad.write_text("org_id,respondent_id,role,P1\nY,b1,agent,0\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2, column P1: answer 0 is outside 1..5"):
        load_responses_isolating(only_bad, mini)  # nothing good left: the whole file is refused


# ---------------------------------------------------------------------- instrument versions
def test_a_file_answered_on_version_one_is_recognized(bundled):
    """Answers collected with version 1.0 are refused by 2.0 with the way to score them."""
    with pytest.raises(InputError) as info:
        load_responses(DATA / "v1_responses.csv", bundled)
    message = str(info.value)
    assert "looks answered on instrument service-to-sales version 1.0" in message
    assert "--instrument service-to-sales-v1" in message and message.startswith("v1_responses.csv, row 1")
    v1 = load_instrument("service-to-sales-v1")
    old = load_responses(DATA / "v1_responses.csv", v1)
    assert len(old) == 3 and old.instrument.version == "1.0"


def test_a_current_file_with_a_stray_old_column_is_refused_unless_ignored(tmp_path, bundled):
    """Issue 14: a column that is no item is an error naming it; --ignore-columns reads without it."""
    text = (DATA.parent.parent / "data" / "examples" / "responses.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    path = tmp_path / "r.csv"
    path.write_text("\n".join([lines[0] + ",PEO_BEL_3"] + [line + ",3" for line in lines[1:]]) + "\n")
    with pytest.raises(InputError, match="column 'PEO_BEL_3' is no item of instrument"):
        load_responses(path, bundled)
    responses = load_responses(path, bundled, ignore_columns=True)
    assert any("column 'PEO_BEL_3' is no item" in w and "left out" in w for w in responses.warnings)


def test_open_question_answers_are_kept_as_text(tmp_path, mini):
    from readiness.core.answers import OPEN_TEXT_MAX
    from readiness.core.instrument import Instrument

    spec = mini.model_dump(mode="json")
    spec["open_questions"] = [{"id": "Q1", "text": "What must we do first?", "roles": ["agent"]}]
    inst = Instrument.from_dict(spec)
    long = "x" * (OPEN_TEXT_MAX + 50)
    rows = [
        ["O", "a1", "agent", "4", '"=SUM(A1) is how I feel, 100%"'],
        ["O", "a2", "agent", "DK", '"two\nlines\x07with a bell"'],
        ["O", "a3", "agent", "2", long],
        ["O", "m1", "manager", "5", "managers are not asked"],
    ]
    path = tmp_path / "r.csv"
    path.write_text("org_id,respondent_id,role,P1,q1\n" + "\n".join(",".join(r) for r in rows) + "\n")
    responses = load_responses(path, inst)
    texts = dict(zip(responses.meta["respondent_id"], responses.open_answers[:, 0]))
    assert texts["a1"] == "=SUM(A1) is how I feel, 100%"  # kept as given; made inert only on export
    assert texts["a2"] == "two\nlines with a bell"
    assert texts["a3"] == "x" * OPEN_TEXT_MAX
    assert texts["m1"] == ""
    assert any("longer than" in w and "row 5" in w for w in responses.warnings)  # a2 spans lines 3-4
    assert any("1 answer(s) to Q1 from roles it is not put to" in w for w in responses.warnings)
    assert responses.dont_know[:, 0].tolist() == [False, True, False, False]
    frame = responses.open_answers_frame()
    assert list(frame.columns) == ["org_id", "respondent_id", "role", "question", "text"]
    assert frame["respondent_id"].tolist() == ["a1", "a2", "a3"] and set(frame["question"]) == {"Q1"}


@pytest.mark.parametrize("fmt", ["json", "parquet", "xlsx"])
def test_dont_know_reads_alike_in_every_format(tmp_path, mini, fmt):
    reference = load_responses(DATA / "mini_dont_know.csv", mini)
    frame = pd.read_csv(DATA / "mini_dont_know.csv", dtype=str, keep_default_na=False)
    path = tmp_path / f"answers.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(frame.to_dict("records")), encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False, sheet_name="Responses")
    got = load_responses(path, mini)
    np.testing.assert_array_equal(got.dont_know, reference.dont_know)
    np.testing.assert_array_equal(got.values, reference.values)
    assert got.dont_know.sum() == 10
