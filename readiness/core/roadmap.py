"""From gaps to a sequenced plan: the action playbook and the roadmap planner.

Core layer, pure. The playbook is data (``templates/playbooks/*.yaml``); this module
validates it and plans. The method, with a worked example, is in ``docs/roadmap.md``:

1. **Gap** per facet: ``max(0, target − score)``.
2. **Priority** per action: ``weight × Σ w_f × gap_f × impact(dimension of f) / effort
   points`` over the facets it moves, with ``w = 1`` for its main (first) facet and ``0.5``
   for the others, and ``weight`` the action's evidence weight from the playbook (default
   1). An action none of whose facets has a gap is not planned.
3. **Order**: list scheduling. An action is ready when the actions it depends on are
   placed. Among ready actions the one with the highest *urgency* goes first: urgency is
   the action's own key or that of any action waiting on it, whichever is higher (so a
   prerequisite inherits the urgency of what it unlocks). The key ranks actions that
   move the barrier facet above all others, then by priority. Within the barrier's tier, an
   action that moves the barrier itself goes before one that only leads to it. Ties go to
   the action's own key, then to playbook order. So the first action moves the barrier
   facet or is a prerequisite (direct or not) of an action that does.
4. **Phases**: 1 = first 90 days, 2 = months 4–6, 3 = months 7–12, 4 = later. Each
   phase takes actions up to its effort capacity. An action starts when its phase starts
   or when its prerequisites finish, whichever is later, and goes in the first phase in
   which it also finishes. An action longer than a whole phase cannot finish in any
   phase it starts in: it starts at the beginning of a phase and runs into the next,
   and the plan says so (``end_phase``).
5. **People before technology**: a technology action is held back while the people or
   the process dimension — as projected at the start of the phase — is below a
   threshold (default 50), unless it moves the barrier or leads to an action that does:
   the barrier comes first whatever its dimension.
6. **Projection**: doing an action closes half of the remaining gap of its main facet
   and a quarter of the remaining gap of each other facet it moves; dimension and
   overall scores are recomputed with the instrument's weights after each phase, from
   the actions finished by the end of it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, Problem
from .instrument import Instrument
from .profile import KPIS

__all__ = [
    "IMPACT_FLOOR",
    "PHASES",
    "PRIORITY_BANDS",
    "STATUSES",
    "Action",
    "Plan",
    "PlanOptions",
    "PlannedAction",
    "Playbook",
    "gaps",
    "phase_bounds",
    "plan",
    "priorities",
]

#: Phase number -> (label, length in weeks).
PHASES: dict[int, tuple[str, int]] = {
    1: ("first 90 days", 13),
    2: ("months 4-6", 13),
    3: ("months 7-12", 26),
    4: ("later", 52),
}
#: Priority bands shown to people: the planned actions in rank order, split in thirds.
PRIORITY_BANDS: tuple[str, ...] = ("High", "Medium", "Low")
MAIN_WEIGHT, OTHER_WEIGHT = 1.0, 0.5
#: No dimension's impact weight goes below this, so a driver model that finds no link
#: for one dimension lowers its actions' priority without removing them from the plan.
IMPACT_FLOOR = 0.25
MAIN_CLOSE, OTHER_CLOSE = 0.5, 0.25
#: The progress of an action as the client records it in the roadmap workbook's Status
#: column (``readiness.io.workbook.read_roadmap_progress``); the first is the default.
STATUSES: tuple[str, ...] = ("Not started", "In progress", "Done", "Dropped")

_ACTION_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_KPIS = tuple(KPIS)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Action(_Model):
    """One thing a center can do, with the facets it moves and what it costs."""

    id: str
    title: str = Field(min_length=1)
    what: str = Field(min_length=1)
    facets: tuple[str, ...] = Field(min_length=1)
    effort: str
    duration_weeks: int = Field(ge=1, le=104)
    owner: str = Field(min_length=1)
    depends_on: tuple[str, ...] = ()
    kpis: tuple[str, ...] = ()
    source: str = ""
    weight: float = Field(default=1.0, gt=0)  # evidence weight, e.g. a step the 2007 study ranks first

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ACTION_ID.match(value):
            raise ValueError(f"action id {value!r} must be lowercase letters, digits and '-'")
        return value

    @field_validator("kpis")
    @classmethod
    def _kpis(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in value if k not in _KPIS]
        if unknown:
            raise ValueError(f"unknown KPI(s) {', '.join(unknown)}")
        return value

    @property
    def dimension(self) -> str:
        return self.facets[0].split(".", 1)[0]


class Playbook(_Model):
    """A validated action playbook. Build with :meth:`from_dict`."""

    id: str
    version: str
    title: str = ""
    effort_points: dict[str, float]
    effort_scale_note: str = ""
    dimension_impact: dict[Literal["people", "process", "technology", "knowledge"], float]
    #: Owner id -> the name people read ("center_manager" -> "Center manager").
    owners: dict[str, str] = {}
    actions: tuple[Action, ...] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, instrument: Instrument, source: str = "<playbook>") -> Playbook:
        """Validate a parsed playbook against an instrument; :class:`InputError` on any problem."""
        if not isinstance(spec, Mapping):
            raise InputError("a playbook must be a mapping at the top level", source=source)
        try:
            book = cls.model_validate(dict(spec))
        except ValidationError as exc:
            problems = [Problem(source, _message(e), key=_loc(e["loc"])) for e in exc.errors()]
            raise InputError(problems=problems) from None
        problems = book._cross_checks(instrument, source)
        if problems:
            raise InputError(problems=problems)
        return book

    def _cross_checks(self, instrument: Instrument, source: str) -> list[Problem]:
        problems: list[Problem] = []
        ids = [a.id for a in self.actions]
        seen: set[str] = set()
        for n, action in enumerate(self.actions):
            at = f"actions[{n}]"
            if action.id in seen:
                problems.append(Problem(source, f"duplicate action id {action.id!r}", key=f"{at}.id"))
            seen.add(action.id)
            for facet in action.facets:
                if facet not in instrument.facets:
                    problems.append(
                        Problem(source, f"action {action.id!r} moves unknown facet {facet!r}", key=f"{at}.facets")
                    )
            for dep in action.depends_on:
                if dep not in ids:
                    problems.append(
                        Problem(
                            source, f"action {action.id!r} depends on unknown action {dep!r}", key=f"{at}.depends_on"
                        )
                    )
                if dep == action.id:
                    problems.append(Problem(source, f"action {action.id!r} depends on itself", key=f"{at}.depends_on"))
            if action.effort not in self.effort_points:
                problems.append(
                    Problem(
                        source,
                        f"action {action.id!r} has effort {action.effort!r}; known: {', '.join(self.effort_points)}",
                        key=f"{at}.effort",
                    )
                )
        for size, points in self.effort_points.items():
            if not points > 0:
                problems.append(Problem(source, f"effort {size!r} must have positive points", key="effort_points"))
        for dim, weight in self.dimension_impact.items():
            if not weight > 0:
                problems.append(Problem(source, f"impact of {dim!r} must be positive", key="dimension_impact"))
        if not problems:
            cycle = _find_cycle({a.id: a.depends_on for a in self.actions})
            if cycle:
                shown = cycle if len(cycle) <= 8 else [*cycle[:4], "...", *cycle[-2:]]
                more = f" ({len(cycle) - 1} actions)" if len(cycle) > 8 else ""
                problems.append(Problem(source, "dependency cycle: " + " -> ".join(shown) + more, key="actions"))
        return problems

    @property
    def by_id(self) -> dict[str, Action]:
        return {a.id: a for a in self.actions}

    def owner_name(self, owner: str) -> str:
        """The owner as people read it: the playbook's name for it, else the id in words."""
        return self.owners.get(owner) or owner.replace("_", " ").capitalize()


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as a list of ids (first repeated at the end), or None.

    Depth-first with an explicit stack, so a long chain of dependencies cannot exhaust
    Python's recursion limit.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in graph:
        if state.get(root) is not None:
            continue
        path: list[str] = [root]
        pending: list[Iterator[str]] = [iter(graph.get(root, ()))]
        state[root] = 1
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if state.get(dep) is None:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(graph.get(dep, ())))
    return None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(err: Mapping[str, Any]) -> str:
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    if err.get("type") == "missing":
        return "required key is missing"
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")


