"""The instrument: dimensions, facets and items, with their weights and answer labels.

An instrument is data (``templates/instruments/*.yaml``). This module turns the parsed
mapping into immutable, validated types and precomputes the arrays the scoring engine
works on (:class:`Layout`). It reads no files: :mod:`readiness.io.loaders` does that.

Example
-------
>>> inst = Instrument.from_dict(spec, source="my.yaml")        # doctest: +SKIP
>>> inst.layout.item_ids[:2]                                     # doctest: +SKIP
('PEO_HIR_1', 'PEO_HIR_2')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .answers import is_reserved_label, normalize_label, numeral_value
from .errors import InputError, Problem
from .levels import Level, check_levels, levels_json

__all__ = [
    "DIMENSIONS",
    "META_COLUMNS",
    "Dimension",
    "Facet",
    "Instrument",
    "Item",
    "Layout",
    "OpenQuestion",
    "WillingAndAble",
]

#: The four dimensions, in the order the lessons put them (people before technology).
DIMENSIONS: tuple[str, ...] = ("people", "process", "technology", "knowledge")

#: Columns every responses file has before its item columns.
META_COLUMNS: tuple[str, ...] = ("org_id", "respondent_id", "role")

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FACET_ID = re.compile(r"^[a-z]+\.[a-z][a-z0-9_]*$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$")


def _column_id(value: str) -> str:
    """An item or open-question id: it names a column of the responses files."""
    if not _IDENT.match(value):
        raise ValueError(f"item id {value!r} must be a letter followed by letters, digits or _")
    if value.lower() in META_COLUMNS:
        raise ValueError(f"item id {value!r} clashes with a responses column")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Item(_Model):
    """One statement a respondent rates on the instrument's scale."""

    id: str
    text: str = Field(min_length=1)
    kind: Literal["practice", "attitude"] = "practice"
    labels: tuple[str, ...]
    reverse: bool = False
    roles: tuple[str, ...] = Field(min_length=1)
    allows_na: bool = False
    source: str = ""

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _column_id(value)

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # compared as answers are read (readiness.core.answers): case, spacing, quotes aside
        lowered = [normalize_label(label) for label in value]
        if any(not label for label in lowered):
            raise ValueError("labels must not be empty")
        if len(set(lowered)) != len(lowered):
            raise ValueError("labels must differ from each other (ignoring case, spacing and quote marks)")
        if any(_NUMBER.match(label) or numeral_value(label) is not None for label in lowered):
            raise ValueError("a label must not be a number: numbers are answers already")
        if any(is_reserved_label(label) for label in lowered):
            raise ValueError("'NA', 'N/A', 'DK' and 'Don't know' are reserved for not applicable and don't know")
        return value


class OpenQuestion(_Model):
    """A question answered in the respondent's own words: never scored, kept as written.

    Open questions sit outside the dimensions. Their answers travel in a column of their
    own (the question's id) and are kept by :class:`~readiness.core.responses.Responses`
    for the report to quote.
    """

    id: str
    text: str = Field(min_length=1)
    roles: tuple[str, ...] = Field(min_length=1)
    source: str = ""

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return _column_id(value)


class WillingAndAble(_Model):
    """The two items that say whether a respondent is willing and able to sell.

    A respondent of ``role`` counts as unwilling or unable when they answer either item at
    the low end of its scale (:func:`readiness.core.willingness.willingness_counts`). The
    form of the published figure "40% of reps are unwilling or unable to make the change"
    (``003``).
    """

    role: str
    willing: str
    able: str


