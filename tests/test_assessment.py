"""The whole assessment: honest panels, the barrier and the first action, targets one stage ahead, levels.

Checked on designed centers and on many generated ones, for any instrument: nothing here
names an item or a facet of the bundled question set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from readiness.core.assessment import Options, PanelInfo, PeerPanel, assess
from readiness.core.benchmark import choose_peer_group
from readiness.core.defaults import AGREEMENT_SPLIT, BARRIER_LINE
from readiness.core.profile import STAGES
from readiness.core.roadmap import IMPACT_FLOOR
from readiness.core.synthetic_panel import generate_panel
from readiness.io.loaders import DEFAULT_LEVELS, load_playbook, load_profiles, load_responses
from readiness.io.peer_store import load_peer_data, load_peer_info

from .conftest import DATA, ROOT
from .test_scoring import designed_center

PANEL = ROOT / "data" / "peers" / "panel.csv"
FAST = Options(n_boot=100, seed=5)


@pytest.fixture(scope="module")
def book(bundled):
    return load_playbook(bundled)


@pytest.fixture(scope="module")
def mini_book(mini):
    return load_playbook(mini, DATA / "mini_playbook.yaml")


@pytest.fixture(scope="module")
def panel(bundled):
    responses, profiles = load_peer_data(PANEL, bundled)
    return PeerPanel.build(responses, profiles, info=load_peer_info(PANEL))


@pytest.fixture(scope="module")
def real_panel(panel):
    """The same peers, as a user's own panel would be: not synthetic."""
    return PeerPanel(panel.table, panel.drivers, panel.quality, panel.n_orgs, PanelInfo("Our peers", "", False))


def generated(instrument, tmp_path, n_orgs, seed, prefix="C"):
    """Generated centers (ids C0001...), read back through the loaders."""
    responses, profiles = generate_panel(instrument, n_orgs=n_orgs, seed=seed)
    responses["org_id"] = prefix + responses["org_id"].str[1:]
    profiles["org_id"] = prefix + profiles["org_id"].str[1:]
    responses.to_csv(tmp_path / "centers.csv", index=False)
    profiles.to_csv(tmp_path / "centers.profiles.csv", index=False)
    return load_responses(tmp_path / "centers.csv", instrument), load_profiles(tmp_path / "centers.profiles.csv")


def profile_frame(org_id="D", **fields):
    row = {"org_name": "Designed center", "industry": "financial_services", "size_band": ">500", "stage": "considering"}
    row.update(fields)
    return pd.DataFrame([row], index=pd.Index([org_id], name="org_id"))


def prerequisites(book, action_id):
    """Every action ``action_id`` waits on, directly or not (from the playbook, not the plan)."""
    by_id = book.by_id
    seen: set[str] = set()
    todo = list(by_id[action_id].depends_on)
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(by_id[dep].depends_on)
    return seen


def first_action_is_on_the_barrier(doc, book) -> bool:
    barrier, roadmap = doc["overall"]["barrier"], doc["roadmap"]
    first = roadmap[0]["action"]
    if barrier in roadmap[0]["facets"]:
        return True
    movers = [a["action"] for a in roadmap if barrier in a["facets"]]
    return any(first in prerequisites(book, m) for m in movers)


# ---------------------------------------------------------------------- the barrier and the first action
@pytest.mark.parametrize("with_peers", [True, False])
def test_first_action_moves_the_barrier_or_leads_to_it_on_many_centers(tmp_path, bundled, book, panel, with_peers):
    responses, profiles = generated(bundled, tmp_path, 150, seed=31)
    docs = assess(responses, profiles=profiles, peers=panel if with_peers else None, playbook=book, options=FAST)
    with_barrier = [d for d in docs.values() if d["overall"]["barrier"]]
    assert len(with_barrier) > 75  # the check bites
    for doc in with_barrier:
        assert doc["roadmap"], doc["organization"]["id"]
        assert first_action_is_on_the_barrier(doc, book), doc["organization"]["id"]
        block = doc["barrier"]
        assert block["facet"] == doc["overall"]["barrier"]
        first = block["first_action"]
        assert first["title"] == doc["roadmap"][0]["title"]
        assert first["moves_barrier"] == (block["facet"] in doc["roadmap"][0]["facets"])
        if not first["moves_barrier"]:
            later = doc["roadmap"][first["before"]["rank"] - 1]
            assert block["facet"] in later["facets"] and doc["roadmap"][0]["action"] in prerequisites(
                book, later["action"]
            )
    barriers = {d["overall"]["barrier"].split(".")[0] for d in with_barrier}
    assert len(barriers) >= 2  # not always the same dimension


