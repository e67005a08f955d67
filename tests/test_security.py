"""Hostile input rendered inert, safe folder names, inert spreadsheets, atomic writes.

Organization names and ids full of HTML, script, quotes, newlines, Jinja and notebook
syntax and Python code go through ``readiness assess`` and ``readiness batch`` as a user
runs them; the reports must show them as text (checked in the HTML, in a real browser
and in the PDF) and nothing may run. The reports are built once per module.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from readiness.core.errors import InputError, ReportError
from readiness.io import exporters
from readiness.io.exporters import FORMULA_PREFIXES, neutralize, org_folder, write_roadmap_csv, write_roadmap_xlsx
from readiness.report import execute as report_execute
from readiness.report import folder as report_folder
from readiness.report import html as report_html
from readiness.report import pdf as report_pdf
from readiness.report.execute import report_notebook, validate_parameters
from readiness.report.html_safety import active_content
from readiness.report.pdf import find_chromium

from .conftest import ROOT

EXAMPLES = ROOT / "data" / "examples"
PANEL = ROOT / "data" / "peers" / "panel.csv"
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium")

# Ids cannot hold "/", "\", ".." or control characters (the loaders refuse them), so
# the ids carry what is left; the names carry everything.
ID_A = '<script>alert(1)<img src=x onerror="window.__pwned=1">{{ 7*7 }}'
ID_B = '"); import os; os.system("touch PWNED"); (" ${7*7} {% raw %}'
NAME_A = (
    '<script>alert(1)</script><img src=x onerror=alert(1)><img src=x onerror="window.__pwned=1">'
    " \"Quoted\" 'single'\nsecond line {{ 7*7777777 }} {% raw %}{{ x }}{% endraw %} ${7*7777777}"
)
NAME_B = "__import__('os').system('touch PWNED') \"); import os; os.system(\"touch PWNED\"); (\" {{ 7*7777777 }} Центр"
EVALUATED = "54444439"  # 7*7777777: what a template or shell that ran the names would show
# Differ only in punctuation: the same slug, so two folders only by the hash of the exact id.
# (Ids differing only in case are refused by the loaders: tests/test_ids.py.)
TWIN_IDS = ("Acme Ltd", "Acme_Ltd")


def _write_inputs(folder: Path, orgs: dict[str, str]) -> tuple[Path, Path]:
    """The example center's answers and profile, once per hostile organization."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(EXAMPLES / "responses.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    with open(EXAMPLES / "profiles.csv", newline="", encoding="utf-8") as fh:
        prof = list(csv.reader(fh))
    responses, profiles = folder / "responses.csv", folder / "profiles.csv"
    with open(responses, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0]] + [[org, *r[1:]] for org in orgs for r in rows[1:]])
    with open(profiles, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([prof[0]] + [[org, name, *prof[1][2:]] for org, name in orgs.items()])
    return responses, profiles


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    res = subprocess.run([str(BIN / "readiness"), *args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def assessed(tmp_path_factory) -> Path:
    """`readiness assess` for the first hostile organization (with --pdf when Chromium exists)."""
    work = tmp_path_factory.mktemp("assess")
    responses, profiles = _write_inputs(work / "in", {ID_A: NAME_A, ID_B: NAME_B})
    out = work / "out"
    args = [
        "assess",
        str(responses),
        "--org",
        ID_A,
        "--profiles",
        str(profiles),
        "--peers",
        str(PANEL),
        "--out",
        str(out),
        "--bootstrap",
        "50",
    ]
    _run(args + (["--pdf"] if find_chromium() else []), cwd=work)
    return out


@pytest.fixture(scope="module")
def batched(tmp_path_factory) -> Path:
    """`readiness batch` for the second hostile organization and two ids differing in punctuation only."""
    work = tmp_path_factory.mktemp("batch")
    orgs = {ID_B: NAME_B, TWIN_IDS[0]: NAME_A, TWIN_IDS[1]: "plain underscore twin"}
    responses, profiles = _write_inputs(work / "in", orgs)
    out = work / "out"
    _run(
        [
            "batch",
            str(responses),
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--out",
            str(out),
            "--bootstrap",
            "50",
            "--workers",
            "1",
            "--no-progress",
        ],
        cwd=work,
    )
    return out


def _visible_html(path: Path) -> str:
    """The page without its embedded images (base64 can hold any digits)."""
    html = path.read_text(encoding="utf-8")
    return re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+", "data:", html)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _no_pwned_file(*folders: Path) -> None:
    for folder in (*folders, ROOT, ROOT / "notebooks", Path.cwd()):
        assert not (folder / "PWNED").exists(), folder
    for folder in folders:
        assert not list(folder.rglob("PWNED")), folder


# ---------------------------------------------------------------------- a. assess and batch
def test_assess_report_shows_hostile_name_as_text(assessed):
    assert active_content((assessed / "report.html").read_text(encoding="utf-8")) == ""
    html = _visible_html(assessed / "report.html")
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert EVALUATED not in html and "{{ 7*7777777 }}" in html and "${7*7777777}" in html
    assert "{% raw %}{{ x }}{% endraw %}" in html  # Jinja syntax in data is not Jinja
    soup = BeautifulSoup(html, "html.parser")
    tags = soup.find_all(True)
    assert not [t.name for t in tags if t.name in ("script", "iframe", "object", "embed")]
    assert not [(t.name, a) for t in tags for a in t.attrs if a.lower().startswith("on")]
    assert _squash(NAME_A) in _squash(soup.get_text())
    assert soup.title.string.startswith("Readiness report: <script>alert(1)</script>")


def test_assess_results_hold_the_name_verbatim_and_nothing_ran(assessed):
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    assert doc["organization"]["id"] == ID_A and doc["organization"]["name"] == NAME_A
    _no_pwned_file(assessed.parent)
    assert not [p.name for p in assessed.iterdir() if p.name.startswith(".")]  # no temporary files


def test_executed_notebook_parameters_are_literals(assessed):
    nb = nbformat.read(str(assessed / "report.ipynb"), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    values = _assigned_literals(injected[0].source)
    assert values == {"results_json": "results.json"}  # beside the notebook: right after the folder is swapped in
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "alert(1)" not in code and "touch PWNED" not in code  # names are data, never code


def _assigned_literals(source: str) -> dict[str, object]:
    """Every statement of a parameters cell is `name = <literal>`; returns the values."""
    values = {}
    for stmt in ast.parse(source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.dump(stmt)
        assert isinstance(stmt.targets[0], ast.Name)
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)  # raises on anything but a literal
    return values


def test_batch_reports_show_hostile_names_as_text(batched):
    rows = {r["org_id"]: r for r in csv.DictReader(io.StringIO((batched / "manifest.csv").read_text("utf-8")))}
    assert {r["status"] for r in rows.values()} == {"ok"}
    folder = batched / org_folder(ID_B)
    assert active_content((folder / "report.html").read_text(encoding="utf-8")) == ""
    html = _visible_html(folder / "report.html")
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    assert EVALUATED not in html
    text = _squash(BeautifulSoup(html, "html.parser").get_text())
    assert _squash(NAME_B) in text
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert (doc["organization"]["id"], doc["organization"]["name"]) == (ID_B, NAME_B)
    _no_pwned_file(batched.parent)


def test_batch_twins_get_their_own_folders(batched):
    folders = [batched / org_folder(org, TWIN_IDS) for org in TWIN_IDS]
    assert folders[0].name.lower() != folders[1].name.lower()  # distinct on case-insensitive disks too
    for org, folder in zip(TWIN_IDS, folders):
        assert folder.parent == batched and (folder / "report.html").stat().st_size > 0
        assert json.loads((folder / "results.json").read_text("utf-8"))["organization"]["id"] == org
    assert "plain underscore twin" in (folders[1] / "report.html").read_text("utf-8")
    assert "&lt;script&gt;" in (folders[0] / "report.html").read_text("utf-8")


# ---------------------------------------------------------------------- b. a real browser
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="browser test needs the Debian package chromium (apt-get install chromium; `make test` does it as root)",
)
def test_browser_runs_nothing_and_shows_the_name(assessed):
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test needs the playwright package")
    dialogs: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            timeout=60_000,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((assessed / "report.html").as_uri(), wait_until="load", timeout=60_000)
            page.wait_for_timeout(500)  # time for any late handler to fire
            pwned = page.evaluate("() => typeof window.__pwned")
            scripts = page.evaluate("() => document.scripts.length")
            body = page.inner_text("body")
            title = page.title()
        finally:
            browser.close()
    assert dialogs == [] and errors == []
    assert pwned == "undefined" and scripts == 0
    assert _squash(NAME_A) in _squash(body)
    assert title.startswith("Readiness report: <script>alert(1)</script>")


# ---------------------------------------------------------------------- c. the PDF
def test_pdf_shows_the_name_as_text(assessed, tmp_path):
    if not find_chromium() or not shutil.which("pdftoppm"):
        pytest.skip("needs the Debian packages chromium and poppler-utils (make test installs them)")
    pdf = assessed / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is missing: the PDF's text cannot be read")
    text = subprocess.run(["pdftotext", "-l", "2", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "<script>alert(1)</script><imgsrc=xonerror=alert(1)>" in flat
    assert "{{7*7777777}}" in flat and EVALUATED not in flat


# ---------------------------------------------------------------------- d. papermill parameters
class _SneakyInt(int):
    def __format__(self, spec: str) -> str:  # papermill formats numbers with format()
        return "1; __import__('os').system('touch PWNED')"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"os_system": 1}, "unknown parameter"),
        ({"results_json; import os": ""}, "not an identifier"),
        ({"org_id": object()}, "must be text"),
        ({"org_id": b"bytes"}, "must be text"),
        ({"org_id": {"a", "b"}}, "must be text"),
        ({"org_id": len}, "must be text"),
        ({"org_id": lambda: 1}, "must be text"),
        ({"target": {"x": {"y": {"z": {"w": {}}}}}}, "nested too deeply"),
        ({"k": float("inf")}, "finite"),
        ({"org_id": "a\nimport os"}, "control characters"),
    ],
)
def test_parameters_reject_non_data(params, message):
    with pytest.raises(InputError) as info:
        validate_parameters(params)
    assert message in str(info.value)


CODE_STRINGS = {
    "org_id": '"); import os; os.system("touch PWNED"); ("',
    "responses": "__import__('os').system('touch PWNED')",
    "profiles": "{{ 7*7 }} {% raw %} ${7*7} \\\" \\' \t'''\"\"\"",
    "target": "<script>alert(1)</script>",
}


def test_code_in_parameters_stays_a_string_literal():
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    params = validate_parameters({**CODE_STRINGS, "seed": _SneakyInt(3), "n_boot": 10, "k": 5.0})
    assert params == {**CODE_STRINGS, "seed": 3, "n_boot": 10, "k": 5.0}
    assert type(params["seed"]) is int
    nb = parameterize_notebook(load_notebook_node(str(report_notebook())), params)  # as papermill does
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert _assigned_literals(injected[0].source) == params


# ---------------------------------------------------------------------- e. folder names
ODD_IDS = [
    "../../etc",
    "..",
    ".",
    "a/b",
    "a\\b",
    "C:\\x",
    "",
    " ",
    "-",
    "_",
    "\x00",
    "/",
    "~",
    "Центр",
    "x" * 300,
    "x" * 299 + "y",
    "Acme",
    "acme",
    "ACME",
    "a-b",
    "a_b",
    "a b",
    "a.b",
    "a--b",
    "a b ",
]


def test_org_folders_are_safe_distinct_and_stable(tmp_path):
    names = [org_folder(o, ODD_IDS) for o in ODD_IDS]  # as a batch writes them side by side
    assert len({n.lower() for n in names}) == len(ODD_IDS)  # no collisions, even ignoring case
    assert names == [org_folder(o, ODD_IDS) for o in ODD_IDS]  # deterministic
    for org, name in zip(ODD_IDS, names):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name), (org, name)
        assert name not in (".", "..") and len(name) <= 64
        folder = (tmp_path / name).resolve()
        assert folder.parent == tmp_path.resolve()
    # the same in a fresh interpreter: the name does not depend on hash seeds or the process
    code = (
        "import json, sys; from readiness.io.exporters import org_folder; "
        "ids = json.load(sys.stdin); print(json.dumps([org_folder(o, ids) for o in ids]))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(ODD_IDS),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert json.loads(res.stdout) == names


@pytest.mark.parametrize("org", ["P0001", "NORTHBANK", "site-12", "acme_west", "a" * 48])
def test_a_safe_id_is_its_own_folder(org):
    assert org_folder(org) == org and org_folder(org, ["P0002", org]) == org


@pytest.mark.parametrize(
    ("org", "others"),
    [("Acme", ["acme"]), ("x-deadbeef", []), ("CON", []), ("nul", []), ("a" * 49, []), ("a b", []), ("-a", [])],
)
def test_a_suffix_only_when_it_must_be(org, others):
    name = org_folder(org, others)
    assert name != org and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*-[0-9a-f]{8}", name)


# ---------------------------------------------------------------------- f. spreadsheets
HOSTILE_CELLS = [
    '=HYPERLINK("http://x","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "\n=1",
    "  =1+1",
    "\u3000=1",
    "\u00a0+1",
    "\uff1dSUM(A1)",
    "\uff0b1",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("value", HOSTILE_CELLS)
def test_neutralize_prefixes_formula_text(value):
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", ["Coach daily", "'=already text", "a=b", "", "1+1", "Центр", 3, -2.5, None])
def test_neutralize_leaves_plain_values(value):
    assert neutralize(value) == value


def _hostile_roadmap(assessed: Path) -> list[dict]:
    roadmap = json.loads((assessed / "results.json").read_text(encoding="utf-8"))["roadmap"][:3]
    assert roadmap
    for i, item in enumerate(roadmap):
        for j, key in enumerate(("title", "what", "why", "owner_name", "reference")):  # reference: the Source column
            item[key] = HOSTILE_CELLS[(i * 5 + j) % len(HOSTILE_CELLS)]
        item["kpi_names"] = ["=1+2", "ok"]  # a list starting with a formula becomes one text cell
    return roadmap


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and (
        value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)
    )


def test_roadmap_csv_cells_are_inert(assessed, tmp_path):
    roadmap = _hostile_roadmap(assessed)
    path = write_roadmap_csv(tmp_path / "roadmap.csv", roadmap)
    with open(path, newline="", encoding="utf-8-sig") as fh:  # line breaks as a spreadsheet sees them
        rows = list(csv.reader(fh))
    assert len(rows) == len(roadmap) + 1  # a carriage return inside a cell starts no row
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if _formula_like(c)]
    assert sum(c.startswith("'") for c in cells) >= 15
    assert "'" + HOSTILE_CELLS[0] in cells and "'=1+2, ok" in cells


