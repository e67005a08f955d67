"""The scoring engine: facet, dimension and overall scores with intervals and agreement.

Pure functions over :class:`~readiness.core.responses.Responses`; no I/O. The rules are the
ones in ``docs/scoring.md`` (and DESIGN.md), vectorized over all respondents of all
organizations, so a panel of thousands of organizations is scored in one pass:

- one pass over the respondents, in blocks of whole organizations small enough to stay
  in the processor's cache (:func:`_respondent_pass`), computes every respondent's
  facet scores, per group (the respondents of one role in one organization) the sums of
  those scores and the counts the role minimum needs, and per organization the sums that
  agreement (r_wg) and reliability (alpha) need. The sums of whole numbers (answers,
  squares, counts) are matrix products, exact in any order; the sums of facet scores,
  which are not whole, are added in a fixed order (``np.add.reduceat``);
- role means, weighted combinations and levels then work on small arrays;
- bootstrap intervals draw per organization from its own stream and take percentiles
  by sorting (:func:`_bootstrap_ci`).

``benchmarks/numpy_scoring.py`` is the same rules written as plain numpy; a test checks
the two agree and ``benchmarks/bench_scoring.py`` times them.

Example
-------
>>> scores = score(responses, n_boot=1000, seed=0)              # doctest: +SKIP
>>> scores.overall.loc["ORG-1", ["score", "ci_low", "ci_high", "level"]]   # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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
    "linear_percentiles",
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


def _levels(scores: np.ndarray, levels: Sequence[Level]) -> np.ndarray:
    """:func:`readiness_level` of each score, at once (object array, ``None`` where missing)."""
    if not levels:
        return np.full(len(scores), None, dtype=object)
    names = np.array([level.name for level in levels] + [None], dtype=object)
    # the last level whose lower bound the score reaches (the first, below all of them)
    at = np.searchsorted(np.array([level.lower for level in levels[1:]]), scores, side="right")
    return names[np.where(np.isfinite(scores), at, len(levels))]


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
    return _respondent_pass(responses).S


#: Whole numbers below this are exact in float32: a block of the respondent pass is worked
#: in single precision when every sum it makes stays below it.
FLOAT32_WHOLE = 2.0**24

#: Respondents handled per block in :func:`_respondent_pass`. A block's working arrays
#: (a few thousand rows by a few hundred columns) stay in the processor's cache and are
#: reused, instead of arrays the size of the whole file being allocated, faulted in and
#: streamed through memory once per step.
BLOCK_ROWS = 2048


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """First position of each run of equal codes."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.intp)


@functools.lru_cache(maxsize=16)
def _facet_runs(layout: Layout) -> tuple[tuple[int, int, int, int], ...] | None:
    """Runs of consecutive facets with the same number of items: (first item, facets, items each, first facet).

    ``None`` unless every facet is one run of consecutive items (:meth:`Layout.build`
    lists items facet by facet, so it always is).
    """
    sizes = np.bincount(layout.item_facet, minlength=len(layout.facet_ids))
    if sizes.min(initial=1) == 0 or not np.array_equal(layout.item_facet, np.repeat(np.arange(len(sizes)), sizes)):
        return None
    runs, f, item = [], 0, 0
    while f < len(sizes):
        m, count = int(sizes[f]), 1
        while f + count < len(sizes) and sizes[f + count] == m:
            count += 1
        runs.append((item, count, m, f))
        item, f = item + count * m, f + count
    return tuple(runs)


def _facet_sums(a: np.ndarray, layout: Layout) -> np.ndarray:
    """Sums within each facet of ``a`` (rows, items), item after item in the instrument's order: (rows, facets), float64.

    For numbers that are not whole, whose sums depend on the order of additions: this
    order is fixed, not a BLAS kernel's. Items are added as rows of the transposed array
    (one contiguous step over all rows per item), and runs of facets of one size as a
    (facets, size, rows) view, adding its ``size`` slices.
    """
    n_f = len(layout.facet_ids)
    items = np.ascontiguousarray(a.T, dtype=np.float64)  # (items, rows)
    out = np.empty((n_f, a.shape[0]))
    runs = _facet_runs(layout)
    if runs is None:  # facets not in runs of consecutive items (Layout.build always lists them so)
        out[...] = 0.0
        for i, f in enumerate(layout.item_facet):
            out[f] += items[i]
        return out.T
    for item, count, m, f in runs:
        view = items[item : item + count * m].reshape(count, m, -1)
        target = out[f : f + count]
        np.copyto(target, view[:, 0])
        for p in range(1, m):
            target += view[:, p]
    return out.T