class Facet(_Model):
    """A practice area within a dimension, scored from its items."""

    id: str
    title: str
    weight: float = Field(default=1.0, gt=0)
    description: str = ""
    items: tuple[Item, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _facet_id(cls, value: str) -> str:
        if not _FACET_ID.match(value):
            raise ValueError(f"facet id {value!r} must look like 'dimension.name' (lowercase)")
        return value


class Dimension(_Model):
    """One of people, process, technology, knowledge."""

    id: Literal["people", "process", "technology", "knowledge"]
    title: str
    weight: float = Field(default=1.0, gt=0)
    description: str = ""
    facets: tuple[Facet, ...] = Field(min_length=1)


class Instrument(_Model):
    """A validated question set. Build with :meth:`from_dict`."""

    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    scale_points: int = Field(default=5, ge=2, le=11)
    roles: dict[str, float] = Field(min_length=1)
    dimensions: tuple[Dimension, ...]
    #: The readiness levels (``docs/scoring.md``); the loader attaches ``templates/levels.yaml``
    #: when the instrument file has none of its own. Empty: scores get no level name.
    levels: tuple[Level, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    unwilling_or_unable: WillingAndAble | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value

    @field_validator("roles")
    @classmethod
    def _role_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for role, weight in value.items():
            if not _IDENT.match(role) or role != role.lower():
                raise ValueError(f"role {role!r} must be a lowercase identifier")
            if not weight > 0:
                raise ValueError(f"role {role!r} must have a positive weight")
        return value

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, source: str = "<instrument>") -> Instrument:
        """Validate a parsed instrument mapping; raise :class:`InputError` on any problem.

        Items may name a shared ``label_set`` instead of listing ``labels``.
        """
        if not isinstance(spec, Mapping):
            raise InputError("an instrument must be a mapping at the top level", source=source)
        spec = _resolve_label_sets(dict(spec), source)
        try:
            instrument = cls.model_validate(spec)
        except ValidationError as exc:
            problems = [Problem(source, _pydantic_message(err), key=_loc(err["loc"])) for err in exc.errors()]
            raise InputError(problems=problems) from None
        problems = instrument._cross_checks(source)
        if problems:
            raise InputError(problems=problems)
        return instrument

    def _cross_checks(self, source: str) -> list[Problem]:
        problems: list[Problem] = []
        seen_dims = [d.id for d in self.dimensions]
        if sorted(seen_dims) != sorted(DIMENSIONS):
            problems.append(
                Problem(
                    source,
                    f"dimensions must be exactly {', '.join(DIMENSIONS)} (found {', '.join(seen_dims)})",
                    key="dimensions",
                )
            )
        facet_ids: set[str] = set()
        item_ids: set[str] = set()
        for d_i, dim in enumerate(self.dimensions):
            for f_i, facet in enumerate(dim.facets):
                where = f"dimensions[{d_i}].facets[{f_i}]"
                if facet.id in facet_ids:
                    problems.append(Problem(source, f"duplicate facet id {facet.id!r}", key=f"{where}.id"))
                facet_ids.add(facet.id)
                if not facet.id.startswith(dim.id + "."):
                    problems.append(
                        Problem(source, f"facet {facet.id!r} must start with '{dim.id}.'", key=f"{where}.id")
                    )
                for i_i, item in enumerate(facet.items):
                    at = f"{where}.items[{i_i}]"
                    key = item.id.lower()
                    if key in item_ids:
                        problems.append(Problem(source, f"duplicate item id {item.id!r}", key=f"{at}.id"))
                    item_ids.add(key)
                    if len(item.labels) != self.scale_points:
                        problems.append(
                            Problem(
                                source,
                                f"item {item.id} has {len(item.labels)} labels; the scale has "
                                f"{self.scale_points} points",
                                key=f"{at}.labels",
                            )
                        )
                    unknown = [r for r in item.roles if r not in self.roles]
                    if unknown:
                        problems.append(
                            Problem(
                                source,
                                f"item {item.id} names unknown role(s) {', '.join(unknown)}; "
                                f"known: {', '.join(self.roles)}",
                                key=f"{at}.roles",
                            )
                        )
                    if len(set(item.roles)) != len(item.roles):
                        problems.append(Problem(source, f"item {item.id} lists a role twice", key=f"{at}.roles"))
        problems.extend(Problem(source, message, key="levels") for message in check_levels(self.levels))
        for q_i, question in enumerate(self.open_questions):
            at = f"open_questions[{q_i}]"
            if question.id.lower() in item_ids:
                problems.append(Problem(source, f"duplicate item id {question.id!r}", key=f"{at}.id"))
            item_ids.add(question.id.lower())
            unknown = [r for r in question.roles if r not in self.roles]
            if unknown:
                problems.append(
                    Problem(
                        source,
                        f"open question {question.id} names unknown role(s) {', '.join(unknown)}; "
                        f"known: {', '.join(self.roles)}",
                        key=f"{at}.roles",
                    )
                )
        block = self.unwilling_or_unable
        if block is not None:
            if block.role not in self.roles:
                problems.append(Problem(source, f"unknown role {block.role!r}", key="unwilling_or_unable.role"))
            for key in ("willing", "able"):
                item_id = getattr(block, key)
                found = self.items.get(item_id)
                if found is None:
                    problems.append(Problem(source, f"unknown item {item_id!r}", key=f"unwilling_or_unable.{key}"))
                elif block.role not in found.roles:
                    problems.append(
                        Problem(
                            source,
                            f"item {item_id} is not asked of {block.role}s",
                            key=f"unwilling_or_unable.{key}",
                        )
                    )
        return problems

    # ------------------------------------------------------------------ views
    def to_normalized(self) -> dict[str, Any]:
        """The normalized form printed by ``readiness instrument --json`` (DESIGN.md)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "scale_points": self.scale_points,
            "roles": dict(self.roles),
            "dimensions": [
                {
                    "id": d.id,
                    "title": d.title,
                    "weight": d.weight,
                    "facets": [
                        {
                            "id": f.id,
                            "title": f.title,
                            "weight": f.weight,
                            "items": [
                                {
                                    "id": i.id,
                                    "reverse": i.reverse,
                                    "text": i.text,
                                    "roles": list(i.roles),
                                    "allows_na": i.allows_na,
                                    "labels": list(i.labels),
                                    "kind": i.kind,
                                    "source": i.source,
                                }
                                for i in f.items
                            ],
                        }
                        for f in d.facets
                    ],
                }
                for d in self.dimensions
            ],
            "levels": levels_json(self.levels),
            "open_questions": [
                {"id": q.id, "text": q.text, "roles": list(q.roles), "source": q.source} for q in self.open_questions
            ],
            "unwilling_or_unable": (
                None if self.unwilling_or_unable is None else self.unwilling_or_unable.model_dump(mode="json")
            ),
        }

    @cached_property
    def layout(self) -> Layout:
        """Index arrays over items, facets, dimensions and roles (computed once)."""
        return Layout.build(self)

    @cached_property
    def items(self) -> dict[str, Item]:
        return {i.id: i for d in self.dimensions for f in d.facets for i in f.items}

    @cached_property
    def facets(self) -> dict[str, Facet]:
        return {f.id: f for d in self.dimensions for f in d.facets}

    @cached_property
    def open_question_ids(self) -> tuple[str, ...]:
        """The open questions' ids, in instrument order (the columns of ``Responses.open_answers``)."""
        return tuple(q.id for q in self.open_questions)

    def facet_dimension(self, facet_id: str) -> str:
        return facet_id.split(".", 1)[0]


@dataclass(frozen=True, eq=False)
class Layout:
    """Arrays that let scoring run as matrix products over all respondents at once.

    Orders: items and facets as in the instrument file; dimensions in :data:`DIMENSIONS`
    order; roles as listed in the instrument.
    """

    item_ids: tuple[str, ...]
    facet_ids: tuple[str, ...]
    dimension_ids: tuple[str, ...]
    role_ids: tuple[str, ...]
    item_facet: np.ndarray  # (items,) facet index of each item
    facet_dimension: np.ndarray  # (facets,) dimension index of each facet
    item_by_facet: np.ndarray  # (items, facets) 0/1
    facet_by_dimension: np.ndarray  # (facets, dimensions) 0/1
    facet_weights: np.ndarray  # (facets,)
    dimension_weights: np.ndarray  # (dimensions,)
    role_weights: np.ndarray  # (roles,)
    reverse: np.ndarray  # (items,) bool
    allows_na: np.ndarray  # (items,) bool
    asked: np.ndarray  # (roles, items) bool: the item is asked of the role
    scale_points: int

    @classmethod
    def build(cls, inst: Instrument) -> Layout:
        dims = {d.id: d for d in inst.dimensions}
        dimension_ids = tuple(d for d in DIMENSIONS if d in dims)
        facets = [f for d in dimension_ids for f in dims[d].facets]
        items = [(f_i, i) for f_i, f in enumerate(facets) for i in f.items]
        role_ids = tuple(inst.roles)
        n_items, n_facets = len(items), len(facets)
        item_facet = np.array([f_i for f_i, _ in items], dtype=np.intp)
        facet_dimension = np.array([dimension_ids.index(f.id.split(".")[0]) for f in facets], dtype=np.intp)
        item_by_facet = np.zeros((n_items, n_facets))
        item_by_facet[np.arange(n_items), item_facet] = 1.0
        facet_by_dimension = np.zeros((n_facets, len(dimension_ids)))
        facet_by_dimension[np.arange(n_facets), facet_dimension] = 1.0
        asked = np.array([[role in item.roles for _, item in items] for role in role_ids], dtype=bool)
        return cls(
            item_ids=tuple(i.id for _, i in items),
            facet_ids=tuple(f.id for f in facets),
            dimension_ids=dimension_ids,
            role_ids=role_ids,
            item_facet=item_facet,
            facet_dimension=facet_dimension,
            item_by_facet=item_by_facet,
            facet_by_dimension=facet_by_dimension,
            facet_weights=np.array([f.weight for f in facets], dtype=float),
            dimension_weights=np.array([dims[d].weight for d in dimension_ids], dtype=float),
            role_weights=np.array([inst.roles[r] for r in role_ids], dtype=float),
            reverse=np.array([i.reverse for _, i in items], dtype=bool),
            allows_na=np.array([i.allows_na for _, i in items], dtype=bool),
            asked=asked,
            scale_points=inst.scale_points,
        )


# ---------------------------------------------------------------------- helpers
def _resolve_label_sets(spec: dict[str, Any], source: str) -> dict[str, Any]:
    """Replace ``label_set: name`` in items by the named list from ``label_sets``."""
    label_sets = spec.pop("label_sets", None) or {}
    if not isinstance(label_sets, Mapping):
        raise InputError("label_sets must be a mapping of name to a list of labels", source=source, key="label_sets")
    dims = spec.get("dimensions")
    if not isinstance(dims, list):
        return spec
    out_dims = []
    for d_i, dim in enumerate(dims):
        if not isinstance(dim, Mapping) or not isinstance(dim.get("facets"), list):
            out_dims.append(dim)
            continue
        out_facets = []
        for f_i, facet in enumerate(dim["facets"]):
            if not isinstance(facet, Mapping) or not isinstance(facet.get("items"), list):
                out_facets.append(facet)
                continue
            out_items = []
            for i_i, item in enumerate(facet["items"]):
                if isinstance(item, Mapping) and "label_set" in item:
                    item = dict(item)
                    name = item.pop("label_set")
                    where = f"dimensions[{d_i}].facets[{f_i}].items[{i_i}].label_set"
                    if "labels" in item:
                        raise InputError("give either labels or label_set, not both", source=source, key=where)
                    if not isinstance(name, str) or name not in label_sets:
                        raise InputError(f"unknown label_set {str(name)[:60]!r}", source=source, key=where)
                    labels = label_sets[name]
                    if not isinstance(labels, list):
                        raise InputError(
                            f"label_set {name!r} must be a list of labels", source=source, key=f"label_sets.{name}"
                        )
                    item["labels"] = list(labels)
                out_items.append(item)
            out_facets.append({**facet, "items": out_items})
        out_dims.append({**dim, "facets": out_facets})
    return {**spec, "dimensions": out_dims}


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _pydantic_message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    if err.get("type") == "missing":
        return "required key is missing"
    return msg.removeprefix("Value error, ")