def test_roadmap_xlsx_has_no_formula(assessed, tmp_path):
    path = write_roadmap_xlsx(tmp_path / "roadmap.xlsx", _hostile_roadmap(assessed), title="=1+1 " + NAME_A)
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if _formula_like(c.value)]
    assert wb.properties.title.startswith("'=1+1")


def test_report_exports_have_no_formula(assessed, batched):
    for folder in (assessed, batched / org_folder(ID_B)):
        wb = load_workbook(folder / "roadmap.xlsx")
        assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
        with open(folder / "roadmap.csv", newline="", encoding="utf-8-sig") as fh:
            assert not [c for row in csv.reader(fh) for c in row if _formula_like(c)]


def test_batch_manifest_keeps_ids_as_text(tmp_path):
    from readiness.apps.batch import _read_manifest, _write_manifest

    rows = [{"org_id": '=HYPERLINK("http://x")', "status": "failed", "error": "+evil"}]
    _write_manifest(tmp_path / "manifest.csv", rows)
    cells = [c for row in csv.reader(io.StringIO((tmp_path / "manifest.csv").read_text("utf-8"))) for c in row]
    assert not [c for c in cells if _formula_like(c)]
    assert neutralize(rows[0]["org_id"]) in _read_manifest(tmp_path / "manifest.csv")


