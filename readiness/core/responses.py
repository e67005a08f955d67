"""Validated questionnaire answers, held as arrays aligned with an instrument's layout.

:class:`Responses` is what the loaders produce and what scoring consumes. Respondents
are kept in a canonical order (organization, role, respondent id) so that scores and
bootstrap intervals do not depend on the order of rows in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

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
    warnings : tuple of str
        Non-fatal findings of the loader, carried into results.
    """

    instrument: Instrument
    meta: pd.DataFrame
    values: np.ndarray
    not_applicable: np.ndarray
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
        # An N/A mark and an answer cannot both stand; N/A wins only where no answer is given.
        not_applicable = not_applicable & np.isnan(values)
        values.setflags(write=False)
        not_applicable.setflags(write=False)
        return cls(instrument, meta, values, not_applicable, tuple(warnings), source)

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
        mask = self.meta["org_id"].isin(list(org_ids)).to_numpy()
        return Responses(
            self.instrument,
            self.meta.loc[mask].reset_index(drop=True),
            self.values[mask],
            self.not_applicable[mask],
            self.warnings,
            self.source,
        )

    def to_frame(self, *, na_text: str = "NA") -> pd.DataFrame:
        """The canonical wide form (answers as integers, N/A as ``na_text``)."""
        layout = self.instrument.layout
        answers = pd.DataFrame(self.values, columns=list(layout.item_ids)).astype("Int64").astype(object)
        answers = answers.where(~pd.isna(answers), "")
        answers = answers.mask(pd.DataFrame(self.not_applicable, columns=list(layout.item_ids)), na_text)
        return pd.concat([self.meta[["org_id", "respondent_id", "role"]], answers], axis=1)
