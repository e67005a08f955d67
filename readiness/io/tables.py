"""Files as tables of text: CSV, XLSX, JSON and Parquet read cell by cell, within limits.

IO layer, used by :mod:`readiness.io.loaders`. A :class:`Table` holds the column names,
every cell as the text written in the file (``''`` when empty) and the spreadsheet row
of each data row. What this module refuses, and why (``docs/input-formats.md``):

- a file larger than the limits, before it is parsed: more rows than ``max_rows``, a
  workbook or Parquet file that unpacks to more than ``max_unpacked_mb`` (a "zip bomb"
  would otherwise keep the process busy for minutes);
- a workbook read wrongly: its cells are read as they are, whatever size the sheet
  declares; merged cells, and hidden rows or columns holding values, in the answer
  area are refused (an answer would be lost, or counted without anyone seeing it); with
  several sheets, the one holding the header is found, or named with ``sheet``, and
  every message names it;
- a JSON object with a key twice (which value counts?) and ``NaN`` or ``Infinity``
  (not JSON, and not an answer).

A title line above the header is skipped, with a warning, when ``header`` names the
columns the header must hold.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import stat
import unicodedata
import zipfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.defaults import MAX_ROWS, MAX_UNPACKED_MB
from ..core.errors import MAX_PROBLEMS, InputError, Problem
from ..core.ids import remove_invisible

__all__ = [
    "Limits",
    "Table",
    "cell_text",
    "check_unpacked_size",
    "clean_header",
    "read_bytes",
    "read_rows",
    "read_table",
]

#: Rows searched for the header (a title or notes may sit above it).
HEADER_SEARCH_ROWS = 30
#: Most members a workbook's zip archive may hold.
_MAX_ZIP_MEMBERS = 10_000
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Limits:
    """How large an input may be; checked before the file is parsed.

    ``max_rows``: data rows (respondents or organizations) a file may hold.
    ``max_unpacked_mb``: megabytes a workbook (XLSX) or Parquet file may unpack to.
    Raise them with ``--max-rows`` and ``--max-unpacked-mb``.
    """

    max_rows: int = MAX_ROWS
    max_unpacked_mb: float = MAX_UNPACKED_MB

    def __post_init__(self) -> None:
        if self.max_rows < 1:
            raise InputError(f"--max-rows {self.max_rows} must be at least 1", source="command line")
        if not self.max_unpacked_mb > 0:
            raise InputError(f"--max-unpacked-mb {self.max_unpacked_mb} must be positive", source="command line")


@dataclass(frozen=True)
class Table:
    """A file read as text: column names and cells, with the row number of each data row.

    ``cells`` has one column per name in ``columns`` (categorical, or plain objects), every
    value a ``str`` exactly as in the file (``''`` for empty). ``rows`` counts as a
    spreadsheet does (header = 1 unless a title sits above it: ``header_row``).
    ``source`` names the file, and the sheet of a workbook. ``notes`` are warnings found
    while reading (a title row skipped).
    """

    source: str
    columns: list[str]
    cells: pd.DataFrame
    rows: np.ndarray
    header_row: int = 1
    notes: tuple[Problem, ...] = field(default=())


# ---------------------------------------------------------------------- entry point
def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    header: Sequence[str] = (),
    limits: Limits | None = None,
    prefer: Sequence[str] = (),
) -> Table:
    """Read a CSV, XLSX, JSON or Parquet file as a table of text.

    Parameters
    ----------
    path : str or Path
    sheet : str, optional
        The workbook sheet to read (default: the one holding the header).
    header : sequence of str
        Columns the header must hold (``org_id``, ...): the header is the first row
        holding them all, within the first rows; rows above it are skipped, and a
        workbook's sheet is chosen by it. Empty: the first non-empty row.
    limits : Limits, optional
    prefer : sequence of str
        Sheet names (any case) to read when several sheets hold the header
        (``responses`` for answers, ``profiles`` for profiles).

    Raises
    ------
    InputError
        A missing, empty, unreadable, ragged or too large file.
    """
    return _finish(_read_raw(path, sheet=sheet, header=header, limits=limits, prefer=prefer))


def read_rows(
    path: str | Path, *, sheet: str | None = None, limits: Limits | None = None
) -> tuple[list[str], list[list[str]], list[int]]:
    """Read a file as rows of text, its first non-empty row as the header, names unchecked.

    For survey-tool exports, whose header spans several rows and may leave cells empty or
    repeat names (:mod:`readiness.io.survey_import` reads the rows under it itself). The
    file is read as :func:`read_table` reads it (the same formats, limits and refusals).
    Returns the header, the non-empty rows after it (cells stripped) and their row
    numbers as a spreadsheet counts them.
    """
    # A survey tool may merge a question's cell across its sub-columns in the header's two
    # rows (SurveyMonkey's matrix questions); below them merged cells are refused as always.
    raw = _read_raw(path, sheet=sheet, header=(), limits=limits, prefer=(), header_span=2)
    header = [cell_text(h).lstrip("\ufeff").strip() for h in raw.header]
    columns = [c.codes() for c in raw.columns]
    uniques = [[u.strip() for u in c.uniques] for c in raw.columns]
    n = len(raw.rows)
    body = [[uniques[j][int(columns[j][i])] for j in range(len(columns))] for i in range(n)]
    return header, body, [int(r) for r in raw.rows]


def _read_raw(
    path: str | Path,
    *,
    sheet: str | None,
    header: Sequence[str],
    limits: Limits | None,
    prefer: Sequence[str],
    header_span: int = 1,
) -> _Raw:
    path = Path(path)
    limits = limits or Limits()
    source = path.name
    suffix = path.suffix.lower()
    wanted = tuple(h.casefold() for h in header)
    text_file = suffix not in (".xlsx", ".xlsm", ".json", ".parquet", ".pq")
    # Delimited text is read from disk as it is parsed (a large file is never held whole);
    # the other formats are read into memory first (a workbook is compressed).
    data = _scan_text(path, source, limits) if text_file else read_bytes(path)
    if not data.strip():
        raise InputError("file is empty", source=source)
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = _read_xlsx(data, source, sheet, wanted, limits, prefer, header_span)
        elif suffix == ".json":
            raw = _read_json(data, source, limits)
        elif suffix in (".parquet", ".pq"):
            raw = _read_parquet(data, source, limits)
        else:
            raw = _read_csv(path, data, source, wanted)
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
    return raw


@dataclass
class _Raw:
    """What a format reader found, before the header's names are checked."""

    source: str
    header: list[str]
    columns: list[_Column]
    rows: array
    header_row: int = 1
    notes: list[Problem] = field(default_factory=list)


