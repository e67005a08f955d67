"""Batch reports: every organization of a file, in parallel, resumable, local or on Dask.

Apps layer. The expensive, shared work happens in the driver process: inputs are read
once, organizations are scored, benchmarked and planned a chunk at a time in vectorized
:func:`~readiness.core.assessment.assess` calls, and each organization's ``results.json``
and roadmap exports are written there, as workers need new reports. Workers only
render: they execute the report notebook with ``results_json`` as its single parameter
and convert it to HTML (and PDF). The driver holds one chunk of documents and a bounded
number of tasks, whatever the size of the batch (``docs/batch.md``).

Speed comes from **warm kernels**: each worker keeps one Jupyter kernel with the report's
imports already loaded, registered with papermill as the ``readiness-warm`` engine, and
started as the batch starts. Before every report the kernel is reset (user namespace,
matplotlib figures and settings, execution counter), so one report cannot leak state
into the next; a kernel that dies is replaced for the next report.

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
rest, so an organization whose inputs changed is redone. ``manifest.csv`` records
status, start time, seconds, files and the error of each organization: appended line by
line as the batch goes (the last line of an organization is its state), rewritten once
in input order at the end. Whether an organization is done is decided by its folder and
fingerprint, never by the manifest, so a manifest cut by a kill cannot mislead
``--resume``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import InputError, ReadinessError
from ..io.exporters import (
    clean_leftovers,
    clean_stages,
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

#: Code run in a warm kernel once, after it starts: the modules a report uses, a snapshot
#: of matplotlib's settings as a fresh kernel has them, and one tiny figure drawn off
#: screen so that the fonts are loaded (caches only: no setting or figure remains).
#: Then everything alive is moved out of the garbage collector's reach (``gc.freeze``):
#: the reset before each report runs a full collection, which otherwise walks every
#: object of pandas, matplotlib and IPython each time (a fifth of a second per report).
_WARM_UP = """
import io as _io
import matplotlib, matplotlib.pyplot
import readiness.io.pipeline, readiness.report.figures, readiness.report.notebook, readiness.report.sections
readiness.report.notebook.remember_settings()
from matplotlib.figure import Figure as _Figure
_fig = _Figure(figsize=(1, 1))
_fig.text(0.1, 0.6, "Aa 1", fontweight="bold")
_fig.text(0.1, 0.2, "Aa 1")
_fig.savefig(_io.StringIO(), format="svg")
del _io, _Figure, _fig
import gc as _gc
_gc.collect()
_gc.freeze()
del _gc
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
    """One kernel kept alive in this process and reused across reports, with one client.

    The client's channels stay open from report to report. A new client waits until its
    kernel's output channel has been quiet for a fifth of a second before it is ready
    (jupyter_client's ``wait_for_ready``): with a client per report, each report's kernel
    sat idle that long, a sixth of a report's time.
    """

    def __init__(self, kernel_name: str = "python3", cwd: str | Path | None = None) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.km: Any = None
        self.kc: Any = None
        self._warming: tuple[Any, Any, str] | None = None

    def start(self) -> None:
        """Launch a kernel and hand it the warm-up code, without waiting for either.

        :meth:`ensure` waits for the warm-up to finish; in between this process can do
        its own imports while the kernel does its own, on another core.
        """
        from jupyter_core.utils import run_sync

        from ..report.execute import kernel_manager_class

        self.shutdown()
        km = kernel_manager_class()(kernel_name=self.kernel_name)
        # no history database: nothing to share between reports, nothing written to disk
        run_sync(km.start_kernel)(cwd=str(self.cwd or Path.cwd()), extra_arguments=["--HistoryManager.enabled=False"])
        kc = km.client()
        kc.start_channels()
        # queued on the shell socket until the kernel is up to read it
        self._warming = (km, kc, kc.execute(_WARM_UP, silent=True, store_history=False))

    def _finish_start(self) -> None:
        """Wait for the warm-up sent by :meth:`start`; the kernel is then the one in use."""
        import queue

        from jupyter_core.utils import run_sync

        assert self._warming is not None
        km, kc, msg_id = self._warming
        self._warming = None
        deadline = time.monotonic() + 180
        try:
            while True:
                try:
                    reply = run_sync(kc.get_shell_msg)(timeout=1)
                except queue.Empty:
                    if not run_sync(km.is_alive)() or time.monotonic() > deadline:
                        raise ReadinessError("the report kernel did not start") from None
                    continue
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            if reply["content"]["status"] != "ok":
                raise ReadinessError("the report kernel could not import the report libraries")
            # once, for the client every report uses: its output channel is connected
            run_sync(kc.wait_for_ready)(timeout=60)
            kc.allow_stdin = False  # as nbclient sets its own: a report never waits for typed input
        except BaseException:
            self.km, self.kc = km, kc
            self.shutdown()
            raise
        self.km, self.kc = km, kc

    def ensure(self) -> Any:
        """The kernel manager of a live, warmed-up kernel (started or restarted as needed); its client is ``kc``."""
        from jupyter_core.utils import run_sync

        if self._warming is not None:
            self._finish_start()
        if self.km is not None and run_sync(self.km.is_alive)():
            return self.km
        self.start()
        self._finish_start()
        return self.km

    def shutdown(self) -> None:
        """Stop the kernel in use, and one still starting."""
        from jupyter_core.utils import run_sync

        managers = [self.km]
        if self.kc is not None:
            self.kc.stop_channels()
        if self._warming is not None:  # started, never waited for
            km, kc, _ = self._warming
            kc.stop_channels()
            managers.append(km)
        self.km, self.kc, self._warming = None, None, None
        for km in managers:
            if km is not None:
                try:
                    run_sync(km.shutdown_kernel)(now=True)
                except Exception:  # already gone: nothing to do
                    pass


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
            client.kc = warm.kc  # ready, its channels open: the client only sends and listens
            try:
                return client.execute()
            except BaseException:
                warm.shutdown()  # a failed report may have left the kernel in any state
                raise

    return WarmEngine


