"""The scoring engine: facet, dimension and overall scores with intervals and agreement.

Pure functions over :class:`~readiness.core.responses.Responses`; no I/O. The rules are the
ones in ``docs/scoring.md`` (and DESIGN.md), implemented as matrix products over all
respondents of all organizations at once, so a panel of thousands of organizations is
scored in one pass.

Example
-------
>>> scores = score(responses, n_boot=1000, seed=0)              # doctest: +SKIP
>>> scores.overall.loc["ORG-1", ["score", "ci_low", "ci_high", "level"]]   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .defaults import BARRIER_LINE, CI_LEVEL, N_BOOT
from .instrument import DIMENSIONS, Layout
from .levels import Level, level_of
from .responses import Responses
from .willingness import willingness_counts

__all__ = [
    "BarrierChoice",
    "Scores",
    "aggregate_scores",
    "bootstrap_draws",
    "choose_barrier",
    "normalize",
    "org_seed",
    "percentile_interval",
    "readiness_level",
    "respondent_facet_scores",
    "score",
    "supported_level",
]

#: Cronbach's alpha needs at least this many respondents who answered every item.
MIN_ALPHA_RESPONDENTS = 5


def readiness_level(score: float | None, levels: Sequence[Level]) -> str | None:
    """The name of the level a 0-100 score is at (``None`` for a missing score).

    The levels are the instrument's (:attr:`Instrument.levels`, from ``templates/levels.yaml``).
    """
    level = level_of(score, levels)
    return level.name if level is not None else None


def supported_level(level: str | None, facets_scored: int, facets_counted: int) -> str | None:
    """An overall score's level word, kept only when the half rule gives it one.

    The half rule one level up: a score names a level only when at least half of the
    facets that count (asked of the respondents' roles, not all marked not applicable)
    have a score. Two answers out of sixteen give a number, not a verdict.

    >>> supported_level("ready", 1, 16), supported_level("ready", 8, 16)
    (None, 'ready')
    """
    if level is None or facets_scored <= 0 or 2 * facets_scored < facets_counted:
        return None
    return level


def org_seed(seed: int, org_id: str) -> np.random.SeedSequence:
    """A seed stream for one organization: independent of which others are scored."""
    digest = hashlib.blake2b(org_id.encode("utf-8"), digest_size=8).digest()
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int.from_bytes(digest, "little")])


def normalize(values: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Reverse-code and rescale raw answers.

    Returns ``(reversed_raw, normalized)``: ``x' = (k + 1) - x`` on reverse items, then
    ``(x' - 1) / (k - 1) * 100``. NaN stays NaN.
    """
    k = layout.scale_points
    values = np.asarray(values, dtype=np.float64)  # answers are stored in single precision; scores in double
    raw = np.where(layout.reverse, (k + 1) - values, values)
    return raw, (raw - 1.0) / (k - 1) * 100.0


def respondent_facet_scores(responses: Responses) -> np.ndarray:
    """Each respondent's facet scores, (respondents, facets), NaN where the rules give none.

    The items that count for a respondent are those asked of their role less those they
    marked not applicable or answered "don't know"; the facet score is the mean of the
    answered ones, missing when none count or fewer than half of them are answered.
    """
    return _facet_scores(_Prepared.of(responses))


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Arrays shared by the scoring steps, computed once per call."""

    layout: Layout
    raw: np.ndarray  # reverse-coded answers 1..k, NaN where none
    norm: np.ndarray  # 0..100
    asked: np.ndarray  # item asked of the respondent's role
    counted: np.ndarray  # asked, not marked N/A and not answered "don't know"
    answered: np.ndarray  # counted and answered

    @classmethod
    def of(cls, responses: Responses) -> _Prepared:
        layout = responses.instrument.layout
        raw, norm = normalize(responses.values, layout)
        asked = layout.asked[responses.role_codes]
        # "Don't know" is out of the score and out of the half rule, exactly like N/A.
        counted = asked & ~responses.not_applicable & ~responses.dont_know
        return cls(layout, raw, norm, asked, counted, counted & ~np.isnan(raw))


def _facet_scores(p: _Prepared) -> np.ndarray:
    incidence = p.layout.item_by_facet
    n_counted = p.counted.astype(float) @ incidence
    n_answered = p.answered.astype(float) @ incidence
    sums = np.where(p.answered, p.norm, 0.0) @ incidence
    ok = (n_answered > 0) & (2 * n_answered >= n_counted)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, sums / np.where(ok, n_answered, 1.0), np.nan)


@dataclass(frozen=True, eq=False)
class Scores:
    """Everything :func:`score` measured, as tidy frames with fixed columns.

    Attributes
    ----------
    overall : DataFrame indexed by org_id
        ``score, ci_low, ci_high, level, n_respondents, barrier``
    dimensions : DataFrame
        ``org_id, dimension, score, ci_low, ci_high, alpha``
    facets : DataFrame
        ``org_id, dimension, facet, score, ci_low, ci_high, n, rwg, alpha, n_asked,
        n_dont_know``: ``n_asked`` counts the questions of the facet put to the
        organization's respondents (one per respondent and item asked of their role),
        ``n_dont_know`` those answered "don't know"
    by_role : DataFrame
        ``org_id, level, id, role, score, n, listed`` where level is facet, dimension or
        overall; ``n`` counts the role's respondents with a score at that level (a facet
        score; a score on any facet of the dimension; on any facet), ``listed`` all of
        the role's respondents
    respondents : DataFrame
        ``org_id, role, n, answered, not_applicable, dont_know, unanswered`` (answer
        counts over the items asked of the role)
    respondent_facets : DataFrame
        ``org_id, respondent_id, role`` then one column per facet
    willingness : DataFrame indexed by org_id
        ``respondents, classified, unwilling, unable, unwilling_or_unable``
        (:func:`readiness.core.willingness.willingness_counts`); no rows when the
        instrument names no willingness items
    """

    overall: pd.DataFrame
    dimensions: pd.DataFrame
    facets: pd.DataFrame
    by_role: pd.DataFrame
    respondents: pd.DataFrame
    respondent_facets: pd.DataFrame
    willingness: pd.DataFrame
    n_boot: int
    seed: int
    ci_level: float
    barrier_line: float = BARRIER_LINE

    @property
    def org_ids(self) -> tuple[str, ...]:
        return tuple(self.overall.index)


def score(
    responses: Responses,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    ci_level: float = CI_LEVEL,
    orgs: Sequence[str] | None = None,
    barrier_threshold: float = BARRIER_LINE,
) -> Scores:
    """Score every organization in ``responses``.

    Parameters
    ----------
    responses : Responses
    n_boot : int
        Bootstrap resamples for the confidence intervals (0: no intervals).
    seed : int
        Base seed; each organization draws from its own stream (:func:`org_seed`), so
        its intervals do not depend on the other organizations in the file.
    ci_level : float
        Coverage of the percentile interval.
    orgs : sequence of str, optional
        Compute intervals only for these organizations (point scores are always
        computed for all, since they are cheap).
    barrier_threshold : float
        See :data:`readiness.core.defaults.BARRIER_LINE`.
    """
    layout = responses.instrument.layout
    org_ids = responses.org_ids
    n_orgs, n_roles = len(org_ids), len(layout.role_ids)
    prepared = _Prepared.of(responses)
    S = _facet_scores(prepared)
    valid = ~np.isnan(S)

    # Respondents are sorted by (org, role): each (org, role) pair is a contiguous run.
    org_codes, role_codes = responses.org_codes, responses.role_codes
    keys = org_codes * n_roles + role_codes
    g_start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], int)
    g_org, g_role = org_codes[g_start], role_codes[g_start]
    g_size = np.diff(np.r_[g_start, len(keys)])
    role_sum = np.add.reduceat(np.where(valid, S, 0.0), g_start, axis=0)
    role_n = np.add.reduceat(valid.astype(np.int64), g_start, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        role_mean = role_sum / role_n  # NaN where the role has no score on the facet

    o_start = np.flatnonzero(np.r_[True, g_org[1:] != g_org[:-1]])
    org_facet = _combine_roles(role_mean, layout.role_weights[g_role], o_start)
    org_dim = _weighted(org_facet, layout.facet_weights, layout.facet_by_dimension)
    org_overall = _weighted(org_dim, layout.dimension_weights, np.ones((len(layout.dimension_ids), 1)))[:, 0]
    role_dim = _weighted(role_mean, layout.facet_weights, layout.facet_by_dimension)
    role_overall = _weighted(role_dim, layout.dimension_weights, np.ones((len(layout.dimension_ids), 1)))[:, 0]
    facet_n = np.add.reduceat(role_n, o_start, axis=0)

    # Confidence intervals by bootstrap within role.
    n_f, n_d = len(layout.facet_ids), len(layout.dimension_ids)
    ci = np.full((n_orgs, 2, n_f + n_d + 1), np.nan)
    if n_boot > 0:
        wanted = set(org_ids if orgs is None else orgs)
        r_start = np.r_[g_start, len(keys)]
        for o in range(n_orgs):
            if org_ids[o] not in wanted:
                continue
            groups = range(o_start[o], o_start[o + 1] if o + 1 < len(o_start) else len(g_start))
            blocks = [S[r_start[g] : r_start[g + 1]] for g in groups]
            weights = layout.role_weights[g_role[list(groups)]]
            rng = np.random.default_rng(org_seed(seed, org_ids[o]))
            ci[o] = _bootstrap_ci(blocks, weights, layout, rng, n_boot, ci_level)

    o_start_rows = g_start[o_start]
    rwg = _rwg(prepared, o_start_rows)
    alpha_f, alpha_d = _alpha(prepared, o_start_rows)
    n_asked, n_dont_know = _facet_dont_know(responses, prepared, o_start_rows)

    # ---------------------------------------------------------- tidy frames
    facet_ids, dim_ids = list(layout.facet_ids), list(layout.dimension_ids)
    org_col = np.repeat(np.array(org_ids, dtype=object), n_f)
    facets = pd.DataFrame(
        {
            "org_id": org_col,
            "dimension": np.tile(np.array([dim_ids[d] for d in layout.facet_dimension], dtype=object), n_orgs),
            "facet": np.tile(np.array(facet_ids, dtype=object), n_orgs),
            "score": org_facet.ravel(),
            "ci_low": ci[:, 0, :n_f].ravel(),
            "ci_high": ci[:, 1, :n_f].ravel(),
            "n": facet_n.ravel(),
            "rwg": rwg.ravel(),
            "alpha": alpha_f.ravel(),
            "n_asked": n_asked.ravel(),
            "n_dont_know": n_dont_know.ravel(),
        }
    )
    dimensions = pd.DataFrame(
        {
            "org_id": np.repeat(np.array(org_ids, dtype=object), n_d),
            "dimension": np.tile(np.array(dim_ids, dtype=object), n_orgs),
            "score": org_dim.ravel(),
            "ci_low": ci[:, 0, n_f : n_f + n_d].ravel(),
            "ci_high": ci[:, 1, n_f : n_f + n_d].ravel(),
            "alpha": alpha_d.ravel(),
        }
    )
    barrier = _barriers(org_facet, ci, layout, barrier_threshold)
    org_index = pd.Index(list(org_ids), name="org_id")
    overall = pd.DataFrame(
        {
            "score": org_overall,
            "ci_low": ci[:, 0, -1],
            "ci_high": ci[:, 1, -1],
            # object dtype: pandas 3 would store a missing level or barrier as NaN in a string column
            "level": pd.Series(
                [readiness_level(s, responses.instrument.levels) for s in org_overall], index=org_index, dtype=object
            ),
            "n_respondents": np.add.reduceat(g_size, o_start) if len(g_size) else np.zeros(0, int),
            "barrier": pd.Series(barrier, index=org_index, dtype=object),
        },
        index=org_index,
    )
    # Respondents of each role with a score at each level (what the role minimum counts):
    # a facet score; any facet score in the dimension; any facet score at all.
    has_dim = (valid.astype(float) @ layout.facet_by_dimension) > 0
    if len(g_start):
        role_dim_n = np.add.reduceat(has_dim.astype(np.int64), g_start, axis=0)
        role_overall_n = np.add.reduceat(valid.any(axis=1).astype(np.int64), g_start)
    else:
        role_dim_n = np.zeros((0, len(layout.dimension_ids)), dtype=np.int64)
        role_overall_n = np.zeros(0, dtype=np.int64)
    by_role = _by_role_frame(
        org_ids, layout, g_org, g_role, role_mean, role_n, role_dim, role_overall, role_dim_n, role_overall_n, g_size
    )
    respondents = _answer_counts(responses, prepared, g_start, g_org, g_role, g_size)
    respondent_facets = pd.concat(
        [responses.meta[["org_id", "respondent_id", "role"]], pd.DataFrame(S, columns=facet_ids)], axis=1
    )
    return Scores(
        overall,
        dimensions,
        facets,
        by_role,
        respondents,
        respondent_facets,
        willingness_counts(responses),
        n_boot,
        seed,
        ci_level,
        barrier_threshold,
    )


# ---------------------------------------------------------------------- internals
def _combine_roles(role_mean: np.ndarray, weights: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Weighted mean over roles (rows) within each run starting at ``starts``."""
    present = ~np.isnan(role_mean)
    w = present * weights[:, None]
    num = np.add.reduceat(np.where(present, role_mean, 0.0) * weights[:, None], starts, axis=0)
    den = np.add.reduceat(w, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _weighted(scores: np.ndarray, weights: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Weighted mean of the columns that exist, grouped by ``incidence`` (cols x groups)."""
    present = ~np.isnan(scores)
    num = (np.where(present, scores, 0.0) * weights) @ incidence
    den = (present * weights) @ incidence
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _bootstrap_ci(
    blocks: list[np.ndarray],
    role_weights: np.ndarray,
    layout: Layout,
    rng: np.random.Generator,
    n_boot: int,
    ci_level: float,
) -> np.ndarray:
    """Percentile bootstrap over respondents, resampled within role.

    Returns (2, facets + dimensions + 1): lower and upper bounds (see :func:`bootstrap_draws`).
    """
    draws = bootstrap_draws(
        blocks, role_weights, layout.facet_weights, layout.facet_by_dimension, layout.dimension_weights, rng, n_boot
    )
    return percentile_interval(draws, ci_level)


def bootstrap_draws(
    blocks: Sequence[np.ndarray],
    role_weights: np.ndarray,
    facet_weights: np.ndarray,
    facet_by_dimension: np.ndarray,
    dimension_weights: np.ndarray,
    rng: np.random.Generator,
    n_boot: int,
) -> np.ndarray:
    """Bootstrap replicates of one organization's scores, respondents resampled within role.

    Each resample draws, for every role, as many respondents as the role has (with
    replacement) and recomputes the organization's facet, dimension and overall scores
    by the scoring rules. Vectorized: a resample is a row of respondent counts, so all
    resamples of a role are one matrix product.

    Parameters
    ----------
    blocks : sequence of ndarray (respondents, facets)
        Respondent facet scores of each role (NaN where the rules give none), one block
        per role that has respondents, in a fixed order (the draws depend on it).
    role_weights : ndarray
        The instrument's weight of each block's role.
    facet_weights, facet_by_dimension, dimension_weights : ndarray
        As in :class:`~readiness.core.instrument.Layout` (for the facets of ``blocks``).
    rng : numpy.random.Generator
    n_boot : int

    Returns
    -------
    ndarray (n_boot, facets + dimensions + 1)
        Facet, dimension and overall scores of each resample (NaN where none).
    """
    counts = []
    for block in blocks:
        n = block.shape[0]
        draws = rng.integers(0, n, size=(n_boot, n))
        tally = np.bincount((draws + (np.arange(n_boot) * n)[:, None]).ravel(), minlength=n_boot * n)
        counts.append(tally.reshape(n_boot, n).astype(float))
    return _combine(counts, blocks, role_weights, facet_weights, facet_by_dimension, dimension_weights)


def aggregate_scores(
    blocks: Sequence[np.ndarray],
    role_weights: np.ndarray,
    facet_weights: np.ndarray,
    facet_by_dimension: np.ndarray,
    dimension_weights: np.ndarray,
) -> np.ndarray:
    """One organization's facet, dimension and overall scores from its respondents' facet scores.

    The same rules as :func:`score` (role means, combined with the role weights, then
    weighted means), for blocks laid out as in :func:`bootstrap_draws`: the resample in
    which every respondent counts once. Returns (facets + dimensions + 1,), NaN where none.
    """
    counts = [np.ones((1, block.shape[0])) for block in blocks]
    return _combine(counts, blocks, role_weights, facet_weights, facet_by_dimension, dimension_weights)[0]


def _combine(
    counts: Sequence[np.ndarray],
    blocks: Sequence[np.ndarray],
    role_weights: np.ndarray,
    facet_weights: np.ndarray,
    facet_by_dimension: np.ndarray,
    dimension_weights: np.ndarray,
) -> np.ndarray:
    """Scores of each row of respondent ``counts`` (resamples, respondents) per role block."""
    m, n_f = counts[0].shape[0], blocks[0].shape[1]
    num = np.zeros((m, n_f))
    den = np.zeros((m, n_f))
    for tally, block, weight in zip(counts, blocks, role_weights):
        present = ~np.isnan(block)
        s = tally @ np.where(present, block, 0.0)
        c = tally @ present.astype(float)
        has = c > 0
        num += np.where(has, s / np.where(has, c, 1.0), 0.0) * weight
        den += has * weight
    with np.errstate(invalid="ignore", divide="ignore"):
        facet = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    dim = _weighted(facet, facet_weights, facet_by_dimension)
    overall = _weighted(dim, dimension_weights, np.ones((dim.shape[1], 1)))
    return np.concatenate([facet, dim, overall], axis=1)


def percentile_interval(draws: np.ndarray, ci_level: float) -> np.ndarray:
    """Percentile interval of each column of bootstrap ``draws``: (2, columns), NaN where none.

    A column missing in some resamples (a facet no resampled respondent scored) takes its
    interval from the resamples that have it; a column missing in all has none.
    """
    tail = (1.0 - ci_level) / 2.0 * 100.0
    out = np.full((2, draws.shape[1]), np.nan)
    complete = ~np.isnan(draws).any(axis=0)
    if complete.any():
        out[:, complete] = np.percentile(draws[:, complete], [tail, 100.0 - tail], axis=0)
    partial = ~complete & ~np.isnan(draws).all(axis=0)
    if partial.any():
        out[:, partial] = np.nanpercentile(draws[:, partial], [tail, 100.0 - tail], axis=0)
    return out


def _org_item_moments(p: _Prepared, o_start_rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per organization and item: count, sum and sum of squares of counted answers (x')."""
    if len(o_start_rows) == 0:
        z = np.zeros((0, len(p.layout.item_ids)))
        return z, z, z
    x = np.where(p.answered, p.raw, 0.0)
    c = np.add.reduceat(p.answered.astype(float), o_start_rows, axis=0)
    s = np.add.reduceat(x, o_start_rows, axis=0)
    q = np.add.reduceat(x * x, o_start_rows, axis=0)
    return c, s, q


def _rwg(p: _Prepared, o_start_rows: np.ndarray) -> np.ndarray:
    """Within-group agreement r_wg(J) per organization and facet (uniform null).

    ``r = J (1 - s2 / e2) / (J (1 - s2 / e2) + s2 / e2)`` with ``s2`` the mean over the
    facet's items of the observed item variance (ddof 1, items with >= 2 answers), ``J``
    the number of such items and ``e2 = (A^2 - 1) / 12`` for an A-point scale. Where
    ``s2 >= e2`` (more disagreement than random answering) it is set to 0.
    """
    layout = p.layout
    c, s, q = _org_item_moments(p, o_start_rows)
    ok = c >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(ok, (q - s * s / np.where(ok, c, 1.0)) / np.where(ok, c - 1.0, 1.0), 0.0)
    var = np.maximum(var, 0.0)
    J = ok.astype(float) @ layout.item_by_facet
    mean_var = (var @ layout.item_by_facet) / np.where(J > 0, J, 1.0)
    e2 = (layout.scale_points**2 - 1) / 12.0
    ratio = mean_var / e2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = J * (1 - ratio) / (J * (1 - ratio) + ratio)
    r = np.where(ratio >= 1.0, 0.0, r)
    return np.where(J > 0, r, np.nan)


def _alpha(p: _Prepared, o_start_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cronbach's alpha per organization for each facet and each dimension.

    Listwise: only respondents who answered every item of the facet (dimension) count;
    alpha is missing with fewer than :data:`MIN_ALPHA_RESPONDENTS` of them, fewer than
    two items, or no variance in the total.
    """
    layout, raw, answered = p.layout, p.raw, p.answered
    n_orgs = len(o_start_rows)
    groups = [np.flatnonzero(layout.item_facet == f) for f in range(len(layout.facet_ids))]
    groups += [np.flatnonzero(layout.facet_dimension[layout.item_facet] == d) for d in range(len(layout.dimension_ids))]
    out = np.full((n_orgs, len(groups)), np.nan)
    if n_orgs == 0:
        return out[:, : len(layout.facet_ids)], out[:, len(layout.facet_ids) :]
    for g, items in enumerate(groups):
        k = len(items)
        if k < 2:
            continue
        complete = np.asarray(answered[:, items].all(axis=1), dtype=bool)
        x = np.where(complete[:, None], raw[:, items], 0.0)
        total = x.sum(axis=1)
        n = np.add.reduceat(complete.astype(float), o_start_rows)
        si = np.add.reduceat(x, o_start_rows, axis=0)
        qi = np.add.reduceat(x * x, o_start_rows, axis=0)
        st = np.add.reduceat(total, o_start_rows)
        qt = np.add.reduceat(total * total, o_start_rows)
        enough = n >= MIN_ALPHA_RESPONDENTS
        nn = np.where(enough, n, 2.0)
        var_items = ((qi - si * si / nn[:, None]) / (nn[:, None] - 1)).sum(axis=1)
        var_total = (qt - st * st / nn) / (nn - 1)
        ok = enough & (var_total > 1e-12)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, g] = np.where(ok, k / (k - 1) * (1 - var_items / np.where(ok, var_total, 1.0)), np.nan)
    return out[:, : len(layout.facet_ids)], out[:, len(layout.facet_ids) :]


@dataclass(frozen=True)
class BarrierChoice:
    """How the barrier of one organization was chosen (``docs/scoring.md``, rule 9).

    Attributes
    ----------
    facet : the barrier.
    weakest : the lowest-scoring facet below the line (the barrier unless a tie moved it).
    tied : the facets below the line whose intervals overlap the weakest one's, in the
        order ties are broken (people, process, technology, knowledge, then the
        instrument's facet order); the barrier is the first.
    """

    facet: str
    weakest: str
    tied: tuple[str, ...]


def choose_barrier(
    facets: Sequence[str],
    scores: Sequence[float | None],
    ci_low: Sequence[float | None] | None = None,
    ci_high: Sequence[float | None] | None = None,
    *,
    line: float = BARRIER_LINE,
) -> BarrierChoice | None:
    """The barrier among facets, or ``None`` when no facet scores below ``line``.

    Among the facets below the line, the weakest is the candidate. Facets below the line
    whose confidence intervals overlap the weakest one's cannot be told apart from it:
    they are tied, and the tie goes to the earliest dimension in people → process →
    technology → knowledge (the order the sources give for the change), then to the
    order ``facets`` are given in (the instrument's). A facet without an interval counts
    as the point interval of its score.

    >>> choose_barrier(["people.a", "process.a"], [30, 20], [20, 15], [40, 25]).facet
    'people.a'
    >>> choose_barrier(["people.a", "process.a"], [30, 10], [25, 5], [40, 15]).facet
    'process.a'
    """

    def numbers(values: Sequence[float | None] | None) -> np.ndarray:
        if values is None:
            return np.full(len(facets), np.nan)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)

    score_of = numbers(scores)
    below = [i for i in range(len(facets)) if np.isfinite(score_of[i]) and score_of[i] < line]
    if not below:
        return None
    # a facet without an interval counts as the point interval of its score
    low, high = numbers(ci_low), numbers(ci_high)
    low = np.where(np.isfinite(low), low, score_of)
    high = np.where(np.isfinite(high), high, score_of)
    weakest = min(below, key=lambda i: (score_of[i], i))
    tied = [i for i in below if low[i] <= high[weakest] and low[weakest] <= high[i]]

    def order(i: int) -> tuple[int, int]:
        dim = facets[i].split(".", 1)[0]
        return (DIMENSIONS.index(dim) if dim in DIMENSIONS else len(DIMENSIONS), i)

    tied.sort(key=order)
    return BarrierChoice(facets[tied[0]], facets[weakest], tuple(facets[i] for i in tied))


def _barriers(org_facet: np.ndarray, ci: np.ndarray, layout: Layout, threshold: float) -> list[str | None]:
    """The barrier of every organization (:func:`choose_barrier`)."""
    out: list[str | None] = []
    n_f = len(layout.facet_ids)
    for o in range(org_facet.shape[0]):
        choice = choose_barrier(
            layout.facet_ids, list(org_facet[o]), list(ci[o, 0, :n_f]), list(ci[o, 1, :n_f]), line=threshold
        )
        out.append(choice.facet if choice is not None else None)
    return out


def _by_role_frame(
    org_ids, layout, g_org, g_role, role_mean, role_n, role_dim, role_overall, role_dim_n, role_overall_n, g_size
) -> pd.DataFrame:
    n_g, n_f, n_d = len(g_org), len(layout.facet_ids), len(layout.dimension_ids)
    orgs = np.array(org_ids, dtype=object)[g_org]
    roles = np.array(layout.role_ids, dtype=object)[g_role]
    parts = [
        pd.DataFrame(
            {
                "org_id": np.repeat(orgs, n_f),
                "level": "facet",
                "id": np.tile(np.array(layout.facet_ids, dtype=object), n_g),
                "role": np.repeat(roles, n_f),
                "score": role_mean.ravel(),
                "n": role_n.ravel(),
                "listed": np.repeat(g_size, n_f),
            }
        ),
        pd.DataFrame(
            {
                "org_id": np.repeat(orgs, n_d),
                "level": "dimension",
                "id": np.tile(np.array(layout.dimension_ids, dtype=object), n_g),
                "role": np.repeat(roles, n_d),
                "score": role_dim.ravel(),
                "n": role_dim_n.ravel(),
                "listed": np.repeat(g_size, n_d),
            }
        ),
        pd.DataFrame(
            {
                "org_id": orgs,
                "level": "overall",
                "id": "overall",
                "role": roles,
                "score": role_overall,
                "n": role_overall_n,
                "listed": g_size,
            }
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _facet_dont_know(responses: Responses, p: _Prepared, o_start_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per organization and facet: questions asked, and those answered "don't know"."""
    incidence = p.layout.item_by_facet
    n_orgs, n_f = len(o_start_rows), incidence.shape[1]
    if n_orgs == 0:
        return np.zeros((0, n_f), np.int64), np.zeros((0, n_f), np.int64)
    # Questions asked depend on the role alone: respondents per role times items per role.
    per_role = p.layout.asked.astype(float) @ incidence  # (roles, facets)
    role_counts = np.zeros((n_orgs, len(p.layout.role_ids)))
    np.add.at(role_counts, (responses.org_codes, responses.role_codes), 1.0)
    asked = (role_counts @ per_role).round().astype(np.int64)
    dont_know = np.zeros((n_orgs, n_f), np.int64)
    rows = np.flatnonzero(responses.dont_know.any(axis=1))  # usually few: skip the rest
    if len(rows):
        counts = (p.asked[rows] & responses.dont_know[rows]).astype(float) @ incidence
        np.add.at(dont_know, responses.org_codes[rows], counts.round().astype(np.int64))
    return asked, dont_know


def _answer_counts(responses: Responses, p: _Prepared, g_start, g_org, g_role, g_size) -> pd.DataFrame:
    layout = responses.instrument.layout
    asked, answered = p.asked, p.answered
    na = asked & responses.not_applicable
    dk = asked & responses.dont_know
    if len(g_start):
        a = np.add.reduceat(answered.sum(axis=1), g_start)
        m = np.add.reduceat(na.sum(axis=1), g_start)
        d = np.add.reduceat(dk.sum(axis=1), g_start)
        t = np.add.reduceat(asked.sum(axis=1), g_start)
    else:
        a = m = d = t = np.zeros(0, int)
    return pd.DataFrame(
        {
            "org_id": np.array(responses.org_ids, dtype=object)[g_org] if len(g_org) else np.array([], object),
            "role": np.array(layout.role_ids, dtype=object)[g_role] if len(g_role) else np.array([], object),
            "n": g_size,
            "answered": a,
            "not_applicable": m,
            "dont_know": d,
            "unanswered": t - a - m - d,
        }
    )
