"""An organization's report folder, and a portfolio's: results, notebook, HTML, PDF."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io.exporters import write_text
from ..io.pipeline import load_portfolio, write_outputs
from .execute import execute, portfolio_notebook
from .html import to_html
from .pdf import to_pdf

__all__ = ["build", "build_portfolio"]


def build(
    results: Mapping[str, Any], folder: str | Path, *, pdf: bool = False, kernel_name: str | None = None
) -> list[Path]:
    """Write an organization's report folder from its results document.

    ``results.json`` (and the roadmap exports) are written first; the notebook then reads
    that file, so the report shows exactly the numbers in it.
    """
    folder = Path(folder)
    written = write_outputs(folder, results)
    executed = execute(
        folder / "report.ipynb", {"results_json": str((folder / "results.json").resolve())}, kernel_name=kernel_name
    )
    written.append(folder / "report.ipynb")
    name = str(results["organization"].get("name") or results["organization"]["id"])
    html = write_text(folder / "report.html", to_html(executed, title=f"Readiness report: {name}"))
    written.append(html)
    if pdf:
        written.append(to_pdf(html, folder / "report.pdf"))
    return written


def build_portfolio(
    results_dir: str | Path, folder: str | Path | None = None, *, top: int = 15, kernel_name: str | None = None
) -> list[Path]:
    """``portfolio.ipynb`` (executed) and ``portfolio.html`` for the results under ``results_dir``.

    ``results_dir`` holds one folder per organization with its ``results.json``, as
    ``batch`` writes them; the files go to ``folder`` (default: ``results_dir``).
    """
    results_dir = Path(results_dir).resolve()
    load_portfolio(results_dir=str(results_dir), limit=1)  # a clear InputError before a kernel starts
    folder = Path(folder) if folder is not None else results_dir
    executed = execute(
        folder / "portfolio.ipynb",
        {"results_dir": str(results_dir), "limit": 0, "top": top},
        notebook=portfolio_notebook(),
        kernel_name=kernel_name,
    )
    html = write_text(folder / "portfolio.html", to_html(executed, title="Portfolio readiness"))
    return [folder / "portfolio.ipynb", html]
