"""Change between waves: time to compare two waves, to record a batch in the history, to read it back.

Prints the milliseconds per comparison of two waves of one center (1000 resamples of each
wave, overall + 4 dimensions + 18 facets) at several center sizes, the time to record a
batch of centers in a history file and to read every wave back, and the share of facets
called real when nothing changed (pairs of waves of one unchanged synthetic center).
Targets (2-core machine): <= 50 ms per comparison of two 40-respondent waves, a 400-center
batch recorded in < 10 s.

    python benchmarks/bench_change.py [--centers 400] [--null-pairs 60] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from readiness.core.change import Wave, compare, waves_from_responses
from readiness.core.responses import Responses
from readiness.core.scoring import respondent_facet_scores
from readiness.core.synthetic_panel import generate_org
from readiness.io.history_store import HistoryStore
from readiness.io.loaders import load_instrument, parse_responses


def synthetic_wave(instrument, n: int, label: str, seed: int) -> Wave:
    """A wave of ``n`` respondents (70% agents, 20% supervisors, 10% managers) with random facet scores."""
    rng = np.random.default_rng(seed)
    roles = tuple(np.array(instrument.layout.role_ids)[rng.choice(3, size=n, p=[0.7, 0.2, 0.1])])
    scores = np.clip(rng.normal(50, 18, size=(n, len(instrument.facets))), 0, 100)
    scores[rng.random(scores.shape) < 0.05] = np.nan
    return Wave("ORG", label, None, {"respondents": {"n": n}}, instrument, roles, scores)


def batch_waves(instrument, n_centers: int, per_center: int, label: str) -> list[Wave]:
    layout = instrument.layout
    rng = np.random.default_rng(1)
    n = n_centers * per_center
    roles = np.array(layout.role_ids)[rng.choice(3, size=n, p=[0.7, 0.2, 0.1])]
    values = np.clip(np.round(3 + rng.normal(scale=0.9, size=(n, len(layout.item_ids)))), 1, 5)
    orgs = [f"C{i:04d}" for i in range(n_centers) for _ in range(per_center)]
    ids = [f"R{j:02d}" for _ in range(n_centers) for j in range(per_center)]
    responses = Responses.from_arrays(instrument, orgs, ids, roles.tolist(), values)
    docs = {o: {"organization": {"id": o, "name": o}, "respondents": {"n": per_center}} for o in responses.org_ids}
    return waves_from_responses(responses, docs, label=label, date="2024-05-14")


def null_share(instrument, pairs: int) -> float:
    """Share of facets called real between two waves of one unchanged center (different people)."""
    from readiness.apps.cli import _as_table

    center = dict(org_id="X", org_name="X", industry="other", agents=120, stage="considering", seed=11)
    called = []
    for k in range(pairs):
        waves = []
        for rs, counts in (
            (2 * k, {"agent": 17, "supervisor": 4, "manager": 3}),
            (2 * k + 1, {"agent": 19, "supervisor": 4, "manager": 3}),
        ):
            frame, _ = generate_org(instrument, respondents=counts, respondent_seed=10_000 + rs, **center)
            r = parse_responses(_as_table(frame, "w.csv"), instrument)
            waves.append(
                Wave(
                    "X",
                    str(rs),
                    None,
                    {"respondents": {"n": len(r)}},
                    instrument,
                    tuple(r.meta["role"]),
                    respondent_facet_scores(r),
                )
            )
        table = compare(*waves, n_boot=1000, seed=k).table
        called.append(table.loc[table["level"] == "facet", "real"].to_numpy())
    return float(np.mean(called))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centers", type=int, default=400)
    parser.add_argument("--null-pairs", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    instrument = load_instrument()

    for n in (25, 40, 200, 1000):
        a, b = synthetic_wave(instrument, n, "a", 1), synthetic_wave(instrument, n, "b", 2)
        compare(a, b)  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            compare(a, b, n_boot=1000)
            times.append(time.perf_counter() - t0)
        print(
            f"compare two waves of {n:4d} respondents, 1000 resamples each: {statistics.median(times) * 1000:6.1f} ms"
        )

    waves = batch_waves(instrument, args.centers, 20, "2024-05")
    with tempfile.TemporaryDirectory() as folder:
        store = HistoryStore(Path(folder) / "history.duckdb")
        t0 = time.perf_counter()
        store.record(waves)
        recorded = time.perf_counter() - t0
        t0 = time.perf_counter()
        back = store.load_many([(w.org_id, w.label) for w in waves])
        read = time.perf_counter() - t0
        size = (Path(folder) / "history.duckdb").stat().st_size
    print(
        f"record a batch of {args.centers} centers x 20 respondents in one transaction: {recorded:.2f} s; "
        f"read every wave back: {read:.2f} s ({len(back)} waves); file {size / 2**20:.1f} MiB"
    )
    if args.null_pairs:
        share = null_share(instrument, args.null_pairs)
        print(
            f"unchanged center (17/4/3 then 19/4/3 respondents), {args.null_pairs} pairs of waves: "
            f"{share:.1%} of facets called real (nominal 5%)"
        )


if __name__ == "__main__":
    main()
