"""Reports: papermill execution, client HTML (no code, no scripts, escaped text), PDF.

These tests start Jupyter kernels, so they take a few seconds each; they share one
executed report per module where they can.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from readiness.core.errors import InputError
from readiness.report.execute import report_notebook, validate_parameters
from readiness.report.html import to_html
from readiness.report.pdf import find_chromium
from readiness.report.sections import render_section

from .conftest import ROOT

REPORT_NOTEBOOK = report_notebook()

EXAMPLES = ROOT / "data" / "examples"
PANEL = ROOT / "data" / "peers" / "panel.csv"
HOSTILE = '<script>alert("x")</script> "Quoted" & Co\'s {{ 1234*1000 }} ${x} Центр 東京 </div>'
BIN = Path(sys.executable).parent
PREPARED_BY = "Dana Reyes, Northwind Advisory"


def _hostile_profiles(tmp_path: Path) -> Path:
    text = (EXAMPLES / "profiles.csv").read_text(encoding="utf-8")
    header, row = text.splitlines()[:2]
    cells = row.split(",")
    cells[1] = '"' + HOSTILE.replace('"', '""') + '"'
    path = tmp_path / "profiles.csv"
    path.write_text(header + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def assessed(tmp_path_factory):
    """`readiness assess` on the example center with a hostile name, with PDF when Chromium exists."""
    tmp = tmp_path_factory.mktemp("assess")
    out = tmp / "out"
    cmd = [
        str(BIN / "readiness"),
        "assess",
        str(EXAMPLES / "responses.csv"),
        "--org",
        "NORTHBANK",
        "--profiles",
        str(_hostile_profiles(tmp)),
        "--peers",
        str(PANEL),
        "--out",
        str(out),
        "--bootstrap",
        "200",
        "--prepared-by",
        PREPARED_BY,
        "--date",
        "2025-03-14",
    ]
    if find_chromium():
        cmd.append("--pdf")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, timeout=600)
    assert res.returncode == 0, res.stderr
    (tmp / "stderr.txt").write_text(res.stderr, encoding="utf-8")
    return out


def test_output_folder_has_every_file(assessed):
    for name in ("results.json", "roadmap.xlsx", "roadmap.csv", "report.ipynb", "report.html"):
        assert (assessed / name).stat().st_size > 0, name
    assert not [p for p in assessed.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_html_has_no_code_no_prompts_no_scripts(assessed):
    html = (assessed / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script\b", html, re.IGNORECASE)
    assert not re.search(r"class=\"[^\"]*jp-InputArea", html) and not re.search(r"class=\"[^\"]*jp-InputPrompt", html)
    assert "load_results(" not in html and "import matplotlib" not in html
    assert "results_json" not in html  # the parameters cell is not shown
    assert "Traceback" not in html
    assert "<img" in html and "data:image/svg+xml;base64," in html  # figures embedded


def test_figures_are_images_of_the_notebooks_svg(assessed):
    """Each figure's <img> carries exactly the SVG the notebook shows (base64 of its UTF-8), none inline."""
    import base64

    html = (assessed / "report.html").read_text(encoding="utf-8")
    nb = nbformat.read(str(assessed / "report.ipynb"), as_version=4)
    shown = [
        o["data"]["image/svg+xml"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "image/svg+xml" in o.get("data", {})
    ]
    embedded = re.findall(r"<img[^>]+src=\"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\"", html)
    assert len(shown) >= 7 and [base64.b64decode(e).decode("utf-8") for e in embedded] == shown
    assert not re.search(r"<svg\b", html)  # in an <img>, an SVG runs nothing and takes none of the page's styles


def test_html_conversion_leaves_the_notebook_and_keeps_nothing_between_reports(assessed):
    """to_html changes nothing in the notebook it is given, and converting many keeps no record of each."""
    from readiness.report.html import _exporter

    nb = nbformat.read(str(assessed / "report.ipynb"), as_version=4)
    before = nbformat.writes(nb)
    pages = [to_html(nb, title=f"Report {i}") for i in range(3)]
    assert nbformat.writes(nb) == before
    assert len(_exporter()._nb_metadata) <= 1  # nbconvert's record of converted notebooks, by title
    assert "<title>Report 2</title>" in pages[2] and pages[0].replace("Report 0", "Report 2") == pages[2]
    boxes = re.findall(r"<div class=\"[^\"]*\bjp-OutputArea-output\b[^>]*>", pages[0])
    assert len(boxes) >= 7 and all(b.endswith(' tabindex="0">') and b.count("tabindex") == 1 for b in boxes)


def test_hostile_name_is_text(assessed):
    html = (assessed / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "Центр 東京" in html
    assert "{{ 1234*1000 }}" in html and "1234000" not in html
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    assert doc["organization"]["name"] == HOSTILE


def test_html_sections_and_numbers_match_results(assessed):
    html = (assessed / "report.html").read_text(encoding="utf-8")
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    for heading in (
        "Executive summary",
        "Scores",
        "Where the center sits among its peers",
        "Facets against target",
        "How each role sees it",
        "Operational KPIs",
        "What goes with better results among peers",
        "Roadmap",
        "Where the plan leads",
        "How these numbers were computed",
    ):
        assert heading in html, heading
    assert f"<b>{doc['overall']['score']:,.0f}</b> out of 100" in html
    for d, block in doc["dimensions"].items():
        assert f"{block['score']:,.1f}" in html, d
    assert f"<b>{doc['benchmark']['peer_n']} centers</b>" in html
    assert doc["roadmap"][0]["title"].replace("'", "&#39;") in html
    # the bundled panel is simulated, and the executed report says so
    assert doc["benchmark"]["panel"]["synthetic"] and "simulated" in html and "Illustration only" in html


#: An internal source file name (``003_3ba3fadf96f6335a.txt``): never where a person reads.
SOURCE_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def test_sources_are_references_not_file_names(assessed):
    import openpyxl

    html = (assessed / "report.html").read_text(encoding="utf-8")
    assert not SOURCE_FILE.search(html)
    assert "ICMI (2012), “Why Customer Service Reps Don’t Sell… and What You Can Do About It”" in html
    assert not SOURCE_FILE.search((assessed / "roadmap.csv").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(assessed / "roadmap.xlsx")
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if SOURCE_FILE.search(c)]
    assert "Source" in cells and any(
        c.startswith(("ICMI (", "CustomerThink (", "Contact Center Pipeline (")) for c in cells
    )
    # The data keeps the file names, beside the references.
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    action = doc["roadmap"][0]
    assert (
        SOURCE_FILE.fullmatch(action["source"]) and action["reference"] and not SOURCE_FILE.search(action["reference"])
    )


def test_dont_know_and_unwilling_sentences_state_the_results(assessed):
    html = (assessed / "report.html").read_text(encoding="utf-8")
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    # The example center's agents cannot see the collaboration with marketing (data/examples/README.md).
    assert doc["dont_know_facets"] == ["process.collaboration"]
    share = doc["facets"]["process.collaboration"]["dont_know"]
    assert share > 1 / 3
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    assert f"Many people cannot see Collaboration with marketing and sales: {share * 100:.0f}% of the answers" in text
    u = doc["unwilling_or_unable"]
    assert u["published"]["share"] == 0.4 and u["published"]["source"].startswith("003_")
    assert (
        f"{u['count']} of the {u['classified']} agents who answered ({u['share'] * 100:.0f}%) say they are "
        "unwilling or unable to make offers"
    ) in text
    assert "A published figure puts this at about 40% of reps (ICMI (2012)," in text
    assert f"{doc['respondents']['answers']['dont_know']} “don’t know”" in text


def test_executed_notebook_is_the_audit_trail(assessed):
    nb = nbformat.read(str(assessed / "report.ipynb"), as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert any("injected-parameters" in t for t in tags)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"]


def test_pdf_first_page_is_not_blank(assessed, tmp_path):
    if not find_chromium() or not shutil.which("pdftoppm"):
        pytest.skip("needs the Debian packages chromium and poppler-utils (make test installs them)")
    pdf = assessed / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    from matplotlib.image import imread

    pixels = imread(str(page))
    grey = pixels[..., :3].mean(axis=2)
    dark = (grey < 0.5).mean()
    assert 0.005 < dark < 0.6 and grey.std() > 0.05  # text on a page, neither blank nor solid


def test_papermill_command_line_runs_the_report(tmp_path):
    """The documented papermill call, straight from the command line, with the kernel in notebooks/.

    ``--cwd notebooks`` is where JupyterLab starts a kernel for a notebook opened from the
    repository: the defaults (the bundled example and panel) must not depend on it.
    """
    out = tmp_path / "run.ipynb"
    res = subprocess.run(
        [
            str(BIN / "papermill"),
            "notebooks/readiness_report.ipynb",
            str(out),
            "--cwd",
            "notebooks",
            "-p",
            "org_id",
            "NORTHBANK",
            "-p",
            "n_boot",
            "100",
            "-p",
            "output_dir",
            str(tmp_path / "files"),
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    nb = nbformat.read(str(out), as_version=4)
    html = to_html(nb, title="t")
    doc = json.loads((tmp_path / "files" / "results.json").read_text(encoding="utf-8"))
    assert doc["organization"]["id"] == "NORTHBANK"
    assert f"<b>{doc['overall']['score']:,.0f}</b> out of 100" in html


def test_help_notebook_documents_every_parameter():
    res = subprocess.run(
        [str(BIN / "papermill"), "--help-notebook", str(REPORT_NOTEBOOK)], capture_output=True, text=True, timeout=120
    )
    for name in (
        "responses",
        "profiles",
        "org_id",
        "peers",
        "instrument",
        "playbook",
        "target",
        "seed",
        "n_boot",
        "k",
        "role_min",
        "output_dir",
        "results_json",
    ):
        assert re.search(rf"^\s+{name}: \w+ \(default", res.stdout, re.MULTILINE), name


@pytest.mark.parametrize(
    "params, message",
    [
        ({"__import__('os')": 1}, "not an identifier"),
        ({"not_declared": 1}, "unknown parameter"),
        ({"org_id": "x\nimport os"}, "control characters"),
        ({"org_id": object()}, "must be text"),
        ({"seed": float("nan")}, "finite"),
        ({"org_id": "x" * 5000}, "too long"),
    ],
)
def test_parameters_are_validated(params, message):
    with pytest.raises(InputError) as info:
        validate_parameters(params)
    assert message in str(info.value)


def test_valid_parameters_pass_through():
    params = {"org_id": "A'; import os; #", "seed": 3, "k": 5, "target": "", "n_boot": 10}
    assert validate_parameters(params) == params  # text stays text: papermill writes it as a literal


def test_sections_render_without_peers_and_withheld():
    doc = json.loads((ROOT / "tests" / "data" / "results_minimal.json").read_text(encoding="utf-8"))
    for name in ("summary", "scores", "peers", "heatmap", "roles", "kpis", "drivers", "roadmap", "method"):
        html = render_section(name, doc)
        assert "<script" not in html
    withheld = dict(
        doc,
        benchmark={
            "peer_group": None,
            "peer_n": None,
            "fallback": "no benchmark",
            "k": 5,
            "reason": "fewer than 5 peers",
        },
    )
    assert "fewer than 5 peer centers" in render_section("peers", withheld)


def test_progress_sections_speak_in_names_and_escape_user_text():
    from readiness.io.comparison import load_comparison
    from readiness.report.sections import render_progress

    doc = load_comparison(n_boot=100)
    doc["organization"]["name"] = HOSTILE
    for action, status in zip(doc["actions"], ["Done", "Done", "In progress"]):
        action["status"] = status
    for action in doc["actions"][3:]:
        action["status"] = "Not started"
    parts = {name: render_progress(name, doc) for name in ("summary", "changes", "actions", "next", "method")}
    html = "".join(parts.values())
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html and "1234000" not in html
    # names, not ids, where a person reads (the next roadmap's "why" sentences come from the planner)
    text = re.sub(r"<[^>]+>", " ", "".join(v for k, v in parts.items() if k != "next"))
    ids = [c["id"] for c in doc["changes"] if c["level"] == "facet"] + [a["action"] for a in doc["actions"]]
    ids = [i for i in ids if "." in i or "-" in i]  # code-like (an id such as "recognition" is also a word)
    assert not [i for i in ids if re.search(rf"(?<![\w.-]){re.escape(i)}(?![\w.-])", text)]
    for c in doc["changes"]:  # every change shown with how sure it is
        assert doc["titles"]["scores"][c["id"]] in html
    assert html.count("95% interval") >= 3 and "14 May 2024" in html and "19 November 2024" in html
    done = [a["title"] for a in doc["actions"][:2]]
    assert all(t in parts["actions"] for t in done)


# ---------------------------------------------------------------------- honest words, read by a client
#: Words that tell a reader the peers are simulated; they must appear with a synthetic panel
#: and never with a user's own.
SYNTHETIC_WORDS = re.compile(r"\b(synthetic|simulated|illustration)\b", re.IGNORECASE)
PEER_SECTIONS = ("summary", "scores", "peers", "kpis", "drivers", "method")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def panel_docs(tmp_path_factory):
    """The example center against the bundled (synthetic) panel and against the same peers
    imported as a user's own database."""
    from readiness.io.loaders import load_instrument, load_profiles, load_responses
    from readiness.io.peer_store import PeerStore
    from readiness.io.pipeline import load_results

    db = tmp_path_factory.mktemp("peers") / "regional.duckdb"
    instrument = load_instrument()
    PeerStore(db).import_responses(
        load_responses(PANEL, instrument), load_profiles(PANEL.with_name("panel.profiles.csv")), name="Regional peers"
    )
    common = dict(responses=str(EXAMPLES / "responses.csv"), profiles=str(EXAMPLES / "profiles.csv"), n_boot=100)
    return load_results(peers=str(PANEL), **common), load_results(peers=str(db), **common)


def test_synthetic_panel_is_called_so_in_every_section_that_compares(panel_docs):
    synthetic, _ = panel_docs
    assert synthetic["benchmark"]["panel"]["synthetic"] is True
    for name in PEER_SECTIONS:
        assert SYNTHETIC_WORDS.search(_text(render_section(name, synthetic))), name
    assert "Illustration only" in _text(render_section("drivers", synthetic))
    assert "Cronbach" not in render_section("method", synthetic)  # no reliability fitted on simulated answers
    assert "playbook's documented priors" in _text(render_section("roadmap", synthetic))


def test_own_panel_is_never_called_synthetic(panel_docs):
    _, real = panel_docs
    assert real["benchmark"]["panel"] == {"synthetic": False, "name": "Regional peers", "n": 400, "description": ""}
    for name in ("summary", "scores", "peers", "heatmap", "roles", "kpis", "drivers", "roadmap", "method"):
        found = SYNTHETIC_WORDS.search(_text(render_section(name, real)))
        assert found is None, (name, found and found.group(0))
    assert "Cronbach" in render_section("method", real)


def test_report_says_which_target_and_why_the_barrier(panel_docs):
    synthetic, real = panel_docs
    for doc in (synthetic, real):
        summary = _text(render_section("summary", doc))
        block = doc["barrier"]
        assert f"Fix first: {block['title']}" in summary
        assert f"scores {block['score']:.0f} (95% interval {block['ci'][0]:.0f}–{block['ci'][1]:.0f})" in summary
        first = block["first_action"]
        assert first["title"] in summary
        roadmap = _text(render_section("roadmap", doc))
        group = doc["plan"]["target_group"]
        assert f"Targets: the upper quartile of {group['n']} " in roadmap
        assert "one stage ahead of this center" in roadmap  # the example center is only considering selling


def test_summary_states_split_opinions_and_the_level():
    from readiness.core.assessment import Options, assess
    from readiness.io.loaders import load_instrument

    from .test_scoring import designed_center

    instrument = load_instrument()
    weak = instrument.layout.facet_ids[-1]
    for split, expected in ((weak, True), (None, False)):
        center = designed_center(instrument, None if split else weak, split=split)
        doc = assess(center, options=Options(n_boot=50))["D"]
        text = _text(render_section("summary", doc))
        assert ("opinions are split, so discuss it before acting" in text) is expected
        level = next(lv for lv in doc["method"]["levels"] if lv["name"] == doc["overall"]["level"])
        assert level["description"][:60] in text
        scale = _text(render_section("scores", doc))
        assert all(lv["description"][:60] in scale for lv in doc["method"]["levels"])


def test_without_peers_the_report_names_the_level_it_aims_at():
    from readiness.io.pipeline import load_results

    doc = load_results(
        responses=str(EXAMPLES / "responses.csv"), profiles=str(EXAMPLES / "profiles.csv"), peers="none", n_boot=50
    )
    assert doc["roadmap"] and doc["plan"]["target_kind"] == "level"
    text = _text(render_section("roadmap", doc))
    assert f"the next readiness level, {doc['plan']['target_level']['name']}" in text
    assert "no peer data was given" in text
    assert not SYNTHETIC_WORDS.search(" ".join(_text(render_section(n, doc)) for n in PEER_SECTIONS))


# ---------------------------------------------------------------------- a document a client can read
def _visible_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "head"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def test_quiet_success(assessed):
    """No kernel or server log line on a run that succeeded (e.g. 'KeyboardInterrupt caught in kernel')."""
    assert (assessed.parent / "stderr.txt").read_text(encoding="utf-8") == ""


def test_report_prose_has_no_ids_or_code_words(assessed):
    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    text = _visible_text((assessed / "report.html").read_text(encoding="utf-8"))
    text = text.replace(" ".join(HOSTILE.split()), " ")  # the organization's own name is the client's text
    for facet in doc["facets"]:
        assert facet not in text, facet  # facet ids: people.hiring
    snake = sorted(set(re.findall(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b", text)))
    assert snake == [], snake  # sales_conversion_rate, center_manager, file names
    for action in doc["roadmap"]:
        if "-" in action["action"]:  # a one-word id ("recognition") is also a word
            assert not re.search(rf"\b{re.escape(action['action'])}\b", text), action["action"]  # action ids
    for item in ("PEO_HIR_1", "PRO_OFF_1"):
        assert item not in text


def test_cover_has_the_date_and_who_prepared_it(assessed):
    html = (assessed / "report.html").read_text(encoding="utf-8")
    text = _visible_text(html)
    assert "Assessment date 14 March 2025" in text
    assert f"Prepared by {PREPARED_BY}" in text
    first = text.index("Executive summary")
    assert text.index("14 March 2025") < first and text.index(PREPARED_BY) < first  # on the cover


def test_every_figure_has_a_real_alt_text(assessed):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((assessed / "report.html").read_text(encoding="utf-8"), "html.parser")
    images = soup.find_all("img")
    assert len(images) >= 7  # every report figure
    for img in images:
        alt = img.get("alt") or ""
        assert len(alt) > 40 and "No description has been provided" not in alt, alt


def test_kpi_values_carry_units_and_the_level_scale_is_explained(assessed):
    from bs4 import BeautifulSoup

    doc = json.loads((assessed / "results.json").read_text(encoding="utf-8"))
    soup = BeautifulSoup((assessed / "report.html").read_text(encoding="utf-8"), "html.parser")
    table = next(t for t in soup.find_all("table", class_="kpi"))
    for row in table.find_all("tr")[1:]:
        cells = [c.get_text(" ", strip=True) for c in row.find_all("td")]
        for value in cells[2:5]:
            if value and not value.startswith("withheld") and value != "–":
                assert re.search(r"(%|\bs\b|per call)", value), (cells[0], value)
    text = _visible_text(str(soup))
    for level in doc["method"]["levels"]:
        assert f"{level['name'].capitalize()} {level['lower']:.0f}–{level['upper']:.0f}" in text


# ---------------------------------------------------------------------- the PDF, page by page
def _pdf_pages(pdf: Path, folder: Path) -> list:
    from matplotlib.image import imread

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True)
    return [imread(str(p))[..., :3].mean(axis=2) for p in sorted(folder.glob("page*.png"))]


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (pdftotext -bbox), and the page size."""
    from bs4 import BeautifulSoup

    res = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    soup = BeautifulSoup(res.stdout, "html.parser")
    pages = []
    for page in soup.find_all("page"):
        words = [
            (float(w["xmin"]), float(w["ymin"]), float(w["xmax"]), float(w["ymax"]), w.get_text())
            for w in page.find_all("word")
        ]
        pages.append((float(page["width"]), float(page["height"]), words))
    return pages


def _needs_pdf_tools():
    if not find_chromium() or not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.skip("needs the Debian packages chromium and poppler-utils (make test installs them)")


def test_pdf_has_no_blank_page_and_no_half_page_left_empty(assessed, tmp_path):
    _needs_pdf_tools()
    pages = _pdf_pages(assessed / "report.pdf", tmp_path)
    assert len(pages) >= 6
    for n, grey in enumerate(pages, start=1):
        ink = (grey < 0.9).mean()
        assert ink > 0.01, f"page {n} is blank"
        if n < len(pages):  # the last page may end where the report ends
            blank = (grey > 0.97).all(axis=1)
            run = longest = 0
            for empty in blank:
                run = run + 1 if empty else 0
                longest = max(longest, run)
            assert longest / len(blank) < 0.5, f"page {n}: {longest / len(blank):.0%} of the page left empty"


def test_pdf_text_stays_in_its_cell_and_on_the_page(assessed):
    """At A4 width no word runs over another (a cell overflowing into the next) or off the page.

    The figures' words are text in the PDF too. A word's box is its font's full height
    (ascent to descent), taller than its ink: the row labels of a tight chart may touch by
    a point or two; words running into each other share most of their height.
    """
    _needs_pdf_tools()
    for number, (width, _height, words) in enumerate(_words(assessed / "report.pdf"), start=1):
        for x0, _, x1, _, word in words:
            assert x0 >= 0 and x1 <= width - 10, f"page {number}: {word!r} runs off the page"
        boxes = sorted(words)
        for i, (x0, y0, x1, y1, word) in enumerate(boxes):
            for a0, b0, a1, b1, other in boxes[i + 1 :]:
                if a0 >= x1:
                    break  # sorted by left edge: nothing further right can overlap
                dx, dy = min(x1, a1) - max(x0, a0), min(y1, b1) - max(y0, b0)
                touch = max(1.0, 0.2 * min(y1 - y0, b1 - b0))
                assert not (dx > 1.0 and dy > touch), f"page {number}: {word!r} overlaps {other!r}"


def test_report_kernels_stop_without_an_interrupt_and_keep_their_log_to_themselves():
    """The cause of "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." on a run that
    succeeded: jupyter_client interrupts a kernel (SIGINT) before asking it to stop, and a
    kernel still busy with a message logs the interrupt on the terminal it inherited."""
    import os
    import signal

    from jupyter_client.utils import run_sync

    from readiness.report.execute import kernel_manager_class

    km = kernel_manager_class()(kernel_name="python3")
    sent: list[int] = []
    original = km._async_signal_kernel

    async def record(signum: int) -> None:
        sent.append(signum)
        await original(signum)

    km._async_signal_kernel = record
    run_sync(km.start_kernel)()
    folder = os.path.dirname(km.ip)
    try:
        assert os.path.isfile(os.path.join(folder, "kernel.log"))  # its output is its own, not the terminal's
        run_sync(km.interrupt_kernel)()  # a running kernel can still be interrupted (a cell's timeout)
        assert sent == [signal.SIGINT]
    finally:
        run_sync(km.shutdown_kernel)()
    assert sent == [signal.SIGINT]  # stopping it sent none
    assert not os.path.exists(folder)
