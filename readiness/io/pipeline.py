"""Files in, results out: the one path from input files to results documents.

Edge-level orchestration shared by the CLI, the report notebook and the batch runner:
read and validate the inputs (:mod:`loaders`, :mod:`store`), run :func:`assess`, write
the per-organization outputs atomically (:mod:`exporters`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.assessment import Options, PeerPanel, assess
from ..core.defaults import MIN_K, N_BOOT, PORTFOLIO_N_BOOT, ROLE_MIN, SEED, K
from ..core.errors import InputError
from ..core.instrument import Instrument
from ..core.roadmap import PlanOptions, Playbook
from .resources import data_path
from .tables import Limits

__all__ = [
    "Fingerprints",
    "Inputs",
    "bundled_example",
    "bundled_panel",
    "file_digest",
    "fingerprints",
    "load_inputs",
    "load_portfolio",
    "load_results",
    "make_options",
    "parse_target",
    "resolve_date",
    "run",
    "run_chunks",
    "write_outputs",
]

#: The peers parameter that means "no peer data" (empty means the bundled panel).
NO_PEERS = "none"


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
    #: digests of the files every organization shares (instrument, playbook, peers, references)
    digests: Mapping[str, str] = field(default_factory=dict)


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
    export: Any = None,
    sheet: str | None = None,
    ignore_columns: bool = False,
    limits: Limits | None = None,
) -> Inputs:
    """Read and validate every input file (empty strings mean "not given").

    With ``isolate`` (batches), organizations whose own response rows are bad, or that
    have no answer to a whole dimension, are set aside in :attr:`Inputs.rejected`
    instead of failing the whole file. ``sheet`` picks the workbook sheet of the
    responses; ``ignore_columns`` leaves out columns that are no item (else an error);
    ``limits`` bound the size of every file read. With ``export``
    (:class:`readiness.io.survey_import.ExportOptions`, which carries its own reading
    options), ``responses`` is a survey tool's export, converted first; where the answers
    came from is added to the notes.
    """
    from ..core.responses import missing_dimensions
    from .loaders import (
        DEFAULT_INSTRUMENT,
        DEFAULT_PLAYBOOK,
        DEFAULT_REFERENCES,
        check_profiles_match,
        load_instrument,
        load_playbook,
        load_profiles,
        load_references,
        load_responses,
        load_responses_isolating,
    )

    inst = load_instrument(_path(instrument))
    rejected: dict[str, str] = {}
    notes: list[str] = []
    if export is not None:
        from .survey_import import convert_export

        conversion = convert_export(responses, inst, export)
        if isolate:
            parsed, rejected = conversion.parse_isolating(inst)
        else:
            parsed = conversion.parse(inst)
        notes.append(conversion.report.summary())
    elif isolate:
        parsed, rejected = load_responses_isolating(
            responses, inst, sheet=sheet, ignore_columns=ignore_columns, limits=limits
        )
    else:
        parsed = load_responses(responses, inst, sheet=sheet, ignore_columns=ignore_columns, limits=limits)
    if isolate:
        empty = missing_dimensions(parsed)
        for problem in empty:
            org = parsed.meta["org_id"][parsed.meta["row"] == problem.row].iat[0]
            rejected.setdefault(org, str(problem))
        if empty:
            kept = [o for o in parsed.org_ids if o not in rejected]
            if not kept:
                raise InputError(problems=empty)
            parsed = parsed.select(kept)
    prof = load_profiles(profiles, limits=limits) if profiles and _path(profiles) else None
    if prof is not None:
        check_profiles_match(parsed, prof, Path(str(profiles)).name)  # the wrong file was given
    panel = None
    digests = {
        "instrument": file_digest(_path(instrument) or DEFAULT_INSTRUMENT),
        "references": file_digest(DEFAULT_REFERENCES),
    }
    if _path(peers):
        from .peer_store import DB_SUFFIXES, load_peer_data, load_peer_info, panel_info_path_for, profiles_path_for

        peer_responses, peer_profiles = load_peer_data(str(peers), inst, ignore_columns=ignore_columns, limits=limits)
        panel = PeerPanel.build(peer_responses, peer_profiles, info=load_peer_info(str(peers)))
        digests["peers"] = file_digest(str(peers))
        if Path(str(peers)).suffix.lower() not in DB_SUFFIXES:
            digests["peer profiles"] = file_digest(profiles_path_for(str(peers)))
            if panel_info_path_for(str(peers)).exists():
                digests["peer panel"] = file_digest(panel_info_path_for(str(peers)))
    if _path(playbook):
        book = load_playbook(inst, str(playbook))
        digests["playbook"] = file_digest(str(playbook))
    else:
        try:
            book = load_playbook(inst)
            digests["playbook"] = file_digest(DEFAULT_PLAYBOOK)
        except InputError:
            book = None
            notes.append(
                "no roadmap: the bundled playbook does not fit this instrument's facets; give one with --playbook"
            )
    return Inputs(inst, parsed, prof, panel, book, load_references(), tuple(notes), rejected, digests)


def file_digest(path: str | Path) -> str:
    """A short BLAKE2b digest of a file's bytes (read in pieces)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fingerprints(
    inputs: Inputs, options: Options | None, orgs: Sequence[str], *, dated: bool = True
) -> dict[str, dict[str, str]]:
    """What each organization's results were made from, as digests: ``{org: {part: digest}}``.

    Parts: the organization's own answers, open answers, comments and profile, the shared
    files (instrument, playbook, peers, references), the options and the version of
    readiness. Two runs with the same parts give the same results (same input and seed,
    same output), so a batch can tell a finished organization whose inputs changed from
    one that is done. ``dated=False``: the options' date is left out (it was today's by
    default, not given).
    """
    made_from = Fingerprints(inputs, options, dated=dated)
    return {org: made_from[org] for org in orgs}


