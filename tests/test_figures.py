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
    labels = [t.split("\n")[0] for t in tick_texts(ax)]
    assert all(docs["full"]["dimensions"][d]["title"] in labels for d in DIMENSIONS)  # names, not ids
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 100
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
    cells = [path for c in ax.collections for path in c.get_paths() if np.allclose(np.ptp(path.vertices, axis=0), 1)]
    assert len(cells) == n_facets * n_columns
    corners = sorted(tuple(path.vertices.min(axis=0)) for path in cells)
    assert len(set(corners)) == len(corners)  # one square per cell, none drawn twice
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
    assert "withheld" in heatmap_key(ax)
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
    text = " ".join(" ".join(t.get_text().split()) for t in ax.texts)
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
    assert labels[0] == "today" and len(labels) == len(doc["plan"]["projection"])
    assert any(t.get_text().startswith("★") for t in timeline.get_yticklabels())
    assert overlaps(fig) == []


def test_roadmap_timeline_truncates_long_roadmaps(docs):
    doc = docs["no_peers"]
    fig = plots.roadmap_timeline(doc)
    timeline = fig.axes[0]
    assert len(timeline.get_yticklabels()) == plots.MAX_ACTIONS
    hidden = len(doc["roadmap"]) - plots.MAX_ACTIONS
    assert f"the other {hidden} are in roadmap.xlsx" in fig.get_suptitle()
    # whole titles: wrapped, never cut
    titles = {a["rank"]: " ".join(a["title"].split()) for a in doc["roadmap"]}
    for tick in timeline.get_yticklabels():
        text = " ".join(tick.get_text().replace("★ ", "").split())
        rank, _, title = text.partition(". ")
        assert title == titles[int(rank)] and "…" not in text
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


# --------------------------------------------------------------------------- labels clear of marks
def marks_under_labels(ax: Axes, *, own=lambda mark, text: False, tolerance: float = 1.0) -> list[tuple[str, str]]:
    """Data labels (``ax.texts``) whose box meets a mark: a bar, band, tick, marker or interval.

    Background spans (zorder <= 0) are not marks. ``own(mark, text)`` exempts a mark a
    label is meant to sit on (a score written inside its own bar).
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    marks: list[tuple[Any, Any]] = []
    for patch in ax.patches:
        if patch.get_zorder() > 0 and patch.get_visible():
            marks.append((patch, patch.get_window_extent(renderer)))
    for line in ax.lines:
        if line.get_visible() and (line.get_xydata().size or line.get_marker() not in (None, "None", "")):
            marks.append((line, line.get_window_extent(renderer)))
    for collection in ax.collections:
        for path in collection.get_paths():
            marks.append((collection, path.get_extents(collection.get_transform())))
    found = []
    for text in ax.texts:
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        for mark, extent in marks:
            if own(mark, text):
                continue
            dx = min(box.x1, extent.x1) - max(box.x0, extent.x0)
            dy = min(box.y1, extent.y1) - max(box.y0, extent.y0)
            if dx > tolerance and dy > tolerance:
                found.append((text.get_text(), type(mark).__name__))
    return found


def _inside_own_bar(mark, text) -> bool:
    """A score written inside its own bar (dimension_scores): the bar of the label's row."""
    if not isinstance(mark, matplotlib.patches.Rectangle) or abs(mark.get_height() - 0.5) > 1e-9:
        return False
    return abs(mark.get_y() + 0.25 - text.get_position()[1]) < 1e-9


@pytest.mark.parametrize("variant", ["full", "no_peers", "withheld"])
def test_dimension_labels_never_cover_the_band_median_or_interval(docs, variant):
    ax = plots.dimension_scores(docs[variant])
    assert marks_under_labels(ax, own=_inside_own_bar) == []


def test_dimension_label_moves_clear_when_the_bar_is_short(docs):
    doc = copy.deepcopy(docs["full"])
    doc["dimensions"]["people"].update(score=4.0, ci=[1.0, 9.0])  # too short to hold its label
    ax = plots.dimension_scores(doc)
    assert marks_under_labels(ax, own=_inside_own_bar) == []
    label = next(t for t in ax.texts if t.get_text() == "4")
    peer = doc["benchmark"]["dimensions"]["people"]
    assert label.get_position()[0] > max(9.0, peer["q3"], peer["median"])  # right of every mark of its row


def test_other_figures_put_no_label_on_a_mark(docs):
    doc = docs["full"]
    assert marks_under_labels(plots.kpi_bullets(doc)) == []
    assert marks_under_labels(plots.peer_distribution(doc)) == []
    assert marks_under_labels(plots.role_gap(doc)) == []
    timeline = plots.roadmap_timeline(doc, projection=False).axes[0]
    assert marks_under_labels(timeline) == []
    assert len(plots.projection_chart(doc).texts) == 0  # crossing lines: the numbers are in the report's table