def _run_matrix(starts: np.ndarray, n: int, dtype: type = np.float64) -> Any:
    """A sparse 0/1 matrix that sums runs of consecutive rows beginning at ``starts`` of an ``n``-row array.

    An organization (a group) is a run of rows. The product with this matrix sums them,
    several times faster than ``np.add.reduceat`` over many short runs. Its order of
    additions (row after row) differs from ``reduceat``'s (pairwise), so it is used only
    on whole numbers (answers, squares, counts), whose sums are exact in any order.
    """
    from scipy.sparse import csr_array  # imported on first use: scipy.sparse is slow to import

    return csr_array((np.ones(n, dtype=dtype), np.arange(n), np.r_[starts, n]), shape=(len(starts), n))


def _block_arrays(held: dict[type, np.ndarray], count: int, rows: int, width: int, dtype: type) -> np.ndarray:
    """``count`` contiguous (rows, width) arrays of ``dtype``, kept in ``held`` for the next block to reuse."""
    buf = held.get(dtype)
    if buf is None or buf.shape[1] < rows:
        buf = held[dtype] = np.empty((count, rows, width), dtype)
    return buf[:, :rows]


def _blocks(o_start_rows: np.ndarray, n: int, size: int) -> Iterator[tuple[int, int, int, int]]:
    """``(first row, end row, first org, end org)`` of blocks of whole organizations, about ``size`` rows each."""
    bounds = np.r_[o_start_rows, n]
    o = 0
    while o < len(o_start_rows):
        end = min(max(o + 1, int(np.searchsorted(bounds, bounds[o] + size, side="right")) - 1), len(o_start_rows))
        yield int(bounds[o]), int(bounds[end]), o, end
        o = end


class _Columns:
    """Column layout of the per-respondent working array of :func:`_respondent_pass`.

    Per item: answered (0/1), x (the reverse-coded answer where it counts and was given,
    else 0), x**2, x where the respondent answered every item of the item's facet, x
    where they answered every item of its dimension. Then per scale (facets, then
    dimensions), for Cronbach's alpha: complete (0/1), and over the scale's items the
    total of x, its square and the sum of x**2, each where complete (else 0).
    Every column holds whole numbers, so its sums over an organization are exact.
    """

    def __init__(self, n_items: int, n_facets: int, n_dims: int) -> None:
        i, f, d = n_items, n_facets, n_dims
        self.items = tuple(slice(j * i, (j + 1) * i) for j in range(5))
        self.answered, self.x, self.x2, self.x_facet, self.x_dim = self.items
        self.facet = tuple(slice(5 * i + j * f, 5 * i + (j + 1) * f) for j in range(4))
        base = 5 * i + 4 * f
        self.dim = tuple(slice(base + j * d, base + (j + 1) * d) for j in range(4))
        self.width = base + 4 * d


@dataclass(frozen=True, eq=False)
class _Pass:
    """What one pass over the respondents leaves: their facet scores; per group (the
    respondents of one role in one organization, a run of rows) the sums of their facet
    scores and the counts of :data:`_GROUP_COUNTS`; per organization the sums of the
    :class:`_Columns` of its respondents."""

    S: np.ndarray  # (respondents, facets) facet scores, NaN where the rules give none
    g_start: np.ndarray  # (groups,) first row of each group
    o_start: np.ndarray  # (organizations,) first group of each organization
    role_sum: np.ndarray  # (groups, facets) sums of the facet scores there are
    counts: dict[str, np.ndarray]  # name -> (groups, ...) int64, see _GROUP_COUNTS
    org: np.ndarray  # (organizations, columns)
    cols: _Columns


#: Whole-number counts per group that :func:`_respondent_pass` sums, and their widths
#: (``f``: one per facet, ``d``: one per dimension, ``1``: one).
_GROUP_COUNTS = (
    ("facet_n", "f"),  # respondents with a score on the facet
    ("dimension_n", "d"),  # respondents with a score on some facet of the dimension
    ("overall_n", "1"),  # respondents with a score on some facet
    ("answered", "1"),  # answers that count
    ("not_applicable", "1"),  # items asked and marked N/A
    ("dont_know", "1"),  # items asked and answered "don't know"
    ("dont_know_f", "f"),  # items of the facet asked and answered "don't know"
)


#: Rows of one matrix product in the respondent pass: products of whole numbers are exact
#: in any order, and BLAS multiplies fast, but OpenBLAS hands a product of more than about
#: 2**18 multiply-adds (rows x inner x columns) to several threads, whose spinning is
#: charged as CPU time and competes with the other workers of a batch. Products are cut
#: into pieces of at most that many multiply-adds, each on one thread.
_ONE_THREAD_PRODUCT = 2**18


