"""Change between waves (readiness.core.change), checked against independent computations.

Two waves of one synthetic center are drawn from the documented panel model with other
respondents each time (``generate_org(..., respondent_seed=...)``); named facets are moved
between them. Scores are recomputed independently (``tests.test_workbook.naive_scores``, a
plain-Python reading of the scoring rules), intervals against the exact bootstrap variance.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.core.change import (
    Wave,
    action_progress,
    compare,
    comparison_document,
    expected_changes,
    findings,
    next_roadmap,
    wave_seed,
    waves_from_responses,
    without_actions,
)
from readiness.core.errors import InputError
from readiness.core.instrument import Instrument
from readiness.core.scoring import bootstrap_draws, respondent_facet_scores
from readiness.core.synthetic_panel import generate_org
from readiness.io.loaders import load_playbook, load_responses

from .test_workbook import naive_scores

CENTER = dict(org_id="ACME", org_name="Acme Care", industry="technology", agents=180, stage="considering", seed=21)
UP, DOWN = "people.coaching", "technology.crm"


def wave_frame(instrument, respondent_seed, *, shift=None, counts=None):
    frame, _ = generate_org(
        instrument,
        respondents=counts or {"agent": 20, "supervisor": 5, "manager": 3},
        respondent_seed=respondent_seed,
        facet_shift=shift,
        **CENTER,
    )
    return frame


def load_frame(frame: pd.DataFrame, instrument, folder: Path, name: str):
    path = folder / name
    frame.to_csv(path, index=False)
    return load_responses(path, instrument)


def naive(frame: pd.DataFrame, instrument) -> dict:
    """The documented scores of one center, computed in plain Python from the answer table."""
    respondents = []
    for row in frame.to_dict("records"):
        answers = {}
        for item in instrument.items:
            value = row[item]
            if value in ("NA", "DK"):  # not applicable, don't know: both out of the count
                answers[item] = value
            elif value not in ("", None) and not (isinstance(value, float) and np.isnan(value)):
                answers[item] = int(value)
        respondents.append((row["role"], answers))
    return naive_scores(instrument, respondents)


def bare_wave(responses, label: str, instrument=None) -> Wave:
    """A wave with respondents' scores and a minimal results document (compare needs no more)."""
    scores = respondent_facet_scores(responses)
    doc = {"organization": {"id": "ACME", "name": "Acme Care"}, "respondents": {"n": len(responses)}}
    return Wave("ACME", label, None, doc, instrument or responses.instrument, tuple(responses.meta["role"]), scores)


@pytest.fixture(scope="module")
def two_waves(bundled, tmp_path_factory):
    folder = tmp_path_factory.mktemp("waves")
    first = wave_frame(bundled, 101)
    second = wave_frame(bundled, 202, shift={UP: 1.6, DOWN: -1.6}, counts={"agent": 18, "supervisor": 6, "manager": 3})
    r1, r2 = load_frame(first, bundled, folder, "w1.csv"), load_frame(second, bundled, folder, "w2.csv")
    w1, w2 = bare_wave(r1, "2024-05"), bare_wave(r2, "2024-11")
    return first, second, w1, w2, compare(w1, w2, n_boot=2000, seed=0)


# ---------------------------------------------------------------------- how it will be checked
def test_each_change_is_the_independent_difference_of_the_two_waves(bundled, two_waves):
    first, second, _, _, change = two_waves
    before, after = naive(first, bundled), naive(second, bundled)
    table = change.table.set_index(["level", "id"])
    for facet in bundled.facets:
        row = table.loc[("facet", facet)]
        assert row["from"] == pytest.approx(before["facets"][facet], abs=1e-9)
        assert row["to"] == pytest.approx(after["facets"][facet], abs=1e-9)
        assert row["delta"] == pytest.approx(after["facets"][facet] - before["facets"][facet], abs=1e-9)
    for dim in ("people", "process", "technology", "knowledge"):
        expected = after["dimensions"][dim] - before["dimensions"][dim]
        assert table.loc[("dimension", dim), "delta"] == pytest.approx(expected, abs=1e-9)
    assert table.loc[("overall", "overall"), "delta"] == pytest.approx(after["overall"] - before["overall"], abs=1e-9)
    assert list(change.table["level"]) == ["overall"] + ["dimension"] * 4 + ["facet"] * len(bundled.facets)


