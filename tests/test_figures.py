"""Tests for readiness.report.figures: every figure draws, copes with missing parts, and reads.

The results documents are built in memory: random answers to the bundled instrument for
a panel of peers and one client, scored and planned by :func:`readiness.core.assessment.assess`.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from readiness.core.assessment import Options, PeerPanel, assess
from readiness.core.instrument import DIMENSIONS
from readiness.core.responses import Responses
from readiness.io.loaders import load_instrument, load_playbook, load_references
from readiness.report import figures as plots

ROLES = ("agent", "supervisor", "manager")
TRICKY_NAME = "Acme $5 <script>alert('x')</script> & Sons $$ Contact Center"


# --------------------------------------------------------------------------- fixtures
def make_orgs(instrument, levels: np.ndarray, per_org: int, seed: int, prefix: str) -> tuple[Responses, pd.DataFrame]:
    """Random answers and profiles for ``len(levels)`` organizations (level: latent readiness)."""
    layout = instrument.layout
    rng = np.random.default_rng(seed)
    n_orgs = len(levels)
    n = n_orgs * per_org
    roles = np.array(ROLES)[rng.choice(3, size=n, p=[0.6, 0.25, 0.15])]
    latent = np.repeat(levels, per_org)[:, None]
    values = np.clip(np.round(3 + latent + rng.normal(scale=0.9, size=(n, len(layout.item_ids)))), 1, 5)
    values[rng.random(values.shape) < 0.03] = np.nan
    org_ids = [f"{prefix}{i:03d}" for i in range(n_orgs) for _ in range(per_org)]
    respondent_ids = [f"R{j:02d}" for _ in range(n_orgs) for j in range(per_org)]
    responses = Responses.from_arrays(instrument, org_ids, respondent_ids, roles.tolist(), values)

    index = pd.Index([f"{prefix}{i:03d}" for i in range(n_orgs)], name="org_id")
    profiles = pd.DataFrame(
        {
            "org_name": [f"Peer {i}" for i in range(n_orgs)],
            "industry": rng.choice(["financial_services", "technology", "other"], n_orgs),
            "agents": rng.integers(60, 400, n_orgs),
            "size_band": rng.choice(["51-150", "151-500"], n_orgs),
            "stage": rng.choice(["considering", "transitioning"], n_orgs),
        },
        index=index,
    )
    noise = lambda scale: rng.normal(0, scale, n_orgs)  # noqa: E731
    profiles["sales_conversion_rate"] = np.clip(12 + 4 * levels + noise(2), 0, 100)
    profiles["revenue_per_call"] = np.clip(25 + 5 * levels + noise(3), 0, None)
    profiles["first_call_resolution"] = np.clip(70 + 5 * levels + noise(4), 0, 100)
    profiles["customer_satisfaction"] = np.clip(80 + 4 * levels + noise(3), 0, 100)
    profiles["service_level"] = np.clip(78 + 3 * levels + noise(4), 0, 100)
    profiles["average_handle_time"] = np.clip(330 - 20 * levels + noise(30), 60, None)
    profiles["abandon_rate"] = np.clip(6 - levels + noise(1.5), 0, 100)
    profiles["agent_attrition"] = np.clip(35 - 5 * levels + noise(8), 0, None)
    return responses, profiles


@functools.lru_cache(maxsize=1)
def build_documents() -> dict[str, dict[str, Any]]:
    """Results documents: benchmarked, without peers, and with the benchmark withheld."""
    instrument = load_instrument()
    rng = np.random.default_rng(3)
    peers, peer_profiles = make_orgs(instrument, rng.normal(size=60), 12, seed=1, prefix="P")
    client, client_profiles = make_orgs(instrument, np.array([-0.7]), 14, seed=7, prefix="C")
    client_profiles.loc["C000", ["org_name", "industry", "size_band", "stage"]] = [
        TRICKY_NAME,
        "technology",
        "51-150",
        "considering",
    ]
    client_profiles.loc["C000", "agent_attrition"] = np.nan  # one KPI the client does not report
    panel = _build_panel(peers, peer_profiles)
    common = dict(profiles=client_profiles, playbook=load_playbook(instrument), references=load_references())
    # role_min=1: every role is drawn here; the withheld case has its own test
    full = assess(client, peers=panel, options=Options(n_boot=200, role_min=1), **common)["C000"]
    no_peers = assess(client, peers=None, options=Options(n_boot=200, target=70.0), **common)["C000"]
    # no playbook: no plan and no roadmap (with one, a roadmap is always planned), for the notes
    withheld_common = {**common, "playbook": None}
    withheld = assess(client, peers=panel, options=Options(n_boot=200, k=1000, role_min=1), **withheld_common)["C000"]
    small_roles = assess(client, peers=panel, options=Options(n_boot=200, role_min=4), **common)["C000"]
    return {"full": full, "no_peers": no_peers, "withheld": withheld, "small_roles": small_roles}


def _build_panel(responses: Responses, profiles: pd.DataFrame) -> PeerPanel:
    import time

    for attempt in range(3):  # the driver module may be mid-edit by a colleague
        try:
            return PeerPanel.build(responses, profiles)
        except (ImportError, SyntaxError, AttributeError):
            if attempt == 2:
                raise
            time.sleep(30)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(build_documents())


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def sparse_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A document with null scores, a missing role, withheld peer blocks and no roadmap."""
    doc = copy.deepcopy(doc)
    doc["dimensions"]["technology"]["score"] = None
    doc["dimensions"]["technology"]["ci"] = None
    doc["overall"]["score"] = None
    first = next(iter(doc["facets"]))
    doc["facets"][first]["score"] = None
    for block in itertools.chain(doc["dimensions"].values(), doc["facets"].values(), [doc["overall"]]):
        block.get("by_role", {}).pop("supervisor", None)
    doc["dimensions"]["people"]["by_role"] = {"agent": None}
    bench = doc["benchmark"]
    bench["dimensions"]["process"] = {"peer_n": None, "withheld": True}
    bench["kpis"]["revenue_per_call"] = {
        "direction": "higher",
        "peer_n": None,
        "withheld": True,
        "value": 3.0,
        "published": [],
    }
    doc["roadmap"] = []
    return doc