def _product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``a @ b`` into ``out``, in pieces of rows small enough for one BLAS thread (:data:`_ONE_THREAD_PRODUCT`)."""
    rows = max(32, _ONE_THREAD_PRODUCT // max(1, a.shape[1] * b.shape[1]))
    for i in range(0, a.shape[0], rows):
        np.matmul(a[i : i + rows], b, out=out[i : i + rows])
    return out


@dataclass(frozen=True, eq=False)
class _Tables:
    """The layout's 0/1 tables in the respondent pass's working precision."""

    asked: np.ndarray  # (roles, items): the item is asked of the role
    item_by_facet: np.ndarray  # (items, facets): facet sums as a product
    facet_items: np.ndarray  # (facets, items): each item takes its facet's value
    dimension_items: np.ndarray  # (dimensions, items): each item takes its dimension's value


@functools.lru_cache(maxsize=16)
def _tables(layout: Layout, dtype: type) -> _Tables:
    item_by_dim = layout.item_by_facet @ layout.facet_by_dimension
    return _Tables(
        np.ascontiguousarray(layout.asked, dtype=dtype),
        np.ascontiguousarray(layout.item_by_facet, dtype=dtype),
        np.ascontiguousarray(layout.item_by_facet.T, dtype=dtype),
        np.ascontiguousarray(item_by_dim.T, dtype=dtype),
    )


def _respondent_pass(responses: Responses, block_rows: int = BLOCK_ROWS) -> _Pass:
    """Score every respondent and sum what the organization statistics need, block by block.

    Answers are whole numbers 1..k, so every working column holds whole numbers, and
    whole numbers below 2**24 are exact in float32: a block is worked in float32 (half the
    memory traffic of float64) when the largest sum it can reach, an organization's sum of
    squared dimension totals, stays below that. Otherwise, and for answers that are not
    whole numbers on the scale (possible only when :class:`Responses` is built by hand), the
    block is worked in float64. Either way every sum is exact and the results identical.

    Sums over items of whole numbers are matrix products (exact in any order); answers
    that are not whole numbers are summed item after item, in the instrument's order
    (:func:`_facet_sums`), so that no BLAS kernel decides their rounding. Each per-item
    array of a block is contiguous (a step over all of it is one loop, not one per row),
    and the arrays are reused from block to block.
    """
    layout = responses.instrument.layout
    k = layout.scale_points
    n, n_items = responses.values.shape
    n_f, n_d = len(layout.facet_ids), len(layout.dimension_ids)
    cols = _Columns(n_items, n_f, n_d)
    by_dim = layout.facet_by_dimension
    size_f = layout.item_by_facet.sum(axis=0)
    size_d = size_f @ by_dim
    asked_f = layout.asked.astype(float) @ layout.item_by_facet  # (roles, facets)
    reverse = np.flatnonzero(layout.reverse)
    largest = float(k * max(size_d.max(initial=1), size_f.max(initial=1))) ** 2  # per respondent, any column
    whole = responses.whole_answers
    # Respondents are sorted by (organization, role): each group is a run of rows
    g_start = _run_starts(responses.org_codes * len(layout.role_ids) + responses.role_codes)
    o_start = _run_starts(responses.org_codes[g_start])
    o_start_rows = g_start[o_start]
    org_size = np.diff(np.r_[o_start_rows, n])
    widths = {"f": n_f, "d": n_d, "1": 1}
    count_at = np.cumsum([0] + [widths[w] for _, w in _GROUP_COUNTS])
    scale_cols = slice(cols.facet[0].start, cols.width)  # per scale, after the per-item columns
    buffers: dict[type, np.ndarray] = {}

    S = np.empty((n, n_f))
    role_sum = np.empty((len(g_start), n_f))
    group_counts = np.empty((len(g_start), count_at[-1]))
    org = np.zeros((len(o_start_rows), cols.width))
    for r0, r1, o0, o1 in _blocks(o_start_rows, n, block_rows):
        rows = r1 - r0
        g0, g1 = o_start[o0], (o_start[o1] if o1 < len(o_start) else len(g_start))
        small = whole and org_size[o0:o1].max() * largest < FLOAT32_WHOLE
        dtype = np.float32 if small else np.float64
        tables = _tables(layout, dtype)
        role = responses.role_codes[r0:r1]
        values = responses.values[r0:r1]
        na, dk = responses.not_applicable[r0:r1], responses.dont_know[r0:r1]
        # N/A and don't know are marked on few items: find those items once, then look only at them
        marked = np.flatnonzero((na | dk).any(axis=0))
        asked_m = layout.asked[role[:, None], marked]
        na_m, dk_m = na[:, marked] & asked_m, dk[:, marked] & asked_m
        # "don't know" is out of the score and out of the half rule, exactly like N/A
        out_m = na_m | dk_m
        # per item: answered (0/1), x, x**2, x where the facet is complete, x where the dimension is
        answered, x, x2, x_facet, x_dim = _block_arrays(buffers, 5, rows, n_items, dtype)
        if whole:
            # x: the answer where asked and given (NaN, "no answer", becomes 0), then 0 where marked;
            # answers are 1..k, so min(x, 1) is 1 exactly where one counts
            np.fmax(values, 0.0, out=x)
            x *= np.take(tables.asked, role, axis=0)
            if len(marked):
                x[:, marked] *= ~out_m
            np.minimum(x, 1.0, out=answered)
        else:
            given = layout.asked[role] & ~np.isnan(values)
            if len(marked):
                given[:, marked] &= ~out_m
            x[...] = 0.0
            np.copyto(x, values, where=given)
            answered[...] = given
        if len(reverse):
            x[:, reverse] = (k + 1) * answered[:, reverse] - x[:, reverse]
        np.multiply(x, x, out=x2)
        if whole:
            per_facet = np.empty((3, rows, n_f), dtype)
            for a, out in zip((answered, x, x2), per_facet):
                _product(a, tables.item_by_facet, out)
            ans_f, sum_f, sq_f = per_facet.astype(np.float64)
        else:
            ans_f, sum_f, sq_f = (_facet_sums(a, layout) for a in (answered, x, x2))
        cnt_f = asked_f[role]
        if len(marked):
            cnt_f = cnt_f - _product(out_m.astype(float), layout.item_by_facet[marked], np.empty((rows, n_f)))
        scores = S[r0:r1]
        scores[...] = _facet_score(sum_f, ans_f, cnt_f, k)
        valid = ~np.isnan(scores)
        groups = _run_matrix(g_start[g0:g1] - r0, rows)
        # the scores are not whole numbers: summed by reduceat (as the plain rules read), not by a product
        role_sum[g0:g1] = np.add.reduceat(np.where(valid, scores, 0.0), g_start[g0:g1] - r0, axis=0)
        counts = np.empty((rows, count_at[-1]))
        counts[:, : count_at[1]] = valid
        np.greater(valid.astype(float) @ by_dim, 0.0, out=counts[:, count_at[1] : count_at[2]])
        counts[:, count_at[2]] = valid.any(axis=1)
        counts[:, count_at[3]] = ans_f.sum(axis=1)
        counts[:, count_at[4]] = na_m.sum(axis=1)
        counts[:, count_at[5]] = dk_m.sum(axis=1)
        _product(dk_m.astype(float), layout.item_by_facet[marked], counts[:, count_at[6] : count_at[7]])
        group_counts[g0:g1] = groups @ counts
        # Cronbach's alpha counts only respondents who answered every item of the scale
        complete_f = (ans_f == size_f).astype(dtype)
        complete_d = (ans_f @ by_dim == size_d).astype(dtype)
        np.multiply(x, _product(complete_f, tables.facet_items, x_facet), out=x_facet)
        np.multiply(x, _product(complete_d, tables.dimension_items, x_dim), out=x_dim)
        scale = np.empty((rows, scale_cols.stop - scale_cols.start), dtype)
        for complete, total, total_sq, (c, t, t2, q) in (
            (complete_f, sum_f, sq_f, cols.facet),
            (complete_d, sum_f @ by_dim, sq_f @ by_dim, cols.dim),
        ):
            c, t, t2, q = (slice(s.start - scale_cols.start, s.stop - scale_cols.start) for s in (c, t, t2, q))
            scale[:, c] = complete
            np.multiply(total, complete, out=scale[:, t])
            np.multiply(scale[:, t], total, out=scale[:, t2])
            np.multiply(total_sq, complete, out=scale[:, q])
        orgs = _run_matrix(o_start_rows[o0:o1] - r0, rows, dtype)
        for a, at in zip((answered, x, x2, x_facet, x_dim, scale), (*cols.items, scale_cols)):
            org[o0:o1, at] = orgs @ a
    whole_counts = group_counts.round().astype(np.int64)
    named = {name: whole_counts[:, count_at[i] : count_at[i + 1]] for i, (name, _) in enumerate(_GROUP_COUNTS)}
    return _Pass(S, g_start, o_start, role_sum, named, org, cols)


def _facet_score(sum_x: np.ndarray, answered: np.ndarray, counted: np.ndarray, k: int) -> np.ndarray:
    """Respondent facet scores from sums of x and counts of answered and counted items (the half rule)."""
    ok = (answered > 0) & (2 * answered >= counted)
    # numerator and denominator are whole numbers: one correctly rounded division, so a
    # score that is exactly 50 comes out as 50.0 (the barrier line compares with it)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (sum_x - answered) * 100.0 / ((k - 1) * np.where(ok, answered, 1.0))
    return np.where(ok, score, np.nan)


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
        ``org_id, respondent_id, role`` then one column per facet (built on first use:
        few callers need it, and it is as long as the responses)
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
    willingness: pd.DataFrame
    n_boot: int
    seed: int
    ci_level: float
    respondent_meta: pd.DataFrame = field(repr=False)
    respondent_scores: np.ndarray = field(repr=False)  # (respondents, facets)
    facet_ids: tuple[str, ...] = ()
    barrier_line: float = BARRIER_LINE

    @property
    def org_ids(self) -> tuple[str, ...]:
        return tuple(self.overall.index)

    def rows_of(self, org_id: str) -> dict[str, np.ndarray]:
        """Positions of the organization's rows in each frame, for a cheap ``iloc`` (one lookup
        per organization instead of a comparison over every row of every frame)."""
        return {name: index[org_id] for name, index in self._org_rows.items()}

    @cached_property
    def _org_rows(self) -> dict[str, dict[str, np.ndarray]]:
        return {
            name: getattr(self, name).groupby("org_id", sort=False).indices
            for name in ("dimensions", "facets", "by_role", "respondents")
        }

    @cached_property
    def respondent_facets(self) -> pd.DataFrame:
        frame = self.respondent_meta[["org_id", "respondent_id", "role"]].reset_index(drop=True)
        return pd.concat([frame, pd.DataFrame(self.respondent_scores, columns=list(self.facet_ids))], axis=1)


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
    n_orgs = len(org_ids)
    passed = _respondent_pass(responses)
    S = passed.S

    # Respondents are sorted by (org, role): each (org, role) pair is a contiguous run, a group.
    g_start, o_start = passed.g_start, passed.o_start
    g_org, g_role = responses.org_codes[g_start], responses.role_codes[g_start]
    g_size = np.diff(np.r_[g_start, len(S)])
    role_n = passed.counts["facet_n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        role_mean = passed.role_sum / role_n  # NaN where the role has no score on the facet

    org_facet = _combine_roles(role_mean, layout.role_weights[g_role], o_start)
    org_dim = _weighted(org_facet, layout.facet_weights, layout.facet_by_dimension)
    org_overall = _weighted(org_dim, layout.dimension_weights, np.ones((len(layout.dimension_ids), 1)))[:, 0]
    role_dim = _weighted(role_mean, layout.facet_weights, layout.facet_by_dimension)
    role_overall = _weighted(role_dim, layout.dimension_weights, np.ones((len(layout.dimension_ids), 1)))[:, 0]
    facet_n = np.add.reduceat(role_n, o_start, axis=0) if len(o_start) else np.zeros((0, len(layout.facet_ids)), int)

    # Confidence intervals by bootstrap within role.
    n_f, n_d = len(layout.facet_ids), len(layout.dimension_ids)
    ci = np.full((n_orgs, 2, n_f + n_d + 1), np.nan)
    if n_boot > 0:
        wanted = set(org_ids if orgs is None else orgs)
        chosen = [o for o in range(n_orgs) if org_ids[o] in wanted]
        ci[chosen] = _bootstrap_ci(
            S, g_start, g_role, o_start, chosen, [org_ids[o] for o in chosen], layout, seed, n_boot, ci_level
        )

    rwg = _rwg(passed, layout)
    alpha_f, alpha_d = _alpha(passed, layout)
    n_asked, n_dont_know = _facet_dont_know(passed, layout, g_role, g_size)

    # ---------------------------------------------------------- tidy frames
    # Each frame is built from fresh arrays and takes them as its columns (copy=False): the
    # copy pandas would otherwise make, stacking the columns of one type into one block,
    # costs more than all the arithmetic of a facet's rows (and a block per column serves
    # the per-organization row look-ups just as well).
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
        },
        copy=False,
    )
    dimensions = pd.DataFrame(
        {
            "org_id": np.repeat(np.array(org_ids, dtype=object), n_d),
            "dimension": np.tile(np.array(dim_ids, dtype=object), n_orgs),
            "score": org_dim.ravel(),
            "ci_low": ci[:, 0, n_f : n_f + n_d].ravel(),
            "ci_high": ci[:, 1, n_f : n_f + n_d].ravel(),
            "alpha": alpha_d.ravel(),
        },
        copy=False,
    )
    barrier = _barriers(org_facet, ci, layout, barrier_threshold)
    org_index = pd.Index(list(org_ids), name="org_id")
    overall = pd.DataFrame(
        {
            "score": org_overall,
            "ci_low": ci[:, 0, -1],
            "ci_high": ci[:, 1, -1],
            # object dtype: pandas 3 would store a missing level or barrier as NaN in a string column
            "level": pd.Series(_levels(org_overall, responses.instrument.levels), index=org_index, dtype=object),
            "n_respondents": np.add.reduceat(g_size, o_start) if len(g_size) else np.zeros(0, int),
            "barrier": pd.Series(barrier, index=org_index, dtype=object),
        },
        index=org_index,
        copy=False,
    )
    # Respondents of each role with a score at each level (what the role minimum counts):
    # a facet score; any facet score in the dimension; any facet score at all. Counts of
    # whole numbers, so they do not depend on which organizations are scored together.
    role_dim_n, role_overall_n = passed.counts["dimension_n"], passed.counts["overall_n"][:, 0]
    by_role = _by_role_frame(
        org_ids, layout, g_org, g_role, role_mean, role_n, role_dim, role_overall, role_dim_n, role_overall_n, g_size
    )
    respondents = _answer_counts(responses, passed, g_start, g_org, g_role, g_size)
    return Scores(
        overall,
        dimensions,
        facets,
        by_role,
        respondents,
        willingness_counts(responses),
        n_boot,
        seed,
        ci_level,
        responses.meta,
        S,
        layout.facet_ids,
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
    """Weighted mean of the columns that exist, grouped by ``incidence`` (cols x groups).

    Row by row sums, not a matrix product: BLAS may add in another order depending on
    the number of rows, and an organization's scores must not depend on how many others
    are scored with it (a batch assesses a chunk at a time; ``score --org`` the whole file).
    """
    present = ~np.isnan(scores)
    values = np.where(present, scores, 0.0) * weights
    counted = present * weights
    out = np.empty((scores.shape[0], incidence.shape[1]))
    for g in range(incidence.shape[1]):
        cols = np.flatnonzero(incidence[:, g])
        num, den = values[:, cols].sum(axis=1), counted[:, cols].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, g] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def _bootstrap_ci(
    S: np.ndarray,
    g_start: np.ndarray,
    g_role: np.ndarray,
    o_start: np.ndarray,
    chosen: Sequence[int],
    chosen_ids: Sequence[str],
    layout: Layout,
    seed: int,
    n_boot: int,
    ci_level: float,
) -> np.ndarray:
    """Percentile bootstrap over respondents, resampled within role, for the ``chosen`` organizations.

    Each organization draws from its own stream (:func:`org_seed`); see
    :func:`bootstrap_draws`. Returns (organizations, 2, facets + dimensions + 1): lower
    and upper bounds.
    """
    r_end = np.r_[g_start[1:], len(S)]
    o_end = np.r_[o_start[1:], len(g_start)]
    out = np.full((len(chosen), 2, S.shape[1] + len(layout.dimension_ids) + 1), np.nan)
    for i, o in enumerate(chosen):
        groups = range(o_start[o], o_end[o])
        blocks = [S[g_start[g] : r_end[g]] for g in groups]
        rng = np.random.default_rng(org_seed(seed, chosen_ids[i]))
        draws = bootstrap_draws(
            blocks,
            layout.role_weights[g_role[list(groups)]],
            layout.facet_weights,
            layout.facet_by_dimension,
            layout.dimension_weights,
            rng,
            n_boot,
        )
        out[i] = percentile_interval(draws, ci_level)
    return out


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
    steps = np.arange(n_boot)[:, None]
    for block in blocks:
        n = block.shape[0]
        draws = rng.integers(0, n, size=(n_boot, n))
        tally = np.bincount((draws + steps * n).ravel(), minlength=n_boot * n)
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
        if present.all():
            # every respondent has every facet score: a row's count of them is its total
            # count (a whole number, so the same division as below), and every facet has one
            num += (tally @ block) / tally.sum(axis=1)[:, None] * weight
            den += weight
            continue
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
    interval from the resamples that have it; a column missing in all has none. The
    numbers are ``np.percentile``'s (linear), read off each column sorted once.
    """
    tail = (1.0 - ci_level) / 2.0 * 100.0
    return _percentile_bounds(np.ascontiguousarray(draws.T), tail)


