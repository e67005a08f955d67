"""Peer benchmarking: peer groups, placement within them, and KPIs against peers.

Core layer: pure functions over frames. The peers are scored by the same engine as the
client (:func:`readiness.core.scoring.score`); :func:`peer_table` puts their scores beside
their profiles, one row per peer organization.

Honesty rules, enforced here so that no caller can forget them:

- every statistic travels with the number of peers behind it (``peer_n``);
- a group of fewer than ``k`` peers (default 5, never below 3) yields no statistic at all:
  the group falls back (drop stage, then size band, then industry) until it has ``k``,
  and when even all peers together are fewer, there is no benchmark;
- per facet or KPI, when fewer than ``k`` peers have a value, that statistic is withheld.

Example
-------
>>> table = peer_table(score(peer_responses, n_boot=0), peer_profiles)     # doctest: +SKIP
>>> bench = benchmark(client_results, table, k=5)                           # doctest: +SKIP
>>> bench["peer_group"], bench["peer_n"]                                     # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .defaults import MIN_K, K
from .ids import normalize_id
from .instrument import DIMENSIONS
from .profile import CONTEXT
from .results import clean_number
from .scoring import Scores, linear_percentiles

__all__ = [
    "FALLBACK_ORDER",
    "GROUP_KEYS",
    "PanelInfo",
    "PeerGroup",
    "benchmark",
    "choose_peer_group",
    "kpi_benchmark",
    "peer_table",
    "percentile_of",
    "placement",
]

GROUP_KEYS: tuple[str, ...] = ("industry", "size_band", "stage")
#: The keys each fallback level keeps: the exact cell, then drop stage, then size band,
#: then industry (all peers). The label in results.json names what was dropped.
FALLBACK_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("none", ("industry", "size_band", "stage")),
    ("dropped stage", ("industry", "size_band")),
    ("dropped stage and size band", ("industry",)),
    ("all peers", ()),
)
#: Edges of the distribution bins shown in plots (counts only; no peer's own score).
BIN_EDGES: tuple[float, ...] = tuple(float(x) for x in range(0, 101, 5))
_EDGES = np.array(BIN_EDGES)


@dataclass(frozen=True)
class PanelInfo:
    """What a peer panel is: its name, a sentence about it, and whether it is simulated.

    A synthetic (simulated) panel is labelled so wherever it is compared with, and
    nothing fitted on it is presented as evidence (``docs/drivers.md``). Panels are
    real unless marked: ``readiness panel`` marks what it generates, ``peers import``
    takes ``--synthetic``.
    """

    name: str = "peer panel"
    description: str = ""
    synthetic: bool = False

    def to_json(self, n: int) -> dict[str, Any]:
        """The ``benchmark.panel`` block of results.json (``n``: organizations in the panel)."""
        return {"synthetic": bool(self.synthetic), "name": self.name, "n": int(n), "description": self.description}


@dataclass(frozen=True)
class PeerGroup:
    """The peers an organization is compared with, and how they were chosen."""

    keys: dict[str, str]  # the attributes the group matches on
    fallback: str  # which fallback level was taken
    org_ids: tuple[str, ...]
    k: int

    @property
    def n(self) -> int:
        return len(self.org_ids)


def peer_table(scores: Scores, profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per peer organization: profile columns, overall, dimension and facet scores.

    Columns: the profile's (``industry, size_band, stage`` and KPIs), ``overall``, the four
    dimensions, then one column per facet id. Only organizations with a profile are kept.
    """
    dims = scores.dimensions.pivot(index="org_id", columns="dimension", values="score")
    facets = scores.facets.pivot(index="org_id", columns="facet", values="score")
    table = pd.concat([scores.overall[["score"]].rename(columns={"score": "overall"}), dims, facets], axis=1)
    keep = [o for o in table.index if o in profiles.index]
    profile_cols = [c for c in profiles.columns if c not in ("org_name", "agents")]
    out = pd.concat([profiles.loc[keep, profile_cols], table.loc[keep]], axis=1)
    out.index.name = "org_id"
    return out


