"""Scoring speed and memory: 10,000 organizations x 20 respondents over the bundled instrument.

Times the engine (``score(responses, n_boot=0)``) against a plain numpy implementation
of the same rules (``benchmarks/numpy_scoring.py``) on the same data, in turns (engine,
numpy, numpy without r_wg and alpha, engine, ...), and checks that they agree. Then
the time per organization of 1000-resample bootstrap intervals, and the peak resident
memory of the process. Times are CPU seconds of this process (steadier than wall time
on a shared machine; scoring runs on one core).

Targets (2-core machine): >= 20 million answers/s, no slower than plain numpy,
<= 1 ms per organization for intervals, < 2 GiB.

    python benchmarks/bench_scoring.py [--orgs 10000] [--respondents 20] [--ci-orgs 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from numpy_scoring import numpy_scores

from readiness.core.responses import Responses
from readiness.core.scoring import score
from readiness.io.loaders import load_instrument


def make_responses(n_orgs: int, per_org: int, seed: int = 0) -> Responses:
    """Organizations of ``per_org`` respondents; 3 % of answers missing, 2 % of N/A-able items marked N/A."""
    inst = load_instrument()
    layout = inst.layout
    rng = np.random.default_rng(seed)
    n = n_orgs * per_org
    roles = np.array(layout.role_ids)[rng.choice(len(layout.role_ids), size=n, p=[0.7, 0.2, 0.1])]
    org_level = rng.normal(size=(n_orgs, 1)).repeat(per_org, axis=0)
    values = np.clip(np.round(3 + org_level + rng.normal(scale=0.9, size=(n, len(layout.item_ids)))), 1, 5)
    values[rng.random(values.shape) < 0.03] = np.nan
    not_applicable = (rng.random(values.shape) < 0.02) & layout.allows_na
    values[not_applicable] = np.nan
    org_ids = [f"O{i:05d}" for i in range(n_orgs) for _ in range(per_org)]
    resp_ids = [f"R{j:02d}" for _ in range(n_orgs) for j in range(per_org)]
    return Responses.from_arrays(inst, org_ids, resp_ids, roles.tolist(), values, not_applicable)


def cpu(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def largest_difference(responses: Responses) -> float:
    """Largest absolute difference between the engine's numbers and the plain implementation's."""
    eng = score(responses, n_boot=0)
    ref = numpy_scores(responses)
    br = eng.by_role
    pairs = [
        (ref["facet"], eng.facets["score"]),
        (ref["dimension"], eng.dimensions["score"]),
        (ref["overall"], eng.overall["score"]),
        (ref["rwg"], eng.facets["rwg"]),
        (ref["alpha_facet"], eng.facets["alpha"]),
        (ref["alpha_dimension"], eng.dimensions["alpha"]),
        (ref["role_facet"], br.loc[br["level"] == "facet", "score"]),
        (ref["answered"], eng.respondents["answered"]),
        (ref["not_applicable"], eng.respondents["not_applicable"]),
    ]
    worst = 0.0
    for a, b in pairs:
        a, b = np.asarray(a, float).ravel(), np.asarray(b, float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return float("inf")
        worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    if list(ref["level"]) != list(eng.overall["level"]) or list(ref["barrier"]) != list(eng.overall["barrier"]):
        return float("inf")
    return worst


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
    print(
        f"organizations: {args.orgs} x {args.respondents} respondents, {len(layout.item_ids)} items "
        f"({n_answers:,} answers; built in {build:.1f} s)"
    )

    diff = largest_difference(responses)
    print(f"engine vs plain numpy: largest difference {diff:.1e} (levels and barriers equal: {np.isfinite(diff)})")

    engine, plain, plain_scores = [], [], []
    for _ in range(args.repeat):
        engine.append(cpu(lambda: score(responses, n_boot=0)))
        plain.append(cpu(lambda: numpy_scores(responses)))
        plain_scores.append(cpu(lambda: numpy_scores(responses, agreement=False)))
    e, p, ps = (statistics.median(x) for x in (engine, plain, plain_scores))
    # ratios pair by pair (runs taken in turns), so that a drift of the machine cancels
    r_all = statistics.median(b / a for a, b in zip(engine, plain))
    r_scores = statistics.median(b / a for a, b in zip(engine, plain_scores))
    rate = n_answers / e / 1e6
    print(
        f"engine, every rule: median {e:.3f} s over {args.repeat} runs -> {rate:.1f} million answers/s (target >= 20)"
    )
    print(f"plain numpy, every rule: median {p:.3f} s -> engine {r_all:.2f}x its speed")
    print(
        f"plain numpy, scores only (no r_wg, alpha, counts): median {ps:.3f} s -> engine {r_scores:.2f}x its speed "
        "(target >= 1)"
    )

    subset = responses.select(responses.org_ids[: args.ci_orgs])
    with_ci, without_ci = [], []
    for _ in range(args.repeat):
        with_ci.append(cpu(lambda: score(subset, n_boot=1000, seed=0)))
        without_ci.append(cpu(lambda: score(subset, n_boot=0)))
    per_org_ms = (statistics.median(with_ci) - statistics.median(without_ci)) / args.ci_orgs * 1000
    print(
        f"bootstrap intervals, 1000 resamples: {per_org_ms:.2f} ms per organization "
        f"(median of {args.repeat} runs over {args.ci_orgs} organizations; target <= 1)"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mib:.0f} MiB (target < 2048)")


if __name__ == "__main__":
    main()
