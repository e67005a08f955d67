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


@pytest.fixture(scope="module")
def v1():
    return load_instrument("service-to-sales-v1")


#: The items a methodological review flagged in version 1.0 (DOMAIN.md, "Questionnaire
#: craft"): double-barrelled, ladders out of order, the redundant SPR_3/SPR_4 pair.
DOUBLE_BARRELLED = [
    "PEO_BEL_3",
    "PEO_MOT_3",
    "PEO_MOT_4",
    "KNO_TRA_1",
    "KNO_TRA_2",
    "KNO_TRA_3",
    "KNO_CON_1",
    "KNO_CON_2",
    "TEC_CRM_3",
    "TEC_CRM_4",
    "TEC_DES_3",
    "TEC_ROU_1",
    "PRO_PER_1",
]
LADDERS_OUT_OF_ORDER = ["PRO_PER_4", "TEC_REP_2", "PEO_COA_1", "PRO_OFF_1"]
#: Practices agents cannot see.
NOT_FOR_AGENTS = ["PEO_HIR_1", "PRO_COL_2", "TEC_ROU_3", "KNO_MAN_1", "TEC_CRM_2"]


def test_bundled_instrument_shape(v1):
    """Version 1.0's shape, kept as it was: the file is bundled unchanged."""
    bundled = v1
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


def test_version_two_shape(bundled, v1):
    assert (bundled.id, bundled.version) == ("service-to-sales", "2.0")
    assert (v1.id, v1.version) == ("service-to-sales", "1.0") and len(v1.items) == 69
    assert [d.id for d in bundled.dimensions] == list(DIMENSIONS)
    assert list(bundled.facets) == list(v1.facets)  # the same facets: scores compare across versions
    for facet in bundled.facets.values():
        assert 3 <= len(facet.items) <= 7
        for role in bundled.roles:
            assert any(role in i.roles for i in facet.items), (facet.id, role)
    items = list(bundled.items.values())
    assert len(items) == 86
    assert sum(i.reverse for i in items) >= 6
    assert all(len(i.labels) == 5 for i in items)
    assert all(re.fullmatch(r"[A-Z]{3}_[A-Z]{3}_[0-9]{1,2}", i.id) for i in items)
    assert all(i.kind == "attitude" for i in items if i.reverse)


def test_version_two_revises_what_the_review_flagged(bundled, v1):
    for item_id in DOUBLE_BARRELLED + LADDERS_OUT_OF_ORDER + ["PRO_SPR_4"]:
        assert item_id in v1.items and item_id not in bundled.items, item_id
    # A kept id is the same question with the same ladder; only its roles may narrow.
    for item_id in set(v1.items) & set(bundled.items):
        old, new = v1.items[item_id], bundled.items[item_id]
        assert (old.text, old.labels, old.reverse, old.source) == (new.text, new.labels, new.reverse, new.source)
        assert set(new.roles) <= set(old.roles)
    for item_id in NOT_FOR_AGENTS:
        assert "agent" in v1.items[item_id].roles and "agent" not in bundled.items[item_id].roles
    # No ladder step joins "either ... or" extremes, as PRO_PER_4's first step did.
    assert not [i.id for i in bundled.items.values() if any(" either " in f" {label.lower()} " for label in i.labels)]


def test_version_two_adds_what_the_sources_name(bundled):
    block = bundled.unwilling_or_unable
    assert block is not None and block.role == "agent"
    for item_id in (block.willing, block.able):
        assert bundled.items[item_id].roles == ("agent",) and not bundled.items[item_id].reverse
    assert (
        bundled.facet_dimension(next(f for f, x in bundled.facets.items() if block.willing in {i.id for i in x.items}))
        == "people"
    )
    (question,) = bundled.open_questions
    assert "most important thing" in question.text and question.roles == ("agent",)
    assert question.source.startswith("003_")


def test_every_item_traces_to_a_seed(bundled, v1):
    if not SEEDS:
        pytest.skip("../shared/seeds not beside the repository")
    for inst in (bundled, v1):
        assert {i.source for i in inst.items.values()} <= SEEDS
        assert {q.source for q in inst.open_questions} <= SEEDS


def test_normalized_form(bundled):
    norm = bundled.to_normalized()
    assert set(norm) >= {"id", "version", "scale_points", "roles", "dimensions"}
    assert norm["roles"] == {"agent": 1.0, "supervisor": 1.0, "manager": 1.0}
    item = norm["dimensions"][0]["facets"][0]["items"][0]
    assert set(item) >= {"id", "reverse", "text", "roles", "allows_na", "labels"}
    assert [d["id"] for d in norm["dimensions"]] == list(DIMENSIONS)
    assert norm["version"] == "2.0"
    assert [q["id"] for q in norm["open_questions"]] == ["OPEN_1"]
    assert set(norm["open_questions"][0]) == {"id", "text", "roles", "source"}
    assert norm["unwilling_or_unable"] == {"role": "agent", "willing": "PEO_MOT_5", "able": "KNO_CON_5"}


def test_reserved_answers_cannot_be_labels():
    for reserved in ("DK", "Don't know", "n/a"):
        data = spec()
        data["dimensions"][0]["facets"][1]["items"][0]["labels"] = [reserved, "b", "c", "d", "e"]
        assert "reserved" in error_of(data)


def test_open_question_ids_and_roles_are_checked():
    data = spec()
    data["open_questions"] = [
        {"id": "P1", "text": "x", "roles": ["agent"]},
        {"id": "Q2", "text": "y", "roles": ["chef"]},
    ]
    message = error_of(data)
    assert "duplicate item id 'P1'" in message and "(and 1 more problem)" in message


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


def test_bundled_instruments_by_name(tmp_path, monkeypatch):
    assert load_instrument("service-to-sales").version == "2.0"
    assert load_instrument("service-to-sales-v1.yaml").version == "1.0"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "service-to-sales-v1").write_text((DATA / "mini.yaml").read_text())
    assert load_instrument("service-to-sales-v1").id == "mini"  # a file of that name wins
    with pytest.raises(InputError, match="file not found"):
        load_instrument("no-such-instrument")
