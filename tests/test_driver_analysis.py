"""Driver analysis: numbers checked against independent numpy / statsmodels computations."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core.driver_analysis import (
    DIMENSIONS,
    KPI_DIRECTIONS,
    MIN_ORGS,
    DriverResults,
    driver_analysis,
    stage_model,
)

INDUSTRIES = ("financial_services", "technology", "manufacturing")
BANDS = ("<=50", "51-150", ">500")
INDUSTRY_EFFECT = {"financial_services": 0.0, "technology": 4.0, "manufacturing": -2.0}


def make_peers(
    n: int = 120, seed: int = 0, effects: dict[str, dict[str, float]] | None = None, noise: float = 3.0
) -> pd.DataFrame:
    """Synthetic peers: KPI = 10 + Σ effect_d × score_d + industry effect + noise."""
    rng = np.random.default_rng(seed)
    if effects is None:
        effects = {"sales_conversion_rate": {"people": 0.4, "process": 0.15, "technology": 0.0, "knowledge": 0.1}}
    frame = pd.DataFrame(
        {"industry": rng.choice(INDUSTRIES, n), "size_band": rng.choice(BANDS, n)},
        index=pd.Index([f"org{i:03d}" for i in range(n)], name="org_id"),
    )
    for d in DIMENSIONS:
        frame[d] = rng.uniform(10, 95, n)
    for kpi, beta in effects.items():
        signal = sum(beta.get(d, 0.0) * frame[d] for d in DIMENSIONS)
        frame[kpi] = 10 + signal + frame["industry"].map(INDUSTRY_EFFECT) + rng.normal(0, noise, n)
    return frame


def design(frame: pd.DataFrame, outcome: str) -> tuple[np.ndarray, pd.DataFrame]:
    """The documented design built a second way: pandas dummies on sorted categoricals."""
    parts = [pd.Series(1.0, index=frame.index, name="const"), frame[list(DIMENSIONS)]]
    for control in ("industry", "size_band"):
        cat = pd.Categorical(frame[control], categories=sorted(frame[control].unique()))
        dummies = pd.get_dummies(cat, drop_first=True, dtype=float)
        dummies.columns = [f"{control}[{c}]" for c in dummies.columns]
        dummies.index = frame.index
        parts.append(dummies)
    return frame[outcome].to_numpy(float), pd.concat(parts, axis=1)


def coef_table(res: DriverResults, outcome: str) -> pd.DataFrame:
    return res.coefficients[res.coefficients["outcome"] == outcome].set_index("term")


def r_squared(y: np.ndarray, X: np.ndarray) -> float:
    return float(sm.OLS(y, X).fit().rsquared)


# ---------------------------------------------------------------------- the model
def test_coefficients_equal_numpy_least_squares():
    peers = make_peers()
    y, X = design(peers, "sales_conversion_rate")
    beta, *_ = np.linalg.lstsq(X.to_numpy(), y, rcond=None)
    expected = pd.Series(beta, index=X.columns).drop("const")
    got = coef_table(driver_analysis(peers), "sales_conversion_rate")
    assert list(got.index) == list(expected.index)  # dimensions, then sorted drop-first dummies
    np.testing.assert_allclose(got["coef"].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-8)


def test_hc3_standard_errors_equal_the_sandwich():
    peers = make_peers(n=80, seed=3)
    y, X = design(peers, "sales_conversion_rate")
    Xa = X.to_numpy()
    bread = np.linalg.inv(Xa.T @ Xa)
    e = y - Xa @ (bread @ Xa.T @ y)
    h = np.einsum("ij,jk,ik->i", Xa, bread, Xa)
    meat = Xa.T @ (Xa * (e**2 / (1 - h) ** 2)[:, None])
    se = pd.Series(np.sqrt(np.diag(bread @ meat @ bread)), index=X.columns).drop("const")
    got = coef_table(driver_analysis(peers), "sales_conversion_rate")
    np.testing.assert_allclose(got["se"].to_numpy(), se.to_numpy(), rtol=0, atol=1e-8)
    # 95% normal intervals around the estimate
    np.testing.assert_allclose(got["ci_high"] - got["coef"], 1.959963984540054 * got["se"], atol=1e-8)


def test_r2_and_n_reported():
    peers = make_peers(n=90, seed=5)
    y, X = design(peers, "sales_conversion_rate")
    beta, *_ = np.linalg.lstsq(X.to_numpy(), y, rcond=None)
    resid = y - X.to_numpy() @ beta
    r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    row = driver_analysis(peers).models.iloc[0]
    assert row["status"] == "ok" and row["reason"] is None and row["n"] == 90
    assert row["r2"] == pytest.approx(r2, abs=1e-10)
    assert row["adj_r2"] == pytest.approx(1 - (1 - r2) * (90 - 1) / (90 - X.shape[1]), abs=1e-10)


# ---------------------------------------------------------------------- dominance
def shapley_dominance(y: np.ndarray, X: pd.DataFrame) -> dict[str, float]:
    """General dominance via Shapley weights |S|!(k−|S|−1)!/k! over statsmodels R² fits."""
    base = [c for c in X.columns if c not in DIMENSIONS]
    k = len(DIMENSIONS)
    r2 = {}
    for size in range(k + 1):
        for subset in itertools.combinations(DIMENSIONS, size):
            r2[frozenset(subset)] = r_squared(y, X[base + list(subset)].to_numpy())
    out = {}
    for d in DIMENSIONS:
        others = [o for o in DIMENSIONS if o != d]
        value = 0.0
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in itertools.combinations(others, size):
                value += weight * (r2[frozenset(subset) | {d}] - r2[frozenset(subset)])
        out[d] = value
    return out


def test_dominance_matches_an_independent_computation_and_sums_to_the_r2_gain():
    peers = make_peers(n=150, seed=7)
    y, X = design(peers, "sales_conversion_rate")
    res = driver_analysis(peers)
    imp = res.importance.set_index("dimension")
    expected = shapley_dominance(y, X)
    for d in DIMENSIONS:
        assert imp.loc[d, "dominance"] == pytest.approx(expected[d], abs=1e-10)
    controls_only = r_squared(y, X.drop(columns=list(DIMENSIONS)).to_numpy())
    full = r_squared(y, X.to_numpy())
    assert imp["dominance"].sum() == pytest.approx(full - controls_only, abs=1e-10)
    assert imp["share"].sum() == pytest.approx(1.0, abs=1e-12)
    # technology has no true effect, people the largest
    assert imp.loc["technology", "share"] < imp.loc["people", "share"]
    assert imp["share"].idxmax() == "people"


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_dominance_is_nonnegative_and_order_independent(seed):
    peers = make_peers(n=40, seed=seed, noise=20.0)
    res = driver_analysis(peers)
    shuffled = driver_analysis(peers.sample(frac=1.0, random_state=seed % 1000))
    assert (res.importance["dominance"] >= -1e-12).all()
    np.testing.assert_allclose(res.importance["dominance"], shuffled.importance["dominance"], atol=1e-10)
    np.testing.assert_allclose(res.coefficients["coef"], shuffled.coefficients["coef"], atol=1e-8)


# ---------------------------------------------------------------------- minimum n, failures
def test_29_complete_orgs_are_skipped_and_30_run():
    peers = make_peers(n=60, seed=11)
    peers.loc[peers.index[29:], "sales_conversion_rate"] = np.nan  # 29 complete
    res = driver_analysis(peers)
    row = res.models.iloc[0]
    assert row["status"] == "skipped" and row["n"] == 29
    assert "at least 30" in row["reason"]
    assert any("sales_conversion_rate" in w and "skipped" in w for w in res.warnings)
    assert res.coefficients.empty and res.importance.empty and res.impact == {}

    peers.loc[peers.index[29], "sales_conversion_rate"] = 50.0  # now 30
    res = driver_analysis(peers)
    assert res.models.iloc[0]["status"] == "ok" and res.models.iloc[0]["n"] == MIN_ORGS


def test_identical_dimension_columns_fail_without_raising():
    peers = make_peers(n=60, seed=13)
    peers["knowledge"] = peers["process"]
    res = driver_analysis(peers)
    row = res.models.iloc[0]
    vif = res.vif.set_index("dimension")
    assert row["status"] == "failed" or vif["flag"].any()
    assert row["status"] == "failed" and "rank" in row["reason"]
    assert bool(vif.loc["process", "flag"]) and bool(vif.loc["knowledge", "flag"])
    assert any("VIF" in w for w in res.warnings)
    assert res.impact == {}
    json.dumps(res.to_json(), allow_nan=False)


def test_vif_matches_statsmodels_and_flags_collinearity():
    peers = make_peers(n=100, seed=17)
    rng = np.random.default_rng(1)
    peers["knowledge"] = peers["people"] + rng.normal(0, 4, len(peers))  # strongly collinear
    y, X = design(peers, "sales_conversion_rate")
    res = driver_analysis(peers)
    vif = res.vif.set_index("dimension")
    for d in DIMENSIONS:
        others = X.drop(columns=[d])
        r2 = r_squared(X[d].to_numpy(), others.to_numpy())
        assert vif.loc[d, "vif"] == pytest.approx(1 / (1 - r2), rel=1e-9)
    assert bool(vif.loc["people", "flag"]) and not bool(vif.loc["technology", "flag"])
    assert any("collinear" in w and "people" in w for w in res.warnings)


def test_messy_data_never_raises():
    peers = make_peers(
        n=80, seed=19, effects={"sales_conversion_rate": {"people": 0.3}, "abandon_rate": {"process": -0.1}}
    )
    peers["industry"] = peers["industry"].astype(object)
    peers.iloc[:5, peers.columns.get_loc("industry")] = None
    peers.iloc[5:8, peers.columns.get_loc("people")] = np.nan
    peers.iloc[8, peers.columns.get_loc("industry")] = "utilities"  # a category of one
    peers["customer_satisfaction"] = 70.0  # no variation
    peers["service_level"] = np.nan  # no data: not a default outcome
    res = driver_analysis(
        peers,
        outcomes=["sales_conversion_rate", "customer_satisfaction", "missing_kpi", "abandon_rate"],
        controls=("industry", "size_band", "region"),
    )
    status = res.models.set_index("outcome")["status"]
    assert status.to_dict() == {
        "sales_conversion_rate": "ok",
        "customer_satisfaction": "failed",
        "missing_kpi": "skipped",
        "abandon_rate": "ok",
    }
    assert res.models.set_index("outcome").loc["sales_conversion_rate", "n"] == 80 - 5 - 3 - 1
    assert any("region" in w for w in res.warnings)
    assert any("alone in their industry" in w for w in res.warnings)
    assert not any("utilities" in t for t in res.coefficients["term"])
    defaults = driver_analysis(peers)
    assert "service_level" not in set(defaults.models["outcome"])
    json.dumps(res.to_json(), allow_nan=False)


def test_a_category_of_one_does_not_change_the_dimension_coefficients():
    peers = make_peers(n=60, seed=23)
    peers["industry"] = peers["industry"].astype(object)
    peers.iloc[0, peers.columns.get_loc("industry")] = "utilities"
    y, X = design(peers, "sales_conversion_rate")  # keeps the lone org, with its own dummy
    beta, *_ = np.linalg.lstsq(X.to_numpy(), y, rcond=None)
    got = coef_table(driver_analysis(peers), "sales_conversion_rate")
    expected = pd.Series(beta, index=X.columns)[list(DIMENSIONS)]
    np.testing.assert_allclose(got.loc[list(DIMENSIONS), "coef"], expected, atol=1e-8)


def test_no_kpi_columns_gives_empty_frames():
    peers = make_peers(n=40, effects={})
    res = driver_analysis(peers)
    assert res.models.empty and list(res.models.columns) == ["outcome", "n", "r2", "adj_r2", "status", "reason"]
    assert list(res.coefficients.columns) == ["outcome", "term", "coef", "se", "ci_low", "ci_high", "p_value"]
    assert res.impact == {} and res.warnings


# ---------------------------------------------------------------------- impact
def test_impact_weights_have_mean_one_and_favour_the_strongest_driver():
    effects = {
        "sales_conversion_rate": {"people": 0.5, "process": 0.1, "technology": 0.05, "knowledge": 0.1},
        "first_call_resolution": {"people": 0.3, "process": 0.2, "technology": 0.0, "knowledge": 0.1},
    }
    res = driver_analysis(make_peers(n=200, seed=29, effects=effects, noise=2.0))
    assert set(res.impact) == set(DIMENSIONS)
    assert np.mean(list(res.impact.values())) == pytest.approx(1.0, abs=1e-12)
    assert max(res.impact, key=res.impact.get) == "people"
    assert all(w >= 0 for w in res.impact.values())


def test_impact_counts_a_share_only_when_the_coefficient_points_the_better_way():
    # Abandon rate is lower-is-better: process lowers it (counts), people raises it (does not).
    effects = {"abandon_rate": {"people": 2.0, "process": -1.0}}
    res = driver_analysis(make_peers(n=150, seed=31, effects=effects, noise=5.0))
    imp = res.importance.set_index("dimension")["share"]
    coefs = coef_table(res, "abandon_rate")["coef"]
    assert coefs["people"] > 0 and coefs["process"] < 0
    assert imp["people"] > imp["process"]  # people explains more, but goes the wrong way
    contributions = {d: (imp[d] if coefs[d] < 0 else 0.0) for d in DIMENSIONS}
    level = np.mean(list(contributions.values()))
    for d in DIMENSIONS:
        assert res.impact[d] == pytest.approx(contributions[d] / level, abs=1e-12)
    assert res.impact["people"] == 0.0
    assert any("impact weight 0" in w and "people" in w for w in res.warnings)


def test_handle_time_is_context_not_a_driver_outcome():
    # Handle time has no better direction (KPI catalogue): not modelled by default, and when
    # named it is modelled but leaves the impact weights to the ranked KPIs.
    effects = {"sales_conversion_rate": {"people": 0.4}, "average_handle_time": {"technology": 3.0}}
    peers = make_peers(n=150, seed=5, effects=effects)
    res = driver_analysis(peers)
    assert "average_handle_time" not in set(res.models["outcome"])
    named = driver_analysis(peers, outcomes=["sales_conversion_rate", "average_handle_time"])
    assert "average_handle_time" in set(named.models["outcome"])
    assert named.impact == pytest.approx(res.impact)


# ---------------------------------------------------------------------- JSON, catalogue
def test_to_json_is_strict_json():
    peers = make_peers(
        n=50, seed=37, effects={"sales_conversion_rate": {"people": 0.3}, "agent_attrition": {"people": -0.2}}
    )
    peers.loc[peers.index[10:], "agent_attrition"] = np.nan  # a skipped model: NaN r2
    doc = driver_analysis(peers).to_json()
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert set(back) >= {"models", "coefficients", "importance", "vif", "impact", "warnings", "method"}
    skipped = next(m for m in back["models"] if m["outcome"] == "agent_attrition")
    assert skipped["r2"] is None and skipped["status"] == "skipped"
    coef = back["coefficients"][0]["coef"]
    assert coef == round(coef, 4)
    assert isinstance(back["vif"][0]["flag"], bool)


def test_kpi_directions_match_the_loaders_catalogue():
    from readiness.core.driver_analysis import _STAGES
    from readiness.core.profile import KPIS, STAGES

    assert {k: spec[0] for k, spec in KPIS.items()} == KPI_DIRECTIONS
    assert _STAGES == STAGES


# ---------------------------------------------------------------------- stage model
def _with_stage(n: int, seed: int) -> pd.DataFrame:
    peers = make_peers(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    latent = 0.06 * peers["people"] + 0.04 * peers["process"] + rng.logistic(0, 1, n)
    cuts = np.quantile(latent, [0.25, 0.5, 0.75])
    order = ("not_considering", "considering", "transitioning", "established")
    peers["stage"] = [order[int(np.searchsorted(cuts, v))] for v in latent]
    return peers


def test_stage_model_fits_an_ordinal_signal():
    doc = stage_model(_with_stage(200, 41))
    assert doc["status"] == "ok", doc["reason"]
    coefs = {c["term"]: c for c in doc["coefficients"]}
    assert coefs["people"]["coef"] > 0 and coefs["people"]["p_value"] < 0.01
    assert [t["value"] for t in doc["thresholds"]] == sorted(t["value"] for t in doc["thresholds"])
    json.dumps(doc, allow_nan=False)


def test_stage_model_is_skipped_below_min_orgs_and_carried_by_driver_analysis():
    peers = _with_stage(29, 43)
    doc = stage_model(peers)
    assert doc["status"] == "skipped" and doc["n"] == 29
    res = driver_analysis(_with_stage(120, 47))
    assert res.stage is not None and res.to_json()["stage_model"]["status"] == "ok"


def test_stage_model_fails_when_the_scores_separate_the_stages():
    peers = make_peers(n=60, seed=53)
    peers["stage"] = np.where(peers["people"] > 50, "established", "considering")
    doc = stage_model(peers)
    assert doc["status"] == "failed" and "separate" in doc["reason"]
