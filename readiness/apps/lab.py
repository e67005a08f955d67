"""The notebook suite for a person to open and edit: copied into a folder, served by JupyterLab.

``readiness notebooks DIR`` copies the bundled notebooks (report, portfolio, workshop
intake) into DIR; ``readiness lab [DIR]`` copies them when DIR lacks them and starts
JupyterLab there, on 127.0.0.1. A copy never overwrites a notebook already in DIR unless
asked to: it may hold the user's own edits.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from ..core.errors import InputError, ReadinessError
from ..io.exporters import atomic_path
from ..io.resources import NOTEBOOKS, notebook_path

__all__ = ["DEFAULT_FOLDER", "copy_notebooks", "lab_command"]

#: Where ``readiness lab`` puts the suite when no folder is given.
DEFAULT_FOLDER = "readiness-notebooks"


def copy_notebooks(folder: str | Path, *, overwrite: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy the bundled notebook suite into ``folder`` (created if needed).

    Returns ``(copied, kept)``: the notebooks written, and those already in ``folder``
    that were left as they were (all are replaced with ``overwrite``). Each copy is
    written atomically.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise InputError("is a file, not a folder", source=str(target))
    target.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    kept: list[Path] = []
    for name in NOTEBOOKS:
        dest = target / name
        if dest.exists() and not overwrite:
            kept.append(dest)
            continue
        with atomic_path(dest) as tmp:
            shutil.copyfile(notebook_path(name), tmp)
        copied.append(dest)
    return copied, kept


def lab_command(folder: str | Path, *, port: int, open_browser: bool = True) -> list[str]:
    """The JupyterLab command line that serves ``folder`` on 127.0.0.1:``port``."""
    if importlib.util.find_spec("jupyterlab") is None:
        raise ReadinessError("readiness lab needs JupyterLab: pip install 'readiness[lab]'")
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={Path(folder).resolve()}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={int(port)}",
        "--ServerApp.port_retries=0",
    ]
    if not open_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # JupyterLab refuses root unless told; containers and CI machines often run as root
        argv.append("--ServerApp.allow_root=True")
    return argv
