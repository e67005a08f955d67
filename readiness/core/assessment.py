"""The whole assessment for one or many organizations: score, benchmark, plan.

Core layer: composes :mod:`scoring`, :mod:`benchmark`, :mod:`driver_analysis`, :mod:`roadmap`
and :mod:`reliability` over already-loaded inputs, and returns results.json documents.
The CLI, the batch runner and the notebooks all call :func:`assess`, so a number is
computed one way only. Peer work (scoring the panel, driver models, instrument quality)
is done once per :class:`PeerPanel`, not once per client.

Example
-------
>>> panel = PeerPanel.build(peer_responses, peer_profiles)          # doctest: +SKIP
>>> docs = assess(responses, profiles=profiles, peers=panel, playbook=book)   # doctest: +SKIP
>>> docs["NORTHBANK"]["roadmap"][0]["title"]                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .benchmark import benchmark, peer_table
from .defaults import BARRIER_LINE, N_BOOT, ROLE_MIN, K
from .instrument import Instrument
from .profile import KPI_DIRECTIONS
from .reliability import instrument_quality
from .responses import Responses
from .results import build_results, clean_number
from .roadmap import PlanOptions, Playbook, plan
from .scoring import score

__all__ = ["TARGET_PEERS", "Options", "PeerPanel", "assess"]

#: Target rule: each facet's target is the peer group's top-quartile value.
TARGET_PEERS = "peer top quartile"


@dataclass(frozen=True)
class Options:
    """Everything a user may set; defaults are the documented ones."""

    seed: int = 0
    n_boot: int = N_BOOT
    k: int = K
    barrier_threshold: float = BARRIER_LINE
    target: float | Mapping[str, float] | None = None  # None: peer top quartile
    role_min: int = ROLE_MIN  # fewest respondents for a role's scores to be shown
    plan: PlanOptions = field(default_factory=PlanOptions)


@dataclass(frozen=True, eq=False)
class PeerPanel:
    """A peer panel prepared once: scores beside profiles, driver models, instrument quality."""

    table: pd.DataFrame
    drivers: Any  # readiness.core.driver_analysis.DriverResults
    quality: tuple[pd.DataFrame, pd.DataFrame]
    n_orgs: int

    @classmethod
    def build(cls, responses: Responses, profiles: pd.DataFrame) -> PeerPanel:
        """Score the peers with the same engine as clients (no intervals needed) and fit drivers."""
        from .driver_analysis import driver_analysis

        scores = score(responses, n_boot=0)
        table = peer_table(scores, profiles)
        return cls(table, driver_analysis(table), instrument_quality(responses), len(table))

    def quality_json(self) -> dict[str, Any]:
        scales, items = self.quality
        return {
            "alpha": [
                {"level": r.level, "id": r.id, "items": int(r.items), "n": int(r.n), "alpha": clean_number(r.alpha, 3)}
                for r in scales.itertuples()
            ],
            "flagged_items": [
                {"item": r.item, "facet": r.facet, "item_total": clean_number(r.item_total, 3)}
                for r in items.itertuples()
                if r.flag
            ],
        }


def assess(
    responses: Responses,
    *,
    profiles: pd.DataFrame | None = None,
    peers: PeerPanel | None = None,
    playbook: Playbook | None = None,
    references: Mapping[str, Any] | None = None,
    orgs: Sequence[str] | None = None,
    options: Options | None = None,
) -> dict[str, dict[str, Any]]:
    """results.json documents for the organizations in ``responses`` (or ``orgs``).

    Without peers the benchmark is ``null``; the roadmap is planned when there is a target
    (the peer top quartile, or ``options.target``) and a playbook.
    """
    options = options or Options()
    instrument = responses.instrument
    orgs = list(responses.org_ids if orgs is None else orgs)
    scores = score(
        responses, n_boot=options.n_boot, seed=options.seed, orgs=orgs, barrier_threshold=options.barrier_threshold
    )
    directions = _kpi_directions()
    out: dict[str, dict[str, Any]] = {}
    for org_id in orgs:
        profile = _profile(profiles, org_id)
        warnings = list(responses.warnings)
        if profiles is not None and profile is None:
            warnings.append(f"no profile for organization {org_id!r}: benchmarked against all peers")
        doc = build_results(scores, org_id, instrument, profile=profile, warnings=warnings, role_min=options.role_min)
        if peers is not None:
            kpis = {k: profile.get(k) for k in directions} if profile else {}
            bench = benchmark(
                doc,
                peers.table,
                k=options.k,
                kpis=kpis,
                directions=directions,
                references=(references or {}).get("kpis"),
            )
            doc["benchmark"] = bench
            _fill_percentiles(doc, bench)
            if peers.n_orgs >= options.k:  # statistics of a panel under k are never shown
                doc["drivers"] = peers.drivers.to_json()
                doc["instrument_quality"] = peers.quality_json()
            if bench["peer_n"] is None:
                doc["warnings"].append(f"no benchmark: fewer than {options.k} peers available")
            elif bench["fallback"] != "none":
                doc["warnings"].append(f"peer group widened ({bench['fallback']}) to reach at least {options.k} peers")
        if references:
            doc["published_figures"] = list(references.get("context", []))
        targets, target_rule = _targets(doc, instrument, options)
        if playbook is not None and targets:
            impact = peers.drivers.impact if peers is not None and "drivers" in doc and peers.drivers.impact else None
            result = plan(
                instrument,
                playbook,
                {f: b["score"] for f, b in doc["facets"].items()},
                targets,
                impact=impact,
                barrier=doc["overall"]["barrier"],
                options=options.plan,
            )
            doc["roadmap"] = result.to_json()
            doc["plan"] = {
                "target": target_rule,
                "targets": {f: clean_number(t) for f, t in result.targets.items()},
                "gaps": {f: clean_number(g) for f, g in result.gaps.items()},
                "impact": {d: clean_number(w) for d, w in result.impact.items()},
                "impact_source": "driver analysis" if impact else "playbook defaults",
                "capacity": {str(p): c for p, c in options.plan.capacity.items()},
                "technology_threshold": options.plan.technology_threshold,
                "projection": [_clean_projection(p) for p in result.projection],
            }
        elif playbook is not None:
            doc["warnings"].append("no roadmap: no target (give peers, or a fixed target level or profile)")
        out[org_id] = doc
    return out


def _kpi_directions() -> dict[str, str]:
    return dict(KPI_DIRECTIONS)


def _profile(profiles: pd.DataFrame | None, org_id: str) -> dict[str, Any] | None:
    if profiles is None or org_id not in profiles.index:
        return None
    row = profiles.loc[org_id].to_dict()
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}


def _fill_percentiles(doc: dict[str, Any], bench: Mapping[str, Any]) -> None:
    if bench.get("peer_n") is None:
        return
    for dim, block in bench["dimensions"].items():
        doc["dimensions"][dim]["percentile"] = block.get("percentile")
    for facet, block in bench["facets"].items():
        doc["facets"][facet]["percentile"] = block.get("percentile")
    doc["overall"]["percentile"] = (bench.get("overall") or {}).get("percentile")


def _targets(doc: Mapping[str, Any], instrument: Instrument, options: Options) -> tuple[dict[str, float], str]:
    if isinstance(options.target, (int, float)):
        return {f: float(options.target) for f in instrument.facets}, f"fixed level {float(options.target):g}"
    if isinstance(options.target, Mapping):
        return {f: float(t) for f, t in options.target.items()}, "target profile"
    bench = doc.get("benchmark") or {}
    if bench.get("peer_n") is None:
        return {}, TARGET_PEERS
    targets = {f: b["q3"] for f, b in bench["facets"].items() if b.get("q3") is not None}
    return targets, TARGET_PEERS


def _clean_projection(step: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "phase": step["phase"],
        "label": step["label"],
        "overall": clean_number(step["overall"]),
        "dimensions": {d: clean_number(v) for d, v in step["dimensions"].items()},
        "facets": {f: clean_number(v) for f, v in step["facets"].items()},
    }
