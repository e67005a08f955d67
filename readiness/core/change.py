"""Change between two waves of one organization: differences with intervals, and progress on the roadmap.

Core layer, pure. A :class:`Wave` is one recorded assessment: its results document, the
instrument it was scored with and, for intervals on change, its respondents' facet
scores by role. :func:`compare` measures the change from one wave to a later one; the
rules (``docs/reassessment.md``, DESIGN.md):

- **Change** of a score: its value in the later wave minus its value in the earlier one,
  each computed by the scoring rules from that wave's respondents.
- **Interval**: each wave is bootstrapped on its own (respondents resampled within role,
  as for a score's interval), because different people may answer each time; the change
  of each resample pair is the later draw minus the earlier draw, and the 95% interval is
  the percentile interval of those differences. Each wave's resamples come from a seed
  stream of its own (:func:`wave_seed`), so the same history and seed give the same
  intervals.
- A change is **real** when its interval excludes zero.
- Waves scored with **different instruments** are compared on the facets both have;
  dimension and overall scores are recomputed on those facets in each wave, with that
  wave's own weights, and a warning names the facets left out.
- A wave recorded **without respondents' scores** (``readiness history add`` of a
  results file alone) gives an approximate interval: each wave's published interval is
  read as a normal one, ``change ± z * sqrt(se_from² + se_to²)``, and a warning says so.

Progress on the roadmap: :func:`expected_changes` attributes the change the earlier
plan projected to each action, :func:`action_progress` sets it beside the change
observed, :func:`next_roadmap` plans afresh from the later wave without the actions
done, and :func:`findings` says which finished actions moved what they should have and
which facets moved without an action. :func:`comparison_document` is the ``compare
--json`` document (``docs/reassessment.md``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .defaults import CI_LEVEL, N_BOOT, SEED
from .errors import InputError
from .instrument import DIMENSIONS, Instrument
from .responses import Responses
from .results import clean_number
from .roadmap import MAIN_CLOSE, OTHER_CLOSE, STATUSES, PlanOptions, Playbook, plan
from .scoring import aggregate_scores, bootstrap_draws, percentile_interval, respondent_facet_scores

__all__ = [
    "DONE",
    "IN_PROGRESS",
    "SCHEMA_VERSION",
    "Change",
    "Wave",
    "action_progress",
    "compare",
    "comparison_document",
    "expected_changes",
    "findings",
    "next_roadmap",
    "wave_seed",
    "waves_from_responses",
    "without_actions",
]

#: Version of the ``compare --json`` document; bump it when a field changes meaning.
SCHEMA_VERSION = 1
DONE, IN_PROGRESS = STATUSES[2], STATUSES[1]
#: Columns of :attr:`Change.table`.
CHANGE_COLUMNS = ("level", "id", "title", "dimension", "from", "to", "delta", "ci_low", "ci_high", "real")


@dataclass(frozen=True, eq=False)
class Wave:
    """One recorded assessment of one organization.

    Attributes
    ----------
    org_id, label : str
        The organization and the wave's label (``2024-05``, ``baseline``).
    date : str or None
        The assessment date, ``YYYY-MM-DD``.
    results : dict
        Its results.json document (with its roadmap and plan).
    instrument : Instrument
        The question set it was scored with (weights and facets).
    roles : tuple of str, optional
        Each respondent's role, in the canonical order of
        :class:`~readiness.core.responses.Responses`.
    scores : ndarray (respondents, facets), optional
        Each respondent's facet scores, facets in ``instrument.layout.facet_ids`` order,
        NaN where the rules give none. Without them (and ``roles``) a comparison gives
        approximate intervals only.
    """

    org_id: str
    label: str
    date: str | None
    results: Mapping[str, Any]
    instrument: Instrument
    roles: tuple[str, ...] | None = None
    scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.roles is None) != (self.scores is None):
            raise ValueError("give both roles and scores, or neither")
        if self.scores is not None and self.roles is not None:
            shape = (len(self.roles), len(self.instrument.layout.facet_ids))
            if self.scores.shape != shape:
                raise ValueError(f"scores must have shape {shape}, got {self.scores.shape}")

    @property
    def has_respondents(self) -> bool:
        """Whether the respondents' facet scores are there (exact intervals on change)."""
        return self.scores is not None

    @property
    def n(self) -> int:
        """Respondents in the wave."""
        return int((self.results.get("respondents") or {}).get("n") or 0)


