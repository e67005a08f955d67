"""Re-assessment at the edge: record assessments in the history, compare two waves, read the filled-in roadmap.

IO layer. The command line (``assess|batch --history``, ``history add``, ``compare``),
the progress notebook and the portfolio notebook come through here: files and the
history store are read and checked, then :mod:`readiness.core.change` measures the
change and builds the ``compare`` document (``docs/reassessment.md``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.change import (
    DONE,
    SCHEMA_VERSION,
    Wave,
    action_progress,
    compare,
    comparison_document,
    next_roadmap,
    waves_from_responses,
)
from ..core.defaults import N_BOOT, PORTFOLIO_N_BOOT, SEED
from ..core.errors import InputError
from ..core.instrument import Instrument
from ..core.roadmap import Playbook
from .history_store import HistoryStore, RecordSummary, check_date, wave_label
from .resources import data_path

__all__ = [
    "EXAMPLE_WAVES",
    "add_results",
    "compare_waves",
    "load_comparison",
    "load_history",
    "record_assessment",
    "results_date",
    "today",
    "write_progress_outputs",
]

#: The bundled example center's two waves (label, date, responses file under data/examples/waves).
EXAMPLE_WAVES = (
    ("2024-05", "2024-05-14", "northbank-2024-05.csv"),
    ("2024-11", "2024-11-19", "northbank-2024-11.csv"),
)


def today() -> str:
    """Today's date, ``YYYY-MM-DD``: the date of an assessment run now."""
    return date.today().isoformat()


def results_date(doc: Mapping[str, Any]) -> str | None:
    """The assessment date a results document carries, if it carries one (``YYYY-MM-DD``)."""
    for value in (
        doc.get("date"),
        (doc.get("assessment") or {}).get("date") if isinstance(doc.get("assessment"), Mapping) else None,
    ):
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------------- recording
def record_assessment(
    history: str | Path,
    responses: Any,
    docs: Mapping[str, Mapping[str, Any]],
    *,
    wave: str | None = None,
    when: str | None = None,
    source: str = "",
) -> tuple[str, RecordSummary]:
    """Record freshly assessed organizations (``assess`` / ``batch --history``) in one transaction.

    Parameters
    ----------
    history : path
        The history file (created when missing).
    responses : Responses
        The answers the documents were computed from (their respondents' facet scores are kept).
    docs : dict
        org id -> results document.
    wave : str, optional
        The wave's label; default the assessment's month, ``YYYY-MM``.
    when : str, optional
        The assessment date; default the date in the documents, else today.

    Returns
    -------
    (label, RecordSummary)
    """
    first = next(iter(docs.values()), {})
    day = check_date(when) if when else (results_date(first) or today())
    label = wave_label(wave, day)
    waves = waves_from_responses(responses, docs, label=label, date=day)
    return label, HistoryStore(history).record(waves, source=source)


def _results_files(target: str | Path) -> list[Path]:
    path = Path(target)
    if path.is_file():
        return [path]
    if path.is_dir():
        if (path / "results.json").is_file():
            return [path / "results.json"]
        found = sorted(path.glob("*/results.json"))
        if found:
            return found
        raise InputError("holds no results.json (nor */results.json)", source=str(path))
    raise InputError("results file or folder not found", source=str(path))


