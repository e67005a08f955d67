"""Scoring speed and memory: 10,000 organizations x 20 respondents over the bundled instrument.

Prints answers scored per second without intervals, the time per organization for
1000-resample bootstrap intervals, and the peak resident memory of the process.
Targets (2-core machine): >= 5 million answers/s, <= 2 ms per organization, < 2 GiB.

    python benchmarks/bench_scoring.py [--orgs 10000] [--respondents 20] [--ci-orgs 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from readiness.core.responses import Responses
from readiness.core.scoring import score
from readiness.io.loaders import load_instrument


def make_responses(n_orgs: int, per_org: int, seed: int = 0) -> Responses:
    inst = load_instrument()
    layout = inst.layout
    rng = np.random.default_rng(seed)
    n = n_orgs * per_org
    roles = np.array(layout.role_ids)[rng.choice(len(layout.role_ids), size=n, p=[0.7, 0.2, 0.1])]
    org_level = rng.normal(size=(n_orgs, 1)).repeat(per_org, axis=0)
    values = np.clip(np.round(3 + org_level + rng.normal(scale=0.9, size=(n, len(layout.item_ids)))), 1, 5)
    values[rng.random(values.shape) < 0.03] = np.nan
    org_ids = [f"O{i:05d}" for i in range(n_orgs) for _ in range(per_org)]
    resp_ids = [f"R{j:02d}" for _ in range(n_orgs) for j in range(per_org)]
    return Responses.from_arrays(inst, org_ids, resp_ids, roles.tolist(), values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--respondents", type=int, default=20)
    parser.add_argument("--ci-orgs", type=int, default=500, help="organizations timed with intervals")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    responses = make_responses(args.orgs, args.respondents)
    build = time.perf_counter() - t0
    layout = responses.instrument.layout
    asked = layout.asked[responses.role_codes]
    n_answers = int((asked & ~np.isnan(responses.values)).sum())

    plain = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        score(responses, n_boot=0)
        plain.append(time.perf_counter() - t0)
    median_plain = statistics.median(plain)

    subset = responses.select(responses.org_ids[: args.ci_orgs])
    with_ci, without_ci = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        score(subset, n_boot=1000, seed=0)
        with_ci.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        score(subset, n_boot=0)
        without_ci.append(time.perf_counter() - t0)
    per_org_ms = (statistics.median(with_ci) - statistics.median(without_ci)) / args.ci_orgs * 1000
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"organizations: {args.orgs} x {args.respondents} respondents, {len(layout.item_ids)} items "
        f"({n_answers:,} answers; built in {build:.1f} s)"
    )
    print(
        f"scoring without intervals: median {median_plain:.3f} s over {args.repeat} runs "
        f"-> {n_answers / median_plain / 1e6:.1f} million answers/s (target >= 5)"
    )
    print(
        f"bootstrap intervals, 1000 resamples: {per_org_ms:.2f} ms per organization "
        f"(median of {args.repeat} runs over {args.ci_orgs} organizations; target <= 2)"
    )
    print(f"peak resident memory: {peak_mib:.0f} MiB (target < 2048)")


if __name__ == "__main__":
    main()