def waves_from_responses(
    responses: Responses, docs: Mapping[str, Mapping[str, Any]], *, label: str, date: str | None
) -> list[Wave]:
    """A :class:`Wave` for each assessed organization, with its respondents' facet scores.

    ``docs`` are the results documents :func:`~readiness.core.assessment.assess` made from
    ``responses`` (org id -> document).
    """
    scores = respondent_facet_scores(responses)
    org_ids = responses.meta["org_id"].to_numpy()
    roles = responses.meta["role"].to_numpy()
    out = []
    for org_id, doc in docs.items():
        mask = org_ids == org_id
        out.append(
            Wave(
                org_id,
                label,
                date,
                doc,
                responses.instrument,
                tuple(str(r) for r in roles[mask]),
                scores[mask],
            )
        )
    return out


def wave_seed(seed: int, org_id: str, label: str) -> np.random.SeedSequence:
    """The seed stream of one wave's resamples: independent of the wave it is compared with."""
    parts = [int(seed) & 0xFFFFFFFF]
    for text in (org_id, label):
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        parts.append(int.from_bytes(digest, "little"))
    return np.random.SeedSequence(parts)


@dataclass(frozen=True, eq=False)
class Change:
    """What :func:`compare` measured.

    Attributes
    ----------
    table : DataFrame
        One row per score compared: ``level`` (overall, dimension, facet), ``id``,
        ``title``, ``dimension``, ``from``, ``to``, ``delta``, ``ci_low``, ``ci_high``
        (NaN where there is none) and ``real`` (the interval excludes zero). Overall
        first, then the dimensions, then the facets in the instrument's order.
    shared : tuple of str
        The facets compared.
    left_out : dict
        ``{"from": facets only the earlier wave has, "to": facets only the later has}``.
    method : str
        ``"bootstrap"`` or ``"approximate"`` (a wave without respondents' scores).
    """

    table: pd.DataFrame
    shared: tuple[str, ...]
    left_out: Mapping[str, tuple[str, ...]]
    method: str
    n_boot: int
    seed: int
    ci_level: float
    warnings: tuple[str, ...] = field(default=())

    def row(self, level: str, ident: str) -> dict[str, Any] | None:
        """One compared score as a dict (``None`` when it was not compared)."""
        hit = self.table[(self.table["level"] == level) & (self.table["id"] == ident)]
        return None if hit.empty else hit.iloc[0].to_dict()


