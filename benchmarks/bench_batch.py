"""Batch speed and memory: `readiness batch` against a plain papermill + nbconvert loop, and on Dask.

Both produce an executed notebook and a code-free HTML report for the same N
organizations (the first N of the bundled peer panel, benchmarked against the panel;
past its 400 centers, the panel again under new ids).
Prints, measured in one run:

- ``readiness batch --workers W``: seconds per report (wall), CPU seconds per report
  (driver, workers and kernels together), peak memory of the driver and of each worker
  (the worker process and its kernel);
- the plain loop, one ``papermill`` and one ``jupyter nbconvert --no-input`` command per
  report: seconds per report, and the ratio;
- one worker after warm-up: CPU seconds per report (worker and kernel), and the first
  report of a fresh worker process (start, imports, kernel, one report);
- ``readiness batch --executor dask`` on a LocalCluster of 1 and of 2 workers: seconds
  per report and the scaling;
- 1000 reports projected from the batch's seconds per report (run ``--orgs 1000
  --skip-loop --skip-dask`` to time them instead).

    python benchmarks/bench_batch.py [--orgs 40] [--workers 2] [--skip-loop] [--skip-dask]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

print = functools.partial(print, flush=True)  # figures appear as they are measured

ROOT = Path(__file__).resolve().parent.parent
PANEL = ROOT / "data" / "peers" / "panel.csv"
BIN = Path(sys.executable).parent


def clients(folder: Path, n: int) -> tuple[Path, Path, list[str]]:
    """Responses and profiles of the first ``n`` centers of the bundled panel.

    Past the panel's 400 centers it starts again from the first, under new ids
    (``P0001-2``, ...): the same answers, another report each.
    """
    with open(PANEL, newline="") as fh:
        rows = list(csv.reader(fh))
    by_org: dict[str, list[list[str]]] = {}
    for row in rows[1:]:
        by_org.setdefault(row[0], []).append(row)
    with open(PANEL.with_name("panel.profiles.csv"), newline="") as fh:
        prof = list(csv.reader(fh))
    profile_of = {p[0]: p for p in prof[1:]}
    panel = list(by_org)
    keep: list[str] = []
    out, out_profiles = [rows[0]], [prof[0]]
    for i in range(n):
        org, round_ = panel[i % len(panel)], i // len(panel)
        new_id = org if round_ == 0 else f"{org}-{round_ + 1}"
        keep.append(new_id)
        out.extend([new_id, *row[1:]] for row in by_org[org])
        if org in profile_of:
            out_profiles.append([new_id, *profile_of[org][1:]])
    responses = folder / "clients.csv"
    with open(responses, "w", newline="") as fh:
        csv.writer(fh).writerows(out)
    profiles = folder / "clients.profiles.csv"
    with open(profiles, "w", newline="") as fh:
        csv.writer(fh).writerows(out_profiles)
    return responses, profiles, keep


class Run:
    """A command run to the end: wall seconds, CPU seconds of it and all its descendants, peak memory.

    While it runs, the process tree is sampled every 0.2 s: the peak resident memory of
    the command itself (the driver) and, for each of its child processes (the workers),
    of the child and its own descendants (its kernel) together.
    """

    def __init__(self, cmd: Sequence[str]) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.driver_peak = 0
        self.worker_peaks: dict[int, int] = {}
        done = threading.Event()
        sampler = threading.Thread(target=self._sample, args=(proc.pid, done), daemon=True)
        sampler.start()
        out, err = proc.communicate()
        done.set()
        sampler.join()
        self.wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd[:2])} failed:\n{err.decode()[-2000:]}")
        self.stdout = out.decode()

    def _sample(self, pid: int, done: threading.Event) -> None:
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not done.wait(0.2):
            try:
                self.driver_peak = max(self.driver_peak, root.memory_info().rss)
                for child in root.children():
                    tree = [child, *child.children(recursive=True)]
                    rss = sum(p.memory_info().rss for p in tree if p.is_running())
                    self.worker_peaks[child.pid] = max(self.worker_peaks.get(child.pid, 0), rss)
            except psutil.Error:
                continue


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def batch_cmd(responses: Path, profiles: Path, out: Path, workers: int, executor: str = "local") -> list[str]:
    return [
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
        "--executor",
        executor,
        "--no-progress",
    ]


def plain_loop(responses: Path, profiles: Path, orgs: list[str], out: Path) -> tuple[float, float]:
    """What a user would write without our batch: one papermill and one nbconvert call per report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - t0, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: One worker process: start, warm up, render the folders given; print JSON figures.
