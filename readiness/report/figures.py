"""Figures of the client report, drawn from a results.json document.

Report layer: every function reads a results.json document (a plain ``dict`` as returned by
:func:`readiness.core.assessment.assess`), draws, and returns what it drew on. Nothing here
computes a score, a percentile or a priority: the numbers come from the document, and
the functions only lay them out. Functions that draw one panel take ``ax=None`` and return
the Axes; :func:`roadmap_timeline` draws two panels and returns the Figure.

Styling is local: each function draws inside ``plt.rc_context(STYLE)`` and never changes
matplotlib's global settings. Colours are colour-blind safe and differ in lightness, so a
figure printed in grey still reads; where colour carries meaning, hatching or markers
carry it too. Text that comes from users (organization name, action titles, published
figures) is shown as plain text: ``$`` is escaped so that it never starts mathtext.

Every function copes with what a real document may lack — no benchmark, a withheld peer
group, ``null`` scores, missing roles, an empty roadmap — by drawing a short note in
place of the missing part, never by inventing data and never by raising.

Example
-------
>>> import matplotlib.pyplot as plt                                       # doctest: +SKIP
>>> doc = assess(responses, profiles=profiles, peers=panel)["NORTHBANK"]   # doctest: +SKIP
>>> ax = dimension_scores(doc)                                             # doctest: +SKIP
>>> ax.figure.savefig("dimensions.png")                                    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps, patheffects
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from ..core.defaults import K as DEFAULT_K
from ..core.instrument import DIMENSIONS
from ..core.profile import CONTEXT, KPIS, kpi_name
from ..core.results import role_plural
from ..core.roadmap import PHASES, phase_bounds
from ..io.citations import cite

__all__ = [
    "DIMENSION_COLORS",
    "DIMENSION_HATCHES",
    "DIMENSION_MARKERS",
    "MAX_ACTIONS",
    "MAX_RANKED",
    "MAX_TRENDS",
    "PORTFOLIO_FIGURES",
    "PROGRESS_FIGURES",
    "REPORT_FIGURES",
    "ROLE_PALETTE",
    "STYLE",
    "action_progress",
    "alt_text",
    "change_chart",
    "dimension_scores",
    "facet_heatmap",
    "heatmap_layout",
    "kpi_bullets",
    "peer_distribution",
    "portfolio_dimensions",
    "portfolio_gaps",
    "portfolio_ranking",
    "portfolio_trend",
    "projection_chart",
    "roadmap_timeline",
    "role_gap",
]

#: matplotlib settings every figure is drawn with (applied with ``plt.rc_context``).
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9.5,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "hatch.linewidth": 0.7,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "text.usetex": False,
    # glyphs from their outlines, without FreeType's hinting: smoother text in print, and
    # about a sixth less drawing time (hinting runs each glyph's bytecode)
    "text.hinting": "none",
    "pdf.fonttype": 42,
    # how the report writes its figures (readiness.report.notebook.figure): SVG whose words
    # are text, ids salted with a fixed string so the same figure gives the same bytes
    "svg.fonttype": "none",
    "svg.hashsalt": "readiness",
}

#: One colour per dimension: colour-blind safe hues at CIE lightness 25, 44, 66 and 89,
#: so the four stay apart when printed in grey.
DIMENSION_COLORS: dict[str, str] = {
    "people": "#1F3A68",  # navy
    "process": "#B2461B",  # vermillion
    "technology": "#4AB0A6",  # teal
    "knowledge": "#F0E442",  # yellow
}
#: Hatching that carries the dimension wherever colour alone would (roadmap bars).
DIMENSION_HATCHES: dict[str, str] = {"people": "", "process": "///", "technology": "...", "knowledge": "xxx"}
#: Markers that carry the dimension on line plots (projection).
DIMENSION_MARKERS: dict[str, str] = {"people": "o", "process": "s", "technology": "^", "knowledge": "D"}
#: (colour, marker) of each role, in the instrument's role order: colour-blind safe hues
#: that differ in lightness, and a marker each, so roles stay apart in grey print.
ROLE_PALETTE: tuple[tuple[str, str], ...] = (
    ("#0072B2", "o"),
    ("#E69F00", "s"),
    ("#2B2B2B", "D"),
    ("#009E73", "^"),
    ("#CC79A7", "v"),
    ("#56B4E9", "P"),
)
#: Width of every figure, in inches: it prints at its own size on an A4 page (fonts true to size).
WIDTH = 7.2
#: Roadmap actions shown on the timeline; the rest are counted in a note.
MAX_ACTIONS = 20

_OTHER_COLOR = "#8C8C8C"
_EDGE = "#2B2B2B"
_BAND = "#E0E0E0"
_MUTED = "#6B6B6B"
_MISSING = "#F2F2F2"
_SCORE_CMAP = "YlGnBu"  # sequential, colour-blind safe, lightness falls with the score
_GAP_CMAP = "OrRd"  # sequential, colour-blind safe, lightness falls with the gap
_LATER_WIDTH = 13.0  # weeks of the axis given to the backlog after the first year

_F = TypeVar("_F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- helpers
def _styled(func: _F) -> _F:
    """Run a drawing function inside :data:`STYLE` without touching global settings.

    A figure the function made itself is laid out once, when it is finished
    (:func:`_fit`); a caller's own figure keeps the caller's layout.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context(STYLE):  # type: ignore[arg-type]  # matplotlib types keys as literals
            drawn = func(*args, **kwargs)
            _fit(drawn if isinstance(drawn, Figure) else drawn.figure)
            return drawn

    return wrapper  # type: ignore[return-value]


def _new_figure(size: tuple[float, float]) -> Figure:
    """A figure to be laid out by :func:`_fit` when it is drawn."""
    fig = plt.figure(figsize=size)
    fig._readiness_fit = True  # type: ignore[attr-defined]
    return fig


def _fit(fig: Figure) -> None:
    """Lay a finished figure out once, its margins fitted to its labels, titles and legends.

    One pass of matplotlib's tight layout, then nothing: a constrained layout measured
    every text twice more each time the figure was drawn, a fifth of a report's drawing.
    """
    if getattr(fig, "_readiness_fit", False):
        fig._readiness_fit = False  # type: ignore[attr-defined]
        with _at_layout_dpi(fig):
            fig.tight_layout(pad=0.5)
        _drop_layout_engine(fig)


def _drop_layout_engine(fig: Figure) -> None:
    """Leave ``fig`` without a layout engine, its axes where they are.

    ``tight_layout`` leaves a placeholder engine behind, and with any engine at all
    ``savefig`` draws the figure twice: a dry run for the engine, then the real one.
    """
    with plt.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)  # None under these settings: no engine at all


#: The resolution the report's figures are laid out at: SVG's, 72 units to the inch, in
#: which the report writes them (:func:`readiness.report.notebook.figure`).
LAYOUT_DPI = 72.0


@contextlib.contextmanager
def _at_layout_dpi(fig: Figure) -> Iterator[None]:
    """Measure the figure's texts at :data:`LAYOUT_DPI`, the resolution the report writes it at.

    The layout then measures each text as the saved figure sizes it: an SVG's text is
    sized in points, one to a unit. Positions are fractions of the figure, so a figure
    saved at another resolution (a PNG at ``savefig.dpi``) is laid out the same.
    """
    kept = fig.dpi
    fig.dpi = LAYOUT_DPI
    try:
        yield
    finally:
        fig.dpi = kept


def _plain(text: Any) -> str:
    """User text as plain matplotlib text: ``$`` escaped so it never starts mathtext."""
    return str(text).replace("$", r"\$")


def _short(text: Any, width: int) -> str:
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder="…")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width)) or text


def _org_name(results: Mapping[str, Any]) -> str:
    org = results.get("organization") or {}
    return _plain(_short(org.get("name") or org.get("id") or "this center", 60))


def _num(value: Any) -> float | None:
    """A finite float, or ``None`` for anything missing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _ordinal(value: float) -> str:
    n = int(round(value))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _label(ident: Any) -> str:
    """An identifier from the document as a display label (plain text)."""
    return _plain(str(ident).replace("_", " ").capitalize())


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    return _new_figure(size).add_subplot()


def _figure_width(ax: Axes) -> float:
    """The width of the figure that holds ``ax``, in points."""
    return float(ax.get_figure().get_size_inches()[0]) * 72.0  # type: ignore[union-attr]  # an Axes is always on a figure


def _set_title(ax: Axes, what: str, name: str, *details: str, share: float = 0.92, **kwargs: Any) -> None:
    """A title of three parts: what the figure shows, whose it is, then details.

    Lines are wrapped to about ``share`` of the figure's width: the title starts at the
    axes' left edge, so figures with long row labels pass a smaller share.
    """
    fig_width = _figure_width(ax)
    width = max(36, int(fig_width * share / (float(plt.rcParams["axes.titlesize"]) * 0.6)))
    lines = [what, name, *(d for d in details if d)]
    ax.set_title("\n".join(_wrap(line, width) for line in lines), **kwargs)


def _note(ax: Axes, message: str, *, title: str | None = None) -> Axes:
    """Replace a panel's content with a plain explanatory note."""
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    ax.text(
        0.5,
        0.5,
        _wrap(message, 70),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10.5,
        color="#333333",
        linespacing=1.4,
        bbox={"boxstyle": "round,pad=0.8", "fc": "#F7F7F7", "ec": "#BBBBBB"},
    )
    return ax


def _dimension_ids(results: Mapping[str, Any]) -> list[str]:
    dims = results.get("dimensions") or {}
    return [d for d in DIMENSIONS if d in dims] + [d for d in dims if d not in DIMENSIONS]


def _dim_title(results: Mapping[str, Any], dim: str) -> str:
    """A dimension's name as the document gives it (its title), else the id in words."""
    return _plain(((results.get("dimensions") or {}).get(dim) or {}).get("title") or _label(dim))


def _facet_dimension(facet: str, block: Mapping[str, Any]) -> str:
    return str(block.get("dimension") or facet.split(".")[0])


def _role_order(results: Mapping[str, Any]) -> list[str]:
    """The roles in the instrument's order: from the document's instrument block, else its counts."""
    roles = list((results.get("instrument") or {}).get("roles") or [])
    counted = (results.get("respondents") or {}).get("by_role") or {}
    return roles + [r for r in counted if r not in roles]


def _roles(results: Mapping[str, Any], blocks: Iterable[Mapping[str, Any] | None]) -> list[str]:
    """The roles that have a score in any of ``blocks``, in the instrument's order."""
    seen: list[str] = []
    for block in blocks:
        for role, value in (block or {}).items():
            if role not in seen and _num(value) is not None:
                seen.append(role)
    order = _role_order(results)
    return [r for r in order if r in seen] + [r for r in seen if r not in order]