# ---------------------------------------------------------------------- planning
@dataclass(frozen=True)
class PlanOptions:
    """Assumptions the user may change."""

    capacity: Mapping[int, float] = field(default_factory=lambda: {1: 8.0, 2: 10.0, 3: 16.0})
    technology_threshold: float = 50.0  # hold technology while people or process is below
    main_close: float = MAIN_CLOSE
    other_close: float = OTHER_CLOSE


def phase_bounds() -> dict[int, tuple[float, float]]:
    """Phase number -> (first week, end week), the phases of :data:`PHASES` laid end to end.

    >>> phase_bounds()[2]
    (13.0, 26.0)
    """
    out: dict[int, tuple[float, float]] = {}
    start = 0.0
    for phase, (_, weeks) in sorted(PHASES.items()):
        out[phase] = (start, start + weeks)
        start += weeks
    return out


def _phase_of_week(week: float, bounds: Mapping[int, tuple[float, float]]) -> int:
    """The phase in which an action that ends at ``week`` finishes."""
    for phase, (_, end) in sorted(bounds.items()):
        if week <= end + 1e-9:
            return phase
    return max(bounds)


@dataclass(frozen=True)
class PlannedAction:
    rank: int
    action: Action
    phase: int
    priority: float
    why: str
    addresses_barrier: bool
    unlocks_barrier: bool = False  # a prerequisite, direct or not, of an action that moves the barrier
    start_week: float = 0.0
    end_week: float = 0.0
    end_phase: int = 0
    after: tuple[str, ...] = ()  # planned prerequisites (ids)
    priority_band: str = ""


