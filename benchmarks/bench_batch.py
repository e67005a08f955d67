"""Batch speed: a plain loop of papermill + nbconvert command lines vs `readiness batch`.

Both produce an executed notebook and a code-free HTML report for the same N
organizations (the first N of the bundled peer panel, benchmarked against the panel).
Prints seconds per report for each and the ratio, measured in one run.

    python benchmarks/bench_batch.py [--orgs 40] [--workers 2] [--skip-loop]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PANEL = ROOT / "data" / "peers" / "panel.csv"
BIN = Path(sys.executable).parent


def clients(folder: Path, n: int) -> tuple[Path, Path, list[str]]:
    with open(PANEL, newline="") as fh:
        rows = list(csv.reader(fh))
    keep: list[str] = []
    out = [rows[0]]
    for row in rows[1:]:
        if row[0] not in keep and len(keep) < n:
            keep.append(row[0])
        if row[0] in keep:
            out.append(row)
    responses = folder / "clients.csv"
    with open(responses, "w", newline="") as fh:
        csv.writer(fh).writerows(out)
    with open(PANEL.with_name("panel.profiles.csv"), newline="") as fh:
        prof = list(csv.reader(fh))
    profiles = folder / "clients.profiles.csv"
    with open(profiles, "w", newline="") as fh:
        csv.writer(fh).writerows([prof[0]] + [p for p in prof[1:] if p[0] in keep])
    return responses, profiles, keep


def plain_loop(responses: Path, profiles: Path, orgs: list[str], out: Path) -> float:
    """What a user would write without our batch: one papermill and one nbconvert call per report."""
    t0 = time.perf_counter()
    for org in orgs:
        nb = out / f"{org}.ipynb"
        subprocess.run(
            [
                str(BIN / "papermill"),
                str(ROOT / "notebooks" / "readiness_report.ipynb"),
                str(nb),
                "-p",
                "responses",
                str(responses),
                "-p",
                "profiles",
                str(profiles),
                "-p",
                "peers",
                str(PANEL),
                "-p",
                "org_id",
                org,
                "--no-progress-bar",
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    return time.perf_counter() - t0


def batch(responses: Path, profiles: Path, out: Path, workers: int) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(BIN / "readiness"),
            "batch",
            str(responses),
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--no-progress",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-loop", action="store_true", help="time only readiness batch")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        responses, profiles, orgs = clients(work, args.orgs)
        b = batch(responses, profiles, work / "batch", args.workers)
        per_b = b / len(orgs)
        print(
            f"readiness batch --workers {args.workers}: {b:.1f} s for {len(orgs)} reports -> {per_b:.2f} s per report"
        )
        if not args.skip_loop:
            (work / "loop").mkdir()
            a = plain_loop(responses, profiles, orgs, work / "loop")
            per_a = a / len(orgs)
            print(f"plain papermill + nbconvert loop: {a:.1f} s for {len(orgs)} reports -> {per_a:.2f} s per report")
            print(f"ratio: readiness batch is {per_a / per_b:.1f}x faster (target >= 3, goal 10)")
        print(f"projected for 1000 reports: {per_b * 1000 / 60:.1f} minutes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
