"""Willingness counts per organization: the rule of readiness.core.willingness on a worked example."""

from __future__ import annotations

import numpy as np
import pytest

from readiness.core.instrument import Instrument
from readiness.core.responses import Responses
from readiness.core.willingness import WILLINGNESS_COLUMNS, willingness_counts


@pytest.fixture(scope="module")
def willing_inst(mini):
    spec = mini.model_dump(mode="json")
    # P2 is a reverse-worded, agent-only item (4 or 5 there is the low end); K1 is "able"
    spec["unwilling_or_unable"] = {"role": "agent", "willing": "P2", "able": "K1"}
    return Instrument.from_dict(spec)


# organization, respondent, role, P2, K1 (NaN: no answer); given out of order on purpose
ROWS = [
    ("B", "b1", "agent", 5, 5),  # unwilling (5 -> 1)
    ("A", "a1", "agent", 5, 4),  # unwilling
    ("C", "c1", "manager", 1, 1),  # not an agent: never counted
    ("A", "a2", "agent", 1, 2),  # willing, unable
    ("B", "b2", "agent", 3, np.nan),  # middle, one answer: not classified
    ("A", "a3", "agent", 4, 1),  # unwilling and unable: counted once
    ("A", "a4", "agent", 2, 3),  # willing and able
    ("A", "m1", "manager", 5, 1),  # not an agent
    ("B", "b3", "manager", 5, 1),  # not an agent
]
# respondents, classified, unwilling, unable, either, counted by hand from the rows above
EXPECTED = {"A": (4, 4, 2, 2, 3), "B": (2, 1, 1, 0, 1), "C": (0, 0, 0, 0, 0)}


def test_counts_stay_with_their_organization(willing_inst):
    items = list(willing_inst.layout.item_ids)
    values = np.full((len(ROWS), len(items)), np.nan)
    for r, (*_, willing, able) in enumerate(ROWS):
        values[r, items.index("P2")], values[r, items.index("K1")] = willing, able
    responses = Responses.from_arrays(
        willing_inst, [r[0] for r in ROWS], [r[1] for r in ROWS], [r[2] for r in ROWS], values
    )
    counts = willingness_counts(responses)
    assert list(counts.columns) == list(WILLINGNESS_COLUMNS)
    assert list(counts.index) == ["A", "B", "C"] and counts.index.name == "org_id"
    assert all(dtype == np.int64 for dtype in counts.dtypes)
    for org, expected in EXPECTED.items():
        assert tuple(counts.loc[org]) == expected, org
