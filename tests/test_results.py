"""results.json built from scores (readiness.core.results): the don't-know fields and the
unwilling-or-unable share, checked against counts made by hand."""

from __future__ import annotations

import numpy as np
import pytest

from readiness.core.defaults import DONT_KNOW_LINE
from readiness.core.instrument import Instrument
from readiness.core.responses import Responses
from readiness.core.results import build_results
from readiness.core.scoring import score
from readiness.io.loaders import load_responses

from .conftest import DATA


def test_dont_know_in_results(mini):
    doc = build_results(score(load_responses(DATA / "mini_dont_know.csv", mini), n_boot=0), "Y", mini)
    # 3 + 4 don't-know answers from the agents, 3 from the manager (docs/scoring.md)
    assert doc["respondents"]["answers"] == {"answered": 18, "not_applicable": 1, "dont_know": 10, "unanswered": 1}
    shares = {f: block["dont_know"] for f, block in doc["facets"].items()}
    assert shares == {
        "people.a": 0.375,
        "people.b": 0.5,
        "process.a": pytest.approx(1 / 3, abs=1e-4),
        "technology.a": pytest.approx(1 / 3, abs=1e-4),
        "knowledge.a": pytest.approx(1 / 6, abs=1e-4),
    }
    # More than a third: people.a and people.b; exactly a third (process.a, technology.a) is not.
    assert abs(DONT_KNOW_LINE - 1 / 3) < 1e-12
    assert doc["dont_know_facets"] == ["people.a", "people.b"]
    assert doc["method"]["dont_know_line"] == pytest.approx(1 / 3, abs=1e-4)
    flagged = [w for w in doc["warnings"] if "don't know" in w]
    assert len(flagged) == 2 and flagged[0].startswith("People A: 38%")


def test_no_dont_know_gives_zero_shares(mini):
    doc = build_results(score(load_responses(DATA / "mini_responses.csv", mini), n_boot=0), "X", mini)
    assert doc["respondents"]["answers"]["dont_know"] == 0
    assert all(block["dont_know"] == 0 for block in doc["facets"].values())
    assert doc["dont_know_facets"] == []
    assert doc["unwilling_or_unable"] is None  # the mini instrument does not ask it


# ---------------------------------------------------------------- unwilling or unable
@pytest.fixture(scope="module")
def willing_inst(mini):
    spec = mini.model_dump(mode="json")
    # P2 is a reverse-worded, agent-only item: "willing" read through the reversal; K1 "able".
    spec["unwilling_or_unable"] = {"role": "agent", "willing": "P2", "able": "K1"}
    return Instrument.from_dict(spec)


def _responses(inst, rows):
    items = list(inst.layout.item_ids)
    values = np.full((len(rows), len(items)), np.nan)
    dk = np.zeros(values.shape, dtype=bool)
    for r, (_, _, answers) in enumerate(rows):
        for item, answer in answers.items():
            if answer == "DK":
                dk[r, items.index(item)] = True
            else:
                values[r, items.index(item)] = answer
    return Responses.from_arrays(
        inst, ["O"] * len(rows), [r[0] for r in rows], [r[1] for r in rows], values, dont_know=dk
    )


AGENTS = [
    # id, role, answers (P2 is reversed: 4 or 5 there is the low end, "not willing")
    ("a1", "agent", {"P2": 5, "K1": 4}),  # unwilling (P2 5 -> 1)
    ("a2", "agent", {"P2": 1, "K1": 2}),  # willing, unable (K1 2)
    ("a3", "agent", {"P2": 4, "K1": 1}),  # unwilling and unable: counted once
    ("a4", "agent", {"P2": 2, "K1": 3}),  # willing (2 -> 4), able (3 is the middle, not low)
    ("a5", "agent", {"P2": 3, "K1": "DK"}),  # middle, don't know: not classified
    ("a6", "agent", {"P2": "DK", "K1": 2}),  # unable, whatever the other
    ("a7", "agent", {}),  # nothing: not classified
    ("m1", "manager", {"K1": 1}),  # not an agent: never counted
]


def test_unwilling_or_unable_share(willing_inst):
    doc = build_results(score(_responses(willing_inst, AGENTS), n_boot=0), "O", willing_inst, role_min=3)
    block = doc["unwilling_or_unable"]
    # classified: a1, a2, a3, a4, a6 (5); unwilling a1, a3; unable a2, a3, a6; either: a1 a2 a3 a6
    assert block["respondents"] == 7
    assert block["classified"] == 5
    assert (block["unwilling"], block["unable"], block["count"]) == (2, 3, 4)
    assert block["share"] == pytest.approx(4 / 5)
    assert block["withheld"] is False
    assert block["items"] == {"willing": "P2", "able": "K1"}


def test_unwilling_or_unable_withheld_below_role_min(willing_inst):
    rows = [r for r in AGENTS if r[0] in ("a1", "a2", "a5", "m1")]  # two classified agents
    block = build_results(score(_responses(willing_inst, rows), n_boot=0), "O", willing_inst, role_min=3)[
        "unwilling_or_unable"
    ]
    assert block["classified"] == 2 and block["withheld"] is True
    assert block["share"] is None and block["count"] is None and block["unwilling"] is None


def test_willingness_items_must_be_asked_of_the_role(mini):
    spec = mini.model_dump(mode="json")
    spec["unwilling_or_unable"] = {"role": "agent", "willing": "P5", "able": "NOPE"}
    from readiness.core.errors import InputError

    with pytest.raises(InputError) as err:
        Instrument.from_dict(spec)
    text = [str(p) for p in err.value.problems]
    assert any("P5 is not asked of agents" in t for t in text)
    assert any("unknown item 'NOPE'" in t for t in text)
