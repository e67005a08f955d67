"""Batch reports: every organization of a file, in parallel, resumable, local or on Dask.

Apps layer. The expensive, shared work happens once, in the driver process: inputs
are read once, every organization is scored, benchmarked and planned in one vectorized
:func:`~readiness.core.assessment.assess` call, and each organization's ``results.json`` and
roadmap exports are written there. Workers then only render: they execute the report
notebook with ``results_json`` as its single parameter and convert it to HTML (and PDF).

Speed comes from **warm kernels**: each worker keeps one Jupyter kernel with the report's
imports already loaded, registered with papermill as the ``readiness-warm`` engine.
Before every report the kernel is reset (user namespace, matplotlib figures and
settings, execution counter), so one report cannot leak state into the next; a kernel
that dies is replaced for the next report.

Safety: each organization's folder is written all or nothing, as ``assess`` writes
its own (:func:`readiness.io.exporters.staged_folder`): the driver prepares
``results.json``, the roadmap exports and ``fingerprint.json`` in a hidden folder beside
the organization's, the worker renders the report into it and swaps the whole set in.
A kill at any moment leaves each folder with its earlier complete set or the new one.
``fingerprint.json`` says what the results were made from (the organization's answers
and profile, the instrument, playbook, peers and references, the options and the
version of readiness: :func:`readiness.io.pipeline.fingerprints`). An organization is
done when its files exist and its fingerprint is that of the current inputs;
``--resume`` skips done organizations, removes leftovers of a killed run and redoes the
rest, so an organization whose inputs changed is redone. ``manifest.csv`` (rewritten
atomically after each organization) records status, start time, seconds, files and the
error of each.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import InputError, ReadinessError
from ..io.exporters import (
    clean_leftovers,
    commit_stage,
    dumps_json,
    neutralize,
    new_stage,
    org_folder,
    write_json,
    write_text,
)

__all__ = [
    "ENGINE_NAME",
    "MANIFEST_COLUMNS",
    "BatchSummary",
    "Task",
    "WarmKernel",
    "clean_partial_files",
    "fingerprint_of",
    "is_complete",
    "render_task",
    "run_batch",
]

ENGINE_NAME = "readiness-warm"
#: What an organization's results were made from, beside them.
FINGERPRINT_FILE = "fingerprint.json"
MANIFEST_COLUMNS = ("org_id", "folder", "status", "started", "seconds", "files", "error")

#: Code run in a warm kernel once, after it starts: the report's imports, and a snapshot
#: of matplotlib's settings as a fresh kernel has them.
_WARM_UP = """
import matplotlib, matplotlib.pyplot, pandas, seaborn
import readiness.report.figures, readiness.report.notebook
readiness.report.notebook.remember_settings()
"""
#: Code run before every report: back to a fresh kernel's state (empty namespace, new
#: session so cells count from 1, no figures, fresh matplotlib settings), keeping the
#: imported modules, which is the point of a warm kernel.
_RESET = """
get_ipython().reset(new_session=True)
import readiness.report.notebook as _rn
_rn.restore_settings()
del _rn
"""


# ---------------------------------------------------------------------- warm kernels
class WarmKernel:
    """One kernel kept alive in this process and reused across reports."""

    def __init__(self, kernel_name: str = "python3", cwd: str | Path | None = None) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.km: Any = None

    def ensure(self) -> Any:
        """The kernel manager of a live, warmed-up kernel (started or restarted as needed)."""
        from jupyter_core.utils import run_sync

        from ..report.execute import kernel_manager_class

        if self.km is not None and run_sync(self.km.is_alive)():
            return self.km
        self.shutdown()
        km = kernel_manager_class()(kernel_name=self.kernel_name)
        # no history database: nothing to share between reports, nothing written to disk
        run_sync(km.start_kernel)(cwd=str(self.cwd or Path.cwd()), extra_arguments=["--HistoryManager.enabled=False"])
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=60)
            reply = run_sync(kc.execute_interactive)(_WARM_UP, silent=True, store_history=False, timeout=120)
            if reply["content"]["status"] != "ok":
                raise ReadinessError("the report kernel could not import the report libraries")
        finally:
            kc.stop_channels()
        self.km = km
        return km

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone: nothing to do
                pass
            self.km = None


_WARM: WarmKernel | None = None


def _warm_kernel() -> WarmKernel:
    global _WARM
    if _WARM is None:
        import atexit
        from multiprocessing import util

        _WARM = WarmKernel()
        # worker processes end through multiprocessing (its finalizers run, atexit does not);
        # the driver and Dask workers through atexit: shut the kernel down either way
        util.Finalize(_WARM, _WARM.shutdown, exitpriority=10)
        atexit.register(_WARM.shutdown)
    return _WARM


def _engine():
    """The papermill engine that runs notebooks on this process's warm kernel."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class WarmClient(PapermillNotebookClient):
        def papermill_execute_cells(self) -> None:
            # papermill runs us inside the report's folder: the kernel moves there first, so
            # that the notebook's relative results_json is found (a fresh kernel starts
            # there), and before the reset, which needs a working folder that still exists
            # (the previous report's staged folder may be gone)
            reset = f"import os as _os\n_os.chdir({os.getcwd()!r})\ndel _os\n" + _RESET
            msg_id = self.kc.execute(reset, silent=True, store_history=False)
            reply = self.wait_for_reply(msg_id)
            if reply is None or reply["content"]["status"] != "ok":
                why = "" if reply is None else f": {reply['content'].get('ename')}: {reply['content'].get('evalue')}"
                raise ReadinessError(f"could not reset the warm kernel before the report{why}")
            super().papermill_execute_cells()

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            warm = _warm_kernel()
            km = warm.ensure()
            kwargs = remove_args(["input_path", "timeout", "startup_timeout", "kernel_manager_class"], **kwargs)
            final = merge_kwargs(
                kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client = WarmClient(nb_man, km=km, **final)
            try:
                return client.execute()
            except BaseException:
                warm.shutdown()  # a failed report may have left the kernel in any state
                raise
            finally:
                if getattr(client, "kc", None) is not None:
                    client.kc.stop_channels()

    return WarmEngine


def register_engine() -> None:
    """Register ``readiness-warm`` in papermill's engine registry (idempotent)."""
    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, _engine())


