"""How many agents are unwilling or unable to sell: the form of the published "40%" figure.

Core layer, pure. The instrument names the role and the two items
(:class:`~readiness.core.instrument.WillingAndAble`); this module holds the rule:

- an answer is at the **low end** of an item when, after reverse-coding, it lies below the
  scale's midpoint: ``x' < (k + 1) / 2``, that is 1 or 2 on a 5-point scale (the two
  "disagree" answers of an agreement item);
- a respondent of the role is **unwilling** when their answer to the willingness item is
  at the low end, **unable** when their answer to the ability item is;
- they are **classified** when either answer is at the low end (they are unwilling or
  unable whatever the other answer), or when both items are answered and neither is low
  (willing and able). A respondent who answered only one item, not low, or neither, is
  not classified: "don't know" and blanks say nothing either way;
- the share is (unwilling or unable) / classified.

``docs/scoring.md`` states the same rule; ``docs/results-schema.md`` the field it fills.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .responses import Responses

__all__ = ["WILLINGNESS_COLUMNS", "WILLINGNESS_RULE", "low_end", "willingness_counts"]

#: Columns of :func:`willingness_counts`.
WILLINGNESS_COLUMNS = ("respondents", "classified", "unwilling", "unable", "unwilling_or_unable")

#: The rule in words, as results.json states it.
WILLINGNESS_RULE = (
    "a respondent counts as unwilling or unable when they answer either item below the middle of its scale "
    "(disagree or strongly disagree on five points); one who answered both items and neither low counts as "
    "willing and able; one who answered neither item low and not both is not counted"
)


def low_end(raw: np.ndarray, scale_points: int) -> np.ndarray:
    """Whether reverse-coded answers ``raw`` (1..k, NaN for none) are below the scale's midpoint."""
    with np.errstate(invalid="ignore"):
        return np.asarray(raw < (scale_points + 1) / 2.0)


def willingness_counts(responses: Responses) -> pd.DataFrame:
    """Per organization: respondents of the role, classified, unwilling, unable, either.

    Returns an empty frame (indexed by ``org_id``, the columns of
    :data:`WILLINGNESS_COLUMNS`) when the instrument names no willingness items.
    """
    instrument = responses.instrument
    block = instrument.unwilling_or_unable
    index = pd.Index(list(responses.org_ids), name="org_id")
    if block is None:
        return pd.DataFrame(columns=list(WILLINGNESS_COLUMNS), index=index[:0], dtype=np.int64)
    layout = instrument.layout
    k = layout.scale_points
    columns = [layout.item_ids.index(block.willing), layout.item_ids.index(block.able)]
    raw = responses.values[:, columns]
    reverse = layout.reverse[columns]
    raw = np.where(reverse, (k + 1) - raw, raw)
    low = low_end(raw, k)
    answered = ~np.isnan(raw)
    in_role = responses.role_codes == layout.role_ids.index(block.role)
    unwilling = in_role & low[:, 0]
    unable = in_role & low[:, 1]
    either = unwilling | unable
    classified = either | (in_role & answered.all(axis=1))
    # counted per organization by its code (an organization without respondents of the role counts 0)
    orgs = responses.org_codes

    def per_org(flags: np.ndarray) -> np.ndarray:
        return np.bincount(orgs[flags], minlength=len(index)).astype(np.int64)

    counts = (in_role, classified, unwilling, unable, either)
    return pd.DataFrame({name: per_org(c) for name, c in zip(WILLINGNESS_COLUMNS, counts)}, index=index, copy=False)
