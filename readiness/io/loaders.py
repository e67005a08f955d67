"""Reading and validating inputs: instruments, responses and organization profiles.

The io layer: everything read from disk is checked here and turned
into the core's types, or into an :class:`~readiness.core.errors.InputError` whose problems
each name the file, the row and the column. After this module, code trusts its inputs.

Formats: CSV (any common delimiter, UTF-8 with or without BOM), XLSX, JSON (a list of
records, or ``{"responses": [...]}``) and Parquet.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from ..core.answers import DONT_KNOW_SPELLINGS, NOT_APPLICABLE_SPELLINGS, OPEN_TEXT_MAX
from ..core.errors import MAX_PROBLEMS, InputError, Problem
from ..core.instrument import META_COLUMNS, Instrument
from ..core.levels import Level
from ..core.profile import INDUSTRIES, KPIS, SIZE_BANDS, STAGES, size_band
from ..core.responses import COMMENT_PREFIX, Responses
from .resources import DEFAULT_INSTRUMENT_NAME, DEFAULT_PLAYBOOK_NAME, template_path

if TYPE_CHECKING:  # for the annotation only: the roadmap module is imported when a playbook is loaded
    from ..core.roadmap import Playbook

__all__ = [
    "DEFAULT_INSTRUMENT",
    "DEFAULT_LEVELS",
    "DEFAULT_PLAYBOOK",
    "DEFAULT_REFERENCES",
    "INDUSTRIES",
    "KPIS",
    "SIZE_BANDS",
    "STAGES",
    "Table",
    "check_profiles_match",
    "instrument_path",
    "load_instrument",
    "load_levels",
    "load_playbook",
    "load_profiles",
    "load_references",
    "load_responses",
    "load_responses_isolating",
    "load_targets",
    "parse_profiles",
    "parse_responses",
    "read_table",
    "size_band",
    "validate_files",
]

#: The bundled question set, action playbook and published reference figures.
DEFAULT_INSTRUMENT = template_path("instruments", DEFAULT_INSTRUMENT_NAME)
DEFAULT_PLAYBOOK = template_path("playbooks", DEFAULT_PLAYBOOK_NAME)
DEFAULT_REFERENCES = template_path("references", "published-figures.yaml")
#: The readiness levels (names, bounds, descriptions) an instrument gets when it has none.
DEFAULT_LEVELS = template_path("levels.yaml")

_MAX_CELL = 10_000
_MAX_ID = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Control characters a free-text answer may not keep (line breaks and tabs it may).
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: An id may not start like a spreadsheet formula: ids travel into CSV and XLSX files.
_FORMULA_START = r"^\s*[=+\-@\uff1d\uff0b\uff0d\uff20]"


@dataclass(frozen=True)
class Table:
    """A file read as text: column names and cells (stripped strings), with row numbers."""

    source: str
    columns: list[str]
    cells: pd.DataFrame  # all str, '' for empty
    rows: np.ndarray  # spreadsheet row number of each data row (header = 1)


# ---------------------------------------------------------------------- tables
def read_table(path: str | Path, *, sheet: str | None = None) -> Table:
    """Read a CSV, XLSX, JSON or Parquet file as a table of strings.

    Raises :class:`InputError` for a missing, empty, unreadable or ragged file.
    """
    path = Path(path)
    source = path.name
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    if not data.strip():
        raise InputError("file is empty", source=source)
    try:
        if suffix in (".xlsx", ".xlsm"):
            header, body, rows = _read_xlsx(data, source, sheet)
        elif suffix == ".json":
            header, body, rows = _read_json(data, source)
        elif suffix in (".parquet", ".pq"):
            header, body, rows = _read_parquet(data, source)
        else:
            header, body, rows = _read_csv(data, source)
    except InputError:
        raise
    except Exception as exc:  # a parser's own error on garbage: keep it to one line
        kind = {
            ".xlsx": "an Excel workbook",
            ".xlsm": "an Excel workbook",
            ".json": "JSON",
            ".parquet": "a Parquet file",
            ".pq": "a Parquet file",
        }.get(suffix, "a delimited text file")
        raise InputError(f"cannot be read as {kind} ({type(exc).__name__}: {str(exc)[:120]})", source=source) from None
    columns = [_clean_header(h) for h in header]
    problems = []
    seen: dict[str, int] = {}
    for i, col in enumerate(columns):
        if not col:
            used = next((n for n, r in enumerate(body) if i < len(r) and r[i]), None)
            if used is not None:
                problems.append(
                    Problem(
                        source,
                        f"column {i + 1} has no name in the header but holds {_cell_text(body[used][i])[:40]!r}",
                        row=int(rows[used]),
                    )
                )
            continue
        key = col.lower()
        if key in seen:
            problems.append(
                Problem(source, f"duplicate column {col!r} (also column {seen[key] + 1})", row=1, column=col)
            )
        seen[key] = i
    if problems:
        raise InputError(problems=problems)
    keep = [i for i, c in enumerate(columns) if c]
    frame = pd.DataFrame([[r[i] for i in keep] for r in body], columns=[columns[i] for i in keep], dtype=object)
    return Table(source, [columns[i] for i in keep], frame, np.asarray(rows, dtype=np.int64))


def _clean_header(value: Any) -> str:
    return _cell_text(value).lstrip("\ufeff").strip()


def _cell_text(value: Any) -> str:
    """A cell as stripped text; raises ``TypeError`` for a value that is no cell (a list)."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8").strip()
        except UnicodeDecodeError:
            raise TypeError("binary data that is not UTF-8 text") from None
    if isinstance(value, (dict, list, tuple, set, np.ndarray)):
        raise TypeError(f"a {type(value).__name__} of values, not one number or text")
    return str(value).strip()


