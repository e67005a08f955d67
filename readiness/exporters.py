"""Writing outputs atomically: results.json, CSV and XLSX exports.

Every file is written to a temporary name in its destination folder and renamed into
place when complete, so a crash or a kill never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_path", "write_text", "write_bytes", "write_json", "dumps_json", "org_folder"]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
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