#: Rows read before their cells are encoded, column by column, in one vectorized step.
_CHUNK = 10_000


class _Column:
    """One column's cells, dictionary-encoded in chunks (compact: a byte per answer)."""

    __slots__ = ("chunks", "index", "uniques")

    def __init__(self, n_empty: int = 0) -> None:
        self.index: dict[str, int] = {"": 0}
        self.uniques: list[str] = [""]
        self.chunks: list[np.ndarray] = [np.zeros(n_empty, dtype=np.int8)] if n_empty else []

    def extend(self, values: Sequence[str]) -> None:
        codes, found = pd.factorize(np.array(values, dtype=object), use_na_sentinel=False)
        mapping = np.empty(len(found), dtype=np.int64)
        for k, value in enumerate(found.tolist()):  # a few distinct values per chunk, ids aside
            code = self.index.get(value)
            if code is None:
                code = self.index[value] = len(self.uniques)
                self.uniques.append(value)
            mapping[k] = code
        self.chunks.append(mapping[codes].astype(_code_type(len(self.uniques))))

    def codes(self) -> np.ndarray:
        kind = _code_type(len(self.uniques))
        return np.concatenate([c.astype(kind, copy=False) for c in self.chunks]) if self.chunks else np.zeros(0, kind)

    def first_value(self) -> tuple[int, str] | None:
        """Position and text of the first non-empty cell, if any."""
        if len(self.uniques) == 1:
            return None
        codes = self.codes()
        at = int(np.flatnonzero(codes != 0)[0])
        return at, self.uniques[int(codes[at])]

    def categorical(self) -> pd.Categorical:
        return pd.Categorical.from_codes(self.codes(), self.uniques)


def _code_type(n: int) -> type[np.signedinteger]:
    return np.int8 if n < 128 else np.int16 if n < 32768 else np.int32