# --------------------------------------------------------------------------- helpers
def all_texts(fig: Figure) -> list[Text]:
    """The text artists that are drawn: visible, non-empty, tick labels only inside the view."""
    fig.canvas.draw()
    texts: list[Text] = list(fig.texts)
    axes = list(fig.axes)
    for ax in list(axes):
        axes.extend(a for a in ax.child_axes if a not in axes)
    for ax in axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted((lo, hi))
            for tick in axis.get_major_ticks():
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    texts += [tick.label1, tick.label2]
        legend = ax.get_legend()
        if legend is not None:
            texts += list(legend.get_texts()) + [legend.get_title()]
    return [t for t in texts if t.get_visible() and t.get_text().strip() and _drawn(t)]


def _drawn(text: Text) -> bool:
    artist = text
    while artist is not None:
        if not artist.get_visible():
            return False
        artist = getattr(artist, "axes", None) if artist is text else None
    return True


def overlaps(fig: Figure, tolerance: float = 1.5) -> list[tuple[str, str]]:
    texts = all_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    found = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if dx > tolerance and dy > tolerance:
            found.append((a, b))
    return found


def title_of(ax: Axes) -> str:
    return "\n".join(ax.get_title(loc) for loc in ("left", "center", "right") if ax.get_title(loc))


def tick_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]


def figure_text(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in all_texts(fig))


def drew_something(ax: Axes) -> bool:
    return bool(ax.patches or ax.lines or ax.collections or ax.images)


def has_note(ax: Axes) -> bool:
    return any(t.get_text().strip() for t in ax.texts)


