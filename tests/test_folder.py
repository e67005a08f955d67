"""Report folders all or nothing: a failure or a kill at any moment leaves the earlier set or the new one.

The unit tests drive :func:`readiness.io.exporters.staged_folder`; the last test kills
real ``readiness assess`` processes at several moments over an earlier report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from readiness.io import exporters
from readiness.io.exporters import clean_leftovers, staged_folder

from .conftest import ROOT

BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "data" / "examples"


def _set(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _beside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.readiness-"))


@pytest.fixture
def earlier(tmp_path) -> Path:
    folder = tmp_path / "report"
    folder.mkdir()
    for name in ("results.json", "report.ipynb", "report.html"):
        (folder / name).write_text(f"earlier {name}")
    return folder


def test_a_new_set_replaces_the_earlier_one_whole(earlier):
    with staged_folder(earlier) as stage:
        assert stage.parent == earlier.parent and stage.name.startswith(".report.readiness-new-")
        (stage / "results.json").write_text("new")  # a set without a report: the earlier report goes too
    assert _set(earlier) == {"results.json": b"new"} and _beside(earlier) == []


def test_a_failure_leaves_the_earlier_set_exactly(earlier):
    before = _set(earlier)
    with pytest.raises(RuntimeError), staged_folder(earlier) as stage:
        (stage / "results.json").write_text("new")
        raise RuntimeError("the notebook failed")
    assert _set(earlier) == before and _beside(earlier) == []


def test_the_users_own_files_are_kept(earlier):
    (earlier / "notes.txt").write_text("mine")
    (earlier / ".ipynb_checkpoints").mkdir()
    (earlier / ".ipynb_checkpoints" / "report-checkpoint.ipynb").write_text("lab's")
    with staged_folder(earlier) as stage:
        (stage / "results.json").write_text("new")
    assert (earlier / "notes.txt").read_text() == "mine"
    assert (earlier / ".ipynb_checkpoints" / "report-checkpoint.ipynb").read_text() == "lab's"
    assert (earlier / "results.json").read_text() == "new" and not (earlier / "report.html").exists()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    target = tmp_path / "report"
    target.write_text("a file")
    with pytest.raises(Exception, match="is a file, not a folder"), staged_folder(target):
        pass
    assert target.read_text() == "a file"


def test_leftovers_of_a_killed_run_are_removed_by_the_next(earlier):
    stale = earlier.parent / ".report.readiness-new-abc123"
    stale.mkdir()
    (stale / "results.json").write_text("half")
    (earlier / ".results.json.x1y2.tmp").write_text("half")
    (earlier / ".report.ipynb.k3.tmp.ipynb").write_text("half")
    removed = clean_leftovers(earlier)
    assert len(removed) == 3 and _beside(earlier) == []
    assert sorted(p.name for p in earlier.iterdir()) == ["report.html", "report.ipynb", "results.json"]


def test_without_an_atomic_exchange_a_cut_swap_is_completed(earlier, monkeypatch):
    """Where the system cannot exchange two folders, two renames; a kill between them is repaired."""
    monkeypatch.setattr(exporters, "_exchange", lambda a, b: False)
    with staged_folder(earlier) as stage:
        (stage / "results.json").write_text("new")
    assert _set(earlier) == {"results.json": b"new"} and _beside(earlier) == []
    # killed after the first rename: the earlier set sits under a hidden name, no folder
    old = earlier.parent / ".report.readiness-old-dead01"
    os.rename(earlier, old)
    clean_leftovers(earlier)
    assert _set(earlier) == {"results.json": b"new"} and _beside(earlier) == []


# ---------------------------------------------------------------------- killing real processes
def _assess(out: Path, seed: int) -> list[str]:
    return [
        str(BIN / "readiness"),
        "assess",
        str(EXAMPLES / "responses.csv"),
        "--org",
        "NORTHBANK",
        "--profiles",
        str(EXAMPLES / "profiles.csv"),
        "--bootstrap",
        "30",
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]


def _consistent(folder: Path, earlier: dict[str, bytes], started: float) -> str:
    """'earlier' or 'new' when the folder holds one whole set; fails on a mix or a leftover."""
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.startswith(".")], names
    if _set(folder) == earlier:
        return "earlier"
    times = {p.name: p.stat().st_mtime for p in folder.iterdir()}
    assert all(t >= started for t in times.values()), times  # every file from the new run: no mix
    assert set(names) == set(earlier) and {"results.json", "report.ipynb", "report.html"} <= set(names)
    return "new"


def _kill_when(cmd: list[str], ready, cwd: Path) -> None:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not ready():
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the command and its kernel, at once
    finally:
        proc.wait(timeout=60)


def test_assess_killed_at_any_moment_leaves_one_whole_set(tmp_path):
    out = tmp_path / "report"
    subprocess.run(_assess(out, 0), cwd=tmp_path, check=True, capture_output=True, timeout=600)
    earlier = _set(out)

    def staged() -> list[Path]:
        return [p for p in tmp_path.iterdir() if p.name.startswith(".report.readiness-new-")]

    def names(folder: Path) -> list[str]:
        try:
            return [p.name for p in folder.iterdir()]
        except FileNotFoundError:  # swapped in between the listing and now: the run went on
            return []

    moments = {
        "started": lambda: True,
        "staging": lambda: bool(staged()),
        "results written": lambda: any((s / "results.json").exists() for s in staged()),
        "notebook running": lambda: any(any(".report.ipynb." in name for name in names(s)) for s in staged()),
        "notebook written": lambda: any((s / "report.ipynb").exists() for s in staged()),
    }
    seen = []
    for moment, ready in moments.items():
        started = time.time() - 0.01
        time.sleep(0.02)  # file times are coarse on some file systems
        _kill_when(_assess(out, 1), ready, tmp_path)
        seen.append((moment, _consistent(out, earlier, started)))
    assert ("started", "earlier") in seen and ("staging", "earlier") in seen
    # the next run removes what the killed ones left beside the folder, and writes the new set
    started = time.time() - 0.01
    time.sleep(0.02)
    subprocess.run(_assess(out, 1), cwd=tmp_path, check=True, capture_output=True, timeout=600)
    assert _consistent(out, earlier, started) == "new" and _beside(out) == []


def test_a_progress_report_and_a_results_report_share_a_folder(earlier):
    """compare --out replaces only the progress files; assess only the report files."""
    from readiness.io.exporters import PROGRESS_FILES

    with staged_folder(earlier, replaces=PROGRESS_FILES) as stage:
        (stage / "compare.json").write_text("progress")
    assert _set(earlier)["results.json"] == b"earlier results.json" and (earlier / "compare.json").exists()
    with staged_folder(earlier) as stage:
        (stage / "results.json").write_text("new")
    assert _set(earlier) == {"compare.json": b"progress", "results.json": b"new"}