class _Builder:
    """Rows in, encoded columns out: rows are buffered and encoded a chunk at a time."""

    def __init__(self, width: int) -> None:
        self.columns = [_Column() for _ in range(width)]
        self.buffer: list[Sequence[str]] = []
        self.n = 0

    def add(self, cells: Sequence[str]) -> None:
        self.buffer.append(cells)
        self.n += 1
        if len(self.buffer) >= _CHUNK:
            self.flush()

    def widen(self, extra: int) -> None:
        """More columns, empty in the rows read so far (a value beyond the last named column)."""
        self.flush()
        self.columns.extend(_Column(self.n) for _ in range(extra))

    def flush(self) -> list[_Column]:
        if self.buffer:
            for column, values in zip(self.columns, zip(*self.buffer)):
                column.extend(values)
            self.buffer = []
        return self.columns


def _finish(raw: _Raw) -> Table:
    """Check the header's names (blank, duplicate) and build the :class:`Table`."""
    source = raw.source
    names = [clean_header(h) for h in raw.header]
    problems = []
    seen: dict[str, int] = {}
    row_numbers = np.frombuffer(raw.rows, dtype=raw.rows.typecode).astype(np.int64)
    for i, name in enumerate(names):
        if not name:
            found = raw.columns[i].first_value()
            if found is not None:
                at, value = found
                problems.append(
                    Problem(
                        source,
                        f"column {i + 1} has no name in the header but holds {value.strip()[:40]!r}",
                        row=int(row_numbers[at]),
                    )
                )
            continue
        key = name.casefold()
        if key in seen:
            problems.append(
                Problem(
                    source, f"duplicate column {name!r} (also column {seen[key] + 1})", row=raw.header_row, column=name
                )
            )
        seen[key] = i
    if problems:
        raise InputError(problems=problems[:MAX_PROBLEMS])
    keep = [i for i, name in enumerate(names) if name]
    data = {}
    for i in keep:  # each column's chunks are let go as soon as it is built
        data[names[i]] = raw.columns[i].categorical()
        raw.columns[i].chunks = []
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(row_numbers)))
    return Table(source, [names[i] for i in keep], frame, row_numbers, raw.header_row, tuple(raw.notes))


def clean_header(value: Any) -> str:
    """A header cell as a column name: Unicode NFKC, invisible characters and surrounding space removed."""
    return remove_invisible(unicodedata.normalize("NFKC", cell_text(value))).strip()


def cell_text(value: Any) -> str:
    """A cell as text, exactly as written; raises ``TypeError`` for a value that is no cell (a list).

    Numbers are written as a person would read them (``3.0`` from a spreadsheet is ``3``);
    NaN (Parquet, pandas) is empty.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
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
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise TypeError("binary data that is not UTF-8 text") from None
    if isinstance(value, (dict, list, tuple, set, np.ndarray)):
        raise TypeError(f"a {type(value).__name__} of values, not one number or text")
    return str(value)


def read_bytes(path: Path, *, size_only: bool = False) -> bytes:
    """The bytes of a regular file; a folder, a device or a pipe is an :class:`InputError`.

    A pipe or ``/dev/zero`` would otherwise block for ever or fill the memory. With
    ``size_only`` the file is only checked (``b""`` is returned).
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
    if size_only:
        return b""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", source=str(path)) from None


def _is_header(cells: Sequence[Any], wanted: tuple[str, ...]) -> bool:
    if not wanted:
        return any(cell_text(c).strip() for c in cells)
    names = {clean_header(c).casefold() for c in cells}
    return all(w in names for w in wanted)


def _too_many_rows(source: str, n: int, limits: Limits, what: str = "rows") -> InputError:
    return InputError(
        f"has {n} {what}, more than the limit of {limits.max_rows} rows; raise it with --max-rows if the file is right",
        source=source,
    )


