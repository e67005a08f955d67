"""Driver analysis on peer data: which readiness dimensions go with better KPIs.

Core layer: pure functions over the peer table (:func:`readiness.core.benchmark.peer_table`,
one row per peer organization). Nothing here reads files, prints or plots. The method is
described for users in ``docs/drivers.md``; in short, for each outcome KPI:

1. **Model** — OLS of the KPI on the four dimension scores (in points, 0–100) with
   dummy-coded controls for industry and size band (drop-first, categories sorted), a
   constant, and HC3 heteroskedasticity-consistent standard errors. Organizations with a
   missing KPI, dimension score or control are left out of that model.
2. **Relative importance** — general dominance of the four dimensions, with the controls
   always in the model (see :func:`driver_analysis`).
3. **Collinearity** — variance inflation factor of each dimension; above 5 is flagged.
4. **Impact weights** — a per-dimension weight for the roadmap, from the dominance shares
   of the dimensions that move each KPI in the expected direction, rescaled to mean 1.

A model needs at least :data:`MIN_ORGS` organizations with complete data; below that it
is skipped, and a design that cannot be estimated is reported as failed. Neither raises:
data problems become a ``status`` and a ``reason`` and a line in ``warnings``.

These are associations among peers, not causal effects.

Example
-------
>>> res = driver_analysis(peer_table(scores, profiles))            # doctest: +SKIP
>>> res.models[["outcome", "n", "r2", "status"]]                    # doctest: +SKIP
>>> res.impact                                                      # doctest: +SKIP
{'people': 1.42, 'process': 1.1, 'technology': 0.51, 'knowledge': 0.97}
"""

from __future__ import annotations

import itertools
import math
import warnings as _pywarnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .instrument import DIMENSIONS
from .profile import KPI_DIRECTIONS, RANKED_KPIS
from .profile import STAGES as _STAGES
from .results import clean_number

__all__ = [
    "DIMENSIONS",
    "KPI_DIRECTIONS",
    "MIN_ORGS",
    "VIF_LIMIT",
    "DriverResults",
    "driver_analysis",
    "stage_model",
]

#: Fewest organizations with complete data a model is fitted on.
MIN_ORGS = 30
#: A dimension whose variance inflation factor exceeds this is flagged as collinear.
VIF_LIMIT = 5.0
#: Leverage this close to 1 makes the HC3 weight e²/(1−h)² numerically meaningless.
_MAX_LEVERAGE = 1.0 - 1e-8
#: A stage-model SE above this (logit per score point) only arises from separation:
#: with 0-100 scores, real data pin a per-point log-odds far more tightly.
_MAX_STAGE_SE = 10.0
_DIGITS = 4

_MODEL_COLUMNS = ["outcome", "n", "r2", "adj_r2", "status", "reason"]
_COEF_COLUMNS = ["outcome", "term", "coef", "se", "ci_low", "ci_high", "p_value"]
_IMPORTANCE_COLUMNS = ["outcome", "dimension", "dominance", "share"]
_VIF_COLUMNS = ["outcome", "dimension", "vif", "flag"]

METHOD = (
    "OLS of each KPI on the four dimension scores (points) with industry and size-band "
    "dummies (drop-first), HC3 standard errors, 95% normal intervals; relative importance "
    "by general dominance (R² increments, controls always in); VIF flag above 5; at least "
    f"{MIN_ORGS} organizations with complete data per model. Associations among peers, "
    "not causal effects."
)


