"""The session store: answers saved at once, atomically, read back by any new store object,
exported to the canonical CSV that the loaders (and so `score` and `assess`) read."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

import readiness.io.session_store as session_module
from readiness.core.errors import InputError, StoreError
from readiness.core.scoring import score
from readiness.io.loaders import load_responses
from readiness.io.peer_store import PeerStore
from readiness.io.session_store import SessionStore

from .test_workbook import naive_scores, random_respondents


def _store(tmp_path, mini, name="s.duckdb", session="w1", org="ACME") -> SessionStore:
    store = SessionStore(tmp_path / name)
    store.open_session(session, mini, org_id=org)
    return store


def _fill(store: SessionStore, session: str, people) -> None:
    for rid, role, answers in people:
        store.add_respondent(session, rid, role)
        for item_id, answer in answers.items():
            if answer == "NA":
                store.save_answer(session, rid, item_id, None, not_applicable=True)
            elif answer == "DK":
                store.save_answer(session, rid, item_id, None, dont_know=True)
            else:
                store.save_answer(session, rid, item_id, answer)


def _value(path, session, rid, item_id):
    frame = SessionStore(path).answers(session, rid)  # a NEW store object: nothing cached
    row = frame[frame["item_id"] == item_id]
    return None if row.empty else row.iloc[0]


# ---------------------------------------------------------------------- round trips
def test_answers_read_back_by_a_new_store(tmp_path, mini):
    store = _store(tmp_path, mini)
    assert store.add_respondent("w1", "a1", "agent") is True
    assert store.add_respondent("w1", "a1", "manager") is False  # exists: unchanged
    store.save_answer("w1", "a1", "P1", 4, comment="coaching log seen")
    store.save_answer("w1", "a1", "P3", None, not_applicable=True)
    store.save_answer("w1", "a1", "P1", 2, comment="on second thought")  # an UPSERT, not a second row

    again = SessionStore(tmp_path / "s.duckdb")
    frame = again.answers("w1")
    assert list(frame["item_id"]) == ["P1", "P3"]
    p1 = frame.iloc[0]
    assert (p1["value"], p1["not_applicable"], p1["comment"]) == (2, False, "on second thought")
    assert frame.iloc[1]["not_applicable"] and pd.isna(frame.iloc[1]["value"])
    who = again.respondents("w1")
    assert list(who["respondent_id"]) == ["a1"] and who.iloc[0]["role"] == "agent"
    assert who.iloc[0]["org_id"] == "ACME" and who.iloc[0]["answered"] == 2
    info = again.session("w1")
    assert (info.org_id, info.instrument_id, info.instrument_version) == ("ACME", "mini", "0.1")
    assert again.instrument("w1") == mini


def test_cleared_answer_reads_as_unanswered(tmp_path, mini):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 5)
    store.save_answer("w1", "a1", "P1", None)
    responses = SessionStore(tmp_path / "s.duckdb").to_responses(mini)
    assert np.isnan(responses.values).all() and not responses.not_applicable.any()
    assert len(responses) == 1  # a respondent without answers still counts


def test_to_responses_and_export_give_the_documented_scores(tmp_path, mini):
    store = _store(tmp_path, mini)
    people = random_respondents(mini, 7, seed=3)
    _fill(store, "w1", people)
    from_store = SessionStore(tmp_path / "s.duckdb").to_responses(mini)
    assert from_store.org_ids == ("ACME",) and len(from_store) == 7

    path = store.export_csv(tmp_path / "out" / "w1.csv")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "org_id,respondent_id,role," + ",".join(mini.layout.item_ids)
    from_csv = load_responses(path, mini)
    np.testing.assert_array_equal(from_csv.values, from_store.values)
    np.testing.assert_array_equal(from_csv.not_applicable, from_store.not_applicable)
    a, b = score(from_store, n_boot=0), score(from_csv, n_boot=0)
    pd.testing.assert_frame_equal(a.facets, b.facets)
    pd.testing.assert_frame_equal(a.overall, b.overall)

    expected = naive_scores(mini, [(role, answers) for _, role, answers in people])
    assert a.overall.loc["ACME", "score"] == pytest.approx(expected["overall"])
    got = dict(zip(a.facets["facet"], a.facets["score"]))
    for facet, value in expected["facets"].items():
        assert (np.isnan(got[facet]) and value is None) or got[facet] == pytest.approx(value)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_several_sessions_export_as_several_organizations(tmp_path, mini):
    store = _store(tmp_path, mini, session="w1", org="ACME")
    store.open_session("w2", mini, org_id="GLOBEX")
    store.add_respondent("w1", "a1", "agent")
    store.add_respondent("w2", "m1", "manager")
    store.save_answer("w2", "m1", "P5", 3)
    assert [s.session for s in store.sessions()] == ["w1", "w2"]
    assert store.to_responses().org_ids == ("ACME", "GLOBEX")
    assert store.to_responses(session="w2").org_ids == ("GLOBEX",)
    frame = load_responses(store.export_csv(tmp_path / "all.csv"), mini).to_frame()
    assert list(frame["org_id"]) == ["ACME", "GLOBEX"] and frame.loc[1, "P5"] == 3


def test_role_change_keeps_answers_but_scores_only_asked_items(tmp_path, mini):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P2", 4)  # agent only
    store.set_role("w1", "a1", "manager")
    responses = store.to_responses(mini)
    assert np.isnan(responses.values).all()
    assert any("not asked" in w for w in responses.warnings)
    assert len(store.answers("w1")) == 1


def test_dont_know_survives_reload_and_export(tmp_path, mini):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.add_respondent("w1", "m1", "manager")
    store.save_answer("w1", "a1", "P1", None, dont_know=True)
    store.save_answer("w1", "a1", "R1", 4)
    store.save_answer("w1", "m1", "P4", None, dont_know=True, comment="not my area")
    store.save_answer("w1", "m1", "R1", None, dont_know=True)
    store.save_answer("w1", "m1", "R1", 2)  # changed from don't know to an answer

    again = SessionStore(tmp_path / "s.duckdb")  # nothing cached
    frame = again.answers("w1").set_index(["respondent_id", "item_id"])
    assert frame.loc[("a1", "P1"), "dont_know"] and pd.isna(frame.loc[("a1", "P1"), "value"])
    assert frame.loc[("m1", "P4"), "dont_know"] and frame.loc[("m1", "P4"), "comment"] == "not my area"
    assert not frame.loc[("m1", "R1"), "dont_know"] and frame.loc[("m1", "R1"), "value"] == 2
    assert again.respondents("w1").set_index("respondent_id").loc["m1", "answered"] == 2

    responses = again.to_responses(mini)
    dk = pd.DataFrame(responses.dont_know, columns=mini.layout.item_ids, index=responses.meta["respondent_id"])
    assert dk.loc["a1"].sum() == 1 and dk.at["a1", "P1"] and dk.loc["m1"].sum() == 1 and dk.at["m1", "P4"]

    path = again.export_csv(tmp_path / "w1.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("ACME,a1,agent,DK,") and lines[2].startswith("ACME,m1,manager,,,,DK,,2,")
    from_csv = load_responses(path, mini)
    np.testing.assert_array_equal(from_csv.dont_know, responses.dont_know)
    np.testing.assert_array_equal(from_csv.values, responses.values)
    counts = score(from_csv, n_boot=0).respondents.set_index("role")["dont_know"]
    assert counts.to_dict() == {"agent": 1, "manager": 1}


def test_store_from_before_dont_know_gains_the_column(tmp_path, mini):
    path = tmp_path / "old.duckdb"
    store = _store(tmp_path, mini, name="old.duckdb")
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 4)
    with duckdb.connect(str(path)) as con:  # rebuild answers in the first layout, without dont_know
        rows = con.execute("SELECT * EXCLUDE (dont_know) FROM answers").fetchall()
        con.execute("DROP TABLE answers")
        con.execute(
            "CREATE TABLE answers (session VARCHAR NOT NULL, respondent_id VARCHAR NOT NULL, "
            "item_id VARCHAR NOT NULL, value INTEGER, not_applicable BOOLEAN NOT NULL, comment VARCHAR, "
            "updated TIMESTAMP NOT NULL, PRIMARY KEY (session, respondent_id, item_id), "
            "CHECK (NOT (not_applicable AND value IS NOT NULL)))"
        )
        con.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    reopened = SessionStore(path)
    assert reopened.answers("w1")["dont_know"].tolist() == [False]
    reopened.save_answer("w1", "a1", "P2", None, dont_know=True)
    assert SessionStore(path).to_responses(mini).dont_know.sum() == 1


def _with_open_question(mini):
    from readiness.core.instrument import Instrument

    spec = mini.model_dump(mode="json")
    spec["open_questions"] = [{"id": "Q1", "text": "What must we do first?", "roles": ["agent"]}]
    return Instrument.from_dict(spec)


def test_open_answers_are_kept_and_exported_inert(tmp_path, mini):
    inst = _with_open_question(mini)
    store = _store(tmp_path, inst)
    store.add_respondent("w1", "a1", "agent")
    store.add_respondent("w1", "m1", "manager")
    store.save_open_answer("w1", "a1", "Q1", '=HYPERLINK("http://x") fix the tools\nand the goals')
    store.save_answer("w1", "a1", "P1", 3)
    responses = SessionStore(tmp_path / "s.duckdb").to_responses(inst)
    assert responses.open_answers[0, 0].startswith("=HYPERLINK") and responses.open_answers[1, 0] == ""
    path = store.export_csv(tmp_path / "w1.csv")
    exported = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert exported.loc[0, "Q1"].startswith("'=HYPERLINK") and "\n" in exported.loc[0, "Q1"]
    back = load_responses(path, inst)
    assert back.open_answers[0, 0] == exported.loc[0, "Q1"]
    with pytest.raises(InputError, match="unknown open question"):
        store.save_open_answer("w1", "a1", "P1", "text")
    with pytest.raises(InputError, match="longer than"):
        store.save_open_answer("w1", "a1", "Q1", "x" * 5000)


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda s: s.save_answer("w1", "a1", "P1", 6), InputError, "whole number from 1 to 5"),
        (lambda s: s.save_answer("w1", "a1", "P1", True), InputError, "whole number"),
        (lambda s: s.save_answer("w1", "a1", "P4", None, not_applicable=True), InputError, "does not allow"),
        (lambda s: s.save_answer("w1", "a1", "P3", 2, not_applicable=True), InputError, "both"),
        (lambda s: s.save_answer("w1", "a1", "P1", 2, dont_know=True), InputError, "both"),
        (lambda s: s.save_answer("w1", "a1", "P3", None, not_applicable=True, dont_know=True), InputError, "both"),
        (lambda s: s.save_answer("w1", "a1", "NOPE", 2), InputError, "unknown item"),
        (lambda s: s.save_answer("w1", "zz", "P1", 2), StoreError, "no respondent 'zz'"),
        (lambda s: s.save_answer("w1", "a1", "P1", 2, comment="x\x00y"), InputError, "control"),
        (lambda s: s.add_respondent("w1", "b1", "boss"), InputError, "unknown role"),
        (lambda s: s.add_respondent("w1", "../x", "agent"), InputError, "path separator"),
        (lambda s: s.add_respondent("w1", " ", "agent"), InputError, "respondent_id is empty"),
        (lambda s: s.add_respondent("nope", "b1", "agent"), StoreError, "no session 'nope'"),
    ],
)
def test_bad_writes_are_refused_and_change_nothing(tmp_path, mini, call, error, message):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 3)
    with pytest.raises(error, match=message):
        call(store)
    assert _value(tmp_path / "s.duckdb", "w1", "a1", "P1")["value"] == 3
    assert list(SessionStore(tmp_path / "s.duckdb").respondents("w1")["respondent_id"]) == ["a1"]


def test_session_keeps_its_organization_and_instrument(tmp_path, mini, bundled):
    store = _store(tmp_path, mini)
    assert store.open_session("w1", mini).org_id == "ACME"  # reopened without an org: its own
    with pytest.raises(StoreError, match="belongs to organization 'ACME'"):
        store.open_session("w1", mini, org_id="GLOBEX")
    with pytest.raises(StoreError, match="started with instrument mini version 0.1"):
        store.open_session("w1", bundled)
    assert SessionStore(tmp_path / "t.duckdb").open_session("solo", mini).org_id == "solo"


def test_a_peer_database_is_not_a_session_store(tmp_path, mini):
    from .conftest import DATA

    responses = load_responses(DATA / "mini_responses.csv", mini)
    profiles = pd.DataFrame(
        {"org_name": ["X"], "industry": ["other"], "agents": [10.0], "size_band": ["<=50"], "stage": ["considering"]},
        index=pd.Index(["X"], name="org_id"),
    )
    PeerStore(tmp_path / "peers.duckdb").import_responses(responses, profiles)
    with pytest.raises(StoreError, match="not a session store"):
        SessionStore(tmp_path / "peers.duckdb").open_session("w1", mini)
    (tmp_path / "junk.duckdb").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="junk.duckdb"):
        SessionStore(tmp_path / "junk.duckdb").open_session("w1", mini)


# ---------------------------------------------------------------------- atomicity and durability
class _FailingCommit:
    """A DuckDB connection whose commit fails: the write has run, the transaction has not ended."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._con.close()
        return False

    def commit(self):
        raise duckdb.IOException("IO Error: could not fsync (simulated disk failure)")


