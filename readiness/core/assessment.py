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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .benchmark import GROUP_KEYS, PanelInfo, benchmark, choose_peer_group, peer_table, placement
from .defaults import BARRIER_LINE, N_BOOT, ROLE_MIN, K
from .instrument import Instrument
from .levels import level_of, next_level
from .profile import KPI_DIRECTIONS, kpi_name, kpi_unit, next_stage
from .reliability import LOW_ITEM_TOTAL, instrument_quality
from .responses import Responses
from .results import build_results, clean_number, highlights
from .roadmap import PHASES, PlanOptions, Playbook, phase_bounds, plan
from .scoring import score

__all__ = ["TARGET_LEVEL", "TARGET_PEERS", "Options", "PanelInfo", "PeerPanel", "assess"]

#: Default target rule: each facet's target is the top quartile of the peers one stage ahead.
TARGET_PEERS = "top quartile of peers one stage ahead"
#: Target rule without (enough) peers: the lower bound of the center's next readiness level.
TARGET_LEVEL = "next readiness level"


@dataclass(frozen=True)
class Options:
    """Everything a user may set; defaults are the documented ones."""

    seed: int = 0
    n_boot: int = N_BOOT
    k: int = K
    barrier_threshold: float = BARRIER_LINE
    target: float | Mapping[str, float] | None = None  # None: peers one stage ahead, else the next level
    role_min: int = ROLE_MIN  # fewest respondents for a role's scores to be shown
    plan: PlanOptions = field(default_factory=PlanOptions)
    date: str | None = None  # the assessment's date (ISO 8601); the pipeline gives today's
    prepared_by: str = ""  # who prepared the report (consultant, team), shown on its cover