def _read_bytes(path: Path) -> bytes:
    """The bytes of a regular file; a folder, a device or a pipe is an :class:`InputError`.

    A pipe or ``/dev/zero`` would otherwise block for ever or fill the memory.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", source=str(path)) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a folder, not a file", source=str(path))
    if not stat.S_ISREG(mode):
        raise InputError("is not a regular file (a device, pipe or socket)", source=str(path))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", source=str(path)) from None


def _read_csv(data: bytes, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data[:4096]):
        raise InputError("is UTF-16 text; save it as UTF-8 CSV", source=source)
    if b"\x00" in data[:4096]:
        raise InputError("looks like a binary file, not CSV text", source=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8 CSV", source=source, row=line
        ) from None
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    body: list[list[str]] = []
    rows: list[int] = []
    problems: list[Problem] = []
    start = 1  # the line the record being read begins on: a quote left open names it
    try:
        while True:
            start = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                break
            if header is None:
                if not any(c.strip() for c in record):
                    continue
                header = record
                continue
            if not any(c.strip() for c in record):
                continue  # blank lines are not respondents
            if len(record) != len(header):
                if len(problems) < MAX_PROBLEMS:
                    problems.append(
                        Problem(
                            source,
                            f"has {len(record)} fields; the header has {len(header)} (delimiter {delimiter!r})",
                            row=start,
                        )
                    )
                continue
            body.append([c.strip() for c in record])
            rows.append(start)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"has a cell longer than {csv.field_size_limit()} characters", source=source, row=start
            ) from None
        raise InputError(f"malformed CSV ({exc})", source=source, row=start) from None
    if header is None:
        raise InputError("file has no header row", source=source)
    if problems:
        raise InputError(problems=problems)
    return header, body, rows


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of ASCII text is zero."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) == 0) or (
        even.count(0) > 0.9 * len(even) and odd.count(0) == 0
    )


def _read_xlsx(data: bytes, source: str, sheet: str | None) -> tuple[list[str], list[list[str]], list[int]]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not data.startswith(b"PK"):
        what = "it holds text (a CSV file renamed .xlsx?)" if _is_text(data[:4096]) else "it is not a zip archive"
        raise InputError(f"cannot be read as an Excel workbook: {what}", source=source)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        names = [ws.title for ws in wb.worksheets]
        if not names:
            raise InputError("has no worksheet", source=source)
        wanted = sheet or next(
            (n for n in names if n.strip().lower() in ("responses", "answers", "profiles")), names[0]
        )
        if wanted not in names:
            raise InputError(f"has no sheet named {wanted!r}", source=source)
        ws = wb[wanted]
        # A formula Excel never calculated has no saved result and reads as empty: an
        # answer silently lost. Look for them (a second read) only when there are formulas.
        formulas = _formula_cells(data, wanted) if _has_formulas(data) else set()
        header: list[str] | None = None
        body: list[list[str]] = []
        rows: list[int] = []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            for c, v in enumerate(values, start=1):
                if v is None and (r, c) in formulas:
                    name = header[c - 1] if header and c <= len(header) and header[c - 1] else get_column_letter(c)
                    raise InputError(
                        "holds a formula whose result was never saved; open the file in Excel and "
                        "save it, or paste the values",
                        source=source,
                        row=r,
                        column=name,
                    )
            if header is None:
                if not any(cells):
                    continue
                header = cells
                continue
            if not any(cells):
                continue
            if len(cells) > len(header):
                extra = [c for c, v in enumerate(cells[len(header) :], start=len(header) + 1) if v]
                if extra:
                    raise InputError(
                        f"has a value beyond the last named column (in spreadsheet column "
                        f"{get_column_letter(extra[0])})",
                        source=source,
                        row=r,
                    )
            cells = (cells + [""] * len(header))[: len(header)]
            body.append(cells)
            rows.append(r)
        if header is None:
            raise InputError(f"sheet {wanted!r} is empty", source=source)
        return header, body, rows
    finally:
        wb.close()


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return False
    return b"\x00" not in head


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (``<f>`` element)."""
    import zipfile

    pattern = re.compile(rb"<(?:\w+:)?f[\s>/]")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with archive.open(info) as fh:
                    tail = b""
                    while chunk := fh.read(1 << 20):  # in pieces: a sheet may expand to gigabytes
                        if pattern.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    return False


