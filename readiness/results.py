"""results.json: the per-organization record that reports, exports and users rely on.

Pure: builds plain dicts from :class:`~readiness.scoring.Scores` (and, when given, the
benchmark and roadmap). Writing them is :mod:`readiness.exporters`' job. The schema is a
public contract (``docs/results-schema.md``): fields may be added, none removed or
renamed without bumping :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd

from .instrument import Instrument
from .scoring import Scores

__all__ = ["SCHEMA_VERSION", "build_results", "clean_number"]

SCHEMA_VERSION = 1
_DIGITS = 4


def clean_number(value: Any, digits: int = _DIGITS) -> float | int | None:
    """A JSON-safe number: ``None`` for NaN/inf/None, rounded floats, plain ints."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value, "dtype").kind in "iu"):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, digits)


def _ci(low: Any, high: Any) -> list[float] | None:
    lo, hi = clean_number(low), clean_number(high)
    return None if lo is None or hi is None else [lo, hi]


def build_results(
    scores: Scores,
    org_id: str,
    instrument: Instrument,
    *,
    profile: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The results.json document for one organization (benchmark and roadmap empty).

    Later stages (benchmark, roadmap) add their blocks to the returned dict.
    """
    profile = dict(profile or {})
    overall = scores.overall.loc[org_id]
    dims = scores.dimensions[scores.dimensions["org_id"] == org_id].set_index("dimension")
    facets = scores.facets[scores.facets["org_id"] == org_id].set_index("facet")
    roles = scores.by_role[scores.by_role["org_id"] == org_id]
    counts = scores.respondents[scores.respondents["org_id"] == org_id].set_index("role")

    def by_role(level: str, ident: str) -> dict[str, float | None]:
        sel = roles[(roles["level"] == level) & (roles["id"] == ident)]
        return {r: clean_number(s) for r, s in zip(sel["role"], sel["score"])}

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
            "answers": {
                "answered": int(counts["answered"].sum()),
                "not_applicable": int(counts["not_applicable"].sum()),
                "unanswered": int(counts["unanswered"].sum()),
            },
        },
        "overall": {
            "score": clean_number(overall["score"]),
            "ci": _ci(overall["ci_low"], overall["ci_high"]),
            "level": _text(overall["level"]),
            "barrier": _text(overall["barrier"]),
            "by_role": by_role("overall", "overall"),
        },
        "dimensions": {
            d: {
                "score": clean_number(dims.at[d, "score"]),
                "ci": _ci(dims.at[d, "ci_low"], dims.at[d, "ci_high"]),
                "percentile": None,
                "level": _level(dims.at[d, "score"]),
                "alpha": clean_number(dims.at[d, "alpha"]),
                "by_role": by_role("dimension", d),
            }
            for d in dims.index
        },
        "facets": {
            f: {
                "dimension": facets.at[f, "dimension"],
                "title": instrument.facets[f].title,
                "score": clean_number(facets.at[f, "score"]),
                "ci": _ci(facets.at[f, "ci_low"], facets.at[f, "ci_high"]),
                "n": int(facets.at[f, "n"]),
                "by_role": by_role("facet", f),
                "rwg": clean_number(facets.at[f, "rwg"]),
                "alpha": clean_number(facets.at[f, "alpha"]),
                "percentile": None,
            }
            for f in facets.index
        },
        "method": {
            "bootstrap": {"resamples": scores.n_boot, "seed": scores.seed, "level": scores.ci_level,
                          "scheme": "percentile, respondents resampled within role"},
        },
        "benchmark": None,
        "roadmap": [],
        "warnings": warn,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _level(score: Any) -> str | None:
    from .scoring import readiness_level

    value = clean_number(score)
    return readiness_level(value) if value is not None else None