# ---------------------------------------------------------------------- one task
@dataclass(frozen=True)
class Task:
    """What a worker needs to render one organization's report."""

    org_id: str
    folder: str
    title: str
    pdf: bool = False
    warm: bool = True
    #: the hidden folder beside ``folder`` holding the new results, where the report is
    #: rendered before the whole set is swapped in (empty: render in ``folder`` itself)
    stage: str = ""


def render_task(task: Task) -> dict[str, Any]:
    """Render one report in this process; never raises: failures become a manifest row."""
    from ..report.execute import execute
    from ..report.html import to_html
    from ..report.pdf import to_pdf

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    folder = Path(task.folder)
    work = Path(task.stage) if task.stage else folder
    files = [name for name in ("results.json", "roadmap.xlsx", "roadmap.csv") if (work / name).exists()]
    try:
        if task.warm:
            register_engine()
        nb = execute(
            work / "report.ipynb",
            {"results_json": "results.json"},
            cwd=work,
            engine_name=ENGINE_NAME if task.warm else None,
        )
        files.append("report.ipynb")
        write_text(work / "report.html", to_html(nb, title=task.title))
        files.append("report.html")
        if task.pdf:
            to_pdf(work / "report.html", work / "report.pdf")
            files.append("report.pdf")
        if task.stage:
            commit_stage(work, folder)  # the whole set at once: the earlier one, or this one
        status, error = "ok", ""
    except Exception as exc:  # one organization fails alone; the reason goes to the manifest
        status, error = "failed", _one_line(exc)
        if task.stage:
            shutil.rmtree(work, ignore_errors=True)  # the earlier set stays as it was
    return {
        "org_id": task.org_id,
        "folder": folder.name,
        "status": status,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "files": ";".join(files),
        "error": error,
    }