class Fingerprints(Mapping[str, dict[str, str]]):
    """:func:`fingerprints` of every organization of ``inputs``, each computed when asked.

    A batch streams its organizations: this holds no digest, and finds an organization's
    rows by position (they are contiguous in canonical order), so asking for every one
    of thousands takes time in proportion to the file.
    """

    def __init__(self, inputs: Inputs, options: Options | None, *, dated: bool = True) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("readiness")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
            release = "unknown"
        self._inputs = inputs
        options = options or Options()
        if not dated:  # today's date by default is no input: a batch resumed tomorrow is the same batch
            options = replace(options, date=None)
        self._shared = {
            **inputs.digests,
            "options": _digest(repr(options).encode()),
            "notes": _digest("\n".join(inputs.notes).encode()),
            "readiness": release,
        }
        responses = inputs.responses
        self._orgs = {org: i for i, org in enumerate(responses.org_ids)}
        self._bounds = np.searchsorted(responses.org_codes, np.arange(len(self._orgs) + 1))
        self._by_org: dict[str, str] | None = None

    def _comments(self, org: str) -> str:
        if self._by_org is None:  # grouped once, when first asked
            comments = self._inputs.responses.comment_frame()
            self._by_org = {
                str(o): group[["respondent_id", "topic", "text"]].to_json(orient="values")
                for o, group in comments.groupby("org_id", sort=False)
            }
        return self._by_org.get(org, "[]")

    def __getitem__(self, org: str) -> dict[str, str]:
        at = self._orgs[org]  # KeyError for an organization not in the file
        rows = slice(int(self._bounds[at]), int(self._bounds[at + 1]))
        responses = self._inputs.responses
        meta = responses.meta.iloc[rows]
        h = hashlib.blake2b(digest_size=16)
        for column in ("respondent_id", "role"):
            h.update("\x1f".join(meta[column].astype(str)).encode())
            h.update(b"\x1e")
        for array in (responses.values, responses.not_applicable, responses.dont_know):
            h.update(np.ascontiguousarray(array[rows]).tobytes())
        # open answers and comments reach the report ("What people said"): inputs too
        h.update("\x1f".join(map(str, responses.open_answers[rows].ravel().tolist())).encode())
        h.update(b"\x1e")
        h.update(self._comments(org).encode())
        profiles = self._inputs.profiles
        profile = ""
        if profiles is not None and org in profiles.index:
            profile = profiles.loc[org].to_json(default_handler=str)
        return {"answers": h.hexdigest(), "profile": _digest(profile.encode()), **self._shared}

    def __iter__(self) -> Iterator[str]:
        return iter(self._orgs)

    def __len__(self) -> int:
        return len(self._orgs)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_target(value: str | float | None, instrument: Instrument) -> float | dict[str, float] | None:
    """A roadmap target: ``None``/"" (the default rule: peers one stage ahead, else the next level),
    a level 0-100, or a target profile file."""
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


def resolve_date(value: str | None = None) -> str:
    """The assessment's date as ``YYYY-MM-DD``: ``value`` checked, else today.

    "Today" honours ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention), so a
    rebuilt report can carry the date of the original run.
    """
    import datetime as dt
    import os

    if value:
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise InputError(f"date {str(value)[:40]!r} is not a date like 2024-05-31", source="parameters") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


