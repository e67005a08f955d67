"""results.json: the per-organization record that reports, exports and users rely on.

Pure: builds plain dicts from :class:`~readiness.core.scoring.Scores` (and, when given, the
benchmark and roadmap). Writing them is :mod:`readiness.io.exporters`' job. The schema is a
public contract (``docs/results-schema.md``): fields may be added, none removed or
renamed without bumping :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .defaults import AGREEMENT_SPLIT, DONT_KNOW_LINE, ROLE_MIN
from .instrument import DIMENSIONS, Instrument
from .levels import levels_json
from .scoring import Scores, choose_barrier
from .willingness import WILLINGNESS_RULE

__all__ = [
    "SCHEMA_VERSION",
    "build_results",
    "clean_number",
    "suppress_block",
    "withheld_roles",
]

SCHEMA_VERSION = 1
_DIGITS = 4


def clean_number(value: Any, digits: int = _DIGITS) -> float | int | None:
    """A JSON-safe number: ``None`` for NaN/inf/None, rounded floats, plain ints."""
    if value is None:
        return None
    if type(value) is float or type(value) is np.float64:  # the common case, quickly
        return round(float(value), digits) if math.isfinite(value) else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, digits)


def _ci(low: Any, high: Any) -> list[float] | None:
    lo, hi = clean_number(low), clean_number(high)
    return None if lo is None or hi is None else [lo, hi]


def withheld_roles(counts: Mapping[str, int], role_min: int, order: Sequence[str] = ()) -> list[str]:
    """Roles whose scores one block of an organization's report (overall, a dimension, a facet) must not show.

    ``counts`` are the respondents of each role *with a score in that block*: a role with
    fewer than ``role_min`` of them is withheld, so that one manager's answers cannot be
    read off the report (listing three managers of whom two answered nothing protects
    no one). When exactly one role is withheld and others
    have respondents, the smallest of those others is withheld too (complementary
    suppression): the organization score is a weighted mean of the role scores, so with a
    single role hidden it could be recovered from the overall and the roles shown. Ties
    go to the role listed first in ``order`` (the instrument's role order).

    >>> withheld_roles({"agent": 12, "supervisor": 4, "manager": 1}, 3)
    ['supervisor', 'manager']
    >>> withheld_roles({"agent": 12, "supervisor": 4, "manager": 3}, 3)
    []
    """
    rank = {r: i for i, r in enumerate(order)}
    present = sorted((r for r, n in counts.items() if n > 0), key=lambda r: (rank.get(r, len(rank)), r))
    small = [r for r in present if counts[r] < role_min]
    if len(small) == 1:
        others = [r for r in present if r not in small]
        if others:
            small.append(min(others, key=lambda r: counts[r]))  # min keeps the first of equal counts
    return [r for r in present if r in small]


def suppress_block(by_role: Mapping[str, Any], withheld: Sequence[str]) -> dict[str, Any]:
    """One score block's role breakdown with the withheld roles blanked (``None``).

    When only one of the withheld roles has a score in this block (the others gave none
    here) while shown roles do, that score could again be recovered from the block's
    score, so the whole breakdown of the block is blanked.
    """
    out = {r: (None if r in withheld else v) for r, v in by_role.items()}
    hidden_with_score = [r for r in withheld if by_role.get(r) is not None]
    shown_with_score = [r for r, v in out.items() if v is not None]
    if len(hidden_with_score) == 1 and shown_with_score:
        out = {r: None for r in by_role}
    return out


def build_results(
    scores: Scores,
    org_id: str,
    instrument: Instrument,
    *,
    profile: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    role_min: int = ROLE_MIN,
) -> dict[str, Any]:
    """The results.json document for one organization (benchmark and roadmap empty).

    Later stages (benchmark, roadmap) add their blocks to the returned dict.
    """
    profile = dict(profile or {})
    overall = scores.overall.loc[org_id]
    rows = scores.rows_of(org_id)
    dims = scores.dimensions.iloc[rows["dimensions"]].set_index("dimension")
    facets = scores.facets.iloc[rows["facets"]].set_index("facet")
    roles = scores.by_role.iloc[rows["by_role"]]
    counts = scores.respondents.iloc[rows["respondents"]].set_index("role")

    order = instrument.layout.role_ids
    # scores and counts of each block's roles, gathered in one pass over the organization's rows
    role_scores: dict[tuple[str, str], dict[str, float | None]] = {}
    role_counts: dict[tuple[str, str], dict[str, int]] = {}
    for level, ident, role, value, count in zip(roles["level"], roles["id"], roles["role"], roles["score"], roles["n"]):
        role_scores.setdefault((level, ident), {})[role] = clean_number(value)
        role_counts.setdefault((level, ident), {})[role] = int(count)
    withheld_in: dict[tuple[str, str], list[str]] = {}

    def by_role(level: str, ident: str) -> dict[str, float | None]:
        # The role minimum counts the respondents with a score in this block, block by block.
        withheld = withheld_roles(role_counts.get((level, ident), {}), role_min, order)
        if withheld:
            withheld_in[(level, ident)] = withheld
        return suppress_block(role_scores.get((level, ident), {}), withheld)

    overall_roles = by_role("overall", "overall")
    dimension_roles = {d: by_role("dimension", d) for d in dims.index}
    facet_roles = {f: by_role("facet", f) for f in facets.index}
    answering = dict(role_counts.get(("overall", "overall"), {}))
    overall_withheld = withheld_in.get(("overall", "overall"), [])
    # blocks where more roles are withheld than overall (few of a role answered there)
    withheld_more = {
        ident: w for (level, ident), w in withheld_in.items() if level != "overall" and set(w) - set(overall_withheld)
    }

    warn = list(warnings)
    n = int(overall["n_respondents"])
    if n < 5:
        warn.append(f"only {n} respondent(s): intervals are wide and scores may not represent the center")
    missing_roles = [r for r in instrument.layout.role_ids if r not in counts.index]
    if missing_roles:
        warn.append(f"no respondents in role(s): {', '.join(missing_roles)}")
    missing_facets = [f for f in facets.index if clean_number(facets.at[f, "score"]) is None]
    if missing_facets:
        warn.append(f"no score for facet(s) {', '.join(missing_facets)}: too few answers")
    dont_know = {f: _share(facets.at[f, "n_dont_know"], facets.at[f, "n_asked"]) for f in facets.index}
    unseen = [f for f, share in dont_know.items() if share is not None and share > DONT_KNOW_LINE]
    for f in unseen:
        warn.append(
            f'{instrument.facets[f].title}: {dont_know[f]:.0%} of the answers are "don\'t know"; '
            "many of the people asked cannot see this practice"
        )
    missing_dims = [d for d in dims.index if clean_number(dims.at[d, "score"]) is None]
    if missing_dims and clean_number(overall["score"]) is not None:
        warn.append(
            f"no score for dimension(s) {', '.join(missing_dims)}: too few answers, so the overall score is "
            "the weighted mean of the other dimensions only"
        )
    if overall_withheld:
        small = [r for r in overall_withheld if answering.get(r, 0) < role_min]
        partner = [r for r in overall_withheld if r not in small]
        warn.append(
            f"scores by role withheld for {', '.join(small)}: fewer than {role_min} respondents with answers, so "
            "no one's answers can be read off the report"
            + (
                f"; {partner[0]} is withheld too, or the hidden scores could be worked out from the "
                "overall score and the roles shown"
                if partner
                else ""
            )
        )
    more = [f"{ident} ({', '.join(w)})" for ident, w in withheld_more.items()]
    if more:
        warn.append(
            f"scores by role also withheld where fewer than {role_min} respondents of a role have a score: "
            + "; ".join(more[:8])
            + (f"; and {len(more) - 8} more" if len(more) > 8 else "")
        )

    return {
        "schema_version": SCHEMA_VERSION,
        "organization": {
            "id": org_id,
            "name": profile.get("org_name") or org_id,
            "industry": profile.get("industry"),
            "size_band": profile.get("size_band"),
            "stage": profile.get("stage"),
        },
        "instrument": {"id": instrument.id, "version": instrument.version},
        "respondents": {
            "n": n,
            "by_role": {r: int(counts.at[r, "n"]) for r in counts.index},
            "answering_by_role": answering,
            "withheld_roles": overall_withheld,
            "withheld_in": withheld_more,
            "role_min": role_min,
            "answers": {
                "answered": int(counts["answered"].sum()),
                "not_applicable": int(counts["not_applicable"].sum()),
                "dont_know": int(counts["dont_know"].sum()),
                "unanswered": int(counts["unanswered"].sum()),
            },
        },
        "overall": {
            "score": clean_number(overall["score"]),
            "ci": _ci(overall["ci_low"], overall["ci_high"]),
            "level": _text(overall["level"]),
            "barrier": _text(overall["barrier"]),
            "by_role": overall_roles,
        },
        "dimensions": {
            d.dimension: {
                "score": clean_number(d.score),
                "ci": _ci(d.ci_low, d.ci_high),
                "percentile": None,
                "level": _level(d.score, instrument),
                "alpha": clean_number(d.alpha),
                "by_role": dimension_roles[d.dimension],
            }
            for d in dims.reset_index().itertuples(index=False)
        },
        "facets": {
            f.facet: {
                "dimension": f.dimension,
                "title": instrument.facets[f.facet].title,
                "score": clean_number(f.score),
                "ci": _ci(f.ci_low, f.ci_high),
                "n": int(f.n),
                "by_role": facet_roles[f.facet],
                "rwg": clean_number(f.rwg),
                "alpha": clean_number(f.alpha),
                "percentile": None,
                "dont_know": clean_number(dont_know[f.facet]),
            }
            for f in facets.reset_index().itertuples(index=False)
        },
        "barrier": _barrier_block(facets, instrument, scores.barrier_line),
        "dont_know_facets": unseen,
        "unwilling_or_unable": _willingness(scores, org_id, instrument, role_min),
        "method": {
            "bootstrap": {
                "resamples": scores.n_boot,
                "seed": scores.seed,
                "level": scores.ci_level,
                "scheme": "percentile, respondents resampled within role",
            },
            "levels": levels_json(instrument.levels),
            "barrier_line": scores.barrier_line,
            "agreement_split": AGREEMENT_SPLIT,
            "dont_know_line": clean_number(DONT_KNOW_LINE),
        },
        "benchmark": None,
        "roadmap": [],
        "warnings": warn,
    }


def _barrier_block(facets: pd.DataFrame, instrument: Instrument, line: float) -> dict[str, Any] | None:
    """Why the barrier is the barrier: the numbers the report's headline states.

    ``facet``, ``title``, ``score``, ``ci``, ``rwg``; ``split`` when agreement on it is
    below :data:`~readiness.core.defaults.AGREEMENT_SPLIT`; ``weakest`` and ``tied`` (see
    :class:`~readiness.core.scoring.BarrierChoice`); ``next``, the lowest-scoring facet
    outside the tie, and ``gap_to_next``, how far the barrier lies below it. ``None``
    when no facet is below the line.
    """
    ids = list(facets.index)
    # the unrounded numbers, exactly as scoring chose the barrier from them
    choice = choose_barrier(
        ids,
        [float(facets.at[f, "score"]) for f in ids],
        [float(facets.at[f, "ci_low"]) for f in ids],
        [float(facets.at[f, "ci_high"]) for f in ids],
        line=line,
    )
    if choice is None:
        return None

    def brief(f: str) -> dict[str, Any]:
        return {
            "facet": f,
            "title": instrument.facets[f].title,
            "score": clean_number(facets.at[f, "score"]),
            "ci": _ci(facets.at[f, "ci_low"], facets.at[f, "ci_high"]),
        }

    block = brief(choice.facet)
    rwg = clean_number(facets.at[choice.facet, "rwg"])
    others = [f for f in ids if f not in choice.tied and clean_number(facets.at[f, "score"]) is not None]
    nearest = min(others, key=lambda f: float(facets.at[f, "score"])) if others else None
    block.update(
        {
            "dimension": choice.facet.split(".", 1)[0],
            "rwg": rwg,
            "split": None if rwg is None else bool(rwg < AGREEMENT_SPLIT),
            "line": line,
            "weakest": brief(choice.weakest),
            "tied": [brief(f) for f in choice.tied],
            "order": list(DIMENSIONS),
            "next": brief(nearest) if nearest is not None else None,
            "gap_to_next": (
                clean_number(float(facets.at[nearest, "score"]) - float(facets.at[choice.facet, "score"]))
                if nearest is not None
                else None
            ),
        }
    )
    return block


def _share(part: Any, whole: Any) -> float | None:
    whole = int(whole)
    return None if whole == 0 else int(part) / whole


def _willingness(scores: Scores, org_id: str, instrument: Instrument, role_min: int) -> dict[str, Any] | None:
    """The ``unwilling_or_unable`` block, or ``None`` when the instrument does not ask it.

    The share is withheld (``null``) when fewer than ``role_min`` respondents are
    classified: over one or two agents it would show what each of them answered.
    """
    block = instrument.unwilling_or_unable
    if block is None or org_id not in scores.willingness.index:
        return None
    row = scores.willingness.loc[org_id]
    classified = int(row["classified"])
    withheld = classified < role_min
    return {
        "role": block.role,
        "items": {"willing": block.willing, "able": block.able},
        "respondents": int(row["respondents"]),
        "classified": classified,
        "count": None if withheld else int(row["unwilling_or_unable"]),
        "unwilling": None if withheld else int(row["unwilling"]),
        "unable": None if withheld else int(row["unable"]),
        "share": None if withheld else clean_number(_share(row["unwilling_or_unable"], classified)),
        "withheld": withheld,
        "rule": WILLINGNESS_RULE,
        "published": None,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _level(score: Any, instrument: Instrument) -> str | None:
    from .scoring import readiness_level

    value = clean_number(score)
    return readiness_level(value, instrument.levels) if value is not None else None
