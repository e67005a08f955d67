"""Files in, results out: the one path from input files to results documents.

Edge-level orchestration shared by the CLI, the report notebook and the batch runner:
read and validate the inputs (:mod:`loaders`, :mod:`store`), run :func:`assess`, write
the per-organization outputs atomically (:mod:`exporters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .assessment import Options, PeerPanel, assess
from .benchmark import MIN_K
from .errors import InputError
from .instrument import Instrument
from .results import DEFAULT_ROLE_MIN
from .roadmap import Playbook, PlanOptions

__all__ = ["Inputs", "load_inputs", "make_options", "parse_target", "run", "write_outputs"]


@dataclass(frozen=True, eq=False)
class Inputs:
    """Everything read from disk for an assessment, validated."""

    instrument: Instrument
    responses: Any  # Responses
    profiles: Any  # DataFrame | None
    peers: PeerPanel | None
    playbook: Playbook | None
    references: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    #: organizations set aside because their own rows are bad: {org_id: one-line reason}
    rejected: Mapping[str, str] = field(default_factory=dict)


def _path(value: str | Path | None) -> str | None:
    return None if value in (None, "") else str(value)


def load_inputs(
    responses: str | Path,
    *,
    instrument: str | Path | None = None,
    profiles: str | Path | None = None,
    peers: str | Path | None = None,
    playbook: str | Path | None = None,
    isolate: bool = False,
) -> Inputs:
    """Read and validate every input file (empty strings mean "not given").

    With ``isolate`` (batches), organizations whose own response rows are bad are set
    aside in :attr:`Inputs.rejected` instead of failing the whole file.
    """
    from .loaders import (check_profiles_match, load_instrument, load_playbook, load_profiles, load_references,
                          load_responses, load_responses_isolating)

    inst = load_instrument(_path(instrument))
    rejected: dict[str, str] = {}
    if isolate:
        parsed, rejected = load_responses_isolating(responses, inst)
    else:
        parsed = load_responses(responses, inst)
    prof = load_profiles(profiles) if _path(profiles) else None
    if prof is not None:
        check_profiles_match(parsed, prof, Path(str(profiles)).name)  # the wrong file was given
    panel = None
    if _path(peers):
        from .store import load_peer_data

        peer_responses, peer_profiles = load_peer_data(str(peers), inst)
        panel = PeerPanel.build(peer_responses, peer_profiles)
    notes: list[str] = []
    if _path(playbook):
        book = load_playbook(inst, str(playbook))
    else:
        try:
            book = load_playbook(inst)
        except InputError:
            book = None
            notes.append("no roadmap: the bundled playbook does not fit this instrument's facets; "
                         "give one with --playbook")
    return Inputs(inst, parsed, prof, panel, book, load_references(), tuple(notes), rejected)


def parse_target(value: str | float | None, instrument: Instrument) -> float | dict[str, float] | None:
    """A roadmap target: ``None``/"" (peer top quartile), a level 0-100, or a target profile file."""
    from .loaders import load_targets

    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        level = float(value)
    else:
        try:
            level = float(value)
        except ValueError:
            return load_targets(value, instrument)
    if not 0 <= level <= 100:
        raise InputError(f"target {level:g} is outside 0..100", source="parameters")
    return level


def make_options(*, seed: int = 0, n_boot: int = 1000, k: int = 5, target: Any = None,
                 capacity: Sequence[float] | None = None, role_min: int = DEFAULT_ROLE_MIN) -> Options:
    """Options from user-facing values, checked."""
    if role_min < 1:
        raise InputError(f"role_min = {role_min} must be at least 1", source="parameters")
    if k < MIN_K:
        raise InputError(f"k = {k} is below {MIN_K}: smaller peer groups could expose a peer", source="parameters")
    if n_boot < 0:
        raise InputError("the number of bootstrap resamples cannot be negative", source="parameters")
    plan = PlanOptions() if not capacity else PlanOptions(capacity={i + 1: float(c) for i, c in enumerate(capacity)})
    return Options(seed=int(seed), n_boot=int(n_boot), k=int(k), target=target, plan=plan,
                   role_min=int(role_min))


def run(inputs: Inputs, *, orgs: Sequence[str] | None = None, options: Options | None = None) -> dict[str, dict]:
    """Assess the organizations (all by default); unknown ids are an :class:`InputError`."""
    known = set(inputs.responses.org_ids)
    for org in orgs or ():
        if org not in known:
            raise InputError(f"organization {org!r} has no respondents in this file", column="org_id",
                             source=inputs.responses.source or "responses")
    docs = assess(inputs.responses, profiles=inputs.profiles, peers=inputs.peers, playbook=inputs.playbook,
                  references=inputs.references, orgs=orgs, options=options)
    for doc in docs.values():
        doc["warnings"].extend(inputs.notes)
    return docs


def write_outputs(folder: str | Path, doc: Mapping[str, Any]) -> list[Path]:
    """results.json, and roadmap.xlsx / roadmap.csv when there is a roadmap, written atomically.

    The files are written under temporary names first and renamed into place together,
    results.json last, only when all of them are complete: a failure leaves the folder as
    it was. Roadmap files of an earlier run are removed when this document has no roadmap,
    so the folder never pairs these results with an older plan.
    """
    from contextlib import ExitStack

    from .exporters import atomic_path, write_json, write_roadmap_csv, write_roadmap_xlsx

    folder = Path(folder)
    results = folder / "results.json"
    roadmap = [folder / "roadmap.xlsx", folder / "roadmap.csv"] if doc.get("roadmap") else []
    with ExitStack() as stack:  # renamed in reverse order of entry, when every file is written
        write_json(stack.enter_context(atomic_path(results)), doc)
        if roadmap:
            write_roadmap_xlsx(stack.enter_context(atomic_path(roadmap[0])), doc["roadmap"],
                               title=f"Roadmap: {doc['organization']['name']}")
            write_roadmap_csv(stack.enter_context(atomic_path(roadmap[1])), doc["roadmap"])
    if not roadmap:
        for stale in (folder / "roadmap.xlsx", folder / "roadmap.csv"):
            stale.unlink(missing_ok=True)
    return [results, *roadmap]