def test_fill_in_workbook_has_no_formula_cells(bundled, tmp_path):
    from readiness.io.workbook import write_template

    wb = load_workbook(write_template(tmp_path / "q.xlsx", bundled, rows=3, org_id='=HYPERLINK("http://x")'))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(c.value == '=HYPERLINK("http://x")' for c in cells)  # the id is there, as text
    assert not [c.coordinate for c in cells if c.data_type == "f"]


# ---------------------------------------------------------------------- g. atomic writes
def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


def _half_write_then_fail(target_arg: int | str = 0):
    """A writer that writes a few bytes where it was told to, then fails (a full disk)."""

    def writer(*args, **kwargs):
        target = kwargs[target_arg] if isinstance(target_arg, str) else args[target_arg]
        Path(target).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    return writer


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    old = exporters.write_json(tmp_path / "results.json", {"old": True})
    before = old.read_bytes()
    real_fsync = exporters._fsync
    monkeypatch.setattr(exporters, "_fsync", _half_write_then_fail())  # the data is written, the flush fails
    with pytest.raises(OSError):
        exporters.write_json(old, {"new": True})
    assert old.read_bytes() == before and _leftovers(tmp_path) == []
    monkeypatch.setattr(exporters, "_fsync", real_fsync)
    monkeypatch.setattr(
        "openpyxl.writer.excel.ExcelWriter.write_data", lambda self: _half_write_then_fail()(self._archive.filename)
    )
    write_roadmap_csv(tmp_path / "roadmap.xlsx", [])  # stands in for an earlier, good file
    kept = (tmp_path / "roadmap.xlsx").read_bytes()
    with pytest.raises(OSError):
        write_roadmap_xlsx(tmp_path / "roadmap.xlsx", [{"title": "x"}])
    assert (tmp_path / "roadmap.xlsx").read_bytes() == kept and _leftovers(tmp_path) == []


