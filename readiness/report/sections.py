"""Report sections: Jinja templates under ``templates/report/sections/``, rendered escaped.

Sections are rendered with autoescaping, so organization names and any other user text
are always text, never markup. The environment is built once per process.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from ..io.citations import cite
from ..io.resources import template_path

__all__ = ["render_portfolio", "render_progress", "render_section", "render_trend"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_portfolio(docs: list[Mapping[str, Any]], *, top: int = 15) -> str:
    from ..core import portfolio

    context = {
        "summary": portfolio.summary(docs),
        "ranking": portfolio.ranking(docs).to_dict("records"),
        "gaps": portfolio.common_gaps(docs).head(top).to_dict("records"),
        "actions": portfolio.frequent_actions(docs, phase=1).head(top).to_dict("records"),
    }
    return _environment().get_template("portfolio.html.j2").render(p=context)


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
    env.filters["cite"] = cite  # a source as publication, year and title, never a file name
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
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _ci(ci: Any) -> str:
    return "–" if not ci else f"{ci[0]:.0f}–{ci[1]:.0f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def render_section(name: str, results: Mapping[str, Any], **extra: Any) -> str:
    """The HTML text of a section (``templates/report/sections/<name>.html.j2``)."""
    if not _NAME.match(name):
        raise ValueError(f"bad section name {name!r}")
    return _environment().get_template(f"{name}.html.j2").render(r=results, **extra)