def compare(
    earlier: Wave, later: Wave, *, n_boot: int = N_BOOT, seed: int = SEED, ci_level: float = CI_LEVEL
) -> Change:
    """The change from ``earlier`` to ``later`` for the overall score, every dimension and facet.

    Parameters
    ----------
    earlier, later : Wave
        Two waves of the same organization.
    n_boot : int
        Bootstrap resamples of each wave (0: no intervals).
    seed : int
        Base seed; each wave draws from :func:`wave_seed`.
    ci_level : float
        Coverage of the interval on the change.

    Returns
    -------
    Change

    Raises
    ------
    InputError
        The waves share no facet.
    """
    if earlier.org_id != later.org_id:
        raise ValueError(f"waves of different organizations: {earlier.org_id!r} and {later.org_id!r}")
    before_ids = earlier.instrument.layout.facet_ids
    after_ids = later.instrument.layout.facet_ids
    shared = tuple(f for f in after_ids if f in before_ids)
    left_out = {
        "from": tuple(f for f in before_ids if f not in after_ids),
        "to": tuple(f for f in after_ids if f not in before_ids),
    }
    if not shared:
        raise InputError(
            f"waves {earlier.label!r} and {later.label!r} share no facet: their instruments "
            f"({_instrument_text(earlier)}, {_instrument_text(later)}) cannot be compared",
            source="history",
        )
    warnings = []
    if (earlier.instrument.id, earlier.instrument.version) != (later.instrument.id, later.instrument.version):
        warnings.append(
            f"the instrument changed from {_instrument_text(earlier)} to {_instrument_text(later)}: the waves are "
            "compared on the facets both have; where a facet's questions changed, part of its change may come "
            "from the questions"
        )
    if left_out["from"] or left_out["to"]:
        parts = []
        if left_out["from"]:
            names = [earlier.instrument.facets[f].title or f for f in left_out["from"]]
            parts.append(f"only in wave {earlier.label}: {', '.join(names)}")
        if left_out["to"]:
            names = [later.instrument.facets[f].title or f for f in left_out["to"]]
            parts.append(f"only in wave {later.label}: {', '.join(names)}")
        warnings.append(
            "facets left out of the comparison, asked in one wave only (" + "; ".join(parts) + "); dimension and "
            "overall scores are recomputed on the facets both waves have, so they may differ from each wave's report"
        )
    for wave in (earlier, later):
        if wave.n < 5:
            warnings.append(f"only {wave.n} respondent(s) in wave {wave.label}: the intervals are wide")
        if wave.roles is not None:
            counts = Counter(wave.roles)
            single = sorted(r for r, n in counts.items() if n == 1)
            if single:
                warnings.append(
                    f"one respondent only in role(s) {', '.join(single)} in wave {wave.label}: how much that role "
                    "varies cannot be told from one person, so the intervals understate it"
                )
    keys = _keys(later, shared)
    if earlier.has_respondents and later.has_respondents:
        before, before_draws = _bootstrap(earlier, shared, n_boot, seed)
        after, after_draws = _bootstrap(later, shared, n_boot, seed)
        if n_boot > 0:
            ci = percentile_interval(after_draws - before_draws, ci_level)
        else:
            ci = np.full((2, len(keys)), np.nan)
        method = "bootstrap"
    else:
        missing = [w.label for w in (earlier, later) if not w.has_respondents]
        warnings.append(
            f"wave(s) {', '.join(missing)} were recorded without respondents' scores, so the intervals on change are "
            "approximate: each wave's published interval read as a normal one"
        )
        before, before_se = _published(earlier, shared, bool(left_out["from"] or left_out["to"]))
        after, after_se = _published(later, shared, bool(left_out["from"] or left_out["to"]))
        z = NormalDist().inv_cdf(0.5 + ci_level / 2.0)
        half = z * np.sqrt(before_se**2 + after_se**2)
        ci = np.vstack([(after - before) - half, (after - before) + half])
        method = "approximate"
    delta = after - before
    low, high = ci[0], ci[1]
    has_ci = np.isfinite(low) & np.isfinite(high) & np.isfinite(delta)
    real = has_ci & ((low > 0) | (high < 0))
    table = pd.DataFrame(
        {
            "level": [k[0] for k in keys],
            "id": [k[1] for k in keys],
            "title": [_title(later, earlier, k) for k in keys],
            "dimension": [k[2] for k in keys],
            "from": before,
            "to": after,
            "delta": delta,
            "ci_low": np.where(has_ci, low, np.nan),
            "ci_high": np.where(has_ci, high, np.nan),
            "real": real.astype(bool),
        },
        columns=list(CHANGE_COLUMNS),
    )
    # overall first, then the dimensions, then the facets (the vectors hold them the other way round)
    rank = {"overall": 0, "dimension": 1, "facet": 2}
    table = table.sort_values("level", key=lambda col: col.map(rank), kind="mergesort").reset_index(drop=True)
    return Change(table, shared, left_out, method, int(n_boot), int(seed), float(ci_level), tuple(warnings))


def _instrument_text(wave: Wave) -> str:
    return f"{wave.instrument.id} version {wave.instrument.version}"