@dataclass(frozen=True, eq=False)
class PeerPanel:
    """A peer panel prepared once: scores beside profiles, driver models, instrument quality.

    ``info`` says what the panel is; a synthetic one is labelled so in every results
    document, and nothing fitted on it (driver models, instrument quality, impact
    weights) is used as evidence.
    """

    table: pd.DataFrame
    drivers: Any  # readiness.core.driver_analysis.DriverResults
    quality: tuple[pd.DataFrame, pd.DataFrame]
    n_orgs: int
    info: PanelInfo = field(default_factory=PanelInfo)

    @classmethod
    def build(cls, responses: Responses, profiles: pd.DataFrame, info: PanelInfo | None = None) -> PeerPanel:
        """Score the peers with the same engine as clients (no intervals needed) and fit drivers."""
        from .driver_analysis import driver_analysis

        scores = score(responses, n_boot=0)
        table = peer_table(scores, profiles)
        quality = instrument_quality(responses)
        return cls(table, driver_analysis(table), quality, len(table), info or PanelInfo())

    def drivers_json(self) -> dict[str, Any]:
        """The ``drivers`` block of results.json: a fresh copy each call, built once per panel."""
        return json.loads(self._json_blocks[0])

    def quality_json(self) -> dict[str, Any]:
        """The ``instrument_quality`` block of results.json: a fresh copy each call, built once per panel."""
        return json.loads(self._json_blocks[1])

    @cached_property
    def _json_blocks(self) -> tuple[str, str]:
        # every organization benchmarked against this panel carries the same two blocks:
        # built once, copied per document by parsing their JSON text (fast, and no document
        # shares a mutable object with another)
        return json.dumps(self.drivers.to_json()), json.dumps(self._quality_json())

    def _quality_json(self) -> dict[str, Any]:
        scales, items = self.quality
        return {
            "alpha": [
                {
                    "level": r.level,
                    "id": r.id,
                    "role": r.role,
                    "items": int(r.items),
                    "n": int(r.n),
                    "alpha": clean_number(r.alpha, 3),
                }
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

    Without peers the benchmark is ``null``. With a playbook there is always a roadmap
    when any facet has a score: against ``options.target`` when given, else the top
    quartile of the peers one stage ahead, else the center's next readiness level.
    """
    options = options or Options()
    instrument = responses.instrument
    orgs = list(responses.org_ids if orgs is None else orgs)
    scores = score(
        responses, n_boot=options.n_boot, seed=options.seed, orgs=orgs, barrier_threshold=options.barrier_threshold
    )
    directions = _kpi_directions()
    out: dict[str, dict[str, Any]] = {}
    # what people wrote: comments on facets or questions, and answers to the open questions
    said = _said(responses)
    for org_id in orgs:
        profile = _profile(profiles, org_id)
        warnings = list(responses.warnings)
        if profiles is not None and profile is None:
            warnings.append(f"no profile for organization {org_id!r}: benchmarked against all peers")
        doc = build_results(
            scores,
            org_id,
            instrument,
            profile=profile,
            warnings=warnings,
            role_min=options.role_min,
            comments=said,
        )
        doc["assessment"].update(date=options.date, prepared_by=options.prepared_by or None)
        doc["method"]["k"] = options.k
        doc["method"]["item_total_min"] = LOW_ITEM_TOTAL
        synthetic = peers is not None and peers.info.synthetic
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
            bench["panel"] = peers.info.to_json(peers.n_orgs)
            for kpi, block in (bench.get("kpis") or {}).items():
                block["name"] = kpi_name(kpi)
                block["unit"] = kpi_unit(kpi)
            doc["benchmark"] = bench
            _fill_percentiles(doc, bench)
            if peers.n_orgs >= options.k:  # statistics of a panel under k are never shown
                drivers = peers.drivers_json()
                # fitted on simulated answers, the models return the effects the simulation
                # was built with: an illustration of the method, never evidence
                drivers["illustration"] = synthetic
                doc["drivers"] = drivers
                if not synthetic:  # the reliability of simulated answers says nothing about the questions
                    doc["instrument_quality"] = peers.quality_json()
            if bench["peer_n"] is None:
                doc["warnings"].append(f"no benchmark: fewer than {options.k} peers available")
            elif bench["fallback"] != "none":
                doc["warnings"].append(f"peer group widened ({bench['fallback']}) to reach at least {options.k} peers")
        if references:
            doc["published_figures"] = list(references.get("context", []))
            _attach_published_share(doc, references)
        targets, target = _targets(doc, instrument, options, peers)
        barrier = doc["overall"]["barrier"]
        if barrier is not None and doc["facets"][barrier]["score"] is not None:
            # the headline says to fix the barrier first, so the plan always works on it:
            # whatever the target rule, the barrier is aimed at least at the barrier line
            targets[barrier] = max(targets.get(barrier, options.barrier_threshold), options.barrier_threshold)
        if playbook is not None and targets:
            use_peers = peers is not None and not synthetic and "drivers" in doc and bool(peers.drivers.impact)
            impact = peers.drivers.impact if use_peers and peers is not None else None
            result = plan(
                instrument,
                playbook,
                {f: b["score"] for f, b in doc["facets"].items()},
                targets,
                impact=impact,
                barrier=barrier,
                options=options.plan,
            )
            doc["roadmap"] = result.to_json()
            _cite_actions(doc["roadmap"], (references or {}).get("sources") or {})
            doc["plan"] = {
                **target,
                "targets": {f: clean_number(t) for f, t in result.targets.items()},
                "gaps": {f: clean_number(g) for f, g in result.gaps.items()},
                "impact": {d: clean_number(w) for d, w in result.impact.items()},
                "impact_source": "peers" if impact else "playbook",
                "capacity": {str(p): c for p, c in options.plan.capacity.items()},
                "phases": [
                    {
                        "phase": p,
                        "label": PHASES[p][0],
                        "start_week": start,
                        "end_week": end,
                        "capacity": options.plan.capacity.get(p),
                    }
                    for p, (start, end) in phase_bounds().items()
                ],
                "technology_threshold": options.plan.technology_threshold,
                "projection": [_clean_projection(p) for p in result.projection],
            }
            _link_barrier(doc)
        elif playbook is not None:
            doc["warnings"].append("no roadmap: no facet has both a score and a target above it")
        doc["highlights"] = highlights(doc)
        out[org_id] = doc
    return out


def _said(responses: Responses) -> pd.DataFrame | None:
    """Comments and open answers together, one row each: ``org_id, respondent_id, role, topic, text``."""
    parts = [responses.comment_frame()]
    answers = responses.open_answers_frame()
    if len(answers):
        parts.append(answers.rename(columns={"question": "topic"})[list(parts[0].columns)])
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    return frame


def _link_barrier(doc: dict[str, Any]) -> None:
    """Say in the barrier block how the roadmap's first action relates to the barrier.

    ``first_action``: the first action's rank and title, whether it moves the barrier
    facet itself, and otherwise the barrier action it must come before (``before``).
    """
    block = doc.get("barrier")
    if not block or not doc["roadmap"]:
        return
    first = doc["roadmap"][0]
    before = None
    if not first["addresses_barrier"] and first.get("unlocks_barrier"):
        # the first planned action that moves the barrier and waits, directly or not, on this one
        needs = {a["action"]: set(a["depends_on"]) for a in doc["roadmap"]}

        def waits_on(aid: str, seen: frozenset[str] = frozenset()) -> bool:
            deps = needs.get(aid, set())
            return first["action"] in deps or any(waits_on(d, seen | {aid}) for d in deps if d not in seen)

        before = next(
            (
                {"rank": a["rank"], "title": a["title"]}
                for a in doc["roadmap"]
                if a["addresses_barrier"] and waits_on(a["action"])
            ),
            None,
        )
    block["first_action"] = {
        "rank": first["rank"],
        "title": first["title"],
        "moves_barrier": bool(first["addresses_barrier"]),
        "before": before,
    }
    if not first["addresses_barrier"] and before is None:
        doc["warnings"].append(
            f"no action in the playbook works on the barrier facet {block['title']}: the roadmap cannot start there"
        )


def _attach_published_share(doc: dict[str, Any], references: Mapping[str, Any]) -> None:
    """The published reference point beside the unwilling-or-unable share (a share 0..1)."""
    block = doc.get("unwilling_or_unable")
    figure = (references.get("agents") or {}).get("unwilling_or_unable")
    if block is None or not figure:
        return
    value = figure.get("value")
    block["published"] = {
        "share": clean_number(float(value) / 100.0) if value is not None else None,
        "text": figure.get("text"),
        "source": figure.get("source"),
        "reference": figure.get("reference") or figure.get("source"),
    }


def _cite_actions(roadmap: list[dict[str, Any]], sources: Mapping[str, str]) -> None:
    """Each action's source as a person reads it (publication, year, title); the file name stays."""
    for action in roadmap:
        if action.get("source") in sources:
            action["reference"] = sources[action["source"]]


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


def _targets(
    doc: Mapping[str, Any], instrument: Instrument, options: Options, peers: PeerPanel | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each facet's target, and the ``plan`` fields that say which rule set it.

    A fixed level or a target profile when the user gave one. Otherwise the top quartile
    of the peers one stage ahead (:func:`_peer_targets`); without peers, or without a
    group of at least ``k`` of them, the lower bound of the center's next readiness level
    for each facet below it (:func:`_level_targets`).
    """
    if isinstance(options.target, (int, float)):
        level = float(options.target)
        return {f: level for f in instrument.facets}, _rule("fixed", f"fixed level {level:g}")
    if isinstance(options.target, Mapping):
        return {f: float(t) for f, t in options.target.items()}, _rule("profile", "target profile")
    if peers is not None:
        found = _peer_targets(doc, peers.table, options.k)
        if found is not None and found[0]:
            return found
    return _level_targets(doc, instrument)


def _rule(kind: str, words: str, **extra: Any) -> dict[str, Any]:
    return {"target": words, "target_kind": kind, "target_group": None, "target_level": None, **extra}


def _peer_targets(
    doc: Mapping[str, Any], table: pd.DataFrame, k: int
) -> tuple[dict[str, float], dict[str, Any]] | None:
    """The top quartile of the peers one stage ahead, in the center's industry x size cell.

    The group is chosen by the benchmark's own rule (:func:`choose_peer_group`: at least
    ``k`` peers, widened by dropping stage, then size band, then industry); a facet whose
    quartile is withheld (fewer than ``k`` peers have it) gets no target. ``None`` when
    no group reaches ``k``.
    """
    org = doc["organization"]
    ahead = next_stage(org.get("stage"))
    group = choose_peer_group({**org, "stage": ahead}, table, k=k, exclude=[org["id"]])
    if group is None:
        return None
    frame = table.loc[list(group.org_ids)]
    places = placement({f: b["score"] for f, b in doc["facets"].items()}, frame, group.k)
    targets = {f: float(p["q3"]) for f, p in places.items() if p.get("q3") is not None}
    used = {key: group.keys.get(key) for key in GROUP_KEYS}
    if used["stage"] is None:
        words = "top quartile of peers"
    elif ahead == org.get("stage"):
        words = "top quartile of peers at the same stage"
    else:
        words = TARGET_PEERS
    target_group = {**used, "n": group.n, "fallback": group.fallback, "stage_aimed": ahead}
    return targets, _rule("peers", words, target_group=target_group)


def _level_targets(doc: Mapping[str, Any], instrument: Instrument) -> tuple[dict[str, float], dict[str, Any]]:
    """The lower bound of the next readiness level for every facet below it.

    The next level is the one after the center's overall level; a center at the top
    level aims at that level's lower bound. Facets at or above the bound get no target.
    """
    current = level_of(doc["overall"]["score"], instrument.levels)
    aim = next_level(current, instrument.levels) or current
    if aim is None:
        return {}, _rule("level", TARGET_LEVEL)
    targets = {
        f: float(aim.lower) for f, b in doc["facets"].items() if b["score"] is not None and b["score"] < aim.lower
    }
    target_level = {"name": aim.name, "lower": aim.lower, "from": current.name if current is not None else None}
    return targets, _rule("level", TARGET_LEVEL, target_level=target_level)


def _clean_projection(step: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "phase": step["phase"],
        "label": step["label"],
        "overall": clean_number(step["overall"]),
        "dimensions": {d: clean_number(v) for d, v in step["dimensions"].items()},
        "facets": {f: clean_number(v) for f, v in step["facets"].items()},
    }