def _formula_cells(data: bytes, sheet: str) -> set[tuple[int, int]]:
    """(row, column) of every formula cell of one sheet."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        out: set[tuple[int, int]] = set()
        for r, row in enumerate(wb[sheet].iter_rows(), start=1):
            for c, cell in enumerate(row, start=1):
                if getattr(cell, "data_type", None) == "f":
                    out.add((r, c))
        return out
    finally:
        wb.close()


def _read_json(data: bytes, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x})", source=source, row=line) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", source=source
        ) from None
    except RecursionError:
        raise InputError("is not valid JSON (nested too deeply)", source=source) from None
    if isinstance(doc, dict):
        key = next((k for k in ("responses", "profiles", "records", "data") if isinstance(doc.get(k), list)), None)
        if key is None:
            raise InputError("JSON must be a list of records or an object with a 'responses' list", source=source)
        doc = doc[key]
    if not isinstance(doc, list):
        raise InputError("JSON must be a list of records", source=source)
    if not doc:
        raise InputError("JSON holds no records", source=source)
    header: list[str] = []
    seen: set[str] = set()
    for n, rec in enumerate(doc, start=1):
        if not isinstance(rec, dict):
            raise InputError("each record must be an object of column: value", source=source, row=n)
        for k in rec:
            if k not in seen:
                seen.add(k)
                header.append(str(k))
    body = []
    for n, rec in enumerate(doc, start=1):
        row = []
        for k in header:
            v = rec.get(k)
            if isinstance(v, (dict, list)):
                raise InputError("a cell must be a number, text or null", source=source, row=n, column=k)
            row.append(_cell_text(v))
        body.append(row)
    return header, body, list(range(1, len(doc) + 1))


def _read_parquet(data: bytes, source: str) -> tuple[list[str], list[list[str]], list[int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    header = [str(c) for c in table.column_names]
    columns = []
    for name, column in zip(header, table.columns):
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
            raise InputError(
                f"column holds {kind} values; a cell must be a number, text or empty", source=source, row=1, column=name
            )
        values = column.to_pylist()
        cells = []
        for r, v in enumerate(values, start=2):
            try:
                cells.append(_cell_text(v))
            except TypeError as exc:
                raise InputError(
                    f"a cell must be a number, text or empty ({exc})", source=source, row=r, column=name
                ) from None
        columns.append(cells)
    body = [list(row) for row in zip(*columns)] if columns else []
    return header, body, list(range(2, table.num_rows + 2))


# ---------------------------------------------------------------------- instruments
def load_instrument(path: str | Path | None = None) -> Instrument:
    """Load and validate an instrument YAML (the bundled one by default).

    ``path`` is a file, or the name of a bundled instrument (``service-to-sales``, the
    current version; ``service-to-sales-v1``, the first), which is how answers collected
    with an earlier version are scored. A file of that name in the working folder wins.
    An instrument without a ``levels:`` block of its own gets the bundled readiness
    levels (``templates/levels.yaml``, :func:`load_levels`).
    """
    path = instrument_path(path)
    spec = _read_yaml(path)
    if isinstance(spec, dict) and "levels" not in spec:
        spec = {**spec, "levels": _levels_spec(DEFAULT_LEVELS)}
    return Instrument.from_dict(spec, source=path.name)


def load_levels(path: str | Path | None = None) -> tuple[Level, ...]:
    """The readiness levels of a levels file (the bundled ``templates/levels.yaml`` by default)."""
    from pydantic import ValidationError

    from ..core.levels import check_levels

    path = Path(path) if path is not None else DEFAULT_LEVELS
    try:
        levels = tuple(Level.model_validate(entry) for entry in _levels_spec(path))
    except ValidationError as exc:
        raise InputError(f"a level is invalid ({exc.errors()[0]['msg']})", source=path.name, key="levels") from None
    problems = check_levels(levels)
    if problems:
        raise InputError(problems[0], source=path.name, key="levels")
    return levels


def _levels_spec(path: Path) -> list[Any]:
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("levels"), list) or not doc["levels"]:
        raise InputError("expected a mapping with a non-empty 'levels' list", source=path.name)
    return list(doc["levels"])


def instrument_path(value: str | Path | None = None) -> Path:
    """The file ``--instrument`` means: a path, or a bundled instrument's name (without .yaml)."""
    if value is None or value == "":
        return DEFAULT_INSTRUMENT
    path = Path(value)
    if not path.exists() and len(path.parts) == 1:
        for candidate in (template_path("instruments", f"{path.name}.yaml"), template_path("instruments", path.name)):
            if path.suffix in ("", ".yaml") and candidate.is_file():
                return candidate
    return path


def load_playbook(instrument: Instrument, path: str | Path | None = None) -> Playbook:
    """Load an action playbook (the bundled one by default), validated against ``instrument``."""
    from ..core.roadmap import Playbook

    path = Path(path) if path is not None else DEFAULT_PLAYBOOK
    return Playbook.from_dict(_read_yaml(path), instrument=instrument, source=path.name)