def test_outputs_are_replaced_together_or_not_at_all(assessed, tmp_path, monkeypatch):
    from readiness.io.pipeline import write_outputs

    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    write_outputs(tmp_path, doc)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"results.json", "roadmap.xlsx", "roadmap.csv"}
    changed = dict(doc, warnings=["new run"])
    monkeypatch.setattr(exporters, "write_roadmap_csv", _half_write_then_fail())  # the last file fails
    with pytest.raises(OSError):
        write_outputs(tmp_path, changed)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # results.json not replaced alone
    monkeypatch.undo()
    write_outputs(tmp_path, dict(changed, roadmap=[]))  # a run without a roadmap drops the old plan
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_failed_report_steps_keep_earlier_files(assessed, tmp_path, monkeypatch):
    import papermill

    for name in ("report.ipynb", "report.html", "report.pdf", "results.json"):
        (tmp_path / name).write_bytes(b"earlier " + name.encode())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    # the notebook run dies half-way through writing its output
    monkeypatch.setattr(papermill, "execute_notebook", _half_write_then_fail(1))
    with pytest.raises(OSError):
        report_execute.execute(tmp_path / "report.ipynb", {"results_json": str(tmp_path / "results.json")})

    # Chromium writes part of the PDF, then fails
    def chromium(cmd, **kwargs):
        pdf = next(a for a in cmd if a.startswith("--print-to-pdf=")).split("=", 1)[1]
        Path(pdf).write_bytes(b"%PDF-half")
        return subprocess.CompletedProcess(cmd, 1, "", "Aw, snap")

    monkeypatch.setattr(report_pdf, "find_chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(report_pdf.subprocess, "run", chromium)
    with pytest.raises(ReportError):
        report_pdf.to_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    # the HTML conversion fails after results.json and the notebook are written
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(report_folder, "execute", lambda output, params, **kw: nbformat.v4.new_notebook())

    def to_html(*args, **kwargs):
        raise ReportError("nbconvert failed")

    monkeypatch.setattr(report_folder, "to_html", to_html)
    with pytest.raises(ReportError):
        report_folder.build(doc, tmp_path)
    # the new set was prepared beside the folder and dropped: the folder is exactly as it was
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before and _leftovers(tmp_path) == []
    assert not [p for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}.readiness-")]


def test_to_html_refuses_active_content():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": '<img src=x onerror="alert(1)">'})]
    nb.cells.append(cell)
    with pytest.raises(ReportError, match="event handler"):
        report_html.to_html(nb)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/javascript": "window.__pwned=1", "text/plain": "js"})
    ]
    assert "__pwned" not in report_html.to_html(nb)  # the template renders no JavaScript output


