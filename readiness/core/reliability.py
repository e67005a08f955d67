"""Instrument quality on a pool of respondents: Cronbach's alpha and item-total correlations.

Core layer, pure. Used on the peer panel to show how well the questions hang together
("how these numbers were computed" in the report). Per-organization alpha lives in
:mod:`readiness.core.scoring`; here all respondents are pooled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .responses import Responses
from .scoring import normalize

__all__ = ["LOW_ITEM_TOTAL", "cronbach_alpha", "instrument_quality"]

#: Corrected item-total correlation below this flags an item for review.
LOW_ITEM_TOTAL = 0.30
MIN_RESPONDENTS = 10


def cronbach_alpha(x: np.ndarray) -> float:
    """Alpha of complete rows of ``x`` (respondents x items); NaN if it is undefined.

    ``k/(k-1) * (1 - sum of item variances / variance of the total)``, ddof 1.
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if k < 2 or n < 2:
        return float("nan")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan")
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var)


def instrument_quality(responses: Responses) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alpha per facet and dimension, and each item's corrected item-total correlation.

    Returns ``(scales, items)``:

    - ``scales``: ``level`` (facet/dimension), ``id``, ``role``, ``items``, ``n``
      (complete respondents), ``alpha``;
    - ``items``: ``item``, ``facet``, ``n``, ``item_total`` (correlation of the item with
      the sum of the facet's other items, over respondents who answered them all),
      ``flag`` (below :data:`LOW_ITEM_TOTAL`).

    Respondents are pooled across organizations. Each role is asked only what it can
    observe, so a scale may hold no item set that every role answers (a dimension with
    agent-only and manager-only items). A scale is therefore measured within one role:
    for every role, over the scale's items asked of that role (at least two) and that
    role's respondents who answered all of them; the role with the most such respondents
    is the one reported (ties go to the role listed first in the instrument), and
    ``items`` counts its items. A facet's item-total correlations use the same role;
    items not asked of it get none.
    """
    layout = responses.instrument.layout
    raw, _ = normalize(responses.values, layout)
    raw = np.where(layout.asked[responses.role_codes], raw, np.nan)
    roles = responses.role_codes
    scales, items = [], []
    groups = [("facet", f, np.flatnonzero(layout.item_facet == i)) for i, f in enumerate(layout.facet_ids)]
    groups += [
        ("dimension", d, np.flatnonzero(layout.facet_dimension[layout.item_facet] == i))
        for i, d in enumerate(layout.dimension_ids)
    ]
    for level, ident, cols in groups:
        role, role_cols, block = _best_role(raw, roles, layout.asked, cols)
        complete = ~np.isnan(block).any(axis=1)
        n = int(complete.sum())
        alpha = cronbach_alpha(block[complete]) if n >= MIN_RESPONDENTS else float("nan")
        scales.append(
            {
                "level": level,
                "id": ident,
                "role": layout.role_ids[role] if role is not None else None,
                "items": len(role_cols),
                "n": n,
                "alpha": alpha,
            }
        )
        if level != "facet":
            continue
        for col in cols:
            r = float("nan")
            n_ok = 0
            if col in role_cols:
                j = int(np.flatnonzero(role_cols == col)[0])
                others = np.delete(block, j, axis=1)
                ok = ~np.isnan(block[:, j]) & ~np.isnan(others).any(axis=1)
                n_ok = int(ok.sum())
                if n_ok >= MIN_RESPONDENTS and others.shape[1] > 0:
                    a, b = block[ok, j], others[ok].sum(axis=1)
                    if a.std() > 0 and b.std() > 0:
                        r = float(np.corrcoef(a, b)[0, 1])
            items.append(
                {
                    "item": layout.item_ids[col],
                    "facet": ident,
                    "n": n_ok,
                    "item_total": r,
                    "flag": bool(np.isfinite(r) and r < LOW_ITEM_TOTAL),
                }
            )
    return pd.DataFrame(scales), pd.DataFrame(items)


def _best_role(
    raw: np.ndarray, roles: np.ndarray, asked: np.ndarray, cols: np.ndarray
) -> tuple[int | None, np.ndarray, np.ndarray]:
    """The role a scale is measured in: (role index, its items of the scale, its answers)."""
    best: tuple[int | None, np.ndarray, np.ndarray] = (None, cols[:0], raw[:0][:, cols[:0]])
    most = -1
    for r in range(asked.shape[0]):
        role_cols = cols[asked[r, cols]]
        if len(role_cols) < 2:
            continue
        block = raw[roles == r][:, role_cols]
        n = int((~np.isnan(block).any(axis=1)).sum())
        if n > most:
            best, most = (r, role_cols, block), n
    return best