# --------------------------------------------------------------------------- fixture sanity
def test_fixture_documents_have_what_the_plots_need(docs):
    full = docs["full"]
    assert full["benchmark"]["peer_n"] >= 5
    assert full["roadmap"] and full["plan"]["projection"]
    assert full["overall"]["barrier"] is not None
    assert docs["no_peers"]["benchmark"] is None and len(docs["no_peers"]["roadmap"]) > plots.MAX_ACTIONS
    assert docs["withheld"]["benchmark"]["peer_n"] is None and docs["withheld"]["roadmap"] == []


# --------------------------------------------------------------------------- dimension_scores
def test_dimension_scores_draws_bars_bands_and_names(docs):
    ax = plots.dimension_scores(docs["full"])
    assert isinstance(ax, Axes)
    assert len(ax.patches) >= 8  # four bars and four peer bands
    labels = [t.lower() for t in tick_texts(ax)]
    assert all(d in labels for d in DIMENSIONS)
    assert ax.get_xlim() == (0, 100)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"peer middle 50% (n = {docs['full']['benchmark']['peer_n']})" in legend


def test_dimension_scores_uses_the_given_axes(docs):
    fig, ax = plt.subplots()
    assert plots.dimension_scores(docs["full"], ax=ax) is ax


@pytest.mark.parametrize("variant", ["no_peers", "withheld"])
def test_dimension_scores_without_peers_has_no_band(docs, variant):
    ax = plots.dimension_scores(docs[variant])
    assert len(ax.patches) == 4  # the bars only: no invented peer band
    assert not any("peer middle" in t.get_text() for t in ax.get_legend().get_texts())
    ax.figure.canvas.draw()


def test_dimension_scores_with_null_scores(docs):
    ax = plots.dimension_scores(sparse_document(docs["full"]))
    assert len([p for p in ax.patches if p.get_height() == 0.5]) == 3
    assert any("no score" in t.get_text() for t in ax.texts)
    ax.figure.canvas.draw()


def test_dimension_scores_text_does_not_overlap(docs):
    for variant in ("full", "no_peers"):
        ax = plots.dimension_scores(docs[variant])
        assert overlaps(ax.figure) == []


# --------------------------------------------------------------------------- peer_distribution
def test_peer_distribution_rows_marker_and_title(docs):
    ax = plots.peer_distribution(docs["full"])
    assert isinstance(ax, Axes)
    assert ax.patches and ax.lines
    bench = docs["full"]["benchmark"]
    assert str(bench["peer_n"]) in title_of(ax)
    assert "Technology" in title_of(ax)  # the peer group's industry
    assert [t.lower() for t in tick_texts(ax) if t.isalpha()][-4:] == list(DIMENSIONS)
    # bar heights are the binned counts, scaled, nothing else
    counts = np.array(bench["dimensions"]["people"]["distribution"]["counts"], dtype=float)
    assert sum(1 for p in ax.patches if p.get_height() > 0) == sum(
        int((np.array(b["distribution"]["counts"]) > 0).sum()) for b in bench["dimensions"].values()
    )
    assert counts.sum() == bench["dimensions"]["people"]["peer_n"]
    percentile = docs["full"]["dimensions"]["people"]["percentile"]
    assert any(f"{round(percentile)}" in t.get_text() and "percentile" in t.get_text() for t in ax.texts)
    assert overlaps(ax.figure) == []


def test_peer_distribution_overall(docs):
    ax = plots.peer_distribution(docs["full"], level="overall")
    assert ax.patches and [t.get_text() for t in ax.get_yticklabels()] == ["Overall"]


@pytest.mark.parametrize("variant", ["no_peers", "withheld"])
def test_peer_distribution_without_benchmark_draws_a_note(docs, variant):
    ax = plots.peer_distribution(docs[variant])
    assert not ax.patches
    text = " ".join(t.get_text() for t in ax.texts)
    assert "No peer benchmark" in text
    if variant == "withheld":
        assert "fewer than 1000 peers" in text
    ax.figure.canvas.draw()


