"""Answers written differently read the same; messages quote the value exactly as written."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.answers import AnswerReader, normalize_label, numeral_value
from readiness.core.errors import InputError
from readiness.io.loaders import load_responses, validate_files

from .conftest import DATA

HEADER = "org_id,respondent_id,role,P1,P2,P3,P4,P5,R1,R2,T1,T2,K1,K2"
LABELS = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")


def _same(a, b):
    assert a.meta[["org_id", "respondent_id", "role"]].equals(b.meta[["org_id", "respondent_id", "role"]])
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.not_applicable, b.not_applicable)


@pytest.mark.parametrize("written", ["3", "3.0", "3.00", "03", "+3", " 3 ", "\uff13", "3.", "3e0", "\uff0b\uff13"])
def test_numerals_equal_to_an_integer_are_that_integer(written):
    assert AnswerReader(LABELS, 5).read(written) == (3.0, False, False, None)


@pytest.mark.parametrize(
    "written",
    [
        "Strongly agree",
        "strongly agree",
        "STRONGLY  AGREE",
        " Strongly\tagree ",
        "Strongly\u00a0agree",
        "Ｓｔｒｏｎｇｌｙ agree",
    ],
)
def test_labels_compared_after_nfkc_case_and_spacing(written):
    assert AnswerReader(LABELS, 5).read(written) == (5.0, False, False, None)


def test_straightened_quotes_match():
    reader = AnswerReader(("Don't agree", "Can\u2019t say", "Agree"), 3)
    assert reader.read("Don\u2019t agree")[0] == 1.0 and reader.read("Can't say")[0] == 2.0
    assert normalize_label("\u201cQuoted\u201d") == '"quoted"'


@pytest.mark.parametrize("written", ["NA", "n/a", " N/A ", "\uff2e\uff21"])
def test_not_applicable(written):
    assert AnswerReader(LABELS, 5).read(written)[1] is True


@pytest.mark.parametrize(
    "written", ["DK", "dk", "Don't know", "Don\u2019t know", "DON\u2019T  KNOW", " dont know ", "\uff24\uff2b"]
)
def test_dont_know_in_any_spelling(written):
    """Issue 13's "don't know" through issue 14's normalization: a curly apostrophe matches."""
    reading = AnswerReader(LABELS, 5).read(written)
    assert reading.dont_know and not reading.not_applicable and reading.problem is None


@pytest.mark.parametrize(
    "written, message",
    [
        ("3.5", "answer '3.5' is not a whole number from 1 to 5"),
        ("6", "answer 6 is outside 1..5"),
        ("06", "answer 06 is outside 1..5"),
        ("Strongly  agreed", "unknown answer 'Strongly  agreed'"),  # the double space kept, as written
        ("Don\u2019t knw", "unknown answer 'Don\u2019t knw'"),  # the curly apostrophe kept
        ("x" * 300, "... (300 characters)"),
    ],
)
def test_messages_quote_the_value_as_written(written, message):
    value, na, dk, problem = AnswerReader(LABELS, 5).read(written)
    assert math.isnan(value) and not na and not dk and message in problem


@given(st.integers(min_value=1, max_value=5), st.sampled_from(["{}", "{}.0", "0{}", "+{}", "{}.000"]))
def test_any_spelling_of_a_scale_point(n, form):
    assert AnswerReader(LABELS, 5).read(form.format(n))[0] == n


def test_numeral_value_refuses_words_and_units():
    assert numeral_value("3 points") is None and numeral_value("three") is None and numeral_value("1,5") is None


def test_an_equivalent_file_reads_exactly_like_the_original(tmp_path, mini):
    """The mini example, every answer written another way a tool or a person writes it."""
    rows = [
        "X,a1,agent,4.0,+2,n/a,Embedded,,03,,\uff11,2.00,5,Agree",
        "X,a2,agent,Disagree,STRONGLY  AGREE,3,,,4,4,2,,Neutral ,3",
        "X,m1,manager,5,,4,4,2,Strongly\u00a0agree,5,3,3,4,",
    ]
    path = tmp_path / "equivalent.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    _same(load_responses(path, mini), load_responses(DATA / "mini_responses.csv", mini))


def test_a_bad_answer_names_file_row_column_and_the_value_as_written(tmp_path, mini):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\nX,a1,agent,Agreed  ,2,NA,5,,3,,1,2,5,4\n", encoding="utf-8")
    problems, _, _ = validate_files(path, mini)
    error = next(p for p in problems if p.severity == "error")
    assert str(error).startswith("r.csv, row 2, column P1: unknown answer 'Agreed  '")
    with pytest.raises(InputError):
        load_responses(path, mini)


def test_instrument_labels_must_differ_as_they_are_read():
    from readiness.core.instrument import Item

    with pytest.raises(ValueError, match="quote marks"):
        Item(id="A1", text="t", labels=("Don't know", "Don\u2019t  know"), roles=("agent",))
