"""Matching a tool's questions and answers to the instrument: normalization, ids, labels, codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core.survey_matching import (
    AnswerReader,
    QuestionMatcher,
    RoleReader,
    item_choices,
    normalize_label,
    normalize_text,
    unique_codes,
)


def test_normalize_text_examples():
    assert normalize_text("  Coaching &amp; feedback<br>happen <b>weekly</b>. ") == "coaching feedback happen weekly"
    assert normalize_text("Don\u2019t\u00a0KNOW\u200b") == normalize_text("don't know") == "don t know"
    assert normalize_text("\uff21gents") == "agents"  # full-width letters (NFKC)
    assert normalize_label("1-2 times") != normalize_label("12 times")  # labels keep punctuation


@given(st.text(max_size=60))
@settings(max_examples=200)
def test_normalization_is_idempotent(text):
    assert normalize_text(normalize_text(text)) == normalize_text(text)
    assert normalize_label(normalize_label(text)) == normalize_label(text)


def _variants(label: str):
    """The same label as tools and people write it."""
    yield label.upper()
    yield f"  {label.lower()}  "
    yield label.replace(" ", "\u00a0")
    yield label.replace("'", "\u2019")
    yield label + "\u200b"
    yield label.replace("&", "&amp;")


def test_every_label_reads_back_in_every_spelling(mini, bundled):
    for instrument in (mini, bundled):
        for item in instrument.items.values():
            reader = AnswerReader(item, instrument.scale_points)
            for text, answer in item_choices(item):
                for variant in _variants(text):
                    assert reader.read(variant) == answer, (item.id, variant)


def test_answers_by_number_position_and_reserved_words(mini):
    item = mini.items["P3"]  # allows N/A
    reader = AnswerReader(item, 5, positions=True)
    assert [reader.read(str(v)) for v in range(1, 8)] == ["1", "2", "3", "4", "5", "NA", "DK"]
    assert reader.read("4.0") == "4" and reader.read("") == "" and reader.read("   ") == ""
    assert reader.read("n/a") == reader.read("Not applicable") == "NA"
    assert reader.read("DK") == reader.read("I don't know") == "DK"
    assert reader.read("Sometimes") is None and reader.read("8") is None
    no_na = AnswerReader(mini.items["P1"], 5, positions=True)
    assert no_na.read("6") == "DK" and no_na.read("7") is None
    assert AnswerReader(item, 5).read("6") is None  # without positions, beyond the scale is no answer


def test_an_items_own_label_wins_over_a_reserved_word():
    from readiness.core.instrument import Item

    item = Item(id="X1", text="t", labels=("Not applicable", "b", "c", "d", "e"), roles=("agent",))
    assert AnswerReader(item, 5).read("not applicable") == "1"


def test_question_matched_by_id_text_numbering_and_ids_in_text(mini):
    matcher = QuestionMatcher(mini, codes={"PONE": "P1"})
    text = mini.items["P4"].text
    assert matcher.match(ids=["p4"]).target == "P4"
    assert matcher.match(ids=["PONE"]).target == "P1"
    assert matcher.match(ids=["Q7"], texts=[text.upper() + " "]).how == "text"
    assert matcher.match(texts=[f"12. {text}"]).target == "P4"
    assert matcher.match(texts=[f"Q3) {text}"]).target == "P4"
    assert matcher.match(texts=[f"[P4] {text}"]).how == "id in text"
    assert matcher.match(texts=["Something else entirely (K2)"]).target == "K2"
    assert matcher.match(texts=[f"Please rate each statement. - {text}"]).target == "P4"
    assert matcher.match(texts=["What is your role?"]).target == "role"
    assert matcher.match(ids=["Q1"], texts=["Your shoe size?"]) is None
    assert matcher.closest(text + " at our center") == "P4"


def test_two_items_with_the_same_text_are_matched_by_id_only():
    from readiness.core.instrument import Instrument

    spec = {
        "id": "twins",
        "version": "1",
        "roles": {"agent": 1.0},
        "dimensions": [
            {
                "id": d,
                "title": d,
                "facets": [
                    {
                        "id": f"{d}.a",
                        "title": "A",
                        "items": [
                            {
                                "id": f"{d[:2].upper()}1",
                                "text": "Same words.",
                                "labels": list("abcde"),
                                "roles": ["agent"],
                            },
                            {
                                "id": f"{d[:2].upper()}2",
                                "text": f"Own words {d}",
                                "labels": list("abcde"),
                                "roles": ["agent"],
                            },
                        ],
                    }
                ],
            }
            for d in ("people", "process", "technology", "knowledge")
        ],
    }
    matcher = QuestionMatcher(Instrument.from_dict(spec))
    assert matcher.match(texts=["same words"]) is None
    assert matcher.match(ids=["TE1"], texts=["same words"]).target == "TE1"
    assert matcher.match(texts=["own words process"]).target == "PR2"


def test_role_reader(bundled):
    reader = RoleReader(bundled, codes={"super": "supervisor"}, positions=True)
    roles = list(bundled.roles)
    assert reader.read(roles[0].upper()) == roles[0]
    assert reader.read(roles[-1].replace("_", " ").title()) == roles[-1]
    assert reader.read("super") == "supervisor"
    assert reader.read("1") == roles[0]
    assert reader.read("Boss") is None and reader.read("") == ""


@pytest.mark.parametrize(
    ("names", "codes"),
    [
        (["PEO_HIR_1", "PEO_HIR_2"], ["PEOHIR1", "PEOHIR2"]),
        (["A_1", "A1", "a1"], ["A1", "A12", "a13"]),
        (["1st", "__"], ["X1st", "X"]),
    ],
)
def test_unique_codes(names, codes):
    assert unique_codes(names, width=20) == codes


@given(st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True), max_size=30))
def test_unique_codes_are_distinct_alphanumeric_and_short(names):
    codes = unique_codes(names, width=5)
    assert len({c.casefold() for c in codes}) == len(codes)
    assert all(c.isalnum() and c[0].isalpha() and len(c) <= 5 for c in codes)
