"""The assessment history: every recorded wave of every organization, in one DuckDB file.

IO layer. ``readiness assess|batch --history FILE`` and ``readiness history add`` record
assessments here as :class:`~readiness.core.change.Wave` values; ``readiness compare``
reads two waves back and measures the change between them. Each wave keeps what an
interval on change needs: the results document (scores, roadmap and plan), the
instrument it was scored with (weights and facets, whatever version), and its
respondents' facet scores by role.

**Confidentiality.** The respondents' facet scores are respondent-level data: they are
stored under a running number within the wave and the respondent's role, never the
respondent's id, and nothing read from here reaches a report except organization-level
scores and intervals (``docs/security.md``).

**Crash safety.** A recording is one transaction: the waves of one call (one
organization for ``assess``, every organization of a ``batch``) are committed together
or not at all, so a killed run loses no earlier wave and leaves no half-written one.
Recording an organization's wave again replaces it, in the same transaction. Every call
opens its own connection and closes it; a brief lock held by another process is waited
out (``lock_timeout``), then reported as a one-line :class:`~readiness.core.errors.StoreError`.

Schema (``schema_version`` 1)::

    meta(key VARCHAR PRIMARY KEY, value VARCHAR)                kind, schema_version
    instruments(digest VARCHAR PRIMARY KEY, id, version, instrument_json VARCHAR)
    waves(org_id, wave VARCHAR, date DATE, recorded TIMESTAMP, org_name VARCHAR,
          instrument VARCHAR (a digest), respondents INTEGER, overall, ci_low, ci_high DOUBLE,
          level, barrier VARCHAR, has_scores BOOLEAN, source VARCHAR, results_json VARCHAR,
          PRIMARY KEY (org_id, wave))
    respondent_scores(org_id, wave VARCHAR, respondent INTEGER, role VARCHAR,
                      facet VARCHAR, score DOUBLE (NULL: none))

Example
-------
>>> store = HistoryStore("history.duckdb")                        # doctest: +SKIP
>>> store.record(waves_from_responses(responses, docs, label="2024-05", date="2024-05-14"))  # doctest: +SKIP
>>> store.waves("NORTHBANK")[["wave", "date", "overall"]]         # doctest: +SKIP
>>> earlier, later = store.load("NORTHBANK", "2024-05"), store.load("NORTHBANK", "2024-11")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.change import Wave
from ..core.errors import InputError, StoreError
from ..core.instrument import Instrument
from .peer_store import _check_regular_file, _columns, _in_transaction, _store_error, _tables
from .session_store import check_name

__all__ = ["SCHEMA_VERSION", "STORE_KIND", "WAVE_COLUMNS", "HistoryStore", "RecordSummary", "check_date", "wave_label"]

#: Version of the table layout below; bump it (and migrate) when a column changes meaning.
SCHEMA_VERSION = "1"
#: ``meta.kind`` of a history store: tells it apart from a peer database or a session store.
STORE_KIND = "readiness-history"
#: Columns of :meth:`HistoryStore.waves`.
WAVE_COLUMNS = (
    "org_id",
    "name",
    "wave",
    "date",
    "respondents",
    "overall",
    "ci_low",
    "ci_high",
    "level",
    "barrier",
    "instrument",
    "version",
    "has_scores",
    "recorded",
)

T = TypeVar("T")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS instruments (digest VARCHAR PRIMARY KEY, id VARCHAR NOT NULL, "
    "version VARCHAR NOT NULL, instrument_json VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS waves (org_id VARCHAR NOT NULL, wave VARCHAR NOT NULL, date DATE, "
    "recorded TIMESTAMP NOT NULL, org_name VARCHAR, instrument VARCHAR NOT NULL, respondents INTEGER NOT NULL, "
    "overall DOUBLE, ci_low DOUBLE, ci_high DOUBLE, level VARCHAR, barrier VARCHAR, has_scores BOOLEAN NOT NULL, "
    "source VARCHAR, results_json VARCHAR NOT NULL, PRIMARY KEY (org_id, wave))",
    # No key: the big table, written in bulk; a wave's rows are deleted and inserted together.
    "CREATE TABLE IF NOT EXISTS respondent_scores (org_id VARCHAR NOT NULL, wave VARCHAR NOT NULL, "
    "respondent INTEGER NOT NULL, role VARCHAR NOT NULL, facet VARCHAR NOT NULL, score DOUBLE)",
)

_REQUIRED: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "instruments": ("digest", "id", "version", "instrument_json"),
    "waves": (
        "org_id",
        "wave",
        "date",
        "recorded",
        "org_name",
        "instrument",
        "respondents",
        "overall",
        "ci_low",
        "ci_high",
        "level",
        "barrier",
        "has_scores",
        "source",
        "results_json",
    ),
    "respondent_scores": ("org_id", "wave", "respondent", "role", "facet", "score"),
}


@dataclass(frozen=True)
class RecordSummary:
    """What one :meth:`HistoryStore.record` call wrote.

    Attributes
    ----------
    waves : int
        Waves recorded (new or replacing).
    respondents : int
        Respondents whose facet scores were stored.
    replaced : int
        Waves that were already in the history and were replaced.
    """

    waves: int
    respondents: int
    replaced: int


def check_date(value: Any, *, source: str = "command line") -> str:
    """An assessment date as ``YYYY-MM-DD`` text; :class:`InputError` when it is not one."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InputError(f"date {text[:40]!r} is not a date written YYYY-MM-DD", source=source, column="date") from None


