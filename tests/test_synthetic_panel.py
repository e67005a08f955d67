"""Tests for the synthetic peer panel (readiness.core.synthetic_panel) and the bundled data files.

The bundled-file checks recompute the published figures straight from the CSV files with
pandas, without going through panel.py, so they check the data that ships and not the
generator's own idea of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from scipy.stats import spearmanr

from readiness.core.profile import KPIS
from readiness.core.synthetic_panel import PanelModel, generate_org, generate_panel
from readiness.io.loaders import load_profiles, load_responses

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "data" / "peers"
EXAMPLES = ROOT / "data" / "examples"

PROFILE_COLUMNS = ["org_id", "org_name", "industry", "agents", "size_band", "stage", *KPIS]
#: Plausible ranges the brief sets for each KPI (tighter than what the loader accepts).
KPI_RANGES = {
    "sales_conversion_rate": (2, 40),
    "revenue_per_call": (1, 60),
    "first_call_resolution": (55, 90),
    "customer_satisfaction": (60, 95),
    "service_level": (60, 95),
    "average_handle_time": (180, 900),
    "abandon_rate": (2, 15),
    "agent_attrition": (15, 80),
}
#: The reverse item about not knowing whether short contacts or sales count more (003).
TALK_TIME_ITEM = "PRO_GOA_2"

NORTHBANK = dict(
    org_id="NORTHBANK",
    org_name="Northbank Direct — Customer Care",
    industry="financial_services",
    agents=120,
    stage="considering",
    respondents={"agent": 17, "supervisor": 4, "manager": 3},
    seed=11,
    readiness_shift={"people": -0.4, "process": -0.3, "technology": 0.3, "knowledge": -0.1},
)


#: The example center's recipe (data/examples/README.md): eleven agents cannot see how the
#: center works with marketing and answer "don't know" to the collaboration questions put
#: to them; three respondents, one per role, wrote their answers as the labels of the
#: drop-downs; four agents answered the open question.
UNSEEN = (("R01", "R02", "R03", "R05", "R06", "R08", "R09", "R10", "R11", "R13", "R15"), "process.collaboration")
LABEL_ROWS = ("R03", "R19", "R23")
OPEN_ANSWERS = {
    "R01": "Tell us plainly whether short calls or sales count more; today we hear both.",
    "R04": "Give us a short list of products to offer instead of the whole catalogue.",
    "R07": "Coach us on how to bring up an offer without sounding pushy.",
    "R12": "Fix the screens first: the customer history takes too long to load.",
}


def example_center(instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled example center, as data/examples/README.md makes it."""
    responses, profiles = generate_org(instrument, **NORTHBANK)
    agents, facet = UNSEEN
    unseen = [i.id for i in instrument.facets[facet].items if "agent" in i.roles]
    responses.loc[responses["respondent_id"].isin(agents), unseen] = "DK"
    for rid in LABEL_ROWS:
        row = responses.index[responses["respondent_id"] == rid][0]
        for item_id in instrument.layout.item_ids:
            value = responses.at[row, item_id]
            if isinstance(value, int):
                responses.at[row, item_id] = instrument.items[item_id].labels[value - 1]
            elif value == "DK":
                responses.at[row, item_id] = "Don't know"
    question = instrument.open_questions[0].id
    responses[question] = responses["respondent_id"].map(OPEN_ANSWERS).fillna("")
    return responses, profiles


#: The example center's two waves (docs/reassessment.md): the same center and seed, other
#: people each time; three facets moved between them.
WAVES = (
    ("northbank-2024-05.csv", {"agent": 17, "supervisor": 4, "manager": 3}, 2404, None, "R"),
    (
        "northbank-2024-11.csv",
        {"agent": 19, "supervisor": 4, "manager": 3},
        2413,
        {"process.sales_process": 1.2, "process.goals": 1.0, "technology.routing": -0.9},
        "S",
    ),
)


