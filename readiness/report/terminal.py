"""Terminal presentation of results (rich tables). Reads results dicts; computes nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..core.results import role_plural

__all__ = ["BatchProgress", "comparison_view", "history_view", "peer_counts_view", "print_results", "results_view"]


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


def _signed_ci(ci: Any) -> str:
    return "–" if not ci else f"{ci[0]:+.1f} to {ci[1]:+.1f}"


def _words(ident: Any) -> str:
    return str(ident).replace("_", " ")


def _fit(table: Table) -> Table:
    """Keep every word whole: no column narrower than its longest word (header or cell).

    A terminal too narrow for that wraps the text between words; rich cuts a word only
    when a single word is wider than the whole terminal.
    """
    for column in table.columns:
        words = [w for cell in [column.header, *column.cells] for w in str(getattr(cell, "plain", cell)).split()]
        column.min_width = max((len(w) for w in words), default=1)
    return table


def results_view(results: Mapping[str, Any]) -> Group:
    """A rich renderable summarizing one results.json document, in words (names, not ids)."""
    org = results["organization"]
    overall = results["overall"]
    facets = results["facets"]
    head = Text()
    head.append(_safe(org["name"]), style="bold")
    if str(org["id"]) != str(org["name"]):
        head.append(f"  ({_safe(org['id'])})")
    head.append("\n")
    head.append(f"Overall readiness {_fmt(overall['score'])} (95% interval {_ci(overall['ci'])}), level: ")
    head.append(_safe(overall["level"] or "unknown"), style="bold")
    by_role = results["respondents"]["by_role"]
    head.append(
        f"\nRespondents: {results['respondents']['n']} ("
        + ", ".join(f"{n} {_safe(role_plural(r) if n != 1 else _words(r))}" for r, n in by_role.items())
        + ")"
    )
    barrier = overall.get("barrier")
    if barrier:
        title = (facets.get(barrier) or {}).get("title") or barrier
        head.append(f"\nBarrier to fix first: {_safe(title)}", style="bold red")

    roles = list(by_role)
    dims = Table(title="Dimensions", title_justify="left", box=box.SIMPLE_HEAVY)
    for col in ("dimension", "score", "95% interval", "level", *(role_plural(r) for r in roles)):
        dims.add_column(_cell(col), justify="left" if col in ("dimension", "level") else "right", overflow="fold")
    for d, block in results["dimensions"].items():
        dims.add_row(
            _cell(block.get("title") or d.capitalize()),
            _fmt(block["score"]),
            _ci(block["ci"]),
            _cell(block.get("level") or "–"),
            *(_fmt(block["by_role"].get(r)) for r in roles),
        )

    # each role's view of each facet is in results.json and the report: here it would crowd out the names
    table = Table(title="Facets", title_justify="left", box=box.SIMPLE_HEAVY)
    for col in ("facet", "dimension", "score", "95% interval", "agreement"):
        table.add_column(_cell(col), justify="left" if col in ("facet", "dimension") else "right", overflow="fold")
    for f, block in facets.items():
        style = "red" if f == barrier else None
        dim = block.get("dimension") or f.split(".", 1)[0]
        table.add_row(
            _cell(block.get("title") or f),
            _cell((results["dimensions"].get(dim) or {}).get("title") or dim.capitalize()),
            _fmt(block["score"]),
            _ci(block["ci"]),
            _fmt(block.get("rwg"), 2),
            style=style,
        )
    parts: list[Any] = [head, _fit(dims), _fit(table)]
    bench = results.get("benchmark")
    if bench:
        line = Text()
        if bench.get("peer_n"):
            group = bench.get("peer_group") or {}
            words = ", ".join(f"{_words(k)} {_words(v)}" for k, v in group.items() if v) or "all peers"
            fallback = bench.get("fallback")
            widened = f"; widened: {fallback}" if fallback and fallback not in ("none", "all peers") else ""
            simulated = "simulated " if (bench.get("panel") or {}).get("synthetic") else ""
            line.append(_safe(f"Peers: {bench['peer_n']} {simulated}centers ({words}{widened}). "))
            line.append(
                _safe(
                    "Percentiles: "
                    + ", ".join(
                        f"{(results['dimensions'].get(d) or {}).get('title') or d} {_fmt(b.get('percentile'), 0)}"
                        for d, b in bench["dimensions"].items()
                    )
                )
            )
        else:
            line.append(f"No peer comparison: fewer than {bench['k']} peers available.")
        parts.append(line)
    if results.get("roadmap"):
        road = Table(
            title="Roadmap (first actions; the full list is in roadmap.xlsx)",
            title_justify="left",
            box=box.SIMPLE_HEAVY,
        )
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
                _cell(item.get("owner_name") or _words(item["owner"]).capitalize()),
                _cell(item["why"]),
            )
        parts.append(_fit(road))
    if results.get("warnings"):
        parts.append(Text("Warnings:\n" + "\n".join(f"- {_safe(w)}" for w in results["warnings"]), style="yellow"))
    return Group(*parts)


_PEER_HEADERS = {
    "industry": "Industry",
    "size_band": "Agents",
    "stage": "Stage",
    "organizations": "Centers",
    "respondents": "Respondents",
    "answers": "Answers",
}


def peer_counts_view(counts: Any, *, title: str, width: int | None = None) -> Table:
    """Peer organizations per group (industry, size band, stage) as a table that fits the terminal.

    Values are words ("financial services", "not considering") so that a narrow terminal
    wraps them between words; nothing is cut off. In a terminal too narrow for every
    column (``width``), the answer count goes first, then the respondent count.
    """
    counts = counts.copy()
    for drop in ("answers", "respondents"):
        if width is None or _needed(counts) <= width:
            break
        counts = counts.drop(columns=[drop])
    headers = _PEER_HEADERS
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAVY)
    for col in counts.columns:
        numeric = counts[col].dtype.kind in "iuf"
        table.add_column(
            headers.get(str(col), _words(col)),
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric,
        )
    for row in counts.itertuples(index=False):
        cells: list[Text | str] = []
        for col, value in zip(counts.columns, row):
            if value is None:
                cells.append("–")
            elif col == "size_band":
                cells.append(_cell(str(value).replace("-", "–")))
            elif isinstance(value, str):
                cells.append(_cell(_words(value)))
            else:
                cells.append(f"{value:,}")
        table.add_row(*cells)
    return _fit(table)


def _needed(counts: Any) -> int:
    """Terminal columns the peer table needs: each column's longest word, two spaces between."""
    total = 0
    for col in counts.columns:
        header = _PEER_HEADERS.get(str(col), str(col))
        cells = [f"{v:,}" if not isinstance(v, str) and v is not None else _words(v or "–") for v in counts[col]]
        total += max(len(w) for w in [header, *(w for c in cells for w in c.split())]) + 3
    return total + 2


