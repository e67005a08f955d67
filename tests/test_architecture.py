"""The package's layers, read from its own source: imports point down, files found without paths.

core < io < report < apps (docs/architecture.md). These tests read the code as text, so a
module that imports upward, climbs out of the package for its files, or lacks its
one-line purpose fails here before it confuses a reader.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import readiness
from readiness.core import defaults

PACKAGE = Path(readiness.__file__).resolve().parent
LAYERS = ("core", "io", "report", "apps")
MODULES = sorted(p for layer in LAYERS for p in (PACKAGE / layer).glob("*.py"))
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: What the core may not touch: files, plots, printing, servers.
NOT_IN_CORE = {
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbformat",
    "duckdb",
    "openpyxl",
    "pyarrow",
    "click",
    "rich",
    "ipywidgets",
    "IPython",
    "jinja2",
    "yaml",
    "subprocess",
    "shutil",
    "tempfile",
}


def _imports(path: Path, package: str | None = None) -> list[tuple[str, int]]:
    """Absolute names of everything ``path`` imports (relative imports resolved), with line numbers.

    ``package`` is the dotted package ``path`` belongs to (default: read from where it lies).
    """
    parts = (package or ".".join(["readiness", *path.relative_to(PACKAGE).parent.parts])).split(".")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((module, node.lineno))
            if node.module is None:  # from . import x: each x is a module
                found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _upward(path: Path, layer: str, package: str | None = None) -> list[str]:
    """The imports of ``path`` (a module of ``layer``) that reach a layer above it."""
    own = LAYERS.index(layer)
    return [
        f"line {line}: {module}"
        for module, line in _imports(path, package)
        if _layer(module) is not None and LAYERS.index(_layer(module)) > own
    ]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "readiness" and parts[1] in LAYERS else None


def test_every_layer_is_a_package_with_modules():
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").exists()
        assert len(list((PACKAGE / layer).glob("*.py"))) > 1
    assert not [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_point_down_only(path):
    upward = _upward(path, path.parent.name)
    assert not upward, f"{path.parent.name}/{path.name} imports from a layer above its own: {upward}"


def test_the_upward_import_check_can_fail(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text(
        "from ..report.figures import dimension_scores\nfrom .scoring import score\n"
        "def f():\n    from readiness.apps import cli\n"
    )
    assert _upward(module, "core", "readiness.core") == ["line 1: readiness.report.figures", "line 4: readiness.apps"]
    assert _upward(module, "apps", "readiness.apps") == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_does_no_io_plotting_or_printing(path):
    text = path.read_text(encoding="utf-8")
    touched = {module.split(".")[0] for module, _ in _imports(path)} & NOT_IN_CORE
    assert not touched, f"core/{path.name} imports {sorted(touched)}"
    assert not re.search(r"(?<![\w.])(print|open)\(", text), f"core/{path.name} prints or opens a file"


def test_no_path_arithmetic_out_of_the_package():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"parent\.parent|parents\[[1-9]\]", text), path
        assert "__file__" not in text or path.name == "__init__.py", f"{path} locates files from __file__"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_opens_with_one_line_saying_what_it_is_for(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.relative_to(PACKAGE)} has no docstring"
    first = doc.splitlines()[0]
    assert first.strip() and len(first) <= 120 and first.rstrip().endswith((".", ":")), first


def _code_cells(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])
    ]


@pytest.mark.parametrize("name", ["readiness_report.ipynb", "portfolio.ipynb", "progress.ipynb", "intake.ipynb"])
def test_notebooks_call_only_the_public_api_and_the_report_package(name):
    allowed = {"readiness", "readiness.report", "readiness.report.figures", "matplotlib.pyplot"}
    for code in _code_cells(name):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported = {f"{node.module}.{alias.name}" for alias in node.names}
            else:
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "readiness"
                ):
                    assert node.attr in readiness.__all__, f"readiness.{node.attr} is not in the public API"
                continue
            assert imported <= allowed, f"{name}: {ast.unparse(node)}"


def _parameters(name: str) -> dict[str, str]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    return dict(re.match(r"^(\w+): \w+ = (.*?)  #", line).groups() for line in "".join(cell["source"]).splitlines())


@pytest.mark.parametrize(
    "name, n_boot", [("readiness_report.ipynb", defaults.N_BOOT), ("portfolio.ipynb", defaults.PORTFOLIO_N_BOOT)]
)
def test_notebook_parameter_defaults_are_the_library_defaults(name, n_boot):
    # papermill needs literal defaults in the parameters cell; they must be the library's
    params = _parameters(name)
    assert int(params["k"]) == defaults.K and int(params["role_min"]) == defaults.ROLE_MIN
    assert int(params["seed"]) == defaults.SEED and int(params["n_boot"]) == n_boot
    # and none of them is a path that depends on the folder the notebook runs in
    assert all(value == '""' for key, value in params.items() if key in ("responses", "profiles", "peers"))


def test_progress_notebook_defaults_are_the_library_defaults():
    params = _parameters("progress.ipynb")
    assert int(params["seed"]) == defaults.SEED and int(params["n_boot"]) == defaults.N_BOOT
    assert all(value == '""' for key, value in params.items() if key in ("compare_json", "history", "roadmap"))


def test_public_api_names_resolve():
    for name in readiness.__all__:
        assert getattr(readiness, name) is not None
    with pytest.raises(AttributeError):
        readiness.no_such_name  # noqa: B018