def example_waves(instrument) -> dict[str, pd.DataFrame]:
    """The bundled waves of the example center, as docs/reassessment.md draws them."""
    center = {k: v for k, v in NORTHBANK.items() if k != "respondents"}
    out = {}
    for name, respondents, respondent_seed, facet_shift, prefix in WAVES:
        frame, _ = generate_org(
            instrument, respondents=respondents, respondent_seed=respondent_seed, facet_shift=facet_shift, **center
        )
        frame["respondent_id"] = frame["respondent_id"].str.replace("R", prefix, n=1)
        out[name] = frame
    return out


@pytest.fixture(scope="module")
def small(bundled):
    return generate_panel(bundled, n_orgs=60, seed=3)


@pytest.fixture(scope="module")
def bundled_csv():
    # Read as text, exactly as written: '' for unanswered, 'NA' for not applicable.
    responses = pd.read_csv(PEERS / "panel.csv", dtype=str, keep_default_na=False)
    profiles = pd.read_csv(PEERS / "panel.profiles.csv")
    return responses, profiles


def _check_answers(instrument, responses: pd.DataFrame) -> None:
    layout = instrument.layout
    k = layout.scale_points
    items = list(layout.item_ids)
    cells = responses[items].to_numpy()
    is_int = np.vectorize(lambda v: type(v) is int, otypes=[bool])(cells)
    assert np.all(is_int | (cells == "") | (cells == "NA") | (cells == "DK"))
    numbers = np.where(is_int, cells, 0).astype(int)
    assert np.all((numbers[is_int] >= 1) & (numbers[is_int] <= k))
    role_index = {r: j for j, r in enumerate(layout.role_ids)}
    asked = layout.asked[responses["role"].map(role_index).to_numpy()]
    assert np.all(cells[~asked] == "")
    na = cells == "NA"
    assert not np.any(na[:, ~layout.allows_na])


# ---------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_frames(bundled):
    r1, p1 = generate_panel(bundled, n_orgs=25, seed=42)
    r2, p2 = generate_panel(bundled, n_orgs=25, seed=42)
    pd.testing.assert_frame_equal(r1, r2)
    pd.testing.assert_frame_equal(p1, p2)
    o1 = generate_org(bundled, **NORTHBANK)
    o2 = generate_org(bundled, **NORTHBANK)
    pd.testing.assert_frame_equal(o1[0], o2[0])
    pd.testing.assert_frame_equal(o1[1], o2[1])


def test_different_seed_gives_different_frames(bundled):
    r1, p1 = generate_panel(bundled, n_orgs=25, seed=42)
    r2, p2 = generate_panel(bundled, n_orgs=25, seed=43)
    assert not r1.equals(r2)
    assert not p1.equals(p2)


# ---------------------------------------------------------------------- shape and ranges
def test_panel_shape_and_columns(bundled, small):
    responses, profiles = small
    assert list(responses.columns) == ["org_id", "respondent_id", "role", *bundled.layout.item_ids]
    assert list(profiles.columns) == PROFILE_COLUMNS
    assert profiles["org_id"].tolist() == [f"P{i:04d}" for i in range(1, 61)]
    assert profiles["org_name"].iloc[0] == "Peer center 0001"
    assert set(responses["org_id"]) == set(profiles["org_id"])
    assert not responses.duplicated(["org_id", "respondent_id"]).any()
    assert all(responses[c].dtype == object for c in bundled.layout.item_ids)


def test_respondents_and_roles(small):
    responses, _ = small
    per_org = responses.groupby("org_id").size()
    assert per_org.between(5, 40).all()
    roles = pd.crosstab(responses["org_id"], responses["role"]).reindex(
        columns=["agent", "supervisor", "manager"], fill_value=0
    )
    assert set(responses["role"]) <= {"agent", "supervisor", "manager"}
    assert (roles["agent"] >= 1).all()
    leads = roles["supervisor"] + roles["manager"]
    assert (leads[per_org >= 6] >= 1).all()