def test_a_failing_write_leaves_the_previous_answer(tmp_path, mini, monkeypatch):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 3, comment="before")
    real_connect = duckdb.connect
    monkeypatch.setattr(session_module.duckdb, "connect", lambda *a, **k: _FailingCommit(real_connect(*a, **k)))
    with pytest.raises(StoreError, match="s.duckdb: database error .*simulated disk failure"):
        store.save_answer("w1", "a1", "P1", 5, comment="after")
    monkeypatch.undo()
    row = _value(tmp_path / "s.duckdb", "w1", "a1", "P1")
    assert (row["value"], row["comment"]) == (3, "before")


_KILLED_MID_WRITE = textwrap.dedent("""
    import os, signal, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.begin()
    con.execute("UPDATE answers SET value = 1, comment = 'half written' WHERE item_id = 'P1'")
    os.kill(os.getpid(), signal.SIGKILL)  # the server dies before the commit
""")

_KILLED_AFTER_SAVE = textwrap.dedent("""
    import os, signal, sys
    from readiness.io.session_store import SessionStore
    SessionStore(sys.argv[1]).save_answer("w1", "a1", "P2", 4, comment="saved")
    os.kill(os.getpid(), signal.SIGKILL)  # no clean shutdown, no checkpoint
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_process_loses_no_committed_answer_and_holds_no_lock(tmp_path, mini):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 3, comment="before")
    path = str(tmp_path / "s.duckdb")
    for script in (_KILLED_MID_WRITE, _KILLED_AFTER_SAVE):
        proc = subprocess.run([sys.executable, "-c", script, path], capture_output=True, timeout=60)
        assert proc.returncode == -9, proc.stderr
    row = _value(path, "w1", "a1", "P1")
    assert (row["value"], row["comment"]) == (3, "before")  # the uncommitted change is gone
    row = _value(path, "w1", "a1", "P2")
    assert (row["value"], row["comment"]) == (4, "saved")  # the committed one survived the kill
    store.save_answer("w1", "a1", "P1", 2)  # and nothing is left locked


_HOLDS_LOCK = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def test_brief_lock_by_another_process_is_waited_out(tmp_path, mini):
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    path = tmp_path / "s.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDS_LOCK, str(path), "1.0"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="locked by another process"):
            SessionStore(path, lock_timeout=0.1).save_answer("w1", "a1", "P1", 4)
        SessionStore(path, lock_timeout=20).save_answer("w1", "a1", "P1", 5)  # waits for the holder
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert _value(path, "w1", "a1", "P1")["value"] == 5


def test_export_without_respondents_or_store(tmp_path, mini):
    store = _store(tmp_path, mini)
    with pytest.raises(StoreError, match="no respondents yet"):
        store.export_csv(tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(StoreError, match="not found"):
        SessionStore(tmp_path / "missing.duckdb").export_csv(tmp_path / "x.csv")
    assert SessionStore(tmp_path / "missing.duckdb").sessions() == []
    assert not (tmp_path / "missing.duckdb").exists()  # reading never creates a file


def test_comments_travel_with_the_answers_into_the_export(tmp_path, mini):
    store = _store(tmp_path, mini)
    for rid, role in (("a1", "agent"), ("a2", "agent"), ("m1", "manager"), ("new", "agent")):
        store.add_respondent("w1", rid, role)
    store.save_answer("w1", "a1", "P1", 4, comment="coaching is rare")
    store.save_answer("w1", "a2", "P3", None, not_applicable=True, comment="we have no scripts")
    store.save_answer("w1", "m1", "P1", 3, comment="depends on the team lead")
    store.save_answer("w1", "m1", "K1", 5)
    responses = store.to_responses(mini)
    assert len(responses) == 4  # everyone listed, as before
    assert len(store.to_responses(mini, answered_only=True)) == 3  # "new" has not answered anything
    comments = responses.comment_frame()
    assert sorted(zip(comments["respondent_id"], comments["topic"])) == [("a1", "P1"), ("a2", "P3"), ("m1", "P1")]
    path = store.export_csv(tmp_path / "w1.csv")
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-2:] == ["comment:P1", "comment:P3"]
    again = load_responses(path, mini)
    assert sorted(again.comment_frame()["text"]) == [
        "coaching is rare",
        "depends on the team lead",
        "we have no scripts",
    ]
    assert not [w for w in again.warnings if "comment" in w]


def test_exported_comments_are_inert_in_a_spreadsheet(tmp_path, mini):
    """A comment is free text like an open answer: one that starts like a formula is exported inert."""
    store = _store(tmp_path, mini)
    store.add_respondent("w1", "a1", "agent")
    store.save_answer("w1", "a1", "P1", 4, comment='=HYPERLINK("http://x.invalid","click")')
    path = store.export_csv(tmp_path / "w1.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert frame.loc[0, "comment:P1"] == '\'=HYPERLINK("http://x.invalid","click")'
