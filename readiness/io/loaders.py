"""Reading and validating inputs: instruments, responses and organization profiles.

The io layer: everything read from disk is checked here and turned into the core's
types, or into an :class:`~readiness.core.errors.InputError` whose problems each name
the file, the row and the column. After this module, code trusts its inputs.

Files are read as tables of text by :mod:`readiness.io.tables` (CSV, XLSX, JSON,
Parquet, within :class:`~readiness.io.tables.Limits`). Here the cells are read as ids
(:mod:`readiness.core.ids`: normalized, checked, compared without regard to case),
roles and answers (:mod:`readiness.core.answers`), and the answers become
:class:`~readiness.core.responses.Responses` through the one constructor,
:func:`~readiness.core.responses.build_responses`. A column that is no item of the
instrument is an error (naming the closest item) unless ``ignore_columns`` is given.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from ..core.answers import OPEN_TEXT_MAX, AnswerReader, normalize_label, numeral_value, quote_value
from ..core.errors import MAX_PROBLEMS, InputError, Problem
from ..core.ids import case_clashes, id_problem, normalize_id
from ..core.instrument import META_COLUMNS, Instrument
from ..core.levels import Level
from ..core.profile import INDUSTRIES, INDUSTRY_SYNONYMS, KPIS, RATE_KPIS, SIZE_BANDS, STAGES, size_band
from ..core.responses import COMMENT_PREFIX, Responses, build_responses, canonical_order, missing_dimensions
from .resources import DEFAULT_INSTRUMENT_NAME, DEFAULT_PLAYBOOK_NAME, template_path
from .tables import Limits, Table, cell_text, column_codes, read_bytes, read_table

if TYPE_CHECKING:  # for the annotation only: the roadmap module is imported when a playbook is loaded
    from ..core.roadmap import Playbook

__all__ = [
    "DEFAULT_INSTRUMENT",
    "DEFAULT_LEVELS",
    "DEFAULT_PLAYBOOK",
    "DEFAULT_REFERENCES",
    "INDUSTRIES",
    "KPIS",
    "SIZE_BANDS",
    "STAGES",
    "Limits",
    "Table",
    "check_profiles_match",
    "instrument_path",
    "load_instrument",
    "load_levels",
    "load_playbook",
    "load_profiles",
    "load_references",
    "load_responses",
    "load_responses_isolating",
    "load_targets",
    "parse_profiles",
    "parse_responses",
    "parse_responses_isolating",
    "read_table",
    "size_band",
    "validate_files",
]

#: The bundled question set, action playbook and published reference figures.
DEFAULT_INSTRUMENT = template_path("instruments", DEFAULT_INSTRUMENT_NAME)
DEFAULT_PLAYBOOK = template_path("playbooks", DEFAULT_PLAYBOOK_NAME)
DEFAULT_REFERENCES = template_path("references", "published-figures.yaml")
#: The readiness levels (names, bounds, descriptions) an instrument gets when it has none.
DEFAULT_LEVELS = template_path("levels.yaml")

_MAX_CELL = 10_000
#: Control characters a free-text answer may not keep (line breaks and tabs it may).
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Columns a profiles file must hold to be found below a title, or in a workbook's sheets.
PROFILE_HEADER = ("org_id",)
#: Sheet names read when several sheets of a workbook hold the header.
RESPONSES_SHEETS = ("responses", "answers")
PROFILES_SHEETS = ("profiles",)

# Kept under their old names for callers of this module.
_cell_text = cell_text
_read_bytes = read_bytes


# ---------------------------------------------------------------------- instruments
def load_instrument(path: str | Path | None = None) -> Instrument:
    """Load and validate an instrument YAML (the bundled one by default).

    ``path`` is a file, or the name of a bundled instrument (``service-to-sales``, the
    current version; ``service-to-sales-v1``, the first), which is how answers collected
    with an earlier version are scored. A file of that name in the working folder wins.
    An instrument without a ``levels:`` block of its own gets the bundled readiness
    levels (``templates/levels.yaml``, :func:`load_levels`).
    """
    path = instrument_path(path)
    spec = _read_yaml(path)
    if isinstance(spec, dict) and "levels" not in spec:
        spec = {**spec, "levels": _levels_spec(DEFAULT_LEVELS)}
    return Instrument.from_dict(spec, source=path.name)


def load_levels(path: str | Path | None = None) -> tuple[Level, ...]:
    """The readiness levels of a levels file (the bundled ``templates/levels.yaml`` by default)."""
    from pydantic import ValidationError

    from ..core.levels import check_levels

    path = Path(path) if path is not None else DEFAULT_LEVELS
    try:
        levels = tuple(Level.model_validate(entry) for entry in _levels_spec(path))
    except ValidationError as exc:
        raise InputError(f"a level is invalid ({exc.errors()[0]['msg']})", source=path.name, key="levels") from None
    problems = check_levels(levels)
    if problems:
        raise InputError(problems[0], source=path.name, key="levels")
    return levels


def _levels_spec(path: Path) -> list[Any]:
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("levels"), list) or not doc["levels"]:
        raise InputError("expected a mapping with a non-empty 'levels' list", source=path.name)
    return list(doc["levels"])


def instrument_path(value: str | Path | None = None) -> Path:
    """The file ``--instrument`` means: a path, or a bundled instrument's name (without .yaml)."""
    if value is None or value == "":
        return DEFAULT_INSTRUMENT
    path = Path(value)
    if not path.exists() and len(path.parts) == 1:
        for candidate in (template_path("instruments", f"{path.name}.yaml"), template_path("instruments", path.name)):
            if path.suffix in ("", ".yaml") and candidate.is_file():
                return candidate
    return path