def load_references(path: str | Path | None = None) -> dict[str, Any]:
    """Published reference figures, each with its source's short reference for people.

    Returns ``{"kpis": {kpi: [{text, source, reference, ...}]}, "context": [...],
    "agents": {"unwilling_or_unable": {...}}, "sources": {file name: reference}}``:
    ``source`` is the article's file name (kept in the data), ``reference`` its
    publication, year and title (:func:`readiness.io.citations.citation`), and
    ``sources`` the table of every known article, for actions and items that cite one.
    """
    from .citations import citation, load_sources

    path = Path(path) if path is not None else DEFAULT_REFERENCES
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis", {}), dict):
        raise InputError("expected a mapping with a 'kpis' mapping", source=path.name)
    for kpi, figures in doc.get("kpis", {}).items():
        if kpi not in KPIS:
            raise InputError(f"unknown KPI {kpi!r}", source=path.name, key=f"kpis.{kpi}")
        for n, fig in enumerate(figures or []):
            if not isinstance(fig, dict) or not fig.get("text") or not fig.get("source"):
                raise InputError("each figure needs text and source", source=path.name, key=f"kpis.{kpi}[{n}]")
    agents = doc.get("agents") or {}
    if not isinstance(agents, dict) or not all(
        isinstance(f, dict) and f.get("text") and f.get("source") for f in agents.values()
    ):
        raise InputError("each figure under 'agents' needs text and source", source=path.name, key="agents")

    def cited(fig: dict[str, Any]) -> dict[str, Any]:
        return {**fig, "reference": citation(fig.get("source"))}

    return {
        "kpis": {kpi: [cited(f) for f in figures or []] for kpi, figures in doc.get("kpis", {}).items()},
        "context": [cited(f) for f in doc.get("context", []) or []],
        "agents": {name: cited(f) for name, f in agents.items()},
        "sources": {name: source.reference for name, source in load_sources().items()},
    }


