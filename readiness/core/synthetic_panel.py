"""The synthetic peer panel: a documented latent-trait model of contact centers.

Core layer: pure functions, no file I/O. :func:`generate_panel` draws a whole panel of
peer organizations (responses in the canonical wide form plus organization profiles with
KPIs); :func:`generate_org` draws one organization with a fixed profile, for example
data. The panel is **synthetic**: it is shaped to reproduce the published figures of the
source articles (``DOMAIN.md``), not measured from real centers. The same model is
described for users in ``data/peers/README.md``.

The model
---------
Organizations
    * **industry** — one of the study's five, by quota: financial_services 28%,
      technology 22%, professional_services 16%, manufacturing 14%, other 20%.
    * **size band** — the published mix (``000``): 22% ``<=50``, 19% ``51-150``,
      14% ``151-500``, 46% ``>500`` agents; the headcount ``agents`` is drawn
      log-uniformly inside the band (5..50, 51..150, 151..500, 501..3000).
    * **stage** — not_considering 10%, considering 30%, transitioning 30%,
      established 30%, so 9 in 10 centers are past "not considering" (``000``).
    * Industry, size band and stage are allocated by *quota* (largest-remainder rounding
      of the shares, then shuffled independently), so the published mix holds at any
      panel size rather than only on average.

Readiness (latent, standard-normal scale; 0 is a center that answers "3" on average)
    * Dimension value ``theta_d = stage_mean[stage] + stage_dimension_shift[stage][d]
      + industry_effect[industry] + readiness_shift[d] + org_sd * e_d`` where ``e`` is
      standard normal with correlation ``dimension_rho`` between the four dimensions.
      Stage means: not_considering -1.0, considering -0.35, transitioning 0.15,
      established 0.7. Technology runs +0.3 ahead in "considering" centers: the centers
      about to start over-rate technology (``000``).
    * Facet value ``phi_f = theta_d + facet_offset[f] + facet_sd * z_f`` (facet_sd 0.35).
      ``facet_offsets`` calibrates belief in selling (``people.belief`` -0.2) so that
      about 40% of agents are negative about it (``003``).

Respondents
    * 5..40 per organization (uniform); roles drawn 70% agent, 20% supervisor,
      10% manager, with at least one agent and, from 6 respondents, at least one
      supervisor or manager.
    * Respondent value per facet ``phi_f + role_bias[role] + respondent_sd * u`` with
      role bias agent 0, supervisor +0.15, manager +0.35 (managers see their center
      more favourably than agents do) and ``u`` standard normal, a share
      ``respondent_general_share`` of whose variance is common to all of the
      respondent's facets (a general "mood"), the rest facet-specific.

Answers (graded response model)
    * Item difficulty ``b_i ~ N(0, item_difficulty_sd)``, drawn once per seed and centred
      within each facet so a facet's level is set by the latent values and offsets only;
      ``item_difficulty`` pins named items (``PRO_GOA_2``, the "short contacts or sales?"
      item, is pinned at -0.6 so that just over 20% of agents are unsure, ``003``; the
      willingness and ability items ``PEO_MOT_5`` and ``KNO_CON_5`` at -0.45 each, so
      that about 40% of agents are unwilling or unable to sell, ``003``).
    * ``P(X >= k) = logistic(a * (value - b_i - tau_k))`` for k = 2..5 with
      ``tau = (-1.6, -0.5, 0.5, 1.6)`` and ``a = 1.7``. ``X`` is the answer in the
      *ready* direction; a reverse-worded item is written as ``6 - X``.
    * Acquiescent answering: a share ``careless_share`` (8%) of respondents answer
      reverse-worded items as if they were not reversed (they write ``X``).
    * Items not asked of the respondent's role are empty. Of the asked items,
      ``missing_rate`` (3%) are left empty at random. Items that allow N/A are answered
      ``NA`` by every respondent of an organization that "does not have this"
      (``na_org_rate``, 12% of organizations per item) and at random ``na_rate`` (2%).
    * "Don't know" (``DK``) at random, at a rate by role and kind of item
      (``dont_know_rate``): practice items describe how the center works, which those
      further from management see less of (agents 6%, supervisors 2.5%, managers 1%);
      attitude items ask for the respondent's own view (agents and supervisors 1%,
      managers 0.5%).

KPIs (profile columns; rounded to one decimal, handle time to whole seconds)
    Each KPI is ``base[industry]`` times (``log`` scale) or plus (``linear`` scale) a
    linear term in the organization's dimension or facet values, a size term per
    doubling of headcount relative to 150 agents, a stage term and normal noise,
    then clipped to a plausible range; ``kpi_missing_rate`` (3%) of cells are NaN.
    Conversion and revenue per call rest mostly on people and process, less on
    technology (people before technology, ``000``); handle time falls with consultative
    skill and rises a little with people and process selling ("lead the call", ``004``);
    abandon rate falls with IVR and routing; attrition falls with people. The
    coefficients are in :data:`DEFAULT_KPIS`.

Randomness comes only from ``np.random.SeedSequence(seed)`` and its spawned children, so
the same arguments give identical frames.

Example
-------
>>> responses, profiles = generate_panel(instrument, n_orgs=400, seed=2007)  # doctest: +SKIP
>>> responses.iloc[:2, :5]                                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from .benchmark import PanelInfo
from .instrument import Instrument
from .profile import KPIS, size_band

__all__ = ["DEFAULT_KPIS", "KpiSpec", "PanelModel", "generate_org", "generate_panel", "panel_info"]


@dataclass(frozen=True)
class KpiSpec:
    """How one operational KPI follows from an organization's readiness.

    ``value = base[industry] * exp(term)`` on the ``log`` scale, ``base[industry] +
    term`` on the ``linear`` scale, where ``term = sum(effects[x] * latent[x]) +
    size_effect * log2(agents / 150) + stage_effects[stage] + noise_sd * N(0, 1)`` and
    ``latent[x]`` is the organization's value for a dimension id (``people``) or a facet
    id (``technology.routing``; the facet's dimension stands in when the instrument has
    no such facet). With ``per_sale_of`` set, the value is further multiplied by that
    KPI / 100 (revenue per call = conversion share x value of a sale). The result is
    clipped to ``[low, high]`` and rounded to ``digits``.
    """

    name: str
    scale: Literal["log", "linear"]
    base: Mapping[str, float]
    effects: Mapping[str, float]
    noise_sd: float
    low: float
    high: float
    digits: int = 1
    size_effect: float = 0.0
    stage_effects: Mapping[str, float] = field(default_factory=dict)
    per_sale_of: str | None = None


#: The KPI models, in the order of :data:`readiness.core.profile.KPIS`.
DEFAULT_KPIS: tuple[KpiSpec, ...] = (
    KpiSpec(
        "sales_conversion_rate",
        "log",
        # Financial services cross-sell most readily; published rates reach 65% (000).
        base={
            "financial_services": 13.0,
            "technology": 11.0,
            "professional_services": 9.0,
            "manufacturing": 8.0,
            "other": 9.5,
        },
        effects={"people": 0.29, "process": 0.24, "technology": 0.07, "knowledge": 0.09},
        noise_sd=0.25,
        low=2.0,
        high=40.0,
    ),
    KpiSpec(
        "revenue_per_call",
        "log",
        # base = average value of one sale (currency units)
        base={
            "financial_services": 120.0,
            "technology": 135.0,
            "professional_services": 105.0,
            "manufacturing": 95.0,
            "other": 80.0,
        },
        effects={"process": 0.10, "knowledge": 0.08},
        noise_sd=0.20,
        low=1.0,
        high=60.0,
        per_sale_of="sales_conversion_rate",
    ),
    KpiSpec(
        "first_call_resolution",
        "linear",
        base={
            "financial_services": 72.0,
            "technology": 68.0,
            "professional_services": 73.0,
            "manufacturing": 71.0,
            "other": 74.0,
        },
        effects={"knowledge": 3.0, "process": 2.0, "technology": 2.0},
        noise_sd=4.5,
        low=55.0,
        high=90.0,
    ),
    KpiSpec(
        "customer_satisfaction",
        "linear",
        base={
            "financial_services": 79.0,
            "technology": 77.0,
            "professional_services": 81.0,
            "manufacturing": 80.0,
            "other": 80.0,
        },
        effects={"people": 2.5, "process": 2.0, "knowledge": 2.0, "technology": 1.0},
        noise_sd=4.0,
        low=60.0,
        high=95.0,
    ),
    KpiSpec(
        "service_level",
        "linear",
        base={
            "financial_services": 80.0,
            "technology": 78.0,
            "professional_services": 81.0,
            "manufacturing": 79.0,
            "other": 80.0,
        },
        # Larger centers pool their traffic, which makes the target easier to hold; a
        # stable, well-led staff keeps schedules filled.
        effects={"technology": 2.0, "people": 1.5, "process": 0.5},
        noise_sd=5.5,
        low=60.0,
        high=95.0,
        size_effect=0.8,
    ),
    KpiSpec(
        "average_handle_time",
        "log",
        base={
            "financial_services": 390.0,
            "technology": 480.0,
            "professional_services": 430.0,
            "manufacturing": 410.0,
            "other": 360.0,
        },
        # "Lead the call" (004): consultative skill shortens calls; selling adds a little.
        effects={"knowledge.consultative": -0.07, "people": 0.03, "process": 0.03},
        noise_sd=0.20,
        low=180.0,
        high=900.0,
        digits=0,
    ),
    KpiSpec(
        "abandon_rate",
        "log",
        base={
            "financial_services": 6.0,
            "technology": 6.5,
            "professional_services": 5.5,
            "manufacturing": 6.0,
            "other": 6.5,
        },
        effects={"technology.routing": -0.18},
        noise_sd=0.28,
        low=2.0,
        high=15.0,
        size_effect=-0.04,
    ),
    KpiSpec(
        "agent_attrition",
        "log",
        base={
            "financial_services": 36.0,
            "technology": 34.0,
            "professional_services": 30.0,
            "manufacturing": 28.0,
            "other": 40.0,
        },
        # Some reps leave while selling is introduced: about 40% are unwilling or unable (003).
        effects={"people": -0.16},
        noise_sd=0.25,
        low=15.0,
        high=80.0,
        size_effect=0.03,
        stage_effects={"transitioning": 0.10},
    ),
)


@dataclass(frozen=True)
class PanelModel:
    """Parameters of the latent-trait model behind the synthetic panel.

    The defaults are the documented model (module docstring, ``data/peers/README.md``).
    Shares are fractions; latent effects are on the standard-normal readiness scale,
    where one unit moves a typical answer by about one scale point.

    Attributes
    ----------
    industry_shares, size_shares, stage_shares : mapping
        Quotas for the organization mix (size shares from ``000``).
    size_ranges : mapping
        Headcount range of each size band; ``agents`` is log-uniform inside it.
    stage_means : mapping
        Mean dimension value by stage.
    stage_dimension_shift : mapping
        Extra shift of a dimension at a stage (technology ahead in considering centers).
    industry_effects : mapping
        Shift of all dimensions by industry (unknown industries: 0).
    dimension_rho, org_sd : float
        Correlation and spread of the organization's dimension values around the
        stage and industry means.
    facet_sd : float
        Spread of facets around their dimension.
    facet_offsets : mapping
        Fixed shift of named facets (calibration of belief in selling).
    respondents : (int, int)
        Fewest and most respondents per organization (uniform).
    role_shares, role_bias : mapping
        Role mix of respondents and each role's perception bias.
    respondent_sd, respondent_general_share : float
        Spread of a respondent around the facet value, and the share of its variance
        common to all of that respondent's facets.
    item_difficulty_sd : float
        Spread of item difficulties (centred within each facet).
    item_difficulty : mapping
        Pinned difficulties of named items (calibration of "short contacts or sales?").
    discrimination, thresholds : float, tuple
        Graded-response slope ``a`` and category thresholds ``tau`` (k - 1 of them; for a
        scale with another number of points they are spread evenly over the same span).
    careless_share : float
        Respondents who answer reverse-worded items as if they were not reversed.
    missing_rate, na_org_rate, na_rate : float
        Unanswered asked items; organizations without the thing an N/A item asks about;
        random N/A answers.
    dont_know_rate : mapping
        Role -> item kind (``practice``, ``attitude``) -> share of "don't know" answers.
    kpis : tuple of KpiSpec
        The KPI models.
    kpi_missing_rate : float
        KPI cells left blank.
    """

    industry_shares: Mapping[str, float] = field(
        default_factory=lambda: {
            "financial_services": 0.28,
            "technology": 0.22,
            "professional_services": 0.16,
            "manufacturing": 0.14,
            "other": 0.20,
        }
    )
    size_shares: Mapping[str, float] = field(
        default_factory=lambda: {"<=50": 0.22, "51-150": 0.19, "151-500": 0.14, ">500": 0.46}
    )
    size_ranges: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: {"<=50": (5, 50), "51-150": (51, 150), "151-500": (151, 500), ">500": (501, 3000)}
    )
    stage_shares: Mapping[str, float] = field(
        default_factory=lambda: {
            "not_considering": 0.10,
            "considering": 0.30,
            "transitioning": 0.30,
            "established": 0.30,
        }
    )
    stage_means: Mapping[str, float] = field(
        default_factory=lambda: {
            "not_considering": -1.0,
            "considering": -0.35,
            "transitioning": 0.15,
            "established": 0.7,
        }
    )
    stage_dimension_shift: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {"considering": {"technology": 0.3}}
    )
    industry_effects: Mapping[str, float] = field(
        default_factory=lambda: {
            "financial_services": 0.15,
            "technology": 0.10,
            "professional_services": 0.0,
            "manufacturing": -0.15,
            "other": -0.05,
        }
    )
    dimension_rho: float = 0.5
    org_sd: float = 0.6
    facet_sd: float = 0.35
    facet_offsets: Mapping[str, float] = field(default_factory=lambda: {"people.belief": -0.2})
    respondents: tuple[int, int] = (5, 40)
    role_shares: Mapping[str, float] = field(
        default_factory=lambda: {"agent": 0.70, "supervisor": 0.20, "manager": 0.10}
    )
    role_bias: Mapping[str, float] = field(default_factory=lambda: {"agent": 0.0, "supervisor": 0.15, "manager": 0.35})
    respondent_sd: float = 0.6
    respondent_general_share: float = 0.3
    item_difficulty_sd: float = 0.4
    item_difficulty: Mapping[str, float] = field(
        default_factory=lambda: {"PRO_GOA_2": -0.6, "PEO_MOT_5": -0.45, "KNO_CON_5": -0.45}
    )
    discrimination: float = 1.7
    thresholds: tuple[float, ...] = (-1.6, -0.5, 0.5, 1.6)
    careless_share: float = 0.08
    missing_rate: float = 0.03
    na_org_rate: float = 0.12
    na_rate: float = 0.02
    dont_know_rate: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {
            "agent": {"practice": 0.06, "attitude": 0.01},
            "supervisor": {"practice": 0.025, "attitude": 0.01},
            "manager": {"practice": 0.01, "attitude": 0.005},
        }
    )
    kpis: tuple[KpiSpec, ...] = DEFAULT_KPIS
    kpi_missing_rate: float = 0.03


# ---------------------------------------------------------------------- public
def panel_info(seed: int) -> PanelInfo:
    """How a generated panel describes itself: simulated, named by its seed.

    ``readiness panel`` writes this beside what it generates, so every report compared
    with these peers says they are simulated.
    """
    return PanelInfo(
        name=f"Synthetic peer panel (seed {seed})",
        description=(
            "Simulated contact centers, generated from a documented statistical model shaped so that a few "
            "published figures come out as published. They describe no real center: use them to try the "
            "framework, not as industry facts."
        ),
        synthetic=True,
    )


def generate_panel(
    instrument: Instrument,
    *,
    n_orgs: int = 400,
    seed: int = 0,
    model: PanelModel | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a synthetic peer panel from the documented latent-trait model.

    Parameters
    ----------
    instrument : Instrument
        The question set the respondents answer.
    n_orgs : int
        Number of organizations (ids ``P0001``, ``P0002``, ...).
    seed : int
        The only source of randomness; the same arguments give identical frames.
    model : PanelModel, optional
        Model parameters (the documented defaults when omitted).

    Returns
    -------
    responses : DataFrame
        Canonical wide form: ``org_id, respondent_id, role``, then one column per item in
        ``instrument.layout.item_ids`` order. Answers are Python ints 1..scale_points,
        ``''`` for unanswered, ``'NA'`` for not applicable and ``'DK'`` for don't know
        (object dtype).
    profiles : DataFrame
        ``org_id, org_name, industry, agents, size_band, stage`` then the KPI columns
        (floats, NaN where blank).

    Examples
    --------
    >>> responses, profiles = generate_panel(load_instrument(), n_orgs=50, seed=1)  # doctest: +SKIP
    """
    if n_orgs < 1:
        raise ValueError("n_orgs must be at least 1")
    model = model or PanelModel()
    missing = sorted(set(model.stage_shares) - set(model.stage_means))
    missing += sorted(set(model.size_shares) - set(model.size_ranges))
    if missing:
        raise ValueError(f"PanelModel gives shares but no mean or range for: {', '.join(missing)}")
    s_items, s_orgs, s_roles, s_answers, s_kpis = np.random.SeedSequence(seed).spawn(5)
    rng_orgs = np.random.default_rng(s_orgs)
    industry = _quota(model.industry_shares, n_orgs, rng_orgs)
    band = _quota(model.size_shares, n_orgs, rng_orgs)
    stage = _quota(model.stage_shares, n_orgs, rng_orgs)
    agents = _headcount(band, model.size_ranges, rng_orgs)
    width = max(4, len(str(n_orgs)))
    org_ids = [f"P{i:0{width}d}" for i in range(1, n_orgs + 1)]
    org_names = [f"Peer center {i:0{width}d}" for i in range(1, n_orgs + 1)]
    counts = _role_counts(instrument, model, n_orgs, np.random.default_rng(s_roles))
    shift = np.zeros((n_orgs, len(instrument.layout.dimension_ids)))
    return _simulate(
        instrument,
        model,
        org_ids,
        org_names,
        industry,
        agents,
        band,
        stage,
        counts,
        shift,
        rngs=(
            np.random.default_rng(s_items),
            rng_orgs,
            np.random.default_rng(s_answers),
            np.random.default_rng(s_kpis),
        ),
    )


