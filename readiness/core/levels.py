"""Readiness levels: the words that say what an overall or dimension score means.

Core layer, pure. The levels are data, not code: their names, lower bounds and
descriptions live in ``templates/levels.yaml`` (or in an instrument's own ``levels:``
block), which :func:`readiness.io.loaders.load_instrument` attaches to the instrument.
This module validates them and answers the two questions the rest of the framework
asks: which level a score is at, and which level comes next.

A level runs from its ``lower`` bound (inclusive) to the next level's lower bound
(exclusive); the last one runs to 100 inclusive.

Example
-------
>>> scale = (Level(name="low", lower=0), Level(name="high", lower=50))
>>> level_of(49.9, scale).name, level_of(50, scale).name
('low', 'high')
>>> next_level(level_of(10, scale), scale).lower
50.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TOP", "Level", "check_levels", "level_of", "levels_json", "next_level"]

#: Scores run from 0 to this; the last level ends here.
TOP = 100.0


class Level(BaseModel):
    """One readiness level: a name, where it starts on 0-100, and what it means."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60)
    lower: float = Field(ge=0, lt=TOP)
    description: str = ""
    source: tuple[str, ...] = ()  # the source articles the description draws on


def check_levels(levels: Sequence[Level]) -> list[str]:
    """What is wrong with a level scale, one sentence per problem (empty: it is fine).

    A scale starts at 0, its lower bounds increase strictly, and no two levels share a name.
    """
    if not levels:
        return []
    problems = []
    if levels[0].lower != 0:
        problems.append(f"the first level must start at 0 (it starts at {levels[0].lower:g})")
    for before, after in zip(levels, levels[1:]):
        if not after.lower > before.lower:
            problems.append(f"level {after.name!r} must start above {before.name!r} ({before.lower:g})")
    names = [level.name.lower() for level in levels]
    if len(set(names)) != len(names):
        problems.append("two levels have the same name")
    return problems


def level_of(score: float | None, levels: Sequence[Level]) -> Level | None:
    """The level a 0-100 score is at; ``None`` for a missing score or an empty scale."""
    if score is None or not levels or not np.isfinite(score):
        return None
    found = levels[0]
    for level in levels:
        if score >= level.lower:
            found = level
    return found


def next_level(level: Level | None, levels: Sequence[Level]) -> Level | None:
    """The level after ``level``; ``None`` at the top of the scale (or without a level)."""
    if level is None or level not in levels:
        return None
    position = list(levels).index(level)
    return levels[position + 1] if position + 1 < len(levels) else None


def upper_of(level: Level, levels: Sequence[Level]) -> float:
    """Where a level ends: the next level's lower bound, or 100 for the last."""
    following = next_level(level, levels)
    return following.lower if following is not None else TOP


def levels_json(levels: Sequence[Level]) -> list[dict[str, Any]]:
    """The scale as results.json ``method.levels``: ``name, lower, upper, description``."""
    return [
        {"name": lv.name, "lower": lv.lower, "upper": upper_of(lv, levels), "description": lv.description}
        for lv in levels
    ]