@functools.lru_cache(maxsize=8)
def _folded_ids(ids: tuple[Any, ...]) -> tuple[str, ...]:
    """Peer ids as compared with the organization's (normalized, case folded), once per panel.

    A batch chooses a peer group for every organization against the same panel.
    """
    return tuple(normalize_id(str(o)).casefold() for o in ids)


def choose_peer_group(
    profile: Mapping[str, Any],
    peers: pd.DataFrame,
    *,
    k: int = K,
    exclude: Sequence[str] = (),
) -> PeerGroup | None:
    """The narrowest group with at least ``k`` peers, falling back in :data:`FALLBACK_ORDER`.

    Attributes the organization's profile lacks cannot be matched and are dropped from
    the start. The organization itself (``exclude``) is never its own peer, whatever the
    case or invisible characters its id is written with in the peer data. Returns
    ``None`` when even all peers together are fewer than ``k``.
    """
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K} (got {k}): smaller peer groups could expose a peer")
    itself = {normalize_id(str(o)).casefold() for o in exclude}
    if itself:
        own = [key in itself for key in _folded_ids(tuple(peers.index))]
        pool = peers[[not mine for mine in own]]
    else:
        pool = peers
    known: dict[str, Any] = {key: profile.get(key) for key in GROUP_KEYS if _present(profile.get(key))}
    tried: list[tuple[str, ...]] = []
    for _, keys in FALLBACK_ORDER:
        use = tuple(key for key in keys if key in known)
        if use in tried:  # an unknown attribute makes two levels the same
            continue
        tried.append(use)
        mask = np.ones(len(pool), dtype=bool)
        for key in use:
            mask &= (pool[key].astype(object) == known[key]).to_numpy()
        if mask.sum() >= k:
            return PeerGroup({key: known[key] for key in use}, _fallback_label(use), tuple(pool.index[mask]), k)
    return None


def _fallback_label(used: tuple[str, ...]) -> str:
    dropped = [key.replace("_", " ") for key in reversed(GROUP_KEYS) if key not in used]
    if not dropped:
        return "none"
    if len(dropped) == len(GROUP_KEYS):
        return "all peers"
    return "dropped " + " and ".join(dropped)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


def percentile_of(value: float, peers: Sequence[float] | np.ndarray) -> float | None:
    """Percent of peers scoring lower plus half of those tied (DESIGN.md).

    Missing peer values are ignored; ``None`` when ``value`` is missing or no peer has a value.

    >>> percentile_of(50, [10, 50, 50, 90])
    50.0
    """
    arr = np.asarray(peers, dtype=float)
    arr = arr[~np.isnan(arr)]
    if value is None or not np.isfinite(value) or arr.size == 0:
        return None
    lower = float((arr < value).sum())
    ties = float((arr == value).sum())
    return (lower + 0.5 * ties) / arr.size * 100.0


def _summary(value: float | None, peers: np.ndarray, k: int) -> dict[str, Any]:
    """Placement of one value among peer values; withheld when fewer than ``k`` have one."""
    return _summary_sorted(value, np.sort(peers[~np.isnan(peers)]), k)


def _summary_sorted(value: float | None, vals: np.ndarray, k: int) -> dict[str, Any]:
    """:func:`_summary` of peer values already sorted, without missing values.

    The quartiles are ``np.percentile``'s, the counts ``np.histogram``'s (bins closed on
    the left, the last on both sides) and the percentile :func:`percentile_of`'s, each
    read off the sorted values.
    """
    if vals.size < k:
        return {"peer_n": None, "withheld": True}
    q1, median, q3, p90 = linear_percentiles(vals[None, :], (25, 50, 75, 90))[:, 0]
    left = np.searchsorted(vals, _EDGES, side="left")
    counts = np.diff(left)
    counts[-1] = np.searchsorted(vals, _EDGES[-1], side="right") - left[-2]
    percentile = None
    if value is not None and np.isfinite(value):
        lower = np.searchsorted(vals, value, side="left")
        ties = np.searchsorted(vals, value, side="right") - lower
        percentile = (float(lower) + 0.5 * float(ties)) / vals.size * 100.0
    return {
        "value": clean_number(value),
        "percentile": clean_number(percentile, 2),
        "peer_n": int(vals.size),
        "median": clean_number(median),
        "q1": clean_number(q1),
        "q3": clean_number(q3),
        "top10": clean_number(p90),
        "distribution": {"bin_edges": list(BIN_EDGES), "counts": [int(c) for c in counts]},
    }


