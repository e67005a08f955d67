"""The client's HTML page: the executed notebook without code, converted by nbconvert."""

from __future__ import annotations

import functools
import re

from ..core.errors import ReportError
from ..io.resources import template_path
from .html_safety import active_content

__all__ = ["to_html"]


def to_html(notebook_node, *, title: str = "Readiness report") -> str:
    """A self-contained HTML page: no code, no prompts, no scripts, images embedded."""
    nb = _strip_for_client(notebook_node)
    nb.metadata["title"] = title
    html, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    problem = "a script" if re.search(r"<script\b", html, flags=re.IGNORECASE) else active_content(html)
    if problem:
        raise ReportError(f"the report HTML would contain {problem}; refusing to write it")
    return html


#: The start of an output's box: focusable, as nbconvert makes it (a wide table scrolls by keyboard).
_OUTPUT_BOX = re.compile(r'(<div class="[^"]*\bjp-OutputArea-output\b[^"]*"[^>]*?)(?<!tabindex="0")>')


@functools.lru_cache(maxsize=1)
def _exporter():
    """The nbconvert HTML exporter with the readiness template, built once per process.

    Building it compiles the template (a third of a second); a batch worker converts many
    reports with one. Each conversion starts from the same state (see ``_ReportExporter``).
    """
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    exporter = _exporter_class()(
        config=config, extra_template_basedirs=[str(template_path("report"))], template_name="readiness"
    )
    exporter.register_filter("base64_text", _base64_text)
    return exporter


def _exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class _ReportExporter(HTMLExporter):
        """nbconvert's HTML exporter without its second pass over the finished page.

        nbconvert parses every page it writes (BeautifulSoup) to give images without alt
        text a placeholder and to make outputs focusable, then writes the page out again:
        a fifth of a batch worker's time per report. The readiness template gives every
        figure its alt text, and the outputs are made focusable here by one pattern.
        nbconvert also keeps every converted notebook's metadata, by title; a worker
        converting thousands of reports forgets each one's.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            self._nb_metadata.clear()
            # what HTMLExporter.from_notebook_node sets up before it renders the template
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _OUTPUT_BOX.sub(r'\1 tabindex="0">', html), resources

    return _ReportExporter


def _base64_text(text: str) -> str:
    """``text`` (an SVG figure) as base64 of its UTF-8 bytes, for a ``data:`` URL."""
    import base64

    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _strip_for_client(nb):
    """Keep only what a client should see: rendered outputs, no parameters, no stderr.

    A new notebook around the same outputs: ``nb`` is left as it is, and nbconvert copies
    what it is given before it changes anything, so nothing here is copied twice.
    """
    from nbformat import NotebookNode

    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters", "remove"}:
            continue
        if cell.cell_type == "code":
            outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
                and not (
                    o.get("output_type") == "execute_result"
                    and not {"text/html", "image/png", "image/svg+xml"} & set(o.get("data", {}))
                )
            ]
            cell = NotebookNode({**cell, "outputs": outputs})
        cells.append(cell)
    return NotebookNode({**nb, "cells": cells, "metadata": NotebookNode(dict(nb.metadata))})