def _role_styles(results: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """(colour, marker) per role: by the role's place in the instrument's order, grey past the palette."""
    return {
        role: ROLE_PALETTE[n] if n < len(ROLE_PALETTE) else (_OTHER_COLOR, "X")
        for n, role in enumerate(_role_order(results))
    }


def _withheld_roles(results: Mapping[str, Any]) -> list[str]:
    return [str(r) for r in (results.get("respondents") or {}).get("withheld_roles") or []]


def _withheld_text(results: Mapping[str, Any]) -> str:
    """'supervisors, managers withheld (roles where fewer than 3 answered are not shown)', for legends and notes."""
    roles = ", ".join(_plain(role_plural(r)) for r in _withheld_roles(results))
    role_min = (results.get("respondents") or {}).get("role_min") or (results.get("method") or {}).get("role_min")
    return f"{roles} withheld (roles where fewer than {role_min} answered are not shown)"


def _benchmark(results: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The benchmark block when it holds peer statistics, else ``None`` and why not."""
    bench = results.get("benchmark")
    if not bench:
        return None, (f"No peer benchmark: no peer panel was given (a benchmark needs at least {DEFAULT_K} peers).")
    if bench.get("peer_n") is None:
        k = bench.get("k") or DEFAULT_K
        return None, (
            f"No peer benchmark: fewer than {k} peers. Peer statistics are withheld so that no peer can be recognized."
        )
    return dict(bench), None


def _withheld(block: Mapping[str, Any] | None) -> bool:
    return not block or bool(block.get("withheld")) or block.get("peer_n") is None


def _peer_group_text(bench: Mapping[str, Any]) -> str:
    group = bench.get("peer_group") or {}
    parts = []
    if group.get("industry"):
        parts.append(str(group["industry"]).replace("_", " ").capitalize())
    if group.get("size_band"):
        parts.append(f"{str(group['size_band']).replace('-', '–')} agents")
    if group.get("stage"):
        parts.append(str(group["stage"]).replace("_", " "))
    text = " · ".join(parts) if parts else "all peers"
    fallback = bench.get("fallback")
    if fallback and fallback not in ("none", "all peers"):
        text += f" (group widened: {fallback})"
    if _simulated(bench):
        text += " · simulated centers, not real ones"
    return _plain(text)


def _simulated(bench: Mapping[str, Any]) -> bool:
    """The peers are a synthetic panel (``benchmark.panel.synthetic``): every figure says so."""
    return bool((bench.get("panel") or {}).get("synthetic"))


def _luminance(rgb: Sequence[float]) -> float:
    r, g, b = rgb[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_color(rgb: Sequence[float]) -> str:
    return "white" if _luminance(rgb) < 0.45 else "black"


def _reserve_legend_row(ax: Axes, n_rows: int, depth: float = 0.95) -> None:
    """Inverted row axis with an empty strip below the last row, where the legend goes."""
    ax.set_ylim(n_rows - 0.5 + depth, -0.6)


# --------------------------------------------------------------------------- 1. dimensions
@_styled
def dimension_scores(results: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """Dimension scores with 95 % intervals, against the peer middle 50 % when benchmarked.

    One horizontal bar per dimension (people, process, technology, knowledge), its
    bootstrap interval as an error bar and its value written inside the bar, at its
    start (or, for a bar too short to hold it, right of every mark of its row), so no
    label covers the interval, the peer band or the median. The peer percentile goes
    under the dimension's name. When the document has a peer benchmark,
    each bar sits on a light band from the peer group's first to third quartile, with the
    peer median as a black tick.

    Parameters
    ----------
    results : dict
        A results.json document.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new 8 x 4.2 inch figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (WIDTH, 3.9))
    dims = _dimension_ids(results)
    name = _org_name(results)
    if not dims:
        return _note(ax, "No dimension scores in this document.", title=f"Readiness by dimension\n{name}")
    bench, missing_reason = _benchmark(results)
    dim_bench = (bench or {}).get("dimensions") or {}
    handles: list[Any] = []
    labels: list[str] = []
    tick_labels: list[str] = []
    right_edge = 100.0

    for i, dim in enumerate(dims):
        block = (results.get("dimensions") or {}).get(dim) or {}
        peer = dim_bench.get(dim)
        marks: list[float] = []
        starts: list[float] = []  # where the marks other than the bar begin
        if peer is not None and bench is not None and not _withheld(peer):
            q1, q3, median = _num(peer.get("q1")), _num(peer.get("q3")), _num(peer.get("median"))
            if q1 is not None and q3 is not None:
                ax.add_patch(Rectangle((q1, i - 0.4), q3 - q1, 0.8, facecolor=_BAND, edgecolor="none", zorder=1))
                marks.append(q3)
                starts.append(q1)
            if median is not None:
                starts.append(median)
                ax.plot([median, median], [i - 0.4, i + 0.4], color="black", lw=2.2, zorder=4, solid_capstyle="butt")
                marks.append(median)
        percentile = _num(block.get("percentile"))
        title = _plain(block.get("title") or _label(dim))
        tick_labels.append(
            f"{title}\n{_ordinal(percentile)} percentile" if bench is not None and percentile is not None else title
        )
        score = _num(block.get("score"))
        if score is None:
            ax.text(
                1.5, i, "no score (too few answers)", va="center", ha="left", color=_MUTED, fontstyle="italic", zorder=6
            )
            continue
        ax.barh(
            i,
            score,
            height=0.5,
            color=DIMENSION_COLORS.get(dim, _OTHER_COLOR),
            edgecolor=_EDGE,
            linewidth=0.6,
            zorder=2,
        )
        marks.append(score)
        ci = block.get("ci")
        if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
            low, high = float(ci[0]), float(ci[1])
            ax.errorbar(
                score,
                i,
                xerr=[[max(0.0, score - low)], [max(0.0, high - score)]],
                fmt="none",
                ecolor="black",
                elinewidth=1.2,
                capsize=4,
                capthick=1.2,
                zorder=5,
            )
            marks.append(high)
            starts.append(low)
        if score >= 8.0 and min(starts, default=score) >= 6.5:
            # inside the bar, at its start: clear of the interval, the peer band and the median
            color = _text_color(matplotlib.colors.to_rgb(DIMENSION_COLORS.get(dim, _OTHER_COLOR)))
            ax.text(
                1.0, i, f"{score:.0f}", va="center", ha="left", fontsize=9.5, fontweight="bold", color=color, zorder=6
            )
        else:  # too short to hold it: right of every mark of the row
            x = max(marks) + 1.5
            ax.text(x, i, f"{score:.0f}", va="center", ha="left", fontsize=9.5, fontweight="bold", zorder=6)
            right_edge = max(right_edge, x + 6.0)

    if bench is not None:
        handles.append(Patch(facecolor=_BAND, edgecolor="none"))
        simulated = "simulated " if _simulated(bench) else ""
        labels.append(f"{simulated}peer middle 50% (n = {bench['peer_n']})")
        handles.append(Line2D([], [], color="black", lw=2.2, marker="|", markersize=0, linestyle="-"))
        labels.append(f"{simulated}peer median")
    handles.append(Line2D([], [], color="black", lw=1.2, marker="|", markersize=8, linestyle="-"))
    level = _num(((results.get("method") or {}).get("bootstrap") or {}).get("level")) or 0.95
    labels.append(f"{level * 100:.0f}% interval")
    if bench is None:
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(
            "no peer benchmark" if results.get("benchmark") is None else "peer benchmark withheld (too few peers)"
        )

    ax.set_yticks(range(len(dims)), labels=tick_labels)
    for tick in ax.get_yticklabels():
        tick.set_linespacing(1.25)
    ax.tick_params(axis="y", length=0)
    _reserve_legend_row(ax, len(dims), depth=0.8)
    ax.set_xlim(0, right_edge)
    ax.set_xticks(range(0, 101, 10))
    ax.spines["bottom"].set_bounds(0, 100)
    ax.xaxis.grid(True, color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("score (0–100)")
    overall = results.get("overall") or {}
    what = "Readiness by dimension"
    if _num(overall.get("score")) is not None:
        what += f" · overall {float(overall['score']):.0f}"
        if overall.get("level"):
            what += f" ({_plain(overall['level'])})"
    _set_title(ax, what, name)
    ax.legend(
        handles, labels, loc="lower center", ncol=len(handles), handlelength=1.6, columnspacing=1.4, borderaxespad=0.2
    )
    return ax


# --------------------------------------------------------------------------- 2. peers
@_styled
def peer_distribution(results: Mapping[str, Any], ax: Axes | None = None, level: str = "dimensions") -> Axes:
    """Where the organization sits among its peers, one histogram row per dimension.

    The peers' values are never available, only binned counts
    (``benchmark[...]["distribution"]``); each row shows them as grey bars, the
    organization's score as a black line, and its percentile as a label.

    Parameters
    ----------
    results : dict
        A results.json document.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    level : {"dimensions", "overall"}
        One row per dimension, or one row for the overall score.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if level not in ("dimensions", "overall"):
        raise ValueError(f"level must be 'dimensions' or 'overall', not {level!r}")
    rows = _dimension_ids(results) if level == "dimensions" else ["overall"]
    ax = _new_axes(ax, (WIDTH, 1.3 + 0.62 * max(len(rows), 1)))
    name = _org_name(results)
    bench, reason = _benchmark(results)
    if bench is None:
        return _note(ax, reason or "No peer benchmark.", title=f"Position among peers\n{name}")
    if not rows:
        return _note(ax, "No dimension scores in this document.", title=f"Position among peers\n{name}")

    blocks = {r: (bench.get("overall") if r == "overall" else (bench.get("dimensions") or {}).get(r)) for r in rows}
    counts_of = {}
    for r, block in blocks.items():
        dist = (block or {}).get("distribution") or {}
        if not _withheld(block) and dist.get("counts") and dist.get("bin_edges"):
            counts_of[r] = (np.asarray(dist["bin_edges"], dtype=float), np.asarray(dist["counts"], dtype=float))
    tallest = max((c.max() for _, c in counts_of.values() if c.size), default=0.0) or 1.0
    k = bench.get("k") or DEFAULT_K

    n = len(rows)
    for i, r in enumerate(rows):
        base = float(n - 1 - i)
        ax.plot([0, 100], [base, base], color="#9A9A9A", lw=0.8, zorder=1)
        if r not in counts_of:
            ax.text(
                50,
                base + 0.35,
                f"withheld: fewer than {k} peers have a score",
                ha="center",
                va="center",
                color=_MUTED,
                fontstyle="italic",
            )
            continue
        edges, counts = counts_of[r]
        shown = counts > 0  # an empty band has no bar to draw
        ax.bar(
            edges[:-1][shown],
            counts[shown] / tallest * 0.75,
            width=np.diff(edges)[shown],
            bottom=base,
            align="edge",
            color="#BDBDBD",
            edgecolor="white",
            linewidth=0.8,
            zorder=2,
        )
        block = blocks[r] or {}
        value = _num(block.get("value"))
        if value is None:
            value = (
                _num(((results.get("dimensions") or {}).get(r) or {}).get("score"))
                if r != "overall"
                else _num((results.get("overall") or {}).get("score"))
            )
        if value is None:
            ax.text(
                50, base + 0.88, "no score for this center", ha="center", va="center", color=_MUTED, fontstyle="italic"
            )
            continue
        ax.plot([value, value], [base, base + 0.85], color="black", lw=2.4, zorder=4, solid_capstyle="butt")
        ax.plot([value], [base + 0.85], marker="v", color="black", markersize=7, zorder=5)
        percentile = _num(block.get("percentile"))
        text = f"this center: {value:.0f}"
        if percentile is not None:
            text += f" · {_ordinal(percentile)} percentile"
        right_side = value <= 60
        ax.annotate(
            text,
            (value, base + 0.85),
            xytext=(7 if right_side else -7, 0),
            textcoords="offset points",
            ha="left" if right_side else "right",
            va="center",
            fontsize=9,
            fontweight="bold",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        )
        row_n = block.get("peer_n")
        if row_n is not None and row_n != bench.get("peer_n"):
            ax.text(100, base + 0.15, f"n = {row_n}", ha="right", va="bottom", fontsize=8, color=_MUTED)

    ax.set_yticks(
        [n - 1 - i + 0.4 for i in range(n)],
        labels=["Overall" if r == "overall" else _dim_title(results, r) for r in rows],
    )
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_ylim(-0.1, n + 0.05)
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 10))
    ax.set_xlabel(
        f"score (0–100) · grey bars: peers per {_bin_width(counts_of):g}-point band (tallest = {int(tallest)} peers)"
    )
    _set_title(ax, f"Position among {bench['peer_n']} peers", name, f"peer group: {_peer_group_text(bench)}")
    return ax


def _bin_width(counts_of: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> float:
    for edges, _ in counts_of.values():
        if edges.size > 1:
            return float(np.round(edges[1] - edges[0], 2))
    return 5.0


# --------------------------------------------------------------------------- 3. facets
@_styled
def facet_heatmap(results: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """Facet scores, targets, gaps and role scores as a coloured table.

    Rows are the facets grouped under their dimension; columns are the facet score,
    its target and gap (from ``results["plan"]`` when a roadmap was planned), and the
    score each role gives. Scores and targets share one sequential 0–100 scale, gaps
    another; both are colour-blind safe and darken monotonically, so they read in grey.
    Cells carry their numbers; missing cells show a dash on light grey hatching (and the
    caption says so only when there are any). The barrier facet is outlined and starred.

    Parameters
    ----------
    results : dict
        A results.json document.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure 8 inches wide, its height from the number of facets,
        when omitted. The colour bars are drawn in inset axes just right of ``ax``, so
        they take no space from a caller's layout.

    Returns
    -------
    matplotlib.axes.Axes
    """
    layout = heatmap_layout(results)
    facets = results.get("facets") or {}
    n_rows = len(facets) + len({_facet_dimension(f, b or {}) for f, b in facets.items()})
    ax = _new_axes(ax, (WIDTH, 1.3 + 0.17 * max(n_rows, 4)))
    name = _org_name(results)
    if not facets:
        return _note(ax, "No facet scores in this document.", title=f"Facets against target\n{name}")
    plan = results.get("plan") or {}
    targets = plan.get("targets") or {}
    gaps = plan.get("gaps") or {}
    roles = layout["roles"]
    columns = layout["columns"]
    barrier = (results.get("overall") or {}).get("barrier")

    dims_present = []
    for facet, block in facets.items():
        d = _facet_dimension(facet, block)
        if d not in dims_present:
            dims_present.append(d)
    order = [d for d in DIMENSIONS if d in dims_present] + [d for d in dims_present if d not in DIMENSIONS]
    rows: list[tuple[str, str]] = []
    for d in order:
        rows.append(("header", d))
        rows.extend(("facet", f) for f, b in facets.items() if _facet_dimension(f, b) == d)

    score_cmap, gap_cmap = colormaps[_SCORE_CMAP], colormaps[_GAP_CMAP]
    score_norm = Normalize(0, 100)
    gap_values = [v for v in (_num(g) for g in gaps.values()) if v is not None]
    gap_norm = Normalize(0, max(10.0, max(gap_values, default=0.0)))

    labels = []
    filled: list[tuple[int, int]] = []
    colors: list[tuple[float, float, float, float]] = []
    missing: list[tuple[int, int]] = []
    for y, (kind, ident) in enumerate(rows):
        if kind == "header":
            labels.append(_dim_title(results, ident).upper())
            ax.plot([-0.02, len(columns)], [y + 0.97, y + 0.97], color=_EDGE, lw=0.8, clip_on=False)
            continue
        block = facets[ident]
        title = _plain(block.get("title") or ident)
        labels.append(f"★ {title}" if ident == barrier else title)
        for x, column in enumerate(columns):
            if column == "score":
                value, cmap, norm = _num(block.get("score")), score_cmap, score_norm
            elif column == "target":
                value, cmap, norm = _num(targets.get(ident)), score_cmap, score_norm
            elif column == "gap":
                value, cmap, norm = _num(gaps.get(ident)), gap_cmap, gap_norm
            else:
                value, cmap, norm = _num((block.get("by_role") or {}).get(column)), score_cmap, score_norm
            if value is None:
                missing.append((x, y))
                ax.text(x + 0.5, y + 0.5, "–", ha="center", va="center", color=_MUTED, fontsize=9, in_layout=False)
                continue
            rgb = cmap(norm(value))
            filled.append((x, y))
            colors.append(rgb)
            ax.text(
                x + 0.5,
                y + 0.5,
                f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=9,
                color=_text_color(rgb),
                in_layout=False,  # inside its cell: nothing for the layout to measure
            )
        if ident == barrier:
            ax.add_patch(
                Rectangle(
                    (0.03, y + 0.04),
                    len(columns) - 0.06,
                    0.92,
                    facecolor="none",
                    edgecolor="black",
                    linewidth=2.2,
                    zorder=5,
                )
            )

    # the cells as two collections (coloured, and hatched where there is no number): one
    # artist each, drawn in one pass, instead of a patch per cell
    _add_cells(ax, filled, facecolors=colors, edgecolors="white", linewidths=1.0)
    _add_cells(ax, missing, facecolors=_MISSING, edgecolors="#B5B5B5", hatch="///", linewidths=0.0)
    n_lead = 3 if targets else 1
    if roles:
        ax.plot([n_lead, n_lead], [0, len(rows)], color="white", lw=4, zorder=4)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_yticks([y + 0.5 for y in range(len(rows))], labels=labels)
    for tick, (kind, ident) in zip(ax.get_yticklabels(), rows):
        tick.set_fontsize(8.5)  # rows are 0.17 inch: a larger font would touch the next row's name
        if kind == "header" or ident == barrier:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.xaxis.tick_top()
    col_labels = [c if c in ("score", "target", "gap") else _plain(role_plural(c)) for c in columns]
    ax.set_xticks([x + 0.5 for x in range(len(columns))], labels=col_labels)
    ax.tick_params(axis="x", length=0, labelsize=8.5)
    for spine in ax.spines.values():
        spine.set_visible(False)

    # What a dash means goes under the lowest colour bar, with the key (an axis label of
    # the table would sit where the bars are placed).
    parts = []
    if layout["missing"]:
        parts.append("'–': no score")
    if _withheld_roles(results):
        parts.append(_withheld_text(results))
    elif (results.get("respondents") or {}).get("withheld_in"):
        role_min = (results.get("respondents") or {}).get("role_min") or (results.get("method") or {}).get("role_min")
        parts.append(f"'–' also where fewer than {role_min} of a role answered the facet (withheld)")
    # Colour bars go under the table, so its columns keep the figure's width.
    fig = ax.get_figure()
    score_label = "score" + (" / target" if targets else "") + (" / role score" if roles else "")
    bars = [(score_norm, score_cmap, score_label)]
    if targets:
        bars.append((gap_norm, gap_cmap, "gap to target (points)"))
    for i, (norm, cmap, label) in enumerate(reversed(bars)):  # each new bar goes nearer the table
        if i == 0 and parts:  # the lowest
            label = "\n".join([label, *parts])
        bar = fig.colorbar(  # type: ignore[union-attr]  # an Axes is always on a figure
            plt.cm.ScalarMappable(norm=norm, cmap=cmap),
            ax=ax,
            location="bottom",
            shrink=0.5,
            aspect=45,
            pad=0.015,
        )
        bar.set_label(label, labelpad=1, fontsize=8.5)
        bar.ax.tick_params(labelsize=8)
        bar.outline.set_linewidth(0.5)

    notes = []
    if targets:
        notes.append(f"target: {_plain(plan.get('target') or 'as planned')}")
    else:
        notes.append("no targets: no roadmap was planned")
    if barrier:
        barrier_title = (facets.get(barrier) or {}).get("title") or barrier
        notes.append(f"★ barrier: {_plain(_short(barrier_title, 40))}")
    _set_title(ax, "Facets against target", name, " · ".join(notes), share=0.7, pad=10)
    return ax


def _add_cells(ax: Axes, corners: Sequence[tuple[int, int]], **style: Any) -> None:
    """Unit squares with their lower-left corners at ``corners``, as one collection (none when empty)."""
    if not corners:
        return
    xy = np.asarray(corners, dtype=float)[:, None, :]
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    ax.add_collection(PolyCollection(xy + square, **style), autolim=False)  # the limits are set by hand


def heatmap_layout(results: Mapping[str, Any]) -> dict[str, Any]:
    """What the facet heat map shows: its role columns, all its columns, and whether any cell is empty.

    The report's caption and the figure both read this, so the caption speaks of empty
    cells exactly when the figure has some.
    """
    facets = results.get("facets") or {}
    plan = results.get("plan") or {}
    targets = plan.get("targets") or {}
    gaps = plan.get("gaps") or {}
    roles = _roles(results, ((block or {}).get("by_role") for block in facets.values()))
    columns = ["score"] + (["target", "gap"] if targets else []) + roles
    missing = False
    for f, block in facets.items():
        block = block or {}
        values = [block.get("score")]
        if targets:
            values += [targets.get(f), gaps.get(f)]
        values += [(block.get("by_role") or {}).get(r) for r in roles]
        missing = missing or any(_num(v) is None for v in values)
    return {"roles": roles, "columns": columns, "missing": missing}


# --------------------------------------------------------------------------- 4. roles
#: Marker sizes by role: drawn largest first, so roles that agree show as nested shapes.
_ROLE_SIZES = (10.0, 8.5, 7.0, 5.5, 4.5)


@_styled
def role_gap(results: Mapping[str, Any], ax: Axes | None = None, level: str = "dimensions") -> Axes:
    """Perception gap by role: each role's score per dimension (or facet) as a dumbbell.

    Agents, supervisors and managers often see the same center differently; a line joins
    the lowest and highest role score of each row, and the row with the largest gap is
    annotated. Roles without a score are left out (and named in the legend). Markers
    shrink from role to role so that roles giving the same score show as nested shapes.

    Parameters
    ----------
    results : dict
        A results.json document.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    level : {"dimensions", "facets"}
        One row per dimension, or one per facet (grouped under its dimension).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if level not in ("dimensions", "facets"):
        raise ValueError(f"level must be 'dimensions' or 'facets', not {level!r}")
    rows: list[tuple[str, str, Mapping[str, Any]]] = []  # (kind, label, block)
    ids: list[str | None] = []
    if level == "dimensions":
        for d in _dimension_ids(results):
            rows.append(("item", _dim_title(results, d), (results.get("dimensions") or {}).get(d) or {}))
            ids.append(d)
    else:
        facets = results.get("facets") or {}
        dims: list[str] = []
        for f, b in facets.items():
            d = _facet_dimension(f, b or {})
            if d not in dims:
                dims.append(d)
        for d in [d for d in DIMENSIONS if d in dims] + [d for d in dims if d not in DIMENSIONS]:
            rows.append(("header", _dim_title(results, d).upper(), {}))
            ids.append(None)
            for f, b in facets.items():
                if _facet_dimension(f, b or {}) == d:
                    rows.append(("item", _plain((b or {}).get("title") or f), b or {}))
                    ids.append(f)
    ax = _new_axes(ax, (WIDTH, 1.8 + (0.4 if level == "dimensions" else 0.26) * max(len(rows), 1)))
    name = _org_name(results)
    what = f"How each role sees the {'dimensions' if level == 'dimensions' else 'facets'}"
    title = f"{what}\n{name}"
    roles = _roles(results, (b.get("by_role") for kind, _, b in rows if kind == "item"))
    styles = _role_styles(results)
    withheld = _withheld_roles(results)
    if not rows or not roles:
        message = "No scores by role in this document (at least one role needs respondents)."
        if withheld:
            message = f"Scores by role withheld: {_withheld_text(results)}."
        return _note(ax, message, title=title)

    values = [
        {r: _num((b.get("by_role") or {}).get(r)) for r in roles} if kind == "item" else {} for kind, _, b in rows
    ]
    spreads = []
    for row in values:
        known = [v for v in row.values() if v is not None]
        spreads.append(max(known) - min(known) if len(known) >= 2 else -1.0)
    widest = int(np.argmax(spreads)) if max(spreads) > 0 else None
    gap = (results.get("highlights") or {}).get("role_gap")
    if level == "dimensions" and gap and gap.get("id") in ids:
        # the gap the report's text names, computed once in the results document (when it
        # matches the scores drawn: a document edited by hand may not)
        row = values[ids.index(gap["id"])]
        high, low = row.get(gap.get("high_role")), row.get(gap.get("low_role"))
        if high is not None and low is not None and abs(high - low - float(gap["points"])) < 1e-3:
            widest = ids.index(gap["id"])
            spreads[widest] = float(gap["points"])
        else:
            gap = None
    else:
        gap = None

    all_values = [v for row in values for v in row.values() if v is not None]
    lo, hi = min(all_values), max(all_values)
    pad = max(6.0, (hi - lo) * 0.25)
    xlim = (max(0.0, lo - pad), min(100.0, hi + pad))
    size = dict(zip(roles, _ROLE_SIZES)) if len(roles) <= len(_ROLE_SIZES) else {r: 7.0 for r in roles}

    for i, ((kind, _, _), row) in enumerate(zip(rows, values)):
        if kind == "header":
            ax.axhline(i + 0.45, color="#9A9A9A", lw=0.6, zorder=0)
            continue
        present = {r: v for r, v in row.items() if v is not None}
        if not present:
            ax.text(sum(xlim) / 2, i, "no role scores", ha="center", va="center", color=_MUTED, fontstyle="italic")
            continue
        if len(present) >= 2:
            ax.plot(
                [min(present.values()), max(present.values())],
                [i, i],
                color="#4D4D4D" if i == widest else "#BDBDBD",
                lw=3.5 if i == widest else 2.5,
                zorder=1,
                solid_capstyle="round",
            )
        for r, v in present.items():
            color, marker = styles.get(r, (_OTHER_COLOR, "X"))
            ax.plot(
                [v],
                [i],
                marker=marker,
                markersize=size[r],
                color=color,
                markeredgecolor="white",
                markeredgewidth=0.8,
                linestyle="none",
                zorder=3,
            )

    if widest is not None:
        present = {r: v for r, v in values[widest].items() if v is not None}
        high_role = max(present, key=lambda r: present[r])
        low_role = min(present, key=lambda r: present[r])
        if gap and gap.get("id") == ids[widest]:
            high_role, low_role = gap["high_role"], gap["low_role"]
        middle = (present[high_role] + present[low_role]) / 2
        ax.annotate(
            f"largest gap: {spreads[widest]:.0f} points "
            f"({_plain(role_plural(high_role))} vs {_plain(role_plural(low_role))})",
            (middle, widest),
            xytext=(0, -9),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8.5,
            fontweight="bold",
            color="#222222",
        )

    ax.set_xlim(*xlim)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True, steps=[1, 2, 5, 10]))
    ax.set_yticks(range(len(rows)), labels=[label for _, label, _ in rows])
    for tick, (kind, _, _) in zip(ax.get_yticklabels(), rows):
        if kind == "header":
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    _reserve_legend_row(ax, len(rows), depth=1.0)
    ax.xaxis.grid(True, color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("score (0–100)")
    _set_title(ax, what, name, share=0.85 if level == "dimensions" else 0.6)
    counts = (results.get("respondents") or {}).get("by_role") or {}
    handles = []
    for r in roles:
        color, marker = styles.get(r, (_OTHER_COLOR, "X"))
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                color=color,
                markeredgecolor="white",
                linestyle="none",
                markersize=min(size[r], 8.5),
                label=_plain(role_plural(r)) + (f" (n = {counts[r]})" if r in counts else ""),
            )
        )
    absent = [r for r in _role_order(results) if r not in roles and r not in withheld]
    if absent:
        handles.append(Line2D([], [], linestyle="none", label="no " + ", ".join(role_plural(r) for r in absent)))
    if withheld:
        handles.append(Line2D([], [], linestyle="none", label=_withheld_text(results)))
    ax.legend(handles=handles, loc="lower center", ncol=len(handles), borderaxespad=0.2)
    return ax