def test_peer_distribution_withheld_row(docs):
    ax = plots.peer_distribution(sparse_document(docs["full"]))
    assert any("withheld" in t.get_text() for t in ax.texts)
    ax.figure.canvas.draw()


# --------------------------------------------------------------------------- facet_heatmap
def test_facet_heatmap_cells_and_barrier(docs):
    doc = docs["full"]
    ax = plots.facet_heatmap(doc)
    assert isinstance(ax, Axes)
    n_facets = len(doc["facets"])
    n_columns = len(ax.get_xticklabels())
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["score", "target", "gap"]
    assert n_columns == 3 + 3  # three roles
    cells = [p for p in ax.patches if p.get_width() == 1 and p.get_height() == 1]
    assert len(cells) == n_facets * n_columns
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [lab.lower() for lab in labels if lab.isupper()] == list(DIMENSIONS)
    barrier_title = doc["facets"][doc["overall"]["barrier"]]["title"]
    assert any(lab.startswith("★") and barrier_title[:20] in lab for lab in labels)
    score = doc["facets"]["people.coaching"]["score"]
    assert f"{score:.0f}" in [t.get_text() for t in ax.texts]
    assert overlaps(ax.figure) == []


def test_facet_heatmap_without_targets_and_with_gaps_missing(docs):
    ax = plots.facet_heatmap(docs["withheld"])  # no plan: no target or gap columns
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["score", "agents"]
    assert "no targets" in title_of(ax)
    ax = plots.facet_heatmap(sparse_document(docs["full"]))
    assert "–" in [t.get_text() for t in ax.texts]
    ax.figure.canvas.draw()


def test_facet_heatmap_no_facets_draws_a_note(docs):
    doc = copy.deepcopy(docs["full"])
    doc["facets"] = {}
    ax = plots.facet_heatmap(doc)
    assert has_note(ax)


# --------------------------------------------------------------------------- role_gap
def test_role_gap_dimensions(docs):
    doc = docs["full"]
    ax = plots.role_gap(doc)
    assert isinstance(ax, Axes)
    assert ax.lines
    labels = [t.lower() for t in tick_texts(ax)]
    assert all(d in labels for d in DIMENSIONS)
    spreads = {d: max(b["by_role"].values()) - min(b["by_role"].values()) for d, b in doc["dimensions"].items()}
    largest = max(spreads.values())
    assert any(t.get_text().startswith(f"largest gap: {largest:.0f} points") for t in ax.texts)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "agents (n = " in legend and "managers" in legend
    assert overlaps(ax.figure) == []


def test_withheld_roles_are_named_not_drawn(docs):
    doc = docs["small_roles"]
    withheld = doc["respondents"]["withheld_roles"]
    counts = doc["respondents"]["by_role"]
    assert withheld and any(counts[r] < 4 for r in withheld)  # the fixture has a small role
    ax = plots.role_gap(doc)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    for role in withheld:
        assert f"{role}s (n = " not in legend and f"{role}s" in legend
    assert "withheld (roles where fewer than 4 answered are not shown)" in legend
    ax = plots.facet_heatmap(doc)
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert not [r for r in withheld if f"{r}s" in columns]
    assert "withheld" in ax.get_xlabel()
    assert overlaps(ax.figure) == []


def test_role_gap_facets_and_missing_roles(docs):
    ax = plots.role_gap(docs["full"], level="facets")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(docs["full"]["facets"]) + len(DIMENSIONS)  # facets under dimension headers
    assert [lab.lower() for lab in labels if lab.isupper()] == list(DIMENSIONS)
    ax = plots.role_gap(sparse_document(docs["full"]))
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "supervisors (" not in legend and "no supervisors" in legend
    ax.figure.canvas.draw()
    doc = copy.deepcopy(docs["full"])
    for block in doc["dimensions"].values():
        block["by_role"] = {}
    assert has_note(plots.role_gap(doc))