def _check_results(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InputError("is not a results document (a JSON object)", source=source)
    if doc.get("schema_version") != 1:
        raise InputError(
            f"is not a results document of schema_version 1 (found {doc.get('schema_version')!r})", source=source
        )
    org = doc.get("organization")
    if not isinstance(org, dict) or not isinstance(org.get("id"), str) or not org["id"]:
        raise InputError("has no organization id", source=source, key="organization.id")
    inst = doc.get("instrument")
    if not isinstance(inst, dict) or not inst.get("id") or inst.get("version") is None:
        raise InputError("does not name its instrument", source=source, key="instrument")
    for key in ("overall", "facets", "dimensions", "respondents"):
        if not isinstance(doc.get(key), dict):
            raise InputError(f"has no {key} block", source=source, key=key)
    return doc


def add_results(
    history: str | Path,
    target: str | Path,
    *,
    wave: str | None = None,
    when: str | None = None,
    responses: str | Path | None = None,
    instrument: str | Path | None = None,
) -> tuple[list[Wave], RecordSummary]:
    """Record existing assessments (``history add``): a results.json, its folder, or a batch folder.

    With ``responses`` (the answers they were assessed from) the respondents' facet scores
    are recomputed and kept, after checking that they give the document's facet scores;
    without, the wave is kept with its published scores only and later comparisons with
    it get approximate intervals.

    Raises
    ------
    InputError
        A file that is not a results document, an instrument that is not the one the
        results were scored with, or responses that do not reproduce the results.
    """
    from ..core.scoring import score
    from .loaders import load_instrument, load_responses
    from .pipeline import _read_results

    paths = _results_files(target)
    docs = [(_check_results(_read_results(p), p.name), p) for p in paths]
    inst = load_instrument(str(instrument) if instrument else None)
    for doc, path in docs:
        want = (str(doc["instrument"]["id"]), str(doc["instrument"]["version"]))
        if want != (inst.id, inst.version):
            raise InputError(
                f"was scored with instrument {want[0]} version {want[1]}, not {inst.id} version {inst.version}; "
                "give that instrument with --instrument",
                source=path.name,
                key="instrument",
            )
    parsed = load_responses(str(responses), inst) if responses else None
    waves: list[Wave] = []
    seen: dict[str, Path] = {}
    for doc, path in docs:
        org_id = doc["organization"]["id"]
        if org_id in seen:
            raise InputError(f"organization {org_id!r} is also in {seen[org_id]}", source=str(path))
        seen[org_id] = path
        day = check_date(when) if when else (results_date(doc) or _modified(path))
        label = wave_label(wave, day)
        if parsed is None:
            waves.append(Wave(org_id, label, day, doc, inst))
            continue
        if org_id not in parsed.org_ids:
            raise InputError(
                f"organization {org_id!r} has no respondents in this file", source=Path(str(responses)).name
            )
        own = parsed.select([org_id])
        check = score(own, n_boot=0).facets.set_index("facet")["score"]
        for facet, block in doc["facets"].items():
            stored, again = block.get("score"), check.get(facet)
            same = (stored is None and pd.isna(again)) or (
                stored is not None and not pd.isna(again) and abs(float(stored) - float(again)) < 0.01
            )
            if not same:
                raise InputError(
                    f"these responses do not give the scores of {path.name} (facet {facet}: "
                    f"{_shown(again)} here, {_shown(stored)} there); give the file it was assessed from",
                    source=Path(str(responses)).name,
                )
        waves.extend(waves_from_responses(own, {org_id: doc}, label=label, date=day))
    summary = HistoryStore(history).record(waves, source=", ".join(sorted({p.name for _, p in docs}))[:200])
    return waves, summary


def _shown(value: Any) -> str:
    return "none" if value is None or pd.isna(value) else f"{float(value):.1f}"


def _modified(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).date().isoformat()


# ---------------------------------------------------------------------- comparing
def _pick_waves(
    store: HistoryStore, org_id: str, from_wave: str | None, to_wave: str | None
) -> tuple[str, str, list[str]]:
    frame = store.waves(org_id)
    name = store.path.name
    if frame.empty:
        orgs = store.waves()["org_id"].drop_duplicates().tolist()
        known = f"; organizations in it: {', '.join(orgs[:8])}{' ...' if len(orgs) > 8 else ''}" if orgs else ""
        raise InputError(f"organization {org_id!r} has no wave in this history{known}", source=name, column="org_id")
    labels = list(frame["wave"])
    for given in (from_wave, to_wave):
        if given and given not in labels:
            raise InputError(
                f"organization {org_id!r} has no wave {given!r}; its waves: {', '.join(labels)}", source=name
            )
    if len(labels) < 2 and not (from_wave and to_wave):
        raise InputError(
            f"organization {org_id!r} has one wave only ({labels[0]}); record another with "
            "'assess --history' or 'history add' before comparing",
            source=name,
        )
    later = to_wave or labels[-1]
    if from_wave:
        earlier = from_wave
    else:
        before = [w for w in labels[: labels.index(later)]]
        if not before:
            raise InputError(f"wave {later!r} is the first wave of {org_id!r}: there is nothing before it", source=name)
        earlier = before[-1]
    if earlier == later:
        raise InputError(f"--from and --to are the same wave ({earlier!r})", source="command line")
    warnings = []
    if labels.index(earlier) > labels.index(later):
        warnings.append(f"wave {earlier} was recorded as later than wave {later}: the change runs backwards in time")
    return earlier, later, warnings


def _load_playbook(instrument: Instrument, playbook: str | Path | None) -> tuple[Playbook | None, str | None]:
    from .loaders import load_playbook

    if playbook:
        return load_playbook(instrument, str(playbook)), None
    try:
        return load_playbook(instrument), None
    except InputError:
        return (
            None,
            "no next roadmap: the bundled playbook does not fit the later wave's instrument; give one with --playbook",
        )


def _document(
    earlier: Wave,
    later: Wave,
    *,
    statuses: Mapping[str, Mapping[str, Any]] | None,
    roadmap_name: str | None,
    playbook: Playbook | None,
    playbook_note: str | None,
    n_boot: int,
    seed: int,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    change = compare(earlier, later, n_boot=n_boot, seed=seed)
    notes = list(warnings)
    if statuses is not None:
        planned = [a["action"] for a in earlier.results.get("roadmap") or []]
        listed = set(statuses)
        if not planned:
            raise InputError(
                f"wave {earlier.label} has no roadmap to hold this workbook against", source=roadmap_name or "roadmap"
            )
        if not listed & set(planned):
            raise InputError(
                f"none of its actions is in the roadmap of wave {earlier.label} of {earlier.org_id}; was it written "
                "for another wave or organization?",
                source=roadmap_name or "roadmap",
            )
        titles = {a["action"]: a.get("title") or a["action"] for a in earlier.results.get("roadmap") or []}
        extra = sorted(listed - set(planned))
        if extra:
            notes.append(
                f"the roadmap workbook lists {len(extra)} action(s) that are not in the roadmap of wave "
                f"{earlier.label}, left out (action ids {', '.join(extra[:10])})"
            )
        missing = [a for a in planned if a not in listed]
        if missing:
            notes.append(
                f"{len(missing)} action(s) of the roadmap of wave {earlier.label} are not in the workbook and count "
                f"as not started: {'; '.join(titles[a] for a in missing[:10])}"
            )
    actions = action_progress(earlier, change, statuses)
    done = {a for a, v in (statuses or {}).items() if v.get("status") == DONE}
    plan_items: list[dict[str, Any]] = []
    if playbook is not None:
        plan_items, note = next_roadmap(later, playbook, done, earlier=earlier)
        if note:
            notes.append(note)
    elif playbook_note:
        notes.append(playbook_note)
    return comparison_document(
        earlier, later, change, actions, next_plan=plan_items, warnings=notes, roadmap_source=roadmap_name
    )


def compare_waves(
    history: str | Path,
    org_id: str,
    *,
    from_wave: str | None = None,
    to_wave: str | None = None,
    roadmap: str | Path | None = None,
    playbook: str | Path | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> dict[str, Any]:
    """The ``compare`` document of two waves of one organization in the history.

    Parameters
    ----------
    history : path
        The history file.
    org_id : str
    from_wave, to_wave : str, optional
        Default: the last two waves (by date, then label); with ``to_wave`` only, the
        wave before it.
    roadmap : path, optional
        The earlier wave's roadmap workbook as the client filled it in (its Status column).
    playbook : path, optional
        The action playbook for the next roadmap (default: the bundled one).
    n_boot, seed : int
        Bootstrap resamples of each wave and the base seed.

    Raises
    ------
    InputError
        An unknown organization or wave, fewer than two waves, or a workbook that does
        not belong to the earlier wave's roadmap.
    StoreError
        The history cannot be used.
    """
    from .workbook import read_roadmap_progress

    if n_boot < 0:
        raise InputError("the number of bootstrap resamples cannot be negative", source="parameters")
    store = HistoryStore(history)
    earlier_label, later_label, warnings = _pick_waves(store, org_id, from_wave, to_wave)
    statuses = read_roadmap_progress(roadmap) if roadmap else None
    earlier, later = store.load(org_id, earlier_label), store.load(org_id, later_label)
    book, note = _load_playbook(later.instrument, playbook)
    return _document(
        earlier,
        later,
        statuses=statuses,
        roadmap_name=Path(str(roadmap)).name if roadmap else None,
        playbook=book,
        playbook_note=note,
        n_boot=n_boot,
        seed=seed,
        warnings=warnings,
    )


def _example_waves(n_boot: int, seed: int) -> tuple[Wave, Wave]:
    """The bundled example center's two waves, assessed now against the bundled panel."""
    from .loaders import load_responses
    from .pipeline import bundled_panel, load_inputs, make_options, run

    profiles = data_path("examples", "profiles.csv")
    files = [data_path("examples", "waves", name) for _, _, name in EXAMPLE_WAVES]
    first = load_inputs(str(files[0]), profiles=str(profiles), peers=str(bundled_panel()[0]))
    options = make_options(seed=seed, n_boot=n_boot)
    waves = []
    for (label, day, _), path in zip(EXAMPLE_WAVES, files):
        inputs = first if path == files[0] else replace(first, responses=load_responses(str(path), first.instrument))
        docs = run(inputs, options=options)
        waves.extend(waves_from_responses(inputs.responses, docs, label=label, date=day))
    return waves[0], waves[1]


def load_comparison(
    *,
    compare_json: str = "",
    history: str = "",
    org_id: str = "",
    from_wave: str = "",
    to_wave: str = "",
    roadmap: str = "",
    playbook: str = "",
    seed: int = SEED,
    n_boot: int = N_BOOT,
) -> dict[str, Any]:
    """The ``compare`` document the progress notebook shows.

    With ``compare_json`` (what ``compare --out`` passes) the document is read as it was
    computed. With ``history`` it is computed from the history as ``readiness compare``
    does (``org_id`` required). With neither, the bundled example center's two waves
    are assessed against the bundled synthetic panel and compared, whatever the folder.
    """
    if compare_json:
        path = Path(compare_json)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("comparison file not found", source=str(path)) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"is not valid JSON ({exc.msg})", source=path.name, row=exc.lineno) from None
        if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION or "changes" not in doc:
            raise InputError(f"is not a comparison document (schema_version {SCHEMA_VERSION})", source=path.name)
        return doc
    if history:
        if not org_id:
            raise InputError("give the organization to compare (org_id)", source="parameters", column="org_id")
        return compare_waves(
            history,
            org_id,
            from_wave=from_wave or None,
            to_wave=to_wave or None,
            roadmap=roadmap or None,
            playbook=playbook or None,
            n_boot=n_boot,
            seed=seed,
        )
    from .workbook import read_roadmap_progress

    earlier, later = _example_waves(n_boot, seed)
    book, note = _load_playbook(later.instrument, playbook or None)
    return _document(
        earlier,
        later,
        statuses=read_roadmap_progress(roadmap) if roadmap else None,
        roadmap_name=Path(roadmap).name if roadmap else None,
        playbook=book,
        playbook_note=note,
        n_boot=n_boot,
        seed=seed,
    )


def load_history(
    history: str = "", org_id: str = "", *, n_boot: int = PORTFOLIO_N_BOOT, seed: int = SEED
) -> pd.DataFrame:
    """The waves recorded in a history file, each with its overall change since the center's previous wave.

    Returns
    -------
    DataFrame
        :data:`~readiness.io.history_store.WAVE_COLUMNS` (one row per wave, by
        organization then date), then ``change, change_low, change_high, change_real``:
        the overall score's change from the previous wave of the same center with its
        95% interval (``n_boot`` resamples of each wave), NaN (and False) on a center's
        first wave. Empty ``history``: an empty frame with these columns.
    """
    from .history_store import WAVE_COLUMNS

    columns = [*WAVE_COLUMNS, "change", "change_low", "change_high", "change_real"]
    if not history:
        return pd.DataFrame(columns=columns)
    store = HistoryStore(history)
    frame = store.waves(org_id or None)
    keys = list(zip(frame["org_id"], frame["wave"]))
    waves = dict(zip(keys, store.load_many(keys))) if keys else {}
    change, low, high, real = [], [], [], []
    previous: tuple[str, str] | None = None
    for key in keys:
        row = None
        if previous is not None and previous[0] == key[0]:
            row = compare(waves[previous], waves[key], n_boot=n_boot, seed=seed).row("overall", "overall")
        change.append(float("nan") if row is None else row["delta"])
        low.append(float("nan") if row is None else row["ci_low"])
        high.append(float("nan") if row is None else row["ci_high"])
        real.append(bool(row["real"]) if row is not None else False)
        previous = key
    return frame.assign(change=change, change_low=low, change_high=high, change_real=real)[columns]


def write_progress_outputs(folder: str | Path, doc: Mapping[str, Any]) -> list[Path]:
    """``compare.json``, and ``roadmap-next.xlsx`` / ``.csv`` when there is a next roadmap, written together.

    As :func:`readiness.io.pipeline.write_outputs`: every file is complete before any is
    renamed into place, ``compare.json`` last; next-roadmap files of an earlier run are
    removed when this document has none.
    """
    from contextlib import ExitStack

    from .exporters import atomic_path, write_json, write_roadmap_csv, write_roadmap_xlsx

    folder = Path(folder)
    plan = list(doc.get("next_roadmap") or [])
    files = [folder / "roadmap-next.xlsx", folder / "roadmap-next.csv"]
    name = (doc.get("organization") or {}).get("name") or (doc.get("organization") or {}).get("id")
    with ExitStack() as stack:
        write_json(stack.enter_context(atomic_path(folder / "compare.json")), doc)
        if plan:
            write_roadmap_xlsx(stack.enter_context(atomic_path(files[0])), plan, title=f"Next roadmap: {name}")
            write_roadmap_csv(stack.enter_context(atomic_path(files[1])), plan)
    if not plan:
        for stale in files:
            stale.unlink(missing_ok=True)
    return [folder / "compare.json", *(files if plan else [])]