def _digest(text: str) -> str:
    import hashlib

    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ReadinessError) else str(exc)
    return " ".join(text.split())[:500]


# ---------------------------------------------------------------------- completeness
def is_complete(folder: str | Path, *, pdf: bool = False, fingerprint: str | None = None) -> bool:
    """All files of an organization exist, made from the inputs whose ``fingerprint`` is given.

    Each folder is swapped in whole, so files that exist belong together; with a
    ``fingerprint`` they must also have been made from those inputs (``fingerprint.json``).
    """
    folder = Path(folder)
    needed = ["results.json", "report.ipynb", "report.html"] + (["report.pdf"] if pdf else [])
    if not all((folder / name).is_file() for name in needed):
        return False
    return fingerprint is None or _stored_fingerprint(folder) == fingerprint


def fingerprint_of(parts: Mapping[str, str]) -> str:
    """One digest of what results were made from (:func:`readiness.io.pipeline.fingerprints`)."""
    import hashlib

    return hashlib.blake2b(json.dumps(dict(parts), sort_keys=True).encode(), digest_size=16).hexdigest()


def _stored_fingerprint(folder: Path) -> str | None:
    try:
        doc = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc.get("fingerprint") if isinstance(doc, dict) else None


def clean_partial_files(folder: str | Path) -> list[Path]:
    """Remove what a killed run left: hidden temporary files in ``folder``, staged sets beside it."""
    return clean_leftovers(folder)


# ---------------------------------------------------------------------- the batch
@dataclass
class BatchSummary:
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return {row["org_id"]: row for row in csv.DictReader(fh)}
    except (OSError, csv.Error, KeyError):
        return {}