def make_options(
    *,
    seed: int = SEED,
    n_boot: int = N_BOOT,
    k: int = K,
    target: Any = None,
    capacity: Sequence[float] | None = None,
    role_min: int = ROLE_MIN,
    date: str | None = None,
    prepared_by: str = "",
) -> Options:
    """Options from user-facing values, checked; the date defaults to today."""
    prepared_by = " ".join(str(prepared_by or "").split())
    if len(prepared_by) > 200:
        raise InputError("prepared by is longer than 200 characters", source="parameters")
    if role_min < 1:
        raise InputError(f"role_min = {role_min} must be at least 1", source="parameters")
    if k < MIN_K:
        raise InputError(f"k = {k} is below {MIN_K}: smaller peer groups could expose a peer", source="parameters")
    if n_boot < 0:
        raise InputError("the number of bootstrap resamples cannot be negative", source="parameters")
    plan = PlanOptions() if not capacity else PlanOptions(capacity={i + 1: float(c) for i, c in enumerate(capacity)})
    return Options(
        seed=int(seed),
        n_boot=int(n_boot),
        k=int(k),
        target=target,
        plan=plan,
        role_min=int(role_min),
        date=resolve_date(date),
        prepared_by=prepared_by,
    )


def run(inputs: Inputs, *, orgs: Sequence[str] | None = None, options: Options | None = None) -> dict[str, dict]:
    """Assess the organizations (all by default).

    An id given in ``orgs`` is matched as the loaders match ids (normalized; see
    :mod:`readiness.core.ids`); an unknown one, or one differing only in case from the
    file's spelling, is an :class:`InputError`, and so is an organization with no answer
    to a whole dimension (its overall would come from the others alone).
    """
    from ..core.ids import normalize_id
    from ..core.responses import missing_dimensions

    known = set(inputs.responses.org_ids)
    source = inputs.responses.source or "responses"
    if orgs is not None:
        orgs = [normalize_id(str(o)) for o in orgs]
    for org in orgs or ():
        if org not in known:
            other = next((k for k in sorted(known) if k.casefold() == org.casefold()), None)
            hint = f"; the file writes it {other!r}" if other else ""
            raise InputError(
                f"organization {org!r} has no respondents in this file{hint}", column="org_id", source=source
            )
    empty = missing_dimensions(inputs.responses, orgs)
    if empty:
        raise InputError(problems=empty)
    docs = assess(
        inputs.responses,
        profiles=inputs.profiles,
        peers=inputs.peers,
        playbook=inputs.playbook,
        references=inputs.references,
        orgs=orgs,
        options=options,
    )
    for doc in docs.values():
        doc["warnings"].extend(inputs.notes)
    return docs