# --------------------------------------------------------------------------- kpi_bullets
def test_kpi_bullets_rows_units_and_footnotes(docs):
    doc = docs["full"]
    ax = plots.kpi_bullets(doc)
    assert isinstance(ax, Axes)
    kpis = doc["benchmark"]["kpis"]
    shown = [k for k, b in kpis.items() if not b.get("withheld")]
    assert len(ax.get_yticklabels()) == len(shown)
    labels = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "higher is better" in labels and "lower is better" in labels
    handle_time = next(t.get_text() for t in ax.get_yticklabels() if t.get_text().startswith("Average handle time"))
    assert handle_time.endswith("\ncontext, not ranked")  # shown, not ranked: no better way
    text = " ".join(t.get_text() for t in ax.texts)
    assert "published figure:" in text and "(CustomerThink (2007)," in text
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", text)  # a person reads a reference, not a file name
    value = kpis["sales_conversion_rate"]["value"]
    assert f"{value:.1f}%" in text
    assert "quartile" in text
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert f"(n = {doc['benchmark']['peer_n']})" in legend
    assert overlaps(ax.figure) == []


def test_kpi_bullets_skips_withheld_kpis_with_a_note(docs):
    ax = plots.kpi_bullets(sparse_document(docs["full"]))
    labels = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "Revenue per call" not in labels
    assert any("Not shown" in t.get_text() and "revenue per call" in t.get_text() for t in ax.texts)
    ax.figure.canvas.draw()


@pytest.mark.parametrize("variant", ["no_peers", "withheld"])
def test_kpi_bullets_without_benchmark(docs, variant):
    ax = plots.kpi_bullets(docs[variant])
    assert "No KPI benchmark" in " ".join(t.get_text() for t in ax.texts)
    ax.figure.canvas.draw()


# --------------------------------------------------------------------------- roadmap_timeline
def test_roadmap_timeline_bars_and_projection(docs):
    doc = docs["full"]
    fig = plots.roadmap_timeline(doc)
    assert isinstance(fig, Figure)
    timeline, projection = fig.axes[0], fig.axes[1]
    bars = [p for p in timeline.patches if abs(p.get_height() - 0.62) < 1e-9]
    assert len(bars) == min(len(doc["roadmap"]), plots.MAX_ACTIONS)
    assert all(b.get_x() + b.get_width() <= 65 for b in bars)
    assert len(projection.lines) == 5  # overall and four dimensions
    labels = [t.get_text() for t in projection.get_xticklabels()]
    assert labels[0] == "now" and len(labels) == len(doc["plan"]["projection"])
    assert any(t.get_text().startswith("★") for t in timeline.get_yticklabels())
    assert overlaps(fig) == []


def test_roadmap_timeline_truncates_long_roadmaps(docs):
    doc = docs["no_peers"]
    fig = plots.roadmap_timeline(doc)
    timeline = fig.axes[0]
    assert len(timeline.get_yticklabels()) == plots.MAX_ACTIONS
    hidden = len(doc["roadmap"]) - plots.MAX_ACTIONS
    assert f"+{hidden} more in roadmap.xlsx" in title_of(timeline)
    assert all(len(t.get_text()) <= 45 + 6 for t in timeline.get_yticklabels())
    assert overlaps(fig) == []


@pytest.mark.parametrize("variant", ["withheld", "empty"])
def test_roadmap_timeline_empty_roadmap_draws_notes(docs, variant):
    doc = sparse_document(docs["full"]) if variant == "empty" else docs["withheld"]
    fig = plots.roadmap_timeline(doc)
    assert isinstance(fig, Figure)
    assert "No roadmap" in " ".join(t.get_text() for t in fig.axes[0].texts)
    if variant == "withheld":
        assert has_note(fig.axes[1])
    else:
        assert fig.axes[1].lines  # the projection is still there
    fig.canvas.draw()