# --------------------------------------------------------------------------- 5. KPIs
_QUARTILE_TEXT = {4: "quartile 4 of 4 (best)", 3: "quartile 3 of 4", 2: "quartile 2 of 4", 1: "quartile 1 of 4 (worst)"}


def _kpi_unit(kpi: str) -> str:
    return KPIS[kpi][3] if kpi in KPIS else ""


def _kpi_value(value: float, unit: str) -> str:
    """A KPI value with its unit, as the report's tables write it."""
    from .sections import kpi_value

    # the row's name says "(% a year)" or "(currency)": the labels keep to the number and its sign
    return kpi_value(value, unit).replace(" a year", "").replace(" per call", "")


def _kpi_title(kpi: str) -> str:
    unit = _kpi_unit(kpi)
    suffix = {"currency": " (currency)", "seconds": " (seconds)", "% a year": " (% a year)"}.get(unit, "")
    return _plain(kpi_name(kpi)) + suffix


@_styled
def kpi_bullets(results: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """Operational KPIs against peers as bullet charts, one row per KPI.

    Each row has its own scale around its peer range: the peer middle 50 % as a grey
    band, the peer median as a black tick and the organization's value as a diamond,
    labelled in the KPI's own units. The row label says which way is better, or that the
    KPI is context and not ranked (handle time); the right margin gives the
    organization's quartile (4 = best quarter of peers, whichever way the KPI points; none
    for a context KPI). Published figures for a KPI are numbered footnotes with their
    source; KPIs withheld for too few peers are listed in the notes.

    Parameters
    ----------
    results : dict
        A results.json document.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    bench, reason = _benchmark(results)
    kpis = (bench or {}).get("kpis") or {}
    order = [k for k in KPIS if k in kpis] + [k for k in kpis if k not in KPIS]
    shown = [
        k
        for k in order
        if not _withheld(kpis[k]) and _num(kpis[k].get("q1")) is not None and _num(kpis[k].get("q3")) is not None
    ]
    withheld = [k for k in order if k not in shown]
    published = [(k, fig) for k in shown for fig in (kpis[k].get("published") or []) if fig.get("text")]
    n_notes = len(published) + (1 if withheld else 0)
    own_figure = ax is None
    ax = _new_axes(ax, (WIDTH, 1.7 + 0.64 * max(len(shown), 1) + 0.26 * n_notes))
    name = _org_name(results)
    title = f"KPIs against peers\n{name}"
    if bench is None:
        return _note(ax, (reason or "No peer benchmark.").replace("No peer benchmark", "No KPI benchmark"), title=title)
    if not shown:
        message = "No KPI benchmark: no KPI has values for enough peers"
        if withheld:
            message += f" (withheld: {', '.join(kpi_name(k).lower() for k in withheld)})"
        elif not kpis:
            message = "No KPI benchmark: the profile gives no KPI values."
        return _note(ax, message + ".", title=title)

    marks: dict[str, list[int]] = {}
    footnotes = []
    for number, (kpi, fig) in enumerate(published, start=1):
        marks.setdefault(kpi, []).append(number)
        footnotes.append(f"[{number}] published figure: {_short(fig['text'], 70)} ({cite(fig)})")
    if withheld:
        k = bench.get("k") or DEFAULT_K
        footnotes.append(
            f"Not shown (fewer than {k} peers with a value): "
            + ", ".join(kpi_name(str(w)).lower() for w in withheld)
            + "."
        )
    # On a figure of its own the notes run under the row labels too; in a caller's axes,
    # they keep to the axes' width.
    share = 0.95 if own_figure else ax.get_position().width
    note_width = max(50, int(_figure_width(ax) * share / (7.8 * 0.6)))
    footnotes = [_plain(textwrap.fill(f, note_width, subsequent_indent="     ")) for f in footnotes]

    value_color = "#0072B2"
    for i, kpi in enumerate(shown):
        block = kpis[kpi]
        unit = _kpi_unit(kpi)
        q1, q3 = float(block["q1"]), float(block["q3"])
        median, value = _num(block.get("median")), _num(block.get("value"))
        points = [q1, q3] + [v for v in (median, value) if v is not None]
        lo, hi = min(points), max(points)
        span = hi - lo or max(abs(hi) * 0.1, 1.0)
        lo, hi = lo - 0.25 * span, hi + 0.25 * span
        if kpi in KPIS:
            lo, hi = max(lo, KPIS[kpi][1]), min(hi, KPIS[kpi][2])

        def pos(v: float, lo: float = lo, hi: float = hi) -> float:
            return (v - lo) / (hi - lo)

        ax.add_patch(Rectangle((0, i - 0.22), 1, 0.44, facecolor="#F0F0F0", edgecolor="none", zorder=1))
        ax.add_patch(
            Rectangle((pos(q1), i - 0.22), pos(q3) - pos(q1), 0.44, facecolor="#BDBDBD", edgecolor="none", zorder=2)
        )
        ax.text(pos(q1) - 0.005, i + 0.3, _kpi_value(q1, unit), ha="right", va="top", fontsize=7.5, color=_MUTED)
        ax.text(pos(q3) + 0.005, i + 0.3, _kpi_value(q3, unit), ha="left", va="top", fontsize=7.5, color=_MUTED)
        if median is not None:
            # the tick stays inside the band's height: the value label above never touches it
            ax.plot([pos(median)] * 2, [i - 0.22, i + 0.22], color="black", lw=2.2, zorder=3, solid_capstyle="butt")
        if value is not None:
            ax.plot(
                [pos(value)],
                [i],
                marker="D",
                markersize=9,
                color=value_color,
                markeredgecolor="white",
                markeredgewidth=1.0,
                zorder=4,
                linestyle="none",
            )
            ax.text(
                pos(value),
                i - 0.3,
                _kpi_value(value, unit),
                ha="center",
                va="bottom",
                fontsize=8.5,
                fontweight="bold",
                color="#003C5F",
            )
            quartile = block.get("quartile")
            right = _QUARTILE_TEXT.get(int(quartile), "") if quartile is not None else ""
        else:
            ax.text(
                0.5,
                i - 0.3,
                "no value for this center",
                ha="center",
                va="bottom",
                fontsize=8.5,
                fontstyle="italic",
                color=_MUTED,
            )
            right = ""
        if block.get("peer_n") is not None and block.get("peer_n") != bench.get("peer_n"):
            right += ("\n" if right else "") + f"n = {block['peer_n']}"
        if right:
            ax.text(1.03, i, right, ha="left", va="center", fontsize=8.5, transform=ax.get_yaxis_transform())

    labels = []
    for kpi in shown:
        mark = "".join(f"[{m}]" for m in marks.get(kpi, []))
        direction = kpis[kpi].get("direction")
        better = {"higher": "higher is better", "lower": "lower is better", CONTEXT: "context, not ranked"}.get(
            direction, ""
        )
        labels.append(f"{_kpi_title(kpi)}{' ' + mark if mark else ''}" + (f"\n{better}" if better else ""))
    ax.set_yticks(range(len(shown)), labels=labels)
    for tick in ax.get_yticklabels():
        tick.set_linespacing(1.3)
    ax.tick_params(axis="y", length=0)
    _reserve_legend_row(ax, len(shown), depth=0.95)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [
        Patch(facecolor="#BDBDBD", edgecolor="none"),
        Line2D([], [], color="black", lw=2.2),
        Line2D([], [], marker="D", color=value_color, markeredgecolor="white", linestyle="none", markersize=8),
    ]
    ax.legend(
        handles,
        [f"peer middle 50% (n = {bench['peer_n']})", "peer median", "this center"],
        loc="lower center",
        ncol=3,
        borderaxespad=0.2,
    )
    _set_title(
        ax, "KPIs against peers · each row on its own scale", name, f"peer group: {_peer_group_text(bench)}", share=0.65
    )
    if footnotes:
        where = blended_transform_factory(ax.figure.transFigure if own_figure else ax.transAxes, ax.transAxes)
        ax.text(
            0.02 if own_figure else 0.0,
            -0.01,
            "\n".join(footnotes),
            transform=where,
            ha="left",
            va="top",
            fontsize=7.8,
            color="#333333",
            linespacing=1.45,
        )
    return ax


# --------------------------------------------------------------------------- 6. roadmap
def _phase_spans(results: Mapping[str, Any]) -> list[tuple[int, str, float, float]]:
    """(phase, label, first week, end week) of each phase: the plan's, else the planner's own."""
    spans = []
    for p in (results.get("plan") or {}).get("phases") or []:
        start, end = _num(p.get("start_week")), _num(p.get("end_week"))
        if start is not None and end is not None:
            spans.append((int(p["phase"]), str(p.get("label") or ""), start, end))
    if not spans:
        spans = [(p, PHASES[p][0], start, end) for p, (start, end) in phase_bounds().items()]
    return sorted(spans)


def _bar_layout(
    actions: Sequence[Mapping[str, Any]], spans: Sequence[tuple[int, str, float, float]]
) -> dict[str, tuple[float, float]]:
    """Start and length in weeks of each action's bar, as the planner scheduled it.

    The plan gives each action's start and end week. A document written before it did
    gets the planner's rule: the phase's start, or when the prerequisites shown before
    it end, whichever is later. Actions after the first year go in the "later" zone.
    """
    firsts = {p: start for p, _, start, _ in spans}
    year = spans[-2][3] if len(spans) > 1 else spans[-1][3]
    later_phase = spans[-1][0]
    ends: dict[str, float] = {}
    out: dict[str, tuple[float, float]] = {}
    for action in actions:
        ident = str(action.get("action") or action.get("rank"))
        duration = _num(action.get("duration_weeks")) or 1.0
        phase = int(action.get("phase") or later_phase)
        if phase >= later_phase or phase not in firsts:
            out[ident] = (year + 0.6, min(duration, _LATER_WIDTH - 1.2))
            continue
        start = _num(action.get("start_week"))
        if start is None:
            start = max([firsts[phase]] + [ends[d] for d in action.get("depends_on") or [] if d in ends])
        end = _num(action.get("end_week"))
        end = start + duration if end is None else end
        out[ident] = (start, min(end, year + _LATER_WIDTH) - start)
        ends[ident] = end
    return out


def _action_dimension(action: Mapping[str, Any]) -> str:
    facets = action.get("facets") or []
    return str(facets[0]).split(".")[0] if facets else ""


#: Characters of an action's title on one line of the timeline; longer titles wrap, never cut.
_TITLE_LINE = 50


def _row_units(action: Mapping[str, Any]) -> float:
    """Height of an action's row on the timeline, in rows: one, and two thirds more per extra line."""
    return 1.0 + 0.67 * _action_label(action).count("\n")


def _action_label(action: Mapping[str, Any]) -> str:
    title = _plain(" ".join(str(action.get("title") or action.get("action") or "untitled action").split()))
    rank = action.get("rank")
    text = f"{'★ ' if action.get('addresses_barrier') else ''}{rank}. {title}" if rank is not None else title
    return "\n".join(textwrap.wrap(text, _TITLE_LINE, subsequent_indent="     ", break_on_hyphens=False)) or text


@_styled
def roadmap_timeline(results: Mapping[str, Any], fig: Figure | None = None, projection: bool = True) -> Figure:
    """The roadmap as a timeline and, below it, the scores it is projected to reach, phase by phase.

    Top panel: one bar per action (first :data:`MAX_ACTIONS` by rank) over the first
    year, on the phase bands of the plan (phase 1 = weeks 0–13, 2 = 13–26, 3 = 26–52),
    and a "later" zone for the actions after it. Each bar runs from the week the plan
    starts the action to the week it ends: an action longer than its phase visibly runs
    into the next, as the plan says. Bars are coloured and hatched by the dimension of
    the action's main facet; a thick outline and a star mark actions that work on the
    barrier. Labels are the actions' whole titles (wrapped, never cut). Bottom panel
    (unless ``projection`` is false; :func:`projection_chart` draws it alone): the
    projected overall and dimension scores now and after each phase.

    Parameters
    ----------
    results : dict
        A results.json document.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into; a new one sized to the roadmap when omitted.
    projection : bool
        Draw the projection panel under the timeline.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes[0]`` is the timeline, ``fig.axes[1]`` the projection (when drawn).
    """
    actions = sorted((a for a in results.get("roadmap") or [] if a), key=lambda a: _num(a.get("rank")) or 0.0)
    shown = actions[:MAX_ACTIONS]
    hidden = len(actions) - len(shown)
    units = sum(_row_units(a) for a in shown) if shown else 4.0
    timeline_height = 1.75 + 0.16 * max(units, 4.0)
    if fig is None:
        fig = plt.figure(figsize=(WIDTH, timeline_height + (3.0 if projection else 0.0)))
    # laid out here, once, at the figure's own size (see _lay_out_timeline): no layout engine
    _drop_layout_engine(fig)
    ax = fig.add_axes((0.3, 0.1, 0.65, 0.8))
    ax_proj = fig.add_axes((0.1, 0.05, 0.7, 0.2)) if projection else None
    name = _org_name(results)
    plan = results.get("plan") or {}

    if not shown:
        if not plan:
            why = "no targets to plan against (give a peer panel, or a fixed target level or profile)"
        else:
            why = "every facet is at or above its target, or the playbook has no action for the gaps"
        _note(ax, f"No roadmap: {why}.", title=f"Roadmap\n{name}")
    else:
        _draw_timeline(ax, shown, hidden, len(actions), name, results)
    if ax_proj is not None:
        _draw_projection(ax_proj, plan, results)
    with _at_layout_dpi(fig):
        _lay_out_timeline(fig, ax, ax_proj, split=3.0 / (timeline_height + 3.0) if projection else 0.0)
    return fig


#: Space left around the panels, the titles and the legend of the timeline, in inches.
_TIMELINE_PAD = 3.0 / 72


def _lay_out_timeline(fig: Figure, ax: Axes, ax_proj: Axes | None, split: float) -> None:
    """Place the timeline's panels, title and legend once, from their measured sizes.

    The timeline takes the figure above ``split`` (a fraction of its height), the
    projection panel the part below it. Each panel gets its own margins, fitted to how
    far its labels, ticks, title and legend reach past its frame: the timeline's long
    action titles widen only the timeline's left margin, and the projection panel keeps
    the figure's width. One measurement, then one draw: a layout engine would measure
    every text again in a dry-run draw before the real one.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg and the inline backend have one
    fig_w, fig_h = fig.bbox.width, fig.bbox.height
    pad = _TIMELINE_PAD * fig.dpi
    top = fig_h - pad
    suptitle = fig._suptitle  # type: ignore[attr-defined]  # set by _draw_timeline, None for a note
    if suptitle is not None:
        suptitle.set_y(top / fig_h)
        top = suptitle.get_window_extent(renderer).y0 - pad
    bottom = split * fig_h + pad
    legend = fig.legends[0] if fig.legends else None
    if legend is not None:
        legend.set_bbox_to_anchor((0.5, bottom / fig_h), transform=fig.transFigure)
        bottom = legend.get_window_extent(renderer).y1 + pad
    _place(ax, renderer, (pad, bottom, fig_w - pad, top))
    if ax_proj is not None:
        _place(ax_proj, renderer, (pad, pad, fig_w - pad, split * fig_h - pad))


def _place(ax: Axes, renderer: Any, box: tuple[float, float, float, float]) -> None:
    """Set ``ax``'s frame so that it and everything drawn around it fill ``box`` (x0, y0, x1, y1 in pixels)."""
    frame = ax.get_window_extent(renderer)
    # for the layout only: a title counts in height, in width only its middle (as in
    # matplotlib's own layouts), so a long title never narrows the panel
    reach = ax.get_tightbbox(renderer, for_layout_only=True)
    if reach is None:
        return
    fig_w, fig_h = ax.get_figure(root=True).bbox.size  # type: ignore[union-attr]  # an Axes is always on a figure
    x0 = box[0] + frame.x0 - reach.x0
    y0 = box[1] + frame.y0 - reach.y0
    x1 = box[2] - (reach.x1 - frame.x1)
    y1 = box[3] - (reach.y1 - frame.y1)
    ax.set_position((x0 / fig_w, y0 / fig_h, max(x1 - x0, 1.0) / fig_w, max(y1 - y0, 1.0) / fig_h))


@_styled
def projection_chart(results: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """The overall and dimension scores now and as projected after each phase of the roadmap.

    Parameters
    ----------
    results : dict
        A results.json document (``plan.projection``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new 8 x 3.6 inch figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax, (WIDTH, 3.4))
    _draw_projection(ax, results.get("plan") or {}, results)
    return ax


def _draw_timeline(
    ax: Axes, shown: Sequence[Mapping[str, Any]], hidden: int, total: int, name: str, results: Mapping[str, Any]
) -> None:
    spans = _phase_spans(results)
    finite = spans[:-1] if len(spans) > 1 else spans
    year = finite[-1][3]
    later = (year, year + _LATER_WIDTH)
    bars = _bar_layout(shown, spans)
    for n, (_, _, first, end) in enumerate(finite):
        ax.axvspan(first, end, color="#EAEAEA" if n % 2 == 0 else "#F7F7F7", zorder=0, lw=0)
    ax.axvspan(*later, facecolor="white", edgecolor="#CFCFCF", hatch="..", zorder=0, lw=0)
    for _, _, _, end in finite:
        ax.axvline(end, color="#9A9A9A", lw=0.8, ls="--", zorder=1)

    y_positions: list[float] = []
    y = 0.0
    labels = []
    for action in shown:
        label = _action_label(action)
        y += _row_units(action) / 2
        y_positions.append(y)
        y += _row_units(action) / 2
        labels.append(label)
        ident = str(action.get("action") or action.get("rank"))
        start, length = bars[ident]
        dim = _action_dimension(action)
        moves_barrier = bool(action.get("addresses_barrier"))
        is_later = start >= year
        ax.barh(
            y_positions[-1],
            length,
            left=start,
            height=0.62,
            color=DIMENSION_COLORS.get(dim, _OTHER_COLOR),
            hatch=DIMENSION_HATCHES.get(dim, ""),
            edgecolor="black" if moves_barrier else _EDGE,
            linewidth=2.2 if moves_barrier else 0.6,
            alpha=0.6 if is_later else 1.0,
            zorder=3,
        )
        duration = _num(action.get("duration_weeks"))
        if duration is not None and not is_later:
            text = f"{duration:.0f} wk"
            end_phase, phase = action.get("end_phase"), action.get("phase")
            if end_phase and phase and end_phase != phase:
                text += f", into phase {end_phase}"
            ax.text(start + length + 0.4, y_positions[-1], text, ha="left", va="center", fontsize=7.5, color="#444444")

    ax.set_yticks(y_positions, labels=labels)
    for tick, action in zip(ax.get_yticklabels(), shown):
        tick.set_fontsize(8)
        tick.set_linespacing(1.1)
        if action.get("addresses_barrier"):
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y + 0.1, -0.1)
    ax.set_xlim(0, later[1])
    ticks = sorted({0.0, *(end for _, _, _, end in finite)})
    ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax.set_xlabel("weeks from the start of the roadmap")
    top = ax.secondary_xaxis("top")
    centers = [(first + end) / 2 for _, _, first, end in finite] + [sum(later) / 2]
    # the phases' names are in the section's text; here only their numbers fit a 13-week band
    names = [f"Phase {p}" for p, _, _, _ in finite]
    names.append(_plain(spans[-1][1]).capitalize() if len(spans) > 1 else "Later")
    top.set_xticks(centers, labels=names)
    top.tick_params(length=0, labelsize=8)
    top.spines["top"].set_visible(False)
    ax.spines["left"].set_visible(False)

    handles: list[Any] = [
        Patch(facecolor=DIMENSION_COLORS[d], hatch=DIMENSION_HATCHES[d], edgecolor=_EDGE, label=_dim_title(results, d))
        for d in DIMENSIONS
    ]
    if any(a.get("addresses_barrier") for a in shown):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="black",
                linewidth=2.2,
                label="★ works on the barrier",
            )
        )
    # under the whole figure, centred on it: the label column leaves the axes too narrow for it
    ax.get_figure().legend(  # type: ignore[union-attr]  # an Axes is always on a figure
        handles=handles,
        loc="lower center",  # its anchor is set with the layout (_lay_out_timeline)
        borderaxespad=0.0,
        ncol=min(len(handles), 3),
        title="colour: the dimension of the action's main facet",
        fontsize=8,
        title_fontsize=8,
    )
    subtitle = f"{total} action{'s' if total != 1 else ''}, in rank order"
    if hidden > 0:
        subtitle = f"first {len(shown)} of {total} actions by rank · the other {hidden} are in roadmap.xlsx"
    ax.get_figure(root=True).suptitle(  # type: ignore[union-attr]  # an Axes is always on a figure
        f"Roadmap\n{name}\n{subtitle}", x=0.01, ha="left", fontsize=plt.rcParams["axes.titlesize"], fontweight="bold"
    )


def _draw_projection(
    ax: Axes, plan: Mapping[str, Any], results: Mapping[str, Any] | None = None, *, named: bool = True
) -> None:
    """The projection panel; ``named``: the phases' names under their numbers (when the panel is wide)."""
    projection = [p for p in plan.get("projection") or [] if p]
    if not projection:
        _note(
            ax,
            "No projection: no roadmap was planned, so there is nothing to project.",
            title="Projected scores by phase",
        )
        return
    phases = [int(p.get("phase", i)) for i, p in enumerate(projection)]
    overall = [_num(p.get("overall")) for p in projection]
    present = [d for p in projection for d in (p.get("dimensions") or {})]
    dims = [d for d in DIMENSIONS if d in present] + sorted({d for d in present if d not in DIMENSIONS})
    series: dict[str, list[float | None]] = {
        d: [_num((p.get("dimensions") or {}).get(d)) for p in projection] for d in dims
    }

    def line(vals: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in vals], dtype=float)

    outline = [patheffects.Stroke(linewidth=3.0, foreground=_EDGE), patheffects.Normal()]
    for d in dims:
        ax.plot(
            phases,
            line(series[d]),
            color=DIMENSION_COLORS.get(d, _OTHER_COLOR),
            marker=DIMENSION_MARKERS.get(d, "v"),
            lw=1.8,
            markersize=6.5,
            markeredgecolor=_EDGE,
            markeredgewidth=0.6,
            label=_dim_title(results or {}, d),
            zorder=3,
            path_effects=outline,
        )
    ax.plot(phases, line(overall), color="black", marker="o", lw=2.8, markersize=7, label="Overall", zorder=4)
    values = [v for v in overall + [v for s in series.values() for v in s] if v is not None]
    if values:
        lo, hi = min(values), max(values)
        pad = max(3.0, (hi - lo) * 0.15)
        ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad * 1.6))
    # no value labels: the lines cross, so any label would sit on a mark; the report's
    # table "Where the plan leads" gives the numbers
    labels = []
    for p in projection:
        phase = int(p.get("phase", 0))
        name = f"\n{_plain(p.get('label') or '').replace('-', '–')}" if named else ""
        labels.append("today" if phase == 0 else f"after phase {phase}{name}")
    ax.set_xticks(phases, labels=labels)
    ax.set_xlim(min(phases) - 0.3, max(phases) + 0.3)
    ax.yaxis.grid(True, color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_ylabel("projected score (0–100)")
    target = plan.get("target")
    # the target on a line of its own: beside the title it ran past the figure's right edge
    ax.set_title(
        "Projected scores if each phase is completed"
        + (f"\n{_short('targets: ' + _plain(target), 90)}" if target else ""),
        fontsize=10.5,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


# --------------------------------------------------------------------------- 7. portfolio
#: Organizations shown by name on the portfolio ranking; the rest are counted in a note.
MAX_RANKED = 40
#: Facets shown on the common-gaps chart.
MAX_GAPS = 12
#: Shades of the level bands drawn behind portfolio scores, lightest for the lowest level.
_LEVEL_SHADES = ("#FFFFFF", "#F4F4F4", "#E9E9E9", "#DEDEDE", "#D3D3D3")


def _level_scale(docs: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, str]]:
    """(lower, upper, name) of the readiness levels the documents were scored with.

    Read from the first document's ``method.levels``; documents written before levels
    were recorded there fall back to the bundled scale (``templates/levels.yaml``).
    """
    for doc in docs:
        levels = (doc.get("method") or {}).get("levels")
        if levels:
            return [(float(lv["lower"]), float(lv["upper"]), str(lv["name"])) for lv in levels]
    from ..core.levels import levels_json
    from ..io.loaders import load_levels

    return [(lv["lower"], lv["upper"], lv["name"]) for lv in levels_json(load_levels())]


def _level_bands(ax: Axes, axis: str, docs: Sequence[Mapping[str, Any]]) -> None:
    """Shade the readiness levels (lightest = lowest) behind a 0–100 axis, named at the edge."""
    scale = _level_scale(docs)
    shades = _LEVEL_SHADES[: len(scale)] if len(scale) <= len(_LEVEL_SHADES) else _LEVEL_SHADES * len(scale)
    for (lower, upper, name), shade in zip(scale, shades):
        if axis == "x":
            ax.axvspan(lower, upper, color=shade, zorder=0, lw=0)
            ax.text(
                (lower + upper) / 2,
                1.0,
                name,
                transform=blended_transform_factory(ax.transData, ax.transAxes),
                ha="center",
                va="bottom",
                fontsize=7.5,
                color=_MUTED,
            )
        else:
            ax.axhspan(lower, upper, color=shade, zorder=0, lw=0)
            ax.text(
                1.0,
                (lower + upper) / 2,
                f" {name}",
                ha="left",
                va="center",
                fontsize=7.5,
                color=_MUTED,
                transform=blended_transform_factory(ax.transAxes, ax.transData),
            )


@_styled
def portfolio_ranking(docs: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Axes:
    """Organizations ranked by overall score, each with its 95 % interval.

    Level bands shade the background; overlapping intervals mean the order between two
    organizations is not settled by the data. At most :data:`MAX_RANKED` rows are drawn
    (the best ones); a note counts the rest.

    Parameters
    ----------
    docs : list of dict
        results.json documents, one per organization.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..core.portfolio import ranking

    table = ranking(docs)
    table = table[table["overall"].notna()]
    shown = table.head(MAX_RANKED)
    ax = _new_axes(ax, (WIDTH, 1.6 + 0.26 * max(len(shown), 1)))
    what = "Overall readiness by organization"
    if shown.empty:
        return _note(ax, "No organization has an overall score.", title=what)
    _level_bands(ax, "x", docs)
    y = np.arange(len(shown))
    low = shown["ci_low"].astype(float).to_numpy()
    high = shown["ci_high"].astype(float).to_numpy()
    has_ci = np.isfinite(low) & np.isfinite(high)
    ax.hlines(y[has_ci], low[has_ci], high[has_ci], color="#4D4D4D", lw=2.0, zorder=2)
    ax.plot(
        shown["overall"].astype(float),
        y,
        "o",
        color=DIMENSION_COLORS["people"],
        markersize=6.5,
        markeredgecolor="white",
        zorder=3,
    )
    labels = [f"{int(r.rank)}. {_plain(_short(r.name, 34))}" for r in shown.itertuples()]
    ax.set_yticks(y, labels=labels)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 100)
    ax.set_xlabel("overall score (0–100) · line: 95 % interval · shading: readiness level")
    ax.xaxis.grid(True, color="#FFFFFF", lw=0.8)
    detail = (
        f"{len(table)} organizations"
        if len(shown) == len(table)
        else f"best {len(shown)} of {len(table)} organizations · all in the ranking table"
    )
    _set_title(ax, what, "Portfolio", detail, share=0.6, pad=14)
    return ax


@_styled
def portfolio_dimensions(docs: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Axes:
    """How the organizations spread on each dimension: a box per dimension with every organization as a dot.

    Parameters
    ----------
    docs : list of dict
        results.json documents, one per organization.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    from ..core.portfolio import dimension_table

    table = dimension_table(docs).dropna(subset=["score"])
    ax = _new_axes(ax, (WIDTH, 4.2))
    what = "Dimension scores across the portfolio"
    if table.empty:
        return _note(ax, "No dimension scores in these documents.", title=what)
    order = [d for d in DIMENSIONS if d in set(table["dimension"])]
    table = table.assign(score=table["score"].astype(float))
    _level_bands(ax, "y", docs)
    boxes = ax.boxplot(
        [table.loc[table["dimension"] == d, "score"].to_numpy() for d in order],
        positions=range(len(order)),
        widths=0.5,
        showfliers=False,
        patch_artist=True,
        medianprops={"color": "black", "linewidth": 2.0},
        whiskerprops={"color": _EDGE},
        capprops={"color": _EDGE},
        zorder=2,
    )
    for patch, d in zip(boxes["boxes"], order):
        patch.set(
            facecolor=DIMENSION_COLORS.get(d, _OTHER_COLOR),
            alpha=0.55,
            edgecolor=_EDGE,
            hatch=DIMENSION_HATCHES.get(d, ""),
        )
    sns.stripplot(
        data=table,
        x="dimension",
        y="score",
        order=order,
        color=_EDGE,
        size=3.5,
        jitter=0.18,
        alpha=0.8,
        ax=ax,
        zorder=3,
    )
    medians = table.groupby("dimension")["score"].median()
    for x, d in enumerate(order):
        ax.annotate(
            f"median {medians[d]:.0f}",
            (x, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="#222222",
        )
    ax.set_xticks(range(len(order)), labels=[_label(d) for d in order])
    ax.set_xlabel("")
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (0–100)")
    n = table["org_id"].nunique()
    _set_title(ax, what, "Portfolio", f"{n} organizations · one dot each · box: middle half, line: median", share=0.85)
    return ax


@_styled
def portfolio_gaps(docs: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Axes:
    """The facets most often below target: how many organizations fall short, and by how much on average.

    Parameters
    ----------
    docs : list of dict
        results.json documents, one per organization (gaps come from their plans).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..core.portfolio import common_gaps

    table = common_gaps(docs)
    table = table[table["with_gap"] > 0].head(MAX_GAPS)
    ax = _new_axes(ax, (WIDTH, 1.6 + 0.32 * max(len(table), 1)))
    what = "Common gaps across the portfolio"
    if table.empty:
        return _note(
            ax,
            "No gaps to show: no organization has a planned roadmap below its targets (give peers or a target).",
            title=what,
        )
    n = max(int(table["organizations"].max()), 1)
    y = np.arange(len(table))
    dims = [str(d or "") for d in table["dimension"]]
    ax.barh(
        y,
        table["with_gap"],
        color=[DIMENSION_COLORS.get(d, _OTHER_COLOR) for d in dims],
        hatch=None,
        edgecolor=_EDGE,
        linewidth=0.6,
        height=0.65,
        zorder=2,
    )
    for bar, d in zip(ax.patches, dims):
        bar.set_hatch(DIMENSION_HATCHES.get(d, ""))
    for yi, row in zip(y, table.itertuples()):
        ax.text(
            row.with_gap + n * 0.01,
            float(yi),
            f"{row.with_gap} of {row.organizations} · mean gap {row.mean_gap:.0f}",
            va="center",
            ha="left",
            fontsize=8.5,
            color="#222222",
        )
    ax.set_yticks(y, labels=[_plain(_short(t or f, 40)) for t, f in zip(table["title"], table["facet"])])
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, n * 1.45)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("organizations below target on the facet")
    ax.xaxis.grid(True, color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    handles = [
        Patch(facecolor=DIMENSION_COLORS[d], hatch=DIMENSION_HATCHES[d], edgecolor=_EDGE, label=_label(d))
        for d in DIMENSIONS
        if d in dims
    ]
    ax.legend(handles=handles, loc="lower right")
    _set_title(ax, what, "Portfolio", f"the {len(table)} facets most often below target", share=0.6)
    return ax


# --------------------------------------------------------------------------- 8. progress between waves
#: Colours of a real rise and a real fall (colour-blind safe; the marker's shape says it too).
_UP, _DOWN = "#0072B2", "#D55E00"
#: Centers drawn on the portfolio trend; the rest are in the table.
MAX_TRENDS = 24


def _titles(doc: Mapping[str, Any]) -> dict[str, str]:
    return dict((doc.get("titles") or {}).get("scores") or {})


def _wave_text(block: Mapping[str, Any] | None) -> str:
    block = block or {}
    date = f" ({block['date']})" if block.get("date") else ""
    return _plain(f"wave {block.get('wave', '?')}{date}")


@_styled
def change_chart(doc: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """Each facet's score in the two waves, and the 95 % interval of its change.

    One row per facet: a hollow circle at the earlier wave's score, an arrow to the later
    wave's score, and a light band that is the interval of the change drawn from the
    earlier score, so a change is real exactly when the band leaves the hollow circle
    behind. Real rises are blue with an upward triangle, real falls orange with a
    downward one; changes within chance are grey.

    Parameters
    ----------
    doc : dict
        A ``compare`` document (``readiness compare --json``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    titles = _titles(doc)
    rows = [
        c
        for c in doc.get("changes") or []
        if c.get("level") == "facet" and _num(c.get("from")) is not None and _num(c.get("to")) is not None
    ]
    ax = _new_axes(ax, (9.0, 1.9 + 0.36 * max(len(rows), 3)))
    name = _org_name(doc)
    what = "Change by facet"
    if not rows:
        return _note(ax, "No facet has a score in both waves: there is no change to show.", title=what)
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    rows = sorted(rows, key=lambda c: order.get(str(c["id"]).split(".")[0], len(order)))
    n_real = 0
    for y, c in enumerate(rows):
        start, end, delta = float(c["from"]), float(c["to"]), _num(c.get("delta"))
        real = bool(c.get("real"))
        n_real += real
        up = delta is not None and delta > 0
        color = (_UP if up else _DOWN) if real else "#8C8C8C"
        ci = c.get("ci")
        if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
            lo, hi = max(0.0, start + float(ci[0])), min(100.0, start + float(ci[1]))
            ax.plot([lo, hi], [y, y], color=color, alpha=0.22, lw=9, solid_capstyle="butt", zorder=1)
        ax.annotate(
            "",
            xy=(end, y),
            xytext=(start, y),
            arrowprops={"arrowstyle": "-", "color": color, "lw": 1.6 if real else 1.0},
            zorder=2,
        )
        ax.plot(start, y, "o", markerfacecolor="white", markeredgecolor=_EDGE, markersize=7, zorder=3)
        marker = ("^" if up else "v") if real else "o"
        ax.plot(end, y, marker, color=color, markeredgecolor=_EDGE, markersize=8 if real else 6.5, zorder=4)
        if delta is not None:
            ax.text(
                101.5,
                y,
                f"{delta:+.0f}",
                ha="left",
                va="center",
                fontsize=8.5,
                fontweight="bold" if real else "normal",
                color="#222222" if real else _MUTED,
            )
    labels = [_plain(_short(titles.get(c["id"], c["id"]), 40)) for c in rows]
    ax.set_yticks(range(len(rows)), labels=labels)
    for tick, c in zip(ax.get_yticklabels(), rows):
        if c.get("real"):
            tick.set_fontweight("bold")
    dims = [str(c["id"]).split(".")[0] for c in rows]
    for y in range(1, len(rows)):
        if dims[y] != dims[y - 1]:
            ax.axhline(y - 0.5, color="#CFCFCF", lw=0.8, zorder=0)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (0–100); the number at the right is the change in points")
    ax.xaxis.grid(True, color="#EDEDED", lw=0.6)
    ax.set_axisbelow(True)
    later = f"wave {_plain(_short((doc.get('to') or {}).get('wave', '?'), 12))}"
    handles = [
        Line2D(
            [], [], marker="o", ls="", markerfacecolor="white", markeredgecolor=_EDGE, label=_wave_text(doc.get("from"))
        ),
        Line2D([], [], marker="^", ls="", color=_UP, markeredgecolor=_EDGE, label=f"{later}: real rise"),
        Line2D([], [], marker="v", ls="", color=_DOWN, markeredgecolor=_EDGE, label=f"{later}: real fall"),
        Line2D([], [], marker="o", ls="", color="#8C8C8C", markeredgecolor=_EDGE, label=f"{later}: within chance"),
        Line2D([], [], color="#8C8C8C", alpha=0.3, lw=7, label="95 % interval of the change"),
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=3, fontsize=7.5, handlelength=1.4)
    ax.set_ylim(len(rows) - 0.5 + 1.7, -0.6)
    detail = (
        f"{_wave_text(doc.get('from'))} → {_wave_text(doc.get('to'))} · {n_real} of {len(rows)} facets changed "
        "by more than chance"
    )
    _set_title(ax, what, name, detail, share=0.56)
    return ax


@_styled
def action_progress(doc: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """Actions done or in progress: the change the plan expected on each one's main facet, and the change seen.

    One row per action with a status of done or in progress: a diamond at the change the
    plan projected for the action's main facet, and a dot with its 95 % interval at the
    change observed there. A dot whose interval clears zero is a real change.

    Parameters
    ----------
    doc : dict
        A ``compare`` document.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..core.change import DONE, IN_PROGRESS

    titles = _titles(doc)
    actions = [a for a in doc.get("actions") or [] if a.get("status") in (DONE, IN_PROGRESS) and a.get("facets")]
    ax = _new_axes(ax, (9.0, 1.9 + 0.42 * max(len(actions), 3)))
    what = "Actions against their main facet"
    if not any(a.get("status") is not None for a in doc.get("actions") or []):
        return _note(
            ax,
            "No filled-in roadmap was given, so no action is known to be done. Give the earlier wave's "
            "roadmap.xlsx with its Status column filled in (compare --roadmap).",
            title=what,
        )
    if not actions:
        return _note(ax, "No action of the roadmap is marked done or in progress.", title=what)
    values: list[float] = [0.0]
    for y, action in enumerate(actions):
        facet = action["facets"][0]
        expected = _num((action.get("expected") or {}).get(facet))
        seen = (action.get("observed") or {}).get(facet) or {}
        delta, ci = _num(seen.get("delta")), seen.get("ci")
        real = bool(seen.get("real"))
        color = (_UP if (delta or 0) > 0 else _DOWN) if real else "#8C8C8C"
        if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
            ax.plot([ci[0], ci[1]], [y, y], color=color, lw=2.2, zorder=2, solid_capstyle="butt")
            values += [float(ci[0]), float(ci[1])]
        if delta is not None:
            ax.plot(delta, y, "o", color=color, markeredgecolor=_EDGE, markersize=7, zorder=4)
            values.append(delta)
        if expected is not None:
            ax.plot(expected, y, "D", markerfacecolor="white", markeredgecolor="black", markersize=7, zorder=3)
            values.append(expected)
    labels = []
    for action in actions:
        facet = titles.get(action["facets"][0], action["facets"][0])
        status = "done" if action["status"] == DONE else "in progress"
        labels.append(f"{_plain(_short(action['title'], 48))} ({status})\n→ {_plain(_short(facet, 44))}")
    ax.set_yticks(range(len(actions)), labels=labels)
    ax.tick_params(axis="y", length=0, labelsize=8.5)
    ax.axvline(0, color="#555555", lw=0.9, zorder=1)
    lo, hi = min(values), max(values)
    pad = max(4.0, (hi - lo) * 0.08)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(len(actions) - 0.5 + 1.0, -0.6)
    ax.set_xlabel("change in points between the waves")
    ax.xaxis.grid(True, color="#EDEDED", lw=0.6)
    ax.set_axisbelow(True)
    handles = [
        Line2D(
            [],
            [],
            marker="D",
            ls="",
            markerfacecolor="white",
            markeredgecolor="black",
            label="the plan's expected change",
        ),
        Line2D([], [], marker="o", ls="-", color=_UP, markeredgecolor=_EDGE, label="observed, real"),
        Line2D([], [], marker="o", ls="-", color="#8C8C8C", markeredgecolor=_EDGE, label="observed, within chance"),
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=3, fontsize=8)
    _set_title(
        ax,
        what,
        _org_name(doc),
        f"{_wave_text(doc.get('from'))} → {_wave_text(doc.get('to'))} · line: 95 % interval",
        share=0.5,
    )
    return ax


@_styled
def portfolio_trend(history: Any, fig: Figure | None = None) -> Figure:
    """Each center's overall score over its waves: one small panel per center, with 95 % intervals.

    A wave whose overall score changed by more than chance since the center's previous
    wave (``change_real``) is marked with an upward or a downward triangle.

    Parameters
    ----------
    history : DataFrame
        The recorded waves (``readiness.load_history``): ``org_id, name, wave, date,
        overall, ci_low, ci_high`` at least (and ``change, change_real``), one row per
        wave, in date order per center.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into.

    Returns
    -------
    matplotlib.figure.Figure
        At most :data:`MAX_TRENDS` centers (those with the most waves, then by name); a
        note in the title counts the rest.
    """
    import math

    frame = history
    what = "Overall readiness over the waves"
    if frame is None or len(frame) == 0:
        fig = fig or plt.figure(figsize=(8.0, 2.4), layout="constrained")
        _note(
            fig.add_subplot(), "No assessment history: give one with --history to see each center's trend.", title=what
        )
        return fig
    groups = [(org, part) for org, part in frame.groupby("org_id", sort=True)]
    groups.sort(key=lambda g: (-len(g[1]), str(g[1]["name"].iloc[0]), str(g[0])))
    shown, hidden = groups[:MAX_TRENDS], len(groups) - min(len(groups), MAX_TRENDS)
    cols = min(4, len(shown))
    rows = math.ceil(len(shown) / cols)
    width = max(6.8, 2.6 * cols + 0.6)
    if fig is None:
        fig = plt.figure(figsize=(width, 2.5 * rows + 1.1), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax, (_, part) in zip(axes.ravel(), shown):
        x = np.arange(len(part))
        score = part["overall"].astype(float).to_numpy()
        low = part["ci_low"].astype(float).to_numpy()
        high = part["ci_high"].astype(float).to_numpy()
        has = np.isfinite(low) & np.isfinite(high) & np.isfinite(score)
        ax.errorbar(
            x[has],
            score[has],
            yerr=[score[has] - low[has], high[has] - score[has]],
            fmt="none",
            ecolor="#6B6B6B",
            elinewidth=1.4,
            capsize=3,
            zorder=2,
        )
        ax.plot(x, score, "-o", color=DIMENSION_COLORS["people"], markersize=5, markeredgecolor="white", zorder=3)
        if "change_real" in part.columns:
            real = part["change_real"].fillna(False).astype(bool).to_numpy()
            rise = real & (part["change"].astype(float).to_numpy() > 0)
            for mask, marker, color in ((rise, "^", _UP), (real & ~rise, "v", _DOWN)):
                if mask.any():
                    ax.plot(
                        x[mask], score[mask], marker, ls="", color=color, markeredgecolor=_EDGE, markersize=8, zorder=4
                    )
        for xi, s, hi in zip(x, score, high):
            if np.isfinite(s):
                top = hi if np.isfinite(hi) else s
                ax.annotate(f"{s:.0f}", (xi, top), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7.5)
        ax.set_xticks(x, labels=[_plain(_short(w, 10)) for w in part["wave"]], fontsize=7.5)
        ax.set_xlim(-0.5, max(len(part) - 0.5, 0.5))
        ax.set_ylim(0, 100)
        ax.yaxis.grid(True, color="#EDEDED", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_title(_plain(_short(part["name"].iloc[0], 28)), fontsize=9, fontweight="bold")
    for ax in axes.ravel()[len(shown) :]:
        ax.set_axis_off()
    for row in axes:
        row[0].set_ylabel("overall (0–100)", fontsize=8)
    more = f" · {len(shown)} of {len(groups)} centers drawn, all in the table" if hidden else ""
    centers = f"{len(groups)} center{'s' if len(groups) != 1 else ''}"
    detail = _wrap(
        f"Portfolio · {len(frame)} waves of {centers} · bars: 95 % intervals · ▲ ▼ a real change from the wave "
        f"before{more}",
        int(width * 9),
    )
    fig.suptitle(f"{what}\n{detail}", x=0.01, ha="left", fontsize=11, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- 9. alt text
#: The figures of an organization's report and of a portfolio, by name.
REPORT_FIGURES: tuple[str, ...] = (
    "dimension_scores",
    "peer_distribution",
    "facet_heatmap",
    "role_gap",
    "kpi_bullets",
    "roadmap_timeline",
    "projection_chart",
)
PORTFOLIO_FIGURES: tuple[str, ...] = ("portfolio_ranking", "portfolio_dimensions", "portfolio_gaps", "portfolio_trend")
#: The figures of a progress report (a ``compare`` document).
PROGRESS_FIGURES: tuple[str, ...] = ("change_chart", "action_progress")


def alt_text(name: str, results: Any) -> str:
    """What figure ``name`` shows, in words, for a screen reader and the page's ``alt`` text.

    Built from the same document the figure is drawn from: the numbers a reader would
    take from the figure, in sentences.

    Parameters
    ----------
    name : str
        One of :data:`REPORT_FIGURES` (``results`` is a results.json document) or
        :data:`PORTFOLIO_FIGURES` (``results`` is a list of them).
    """
    describers: dict[str, Callable[[Any], str]] = {
        "dimension_scores": _alt_dimensions,
        "peer_distribution": _alt_peers,
        "facet_heatmap": _alt_heatmap,
        "role_gap": _alt_roles,
        "kpi_bullets": _alt_kpis,
        "roadmap_timeline": _alt_roadmap,
        "projection_chart": _alt_projection,
        "portfolio_ranking": _alt_portfolio_ranking,
        "portfolio_dimensions": _alt_portfolio_dimensions,
        "portfolio_gaps": _alt_portfolio_gaps,
        "portfolio_trend": _alt_portfolio_trend,
        "change_chart": _alt_change,
        "action_progress": _alt_action_progress,
    }
    describe = describers.get(name)
    if describe is None:
        raise ValueError(f"no alt text for figure {name!r}")
    return " ".join(describe(results).split())


def _name_of(results: Mapping[str, Any]) -> str:
    org = results.get("organization") or {}
    return str(org.get("name") or org.get("id") or "this center")


def _n(value: Any, digits: int = 0) -> str:
    number = _num(value)
    return "no score" if number is None else f"{number:.{digits}f}"


def _alt_dimensions(results: Mapping[str, Any]) -> str:
    parts = []
    for d in _dimension_ids(results):
        block = (results.get("dimensions") or {}).get(d) or {}
        text = f"{_dim_title(results, d)} {_n(block.get('score'))}"
        ci = block.get("ci")
        if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
            text += f" (95% interval {_n(ci[0])} to {_n(ci[1])})"
        if _num(block.get("percentile")) is not None:
            text += f", {_ordinal(float(block['percentile']))} percentile among peers"
        parts.append(text)
    bench, _ = _benchmark(results)
    peers = (
        f" Each bar sits on a grey band, the middle half of {bench['peer_n']} peer centers, with a tick at their median."
        if bench
        else " No peer comparison is drawn."
    )
    overall = results.get("overall") or {}
    return (
        f"Bar chart of {_name_of(results)}'s readiness on each dimension, out of 100: {'; '.join(parts)}. "
        f"Overall {_n(overall.get('score'))}, level {overall.get('level') or 'unknown'}.{peers}"
    )


def _alt_peers(results: Mapping[str, Any]) -> str:
    bench, reason = _benchmark(results)
    if bench is None:
        return f"Note: {reason}"
    parts = []
    for d in _dimension_ids(results):
        block = (bench.get("dimensions") or {}).get(d) or {}
        if _withheld(block):
            parts.append(f"{_dim_title(results, d)}: withheld, too few peers")
            continue
        parts.append(
            f"{_dim_title(results, d)} {_n(block.get('value'))}, {_ordinal(float(block['percentile']))} percentile"
            if _num(block.get("percentile")) is not None
            else f"{_dim_title(results, d)} {_n(block.get('value'))}"
        )
    return (
        f"Histograms of how {bench['peer_n']} peer centers ({_peer_group_text(bench)}) score on each dimension, "
        f"with {_name_of(results)}'s score marked: {'; '.join(parts)}."
    )


def _alt_heatmap(results: Mapping[str, Any]) -> str:
    facets = results.get("facets") or {}
    if not facets:
        return "Note: no facet scores in this document."
    plan = results.get("plan") or {}
    gaps = plan.get("gaps") or {}
    layout = heatmap_layout(results)
    widest = sorted(((g, f) for f, g in gaps.items() if _num(g) is not None and g > 0), reverse=True)[:3]
    text = (
        f"Coloured table of the {len(facets)} facets of {_name_of(results)}, grouped by dimension: each facet's score"
        + (", target and gap to target" if plan.get("targets") else "")
        + (f", and the score given by {', '.join(role_plural(r) for r in layout['roles'])}" if layout["roles"] else "")
        + "."
    )
    lowest = sorted(((b.get("score"), f) for f, b in facets.items() if _num(b.get("score")) is not None))[:3]
    if lowest:
        text += " Lowest scores: " + "; ".join(f"{facets[f].get('title') or f} {_n(s)}" for s, f in lowest) + "."
    if widest:
        text += (
            " Largest gaps to target: "
            + "; ".join(f"{(facets.get(f) or {}).get('title') or f} {_n(g)} points" for g, f in widest)
            + "."
        )
    barrier = (results.get("overall") or {}).get("barrier")
    if barrier:
        text += f" The barrier, {(facets.get(barrier) or {}).get('title') or barrier}, is outlined and starred."
    return text


def _alt_roles(results: Mapping[str, Any]) -> str:
    dims = results.get("dimensions") or {}
    roles = _roles(results, ((dims.get(d) or {}).get("by_role") for d in _dimension_ids(results)))
    if not roles:
        return "Note: no scores by role can be shown."
    parts = []
    for d in _dimension_ids(results):
        by_role = (dims.get(d) or {}).get("by_role") or {}
        scores = ", ".join(f"{role_plural(r)} {_n(by_role.get(r))}" for r in roles if _num(by_role.get(r)) is not None)
        parts.append(f"{_dim_title(results, d)}: {scores or 'no role scores'}")
    text = f"Dot chart of how each role scores each dimension at {_name_of(results)}: {'; '.join(parts)}."
    gap = (results.get("highlights") or {}).get("role_gap")
    if gap:
        text += (
            f" The widest gap is on {gap['title']}: {role_plural(gap['high_role'])} {_n(gap['high'])}, "
            f"{role_plural(gap['low_role'])} {_n(gap['low'])}, {_n(gap['points'])} points apart."
        )
    if _withheld_roles(results):
        text += f" {_withheld_text(results)}."
    return text


def _alt_kpis(results: Mapping[str, Any]) -> str:
    bench, reason = _benchmark(results)
    if bench is None:
        return f"Note: {reason}"
    parts = []
    for kpi, block in (bench.get("kpis") or {}).items():
        unit = _kpi_unit(kpi)
        value = _num(block.get("value"))
        if _withheld(block) or _num(block.get("median")) is None:
            continue
        text = f"{kpi_name(kpi)} {_kpi_value(value, unit) if value is not None else 'not reported'}"
        text += f" against a peer median of {_kpi_value(float(block['median']), unit)}"
        if block.get("quartile") is not None:
            text += f", quartile {block['quartile']} of 4"
        parts.append(text)
    if not parts:
        return "Note: no KPI has values for enough peers to be compared."
    return (
        f"Bullet charts of {_name_of(results)}'s KPIs against the middle half of {bench['peer_n']} peer centers "
        f"(quartile 4 is the best quarter): {'; '.join(parts)}."
    )


def _alt_roadmap(results: Mapping[str, Any]) -> str:
    actions = sorted((a for a in results.get("roadmap") or [] if a), key=lambda a: _num(a.get("rank")) or 0.0)
    if not actions:
        return "Note in place of a timeline: no roadmap was planned, so there are no actions to show."
    spans = _phase_spans(results)
    parts = []
    for phase, label, _, _ in spans[:-1]:
        titles = [str(a.get("title")) for a in actions if a.get("phase") == phase]
        if titles:
            parts.append(f"phase {phase}, {label}: {'; '.join(titles)}")
    later = [a for a in actions if (a.get("phase") or spans[-1][0]) >= spans[-1][0]]
    text = f"Timeline of {_name_of(results)}'s roadmap, {len(actions)} actions in rank order, by phase: "
    text += ". ".join(parts) + "."
    if later:
        text += f" After the first year: {len(later)} more actions."
    spanning = [str(a.get("title")) for a in actions if a.get("end_phase") and a.get("end_phase") != a.get("phase")]
    if spanning:
        text += f" Longer than their phase, running into the next: {'; '.join(spanning)}."
    return text


def _alt_projection(results: Mapping[str, Any]) -> str:
    projection = [p for p in (results.get("plan") or {}).get("projection") or [] if p]
    if not projection:
        return "Note: no projection, as no roadmap was planned."
    steps = [
        ("today" if int(p.get("phase", 0)) == 0 else f"after phase {p.get('phase')}") + f" {_n(p.get('overall'))}"
        for p in projection
    ]
    return f"Line chart of the overall and dimension scores projected if each phase is completed: overall {', '.join(steps)}."


def _alt_portfolio_ranking(docs: Sequence[Mapping[str, Any]]) -> str:
    from ..core.portfolio import ranking

    table = ranking(docs)
    table = table[table["overall"].notna()]
    if table.empty:
        return "Note: no organization has an overall score."
    top = "; ".join(f"{r.name} {r.overall:.0f}" for r in table.head(5).itertuples())
    return (
        f"Dot chart of {len(table)} organizations ranked by overall readiness with their 95% intervals, "
        f"on shaded readiness levels. Highest: {top}. Lowest: {table.iloc[-1]['name']} {table.iloc[-1]['overall']:.0f}."
    )


def _alt_portfolio_dimensions(docs: Sequence[Mapping[str, Any]]) -> str:
    from ..core.portfolio import dimension_table

    table = dimension_table(docs).dropna(subset=["score"])
    if table.empty:
        return "Note: no dimension scores in these documents."
    medians = table.assign(score=table["score"].astype(float)).groupby("dimension")["score"].median()
    parts = [f"{_label(d)} {medians[d]:.0f}" for d in DIMENSIONS if d in medians.index]
    return f"Box plots of each dimension's scores across {table['org_id'].nunique()} organizations; medians: {', '.join(parts)}."


def _alt_portfolio_gaps(docs: Sequence[Mapping[str, Any]]) -> str:
    from ..core.portfolio import common_gaps

    table = common_gaps(docs)
    table = table[table["with_gap"] > 0].head(MAX_GAPS)
    if table.empty:
        return "Note: no organization has a planned roadmap below its targets."
    parts = [f"{r.title or r.facet}: {r.with_gap} of {r.organizations}" for r in table.itertuples()]
    return f"Bar chart of the facets most often below target across the portfolio: {'; '.join(parts)}."


def _alt_portfolio_trend(history: Any) -> str:
    if history is None or not len(history):
        return "Note: no assessment history, so no center's trend can be drawn."
    parts = []
    for _, waves in history.groupby("org_id", sort=False):
        name = str(waves["name"].iloc[0])
        steps = ", ".join(f"{w} {o:.0f}" for w, o in zip(waves["wave"], waves["overall"]) if _num(o) is not None)
        parts.append(f"{name}: {steps}")
    return (
        f"Small line charts of each center's overall readiness over its waves, with 95% intervals: {'; '.join(parts)}."
    )


def _alt_change(doc: Mapping[str, Any]) -> str:
    titles = _titles(doc)
    rows = [c for c in doc.get("changes") or [] if c.get("level") == "facet" and _num(c.get("delta")) is not None]
    if not rows:
        return "Note: no facet has a score in both waves, so there is no change to show."
    real = [c for c in rows if c.get("real")]
    text = (
        f"Arrows from each facet's score in {_wave_text(doc.get('from'))} to its score in {_wave_text(doc.get('to'))}, "
        f"{len(rows)} facets, with the 95% interval of each change."
    )
    if real:
        text += " Changes larger than chance: " + "; ".join(
            f"{titles.get(c['id'], c['id'])} {float(c['delta']):+.0f}" for c in real
        )
        text += "."
    else:
        text += " No change is larger than chance."
    return text


def _alt_action_progress(doc: Mapping[str, Any]) -> str:
    titles = _titles(doc)
    from ..core.change import DONE, IN_PROGRESS

    actions = [a for a in doc.get("actions") or [] if a.get("status") in (DONE, IN_PROGRESS) and a.get("facets")]
    if not actions:
        return "Note: no action of the roadmap is marked done or in progress."
    parts = []
    for a in actions:
        facet = a["facets"][0]
        expected = _num((a.get("expected") or {}).get(facet))
        seen = _num(((a.get("observed") or {}).get(facet) or {}).get("delta"))
        planned = "not known" if expected is None else f"{expected:+.0f}"
        observed = "not known" if seen is None else f"{seen:+.0f}"
        parts.append(
            f"{a.get('title') or a.get('action')} ({str(a.get('status')).lower()}): on {titles.get(facet, facet)} "
            f"the plan expected {planned} and the change seen is {observed}"
        )
    return f"Dot chart of the actions done or in progress, each against its main facet: {'; '.join(parts)}."