def run_chunks(
    inputs: Inputs, *, options: Options | None = None, chunk: int = 64, first: int = 8
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(org_id, document)`` for every organization, assessed ``chunk`` organizations at a time.

    The same documents as :func:`run` (an organization's scores, intervals and benchmark
    do not depend on the other organizations in the file), in the file's order, with one
    chunk's documents in memory at a time: what a batch of thousands needs. Each chunk
    is still one vectorized :func:`assess` call; the first is only ``first`` organizations
    long, so that the first reports can start early.
    """
    org_ids = list(inputs.responses.org_ids)
    bounds = [0, *range(min(first, chunk), len(org_ids), chunk), len(org_ids)]
    for start, end in zip(bounds, bounds[1:]):
        if start >= end:
            continue
        part = org_ids[start:end]
        docs = run(replace(inputs, responses=inputs.responses.select(part)), options=options)
        for org_id in part:
            yield org_id, docs.pop(org_id)


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
            write_roadmap_xlsx(
                stack.enter_context(atomic_path(roadmap[0])),
                doc["roadmap"],
                title=f"Roadmap: {doc['organization']['name']}",
                results=dict(doc),
            )
            write_roadmap_csv(stack.enter_context(atomic_path(roadmap[1])), doc["roadmap"], results=dict(doc))
    if not roadmap:
        for stale in (folder / "roadmap.xlsx", folder / "roadmap.csv"):
            stale.unlink(missing_ok=True)
    return [results, *roadmap]


# ---------------------------------------------------------------------- for the notebooks
def bundled_example() -> tuple[Path, Path]:
    """The bundled example center: its responses file and its profiles file."""
    return data_path("examples", "responses.csv"), data_path("examples", "profiles.csv")


def bundled_panel() -> tuple[Path, Path]:
    """The bundled synthetic peer panel: its responses file and its profiles file."""
    return data_path("peers", "panel.csv"), data_path("peers", "panel.profiles.csv")


def _peers_or_bundled(peers: str) -> str:
    if peers.strip().lower() == NO_PEERS:
        return ""
    return peers or str(bundled_panel()[0])


def _read_results(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("results file not found", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON ({exc.msg})", source=path.name, row=exc.lineno) from None
    if not isinstance(doc, dict):
        raise InputError("is not a results document (a JSON object)", source=path.name)
    return doc


def load_results(
    *,
    results_json: str = "",
    responses: str = "",
    profiles: str = "",
    org_id: str = "",
    peers: str = "",
    instrument: str = "",
    playbook: str = "",
    target: str = "",
    seed: int = SEED,
    n_boot: int = N_BOOT,
    k: int = K,
    role_min: int = ROLE_MIN,
    output_dir: str = "",
    prepared_by: str = "",
    assessment_date: str = "",
) -> dict[str, Any]:
    """The results document of one organization, as the report notebook shows it.

    With ``results_json`` (what ``assess`` and ``batch`` pass) the document is read as it
    was computed. Otherwise the inputs are read and assessed through the same pipeline
    as the CLI, and written to ``output_dir`` when one is given. Empty paths never depend
    on the working directory: no ``responses`` means the bundled example center (with
    its profiles), no ``peers`` the bundled synthetic panel, and ``peers="none"`` no peers.
    ``prepared_by`` and ``assessment_date`` go on the report's cover (the date defaults
    to today; with ``results_json``, to the date in the document).
    """
    if results_json:
        doc = _read_results(Path(results_json))
        if prepared_by or assessment_date:
            block = doc.setdefault("assessment", {})
            if prepared_by:
                block["prepared_by"] = " ".join(prepared_by.split())
            if assessment_date:
                block["date"] = resolve_date(assessment_date)
        return doc
    if not responses:
        example, example_profiles = bundled_example()
        responses, profiles = str(example), profiles or str(example_profiles)
    docs = _assess_files(
        lambda ids: [org_id] if org_id else ids[:1],
        responses=responses,
        profiles=profiles,
        peers=peers,
        instrument=instrument,
        playbook=playbook,
        target=target,
        seed=seed,
        n_boot=n_boot,
        k=k,
        role_min=role_min,
        date=assessment_date or None,
        prepared_by=prepared_by,
    )
    doc = next(iter(docs.values()))
    if output_dir:
        write_outputs(output_dir, doc)
    return doc


def load_portfolio(
    *,
    results_dir: str = "",
    history: str = "",
    responses: str = "",
    profiles: str = "",
    peers: str = "",
    instrument: str = "",
    playbook: str = "",
    target: str = "",
    limit: int = 0,
    seed: int = SEED,
    n_boot: int = PORTFOLIO_N_BOOT,
    k: int = K,
    role_min: int = ROLE_MIN,
) -> list[dict[str, Any]]:
    """Results documents of many organizations, for the portfolio notebook.

    From ``results_dir`` (every ``*/results.json`` below it, as ``batch`` writes them, in
    folder order), or from an assessment ``history`` (each organization's latest wave),
    or by assessing every organization in ``responses`` (the first ``limit`` when
    ``limit`` > 0) through the same pipeline as the CLI. No ``responses`` means the
    bundled synthetic panel (with its profiles); ``peers`` as in :func:`load_results`.
    """
    if results_dir:
        folder = Path(results_dir)
        if not folder.is_dir():
            raise InputError("results folder not found", source=str(folder))
        found = [_read_results(path) for path in sorted(folder.glob("*/results.json"))]
        if not found:
            raise InputError("holds no */results.json", source=str(folder))
        return found[:limit] if limit > 0 else found
    if history:
        from .history_store import HistoryStore

        latest = HistoryStore(history).latest_results()
        if not latest:
            raise InputError("holds no recorded wave", source=Path(history).name)
        return latest[:limit] if limit > 0 else latest
    if not responses:
        panel, panel_profiles = bundled_panel()
        responses, profiles = str(panel), profiles or str(panel_profiles)
    docs = _assess_files(
        lambda ids: ids[:limit] if limit > 0 else ids,
        responses=responses,
        profiles=profiles,
        peers=peers,
        instrument=instrument,
        playbook=playbook,
        target=target,
        seed=seed,
        n_boot=n_boot,
        k=k,
        role_min=role_min,
    )
    return list(docs.values())


def _assess_files(
    select: Callable[[list[str]], list[str]],
    *,
    responses: str,
    profiles: str,
    peers: str,
    instrument: str,
    playbook: str,
    target: str,
    seed: int,
    n_boot: int,
    k: int,
    role_min: int,
    date: str | None = None,
    prepared_by: str = "",
) -> dict[str, dict]:
    """Read the inputs, assess the organizations ``select`` picks from the file's, in its order."""
    inputs = load_inputs(
        responses, instrument=instrument, profiles=profiles, peers=_peers_or_bundled(peers), playbook=playbook
    )
    options = make_options(
        seed=seed,
        n_boot=n_boot,
        k=k,
        role_min=role_min,
        target=parse_target(target, inputs.instrument),
        date=date,
        prepared_by=prepared_by,
    )
    return run(inputs, orgs=select(list(inputs.responses.org_ids)), options=options)