def linear_percentiles(ordered: np.ndarray, percents: Sequence[float]) -> np.ndarray:
    """Percentiles of each row of ``ordered`` (rows sorted ascending, no NaN), as (percents, rows).

    The numbers ``np.percentile(row, percents)`` gives (its default, linear method, with
    its own interpolation formula), from rows sorted once: on many short rows a sort is
    several times faster than the partition around several pivots ``np.percentile`` does.
    """
    n = ordered.shape[1]
    virtual = (n - 1) * np.true_divide(np.asarray(percents, dtype=float), 100)
    last = virtual >= n - 1
    below = np.where(last, n - 1, np.floor(virtual)).astype(np.intp)
    above = np.where(last, n - 1, below + 1).astype(np.intp)
    gamma = (virtual - np.floor(virtual))[:, None]
    a, b = ordered[:, below].T, ordered[:, above].T
    diff = b - a
    value = a + diff * gamma
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), value)


def _percentile_bounds(stats: np.ndarray, tail: float) -> np.ndarray:
    """``np.percentile(row, [tail, 100 - tail])`` of each row, as (2, rows); NaN rows give NaN.

    Rows with some missing values use ``np.nanpercentile``.
    """
    bounds = np.full((2, stats.shape[0]), np.nan)
    missing = np.isnan(stats)
    complete = ~missing.any(axis=1)
    if complete.any():
        bounds[:, complete] = linear_percentiles(np.sort(stats[complete], axis=1), [tail, 100.0 - tail])
    partial = ~complete & ~missing.all(axis=1)
    if partial.any():
        bounds[:, partial] = np.nanpercentile(stats[partial], [tail, 100.0 - tail], axis=1)
    return bounds


