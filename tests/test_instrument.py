"""Instrument loading and validation, and the bundled question set's own rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from readiness.core.errors import InputError
from readiness.core.instrument import DIMENSIONS, Instrument
from readiness.io.loaders import DEFAULT_INSTRUMENT, load_instrument

from .conftest import DATA

SEEDS = {p.name for p in (Path(__file__).resolve().parents[2] / "shared" / "seeds").glob("*.txt")}


def spec():
    return yaml.safe_load((DATA / "mini.yaml").read_text())


def error_of(data) -> str:
    with pytest.raises(InputError) as info:
        Instrument.from_dict(data, source="x.yaml")
    return str(info.value)


def test_bundled_instrument_shape(bundled):
    assert [d.id for d in bundled.dimensions] == list(DIMENSIONS)
    for dim in bundled.dimensions:
        assert 4 <= len(dim.facets) <= 5
        for facet in dim.facets:
            assert 3 <= len(facet.items) <= 4
            # every role gets a score on every facet
            for role in bundled.roles:
                assert any(role in i.roles for i in facet.items), (facet.id, role)
    items = list(bundled.items.values())
    assert len(items) >= 48
    assert sum(i.reverse for i in items) >= 6
    assert all(len(i.labels) == 5 for i in items)
    assert all(re.fullmatch(r"[A-Z]{3}_[A-Z]{3}_[0-9]", i.id) for i in items)
    # reverse items are agreement statements: agreeing means less ready
    assert all(i.kind == "attitude" for i in items if i.reverse)


def test_every_item_traces_to_a_seed(bundled):
    if not SEEDS:
        pytest.skip("../shared/seeds not beside the repository")
    assert {i.source for i in bundled.items.values()} <= SEEDS


def test_normalized_form(bundled):
    norm = bundled.to_normalized()
    assert set(norm) >= {"id", "version", "scale_points", "roles", "dimensions"}
    assert norm["roles"] == {"agent": 1.0, "supervisor": 1.0, "manager": 1.0}
    item = norm["dimensions"][0]["facets"][0]["items"][0]
    assert set(item) >= {"id", "reverse", "text", "roles", "allows_na", "labels"}
    assert [d["id"] for d in norm["dimensions"]] == list(DIMENSIONS)


def test_label_set_resolution(mini):
    assert mini.items["P1"].labels[0] == "Strongly disagree"
    assert mini.items["P4"].labels[-1] == "Embedded"


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda s: s["dimensions"][0]["facets"][0]["items"].append(
                dict(s["dimensions"][0]["facets"][0]["items"][0])
            ),
            "duplicate item id 'P1'",
        ),
        (lambda s: s["dimensions"][0]["facets"][0]["items"][0].update(roles=["agent", "chef"]), "unknown role(s) chef"),
        (lambda s: s["dimensions"][0].update(weight=0), "greater than 0"),
        (lambda s: s["dimensions"][1]["facets"][0].update(weight=-1), "greater than 0"),
        (lambda s: s["roles"].update(agent=0), "positive weight"),
        (lambda s: s["dimensions"][1]["facets"][0].update(items=[]), "at least 1 item"),
        (lambda s: s["dimensions"][0]["facets"][1]["items"][0].update(labels=["a", "b", "c"]), "has 3 labels"),
        (lambda s: s["dimensions"][0]["facets"][1]["items"][0].update(labels=["a", "A", "b", "c", "d"]), "differ"),
        (lambda s: s["dimensions"][0]["facets"][1]["items"][0].update(colour="red"), "unknown key"),
        (lambda s: s["dimensions"][0]["facets"][0]["items"][0].update(label_set="nope"), "unknown label_set"),
        (lambda s: s["dimensions"].pop(), "exactly people, process, technology, knowledge"),
        (
            lambda s: s["dimensions"][1]["facets"].append(
                {
                    "id": "people.c",
                    "title": "misplaced",
                    "items": [{"id": "Z1", "text": "z", "label_set": "agreement", "roles": ["agent"]}],
                }
            ),
            "must start with 'process.'",
        ),
        (lambda s: s["dimensions"][0]["facets"][0]["items"][0].update(id="org_id"), "clashes"),
    ],
)
def test_invalid_instruments(mutate, expected):
    data = spec()
    mutate(data)
    message = error_of(data)
    assert expected in message and message.startswith("x.yaml")
    assert "\n" not in message


def test_yaml_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\ndimensions: [\n  - {id: people\n")
    with pytest.raises(InputError) as info:
        load_instrument(bad)
    assert "bad.yaml" in str(info.value) and "not valid YAML" in str(info.value)


def test_default_path_exists():
    assert DEFAULT_INSTRUMENT.exists()


# ---------------------------------------------------------------------- readiness levels
def test_bundled_levels_are_attached_and_grounded(bundled, mini):
    from readiness.io.loaders import DEFAULT_LEVELS, load_levels

    levels = load_levels()
    assert bundled.levels == mini.levels == levels  # one home: templates/levels.yaml
    raw = yaml.safe_load(DEFAULT_LEVELS.read_text(encoding="utf-8"))["levels"]
    assert [lv.name for lv in levels] == [e["name"] for e in raw]
    for level in levels:
        assert len(level.description) > 80 and level.description.rstrip().endswith(".")
        assert level.source and (not SEEDS or set(level.source) <= SEEDS)


def test_an_instrument_may_bring_its_own_levels(tmp_path):
    data = spec()
    data["levels"] = [
        {"name": "starting", "lower": 0, "description": "Nothing yet."},
        {"name": "going", "lower": 60, "description": "On the way."},
    ]
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    own = load_instrument(path)
    assert [lv.name for lv in own.levels] == ["starting", "going"]
    assert own.to_normalized()["levels"][0] == {
        "name": "starting",
        "lower": 0.0,
        "upper": 60.0,
        "description": "Nothing yet.",
    }


@pytest.mark.parametrize(
    "levels, expected",
    [
        ([{"name": "a", "lower": 10}, {"name": "b", "lower": 50}], "the first level must start at 0"),
        ([{"name": "a", "lower": 0}, {"name": "b", "lower": 0}], "level 'b' must start above 'a'"),
        ([{"name": "a", "lower": 0}, {"name": "A", "lower": 50}], "two levels have the same name"),
        ([{"name": "a", "lower": 0, "colour": "red"}], "unknown key"),
    ],
)
def test_bad_levels_are_refused(levels, expected):
    data = spec()
    data["levels"] = levels
    assert expected in error_of(data)
