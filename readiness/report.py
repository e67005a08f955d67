"""Client reports: the report notebook executed with papermill, converted with nbconvert.

Views/drivers layer. Two halves:

- **In the notebook**: :func:`setup`, :func:`load` and :func:`section` give the thin
  report notebook everything it shows. Sections are Jinja templates under
  ``templates/report/sections/`` rendered with autoescaping, so organization names and
  any other user text are always text, never markup.
- **Around the notebook**: :func:`validate_parameters`, :func:`execute`,
  :func:`to_html`, :func:`to_pdf` and :func:`build` run it and produce the files of an
  organization's folder (``report.ipynb``, ``report.html``, ``report.pdf``), each written
  atomically.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

from .errors import InputError, ReadinessError
from .exporters import atomic_path, write_text

__all__ = [
    "REPORT_NOTEBOOK",
    "PORTFOLIO_NOTEBOOK",
    "ReportError",
    "setup",
    "load",
    "section",
    "load_many",
    "portfolio_section",
    "validate_parameters",
    "execute",
    "to_html",
    "active_content",
    "to_pdf",
    "find_chromium",
    "build",
    "build_portfolio",
]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REPORT_NOTEBOOK = NOTEBOOKS / "readiness_report.ipynb"
PORTFOLIO_NOTEBOOK = NOTEBOOKS / "portfolio.ipynb"
TEMPLATES = ROOT / "templates" / "report"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_TEXT = 4096


class ReportError(ReadinessError):
    """The report could not be produced (the notebook failed, or a renderer is missing)."""

    exit_code = 1


# ---------------------------------------------------------------------- in the notebook
def setup() -> None:
    """Figure settings for reports: PNG at print-friendly resolution, readable fonts."""
    import matplotlib

    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "font.size": 10,
                                "axes.titlesize": 11, "figure.max_open_warning": 0})
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # the figures lay themselves out; a "tight" bounding box would draw each one twice
        set_matplotlib_formats("png", bbox_inches=None)
    except ImportError:  # pragma: no cover - outside IPython
        pass


def load(
    *,
    results_json: str = "",
    responses: str = "",
    profiles: str = "",
    org_id: str = "",
    peers: str = "",
    instrument: str = "",
    playbook: str = "",
    target: str = "",
    seed: int = 0,
    n_boot: int = 1000,
    k: int = 5,
    role_min: int = 3,
    output_dir: str = "",
) -> dict[str, Any]:
    """The results document the report shows.

    With ``results_json`` (what ``assess`` and ``batch`` pass) the document is read as it
    was computed; otherwise the inputs are read and assessed here, through the same
    pipeline as the CLI, and written to ``output_dir`` when one is given.
    """
    if results_json:
        path = Path(results_json)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("results file not found", source=str(path)) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"is not valid JSON ({exc.msg})", source=path.name, row=exc.lineno) from None
    from .pipeline import load_inputs, make_options, parse_target, run, write_outputs

    if not responses:
        raise InputError("give responses (or results_json)", source="parameters")
    inputs = load_inputs(responses, instrument=instrument, profiles=profiles, peers=peers, playbook=playbook)
    options = make_options(seed=seed, n_boot=n_boot, k=k, role_min=role_min,
                           target=parse_target(target, inputs.instrument))
    orgs = [org_id] if org_id else list(inputs.responses.org_ids)[:1]
    doc = run(inputs, orgs=orgs, options=options)[orgs[0]]
    if output_dir:
        write_outputs(output_dir, doc)
    return doc


def load_many(
    *,
    results_dir: str = "",
    responses: str = "",
    profiles: str = "",
    peers: str = "",
    instrument: str = "",
    playbook: str = "",
    target: str = "",
    limit: int = 0,
    seed: int = 0,
    n_boot: int = 200,
    k: int = 5,
    role_min: int = 3,
) -> list[dict[str, Any]]:
    """Results documents of many organizations, for the portfolio notebook.

    From ``results_dir`` (every ``*/results.json`` below it, as ``batch`` writes them, in
    folder order), or by assessing every organization in ``responses`` (the first
    ``limit`` when ``limit`` > 0) through the same pipeline as the CLI.
    """
    if results_dir:
        folder = Path(results_dir)
        if not folder.is_dir():
            raise InputError("results folder not found", source=str(folder))
        docs = []
        for path in sorted(folder.glob("*/results.json")):
            try:
                docs.append(json.loads(path.read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                raise InputError(f"is not valid JSON ({exc.msg})", source=str(path), row=exc.lineno) from None
        if not docs:
            raise InputError("holds no */results.json", source=str(folder))
        return docs[:limit] if limit > 0 else docs
    from .pipeline import load_inputs, make_options, parse_target, run

    if not responses:
        raise InputError("give results_dir or responses", source="parameters")
    inputs = load_inputs(responses, instrument=instrument, profiles=profiles, peers=peers, playbook=playbook)
    options = make_options(seed=seed, n_boot=n_boot, k=k, role_min=role_min,
                           target=parse_target(target, inputs.instrument))
    orgs = list(inputs.responses.org_ids)
    if limit > 0:
        orgs = orgs[:limit]
    return list(run(inputs, orgs=orgs, options=options).values())


def portfolio_section(docs: list[Mapping[str, Any]], *, top: int = 15):
    """The portfolio tables as one HTML display object."""
    from IPython.display import HTML

    return HTML(render_portfolio(docs, top=top))


def render_portfolio(docs: list[Mapping[str, Any]], *, top: int = 15) -> str:
    from . import portfolio

    context = {
        "summary": portfolio.summary(docs),
        "ranking": portfolio.ranking(docs).to_dict("records"),
        "gaps": portfolio.common_gaps(docs).head(top).to_dict("records"),
        "actions": portfolio.frequent_actions(docs, phase=1).head(top).to_dict("records"),
    }
    return _environment().get_template("portfolio.html.j2").render(p=context)


@functools.lru_cache(maxsize=1)
def _environment():
    """The Jinja environment of the report sections, built once per process (templates compile once)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES / "sections")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["ci"] = _ci
    env.filters["label"] = lambda s: str(s).replace("_", " ")
    env.filters["pct"] = lambda x: "–" if x is None else f"{_ordinal(round(x))} percentile"
    return env


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _ci(ci: Any) -> str:
    return "–" if not ci else f"{ci[0]:.0f}–{ci[1]:.0f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def section(name: str, results: Mapping[str, Any], **extra: Any):
    """One report section as an HTML display object (escaped; no scripts)."""
    from IPython.display import HTML

    return HTML(render_section(name, results, **extra))


