"""Where the files the package carries are: templates, notebooks and bundled data.

The wheel carries the repository's ``templates/``, ``notebooks/`` and ``data/`` folders
as the packages ``readiness.templates``, ``readiness.notebooks`` and ``readiness.data``
(see ``[tool.setuptools.package-dir]`` in ``pyproject.toml``); an editable install maps
the same names onto the checkout's folders. They are found with
:mod:`importlib.resources`, never by climbing out of this folder, so the same code works
from a checkout, an editable install and a wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..core.errors import ReadinessError

__all__ = [
    "DEFAULT_INSTRUMENT_NAME",
    "DEFAULT_PLAYBOOK_NAME",
    "NOTEBOOKS",
    "bundled_path",
    "data_path",
    "notebook_path",
    "template_path",
]

#: The question set and action playbook used when none is given.
DEFAULT_INSTRUMENT_NAME = "service-to-sales.yaml"
DEFAULT_PLAYBOOK_NAME = "service-to-sales.yaml"
#: The notebook suite, as ``readiness notebooks DIR`` copies it.
NOTEBOOKS = ("readiness_report.ipynb", "progress.ipynb", "portfolio.ipynb", "intake.ipynb")

_ANCHORS = {"templates": "readiness.templates", "notebooks": "readiness.notebooks", "data": "readiness.data"}


def bundled_path(folder: str, *parts: str) -> Path:
    """A file or folder the package carries, as a path on disk.

    ``folder`` is ``"templates"``, ``"notebooks"`` or ``"data"``; ``parts`` lead inside it.
    Raises :class:`~readiness.core.errors.ReadinessError` when the package is installed
    in a form that is not unpacked on disk (a zip), which the notebooks cannot run from.
    """
    target = files(_ANCHORS[folder]).joinpath(*parts)
    if not isinstance(target, Path):  # pragma: no cover - zipped installs only
        raise ReadinessError("the readiness package is not unpacked on disk; install it with pip from its wheel")
    return target


def template_path(*parts: str) -> Path:
    """A path under the bundled ``templates/`` (instruments, playbooks, references, report)."""
    return bundled_path("templates", *parts)


def notebook_path(name: str) -> Path:
    """One notebook of the bundled suite (``readiness_report.ipynb``, ``portfolio.ipynb``, ...)."""
    return bundled_path("notebooks", name)


def data_path(*parts: str) -> Path:
    """A path under the bundled ``data/`` (the example center, the synthetic peer panel)."""
    return bundled_path("data", *parts)
