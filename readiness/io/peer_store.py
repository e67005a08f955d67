"""The peer database: survey answers and organization profiles in one DuckDB file.

IO layer. A :class:`PeerStore` imports validated :class:`~readiness.core.responses.Responses`
and profile frames (from :mod:`readiness.io.loaders`) and reads them back for any
instrument. Answers are kept in long form, one row per answer given or marked not
applicable, so that a database outlives changes to the question set: items the current
instrument lacks are ignored on reading, new items read as unanswered.

Every operation opens its own connection and closes it, so the file is never held
between calls. DuckDB admits one writing process per file; a second one fails at once
with a lock error, which is reported as a one-line :class:`~readiness.core.errors.StoreError`.

Schema (``schema_version`` 2)::

    meta(key VARCHAR PRIMARY KEY, value VARCHAR)     -- schema_version, panel_name, panel_description
    profiles(org_id VARCHAR PRIMARY KEY, org_name, industry, agents DOUBLE, size_band,
             stage, <one DOUBLE column per KPI>, source VARCHAR, imported_at TIMESTAMP,
             synthetic BOOLEAN)
    answers(org_id, respondent_id, role, item_id VARCHAR, value DOUBLE,
            not_applicable BOOLEAN, dont_know BOOLEAN)
    instruments(id VARCHAR, version VARCHAR)

A respondent who answered nothing at all keeps one ``answers`` row whose ``item_id`` is
NULL, so that respondent counts survive the round trip. ``answers.dont_know`` came after
version 2's layout: a database without it gains it (all false) on the next import and
reads as having no "don't know" answers; adding a column changes no existing meaning, so
the schema version does not change for it.

``profiles.synthetic`` marks simulated organizations (``peers import --synthetic``, or
``readiness panel`` writing a database); :meth:`PeerStore.info` calls the panel synthetic
when any of its organizations is. Version 1 had no such column: it is still read, its
organizations imported by ``readiness panel`` (their ``source`` says so) counting as
simulated and all others as real, and the first import into it migrates it to version 2
by the same rule.

Example
-------
>>> store = PeerStore("peers.duckdb")                                   # doctest: +SKIP
>>> store.import_responses(responses, profiles, source="panel.csv")     # doctest: +SKIP
ImportSummary(organizations=400, respondents=4810, answers=201544, replaced=0)
>>> peer_responses, peer_profiles = store.load(instrument)              # doctest: +SKIP
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.benchmark import PanelInfo
from ..core.errors import InputError, Problem, StoreError
from ..core.instrument import Instrument
from ..core.profile import INDUSTRIES, KPIS, SIZE_BANDS, STAGES
from ..core.responses import Responses, responses_from_long
from .tables import Limits

__all__ = [
    "DB_SUFFIXES",
    "SCHEMA_VERSION",
    "ImportSummary",
    "PeerStore",
    "load_peer_data",
    "load_peer_info",
    "panel_info_path_for",
    "profiles_path_for",
    "read_panel_info",
    "write_panel_info",
]

#: Version of the table layout below; bump it (and migrate) when a column changes meaning.
SCHEMA_VERSION = "2"
#: Older layouts this code still reads, and migrates on the next import.
_OLDER_VERSIONS = ("1",)
#: How version 1 recognizes a simulated organization: ``readiness panel`` wrote its source so.
_PANEL_SOURCE = "readiness panel%"
#: File suffixes read as a peer database rather than as a responses file.
DB_SUFFIXES: tuple[str, ...] = (".duckdb", ".db", ".ddb")

T = TypeVar("T")

_PROFILE_TEXT = ("org_name", "industry", "size_band", "stage")
_PROFILE_BASE = ("org_name", "industry", "agents", "size_band", "stage")

# Columns a database must have (name -> DuckDB type) for this code to trust it. Extra
# columns are tolerated so that a newer minor layout can still be read.
_REQUIRED: dict[str, dict[str, str]] = {
    "meta": {"key": "VARCHAR", "value": "VARCHAR"},
    "profiles": {
        "org_id": "VARCHAR",
        "org_name": "VARCHAR",
        "industry": "VARCHAR",
        "agents": "DOUBLE",
        "size_band": "VARCHAR",
        "stage": "VARCHAR",
        "source": "VARCHAR",
        "imported_at": "TIMESTAMP",
    },
    "answers": {
        "org_id": "VARCHAR",
        "respondent_id": "VARCHAR",
        "role": "VARCHAR",
        "item_id": "VARCHAR",
        "value": "DOUBLE",
        "not_applicable": "BOOLEAN",
    },
    "instruments": {"id": "VARCHAR", "version": "VARCHAR"},
}

_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS profiles (org_id VARCHAR PRIMARY KEY, org_name VARCHAR, industry VARCHAR, "
    "agents DOUBLE, size_band VARCHAR, stage VARCHAR, "
    + "".join(f"{kpi} DOUBLE, " for kpi in KPIS)
    + "source VARCHAR, imported_at TIMESTAMP, synthetic BOOLEAN NOT NULL DEFAULT false)",
    # No key on answers: it is the big table, and Responses already guarantees one row per
    # (respondent, item); a key would only slow bulk inserts down.
    "CREATE TABLE IF NOT EXISTS answers (org_id VARCHAR NOT NULL, respondent_id VARCHAR NOT NULL, "
    "role VARCHAR NOT NULL, item_id VARCHAR, value DOUBLE, not_applicable BOOLEAN NOT NULL, "
    "dont_know BOOLEAN NOT NULL DEFAULT false)",
    "CREATE TABLE IF NOT EXISTS instruments (id VARCHAR NOT NULL, version VARCHAR NOT NULL, PRIMARY KEY (id, version))",
)


@dataclass(frozen=True)
class ImportSummary:
    """What one :meth:`PeerStore.import_responses` call wrote.

    Attributes
    ----------
    organizations, respondents : int
        Imported (new or replacing).
    answers : int
        Answer rows written: answers given plus not-applicable and don't-know marks.
    replaced : int
        Organizations that were already in the database and were replaced.
    """

    organizations: int
    respondents: int
    answers: int
    replaced: int


class PeerStore:
    """A peer database in one DuckDB file. The constructor only stores its arguments.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) by the first import.
    read_only : bool
        Never write: imports are refused and a missing file is an error.

    Notes
    -----
    Reading methods always open the file read-only, so that several processes may read
    one database at once; only :meth:`import_responses` takes DuckDB's write lock.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"PeerStore({str(self.path)!r}, read_only={self.read_only})"

    # ------------------------------------------------------------------ writing
    def import_responses(
        self,
        responses: Responses,
        profiles: pd.DataFrame,
        *,
        source: str = "",
        synthetic: bool = False,
        name: str | None = None,
        description: str | None = None,
    ) -> ImportSummary:
        """Import the organizations of ``responses`` with their profiles, in one transaction.

        An organization already in the database is replaced as a whole (profile and
        answers). Profiles of organizations without respondents are not imported.

        Parameters
        ----------
        responses : Responses
            Validated answers (:func:`readiness.io.loaders.load_responses`).
        profiles : DataFrame
            Validated profiles (:func:`readiness.io.loaders.load_profiles`), indexed by org_id.
        source : str
            Where the data came from; stored with each profile and used in messages.
        synthetic : bool
            The organizations are simulated, not real centers (default: real).
        name, description : str, optional
            The panel's name and a sentence about it, kept for the whole database
            (given ones replace earlier ones; the name defaults to the file's stem).

        Returns
        -------
        ImportSummary

        Raises
        ------
        InputError
            An organization in the responses has no profile, or a respondent appears twice.
        StoreError
            The database is read-only here, locked, damaged or not a peer database.
        """
        if self.read_only:
            raise StoreError(_one_line(f"{self.path.name}: opened read-only; cannot import"))
        label = source or str(profiles.attrs.get("source", "")) or responses.source or "<responses>"
        profile_rows = _profile_rows(responses, profiles, label)
        answer_rows = _answer_rows(responses, label)
        respondents = len(responses)
        n_answers = int(np.count_nonzero(answer_rows.column("item_id").is_valid()))
        org_list = list(responses.org_ids)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        instrument = responses.instrument
        imported_at = datetime.now(UTC).replace(tzinfo=None)  # stored as UTC
        with self._connect(read_only=False) as con:
            # The schema gets its own (idempotent) transaction: a failed first import then
            # leaves an empty, valid database rather than a file with no tables.
            self._ensure_schema(con)
            orgs = pa.table({"org_id": pa.array(org_list, pa.string())})

            def replace() -> int:
                # Deletes and inserts share one transaction: a failure anywhere leaves the
                # database exactly as it was, never an organization half replaced.
                replaced = con.execute(
                    "SELECT count(*) FROM profiles WHERE org_id IN (SELECT org_id FROM _import_orgs)"
                ).fetchall()[0][0]
                con.execute("DELETE FROM answers WHERE org_id IN (SELECT org_id FROM _import_orgs)")
                con.execute("DELETE FROM profiles WHERE org_id IN (SELECT org_id FROM _import_orgs)")
                self._insert_profiles(con, profile_rows, label, imported_at, synthetic)
                self._insert_answers(con, answer_rows)
                con.execute(
                    "INSERT OR IGNORE INTO instruments (id, version) VALUES (?, ?)", [instrument.id, instrument.version]
                )
                for key, value in (("panel_name", name), ("panel_description", description)):
                    if value is not None:
                        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, " ".join(str(value).split())])
                return int(replaced)

            con.register("_import_orgs", orgs)
            try:
                replaced = _in_transaction(con, replace)
            finally:
                con.unregister("_import_orgs")
        return ImportSummary(organizations=len(org_list), respondents=respondents, answers=n_answers, replaced=replaced)

    def _insert_profiles(
        self, con: duckdb.DuckDBPyConnection, rows: pa.Table, label: str, imported_at: datetime, synthetic: bool
    ) -> None:
        kpi_cols = [c for c in KPIS if c in rows.column_names]
        columns = ["org_id", *_PROFILE_BASE, *kpi_cols]
        con.register("_import_profiles", rows)
        try:
            con.execute(
                f"INSERT INTO profiles ({', '.join(columns)}, source, imported_at, synthetic) "
                f"SELECT {', '.join(columns)}, ?, ?, ? FROM _import_profiles",
                [label, imported_at, bool(synthetic)],
            )
        finally:
            con.unregister("_import_profiles")

    def _insert_answers(self, con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
        con.register("_import_answers", rows)
        try:
            con.execute(
                "INSERT INTO answers (org_id, respondent_id, role, item_id, value, not_applicable, dont_know) "
                "SELECT org_id, respondent_id, role, item_id, value, not_applicable, dont_know FROM _import_answers"
            )
        finally:
            con.unregister("_import_answers")

    # ------------------------------------------------------------------ reading
    def load(self, instrument: Instrument) -> tuple[Responses, pd.DataFrame]:
        """Read every organization back, aligned with ``instrument``.

        Stored items the instrument lacks are ignored (with a warning); instrument items
        the database lacks read as unanswered. As :func:`readiness.io.loaders.load_responses` does, a
        not-applicable mark on an item that does not allow it counts as unanswered, and
        answers to items not asked of the respondent's role are dropped (each with a
        warning in ``Responses.warnings``).

        Returns
        -------
        (Responses, DataFrame)
            The answers, and the profiles in the form of
            :func:`readiness.io.loaders.load_profiles` (index ``org_id``; ``org_name,
            industry, agents, size_band, stage``; a KPI column for each KPI with at least
            one value).

        Raises
        ------
        InputError
            A stored role is unknown to the instrument, a stored answer is outside its
            scale, or the database holds no organizations.
        StoreError
            The database is missing, locked, damaged or not a peer database.
        """
        name = self.path.name
        layout = instrument.layout
        with self._connect(read_only=True) as con:
            columns = self._check_schema(con)
            people = con.execute(
                "SELECT org_id, respondent_id, min(role) AS role, count(DISTINCT role) AS n_roles "
                "FROM answers GROUP BY org_id, respondent_id ORDER BY org_id, respondent_id"
            ).df()
            dk_column = "dont_know" if "dont_know" in columns["answers"] else "false AS dont_know"
            cells = con.execute(
                f"SELECT org_id, respondent_id, item_id AS item, value, not_applicable, {dk_column} "
                "FROM answers WHERE item_id IS NOT NULL"
            ).df()
            kpi_cols = [c for c in KPIS if c in columns["profiles"]]
            profiles = con.execute(
                f"SELECT org_id, {', '.join(('org_name', 'industry', 'agents', 'size_band', 'stage', *kpi_cols))} "
                "FROM profiles ORDER BY org_id"
            ).df()
        if people.empty:
            raise InputError("the peer database holds no organizations", source=name)
        mixed = people[people["n_roles"] > 1]
        if not mixed.empty:
            first = mixed.iloc[0]
            raise InputError(
                f"respondent {first['respondent_id']!r} of organization {first['org_id']!r} "
                "is stored with more than one role",
                source=name,
            )
        unknown = sorted(set(people["role"]) - set(layout.role_ids))
        if unknown:
            raise InputError(
                f"respondent role(s) {', '.join(map(repr, unknown))} are not in instrument "
                f"{instrument.id!r} (roles: {', '.join(layout.role_ids)})",
                source=name,
            )
        missing = sorted(set(people["org_id"]) - set(profiles["org_id"]))
        if missing:
            raise StoreError(
                _one_line(f"{name}: organization {missing[0]!r} has answers but no profile; the database is damaged")
            )

        # One constructor for answers, whoever read them: the instrument's rules and warnings.
        position = pd.Series(
            np.arange(len(people)), index=pd.MultiIndex.from_frame(people[["org_id", "respondent_id"]])
        )
        person = (
            position.reindex(pd.MultiIndex.from_frame(cells[["org_id", "respondent_id"]])).to_numpy()
            if not cells.empty
            else np.zeros(0, dtype=np.intp)
        )
        responses, problems = responses_from_long(
            instrument,
            list(zip(people["org_id"], people["respondent_id"], people["role"])),
            person,
            cells["item"].tolist(),
            cells["value"].to_numpy(dtype=float, na_value=np.nan),
            cells["not_applicable"].to_numpy(dtype=bool),
            cells["dont_know"].fillna(False).to_numpy(dtype=bool),
            source=name,
        )
        if responses is None:
            errors = [p for p in problems if p.severity == "error"]
            raise InputError(
                problems=[
                    Problem(name, f"stored {p.message} (item {p.column}, {len(errors)} such answer(s))")
                    for p in errors[:1]
                ]
            )
        keep = set(people["org_id"])
        return responses, _profiles_frame(profiles[profiles["org_id"].isin(keep)], kpi_cols, name)

    def describe(self) -> pd.DataFrame:
        """Counts of organizations, respondents and answers per peer group.

        Returns
        -------
        DataFrame
            Columns ``industry, size_band, stage, organizations, respondents, answers``,
            one row per combination present, sorted by industry (the study's order, then
            others alphabetically), size band and stage (their natural order); a missing
            group value is ``None`` and sorts last.
        """
        with self._connect(read_only=True) as con:
            self._check_schema(con)
            counts = con.execute(
                "SELECT p.industry, p.size_band, p.stage, count(*) AS organizations, "
                "coalesce(sum(a.respondents), 0) AS respondents, coalesce(sum(a.answers), 0) AS answers "
                "FROM profiles p LEFT JOIN ("
                "  SELECT org_id, count(DISTINCT respondent_id) AS respondents, count(item_id) AS answers "
                "  FROM answers GROUP BY org_id) a USING (org_id) "
                "GROUP BY ALL"
            ).df()
        keys = {"industry": INDUSTRIES, "size_band": SIZE_BANDS, "stage": STAGES}
        out = pd.DataFrame(
            {col: pd.Series([v if isinstance(v, str) else None for v in counts[col]], dtype=object) for col in keys}
        )
        for col in ("organizations", "respondents", "answers"):
            out[col] = counts[col].to_numpy(dtype=np.int64)

        def order(col: str, known: tuple[str, ...]) -> list[tuple[int, int, str]]:
            rank = {v: i for i, v in enumerate(known)}
            return [(1, 0, "") if v is None else (0, rank.get(v, len(known)), v) for v in out[col]]

        sort_key = list(zip(*(order(col, known) for col, known in keys.items())))
        out = out.iloc[sorted(range(len(out)), key=lambda i: sort_key[i])].reset_index(drop=True)
        return out

    def info(self) -> PanelInfo:
        """What the panel is: its name, description, and whether it is synthetic.

        The panel is synthetic when any of its organizations is (the benchmark may then
        compare with a simulated one); a mixed database says how many are simulated.
        """
        with self._connect(read_only=True) as con:
            columns = self._check_schema(con)
            meta = {k: v for k, v in con.execute("SELECT key, value FROM meta").fetchall()}
            flag = (
                "synthetic" if "synthetic" in columns["profiles"] else f"coalesce(source LIKE '{_PANEL_SOURCE}', false)"
            )
            simulated, total = con.execute(f"SELECT count(*) FILTER (WHERE {flag}), count(*) FROM profiles").fetchall()[
                0
            ]
        description = meta.get("panel_description") or ""
        if 0 < simulated < total:
            description = f"{description} {simulated} of its {total} organizations are simulated.".strip()
        return PanelInfo(meta.get("panel_name") or self.path.stem, description, bool(simulated))

    def org_ids(self) -> list[str]:
        """The organizations in the database, sorted."""
        with self._connect(read_only=True) as con:
            self._check_schema(con)
            return [row[0] for row in con.execute("SELECT org_id FROM profiles ORDER BY org_id").fetchall()]

    # ------------------------------------------------------------------ connections
    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection closed on exit, with DuckDB's errors turned into StoreError."""
        if read_only and not self.path.exists():
            raise StoreError(_one_line(f"{self.path}: database not found"))
        _check_regular_file(self.path)
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from None
        try:
            with con:
                yield con
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from None

    def _ensure_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the tables in an empty file; check (and extend) an existing layout."""
        tables = _tables(con)
        if not tables:

            def create() -> None:
                for statement in _DDL:
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])

            _in_transaction(con, create)
        # Checked before anything is changed, so a foreign or newer file is left untouched.
        columns = self._check_schema(con)
        if "synthetic" not in columns["profiles"]:

            def migrate() -> None:
                # version 1 -> 2: what `readiness panel` wrote was simulated; everything else was imported as real
                con.execute("ALTER TABLE profiles ADD COLUMN synthetic BOOLEAN DEFAULT false")
                con.execute(f"UPDATE profiles SET synthetic = coalesce(source LIKE '{_PANEL_SOURCE}', false)")
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION])

            _in_transaction(con, migrate)
            columns = self._check_schema(con)
        # KPIs added to the catalogue after the database was made become new columns, and so
        # does the don't-know mark: adding a column changes no existing meaning, so no
        # version bump.
        new = [kpi for kpi in KPIS if kpi not in columns["profiles"]]
        no_dont_know = "dont_know" not in columns["answers"]
        if new or no_dont_know:

            def extend() -> None:
                for kpi in new:
                    con.execute(f"ALTER TABLE profiles ADD COLUMN {kpi} DOUBLE")
                if no_dont_know:
                    con.execute("ALTER TABLE answers ADD COLUMN dont_know BOOLEAN DEFAULT false")

            _in_transaction(con, extend)

    def _check_schema(self, con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
        """Refuse a database whose tables are not the layout above; return its columns."""
        name = self.path.name
        columns = _columns(con)
        if "meta" not in columns:
            what = "an empty DuckDB database" if not columns else "a DuckDB database but not a peer database"
            raise StoreError(_one_line(f"{name}: is {what} (no meta table)"))
        for table, required in _REQUIRED.items():
            have = columns.get(table)
            if have is None:
                raise StoreError(_one_line(f"{name}: wrong schema: table {table} is missing"))
            for column, kind in required.items():
                if have.get(column) != kind:
                    found = f"is {have[column]}" if column in have else "is missing"
                    raise StoreError(
                        _one_line(f"{name}: wrong schema: column {table}.{column} {found}, expected {kind}")
                    )
        dk_kind = columns["answers"].get("dont_know")
        if dk_kind is not None and dk_kind != "BOOLEAN":
            raise StoreError(
                _one_line(f"{name}: wrong schema: column answers.dont_know is {dk_kind}, expected BOOLEAN")
            )
        for kpi in KPIS:
            kpi_kind = columns["profiles"].get(kpi)
            if kpi_kind is not None and kpi_kind != "DOUBLE":
                raise StoreError(
                    _one_line(f"{name}: wrong schema: column profiles.{kpi} is {kpi_kind}, expected DOUBLE")
                )
        # fetchall, not fetchone: DuckDB 2 refuses further work on a connection while a
        # result is only partly fetched.
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        version = rows[0][0] if rows else None
        if version == SCHEMA_VERSION and columns["profiles"].get("synthetic") != "BOOLEAN":
            found = columns["profiles"].get("synthetic", "missing")
            raise StoreError(_one_line(f"{name}: wrong schema: column profiles.synthetic is {found}, expected BOOLEAN"))
        if version != SCHEMA_VERSION and version not in _OLDER_VERSIONS:
            if version is not None and version.isdigit() and int(version) > int(SCHEMA_VERSION):
                raise StoreError(
                    _one_line(
                        f"{name}: written by a newer version of readiness (schema_version "
                        f"{version}); upgrade readiness to read it"
                    )
                )
            raise StoreError(
                _one_line(f"{name}: wrong schema: schema_version is {version!r}, expected {SCHEMA_VERSION!r}")
            )
        return columns


# ---------------------------------------------------------------------- files
def profiles_path_for(responses_path: str | Path) -> Path:
    """Where the profiles of a peer responses file live: ``<stem>.profiles<suffix>`` beside it.

    >>> profiles_path_for("data/peers/panel.csv").as_posix()
    'data/peers/panel.profiles.csv'
    """
    path = Path(responses_path)
    return path.with_name(f"{path.stem}.profiles{path.suffix}")


def panel_info_path_for(responses_path: str | Path) -> Path:
    """Where a peer responses file says what it is: ``<stem>.panel.json`` beside it.

    >>> panel_info_path_for("data/peers/panel.csv").as_posix()
    'data/peers/panel.panel.json'
    """
    path = Path(responses_path)
    return path.with_name(f"{path.stem}.panel.json")


def read_panel_info(path: str | Path) -> PanelInfo:
    """A panel's companion file (``{"name", "description", "synthetic"}``, other keys kept aside).

    Raises
    ------
    InputError
        The file is not a JSON object, or a field has the wrong type.
    """
    import json

    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("the panel description file was not found", source=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"is not a JSON panel description ({type(exc).__name__})", source=path.name) from None
    if not isinstance(doc, dict):
        raise InputError("a panel description must be a JSON object", source=path.name)
    for key, kind in (("name", str), ("description", str), ("synthetic", bool)):
        if key in doc and not isinstance(doc[key], kind):
            raise InputError(f"{key} must be {'true or false' if kind is bool else 'text'}", source=path.name, key=key)
    return PanelInfo(
        name=" ".join(str(doc.get("name") or path.name.removesuffix(".panel.json")).split()),
        description=" ".join(str(doc.get("description", "")).split()),
        synthetic=bool(doc.get("synthetic", False)),
    )


def write_panel_info(path: str | Path, info: PanelInfo, **extra: object) -> Path:
    """Write a panel's companion file atomically; ``extra`` keys (e.g. the generator's seed) go beside."""
    import json

    from .exporters import atomic_path

    path = Path(path)
    doc = {"name": info.name, "description": info.description, "synthetic": info.synthetic, **extra}
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_peer_info(path: str | Path) -> PanelInfo:
    """What the peer data at ``path`` are (see :class:`~readiness.core.benchmark.PanelInfo`).

    A peer database says it itself (:meth:`PeerStore.info`). A responses file says it in
    ``<stem>.panel.json`` beside it (:func:`panel_info_path_for`); without one, the
    data are the user's own: real, named after the file.
    """
    path = Path(path)
    if path.suffix.lower() in DB_SUFFIXES:
        return PeerStore(path, read_only=True).info()
    companion = panel_info_path_for(path)
    if companion.exists():
        return read_panel_info(companion)
    return PanelInfo(name=path.stem, description="", synthetic=False)


def load_peer_data(
    path: str | Path, instrument: Instrument, *, ignore_columns: bool = False, limits: Limits | None = None
) -> tuple[Responses, pd.DataFrame]:
    """Peer answers and profiles from a peer database or from a responses file and its profiles.

    Parameters
    ----------
    path : str or Path
        A DuckDB file (``.duckdb``, ``.db``, ``.ddb``), or a responses file whose profiles
        sit beside it as :func:`profiles_path_for` says.
    instrument : Instrument
    ignore_columns : bool
        Leave out columns of a responses file that are no item (else an error).
    limits : Limits, optional
        How large the files may be.

    Raises
    ------
    InputError
        A file is missing or invalid, or an organization in the responses has no profile.
    StoreError
        The database cannot be used.
    """
    from .loaders import load_profiles, load_responses

    path = Path(path)
    if path.suffix.lower() in DB_SUFFIXES:
        return PeerStore(path, read_only=True).load(instrument)
    responses = load_responses(path, instrument, ignore_columns=ignore_columns, limits=limits)
    profiles_path = profiles_path_for(path)
    if not profiles_path.exists():
        raise InputError(f"the peer profiles file was not found; expected {profiles_path}", source=path.name)
    profiles = load_profiles(profiles_path, limits=limits)
    missing = [o for o in responses.org_ids if o not in profiles.index]
    if missing:
        raise InputError(
            problems=[
                Problem(profiles_path.name, f"organization {o[:40]!r} in {path.name} has no profile") for o in missing
            ]
        )
    return responses, profiles


# ---------------------------------------------------------------------- helpers
def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_regular_file(path: Path) -> None:
    """Refuse a folder, a pipe or a device before DuckDB opens it (a pipe would block for ever)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # created by the first write; a reader says "not found" itself
    except OSError as exc:
        raise StoreError(_one_line(f"{path}: cannot be opened ({exc.strerror or type(exc).__name__})")) from None
    if stat.S_ISDIR(mode):
        raise StoreError(_one_line(f"{path}: is a folder, not a database file"))
    if not stat.S_ISREG(mode):
        raise StoreError(_one_line(f"{path}: is not a regular file (a device, pipe or socket)"))