def load_targets(path: str | Path, instrument: Instrument) -> dict[str, float]:
    """A target profile: facet id -> target score (0-100), from CSV/XLSX/JSON (columns facet, target)
    or YAML (a mapping). Facets not listed get no target."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        doc = _read_yaml(path)
        if not isinstance(doc, dict):
            raise InputError("a target profile must map facet ids to scores", source=path.name)
        pairs: list[tuple[str, Any, int | None]] = [(str(k), v, None) for k, v in doc.items()]
    else:
        table = read_table(path)
        cols = {c.lower(): c for c in table.columns}
        if "facet" not in cols or "target" not in cols:
            raise InputError("a target profile needs columns facet and target", source=table.source, row=1)
        pairs = [(f, t, int(r)) for f, t, r in zip(table.cells[cols["facet"]], table.cells[cols["target"]], table.rows)]
    out: dict[str, float] = {}
    for facet, value, row in pairs:
        # A file names the row and column; a YAML mapping names the key.
        where: dict[str, Any] = {
            "source": path.name,
            "row": row,
            "column": "facet" if row else None,
            "key": None if row else facet[:60],
        }
        if facet not in instrument.facets:
            raise InputError(f"unknown facet {facet[:60]!r}", **where)
        where["column"] = "target" if row else None
        try:
            target = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"target {str(value)[:40]!r} is not a number", **where) from None
        if not 0 <= target <= 100:
            raise InputError(f"target {target:g} is outside 0..100", **where)
        out[facet] = target
    return out


def _read_yaml(path: Path) -> Any:
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x})", source=path.name, row=line) from None
    if not text.strip():
        raise InputError("file is empty", source=path.name)
    try:
        doc = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"is not valid YAML ({getattr(exc, 'problem', None) or exc})",
            source=path.name,
            row=mark.line + 1 if mark else None,
        ) from None
    except RecursionError:
        raise InputError("is not valid YAML (nested too deeply)", source=path.name) from None
    _check_size(doc, path.name)
    return doc


#: libyaml's safe loader when PyYAML was built with it (several times faster), else PyYAML's own.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Most values (keys, list entries, scalars) a YAML document may expand to. Anchors and
#: aliases let a few lines stand for billions of values ("billion laughs"); the bundled
#: instrument holds a few thousand.
_MAX_YAML_NODES = 200_000


def _check_size(doc: Any, source: str) -> None:
    """Refuse a document that expands (through aliases) to more than ``_MAX_YAML_NODES`` values."""
    budget = _MAX_YAML_NODES
    stack = [doc]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise InputError(
                f"is too large: it expands to more than {_MAX_YAML_NODES} values "
                "(anchors and aliases repeating one another?)",
                source=source,
            )
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, set)):
            stack.extend(node)


# ---------------------------------------------------------------------- responses
def load_responses(path: str | Path, instrument: Instrument, *, sheet: str | None = None) -> Responses:
    """Read and validate a responses file in the canonical wide form."""
    return parse_responses(read_table(path, sheet=sheet), instrument)


def load_responses_isolating(
    path: str | Path, instrument: Instrument, *, sheet: str | None = None
) -> tuple[Responses, dict[str, str]]:
    """Like :func:`load_responses`, but an organization whose own rows are bad is set aside.

    For batches: an error that belongs to rows of one organization (a bad answer, role or
    id, a duplicate respondent) takes that organization out, with the first such error as
    its reason, and the others load. Returns the responses and ``{org_id: reason}``.
    Errors that belong to no organization (an unreadable file, a missing column, an empty
    org id) or that leave no organization standing raise :class:`InputError` as usual.
    """
    table = read_table(path, sheet=sheet)
    rejected: dict[str, str] = {}
    first_errors: list[Problem] | None = None
    while True:
        problems, responses = _check_responses(table, instrument)
        errors = [p for p in problems if p.severity == "error"]
        if not errors:
            assert responses is not None
            return responses, rejected
        first_errors = first_errors or errors
        org_column = next((c for c in table.columns if c.strip().lower() == "org_id"), None)
        if org_column is None or any(p.row is None or p.row < 2 for p in errors):
            raise InputError(problems=first_errors)
        org_of_row = dict(zip(table.rows.tolist(), table.cells[org_column].astype(str).tolist()))
        bad: dict[str, str] = {}
        for p in errors:
            org = org_of_row.get(p.row, "")
            if not org.strip():
                raise InputError(problems=first_errors)
            bad.setdefault(org, str(p))
        rejected.update(bad)
        keep = ~table.cells[org_column].astype(str).isin(list(bad)).to_numpy()
        if not keep.any():
            raise InputError(problems=first_errors)
        table = Table(table.source, table.columns, table.cells[keep].reset_index(drop=True), table.rows[keep])


def parse_responses(table: Table, instrument: Instrument) -> Responses:
    """Validate a :class:`Table` of answers; collect every problem (up to a cap)."""
    problems, responses = _check_responses(table, instrument)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems=errors)
    assert responses is not None
    return responses


def _check_responses(table: Table, instrument: Instrument) -> tuple[list[Problem], Responses | None]:
    problems, responses = _collect_response_problems(table, instrument)
    position = {c: i for i, c in enumerate(table.columns)}
    problems.sort(key=lambda p: (p.row or 0, position.get(p.column or "", -1)))
    return problems, responses


def _collect_response_problems(table: Table, instrument: Instrument) -> tuple[list[Problem], Responses | None]:
    src = table.source
    problems: list[Problem] = []
    by_key = {c.strip().lower(): c for c in table.columns}
    missing = [c for c in META_COLUMNS if c not in by_key]
    if missing:
        return [
            Problem(
                src,
                f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                row=1,
                column=missing[0],
            )
        ], None
    if table.cells.empty:
        return [Problem(src, "has a header but no respondent rows", row=1)], None
    layout = instrument.layout
    item_key = {i.lower(): i for i in layout.item_ids}
    item_cols = {item_key[c.lower()]: c for c in table.columns if c.lower() in item_key}
    open_key = {q.lower(): q for q in instrument.open_question_ids}
    open_cols = {open_key[c.lower()]: c for c in table.columns if c.lower() in open_key}
    comment_cols = _comment_columns(table.columns, instrument)
    extra = [
        c
        for c in table.columns
        if c.lower() not in item_key
        and c.lower() not in open_key
        and c.lower() not in META_COLUMNS
        and not c.lower().startswith(COMMENT_PREFIX)
    ]
    hint = _other_instrument(extra, list(item_cols.values()) + list(open_cols.values()), instrument)
    if hint:
        # Read with this version, such a file would lose the items the versions do not
        # share and score the rest as if nothing were missing: refused, with the way out.
        return [Problem(src, hint, row=1)], None
    for c in extra:
        problems.append(
            Problem(src, "column matches no item of the instrument; ignored", row=1, column=c, severity="warning")
        )
    for c in table.columns:
        if c.lower().startswith(COMMENT_PREFIX) and c not in comment_cols:
            problems.append(
                Problem(
                    src,
                    "comment column names no facet or item of the instrument; ignored",
                    row=1,
                    column=c,
                    severity="warning",
                )
            )
    if not item_cols:
        problems.append(Problem(src, f"no column matches an item of instrument {instrument.id!r}", row=1))
        return problems, None

    cells = table.cells
    rows = table.rows
    org = cells[by_key["org_id"]].astype(str)
    rid = cells[by_key["respondent_id"]].astype(str)
    role = cells[by_key["role"]].astype(str).str.strip().str.lower()

    def add(p: Problem) -> bool:
        problems.append(p)
        return sum(q.severity == "error" for q in problems) < MAX_PROBLEMS

    for name, series in (("org_id", org), ("respondent_id", rid)):
        key_col = by_key[name]
        for i in np.flatnonzero((series == "").to_numpy()):
            if not add(Problem(src, f"{name} is empty", row=int(rows[i]), column=key_col)):
                return problems, None
        for i in np.flatnonzero(series.str.len().to_numpy() > _MAX_ID):
            if not add(Problem(src, f"{name} is longer than {_MAX_ID} characters", row=int(rows[i]), column=key_col)):
                return problems, None
        bad = series.str.contains(_CONTROL) | series.str.contains(r"[/\\]") | series.str.contains(r"\.\.", regex=True)
        for i in np.flatnonzero(bad.to_numpy()):
            if not add(
                Problem(
                    src,
                    f"{name} {series.iat[i][:40]!r} contains a control character, a path separator or '..'",
                    row=int(rows[i]),
                    column=key_col,
                )
            ):
                return problems, None
        for i in np.flatnonzero(series.str.contains(_FORMULA_START, regex=True).to_numpy() & ~bad.to_numpy()):
            if not add(
                Problem(
                    src,
                    f"{name} {series.iat[i][:40]!r} starts like a spreadsheet formula (=, +, -, @)",
                    row=int(rows[i]),
                    column=key_col,
                )
            ):
                return problems, None
    known_roles = set(layout.role_ids)
    for i in np.flatnonzero(~role.isin(known_roles).to_numpy()):
        if not add(
            Problem(
                src,
                f"unknown role {role.iat[i][:40]!r}; expected one of {', '.join(layout.role_ids)}",
                row=int(rows[i]),
                column=by_key["role"],
            )
        ):
            return problems, None
    dup = pd.DataFrame({"o": org, "r": rid}).duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup):
        first = int(rows[np.flatnonzero(((org == org.iat[i]) & (rid == rid.iat[i])).to_numpy())[0]])
        if not add(
            Problem(
                src,
                f"duplicate respondent {rid.iat[i][:40]!r} in organization {org.iat[i][:40]!r} (first at row {first})",
                row=int(rows[i]),
                column=by_key["respondent_id"],
            )
        ):
            return problems, None

    n = len(cells)
    values = np.full((n, len(layout.item_ids)), np.nan)
    na = np.zeros((n, len(layout.item_ids)), dtype=bool)
    dk = np.zeros((n, len(layout.item_ids)), dtype=bool)
    k = instrument.scale_points
    role_codes = role.map({r: j for j, r in enumerate(layout.role_ids)})
    asked_rows = layout.asked[role_codes.fillna(0).to_numpy(dtype=np.intp)]
    asked_rows[role_codes.isna().to_numpy()] = True  # unknown role: already an error, no stray warnings
    not_asked_count = 0
    na_refused = 0
    for j, item_id in enumerate(layout.item_ids):
        col = item_cols.get(item_id)
        if col is None:
            continue
        item = instrument.items[item_id]
        lookup: dict[str, float] = {str(v): float(v) for v in range(1, k + 1)}
        lookup.update({f"{v}.0": float(v) for v in range(1, k + 1)})
        lookup.update({label.strip().lower(): float(v) for v, label in enumerate(item.labels, start=1)})
        text = cells[col].astype(str).str.strip()
        lowered = text.str.lower()
        mapped = lowered.map(lookup)
        is_na = lowered.isin(NOT_APPLICABLE_SPELLINGS).to_numpy()
        is_dk = lowered.isin(DONT_KNOW_SPELLINGS).to_numpy()
        empty = (text == "").to_numpy()
        bad = mapped.isna().to_numpy() & ~is_na & ~is_dk & ~empty
        for i in np.flatnonzero(bad):
            if not add(Problem(src, _answer_problem(text.iat[i], k), row=int(rows[i]), column=col)):
                return problems, None
        col_values = mapped.to_numpy(dtype=float, na_value=np.nan)
        if not item.allows_na and is_na.any():
            na_refused += int(is_na.sum())
            is_na = np.zeros_like(is_na)  # counts as unanswered: the item does not allow N/A
        asked = asked_rows[:, j]
        stray = ~asked & (~np.isnan(col_values) | is_na | is_dk)
        not_asked_count += int(stray.sum())
        values[:, j] = np.where(asked, col_values, np.nan)
        na[:, j] = is_na & asked
        dk[:, j] = is_dk & asked
    texts, text_warnings = _open_answers(cells, rows, open_cols, instrument, role, src)
    problems.extend(text_warnings)
    if na_refused:
        problems.append(
            Problem(
                src,
                f"{na_refused} N/A answer(s) given to items that do not allow N/A were treated as unanswered",
                severity="warning",
            )
        )
    if not_asked_count:
        problems.append(
            Problem(
                src,
                f"{not_asked_count} answer(s) to items not asked of the respondent's role were ignored",
                severity="warning",
            )
        )
    if any(p.severity == "error" for p in problems):
        return problems, None
    warnings = [str(p) for p in problems if p.severity == "warning"]
    comments = [
        (org.iat[i], rid.iat[i], topic, text)
        for col, topic in comment_cols.items()
        for i, text in enumerate(cells[col].astype(str).tolist())
        if text.strip()
    ]
    responses = Responses.from_arrays(
        instrument,
        org.tolist(),
        rid.tolist(),
        role.tolist(),
        values,
        na,
        dont_know=dk,
        open_answers=texts,
        rows=rows.tolist(),
        warnings=warnings,
        source=src,
        comments=pd.DataFrame(comments, columns=["org_id", "respondent_id", "topic", "text"]) if comments else None,
    )
    return problems, responses


def _open_answers(
    cells: pd.DataFrame,
    rows: np.ndarray,
    open_cols: dict[str, str],
    instrument: Instrument,
    role: pd.Series,
    src: str,
) -> tuple[np.ndarray, list[Problem]]:
    """Free-text answers to the open questions, as given: any text, cut at
    :data:`~readiness.core.answers.OPEN_TEXT_MAX` characters, control characters other than
    line breaks and tabs replaced by spaces. Answers from roles the question is not put to
    are dropped. Spreadsheet-formula look-alikes are kept here and made inert on export."""
    n = len(cells)
    texts = np.full((n, len(instrument.open_questions)), "", dtype=object)
    problems: list[Problem] = []
    for q, question in enumerate(instrument.open_questions):
        col = open_cols.get(question.id)
        if col is None:
            continue
        column = cells[col].astype(str).str.strip().str.replace(_TEXT_CONTROL, " ", regex=True)
        asked = role.isin(question.roles).to_numpy()
        given = (column != "").to_numpy()
        stray = int((given & ~asked).sum())
        if stray:
            problems.append(
                Problem(
                    src,
                    f"{stray} answer(s) to {question.id} from roles it is not put to were ignored",
                    column=col,
                    severity="warning",
                )
            )
        long = np.flatnonzero((column.str.len() > OPEN_TEXT_MAX).to_numpy() & asked)
        for i in long[:MAX_PROBLEMS]:
            problems.append(
                Problem(
                    src,
                    f"answer longer than {OPEN_TEXT_MAX} characters; kept up to that length",
                    row=int(rows[i]),
                    column=col,
                    severity="warning",
                )
            )
        texts[:, q] = np.where(asked, column.str.slice(0, OPEN_TEXT_MAX).to_numpy(dtype=object), "")
    return texts, problems


def _other_instrument(unknown: list[str], matched: list[str], instrument: Instrument) -> str:
    """The message for a file answered on another bundled instrument, or ``""``.

    Answers collected with an earlier version of the question set carry item ids that the
    current one retired. When every item column of the file (``unknown`` to this
    instrument, and ``matched``) belongs to another bundled instrument, this names it and
    how to read the file with it.
    """
    if not unknown:
        return ""
    columns = {c.lower() for c in [*unknown, *matched]}
    for name, other in _bundled_instruments():
        if (other.id, other.version) == (instrument.id, instrument.version):
            continue
        known = {i.lower() for i in other.items} | {q.lower() for q in other.open_question_ids}
        if columns <= known:
            shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
            return (
                f"the file looks answered on instrument {other.id} version {other.version} (columns {shown} "
                f"are its items, not this version's); give --instrument {name} to read it"
            )
    return ""


@functools.lru_cache(maxsize=1)
def _bundled_instruments() -> tuple[tuple[str, Instrument], ...]:
    """Every bundled instrument, by the name ``--instrument`` accepts for it."""
    out = []
    for path in sorted(template_path("instruments").glob("*.yaml")):
        try:
            out.append((path.stem, load_instrument(path)))
        except InputError:  # pragma: no cover - the bundled files are tested
            continue
    return tuple(out)


def _comment_columns(columns: Iterable[str], instrument: Instrument) -> dict[str, str]:
    """Comment columns -> the facet or item they are about (``comment:<facet id or item id>``)."""
    topics = {f.lower(): f for f in instrument.layout.facet_ids}
    topics.update({i.lower(): i for i in instrument.layout.item_ids})
    out = {}
    for column in columns:
        if column.lower().startswith(COMMENT_PREFIX):
            topic = topics.get(column[len(COMMENT_PREFIX) :].strip().lower())
            if topic is not None:
                out[column] = topic
    return out


def _answer_problem(value: str, k: int) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    try:
        number = float(value)
    except ValueError:
        return f"unknown answer {shown!r}: expected 1..{k}, one of the item's labels, NA, DK or empty"
    if not math.isfinite(number) or not number.is_integer():
        return f"answer {shown!r} is not a whole number from 1 to {k}"
    return f"answer {shown} is outside 1..{k}"


# ---------------------------------------------------------------------- profiles
def load_profiles(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read and validate organization profiles.

    Returns a frame indexed by ``org_id`` with columns ``org_name, industry, agents,
    size_band, stage`` and one column per KPI present (float, NaN where blank).
    """
    return parse_profiles(read_table(path, sheet=sheet))


