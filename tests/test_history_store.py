"""The assessment history (readiness.io.history_store): waves kept whole, read back exactly, crash-safe."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

from readiness.core.assessment import Options, assess
from readiness.core.change import compare, waves_from_responses
from readiness.core.errors import InputError, StoreError
from readiness.io.history_store import HistoryStore, check_date, wave_label
from readiness.io.loaders import load_responses
from readiness.io.peer_store import PeerStore
from readiness.io.session_store import SessionStore

from .conftest import DATA


@pytest.fixture(scope="module")
def responses(mini):
    return load_responses(DATA / "mini_responses.csv", mini)


def waves(responses, label: str, date: str = "2024-05-14"):
    docs = assess(responses, options=Options(n_boot=100))
    return waves_from_responses(responses, docs, label=label, date=date)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.nan_to_num(a, nan=-1.0), np.nan_to_num(b, nan=-1.0))


def test_recorded_wave_reads_back_exactly(tmp_path, responses, mini):
    store = HistoryStore(tmp_path / "h.duckdb")
    [wave] = waves(responses, "2024-05")
    summary = store.record([wave], source="mini_responses.csv")
    assert (summary.waves, summary.respondents, summary.replaced) == (1, len(responses), 0)
    back = HistoryStore(tmp_path / "h.duckdb").load(wave.org_id, "2024-05")  # a new store object
    assert back.roles == wave.roles and same(back.scores, wave.scores)
    assert back.results == wave.results and back.date == "2024-05-14"
    assert back.instrument == mini and back.instrument.layout.role_ids == mini.layout.role_ids
    # the same intervals from the stored wave as from the one in memory
    later = waves(responses, "2024-11", "2024-11-02")[0]
    pd.testing.assert_frame_equal(compare(wave, later).table, compare(back, later).table)


def test_list_orders_by_date_and_names_every_wave(tmp_path, responses):
    store = HistoryStore(tmp_path / "h.duckdb")
    store.record(waves(responses, "late", "2025-01-10"))
    store.record(waves(responses, "early", "2024-02-01"))
    frame = store.waves()
    assert list(frame["wave"]) == ["early", "late"] and list(frame["date"]) == ["2024-02-01", "2025-01-10"]
    assert list(frame.columns[:5]) == ["org_id", "name", "wave", "date", "respondents"]
    assert frame["respondents"].tolist() == [len(responses)] * 2 and frame["has_scores"].all()
    assert store.waves("nobody").empty


def test_recording_a_wave_again_replaces_it(tmp_path, responses):
    store = HistoryStore(tmp_path / "h.duckdb")
    [wave] = waves(responses, "w")
    store.record([wave])
    fewer = responses.select(responses.org_ids)  # same organization, recorded again
    [again] = waves(fewer, "w", "2024-06-01")
    assert store.record([again]).replaced == 1
    frame = store.waves()
    assert len(frame) == 1 and frame["date"].iloc[0] == "2024-06-01"
    with duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True) as con:
        n = con.execute("SELECT count(DISTINCT respondent) FROM respondent_scores").fetchall()[0][0]
    assert n == len(responses)  # no respondent kept twice


def test_remove_one_wave_or_all(tmp_path, responses):
    store = HistoryStore(tmp_path / "h.duckdb")
    store.record(waves(responses, "a", "2024-01-01"))
    store.record(waves(responses, "b", "2024-06-01"))
    org = store.waves()["org_id"].iloc[0]
    assert store.remove(org, "a") == 1 and list(store.waves()["wave"]) == ["b"]
    assert store.remove(org) == 1 and store.waves().empty
    with duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM respondent_scores").fetchall()[0][0] == 0


def test_unknown_wave_or_organization_is_an_input_error(tmp_path, responses):
    store = HistoryStore(tmp_path / "h.duckdb")
    store.record(waves(responses, "a"))
    org = store.waves()["org_id"].iloc[0]
    with pytest.raises(InputError, match="has no wave 'zz'; its waves: a"):
        store.load(org, "zz")
    with pytest.raises(InputError, match="'nobody' has no wave"):
        store.load("nobody", "a")


def test_respondent_ids_are_not_stored(tmp_path, responses):
    path = tmp_path / "h.duckdb"
    HistoryStore(path).record(waves(responses, "a"))
    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute("SELECT DISTINCT CAST(respondent AS VARCHAR) FROM respondent_scores").fetchall()
        columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
    assert "respondent_id" not in columns
    assert {s for (s,) in stored} == {str(i) for i in range(1, len(responses) + 1)}
    assert not set(responses.meta["respondent_id"]) & {s for (s,) in stored}


def test_labels_and_dates_are_checked(tmp_path, responses):
    assert wave_label(None, "2024-05-14") == "2024-05" and wave_label("baseline", "2024-05-14") == "baseline"
    for bad in ("=1+1", "a/b", "x\ty"):
        with pytest.raises(InputError):
            wave_label(bad, "2024-05-14")
    assert check_date("2024-02-29") == "2024-02-29"
    for bad in ("2023-02-29", "14/05/2024", "2024-5-1"):
        with pytest.raises(InputError, match="YYYY-MM-DD"):
            check_date(bad)
    [wave] = waves(responses, "a")
    with pytest.raises(InputError, match="twice"):
        HistoryStore(tmp_path / "h.duckdb").record([wave, wave])
    assert not (tmp_path / "h.duckdb").exists()


@pytest.mark.parametrize("kind", ["peers", "sessions", "garbage", "newer"])
def test_other_files_are_refused_in_one_line(tmp_path, kind, responses, mini):
    path = tmp_path / "other.duckdb"
    if kind == "peers":
        profiles = pd.DataFrame({"org_name": ["X"], "industry": ["other"]}, index=pd.Index(["X"], name="org_id"))
        PeerStore(path).import_responses(responses, profiles)
    elif kind == "sessions":
        SessionStore(path).open_session("s", mini)
    elif kind == "garbage":
        path.write_bytes(os.urandom(20000))
    else:
        HistoryStore(path).record(waves(responses, "a"))
        with duckdb.connect(str(path)) as con:
            con.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        HistoryStore(path).record(waves(responses, "b"))
    assert "\n" not in str(caught.value) and str(caught.value).startswith("other.duckdb")
    with pytest.raises(StoreError):
        HistoryStore(path).waves()
    assert path.read_bytes() == before  # refused before anything is written


_KILLED_MID_RECORD = textwrap.dedent("""
    import os, signal, sys
    from readiness.core.assessment import Options, assess
    from readiness.core.change import waves_from_responses
    from readiness.io.history_store import HistoryStore
    from readiness.io.loaders import load_instrument, load_responses

    instrument = load_instrument(sys.argv[2])
    responses = load_responses(sys.argv[3], instrument)
    docs = assess(responses, options=Options(n_boot=50))
    waves = waves_from_responses(responses, docs, label=sys.argv[4], date="2024-11-02")

    def die(self, con, table):
        os.kill(os.getpid(), signal.SIGKILL)  # the wave's row is written, its scores are not

    HistoryStore._insert_scores = die
    HistoryStore(sys.argv[1]).record(waves)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_recording_loses_no_earlier_wave_and_leaves_no_half_written_one(tmp_path, responses):
    path = tmp_path / "h.duckdb"
    store = HistoryStore(path)
    [first] = waves(responses, "2024-05")
    store.record([first])
    for label in ("2024-11", "2024-05"):  # a new wave, and a replacement of the earlier one
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _KILLED_MID_RECORD,
                str(path),
                str(DATA / "mini.yaml"),
                str(DATA / "mini_responses.csv"),
                label,
            ],
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == -9, proc.stderr.decode()[-400:]
        frame = HistoryStore(path).waves()
        assert list(frame["wave"]) == ["2024-05"] and frame["date"].tolist() == ["2024-05-14"]
        back = HistoryStore(path).load(first.org_id, "2024-05")
        assert back.roles == first.roles and same(back.scores, first.scores)
    store.record(waves(responses, "2024-11", "2024-11-02"))  # and nothing is left locked
    assert list(HistoryStore(path).waves()["wave"]) == ["2024-05", "2024-11"]


def test_a_failing_recording_changes_nothing(tmp_path, responses, monkeypatch):
    path = tmp_path / "h.duckdb"
    store = HistoryStore(path)
    store.record(waves(responses, "a"))

    def fail(self, con, table):
        raise duckdb.IOException("IO Error: could not write (simulated disk failure)")

    monkeypatch.setattr(HistoryStore, "_insert_scores", fail)
    with pytest.raises(StoreError, match="simulated disk failure"):
        store.record(waves(responses, "a", "2030-01-01") + waves(responses, "b"))
    monkeypatch.undo()
    frame = store.waves()
    assert list(frame["wave"]) == ["a"] and frame["date"].tolist() == ["2024-05-14"]


def test_latest_results_per_organization(tmp_path, responses):
    store = HistoryStore(tmp_path / "h.duckdb")
    [a] = waves(responses, "a", "2024-01-01")
    [b] = waves(responses, "b", "2024-09-01")
    b.results["overall"]["score"] = 12.5  # to tell the two apart
    store.record([b])
    store.record([a])
    [latest] = store.latest_results()
    assert latest["overall"]["score"] == 12.5