def test_roadmap_timeline_into_a_given_figure(docs):
    fig = plt.figure(figsize=(10, 9))
    assert plots.roadmap_timeline(docs["full"], fig=fig) is fig
    assert len(fig.axes) >= 2


# --------------------------------------------------------------------------- common
ALL_AXES_FUNCTIONS = [
    plots.dimension_scores,
    plots.peer_distribution,
    plots.facet_heatmap,
    plots.role_gap,
    plots.kpi_bullets,
]


def _figure(func, doc) -> Figure:
    out = func(doc)
    return out if isinstance(out, Figure) else out.figure


@pytest.mark.parametrize("func", ALL_AXES_FUNCTIONS + [plots.roadmap_timeline], ids=lambda f: f.__name__)
def test_user_text_renders_as_plain_text(docs, func):
    doc = docs["full"]
    assert doc["organization"]["name"] == TRICKY_NAME
    fig = _figure(func, doc)
    fig.canvas.draw()  # a mathtext error would raise here
    text = figure_text(fig)
    assert r"Acme \$5 <script>" in text  # escaped for matplotlib, otherwise untouched


@pytest.mark.parametrize("func", ALL_AXES_FUNCTIONS + [plots.roadmap_timeline], ids=lambda f: f.__name__)
@pytest.mark.parametrize("variant", ["no_peers", "withheld"])
def test_every_figure_copes_with_missing_parts(docs, func, variant):
    for doc in (docs[variant], sparse_document(docs["full"])):
        fig = _figure(func, doc)
        fig.canvas.draw()
        assert all(drew_something(ax) or has_note(ax) for ax in fig.axes if ax.get_label() != "<colorbar>")


@pytest.mark.parametrize("func", ALL_AXES_FUNCTIONS + [plots.roadmap_timeline], ids=lambda f: f.__name__)
def test_no_global_style_change(docs, func):
    before = dict(matplotlib.rcParams)
    _figure(func, docs["full"])
    after = dict(matplotlib.rcParams)
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}


def test_mathtext_would_fail_without_escaping():
    """The check above is meaningful: the raw name is invalid mathtext."""
    fig, ax = plt.subplots()
    ax.set_title("a $x^$ b")
    with pytest.raises(ValueError):
        fig.canvas.draw()


def test_overlap_check_finds_overlapping_text():
    """The overlap checks above can fail: two labels on the same spot are found."""
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.5, 0.5, "second label")
    assert overlaps(fig) == [("first label", "second label")]


def empty_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Every score null, no roles, no benchmark, no plan, no roadmap."""
    doc = copy.deepcopy(doc)
    for block in itertools.chain([doc["overall"]], doc["dimensions"].values(), doc["facets"].values()):
        block.update(score=None, ci=None, percentile=None, by_role={})
    doc["overall"]["barrier"] = None
    doc["benchmark"] = None
    doc["roadmap"] = []
    doc.pop("plan", None)
    return doc


@pytest.mark.parametrize("func", ALL_AXES_FUNCTIONS + [plots.roadmap_timeline], ids=lambda f: f.__name__)
def test_every_figure_copes_with_a_document_without_scores(docs, func):
    fig = _figure(func, empty_document(docs["full"]))
    fig.canvas.draw()
    assert all(drew_something(ax) or has_note(ax) for ax in fig.axes)


def test_levels_are_checked(docs):
    with pytest.raises(ValueError, match="level"):
        plots.peer_distribution(docs["full"], level="facets")
    with pytest.raises(ValueError, match="level"):
        plots.role_gap(docs["full"], level="overall")


# --------------------------------------------------------------------------- progress between waves
@functools.lru_cache(maxsize=1)
def build_comparisons() -> dict[str, dict[str, Any]]:
    """compare documents: the bundled example's two waves, with statuses, with a tricky name, empty."""
    from readiness.io.comparison import load_comparison

    plain = load_comparison(n_boot=200)
    with_status = copy.deepcopy(plain)
    for action, status in zip(with_status["actions"], ["Done", "Done", "In progress", "Dropped"]):
        action["status"] = status
    for action in with_status["actions"][4:]:
        action["status"] = "Not started"
    tricky = copy.deepcopy(with_status)
    tricky["organization"]["name"] = TRICKY_NAME
    empty = copy.deepcopy(plain)
    empty["changes"], empty["actions"] = [], []
    return {"plain": plain, "with_status": with_status, "tricky": tricky, "empty": empty}


