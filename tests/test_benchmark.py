"""Peer groups, the k rule, placement and KPI benchmarks, checked independently."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import percentileofscore

from readiness.core.benchmark import benchmark, choose_peer_group, kpi_benchmark, percentile_of, placement


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=40), st.integers(0, 20))
def test_percentile_matches_scipy_mean_kind(peers, value):
    assert percentile_of(value, peers) == pytest.approx(percentileofscore(peers, value, kind="mean"))


def test_percentile_ignores_missing_and_handles_empty():
    assert percentile_of(5, [np.nan, 1, 9]) == pytest.approx(50.0)
    assert percentile_of(5, [np.nan]) is None
    assert percentile_of(float("nan"), [1, 2]) is None


def make_peers(cells: dict[tuple[str, str, str], int], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for (industry, band, stage), n in cells.items():
        for _ in range(n):
            rows.append(
                {
                    "industry": industry,
                    "size_band": band,
                    "stage": stage,
                    "overall": rng.uniform(20, 90),
                    "people": rng.uniform(10, 95),
                    "process": rng.uniform(10, 95),
                    "technology": rng.uniform(10, 95),
                    "knowledge": rng.uniform(10, 95),
                    "people.a": rng.uniform(0, 100),
                    "sales_conversion_rate": rng.uniform(2, 30),
                    "average_handle_time": rng.uniform(200, 700),
                }
            )
    frame = pd.DataFrame(rows, index=pd.Index([f"P{i:03d}" for i in range(len(rows))], name="org_id"))
    return frame


PROFILE = {"industry": "technology", "size_band": "51-150", "stage": "considering"}


def test_exact_cell_used_when_large_enough():
    peers = make_peers(
        {
            ("technology", "51-150", "considering"): 6,
            ("technology", "51-150", "established"): 4,
            ("other", ">500", "considering"): 20,
        }
    )
    group = choose_peer_group(PROFILE, peers, k=5)
    assert group.fallback == "none" and group.n == 6
    assert set(peers.loc[list(group.org_ids), "stage"]) == {"considering"}


def test_cell_of_three_falls_back_to_at_least_k():
    peers = make_peers(
        {
            ("technology", "51-150", "considering"): 3,
            ("technology", "51-150", "established"): 4,
            ("technology", ">500", "considering"): 9,
            ("other", "<=50", "considering"): 30,
        }
    )
    group = choose_peer_group(PROFILE, peers, k=5)
    assert group.fallback == "dropped stage" and group.n == 7
    assert group.keys == {"industry": "technology", "size_band": "51-150"}
    group = choose_peer_group(PROFILE, peers, k=8)
    assert group.fallback == "dropped stage and size band" and group.n == 16
    group = choose_peer_group(PROFILE, peers, k=20)
    assert group.fallback == "all peers" and group.n == 46


def test_client_is_never_its_own_peer():
    peers = make_peers({("technology", "51-150", "considering"): 5, ("other", "<=50", "considering"): 30})
    group = choose_peer_group(PROFILE, peers, k=5, exclude=["P000"])
    # the exact cell, its industry and size band all have only 4 others: every technology level is short
    assert "P000" not in group.org_ids and group.fallback == "all peers" and group.n == 34


def test_k_below_three_is_refused_and_too_few_peers_gives_none():
    peers = make_peers({("technology", "51-150", "considering"): 2})
    with pytest.raises(ValueError):
        choose_peer_group(PROFILE, peers, k=2)
    assert choose_peer_group(PROFILE, peers, k=3) is None


def test_unknown_profile_attribute_is_dropped_first():
    peers = make_peers({("technology", "51-150", "considering"): 3, ("technology", "51-150", "established"): 3})
    group = choose_peer_group({"industry": "technology", "size_band": "51-150", "stage": None}, peers, k=5)
    assert group.n == 6 and group.fallback == "dropped stage"


def results_for(profile, scores=None):
    scores = scores or {}
    return {
        "organization": {"id": "CLIENT", **profile},
        "overall": {"score": scores.get("overall", 55.0)},
        "dimensions": {d: {"score": scores.get(d, 50.0)} for d in ("people", "process", "technology", "knowledge")},
        "facets": {"people.a": {"score": scores.get("people.a", 40.0)}},
    }


def test_benchmark_block_numbers():
    peers = make_peers(
        {
            ("technology", "51-150", "considering"): 3,
            ("technology", "51-150", "established"): 5,
            ("other", "<=50", "considering"): 12,
        }
    )
    doc = benchmark(
        results_for(PROFILE),
        peers,
        k=5,
        kpis={"sales_conversion_rate": 12.0, "average_handle_time": 300.0},
        directions={"sales_conversion_rate": "higher", "average_handle_time": "lower"},
    )
    assert doc["peer_n"] == 8 and doc["fallback"] == "dropped stage"
    assert doc["peer_group"] == {"industry": "technology", "size_band": "51-150", "stage": None}
    group = peers[(peers.industry == "technology") & (peers.size_band == "51-150")]
    people = doc["dimensions"]["people"]
    assert people["percentile"] == pytest.approx(percentileofscore(group["people"], 50.0, kind="mean"), abs=0.01)
    assert people["median"] == pytest.approx(np.median(group["people"]), abs=1e-4)
    assert people["q1"] == pytest.approx(np.percentile(group["people"], 25), abs=1e-4)
    assert people["top10"] == pytest.approx(np.percentile(group["people"], 90), abs=1e-4)
    assert sum(people["distribution"]["counts"]) == 8
    aht = doc["kpis"]["average_handle_time"]
    raw = percentileofscore(group["average_handle_time"], 300.0, kind="mean")
    assert aht["percentile"] == pytest.approx(raw, abs=0.01)
    assert aht["standing"] == pytest.approx(100 - raw, abs=0.01)
    assert aht["quartile"] == min(4, 1 + int((100 - raw) // 25))
    json.dumps(doc, allow_nan=False)


def test_handle_time_is_placed_but_not_ranked():
    from readiness.core.profile import KPI_DIRECTIONS, RANKED_KPIS

    assert KPI_DIRECTIONS["average_handle_time"] == "context" and "average_handle_time" not in RANKED_KPIS
    peers = make_peers({("technology", "51-150", "considering"): 9})
    out = kpi_benchmark(
        {"average_handle_time": 300.0, "sales_conversion_rate": 12.0}, peers, k=5, directions=KPI_DIRECTIONS
    )
    aht = out["average_handle_time"]
    raw = percentileofscore(peers["average_handle_time"], 300.0, kind="mean")
    assert aht["direction"] == "context" and aht["percentile"] == pytest.approx(raw, abs=0.01)
    assert aht["median"] == pytest.approx(np.median(peers["average_handle_time"]), abs=1e-4)
    assert "standing" not in aht and "quartile" not in aht
    assert {"standing", "quartile"} <= set(out["sales_conversion_rate"])


def test_no_statistic_of_a_small_group_anywhere():
    peers = make_peers({("technology", "51-150", "considering"): 4})
    doc = benchmark(
        results_for(PROFILE),
        peers,
        k=5,
        kpis={"sales_conversion_rate": 10.0},
        directions={"sales_conversion_rate": "higher"},
    )
    assert doc["peer_group"] is None and doc["peer_n"] is None
    text = json.dumps(doc)
    for value in peers.select_dtypes("number").to_numpy().ravel():
        assert f"{value:.4f}"[:-1] not in text


def test_statistic_withheld_when_few_peers_have_a_value():
    peers = make_peers({("technology", "51-150", "considering"): 6})
    peers.loc[peers.index[:3], "sales_conversion_rate"] = np.nan
    out = kpi_benchmark({"sales_conversion_rate": 10.0}, peers, k=5, directions={"sales_conversion_rate": "higher"})
    assert out["sales_conversion_rate"]["withheld"] is True and "median" not in out["sales_conversion_rate"]
    places = placement({"people": 50.0}, peers, k=5)
    assert places["people"]["peer_n"] == 6
