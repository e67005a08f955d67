"""What the report notebooks call: figure settings and report sections as display objects.

The notebooks hold no logic: they read a results document (:func:`readiness.load_results`)
and show it through these functions and :mod:`readiness.report.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .sections import render_portfolio, render_progress, render_section, render_trend

__all__ = [
    "portfolio_section",
    "progress_section",
    "remember_settings",
    "restore_settings",
    "section",
    "setup",
    "trend_section",
]

#: matplotlib's settings as a fresh kernel has them, kept by :func:`remember_settings`.
_FRESH_RC: dict[str, Any] = {}


def setup() -> None:
    """Figure settings for reports: PNG at print-friendly resolution, readable fonts."""
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