def print_results(results: Mapping[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(results_view(results))


def _signed(value: Any) -> str:
    return "–" if value is None else f"{value:+.1f}"


def history_view(waves: Any) -> Table:
    """The waves of an assessment history (a frame as ``HistoryStore.waves`` gives it) as a table."""
    table = Table(title="Assessment history", title_justify="left")
    for col in ("org", "name", "wave", "date", "respondents", "overall", "95% CI", "level"):
        table.add_column(
            col, justify="right" if col in ("respondents", "overall", "95% CI") else "left", overflow="fold"
        )
    for row in waves.to_dict("records"):
        ci = (
            None
            if row["ci_low"] != row["ci_low"] or row["ci_high"] != row["ci_high"]
            else [row["ci_low"], row["ci_high"]]
        )
        overall = None if row["overall"] != row["overall"] else row["overall"]
        table.add_row(
            _cell(row["org_id"]),
            _cell(row["name"]),
            _cell(row["wave"]),
            _cell(row["date"] or "–"),
            str(row["respondents"]),
            _fmt(overall),
            _ci(ci),
            _cell(row["level"] or "–"),
        )
    return table


def comparison_view(doc: Mapping[str, Any]) -> Group:
    """A rich renderable summarizing a ``compare`` document: the change of every score, real ones marked."""
    org = doc["organization"]
    titles = (doc.get("titles") or {}).get("scores") or {}
    head = Text()
    head.append(_safe(org.get("name") or org["id"]), style="bold")
    head.append(
        _safe(
            f"\nFrom wave {doc['from']['wave']} ({doc['from']['date'] or 'no date'}, {doc['from']['n']} respondents) "
            f"to wave {doc['to']['wave']} ({doc['to']['date'] or 'no date'}, {doc['to']['n']} respondents)"
        )
    )
    level, barrier = doc.get("level") or {}, doc.get("barrier") or {}
    head.append(_safe(f"\nLevel: {level.get('from') or '–'} → {level.get('to') or '–'}"))
    head.append(
        _safe(
            "\nBarrier: "
            + " → ".join(titles.get(b, b) if b else "none" for b in (barrier.get("from"), barrier.get("to")))
        )
    )
    table = Table(title="Change (95% interval; * real: the interval excludes zero)", title_justify="left")
    for col in ("score", "from", "to", "change", "95% CI", "real"):
        table.add_column(col, justify="left" if col == "score" else "right", overflow="fold")
    for c in doc.get("changes") or []:
        indent = {"overall": "", "dimension": "", "facet": "  "}.get(c["level"], "")
        table.add_row(
            _cell(indent + titles.get(c["id"], c["id"])),
            _fmt(c["from"]),
            _fmt(c["to"]),
            _signed(c["delta"]),
            _signed_ci(c["ci"]),
            "*" if c["real"] else "",
            style="bold" if c["real"] else None,
        )
    parts: list[Any] = [head, table]
    acted = [a for a in doc.get("actions") or [] if a.get("status") in ("Done", "In progress")]
    if acted:
        road = Table(title="Roadmap progress: actions done or in progress", title_justify="left")
        for col in ("action", "status", "facet", "expected", "observed", "95% CI"):
            road.add_column(
                col, justify="right" if col in ("expected", "observed", "95% CI") else "left", overflow="fold"
            )
        for a in acted:
            for n, facet in enumerate(a["facets"]):
                seen = (a.get("observed") or {}).get(facet) or {}
                road.add_row(
                    _cell(a["title"]) if n == 0 else "",
                    _cell(a["status"]) if n == 0 else "",
                    _cell(titles.get(facet, facet)),
                    _signed((a.get("expected") or {}).get(facet)),
                    _signed(seen.get("delta")),
                    _signed_ci(seen.get("ci")),
                )
        parts.append(road)
    if doc.get("warnings"):
        parts.append(Text("Warnings:\n" + "\n".join(f"- {_safe(w)}" for w in doc["warnings"]), style="yellow"))
    return Group(*parts)


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