@pytest.mark.parametrize("name", ["mini", "bundled"])
def test_first_action_on_a_center_weak_in_one_facet(name, request, mini_book, book):
    """Every facet in turn far below the others, the rest either strong or also weak (the
    technology hold then applies): the headline and the first action agree."""
    instrument = request.getfixturevalue(name)
    playbook = mini_book if name == "mini" else book
    for facet in instrument.layout.facet_ids:
        for rest in ("strong", "weak"):
            center = designed_center(instrument, facet, rest=rest)
            doc = assess(center, playbook=playbook, options=FAST)["D"]
            assert doc["overall"]["barrier"] == facet, (facet, rest)
            assert first_action_is_on_the_barrier(doc, playbook), (facet, rest)


def test_barrier_block_says_why(bundled, book):
    facets = bundled.layout.facet_ids
    weak = facets[-1]  # the last facet: weakness, not order, makes it the barrier
    doc = assess(designed_center(bundled, weak), playbook=book, options=FAST)["D"]
    block = doc["barrier"]
    assert block["facet"] == block["weakest"]["facet"] == weak
    assert [t["facet"] for t in block["tied"]] == [weak]
    assert block["score"] == doc["facets"][weak]["score"] and block["ci"] == doc["facets"][weak]["ci"]
    others = {f: b["score"] for f, b in doc["facets"].items() if f != weak}
    nearest = min(others, key=others.get)
    assert block["next"]["facet"] == nearest
    assert block["gap_to_next"] == pytest.approx(others[nearest] - doc["facets"][weak]["score"], abs=1e-3)
    assert block["line"] == BARRIER_LINE and block["split"] is False
    # opinions split on the weak facet: half the respondents at the bottom, half near the top
    split = assess(designed_center(bundled, split=weak), playbook=book, options=FAST)["D"]
    assert split["overall"]["barrier"] == weak
    assert split["barrier"]["rwg"] < AGREEMENT_SPLIT and split["barrier"]["split"] is True


def test_no_barrier_no_block(bundled, book):
    doc = assess(designed_center(bundled), playbook=book, options=FAST)["D"]
    assert doc["overall"]["barrier"] is None and doc["barrier"] is None


# ---------------------------------------------------------------------- targets
@pytest.mark.parametrize("stage", STAGES)
def test_target_is_the_top_quartile_one_stage_ahead(bundled, book, panel, stage):
    center = designed_center(bundled, bundled.layout.facet_ids[0], rest="weak")
    doc = assess(center, profiles=profile_frame(stage=stage), peers=panel, playbook=book, options=FAST)["D"]
    ahead = STAGES[min(STAGES.index(stage) + 1, len(STAGES) - 1)]
    table = panel.table
    cell = table[
        (table["industry"] == "financial_services") & (table["size_band"] == ">500") & (table["stage"] == ahead)
    ]
    assert len(cell) >= FAST.k  # the bundled panel has this cell: no widening
    group = doc["plan"]["target_group"]
    assert group == {
        "industry": "financial_services",
        "size_band": ">500",
        "stage": ahead,
        "n": len(cell),
        "fallback": "none",
        "stage_aimed": ahead,
    }
    barrier = doc["overall"]["barrier"]
    for facet, target in doc["plan"]["targets"].items():
        q3 = float(np.percentile(cell[facet].dropna(), 75))
        expected = max(q3, BARRIER_LINE) if facet == barrier else q3
        assert target == pytest.approx(expected, abs=1e-3), facet


def test_target_group_widens_by_the_benchmark_rule(bundled, book, panel):
    table = panel.table
    counts = table.groupby(["industry", "size_band", "stage"]).size()
    # a cell one stage ahead with fewer than k peers
    small = [(i, s, st) for (i, s, st), n in counts.items() if n < FAST.k and st != STAGES[0]]
    assert small, "the bundled panel has no small cell to widen"
    industry, size, ahead = small[0]
    stage = STAGES[STAGES.index(ahead) - 1]
    profiles = profile_frame(industry=industry, size_band=size, stage=stage)
    doc = assess(
        designed_center(bundled, bundled.layout.facet_ids[0]),
        profiles=profiles,
        peers=panel,
        playbook=book,
        options=FAST,
    )["D"]
    expected = choose_peer_group({"industry": industry, "size_band": size, "stage": ahead}, table, k=FAST.k)
    group = doc["plan"]["target_group"]
    assert group["stage"] is None and group["fallback"] == expected.fallback != "none"
    assert group["n"] == expected.n >= FAST.k
    assert group["industry"] == industry


