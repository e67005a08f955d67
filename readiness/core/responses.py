"""Validated questionnaire answers, held as arrays aligned with an instrument's layout.

:class:`Responses` is what the loaders produce and what scoring consumes. Respondents
are kept in a canonical order (organization, role, respondent id) so that scores and
bootstrap intervals do not depend on the order of rows in the file. Besides the answers
it holds two masks, "not applicable" and "don't know" (:mod:`readiness.core.answers`), and
the free-text answers to the instrument's open questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .answers import DONT_KNOW_TEXT, NOT_APPLICABLE_TEXT
from .instrument import Instrument

__all__ = ["COMMENT_COLUMNS", "COMMENT_PREFIX", "Responses"]

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
    values : ndarray (respondents, items)
        Raw answers 1..scale_points as floats; NaN where no answer was given.
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
        comments: pd.DataFrame | None = None,
    ) -> Responses:
        """Build from parallel arrays (values in layout item order), sorting canonically.

        ``comments``, when given, has the :data:`COMMENT_COLUMNS` (``role`` may be left
        out: it is taken from the respondent); comments of respondents not in the arrays
        are dropped.
        """
        layout = instrument.layout
        values = np.asarray(values, dtype=float)
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
        meta["_role_code"] = meta["role"].map(role_index).astype(np.int64)
        order = np.lexsort((meta["respondent_id"].to_numpy(), meta["_role_code"].to_numpy(), meta["org_id"].to_numpy()))
        meta = meta.iloc[order].drop(columns="_role_code").reset_index(drop=True)
        values = values[order]
        not_applicable = not_applicable[order]
        dont_know = dont_know[order]
        texts = texts[order]
        # An N/A or don't-know mark and an answer cannot both stand; a mark wins only where
        # no answer is given, and N/A wins over don't know.
        not_applicable = not_applicable & np.isnan(values)
        dont_know = dont_know & np.isnan(values) & ~not_applicable
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