def load_playbook(instrument: Instrument, path: str | Path | None = None) -> Playbook:
    """Load an action playbook (the bundled one by default), validated against ``instrument``."""
    from ..core.roadmap import Playbook

    path = Path(path) if path is not None else DEFAULT_PLAYBOOK
    return Playbook.from_dict(_read_yaml(path), instrument=instrument, source=path.name)


def load_references(path: str | Path | None = None) -> dict[str, Any]:
    """Published reference figures, each with its source's short reference for people.

    Returns ``{"kpis": {kpi: [{text, source, reference, ...}]}, "context": [...],
    "agents": {"unwilling_or_unable": {...}}, "sources": {file name: reference}}``:
    ``source`` is the article's file name (kept in the data), ``reference`` its
    publication, year and title (:func:`readiness.io.citations.citation`), and
    ``sources`` the table of every known article, for actions and items that cite one.
    """
    from .citations import citation, load_sources

    path = Path(path) if path is not None else DEFAULT_REFERENCES
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis", {}), dict):
        raise InputError("expected a mapping with a 'kpis' mapping", source=path.name)
    for kpi, figures in doc.get("kpis", {}).items():
        if kpi not in KPIS:
            raise InputError(f"unknown KPI {kpi!r}", source=path.name, key=f"kpis.{kpi}")
        for n, fig in enumerate(figures or []):
            if not isinstance(fig, dict) or not fig.get("text") or not fig.get("source"):
                raise InputError("each figure needs text and source", source=path.name, key=f"kpis.{kpi}[{n}]")
    agents = doc.get("agents") or {}
    if not isinstance(agents, dict) or not all(
        isinstance(f, dict) and f.get("text") and f.get("source") for f in agents.values()
    ):
        raise InputError("each figure under 'agents' needs text and source", source=path.name, key="agents")

    def cited(fig: dict[str, Any]) -> dict[str, Any]:
        return {**fig, "reference": citation(fig.get("source"))}

    return {
        "kpis": {kpi: [cited(f) for f in figures or []] for kpi, figures in doc.get("kpis", {}).items()},
        "context": [cited(f) for f in doc.get("context", []) or []],
        "agents": {name: cited(f) for name, f in agents.items()},
        "sources": {name: source.reference for name, source in load_sources().items()},
    }


