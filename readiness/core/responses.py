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

__all__ = ["Responses"]


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
    """

    instrument: Instrument
    meta: pd.DataFrame
    values: np.ndarray
    not_applicable: np.ndarray
    dont_know: np.ndarray
    open_answers: np.ndarray
    warnings: tuple[str, ...] = field(default=())
    source: str = ""  # the file the answers came from, for messages

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
    ) -> Responses:
        """Build from parallel arrays (values in layout item order), sorting canonically."""
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
        return cls(instrument, meta, values, not_applicable, dont_know, texts, tuple(warnings), source)

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
        return Responses(
            self.instrument,
            self.meta.loc[mask].reset_index(drop=True),
            self.values[mask],
            self.not_applicable[mask],
            self.dont_know[mask],
            self.open_answers[mask],
            self.warnings,
            self.source,
        )

    def to_frame(self, *, na_text: str = NOT_APPLICABLE_TEXT, dk_text: str = DONT_KNOW_TEXT) -> pd.DataFrame:
        """The canonical wide form: answers as integers, N/A as ``na_text``, don't know as
        ``dk_text``, then one column per open question with its texts as given."""
        layout = self.instrument.layout
        columns = list(layout.item_ids)
        answers = pd.DataFrame(self.values, columns=columns).astype("Int64").astype(object)
        answers = answers.where(~pd.isna(answers), "")
        answers = answers.mask(pd.DataFrame(self.not_applicable, columns=columns), na_text)
        answers = answers.mask(pd.DataFrame(self.dont_know, columns=columns), dk_text)
        texts = pd.DataFrame(self.open_answers, columns=list(self.instrument.open_question_ids), dtype=object)
        return pd.concat([self.meta[["org_id", "respondent_id", "role"]], answers, texts], axis=1)

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
