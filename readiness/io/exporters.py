"""Writing outputs atomically: results.json, CSV and XLSX exports.

Every file is written to a temporary name in its destination folder and renamed into
place when complete, so a crash or a kill never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .citations import cite

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "atomic_path",
    "dumps_json",
    "neutralize",
    "org_folder",
    "write_bytes",
    "write_json",
    "write_roadmap_csv",
    "write_roadmap_xlsx",
    "write_table",
    "write_text",
]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    The temporary file is hidden (``.<name>.<random>.tmp``) and lives in the destination
    folder, so the rename is atomic. Before the rename the file is flushed to disk, and
    after it the folder entry, so a power cut leaves the old file or the new one, never
    an empty or partial one. On any exception (a failing writer, Ctrl-C) the temporary
    file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_path("out/table.parquet") as tmp:          # doctest: +SKIP
    ...     frame.to_parquet(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's) data to disk; best effort where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # a folder on Windows cannot be opened; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def dumps_json(document: Any) -> str:
    """Stable JSON text: fixed key order as built, UTF-8, no NaN."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | Path, document: Any) -> Path:
    return write_text(path, dumps_json(document))


def org_folder(org_id: str) -> str:
    """A safe, collision-free folder name for an organization id.

    Keeps letters, digits, ``-`` and ``_`` (others become ``_``), at most 48 of them,
    then appends a short hash of the exact id so that ids differing only in case or
    punctuation never share a folder, and no id can climb out of the output folder.
    """
    import hashlib
    import re

    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", org_id).strip("_-")[:48] or "org"
    digest = hashlib.blake2b(org_id.encode("utf-8"), digest_size=4).hexdigest()
    return f"{stem}-{digest}"


# ---------------------------------------------------------------------- roadmap exports
#: Leading characters a spreadsheet may treat as the start of a formula (OWASP's list, a
#: newline, and the full-width signs East Asian input methods type in place of ASCII).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

ROADMAP_COLUMNS: tuple[tuple[str, str, int], ...] = (
    # (results.json key or fill-in column, header, width)
    ("rank", "Rank", 6),
    ("phase", "Phase", 7),
    ("phase_label", "When", 14),
    ("title", "Action", 40),
    ("what", "What to do", 70),
    ("why", "Why here", 60),
    ("facets", "Facets it moves", 28),
    ("effort", "Effort", 8),
    ("duration_weeks", "Weeks", 7),
    ("owner", "Owner role", 16),
    ("responsible", "Responsible (fill in)", 22),
    ("due", "Due date (fill in)", 16),
    ("kpis", "KPIs it should move", 30),
    ("depends_on", "After", 28),
    ("action", "Action id", 24),
    ("source", "Source", 44),  # shown as publication, year and title (io/citations.py)
)


def neutralize(value: Any) -> Any:
    """Make text inert in a spreadsheet: prefix an apostrophe to formula-like text.

    Text is formula-like when it starts with one of :data:`FORMULA_PREFIXES`, also after
    leading spaces (some spreadsheet tools trim them on import). Numbers and other
    non-text values pass through unchanged.

    Examples
    --------
    >>> neutralize("=SUM(A1:A9)"), neutralize("  +1"), neutralize("Coach daily"), neutralize(-3)
    ("'=SUM(A1:A9)", "'  +1", 'Coach daily', -3)
    """
    if isinstance(value, str) and (value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)):
        return "'" + value
    return value


def _roadmap_rows(roadmap: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for item in roadmap:
        row = []
        for key, _, _ in ROADMAP_COLUMNS:
            value = cite(item) if key == "source" else item.get(key, "")
            if isinstance(value, (list, tuple)):
                value = ", ".join(map(str, value))
            row.append(neutralize(value))
        rows.append(row)
    return rows


def write_roadmap_csv(path: str | Path, roadmap: list[dict[str, Any]]) -> Path:
    """roadmap.csv: one row per action, UTF-8 with BOM (opens cleanly in spreadsheet tools).

    Rows end in CRLF (RFC 4180), which also makes the writer quote any cell holding a
    carriage return: unquoted, a spreadsheet would start a new row there, and that row's
    first cell would escape neutralization.
    """
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([header for _, header, _ in ROADMAP_COLUMNS])
    writer.writerows(_roadmap_rows(roadmap))
    return write_bytes(path, ("\ufeff" + buf.getvalue()).encode("utf-8"))


def write_roadmap_xlsx(path: str | Path, roadmap: list[dict[str, Any]], *, title: str = "Roadmap") -> Path:
    """roadmap.xlsx: formatted, one row per action, with columns to fill in; no formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Roadmap"
    ws.append([header for _, header, _ in ROADMAP_COLUMNS])
    for row in _roadmap_rows(roadmap):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3B57")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    fills = {1: "E8F0E8", 2: "EEF2F7", 3: "F7F3EA", 4: "F2F2F2"}
    for r, item in enumerate(roadmap, start=2):
        for c in range(1, len(ROADMAP_COLUMNS) + 1):
            cell = ws.cell(row=r, column=c)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: never a formula
            phase = item.get("phase")
            if phase in fills:
                cell.fill = PatternFill("solid", fgColor=fills[phase])
    for c, (_, _, width) in enumerate(ROADMAP_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "E2"
    ws.auto_filter.ref = ws.dimensions
    wb.properties.title = neutralize(title)[:200]
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def write_table(path: str | Path, frame: pd.DataFrame) -> Path:
    """A data table as CSV (UTF-8) or Parquet, by extension, atomically."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        with atomic_path(path) as tmp:
            frame.astype(str).to_parquet(tmp, index=False)
        return path
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))