def generate_org(
    instrument: Instrument,
    *,
    org_id: str,
    org_name: str,
    industry: str,
    agents: int,
    stage: str,
    respondents: dict[str, int],
    seed: int,
    readiness_shift: dict[str, float] | None = None,
    model: PanelModel | None = None,
    facet_shift: dict[str, float] | None = None,
    respondent_seed: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw one organization with a fixed profile and role counts (for example data).

    Same model as :func:`generate_panel`; only the profile and the number of respondents
    per role are given instead of drawn.

    A later **wave** of the same center is drawn with the same ``seed`` (the same
    organization: its latent values and item difficulties) and another
    ``respondent_seed`` (other people answering), with ``facet_shift`` moving the
    facets that changed in between.

    Parameters
    ----------
    instrument : Instrument
    org_id, org_name, industry : str
    agents : int
        Headcount; the size band follows from it.
    stage : str
        One of :data:`readiness.core.profile.STAGES`.
    respondents : dict
        Role -> number of respondents (roles of the instrument).
    seed : int
        The only source of randomness.
    readiness_shift : dict, optional
        Dimension id -> shift of the organization's latent dimension value (for example
        ``{"people": -0.4, "technology": 0.3}`` for a center whose tools run ahead of
        its people).
    model : PanelModel, optional
    facet_shift : dict, optional
        Facet id -> shift of the organization's latent facet value (one unit moves a
        typical answer by about one scale point).
    respondent_seed : int, optional
        Seed of the respondents' answers (and the KPI noise); default: drawn from ``seed``.
        What the center lacks (items all its respondents mark N/A) stays the center's.

    Returns
    -------
    responses, profiles : DataFrame
        As :func:`generate_panel`, for this one organization.
    """
    model = model or PanelModel()
    layout = instrument.layout
    if stage not in model.stage_means:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(model.stage_means)}")
    unknown = sorted(set(respondents) - set(layout.role_ids))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; expected {', '.join(layout.role_ids)}")
    if agents < 1:
        raise ValueError("agents must be at least 1")
    counts = np.array([[int(respondents.get(r, 0)) for r in layout.role_ids]], dtype=np.int64)
    if (counts < 0).any() or counts.sum() < 1:
        raise ValueError("respondents must give at least one respondent and no negative counts")
    shift_map = readiness_shift or {}
    bad = sorted(set(shift_map) - set(layout.dimension_ids))
    if bad:
        raise ValueError(f"unknown dimension(s) in readiness_shift: {', '.join(bad)}")
    shift = np.array([[float(shift_map.get(d, 0.0)) for d in layout.dimension_ids]])
    bad = sorted(set(facet_shift or {}) - set(layout.facet_ids))
    if bad:
        raise ValueError(f"unknown facet(s) in facet_shift: {', '.join(bad)}")
    if facet_shift:
        offsets = dict(model.facet_offsets)
        for facet, value in facet_shift.items():
            offsets[facet] = offsets.get(facet, 0.0) + float(value)
        model = replace(model, facet_offsets=offsets)
    s_items, s_orgs, s_answers, s_kpis = np.random.SeedSequence(seed).spawn(4)
    lacks = None
    if respondent_seed is not None:
        # What the center does not have (items every respondent marks N/A) belongs to the
        # center, not to who answers: drawn from the center's seed, the same in every wave.
        n_items = len(layout.item_ids)
        lacks = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4]).random((1, n_items)) < model.na_org_rate
        s_answers, s_kpis = np.random.SeedSequence(respondent_seed).spawn(2)
    band = np.array([size_band(agents)], dtype=object)
    return _simulate(
        instrument,
        model,
        [org_id],
        [org_name],
        np.array([industry], dtype=object),
        np.array([int(agents)]),
        band,
        np.array([stage], dtype=object),
        counts,
        shift,
        org_lacks=lacks,
        rngs=(
            np.random.default_rng(s_items),
            np.random.default_rng(s_orgs),
            np.random.default_rng(s_answers),
            np.random.default_rng(s_kpis),
        ),
    )


# ---------------------------------------------------------------------- organizations
def _quota(shares: Mapping[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels in the given proportions (largest remainder), in random order."""
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=float)
    p = p / p.sum()
    exact = p * n
    counts = np.floor(exact).astype(np.int64)
    # Ties in the remainders go to the category listed first: deterministic, seed-free.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    labels = np.repeat(np.array(names, dtype=object), counts)
    return labels[rng.permutation(n)]


