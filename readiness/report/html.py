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


@functools.lru_cache(maxsize=1)
def _exporter():
    """The nbconvert HTML exporter with the readiness template, built once per process.

    Building it compiles the template (a third of a second); a batch worker converts many
    reports with one. It keeps no state from one conversion to the next.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    exporter = HTMLExporter(
        config=config, extra_template_basedirs=[str(template_path("report"))], template_name="readiness"
    )
    exporter.register_filter("base64_text", _base64_text)
    return exporter


def _base64_text(text: str) -> str:
    """``text`` (an SVG figure) as base64 of its UTF-8 bytes, for a ``data:`` URL."""
    import base64

    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _strip_for_client(nb):
    """Keep only what a client should see: rendered outputs, no parameters, no stderr."""
    import copy

    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"parameters", "injected-parameters", "remove"}:
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
                and not (
                    o.get("output_type") == "execute_result"
                    and not {"text/html", "image/png", "image/svg+xml"} & set(o.get("data", {}))
                )
            ]
        cells.append(cell)
    nb.cells = cells
    return nb
