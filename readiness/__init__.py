"""readiness: how ready a contact center is to add selling to service.

The package is layered, imports pointing down only (``docs/architecture.md``):
``core`` (pure scoring, benchmarking and planning) < ``io`` (files in and out) <
``report`` (figures, sections, notebook execution) < ``apps`` (command line, batch,
workshop). This module is the small public API that the notebooks and users call; its
names are imported on first use, so ``import readiness`` stays cheap for the CLI.

Example
-------
>>> import readiness
>>> results = readiness.load_results()  # the bundled example center vs the bundled panel
>>> sorted(results["dimensions"])
['knowledge', 'people', 'process', 'technology']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC = {
    "DIMENSIONS": "readiness.core.instrument",
    "Instrument": "readiness.core.instrument",
    "Responses": "readiness.core.responses",
    "Scores": "readiness.core.scoring",
    "score": "readiness.core.scoring",
    "InputError": "readiness.core.errors",
    "Problem": "readiness.core.errors",
    "ReadinessError": "readiness.core.errors",
    "ReportError": "readiness.core.errors",
    "StoreError": "readiness.core.errors",
    "load_instrument": "readiness.io.loaders",
    "load_responses": "readiness.io.loaders",
    "load_profiles": "readiness.io.loaders",
    "load_results": "readiness.io.pipeline",
    "load_portfolio": "readiness.io.pipeline",
    "load_comparison": "readiness.io.comparison",
    "load_history": "readiness.io.comparison",
    "intake": "readiness.apps.workshop",
}

__all__ = [
    "DIMENSIONS",
    "InputError",
    "Instrument",
    "Problem",
    "ReadinessError",
    "ReportError",
    "Responses",
    "Scores",
    "StoreError",
    "intake",
    "load_comparison",
    "load_history",
    "load_instrument",
    "load_portfolio",
    "load_profiles",
    "load_responses",
    "load_results",
    "score",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .apps.workshop import intake
    from .core.errors import InputError, Problem, ReadinessError, ReportError, StoreError
    from .core.instrument import DIMENSIONS, Instrument
    from .core.responses import Responses
    from .core.scoring import Scores, score
    from .io.comparison import load_comparison, load_history
    from .io.loaders import load_instrument, load_profiles, load_responses
    from .io.pipeline import load_portfolio, load_results


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'readiness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
