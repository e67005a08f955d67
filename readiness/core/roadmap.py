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
   phase takes actions up to its effort capacity. An action goes no earlier than the
   phase of its prerequisites, and one phase later when both durations together do not
   fit in the phase.
5. **People before technology**: a technology action is held back while the people or
   the process dimension — as projected at the start of the phase — is below a
   threshold (default 50), unless it moves the barrier or leads to an action that does:
   the barrier comes first whatever its dimension.
6. **Projection**: doing an action closes half of the remaining gap of its main facet
   and a quarter of the remaining gap of each other facet it moves; dimension and
   overall scores are recomputed with the instrument's weights after each phase.
"""

from __future__ import annotations

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
    "STATUSES",
    "Action",
    "Plan",
    "PlanOptions",
    "PlannedAction",
    "Playbook",
    "gaps",
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


@dataclass(frozen=True)
class PlannedAction:
    rank: int
    action: Action
    phase: int
    priority: float
    why: str
    addresses_barrier: bool
    unlocks_barrier: bool = False  # a prerequisite, direct or not, of an action that moves the barrier


@dataclass(frozen=True)
class Plan:
    """A roadmap: ordered actions, and where the scores are projected to be after each phase."""

    actions: tuple[PlannedAction, ...]
    gaps: dict[str, float]
    targets: dict[str, float]
    impact: dict[str, float]
    projection: tuple[dict[str, Any], ...]
    options: PlanOptions

    def to_json(self) -> list[dict[str, Any]]:
        """The ``roadmap`` list of results.json."""
        return [
            {
                "rank": p.rank,
                "action": p.action.id,
                "title": p.action.title,
                "phase": p.phase,
                "phase_label": PHASES[p.phase][0],
                "priority": round(p.priority, 4),
                "facets": list(p.action.facets),
                "depends_on": list(p.action.depends_on),
                "why": p.why,
                "effort": p.action.effort,
                "duration_weeks": p.action.duration_weeks,
                "owner": p.action.owner,
                "kpis": list(p.action.kpis),
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

    current: dict[str, float | None] = {f: facet_scores.get(f) for f in instrument.facets}
    projection = [{"phase": 0, "label": "now", **_project(instrument, current)}]
    placed: dict[str, int] = {}
    held_in: dict[int, bool] = {}
    planned: list[PlannedAction] = []
    remaining = list(selected)
    for phase in (1, 2, 3, 4):
        capacity = float("inf") if phase == 4 else float(options.capacity.get(phase, 0.0))
        start = projection[-1]["dimensions"]
        held = any(
            (start.get(d) is not None and start[d] < options.technology_threshold) for d in ("people", "process")
        )
        held_in[phase] = held
        used = 0.0
        in_phase: list[str] = []
        while True:
            ready = []
            for aid in remaining:
                action = by_id[aid]
                deps = [d for d in action.depends_on if d in chosen]
                if not all(d in placed for d in deps):
                    continue
                if any(
                    placed[d] > phase
                    or (placed[d] == phase and by_id[d].duration_weeks + action.duration_weeks > PHASES[phase][1])
                    for d in deps
                ):
                    continue
                # the barrier's own actions are never held: the headline and the first action agree
                if held and action.dimension == "technology" and phase < 4 and urgency[aid][0] == 0:
                    continue
                points = playbook.effort_points[action.effort]
                if used + points > capacity and used > 0:
                    continue
                ready.append(aid)
            if not ready:
                break
            if phase == 4:
                # the backlog after month 12 keeps the lesson too: people and process before technology
                ready = [a for a in ready if by_id[a].dimension != "technology"] or ready
            # the barrier tier first: an action that moves the barrier itself before one that
            # only leads to it, so the headline's facet is worked on as early as it can be
            best = max(ready, key=lambda a: (urgency[a][0], own_key[a][0], urgency[a], own_key[a], -order_index[a]))
            placed[best] = phase
            used += playbook.effort_points[by_id[best].effort]
            remaining.remove(best)
            in_phase.append(best)
            planned.append(
                PlannedAction(
                    len(planned) + 1,
                    by_id[best],
                    phase,
                    prio[best],
                    _why(
                        by_id[best],
                        phase,
                        facet_gaps,
                        impact,
                        barrier,
                        moves_barrier(best),
                        placed,
                        held_in,
                        options,
                        prio[best],
                        urgency[best],
                        own_key[best],
                    ),
                    moves_barrier(best),
                    urgency[best][0] == 1 and not moves_barrier(best),
                )
            )
        for aid in in_phase:  # the phase's effect on the scores
            action = by_id[aid]
            for n, facet in enumerate(action.facets):
                score, target = current.get(facet), targets.get(facet)
                if score is None or target is None or score >= target:
                    continue
                share = options.main_close if n == 0 else options.other_close
                current[facet] = score + share * (target - score)
        if phase < 4:
            projection.append({"phase": phase, "label": PHASES[phase][0], **_project(instrument, current)})
        if not remaining:
            break
    return Plan(
        tuple(planned),
        facet_gaps,
        {k: v for k, v in targets.items() if v is not None},
        impact,
        tuple(projection),
        options,
    )


def _why(
    action: Action,
    phase: int,
    facet_gaps: Mapping[str, float],
    impact: Mapping[str, float],
    barrier: str | None,
    on_barrier: bool,
    placed: Mapping[str, int],
    held_in: Mapping[int, bool],
    options: PlanOptions,
    priority: float,
    urgency: tuple[int, float],
    own: tuple[int, float],
) -> str:
    """One sentence: why this action is where it is."""
    main = max(action.facets, key=lambda f: facet_gaps.get(f, 0.0))
    gap = facet_gaps.get(main, 0.0)
    dim = main.split(".", 1)[0]
    if on_barrier:
        reason = (
            f"moves the barrier facet {barrier} ({facet_gaps.get(barrier or '', 0.0):.0f} points below target), "
            "which comes first"
        )
    elif urgency[0] == 1:
        reason = f"it must come before the actions that move the barrier facet {barrier}"
    elif urgency > own:
        reason = f"it unlocks higher-priority actions that depend on it ({main} is {gap:.0f} points below target)"
    else:
        reason = (
            f"{main} is {gap:.0f} points below target, with {dim} impact weight {impact.get(dim, 1.0):.2f} "
            f"and effort {action.effort}"
        )
    deps = [d for d in action.depends_on if d in placed]
    technology = action.dimension == "technology"
    was_held = technology and urgency[0] == 0 and any(held_in.get(p) for p in range(1, phase + 1))
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
        if phase == 4:
            tail += ", which the first year's actions do not reach"
    elif phase == 4:
        tail = "; it falls after month 12 because the earlier phases are full or its prerequisites come late"
    elif deps and max(placed[d] for d in deps) == phase - 1 and phase > 1:
        tail = f"; placed in phase {phase} after {', '.join(deps)}"
    elif phase > 1:
        tail = f"; phase {phase} because the effort capacity of earlier phases was used by higher priorities"
    else:
        tail = ""
    sentence = f"{reason}{tail}."
    return sentence[0].upper() + sentence[1:]