def _store_error(path: Path, exc: duckdb.Error) -> StoreError:
    """Say in one line what is wrong with the file, from DuckDB's error."""
    message = str(exc)
    name = path.name
    lowered = message.lower()
    if "lock" in lowered and ("conflicting" in lowered or "could not set lock" in lowered):
        pid = re.search(r"PID (\d+)", message)
        who = f" (pid {pid.group(1)})" if pid else ""
        return StoreError(_one_line(f"{name}: the database is locked by another process{who}; close it and retry"))
    if "could not read enough bytes" in lowered:
        return StoreError(_one_line(f"{name}: not a DuckDB database or it is damaged (the file is truncated)"))
    if (
        "not a valid duckdb database" in lowered
        or "checksum" in lowered
        or "corrupt" in lowered
        or isinstance(exc, (duckdb.SerializationException, duckdb.InternalException))
    ):
        return StoreError(_one_line(f"{name}: not a DuckDB database or it is damaged"))
    if "does not exist" in lowered and "read-only" in lowered:
        return StoreError(_one_line(f"{path}: database not found"))
    if "newer version" in lowered or "storage version" in lowered:
        return StoreError(_one_line(f"{name}: written by a different DuckDB version ({message.splitlines()[0][:160]})"))
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return StoreError(_one_line(f"{name}: database error ({first[:200]})"))