def _write_manifest(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # a spreadsheet opens manifest.csv too: ids and error text stay text, never a formula
        writer.writerow({k: neutralize(row.get(k, "")) for k in MANIFEST_COLUMNS})
    write_text(path, buf.getvalue())


def run_batch(
    docs: Mapping[str, Mapping[str, Any]],
    out_dir: str | Path,
    *,
    workers: int = 2,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    pdf: bool = False,
    warm: bool = True,
    rejected: Mapping[str, str] | None = None,
    on_progress: Callable[[BatchSummary, dict[str, Any] | None], None] | None = None,
    fingerprints: Mapping[str, Mapping[str, str]] | None = None,
) -> BatchSummary:
    """Write every organization's report folder under ``out_dir``; see the module docstring.

    ``docs`` are the results documents from :func:`~readiness.core.assessment.assess`;
    ``rejected`` maps organizations whose input rows were bad to the reason, and they are
    recorded as failed without a folder. ``fingerprints`` say what each organization's
    results were made from (:func:`readiness.io.pipeline.fingerprints`; default: the
    results document itself). Returns a summary; ``manifest.csv`` in ``out_dir`` has one
    row per organization.
    """
    from ..io.pipeline import write_outputs

    if workers < 1:
        raise InputError("--workers must be at least 1", source="command line")
    if executor not in ("local", "dask"):
        raise InputError(f"unknown executor {executor!r}: use local or dask", source="command line")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.csv"
    previous = _read_manifest(manifest_path) if resume else {}
    rows: dict[str, dict[str, Any]] = {}
    tasks: list[Task] = []
    rejected = dict(rejected or {})
    summary = BatchSummary(total=len(docs) + len(rejected), failed=len(rejected))
    t_start = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    for org_id, reason in rejected.items():
        rows[org_id] = {
            "org_id": org_id,
            "folder": "",
            "status": "failed",
            "started": started,
            "seconds": 0.0,
            "files": "",
            "error": "bad input: " + " ".join(reason.split())[:500],
        }
    for org_id, doc in docs.items():
        folder = out / org_folder(org_id, docs)
        clean_leftovers(folder)
        parts = dict((fingerprints or {}).get(org_id) or {"results": _digest(dumps_json(doc))})
        fingerprint = fingerprint_of(parts)
        if resume and is_complete(folder, pdf=pdf, fingerprint=fingerprint):
            row = dict(previous.get(neutralize(org_id)) or {})  # ids are stored neutralized
            row.update(org_id=org_id, folder=folder.name, status="ok")
            row.setdefault("files", ";".join(sorted(p.name for p in folder.iterdir() if p.is_file())))
            row.setdefault("error", "")
            rows[org_id] = row
            summary.skipped += 1
            continue
        # The new set is prepared beside the folder and swapped in whole by the worker: the
        # folder keeps its earlier complete set (whose fingerprint is not this one, so
        # --resume redoes it) until the new one is complete.
        stage = new_stage(folder)
        write_outputs(stage, doc)  # results.json and roadmap exports, from the driver
        write_json(stage / FINGERPRINT_FILE, {"fingerprint": fingerprint, "made_from": parts})
        name = str(doc["organization"].get("name") or org_id)
        tasks.append(Task(org_id, str(folder), f"Readiness report: {name}", pdf=pdf, warm=warm, stage=str(stage)))
        rows[org_id] = {
            "org_id": org_id,
            "folder": folder.name,
            "status": "pending",
            "started": "",
            "seconds": "",
            "files": "",
            "error": "",
        }
    order = list(docs) + [o for o in rejected if o not in docs]
    _write_manifest(manifest_path, (rows[o] for o in order))
    if on_progress:
        on_progress(summary, None)

    def record(row: dict[str, Any]) -> None:
        rows[row["org_id"]] = row
        if row["status"] == "ok":
            summary.done += 1
        else:
            summary.failed += 1
        _write_manifest(manifest_path, (rows[o] for o in order))
        if on_progress:
            on_progress(summary, row)

    if tasks:
        if executor == "dask":
            _run_dask(tasks, record, workers=workers, scheduler=scheduler)
        else:
            _run_local(tasks, record, workers=workers)
    summary.seconds = time.perf_counter() - t_start
    summary.rows = [rows[o] for o in order]
    return summary


def _run_local(tasks: Sequence[Task], record: Callable[[dict[str, Any]], None], *, workers: int) -> None:
    """A pool of worker processes; a worker that dies takes only its own report down."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pending = list(tasks)
    attempts: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    while pending:
        broken = False
        with ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=context) as pool:
            futures = {pool.submit(render_task, t): t for t in pending}
            pending = []
            for future in as_completed(futures):
                task = futures[future]
                try:
                    record(future.result())
                except BrokenProcessPool:
                    broken = True
                    attempts[task.org_id] = attempts.get(task.org_id, 0) + 1
                    if attempts[task.org_id] >= 2:
                        record(_failed(task, "the worker process died twice while rendering this report"))
                    else:
                        pending.append(task)
                except Exception as exc:  # pragma: no cover - render_task does not raise
                    record(_failed(task, _one_line(exc)))
        if broken and pending:
            continue


def _failed(task: Task, error: str) -> dict[str, Any]:
    return {
        "org_id": task.org_id,
        "folder": Path(task.folder).name,
        "status": "failed",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": 0.0,
        "files": "",
        "error": error,
    }


def _run_dask(
    tasks: Sequence[Task], record: Callable[[dict[str, Any]], None], *, workers: int, scheduler: str | None
) -> None:
    """The same tasks on dask.distributed: a LocalCluster, or an existing cluster at ``scheduler``.

    Workers must see ``out_dir`` at the same path (a shared file system on a real cluster).
    """
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
            )
            client = Client(cluster)
    except OSError as exc:
        raise ReadinessError(f"cannot reach the Dask scheduler {scheduler or ''}: {exc}") from None
    try:
        futures = {
            client.submit(render_task, t, key=f"report-{i}-{t.org_id}", pure=False): t for i, t in enumerate(tasks)
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                record(future.result())
            except Exception as exc:  # a worker lost mid-task
                record(_failed(task, f"Dask worker failed: {_one_line(exc)}"))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
