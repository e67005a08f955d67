"""A plain numpy implementation of the scoring rules, to time the engine against.

Written from ``docs/scoring.md`` alone, without the engine's code: each rule is the
obvious vectorized numpy over all respondents at once (``where``, matrix products with
the item-to-facet incidence, ``reduceat`` over the canonical organization/role order).
It computes every number :func:`readiness.core.scoring.score` gives without intervals —
respondent facet scores, organization facet, dimension and overall scores, levels,
barriers, scores by role, facet counts, r_wg(J), Cronbach's alpha, answer and "don't know" counts — as
plain arrays, no data frames. ``tests/test_scoring.py`` checks it equals the engine.

    >>> ref = numpy_scores(responses)                                    # doctest: +SKIP
    >>> ref["overall"]                     # one score per organization   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

DIMENSION_ORDER = ("people", "process", "technology", "knowledge")


def _wmean(values: np.ndarray, weights: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Weighted mean of the non-missing columns of ``values`` within each group of columns."""
    ok = ~np.isnan(values)
    num = (np.where(ok, values, 0.0) * weights) @ incidence
    den = (ok * weights) @ incidence
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def numpy_scores(responses: Any, barrier_line: float = 50.0, *, agreement: bool = True) -> dict[str, Any]:
    """Every score of ``responses`` (a :class:`readiness.core.responses.Responses`), without intervals.

    With ``agreement=False`` only rules 1-9 (the scores, levels and barriers, also by
    role), not r_wg(J), alpha and the answer counts.
    """
    lay = responses.instrument.layout
    k = lay.scale_points
    v = responses.values.astype(np.float64)  # stored in single precision (whole numbers, exact); worked in double
    role = responses.role_codes
    org = responses.org_codes
    n_roles = len(lay.role_ids)
    item_facet = lay.item_by_facet  # (items, facets) 0/1
    facet_dim = lay.facet_by_dimension  # (facets, dims) 0/1

    # rules 1-3: reverse, normalize, respondent facet score with the half rule
    raw = np.where(lay.reverse, k + 1 - v, v)
    norm = (raw - 1) / (k - 1) * 100
    asked = lay.asked[role]
    counted = asked & ~responses.not_applicable & ~responses.dont_know  # don't know counts like N/A
    answered = counted & ~np.isnan(v)
    n_counted = counted.astype(float) @ item_facet
    n_answered = answered.astype(float) @ item_facet
    total = np.where(answered, norm, 0.0) @ item_facet
    with np.errstate(invalid="ignore", divide="ignore"):
        resp_facet = np.where((n_answered > 0) & (2 * n_answered >= n_counted), total / n_answered, np.nan)

    # rule 4: role means (respondents are sorted by organization, then role), weighted over roles
    key = org * n_roles + role
    g_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    g_org, g_role = org[g_start], role[g_start]
    g_size = np.diff(np.r_[g_start, len(key)])
    has = ~np.isnan(resp_facet)
    role_n = np.add.reduceat(has.astype(np.int64), g_start, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        role_facet = np.add.reduceat(np.where(has, resp_facet, 0.0), g_start, axis=0) / role_n
    o_start = np.flatnonzero(np.r_[True, g_org[1:] != g_org[:-1]])
    w = lay.role_weights[g_role][:, None] * ~np.isnan(role_facet)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.add.reduceat(np.nan_to_num(role_facet) * w, o_start, axis=0)
        den = np.add.reduceat(w, o_start, axis=0)
        facet = np.where(den > 0, num / den, np.nan)

    # rules 5-6: dimensions and overall, for organizations and for each role
    one = np.ones((len(lay.dimension_ids), 1))
    dim = _wmean(facet, lay.facet_weights, facet_dim)
    overall = _wmean(dim, lay.dimension_weights, one)[:, 0]
    role_dim = _wmean(role_facet, lay.facet_weights, facet_dim)
    role_overall = _wmean(role_dim, lay.dimension_weights, one)[:, 0]
    # what the role minimum counts: respondents of the role with a score in the block (a
    # facet score; a score on some facet of the dimension; on some facet at all)
    role_dim_n = np.add.reduceat((has.astype(np.int64) @ facet_dim.astype(np.int64) > 0).astype(np.int64), g_start, 0)
    role_overall_n = np.add.reduceat(has.any(axis=1).astype(np.int64), g_start)

    # rule 8: the level whose lower bound the score reaches last (the instrument's scale)
    names = np.array([lv.name for lv in responses.instrument.levels], dtype=object)
    lowers = np.array([lv.lower for lv in responses.instrument.levels])
    level = np.where(np.isnan(overall), None, names[np.searchsorted(lowers, overall, side="right") - 1])
    # rule 9 without intervals (each facet is the point of its score): among the facets
    # below the line, those at the lowest score; of them the first by dimension
    # (people -> knowledge), then in instrument order
    below = np.nan_to_num(facet, nan=np.inf) < barrier_line
    lowest = np.where(below, facet, np.inf).min(axis=1, keepdims=True)
    tied = below & (facet == lowest)
    rank = np.array([DIMENSION_ORDER.index(lay.dimension_ids[d]) for d in lay.facet_dimension])
    key = np.where(tied, rank * len(rank) + np.arange(len(rank)), np.iinfo(np.int64).max)
    ids = np.array(lay.facet_ids, dtype=object)
    barrier = np.where(below.any(axis=1), ids[key.argmin(axis=1)], None)

    out = {
        "respondent_facets": resp_facet,
        "facet": facet,
        "facet_n": np.add.reduceat(role_n, o_start, axis=0),
        "dimension": dim,
        "overall": overall,
        "level": level,
        "barrier": barrier,
        "n_respondents": np.add.reduceat(g_size, o_start),
        "group_org": g_org,
        "group_role": g_role,
        "group_size": g_size,
        "role_facet": role_facet,
        "role_n": role_n,
        "role_dimension": role_dim,
        "role_overall": role_overall,
        "role_dimension_n": role_dim_n,
        "role_overall_n": role_overall_n,
    }
    if not agreement:
        return out

    # rule 10: r_wg(J) from the reverse-coded raw answers of each organization
    r_start = g_start[o_start]
    x = np.where(answered, raw, 0.0)
    c = np.add.reduceat(answered.astype(float), r_start, axis=0)
    s = np.add.reduceat(x, r_start, axis=0)
    q = np.add.reduceat(x * x, r_start, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(c >= 2, (q - s * s / c) / (c - 1), 0.0)
    n_items = (c >= 2).astype(float) @ item_facet
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.maximum(var, 0.0) @ item_facet / n_items / ((k * k - 1) / 12)
        rwg = n_items * (1 - ratio) / (n_items * (1 - ratio) + ratio)
    rwg = np.where(n_items > 0, np.where(ratio >= 1, 0.0, rwg), np.nan)

    # rule 11: Cronbach's alpha, listwise, per facet then per dimension
    scales = [item_facet[:, f] > 0 for f in range(item_facet.shape[1])]
    scales += [(item_facet @ facet_dim)[:, d] > 0 for d in range(facet_dim.shape[1])]
    alpha = np.full((len(o_start), len(scales)), np.nan)
    for j, cols in enumerate(scales):
        m = int(cols.sum())
        if m < 2:
            continue
        full = answered[:, cols].all(axis=1)
        xs = np.where(full[:, None], raw[:, cols], 0.0)
        t = xs.sum(axis=1)
        nf = np.add.reduceat(full.astype(float), r_start)
        with np.errstate(invalid="ignore", divide="ignore"):
            item_var = (
                (np.add.reduceat(xs * xs, r_start, axis=0) - np.add.reduceat(xs, r_start, axis=0) ** 2 / nf[:, None])
                / (nf[:, None] - 1)
            ).sum(axis=1)
            t_var = (np.add.reduceat(t * t, r_start) - np.add.reduceat(t, r_start) ** 2 / nf) / (nf - 1)
            a = m / (m - 1) * (1 - item_var / t_var)
        alpha[:, j] = np.where((nf >= 5) & (t_var > 1e-12), a, np.nan)
    n_f = item_facet.shape[1]

    # answer counts per organization and role, over the items asked of the role
    answered_n = np.add.reduceat(answered.sum(axis=1), g_start)
    na_n = np.add.reduceat((asked & responses.not_applicable).sum(axis=1), g_start)
    dk = asked & responses.dont_know
    dk_n = np.add.reduceat(dk.sum(axis=1), g_start)
    asked_n = np.add.reduceat(asked.sum(axis=1), g_start)
    # per organization and facet: questions asked, and answered "don't know"
    facet_asked = np.add.reduceat(asked.astype(float) @ item_facet, r_start, axis=0)
    facet_dont_know = np.add.reduceat(dk.astype(float) @ item_facet, r_start, axis=0)

    out.update(
        rwg=rwg,
        alpha_facet=alpha[:, :n_f],
        alpha_dimension=alpha[:, n_f:],
        answered=answered_n,
        not_applicable=na_n,
        dont_know=dk_n,
        unanswered=asked_n - answered_n - na_n - dk_n,
        n_asked=facet_asked,
        n_dont_know=facet_dont_know,
    )
    return out