def _keys(wave: Wave, shared: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(level, id, dimension) of each compared score, in the order of the score vectors."""
    dims = list(DIMENSIONS)
    return (
        [("facet", f, wave.instrument.facet_dimension(f)) for f in shared]
        + [("dimension", d, d) for d in dims]
        + [("overall", "overall", None)]
    )


def _title(later: Wave, earlier: Wave, key: tuple[str, str, str | None]) -> str:
    level, ident, _ = key
    if level == "overall":
        return "Overall readiness"
    for wave in (later, earlier):
        if level == "facet" and ident in wave.instrument.facets:
            return wave.instrument.facets[ident].title
        if level == "dimension":
            for dim in wave.instrument.dimensions:
                if dim.id == ident:
                    return dim.title or ident.capitalize()
    return ident


def _structure(wave: Wave, shared: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column index of each shared facet in the wave's layout, and the weights over them.

    Dimensions are laid out in :data:`DIMENSIONS` order in every wave, so the vectors of
    two waves line up whatever their instruments hold.
    """
    layout = wave.instrument.layout
    index = np.array([layout.facet_ids.index(f) for f in shared], dtype=np.intp)
    facet_weights = layout.facet_weights[index]
    by_dimension = np.zeros((len(shared), len(DIMENSIONS)))
    for row, f in enumerate(shared):
        by_dimension[row, DIMENSIONS.index(wave.instrument.facet_dimension(f))] = 1.0
    weights: dict[str, float] = {str(d.id): float(d.weight) for d in wave.instrument.dimensions}
    dimension_weights = np.array([float(weights.get(d, 0.0)) for d in DIMENSIONS])
    return index, facet_weights, by_dimension, dimension_weights


def _bootstrap(wave: Wave, shared: Sequence[str], n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Point scores (facets, dimensions, overall) of one wave on ``shared``, and its bootstrap draws."""
    assert wave.scores is not None and wave.roles is not None
    index, facet_weights, by_dimension, dimension_weights = _structure(wave, shared)
    layout = wave.instrument.layout
    roles = np.asarray(wave.roles, dtype=object)
    blocks, weights = [], []
    for r, role in enumerate(layout.role_ids):
        mask = roles == role
        if mask.any():
            blocks.append(wave.scores[mask][:, index])
            weights.append(layout.role_weights[r])
    # Resamples are drawn from scores spread by sqrt(n / (n - 1)) around their role's mean:
    # the point scores stay the same, and a resampled role mean varies as much as the mean
    # of n new respondents would (the plain bootstrap understates that by (n - 1) / n,
    # which matters for a role of three managers).
    spread = [_spread(block) for block in blocks]
    if not blocks:
        empty = np.full(len(shared) + len(DIMENSIONS) + 1, np.nan)
        return empty, np.full((max(n_boot, 0), len(empty)), np.nan)
    role_weights = np.asarray(weights, dtype=float)
    point = aggregate_scores(blocks, role_weights, facet_weights, by_dimension, dimension_weights)
    if n_boot <= 0:
        return point, np.full((0, len(point)), np.nan)
    rng = np.random.default_rng(wave_seed(seed, wave.org_id, wave.label))
    draws = bootstrap_draws(spread, role_weights, facet_weights, by_dimension, dimension_weights, rng, n_boot)
    return point, draws


def _spread(block: np.ndarray) -> np.ndarray:
    """Respondent scores of one role moved away from the role's mean by sqrt(n / (n - 1)) per facet.

    ``n`` counts the respondents with a score on the facet; with fewer than two the scores
    are left as they are (one score has no spread to correct).
    """
    present = ~np.isnan(block)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.where(present, block, 0.0).sum(axis=0) / np.maximum(n, 1), 0.0)
        factor = np.where(n >= 2, np.sqrt(n / np.maximum(n - 1, 1)), 1.0)
    return np.where(present, mean + (block - mean) * factor, np.nan)


def _published(wave: Wave, shared: Sequence[str], recompute: bool) -> tuple[np.ndarray, np.ndarray]:
    """Point scores and standard errors read from a wave's results document.

    The standard error is the published interval's half-width over ``z`` of the
    interval's own level. When facets were left out, dimension and overall scores are
    recomputed from the published facet scores (without an interval).
    """
    doc = wave.results
    level = float(((doc.get("method") or {}).get("bootstrap") or {}).get("level") or CI_LEVEL)
    z = NormalDist().inv_cdf(0.5 + level / 2.0)

    def read(block: Mapping[str, Any] | None) -> tuple[float, float]:
        block = block or {}
        score = block.get("score")
        ci = block.get("ci")
        value = np.nan if score is None else float(score)
        se = np.nan if not ci or ci[0] is None or ci[1] is None else (float(ci[1]) - float(ci[0])) / (2.0 * z)
        return value, se

    facets = [read((doc.get("facets") or {}).get(f)) for f in shared]
    if recompute:
        _, facet_weights, by_dimension, dimension_weights = _structure(wave, shared)
        values = np.array([v for v, _ in facets])
        scores = aggregate_scores([values[None, :]], np.ones(1), facet_weights, by_dimension, dimension_weights)
        rest_values = scores[len(shared) :]
        rest_se = np.full(len(rest_values), np.nan)
    else:
        dims = [read((doc.get("dimensions") or {}).get(d)) for d in DIMENSIONS]
        overall = [read(doc.get("overall"))]
        rest_values = np.array([v for v, _ in dims + overall])
        rest_se = np.array([s for _, s in dims + overall])
    values = np.concatenate([np.array([v for v, _ in facets]), rest_values])
    se = np.concatenate([np.array([s for _, s in facets]), rest_se])
    return values, se


# ---------------------------------------------------------------------- the roadmap
def expected_changes(results: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """The change the plan projected for each action, per facet it moves.

    The plan projects every facet's score after each phase (``plan.projection``). The
    projected change of a facet in a phase is shared among that phase's actions that
    move the facet, in proportion to the share of the gap each one closes in the plan
    (:data:`~readiness.core.roadmap.MAIN_CLOSE` on its main facet,
    :data:`~readiness.core.roadmap.OTHER_CLOSE` on the others). Actions after month 12
    (phase 4), which the projection does not cover, expect ``None``.

    Returns
    -------
    dict
        action id -> {facet id -> expected change in points, or None}.
    """
    roadmap = [a for a in results.get("roadmap") or [] if a]
    steps = {int(s["phase"]): s for s in (results.get("plan") or {}).get("projection") or [] if s}
    out: dict[str, dict[str, float | None]] = {}
    for phase in sorted({int(a["phase"]) for a in roadmap}):
        in_phase = [a for a in roadmap if int(a["phase"]) == phase]
        before, after = steps.get(phase - 1), steps.get(phase)
        shares: dict[str, float] = {}
        for action in in_phase:
            for n, facet in enumerate(action["facets"]):
                shares[facet] = shares.get(facet, 0.0) + (MAIN_CLOSE if n == 0 else OTHER_CLOSE)
        for action in in_phase:
            expected: dict[str, float | None] = {}
            for n, facet in enumerate(action["facets"]):
                start = None if before is None else (before.get("facets") or {}).get(facet)
                end = None if after is None else (after.get("facets") or {}).get(facet)
                if start is None or end is None:
                    expected[facet] = None
                    continue
                share = (MAIN_CLOSE if n == 0 else OTHER_CLOSE) / shares[facet]
                expected[facet] = clean_number((float(end) - float(start)) * share)
            out[action["action"]] = expected
    return out


def _observed(change: Change, facet: str) -> dict[str, Any] | None:
    row = change.row("facet", facet)
    if row is None:
        return None
    return {
        "from": clean_number(row["from"]),
        "to": clean_number(row["to"]),
        "delta": clean_number(row["delta"]),
        "ci": _ci(row["ci_low"], row["ci_high"]),
        "real": bool(row["real"]),
    }


def _ci(low: Any, high: Any) -> list[float] | None:
    lo, hi = clean_number(low), clean_number(high)
    return None if lo is None or hi is None else [lo, hi]


def action_progress(
    earlier: Wave, change: Change, statuses: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every action of the earlier wave's roadmap: its status, expected and observed change.

    Parameters
    ----------
    earlier : Wave
        The wave whose roadmap the client worked on.
    change : Change
        :func:`compare` of that wave with the later one.
    statuses : dict, optional
        action id -> ``{"status": ...}`` as read from the filled-in workbook; an action
        it lacks is ``Not started``. Without it every status is ``None`` (not recorded).

    Returns
    -------
    list of dict
        ``action, title, status, facets, expected, observed`` in roadmap order;
        ``expected`` maps each facet to the projected change, ``observed`` to
        ``{"from", "to", "delta", "ci", "real"}`` (``None`` for a facet not compared).
    """
    expected = expected_changes(earlier.results)
    out = []
    for action in sorted(earlier.results.get("roadmap") or [], key=lambda a: a.get("rank") or 0):
        ident = action["action"]
        status = None
        if statuses is not None:
            status = str((statuses.get(ident) or {}).get("status") or STATUSES[0])
        out.append(
            {
                "action": ident,
                "title": action.get("title") or ident,
                "status": status,
                "facets": list(action["facets"]),
                "expected": expected.get(ident, {f: None for f in action["facets"]}),
                "observed": {f: _observed(change, f) for f in action["facets"]},
            }
        )
    return out


def without_actions(playbook: Playbook, action_ids: Sequence[str] | set[str]) -> Playbook | None:
    """The playbook less the given actions (and less them as prerequisites); ``None`` when none is left."""
    gone = set(action_ids)
    kept = tuple(
        a.model_copy(update={"depends_on": tuple(d for d in a.depends_on if d not in gone)})
        for a in playbook.actions
        if a.id not in gone
    )
    if not kept:
        return None
    return playbook.model_copy(update={"actions": kept})


def next_roadmap(
    later: Wave, playbook: Playbook, done: Sequence[str] | set[str], *, earlier: Wave | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A fresh plan from the later wave's scores, without the actions already done.

    The later wave's own planning conditions are kept: its targets, impact weights,
    capacities, technology threshold and barrier (``results["plan"]``). When the later
    wave has no plan, the earlier wave's targets stand in (and the note says so).

    Returns
    -------
    (roadmap, note)
        The roadmap in the form of results.json's ``roadmap``, and a sentence when it
        could not be planned as asked (``None`` otherwise).
    """
    block = later.results.get("plan") or {}
    note = None
    if not block.get("targets") and earlier is not None and (earlier.results.get("plan") or {}).get("targets"):
        block = earlier.results["plan"]
        note = f"wave {later.label} has no plan of its own, so the next roadmap aims at the targets of wave {earlier.label}"
    targets = {f: t for f, t in (block.get("targets") or {}).items() if f in later.instrument.facets}
    if not targets:
        return [], "no next roadmap: neither wave has targets to plan against (give peers or a target when assessing)"
    book = without_actions(playbook, done)
    if book is None:
        return [], "no next roadmap: every action of the playbook is done"
    capacity = {int(p): float(c) for p, c in (block.get("capacity") or {}).items()}
    defaults = PlanOptions()
    options = PlanOptions(
        capacity=capacity or defaults.capacity,
        technology_threshold=float(block.get("technology_threshold") or defaults.technology_threshold),
    )
    impact = {d: float(w) for d, w in (block.get("impact") or {}).items() if w is not None} or None
    result = plan(
        later.instrument,
        book,
        {f: b.get("score") for f, b in (later.results.get("facets") or {}).items()},
        targets,
        impact=impact,
        barrier=(later.results.get("overall") or {}).get("barrier"),
        options=options,
    )
    return result.to_json(), note


# ---------------------------------------------------------------------- the document
def comparison_document(
    earlier: Wave,
    later: Wave,
    change: Change,
    actions: Sequence[Mapping[str, Any]],
    *,
    next_plan: Sequence[Mapping[str, Any]] = (),
    warnings: Sequence[str] = (),
    roadmap_source: str | None = None,
) -> dict[str, Any]:
    """The ``compare --json`` document (schema in ``docs/reassessment.md``).

    Holds organization-level scores only: no respondent's score, no score by role.
    """
    org = dict(later.results.get("organization") or {"id": later.org_id})
    titles = {str(i): str(t) for i, t in zip(change.table["id"], change.table["title"])}
    action_titles = {str(a["action"]): str(a["title"]) for a in actions}
    action_titles.update({str(a["action"]): str(a["title"]) for a in next_plan})
    statuses = {str(a["action"]): a["status"] for a in actions}
    next_items = [{**dict(a), "previous_status": statuses.get(str(a["action"]))} for a in next_plan]

    def wave_block(wave: Wave) -> dict[str, Any]:
        return {"wave": wave.label, "date": wave.date, "n": wave.n}

    return {
        "schema_version": SCHEMA_VERSION,
        "organization": org,
        "from": wave_block(earlier),
        "to": wave_block(later),
        "instrument": {
            "from": {"id": earlier.instrument.id, "version": earlier.instrument.version},
            "to": {"id": later.instrument.id, "version": later.instrument.version},
        },
        "changes": [
            {
                "level": row["level"],
                "id": row["id"],
                "from": clean_number(row["from"]),
                "to": clean_number(row["to"]),
                "delta": clean_number(row["delta"]),
                "ci": _ci(row["ci_low"], row["ci_high"]),
                "real": bool(row["real"]),
            }
            for row in change.table.to_dict("records")
            if clean_number(row["from"]) is not None or clean_number(row["to"]) is not None
        ],
        "barrier": {
            "from": (earlier.results.get("overall") or {}).get("barrier"),
            "to": (later.results.get("overall") or {}).get("barrier"),
        },
        "level": {
            "from": (earlier.results.get("overall") or {}).get("level"),
            "to": (later.results.get("overall") or {}).get("level"),
        },
        "actions": [
            {
                "action": a["action"],
                "title": a["title"],
                "status": a["status"],
                "facets": list(a["facets"]),
                "expected": dict(a["expected"]),
                "observed": dict(a["observed"]),
            }
            for a in actions
        ],
        "warnings": [*change.warnings, *warnings],
        # Additions beyond the fields: what the report needs to speak in names.
        "titles": {"scores": titles, "actions": action_titles},
        "next_roadmap": next_items,
        "method": {
            "scheme": "each wave bootstrapped on its own, respondents resampled within role"
            if change.method == "bootstrap"
            else "approximate: each wave's published interval read as a normal one",
            "resamples": change.n_boot,
            "seed": change.seed,
            "level": change.ci_level,
            "rule": "a change is real when its interval excludes zero",
            "shared_facets": list(change.shared),
            "left_out": {k: list(v) for k, v in change.left_out.items()},
            "roadmap": roadmap_source,
        },
    }


def findings(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What the progress report says, read from a ``compare`` document.

    Returns
    -------
    dict
        ``actions_by_status`` (status -> actions, each with a ``verdict``: moved, moved
        partly, no real change yet, went down, not comparable), ``unplanned`` (facets
        with a real change that no action done or in progress aims at), ``up`` and
        ``down`` (facets with a real rise or fall), ``facets`` (how many compared) and
        ``statuses_recorded`` (a filled-in workbook was read).
    """
    facets = [c for c in doc.get("changes") or [] if c.get("level") == "facet"]
    titles = (doc.get("titles") or {}).get("scores") or {}
    up = [dict(c, title=titles.get(c["id"], c["id"])) for c in facets if c.get("real") and (c.get("delta") or 0) > 0]
    down = [dict(c, title=titles.get(c["id"], c["id"])) for c in facets if c.get("real") and (c.get("delta") or 0) < 0]
    actions = list(doc.get("actions") or [])
    recorded = any(a.get("status") is not None for a in actions)
    working = {DONE, IN_PROGRESS} if recorded else None
    covered = {f for a in actions if working is None or a.get("status") in working for f in a.get("facets") or []}
    unplanned = [c for c in up + down if c["id"] not in covered]
    by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    for action in actions:
        status = action.get("status")
        if status is None:
            continue
        by_status.setdefault(status, []).append({**action, "verdict": _verdict(action)})
    return {
        "actions_by_status": by_status,
        "unplanned": unplanned,
        "up": up,
        "down": down,
        "facets": len(facets),
        "statuses_recorded": recorded,
    }


def _verdict(action: Mapping[str, Any]) -> str:
    facets = list(action.get("facets") or [])
    observed = action.get("observed") or {}
    main = observed.get(facets[0]) if facets else None
    if main is None:
        return "not comparable"
    if main.get("real") and (main.get("delta") or 0) > 0:
        return "moved"
    if any(o and o.get("real") and (o.get("delta") or 0) > 0 for o in observed.values()):
        return "moved partly"
    if main.get("real") and (main.get("delta") or 0) < 0:
        return "went down"
    return "no real change yet"
