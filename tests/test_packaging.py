"""The package as a user installs it: a wheel in a fresh environment, used from any folder.

The wheel must carry the templates, notebooks and data (found with importlib.resources),
and every command must work outside the repository. The fresh environment gets only the
wheel; the already-installed dependencies are made visible to it with a ``.pth`` file,
so the test needs no download beyond the build backend (and Jupyter's data files are
found through ``JUPYTER_PATH``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest

from .conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (found,) = out.glob("readiness-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel (not an editable install): its bin folder."""
    env = tmp_path_factory.mktemp("venv") / "v"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies of the test environment, but not its editable readiness
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    res = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return env / "bin"


def _run(bin_dir: Path, *argv: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # Jupyter's data files (nbconvert's base templates, kernel specs) live under the prefix
    # of the environment that installed the dependencies; a real install has them in its own.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env
    )


def test_wheel_carries_templates_notebooks_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "readiness/templates/instruments/service-to-sales.yaml",
        "readiness/templates/playbooks/service-to-sales.yaml",
        "readiness/templates/references/published-figures.yaml",
        "readiness/templates/report/readiness/index.html.j2",
        "readiness/templates/report/sections/summary.html.j2",
        "readiness/notebooks/readiness_report.ipynb",
        "readiness/notebooks/portfolio.ipynb",
        "readiness/notebooks/progress.ipynb",
        "readiness/notebooks/intake.ipynb",
        "readiness/templates/report/sections/progress_summary.html.j2",
        "readiness/data/examples/responses.csv",
        "readiness/data/examples/waves/northbank-2024-05.csv",
        "readiness/data/examples/waves/northbank-2024-11.csv",
        "readiness/data/peers/panel.csv",
        "readiness/data/peers/panel.profiles.csv",
        "readiness/data/peers/panel.panel.json",
        "readiness/templates/levels.yaml",
        "readiness/core/scoring.py",
        "readiness/apps/cli.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "templates/", "notebooks/", "data/"))]


def test_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    res = _run(installed, "python", "-c", "import readiness; print(readiness.__file__)", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "site-packages" in res.stdout and str(ROOT) not in res.stdout


def test_commands_work_from_an_unrelated_folder(installed, tmp_path):
    res = _run(installed, "readiness", "instrument", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["id"] == "service-to-sales"
    res = _run(installed, "readiness", "demo", "--out", "demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stderr == ""  # a run that succeeded prints no kernel or server log lines
    for name in ("report.html", "report.ipynb", "results.json", "roadmap.xlsx", "roadmap.csv"):
        assert (tmp_path / "demo" / name).stat().st_size > 0, name
    doc = json.loads((tmp_path / "demo" / "results.json").read_text(encoding="utf-8"))
    assert doc["organization"]["id"] == "NORTHBANK" and doc["benchmark"]["peer_n"] >= 5
    assert doc["benchmark"]["panel"]["synthetic"] is True  # the bundled panel is marked, in the wheel too
    assert len(doc["method"]["levels"]) >= 2 and all(lv["description"] for lv in doc["method"]["levels"])


def test_copied_notebook_suite_runs_with_its_defaults(installed, tmp_path):
    suite = tmp_path / "suite"
    res = _run(installed, "readiness", "notebooks", str(suite), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in suite.iterdir()) == [
        "intake.ipynb",
        "portfolio.ipynb",
        "progress.ipynb",
        "readiness_report.ipynb",
    ]
    # a second copy keeps what the user may have edited
    (suite / "portfolio.ipynb").write_text("{}", encoding="utf-8")
    res = _run(installed, "readiness", "notebooks", str(suite), cwd=tmp_path)
    assert res.returncode == 0 and "kept" in res.stdout
    assert (suite / "portfolio.ipynb").read_text(encoding="utf-8") == "{}"
    res = _run(
        installed,
        "python",
        "-m",
        "papermill",
        "readiness_report.ipynb",
        "out.ipynb",
        "-p",
        "n_boot",
        "50",
        "--no-progress-bar",
        cwd=suite,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    nb = nbformat.read(str(suite / "out.ipynb"), as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "NORTHBANK" in shown or "Northbank" in shown
    assert "image/svg+xml" in shown
    # the progress notebook's default: the bundled example center's two waves
    res = _run(
        installed,
        "python",
        "-m",
        "papermill",
        "progress.ipynb",
        "progress-out.ipynb",
        "-p",
        "n_boot",
        "50",
        "--no-progress-bar",
        cwd=suite,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    shown = json.dumps(
        [c.get("outputs", []) for c in nbformat.read(str(suite / "progress-out.ipynb"), as_version=4).cells]
    )
    assert "Northbank" in shown and "2024-05" in shown and "2024-11" in shown and "image/svg+xml" in shown