def _rwg(p: _Pass, layout: Layout) -> np.ndarray:
    """Within-group agreement r_wg(J) per organization and facet (uniform null).

    ``r = J (1 - s2 / e2) / (J (1 - s2 / e2) + s2 / e2)`` with ``s2`` the mean over the
    facet's items of the observed item variance (ddof 1, items with >= 2 answers), ``J``
    the number of such items and ``e2 = (A^2 - 1) / 12`` for an A-point scale. Where
    ``s2 >= e2`` (more disagreement than random answering) it is set to 0.
    """
    c, s, q = p.org[:, p.cols.answered], p.org[:, p.cols.x], p.org[:, p.cols.x2]
    ok = c >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(ok, (q - s * s / np.where(ok, c, 1.0)) / np.where(ok, c - 1.0, 1.0), 0.0)
    var = np.maximum(var, 0.0)
    J = _facet_sums(ok.astype(float), layout)
    mean_var = _facet_sums(var, layout) / np.where(J > 0, J, 1.0)  # row by row, as in _weighted
    e2 = (layout.scale_points**2 - 1) / 12.0
    ratio = mean_var / e2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = J * (1 - ratio) / (J * (1 - ratio) + ratio)
    r = np.where(ratio >= 1.0, 0.0, r)
    return np.where(J > 0, r, np.nan)


