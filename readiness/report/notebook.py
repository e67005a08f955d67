"""What the report notebooks call: figure settings, report sections and figures as display objects.

The notebooks hold no logic: they read a results document (:func:`readiness.load_results`)
and show it through these functions. :func:`figure` draws one of
:mod:`readiness.report.figures` and shows it as an SVG image that carries a description of
what it shows (its alt text, for screen readers and for the client's HTML page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .sections import render_portfolio, render_progress, render_section, render_trend

__all__ = [
    "FigureImage",
    "figure",
    "portfolio_figure",
    "portfolio_section",
    "progress_section",
    "remember_settings",
    "restore_settings",
    "section",
    "setup",
    "trend_section",
]

#: The fonts an SVG figure's text asks for. The figures are laid out with DejaVu Sans
#: (matplotlib's own font, installed with Chromium, which prints the PDF); a reader
#: without it gets Verdana, drawn to nearly the same widths, or the reader's sans-serif,
#: which is narrower, so no label outgrows the room it was given.
_SVG_FONTS = "font-family: 'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif"

#: matplotlib's settings as a fresh kernel has them, kept by :func:`remember_settings`.
_FRESH_RC: dict[str, Any] = {}


def setup() -> None:
    """Figure settings for report notebooks: readable fonts; PNG at print resolution for figures a user draws.

    The report's own figures come as SVG (:func:`figure`).
    """
    import matplotlib

    matplotlib.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 10,
            "axes.titlesize": 11,
            "figure.max_open_warning": 0,
            # figures are drawn when shown, outside their style: the hinting they were laid out with
            "text.hinting": "none",
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # the figures lay themselves out; a "tight" bounding box would draw each one twice.
        # zlib level 3 makes the same size of file as the default 6 from these flat-coloured
        # figures, in two thirds of the time
        set_matplotlib_formats("png", bbox_inches=None, pil_kwargs={"compress_level": 3})
    except ImportError:  # pragma: no cover - outside IPython
        pass


def section(name: str, results: Mapping[str, Any], **extra: Any):
    """One report section as an HTML display object (escaped; no scripts)."""
    from IPython.display import HTML

    return HTML(render_section(name, results, **extra))


class FigureImage:
    """A drawn figure as a notebook output: SVG text, its size, and its alt text.

    Shown as ``image/svg+xml`` whose metadata carries ``alt`` (the readiness nbconvert
    template writes it into the page's ``<img alt=...>``) and ``width`` (the figure's
    size on screen; print scales it to the page).
    """

    def __init__(self, svg: str, alt: str, width: int) -> None:
        self.svg = svg
        self.alt = alt
        self.width = width

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        data = {"image/svg+xml": self.svg, "text/plain": self.alt}
        return data, {"image/svg+xml": {"alt": self.alt, "width": self.width}}


def figure(name: str, results: Mapping[str, Any], **options: Any) -> FigureImage:
    """Draw the report figure ``name`` (a function of :mod:`.figures`) and show it with its alt text.

    ``options`` go to the figure function (``projection=False`` for the timeline alone).
    """
    from . import figures

    known = (*figures.REPORT_FIGURES, *figures.PROGRESS_FIGURES)
    if name not in known:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(known)}")
    drawn = getattr(figures, name)(results, **options)
    return _image(drawn, figures.alt_text(name, results))


def portfolio_figure(name: str, docs: Any) -> FigureImage:
    """Draw a portfolio figure of :mod:`.figures` over many results documents, with its alt text."""
    from . import figures

    if name not in figures.PORTFOLIO_FIGURES:
        raise ValueError(f"unknown portfolio figure {name!r}; known: {', '.join(figures.PORTFOLIO_FIGURES)}")
    drawn = getattr(figures, name)(docs)
    return _image(drawn, figures.alt_text(name, docs))


def _image(drawn: Any, alt: str) -> FigureImage:
    import io

    import matplotlib.pyplot as plt

    from .figures import STYLE

    fig = drawn if hasattr(drawn, "savefig") else drawn.figure
    buf = io.StringIO()
    # SVG with its words as text, as the figures' style says (no glyphs drawn, no pixels
    # encoded: sharp at any zoom and in print, a third of the time of a PNG at print
    # resolution). The figures lay themselves out, once, and keep no layout engine; no
    # "tight" box: each is drawn once. No date in the file: the same figure, the same bytes
    svg_rc = {key: value for key, value in STYLE.items() if key.startswith("svg.")}
    with plt.rc_context(svg_rc):  # type: ignore[arg-type]  # matplotlib types keys as literals
        fig.savefig(buf, format="svg", metadata={"Date": None})
    width = int(round(fig.get_size_inches()[0] * 96))  # CSS pixels at the figure's own size
    plt.close(fig)
    return FigureImage(buf.getvalue().replace("font-family: 'DejaVu Sans'", _SVG_FONTS), alt, width)


def portfolio_section(docs: list[Mapping[str, Any]], *, top: int = 15):
    """The portfolio tables as one HTML display object."""
    from IPython.display import HTML

    return HTML(render_portfolio(docs, top=top))


def progress_section(name: str, doc: Mapping[str, Any]):
    """One section of the progress report (summary, changes, actions, next, method) as HTML."""
    from IPython.display import HTML

    return HTML(render_progress(name, doc))


def trend_section(history: Any):
    """The portfolio's trend table (each center's overall score over its waves) as HTML."""
    from IPython.display import HTML

    return HTML(render_trend(history))


def remember_settings() -> None:
    """Keep matplotlib's current settings, to restore before each report in a reused kernel."""
    import matplotlib

    _FRESH_RC.clear()
    _FRESH_RC.update({key: matplotlib.rcParams[key] for key in matplotlib.rcParams})


def restore_settings() -> None:
    """Close every figure and put back the settings kept by :func:`remember_settings`."""
    import matplotlib
    import matplotlib.pyplot as plt

    plt.close("all")
    if _FRESH_RC:
        matplotlib.rcParams.update(_FRESH_RC)  # type: ignore[arg-type]  # keys came from rcParams
