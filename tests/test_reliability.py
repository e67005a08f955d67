"""Instrument quality on a pooled panel (readiness.core.reliability): alpha measured within a role."""

from __future__ import annotations

import numpy as np
import pytest

from readiness.core.reliability import instrument_quality
from readiness.core.responses import Responses


def _alpha_from_covariance(x: np.ndarray) -> float:
    c = np.cov(x, rowvar=False, ddof=1)
    k = x.shape[1]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def test_a_scale_no_role_answers_whole_is_measured_in_the_role_with_most_answers(mini):
    # people: agents are asked P1 P2 P3 P4, managers P1 P3 P4 P5; no one is asked all five.
    rng = np.random.default_rng(3)
    layout = mini.layout
    n_agents, n_managers = 60, 25
    roles = ["agent"] * n_agents + ["manager"] * n_managers
    latent = rng.normal(size=(len(roles), 1))
    values = np.clip(np.round(3 + latent + rng.normal(scale=0.8, size=(len(roles), len(layout.item_ids)))), 1, 5)
    responses = Responses.from_arrays(mini, ["O"] * len(roles), [f"r{i:03d}" for i in range(len(roles))], roles, values)
    scales, items = instrument_quality(responses)
    people = scales[(scales["level"] == "dimension") & (scales["id"] == "people")].iloc[0]
    assert (people["role"], people["items"], people["n"]) == ("agent", 4, n_agents)
    cols = [layout.item_ids.index(i) for i in ("P1", "P2", "P3", "P4")]
    agents = responses.values[np.array(roles) == "agent"][:, cols]
    agents[:, 1] = 6 - agents[:, 1]  # P2 is reverse-worded
    assert people["alpha"] == pytest.approx(_alpha_from_covariance(agents), rel=1e-9)
    # people.b: agents are asked only P4 (one item), managers P4 and P5: managers it is.
    b = scales[scales["id"] == "people.b"].iloc[0]
    assert (b["role"], b["items"], b["n"]) == ("manager", 2, n_managers)
    # P2 (agent-only) gets its item-total correlation among the agents.
    by_item = items.set_index("item")
    assert np.isfinite(by_item.at["P2", "item_total"]) and by_item.at["P2", "n"] == n_agents