def wave_label(value: str | None, assessment_date: str) -> str:
    """The wave's label: the one given (checked as ids are), or the assessment's month ``YYYY-MM``."""
    if value in (None, ""):
        return assessment_date[:7]
    return check_name(value, "wave", source="command line")


class HistoryStore:
    """The assessment history in one DuckDB file. The constructor only stores its arguments.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) by the first recording.
    lock_timeout : float
        Seconds to keep retrying while another process holds the file for a moment (a
        batch recording); after that a :class:`StoreError` is raised.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r})"

    # ------------------------------------------------------------------ writing
    def check(self) -> None:
        """Refuse now a file that could not take a recording later (not a history store, locked).

        A missing file is fine: the first recording creates it. The CLI calls this before
        a long assessment, so that a wrong ``--history`` fails at once.
        """
        if self.path.exists():
            self._read(lambda con: None)
        else:
            _check_regular_file(self.path)

    def record(self, waves: Sequence[Wave], *, source: str = "") -> RecordSummary:
        """Record waves in one transaction; a wave already there (same organization and label) is replaced.

        Parameters
        ----------
        waves : sequence of Wave
            Assessments to keep; each with its results document and, for exact intervals
            on change, its respondents' facet scores.
        source : str
            Where they came from (a file name), kept with each wave.

        Returns
        -------
        RecordSummary

        Raises
        ------
        InputError
            A bad wave label or date, or one organization and wave twice in ``waves``.
        StoreError
            The file is not a history store, or is locked or damaged. Nothing is changed.
        """
        if not waves:
            return RecordSummary(0, 0, 0)
        keys = [(w.org_id, check_name(w.label, "wave", source=source or "history")) for w in waves]
        seen: set[tuple[str, str]] = set()
        for key in keys:
            if key in seen:
                raise InputError(f"organization {key[0]!r} has wave {key[1]!r} twice", source=source or "history")
            seen.add(key)
        instruments: dict[str, tuple[str, str, str]] = {}
        rows: list[dict[str, Any]] = []
        scores: list[pa.Table] = []
        recorded = datetime.now(UTC).replace(tzinfo=None)  # stored as UTC
        for wave in waves:
            # keys in the instrument's own order: the order of its roles is that of the resamples
            dumped = json.dumps(wave.instrument.model_dump(mode="json"), ensure_ascii=False)
            digest = hashlib.blake2b(dumped.encode("utf-8"), digest_size=16).hexdigest()
            instruments[digest] = (wave.instrument.id, wave.instrument.version, dumped)
            rows.append(_wave_row(wave, digest, recorded, source))
            if wave.has_respondents:
                scores.append(_score_rows(wave))
        wave_table = pa.Table.from_pylist(rows, schema=_WAVE_SCHEMA)
        score_table = pa.concat_tables(scores) if scores else _score_rows(None)
        key_table = pa.table({"org_id": [k[0] for k in keys], "wave": [k[1] for k in keys]})

        def work(con: duckdb.DuckDBPyConnection) -> int:
            con.register("_keys", key_table)
            try:
                replaced = con.execute(
                    "SELECT count(*) FROM waves w JOIN _keys k ON w.org_id = k.org_id AND w.wave = k.wave"
                ).fetchall()[0][0]
                for table in ("respondent_scores", "waves"):
                    con.execute(
                        f"DELETE FROM {table} WHERE EXISTS "
                        f"(SELECT 1 FROM _keys k WHERE k.org_id = {table}.org_id AND k.wave = {table}.wave)"
                    )
            finally:
                con.unregister("_keys")
            for digest, (ident, version, dumped) in instruments.items():
                con.execute("INSERT OR IGNORE INTO instruments VALUES (?, ?, ?, ?)", [digest, ident, version, dumped])
            self._insert_waves(con, wave_table)
            self._insert_scores(con, score_table)
            return int(replaced)

        replaced = self._write(work)
        return RecordSummary(len(waves), sum(len(w.roles or ()) for w in waves), replaced)

    def _insert_waves(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        con.register("_waves", table)
        try:
            con.execute(f"INSERT INTO waves ({', '.join(_REQUIRED['waves'])}) SELECT * FROM _waves")
        finally:
            con.unregister("_waves")

    def _insert_scores(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        con.register("_scores", table)
        try:
            con.execute(
                f"INSERT INTO respondent_scores ({', '.join(_REQUIRED['respondent_scores'])}) SELECT * FROM _scores"
            )
        finally:
            con.unregister("_scores")

    def remove(self, org_id: str, wave: str | None = None) -> int:
        """Remove one wave of an organization (or all its waves); return how many were removed."""
        if not self.path.exists():
            raise StoreError(f"{self.path}: history not found")

        def work(con: duckdb.DuckDBPyConnection) -> int:
            where, params = ("org_id = ?", [org_id]) if wave is None else ("org_id = ? AND wave = ?", [org_id, wave])
            n = con.execute(f"SELECT count(*) FROM waves WHERE {where}", params).fetchall()[0][0]
            con.execute(f"DELETE FROM respondent_scores WHERE {where}", params)
            con.execute(f"DELETE FROM waves WHERE {where}", params)
            return int(n)

        return self._write(work)

    # ------------------------------------------------------------------ reading
    def waves(self, org_id: str | None = None) -> pd.DataFrame:
        """The recorded waves, by organization, then date, then label.

        Returns
        -------
        DataFrame
            :data:`WAVE_COLUMNS`: ``org_id, name, wave, date`` (text ``YYYY-MM-DD`` or
            None), ``respondents, overall, ci_low, ci_high, level, barrier,
            instrument, version, has_scores, recorded``.
        """
        if not self.path.exists():
            raise StoreError(f"{self.path}: history not found")
        where, params = ("WHERE w.org_id = ?", [org_id]) if org_id is not None else ("", [])
        rows = self._read(
            lambda con: con.execute(
                "SELECT w.org_id, coalesce(w.org_name, w.org_id), w.wave, w.date, w.respondents, w.overall, "
                "w.ci_low, w.ci_high, w.level, w.barrier, i.id, i.version, w.has_scores, w.recorded "
                f"FROM waves w JOIN instruments i ON w.instrument = i.digest {where} "
                "ORDER BY w.org_id, w.date NULLS LAST, w.wave",
                params,
            ).fetchall()
        )
        frame = pd.DataFrame(rows, columns=list(WAVE_COLUMNS))
        frame["date"] = [d.isoformat() if isinstance(d, date) else None for d in frame["date"]]
        for col in ("overall", "ci_low", "ci_high"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        frame["respondents"] = frame["respondents"].astype(np.int64)
        frame["has_scores"] = frame["has_scores"].astype(bool)
        for col in ("level", "barrier"):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def load(self, org_id: str, wave: str) -> Wave:
        """One recorded wave, with its instrument and (when recorded) its respondents' facet scores.

        Raises
        ------
        InputError
            The organization or the wave is not in the history.
        StoreError
            The file is not a history store, or is damaged.
        """
        return self.load_many([(org_id, wave)])[0]

    def load_many(self, keys: Sequence[tuple[str, str]]) -> list[Wave]:
        """Several recorded waves ``(org_id, wave)``, read in three queries (see :meth:`load`)."""
        if not self.path.exists():
            raise StoreError(f"{self.path}: history not found")
        heads, instruments, bodies = self._read(lambda con: _read_waves(con, keys))
        parsed: dict[str, Instrument] = {}  # one instrument serves many waves: validated once
        out = []
        for n, (org_id, wave) in enumerate(keys):
            if n not in heads:
                known = self.waves(org_id)
                if known.empty:
                    raise InputError(f"organization {org_id!r} has no wave in this history", source=self.path.name)
                raise InputError(
                    f"organization {org_id!r} has no wave {wave!r}; its waves: {', '.join(known['wave'])}",
                    source=self.path.name,
                )
            when, has_scores, results_json, digest = heads[n]
            where = f"{self.path.name} ({org_id}, {wave})"
            if digest not in parsed:
                parsed[digest] = Instrument.from_dict(json.loads(instruments[digest]), source=where)
            instrument = parsed[digest]
            results = json.loads(results_json)
            day = when.isoformat() if isinstance(when, date) else None
            if not has_scores:
                out.append(Wave(org_id, wave, day, results, instrument))
                continue
            roles, scores = _scores_array(bodies.get(n, []), instrument, where)
            out.append(Wave(org_id, wave, day, results, instrument, roles, scores))
        return out

    def latest_results(self) -> list[dict[str, Any]]:
        """The results document of each organization's latest wave (by date, then label), by organization."""
        frame = self.waves()
        if frame.empty:
            return []
        last = frame.groupby("org_id", sort=True).tail(1)
        keys = list(zip(last["org_id"], last["wave"]))

        def read(con: duckdb.DuckDBPyConnection) -> list[str]:
            return [
                con.execute("SELECT results_json FROM waves WHERE org_id = ? AND wave = ?", [o, w]).fetchall()[0][0]
                for o, w in keys
            ]

        return [json.loads(text) for text in self._read(read)]

    # ------------------------------------------------------------------ connections
    def _write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(read_only=False) as con:
            self._ensure_schema(con)
            return _in_transaction(con, lambda: work(con))

    def _read(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._connect(read_only=True) as con:
            self._check_schema(con)
            return work(con)

    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection closed on exit; waits out another process's brief lock."""
        _check_regular_file(self.path)
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.Error as exc:
                message = str(exc).lower()
                locked = "lock" in message and ("conflicting" in message or "could not set lock" in message)
                if not locked or time.monotonic() >= deadline:
                    raise _store_error(self.path, exc) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.25)
        try:
            with con:
                yield con
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from None

    def _ensure_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        if not _tables(con):

            def create() -> None:
                for statement in _DDL:
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('kind', ?), ('schema_version', ?)", [STORE_KIND, SCHEMA_VERSION])

            # Its own transaction: a failed first recording leaves an empty, valid history.
            _in_transaction(con, create)
        self._check_schema(con)

    def _check_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """Refuse a file that is not a history store of this layout (a peer database, say)."""
        name = self.path.name
        columns = _columns(con)
        if "meta" not in columns:
            what = "an empty DuckDB database" if not columns else "a DuckDB database but not an assessment history"
            raise StoreError(f"{name}: is {what} (no meta table)")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("kind") != STORE_KIND:
            raise StoreError(
                f"{name}: is not an assessment history (a peer database or a session store?); give another --history file"
            )
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            if version is not None and version.isdigit() and int(version) > int(SCHEMA_VERSION):
                raise StoreError(
                    f"{name}: written by a newer version of readiness (schema_version {version}); "
                    "upgrade readiness to read it"
                )
            raise StoreError(f"{name}: wrong schema: schema_version is {version!r}, expected {SCHEMA_VERSION!r}")
        for table, required in _REQUIRED.items():
            missing = [c for c in required if c not in columns.get(table, {})]
            if missing:
                raise StoreError(f"{name}: wrong schema: {table}.{missing[0]} is missing")


