"""Driver memory of a large batch: 10,000 organizations in bounded memory.

Runs what `readiness batch` runs in its driver process (reading the inputs, assessing a
chunk of organizations at a time, writing each folder's results.json and roadmap
exports, streaming the manifest) over a synthetic file of N organizations, with
rendering left out: each task's staged folder is swapped in and recorded as done as
soon as a worker would get it.
Prints the driver's resident memory every 1000 organizations, its peak, and its CPU
seconds per organization (the driver's share of a report, for the capacity model in
docs/batch.md). For comparison it prints what holding every results document at once,
as the batch did before, takes for the first 1000 organizations.

    python benchmarks/bench_memory.py [--orgs 10000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PANEL = ROOT / "data" / "peers" / "panel.csv"


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    args = parser.parse_args()

    from readiness.apps import batch
    from readiness.io.pipeline import Fingerprints, load_inputs, make_options, run, run_chunks

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        clients = work / "clients.csv"
        subprocess.run(
            [str(BIN / "readiness"), "panel", "--orgs", str(args.orgs), "--seed", "17", "--out", str(clients)],
            check=True,
            capture_output=True,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        inputs = load_inputs(clients, profiles=work / "clients.profiles.csv", peers=PANEL, isolate=True)
        options = make_options()
        loaded = rss_mib()
        print(
            f"{args.orgs} organizations, {len(inputs.responses):,} respondents: inputs read in "
            f"{time.perf_counter() - t0:.0f} s; driver resident memory {loaded:.0f} MiB"
        )

        samples: list[tuple[int, float]] = []

        from readiness.io.exporters import commit_stage

        def no_rendering(tasks, record, *, workers):
            for i, task in enumerate(tasks, start=1):
                if task.stage:  # what a worker does once the report is rendered: the set swapped in
                    commit_stage(task.stage, task.folder)
                record({"org_id": task.org_id, "status": "ok", "started": "", "seconds": 0.0, "files": "", "error": ""})
                if i % 1000 == 0:
                    samples.append((i, rss_mib()))

        batch._run_local = no_rendering  # type: ignore[assignment]
        c1 = time.process_time()
        summary = batch.run_batch(
            run_chunks(inputs, options=options),
            work / "out",
            total=len(inputs.responses.org_ids),
            fingerprints=Fingerprints(inputs, options),  # as the batch command gives them
        )
        cpu = time.process_time() - c1
        print("resident memory as the batch goes: " + ", ".join(f"{n}: {m:.0f} MiB" for n, m in samples))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"driver: {summary.done} folders written; peak resident memory {peak:.0f} MiB; "
            f"{cpu / max(summary.done, 1) * 1000:.0f} ms of CPU per organization (assess, write, manifest); "
            f"{time.process_time() - c0:.0f} s of CPU in all"
        )

        # the way before: every document at once (1000 of them is enough to see it)
        gc.collect()
        before = rss_mib()
        first = inputs.responses.org_ids[:1000]
        docs = run(inputs, orgs=list(first), options=options)
        held = rss_mib() - before
        print(
            f"for comparison, holding the results documents of {len(docs)} organizations at once: "
            f"+{held:.0f} MiB (about {held * args.orgs / len(docs) / 1024:.1f} GiB for {args.orgs})"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
