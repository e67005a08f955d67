"""Citations for people: the source articles by publication, year and title, not file name.

IO layer. Instruments, playbooks and published figures name their source by its file name
(``003_3ba3fadf96f6335a.txt``); that stays in the data and in results.json. Wherever a
person reads a source (report sections, the KPI chart's notes, the roadmap workbook, the
fill-in workbook) it is shown as a short reference from one table,
``templates/references/sources.yaml``:

>>> citation("003_3ba3fadf96f6335a.txt")
'ICMI (2012), “Why Customer Service Reps Don’t Sell… and What You Can Do About It”'

A name the table does not know (a consultant's own source) is shown as it was given.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .resources import template_path

__all__ = ["DEFAULT_SOURCES", "Source", "citation", "cite", "load_sources"]

#: The bundled table of source articles.
DEFAULT_SOURCES = template_path("references", "sources.yaml")


@dataclass(frozen=True)
class Source:
    """One source article as a reader is told about it."""

    file: str
    publication: str
    title: str
    year: int | None = None
    author: str | None = None

    @property
    def reference(self) -> str:
        """Publication, year and title: ``ICMI (2012), “Why Customer Service Reps…”``."""
        when = str(self.year) if self.year is not None else "undated"
        return f"{self.publication} ({when}), “{_typographic(self.title)}”"


def load_sources(path: str | Path | None = None) -> dict[str, Source]:
    """The table of source articles: file name -> :class:`Source`.

    Raises :class:`InputError` naming the entry when one lacks its publication or title or
    has a year that is not a whole number.
    """
    from .loaders import _read_yaml  # the one safe YAML reader

    path = Path(path) if path is not None else DEFAULT_SOURCES
    doc = _read_yaml(path)
    entries = doc.get("sources") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise InputError("expected a mapping with a 'sources' mapping", source=path.name)
    out: dict[str, Source] = {}
    for name, entry in entries.items():
        where = f"sources.{name}"
        if not isinstance(entry, dict) or not entry.get("publication") or not entry.get("title"):
            raise InputError("each source needs a publication and a title", source=path.name, key=where)
        year = entry.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise InputError(f"year {str(year)[:20]!r} is not a whole number", source=path.name, key=where)
        out[str(name)] = Source(
            file=str(name),
            publication=str(entry["publication"]),
            title=str(entry["title"]),
            year=year,
            author=str(entry["author"]) if entry.get("author") else None,
        )
    return out


@functools.lru_cache(maxsize=1)
def _bundled() -> dict[str, Source]:
    return load_sources()


def citation(source: Any) -> str:
    """The short reference for a source file name; an unknown name as it was given."""
    name = "" if source is None else str(source)
    known = _bundled().get(name)
    return known.reference if known is not None else name


def _typographic(text: str) -> str:
    """Curly apostrophes in a title, as set in print."""
    return text.replace("'", "\u2019")


def cite(record: Any) -> str:
    """The reference to show for a record that cites a source (a published figure, an
    action): its ``reference`` when results.json carries one, else its ``source`` file name
    resolved through the table; a plain file name works too."""
    if isinstance(record, dict) or hasattr(record, "get"):
        return str(record.get("reference") or citation(record.get("source")) or "source not given")
    return citation(record) or "source not given"