# ---------------------------------------------------------------------- CSV
def _scan_text(path: Path, source: str, limits: Limits) -> bytes:
    """Check a text file before it is parsed, in one pass over its bytes; return its head.

    Refuses a device or pipe, UTF-16 and binary data, more lines than the row limit
    allows, and bytes that are not UTF-8 (naming the line). The head returned is enough
    to find the header and its delimiter; it is ``b""`` when the file holds only space.
    """
    read_bytes(path, size_only=True)  # a regular file, or a one-line error
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    lines = 0
    offset = 0
    blank = True
    last = b"\n"
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                if not head:
                    head = chunk[: 1 << 16]
                    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head[:4096]):
                        raise InputError("is UTF-16 text; save it as UTF-8 CSV", source=source)
                    if b"\x00" in head[:4096]:
                        raise InputError("looks like a binary file, not CSV text", source=source)
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    at = max(0, exc.start - pending)  # the offset within this chunk
                    line = lines + chunk[:at].count(b"\n") + 1
                    raise InputError(
                        f"is not UTF-8 text (byte 0x{chunk[at]:02x}); save it as UTF-8 CSV", source=source, row=line
                    ) from None
                lines += chunk.count(b"\n")
                blank = blank and not chunk.strip()
                last = chunk[-1:]
                offset += len(chunk)
                if lines > limits.max_rows + HEADER_SEARCH_ROWS:  # counting lines takes a moment
                    raise _too_many_rows(source, lines, limits, "lines or more")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InputError(
                    "is not UTF-8 text (it ends inside a character); save it as UTF-8 CSV", source=source, row=lines + 1
                ) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", source=str(path)) from None
    if last != b"\n":
        lines += 1
    if lines > limits.max_rows + HEADER_SEARCH_ROWS:
        raise _too_many_rows(source, lines, limits, "lines")
    return b"" if blank else head


def _read_csv(path: Path, head: bytes, source: str, wanted: tuple[str, ...]) -> _Raw:
    header_line, delimiter = _find_csv_header(head, wanted)
    with open(path, encoding="utf-8-sig", newline="") as text:
        return _parse_csv(text, source, header_line, delimiter)


def _parse_csv(text: io.TextIOBase, source: str, header_line: int, delimiter: str) -> _Raw:
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    builder = _Builder(0)
    rows = array("l")
    problems: list[Problem] = []
    skipped: list[int] = []
    start = 1  # the line the record being read begins on: a quote left open names it
    try:
        while True:
            start = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                break
            blank = not any(c.strip() for c in record)
            if header is None:
                if start < header_line or blank:
                    if not blank:
                        skipped.append(start)
                    continue
                header = record
                builder = _Builder(len(header))
                continue
            if blank:
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
            builder.add(record)
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
    return _Raw(source, header, builder.flush(), rows, header_line, _skipped_note(source, skipped))


def _find_csv_header(head: bytes, wanted: tuple[str, ...]) -> tuple[int, str]:
    """(line of the header, delimiter): the first line holding the wanted columns.

    Without ``wanted`` or when no line holds them: the first non-blank line, with the
    delimiter it holds most of.
    """
    lines = head.decode("utf-8-sig", errors="replace").splitlines()[:HEADER_SEARCH_ROWS]
    first: tuple[int, str] | None = None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        counts = {d: line.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if first is None:
            first = (n, best if counts[best] else ",")
        if not wanted:
            break
        for delimiter in sorted(_DELIMITERS, key=lambda d: -counts[d]):
            try:
                cells = next(csv.reader([line], delimiter=delimiter))
            except (csv.Error, StopIteration):
                continue
            if _is_header(cells, wanted):
                return n, delimiter
    return first or (1, ",")


def _skipped_note(source: str, skipped: list[int]) -> list[Problem]:
    if not skipped:
        return []
    where = f"row {skipped[0]}" if len(skipped) == 1 else f"rows {skipped[0]}-{skipped[-1]}"
    return [Problem(source, f"{where} above the header (a title or notes) skipped", severity="warning")]


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of ASCII text is zero."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) == 0) or (
        even.count(0) > 0.9 * len(even) and odd.count(0) == 0
    )