@dataclass(frozen=True, eq=False)  # frames do not compare or hash as values
class DriverResults:
    """Everything :func:`driver_analysis` finds, as tidy frames with fixed columns.

    Attributes
    ----------
    models : one row per outcome: ``outcome, n, r2, adj_r2, status, reason``; ``status``
        is ``"ok"``, ``"skipped"`` (too few organizations) or ``"failed"`` (the design
        cannot be estimated), with the ``reason`` in words when not ok.
    coefficients : ``outcome, term, coef, se, ci_low, ci_high, p_value`` for every term of
        every ok model (the four dimensions, then the control dummies such as
        ``industry[technology]``); ``se`` is HC3.
    importance : ``outcome, dimension, dominance, share`` — general dominance (a share of
        R²) and its share of the four dimensions' total.
    vif : ``outcome, dimension, vif, flag`` (``flag`` when ``vif > 5``).
    impact : dimension -> impact weight for the roadmap (mean 1), or ``{}`` when no model
        is ok or none moves a KPI the right way.
    warnings : readable lines, one per problem.
    stage : the ordered-logit stage model (:func:`stage_model`) when the table has a
        ``stage`` column, else ``None``.
    """

    models: pd.DataFrame
    coefficients: pd.DataFrame
    importance: pd.DataFrame
    vif: pd.DataFrame
    impact: dict[str, float]
    warnings: tuple[str, ...]
    stage: dict[str, Any] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict for results.json ``drivers``: floats to 4 decimals, NaN as ``None``."""
        doc: dict[str, Any] = {
            "models": _records(self.models),
            "coefficients": _records(self.coefficients),
            "importance": _records(self.importance),
            "vif": _records(self.vif),
            "impact": {d: _clean(w) for d, w in self.impact.items()},
        }
        if self.stage is not None:
            doc["stage_model"] = self.stage
        doc["warnings"] = list(self.warnings)
        doc["method"] = METHOD
        return doc


# ---------------------------------------------------------------------- public API
def driver_analysis(
    peers: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    min_orgs: int = MIN_ORGS,
    controls: Sequence[str] = ("industry", "size_band"),
) -> DriverResults:
    """Regress each outcome KPI on the four dimensions among peers, and rank the dimensions.

    For each outcome, ``y = b0 + Σ_d b_d · score_d + controls + e`` is fitted by OLS
    (``statsmodels``) with HC3 standard errors. Controls are dummy-coded: for each control
    column, its categories among the model's organizations are sorted and the first is the
    reference. An organization is left out of a model when its KPI, any dimension score or
    any control is missing. An organization that is alone in its control category is also
    left out (with a warning): its dummy fits it exactly, so it says nothing about the
    dimensions, and its leverage of 1 makes HC3 undefined.

    **General dominance.** With the controls ``C`` always in the model, for every subset
    ``S`` of the four dimensions let ``R²(S)`` be the R² of ``y ~ const + C + S`` (16
    least-squares fits on the model's organizations). The general dominance of dimension
    ``d`` is the average over subset sizes ``k = 0..3`` of the mean increment
    ``R²(S ∪ {d}) − R²(S)`` over the subsets ``S`` of size ``k`` without ``d``. The four
    dominances add up to ``R²(all four) − R²(controls only)``; ``share`` is a dimension's
    dominance divided by that sum.

    **Impact weights** (for :func:`readiness.core.roadmap.plan`). For each ok model of a known
    KPI, a dimension contributes its ``share`` when its coefficient points the better way
    (positive for higher-is-better KPIs, negative for abandon rate and agent attrition)
    and 0 otherwise. Context KPIs (handle time) have no better way and are not modelled
    by default. The weight is the mean contribution over those
    models, rescaled so the four weights average 1 — the scale of the playbook's default
    dimension impacts.

    Parameters
    ----------
    peers : one row per peer organization (index ``org_id``) with the four dimension
        scores, the control columns and KPI columns.
    outcomes : the KPI columns to model; default every ranked KPI
        (:data:`~readiness.core.profile.RANKED_KPIS`) in the table that has at least one
        value. Other numeric columns (a context KPI such as handle time) may be named; they
        are modelled but, having no better direction, do not count towards impact.
    min_orgs : fewest organizations with complete data a model is fitted on.
    controls : categorical columns always in the model. One that is not in the table is
        left out with a warning.

    Returns
    -------
    DriverResults
        Never raises for data reasons: problems are a model's ``status`` and ``reason``.

    Examples
    --------
    >>> res = driver_analysis(table, outcomes=["sales_conversion_rate"])   # doctest: +SKIP
    >>> res.importance.sort_values("share", ascending=False).iloc[0]["dimension"]   # doctest: +SKIP
    'people'
    """
    notes: list[str] = []
    missing_dims = [d for d in DIMENSIONS if d not in peers.columns]
    used_controls: list[str] = []
    for name in controls:
        if name in peers.columns:
            used_controls.append(name)
        else:
            notes.append(f"control {name!r} is not in the peer table: models do not control for it")
    if outcomes is None:
        outcomes = [k for k in RANKED_KPIS if k in peers.columns and _numeric(peers[k]).notna().any()]
        if not outcomes:
            notes.append("no KPI columns with data in the peer table: no driver models")

    model_rows: list[dict[str, Any]] = []
    coef_rows: list[dict[str, Any]] = []
    imp_rows: list[dict[str, Any]] = []
    vif_rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        fit = _fit_outcome(peers, outcome, missing_dims, used_controls, min_orgs)
        model_rows.append(fit["model"])
        coef_rows.extend(fit["coefficients"])
        imp_rows.extend(fit["importance"])
        vif_rows.extend(fit["vif"])
        notes.extend(fit["warnings"])

    models = pd.DataFrame(model_rows, columns=_MODEL_COLUMNS)
    models["n"] = models["n"].astype(int)
    importance = pd.DataFrame(imp_rows, columns=_IMPORTANCE_COLUMNS)
    coefficients = pd.DataFrame(coef_rows, columns=_COEF_COLUMNS)
    impact, impact_note = _impact(models, coefficients, importance)
    if impact_note:
        notes.append(impact_note)
    stage = stage_model(peers, min_orgs=min_orgs) if "stage" in peers.columns else None
    return DriverResults(
        models=models,
        coefficients=coefficients,
        importance=importance,
        vif=pd.DataFrame(vif_rows, columns=_VIF_COLUMNS),
        impact=impact,
        warnings=tuple(notes),
        stage=stage,
    )


def stage_model(peers: pd.DataFrame, *, min_orgs: int = MIN_ORGS) -> dict[str, Any]:
    """Ordered logit of the transition stage on the four dimension scores.

    ``stage`` (``not_considering < considering < transitioning < established``; only the
    stages present are used) is modelled with ``statsmodels``' ``OrderedModel`` (logit
    link, no constant: the thresholds play its part), fitted by BFGS. A positive
    coefficient means that a higher score on that dimension goes with a later stage.

    Parameters
    ----------
    peers : the peer table, with ``stage`` and the four dimension columns.
    min_orgs : fewest organizations with a stage and all four scores.

    Returns
    -------
    dict
        JSON-safe: ``status`` (``"ok"``, ``"skipped"``, ``"failed"``), ``reason``, ``n``,
        ``levels``, and when ok ``coefficients`` (``term, coef, se, ci_low, ci_high,
        p_value``), ``thresholds``, ``pseudo_r2`` and ``counts`` per stage. Skipped when
        there are too few organizations or fewer than two stages; failed when the fit
        raises, does not converge, gives non-finite numbers, or gives a dimension an SE
        above 10 log-odds per point (the mark of scores that separate the stages).
    """
    doc: dict[str, Any] = {
        "outcome": "stage",
        "method": "ordered logit (statsmodels OrderedModel, BFGS)",
        "status": "skipped",
        "reason": None,
        "n": 0,
        "levels": [],
    }
    missing = [c for c in ("stage", *DIMENSIONS) if c not in peers.columns]
    if missing:
        doc["reason"] = f"column(s) {', '.join(missing)} not in the peer table"
        return doc
    stage = peers["stage"].astype(object).where(peers["stage"].notna(), None)
    known = stage.isin(_STAGES).to_numpy()
    scores = np.column_stack([_numeric(peers[d]).to_numpy(dtype=float) for d in DIMENSIONS])
    keep = known & np.isfinite(scores).all(axis=1)
    n = int(keep.sum())
    doc["n"] = n
    levels = [s for s in _STAGES if (stage[keep] == s).any()]
    doc["levels"] = levels
    if n < min_orgs:
        doc["reason"] = f"{n} organizations with a stage and all four scores (at least {min_orgs} needed)"
        return doc
    if len(levels) < 2:
        doc["reason"] = "fewer than two stages among the organizations"
        return doc
    codes = np.array([levels.index(s) for s in stage[keep]], dtype=float)
    exog = pd.DataFrame(scores[keep], columns=list(DIMENSIONS))
    doc["counts"] = {s: int((codes == i).sum()) for i, s in enumerate(levels)}
    try:
        from statsmodels.miscmodels.ordinal_model import OrderedModel

        with _pywarnings.catch_warnings():
            # Convergence is judged from mle_retvals below, not from printed warnings.
            _pywarnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                model = OrderedModel(codes, exog, distr="logit")
                res = model.fit(method="bfgs", disp=False, maxiter=2000)
                ci = np.asarray(res.conf_int())
                bse = np.asarray(res.bse, dtype=float)
                pvalues = np.asarray(res.pvalues, dtype=float)
                params = np.asarray(res.params, dtype=float)
                thresholds = np.asarray(model.transform_threshold_params(params), dtype=float)[1:-1]
                prsquared = float(res.prsquared)
    except Exception as exc:
        doc.update(status="failed", reason=f"the fit raised {type(exc).__name__}: {exc}")
        return doc
    if not bool(res.mle_retvals.get("converged", False)):
        doc.update(status="failed", reason="the ordered logit did not converge")
        return doc
    k = len(DIMENSIONS)
    if not (np.isfinite(params).all() and np.isfinite(bse[:k]).all() and np.isfinite(thresholds).all()):
        doc.update(status="failed", reason="non-finite estimates (do the scores separate the stages perfectly?)")
        return doc
    if bse[:k].max() > _MAX_STAGE_SE:
        # Separation lets the likelihood climb without bound; BFGS then stops at some huge
        # coefficient with a huge SE and calls it converged.
        doc.update(status="failed", reason="unstable estimates: the scores (nearly) separate the stages")
        return doc
    doc.update(status="ok", reason=None, pseudo_r2=_clean(prsquared))
    doc["coefficients"] = [
        {
            "term": d,
            "coef": _clean(params[i]),
            "se": _clean(bse[i]),
            "ci_low": _clean(ci[i, 0]),
            "ci_high": _clean(ci[i, 1]),
            "p_value": _clean(pvalues[i]),
        }
        for i, d in enumerate(DIMENSIONS)
    ]
    doc["thresholds"] = [
        {"between": f"{levels[i]}|{levels[i + 1]}", "value": _clean(t)} for i, t in enumerate(thresholds)
    ]
    return doc


# ---------------------------------------------------------------------- one outcome
def _fit_outcome(
    peers: pd.DataFrame, outcome: str, missing_dims: list[str], controls: list[str], min_orgs: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"coefficients": [], "importance": [], "vif": [], "warnings": []}

    def finish(
        status: str, n: int, reason: str | None = None, r2: float = math.nan, adj: float = math.nan
    ) -> dict[str, Any]:
        out["model"] = {"outcome": outcome, "n": n, "r2": r2, "adj_r2": adj, "status": status, "reason": reason}
        if reason:
            out["warnings"].append(f"{outcome}: {status}, {reason}")
        return out

    if outcome not in peers.columns:
        return finish("skipped", 0, "not in the peer table")
    if missing_dims:
        return finish("skipped", 0, f"dimension score(s) {', '.join(missing_dims)} not in the peer table")

    y_all = _numeric(peers[outcome]).to_numpy(dtype=float)
    dims_all = np.column_stack([_numeric(peers[d]).to_numpy(dtype=float) for d in DIMENSIONS])
    ctrl_all = {c: _labels(peers[c]) for c in controls}
    keep = np.isfinite(y_all) & np.isfinite(dims_all).all(axis=1)
    for labels in ctrl_all.values():
        keep &= labels != ""

    # Alone in a category: the dummy absorbs the organization exactly (no information on
    # the dimensions) and h_ii = 1 leaves HC3 undefined. Dropping one may isolate another.
    dropped = 0
    while True:
        lonely = np.zeros_like(keep)
        for labels in ctrl_all.values():
            values, counts = np.unique(labels[keep], return_counts=True)
            for value in values[counts == 1]:
                lonely |= keep & (labels == value)
        if not lonely.any():
            break
        dropped += int(lonely.sum())
        keep &= ~lonely
    if dropped:
        out["warnings"].append(
            f"{outcome}: left out {dropped} organization(s) alone in their industry or size band "
            "(a category of one carries no information on the dimensions and makes HC3 undefined)"
        )

    n = int(keep.sum())
    if n < min_orgs:
        return finish("skipped", n, f"{n} organizations with complete data (at least {min_orgs} needed)")

    y = y_all[keep]
    dims = dims_all[keep]
    dummies, dummy_names = _dummies({c: lab[keep] for c, lab in ctrl_all.items()}, n)
    base = np.column_stack([np.ones(n), dummies])  # always in the model: const and controls
    X = np.column_stack([base[:, :1], dims, base[:, 1:]])
    terms = ["const", *DIMENSIONS, *dummy_names]
    p = X.shape[1]

    # VIF before any verdict, so a collinear design that fails still shows why.
    vif = _vif(X)
    for j, d in enumerate(DIMENSIONS):
        out["vif"].append({"outcome": outcome, "dimension": d, "vif": vif[j], "flag": bool(vif[j] > VIF_LIMIT)})
    flagged = [(d, vif[j]) for j, d in enumerate(DIMENSIONS) if vif[j] > VIF_LIMIT]
    if flagged:
        listed = ", ".join(f"{d} ({v:.1f})" if np.isfinite(v) else f"{d} (inf)" for d, v in flagged)
        out["warnings"].append(
            f"{outcome}: collinear dimension scores, VIF above {VIF_LIMIT:g}: {listed}; "
            "their separate coefficients and shares are uncertain"
        )

    if n <= p:
        return finish("skipped", n, f"{n} organizations for {p} terms: no residual degrees of freedom")
    rank = int(np.linalg.matrix_rank(X))
    if rank < p:
        return finish(
            "failed",
            n,
            f"the design is rank-deficient (rank {rank} of {p} terms): "
            "some scores or controls are exact combinations of others",
        )
    if not np.ptp(y) > 0:
        return finish("failed", n, f"{outcome} has the same value for all {n} organizations")

    try:
        import statsmodels.api as sm

        with _pywarnings.catch_warnings(), np.errstate(all="ignore"):
            _pywarnings.simplefilter("ignore")
            res = sm.OLS(y, X).fit(cov_type="HC3")
            params = np.asarray(res.params, dtype=float)
            bse = np.asarray(res.bse, dtype=float)
            ci = np.asarray(res.conf_int(alpha=0.05), dtype=float)
            pvalues = np.asarray(res.pvalues, dtype=float)
            r2, adj = float(res.rsquared), float(res.rsquared_adj)
            leverage = np.asarray(res.get_influence().hat_matrix_diag, dtype=float)
    except Exception as exc:
        return finish("failed", n, f"the fit raised {type(exc).__name__}: {exc}")
    if leverage.max() > _MAX_LEVERAGE:
        return finish("failed", n, "an organization has leverage 1 (HC3 standard errors are undefined)")
    numbers = np.concatenate([params, bse, ci.ravel(), pvalues, [r2, adj]])
    if not np.isfinite(numbers).all():
        return finish("failed", n, "the fit gave non-finite estimates")

    for j, term in enumerate(terms):
        if term == "const":
            continue  # the intercept is not a driver and depends on the reference categories
        out["coefficients"].append(
            {
                "outcome": outcome,
                "term": term,
                "coef": params[j],
                "se": bse[j],
                "ci_low": ci[j, 0],
                "ci_high": ci[j, 1],
                "p_value": pvalues[j],
            }
        )
    dominance = _general_dominance(y, base, dims)
    total = float(dominance.sum())
    for j, d in enumerate(DIMENSIONS):
        share = dominance[j] / total if total > 0 else math.nan
        out["importance"].append({"outcome": outcome, "dimension": d, "dominance": dominance[j], "share": share})
    return finish("ok", n, None, r2, adj)


def _general_dominance(y: np.ndarray, base: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """General dominance of each column of ``dims`` with ``base`` (const + controls) always in.

    Subsets are bit masks over the dimensions; ``r2[mask]`` is the R² of base + that
    subset. Plain least squares: only the fit matters here, not standard errors.
    """
    k = dims.shape[1]
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = np.empty(1 << k)
    for mask in range(1 << k):
        cols = [j for j in range(k) if mask >> j & 1]
        X = np.column_stack([base, dims[:, cols]]) if cols else base
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        r2[mask] = 1.0 - float(resid @ resid) / sst
    dominance = np.zeros(k)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        by_size = []
        for size in range(k):
            gains = [r2[_mask(s) | 1 << j] - r2[_mask(s)] for s in itertools.combinations(others, size)]
            by_size.append(np.mean(gains))
        dominance[j] = float(np.mean(by_size))
    return dominance


def _mask(indices: Sequence[int]) -> int:
    return sum(1 << i for i in indices)


def _vif(X: np.ndarray) -> np.ndarray:
    """VIF of the dimension columns (1..4) of the full design, constant included."""
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    out = np.empty(len(DIMENSIONS))
    with _pywarnings.catch_warnings(), np.errstate(all="ignore"):
        # An exact collinearity gives R² = 1 and a division by zero: VIF is then infinite.
        _pywarnings.simplefilter("ignore")
        for j in range(len(DIMENSIONS)):
            try:
                out[j] = float(variance_inflation_factor(X, j + 1))
            except Exception:
                out[j] = math.nan
    # VIF >= 1 in exact arithmetic; a negative value is R² rounding just above 1, i.e. exact collinearity.
    out[out < 0] = math.inf
    return out


def _impact(
    models: pd.DataFrame, coefficients: pd.DataFrame, importance: pd.DataFrame
) -> tuple[dict[str, float], str | None]:
    ok = [o for o in models.loc[models["status"] == "ok", "outcome"] if o in RANKED_KPIS]
    if not ok:
        return {}, None
    total = dict.fromkeys(DIMENSIONS, 0.0)
    for outcome in ok:
        sign = 1.0 if KPI_DIRECTIONS[outcome] == "higher" else -1.0
        coefs = coefficients[coefficients["outcome"] == outcome].set_index("term")["coef"]
        shares = importance[importance["outcome"] == outcome].set_index("dimension")["share"]
        for d in DIMENSIONS:
            share = float(shares.get(d, math.nan))
            # Only a dimension that moves the KPI the better way earns its share.
            if np.isfinite(share) and sign * float(coefs[d]) > 0:
                total[d] += share
    mean = {d: v / len(ok) for d, v in total.items()}
    level = float(np.mean(list(mean.values())))
    if not level > 0:
        return {}, "impact: no dimension goes with better KPIs among peers; the playbook's default weights apply"
    weights = {d: v / level for d, v in mean.items()}
    zero = [d for d, w in weights.items() if w == 0]
    note = None
    if zero:
        # Worth saying out loud: a zero weight zeroes the priority of that dimension's actions.
        note = f"impact: {', '.join(zero)} went with no KPI in the better direction among peers; impact weight 0"
    return weights, note


# ---------------------------------------------------------------------- small pieces
def _numeric(column: pd.Series) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce").astype(float)
    return values.where(np.isfinite(values))


def _labels(column: pd.Series) -> np.ndarray:
    """Control values as stripped strings, ``""`` where missing."""
    values = column.astype(object)
    return np.array(
        ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip() for v in values], dtype=object
    )


def _dummies(controls: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, list[str]]:
    """Drop-first dummy coding over sorted categories, named ``control[category]``."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    for name, labels in controls.items():
        for level in sorted(set(labels.tolist()))[1:]:
            columns.append((labels == level).astype(float))
            names.append(f"{name}[{level}]")
    return (np.column_stack(columns) if columns else np.empty((n, 0))), names


def _clean(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) or value is None:
        return value
    return clean_number(value, _DIGITS)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