def test_answers_valid(bundled, small):
    _check_answers(bundled, small[0])


def test_profiles_valid(small):
    _, profiles = small
    band_of = pd.cut(profiles["agents"], [0, 50, 150, 500, np.inf], labels=["<=50", "51-150", "151-500", ">500"])
    assert (band_of.astype(str) == profiles["size_band"]).all()
    assert profiles["agents"].between(1, 3000).all()
    assert set(profiles["stage"]) <= {"not_considering", "considering", "transitioning", "established"}
    for kpi, (low, high) in KPI_RANGES.items():
        values = profiles[kpi].dropna()
        assert values.between(low, high).all(), kpi
        assert pd.api.types.is_numeric_dtype(profiles[kpi])
    # handle time is whole seconds, and stays so in the files (nullable integers)
    assert str(profiles["average_handle_time"].dtype) == "Int64"


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_orgs=st.integers(1, 12))
def test_any_seed_gives_valid_panel(bundled, seed, n_orgs):
    responses, profiles = generate_panel(bundled, n_orgs=n_orgs, seed=seed)
    assert len(profiles) == n_orgs
    assert responses.groupby("org_id").size().between(5, 40).all()
    _check_answers(bundled, responses)


def test_generate_org_keeps_profile_and_role_counts(bundled):
    responses, profiles = generate_org(bundled, **NORTHBANK)
    assert responses["role"].value_counts().to_dict() == {"agent": 17, "supervisor": 4, "manager": 3}
    row = profiles.iloc[0]
    assert (row["org_id"], row["industry"], row["agents"], row["size_band"], row["stage"]) == (
        "NORTHBANK",
        "financial_services",
        120,
        "51-150",
        "considering",
    )
    assert list(profiles.columns) == PROFILE_COLUMNS
    _check_answers(bundled, responses)


def test_readiness_shift_moves_answers(bundled):
    def mean_ready_answer(shift: float) -> float:
        responses, _ = generate_org(
            bundled,
            org_id="X",
            org_name="X",
            industry="other",
            agents=200,
            stage="transitioning",
            respondents={"agent": 40},
            seed=1,
            readiness_shift={"people": shift},
        )
        people = [i for i in bundled.layout.item_ids if i.startswith("PEO_") and not bundled.items[i].reverse]
        return pd.to_numeric(responses[people].stack(), errors="coerce").mean()

    assert mean_ready_answer(1.0) > mean_ready_answer(0.0) + 0.3 > mean_ready_answer(-1.0) + 0.6


def test_generate_org_rejects_unknown_stage_and_role(bundled):
    args = {**NORTHBANK, "stage": "thinking_about_it"}
    with pytest.raises(ValueError, match="stage"):
        generate_org(bundled, **args)
    args = {**NORTHBANK, "respondents": {"director": 2}}
    with pytest.raises(ValueError, match="role"):
        generate_org(bundled, **args)


def test_answers_follow_graded_response_model(bundled):
    # Switch every source of spread off: each agent's latent value is then exactly 0, and
    # the share answering k or more on an item of difficulty 0 must be logistic(a * -tau_k).
    quiet = PanelModel(
        stage_means={"transitioning": 0.0},
        stage_dimension_shift={},
        industry_effects={},
        org_sd=0.0,
        facet_sd=0.0,
        facet_offsets={},
        respondent_sd=0.0,
        item_difficulty_sd=0.0,
        item_difficulty={},
        careless_share=0.0,
        missing_rate=0.0,
        na_org_rate=0.0,
        na_rate=0.0,
        dont_know_rate={},
    )
    responses, _ = generate_org(
        bundled,
        org_id="Q",
        org_name="Q",
        industry="other",
        agents=500,
        stage="transitioning",
        respondents={"agent": 1500},
        seed=9,
        model=quiet,
    )
    items = [i for i in bundled.layout.item_ids if "agent" in bundled.items[i].roles]
    raw = responses[items].astype(int).to_numpy()
    reverse = np.array([bundled.items[i].reverse for i in items])
    ready = np.where(reverse, 6 - raw, raw)
    expected = expit(quiet.discrimination * -np.asarray(quiet.thresholds))
    observed = [(ready >= k).mean() for k in range(2, 6)]
    np.testing.assert_allclose(observed, expected, atol=0.01)