# ---------------------------------------------------------------------- XLSX
def _read_xlsx(
    data: bytes,
    source: str,
    sheet: str | None,
    wanted: tuple[str, ...],
    limits: Limits,
    prefer: Sequence[str] = (),
    header_span: int = 1,
) -> _Raw:
    import openpyxl

    if not data.startswith(b"PK"):
        what = "it holds text (a CSV file renamed .xlsx?)" if _is_text(data[:4096]) else "it is not a zip archive"
        raise InputError(f"cannot be read as an Excel workbook: {what}", source=source)
    check_unpacked_size(data, source, limits)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = _choose_sheet(wb, source, sheet, wanted, prefer)
        where = f"{source}, sheet {ws.title!r}"
        layout = _sheet_layout(data, ws._worksheet_path)
        header_at = _header_row(ws, wanted)
        if wanted and header_at is None and sheet is None and len(wb.worksheets) > 1:
            listed = ", ".join(repr(w.title) for w in wb.worksheets)
            raise InputError(
                f"no sheet holds a header with {', '.join(wanted)} (its sheets: {listed}); name the sheet to "
                "read with --sheet, or add the missing columns",
                source=source,
            )
        # A formula Excel never calculated has no saved result and reads as empty: an
        # answer silently lost. Look for them (a second read) only when there are formulas.
        formulas = _formula_cells(data, ws.title, limits) if layout.formulas else set()
        header: list[str] | None = None
        header_row = 0
        builder = _Builder(0)
        rows = array("l")
        skipped: list[int] = []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if formulas:
                for c, v in enumerate(values, start=1):
                    if v is None and (r, c) in formulas:
                        name = header[c - 1] if header and c <= len(header) and header[c - 1] else _letter(c)
                        raise InputError(
                            "holds a formula whose result was never saved; open the file in Excel and "
                            "save it, or paste the values",
                            source=where,
                            row=r,
                            column=clean_header(name) or name,
                        )
            try:
                cells = [cell_text(v) for v in values]
            except TypeError as exc:  # pragma: no cover - openpyxl gives cells, not lists
                raise InputError(f"a cell must be a number, text or empty ({exc})", source=where, row=r) from None
            blank = not any(c.strip() for c in cells)
            if header is None:
                if blank:
                    continue
                if header_at is not None and r < header_at:
                    skipped.append(r)
                    continue
                header, header_row = cells, r
                builder = _Builder(len(header))
                continue
            if blank:
                continue
            if len(cells) > len(header):  # a value beyond the last named column: an unnamed column
                extra = len(cells) - len(header)
                header.extend([""] * extra)
                builder.widen(extra)
            builder.add(cells + [""] * (len(header) - len(cells)))
            rows.append(r)
            if len(rows) > limits.max_rows:
                raise _too_many_rows(where, len(rows), limits)
        if header is None:
            raise InputError(f"sheet {ws.title!r} is empty", source=source)
        columns = builder.flush()
        _check_layout(layout, where, header, header_row, columns, rows, header_span)
        return _Raw(where, header, columns, rows, header_row, _skipped_note(where, skipped))
    finally:
        wb.close()


def _header_row(ws: Any, wanted: tuple[str, ...]) -> int | None:
    """The row of the sheet's first rows that holds the wanted header, if any."""
    if not wanted:
        return None
    for r, values in enumerate(ws.iter_rows(values_only=True, max_row=HEADER_SEARCH_ROWS), start=1):
        if _is_header(values, wanted):
            return r
    return None


def _choose_sheet(wb: Any, source: str, sheet: str | None, wanted: tuple[str, ...], prefer: Sequence[str] = ()) -> Any:
    """The named sheet; else the one visible sheet holding the header (by its name if several); else the first."""
    names = [ws.title for ws in wb.worksheets]
    listed = ", ".join(repr(n) for n in names)
    if not names:
        raise InputError("has no worksheet", source=source)
    for ws in wb.worksheets:
        ws.reset_dimensions()  # the declared size may be wrong: read every cell there is
    if sheet is not None:
        if sheet not in names:
            raise InputError(f"has no sheet named {sheet!r} (its sheets: {listed})", source=source)
        return wb[sheet]
    if len(names) == 1:
        return wb[names[0]]
    if wanted:
        holding = [
            ws.title
            for ws in wb.worksheets
            if getattr(ws, "sheet_state", "visible") == "visible"
            and any(_is_header(v, wanted) for v in ws.iter_rows(values_only=True, max_row=HEADER_SEARCH_ROWS))
        ]
        if len(holding) > 1:  # e.g. answers and profiles in one workbook: the sheet named for what is read
            named = [n for n in holding if n.strip().casefold() in {p.casefold() for p in prefer}]
            holding = named if len(named) == 1 else holding
        if len(holding) == 1:
            return wb[holding[0]]
        if len(holding) > 1:
            raise InputError(
                f"sheets {', '.join(repr(n) for n in holding)} each hold a header with "
                f"{', '.join(wanted)}; say which to read with --sheet",
                source=source,
            )
    named = next((n for n in names if n.strip().casefold() in {p.casefold() for p in prefer}), names[0])
    return wb[named]


@dataclass
class _SheetLayout:
    """What the sheet's XML says beyond cell values: hidden rows and columns, merges, formulas."""

    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: list[tuple[int, int]] = field(default_factory=list)
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # ref, r1, c1, r2, c2
    formulas: bool = False


