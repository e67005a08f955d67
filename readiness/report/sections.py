"""Report sections: Jinja templates under ``templates/report/sections/``, rendered escaped.

Sections are rendered with autoescaping, so organization names and any other user text
are always text, never markup. The environment is built once per process. The filters
below turn what the results document holds into words a client reads: role names, KPI
values with their units, dates, ordinals; the templates take every number and threshold
from the document (``method``, ``plan``, ``highlights``), never from here.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from ..core.results import role_plural
from ..io.citations import cite
from ..io.resources import template_path

__all__ = ["kpi_value", "render_portfolio", "render_progress", "render_section", "render_trend"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_portfolio(docs: list[Mapping[str, Any]], *, top: int = 15) -> str:
    """The portfolio tables as HTML."""
    from ..core import portfolio

    context = {
        "summary": portfolio.summary(docs),
        "ranking": portfolio.ranking(docs).to_dict("records"),
        "gaps": portfolio.common_gaps(docs).head(top).to_dict("records"),
        "actions": portfolio.frequent_actions(docs, phase=1).head(top).to_dict("records"),
        "phase_label": _first_phase_label(docs),
    }
    return _environment().get_template("portfolio.html.j2").render(p=_no_nan(context))


def _first_phase_label(docs: list[Mapping[str, Any]]) -> str:
    for doc in docs:
        for phase in (doc.get("plan") or {}).get("phases") or []:
            if phase.get("phase") == 1:
                return str(phase.get("label") or "")
    from ..core.roadmap import PHASES

    return PHASES[1][0]


def _no_nan(value: Any) -> Any:
    """Missing numbers as ``None`` all the way down: pandas hands NaN for a missing value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    try:
        import pandas as pd

        if value is not None and not isinstance(value, (str, bytes, list, dict)) and pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


@functools.lru_cache(maxsize=1)
def _environment():
    """The Jinja environment of the report sections, built once per process (templates compile once)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(template_path("report", "sections"))),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["ci"] = _ci
    env.filters["label"] = lambda s: str(s).replace("_", " ")
    env.filters["pct"] = lambda x: "–" if x is None else f"{_ordinal(round(x))} percentile"
    env.filters["signed"] = _signed
    env.filters["sci"] = _signed_ci
    env.filters["day"] = _day
    env.filters["verdict"] = _change_word
    env.filters["ordinal"] = lambda x: "–" if x is None else _ordinal(round(x))
    env.filters["roles"] = lambda r: role_plural(str(r))
    env.filters["kpi"] = kpi_value
    env.filters["date"] = _date
    env.filters["cite"] = cite  # a source as publication, year and title, never a file name
    env.filters["weeks"] = lambda w: "–" if w is None else f"{w:g}"
    env.filters["dash"] = lambda s: str(s).replace("-", "–")
    return env


def _signed(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:+.{digits}f}"
    return "0" if text.lstrip("+-").strip("0.") == "" else text.replace("-", "−")


def _signed_ci(ci: Any) -> str:
    return "–" if not ci else f"{_signed(ci[0])} to {_signed(ci[1])}"


def _day(value: Any) -> str:
    """``2024-05-14`` as ``14 May 2024`` (no date: "date not recorded")."""
    from datetime import date

    if not value:
        return "date not recorded"
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _change_word(change: Mapping[str, Any]) -> str:
    """A change in words: a real rise or fall, or within chance."""
    if change.get("delta") is None:
        return "not comparable"
    if not change.get("real"):
        return "no, within chance"
    return "yes, a rise" if change["delta"] > 0 else "yes, a fall"


def render_progress(name: str, doc: Mapping[str, Any]) -> str:
    """A section of the progress report (``progress_<name>.html.j2``) for a ``compare`` document."""
    from ..core.change import findings

    if not _NAME.match(name):
        raise ValueError(f"bad section name {name!r}")
    return _environment().get_template(f"progress_{name}.html.j2").render(r=doc, f=findings(doc))


def render_trend(history: Any) -> str:
    """The portfolio's trend table: each center's overall score in each of its waves."""
    from ..core.portfolio import trend_table

    table = trend_table(history)
    return _environment().get_template("trend.html.j2").render(t=table)


def _num(value: Any, digits: int = 0) -> str:
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _ci(ci: Any) -> str:
    return "–" if not ci else f"{ci[0]:.0f}–{ci[1]:.0f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def kpi_value(value: Any, unit: str = "") -> str:
    """A KPI value with its unit: ``11.0%``, ``358 s``, ``12.5% a year``, ``11.00 per call``.

    >>> kpi_value(358.0, "seconds"), kpi_value(10.2, "%"), kpi_value(None, "%")
    ('358 s', '10.2%', '–')
    """
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "%":
        return f"{value:,.1f}%"
    if unit.startswith("%"):
        return f"{value:,.1f}{unit}"
    if unit == "seconds":
        return f"{value:,.0f} s"
    if unit == "currency":
        return f"{value:,.2f} per call"
    return f"{value:,.1f}" + (f" {unit}" if unit else "")


def _date(value: Any) -> str:
    """``2025-03-14`` as "14 March 2025" (anything else as it is)."""
    try:
        day = dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return str(value or "")
    return f"{day.day} {day:%B %Y}"


def render_section(name: str, results: Mapping[str, Any], **extra: Any) -> str:
    """The HTML text of a section (``templates/report/sections/<name>.html.j2``)."""
    if not _NAME.match(name):
        raise ValueError(f"bad section name {name!r}")
    if name == "heatmap":  # the caption describes the figure: the same layout, worked out once
        from .figures import heatmap_layout

        layout = heatmap_layout(results)
        extra = {"roles": layout["roles"], "missing": layout["missing"], **extra}
    return _environment().get_template(f"{name}.html.j2").render(r=results, **extra)
