"""Notebook execution: papermill with checked parameters, kernels on local IPC sockets."""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import InputError, ReportError
from ..io.exporters import atomic_path
from ..io.resources import notebook_path

__all__ = [
    "execute",
    "kernel_manager_class",
    "portfolio_notebook",
    "progress_notebook",
    "report_notebook",
    "validate_parameters",
]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_TEXT = 4096


def report_notebook() -> Path:
    """The bundled report notebook."""
    return notebook_path("readiness_report.ipynb")


def portfolio_notebook() -> Path:
    """The bundled portfolio notebook."""
    return notebook_path("portfolio.ipynb")


def progress_notebook() -> Path:
    """The bundled progress notebook (change between two waves)."""
    return notebook_path("progress.ipynb")


def validate_parameters(parameters: Mapping[str, Any], notebook: Path | None = None) -> dict[str, Any]:
    """Parameters safe to hand to papermill: declared names, JSON-type values only.

    Papermill writes parameters into the notebook as code; this check makes sure a name
    is an identifier the notebook declares and a value is plain data (text without
    control characters, finite numbers, booleans, null, lists/dicts of those), so no
    file or organization name can become code.
    """
    import papermill

    declared = {p for p in papermill.inspect_notebook(str(notebook or report_notebook()))}
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InputError(f"parameter name {str(name)[:40]!r} is not an identifier", source="parameters")
        if name not in declared:
            raise InputError(
                f"unknown parameter {name!r}; the notebook declares {', '.join(sorted(declared))}", source="parameters"
            )
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


def kernel_manager_class():
    """Kernels for reports: local IPC sockets, a quiet shutdown, their own log file.

    - They talk over local IPC sockets: no TCP ports, nothing on the network.
    - Shutting one down sends no interrupt first. jupyter_client interrupts a kernel
      (SIGINT) before asking it to stop; a kernel still finishing a message then logs
      ``KeyboardInterrupt caught in kernel`` on the terminal of a run that succeeded.
      A report kernel is idle when it is stopped, so there is nothing to interrupt; a
      kernel that does not stop is still terminated after the usual wait.
    - What a kernel prints on its own output (its log, not a cell's output, which
      reaches the notebook) goes to ``kernel.log`` in the kernel's temporary folder, not
      to the terminal of whoever runs ``readiness``; the folder goes with the kernel.
    """
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

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if "stdout" not in kw and "stderr" not in kw:
                log = open(os.path.join(os.path.dirname(self.ip), "kernel.log"), "ab")  # noqa: SIM115 - closed at cleanup
                self._readiness_log = log
                kw.update(stdout=log, stderr=log)
            await super()._async_launch_kernel(kernel_cmd, **kw)

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return  # stopping an idle kernel: an interrupt would only make it log an error
            await super()._async_interrupt_kernel()

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                log = getattr(self, "_readiness_log", None)
                if log is not None:
                    log.close()
                shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)

    return IPCKernelManager


def execute(
    output: str | Path,
    parameters: Mapping[str, Any],
    *,
    notebook: Path | None = None,
    cwd: str | Path | None = None,
    kernel_name: str | None = None,
    timeout: int = 600,
    engine_name: str | None = None,
    final_path: str | Path | None = None,
):
    """Run the notebook with papermill into ``output`` (atomically); return the executed notebook.

    The kernel starts in ``cwd`` (default: the output's folder). ``engine_name`` picks a
    papermill engine from its registry (the batch runner's ``readiness-warm`` reuses a
    kernel); by default each run gets a fresh kernel. ``final_path`` is where the notebook
    will be once its folder is swapped in (a report is written in a staged folder with a
    random name): its record names that path, so the bytes do not depend on the stage.

    The same inputs give the same notebook, byte for byte: its record of the run keeps
    the input, the output and the parameters, and leaves out the clock (papermill's start
    and end times and durations, and the kernel's execution timestamps), which differs
    every time and says nothing about the results; the cell papermill inserts for the
    parameters gets a fixed id instead of a random one.
    """
    import nbformat
    import papermill

    notebook = notebook or report_notebook()
    params = validate_parameters(parameters, notebook)
    with atomic_path(output) as tmp:
        tmp_nb = tmp.parent / (tmp.name + ".ipynb")  # papermill wants an .ipynb name
        try:
            nb = papermill.execute_notebook(
                str(notebook),
                str(tmp_nb),
                parameters=params,
                cwd=str(cwd or Path(output).resolve().parent),
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                engine_name=engine_name,
                kernel_manager_class=kernel_manager_class(),
                request_save_on_cell_execute=False,  # write once at the end, not after every cell
                record_timing=False,  # no execution timestamps in the cells' metadata
            )
            _reproducible(nb, Path(final_path or output))
            tmp_nb.write_text(nbformat.writes(nb), encoding="utf-8")
        except papermill.PapermillExecutionError as exc:
            raise ReportError(
                f"the report notebook failed in cell {exc.exec_count}: {exc.ename}: "
                f"{' '.join(str(exc.evalue).split())[:300]}"
            ) from None
        finally:
            if tmp_nb.exists():  # into atomic_path's file: renamed on success, removed on failure
                os.replace(tmp_nb, tmp)
    return nb  # what was written: no second read (and validation) of it from disk


#: What papermill records of the clock, in the notebook's and each cell's metadata.
_CLOCK = ("start_time", "end_time", "duration")


def _reproducible(nb: Any, output: Path) -> None:
    """Drop the run's times from an executed notebook, fix the parameters cell's id, name its path.

    papermill wrote to a temporary name (renamed into place when complete); the record
    names the file the notebook is.
    """
    record = nb.metadata.get("papermill", {})
    for key in _CLOCK:
        record.pop(key, None)
    if "output_path" in record:
        record["output_path"] = str(output)
    for cell in nb.cells:
        metadata = cell.get("metadata", {})
        for key in _CLOCK:
            metadata.get("papermill", {}).pop(key, None)
        if "injected-parameters" in metadata.get("tags", []) and "id" in cell:
            cell["id"] = "injected-parameters"