def render_section(name: str, results: Mapping[str, Any], **extra: Any) -> str:
    """The HTML text of a section (``templates/report/sections/<name>.html.j2``)."""
    if not _NAME.match(name):
        raise ValueError(f"bad section name {name!r}")
    return _environment().get_template(f"{name}.html.j2").render(r=results, **extra)


# ---------------------------------------------------------------------- around the notebook
def validate_parameters(parameters: Mapping[str, Any], notebook: Path = REPORT_NOTEBOOK) -> dict[str, Any]:
    """Parameters safe to hand to papermill: declared names, JSON-type values only.

    Papermill writes parameters into the notebook as code; this check makes sure a name
    is an identifier the notebook declares and a value is plain data (text without
    control characters, finite numbers, booleans, null, lists/dicts of those), so no
    file or organization name can become code.
    """
    import papermill

    declared = {p for p in papermill.inspect_notebook(str(notebook))}
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InputError(f"parameter name {str(name)[:40]!r} is not an identifier", source="parameters")
        if name not in declared:
            raise InputError(f"unknown parameter {name!r}; the notebook declares {', '.join(sorted(declared))}",
                             source="parameters")
        out[name] = _plain(value, name)
    return out


def _plain(value: Any, name: str, depth: int = 0) -> Any:
    if depth > 3:
        raise InputError(f"parameter {name!r} is nested too deeply", source="parameters")
    # Values come back as exact built-in types: papermill formats numbers with format(),
    # which a subclass could override to return code.
    if value is None or isinstance(value, bool):
        return None if value is None else value is True
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"parameter {name!r} is not a finite number", source="parameters")
        return float.__float__(value)
    if isinstance(value, str):
        if len(value) > _MAX_TEXT or any(ord(c) < 32 and c not in "\t" for c in value):
            raise InputError(f"parameter {name!r} is too long or holds control characters", source="parameters")
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, name, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(_plain(k, name, depth + 1)): _plain(v, name, depth + 1) for k, v in value.items()}
    raise InputError(f"parameter {name!r} must be text, a number, true/false or null", source="parameters")