def parse_profiles(table: Table) -> pd.DataFrame:
    src = table.source
    by_key = {c.strip().lower(): c for c in table.columns}
    if "org_id" not in by_key:
        raise InputError("missing required column org_id", source=src, row=1, column="org_id")
    if table.cells.empty:
        raise InputError("has a header but no organization rows", source=src, row=1)
    problems: list[Problem] = []
    cells, rows = table.cells, table.rows
    out = pd.DataFrame(index=pd.Index(cells[by_key["org_id"]].astype(str).to_numpy(), name="org_id"))
    org = out.index.to_series()
    for i in np.flatnonzero((org == "").to_numpy()):
        problems.append(Problem(src, "org_id is empty", row=int(rows[i]), column=by_key["org_id"]))
    for i in np.flatnonzero(org.duplicated().to_numpy()):
        problems.append(
            Problem(src, f"duplicate org_id {org.iat[i][:40]!r}", row=int(rows[i]), column=by_key["org_id"])
        )
    bad = org.str.contains(_CONTROL) | org.str.contains(r"[/\\]") | org.str.contains(r"\.\.", regex=True)
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(
            Problem(
                src,
                f"org_id {org.iat[i][:40]!r} contains a control character, a path separator or '..'",
                row=int(rows[i]),
                column=by_key["org_id"],
            )
        )
    for i in np.flatnonzero(org.str.contains(_FORMULA_START, regex=True).to_numpy() & ~bad.to_numpy()):
        problems.append(
            Problem(
                src,
                f"org_id {org.iat[i][:40]!r} starts like a spreadsheet formula (=, +, -, @)",
                row=int(rows[i]),
                column=by_key["org_id"],
            )
        )

    def text(name: str) -> pd.Series:
        col = by_key.get(name)
        return cells[col].astype(str).str.strip() if col else pd.Series([""] * len(cells))

    names = text("org_name")
    long = names.str.len().to_numpy() > _MAX_CELL
    for i in np.flatnonzero(long):
        problems.append(
            Problem(src, f"org_name is longer than {_MAX_CELL} characters", row=int(rows[i]), column=by_key["org_name"])
        )
    out["org_name"] = np.where(names.to_numpy() == "", org.to_numpy(), names.to_numpy())
    industry = text("industry").str.lower().str.replace(" ", "_")
    out["industry"] = np.where(industry.to_numpy() == "", None, industry.to_numpy())

    agents = pd.Series([np.nan] * len(cells))
    if "agents" in by_key:
        raw = text("agents")
        agents = pd.to_numeric(raw, errors="coerce")
        for i in np.flatnonzero(((raw != "") & (agents.isna() | (agents < 1))).to_numpy()):
            problems.append(
                Problem(
                    src,
                    f"agents {raw.iat[i][:20]!r} must be a whole number of at least 1",
                    row=int(rows[i]),
                    column=by_key["agents"],
                )
            )
    band = text("size_band").str.replace(" ", "")
    for i in np.flatnonzero(((band != "") & ~band.isin(SIZE_BANDS)).to_numpy()):
        problems.append(
            Problem(
                src,
                f"size_band {band.iat[i][:20]!r} is not one of {', '.join(SIZE_BANDS)}",
                row=int(rows[i]),
                column=by_key["size_band"],
            )
        )
    derived = [size_band(a) if np.isfinite(a) and a >= 1 else "" for a in agents.to_numpy(dtype=float)]
    out["agents"] = agents.to_numpy(dtype=float)
    out["size_band"] = [b if b else (d or None) for b, d in zip(band.tolist(), derived)]
    stage = text("stage").str.lower().str.replace(" ", "_").str.replace("-", "_")
    for i in np.flatnonzero(((stage != "") & ~stage.isin(STAGES)).to_numpy()):
        problems.append(
            Problem(
                src,
                f"stage {stage.iat[i][:30]!r} is not one of {', '.join(STAGES)}",
                row=int(rows[i]),
                column=by_key["stage"],
            )
        )
    out["stage"] = np.where(stage.to_numpy() == "", None, stage.to_numpy())

    for kpi, (_, low, high, unit) in KPIS.items():
        col = by_key.get(kpi)
        if not col:
            continue
        raw = text(kpi)
        val = pd.to_numeric(raw.str.rstrip("%"), errors="coerce")
        for i in np.flatnonzero(((raw != "") & val.isna()).to_numpy()):
            problems.append(Problem(src, f"{kpi} {raw.iat[i][:20]!r} is not a number", row=int(rows[i]), column=col))
        for i in np.flatnonzero(((val < low) | (val > high)).to_numpy()):
            problems.append(
                Problem(
                    src, f"{kpi} {raw.iat[i][:20]} is outside {low:g}..{high:g} {unit}", row=int(rows[i]), column=col
                )
            )
        out[kpi] = val.to_numpy(dtype=float)
    known = {"org_id", "org_name", "industry", "agents", "size_band", "stage", *KPIS}
    if problems:
        raise InputError(problems=problems[:MAX_PROBLEMS])
    out.attrs["ignored_columns"] = [c for c in table.columns if c.strip().lower() not in known]
    out.attrs["source"] = src
    out.attrs["rows"] = [int(r) for r in rows]
    return out


