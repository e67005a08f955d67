"""An organization's report folder, and a portfolio's: results, notebook, HTML, PDF."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io.exporters import PROGRESS_FILES, staged_folder, write_text
from ..io.pipeline import load_portfolio, write_outputs
from .execute import execute, portfolio_notebook, progress_notebook
from .html import to_html
from .pdf import to_pdf

__all__ = ["build", "build_portfolio", "build_progress"]


def build(
    results: Mapping[str, Any], folder: str | Path, *, pdf: bool = False, kernel_name: str | None = None
) -> list[Path]:
    """Write an organization's report folder from its results document, all or nothing.

    The whole set (``results.json``, the roadmap exports, ``report.ipynb``,
    ``report.html`` and, with ``pdf``, ``report.pdf``) is prepared in a hidden folder
    beside ``folder`` and swapped in when complete
    (:func:`readiness.io.exporters.staged_folder`): a failure or a kill at any moment
    leaves ``folder`` with the earlier complete set or the new one, never a mix.
    ``results.json`` is written first; the notebook then reads it (by a path relative to
    the folder, which stays right after the swap), so the report shows exactly its numbers.
    """
    folder = Path(folder)
    with staged_folder(folder) as stage:
        written = write_outputs(stage, results)
        written += _render(
            stage,
            folder,
            "report",
            {"results_json": "results.json"},
            results,
            "Readiness report",
            pdf=pdf,
            kernel_name=kernel_name,
        )
    return [folder / path.name for path in written]


def _render(
    stage: Path,
    folder: Path,
    stem: str,
    parameters: Mapping[str, Any],
    doc: Mapping[str, Any],
    title: str,
    *,
    pdf: bool,
    kernel_name: str | None,
    notebook: Path | None = None,
) -> list[Path]:
    """``<stem>.ipynb`` executed in the staged folder, its HTML page and, with ``pdf``, its PDF."""
    executed = execute(
        stage / f"{stem}.ipynb",
        parameters,
        cwd=stage,
        notebook=notebook,
        kernel_name=kernel_name,
        final_path=folder / f"{stem}.ipynb",  # the path the notebook records: where it will be
    )
    name = str(doc["organization"].get("name") or doc["organization"]["id"])
    html = write_text(stage / f"{stem}.html", to_html(executed, title=f"{title}: {name}"))
    written = [stage / f"{stem}.ipynb", html]
    if pdf:
        written.append(to_pdf(html, stage / f"{stem}.pdf"))
    return written


def build_portfolio(
    results_dir: str | Path | None,
    folder: str | Path | None = None,
    *,
    top: int = 15,
    kernel_name: str | None = None,
    history: str | Path | None = None,
) -> list[Path]:
    """``portfolio.ipynb`` (executed) and ``portfolio.html`` for the results under ``results_dir``.

    ``results_dir`` holds one folder per organization with its ``results.json``, as
    ``batch`` writes them; the files go to ``folder`` (default: ``results_dir``, or the
    history file's folder). With ``history`` the report adds each center's overall
    score over its waves; without ``results_dir`` it shows each center's latest wave.
    """
    from ..core.errors import InputError
    from ..io.history_store import HistoryStore

    if results_dir is None and history is None:
        raise InputError("give a results folder or an assessment history", source="portfolio")
    resolved = Path(results_dir).resolve() if results_dir is not None else None
    if resolved is not None:
        load_portfolio(results_dir=str(resolved), limit=1)  # a clear InputError before a kernel starts
    history_path = Path(history).resolve() if history is not None else None
    if history_path is not None and HistoryStore(history_path).waves().empty:
        raise InputError("holds no recorded wave", source=history_path.name)
    target = Path(folder) if folder is not None else (resolved or history_path.parent)  # type: ignore[union-attr]
    executed = execute(
        target / "portfolio.ipynb",
        {
            "results_dir": str(resolved or ""),
            "history": str(history_path or ""),
            "limit": 0,
            "top": top,
        },
        notebook=portfolio_notebook(),
        kernel_name=kernel_name,
    )
    html = write_text(target / "portfolio.html", to_html(executed, title="Portfolio readiness"))
    return [target / "portfolio.ipynb", html]


def build_progress(
    doc: Mapping[str, Any], folder: str | Path, *, pdf: bool = False, kernel_name: str | None = None
) -> list[Path]:
    """Write a progress report folder from a ``compare`` document.

    ``compare.json`` (and the next roadmap's ``roadmap-next.xlsx`` / ``.csv``) are
    written first; the notebook then reads that file, so the report shows exactly the
    numbers in it. Then ``progress.ipynb``, ``progress.html`` and, with ``pdf``,
    ``progress.pdf``.
    """
    from ..io.comparison import write_progress_outputs

    folder = Path(folder)
    # all or nothing, as build() writes a report folder; a results report beside it stays
    with staged_folder(folder, replaces=PROGRESS_FILES) as stage:
        written = write_progress_outputs(stage, doc)
        written += _render(
            stage,
            folder,
            "progress",
            {"compare_json": "compare.json"},
            doc,
            "Progress report",
            pdf=pdf,
            kernel_name=kernel_name,
            notebook=progress_notebook(),
        )
    return [folder / path.name for path in written]