def _kernel_manager_class():
    """Kernels for reports talk over local IPC sockets: no TCP ports, nothing on the network."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            # IPC socket names are numbered from this prefix; left to the default
            # ("kernel-ipc" in the working directory) two parallel kernels would collide
            folder = tempfile.mkdtemp(prefix="rk-")
            return os.path.join(folder, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)

    return IPCKernelManager


def execute(output: str | Path, parameters: Mapping[str, Any], *, notebook: Path = REPORT_NOTEBOOK,
            cwd: str | Path | None = None, kernel_name: str | None = None, timeout: int = 600,
            engine_name: str | None = None):
    """Run the notebook with papermill into ``output`` (atomically); return the executed notebook.

    ``engine_name`` picks a papermill engine from its registry (the batch runner's
    ``readiness-warm`` reuses a kernel); by default each run gets a fresh kernel.
    """
    import nbformat
    import papermill

    params = validate_parameters(parameters, notebook)
    with atomic_path(output) as tmp:
        tmp_nb = tmp.parent / (tmp.name + ".ipynb")  # papermill wants an .ipynb name
        try:
            papermill.execute_notebook(
                str(notebook), str(tmp_nb), parameters=params, cwd=str(cwd or ROOT),
                kernel_name=kernel_name, progress_bar=False, log_output=False, execution_timeout=timeout,
                engine_name=engine_name, kernel_manager_class=_kernel_manager_class(),
                request_save_on_cell_execute=False,  # write once at the end, not after every cell
            )
        except papermill.PapermillExecutionError as exc:
            raise ReportError(f"the report notebook failed in cell {exc.exec_count}: {exc.ename}: "
                              f"{' '.join(str(exc.evalue).split())[:300]}") from None
        finally:
            if tmp_nb.exists():  # into atomic_path's file: renamed on success, removed on failure
                os.replace(tmp_nb, tmp)
    return nbformat.read(str(output), as_version=4)


def build_portfolio(results_dir: str | Path, folder: str | Path | None = None, *, top: int = 15,
                    kernel_name: str | None = None) -> list[Path]:
    """``portfolio.ipynb`` (executed) and ``portfolio.html`` for the results under ``results_dir``.

    ``results_dir`` holds one folder per organization with its ``results.json``, as
    ``batch`` writes them; the files go to ``folder`` (default: ``results_dir``).
    """
    results_dir = Path(results_dir).resolve()
    load_many(results_dir=str(results_dir), limit=1)  # a clear InputError before a kernel starts
    folder = Path(folder) if folder is not None else results_dir
    executed = execute(folder / "portfolio.ipynb", {"results_dir": str(results_dir), "limit": 0, "top": top},
                       notebook=PORTFOLIO_NOTEBOOK, kernel_name=kernel_name)
    html = write_text(folder / "portfolio.html", to_html(executed, title="Portfolio readiness"))
    return [folder / "portfolio.ipynb", html]


def to_html(notebook_node, *, title: str = "Readiness report") -> str:
    """A self-contained HTML page: no code, no prompts, no scripts, images embedded."""
    nb = _strip_for_client(notebook_node)
    nb.metadata["title"] = title
    html, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    problem = "a script" if re.search(r"<script\b", html, flags=re.IGNORECASE) else active_content(html)
    if problem:
        raise ReportError(f"the report HTML would contain {problem}; refusing to write it")
    return html


@functools.lru_cache(maxsize=1)
def _exporter():
    """The nbconvert HTML exporter with the readiness template, built once per process.

    Building it compiles the template (a third of a second); a batch worker converts many
    reports with one. It keeps no state from one conversion to the next.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    return HTMLExporter(config=config, extra_template_basedirs=[str(TEMPLATES)], template_name="readiness")