# --------------------------------------------------------------------------- one computation per claim
def test_role_gap_figure_and_report_text_quote_the_same_gap(docs):
    from readiness.report.sections import render_section

    doc = docs["full"]
    gap = doc["highlights"]["role_gap"]
    # the gap is the largest spread between two roles on a dimension, worked out here by hand
    spreads = []
    for d, block in doc["dimensions"].items():
        scores = {r: v for r, v in block["by_role"].items() if v is not None}
        if len(scores) >= 2:
            spreads.append((max(scores.values()) - min(scores.values()), d))
    points, dim = max(spreads)
    assert gap["id"] == dim and gap["points"] == pytest.approx(points, abs=1e-3)
    ax = plots.role_gap(doc)
    annotation = next(t.get_text() for t in ax.texts if t.get_text().startswith("largest gap"))
    high, low = gap["high_role"], gap["low_role"]
    assert annotation == f"largest gap: {gap['points']:.0f} points ({high}s vs {low}s)"
    text = " ".join(render_section("roles", doc).split())
    assert f"on <b>{doc['dimensions'][dim]['title']}</b>: {high}s score it {gap['high']:.0f}, {low}s" in text
    assert f"a gap of {gap['points']:.0f} points" in text


def test_summary_names_the_strongest_and_weakest_dimension_of_the_figure(docs):
    from readiness.report.sections import render_section

    doc = docs["full"]
    scores = {d: b["score"] for d, b in doc["dimensions"].items()}
    strongest, weakest = max(scores, key=scores.get), min(scores, key=scores.get)
    text = " ".join(render_section("summary", doc).split())
    title = doc["dimensions"]
    assert f"strongest dimension is <b>{title[strongest]['title']}</b> ({scores[strongest]:.0f})" in text
    assert f"weakest is <b>{title[weakest]['title']}</b> ({scores[weakest]:.0f})" in text
    labels = [t.get_text() for t in plots.dimension_scores(doc).texts]
    assert f"{scores[strongest]:.0f}" in labels and f"{scores[weakest]:.0f}" in labels


# --------------------------------------------------------------------------- roles and phases from the document
def test_roles_come_from_the_instrument_not_from_the_figures(docs):
    doc = copy.deepcopy(docs["full"])
    rename = {"agent": "rep", "supervisor": "team_lead", "manager": "head"}

    def renamed(by_role):
        return {rename[r]: v for r, v in by_role.items()}

    doc["instrument"]["roles"] = ["head", "rep", "team_lead"]  # another instrument, another order
    doc["respondents"]["by_role"] = renamed(doc["respondents"]["by_role"])
    for block in [*doc["dimensions"].values(), *doc["facets"].values(), doc["overall"]]:
        block["by_role"] = renamed(block["by_role"])
    doc.pop("highlights")
    ax = plots.role_gap(doc)
    legend = [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()]
    assert legend == ["heads", "reps", "team leads"]
    columns = [t.get_text() for t in plots.facet_heatmap(doc).get_xticklabels()]
    assert columns[-3:] == ["heads", "reps", "team leads"]


def test_phases_come_from_the_plan(docs):
    doc = copy.deepcopy(docs["full"])
    doc["plan"]["phases"] = [
        {"phase": 1, "label": "first 10 weeks", "start_week": 0, "end_week": 10, "capacity": 8},
        {"phase": 2, "label": "next 20", "start_week": 10, "end_week": 30, "capacity": 8},
        {"phase": 3, "label": "rest of year", "start_week": 30, "end_week": 52, "capacity": 8},
        {"phase": 4, "label": "later", "start_week": 52, "end_week": 104, "capacity": None},
    ]
    ax = plots.roadmap_timeline(doc, projection=False).axes[0]
    edges = sorted({round(line.get_xdata()[0], 6) for line in ax.lines})
    assert edges == [10, 30, 52]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "10", "30", "52"]


def test_bars_follow_the_planners_weeks_and_spans_show(docs):
    doc = docs["full"]
    ax = plots.roadmap_timeline(doc, projection=False).axes[0]
    bars = [p for p in ax.patches if abs(p.get_height() - 0.62) < 1e-9]
    for bar, action in zip(bars, doc["roadmap"]):
        if action["phase"] < 4:
            assert bar.get_x() == pytest.approx(action["start_week"])
            assert bar.get_x() + bar.get_width() == pytest.approx(min(action["end_week"], 65))
    spanning = [a for a in doc["roadmap"][: plots.MAX_ACTIONS] if a["end_phase"] != a["phase"]]
    notes = [t.get_text() for t in ax.texts]
    assert sum("into phase" in n for n in notes) == len(spanning)


# --------------------------------------------------------------------------- heat map caption and alt text
def heatmap_key(ax: Axes) -> str:
    """The text under the heat map's lowest colour bar: its key, and what a dash means."""
    bars = [a for a in ax.figure.axes if a is not ax]
    return min(bars, key=lambda a: a.get_position().y0).get_xlabel()