def _alpha(p: _Pass, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Cronbach's alpha per organization for each facet and each dimension.

    Listwise: only respondents who answered every item of the facet (dimension) count;
    alpha is missing with fewer than :data:`MIN_ALPHA_RESPONDENTS` of them, fewer than
    two items, or no variance in the total. With ``n`` such respondents, ``s_i`` and
    ``q_i`` the sums of x and x**2 of item i over them and ``T`` their scale totals, the
    sum of the item variances is ``(sum q_i - sum s_i**2 / n) / (n - 1)`` and the variance
    of the total ``(sum T**2 - (sum T)**2 / n) / (n - 1)``.
    """
    item_by_dim = layout.item_by_facet @ layout.facet_by_dimension
    out = []
    for (c, t, t2, q), x_cols, incidence in (
        (p.cols.facet, p.cols.x_facet, layout.item_by_facet),
        (p.cols.dim, p.cols.x_dim, item_by_dim),
    ):
        n, st, qt, sq = p.org[:, c], p.org[:, t], p.org[:, t2], p.org[:, q]
        si = p.org[:, x_cols]
        size = incidence.sum(axis=0)
        enough = n >= MIN_ALPHA_RESPONDENTS
        nn = np.where(enough, n, 2.0)
        var_items = (sq - _product(si * si, incidence, np.empty((len(si), incidence.shape[1]))) / nn) / (nn - 1)
        var_total = (qt - st * st / nn) / (nn - 1)
        ok = enough & (var_total > 1e-12) & (size >= 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(ok, size / (size - 1) * (1 - var_items / np.where(ok, var_total, 1.0)), np.nan))
    return out[0], out[1]


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
    """The barrier of every organization: :func:`choose_barrier`, for all of them at once."""
    n_f = len(layout.facet_ids)
    score = org_facet
    below = np.isfinite(score) & (score < threshold)
    # a facet without an interval counts as the point interval of its score
    low = np.where(np.isfinite(ci[:, 0, :n_f]), ci[:, 0, :n_f], score)
    high = np.where(np.isfinite(ci[:, 1, :n_f]), ci[:, 1, :n_f], score)
    rows = np.arange(len(score))
    weakest = np.where(below, score, np.inf).argmin(axis=1)  # the first of equal lowest scores
    tied = below & (low <= high[rows, weakest][:, None]) & (low[rows, weakest][:, None] <= high)
    dims = [facet.split(".", 1)[0] for facet in layout.facet_ids]
    rank = np.array([DIMENSIONS.index(d) if d in DIMENSIONS else len(DIMENSIONS) for d in dims]) * n_f + np.arange(n_f)
    first = np.where(tied, rank, np.iinfo(np.int64).max).argmin(axis=1)
    ids = list(layout.facet_ids)
    return [ids[f] if hit else None for f, hit in zip(first, below.any(axis=1))]


def _by_role_frame(
    org_ids, layout, g_org, g_role, role_mean, role_n, role_dim, role_overall, role_dim_n, role_overall_n, g_size
) -> pd.DataFrame:
    """Facet rows, then dimension rows, then overall rows, each group by group.

    ``n`` counts the role's respondents with a score in the block (what the role minimum
    counts), ``listed`` all of the role's respondents.
    """
    n_g, n_f, n_d = len(g_org), len(layout.facet_ids), len(layout.dimension_ids)
    orgs = np.array(org_ids, dtype=object)[g_org]
    roles = np.array(layout.role_ids, dtype=object)[g_role]
    sizes = (n_g * n_f, n_g * n_d, n_g)
    return pd.DataFrame(
        {
            "org_id": np.concatenate([np.repeat(orgs, n_f), np.repeat(orgs, n_d), orgs]),
            "level": np.repeat(np.array(["facet", "dimension", "overall"], dtype=object), sizes),
            "id": np.concatenate(
                [
                    np.tile(np.array(layout.facet_ids, dtype=object), n_g),
                    np.tile(np.array(layout.dimension_ids, dtype=object), n_g),
                    np.full(n_g, "overall", dtype=object),
                ]
            ),
            "role": np.concatenate([np.repeat(roles, n_f), np.repeat(roles, n_d), roles]),
            "score": np.concatenate([role_mean.ravel(), role_dim.ravel(), role_overall]),
            "n": np.concatenate([role_n.ravel(), role_dim_n.ravel(), role_overall_n]).astype(np.int64),
            "listed": np.concatenate([np.repeat(g_size, n_f), np.repeat(g_size, n_d), g_size]).astype(np.int64),
        },
        copy=False,
    )


def _facet_dont_know(p: _Pass, layout: Layout, g_role: np.ndarray, g_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per organization and facet: questions asked, and those answered "don't know"."""
    n_f = len(layout.facet_ids)
    if len(p.o_start) == 0:
        return np.zeros((0, n_f), np.int64), np.zeros((0, n_f), np.int64)
    # Questions asked depend on the role alone: respondents per role times items per role.
    per_role = layout.asked.astype(np.int64) @ layout.item_by_facet.astype(np.int64)  # (roles, facets)
    asked = np.add.reduceat(g_size[:, None] * per_role[g_role], p.o_start, axis=0)
    dont_know = np.add.reduceat(p.counts["dont_know_f"], p.o_start, axis=0)
    return asked, dont_know


def _answer_counts(responses: Responses, p: _Pass, g_start, g_org, g_role, g_size) -> pd.DataFrame:
    layout = responses.instrument.layout
    a, m, d = (p.counts[name][:, 0] for name in ("answered", "not_applicable", "dont_know"))
    t = g_size * layout.asked.sum(axis=1)[g_role].astype(np.int64)  # items asked of the group's role
    return pd.DataFrame(
        {
            "org_id": np.array(responses.org_ids, dtype=object)[g_org] if len(g_org) else np.array([], object),
            "role": np.array(layout.role_ids, dtype=object)[g_role] if len(g_role) else np.array([], object),
            "n": g_size,
            "answered": a,
            "not_applicable": m,
            "dont_know": d,
            "unanswered": t - a - m - d,
        },
        copy=False,
    )