def test_the_moved_facets_are_real_on_the_right_side_of_zero(two_waves):
    *_, change = two_waves
    facets = change.table[change.table["level"] == "facet"].set_index("id")
    up, down = facets.loc[UP], facets.loc[DOWN]
    assert up["real"] and up["ci_low"] > 0 and up["delta"] > 10
    assert down["real"] and down["ci_high"] < 0 and down["delta"] < -10
    assert up["ci_low"] < up["delta"] < up["ci_high"] and down["ci_low"] < down["delta"] < down["ci_high"]
    unchanged = facets.drop([UP, DOWN])
    assert unchanged["real"].sum() <= 3, unchanged[unchanged["real"]]


def test_unchanged_facets_are_seldom_called_real(bundled, tmp_path):
    """Many pairs of waves of an unchanged center: the share of facets called real stays near 5%."""
    real = []
    for k in range(40):
        a = load_frame(wave_frame(bundled, 5000 + 2 * k), bundled, tmp_path, "a.csv")
        b = load_frame(wave_frame(bundled, 5001 + 2 * k), bundled, tmp_path, "b.csv")
        table = compare(bare_wave(a, "a"), bare_wave(b, "b"), n_boot=400, seed=k).table
        real.append(table.loc[table["level"] == "facet", "real"].to_numpy())
    share = np.mean(real)
    # With three managers the interval cannot quite reach 95% coverage (docs/reassessment.md
    # reports about 8%); without the sqrt(n / (n - 1)) spread it is about 15%.
    assert share < 0.11, share


# ---------------------------------------------------------------------- the interval
def test_interval_matches_the_exact_bootstrap_variance(mini):
    """The spread resamples' variance of a role mean is s^2 / n (ddof 1), role by role."""
    layout = mini.layout
    agents = np.array([[40.0, 60.0, 50.0, 70.0, 30.0]]).T  # one facet, five agents
    managers = np.array([[80.0, 60.0, 70.0]]).T
    blocks = [agents, managers]
    from readiness.core.change import _spread

    spread = [_spread(b) for b in blocks]
    draws = bootstrap_draws(
        spread,
        np.array([1.0, 2.0]),
        np.ones(1),
        np.ones((1, 1)),
        np.ones(1),
        np.random.default_rng(wave_seed(0, "X", "w")),
        40000,
    )
    w = np.array([1.0, 2.0]) / 3.0
    exact = (w[0] ** 2) * agents.var(ddof=1) / 5 + (w[1] ** 2) * managers.var(ddof=1) / 3
    assert draws[:, 0].var() == pytest.approx(exact, rel=0.03)
    assert draws[:, 0].mean() == pytest.approx((50.0 + 2 * 70.0) / 3, abs=0.1)
    assert layout.role_ids == ("agent", "manager")


def test_same_seed_same_intervals_and_each_wave_draws_on_its_own(two_waves):
    _, _, w1, w2, change = two_waves
    again = compare(w1, w2, n_boot=2000, seed=0)
    pd.testing.assert_frame_equal(change.table, again.table)
    other = compare(w1, w2, n_boot=2000, seed=1)
    assert not np.allclose(other.table["ci_low"], change.table["ci_low"])
    assert wave_seed(0, "ACME", "2024-05").entropy != wave_seed(0, "ACME", "2024-11").entropy


def test_reversed_comparison_negates_changes_and_intervals(two_waves):
    _, _, w1, w2, change = two_waves
    back = compare(w2, w1, n_boot=2000, seed=0).table
    assert np.allclose(back["delta"], -change.table["delta"])
    assert np.allclose(back["ci_low"], -change.table["ci_high"])
    assert np.allclose(back["ci_high"], -change.table["ci_low"])
    assert (back["real"] == change.table["real"]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**16), st.floats(-20, 20))
def test_shifting_every_later_score_shifts_every_facet_change(mini, seed, offset):
    rng = np.random.default_rng(seed)
    roles = ("agent",) * 4 + ("manager",) * 3
    scores = rng.uniform(10, 70, size=(len(roles), len(mini.facets)))
    doc = {"respondents": {"n": len(roles)}}
    a = Wave("X", "a", None, doc, mini, roles, scores)
    b = Wave("X", "b", None, doc, mini, roles, scores + offset)
    table = compare(a, b, n_boot=200, seed=seed).table
    assert np.allclose(table["delta"], offset)
    # the draws of each wave depend on its own seed stream only
    assert np.allclose(table.loc[table["level"] == "facet", "ci_low"].between(offset - 60, offset + 60), True)