def register_engine() -> None:
    """Register ``readiness-warm`` in papermill's engine registry (idempotent)."""
    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, _engine())


def _start_worker() -> None:
    """Run once in each local worker process as it starts, before any report reaches it.

    The pool is started with the batch, so this runs while the driver reads and assesses
    the first organizations: the kernel is started and warmed up, and the notebook
    libraries are imported. A failure here is not one: the first report starts the
    kernel again and records what goes wrong.
    """
    import sys

    # jsonschema, which nbformat imports, checks IRI formats with rfc3987_syntax when it is
    # installed (Jupyter installs it), and that module compiles a grammar as it is
    # imported: about a second per worker. Notebooks never hold IRIs. This process is
    # ours, so the module is kept out of it (jsonschema then skips that one check).
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        warm = _warm_kernel()
        warm.start()  # the kernel starts and imports on its own while this process imports
        register_engine()
        from ..report.html import _exporter

        _exporter()
        warm.ensure()
    except Exception:  # the first report retries and reports it
        pass
    import gc

    gc.freeze()  # what is loaded now stays: collections walk only what reports create


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
            final_path=folder / "report.ipynb",
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
    """Counts of a batch; ``rows`` holds the manifest rows of the organizations that failed."""

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
    """The manifest's rows by (neutralized) organization id; of several rows for one, the last."""
    if not path.exists():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return {row["org_id"]: row for row in csv.DictReader(fh)}
    except (OSError, csv.Error, KeyError):
        return {}