@pytest.mark.parametrize(
    "html",
    [
        '<a href=" jav&#x09;ascript:alert(1)">x</a>',
        "<SCRIPT>x</SCRIPT>",
        "<svg><script>x</script></svg>",
        '<iframe src="https://x"></iframe>',
        '<meta http-equiv="refresh" content="0;url=https://x">',
        '<div style="background:url(https://x)">',
        '<img src="data:text/html;base64,PHNjcmlwdD4=">',
        '<form action="https://x"><input></form>',
        '<body onload="x()">',
    ],
)
def test_active_content_is_found(html):
    assert active_content(html)


def test_every_file_write_goes_through_atomic_path():
    """Source audit: a call that writes a file sits inside ``with atomic_path(...)``."""
    writers = {
        "write_text",
        "write_bytes",
        "save",
        "to_csv",
        "to_excel",
        "to_parquet",
        "to_json",
        "dump",
        "savefig",
        "copy",
        "copyfile",
        "copy2",
        "copytree",
        "move",
        "execute_notebook",
        "write",
        "writelines",
    }
    offenders = []
    # The one file written in place on purpose: a batch's manifest.csv is an append-only log
    # while the batch runs (a line flushed per event; a killed run leaves a valid file whose
    # last line per organization is its state), rewritten atomically at the end; --resume
    # trusts the folders and their fingerprints, never that log (issue 17, docs/batch.md).
    appending = {("batch.py", "_ManifestLog")}
    # every layer that may touch files; the core does no file I/O at all (test_architecture.py)
    for path in sorted(p for p in (ROOT / "readiness").rglob("*.py") if "core" not in p.relative_to(ROOT).parts):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # names bound to an in-memory buffer (a figure drawn to PNG bytes): writing there is no file
        buffers = {
            t.id
            for a in ast.walk(tree)
            if isinstance(a, ast.Assign)
            and isinstance(a.value, ast.Call)
            and getattr(a.value.func, "attr", getattr(a.value.func, "id", "")) in ("BytesIO", "StringIO")
            for t in a.targets
            if isinstance(t, ast.Name)
        }
        exempt = [
            range(c.lineno, (c.end_lineno or c.lineno) + 1)
            for c in ast.walk(tree)
            if isinstance(c, ast.ClassDef) and (path.name, c.name) in appending
        ]
        for node, inside in _calls(tree, False):
            if any(node.lineno in lines for lines in exempt):
                continue
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in buffers:
                continue
            if path.name == "execute.py" and "'kernel.log'" in ast.unparse(node):
                continue  # a report kernel's own log, in its private temporary folder, removed with it
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if isinstance(func, ast.Name) and name in ("write_text", "write_bytes", "write_json"):
                continue  # readiness.io.exporters' own atomic writers
            opens = name == "open" and any(
                isinstance(a, ast.Constant) and isinstance(a.value, str) and set(a.value) & set("wax+")
                for a in [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "mode")]
            )
            to_string = (
                name in ("to_csv", "to_json")
                and not node.args
                and not any(k.arg == "path_or_buf" for k in node.keywords)
            )  # returns the text
            # copy/move write files as shutil's functions; an array's or a dict's .copy() does not
            in_memory = (
                name in ("copy", "copyfile", "copy2", "copytree", "move")
                and isinstance(func, ast.Attribute)
                and getattr(func.value, "id", "") != "shutil"
            )
            if ((name in writers and not to_string and not in_memory) or opens) and not inside:
                offenders.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}")
    assert offenders == []