# ---------------------------------------------------------------------- instrument versions
def _renamed(instrument: Instrument, drop: str, add_to: str) -> Instrument:
    """Another version of ``instrument``: one facet dropped, one new facet added (different id)."""
    spec = instrument.model_dump(mode="json")
    spec["version"] = "3.0"  # the bundled instrument is 2.0: another version
    for dim in spec["dimensions"]:
        dim["facets"] = [f for f in dim["facets"] if f["id"] != drop]
        if dim["id"] == add_to.split(".")[0]:
            new = copy.deepcopy(dim["facets"][0])
            new["id"], new["title"] = add_to, "A new facet"
            for n, item in enumerate(new["items"]):
                item["id"] = f"NEW_{n}"
            dim["facets"].append(new)
    return Instrument.from_dict(spec)


def test_waves_on_different_versions_compare_on_shared_facets(bundled, tmp_path):
    v2 = _renamed(bundled, drop="people.hiring", add_to="knowledge.new")
    first = wave_frame(bundled, 11)
    second, _ = generate_org(v2, respondents={"agent": 15, "supervisor": 4, "manager": 3}, respondent_seed=12, **CENTER)
    w1 = bare_wave(load_frame(first, bundled, tmp_path, "a.csv"), "v1")
    w2 = bare_wave(load_frame(second, v2, tmp_path, "b.csv"), "v2")
    change = compare(w1, w2, n_boot=300, seed=0)
    assert "people.hiring" not in change.shared and "knowledge.new" not in change.shared
    assert change.left_out == {"from": ("people.hiring",), "to": ("knowledge.new",)}
    text = " ".join(change.warnings)
    assert "Hiring for sales talent" in text and "A new facet" in text and "version 3.0" in text
    # people is recomputed in each wave on the facets both have, with that wave's weights
    before, after = naive(first, bundled), naive(second, v2)
    people = [f.id for d in bundled.dimensions if d.id == "people" for f in d.facets if f.id != "people.hiring"]
    expected = np.mean([after["facets"][f] for f in people]) - np.mean([before["facets"][f] for f in people])
    row = change.row("dimension", "people")
    assert row is not None and row["delta"] == pytest.approx(expected, abs=1e-9)
    assert change.row("facet", "people.hiring") is None


def test_waves_sharing_no_facet_are_refused(mini):
    spec = mini.model_dump(mode="json")
    for dim in spec["dimensions"]:
        for facet in dim["facets"]:
            facet["id"] = facet["id"] + "x"
    other = Instrument.from_dict(spec)
    doc = {"respondents": {"n": 1}}
    a = Wave("X", "a", None, doc, mini, ("agent",), np.zeros((1, len(mini.facets))))
    b = Wave("X", "b", None, doc, other, ("agent",), np.zeros((1, len(other.facets))))
    with pytest.raises(InputError, match="share no facet"):
        compare(a, b)


