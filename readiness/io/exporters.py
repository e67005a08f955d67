"""Writing outputs atomically: results.json, CSV and XLSX exports.

Every file is written to a temporary name in its destination folder and renamed into
place when complete, so a crash or a kill never leaves a half-written file behind.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import InputError
from ..core.ids import FORMULA_PREFIXES, folder_name, starts_like_formula

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "PROGRESS_FILES",
    "REPORT_FILES",
    "atomic_path",
    "clean_leftovers",
    "clean_stages",
    "commit_stage",
    "dumps_json",
    "neutralize",
    "new_stage",
    "org_folder",
    "staged_folder",
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


# ---------------------------------------------------------------------- report folders
#: The files of a report folder, written together (``assess``, ``demo``, ``batch``); a new
#: set replaces these, and keeps every other file of the folder.
REPORT_FILES: tuple[str, ...] = (
    "results.json",
    "roadmap.xlsx",
    "roadmap.csv",
    "report.ipynb",
    "report.html",
    "report.pdf",
    "fingerprint.json",
)
#: The files of a progress report (``compare --out``), replaced the same way.
PROGRESS_FILES: tuple[str, ...] = (
    "compare.json",
    "roadmap-next.xlsx",
    "roadmap-next.csv",
    "progress.ipynb",
    "progress.html",
    "progress.pdf",
)
#: Most entries of the user's own a report folder may hold (they are carried into the new set).
_MAX_CARRIED = 1000


def _stage_prefix(folder: Path, kind: str) -> str:
    return f".{folder.name}.readiness-{kind}-"


@contextmanager
def staged_folder(folder: str | Path, *, replaces: Iterable[str] = REPORT_FILES) -> Iterator[Path]:
    """Prepare a whole report folder beside ``folder``, then swap it in at once.

    Yields a new hidden folder beside ``folder`` (:func:`new_stage`) to write the
    complete set of files into. When the block ends without an error the set takes
    ``folder``'s place (:func:`commit_stage`); on an error it is removed and ``folder``
    is left as it was. A kill at any moment leaves ``folder`` holding either the earlier
    complete set or the new one, never a mix; leftovers of a killed run are removed when
    the next run starts (:func:`clean_leftovers`).
    """
    stage = new_stage(folder)
    try:
        yield stage
        commit_stage(stage, folder, replaces=replaces)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def new_stage(folder: str | Path, *, clean: bool = True) -> Path:
    """A new, empty hidden folder beside ``folder`` to prepare its next set of files in.

    Leftovers of a killed run are removed first (unless ``clean`` is false: a batch
    removes those of all its folders at once, :func:`clean_stages`); a ``folder`` that
    is a file is refused.
    """
    folder = Path(os.path.abspath(folder))
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a folder; give --out a folder", source=str(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    if clean:
        clean_leftovers(folder)
    stage = Path(tempfile.mkdtemp(prefix=_stage_prefix(folder, "new"), dir=folder.parent))
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700; a report folder gets the usual mode
    return stage


def commit_stage(stage: str | Path, folder: str | Path, *, replaces: Iterable[str] = REPORT_FILES) -> None:
    """Swap a prepared set in: ``stage`` takes ``folder``'s place in one step.

    Files already in ``folder`` other than those the set ``replaces`` (the report files,
    :data:`REPORT_FILES`) are the user's, or another report's: they are carried into the
    new set first (hard links). The exchange is atomic
    (Linux ``renameat2(RENAME_EXCHANGE)``); elsewhere it is two renames, and a run cut
    between them is completed by the next one. The earlier set is removed after.
    """
    stage, folder = Path(stage), Path(os.path.abspath(folder))
    if folder.is_dir():
        _carry_over(folder, stage, set(replaces))
    _fsync(stage)
    _swap_in(stage, folder)


def clean_leftovers(folder: str | Path, *, beside: bool = True) -> list[Path]:
    """Remove what a killed run left: staged folders beside ``folder``, hidden temporary files in it.

    A run cut between the two renames of the fallback swap (not on Linux) left no
    ``folder`` but its earlier set under a hidden name: that set is put back. With
    ``beside`` false only the temporary files in ``folder`` are looked for (the staged
    sets were cleaned by :func:`clean_stages`).
    """
    folder = Path(os.path.abspath(folder))
    removed: list[Path] = []
    if beside and folder.parent.is_dir():
        mine = [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.readiness-") and p.is_dir()]
        for path in sorted(mine, key=lambda p: "-old-" not in p.name):  # an earlier set first
            if "-old-" in path.name and not folder.exists():
                os.rename(path, folder)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.startswith(".") and ".tmp" in path.name and path.is_file():
                path.unlink(missing_ok=True)  # atomic_path's temporary files (and papermill's beside them)
                removed.append(path)
    return removed


def clean_stages(parent: str | Path) -> list[Path]:
    """:func:`clean_leftovers` beside every folder in ``parent`` that has staged sets, in one listing.

    A batch writes thousands of folders into one ``parent``: looking through it once per
    folder would take time growing with the square of their number.
    """
    parent = Path(os.path.abspath(parent))
    if not parent.is_dir():
        return []
    names = set()
    with os.scandir(parent) as entries:
        for entry in entries:
            cut = entry.name.rfind(".readiness-")
            if entry.name.startswith(".") and cut > 1 and entry.is_dir(follow_symlinks=False):
                names.add(entry.name[1:cut])
    removed: list[Path] = []
    for name in sorted(names):
        removed += clean_leftovers(parent / name)
    return removed


def _carry_over(folder: Path, stage: Path, mine: set[str]) -> None:
    """Hard-link the other files of ``folder`` into the staged set (a copy where links fail)."""
    count = 0
    for entry in folder.iterdir():
        if entry.name in mine or (entry.name.startswith(".") and ".tmp" in entry.name):
            continue
        if os.path.lexists(stage / entry.name):  # the new set has its own: never the earlier one's
            continue
        walk: list[tuple[str, list[str], list[str]]]
        if entry.is_symlink() or not entry.is_dir():
            walk = [(str(folder), [], [entry.name])]
        else:
            walk = list(os.walk(entry))
        for root, dirs, files in walk:
            count += len(dirs) + len(files)
            if count > _MAX_CARRIED:
                raise InputError(
                    f"holds more than {_MAX_CARRIED} files that are not a report's; give --out an empty folder "
                    "or the folder of an earlier report",
                    source=str(folder),
                )
            target = stage / Path(root).relative_to(folder)
            target.mkdir(parents=True, exist_ok=True)
            for name in dirs:
                if (Path(root) / name).is_symlink():
                    os.symlink(os.readlink(Path(root) / name), target / name)
                else:
                    (target / name).mkdir(exist_ok=True)
            for name in files:
                _link(Path(root) / name, target / name)


def _link(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:  # no hard links on this file system: a copy, written atomically
        with atomic_path(target) as tmp:
            shutil.copy2(source, tmp)


def _swap_in(stage: Path, folder: Path) -> None:
    """Put the staged set in ``folder``'s place; the earlier set, if any, is removed after."""
    if not os.path.lexists(folder):
        os.rename(stage, folder)
        _fsync(folder.parent)
        return
    if _exchange(stage, folder):
        earlier = stage  # the exchange left the earlier set under the staged name
    else:
        earlier = folder.parent / f"{_stage_prefix(folder, 'old')}{secrets.token_hex(4)}"
        os.rename(folder, earlier)
        os.rename(stage, folder)  # a kill between the two renames: clean_leftovers puts the earlier set back
    _fsync(folder.parent)
    shutil.rmtree(earlier, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); ``False`` where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # an old C library
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # a file system that cannot exchange: the two-rename fallback
    raise OSError(code, os.strerror(code), str(b))


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


def org_folder(org_id: str, others: Iterable[str] = ()) -> str:
    """A safe, collision-free folder name for an organization id: the id itself when it is safe.

    :func:`readiness.core.ids.folder_name` (the rule's one home); ``others`` are the other
    organizations written beside it, so ids differing only in case never share a folder.
    """
    return folder_name(org_id, others)


# ---------------------------------------------------------------------- roadmap exports


def neutralize(value: Any) -> Any:
    """Make text inert in a spreadsheet: prefix an apostrophe to formula-like text.

    Text is formula-like when it starts with one of
    :data:`readiness.core.ids.FORMULA_PREFIXES`, also after leading spaces (some
    spreadsheet tools trim them on import). Numbers and other non-text values pass
    through unchanged.

    Examples
    --------
    >>> neutralize("=SUM(A1:A9)"), neutralize("  +1"), neutralize("Coach daily"), neutralize(-3)
    ("'=SUM(A1:A9)", "'  +1", 'Coach daily', -3)
    """
    if isinstance(value, str) and starts_like_formula(value):
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