@dataclass(frozen=True)
class Plan:
    """A roadmap: ordered actions, and where the scores are projected to be after each phase."""

    actions: tuple[PlannedAction, ...]
    gaps: dict[str, float]
    targets: dict[str, float]
    impact: dict[str, float]
    projection: tuple[dict[str, Any], ...]
    options: PlanOptions
    owner_names: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> list[dict[str, Any]]:
        """The ``roadmap`` list of results.json."""
        from .profile import kpi_name

        titles = {p.action.id: p.action.title for p in self.actions}
        return [
            {
                "rank": p.rank,
                "action": p.action.id,
                "title": p.action.title,
                "phase": p.phase,
                "phase_label": PHASES[p.phase][0],
                "priority": round(p.priority, 4),
                "priority_band": p.priority_band,
                "facets": list(p.action.facets),
                "depends_on": list(p.action.depends_on),
                "after": [titles[d] for d in p.after],
                "why": p.why,
                "effort": p.action.effort,
                "duration_weeks": p.action.duration_weeks,
                "start_week": round(p.start_week, 4),
                "end_week": round(p.end_week, 4),
                "end_phase": p.end_phase,
                "end_phase_label": PHASES[p.end_phase][0],
                "owner": p.action.owner,
                "owner_name": self.owner_names.get(p.action.owner) or p.action.owner.replace("_", " ").capitalize(),
                "kpis": list(p.action.kpis),
                "kpi_names": [kpi_name(k) for k in p.action.kpis],
                "what": p.action.what,
                "source": p.action.source,
                "addresses_barrier": p.addresses_barrier,
                "unlocks_barrier": p.unlocks_barrier,
            }
            for p in self.actions
        ]


