"""The bad-input corpus (tests/data/bad/) through the command line.

Every file must give exit status 2, one error line that names the file (and the row and
column, or the YAML key, where they apply), no traceback, and no output written: the
``--out`` folder stays absent, or exactly as it was. The expected places and messages
below are written out by hand from the README of the corpus, not read off the code.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.apps.cli import main

from .conftest import DATA

BAD = DATA / "bad"
MINI = DATA / "mini.yaml"
GOOD = DATA / "mini_responses.csv"

# (file, where the error is: "file[, row R][, column C | , at KEY]", words of the message)
RESPONSES = [
    ("empty.csv", "empty.csv", "file is empty"),
    ("blank_lines.csv", "blank_lines.csv", "file is empty"),
    ("header_only.csv", "header_only.csv, row 1", "no respondent rows"),
    ("binary_garbage.csv", "binary_garbage.csv", "binary file"),
    ("utf16.csv", "utf16.csv", "UTF-16"),
    ("latin1.csv", "latin1.csv, row 3", "not UTF-8 text (byte 0xeb)"),
    ("mixed_delimiters.csv", "mixed_delimiters.csv, row 2", "has 1 fields; the header has 14"),
    ("duplicate_columns.csv", "duplicate_columns.csv, row 1, column P1", "duplicate column 'P1'"),
    ("duplicate_respondent.csv", "duplicate_respondent.csv, row 4, column respondent_id", "duplicate respondent 'a1'"),
    ("answer_out_of_range.csv", "answer_out_of_range.csv, row 3, column P1", "answer 6 is outside 1..5"),
    ("answer_float.csv", "answer_float.csv, row 2, column R1", "'3.5' is not a whole number"),
    ("answer_unknown_label.csv", "answer_unknown_label.csv, row 4, column T1", "unknown answer 'Sometimes'"),
    ("answer_infinite.csv", "answer_infinite.csv, row 2, column K1", "'inf' is not a whole number"),
    ("answer_huge_number.csv", "answer_huge_number.csv, row 3, column K2", "is outside 1..5"),
    ("unknown_role.csv", "unknown_role.csv, row 3, column role", "unknown role 'boss'"),
    ("org_id_dotdot.csv", "org_id_dotdot.csv, row 2, column org_id", "path separator or '..'"),
    ("org_id_slash.csv", "org_id_slash.csv, row 3, column org_id", "path separator or '..'"),
    ("org_id_backslash.csv", "org_id_backslash.csv, row 4, column org_id", "path separator or '..'"),
    (
        "respondent_id_traversal.csv",
        "respondent_id_traversal.csv, row 2, column respondent_id",
        "path separator or '..'",
    ),
    ("org_id_control_char.csv", "org_id_control_char.csv, row 2, column org_id", "control character"),
    ("org_id_too_long.csv", "org_id_too_long.csv, row 3, column org_id", "longer than 200 characters"),
    ("org_id_empty.csv", "org_id_empty.csv, row 4, column org_id", "org_id is empty"),
    ("formula_hyperlink_answer.csv", "formula_hyperlink_answer.csv, row 2, column P4", "unknown answer '=HYPERLINK("),
    ("formula_cmd_answer.csv", "formula_cmd_answer.csv, row 3, column R2", 'unknown answer "+cmd|'),
    ("formula_org_id.csv", "formula_org_id.csv, row 2, column org_id", "path separator or '..'"),
    (
        "formula_org_id_plain.csv",
        "formula_org_id_plain.csv, row 3, column org_id",
        "'=1+2' starts like a spreadsheet formula",
    ),
    (
        "formula_respondent_id.csv",
        "formula_respondent_id.csv, row 4, column respondent_id",
        "'@SUM(A1:A9)' starts like a spreadsheet formula",
    ),
    ("missing_role_column.csv", "missing_role_column.csv, row 1, column role", "missing required column role"),
    ("no_item_columns.csv", "no_item_columns.csv, row 1", "no column matches an item of instrument 'mini'"),
    ("unnamed_column.csv", "unnamed_column.csv, row 2", "column 5 has no name in the header but holds 'oops'"),
    ("unclosed_quote.csv", "unclosed_quote.csv, row 3", "malformed CSV"),
    (
        "misnamed_item_hyphen.csv",
        "misnamed_item_hyphen.csv, row 1, column P-1",
        "column 'P-1' is no item of instrument 'mini' (did you mean P1?)",
    ),
    (
        "misnamed_item_question_text.csv",
        "misnamed_item_question_text.csv, row 1, column Practice one",
        "(did you mean P1?)",
    ),
    ("misnamed_item_newline.csv", "misnamed_item_newline.csv, row 1, column 'R\\n2'", "(did you mean R2?)"),
    ("org_id_case_split.csv", "org_id_case_split.csv, row 3, column org_id", "'x' and 'X' (row 2) differ only in case"),
    (
        "respondent_id_case_split.csv",
        "respondent_id_case_split.csv, row 3, column respondent_id",
        "'A1' and 'a1' (row 2) of organization 'X' differ only in case",
    ),
    ("dimension_empty.csv", "dimension_empty.csv, row 2, column T1", "no answer to any technology item"),
    (
        "xlsx_merged_answers.xlsx",
        "xlsx_merged_answers.xlsx, sheet 'Responses', row 3, column P1",
        "cells D3:E3 are merged",
    ),
    ("xlsx_hidden_row.xlsx", "xlsx_hidden_row.xlsx, sheet 'Responses', row 3", "row 3 is hidden"),
    ("xlsx_hidden_column.xlsx", "xlsx_hidden_column.xlsx, sheet 'Responses', row 1, column P2", "column E is hidden"),
    ("xlsx_two_header_sheets.xlsx", "xlsx_two_header_sheets.xlsx", "sheets 'Site A', 'Site B' each hold a header"),
    (
        "xlsx_instructions_only.xlsx",
        "xlsx_instructions_only.xlsx",
        "no sheet holds a header with org_id, respondent_id, role (its sheets: 'Instructions', 'Notes')",
    ),
    ("xlsx_zip_bomb.xlsx", "xlsx_zip_bomb.xlsx", "unpacks to 250 MB, more than the limit of 200 MB"),
    ("json_duplicate_key.json", "json_duplicate_key.json, row 1, column P1", "has the key 'P1' twice"),
    ("json_nan.json", "json_nan.json, row 2, column P1", "NaN is not a value JSON allows"),
    ("xlsx_garbage_zip.xlsx", "xlsx_garbage_zip.xlsx", "cannot be read as an Excel workbook"),
    ("xlsx_renamed_csv.xlsx", "xlsx_renamed_csv.xlsx", "a CSV file renamed .xlsx?"),
    ("xlsx_truncated.xlsx", "xlsx_truncated.xlsx", "cannot be read as an Excel workbook"),
    (
        "xlsx_out_of_range.xlsx",
        "xlsx_out_of_range.xlsx, sheet 'Responses', row 3, column P2",
        "answer 7 is outside 1..5",
    ),
    (
        "xlsx_unknown_role.xlsx",
        "xlsx_unknown_role.xlsx, sheet 'Responses', row 4, column role",
        "unknown role 'Director'",
    ),
    (
        "xlsx_formula_unsaved.xlsx",
        "xlsx_formula_unsaved.xlsx, sheet 'Responses', row 2, column T1",
        "formula whose result was never saved",
    ),
    ("xlsx_empty_sheet.xlsx", "xlsx_empty_sheet.xlsx", "sheet 'Responses' is empty"),
    ("xlsx_header_only.xlsx", "xlsx_header_only.xlsx, sheet 'Responses', row 1", "no respondent rows"),
    (
        "xlsx_value_beyond_header.xlsx",
        "xlsx_value_beyond_header.xlsx, sheet 'Responses', row 3",
        "column 16 has no name in the header but holds 'stray note'",
    ),
    (
        "xlsx_duplicate_columns_case.xlsx",
        "xlsx_duplicate_columns_case.xlsx, sheet 'Responses', row 1, column p1",
        "duplicate column 'p1'",
    ),
    (
        "xlsx_date_answer.xlsx",
        "xlsx_date_answer.xlsx, sheet 'Responses', row 2, column K1",
        "unknown answer '2024-01-05 00:00:00'",
    ),
    ("json_not_list.json", "json_not_list.json", "must be a list of records"),
    ("json_scalar.json", "json_scalar.json", "must be a list of records"),
    ("json_list_of_lists.json", "json_list_of_lists.json, row 1", "each record must be an object"),
    ("json_nested_cell.json", "json_nested_cell.json, row 2, column P1", "a cell must be a number, text or null"),
    ("json_invalid.json", "json_invalid.json", "is not valid JSON"),
    ("json_empty_list.json", "json_empty_list.json", "JSON holds no records"),
    ("json_out_of_range.json", "json_out_of_range.json, row 3, column R1", "answer 0 is outside 1..5"),
    ("json_bool_answer.json", "json_bool_answer.json, row 1, column T1", "unknown answer 'true'"),
    ("parquet_garbage.parquet", "parquet_garbage.parquet", "cannot be read as a Parquet file"),
    ("parquet_truncated.parquet", "parquet_truncated.parquet", "cannot be read as a Parquet file"),
    ("parquet_float_answers.parquet", "parquet_float_answers.parquet, row 2, column P1", "'3.5' is not a whole number"),
    (
        "parquet_timestamp_column.parquet",
        "parquet_timestamp_column.parquet, row 2, column R1",
        "unknown answer '2024-01-01 00:00:00'",
    ),
    ("parquet_nested_column.parquet", "parquet_nested_column.parquet, row 1, column T1", "holds list<"),
    ("parquet_binary_org_id.parquet", "parquet_binary_org_id.parquet, row 3, column org_id", "not UTF-8"),
    ("parquet_no_rows.parquet", "parquet_no_rows.parquet, row 1", "no respondent rows"),
]

PROFILES = [
    ("profiles_no_match.csv", "profiles_no_match.csv, column org_id", "no org_id in the profiles matches"),
    ("profiles_duplicate_org.csv", "profiles_duplicate_org.csv, row 3, column org_id", "duplicate org_id 'X'"),
    ("profiles_bad_stage.csv", "profiles_bad_stage.csv, row 2, column stage", "stage 'ready' is not one of"),
    ("profiles_bad_agents.csv", "profiles_bad_agents.csv, row 2, column agents", "agents 'many'"),
    ("profiles_bad_size_band.csv", "profiles_bad_size_band.csv, row 2, column size_band", "size_band 'huge'"),
    (
        "profiles_kpi_out_of_range.csv",
        "profiles_kpi_out_of_range.csv, row 2, column abandon_rate",
        "abandon_rate 150 is outside 0..100",
    ),
    ("profiles_org_traversal.csv", "profiles_org_traversal.csv, row 3, column org_id", "path separator or '..'"),
    ("profiles_empty.csv", "profiles_empty.csv", "file is empty"),
    ("profiles_missing_org_id.csv", "profiles_missing_org_id.csv, row 1, column org_id", "missing required column"),
    ("profiles_renamed_csv.xlsx", "profiles_renamed_csv.xlsx", "a CSV file renamed .xlsx?"),
    ("profiles_header_only.csv", "profiles_header_only.csv, row 1", "no organization rows"),
    ("profiles_latin1.csv", "profiles_latin1.csv, row 2", "not UTF-8 text (byte 0xe9)"),
    (
        "profiles_unknown_industry.csv",
        "profiles_unknown_industry.csv, row 2, column industry",
        "industry 'retail' is not one of",
    ),
    (
        "profiles_rate_fraction.csv",
        "profiles_rate_fraction.csv, row 2, column first_call_resolution",
        "looks like a fraction",
    ),
    (
        "profiles_agents_fraction.csv",
        "profiles_agents_fraction.csv, row 2, column agents",
        "agents '120.5' must be a whole number",
    ),
    (
        "profiles_agents_infinite.csv",
        "profiles_agents_infinite.csv, row 2, column agents",
        "agents 'inf' must be a whole number",
    ),
    (
        "profiles_band_contradicts_agents.csv",
        "profiles_band_contradicts_agents.csv, row 2, column size_band",
        "does not agree with agents 400",
    ),
    (
        "profiles_org_case_split.csv",
        "profiles_org_case_split.csv, row 2, column org_id",
        "differs only in case from 'X'",
    ),
]

INSTRUMENTS = [
    (
        "instrument_duplicate_item.yaml",
        "instrument_duplicate_item.yaml, at dimensions[1].facets[0].items[1].id",
        "duplicate item id 'R1'",
    ),
    ("instrument_empty.yaml", "instrument_empty.yaml", "must be a mapping"),
    ("instrument_not_mapping.yaml", "instrument_not_mapping.yaml", "must be a mapping"),
    ("instrument_invalid_yaml.yaml", "instrument_invalid_yaml.yaml, row 9", "is not valid YAML"),
    ("instrument_latin1.yaml", "instrument_latin1.yaml, row 6", "not UTF-8 text (byte 0xfc)"),
    (
        "instrument_unknown_role.yaml",
        "instrument_unknown_role.yaml, at dimensions[2].facets[0].items[1].roles",
        "unknown role(s) boss",
    ),
    (
        "instrument_label_set_not_list.yaml",
        "instrument_label_set_not_list.yaml, at label_sets.agreement",
        "must be a list of labels",
    ),
    (
        "instrument_label_set_unhashable.yaml",
        "instrument_label_set_unhashable.yaml, at dimensions[0].facets[0].items[1].label_set",
        "unknown label_set",
    ),
    ("instrument_scale_too_large.yaml", "instrument_scale_too_large.yaml, at scale_points", "less than or equal to 11"),
    ("instrument_binary.yaml", "instrument_binary.yaml, row 1", "not UTF-8 text"),
    ("instrument_yaml_bomb.yaml", "instrument_yaml_bomb.yaml", "expands to more than 200000 values"),
    ("instrument_python_tag.yaml", "instrument_python_tag.yaml, row 6", "could not determine a constructor"),
    (
        "instrument_unknown_dimension.yaml",
        "instrument_unknown_dimension.yaml, at dimensions[3].id",
        "'people', 'process', 'technology' or 'knowledge'",
    ),
]

PLAYBOOKS = [
    ("playbook_cycle.yaml", "playbook_cycle.yaml, at actions", "dependency cycle: goals -> crm -> goals"),
    ("playbook_unknown_facet.yaml", "playbook_unknown_facet.yaml, at actions[1].facets", "unknown facet 'people.zzz'"),
    ("playbook_self_dependency.yaml", "playbook_self_dependency.yaml, at actions[0].depends_on", "depends on itself"),
    ("playbook_empty.yaml", "playbook_empty.yaml", "file is empty"),
    ("playbook_not_mapping.yaml", "playbook_not_mapping.yaml", "must be a mapping"),
    ("playbook_unknown_effort.yaml", "playbook_unknown_effort.yaml, at actions[2].effort", "effort 'XXL'"),
    (
        "playbook_unknown_dependency.yaml",
        "playbook_unknown_dependency.yaml, at actions[3].depends_on",
        "unknown action 'magic'",
    ),
]

TARGETS = [
    ("targets_unknown_facet.csv", "targets_unknown_facet.csv, row 3, column facet", "unknown facet 'people.zzz'"),
    ("targets_out_of_range.yaml", "targets_out_of_range.yaml, at people.b", "target 180 is outside 0..100"),
    ("targets_not_number.csv", "targets_not_number.csv, row 2, column target", "'high' is not a number"),
]


def commands(kind: str, path: Path, out: Path) -> list[list[str]]:
    """The command lines a file of this kind goes through; each writes (if at all) under ``out``."""
    fast = ["--bootstrap", "0"]
    if kind == "responses":
        return [
            ["validate", path, "--instrument", MINI],
            ["assess", path, "--org", "X", "--instrument", MINI, "--out", out, *fast],
        ]
    if kind == "profiles":
        return [
            ["validate", GOOD, "--instrument", MINI, "--profiles", path],
            ["assess", GOOD, "--org", "X", "--instrument", MINI, "--profiles", path, "--out", out, *fast],
        ]
    if kind == "instrument":
        return [
            ["validate", GOOD, "--instrument", path],
            ["assess", GOOD, "--org", "X", "--instrument", path, "--out", out, *fast],
        ]
    if kind == "playbook":
        return [
            ["assess", GOOD, "--org", "X", "--instrument", MINI, "--playbook", path, "--out", out, *fast],
            ["score", GOOD, "--instrument", MINI, "--playbook", path, "--out", out, "--quiet", *fast],
        ]
    assert kind == "targets"
    return [
        ["score", GOOD, "--instrument", MINI, "--target", path, "--out", out, "--quiet", *fast],
        ["assess", GOOD, "--org", "X", "--instrument", MINI, "--target", path, "--out", out, *fast],
    ]


def run(capsys, argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error(code: int, out: str, err: str, where: str, message: str) -> None:
    assert code == 2, err
    assert "Traceback" not in out + err and "internal error" not in err
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, lines
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    assert errors[0].startswith(f"error: {where}: "), errors[0]
    assert message in errors[0]
    assert len(errors[0]) < 400  # readable, whatever the file held


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


CASES = (
    [("responses", *c) for c in RESPONSES]
    + [("profiles", *c) for c in PROFILES]
    + [("instrument", *c) for c in INSTRUMENTS]
    + [("playbook", *c) for c in PLAYBOOKS]
    + [("targets", *c) for c in TARGETS]
)


def test_corpus_is_complete_and_listed():
    files = {p.name for p in BAD.iterdir() if p.is_file()} - {"README.md", "make_corpus.py"}
    assert files == {name for _, name, _, _ in CASES}
    assert len(files) >= 30
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(files) if f"`{name}`" not in readme] == []


def test_corpus_is_reproducible():
    script = runpy.run_path(str(BAD / "make_corpus.py"))  # run_path leaves no __pycache__
    made = {**script["corpus"](), **{f"../equivalent/{k}": v for k, v in script["equivalent"]().items()}}
    assert {k for k in made if not k.startswith("../")} == {name for _, name, _, _ in CASES}
    assert {k[len("../equivalent/") :] for k in made if k.startswith("../")} == EQUIVALENT_FILES
    # XLSX and Parquet bytes carry the writer's version, so only the text files are held
    # to byte equality here; the script itself writes fixed timestamps into both.
    text = [name for name in made if not name.endswith((".xlsx", ".parquet"))]
    assert [name for name in text if (BAD / name).read_bytes() != made[name]] == []


EQUIVALENT = DATA / "equivalent"
EQUIVALENT_FILES = {p.name for p in EQUIVALENT.iterdir() if p.is_file()}


@pytest.mark.parametrize("name", sorted(EQUIVALENT_FILES))
def test_an_equivalent_file_reads_exactly_like_the_good_one(mini, name):
    """Issue 14: written another way, the same answers; never refused, never read differently."""
    import numpy as np

    from readiness.io.loaders import load_responses, validate_files

    good, odd = load_responses(GOOD, mini), load_responses(EQUIVALENT / name, mini)
    assert odd.meta[["org_id", "respondent_id", "role"]].equals(good.meta[["org_id", "respondent_id", "role"]])
    np.testing.assert_array_equal(odd.values, good.values)
    np.testing.assert_array_equal(odd.not_applicable, good.not_applicable)
    problems, _, _ = validate_files(EQUIVALENT / name, mini)
    assert not [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("kind, name, where, message", CASES, ids=[c[1] for c in CASES])
def test_bad_file_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, kind, name, where, message):
    out = tmp_path / "out"
    for argv in commands(kind, BAD / name, out):
        code, stdout, err = run(capsys, argv)
        assert_one_error(code, stdout, err, where, message)
        assert not out.exists(), f"{argv[0]} created {out}"


# A few of each kind into a folder that holds an earlier run: it must stay as it was.
EXISTING = [
    "answer_out_of_range.csv",
    "xlsx_garbage_zip.xlsx",
    "json_nested_cell.json",
    "parquet_nested_column.parquet",
    "org_id_dotdot.csv",
    "profiles_no_match.csv",
    "instrument_yaml_bomb.yaml",
    "playbook_cycle.yaml",
]


@pytest.mark.parametrize("name", EXISTING)
def test_existing_output_folder_is_left_as_it_was(capsys, tmp_path, name):
    kind, _, where, message = next(c for c in CASES if c[1] == name)
    out = tmp_path / "out"
    (out / "earlier").mkdir(parents=True)
    (out / "earlier" / "results.json").write_text('{"schema_version": 1}')
    (out / "manifest.csv").write_text("org_id,status\nEARLIER,done\n")
    before = snapshot(out)
    for argv in commands(kind, BAD / name, out):
        assert_one_error(*run(capsys, argv), where, message)
        assert snapshot(out) == before


# Each of these files has no good organization left: a batch refuses it whole. (A file in
# which some organizations are good fails only the bad ones: tests/test_batch.py.)
BATCH = [
    "empty.csv",
    "duplicate_respondent.csv",
    "xlsx_formula_unsaved.xlsx",
    "json_not_list.json",
    "parquet_binary_org_id.parquet",
    "answer_out_of_range.csv",
]


@pytest.mark.parametrize("name", BATCH)
def test_batch_refuses_bad_responses_before_writing(capsys, tmp_path, name):
    _, _, where, message = next(c for c in CASES if c[1] == name)
    out = tmp_path / "batch"
    argv = ["batch", BAD / name, "--instrument", MINI, "--out", out, "--workers", 1, "--no-progress", "--bootstrap", 0]
    assert_one_error(*run(capsys, argv), where, message)
    assert not out.exists()
    out.mkdir()
    (out / "manifest.csv").write_text("org_id,status\nEARLIER,done\n")
    assert_one_error(*run(capsys, argv), where, message)
    assert snapshot(out) == {"manifest.csv": b"org_id,status\nEARLIER,done\n"}


def test_batch_refuses_profiles_that_match_nothing(capsys, tmp_path):
    out = tmp_path / "batch"
    argv = [
        "batch",
        GOOD,
        "--instrument",
        MINI,
        "--profiles",
        BAD / "profiles_no_match.csv",
        "--out",
        out,
        "--workers",
        1,
        "--no-progress",
        "--bootstrap",
        0,
    ]
    assert_one_error(*run(capsys, argv), "profiles_no_match.csv, column org_id", "no org_id in the profiles matches")
    assert not out.exists()


# ---------------------------------------------------------------------- made at test time
GOOD_LINES = GOOD.read_text(encoding="utf-8").splitlines()


def test_enormous_cell_beyond_the_csv_field_limit(capsys, tmp_path):
    path = tmp_path / "enormous.csv"
    org = "X" * 300_000  # 300 KB in one cell: too big to commit, past csv's 131072 limit
    path.write_text("\n".join([GOOD_LINES[0], GOOD_LINES[1], org + GOOD_LINES[2][1:], GOOD_LINES[3]]) + "\n")
    for argv in commands("responses", path, tmp_path / "out"):
        assert_one_error(*run(capsys, argv), "enormous.csv, row 3", "has a cell longer than 131072 characters")
    assert not (tmp_path / "out").exists()


def test_enormous_answer_is_shown_shortened(capsys, tmp_path):
    path = tmp_path / "long_answer.csv"
    answer = "Agree " * 20_000  # 120 KB, under the limit: read, then refused as an answer
    cells = GOOD_LINES[1].split(",")
    cells[3] = answer
    path.write_text("\n".join([GOOD_LINES[0], ",".join(cells), *GOOD_LINES[2:]]) + "\n")
    for argv in commands("responses", path, tmp_path / "out"):
        assert_one_error(*run(capsys, argv), "long_answer.csv, row 2, column P1", "unknown answer 'Agree Agree")
    assert not (tmp_path / "out").exists()


def test_enormous_org_name_in_json_profiles(capsys, tmp_path):
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps([{"org_id": "X", "org_name": "Acme " * 200_000, "industry": "technology"}]))
    for argv in commands("profiles", path, tmp_path / "out"):
        assert_one_error(*run(capsys, argv), "profiles.json, row 1, column org_name", "longer than 10000 characters")
    assert not (tmp_path / "out").exists()


def test_long_dependency_chain_with_a_cycle(capsys, tmp_path):
    # 1500 actions each depending on the next, the last on the first: deeper than Python's
    # recursion limit, so the cycle search must not recurse.
    n = 1500
    lines = [
        "id: chain",
        "version: '1'",
        "effort_points: {S: 1}",
        "dimension_impact: {people: 1, process: 1, technology: 1, knowledge: 1}",
        "actions:",
    ]
    for i in range(n):
        lines.append(
            f"  - {{id: a{i}, title: T, what: W, facets: [people.a], effort: S, duration_weeks: 1, "
            f"owner: o, depends_on: [a{(i + 1) % n}]}}"
        )
    path = tmp_path / "chain.yaml"
    path.write_text("\n".join(lines) + "\n")
    for argv in commands("playbook", path, tmp_path / "out"):
        assert_one_error(
            *run(capsys, argv),
            "chain.yaml, at actions",
            "dependency cycle: a0 -> a1 -> a2 -> a3 -> ... -> a1499 -> a0 (1500 actions)",
        )
    assert not (tmp_path / "out").exists()


def test_deeply_nested_json_and_yaml(capsys, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.yaml").write_text("id: " + "[" * 100_000 + "]" * 100_000)
    for argv in commands("responses", tmp_path / "deep.json", tmp_path / "out"):
        assert_one_error(*run(capsys, argv), "deep.json", "is not valid JSON (nested too deeply)")
    for argv in commands("instrument", tmp_path / "deep.yaml", tmp_path / "out"):
        assert_one_error(*run(capsys, argv), "deep.yaml, row 1", "is not valid YAML")
    assert not (tmp_path / "out").exists()


def test_a_pipe_is_refused_not_waited_on(capsys, tmp_path):
    fifo = tmp_path / "responses.csv"
    try:
        os.mkfifo(fifo)
    except (AttributeError, OSError):
        pytest.skip("no named pipes here")
    code, out, err = run(capsys, ["validate", fifo, "--instrument", MINI])
    assert code == 2 and err.strip() == f"error: {fifo}: is not a regular file (a device, pipe or socket)"


# ---------------------------------------------------------------------- a real process
@pytest.mark.parametrize(
    "argv, where",
    [
        (["validate", BAD / "binary_garbage.csv", "--instrument", MINI], "binary_garbage.csv"),
        (
            [
                "assess",
                GOOD,
                "--org",
                "X",
                "--instrument",
                BAD / "instrument_label_set_unhashable.yaml",
                "--out",
                "{out}",
            ],
            "instrument_label_set_unhashable.yaml, at dimensions[0].facets[0].items[1].label_set",
        ),
        (
            ["batch", BAD / "parquet_nested_column.parquet", "--instrument", MINI, "--out", "{out}", "--no-progress"],
            "parquet_nested_column.parquet, row 1, column T1",
        ),
    ],
)
def test_in_a_real_process_stderr_is_one_line(tmp_path, argv, where):
    out = tmp_path / "out"
    argv = [str(a).replace("{out}", str(out)) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "readiness.apps.cli", *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: {where}: ")
    assert not out.exists() and list(tmp_path.iterdir()) == []
