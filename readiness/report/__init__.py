"""The report layer: views of a results document.

Figures (:mod:`.figures`), report sections (:mod:`.sections`, Jinja templates), what the
notebooks call (:mod:`.notebook`), notebook execution (:mod:`.execute`), the client's
HTML page and its safety scan (:mod:`.html`, :mod:`.html_safety`), PDF (:mod:`.pdf`),
report folders (:mod:`.folder`) and terminal tables (:mod:`.terminal`). A view presents
a results document; it does not compute one. Imports only from ``core`` and ``io``.

The notebooks use ``from readiness import report`` and call :func:`setup`,
:func:`section`, :func:`figure`, :func:`portfolio_section`, :func:`portfolio_figure`,
:func:`progress_section` and :func:`trend_section`.
"""

from .notebook import figure, portfolio_figure, portfolio_section, progress_section, section, setup, trend_section

__all__ = [
    "figure",
    "portfolio_figure",
    "portfolio_section",
    "progress_section",
    "section",
    "setup",
    "trend_section",
]