def gaps(scores: Mapping[str, float | None], targets: Mapping[str, float | None]) -> dict[str, float]:
    """``max(0, target − score)`` per facet; 0 where the score or the target is missing."""
    out = {}
    for facet, target in targets.items():
        score = scores.get(facet)
        out[facet] = 0.0 if score is None or target is None else max(0.0, float(target) - float(score))
    return out


def priorities(playbook: Playbook, facet_gaps: Mapping[str, float], impact: Mapping[str, float]) -> dict[str, float]:
    """Priority of every action (see the module docstring, step 2)."""
    out = {}
    for action in playbook.actions:
        value = 0.0
        for n, facet in enumerate(action.facets):
            w = MAIN_WEIGHT if n == 0 else OTHER_WEIGHT
            value += w * facet_gaps.get(facet, 0.0) * impact.get(facet.split(".", 1)[0], 1.0)
        out[action.id] = action.weight * value / playbook.effort_points[action.effort]
    return out


def priority_bands(n: int) -> list[str]:
    """High, Medium or Low for ranks 1..n: the plan's order split in thirds (the first third rounded up).

    The rank is the priority order the planner sets (a prerequisite goes before what it
    unlocks), so the band never contradicts the rank.

    >>> priority_bands(4)
    ['High', 'High', 'Medium', 'Low']
    """
    return [PRIORITY_BANDS[min(len(PRIORITY_BANDS) - 1, i * len(PRIORITY_BANDS) // max(n, 1))] for i in range(n)]


def _weighted(values: Mapping[Any, float | None], weights: Mapping[str, float]) -> float | None:
    num = den = 0.0
    for key, w in weights.items():
        v = values.get(key)
        if v is not None:
            num += w * v
            den += w
    return num / den if den > 0 else None


def _project(instrument: Instrument, facets: Mapping[str, float | None]) -> dict[str, Any]:
    dims = {
        d.id: _weighted({f.id: facets.get(f.id) for f in d.facets}, {f.id: f.weight for f in d.facets})
        for d in instrument.dimensions
    }
    overall = _weighted(dims, {d.id: d.weight for d in instrument.dimensions})
    return {"overall": overall, "dimensions": dims, "facets": dict(facets)}


def plan(
    instrument: Instrument,
    playbook: Playbook,
    facet_scores: Mapping[str, float | None],
    targets: Mapping[str, float | None],
    *,
    impact: Mapping[str, float] | None = None,
    barrier: str | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """Plan the roadmap for one organization.

    Parameters
    ----------
    instrument, playbook : the question set and the action playbook (validated together).
    facet_scores : facet id -> current score (None where missing).
    targets : facet id -> target score.
    impact : dimension -> impact weight (driver analysis); the playbook's defaults otherwise.
    barrier : the barrier facet (addressed first).
    options : capacities and assumptions.
    """
    options = options or PlanOptions()
    impact = {d: max(float(w), IMPACT_FLOOR) for d, w in (impact or playbook.dimension_impact).items()}
    for d, w in playbook.dimension_impact.items():
        impact.setdefault(d, max(float(w), IMPACT_FLOOR))
    facet_gaps = gaps(facet_scores, targets)
    prio = priorities(playbook, facet_gaps, impact)
    by_id = playbook.by_id
    order_index = {a.id: n for n, a in enumerate(playbook.actions)}
    selected = [a.id for a in playbook.actions if prio[a.id] > 1e-12]
    chosen = set(selected)
    bounds = phase_bounds()

    def moves_barrier(aid: str) -> bool:
        return barrier is not None and barrier in by_id[aid].facets and facet_gaps.get(barrier, 0.0) > 0

    own_key = {a: (1 if moves_barrier(a) else 0, prio[a]) for a in selected}
    dependents: dict[str, list[str]] = {a: [] for a in selected}
    for a in selected:
        for dep in by_id[a].depends_on:
            if dep in chosen:
                dependents[dep].append(a)
    urgency: dict[str, tuple[int, float]] = {}

    def urgency_of(aid: str) -> tuple[int, float]:
        if aid not in urgency:
            urgency[aid] = max([own_key[aid], *(urgency_of(d) for d in dependents[aid])])
        return urgency[aid]

    for a in selected:
        urgency_of(a)

    def start_in(aid: str, phase: int) -> float | None:
        """When the action would start in ``phase``, or None when it cannot be placed there."""
        first, end = bounds[phase]
        deps = [d for d in by_id[aid].depends_on if d in chosen]
        start = max([first] + [ends[d] for d in deps])
        duration = float(by_id[aid].duration_weeks)
        if phase == max(bounds):  # the backlog takes whatever is left
            return start
        fits = start + duration <= end + 1e-9
        too_long_for_any_phase = duration > end - first and start <= first + 1e-9
        return start if fits or too_long_for_any_phase else None

    current: dict[str, float | None] = {f: facet_scores.get(f) for f in instrument.facets}
    projection = [{"phase": 0, "label": "now", **_project(instrument, current)}]
    placed: dict[str, int] = {}
    ends: dict[str, float] = {}
    held_in: dict[int, bool] = {}
    planned: list[PlannedAction] = []
    finished: set[str] = set()
    remaining = list(selected)
    for phase in sorted(bounds):
        capacity = float("inf") if phase == max(bounds) else float(options.capacity.get(phase, 0.0))
        start_scores = projection[-1]["dimensions"]
        held = any(
            (start_scores.get(d) is not None and start_scores[d] < options.technology_threshold)
            for d in ("people", "process")
        )
        held_in[phase] = held
        used = 0.0
        while True:
            ready: dict[str, float] = {}
            for aid in remaining:
                action = by_id[aid]
                deps = [d for d in action.depends_on if d in chosen]
                if not all(d in placed for d in deps):
                    continue
                start = start_in(aid, phase)
                if start is None:
                    continue
                # the barrier's own actions are never held: the headline and the first action agree
                if held and action.dimension == "technology" and phase < max(bounds) and urgency[aid][0] == 0:
                    continue
                points = playbook.effort_points[action.effort]
                if used + points > capacity and used > 0:
                    continue
                ready[aid] = start
            if not ready:
                break
            candidates = list(ready)
            if phase == max(bounds):
                # the backlog after month 12 keeps the lesson too: people and process before technology
                candidates = [a for a in candidates if by_id[a].dimension != "technology"] or candidates
            # the barrier tier first: an action that moves the barrier itself before one that
            # only leads to it, so the headline's facet is worked on as early as it can be
            best = max(
                candidates, key=lambda a: (urgency[a][0], own_key[a][0], urgency[a], own_key[a], -order_index[a])
            )
            action = by_id[best]
            start = ready[best]
            end = start + action.duration_weeks
            placed[best] = phase
            ends[best] = end
            used += playbook.effort_points[action.effort]
            remaining.remove(best)
            after = tuple(d for d in action.depends_on if d in chosen)
            planned.append(
                PlannedAction(
                    len(planned) + 1,
                    action,
                    phase,
                    prio[best],
                    _why(
                        instrument,
                        playbook,
                        action,
                        phase,
                        _phase_of_week(end, bounds),
                        facet_gaps,
                        barrier,
                        moves_barrier(best),
                        placed,
                        held_in,
                        options,
                        urgency[best],
                        own_key[best],
                    ),
                    moves_barrier(best),
                    urgency[best][0] == 1 and not moves_barrier(best),
                    start,
                    end,
                    _phase_of_week(end, bounds),
                    after,
                )
            )
        # the phase's effect on the scores: the actions finished by its end
        done_now = [
            p.action for p in planned if p.action.id not in finished and ends[p.action.id] <= bounds[phase][1] + 1e-9
        ]
        for action in done_now:
            finished.add(action.id)
            for n, facet in enumerate(action.facets):
                score, target = current.get(facet), targets.get(facet)
                if score is None or target is None or score >= target:
                    continue
                share = options.main_close if n == 0 else options.other_close
                current[facet] = score + share * (target - score)
        if phase < max(bounds):
            projection.append({"phase": phase, "label": PHASES[phase][0], **_project(instrument, current)})
        if not remaining and all(ends[a] <= bounds[phase][1] + 1e-9 for a in ends):
            break
    bands = priority_bands(len(planned))
    planned = [dataclasses.replace(p, priority_band=band) for p, band in zip(planned, bands)]
    return Plan(
        tuple(planned),
        facet_gaps,
        {k: v for k, v in targets.items() if v is not None},
        impact,
        tuple(projection),
        options,
        {a.owner: playbook.owner_name(a.owner) for a in playbook.actions},
    )


def _why(
    instrument: Instrument,
    playbook: Playbook,
    action: Action,
    phase: int,
    end_phase: int,
    facet_gaps: Mapping[str, float],
    barrier: str | None,
    on_barrier: bool,
    placed: Mapping[str, int],
    held_in: Mapping[int, bool],
    options: PlanOptions,
    urgency: tuple[int, float],
    own: tuple[int, float],
) -> str:
    """One sentence, in words a client reads: why this action is where it is."""
    facets = instrument.facets
    by_id = playbook.by_id
    main = max(action.facets, key=lambda f: facet_gaps.get(f, 0.0))
    gap = facet_gaps.get(main, 0.0)
    main_title = facets[main].title if main in facets else main
    if on_barrier:
        barrier_title = facets[barrier].title if barrier in facets else barrier
        reason = (
            f"it works on the barrier, {barrier_title} ({facet_gaps.get(barrier or '', 0.0):.0f} points below "
            "target), which the plan tackles first"
        )
    elif urgency[0] == 1:
        barrier_title = facets[barrier].title if barrier in facets else barrier
        reason = f"it must come before the actions that move the barrier, {barrier_title}"
    elif urgency > own:
        reason = f"higher-priority actions depend on it ({main_title} is {gap:.0f} points below target)"
    else:
        size = {"S": "a small", "M": "a medium-sized", "L": "a large"}.get(action.effort, "an")
        reason = f"{main_title} is {gap:.0f} points below target, and this is {size} piece of work"
    deps = [d for d in action.depends_on if d in placed]
    technology = action.dimension == "technology"
    was_held = technology and urgency[0] == 0 and any(held_in.get(p) for p in range(1, phase + 1))
    last = max(PHASES)
    if technology and urgency[0] == 1 and held_in.get(phase):
        tail = (
            f"; unlike other technology actions it is not held back while people or process is below "
            f"{options.technology_threshold:.0f}"
        )
    elif was_held:
        tail = (
            f"; technology is held back until people and process are projected at "
            f"{options.technology_threshold:.0f} or more"
        )
        if phase == last:
            tail += ", which the first year's actions do not reach"
    elif phase == last:
        tail = "; it comes after the first year because the earlier phases are full or its prerequisites end late"
    elif deps and max(placed[d] for d in deps) >= phase - 1 and phase > 1:
        names = [by_id[d].title for d in deps if placed[d] >= phase - 1]
        tail = f"; it follows {_join_quoted(names)}"
    elif phase > 1:
        tail = "; the earlier phases are taken by higher priorities"
    else:
        tail = ""
    if end_phase > phase:
        tail += f"; at {action.duration_weeks} weeks it is longer than the phase, so it runs into {PHASES[end_phase][0].replace('-', '–')}"
    sentence = f"{reason}{tail}."
    return sentence[0].upper() + sentence[1:]


def _join_quoted(titles: Sequence[str]) -> str:
    quoted = [f"“{t}”" for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
