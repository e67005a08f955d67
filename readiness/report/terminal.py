"""Terminal presentation of results (rich tables). Reads results dicts; computes nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

__all__ = ["BatchProgress", "print_results", "results_view"]


#: Characters a terminal acts on rather than shows: C0/C1 controls (escape sequences can
#: retitle the window, move the cursor, hide text) and bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _safe(value: Any) -> str:
    """User text (names, ids, playbook text) as printable text: controls become a visible mark."""
    return _UNPRINTABLE.sub(lambda m: " " if m.group() in "\t\n\r" else "\ufffd", str(value))


def _cell(value: Any) -> Text:
    """A table cell shown as it is: never read as rich markup (``[bold]``), never a control."""
    return Text(_safe(value))


def _fmt(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(ci: Any) -> str:
    return "–" if not ci else f"{ci[0]:.1f}–{ci[1]:.1f}"


def results_view(results: Mapping[str, Any]) -> Group:
    """A rich renderable summarizing one results.json document."""
    org = results["organization"]
    overall = results["overall"]
    head = Text()
    head.append(_safe(org["name"]), style="bold")
    head.append(f"  ({_safe(org['id'])})\n")
    head.append(f"Overall readiness {_fmt(overall['score'])} (95% CI {_ci(overall['ci'])}) — level: ")
    head.append(_safe(overall["level"] or "unknown"), style="bold")
    by_role = results["respondents"]["by_role"]
    head.append(
        f"\nRespondents: {results['respondents']['n']} ("
        + ", ".join(f"{n} {_safe(r)}" for r, n in by_role.items())
        + ")"
    )
    if overall.get("barrier"):
        head.append(f"\nBarrier to fix first: {_safe(overall['barrier'])}", style="bold red")

    roles = list(by_role)
    dims = Table(title="Dimensions", title_justify="left")
    for col in ("dimension", "score", "95% CI", "level", *roles):
        dims.add_column(_cell(col), justify="left" if col in ("dimension", "level") else "right")
    for d, block in results["dimensions"].items():
        dims.add_row(
            _cell(d),
            _fmt(block["score"]),
            _ci(block["ci"]),
            _cell(block.get("level") or "–"),
            *(_fmt(block["by_role"].get(r)) for r in roles),
        )

    facets = Table(title="Facets", title_justify="left")
    for col in ("facet", "score", "95% CI", *roles, "r_wg"):
        facets.add_column(_cell(col), justify="left" if col == "facet" else "right")
    for f, block in results["facets"].items():
        style = "red" if f == overall.get("barrier") else None
        facets.add_row(
            _cell(f),
            _fmt(block["score"]),
            _ci(block["ci"]),
            *(_fmt(block["by_role"].get(r)) for r in roles),
            _fmt(block.get("rwg"), 2),
            style=style,
        )
    parts: list[Any] = [head, dims, facets]
    bench = results.get("benchmark")
    if bench:
        line = Text()
        if bench.get("peer_n"):
            group = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in bench["peer_group"].items() if v) or "all peers"
            line.append(_safe(f"Peers: {bench['peer_n']} centers ({group}; fallback: {bench['fallback']}). "))
            line.append(
                _safe(
                    "Percentiles: "
                    + ", ".join(f"{d} {_fmt(b.get('percentile'), 0)}" for d, b in bench["dimensions"].items())
                )
            )
        else:
            line.append(f"No peer comparison: fewer than {bench['k']} peers available.")
        parts.append(line)
    if results.get("roadmap"):
        road = Table(title="Roadmap (first actions; full list in roadmap.xlsx)", title_justify="left")
        for col in ("#", "phase", "action", "owner", "why"):
            road.add_column(
                col,
                justify="right" if col in ("#", "phase") else "left",
                overflow="fold",
                max_width=70 if col == "why" else None,
            )
        for item in results["roadmap"][:8]:
            road.add_row(
                str(item["rank"]),
                str(item["phase"]),
                _cell(item["title"]),
                _cell(str(item["owner"]).replace("_", " ")),
                _cell(item["why"]),
            )
        parts.append(road)
    if results.get("warnings"):
        parts.append(Text("Warnings:\n" + "\n".join(f"- {_safe(w)}" for w in results["warnings"]), style="yellow"))
    return Group(*parts)


def print_results(results: Mapping[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(results_view(results))


class BatchProgress:
    """Progress of a batch: a bar with done / failed / left and an ETA (or plain lines)."""

    def __init__(self, total: int, *, enabled: bool = True, console: Console | None = None) -> None:
        self.total = total
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> BatchProgress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("reports"),
                BarColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("batch", total=self.total, status=self._status(0, 0, 0))
        return self

    @staticmethod
    def _status(done: int, failed: int, left: int) -> str:
        return f"done {done} · failed {failed} · left {left}"

    def update(self, summary: Any, row: Mapping[str, Any] | None) -> None:
        finished = summary.done + summary.failed + summary.skipped
        left = summary.total - finished
        if self._progress is not None:
            self._progress.update(
                self._task,
                completed=finished,
                status=self._status(summary.done + summary.skipped, summary.failed, left),
            )
        elif row is not None:
            self.console.print(
                _safe(
                    f"{row['status']:6} {row['org_id']} ({row['seconds']} s) "
                    f"{self._status(summary.done + summary.skipped, summary.failed, left)}"
                ),
                highlight=False,
                markup=False,
            )

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