# ---------------------------------------------------------------------- bundled files
def test_bundled_files_load(bundled):
    for responses, profiles in (("panel.csv", "panel.profiles.csv"),):
        parsed = load_responses(PEERS / responses, bundled)
        prof = load_profiles(PEERS / profiles)
        assert set(parsed.org_ids) == set(prof.index)
        assert len(prof) == 400
    parsed = load_responses(EXAMPLES / "responses.csv", bundled)
    prof = load_profiles(EXAMPLES / "profiles.csv")
    assert parsed.org_ids == ("NORTHBANK",) and list(prof.index) == ["NORTHBANK"]
    assert prof.loc["NORTHBANK", "size_band"] == "51-150"


def test_example_shows_missing_na_dont_know_and_labels(bundled):
    raw = pd.read_csv(EXAMPLES / "responses.csv", dtype=str, keep_default_na=False)
    layout = bundled.layout
    items = list(layout.item_ids)
    asked = layout.asked[raw["role"].map({r: j for j, r in enumerate(layout.role_ids)}).to_numpy()]
    cells = raw[items].to_numpy()
    assert ((cells == "") & asked).sum() >= 3
    assert (cells == "NA").sum() >= 2
    assert (cells == "DK").sum() >= 10 and (cells == "Don't know").sum() >= 1
    is_label = np.vectorize(lambda v: v not in ("", "NA", "DK", "Don't know") and not v.isdigit(), otypes=[bool])(cells)
    assert is_label.any(axis=1).sum() == 3
    assert raw["OPEN_1"].ne("").sum() == len(OPEN_ANSWERS)
    # Every label used is the exact label text of that item in the instrument.
    for r, c in zip(*np.nonzero(is_label)):
        assert cells[r, c] in bundled.items[items[c]].labels


def test_bundled_panel_reproduces_published_figures(bundled, bundled_csv):
    responses, profiles = bundled_csv
    sizes = profiles["size_band"].value_counts(normalize=True)
    for band, published in {"<=50": 0.22, "51-150": 0.19, "151-500": 0.14, ">500": 0.46}.items():
        assert abs(sizes[band] - published) <= 0.04, band
    assert profiles["industry"].nunique() == 5
    past = (profiles["stage"] != "not_considering").mean()
    assert 0.85 <= past <= 0.95

    agents = responses[responses["role"] == "agent"]
    negative = []
    for item in bundled.facets["people.belief"].items:
        answers = pd.to_numeric(agents[item.id], errors="coerce").dropna()
        negative.append((answers >= 4).mean() if item.reverse else (answers <= 2).mean())
    assert 0.35 <= np.mean(negative) <= 0.45

    assert bundled.items[TALK_TIME_ITEM].reverse
    unsure = pd.to_numeric(agents[TALK_TIME_ITEM], errors="coerce").dropna()
    assert (unsure >= 4).mean() > 0.20

    # 40% of reps unwilling or unable (003), by the documented rule straight from the file:
    # disagree (1-2) with either item; classified when low on one, or both answered.
    block = bundled.unwilling_or_unable
    assert not bundled.items[block.willing].reverse and not bundled.items[block.able].reverse
    willing = pd.to_numeric(agents[block.willing], errors="coerce")
    able = pd.to_numeric(agents[block.able], errors="coerce")
    low = (willing <= 2) | (able <= 2)
    classified = low | (willing.notna() & able.notna())
    assert 0.37 <= low[classified].mean() <= 0.43