_TAG = re.compile(rb"<(?:\w+:)?(row|col|mergeCell|f)\b([^>]*)>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _sheet_layout(data: bytes, part: str) -> _SheetLayout:
    """Scan a sheet's XML (in pieces: it may be large) for hidden rows/columns, merges and formulas."""
    out = _SheetLayout()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(part.lstrip("/")) as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            buffer = tail + chunk
            cut = buffer.rfind(b"<")
            done, tail = (buffer[:cut], buffer[cut:]) if cut > 0 else (buffer, b"")
            if len(tail) > 1 << 20:  # pragma: no cover - a tag a megabyte long: not a sheet
                tail = b""
            _scan(done, out)
        _scan(tail, out)
    return out


def _scan(text: bytes, out: _SheetLayout) -> None:
    for match in _TAG.finditer(text):
        kind, attrs = match.group(1), dict(_ATTR.findall(match.group(2)))
        if kind == b"f":
            out.formulas = True
        elif kind == b"row":
            if attrs.get(b"hidden") in (b"1", b"true") and attrs.get(b"r", b"").isdigit():
                out.hidden_rows.add(int(attrs[b"r"]))
        elif kind == b"col":
            if attrs.get(b"hidden") in (b"1", b"true"):
                try:
                    out.hidden_cols.append((int(attrs[b"min"]), int(attrs[b"max"])))
                except (KeyError, ValueError):
                    pass
        elif kind == b"mergeCell":
            ref = attrs.get(b"ref", b"").decode("ascii", "replace")
            corners = ref.split(":")
            parsed = [_REF.match(c) for c in corners]
            if len(corners) == 2 and all(parsed):
                (c1, r1), (c2, r2) = ((_col_number(m.group(1)), int(m.group(2))) for m in parsed if m)
                out.merged.append((ref, r1, c1, r2, c2))


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letter(c: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(c)


def _check_layout(
    layout: _SheetLayout,
    where: str,
    header: list[str],
    header_row: int,
    columns: list[_Column],
    rows: array,
    header_span: int = 1,
) -> None:
    """Refuse merged cells, and hidden rows or columns holding values, at or below the header.

    ``header_span``: rows the header spans; cells merged within them are allowed.
    """
    width = len(header)
    for ref, r1, c1, r2, _c2 in layout.merged:
        within_header = header_span > 1 and header_row <= r1 and r2 < header_row + header_span
        if r2 >= header_row and c1 <= width and not within_header:
            name = clean_header(header[c1 - 1]) if c1 <= width else ""
            raise InputError(
                f"cells {ref} are merged; unmerge them so that every answer has its own cell",
                source=where,
                row=max(r1, header_row),
                column=name or None,
            )
    data_rows = set(rows)
    hidden = sorted(r for r in layout.hidden_rows if r in data_rows or r == header_row)
    if hidden:
        shown = ", ".join(map(str, hidden[:5])) + (" ..." if len(hidden) > 5 else "")
        raise InputError(
            f"row{'s' if len(hidden) > 1 else ''} {shown} {'are' if len(hidden) > 1 else 'is'} hidden; unhide "
            f"{'them' if len(hidden) > 1 else 'it'}, and delete what should not count (hidden rows are not read)",
            source=where,
            row=hidden[0],
        )
    for low, high in layout.hidden_cols:
        for c in range(low, min(high, width) + 1):
            if clean_header(header[c - 1]) or columns[c - 1].first_value() is not None:
                raise InputError(
                    f"column {_letter(c)} is hidden; unhide it, and delete it if it should not count "
                    "(hidden columns are not read)",
                    source=where,
                    row=header_row,
                    column=clean_header(header[c - 1]) or None,
                )


def check_unpacked_size(data: bytes, source: str, limits: Limits) -> None:
    """Refuse a workbook that unpacks to more than the limit, before anything is unpacked."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    if len(infos) > _MAX_ZIP_MEMBERS:
        raise InputError(f"holds {len(infos)} files in its archive; a workbook holds a few dozen", source=source)
    total = sum(i.file_size for i in infos)
    if total > limits.max_unpacked_mb * 1e6:
        raise InputError(
            f"unpacks to {total / 1e6:,.0f} MB, more than the limit of {limits.max_unpacked_mb:g} MB "
            f"({len(data) / 1e6:,.1f} MB packed); raise it with --max-unpacked-mb if the file is right",
            source=source,
        )


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return False
    return b"\x00" not in head


def _formula_cells(data: bytes, sheet: str, limits: Limits) -> set[tuple[int, int]]:
    """(row, column) of every formula cell of one sheet."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = wb[sheet]
        ws.reset_dimensions()
        out: set[tuple[int, int]] = set()
        for r, row in enumerate(ws.iter_rows(), start=1):
            if r > limits.max_rows + HEADER_SEARCH_ROWS:
                break
            for c, cell in enumerate(row, start=1):
                if getattr(cell, "data_type", None) == "f":
                    out.add((r, c))
        return out
    finally:
        wb.close()


# ---------------------------------------------------------------------- JSON
class _NotANumber(str):
    """A ``NaN``/``Infinity`` constant met in a JSON document (refused where it stands)."""


def _read_json(data: bytes, source: str, limits: Limits) -> _Raw:
    duplicates: dict[int, str] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out and id(out) not in duplicates:
                duplicates[id(out)] = key
            out[key] = value
        return out

    try:
        doc = json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs, parse_constant=_NotANumber)
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
        if id(doc) in duplicates:
            raise InputError(f"has the key {duplicates[id(doc)]!r} twice; which one counts?", source=source)
        key = next((k for k in ("responses", "profiles", "records", "data") if isinstance(doc.get(k), list)), None)
        if key is None:
            raise InputError("JSON must be a list of records or an object with a 'responses' list", source=source)
        doc = doc[key]
    if not isinstance(doc, list):
        raise InputError("JSON must be a list of records", source=source)
    if not doc:
        raise InputError("JSON holds no records", source=source)
    if len(doc) > limits.max_rows:
        raise _too_many_rows(source, len(doc), limits, "records")
    header: list[str] = []
    position: dict[str, int] = {}
    for n, rec in enumerate(doc, start=1):
        if not isinstance(rec, dict):
            raise InputError("each record must be an object of column: value", source=source, row=n)
        if id(rec) in duplicates:
            raise InputError(
                f"has the key {duplicates[id(rec)]!r} twice in one record; which value counts?",
                source=source,
                row=n,
                column=duplicates[id(rec)],
            )
        for k in rec:
            if k not in position:
                position[k] = len(header)
                header.append(str(k))
    builder = _Builder(len(header))
    for n, rec in enumerate(doc, start=1):
        cells = []
        for k in header:
            v = rec.get(k)
            if isinstance(v, (dict, list)):
                raise InputError("a cell must be a number, text or null", source=source, row=n, column=k)
            if isinstance(v, _NotANumber) or (isinstance(v, float) and not math.isfinite(v)):
                raise InputError(
                    f"{v} is not a value JSON allows; leave the answer out or write null for no answer",
                    source=source,
                    row=n,
                    column=k,
                )
            cells.append(cell_text(v))
        builder.add(cells)
    return _Raw(source, header, builder.flush(), array("l", range(1, len(doc) + 1)))


# ---------------------------------------------------------------------- Parquet
def _read_parquet(data: bytes, source: str, limits: Limits) -> _Raw:
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    if meta.num_rows > limits.max_rows:
        raise _too_many_rows(source, meta.num_rows, limits)
    unpacked = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    if unpacked > limits.max_unpacked_mb * 1e6:
        raise InputError(
            f"unpacks to {unpacked / 1e6:,.0f} MB, more than the limit of {limits.max_unpacked_mb:g} MB; "
            "raise it with --max-unpacked-mb if the file is right",
            source=source,
        )
    table = pq.read_table(io.BytesIO(data))
    header = [str(c) for c in table.column_names]
    columns = []
    for name, column in zip(header, table.columns):
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
            raise InputError(
                f"column holds {kind} values; a cell must be a number, text or empty", source=source, row=1, column=name
            )
        texts = []
        for r, v in enumerate(column.to_pylist(), start=2):
            try:
                texts.append(cell_text(v))
            except TypeError as exc:
                raise InputError(
                    f"a cell must be a number, text or empty ({exc})", source=source, row=r, column=name
                ) from None
        cells = _Column()
        cells.extend(texts)
        columns.append(cells)
    return _Raw(source, header, columns, array("l", range(2, table.num_rows + 2)))


def column_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A column as (codes, distinct values): each cell is ``values[codes[i]]``."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.cat.codes), [str(v) for v in series.cat.categories]
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=False)
    return codes, [str(v) for v in uniques]


def as_text(series: pd.Series) -> pd.Series:
    """A column as plain text (object dtype), for small tables."""
    return series.astype(object).astype(str)