#: Elements that run code, load other pages or send data; none belongs in a client report.
_ACTIVE_TAGS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
                          "link", "portal"})
#: Attributes holding a URL; only embedded images may use a ``data:`` URL.
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                             "srcset", "ping"})
#: An image in an ``<img>`` runs no script, whatever its format.
_SAFE_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,", re.IGNORECASE)
_UNSAFE_SCHEME = re.compile(r"^(javascript|vbscript|data|file):", re.IGNORECASE)


def active_content(html: str) -> str:
    """The first thing in ``html`` a browser would run or fetch, described; "" when none.

    A last check on every report page, whatever the templates do: script-like elements,
    event-handler attributes (``onerror=``, ...), ``javascript:`` and non-image ``data:``
    URLs, a ``<meta http-equiv>`` refresh. Text that merely looks like markup (escaped
    ``&lt;script&gt;``) is text, and passes.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if found:
                return
            if tag in _ACTIVE_TAGS:
                found.append(f"a <{tag}> element")
                return
            for name, value in attrs:
                # browsers ignore control characters and spaces inside a URL's scheme
                url = re.sub(r"[\x00-\x20\x7f]+", "", value or "")
                if name.startswith("on"):
                    found.append(f"an event handler ({name}= on <{tag}>)")
                elif name in _URL_ATTRIBUTES and _UNSAFE_SCHEME.match(url) and not (
                        tag == "img" and name == "src" and _SAFE_DATA_URL.match(url)):
                    found.append(f"an active URL ({name}={url[:20]!r} on <{tag}>)")
                elif name == "http-equiv":
                    found.append(f"a <{tag} http-equiv> directive")
                elif name == "style" and re.search(r"expression\(|url\(|@import", value or "", re.IGNORECASE):
                    found.append(f"a style attribute that loads or runs something (on <{tag}>)")
                if found:
                    return

        handle_startendtag = handle_starttag

    scanner = Scan(convert_charrefs=True)
    scanner.feed(html)
    scanner.close()
    return found[0] if found else ""


def _strip_for_client(nb):
    """Keep only what a client should see: rendered outputs, no parameters, no stderr."""
    import copy

    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters", "remove"}:
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                            and o.get("output_type") != "error"
                            and not (o.get("output_type") == "execute_result" and "text/html" not in o.get("data", {})
                                     and "image/png" not in o.get("data", {}))]
        cells.append(cell)
    nb.cells = cells
    return nb


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw")


def to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: int = 120) -> Path:
    """Print the HTML report to PDF with headless Chromium (Debian package ``chromium``)."""
    browser = find_chromium()
    if browser is None:
        raise ReportError("PDF export needs Chromium: install the Debian package (apt-get install chromium)")
    html_path = Path(html_path).resolve()
    with tempfile.TemporaryDirectory(prefix="readiness-chromium-") as profile, atomic_path(pdf_path) as tmp:
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
               html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish the PDF within {timeout} s") from None
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ReportError(f"Chromium could not print the PDF: {last[:200]}")
    return Path(pdf_path)


def build(results: Mapping[str, Any], folder: str | Path, *, pdf: bool = False,
          kernel_name: str | None = None) -> list[Path]:
    """Write an organization's report folder from its results document.

    ``results.json`` (and the roadmap exports) are written first; the notebook then reads
    that file, so the report shows exactly the numbers in it.
    """
    from .pipeline import write_outputs

    folder = Path(folder)
    written = write_outputs(folder, results)
    executed = execute(folder / "report.ipynb", {"results_json": str((folder / "results.json").resolve())},
                       kernel_name=kernel_name)
    written.append(folder / "report.ipynb")
    name = str(results["organization"].get("name") or results["organization"]["id"])
    html = write_text(folder / "report.html", to_html(executed, title=f"Readiness report: {name}"))
    written.append(html)
    if pdf:
        written.append(to_pdf(html, folder / "report.pdf"))
    return written
