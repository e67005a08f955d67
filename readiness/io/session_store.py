"""The workshop session store: every answer given in the intake app, in one DuckDB file.

IO layer. The intake app (:mod:`readiness.apps.workshop`) calls :meth:`SessionStore.save_answer`
on every change; each call opens a connection, writes the answer as one UPSERT inside one
transaction, commits and closes the connection. A committed answer is therefore on disk
before the app says "saved", and a browser closed, a kernel restarted or a server killed
mid-session neither loses it nor leaves the file locked. A failed write (bad value,
database error) rolls back and leaves the previous answer exactly as it was.

Several sessions (one per workshop) may share a file; each session belongs to one
organization and remembers the instrument it was started with, so its answers can be
read back and exported without being told the question set again.

Schema (``schema_version`` 1)::

    meta(key VARCHAR PRIMARY KEY, value VARCHAR)          kind, schema_version
    sessions(session VARCHAR PRIMARY KEY, org_id, instrument_id, instrument_version,
             instrument_json VARCHAR, created TIMESTAMP)
    respondents(session, org_id, respondent_id, role VARCHAR, created TIMESTAMP,
                PRIMARY KEY (session, respondent_id))
    answers(session, respondent_id, item_id VARCHAR, value INTEGER (NULL: none),
            not_applicable BOOLEAN, comment VARCHAR, updated TIMESTAMP,
            dont_know BOOLEAN, PRIMARY KEY (session, respondent_id, item_id))

Timestamps are UTC. An answer row whose value is NULL and which is marked neither N/A
nor "don't know" is an answer that was given and then cleared: it reads as unanswered.
``answers.dont_know`` came after the first layout: a store without it gains it (all
false) the first time it is opened; adding a column changes no existing meaning, so the
schema version stays 1. The answer to an open question (free text, never scored) is an
``answers`` row whose ``item_id`` is the question's id and whose ``comment`` is the text.

Example
-------
>>> store = SessionStore("workshop.duckdb")                               # doctest: +SKIP
>>> store.open_session("northbank-2024-05", instrument, org_id="NORTHBANK")  # doctest: +SKIP
>>> store.add_respondent("northbank-2024-05", "A1", "agent")              # doctest: +SKIP
>>> store.save_answer("northbank-2024-05", "A1", "PEO_HIR_1", 4)          # doctest: +SKIP
>>> store.export_csv("northbank.csv")                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from ..core.answers import OPEN_TEXT_MAX
from ..core.errors import InputError, Problem, StoreError
from ..core.ids import id_problem, normalize_id
from ..core.instrument import Instrument
from ..core.responses import COMMENT_PREFIX, Responses, responses_from_long
from .peer_store import _columns, _in_transaction, _tables  # one transaction and schema helper for both stores

__all__ = ["SCHEMA_VERSION", "STORE_KIND", "SessionInfo", "SessionStore", "check_name"]

#: Version of the table layout below; bump it (and migrate) when a column changes meaning.
SCHEMA_VERSION = "1"
#: ``meta.kind`` of a session store: tells it apart from a peer database (``store.py``).
STORE_KIND = "readiness-sessions"

T = TypeVar("T")

_MAX_COMMENT = 10_000
_COMMENT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines and tabs are fine

_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS sessions (session VARCHAR PRIMARY KEY, org_id VARCHAR NOT NULL, "
    "instrument_id VARCHAR NOT NULL, instrument_version VARCHAR NOT NULL, instrument_json VARCHAR NOT NULL, "
    "created TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS respondents (session VARCHAR NOT NULL, org_id VARCHAR NOT NULL, "
    "respondent_id VARCHAR NOT NULL, role VARCHAR NOT NULL, created TIMESTAMP NOT NULL, "
    "PRIMARY KEY (session, respondent_id))",
    # The key makes an answer change one UPSERT; the check keeps "answered" and "not
    # applicable" exclusive even if a caller bypasses save_answer's own checks.
    "CREATE TABLE IF NOT EXISTS answers (session VARCHAR NOT NULL, respondent_id VARCHAR NOT NULL, "
    "item_id VARCHAR NOT NULL, value INTEGER, not_applicable BOOLEAN NOT NULL, comment VARCHAR, "
    "updated TIMESTAMP NOT NULL, dont_know BOOLEAN NOT NULL DEFAULT false, "
    "PRIMARY KEY (session, respondent_id, item_id), "
    "CHECK (NOT (not_applicable AND value IS NOT NULL)), "
    "CHECK (NOT (dont_know AND (not_applicable OR value IS NOT NULL))))",
)

_REQUIRED: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "sessions": ("session", "org_id", "instrument_id", "instrument_version", "instrument_json", "created"),
    "respondents": ("session", "org_id", "respondent_id", "role", "created"),
    "answers": ("session", "respondent_id", "item_id", "value", "not_applicable", "comment", "updated"),
}

_UPSERT = (
    "INSERT INTO answers (session, respondent_id, item_id, value, not_applicable, comment, updated, dont_know) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session, respondent_id, item_id) DO UPDATE SET "
    "value = excluded.value, not_applicable = excluded.not_applicable, comment = excluded.comment, "
    "updated = excluded.updated, dont_know = excluded.dont_know"
)


@dataclass(frozen=True)
class SessionInfo:
    """One workshop session: whose it is and which question set it uses."""

    session: str
    org_id: str
    instrument_id: str
    instrument_version: str
    created: datetime


def check_name(value: Any, what: str, *, source: str = "session") -> str:
    """A session, organization or respondent id as the responses files accept it.

    Normalized and checked by the rules every reader shares (:mod:`readiness.core.ids`:
    Unicode NFKC, invisible characters and surrounding spaces removed; not empty, at most
    200 characters, no control character, path separator or ``..``, no formula start),
    so that every exported file loads cleanly. Raises :class:`InputError` otherwise.
    """
    text = normalize_id(str(value if value is not None else ""))
    problem = id_problem(text, what)
    if problem is not None:
        raise InputError(problem, source=source, column=what)
    return text


class SessionStore:
    """Workshop sessions in one DuckDB file. The constructor only stores its arguments.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) when the first session is opened.
    lock_timeout : float
        Seconds to keep retrying while another process (a second browser tab runs its own
        kernel) holds the file for a moment; after that a :class:`StoreError` is raised.

    Notes
    -----
    No connection is held between calls: each method opens the file, does its work in
    one transaction and closes it.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._instruments: dict[str, Instrument] = {}
        self._checked = False  # the layout was verified once: no need on every keystroke

    def __repr__(self) -> str:
        return f"SessionStore({str(self.path)!r})"

    # ------------------------------------------------------------------ sessions
    def open_session(self, session: str, instrument: Instrument, *, org_id: str | None = None) -> SessionInfo:
        """Start a session, or reopen one with the same instrument; return its description.

        Parameters
        ----------
        session : str
            The session name (any id the responses files accept).
        instrument : Instrument
            The question set. A session keeps the one it was started with: reopening it
            with another instrument id or version is refused; the same id and version
            refresh the stored copy (a fixed typo in an item text, say).
        org_id : str, optional
            The organization answering. Default: the session's organization when it
            exists, else the session name. Reopening with a different one is refused.

        Raises
        ------
        InputError
            A bad session or organization id.
        StoreError
            The file is not a session store, or the session belongs to another
            organization or instrument.
        """
        session = check_name(session, "session")
        org = check_name(org_id, "org_id") if org_id not in (None, "") else None
        dumped = json.dumps(instrument.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        now = _now()

        def work(con: duckdb.DuckDBPyConnection) -> SessionInfo:
            rows = con.execute(
                "SELECT org_id, instrument_id, instrument_version, created FROM sessions WHERE session = ?", [session]
            ).fetchall()
            if not rows:
                con.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                    [session, org or session, instrument.id, instrument.version, dumped, now],
                )
                return SessionInfo(session, org or session, instrument.id, instrument.version, now)
            have_org, have_id, have_version, created = rows[0]
            if org is not None and org != have_org:
                raise StoreError(
                    _one_line(
                        f"{self.path.name}: session {session!r} belongs to organization "
                        f"{have_org!r}, not {org!r}; choose another session name"
                    )
                )
            if (have_id, have_version) != (instrument.id, instrument.version):
                raise StoreError(
                    _one_line(
                        f"{self.path.name}: session {session!r} was started with instrument {have_id} version "
                        f"{have_version}, not {instrument.id} version {instrument.version}; use that instrument "
                        "or another session name"
                    )
                )
            con.execute("UPDATE sessions SET instrument_json = ? WHERE session = ?", [dumped, session])
            return SessionInfo(session, have_org, have_id, have_version, created)

        info = self._write(work)
        self._instruments[session] = instrument
        return info

    def sessions(self) -> list[SessionInfo]:
        """Every session in the file, oldest first (none when the file does not exist)."""
        if not self.path.exists():
            return []
        rows = self._read(
            lambda con: con.execute(
                "SELECT session, org_id, instrument_id, instrument_version, created FROM sessions "
                "ORDER BY created, session"
            ).fetchall()
        )
        return [SessionInfo(*row) for row in rows]

    def session(self, session: str) -> SessionInfo:
        """The description of one session; :class:`StoreError` when there is no such session."""
        for info in self.sessions():
            if info.session == session:
                return info
        raise StoreError(_one_line(f"{self.path.name}: no session {session!r} in this store"))

    def instrument(self, session: str) -> Instrument:
        """The instrument the session was started with."""
        if session not in self._instruments:
            if not self.path.exists():
                raise StoreError(f"{self.path}: session store not found")
            rows = self._read(
                lambda con: con.execute("SELECT instrument_json FROM sessions WHERE session = ?", [session]).fetchall()
            )
            if not rows:
                raise StoreError(_one_line(f"{self.path.name}: no session {session!r} in this store"))
            self._instruments[session] = Instrument.from_dict(
                json.loads(rows[0][0]), source=f"{self.path.name} (session {session})"
            )
        return self._instruments[session]

    # ------------------------------------------------------------------ respondents
    def add_respondent(self, session: str, respondent_id: str, role: str) -> bool:
        """Add a respondent to a session; return False (changing nothing) when the id exists.

        Raises
        ------
        InputError
            A bad respondent id or a role the session's instrument does not know.
        StoreError
            No such session, or the database cannot be used.
        """
        rid = check_name(respondent_id, "respondent_id", source=f"session {session}")
        role = self._check_role(session, role)

        def work(con: duckdb.DuckDBPyConnection) -> bool:
            org = self._session_org(con, session)
            exists = con.execute(
                "SELECT count(*) FROM respondents WHERE session = ? AND respondent_id = ?", [session, rid]
            ).fetchall()[0][0]
            if exists:
                return False
            con.execute("INSERT INTO respondents VALUES (?, ?, ?, ?, ?)", [session, org, rid, role, _now()])
            return True

        return self._write(work)

    def set_role(self, session: str, respondent_id: str, role: str) -> None:
        """Change a respondent's role. Their answers are kept; only items asked of the new
        role count when scoring."""
        role = self._check_role(session, role)

        def work(con: duckdb.DuckDBPyConnection) -> None:
            self._require_respondent(con, session, respondent_id)
            con.execute(
                "UPDATE respondents SET role = ? WHERE session = ? AND respondent_id = ?",
                [role, session, respondent_id],
            )

        self._write(work)

    def respondents(self, session: str) -> pd.DataFrame:
        """The respondents of a session, the most recently active first.

        Returns
        -------
        DataFrame
            ``respondent_id, role, org_id, created, last_change, answered`` (answers given
            or marked not applicable or "don't know"); ``last_change`` is the latest
            answer's time, or ``created`` when there is none.
        """
        columns = ["respondent_id", "role", "org_id", "created", "last_change", "answered"]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        rows = self._read(
            lambda con: con.execute(
                "SELECT r.respondent_id, r.role, r.org_id, r.created, "
                "greatest(r.created, coalesce(max(a.updated), r.created)) AS last_change, "
                "count(a.item_id) FILTER (WHERE a.value IS NOT NULL OR a.not_applicable OR a.dont_know) AS answered "
                "FROM respondents r LEFT JOIN answers a ON a.session = r.session AND a.respondent_id = r.respondent_id "
                "WHERE r.session = ? GROUP BY r.respondent_id, r.role, r.org_id, r.created "
                "ORDER BY last_change DESC, r.respondent_id",
                [session],
            ).fetchall()
        )
        return pd.DataFrame(rows, columns=columns)

    # ------------------------------------------------------------------ answers
    def save_answer(
        self,
        session: str,
        respondent_id: str,
        item_id: str,
        value: int | None = None,
        *,
        not_applicable: bool = False,
        dont_know: bool = False,
        comment: str = "",
    ) -> None:
        """Store the whole state of one answer at once (one UPSERT, one transaction).

        Parameters
        ----------
        session, respondent_id, item_id : str
        value : int or None
            The answer, 1..scale_points; ``None`` for no answer (or a cleared one).
        not_applicable : bool
            The respondent marked the item not applicable (only where the item allows it;
            then ``value`` must be ``None``).
        dont_know : bool
            The respondent answered "don't know" (any item; then ``value`` must be ``None``
            and the item not marked N/A).
        comment : str
            Evidence or comment; empty for none.

        Raises
        ------
        InputError
            The value, item or N/A mark does not fit the session's instrument.
        StoreError
            No such session or respondent, or the database cannot be used. Nothing is
            changed: the previous answer stays as it was.
        """
        where = f"session {session}"
        instrument = self.instrument(session)
        item = instrument.items.get(item_id)
        if item is None:
            raise InputError(f"unknown item {item_id!r}", source=where, column="item_id")
        if value is not None:
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not 1 <= int(value) <= instrument.scale_points
            ):
                raise InputError(
                    f"answer {value!r} is not a whole number from 1 to {instrument.scale_points}",
                    source=where,
                    column=item_id,
                )
            value = int(value)
        if not_applicable and not item.allows_na:
            raise InputError("this item does not allow 'not applicable'", source=where, column=item_id)
        if not_applicable and value is not None:
            raise InputError("an answer cannot be both given and not applicable", source=where, column=item_id)
        if dont_know and (value is not None or not_applicable):
            raise InputError(
                'an answer cannot be both "don\'t know" and given or not applicable', source=where, column=item_id
            )
        comment = "" if comment is None else str(comment)
        if len(comment) > _MAX_COMMENT or _COMMENT_CONTROL.search(comment):
            raise InputError(
                f"the comment is longer than {_MAX_COMMENT} characters or holds control characters",
                source=where,
                column=item_id,
            )
        params = [
            session,
            respondent_id,
            item_id,
            value,
            bool(not_applicable),
            comment or None,
            _now(),
            bool(dont_know),
        ]

        def work(con: duckdb.DuckDBPyConnection) -> None:
            self._require_respondent(con, session, respondent_id)
            con.execute(_UPSERT, params)

        self._write(work)

    def save_open_answer(self, session: str, respondent_id: str, question_id: str, text: str) -> None:
        """Store a respondent's free-text answer to an open question (empty text: none).

        Raises
        ------
        InputError
            No such open question, or a text longer than
            :data:`~readiness.core.answers.OPEN_TEXT_MAX` characters or holding control
            characters other than line breaks and tabs.
        StoreError
            No such session or respondent, or the database cannot be used.
        """
        where = f"session {session}"
        instrument = self.instrument(session)
        if question_id not in instrument.open_question_ids:
            raise InputError(f"unknown open question {question_id!r}", source=where, column="item_id")
        text = "" if text is None else str(text)
        if len(text) > OPEN_TEXT_MAX or _COMMENT_CONTROL.search(text):
            raise InputError(
                f"the answer is longer than {OPEN_TEXT_MAX} characters or holds control characters",
                source=where,
                column=question_id,
            )
        params = [session, respondent_id, question_id, None, False, text or None, _now(), False]

        def work(con: duckdb.DuckDBPyConnection) -> None:
            self._require_respondent(con, session, respondent_id)
            con.execute(_UPSERT, params)

        self._write(work)

    def answers(self, session: str, respondent_id: str | None = None) -> pd.DataFrame:
        """Stored answers of a session (or of one respondent).

        Returns
        -------
        DataFrame
            ``respondent_id, item_id, value`` (nullable integer), ``not_applicable,
            comment, updated, dont_know``, ordered by respondent and item. An open
            question's row carries its text in ``comment``.
        """
        columns = ["respondent_id", "item_id", "value", "not_applicable", "comment", "updated", "dont_know"]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        sql = (
            "SELECT respondent_id, item_id, value, not_applicable, coalesce(comment, ''), updated, dont_know "
            "FROM answers WHERE session = ?"
        )
        params: list[Any] = [session]
        if respondent_id is not None:
            sql += " AND respondent_id = ?"
            params.append(respondent_id)
        rows = self._read(lambda con: con.execute(sql + " ORDER BY respondent_id, item_id", params).fetchall())
        frame = pd.DataFrame(rows, columns=columns)
        frame["value"] = frame["value"].astype("Int64")
        frame["not_applicable"] = frame["not_applicable"].astype(bool)
        frame["dont_know"] = frame["dont_know"].fillna(False).astype(bool)
        return frame

    # ------------------------------------------------------------------ reading out
    def to_responses(
        self, instrument: Instrument | None = None, *, session: str | None = None, answered_only: bool = False
    ) -> Responses:
        """The answers as :class:`Responses`, ready for :func:`readiness.core.scoring.score`.

        Parameters
        ----------
        instrument : Instrument, optional
            The question set to read the answers with (default: the session's own).
            Answers to items it lacks are ignored, its new items read as unanswered, as a
            responses file would be read.
        session : str, optional
            One session; default every session in the file (each its organization).
        answered_only : bool
            Leave out respondents who have not answered anything yet (nor marked an item
            not applicable or "don't know"): the workshop does not count someone just added.

        Raises
        ------
        StoreError
            No such session, or sessions that cannot be read together (different
            instruments and none given; one respondent id twice in one organization).
        InputError
            A stored respondent or answer that ``instrument`` cannot take (unknown role,
            answer outside its scale).
        """
        if not self.path.exists():
            raise StoreError(f"{self.path}: session store not found")
        # One connection for the whole read: the app calls this after every answer.
        wanted = "WHERE session = ?" if session is not None else ""
        params = [session] if session is not None else []

        def read(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple], list[tuple]]:
            infos = con.execute(
                f"SELECT session, instrument_id, instrument_version FROM sessions {wanted}", params
            ).fetchall()
            people = con.execute(
                f"SELECT session, org_id, respondent_id, role FROM respondents {wanted} "
                "ORDER BY session, respondent_id",
                params,
            ).fetchall()
            given = con.execute(
                f"SELECT session, respondent_id, item_id, value, not_applicable, dont_know, coalesce(comment, '') "
                f"FROM answers {wanted or 'WHERE true'} AND (value IS NOT NULL OR not_applicable OR dont_know "
                "OR comment IS NOT NULL)",
                params,
            ).fetchall()
            return infos, people, given

        infos, people, given = self._read(read)
        if answered_only:
            active = {(row[0], row[1]) for row in given if row[3] is not None or row[4] or row[5]}
            people = [p for p in people if (p[0], p[2]) in active]
        if not infos:
            if session is not None:
                raise StoreError(_one_line(f"{self.path.name}: no session {session!r} in this store"))
            raise StoreError(f"{self.path.name}: holds no session yet")
        if instrument is None:
            kinds = {(instrument_id, version) for _, instrument_id, version in infos}
            if len(kinds) > 1:
                raise StoreError(
                    _one_line(
                        f"{self.path.name}: the sessions use different instruments "
                        f"({', '.join(sorted(f'{a} {b}' for a, b in kinds))}); "
                        "choose a session or give the instrument"
                    )
                )
            instrument = self.instrument(infos[0][0])
        return _responses(instrument, people, given, source=self.path.name)

    def export_csv(self, path: str | Path, *, session: str | None = None, instrument: Instrument | None = None) -> Path:
        """Write the canonical responses CSV (what ``validate``, ``score`` and ``assess`` read).

        One row per respondent, answers as integers, ``NA`` for not applicable, ``DK`` for
        don't know, empty for unanswered, then the open questions' texts and the comments
        (``comment:<item id>``), made inert for spreadsheets: a text that starts like a
        formula gets a leading apostrophe. Written
        atomically: the file is complete or not there at all.

        Parameters
        ----------
        path : str or Path
        session : str, optional
            One session; default every session in the file.
        instrument : Instrument, optional
            Default: the sessions' own.
        """
        from .exporters import neutralize, write_text

        responses = self.to_responses(instrument, session=session)
        if len(responses) == 0:
            raise StoreError(_one_line(f"{self.path.name}: no respondents yet; nothing to export"))
        frame = responses.to_frame()
        texts = [*responses.instrument.open_question_ids, *(c for c in frame.columns if c.startswith(COMMENT_PREFIX))]
        for column in texts:  # open answers and comments: free text, made inert alike
            frame[column] = frame[column].map(neutralize)
        return write_text(path, frame.to_csv(index=False, lineterminator="\n"))

    # ------------------------------------------------------------------ internals
    def _check_role(self, session: str, role: str) -> str:
        roles = tuple(self.instrument(session).roles)
        text = str(role or "").strip().lower()
        if text not in roles:
            raise InputError(
                f"unknown role {str(role)[:40]!r}; expected one of {', '.join(roles)}",
                source=f"session {session}",
                column="role",
            )
        return text

    def _session_org(self, con: duckdb.DuckDBPyConnection, session: str) -> str:
        rows = con.execute("SELECT org_id FROM sessions WHERE session = ?", [session]).fetchall()
        if not rows:
            raise StoreError(_one_line(f"{self.path.name}: no session {session!r} in this store"))
        return rows[0][0]

    def _require_respondent(self, con: duckdb.DuckDBPyConnection, session: str, respondent_id: str) -> None:
        rows = con.execute(
            "SELECT count(*) FROM respondents WHERE session = ? AND respondent_id = ?", [session, respondent_id]
        ).fetchall()
        if not rows[0][0]:
            raise StoreError(_one_line(f"{self.path.name}: no respondent {respondent_id!r} in session {session!r}"))

    def _write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` in one transaction on a fresh connection, creating the schema if needed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            if not self._checked:
                self._ensure_schema(con)
            return _in_transaction(con, lambda: work(con))

    def _read(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._connect() as con:
            if not self._checked:
                self._check_schema(con)
            return _in_transaction(con, lambda: work(con))

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the file, closed on exit; waits out another process's brief lock.

        Always read-write: DuckDB refuses a read-only and a read-write connection to one
        file in the same process, and a kernel both reads and writes.
        """
        _check_regular_file(self.path)
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.Error as exc:
                locked = _is_lock_error(exc)  # not just "lock": "block" is in damaged-file errors
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

            _in_transaction(con, create)
        self._check_schema(con)

    def _check_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """Refuse a file that is not a session store of this layout (a peer database, say)."""
        name = self.path.name
        columns = _columns(con)
        if "meta" not in columns:
            what = "an empty DuckDB database" if not columns else "a DuckDB database but not a session store"
            raise StoreError(f"{name}: is {what} (no meta table)")
        # fetchall, not fetchone: DuckDB 2 refuses further work on a connection while a
        # result is only partly fetched.
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("kind") != STORE_KIND:
            raise StoreError(f"{name}: is not a session store (a peer database?); give another --store file")
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
        if "dont_know" not in columns["answers"]:
            # A store from before "don't know": every connection here may write, so add it now.
            _in_transaction(con, lambda: con.execute("ALTER TABLE answers ADD COLUMN dont_know BOOLEAN DEFAULT false"))
        self._checked = True


# ---------------------------------------------------------------------- helpers
def _responses(instrument: Instrument, people: list[tuple], given: list[tuple], *, source: str) -> Responses:
    """Long-form rows (respondents, answers) to :class:`Responses`, through the one constructor."""
    roles = set(instrument.layout.role_ids)
    seen: dict[tuple[str, str], str] = {}
    row_of: dict[tuple[str, str], int] = {}
    for n, (session, org, rid, role) in enumerate(people):
        if role not in roles:
            raise InputError(
                f"respondent {rid!r} of session {session!r} has role {role!r}, unknown to instrument {instrument.id}",
                source=source,
                column="role",
            )
        if (org, rid) in seen:
            raise StoreError(
                _one_line(
                    f"{source}: respondent {rid!r} of organization {org!r} is in sessions "
                    f"{seen[(org, rid)]!r} and {session!r}; export one session at a time"
                )
            )
        seen[(org, rid)] = session
        row_of[(session, rid)] = n
    # Open questions' texts (never scored) apart; every scored answer and mark through the
    # one constructor, which applies the instrument's rules and words the warnings.
    questions = {q.id: (n, q) for n, q in enumerate(instrument.open_questions)}
    texts = np.full((len(people), len(questions)), "", dtype=object)
    stray_texts: dict[str, int] = {}
    kept = []
    items = set(instrument.layout.item_ids)
    comments: list[tuple[str, str, str, str]] = []  # a comment given on an item: for the report
    for session, rid, item_id, value, not_applicable, dont_know, comment in given:
        i = row_of.get((session, rid))
        if i is None:
            continue  # answers of a removed respondent: not part of the session any more
        if item_id in questions:
            q, question = questions[item_id]
            if people[i][3] in question.roles:
                texts[i, q] = comment
            elif comment:
                stray_texts[item_id] = stray_texts.get(item_id, 0) + 1
            continue
        if comment.strip() and item_id in items:
            comments.append((people[i][1], rid, item_id, comment))
        if value is None and not (not_applicable or dont_know):
            continue  # a comment on an unanswered item: nothing to score
        kept.append((i, item_id, np.nan if value is None else float(value), bool(not_applicable), bool(dont_know)))
    warnings = [
        str(Problem(source, f"{n} answer(s) to {q} from roles it is not put to were ignored", severity="warning"))
        for q, n in stray_texts.items()
    ]
    responses, problems = responses_from_long(
        instrument,
        [(org, rid, role) for _, org, rid, role in people],
        [a[0] for a in kept],
        [a[1] for a in kept],
        [a[2] for a in kept],
        [a[3] for a in kept],
        [a[4] for a in kept],
        open_answers=texts,
        source=source,
        warnings=warnings,
        comments=pd.DataFrame(comments, columns=["org_id", "respondent_id", "topic", "text"]) if comments else None,
    )
    if responses is None:
        first = next(p for p in problems if p.severity == "error")
        raise InputError(f"stored {first.message}", source=source, column=first.column)
    return responses


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored as UTC


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _is_lock_error(exc: duckdb.Error) -> bool:
    message = str(exc).lower()
    return "lock" in message and ("conflicting" in message or "could not set lock" in message)


def _check_regular_file(path: Path) -> None:
    from .peer_store import _check_regular_file as check

    check(path)


def _store_error(path: Path, exc: duckdb.Error) -> StoreError:
    """One line saying what is wrong with the file (shared wording with the peer database)."""
    from .peer_store import _store_error as peer_store_error

    return peer_store_error(path, exc)