def _calls(node: ast.AST, inside: bool):
    if isinstance(node, (ast.With, ast.AsyncWith)):
        inside = inside or any(
            isinstance(i.context_expr, ast.Call)
            and getattr(i.context_expr.func, "id", getattr(i.context_expr.func, "attr", "")) == "atomic_path"
            for i in node.items
        )
    if isinstance(node, ast.Call):
        yield node, inside
    for child in ast.iter_child_nodes(node):
        yield from _calls(child, inside)


def test_a_failed_redo_keeps_the_earlier_set_and_resume_does_not_trust_it(assessed, tmp_path, monkeypatch):
    """A folder never mixes two runs; a set made from other inputs is never taken for done."""
    from readiness.apps import batch

    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    folder = tmp_path / org_folder(ID_A)
    folder.mkdir()
    for name in ("results.json", "report.ipynb", "report.html"):
        (folder / name).write_text("earlier run")
    assert batch.is_complete(folder)
    monkeypatch.setattr(
        batch, "_run_local", lambda tasks, record, workers: [record(batch._failed(t, "kernel died")) for t in tasks]
    )
    summary = batch.run_batch({ID_A: doc}, tmp_path, workers=1)
    assert summary.failed == 1
    # the earlier set, whole and alone: the new results never landed beside its report
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        name: "earlier run" for name in ("results.json", "report.ipynb", "report.html")
    }
    # it was not made from these inputs (no fingerprint of them): --resume redoes it
    summary = batch.run_batch({ID_A: doc}, tmp_path, workers=1, resume=True)
    assert summary.skipped == 0 and summary.failed == 1
    staged = [p for p in tmp_path.iterdir() if p.name.startswith(f".{folder.name}.readiness-")]
    assert len(staged) <= 1  # a killed worker's staged set; the next run removes it