def _headcount(band: np.ndarray, ranges: Mapping[str, tuple[int, int]], rng: np.random.Generator) -> np.ndarray:
    """Agents per organization, log-uniform within each one's size band."""
    low = np.array([ranges[b][0] for b in band], dtype=float)
    high = np.array([ranges[b][1] for b in band], dtype=float)
    # Draw on [low, high + 1) and floor, so both ends of the band are reachable.
    draw = np.exp(rng.uniform(np.log(low), np.log(high + 1.0)))
    return np.clip(np.floor(draw), low, high).astype(np.int64)


def _role_counts(instrument: Instrument, model: PanelModel, n_orgs: int, rng: np.random.Generator) -> np.ndarray:
    """Respondents per (organization, role): uniform total, multinomial role mix."""
    roles = instrument.layout.role_ids
    shares = np.array([model.role_shares.get(r, 0.0) for r in roles], dtype=float)
    if shares.sum() <= 0:
        shares = np.ones(len(roles))
    shares = shares / shares.sum()
    low, high = model.respondents
    total = rng.integers(low, high + 1, size=n_orgs)
    counts = rng.multinomial(total, shares)
    if len(roles) == 1:
        return counts
    # The most common role is the frontline (agents): every center has at least one.
    front = int(np.argmax(shares))
    others = np.array(
        [j for j in range(len(roles)) if j != front and shares[j] > 0] or [j for j in range(len(roles)) if j != front]
    )
    rows = np.arange(n_orgs)
    no_front = counts[:, front] == 0
    donor = others[np.argmax(counts[:, others], axis=1)]
    counts[rows[no_front], donor[no_front]] -= 1
    counts[no_front, front] += 1
    # From six respondents on, someone who leads the agents answers too.
    no_lead = (counts[:, others].sum(axis=1) == 0) & (total >= 6)
    first_other = others[np.argmax(shares[others])]
    counts[no_lead, front] -= 1
    counts[no_lead, first_other] += 1
    return counts