def _in_transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """Run ``work`` in one transaction: all of it is committed, or none of it."""
    con.begin()
    try:
        result = work()
        con.commit()
        return result
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error:
            pass  # the connection is already unusable; closing it discards the transaction
        raise


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        out.setdefault(table, {})[column] = kind
    return out


def _profile_rows(responses: Responses, profiles: pd.DataFrame, source: str) -> pa.Table:
    """The profile rows to insert: one per organization in the responses, in its order."""
    if "org_id" in profiles.columns and profiles.index.name != "org_id":
        profiles = profiles.set_index("org_id")
    index = profiles.index.astype(str)
    if index.duplicated().any():
        dup = index[index.duplicated()][0]
        raise InputError(f"duplicate org_id {dup[:40]!r} in the profiles", source=source)
    profiles = profiles.set_axis(index, axis=0)
    orgs = list(responses.org_ids)
    missing = [o for o in orgs if o not in profiles.index]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"organization {missing[0][:40]!r} in the responses has no profile{more}", source=source)
    picked = profiles.loc[orgs]
    columns: dict[str, pa.Array] = {"org_id": pa.array(orgs, pa.string())}
    for col in _PROFILE_TEXT:
        raw = picked[col] if col in picked.columns else pd.Series([None] * len(orgs), dtype=object)
        text = [v if isinstance(v, str) and v != "" else None for v in raw]
        if col == "org_name":  # as the loader does: a nameless organization is called by its id
            text = [t if t is not None else o for t, o in zip(text, orgs)]
        columns[col] = pa.array(text, pa.string())
    for col in ("agents", *KPIS):
        if col in picked.columns:
            number = pd.to_numeric(picked[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            columns[col] = pa.array(number, pa.float64(), mask=np.isnan(number))
        elif col == "agents":
            columns[col] = pa.nulls(len(orgs), pa.float64())
    return pa.table(columns)


def _answer_rows(responses: Responses, source: str) -> pa.Table:
    """Responses in long form: a row per answer, N/A or don't know, plus one per respondent with none."""
    meta = responses.meta
    dup = meta.duplicated(["org_id", "respondent_id"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            f"duplicate respondent {meta['respondent_id'].iat[i][:40]!r} in organization "
            f"{meta['org_id'].iat[i][:40]!r}",
            source=source,
        )
    values = responses.values
    na = responses.not_applicable & np.isnan(values)
    dk = responses.dont_know & np.isnan(values) & ~na
    given = ~np.isnan(values) | na | dk
    r, c = np.nonzero(given)
    # A respondent with nothing at all would vanish from the long form; a NULL-item row keeps them.
    silent = np.flatnonzero(~given.any(axis=1))
    rows = np.concatenate([r, silent])
    item_ids = np.asarray(responses.instrument.layout.item_ids, dtype=object)
    items = np.concatenate([item_ids[c], np.full(len(silent), None, dtype=object)])
    vals = np.concatenate([values[r, c], np.full(len(silent), np.nan)])
    flags = np.concatenate([na[r, c], np.zeros(len(silent), dtype=bool)])
    dk_flags = np.concatenate([dk[r, c], np.zeros(len(silent), dtype=bool)])
    return pa.table(
        {
            "org_id": pa.array(meta["org_id"].to_numpy(dtype=object)[rows], pa.string()),
            "respondent_id": pa.array(meta["respondent_id"].to_numpy(dtype=object)[rows], pa.string()),
            "role": pa.array(meta["role"].to_numpy(dtype=object)[rows], pa.string()),
            "item_id": pa.array(items, pa.string()),
            "value": pa.array(vals, pa.float64(), mask=np.isnan(vals)),
            "not_applicable": pa.array(flags, pa.bool_()),
            "dont_know": pa.array(dk_flags, pa.bool_()),
        }
    )


def _profiles_frame(rows: pd.DataFrame, kpi_cols: list[str], source: str) -> pd.DataFrame:
    """Stored profiles in exactly the form :func:`readiness.io.loaders.load_profiles` returns."""
    index = pd.Index(rows["org_id"].astype(str).to_numpy(), name="org_id")
    out = pd.DataFrame(index=index)
    for col in _PROFILE_BASE:
        if col == "agents":
            out[col] = rows[col].to_numpy(dtype=float, na_value=np.nan)
        else:
            # The loader builds these from object arrays holding None: do the same, so the
            # frames compare equal whatever dtype DuckDB hands back.
            out[col] = np.array([v if isinstance(v, str) else None for v in rows[col]], dtype=object)
    for kpi in kpi_cols:
        number = rows[kpi].to_numpy(dtype=float, na_value=np.nan)
        if not np.isnan(number).all():  # a KPI nobody reported is no column, as in a file
            out[kpi] = number
    out.attrs["ignored_columns"] = []
    out.attrs["source"] = source
    return out
