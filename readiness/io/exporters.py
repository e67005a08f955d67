"""Writing outputs atomically: results.json, CSV and XLSX exports.

Every file is written to a temporary name in its destination folder and renamed into
place when complete, so a crash or a kill never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


#: Names Windows reserves for devices: never a folder name as they are.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


def org_folder(org_id: str, others: Iterable[str] = ()) -> str:
    """A safe, collision-free folder name for an organization id: the id itself when it is safe.

    The id is the folder name when it is 1 to 48 ASCII letters, digits, ``-`` or ``_``,
    starts with a letter or digit, does not end like a suffix (``-`` and 8 hex digits),
    is no name Windows reserves (``CON``, ``NUL``, ...), and no id in ``others`` (the
    other organizations written beside it) differs from it only in case. Any other id
    keeps its safe characters (others become ``_``, at most 48) and gets a suffix: ``-``
    and a short hash of the exact id. So ids differing only in case or punctuation never
    share a folder (on a case-insensitive disk too), a suffixed name never equals a
    plain one, and no id can climb out of the output folder.

    >>> org_folder("P0001"), org_folder("P0001", others=["p0001"])
    ('P0001', 'P0001-56a8cf50')
    """
    import hashlib
    import re

    folded = org_id.casefold()
    clash = any(o != org_id and o.casefold() == folded for o in others)
    if (
        re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}", org_id)
        and not re.search(r"-[0-9a-fA-F]{8}$", org_id)
        and folded.split(".")[0] not in _RESERVED
        and not clash
    ):
        return org_id
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", org_id).strip("_-")[:48] or "org"
    digest = hashlib.blake2b(org_id.encode("utf-8"), digest_size=4).hexdigest()
    return f"{stem}-{digest}"


# ---------------------------------------------------------------------- roadmap exports
#: Leading characters a spreadsheet may treat as the start of a formula (OWASP's list, a
#: newline, and the full-width signs East Asian input methods type in place of ASCII).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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


def write_roadmap_csv(
    path: str | Path, roadmap: list[dict[str, Any]], *, results: dict[str, Any] | None = None
) -> Path:
    """roadmap.csv: the columns of roadmap.xlsx, one row per action, UTF-8 with BOM.

    Rows end in CRLF (RFC 4180), which also makes the writer quote any cell holding a
    carriage return: unquoted, a spreadsheet would start a new row there, and that row's
    first cell would escape neutralization.
    """
    import csv
    import io

    from .workbook import ROADMAP_COLUMNS, roadmap_rows

    titles = {f: (b or {}).get("title") or f for f, b in ((results or {}).get("facets") or {}).items()}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in ROADMAP_COLUMNS])
    writer.writerows([["" if v is None else v for v in row] for row in roadmap_rows(roadmap, titles)])
    return write_bytes(path, ("\ufeff" + buf.getvalue()).encode("utf-8"))


def write_roadmap_xlsx(
    path: str | Path, roadmap: list[dict[str, Any]], *, title: str = "Roadmap", results: dict[str, Any] | None = None
) -> Path:
    """roadmap.xlsx, the roadmap as a working document: see :func:`readiness.io.workbook.write_roadmap_workbook`."""
    from .workbook import write_roadmap_workbook

    return write_roadmap_workbook(path, roadmap, results=results, title=title)


def write_table(path: str | Path, frame: pd.DataFrame) -> Path:
    """A data table as CSV (UTF-8) or Parquet, by extension, atomically."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        with atomic_path(path) as tmp:
            frame.astype(str).to_parquet(tmp, index=False)
        return path
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))