# ---------------------------------------------------------------------- validate
def validate_files(
    responses_path: str | Path,
    instrument: Instrument,
    profiles_path: str | Path | None = None,
) -> tuple[list[Problem], Responses | None, pd.DataFrame | None]:
    """Check a responses file (and optional profiles) without stopping at the first problem.

    Returns all problems (errors and warnings), and the parsed inputs when there are no
    errors.
    """
    problems: list[Problem] = []
    try:
        table = read_table(responses_path)
    except InputError as exc:
        return list(exc.problems), None, None
    found, responses = _check_responses(table, instrument)
    problems.extend(found)
    profiles = None
    if profiles_path is not None:
        try:
            profiles = load_profiles(profiles_path)
        except InputError as exc:
            problems.extend(exc.problems)
        if profiles is not None and responses is not None:
            problems.extend(_cross_check(responses, profiles, Path(profiles_path).name))
    if any(p.severity == "error" for p in problems):
        return problems, None, None
    return problems, responses, profiles


def check_profiles_match(responses: Responses, profiles: pd.DataFrame | None, source: str) -> None:
    """Refuse profiles of which no organization has respondents: the wrong file was given.

    Organizations without a profile, and profiles without respondents, are allowed here
    (``validate`` reports them); a profiles file that matches nothing never is.
    """
    if profiles is None or not len(profiles):
        return
    if not set(responses.org_ids) & set(profiles.index):
        raise InputError(
            "no org_id in the profiles matches an organization in the responses", source=source, column="org_id"
        )


def _cross_check(responses: Responses, profiles: pd.DataFrame, source: str) -> Iterable[Problem]:
    have = set(responses.org_ids)
    listed = list(profiles.index)
    rows = profiles.attrs.get("rows") or list(range(2, len(listed) + 2))
    matched = [o for o in listed if o in have]
    if not matched:
        yield Problem(source, "no org_id in the profiles matches an organization in the responses", column="org_id")
        return
    for n, org in enumerate(listed):
        if org not in have:
            yield Problem(source, f"organization {org[:40]!r} has no respondents", row=rows[n], column="org_id")
    for org in sorted(have - set(listed)):
        yield Problem(source, f"organization {org[:40]!r} in the responses has no profile", severity="warning")