@pytest.mark.parametrize("variant", ["full", "withheld", "sparse"])
def test_heatmap_notes_stay_clear_of_the_table_and_the_colour_bars(docs, variant):
    doc = sparse_document(docs["full"]) if variant == "sparse" else docs[variant]
    ax = plots.facet_heatmap(doc)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frames = [a.get_window_extent(renderer) for a in fig.axes]
    texts = [ax.xaxis.label] + [a.xaxis.label for a in fig.axes if a is not ax]
    for text in texts:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        for frame in frames:
            dx = min(box.x1, frame.x1) - max(box.x0, frame.x0)
            dy = min(box.y1, frame.y1) - max(box.y0, frame.y0)
            assert not (dx > 1 and dy > 1), f"{text.get_text()!r} runs into a panel"
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0  # on the figure


def test_heatmap_speaks_of_empty_cells_only_when_there_are_some(docs):
    from readiness.report.sections import render_section

    full = docs["full"]
    assert not plots.heatmap_layout(full)["missing"]
    ax = plots.facet_heatmap(full)
    assert "–" not in heatmap_key(ax) and "hatched" not in heatmap_key(ax)
    layout = plots.heatmap_layout(full)
    assert "dash marks" not in render_section("heatmap", full, **{k: layout[k] for k in ("roles", "missing")})
    sparse = sparse_document(full)
    layout = plots.heatmap_layout(sparse)
    assert layout["missing"] and "'–': no score" in heatmap_key(plots.facet_heatmap(sparse))
    assert "dash marks" in render_section("heatmap", sparse, roles=layout["roles"], missing=True)


@pytest.mark.parametrize("name", plots.REPORT_FIGURES)
@pytest.mark.parametrize("variant", ["full", "no_peers", "withheld"])
def test_every_report_figure_has_a_real_alt_text(docs, name, variant):
    text = plots.alt_text(name, docs[variant])
    assert len(text) > 30 and "No description" not in text and "\n" not in text
    assert "_" not in text.replace(docs[variant]["organization"]["name"], "")  # words, not ids


def test_alt_text_carries_the_numbers_of_the_figure(docs):
    doc = docs["full"]
    text = plots.alt_text("dimension_scores", doc)
    for block in doc["dimensions"].values():
        assert f"{block['title']} {block['score']:.0f}" in text
    gap = doc["highlights"]["role_gap"]
    assert f"{gap['points']:.0f} points apart" in plots.alt_text("role_gap", doc)
    assert doc["roadmap"][0]["title"] in plots.alt_text("roadmap_timeline", doc)


@pytest.mark.parametrize("name", [n for n in plots.PORTFOLIO_FIGURES if n != "portfolio_trend"])
def test_portfolio_figures_have_alt_text(docs, name):
    text = plots.alt_text(name, [docs["full"], docs["no_peers"]])
    assert len(text) > 30 and "No description" not in text


def test_trend_and_progress_figures_have_alt_text():
    history = pd.DataFrame(
        {
            "org_id": ["A", "A", "B"],
            "name": ["Alpha", "Alpha", "Beta"],
            "wave": ["2024-05", "2024-11", "2024-05"],
            "overall": [41.2, 48.9, 60.0],
        }
    )
    text = plots.alt_text("portfolio_trend", history)
    assert "Alpha: 2024-05 41, 2024-11 49" in text and "Beta: 2024-05 60" in text
    assert "no assessment history" in plots.alt_text("portfolio_trend", history.iloc[0:0])
    for name in plots.PROGRESS_FIGURES:
        for doc in build_comparisons().values():
            text = plots.alt_text(name, doc)
            assert len(text) > 30 and "No description" not in text and "None" not in text, text


# --------------------------------------------------------------------------- as the report shows them
def test_report_figures_are_svg_with_their_text_as_text_and_the_same_bytes_each_time(docs):
    """A report figure is an SVG whose words are text (searchable, sharp in print), the same every time."""
    import xml.etree.ElementTree as ET

    from readiness.report.notebook import figure

    doc = docs["full"]
    first = figure("facet_heatmap", doc)
    data, metadata = first._repr_mimebundle_()
    svg = data["image/svg+xml"]
    assert set(data) == {"image/svg+xml", "text/plain"} and metadata["image/svg+xml"]["alt"] == data["text/plain"]
    assert metadata["image/svg+xml"]["width"] == round(plots.WIDTH * 96)
    root = ET.fromstring(svg)
    words = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for block in doc["facets"].values():
        assert block["title"] in words  # row labels are text, not glyph outlines
        assert f"{block['score']:.0f}" in words
    assert "<script" not in svg and "Date" not in svg
    # the fonts it asks for: the one it was laid out with, then near-equal or narrower ones
    assert "font-family: 'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif" in svg
    assert "font-family: 'DejaVu Sans';" not in svg
    assert figure("facet_heatmap", doc).svg == svg  # ids salted with a fixed string: same figure, same bytes
    assert not plt.get_fignums()  # each figure is closed once it is written