# ---------------------------------------------------------------------- rows
_WAVE_SCHEMA = pa.schema(
    [
        ("org_id", pa.string()),
        ("wave", pa.string()),
        ("date", pa.date32()),
        ("recorded", pa.timestamp("us")),
        ("org_name", pa.string()),
        ("instrument", pa.string()),
        ("respondents", pa.int32()),
        ("overall", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("level", pa.string()),
        ("barrier", pa.string()),
        ("has_scores", pa.bool_()),
        ("source", pa.string()),
        ("results_json", pa.string()),
    ]
)

_SCORE_SCHEMA = pa.schema(
    [
        ("org_id", pa.string()),
        ("wave", pa.string()),
        ("respondent", pa.int32()),
        ("role", pa.string()),
        ("facet", pa.string()),
        ("score", pa.float64()),
    ]
)


def _wave_row(wave: Wave, digest: str, recorded: datetime, source: str) -> dict[str, Any]:
    doc = wave.results
    overall = doc.get("overall") or {}
    ci = overall.get("ci") or [None, None]
    when = date.fromisoformat(check_date(wave.date, source=source or "history")) if wave.date else None
    return {
        "org_id": wave.org_id,
        "wave": wave.label,
        "date": when,
        "recorded": recorded,
        "org_name": (doc.get("organization") or {}).get("name") or wave.org_id,
        "instrument": digest,
        "respondents": wave.n,
        "overall": overall.get("score"),
        "ci_low": ci[0],
        "ci_high": ci[1],
        "level": overall.get("level"),
        "barrier": overall.get("barrier"),
        "has_scores": wave.has_respondents,
        "source": source or None,
        "results_json": json.dumps(doc, ensure_ascii=False, allow_nan=False),
    }


def _score_rows(wave: Wave | None) -> pa.Table:
    """A wave's respondents' facet scores in long form: one row per respondent and facet."""
    if wave is None or wave.scores is None or wave.roles is None:
        return _SCORE_SCHEMA.empty_table()
    facets = np.asarray(wave.instrument.layout.facet_ids, dtype=object)
    n, k = wave.scores.shape
    values = wave.scores.ravel()
    return pa.table(
        {
            "org_id": pa.array([wave.org_id] * (n * k), pa.string()),
            "wave": pa.array([wave.label] * (n * k), pa.string()),
            "respondent": pa.array(np.repeat(np.arange(1, n + 1, dtype=np.int32), k), pa.int32()),
            "role": pa.array(np.repeat(np.asarray(wave.roles, dtype=object), k), pa.string()),
            "facet": pa.array(np.tile(facets, n), pa.string()),
            "score": pa.array(values, pa.float64(), mask=np.isnan(values)),
        },
        schema=_SCORE_SCHEMA,
    )


def _read_waves(
    con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]]
) -> tuple[dict[int, tuple], dict[str, str], dict[int, list[tuple]]]:
    """The stored parts of the waves ``keys``, by position: heads, instruments by digest, scores."""
    wanted = pa.table(
        {
            "n": pa.array(range(len(keys)), pa.int64()),
            "org_id": pa.array([k[0] for k in keys], pa.string()),
            "wave": pa.array([k[1] for k in keys], pa.string()),
        }
    )
    con.register("_wanted", wanted)
    try:
        heads = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT k.n, w.date, w.has_scores, w.results_json, w.instrument FROM _wanted k "
                "JOIN waves w ON w.org_id = k.org_id AND w.wave = k.wave"
            ).fetchall()
        }
        digests = sorted({head[3] for head in heads.values()})
        instruments = dict(
            con.execute(
                "SELECT digest, instrument_json FROM instruments WHERE list_contains(?, digest)", [digests]
            ).fetchall()
        )
        bodies: dict[int, list[tuple]] = {}
        for n, *row in con.execute(
            "SELECT k.n, s.respondent, s.role, s.facet, s.score FROM _wanted k JOIN respondent_scores s "
            "ON s.org_id = k.org_id AND s.wave = k.wave ORDER BY k.n, s.respondent, s.facet"
        ).fetchall():
            bodies.setdefault(n, []).append(tuple(row))
    finally:
        con.unregister("_wanted")
    return heads, instruments, bodies


def _scores_array(rows: list[tuple], instrument: Instrument, source: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Stored long-form scores back to (roles, respondents x facets) in the instrument's facet order."""
    facets = list(instrument.layout.facet_ids)
    column = {f: j for j, f in enumerate(facets)}
    people = sorted({r[0] for r in rows})
    row_of = {p: i for i, p in enumerate(people)}
    roles: list[str | None] = [None] * len(people)
    scores = np.full((len(people), len(facets)), np.nan)
    for respondent, role, facet, value in rows:
        j = column.get(facet)
        if j is None:
            raise StoreError(f"{source}: a stored score is for facet {facet!r}, which the wave's instrument lacks")
        i = row_of[respondent]
        if roles[i] not in (None, role):
            raise StoreError(f"{source}: respondent {respondent} is stored with more than one role")
        roles[i] = role
        if value is not None:
            scores[i, j] = float(value)
    unknown = sorted({str(r) for r in roles if r not in instrument.roles})
    if unknown:
        raise StoreError(f"{source}: stored role(s) {', '.join(map(str, unknown))} are not in the wave's instrument")
    return tuple(str(r) for r in roles), scores