def level_scale():
    """The bundled levels, read independently of the code: (name, lower, upper)."""
    entries = yaml.safe_load(DEFAULT_LEVELS.read_text(encoding="utf-8"))["levels"]
    lowers = [float(e["lower"]) for e in entries]
    return [(e["name"], lo, hi) for e, lo, hi in zip(entries, lowers, lowers[1:] + [100.0])]


@pytest.mark.parametrize("name", ["mini", "bundled"])
def test_without_peers_the_target_is_the_next_level_and_there_is_a_roadmap(name, request, mini_book, book):
    instrument = request.getfixturevalue(name)
    playbook = mini_book if name == "mini" else book
    center = designed_center(instrument, instrument.layout.facet_ids[0], rest="weak")
    doc = assess(center, playbook=playbook, options=FAST)["D"]
    scale = level_scale()
    overall = doc["overall"]["score"]
    here = next(i for i, (_, lo, hi) in enumerate(scale) if lo <= overall < hi or (hi == 100 and overall == 100))
    aim = scale[min(here + 1, len(scale) - 1)]
    plan = doc["plan"]
    assert plan["target_kind"] == "level" and plan["target_group"] is None
    assert plan["target_level"]["name"] == aim[0] and plan["target_level"]["lower"] == aim[1]
    barrier = doc["overall"]["barrier"]
    expected = {f: aim[1] for f, b in doc["facets"].items() if b["score"] is not None and b["score"] < aim[1]}
    if barrier:
        expected[barrier] = max(expected.get(barrier, BARRIER_LINE), BARRIER_LINE)
    assert plan["targets"] == pytest.approx(expected)
    assert doc["roadmap"] and plan["impact_source"] == "playbook"
    assert doc["benchmark"] is None


def test_fixed_target_still_works_and_keeps_the_barrier_in_the_plan(bundled, book):
    facet = bundled.layout.facet_ids[0]
    center = designed_center(bundled, facet)
    doc = assess(center, playbook=book, options=Options(n_boot=50, target=10.0))["D"]
    assert doc["plan"]["target_kind"] == "fixed" and doc["plan"]["target"] == "fixed level 10"
    assert doc["plan"]["targets"][facet] == BARRIER_LINE  # the barrier aims at least at the line
    assert facet in doc["roadmap"][0]["facets"]


# ---------------------------------------------------------------------- honest panels
def test_bundled_panel_is_marked_synthetic():
    info = load_peer_info(PANEL)
    assert info.synthetic is True and info.name and info.description


def test_synthetic_panel_is_labelled_and_nothing_fitted_on_it_is_evidence(bundled, book, panel):
    center = designed_center(bundled, bundled.layout.facet_ids[0], rest="weak")
    doc = assess(center, profiles=profile_frame(), peers=panel, playbook=book, options=FAST)["D"]
    info = load_peer_info(PANEL)
    assert doc["benchmark"]["panel"] == {
        "synthetic": True,
        "name": info.name,
        "n": len(pd.read_csv(PANEL.with_name("panel.profiles.csv"))),
        "description": info.description,
    }
    assert doc["drivers"]["illustration"] is True
    assert "instrument_quality" not in doc
    assert doc["plan"]["impact_source"] == "playbook"
    priors = {d: max(w, IMPACT_FLOOR) for d, w in book.dimension_impact.items()}
    assert doc["plan"]["impact"] == pytest.approx(priors)


def test_real_panel_is_evidence(bundled, book, real_panel):
    center = designed_center(bundled, bundled.layout.facet_ids[0], rest="weak")
    doc = assess(center, profiles=profile_frame(), peers=real_panel, playbook=book, options=FAST)["D"]
    assert doc["benchmark"]["panel"]["synthetic"] is False and doc["benchmark"]["panel"]["name"] == "Our peers"
    assert doc["drivers"]["illustration"] is False
    assert doc["instrument_quality"]["alpha"]
    assert real_panel.drivers.impact  # the driver models found something to weigh with
    assert doc["plan"]["impact_source"] == "peers"
    fitted = {d: max(w, IMPACT_FLOOR) for d, w in real_panel.drivers.impact.items()}
    assert doc["plan"]["impact"] == pytest.approx(fitted, abs=1e-3)


# ---------------------------------------------------------------------- levels
def test_levels_in_results_are_the_levels_file(bundled, mini):
    for instrument in (bundled, mini):
        doc = assess(designed_center(instrument), options=FAST)["D"]
        levels = doc["method"]["levels"]
        assert [(lv["name"], lv["lower"], lv["upper"]) for lv in levels] == level_scale()
        assert all(lv["description"].count(".") >= 1 and len(lv["description"]) > 80 for lv in levels)
        names = [lv["name"] for lv in levels]
        assert doc["overall"]["level"] in names