def _manifest_line(row: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n", extrasaction="ignore")
    # a spreadsheet opens manifest.csv too: ids and error text stay text, never a formula
    writer.writerow({k: neutralize(row.get(k, "")) for k in MANIFEST_COLUMNS})
    return buf.getvalue()


def _write_manifest(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    header = ",".join(MANIFEST_COLUMNS) + "\n"
    write_text(path, header + "".join(_manifest_line(row) for row in rows))


class _ManifestLog:
    """manifest.csv, written as the batch goes and put in order at the end.

    While the batch runs, each event is one line appended (and flushed): ``pending``
    when a report is handed to a worker, then its outcome. A run that is killed leaves a
    valid CSV in which an organization's last line is its state. When the batch ends,
    the file is rewritten (atomically) with one row per organization, in input order.
    Nothing but the file holds the rows: a batch of any size writes it in constant memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        _write_manifest(path, [])
        self._fh = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115  (closed in finish)

    def add(self, row: Mapping[str, Any]) -> None:
        self._fh.write(_manifest_line(row))
        self._fh.flush()

    def finish(self, order: Iterable[str]) -> None:
        """Rewrite with the last row of each organization, in ``order`` (input order)."""
        self._fh.close()
        last = _read_manifest(self.path)
        _write_manifest(self.path, (last[key] for key in map(neutralize, order) if key in last))


def run_batch(
    docs: Mapping[str, Mapping[str, Any]] | Iterable[tuple[str, Mapping[str, Any]]],
    out_dir: str | Path,
    *,
    workers: int = 2,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    pdf: bool = False,
    warm: bool = True,
    rejected: Mapping[str, str] | None = None,
    total: int | None = None,
    on_progress: Callable[[BatchSummary, dict[str, Any] | None], None] | None = None,
    fingerprints: Mapping[str, Mapping[str, str]] | None = None,
    org_ids: Iterable[str] | None = None,
) -> BatchSummary:
    """Write every organization's report folder under ``out_dir``; see the module docstring.

    ``docs`` are the results documents from :func:`~readiness.core.assessment.assess`:
    a mapping, or ``(org_id, document)`` pairs produced as they are needed (the batch
    command assesses a chunk of organizations at a time, so that a batch of any size
    holds only a chunk's documents; give ``total`` then, for the progress counts).
    ``rejected`` maps organizations whose input rows were bad to the reason, and they are
    recorded as failed without a folder. ``fingerprints`` say what each organization's
    results were made from (:func:`readiness.io.pipeline.fingerprints`; default: the
    results document itself). ``org_ids``: every organization of the batch, for folder
    names that never clash by case (default: the keys of ``docs`` when it is a mapping).
    Returns a summary; ``manifest.csv`` in ``out_dir`` has one
    row per organization.
    """
    if workers < 1:
        raise InputError("--workers must be at least 1", source="command line")
    if executor not in ("local", "dask"):
        raise InputError(f"unknown executor {executor!r}: use local or dask", source="command line")
    if isinstance(docs, Mapping):
        total = len(docs) if total is None else total
        pairs: Iterable[tuple[str, Mapping[str, Any]]] = docs.items()
        org_ids = list(docs) if org_ids is None else org_ids
    else:
        pairs = docs
    # ids that differ only in case, by their folded form: their folders get a suffix
    # (readiness.core.ids.folder_name), found in one pass, not a scan of all per id
    same_fold: dict[str, list[str]] = {}
    for known in org_ids or ():
        same_fold.setdefault(known.casefold(), []).append(known)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.csv"
    previous = _read_manifest(manifest_path) if resume else {}
    rejected = dict(rejected or {})
    summary = BatchSummary(total=(total or 0) + len(rejected), failed=len(rejected))
    t_start = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    # what a killed run left beside the folders, in one look at out_dir (a look per
    # organization would make a batch of thousands quadratic)
    clean_stages(out)
    manifest = _ManifestLog(manifest_path)
    order: list[str] = []  # ids only: the final manifest is put in input order
    for org_id, reason in rejected.items():
        row = {
            "org_id": org_id,
            "folder": "",
            "status": "failed",
            "started": started,
            "seconds": 0.0,
            "files": "",
            "error": "bad input: " + " ".join(reason.split())[:500],
        }
        manifest.add(row)
        summary.rows.append(row)
    if on_progress:
        on_progress(summary, None)

    def tasks() -> Iterator[Task]:
        """Each organization's folder made ready, and its task, one at a time as workers need them."""
        from ..io.pipeline import write_outputs

        for org_id, doc in pairs:
            order.append(org_id)
            folder = out / org_folder(org_id, same_fold.get(org_id.casefold(), ()))
            clean_leftovers(folder, beside=False)  # staged sets beside it: removed once, above
            parts = dict((fingerprints or {}).get(org_id) or {"results": _digest(dumps_json(doc))})
            fingerprint = fingerprint_of(parts)
            if resume and is_complete(folder, pdf=pdf, fingerprint=fingerprint):
                row = dict(previous.get(neutralize(org_id)) or {})  # ids are stored neutralized
                if row.get("status") != "ok":  # swapped in just before a kill, the manifest never said so
                    row = {"started": "", "seconds": "", "files": "", "error": ""}
                row.update(org_id=org_id, folder=folder.name, status="ok")
                if not row.get("files"):
                    row["files"] = ";".join(sorted(p.name for p in folder.iterdir() if p.is_file()))
                row.setdefault("error", "")
                manifest.add(row)
                summary.skipped += 1
                if on_progress:
                    on_progress(summary, None)
                continue
            # The new set is prepared beside the folder and swapped in whole by the worker: the
            # folder keeps its earlier complete set (whose fingerprint is not this one, so
            # --resume redoes it) until the new one is complete.
            stage = new_stage(folder, clean=False)
            write_outputs(stage, doc)  # results.json and roadmap exports, from the driver
            write_json(stage / FINGERPRINT_FILE, {"fingerprint": fingerprint, "made_from": parts})
            name = str(doc["organization"].get("name") or org_id)
            manifest.add({"org_id": org_id, "folder": folder.name, "status": "pending"})
            yield Task(org_id, str(folder), f"Readiness report: {name}", pdf=pdf, warm=warm, stage=str(stage))

    def record(row: dict[str, Any]) -> None:
        if row["status"] == "ok":
            summary.done += 1
        else:
            summary.failed += 1
            summary.rows.append(row)
        manifest.add(row)
        if on_progress:
            on_progress(summary, row)

    try:
        if executor == "dask":
            _run_dask(tasks(), record, workers=workers, scheduler=scheduler)
        else:
            _run_local(tasks(), record, workers=workers)
    finally:
        listed = set(order)
        manifest.finish([*order, *(o for o in rejected if o not in listed)])
    summary.total = max(summary.total, len(order) + len(rejected))
    summary.seconds = time.perf_counter() - t_start
    return summary


#: Reports handed out ahead, per worker: enough that no worker waits while the driver
#: assesses the next chunk of organizations, few enough that memory does not grow.
AHEAD_PER_WORKER = 8


def _run_local(tasks: Iterable[Task], record: Callable[[dict[str, Any]], None], *, workers: int) -> None:
    """A pool of worker processes, fed as it goes; a worker that dies takes only its own report down.

    When a worker process dies, every report then in the pool fails with it; those are
    tried again in a new pool, and a report that was in a dying pool twice is recorded
    as failed.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker)
        for _ in range(workers):  # start every worker now: they warm up while the driver assesses
            pool.submit(int)
        return pool

    source = iter(tasks)
    retry: list[Task] = []
    attempts: dict[str, int] = {}
    ahead = AHEAD_PER_WORKER * workers
    pool = new_pool()
    running: dict[Future, Task] = {}
    try:
        while True:
            while len(running) < ahead:
                task = retry.pop() if retry else next(source, None)
                if task is None:
                    break
                running[pool.submit(render_task, task)] = task
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task = running.pop(future)
                try:
                    record(future.result())
                except BrokenProcessPool:
                    broken = True
                    attempts[task.org_id] = attempts.get(task.org_id, 0) + 1
                    if attempts[task.org_id] >= 2:
                        record(_failed(task, "the worker process died twice while rendering this report"))
                    else:
                        retry.append(task)
                except Exception as exc:  # pragma: no cover - render_task does not raise
                    record(_failed(task, _one_line(exc)))
            if broken:  # the pool is unusable: the reports still in it go to a new one
                for future, task in running.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        record(future.result())  # finished just before the pool broke
                        continue
                    future.cancel()
                    attempts[task.org_id] = attempts.get(task.org_id, 0) + 1
                    if attempts[task.org_id] >= 2:
                        record(_failed(task, "the worker process died twice while rendering this report"))
                    else:
                        retry.append(task)
                running.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    tasks: Iterable[Task], record: Callable[[dict[str, Any]], None], *, workers: int, scheduler: str | None
) -> None:
    """The same tasks on dask.distributed: a LocalCluster, or an existing cluster at ``scheduler``.

    Workers must see ``out_dir`` at the same path (a shared file system on a real cluster).
    Reports are handed out as the cluster takes them, :data:`AHEAD_PER_WORKER` per worker
    thread ahead (counted again as workers join or leave), so the scheduler never holds
    the whole batch.
    """
    from distributed import Client, LocalCluster, wait

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
        source = iter(tasks)
        running: dict[Any, Task] = {}
        count = 0
        while True:
            ahead = AHEAD_PER_WORKER * max(1, sum(client.nthreads().values()))
            while len(running) < ahead:
                task = next(source, None)
                if task is None:
                    break
                running[client.submit(render_task, task, key=f"report-{count}-{task.org_id}", pure=False)] = task
                count += 1
            if not running:
                return
            done = wait(list(running), return_when="FIRST_COMPLETED").done
            for future in done:
                task = running.pop(future)
                try:
                    record(future.result())
                except Exception as exc:  # a worker lost mid-task
                    record(_failed(task, f"Dask worker failed: {_one_line(exc)}"))
                future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