@pytest.fixture(scope="module")
def comparisons() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(build_comparisons())


def test_change_chart_rows_marks_and_title(comparisons):
    doc = comparisons["with_status"]
    ax = plots.change_chart(doc)
    facets = [c for c in doc["changes"] if c["level"] == "facet"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(facets) and labels[0] == doc["titles"]["scores"][facets[0]["id"]]
    bold = {t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"}
    assert bold == {doc["titles"]["scores"][c["id"]] for c in facets if c["real"]}
    title = " ".join(title_of(ax).split())
    assert "Northbank" in title and "wave 2024-05" in title and "wave 2024-11" in title
    real = sum(c["real"] for c in facets)
    assert f"{real} of {len(facets)} facets changed" in title
    assert not overlaps(ax.figure)


def test_action_progress_rows_and_notes(comparisons):
    ax = plots.action_progress(comparisons["with_status"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 3 and "(done)" in labels[0] and "(in progress)" in labels[2]
    assert not overlaps(ax.figure)
    assert has_note(plots.action_progress(comparisons["plain"]))  # no workbook given
    assert "No filled-in roadmap" in figure_text(plots.action_progress(comparisons["plain"]).figure)


@pytest.mark.parametrize("func", [plots.change_chart, plots.action_progress], ids=lambda f: f.__name__)
def test_progress_figures_cope_and_keep_user_text_plain(comparisons, func):
    fig = _figure(func, comparisons["empty"])
    fig.canvas.draw()
    assert all(drew_something(ax) or has_note(ax) for ax in fig.axes)
    fig = _figure(func, comparisons["tricky"])
    fig.canvas.draw()
    assert r"Acme \$5 <script>" in figure_text(fig)
    before = dict(matplotlib.rcParams)
    _figure(func, comparisons["with_status"])
    assert {k: v for k, v in dict(matplotlib.rcParams).items() if before.get(k) != v} == {}


def _trend_frame(n_centers: int) -> pd.DataFrame:
    rows = []
    for c in range(n_centers):
        for w, (label, date) in enumerate(
            [("2024-05", "2024-05-14"), ("2024-11", "2024-11-20"), ("2025-05", None)][: 1 + c % 3]
        ):
            score = 40.0 + c + 4 * w
            rows.append(
                {
                    "org_id": f"C{c:02d}",
                    "name": f"Center {c} $x",
                    "wave": label,
                    "date": date,
                    "overall": score,
                    "ci_low": score - 3,
                    "ci_high": score + 3,
                }
            )
    return pd.DataFrame(rows)


def test_portfolio_trend_one_panel_per_center(comparisons):
    fig = plots.portfolio_trend(_trend_frame(5))
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == 5
    assert {title_of(ax) for ax in drawn} == {rf"Center {c} \$x" for c in range(5)}
    assert [t.get_text() for t in drawn[0].get_xticklabels()] == ["2024-05", "2024-11", "2025-05"]  # most waves first
    assert not overlaps(fig)
    many = plots.portfolio_trend(_trend_frame(plots.MAX_TRENDS + 3))
    assert sum(ax.axison for ax in many.axes) == plots.MAX_TRENDS
    assert f"{plots.MAX_TRENDS} of {plots.MAX_TRENDS + 3} centers drawn" in many._suptitle.get_text()
    empty = plots.portfolio_trend(pd.DataFrame(columns=["org_id", "name", "wave", "overall", "ci_low", "ci_high"]))
    assert has_note(empty.axes[0])