def load_targets(path: str | Path, instrument: Instrument) -> dict[str, float]:
    """A target profile: facet id -> target score (0-100), from CSV/XLSX/JSON (columns facet, target)
    or YAML (a mapping). Facets not listed get no target."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        doc = _read_yaml(path)
        if not isinstance(doc, dict):
            raise InputError("a target profile must map facet ids to scores", source=path.name)
        pairs: list[tuple[str, Any, int | None]] = [(str(k), v, None) for k, v in doc.items()]
    else:
        table = read_table(path, header=("facet", "target"))
        cols = {c.lower(): c for c in table.columns}
        if "facet" not in cols or "target" not in cols:
            raise InputError("a target profile needs columns facet and target", source=table.source, row=1)
        pairs = [
            (str(f).strip(), t, int(r))
            for f, t, r in zip(table.cells[cols["facet"]], table.cells[cols["target"]], table.rows)
        ]
    out: dict[str, float] = {}
    for facet, value, row in pairs:
        # A file names the row and column; a YAML mapping names the key.
        where: dict[str, Any] = {
            "source": path.name,
            "row": row,
            "column": "facet" if row else None,
            "key": None if row else facet[:60],
        }
        if facet not in instrument.facets:
            raise InputError(f"unknown facet {facet[:60]!r}", **where)
        where["column"] = "target" if row else None
        try:
            target = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"target {str(value)[:40]!r} is not a number", **where) from None
        if not 0 <= target <= 100:
            raise InputError(f"target {target:g} is outside 0..100", **where)
        out[facet] = target
    return out


def _read_yaml(path: Path) -> Any:
    data = read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x})", source=path.name, row=line) from None
    if not text.strip():
        raise InputError("file is empty", source=path.name)
    try:
        doc = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"is not valid YAML ({getattr(exc, 'problem', None) or exc})",
            source=path.name,
            row=mark.line + 1 if mark else None,
        ) from None
    except RecursionError:
        raise InputError("is not valid YAML (nested too deeply)", source=path.name) from None
    _check_size(doc, path.name)
    return doc


#: libyaml's safe loader when PyYAML was built with it (several times faster), else PyYAML's own.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Most values (keys, list entries, scalars) a YAML document may expand to. Anchors and
#: aliases let a few lines stand for billions of values ("billion laughs"); the bundled
#: instrument holds a few thousand.
_MAX_YAML_NODES = 200_000


def _check_size(doc: Any, source: str) -> None:
    """Refuse a document that expands (through aliases) to more than ``_MAX_YAML_NODES`` values."""
    budget = _MAX_YAML_NODES
    stack = [doc]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise InputError(
                f"is too large: it expands to more than {_MAX_YAML_NODES} values "
                "(anchors and aliases repeating one another?)",
                source=source,
            )
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, set)):
            stack.extend(node)


# ---------------------------------------------------------------------- responses
def load_responses(
    path: str | Path,
    instrument: Instrument,
    *,
    sheet: str | None = None,
    ignore_columns: bool = False,
    limits: Limits | None = None,
) -> Responses:
    """Read and validate a responses file in the canonical wide form.

    ``ignore_columns``: columns that are no item of the instrument are left out with a
    warning, instead of being an error.
    """
    table = read_table(path, sheet=sheet, header=META_COLUMNS, limits=limits, prefer=RESPONSES_SHEETS)
    return parse_responses(table, instrument, ignore_columns=ignore_columns)


def load_responses_isolating(
    path: str | Path,
    instrument: Instrument,
    *,
    sheet: str | None = None,
    ignore_columns: bool = False,
    limits: Limits | None = None,
) -> tuple[Responses, dict[str, str]]:
    """Like :func:`load_responses`, but an organization whose own rows are bad is set aside.

    For batches: an error that belongs to rows of one organization (a bad answer, role or
    id, a duplicate respondent) takes that organization out, with the first such error as
    its reason, and the others load. Ids that differ only by case take out every
    spelling. Returns the responses and ``{org_id: reason}``. Errors that belong to no
    organization (an unreadable file, a missing or unknown column, an empty org id) or
    that leave no organization standing raise :class:`InputError` as usual.
    """
    table = read_table(path, sheet=sheet, header=META_COLUMNS, limits=limits, prefer=RESPONSES_SHEETS)
    return parse_responses_isolating(table, instrument, ignore_columns=ignore_columns)


def parse_responses_isolating(
    table: Table, instrument: Instrument, *, ignore_columns: bool = False
) -> tuple[Responses, dict[str, str]]:
    """:func:`load_responses_isolating` of a :class:`Table` already read (a converted survey export)."""
    rejected: dict[str, str] = {}
    first_errors: list[Problem] | None = None
    while True:
        problems, responses = _check_responses(table, instrument, ignore_columns=ignore_columns)
        errors = [p for p in problems if p.severity == "error"]
        if not errors:
            assert responses is not None
            return responses, rejected
        first_errors = first_errors or errors
        org_column = next((c for c in table.columns if c.casefold() == "org_id"), None)
        if org_column is None or any(p.row is None or p.row <= table.header_row for p in errors):
            raise InputError(problems=first_errors)
        org = _ids(table.cells[org_column])
        org_of_row = dict(zip(table.rows.tolist(), org.tolist()))
        bad: dict[str, str] = {}
        for p in errors:
            name = org_of_row.get(p.row, "")
            if not name:
                raise InputError(problems=first_errors)
            bad.setdefault(name.casefold(), str(p))
        folded = pd.Series(org).str.casefold()
        for name, fold in zip(org.tolist(), folded.tolist()):
            if fold in bad:
                rejected.setdefault(name, bad[fold])
        keep = ~folded.isin(list(bad)).to_numpy()
        if not keep.any():
            raise InputError(problems=first_errors)
        table = Table(
            table.source,
            table.columns,
            table.cells[keep].reset_index(drop=True),
            table.rows[keep],
            table.header_row,
            table.notes,
        )


def parse_responses(table: Table, instrument: Instrument, *, ignore_columns: bool = False) -> Responses:
    """Validate a :class:`Table` of answers; collect every problem (up to a cap)."""
    problems, responses = _check_responses(table, instrument, ignore_columns=ignore_columns)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems=errors)
    assert responses is not None
    return responses


def _check_responses(
    table: Table, instrument: Instrument, *, ignore_columns: bool = False
) -> tuple[list[Problem], Responses | None]:
    problems, responses = _collect_response_problems(table, instrument, ignore_columns)
    position = {c: i for i, c in enumerate(table.columns)}
    problems.sort(key=lambda p: (p.severity != "error", p.row or 0, position.get(p.column or "", -1)))
    return problems, responses


def _ids(series: pd.Series) -> np.ndarray:
    """A column of ids, normalized (:func:`readiness.core.ids.normalize_id`), one per row."""
    codes, uniques = column_codes(series)
    return np.array([normalize_id(u) for u in uniques], dtype=object)[codes]


def unknown_columns_problem(
    source: str, columns: Sequence[str], instrument: Instrument, header_row: int, *, ignored: bool
) -> Problem:
    """One problem naming the columns that are no item of the instrument, with the closest items."""
    layout = instrument.layout
    several = len(columns) > 1
    names = ", ".join(repr(c) for c in columns[:8]) + (f" and {len(columns) - 8} more" if len(columns) > 8 else "")
    guesses = [g for g in (closest_item(c, instrument) for c in columns[:8]) if g]
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    what = f"column{'s' if several else ''} {names} {'are' if several else 'is'} no item{'s' if several else ''}"
    if ignored:
        return Problem(
            source,
            f"{what} of instrument {instrument.id!r}{hint}; left out (--ignore-columns)",
            row=header_row,
            column=columns[0],
            severity="warning",
        )
    return Problem(
        source,
        f"{what} of instrument {instrument.id!r}{hint}; items are {layout.item_ids[0]} to {layout.item_ids[-1]} "
        f"(readiness instrument lists them): rename {'them' if several else 'it'}, or give --ignore-columns to "
        f"read the file without {'them' if several else 'it'}",
        row=header_row,
        column=columns[0],
    )


def closest_item(column: str, instrument: Instrument) -> str | None:
    """The item id a misnamed column most likely means: by its spelling, or by the item's text.

    >>> closest_item("peo-hir-1", inst)                       # doctest: +SKIP
    'PEO_HIR_1'
    """
    ids = list(instrument.layout.item_ids)
    folded = {re.sub(r"[^0-9a-z]+", "_", i.casefold()): i for i in ids}
    key = re.sub(r"[^0-9a-z]+", "_", normalize_label(column)).strip("_")
    if key in folded:
        return folded[key]
    texts = {normalize_label(instrument.items[i].text): i for i in ids}
    text = normalize_label(column)
    if text in texts:
        return texts[text]
    near = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    if near:
        return folded[near[0]]
    near = difflib.get_close_matches(text, list(texts), n=1, cutoff=0.6)
    return texts[near[0]] if near else None


def _collect_response_problems(
    table: Table, instrument: Instrument, ignore_columns: bool
) -> tuple[list[Problem], Responses | None]:
    src = table.source
    head = table.header_row
    problems: list[Problem] = list(table.notes)
    by_key = {c.casefold(): c for c in table.columns}
    missing = [c for c in META_COLUMNS if c not in by_key]
    if missing:
        return [
            Problem(
                src,
                f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                + (" (a title above the header is skipped only when the header holds all three)" if head > 1 else ""),
                row=head,
                column=missing[0],
            )
        ], None
    if table.cells.empty:
        return [Problem(src, "has a header but no respondent rows", row=head)], None
    layout = instrument.layout
    item_key = {i.casefold(): i for i in layout.item_ids}
    item_cols = {item_key[c.casefold()]: c for c in table.columns if c.casefold() in item_key}
    open_key = {q.casefold(): q for q in instrument.open_question_ids}
    open_cols = {open_key[c.casefold()]: c for c in table.columns if c.casefold() in open_key}
    comment_cols = _comment_columns(table.columns, instrument)
    stray_comments = [c for c in table.columns if c.casefold().startswith(COMMENT_PREFIX) and c not in comment_cols]
    extra = [
        c
        for c in table.columns
        if c.casefold() not in item_key
        and c.casefold() not in open_key
        and c.casefold() not in META_COLUMNS
        and not c.casefold().startswith(COMMENT_PREFIX)
    ]
    hint = _other_instrument(extra, list(item_cols.values()) + list(open_cols.values()), instrument)
    if hint:
        # Read with this version, such a file would lose the items the versions do not
        # share and score the rest as if nothing were missing: refused, with the way out.
        return [Problem(src, hint, row=head)], None
    for c in stray_comments:
        # a comment on a misspelled topic would be lost like a misspelled item's answers
        problems.append(
            Problem(
                src,
                "comment column names no facet or item of the instrument"
                + (
                    "; left out (--ignore-columns)"
                    if ignore_columns
                    else " (write comment:<facet id> or comment:<item id>), or give --ignore-columns to read the "
                    "file without it"
                ),
                row=head,
                column=c,
                severity="warning" if ignore_columns else "error",
            )
        )
    if not item_cols:
        others = f"; its other columns: {', '.join(repr(c) for c in extra[:8])}" if extra else ""
        guess = next((g for g in (closest_item(c, instrument) for c in extra) if g), None)
        hint = f" (did you mean {guess}?)" if guess else ""
        problems.append(
            Problem(src, f"no column matches an item of instrument {instrument.id!r}{others}{hint}", row=head)
        )
        return problems, None
    if extra:
        problems.append(unknown_columns_problem(src, extra, instrument, head, ignored=ignore_columns))

    cells = table.cells
    rows = table.rows
    n = len(cells)

    def add(p: Problem) -> bool:
        problems.append(p)
        return sum(q.severity == "error" for q in problems) < MAX_PROBLEMS

    # --- ids: normalized, checked, compared without regard to case (as integer codes:
    # a large file's ids are hashed once, not row by row)
    ids: dict[str, np.ndarray] = {}
    id_codes: dict[str, np.ndarray] = {}
    id_names: dict[str, np.ndarray] = {}
    for name in ("org_id", "respondent_id"):
        col = by_key[name]
        codes, uniques = column_codes(cells[col])
        normal = [normalize_id(u) for u in uniques]
        merged, names = pd.factorize(np.array(normal, dtype=object), use_na_sentinel=False)
        id_codes[name] = merged[codes]
        id_names[name] = np.asarray(names, dtype=object)
        ids[name] = id_names[name][id_codes[name]]
        changed = [k for k, (u, v) in enumerate(zip(uniques, normal)) if v != u.strip()]
        if changed:
            where = np.flatnonzero(np.isin(codes, changed))
            raw = uniques[changed[0]]
            problems.append(
                Problem(
                    src,
                    f"{name} of {len(where)} row(s) held invisible characters or full-width forms, read as "
                    f"the plain id ({raw[:40]!r} as {normalize_id(raw)[:40]!r})",
                    row=int(rows[where[0]]),
                    column=col,
                    severity="warning",
                )
            )
        for code, text in enumerate(names.tolist()):
            message = id_problem(text, name)
            if message is None:
                continue
            for i in np.flatnonzero(id_codes[name] == code).tolist():
                if not add(Problem(src, message, row=int(rows[i]), column=col)):
                    return problems, None
    org, rid = ids["org_id"], ids["respondent_id"]
    org_code, rid_code = id_codes["org_id"], id_codes["respondent_id"]
    # organizations in the order met, each with its first row
    _, org_first = np.unique(org_code, return_index=True)
    org_first.sort()
    for a, row_a, b, row_b in case_clashes(org[org_first].tolist(), rows[org_first].tolist()):
        if not add(
            Problem(
                src,
                f"org_id {b[:40]!r} and {a[:40]!r} (row {row_a}) differ only in case: write one organization "
                "the same way throughout (or give two organizations ids that differ in more than case)",
                row=row_b,
                column=by_key["org_id"],
            )
        ):
            return problems, None
    # respondents: (organization, id) pairs in the order met; a pair whose id differs from an
    # earlier one of its organization only by case is a clash, the same pair again a duplicate
    pair = org_code.astype(np.int64) * max(len(id_names["respondent_id"]), 1) + rid_code
    _, pair_first = np.unique(pair, return_index=True)
    pair_first.sort()
    folded, _ = pd.factorize(np.array([r.casefold() for r in id_names["respondent_id"].tolist()], dtype=object))
    spelled = pd.DataFrame({"o": org_code[pair_first], "f": folded[rid_code[pair_first]]})
    for at in np.flatnonzero(spelled.duplicated().to_numpy()).tolist():
        i = int(pair_first[at])
        same = (org_code == org_code[i]) & (folded[rid_code] == folded[rid_code[i]])
        j = int(np.flatnonzero(same)[0])
        if not add(
            Problem(
                src,
                f"respondent_id {rid[i][:40]!r} and {rid[j][:40]!r} (row {int(rows[j])}) of organization "
                f"{org[i][:40]!r} differ only in case: one respondent written two ways, or two respondents?",
                row=int(rows[i]),
                column=by_key["respondent_id"],
            )
        ):
            return problems, None

    # --- roles, as the instrument names them, in any case and spacing
    role_col = by_key["role"]
    codes, uniques = column_codes(cells[role_col])
    known = {normalize_label(r): r for r in layout.role_ids}
    role_of = [known.get(normalize_label(u)) for u in uniques]
    for code, (raw, role_id) in enumerate(zip(uniques, role_of)):
        if role_id is not None:
            continue
        for i in np.flatnonzero(codes == code).tolist():
            if not add(
                Problem(
                    src,
                    f"unknown role {quote_value(raw)}; expected one of {', '.join(layout.role_ids)}",
                    row=int(rows[i]),
                    column=role_col,
                )
            ):
                return problems, None
    role = np.array([r or "" for r in role_of], dtype=object)[codes]

    dup = pd.Series(pair).duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup).tolist():
        first = int(rows[np.flatnonzero(pair == pair[i])[0]])
        if not add(
            Problem(
                src,
                f"duplicate respondent {rid[i][:40]!r} in organization {org[i][:40]!r} (first at row {first})",
                row=int(rows[i]),
                column=by_key["respondent_id"],
            )
        ):
            return problems, None

    # --- answers: each distinct cell text read once (AnswerReader)
    k = instrument.scale_points
    read: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for j, item_id in enumerate(layout.item_ids):
        item_col = item_cols.get(item_id)
        if item_col is None:
            continue
        codes, uniques = column_codes(cells[item_col])
        reader = AnswerReader(instrument.items[item_id].labels, k)
        found = [reader.read(u) for u in uniques]
        for code, reading in enumerate(found):
            if reading.problem is None:
                continue
            for i in np.flatnonzero(codes == code).tolist():
                if not add(Problem(src, reading.problem, row=int(rows[i]), column=item_col)):
                    return problems, None
        value_of = np.array([r.value for r in found], dtype=np.float32)
        na_of = np.array([r.not_applicable for r in found], dtype=bool)
        dk_of = np.array([r.dont_know for r in found], dtype=bool)
        read[j] = (codes, value_of, na_of, dk_of)
    if any(p.severity == "error" for p in problems):
        return problems, None

    # Respondents in canonical order first, so the answers are written once, in place.
    order = canonical_order(instrument, org.tolist(), rid.tolist(), role.tolist())
    values = np.full((n, len(layout.item_ids)), np.nan, dtype=np.float32)
    na = np.zeros(values.shape, dtype=bool)
    dk = np.zeros(values.shape, dtype=bool)
    for j, (codes, value_of, na_of, dk_of) in read.items():
        ordered = np.asarray(codes)[order]
        values[:, j] = value_of[ordered]
        na[:, j] = na_of[ordered]
        dk[:, j] = dk_of[ordered]
    texts, text_warnings = _open_answers(cells, rows, open_cols, instrument, role, src)
    problems.extend(text_warnings)
    warnings = [str(p) for p in problems if p.severity == "warning"]
    comments = _comments(cells, comment_cols, org, rid)
    responses, more = build_responses(
        instrument,
        org[order].tolist(),
        rid[order].tolist(),
        role[order].tolist(),
        values,
        na,
        dont_know=dk,
        open_answers=texts[order],
        rows=rows[order].tolist(),
        columns=[item_cols.get(i) for i in layout.item_ids],
        source=src,
        warnings=warnings,
        comments=comments,
    )
    problems.extend(more)
    return problems, responses


def _open_answers(
    cells: pd.DataFrame,
    rows: np.ndarray,
    open_cols: dict[str, str],
    instrument: Instrument,
    role: np.ndarray,
    src: str,
) -> tuple[np.ndarray, list[Problem]]:
    """Free-text answers to the open questions, as given: any text, cut at
    :data:`~readiness.core.answers.OPEN_TEXT_MAX` characters, control characters other than
    line breaks and tabs replaced by spaces. Answers from roles the question is not put to
    are dropped. Spreadsheet-formula look-alikes are kept here and made inert on export."""
    n = len(cells)
    texts = np.full((n, len(instrument.open_questions)), "", dtype=object)
    problems: list[Problem] = []
    for q, question in enumerate(instrument.open_questions):
        col = open_cols.get(question.id)
        if col is None:
            continue
        column = cells[col].astype(object).astype(str).str.strip().str.replace(_TEXT_CONTROL, " ", regex=True)
        asked = np.isin(role, list(question.roles))
        given = (column != "").to_numpy()
        stray = int((given & ~asked).sum())
        if stray:
            problems.append(
                Problem(
                    src,
                    f"{stray} answer(s) to {question.id} from roles it is not put to were ignored",
                    column=col,
                    severity="warning",
                )
            )
        long = np.flatnonzero((column.str.len() > OPEN_TEXT_MAX).to_numpy() & asked)
        for i in long[:MAX_PROBLEMS]:
            problems.append(
                Problem(
                    src,
                    f"answer longer than {OPEN_TEXT_MAX} characters; kept up to that length",
                    row=int(rows[i]),
                    column=col,
                    severity="warning",
                )
            )
        texts[:, q] = np.where(asked, column.str.slice(0, OPEN_TEXT_MAX).to_numpy(dtype=object), "")
    return texts, problems


def _other_instrument(unknown: list[str], matched: list[str], instrument: Instrument) -> str:
    """The message for a file answered on another bundled instrument, or ``""``.

    Answers collected with an earlier version of the question set carry item ids that the
    current one retired. When every item column of the file (``unknown`` to this
    instrument, and ``matched``) belongs to another bundled instrument, this names it and
    how to read the file with it.
    """
    if not unknown:
        return ""
    columns = {c.casefold() for c in [*unknown, *matched]}
    for name, other in _bundled_instruments():
        if (other.id, other.version) == (instrument.id, instrument.version):
            continue
        known = {i.casefold() for i in other.items} | {q.casefold() for q in other.open_question_ids}
        if columns <= known:
            shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
            return (
                f"the file looks answered on instrument {other.id} version {other.version} (columns {shown} "
                f"are its items, not this version's); give --instrument {name} to read it"
            )
    return ""


@functools.lru_cache(maxsize=1)
def _bundled_instruments() -> tuple[tuple[str, Instrument], ...]:
    """Every bundled instrument, by the name ``--instrument`` accepts for it."""
    out = []
    for path in sorted(template_path("instruments").glob("*.yaml")):
        try:
            out.append((path.stem, load_instrument(path)))
        except InputError:  # pragma: no cover - the bundled files are tested
            continue
    return tuple(out)


def _comment_columns(columns: Iterable[str], instrument: Instrument) -> dict[str, str]:
    """Comment columns -> the facet or item they are about (``comment:<facet id or item id>``).

    Column names are already normalized by the table reader; the topic matches in any case.
    """
    topics = {f.casefold(): f for f in instrument.layout.facet_ids}
    topics.update({i.casefold(): i for i in instrument.layout.item_ids})
    out = {}
    for column in columns:
        if column.casefold().startswith(COMMENT_PREFIX):
            topic = topics.get(column[len(COMMENT_PREFIX) :].strip().casefold())
            if topic is not None:
                out[column] = topic
    return out


def _comments(
    cells: pd.DataFrame, comment_cols: dict[str, str], org: np.ndarray, rid: np.ndarray
) -> pd.DataFrame | None:
    """The comments given, one row each (``org_id, respondent_id, topic, text``), or ``None``.

    Texts are read like open answers: surrounding spaces removed, control characters other
    than line breaks and tabs replaced by spaces, cut at
    :data:`~readiness.core.answers.OPEN_TEXT_MAX` characters.
    """
    found: list[tuple[str, str, str, str]] = []
    for col, topic in comment_cols.items():
        column = cells[col].astype(object).astype(str).str.strip().str.replace(_TEXT_CONTROL, " ", regex=True)
        texts = column.str.slice(0, OPEN_TEXT_MAX).to_numpy(dtype=object)
        for i in np.flatnonzero((column != "").to_numpy()).tolist():
            found.append((str(org[i]), str(rid[i]), topic, str(texts[i])))
    if not found:
        return None
    return pd.DataFrame(found, columns=["org_id", "respondent_id", "topic", "text"])


# ---------------------------------------------------------------------- profiles
def load_profiles(path: str | Path, *, sheet: str | None = None, limits: Limits | None = None) -> pd.DataFrame:
    """Read and validate organization profiles.

    Returns a frame indexed by ``org_id`` with columns ``org_name, industry, agents,
    size_band, stage`` and one column per KPI present (float, NaN where blank).
    """
    return parse_profiles(read_table(path, sheet=sheet, header=PROFILE_HEADER, limits=limits, prefer=PROFILES_SHEETS))


def industry_of(text: str) -> str | None:
    """The vocabulary's industry for what a profile says, through the synonym table; ``None`` if none.

    >>> industry_of("Financial Services"), industry_of("Banking"), industry_of("retail")
    ('financial_services', 'financial_services', None)
    """
    key = re.sub(r"[\s\-/&,.]+", "_", normalize_label(text)).strip("_")
    if key in INDUSTRIES:
        return key
    return INDUSTRY_SYNONYMS.get(key)


def parse_profiles(table: Table) -> pd.DataFrame:
    src = table.source
    head = table.header_row
    by_key = {c.casefold(): c for c in table.columns}
    if "org_id" not in by_key:
        raise InputError("missing required column org_id", source=src, row=head, column="org_id")
    if table.cells.empty:
        raise InputError("has a header but no organization rows", source=src, row=head)
    problems: list[Problem] = []
    cells, rows = table.cells, table.rows
    org_col = by_key["org_id"]
    org_ids = _ids(cells[org_col])
    out = pd.DataFrame(index=pd.Index(org_ids, name="org_id"))
    org = out.index.to_series()
    for i, org_text in enumerate(org_ids):
        message = id_problem(org_text, "org_id")
        if message is not None:
            problems.append(Problem(src, message, row=int(rows[i]), column=org_col))
    for i in np.flatnonzero(org.duplicated().to_numpy()).tolist():
        if org_ids[i]:
            problems.append(Problem(src, f"duplicate org_id {org_ids[i][:40]!r}", row=int(rows[i]), column=org_col))
    distinct = org.drop_duplicates()
    firsts = [int(rows[i]) for i in np.flatnonzero(~org.duplicated().to_numpy())]
    for a, row_a, b, row_b in case_clashes(distinct.tolist(), firsts):
        problems.append(
            Problem(
                src,
                f"org_id {b[:40]!r} and {a[:40]!r} (row {row_a}) differ only in case: one organization "
                "written two ways, or two?",
                row=row_b,
                column=org_col,
            )
        )

    def text(name: str) -> pd.Series:
        col = by_key.get(name)
        return cells[col].astype(object).astype(str).str.strip() if col else pd.Series([""] * len(cells))

    names = text("org_name")
    long = names.str.len().to_numpy() > _MAX_CELL
    for i in np.flatnonzero(long).tolist():
        problems.append(
            Problem(src, f"org_name is longer than {_MAX_CELL} characters", row=int(rows[i]), column=by_key["org_name"])
        )
    out["org_name"] = np.where(names.to_numpy() == "", org.to_numpy(), names.to_numpy())

    industry: list[str | None] = []
    for i, raw in enumerate(text("industry").tolist()):
        if not raw:
            industry.append(None)
            continue
        found = industry_of(raw)
        if found is None:
            problems.append(
                Problem(
                    src,
                    f"industry {quote_value(raw)} is not one of {', '.join(INDUSTRIES)} (nor a synonym listed in "
                    "docs/input-formats.md); use other for an industry outside these",
                    row=int(rows[i]),
                    column=by_key["industry"],
                )
            )
        industry.append(found)
    out["industry"] = industry

    agents = np.full(len(cells), np.nan)
    if "agents" in by_key:
        for i, raw in enumerate(text("agents").tolist()):
            if not raw:
                continue
            number = numeral_value(raw)
            if number is None or not math.isfinite(number) or not number.is_integer() or number < 1:
                problems.append(
                    Problem(
                        src,
                        f"agents {quote_value(raw[:40])} must be a whole number of at least 1 (a headcount)",
                        row=int(rows[i]),
                        column=by_key["agents"],
                    )
                )
                continue
            agents[i] = number
    band = text("size_band").str.replace(" ", "")
    bands = []
    for i, (given, count) in enumerate(zip(band.tolist(), agents)):
        derived = size_band(count) if np.isfinite(count) else None
        if given and given not in SIZE_BANDS:
            problems.append(
                Problem(
                    src,
                    f"size_band {given[:20]!r} is not one of {', '.join(SIZE_BANDS)}",
                    row=int(rows[i]),
                    column=by_key["size_band"],
                )
            )
        elif given and derived and given != derived:
            problems.append(
                Problem(
                    src,
                    f"size_band {given!r} does not agree with agents {count:g}, which is in {derived}; "
                    "correct one of them, or leave size_band empty",
                    row=int(rows[i]),
                    column=by_key["size_band"],
                )
            )
        bands.append(given or derived)
    out["agents"] = agents
    out["size_band"] = bands
    stage = text("stage").str.lower().str.replace(" ", "_").str.replace("-", "_")
    for i in np.flatnonzero(((stage != "") & ~stage.isin(STAGES)).to_numpy()).tolist():
        problems.append(
            Problem(
                src,
                f"stage {stage.iat[i][:30]!r} is not one of {', '.join(STAGES)}",
                row=int(rows[i]),
                column=by_key["stage"],
            )
        )
    out["stage"] = np.where(stage.to_numpy() == "", None, stage.to_numpy())

    for kpi, (_, low, high, unit) in KPIS.items():
        col = by_key.get(kpi)
        if not col:
            continue
        values = np.full(len(cells), np.nan)
        for i, raw in enumerate(text(kpi).tolist()):
            if not raw:
                continue
            percent = raw.endswith("%")
            number = numeral_value(raw[:-1] if percent else raw)
            if number is None or not math.isfinite(number):
                problems.append(
                    Problem(src, f"{kpi} {quote_value(raw[:20])} is not a number", row=int(rows[i]), column=col)
                )
                continue
            if not low <= number <= high:
                problems.append(
                    Problem(src, f"{kpi} {raw[:20]} is outside {low:g}..{high:g} {unit}", row=int(rows[i]), column=col)
                )
                continue
            if kpi in RATE_KPIS and 0 < number < 1 and not percent:
                problems.append(
                    Problem(
                        src,
                        f"{kpi} {raw[:20]} looks like a fraction, but percentages are expected "
                        f"({number * 100:g} for {number:g}); write {raw[:20]}% if it really is under one percent",
                        row=int(rows[i]),
                        column=col,
                    )
                )
                continue
            values[i] = number
        out[kpi] = values
    known = {"org_id", "org_name", "industry", "agents", "size_band", "stage", *KPIS}
    if problems:
        raise InputError(problems=problems[:MAX_PROBLEMS])
    out.attrs["ignored_columns"] = [c for c in table.columns if c.casefold() not in known]
    out.attrs["source"] = src
    out.attrs["rows"] = [int(r) for r in rows]
    return out


# ---------------------------------------------------------------------- validate
def validate_files(
    responses_path: str | Path,
    instrument: Instrument,
    profiles_path: str | Path | None = None,
    *,
    table: Table | None = None,
    sheet: str | None = None,
    ignore_columns: bool = False,
    limits: Limits | None = None,
) -> tuple[list[Problem], Responses | None, pd.DataFrame | None]:
    """Check a responses file (and optional profiles) without stopping at the first problem.

    Returns all problems (errors and warnings), and the parsed inputs when there are no
    errors. An organization with no answer to a whole dimension is an error here, as
    it is for ``score`` and ``assess``. ``table``: the responses already read (a
    converted survey export); ``responses_path`` then only names it.
    """
    problems: list[Problem] = []
    if table is None:
        try:
            table = read_table(responses_path, sheet=sheet, header=META_COLUMNS, limits=limits, prefer=RESPONSES_SHEETS)
        except InputError as exc:
            return list(exc.problems), None, None
    found, responses = _check_responses(table, instrument, ignore_columns=ignore_columns)
    problems.extend(found)
    if responses is not None:
        problems.extend(missing_dimensions(responses))
    profiles = None
    if profiles_path is not None:
        try:
            profiles = load_profiles(profiles_path, limits=limits)
        except InputError as exc:
            problems.extend(exc.problems)
        if profiles is not None and responses is not None:
            problems.extend(_cross_check(responses, profiles, Path(profiles_path).name))
    if any(p.severity == "error" for p in problems):
        return problems, None, None
    return problems, responses, profiles


def check_profiles_match(responses: Responses, profiles: pd.DataFrame | None, source: str) -> None:
    """Refuse profiles of which no organization has respondents: the wrong file was given.

    Organizations without a profile, and profiles without respondents, are allowed here
    (``validate`` reports them); a profiles file that matches nothing never is. A profile
    whose id differs from an organization's only by case is refused: which is meant?
    """
    if profiles is None or not len(profiles):
        return
    problems = list(_case_mismatches(responses, profiles, source))
    if problems:
        raise InputError(problems=problems)
    if not set(responses.org_ids) & set(profiles.index):
        raise InputError(
            "no org_id in the profiles matches an organization in the responses", source=source, column="org_id"
        )


def _case_mismatches(responses: Responses, profiles: pd.DataFrame, source: str) -> Iterable[Problem]:
    have = {o.casefold(): o for o in responses.org_ids}
    rows = profiles.attrs.get("rows") or list(range(2, len(profiles) + 2))
    for n, org in enumerate(profiles.index):
        other = have.get(str(org).casefold())
        if other is not None and other != org:
            yield Problem(
                source,
                f"org_id {str(org)[:40]!r} differs only in case from {other[:40]!r} in the responses; "
                "write it the same way in both files",
                row=rows[n],
                column="org_id",
            )


def _cross_check(responses: Responses, profiles: pd.DataFrame, source: str) -> Iterable[Problem]:
    mismatched = list(_case_mismatches(responses, profiles, source))
    yield from mismatched
    have = set(responses.org_ids)
    folded = {o.casefold() for o in have}
    listed = list(profiles.index)
    rows = profiles.attrs.get("rows") or list(range(2, len(listed) + 2))
    matched = [o for o in listed if o in have]
    if not matched:
        if not mismatched:
            yield Problem(source, "no org_id in the profiles matches an organization in the responses", column="org_id")
        return
    for n, org in enumerate(listed):
        if org not in have and org.casefold() not in folded:  # a case mismatch is said above
            yield Problem(source, f"organization {org[:40]!r} has no respondents", row=rows[n], column="org_id")
    for org in sorted(have - set(listed)):
        yield Problem(source, f"organization {org[:40]!r} in the responses has no profile", severity="warning")