_ONE_WORKER = """
import json, sys, time, psutil
t0 = time.perf_counter()
from readiness.apps.batch import Task, _start_worker, _warm_kernel, render_task
folders = sys.argv[1:]
me = psutil.Process()
def cpu():
    t = me.cpu_times()
    mine = t.user + t.system
    km = _warm_kernel().km
    if km is not None:
        k = psutil.Process(km.provisioner.pid).cpu_times()
        mine += k.user + k.system
    return mine
_start_worker()
row = render_task(Task("first", folders[0], "first"))
first = {"wall": time.perf_counter() - t0, "cpu": cpu(), "ok": row["status"] == "ok"}
steady = []
for folder in folders[1:]:
    c0 = cpu()
    row = render_task(Task("next", folder, "next"))
    steady.append(cpu() - c0)
print(json.dumps({"first": first, "steady": steady}))
"""


def one_worker(folders: list[Path]) -> dict:
    """CPU per report of one warm worker (process and kernel), and its first report from a cold start."""
    res = subprocess.run(
        [sys.executable, "-c", _ONE_WORKER, *map(str, folders)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-loop", action="store_true", help="no plain papermill + nbconvert loop")
    parser.add_argument("--skip-dask", action="store_true", help="no Dask runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    print(f"machine: {os.cpu_count()} cores; {args.orgs} organizations")
    try:
        responses, profiles, orgs = clients(work, args.orgs)
        n = len(orgs)
        b = Run(batch_cmd(responses, profiles, work / "batch", args.workers))
        per_b = b.wall / n
        workers = sorted(b.worker_peaks.values(), reverse=True)
        print(
            f"readiness batch --workers {args.workers}: {b.wall:.1f} s for {n} reports -> {per_b:.2f} s per report; "
            f"{b.cpu / n:.2f} s of CPU per report (driver, workers, kernels)"
        )
        print(
            f"  peak memory: driver {mib(b.driver_peak)}; per worker with its kernel "
            + ", ".join(mib(w) for w in workers[: args.workers])
        )
        if not args.skip_loop:
            (work / "loop").mkdir()
            wall, cpu = plain_loop(responses, profiles, orgs, work / "loop")
            per_a = wall / n
            print(
                f"plain papermill + nbconvert loop: {wall:.1f} s for {n} reports -> {per_a:.2f} s per report; "
                f"{cpu / n:.2f} s of CPU per report"
            )
            print(f"ratio: readiness batch is {per_a / per_b:.1f}x faster per report (goal >= 10)")

        folders = sorted(p for p in (work / "batch").iterdir() if p.is_dir())
        w = one_worker(folders[: min(len(folders), 11)])
        steady = statistics.median(w["steady"]) if w["steady"] else float("nan")
        print(
            f"one worker: {steady:.2f} s of CPU per report after warm-up (median of {len(w['steady'])}; goal <= 1.2); "
            f"first report of a fresh worker {w['first']['wall']:.1f} s (start, imports, kernel, one report; "
            f"{w['first']['cpu']:.1f} s of CPU; goal <= 5)"
        )

        if not args.skip_dask:
            per = {}
            for k in (1, 2):
                d = Run(batch_cmd(responses, profiles, work / f"dask{k}", k, "dask"))
                with open(work / f"dask{k}" / "manifest.csv", newline="", encoding="utf-8") as fh:
                    ok = sum(row["status"] == "ok" for row in csv.DictReader(fh))
                per[k] = d.wall / n
                print(
                    f"readiness batch --executor dask, LocalCluster of {k} worker{'s' if k > 1 else ''}: "
                    f"{d.wall:.1f} s for {n} reports ({ok} ok) -> {per[k]:.2f} s per report"
                )
            print(f"dask scaling from 1 to 2 workers: {per[1] / per[2]:.2f}x (2 cores)")
        print(
            f"projected for 1000 reports with readiness batch --workers {args.workers}: {per_b * 1000 / 60:.1f} minutes"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
