"""Validated questionnaire answers, held as arrays aligned with an instrument's layout.

:class:`Responses` is what the loaders produce and what scoring consumes. Respondents
are kept in a canonical order (organization, role, respondent id) so that scores and
bootstrap intervals do not depend on the order of rows in the file. Besides the answers
it holds two masks, "not applicable" and "don't know" (:mod:`readiness.core.answers`),
the free-text answers to the instrument's open questions, and comments given on a facet
or an item.

:func:`build_responses` is the one way answers become :class:`Responses`, whoever read
them (a responses file, the peer database, a workshop session): it applies the
instrument's rules (an answer or a mark on an item not asked of the role is dropped, N/A
on an item that does not allow it counts as unanswered, an answer outside the scale is
an error) and words the warnings the same way for all. :func:`responses_from_long` is its
entry for answers stored one per row; :func:`missing_dimensions` finds organizations
with no answer at all in a dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .answers import DONT_KNOW_TEXT, NOT_APPLICABLE_TEXT, answer_problem
from .errors import MAX_PROBLEMS, Problem
from .instrument import Instrument

__all__ = [
    "COMMENT_COLUMNS",
    "COMMENT_PREFIX",
    "Responses",
    "build_responses",
    "canonical_order",
    "missing_dimensions",
    "responses_from_long",
]

#: Columns of :attr:`Responses.comments`.
COMMENT_COLUMNS: tuple[str, ...] = ("org_id", "respondent_id", "role", "topic", "text")
#: A responses column named ``comment:<facet id or item id>`` holds free-text comments.
COMMENT_PREFIX = "comment:"


@dataclass(frozen=True, eq=False)
class Responses:
    """Answers of many respondents, possibly from many organizations.

    Attributes
    ----------
    instrument : Instrument
    meta : DataFrame
        ``org_id, respondent_id, role`` (and ``row``, the source row), one row per
        respondent, in canonical order.
    values : ndarray (respondents, items) of float32
        Raw answers 1..scale_points; NaN where no answer was given. Single precision
        holds every answer exactly in half the memory; scoring computes in double.
    not_applicable : ndarray (respondents, items) of bool
        The respondent marked the item not applicable.
    dont_know : ndarray (respondents, items) of bool
        The respondent answered "don't know". Never together with an answer or N/A.
    open_answers : ndarray (respondents, open questions) of str
        Free-text answers to ``instrument.open_questions`` in that order; ``""`` for none.
    warnings : tuple of str
        Non-fatal findings of the loader, carried into results.
    comments : DataFrame or None
        Free-text comments, one row each: ``org_id, respondent_id, role, topic, text``,
        where ``topic`` is the facet id or item id the comment was given on (the
        ``comment:<topic>`` column of a responses file, or a workshop item's comment).
    """

    instrument: Instrument
    meta: pd.DataFrame
    values: np.ndarray
    not_applicable: np.ndarray
    dont_know: np.ndarray
    open_answers: np.ndarray
    warnings: tuple[str, ...] = field(default=())
    source: str = ""  # the file the answers came from, for messages
    comments: pd.DataFrame | None = None

    @classmethod
    def from_arrays(
        cls,
        instrument: Instrument,
        org_ids: Sequence[str],
        respondent_ids: Sequence[str],
        roles: Sequence[str],
        values: np.ndarray,
        not_applicable: np.ndarray | None = None,
        *,
        dont_know: np.ndarray | None = None,
        open_answers: np.ndarray | Sequence[Sequence[str]] | None = None,
        rows: Sequence[int] | None = None,
        warnings: Sequence[str] = (),
        source: str = "",
        copy: bool = True,
        comments: pd.DataFrame | None = None,
    ) -> Responses:
        """Build from parallel arrays (values in layout item order), sorting canonically.

        With ``copy=False`` the arrays are taken over (and made read-only) when they are
        already in canonical order: no copy of a large file's answers.

        ``comments``, when given, has the :data:`COMMENT_COLUMNS` (``role`` may be left
        out: it is taken from the respondent); comments of respondents not in the arrays
        are dropped.
        """
        layout = instrument.layout
        values = np.asarray(values, dtype=np.float32)
        n = len(org_ids)
        if values.shape != (n, len(layout.item_ids)):
            raise ValueError(f"values must have shape ({n}, {len(layout.item_ids)}), got {values.shape}")
        if not_applicable is None:
            not_applicable = np.zeros(values.shape, dtype=bool)
        not_applicable = np.asarray(not_applicable, dtype=bool)
        if dont_know is None:
            dont_know = np.zeros(values.shape, dtype=bool)
        dont_know = np.asarray(dont_know, dtype=bool)
        n_open = len(instrument.open_questions)
        if open_answers is None:
            texts = np.full((n, n_open), "", dtype=object)
        else:
            texts = np.array([["" if t is None else str(t) for t in row] for row in open_answers], dtype=object)
            texts = texts.reshape(n, n_open)
        role_index = {r: i for i, r in enumerate(layout.role_ids)}
        unknown = sorted(set(roles) - set(role_index))
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(map(str, unknown))}")
        meta = pd.DataFrame(
            {
                "org_id": pd.Series(org_ids, dtype=object).astype(str),
                "respondent_id": pd.Series(respondent_ids, dtype=object).astype(str),
                "role": pd.Series(roles, dtype=object).astype(str),
                "row": np.asarray(rows if rows is not None else np.arange(2, n + 2), dtype=np.int64),
            }
        )
        order = canonical_order(instrument, meta["org_id"], meta["respondent_id"], meta["role"])
        if np.array_equal(order, np.arange(n)):  # already in order (the loaders sort first)
            meta = meta.reset_index(drop=True)
            if copy:
                values, not_applicable, dont_know = values.copy(), not_applicable.copy(), dont_know.copy()
        else:
            meta = meta.iloc[order].reset_index(drop=True)
            values = values[order]
            not_applicable = not_applicable[order]
            dont_know = dont_know[order]
            texts = texts[order]
        # An N/A or don't-know mark and an answer cannot both stand; a mark wins only where
        # no answer is given, and N/A wins over don't know. Column by column, in place: no
        # copy of a large file's answers.
        for j in range(values.shape[1]):
            missing = np.isnan(values[:, j])
            not_applicable[:, j] &= missing
            dont_know[:, j] &= missing & ~not_applicable[:, j]
        for array in (values, not_applicable, dont_know, texts):
            array.setflags(write=False)
        return cls(
            instrument,
            meta,
            values,
            not_applicable,
            dont_know,
            texts,
            tuple(warnings),
            source,
            _comments(comments, meta),
        )

    # ------------------------------------------------------------------ derived
    @cached_property
    def org_ids(self) -> tuple[str, ...]:
        """Organizations in canonical (sorted) order."""
        return tuple(pd.unique(self.meta["org_id"]))

    @cached_property
    def whole_answers(self) -> bool:
        """Every answer given is a whole number on the instrument's scale (what the loaders produce).

        The scoring engine then works in float32, whose whole numbers below 2**24 are
        exact; answers built by hand that are not whole numbers are scored in float64.
        """
        given = self.values[~np.isnan(self.values)]
        k = self.instrument.layout.scale_points
        return bool(given.size == 0 or (given.min() >= 1 and given.max() <= k and (given == np.rint(given)).all()))

    @cached_property
    def org_codes(self) -> np.ndarray:
        return pd.Categorical(self.meta["org_id"], categories=list(self.org_ids)).codes.astype(np.intp)

    @cached_property
    def role_codes(self) -> np.ndarray:
        roles = list(self.instrument.layout.role_ids)
        return pd.Categorical(self.meta["role"], categories=roles).codes.astype(np.intp)

    def __len__(self) -> int:
        return len(self.meta)

    def select(self, org_ids: Sequence[str]) -> Responses:
        """The respondents of the given organizations only (canonical order kept)."""
        return self.take(self.meta["org_id"].isin(list(org_ids)).to_numpy())

    def take(self, mask: np.ndarray) -> Responses:
        """The respondents where ``mask`` (a boolean array over respondents) is true."""
        mask = np.asarray(mask, dtype=bool)
        meta = self.meta.loc[mask].reset_index(drop=True)
        comments = self.comments
        if comments is not None:
            kept = set(zip(meta["org_id"], meta["respondent_id"]))
            keep = [k in kept for k in zip(comments["org_id"], comments["respondent_id"])]
            comments = comments[keep].reset_index(drop=True) if any(keep) else None
        return Responses(
            self.instrument,
            meta,
            self.values[mask],
            self.not_applicable[mask],
            self.dont_know[mask],
            self.open_answers[mask],
            self.warnings,
            self.source,
            comments,
        )

    def comment_frame(self) -> pd.DataFrame:
        """The comments (:data:`COMMENT_COLUMNS`), empty when there are none."""
        if self.comments is None:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in COMMENT_COLUMNS})
        return self.comments

    def to_frame(self, *, na_text: str = NOT_APPLICABLE_TEXT, dk_text: str = DONT_KNOW_TEXT) -> pd.DataFrame:
        """The canonical wide form: answers as integers, N/A as ``na_text``, don't know as
        ``dk_text``, then one column per open question with its texts as given, and one
        ``comment:<topic>`` column per facet or item commented on."""
        layout = self.instrument.layout
        columns = list(layout.item_ids)
        answers = pd.DataFrame(self.values, columns=columns).astype("Int64").astype(object)
        answers = answers.where(~pd.isna(answers), "")
        answers = answers.mask(pd.DataFrame(self.not_applicable, columns=columns), na_text)
        answers = answers.mask(pd.DataFrame(self.dont_know, columns=columns), dk_text)
        texts = pd.DataFrame(self.open_answers, columns=list(self.instrument.open_question_ids), dtype=object)
        frame = pd.concat([self.meta[["org_id", "respondent_id", "role"]], answers, texts], axis=1)
        comments = self.comment_frame()
        if len(comments):
            # one ``comment:<topic>`` column per topic commented on, in the instrument's order
            order = {t: n for n, t in enumerate([*layout.facet_ids, *layout.item_ids])}
            topics = sorted(set(comments["topic"]), key=lambda t: (order.get(t, len(order)), t))
            key = dict(zip(zip(frame["org_id"], frame["respondent_id"]), range(len(frame))))
            for topic in topics:
                column = [""] * len(frame)
                for row in comments[comments["topic"] == topic].itertuples(index=False):
                    i = key.get((row.org_id, row.respondent_id))
                    if i is not None:
                        column[i] = row.text if not column[i] else column[i] + "\n" + row.text
                frame[COMMENT_PREFIX + topic] = column
        return frame

    def open_answers_frame(self) -> pd.DataFrame:
        """The free-text answers given, one row each: ``org_id, respondent_id, role, question, text``.

        Empty answers are left out; rows are in canonical respondent order, then question order.
        """
        columns = ["org_id", "respondent_id", "role", "question", "text"]
        if not self.open_answers.size:
            return pd.DataFrame(columns=columns)
        r, q = np.nonzero(self.open_answers != "")
        ids = np.asarray(self.instrument.open_question_ids, dtype=object)
        out = self.meta[["org_id", "respondent_id", "role"]].iloc[r].reset_index(drop=True)
        out["question"] = ids[q]
        out["text"] = self.open_answers[r, q]
        return out


def canonical_order(
    instrument: Instrument, org_ids: Sequence[str], respondent_ids: Sequence[str], roles: Sequence[str]
) -> np.ndarray:
    """The permutation that sorts respondents by organization, role (instrument order) and id.

    Ids are compared as text (as :func:`sorted` would); each is ranked once, so a large
    file is sorted on integers.
    """
    role_index = {r: i for i, r in enumerate(instrument.layout.role_ids)}
    role_code = np.array([role_index[r] for r in roles], dtype=np.int64)
    org_rank, _ = pd.factorize(np.asarray(org_ids, dtype=object), sort=True)
    rid_rank, _ = pd.factorize(np.asarray(respondent_ids, dtype=object), sort=True)
    return np.lexsort((rid_rank, role_code, org_rank))


def build_responses(
    instrument: Instrument,
    org_ids: Sequence[str],
    respondent_ids: Sequence[str],
    roles: Sequence[str],
    values: np.ndarray,
    not_applicable: np.ndarray | None = None,
    *,
    dont_know: np.ndarray | None = None,
    open_answers: np.ndarray | None = None,
    rows: Sequence[int] | None = None,
    columns: Sequence[str | None] | None = None,
    source: str = "",
    warnings: Sequence[str] = (),
    comments: pd.DataFrame | None = None,
) -> tuple[Responses | None, list[Problem]]:
    """Answers as :class:`Responses`, under the instrument's rules; the one constructor.

    Parameters
    ----------
    instrument : Instrument
    org_ids, respondent_ids, roles : sequences of str
        One per respondent; ids already normalized, roles the instrument's.
    values : ndarray (respondents, items)
        Answers in the instrument's item order, NaN where none. Taken over and changed in
        place (answers the rules drop become NaN).
    not_applicable, dont_know : ndarray of bool, optional
        Items marked not applicable, or answered "don't know".
    open_answers : ndarray (respondents, open questions) of str, optional
        Free-text answers, already checked by the reader.
    rows, columns : optional
        Where each respondent and each item came from, for messages.
    source : str
        The file or store read.
    warnings : sequence of str
        Earlier warnings of the reader, kept in front of this function's own.
    comments : DataFrame, optional
        Free-text comments (``org_id, respondent_id, topic, text``; topic a facet or item
        id), already checked by the reader; see :attr:`Responses.comments`.

    Returns
    -------
    (Responses or None, list of Problem)
        ``None`` when an answer is outside the scale; the problems hold those errors
        and the warnings: N/A marks on items that do not allow N/A (read as unanswered),
        answers and marks on items not asked of the respondent's role (ignored).
    """
    layout = instrument.layout
    values = np.asarray(values, dtype=np.float32)
    n = len(org_ids)
    na = np.zeros(values.shape, dtype=bool) if not_applicable is None else np.asarray(not_applicable, dtype=bool)
    dk = np.zeros(values.shape, dtype=bool) if dont_know is None else np.asarray(dont_know, dtype=bool)
    problems: list[Problem] = []
    k = instrument.scale_points
    role_index = {r: i for i, r in enumerate(layout.role_ids)}
    role_code = np.array([role_index[r] for r in roles], dtype=np.intp) if n else np.zeros(0, dtype=np.intp)
    refused = stray = 0
    # Column by column: a large file's answers are never copied whole for a check.
    for j, item_id in enumerate(layout.item_ids):
        column = values[:, j]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~np.isnan(column) & ((column < 1) | (column > k) | (column != np.round(column))))
        for i in bad[: MAX_PROBLEMS - len(problems)].tolist():
            problems.append(
                Problem(
                    source,
                    answer_problem(format(float(column[i]), "g"), k),
                    row=int(rows[i]) if rows is not None else None,
                    column=(columns[j] if columns is not None else None) or item_id,
                )
            )
        if problems:
            continue
        marks, unknowns = na[:, j], dk[:, j]
        if not layout.allows_na[j] and marks.any():
            refused += int(marks.sum())
            marks[:] = False
        not_asked = ~layout.asked[role_code, j]
        dropped = not_asked & (~np.isnan(column) | marks | unknowns)
        if dropped.any():
            stray += int(dropped.sum())
            column[not_asked] = np.nan
            marks[not_asked] = False
            unknowns[not_asked] = False
    if problems:
        return None, problems
    if refused:
        problems.append(
            Problem(
                source,
                f"{refused} N/A answer(s) given to items that do not allow N/A were treated as unanswered",
                severity="warning",
            )
        )
    if stray:
        problems.append(
            Problem(
                source,
                f"{stray} answer(s) to items not asked of the respondent's role were ignored",
                severity="warning",
            )
        )
    notes = [*warnings, *(str(p) for p in problems)]
    responses = Responses.from_arrays(
        instrument,
        org_ids,
        respondent_ids,
        roles,
        values,
        na,
        dont_know=dk,
        open_answers=open_answers,
        rows=rows,
        warnings=notes,
        source=source,
        copy=False,
        comments=comments,
    )
    return responses, problems


def responses_from_long(
    instrument: Instrument,
    people: Sequence[tuple[str, str, str]],
    person: Sequence[int] | np.ndarray,
    item: Sequence[str],
    value: Sequence[float | None] | np.ndarray,
    not_applicable: Sequence[bool] | np.ndarray,
    dont_know: Sequence[bool] | np.ndarray | None = None,
    *,
    open_answers: np.ndarray | None = None,
    source: str = "",
    warnings: Sequence[str] = (),
    comments: pd.DataFrame | None = None,
) -> tuple[Responses | None, list[Problem]]:
    """:func:`build_responses` for answers stored one per row (the peer and workshop stores).

    ``people`` are ``(org_id, respondent_id, role)``; the answers are parallel arrays:
    the index of the respondent in ``people``, the item id, the value (NaN or ``None``
    for none), the not-applicable and the don't-know marks. Item ids match the
    instrument's in any case; answers to items the instrument lacks are ignored, with a
    warning.
    """
    layout = instrument.layout
    column = {item_id.casefold(): j for j, item_id in enumerate(layout.item_ids)}
    values = np.full((len(people), len(layout.item_ids)), np.nan, dtype=np.float32)
    na = np.zeros(values.shape, dtype=bool)
    dk = np.zeros(values.shape, dtype=bool)
    who = np.asarray(person, dtype=np.intp)
    where = pd.Series(list(item), dtype=object).astype(str).str.casefold().map(column).to_numpy(dtype=float)
    given = pd.to_numeric(pd.Series(list(value), dtype=object), errors="coerce").to_numpy(dtype=float)
    marked = np.asarray(not_applicable, dtype=bool)
    unknown_marks = np.zeros(len(who), dtype=bool) if dont_know is None else np.asarray(dont_know, dtype=bool)
    known = ~np.isnan(where)
    cols = where[known].astype(np.intp)
    values[who[known], cols] = given[known]
    na[who[known], cols] = marked[known] & np.isnan(given[known])
    dk[who[known], cols] = unknown_marks[known] & np.isnan(given[known]) & ~marked[known]
    notes = list(warnings)
    ignored = int((~known & (~np.isnan(given) | marked | unknown_marks)).sum())
    if ignored:
        notes.append(
            str(
                Problem(
                    source,
                    f"{ignored} answer(s) to items instrument {instrument.id!r} lacks were ignored",
                    severity="warning",
                )
            )
        )
    return build_responses(
        instrument,
        [p[0] for p in people],
        [p[1] for p in people],
        [p[2] for p in people],
        values,
        na,
        dont_know=dk,
        open_answers=open_answers,
        source=source,
        warnings=notes,
        comments=comments,
    )


def missing_dimensions(responses: Responses, orgs: Sequence[str] | None = None) -> list[Problem]:
    """Organizations with no answer at all to a dimension's items: one error each.

    Their overall score would quietly come from the other dimensions. Marks (not
    applicable, don't know) are no answers. The problem names the organization's first
    row and the dimension's first item.
    """
    layout = responses.instrument.layout
    if not len(responses):
        return []
    item_dimension = layout.facet_dimension[layout.item_facet]
    # respondents are sorted by organization: each organization is one run of rows
    codes = responses.org_codes
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    per_dim = np.zeros((len(starts), len(layout.dimension_ids)), dtype=np.int64)
    for d in range(len(layout.dimension_ids)):
        given = (~np.isnan(responses.values[:, item_dimension == d])).sum(axis=1)
        per_dim[:, d] = np.add.reduceat(given, starts)
    first_row = np.minimum.reduceat(responses.meta["row"].to_numpy(), starts)
    wanted = None if orgs is None else set(orgs)
    problems = []
    for o, d in zip(*np.nonzero(per_dim == 0)):
        org = responses.org_ids[codes[starts[o]]]
        if wanted is not None and org not in wanted:
            continue
        items = [layout.item_ids[j] for j in np.flatnonzero(item_dimension == d)]
        problems.append(
            Problem(
                responses.source,
                f"organization {org[:40]!r} has no answer to any {layout.dimension_ids[d]} item "
                f"({items[0]} to {items[-1]}): its overall score would come from the other dimensions alone",
                row=int(first_row[o]),
                column=items[0],
            )
        )
    return problems


def _comments(comments: pd.DataFrame | None, meta: pd.DataFrame) -> pd.DataFrame | None:
    """Comments checked against the respondents: role from ``meta``, empty texts dropped, sorted."""
    if comments is None or not len(comments):
        return None
    roles = dict(zip(zip(meta["org_id"], meta["respondent_id"]), meta["role"]))
    frame = pd.DataFrame(
        {
            "org_id": comments["org_id"].astype(str),
            "respondent_id": comments["respondent_id"].astype(str),
            "topic": comments["topic"].astype(str),
            "text": comments["text"].astype(str).str.strip(),
        }
    )
    frame["role"] = [roles.get(k) for k in zip(frame["org_id"], frame["respondent_id"])]
    frame = frame[frame["role"].notna() & (frame["text"] != "")]
    if not len(frame):
        return None
    frame = frame.sort_values(["org_id", "respondent_id", "topic"], kind="mergesort")
    return frame[list(COMMENT_COLUMNS)].reset_index(drop=True)
