"""Ids: one normalization, one set of rules, case clashes refused, never split, never its own peer."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.ids import (
    FORMULA_PREFIXES,
    case_clashes,
    folder_name,
    id_problem,
    normalize_id,
    starts_like_formula,
)
from readiness.io.exporters import neutralize, org_folder
from readiness.io.loaders import load_responses, validate_files
from readiness.io.session_store import check_name

from .conftest import DATA

HEADER = "org_id,respondent_id,role,P1,P2,P3,P4,P5,R1,R2,T1,T2,K1,K2"
ROWS = [
    "X,a1,agent,4,2,NA,5,,3,,1,2,5,4",
    "X,a2,agent,2,5,3,,,4,4,2,,3,3",
    "X,m1,manager,5,,4,4,2,5,5,3,3,4,",
]


def _write(tmp_path, rows, name="r.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Acme", "Acme"),
        ("  Acme\t", "Acme"),
        ("Acme\u200b", "Acme"),  # zero-width space
        ("\ufeffAcme", "Acme"),  # byte-order mark
        ("Ac\u00adme", "Acme"),  # soft hyphen
        ("\u200eAcme\u200f", "Acme"),  # bidirectional marks
        ("\uff21\uff43\uff4d\uff45", "Acme"),  # full-width letters
        ("Acme\u00a0", "Acme"),  # no-break space
        ("North Bank", "North Bank"),  # inner spaces are part of the id
    ],
)
def test_normalize_id(raw, expected):
    assert normalize_id(raw) == expected


@given(st.text(max_size=30))
def test_normalize_id_is_idempotent(text):
    assert normalize_id(normalize_id(text)) == normalize_id(text)


def test_id_rules_in_one_place():
    assert id_problem("", "org_id") == "org_id is empty"
    assert "longer than 200" in id_problem("x" * 201, "org_id")
    for bad in ("a/b", "a\\b", "..", "a\x1bb"):
        assert "path separator or '..'" in id_problem(bad, "org_id")
    for bad in ("=1+2", "+1", "-x", "@SUM(A1)"):
        assert "starts like a spreadsheet formula" in id_problem(bad, "respondent_id")
    assert id_problem("Acme-01", "org_id") is None
    # the workshop store applies the same rules, after the same normalization
    assert check_name(" Acme\u200b ", "org_id") == "Acme"
    with pytest.raises(Exception, match="spreadsheet formula"):
        check_name("\uff1d1+2", "org_id")  # full-width = becomes = under NFKC


def test_formula_prefixes_are_one_list_for_ids_and_exports():
    assert {"=", "+", "-", "@", "\t", "\r", "\n"} <= set(FORMULA_PREFIXES)
    for prefix in FORMULA_PREFIXES:
        assert starts_like_formula(prefix + "x") and neutralize(prefix + "x") == "'" + prefix + "x"
        if not prefix.isspace():  # also after spaces some tools trim on import
            assert starts_like_formula("  " + prefix + "x")
    assert org_folder("Acme") == folder_name("Acme")


def test_case_clashes_name_both_spellings_and_rows():
    assert case_clashes(["Acme", "Beta", "ACME"], [2, 3, 7]) == [("Acme", 2, "ACME", 7)]
    assert case_clashes(["Acme", "Acme"], [2, 3]) == []


# ---------------------------------------------------------------------- through the loaders
def test_ids_with_invisible_characters_read_as_the_plain_id(tmp_path, mini):
    plain = load_responses(DATA / "mini_responses.csv", mini)
    rows = [ROWS[0].replace("X,", "X\u200b,", 1), ROWS[1].replace("X,", " X ,", 1), ROWS[2].replace("X,", "\uff38,", 1)]
    odd = load_responses(_write(tmp_path, rows), mini)
    assert odd.org_ids == ("X",) and odd.meta["org_id"].tolist() == plain.meta["org_id"].tolist()
    assert any("invisible characters or full-width" in w for w in odd.warnings)


def test_ids_differing_only_by_case_are_refused_naming_both(tmp_path, mini):
    rows = [ROWS[0], ROWS[1].replace("X,", "x,", 1), ROWS[2]]
    problems, parsed, _ = validate_files(_write(tmp_path, rows), mini)
    errors = [p for p in problems if p.severity == "error"]
    assert parsed is None and len(errors) == 1
    assert (errors[0].row, errors[0].column) == (3, "org_id")
    assert "'x' and 'X' (row 2) differ only in case" in errors[0].message


def test_respondent_ids_differing_only_by_case_are_refused(tmp_path, mini):
    rows = [ROWS[0], ROWS[1].replace(",a2,", ",A1,"), ROWS[2]]
    problems, _, _ = validate_files(_write(tmp_path, rows), mini)
    errors = [p for p in problems if p.severity == "error"]
    assert [(e.row, e.column) for e in errors] == [(3, "respondent_id")]
    assert "'A1' and 'a1' (row 2)" in errors[0].message


def test_duplicate_after_normalization_is_a_duplicate(tmp_path, mini):
    rows = [ROWS[0], ROWS[1].replace(",a2,", ",a1\u200b,"), ROWS[2]]
    problems, _, _ = validate_files(_write(tmp_path, rows), mini)
    assert any("duplicate respondent 'a1'" in p.message for p in problems if p.severity == "error")


def test_profiles_ids_normalized_and_matched(tmp_path, mini):
    from readiness.io.loaders import check_profiles_match, load_profiles

    profiles = tmp_path / "p.csv"
    profiles.write_text("org_id,industry,agents\nX\u200b,other,12\n", encoding="utf-8")
    prof = load_profiles(profiles)
    assert list(prof.index) == ["X"]
    responses = load_responses(DATA / "mini_responses.csv", mini)
    check_profiles_match(responses, prof, "p.csv")
    other_case = tmp_path / "q.csv"
    other_case.write_text("org_id,industry,agents\nx,other,12\n", encoding="utf-8")
    with pytest.raises(Exception, match="differs only in case from 'X'"):
        check_profiles_match(responses, load_profiles(other_case), "q.csv")


def test_the_organization_is_never_its_own_peer_whatever_its_case():
    from readiness.core.benchmark import choose_peer_group

    peers = pd.DataFrame(
        {"industry": ["other"] * 6, "size_band": ["<=50"] * 6, "stage": ["considering"] * 6},
        index=["ACME", "p1", "p2", "p3", "p4", "p5"],
    )
    group = choose_peer_group({"id": "Acme", "industry": "other"}, peers, k=5, exclude=["Acme"])
    assert group is not None and "ACME" not in group.org_ids and group.n == 5
    group = choose_peer_group({"id": "acme\u200b"}, peers, k=5, exclude=["acme\u200b"])
    assert group is not None and "ACME" not in group.org_ids