# ---------------------------------------------------------------------- simulation
def _simulate(
    instrument: Instrument,
    model: PanelModel,
    org_ids: Sequence[str],
    org_names: Sequence[str],
    industry: np.ndarray,
    agents: np.ndarray,
    band: np.ndarray,
    stage: np.ndarray,
    counts: np.ndarray,
    shift: np.ndarray,
    *,
    rngs: tuple[np.random.Generator, ...],
    org_lacks: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng_items, rng_orgs, rng_answers, rng_kpis = rngs
    layout = instrument.layout
    dims, facets = layout.dimension_ids, layout.facet_ids
    n_orgs, n_dims, n_facets = len(org_ids), len(dims), len(facets)

    # Organization latent values: stage and industry means, correlated org deviations.
    corr = np.full((n_dims, n_dims), model.dimension_rho) + (1.0 - model.dimension_rho) * np.eye(n_dims)
    chol = np.linalg.cholesky(corr)
    mean = np.array([model.stage_means[s] for s in stage], dtype=float)[:, None]
    mean = mean + np.array([model.industry_effects.get(i, 0.0) for i in industry], dtype=float)[:, None]
    stage_shift = np.array([[model.stage_dimension_shift.get(s, {}).get(d, 0.0) for d in dims] for s in stage])
    theta = mean + stage_shift + shift + model.org_sd * rng_orgs.standard_normal((n_orgs, n_dims)) @ chol.T
    facet_offset = np.array([model.facet_offsets.get(f, 0.0) for f in facets])
    phi = (
        theta[:, layout.facet_dimension] + facet_offset + model.facet_sd * rng_orgs.standard_normal((n_orgs, n_facets))
    )

    difficulty = _difficulties(instrument, model, rng_items)
    responses = _answers(instrument, model, org_ids, phi, counts, difficulty, rng_answers, org_lacks)
    kpis = _kpis(instrument, model, theta, phi, industry, agents, stage, rng_kpis)
    profiles = pd.DataFrame(
        {
            "org_id": list(org_ids),
            "org_name": list(org_names),
            "industry": list(industry),
            "agents": np.asarray(agents, dtype=np.int64),
            "size_band": list(band),
            "stage": list(stage),
        }
    )
    profiles = pd.concat([profiles, kpis], axis=1)
    return responses, profiles


def _difficulties(instrument: Instrument, model: PanelModel, rng: np.random.Generator) -> np.ndarray:
    """Item difficulties, centred within each facet, with pinned items overriding."""
    layout = instrument.layout
    b = model.item_difficulty_sd * rng.standard_normal(len(layout.item_ids))
    facet_mean = (b @ layout.item_by_facet) / layout.item_by_facet.sum(axis=0)
    b = b - facet_mean[layout.item_facet]
    for j, item_id in enumerate(layout.item_ids):
        if item_id in model.item_difficulty:
            b[j] = model.item_difficulty[item_id]
    return b


def _thresholds(model: PanelModel, k: int) -> np.ndarray:
    tau = np.asarray(model.thresholds, dtype=float)
    if len(tau) == k - 1:
        return tau
    return np.linspace(tau.min(), tau.max(), k - 1)


def _answers(
    instrument: Instrument,
    model: PanelModel,
    org_ids: Sequence[str],
    phi: np.ndarray,
    counts: np.ndarray,
    difficulty: np.ndarray,
    rng: np.random.Generator,
    org_lacks: np.ndarray | None = None,
) -> pd.DataFrame:
    layout = instrument.layout
    k = layout.scale_points
    n_orgs, n_roles = counts.shape
    n_items, n_facets = len(layout.item_ids), len(layout.facet_ids)
    # Respondents grouped by organization, then by role in the instrument's order.
    org_of = np.repeat(np.repeat(np.arange(n_orgs), n_roles), counts.ravel())
    role_of = np.repeat(np.tile(np.arange(n_roles), n_orgs), counts.ravel())
    n_resp = len(org_of)
    starts = np.r_[0, np.cumsum(counts.sum(axis=1))[:-1]]
    number = np.arange(n_resp) - np.repeat(starts, counts.sum(axis=1)) + 1

    bias = np.array([model.role_bias.get(r, 0.0) for r in layout.role_ids])
    g = model.respondent_general_share
    noise = model.respondent_sd * (
        np.sqrt(g) * rng.standard_normal((n_resp, 1)) + np.sqrt(1.0 - g) * rng.standard_normal((n_resp, n_facets))
    )
    value = phi[org_of] + bias[role_of][:, None] + noise

    # Latent-response form of the graded response model: with logistic noise e / a,
    # X = 1 + #{tau_k < value - b + e / a} has exactly P(X >= k) = logistic(a(value - b - tau_k)).
    tau = _thresholds(model, k)
    latent = value[:, layout.item_facet] - difficulty
    latent += rng.logistic(size=(n_resp, n_items)) / model.discrimination
    x = np.ones(latent.shape, dtype=np.int64)
    for t in tau:  # a loop over the k - 1 thresholds beats searchsorted on large panels
        x += latent > t
    del latent

    careless = rng.random(n_resp) < model.careless_share
    flip = layout.reverse[None, :] & ~careless[:, None]
    written = np.where(flip, (k + 1) - x, x)

    asked = layout.asked[role_of]
    if org_lacks is None:
        org_lacks = rng.random((n_orgs, n_items)) < model.na_org_rate
    # One uniform per cell decides all three: [0, na_rate) is a random N/A (on items that
    # allow it), [na_rate, na_rate + missing_rate) an unanswered item, and the next
    # dont_know_rate of the role and item kind a "don't know". float32 halves the cost.
    u = rng.random((n_resp, n_items), dtype=np.float32)
    na = asked & layout.allows_na & (org_lacks[org_of] | (u < model.na_rate))
    missing = asked & ~na & (u >= model.na_rate) & (u < model.na_rate + model.missing_rate)
    kinds = [instrument.items[i].kind for i in layout.item_ids]
    dk_rate = np.array(
        [[model.dont_know_rate.get(role, {}).get(kind, 0.0) for kind in kinds] for role in layout.role_ids]
    )
    low = model.na_rate + model.missing_rate
    dont_know = asked & ~na & (u >= low) & (u < low + dk_rate[role_of])
    del u

    cells = written.astype(object)
    cells[~asked | missing] = ""
    cells[na] = "NA"
    cells[dont_know] = "DK"
    width = max(2, len(str(int(counts.sum(axis=1).max()))))
    meta = pd.DataFrame(
        {
            "org_id": np.asarray(org_ids, dtype=object)[org_of],
            "respondent_id": [f"R{n:0{width}d}" for n in number],
            "role": np.asarray(layout.role_ids, dtype=object)[role_of],
        }
    )
    answers = pd.DataFrame(cells, columns=list(layout.item_ids), dtype=object)
    return pd.concat([meta, answers], axis=1)


def _kpis(
    instrument: Instrument,
    model: PanelModel,
    theta: np.ndarray,
    phi: np.ndarray,
    industry: np.ndarray,
    agents: np.ndarray,
    stage: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    layout = instrument.layout
    n_orgs = len(industry)
    dim_index = {d: j for j, d in enumerate(layout.dimension_ids)}
    facet_index = {f: j for j, f in enumerate(layout.facet_ids)}

    def latent(name: str) -> np.ndarray:
        if name in facet_index:
            return phi[:, facet_index[name]]
        dim = name.split(".", 1)[0]
        if dim in dim_index:
            return theta[:, dim_index[dim]]
        return np.zeros(n_orgs)

    size = np.log2(np.asarray(agents, dtype=float) / 150.0)
    out: dict[str, np.ndarray] = {}
    unrounded: dict[str, np.ndarray] = {}
    for spec in model.kpis:
        fallback = spec.base.get("other", float(np.mean(list(spec.base.values()))))
        base = np.array([spec.base.get(i, fallback) for i in industry], dtype=float)
        term = sum((coef * latent(name) for name, coef in spec.effects.items()), np.zeros(n_orgs))
        term = term + spec.size_effect * size
        term = term + np.array([spec.stage_effects.get(s, 0.0) for s in stage], dtype=float)
        term = term + spec.noise_sd * rng.standard_normal(n_orgs)
        value = base * np.exp(term) if spec.scale == "log" else base + term
        if spec.per_sale_of is not None:
            value = value * unrounded[spec.per_sale_of] / 100.0
        value = np.clip(value, spec.low, spec.high)
        unrounded[spec.name] = value
        out[spec.name] = np.round(value, spec.digits)
    frame = pd.DataFrame(out, dtype=float)
    frame = frame.mask(rng.random(frame.shape) < model.kpi_missing_rate)
    for spec in model.kpis:
        if spec.digits == 0:  # whole units (seconds) stay whole numbers in files
            frame[spec.name] = frame[spec.name].astype("Int64")
    ordered = [c for c in KPIS if c in frame.columns] + [c for c in frame.columns if c not in KPIS]
    return frame[ordered]