def placement(org_scores: Mapping[str, float | None], group: pd.DataFrame, k: int) -> dict[str, dict[str, Any]]:
    """Placement of the organization on each score column (overall, dimensions, facets)."""
    columns = [c for c in org_scores if c in group.columns]
    if not columns:
        return {}
    values = group[columns].to_numpy(dtype=float).T  # one row per column
    ordered = np.sort(values, axis=1)  # missing values last
    present = (~np.isnan(values)).sum(axis=1)
    return {c: _summary_sorted(org_scores[c], ordered[j, : present[j]], k) for j, c in enumerate(columns)}


def kpi_benchmark(
    org_kpis: Mapping[str, float | None],
    group: pd.DataFrame,
    *,
    k: int,
    directions: Mapping[str, str],
    references: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each KPI: direction, the organization's value, percentile and quartile among peers.

    ``percentile`` is the plain rule (share of peers lower); ``standing`` turns it so that
    higher is always better (for lower-is-better KPIs, 100 − percentile), and ``quartile``
    is 4 for the best quarter of peers down to 1 for the worst. A context KPI
    (:data:`~readiness.core.profile.CONTEXT`, handle time) has neither: it is placed among
    its peers but not ranked. Published reference figures are attached as they are,
    labelled with their source.
    """
    out = {}
    for kpi, direction in directions.items():
        value = org_kpis.get(kpi)
        value = None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)
        peers = group[kpi].to_numpy(dtype=float) if kpi in group.columns else np.array([], dtype=float)
        if value is None and not (~np.isnan(peers)).any():
            continue
        block: dict[str, Any] = {"direction": direction}
        block.update(_summary(value, peers, k))
        block.pop("distribution", None)
        if block.get("percentile") is not None and direction != CONTEXT:
            standing = block["percentile"] if direction == "higher" else 100.0 - block["percentile"]
            block["standing"] = clean_number(standing, 2)
            block["quartile"] = int(min(4, 1 + standing // 25))
        block["value"] = clean_number(value)
        block["published"] = [dict(r) for r in (references or {}).get(kpi, [])]
        out[kpi] = block
    return out


def benchmark(
    results: Mapping[str, Any],
    peers: pd.DataFrame,
    *,
    k: int = K,
    kpis: Mapping[str, float | None] | None = None,
    directions: Mapping[str, str] | None = None,
    references: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The ``benchmark`` block of results.json for one organization.

    Parameters
    ----------
    results : the organization's results.json document (scores and organization block).
    peers : :func:`peer_table` of the peer panel.
    k : minimum peer-group size (>= 3).
    kpis : the organization's KPI values.
    directions : KPI name -> "higher", "lower" or "context".
    references : KPI name -> list of published figures (``text``, ``source``).
    """
    org = results["organization"]
    group = choose_peer_group(org, peers, k=k, exclude=[org["id"]])
    if group is None:
        return {
            "peer_group": None,
            "peer_n": None,
            "fallback": "no benchmark",
            "k": k,
            "reason": f"fewer than {k} peers in the whole panel",
        }
    frame = peers.loc[list(group.org_ids)]
    org_scores: dict[str, float | None] = {"overall": results["overall"]["score"]}
    org_scores.update({d: results["dimensions"][d]["score"] for d in DIMENSIONS if d in results["dimensions"]})
    org_scores.update({f: block["score"] for f, block in results["facets"].items()})
    places = placement(org_scores, frame, group.k)
    return {
        "peer_group": {key: group.keys.get(key) for key in GROUP_KEYS},
        "peer_n": group.n,
        "fallback": group.fallback,
        "k": group.k,
        "overall": places.get("overall"),
        "dimensions": {d: places[d] for d in DIMENSIONS if d in places},
        "facets": {f: places[f] for f in results["facets"] if f in places},
        "kpis": kpi_benchmark(kpis or {}, frame, k=group.k, directions=directions or {}, references=references),
    }
