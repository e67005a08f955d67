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
    "build_comments",
    "build_results",
    "clean_number",
    "highlights",
    "role_plural",
    "suppress_block",
    "withheld_roles",
]

SCHEMA_VERSION = 1
_DIGITS = 4


def role_plural(role: str) -> str:
    """A role id as people read it in the plural: ``center_manager`` -> "center managers"."""
    words = role.replace("_", " ")
    return words if words.endswith("s") else words + "s"


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
    comments: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The results.json document for one organization (benchmark and roadmap empty).

    Later stages (benchmark, roadmap) add their blocks to the returned dict.
    ``comments`` are the free-text comments and open answers (``org_id, respondent_id,
    role, topic, text``; the topic a facet, item or open question id).
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

    dim_titles: dict[str, str] = {d.id: d.title for d in instrument.dimensions}
    warn = list(warnings)
    n = int(overall["n_respondents"])
    if n < 5:
        warn.append(f"only {n} respondent(s): intervals are wide and scores may not represent the center")
    missing_roles = [r for r in instrument.layout.role_ids if r not in counts.index]
    if missing_roles:
        warn.append(f"no respondents among the {_and(role_plural(r) for r in missing_roles)}")
    missing_facets = [f for f in facets.index if clean_number(facets.at[f, "score"]) is None]
    if missing_facets:
        titles = _and(instrument.facets[f].title for f in missing_facets)
        warn.append(f"no score for {titles}: too few answers")
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
            f"no score for {_and(dim_titles[d] for d in missing_dims)}: too few answers, so the overall score "
            "is the weighted mean of the other dimensions only"
        )
    if overall_withheld:
        small = [r for r in overall_withheld if answering.get(r, 0) < role_min]
        partner = [r for r in overall_withheld if r not in small]
        warn.append(
            f"scores by role withheld for the {_and(role_plural(r) for r in small)}: fewer than {role_min} "
            "respondents with answers, so no one's answers can be read off the report"
            + (
                f"; the {role_plural(partner[0])}' scores are withheld too, or the hidden scores could be worked "
                "out from the overall score and the roles shown"
                if partner
                else ""
            )
        )
    more = [
        f"{dim_titles.get(ident) or instrument.facets[ident].title} ({_and(role_plural(r) for r in w)})"
        for ident, w in withheld_more.items()
    ]
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
        "assessment": {"date": None, "prepared_by": None},
        "instrument": {
            "id": instrument.id,
            "version": instrument.version,
            "title": instrument.title,
            "scale_points": instrument.scale_points,
            "roles": list(instrument.layout.role_ids),
        },
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
                "title": dim_titles.get(d.dimension) or d.dimension.capitalize(),
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
            "scale_points": instrument.scale_points,
            "role_min": role_min,
        },
        "benchmark": None,
        "roadmap": [],
        "comments": build_comments(comments, org_id, instrument, role_min),
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


def build_comments(
    comments: pd.DataFrame | None, org_id: str, instrument: Instrument, role_min: int = ROLE_MIN
) -> dict[str, dict[str, Any]]:
    """The ``comments`` block: what respondents wrote, per facet, shown only when enough wrote.

    A comment given on an item counts for the item's facet; an answer to one of the
    instrument's open questions is its own topic (``dimension`` ``null``, ``title`` the
    question). For each facet or question: ``title``, ``dimension``, ``respondents`` (how
    many people wrote) and, only when at least ``role_min`` people wrote, their ``texts``;
    otherwise ``withheld`` is true and ``texts`` is empty, so that no one's words can be
    told apart, as with the scores of a small role. Texts carry no respondent id or role
    and are sorted alphabetically, so their order says nothing about who wrote them.
    """
    if comments is None or not len(comments):
        return {}
    mine = comments[comments["org_id"] == org_id]
    item_facet = {i.id: f.id for f in instrument.facets.values() for i in f.items}
    grouped: dict[str, dict[str, list[str]]] = {}
    for row in mine.itertuples(index=False):
        topic = str(row.topic)
        key = topic if topic in instrument.facets else item_facet.get(topic, topic)
        grouped.setdefault(key, {}).setdefault(str(row.respondent_id), []).append(str(row.text))
    order = {f: n for n, f in enumerate(instrument.layout.facet_ids)}
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(grouped, key=lambda k: (order.get(k, len(order)), k)):
        people = grouped[key]
        facet = instrument.facets.get(key)
        item = instrument.items.get(key)
        question = next((q for q in instrument.open_questions if q.id == key), None)
        shown = len(people) >= role_min
        texts = sorted((t for ts in people.values() for t in ts), key=lambda t: (t.casefold(), t)) if shown else []
        out[key] = {
            "title": facet.title if facet else (item.text if item else (question.text if question else key)),
            "dimension": key.split(".", 1)[0] if facet else None,
            "respondents": len(people),
            "withheld": not shown,
            "texts": texts,
        }
    return out


def highlights(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The claims a report states in words and draws in figures, computed once.

    Read from the finished document, so the sentence and the figure beside it quote the
    same numbers: the strongest and weakest dimension, the widest gap between roles (on a
    dimension, among the role scores shown), and the facet furthest below its target.
    """
    dims = doc.get("dimensions") or {}
    order = [d for d in DIMENSIONS if d in dims] + [d for d in dims if d not in DIMENSIONS]
    scored = [(dims[d]["score"], n, d) for n, d in enumerate(order) if dims[d].get("score") is not None]

    def dim_entry(entry: tuple[float, int, str] | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        score, _, d = entry
        return {"id": d, "title": dims[d].get("title") or d.capitalize(), "score": score}

    # ties go to the earlier dimension (people, process, technology, knowledge)
    strongest = max(scored, key=lambda e: (e[0], -e[1])) if scored else None
    weakest = min(scored, key=lambda e: (e[0], e[1])) if scored else None
    role_order = list((doc.get("instrument") or {}).get("roles") or [])
    gap = None
    for d in order:
        by_role = {r: v for r, v in (dims[d].get("by_role") or {}).items() if v is not None}
        if len(by_role) < 2:
            continue
        roles = sorted(by_role, key=lambda r: (role_order.index(r) if r in role_order else len(role_order), r))
        high = max(roles, key=lambda r: by_role[r])
        low = min(roles, key=lambda r: by_role[r])
        points = by_role[high] - by_role[low]
        if points > 0 and (gap is None or points > gap["points"]):
            gap = {
                "level": "dimension",
                "id": d,
                "title": dims[d].get("title") or d.capitalize(),
                "high_role": high,
                "high": by_role[high],
                "low_role": low,
                "low": by_role[low],
                "points": clean_number(points),
            }
    largest = None
    plan = doc.get("plan") or {}
    facets = doc.get("facets") or {}
    for f, g in (plan.get("gaps") or {}).items():
        if g is not None and g > 0 and (largest is None or g > largest["gap"]):
            largest = {
                "facet": f,
                "title": (facets.get(f) or {}).get("title") or f,
                "score": (facets.get(f) or {}).get("score"),
                "target": (plan.get("targets") or {}).get(f),
                "gap": g,
            }
    return {
        "strongest_dimension": dim_entry(strongest),
        "weakest_dimension": dim_entry(weakest),
        "role_gap": gap,
        "largest_gap": largest,
    }


def _and(words: Any) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _level(score: Any, instrument: Instrument) -> str | None:
    from .scoring import readiness_level

    value = clean_number(score)
    return readiness_level(value, instrument.levels) if value is not None else None