def test_bundled_panel_dont_know_is_rare_and_commonest_among_agents(bundled, bundled_csv):
    responses, _ = bundled_csv
    layout = bundled.layout
    items = list(layout.item_ids)
    rate = {}
    for role, rows in responses.groupby("role"):
        asked = layout.asked[layout.role_ids.index(role)]
        cells = rows[items].to_numpy()[:, asked]
        rate[role] = (cells == "DK").mean()
    assert 0.03 <= rate["agent"] <= 0.06
    assert rate["agent"] > rate["supervisor"] > rate["manager"] > 0
    practice = [i for i in items if bundled.items[i].kind == "practice" and "agent" in bundled.items[i].roles]
    attitude = [i for i in items if bundled.items[i].kind == "attitude" and "agent" in bundled.items[i].roles]
    agents = responses[responses["role"] == "agent"]
    assert (agents[practice] == "DK").to_numpy().mean() > 3 * (agents[attitude] == "DK").to_numpy().mean()


def test_example_waves_are_their_recipe_byte_for_byte(bundled):
    """docs/reassessment.md's recipe gives the bundled waves, answered on the bundled instrument."""
    for name, frame in example_waves(bundled).items():
        assert frame.to_csv(index=False) == (EXAMPLES / "waves" / name).read_text(encoding="utf-8"), name
        load_responses(EXAMPLES / "waves" / name, bundled)


def test_example_center_is_its_recipe_byte_for_byte(bundled):
    """data/examples/README.md's recipe gives the bundled example files."""
    responses, profiles = example_center(bundled)
    assert responses.to_csv(index=False) == (EXAMPLES / "responses.csv").read_text(encoding="utf-8")
    assert profiles.to_csv(index=False) == (EXAMPLES / "profiles.csv").read_text(encoding="utf-8")


def test_bundled_kpis_follow_readiness(bundled, bundled_csv):
    responses, profiles = bundled_csv
    items = list(bundled.layout.item_ids)
    answers = responses[items].apply(pd.to_numeric, errors="coerce")
    reverse = [i for i in items if bundled.items[i].reverse]
    answers[reverse] = 6 - answers[reverse]
    normalized = (answers - 1) / 4 * 100
    org_mean = normalized.groupby(responses["org_id"]).mean().mean(axis=1).rename("readiness")
    table = profiles.set_index("org_id").join(org_mean)

    def rho(kpi: str) -> float:
        both = table[["readiness", kpi]].dropna()
        return spearmanr(both["readiness"], both[kpi])[0]

    assert rho("sales_conversion_rate") > 0.3
    assert rho("revenue_per_call") > 0.3
    assert rho("customer_satisfaction") > 0.2
    assert rho("first_call_resolution") > 0.2
    assert rho("agent_attrition") < -0.1
    assert rho("abandon_rate") < -0.1
    # A few KPI cells are blank, as in real profile files.
    assert 0 < table[list(KPIS)].isna().to_numpy().mean() < 0.1


def test_cli_regenerates_the_bundled_panel_byte_for_byte(tmp_path):
    """The data card's recipe (`readiness panel --orgs 400 --seed 2007`) gives the bundled files."""
    from readiness.apps.cli import main

    out = tmp_path / "panel.csv"
    assert main(["panel", "--orgs", "400", "--seed", "2007", "--out", str(out)]) == 0
    bundled = Path(__file__).resolve().parent.parent / "data" / "peers"
    assert out.read_bytes() == (bundled / "panel.csv").read_bytes()
    assert (tmp_path / "panel.profiles.csv").read_bytes() == (bundled / "panel.profiles.csv").read_bytes()
    # ... and marks them synthetic, as the bundled panel is
    assert (tmp_path / "panel.panel.json").read_bytes() == (bundled / "panel.panel.json").read_bytes()
    assert json.loads((bundled / "panel.panel.json").read_text(encoding="utf-8"))["synthetic"] is True