def test_a_wave_without_respondents_gives_an_approximate_interval(mini):
    def doc(score, ci):
        block = {"score": score, "ci": ci}
        return {
            "respondents": {"n": 12},
            "overall": block,
            "dimensions": {d: block for d in ("people", "process", "technology", "knowledge")},
            "facets": {f: block for f in mini.facets},
            "method": {"bootstrap": {"level": 0.95}},
        }

    a = Wave("X", "a", None, doc(40.0, [36.0, 44.0]), mini)
    b = Wave("X", "b", None, doc(50.0, [47.0, 53.0]), mini)
    change = compare(a, b)
    assert change.method == "approximate" and "approximate" in " ".join(change.warnings)
    z = 1.959963984540054
    half = z * np.hypot(4.0 / z, 3.0 / z)  # = 5
    row = change.row("facet", "people.a")
    assert row["delta"] == pytest.approx(10.0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((10.0 - half, 10.0 + half))
    assert row["real"]


# ---------------------------------------------------------------------- the roadmap
ROADMAP = [
    {"rank": 1, "action": "a1", "title": "First", "phase": 1, "facets": ["people.a", "process.a"]},
    {"rank": 2, "action": "a2", "title": "Second", "phase": 1, "facets": ["people.a"]},
    {"rank": 3, "action": "a3", "title": "Third", "phase": 2, "facets": ["process.a"]},
    {"rank": 4, "action": "a4", "title": "Later", "phase": 4, "facets": ["knowledge.a"]},
]
PROJECTION = [
    {"phase": 0, "facets": {"people.a": 40.0, "process.a": 30.0, "knowledge.a": 20.0}},
    {"phase": 1, "facets": {"people.a": 55.0, "process.a": 36.0, "knowledge.a": 20.0}},
    {"phase": 2, "facets": {"people.a": 55.0, "process.a": 46.0, "knowledge.a": 20.0}},
    {"phase": 3, "facets": {"people.a": 55.0, "process.a": 46.0, "knowledge.a": 20.0}},
]


def test_expected_change_is_the_phase_projection_shared_by_close_share():
    got = expected_changes({"roadmap": ROADMAP, "plan": {"projection": PROJECTION}})
    # phase 1, people.a rises 15: a1 and a2 both have it as main facet (0.5 each): 7.5 each
    # process.a rises 6 in phase 1, moved only by a1 (other facet): all 6 to a1
    assert got["a1"] == {"people.a": 7.5, "process.a": 6.0}
    assert got["a2"] == {"people.a": 7.5}
    assert got["a3"] == {"process.a": 10.0}
    assert got["a4"] == {"knowledge.a": None}  # after month 12: not projected


def test_action_progress_reads_statuses_and_observed_change(mini):
    rng = np.random.default_rng(0)
    roles = ("agent",) * 6 + ("manager",) * 4
    base = rng.uniform(20, 60, size=(len(roles), len(mini.facets)))
    doc = {"respondents": {"n": 10}, "roadmap": ROADMAP, "plan": {"projection": PROJECTION}}
    later = base.copy()
    later[:, list(mini.layout.facet_ids).index("people.a")] += 30
    a = Wave("X", "a", None, doc, mini, roles, base)
    b = Wave("X", "b", None, {"respondents": {"n": 10}}, mini, roles, later)
    change = compare(a, b, n_boot=300)
    rows = action_progress(a, change, {"a1": {"status": "Done"}, "a3": {"status": "Dropped"}})
    assert [r["status"] for r in rows] == ["Done", "Not started", "Dropped", "Not started"]
    first = rows[0]
    assert set(first) == {"action", "title", "status", "facets", "expected", "observed"}
    assert first["observed"]["people.a"]["delta"] == pytest.approx(30.0)
    assert first["observed"]["people.a"]["real"] is True
    assert [r["status"] for r in action_progress(a, change)] == [None] * 4
    doc_out = comparison_document(a, b, change, rows)
    verdicts = {x["action"]: x["verdict"] for x in findings(doc_out)["actions_by_status"]["Done"]}
    assert verdicts == {"a1": "moved"}


def test_next_roadmap_leaves_done_actions_out(bundled):
    book = load_playbook(bundled)
    done = {book.actions[0].id, book.actions[1].id}
    smaller = without_actions(book, done)
    assert smaller is not None and not done & {a.id for a in smaller.actions}
    assert not any(done & set(a.depends_on) for a in smaller.actions)
    assert without_actions(book, {a.id for a in book.actions}) is None
    scores = {f: 30.0 for f in bundled.facets}
    doc = {
        "respondents": {"n": 10},
        "facets": {f: {"score": s} for f, s in scores.items()},
        "overall": {"barrier": None},
        "plan": {"targets": {f: 70.0 for f in bundled.facets}, "capacity": {"1": 8, "2": 10, "3": 16}},
    }
    later = Wave("X", "b", None, doc, bundled)
    plan, note = next_roadmap(later, book, done)
    assert note is None and plan and not done & {a["action"] for a in plan}
    full, _ = next_roadmap(later, book, set())
    assert done <= {a["action"] for a in full}
    empty, why = next_roadmap(Wave("X", "b", None, {"respondents": {"n": 1}}, bundled), book, done)
    assert empty == [] and "no next roadmap" in why


# ---------------------------------------------------------------------- the document
def test_document_follows_the_schema_and_holds_no_respondent_data(bundled, two_waves):
    first, _, w1, w2, change = two_waves
    doc = comparison_document(w1, w2, change, action_progress(w1, change))
    for key in ("schema_version", "organization", "from", "to", "instrument", "changes", "barrier", "level"):
        assert key in doc
    assert {"actions", "warnings"} <= set(doc)
    assert set(doc["from"]) == {"wave", "date", "n"} and doc["from"]["wave"] == "2024-05"
    assert set(doc["instrument"]) == {"from", "to"}
    assert set(doc["barrier"]) == {"from", "to"} and set(doc["level"]) == {"from", "to"}
    for c in doc["changes"]:
        assert set(c) == {"level", "id", "from", "to", "delta", "ci", "real"}
        assert c["level"] in ("overall", "dimension", "facet")
        assert isinstance(c["real"], bool) and (c["ci"] is None or len(c["ci"]) == 2)
    text = json.dumps(doc, allow_nan=False)
    for rid in first["respondent_id"]:
        assert f'"{rid}"' not in text
    assert '"agent"' not in text and '"manager"' not in text  # nothing by role


def test_waves_from_responses_keep_each_organizations_respondents(bundled, tmp_path):
    a = wave_frame(bundled, 1)
    b = wave_frame(bundled, 2).assign(org_id="OTHER")
    both = load_frame(pd.concat([a, b], ignore_index=True), bundled, tmp_path, "both.csv")
    docs = {"ACME": {"respondents": {"n": len(a)}}, "OTHER": {"respondents": {"n": len(b)}}}
    waves = waves_from_responses(both, docs, label="w", date="2024-01-31")
    assert [w.org_id for w in waves] == ["ACME", "OTHER"]
    own = load_frame(a, bundled, tmp_path, "a.csv")
    assert np.array_equal(np.nan_to_num(waves[0].scores, nan=-1), np.nan_to_num(respondent_facet_scores(own), nan=-1))
    assert waves[0].roles == tuple(own.meta["role"]) and waves[1].n == len(b)


# ---------------------------------------------------------------------- docs/reassessment.md
def test_worked_example_of_the_docs(mini):
    """The worked example, by hand: scores, the change, the exact variance, the interval shown."""
    facets = list(mini.layout.facet_ids)

    def wave(label, agents, managers):
        roles = ("agent",) * len(agents) + ("manager",) * len(managers)
        scores = np.full((len(roles), len(facets)), np.nan)
        scores[:, facets.index("people.a")] = agents + managers
        return Wave("DEMO", label, None, {"respondents": {"n": len(roles)}}, mini, roles, scores)

    may = wave("2024-05", [25.0, 50.0, 50.0, 75.0], [50.0, 75.0, 100.0])
    nov = wave("2024-11", [50.0, 75.0, 75.0, 100.0, 75.0], [75.0, 100.0, 100.0])
    row = compare(may, nov).row("facet", "people.a")
    assert row["from"] == pytest.approx((50 + 2 * 75) / 3)
    assert row["to"] == pytest.approx((75 + 2 * (275 / 3)) / 3)
    assert row["delta"] == pytest.approx(19.4444, abs=1e-4)

    # the exact variance of each wave's resampled score, by hand: sum of (w/W)^2 s^2 / n
    var_may = (1 / 9) * (1250 / 3) / 4 + (4 / 9) * 625 / 3
    var_nov = (1 / 9) * (1250 / 4) / 5 + (4 / 9) * (1250 / 6) / 3
    assert (var_may, var_nov) == pytest.approx((104.17, 37.81), abs=0.01)
    many = compare(may, nov, n_boot=40000, seed=3)
    draws = []
    from readiness.core.change import _bootstrap

    for w in (may, nov):
        draws.append(_bootstrap(w, ("people.a",), 40000, 3)[1][:, 0])
    assert draws[0].var() == pytest.approx(var_may, rel=0.03) and draws[1].var() == pytest.approx(var_nov, rel=0.03)
    sd = np.sqrt(var_may + var_nov)
    assert sd == pytest.approx(11.92, abs=0.01)
    wide = many.row("facet", "people.a")
    assert wide["ci_low"] == pytest.approx(19.44 - 1.96 * sd, abs=1.5)
    assert wide["ci_high"] == pytest.approx(19.44 + 1.96 * sd, abs=1.5)

    # what the docs print is what compare gives, with its defaults
    text = (Path(__file__).resolve().parent.parent / "docs" / "reassessment.md").read_text(encoding="utf-8")
    shown = f"**{row['ci_low']:.2f} to +{row['ci_high']:.2f}**".replace("-", "−")
    assert shown in text and "change **+19.44**" in text and not row["real"]
    assert "**−3.9 to +42.8**" in text and f"{19.44 - 1.96 * sd:.1f}" == "-3.9" and f"{19.44 + 1.96 * sd:.1f}" == "42.8"


def test_documented_schema_is_the_document_written(two_waves):
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "reassessment.md").read_text(encoding="utf-8")
    block = re.search(r"## The `compare --json` document.*?```json\n(.*?)```", text, re.S).group(1)
    documented = json.loads(block)
    _, _, w1, w2, change = two_waves
    written = comparison_document(w1, w2, change, action_progress(w1, change))
    assert list(documented) == list(written)
    assert set(documented["changes"][0]) == set(written["changes"][0])
    assert set(documented["actions"][0]) == {"action", "title", "status", "facets", "expected", "observed"}
    assert set(documented["actions"][0]["observed"]["process.sales_process"]) == {"from", "to", "delta", "ci", "real"}
    assert set(documented["method"]) == set(written["method"])
