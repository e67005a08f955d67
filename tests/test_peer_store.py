"""The DuckDB peer database: round trip, replacement, atomicity, counts and bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from readiness.core.benchmark import PanelInfo
from readiness.core.errors import InputError, StoreError
from readiness.core.instrument import Instrument
from readiness.core.responses import Responses
from readiness.io.loaders import load_profiles, load_responses
from readiness.io.peer_store import (
    SCHEMA_VERSION,
    ImportSummary,
    PeerStore,
    load_peer_data,
    load_peer_info,
    panel_info_path_for,
    profiles_path_for,
    read_panel_info,
    write_panel_info,
)

DATA = Path(__file__).resolve().parent / "data"
NAN = np.nan

# Items of the mini instrument, in layout order: P1 P2 P3 P4 P5 R1 R2 T1 T2 K1 K2.
# P2 is asked of agents only, P5 of managers only; P3 allows N/A.


def _responses(mini: Instrument, rows: list[tuple[str, str, str, list[float], list[bool] | None]]) -> Responses:
    n_items = len(mini.layout.item_ids)
    na = np.zeros((len(rows), n_items), dtype=bool)
    for i, (*_, flags) in enumerate(rows):
        if flags is not None:
            na[i] = flags
    return Responses.from_arrays(
        mini,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        np.array([r[3] for r in rows], dtype=float).reshape(len(rows), n_items),
        na,
        source="test",
    )


def _profiles(rows: list[dict]) -> pd.DataFrame:
    """A profiles frame shaped as load_profiles returns it (str columns, NaN where blank)."""
    frame = pd.DataFrame(rows).set_index("org_id")
    out = pd.DataFrame(index=pd.Index(frame.index.astype(str), name="org_id"))
    for col in ("org_name", "industry", "size_band", "stage"):
        out[col] = np.array(
            [v if isinstance(v, str) else None for v in frame.get(col, [None] * len(frame))], dtype=object
        )
    out.insert(2, "agents", frame["agents"].to_numpy(dtype=float) if "agents" in frame else np.nan)
    for kpi in ("first_call_resolution", "abandon_rate"):
        if kpi in frame:
            out[kpi] = frame[kpi].to_numpy(dtype=float)
    return out


NA_P3 = [False, False, True] + [False] * 8


@pytest.fixture
def peers(mini: Instrument) -> tuple[Responses, pd.DataFrame]:
    """Two organizations: answers, an N/A, gaps, and a respondent who answered nothing."""
    responses = _responses(
        mini,
        [
            ("A", "a1", "agent", [4, 2, NAN, 5, NAN, 3, NAN, 1, 2, 5, 4], NA_P3),
            ("A", "m1", "manager", [5, NAN, 4, 4, 2, 5, 5, 3, 3, 4, NAN], None),
            ("A", "a2", "agent", [NAN] * 11, None),
            ("B", "b1", "agent", [1, 1, 1, 1, NAN, 1, 1, 1, 1, 1, 1], None),
            ("B", "bm", "manager", [3, NAN, NAN, 3, 3, 3, 3, 3, 3, 3, 3], NA_P3),
        ],
    )
    profiles = _profiles(
        [
            {
                "org_id": "A",
                "org_name": "Alpha",
                "industry": "technology",
                "agents": 40.0,
                "size_band": "<=50",
                "stage": "considering",
                "first_call_resolution": 71.5,
                "abandon_rate": NAN,
            },
            {
                "org_id": "B",
                "org_name": "Beta",
                "industry": "manufacturing",
                "agents": 200.0,
                "size_band": "151-500",
                "stage": None,
                "first_call_resolution": NAN,
                "abandon_rate": NAN,
            },
            {
                "org_id": "C",
                "org_name": "No respondents",
                "industry": "other",
                "agents": 10.0,
                "size_band": "<=50",
                "stage": "established",
                "first_call_resolution": 50.0,
                "abandon_rate": 3.0,
            },
        ]
    )
    return responses, profiles


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: the database content, for before/after checks."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("meta", "profiles", "answers", "instruments")
        }


def _assert_same_answers(got: Responses, expected: Responses) -> None:
    cols = ["org_id", "respondent_id", "role"]
    pd.testing.assert_frame_equal(got.meta[cols], expected.meta[cols])
    np.testing.assert_array_equal(got.values, expected.values)
    np.testing.assert_array_equal(got.not_applicable, expected.not_applicable)
    np.testing.assert_array_equal(got.dont_know, expected.dont_know)


# ---------------------------------------------------------------------- round trip
def test_round_trip_keeps_answers_na_meta_and_profiles(tmp_path, mini, peers):
    responses, profiles = peers
    store = PeerStore(tmp_path / "sub" / "peers.duckdb")
    summary = store.import_responses(responses, profiles, source="panel.csv")
    # 8 answers + 1 N/A for a1, 9 for m1, none for a2; 10 for b1, 9 + 1 N/A for bm.
    assert summary == ImportSummary(organizations=2, respondents=5, answers=38, replaced=0)

    got, got_profiles = store.load(mini)
    _assert_same_answers(got, responses)
    assert got.meta.loc[got.meta["respondent_id"] == "a2"].shape[0] == 1  # answered nothing, still there
    # Profiles come back as load_profiles shapes them; C had no respondents, and
    # abandon_rate was blank for every imported organization, so neither is there.
    pd.testing.assert_frame_equal(got_profiles, profiles.loc[["A", "B"]].drop(columns="abandon_rate"))
    assert store.org_ids() == ["A", "B"]


def test_round_trip_of_files_read_by_the_loaders(tmp_path, mini):
    (tmp_path / "p.csv").write_text(
        "org_id,org_name,industry,agents,stage,service_level\nX,Example,Financial Services,120,transitioning,80%\n",
        encoding="utf-8",
    )
    responses = load_responses(DATA / "mini_responses.csv", mini)
    profiles = load_profiles(tmp_path / "p.csv")
    store = PeerStore(tmp_path / "p.duckdb")
    store.import_responses(responses, profiles)
    got, got_profiles = store.load(mini)
    _assert_same_answers(got, responses)
    pd.testing.assert_frame_equal(got_profiles, profiles)
    assert got.source == "p.duckdb"


def test_dont_know_answers_round_trip(tmp_path, mini):
    responses = load_responses(DATA / "mini_dont_know.csv", mini)
    assert responses.dont_know.sum() == 10
    store = PeerStore(tmp_path / "dk.duckdb")
    summary = store.import_responses(responses, _profiles([{"org_id": "Y", "org_name": "Y", "agents": 10}]))
    # 18 answers, 1 N/A and 10 don't know (docs/scoring.md, second worked example)
    assert summary.answers == 29
    got, _ = store.load(mini)
    _assert_same_answers(got, responses)


def test_database_from_before_dont_know_reads_and_gains_the_column(tmp_path, mini, peers):
    path = tmp_path / "old.duckdb"
    PeerStore(path).import_responses(*peers)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE answers DROP COLUMN dont_know")  # the first layout had none
    got, _ = PeerStore(path, read_only=True).load(mini)
    _assert_same_answers(got, peers[0])
    assert not got.dont_know.any()
    dk = load_responses(DATA / "mini_dont_know.csv", mini)
    PeerStore(path).import_responses(dk, _profiles([{"org_id": "Y", "org_name": "Y", "agents": 10}]))
    got, _ = PeerStore(path, read_only=True).load(mini)
    assert got.select(["Y"]).dont_know.sum() == 10 and not got.select(["A", "B"]).dont_know.any()


def test_store_keeps_files_closed_between_calls(tmp_path, peers):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    PeerStore(path).import_responses(responses, profiles)
    with duckdb.connect(str(path)) as con:  # a writer of our own: it would fail if the file were held
        assert con.execute("SELECT count(*) FROM profiles").fetchall() == [(2,)]


# ---------------------------------------------------------------------- replacement
def test_reimport_replaces_an_organization_and_leaves_the_others(tmp_path, mini, peers):
    responses, profiles = peers
    store = PeerStore(tmp_path / "peers.duckdb")
    store.import_responses(responses, profiles)
    again = _responses(mini, [("B", "new", "agent", [5] * 11, None)])
    renamed = profiles.copy()
    renamed.loc["B", "org_name"] = "Beta renamed"
    summary = store.import_responses(again, renamed, source="second.csv")
    # The store keeps what it is given, P5 too; reading applies the instrument's roles.
    assert summary == ImportSummary(organizations=1, respondents=1, answers=11, replaced=1)

    got, got_profiles = store.load(mini)
    _assert_same_answers(got.select(["A"]), responses.select(["A"]))
    b = got.select(["B"])
    assert b.meta["respondent_id"].tolist() == ["new"]
    expected = np.full(11, 5.0)
    expected[4] = NAN  # P5 is a managers' item: not asked of an agent, so dropped on reading
    np.testing.assert_array_equal(b.values[0], expected)
    assert any("1 answer(s) to items not asked" in w for w in got.warnings)
    assert got_profiles.loc["B", "org_name"] == "Beta renamed"
    assert got_profiles.loc["A", "org_name"] == "Alpha"
    counts = store.describe()
    assert counts["organizations"].sum() == 2
    assert counts["respondents"].sum() == 4


# ---------------------------------------------------------------------- atomicity
def test_failed_import_leaves_the_database_exactly_as_before(tmp_path, mini, peers, monkeypatch):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    store = PeerStore(path)
    store.import_responses(responses, profiles)
    before = _dump(path)

    def fail(self, con, rows):  # runs after the deletes of A and B
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(PeerStore, "_insert_answers", fail)
    changed = _responses(mini, [("A", "z", "agent", [1] * 11, None), ("B", "y", "agent", [2] * 11, None)])
    with pytest.raises(RuntimeError, match="disk full"):
        store.import_responses(changed, profiles)
    monkeypatch.undo()

    assert _dump(path) == before
    _assert_same_answers(store.load(mini)[0], responses)


def test_constraint_violation_mid_import_rolls_back(tmp_path, mini, peers, monkeypatch):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    store = PeerStore(path)
    store.import_responses(responses, profiles)
    before = _dump(path)
    original = PeerStore._insert_profiles

    def insert_twice(self, con, rows, label, imported_at, synthetic):
        original(self, con, rows, label, imported_at, synthetic)
        original(self, con, rows, label, imported_at, synthetic)  # duplicate primary keys

    monkeypatch.setattr(PeerStore, "_insert_profiles", insert_twice)
    with pytest.raises(StoreError, match="peers.duckdb"):
        store.import_responses(responses, profiles)
    assert _dump(path) == before


def test_responses_org_without_profile_is_refused_before_writing(tmp_path, mini, peers):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    with pytest.raises(InputError, match=r"panel\.csv: organization 'B' in the responses has no profile"):
        PeerStore(path).import_responses(responses, profiles.drop(index="B"), source="panel.csv")
    assert not path.exists()


def test_duplicate_respondent_is_refused(tmp_path, mini):
    responses = _responses(mini, [("A", "a1", "agent", [3] * 11, None), ("A", "a1", "agent", [4] * 11, None)])
    profiles = _profiles([{"org_id": "A", "org_name": "Alpha", "agents": 5.0}])
    with pytest.raises(InputError, match="duplicate respondent 'a1'"):
        PeerStore(tmp_path / "peers.duckdb").import_responses(responses, profiles)


# ---------------------------------------------------------------------- describe
def test_describe_counts_per_peer_group(tmp_path, mini):
    answers = [3, 3, 3, 3, NAN, 3, 3, 3, 3, 3, 3]  # P5 is asked of managers only
    responses = _responses(
        mini,
        [
            ("A", "1", "agent", answers, None),
            ("A", "2", "manager", answers, None),
            ("B", "1", "agent", answers, None),
            ("C", "1", "agent", answers, None),
            ("C", "2", "agent", answers, None),
            ("C", "3", "agent", answers, None),
            ("D", "1", "manager", [NAN] * 11, None),
        ],
    )
    profiles = _profiles(
        [
            {"org_id": "A", "industry": "technology", "size_band": "51-150", "stage": "considering", "agents": 60.0},
            {"org_id": "B", "industry": "technology", "size_band": "51-150", "stage": "considering", "agents": 70.0},
            {
                "org_id": "C",
                "industry": "financial_services",
                "size_band": ">500",
                "stage": "established",
                "agents": 900.0,
            },
            {"org_id": "D", "industry": "technology", "size_band": "<=50", "stage": None, "agents": 5.0},
        ]
    )
    PeerStore(tmp_path / "peers.duckdb").import_responses(responses, profiles)
    counts = PeerStore(tmp_path / "peers.duckdb", read_only=True).describe()
    assert list(counts.columns[:5]) == ["industry", "size_band", "stage", "organizations", "respondents"]
    rows = [
        tuple(r)
        for r in counts[["industry", "size_band", "stage", "organizations", "respondents"]].itertuples(index=False)
    ]
    # The study's order: financial services first; size bands small to large.
    assert rows == [
        ("financial_services", ">500", "established", 1, 3),
        ("technology", "<=50", None, 1, 1),
        ("technology", "51-150", "considering", 2, 3),
    ]
    # C 3 x 10; D nothing; A 2 x 10 and B 10.
    assert counts["answers"].tolist() == [30, 0, 30]


def test_describe_of_an_empty_database(tmp_path, mini):
    store = PeerStore(tmp_path / "peers.duckdb")
    store.import_responses(_responses(mini, []), _profiles([{"org_id": "A", "agents": 5.0}]))
    assert store.describe().empty
    assert store.org_ids() == []


# ---------------------------------------------------------------------- bad files
def test_locked_database_fails_fast_with_one_line(tmp_path, peers):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); time.sleep(30)"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not path.exists():
            assert time.monotonic() < deadline, "the subprocess never opened the database"
            assert holder.poll() is None, "the subprocess died"
            time.sleep(0.05)
        time.sleep(0.2)  # let it take the lock after creating the file
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            PeerStore(path).import_responses(responses, profiles)
        assert time.monotonic() - started < 10
        message = str(caught.value)
        assert message.startswith("peers.duckdb: the database is locked by another process")
        assert f"pid {holder.pid}" in message
        assert "\n" not in message
        with pytest.raises(StoreError, match="locked"):  # readers are refused too, as quickly
            PeerStore(path, read_only=True).describe()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("content", [os.urandom(5000), b"org_id,role\nA,agent\n", b""])
def test_corrupt_file_is_a_one_line_store_error(tmp_path, mini, peers, content):
    responses, profiles = peers
    path = tmp_path / "x.duckdb"
    path.write_bytes(content)
    for call in (
        lambda: PeerStore(path).import_responses(responses, profiles),
        lambda: PeerStore(path, read_only=True).load(mini),
        lambda: PeerStore(path).describe(),
    ):
        with pytest.raises(StoreError) as caught:
            call()
        assert str(caught.value) == "x.duckdb: not a DuckDB database or it is damaged"
    assert path.read_bytes() == content


def test_damaged_blocks_are_a_store_error(tmp_path, mini, peers):
    responses, profiles = peers
    path = tmp_path / "peers.duckdb"
    PeerStore(path).import_responses(responses, profiles)
    with open(path, "r+b") as fh:
        fh.seek(12288)  # past the headers, into the data blocks
        fh.write(os.urandom(8192))
    with pytest.raises(StoreError, match="^peers.duckdb: not a DuckDB database or it is damaged$"):
        PeerStore(path).load(mini)


def test_missing_database_read_only(tmp_path, mini):
    path = tmp_path / "none.duckdb"
    for call in (
        lambda: PeerStore(path, read_only=True).load(mini),
        lambda: PeerStore(path).describe(),
        lambda: load_peer_data(path, mini),
    ):
        with pytest.raises(StoreError, match="database not found"):
            call()
    assert not path.exists()


def test_read_only_store_refuses_imports(tmp_path, peers):
    with pytest.raises(StoreError, match="read-only"):
        PeerStore(tmp_path / "peers.duckdb", read_only=True).import_responses(*peers)


@pytest.mark.parametrize(
    "setup, expected",
    [
        (["CREATE TABLE answers (x INTEGER)"], "not a peer database"),
        (
            ["CREATE TABLE meta (key VARCHAR, value VARCHAR)", "INSERT INTO meta VALUES ('schema_version', '1')"],
            "wrong schema: table profiles is missing",
        ),
        ([], "empty DuckDB database"),
    ],
)
def test_wrong_schema_is_a_store_error(tmp_path, mini, setup, expected):
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        for statement in setup:
            con.execute(statement)
    with pytest.raises(StoreError, match=f"^other.duckdb: .*{expected}"):
        PeerStore(path, read_only=True).load(mini)


def test_wrong_column_type_and_newer_schema_version(tmp_path, mini, peers):
    path = tmp_path / "peers.duckdb"
    PeerStore(path).import_responses(*peers)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(int(SCHEMA_VERSION) + 1)])
    with pytest.raises(StoreError, match="newer version of readiness"):
        PeerStore(path).import_responses(*peers)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION])
        con.execute("ALTER TABLE answers ALTER value TYPE VARCHAR")
    with pytest.raises(StoreError, match=r"column answers.value is VARCHAR, expected DOUBLE"):
        PeerStore(path).describe()


# ---------------------------------------------------------------------- instrument changes
def _variant(mini: Instrument, change) -> Instrument:
    spec = yaml.safe_load((DATA / "mini.yaml").read_text(encoding="utf-8"))
    change(spec)
    return Instrument.from_dict(spec, source="variant.yaml")


def test_load_with_a_changed_instrument(tmp_path, mini, peers):
    responses, profiles = peers
    store = PeerStore(tmp_path / "peers.duckdb")
    store.import_responses(responses, profiles)

    def drop_k2_add_k3(spec):
        items = spec["dimensions"][3]["facets"][0]["items"]
        items[1] = {"id": "K3", "text": "New", "label_set": "agreement", "roles": ["agent", "manager"]}

    changed = _variant(mini, drop_k2_add_k3)
    got, _ = store.load(changed)
    assert got.instrument.layout.item_ids[-1] == "K3"
    np.testing.assert_array_equal(got.values[:, :-1], responses.values[:, :-1])  # K1 and before kept
    assert np.isnan(got.values[:, -1]).all()  # K3 was never asked


def test_load_refuses_roles_unknown_to_the_instrument(tmp_path, mini, peers):
    store = PeerStore(tmp_path / "peers.duckdb")
    store.import_responses(*peers)

    def rename_manager(spec):
        spec["roles"] = {"agent": 1.0, "lead": 2.0}
        for dim in spec["dimensions"]:
            for facet in dim["facets"]:
                for item in facet["items"]:
                    item["roles"] = ["lead" if r == "manager" else r for r in item["roles"]]

    with pytest.raises(InputError, match=r"^peers.duckdb: .*'manager'"):
        store.load(_variant(mini, rename_manager))


# ---------------------------------------------------------------------- load_peer_data
def _write_pair(folder: Path) -> Path:
    responses = folder / "panel.csv"
    responses.write_bytes((DATA / "mini_responses.csv").read_bytes())
    (folder / "panel.profiles.csv").write_text(
        "org_id,org_name,industry,agents,stage\nX,Example,technology,40,considering\n", encoding="utf-8"
    )
    return responses


def test_profiles_path_for():
    assert profiles_path_for("data/peers/panel.csv") == Path("data/peers/panel.profiles.csv")
    assert profiles_path_for(Path("p.v2.parquet")) == Path("p.v2.profiles.parquet")


def test_load_peer_data_from_a_file_pair_and_from_a_database(tmp_path, mini):
    responses_path = _write_pair(tmp_path)
    responses, profiles = load_peer_data(responses_path, mini)
    assert responses.org_ids == ("X",)
    assert profiles.loc["X", "industry"] == "technology"

    db = tmp_path / "peers.DuckDB"  # the suffix is matched without regard to case
    PeerStore(db).import_responses(responses, profiles)
    from_db, db_profiles = load_peer_data(db, mini)
    _assert_same_answers(from_db, responses)
    pd.testing.assert_frame_equal(db_profiles, profiles)


def test_load_peer_data_without_the_profiles_sibling(tmp_path, mini):
    responses_path = _write_pair(tmp_path)
    (tmp_path / "panel.profiles.csv").unlink()
    with pytest.raises(InputError, match=r"panel\.profiles\.csv") as caught:
        load_peer_data(responses_path, mini)
    assert str(tmp_path / "panel.profiles.csv") in str(caught.value)


def test_load_peer_data_with_an_organization_lacking_a_profile(tmp_path, mini):
    responses_path = _write_pair(tmp_path)
    (tmp_path / "panel.profiles.csv").write_text("org_id,agents\nOTHER,40\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^panel\.profiles\.csv: organization 'X' in panel\.csv has no profile"):
        load_peer_data(responses_path, mini)


# ---------------------------------------------------------------------- what the panel is
def test_a_database_says_whether_its_panel_is_synthetic(tmp_path, peers):
    responses, profiles = peers
    path = tmp_path / "ours.duckdb"
    store = PeerStore(path)
    store.import_responses(responses, profiles)
    assert store.info() == PanelInfo("ours", "", False)  # real by default, named after the file
    store.import_responses(responses, profiles, name="Regional peers 2024", description="Assessed with consent.")
    assert store.info() == PanelInfo("Regional peers 2024", "Assessed with consent.", False)
    store.import_responses(responses, profiles, synthetic=True)  # name and description are kept
    assert store.info() == PanelInfo("Regional peers 2024", "Assessed with consent.", True)


def test_one_simulated_organization_makes_the_panel_synthetic(tmp_path, mini, peers):
    responses, profiles = peers
    path = tmp_path / "mixed.duckdb"
    PeerStore(path).import_responses(responses, profiles)
    fake = _responses(mini, [("S", "s1", "agent", [3] * 11, None)])
    PeerStore(path).import_responses(fake, _profiles([{"org_id": "S", "agents": 12.0}]), synthetic=True)
    info = PeerStore(path, read_only=True).info()
    assert info.synthetic is True and "1 of its 3 organizations are simulated" in info.description


def _make_version_1(path: Path) -> None:
    """Turn a database into the version-1 layout: no synthetic column."""
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE profiles DROP COLUMN synthetic")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def test_version_1_database_is_read_and_migrated(tmp_path, mini, peers):
    responses, profiles = peers
    path = tmp_path / "old.duckdb"
    PeerStore(path).import_responses(responses, profiles, source="readiness panel --seed 7")
    _make_version_1(path)
    # read as it is: what `readiness panel` wrote was simulated
    assert PeerStore(path, read_only=True).info().synthetic is True
    old_answers, _ = PeerStore(path, read_only=True).load(mini)
    _assert_same_answers(old_answers, responses)
    # the next import migrates it: the panel's organizations stay simulated, the new one is real
    real = _responses(mini, [("R", "r1", "agent", [4] * 11, None)])
    PeerStore(path).import_responses(real, _profiles([{"org_id": "R", "agents": 30.0}]), source="ours.csv")
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(SCHEMA_VERSION,)]
        flags = dict(con.execute("SELECT org_id, synthetic FROM profiles").fetchall())
    assert flags == {"A": True, "B": True, "R": False}


def test_version_1_database_of_real_peers_stays_real(tmp_path, peers):
    path = tmp_path / "old.duckdb"
    PeerStore(path).import_responses(*peers, source="survey-2023.csv")
    _make_version_1(path)
    assert PeerStore(path, read_only=True).info().synthetic is False


def test_panel_description_beside_a_responses_file(tmp_path):
    responses_path = _write_pair(tmp_path)
    assert panel_info_path_for(responses_path) == tmp_path / "panel.panel.json"
    assert load_peer_info(responses_path) == PanelInfo("panel", "", False)  # no companion: the user's own
    info = PanelInfo("Made-up peers", "Simulated for a demo.", True)
    write_panel_info(panel_info_path_for(responses_path), info, generator={"seed": 1})
    assert load_peer_info(responses_path) == info
    assert json.loads((tmp_path / "panel.panel.json").read_text(encoding="utf-8"))["generator"] == {"seed": 1}
    (tmp_path / "panel.panel.json").write_text('{"synthetic": "yes"}', encoding="utf-8")
    with pytest.raises(InputError, match="panel.panel.json.*synthetic must be true or false"):
        read_panel_info(tmp_path / "panel.panel.json")
    (tmp_path / "panel.panel.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(InputError, match="must be a JSON object"):
        load_peer_info(responses_path)


# ---------------------------------------------------------------------- bad files, through the CLI
# Each case must end within seconds with exit 2 and one line naming the file, from both
# commands that open a peer database: `peers describe --db F` and `score ... --peers F`.
_HOLD_WRITE_LOCK = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('CREATE TABLE IF NOT EXISTS held (x INTEGER)')\n"
    "print('locked', flush=True)\n"
    "time.sleep(60)\n"
)


def _cli_on_database(capsys, path: Path) -> list[tuple[int, str, float]]:
    from readiness.apps.cli import main

    results = []
    for argv in (
        ["peers", "describe", "--db", path],
        [
            "score",
            DATA / "mini_responses.csv",
            "--instrument",
            DATA / "mini.yaml",
            "--peers",
            path,
            "--quiet",
            "--bootstrap",
            "0",
        ],
    ):
        started = time.monotonic()
        code = main([str(a) for a in argv])
        seconds = time.monotonic() - started
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        results.append((code, err, seconds))
    return results


def _good_database(path: Path, peers) -> bytes:
    PeerStore(path).import_responses(*peers)
    return path.read_bytes()


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("random", "peers.duckdb: not a DuckDB database or it is damaged"),
        ("text", "peers.duckdb: not a DuckDB database or it is damaged"),
        ("empty", "peers.duckdb: not a DuckDB database or it is damaged"),
        ("truncated", "peers.duckdb: not a DuckDB database or it is damaged (the file is truncated)"),
        ("header_only", "peers.duckdb: not a DuckDB database or it is damaged (the file is truncated)"),
    ],
)
def test_cli_on_a_corrupt_database_exits_2_with_one_line(capsys, tmp_path, peers, damage, expected):
    path = tmp_path / "peers.duckdb"
    good = _good_database(path, peers)
    content = {
        "random": os.urandom(len(good)),
        "text": b"org_id,role\nA,agent\n" * 50,
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "header_only": good[:4096],
    }[damage]
    path.write_bytes(content)
    for code, err, seconds in _cli_on_database(capsys, path):
        assert code == 2
        assert err == f"error: {expected}\n"
        assert seconds < 10
    assert path.read_bytes() == content  # reading never repairs or rewrites the file


def test_cli_on_a_locked_database_exits_2_at_once(capsys, tmp_path, peers):
    path = tmp_path / "peers.duckdb"
    _good_database(path, peers)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE_LOCK, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for code, err, seconds in _cli_on_database(capsys, path):
            assert code == 2
            assert err == (
                f"error: peers.duckdb: the database is locked by another process (pid {holder.pid}); "
                "close it and retry\n"
            )
            assert seconds < 10
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_cli_on_a_pipe_or_folder_is_refused_not_waited_on(capsys, tmp_path):
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    (describe, score) = _cli_on_database(capsys, folder)  # click's own check of the option
    assert describe[:2] == (
        2,
        f"error: Invalid value for '--db': File '{folder}' is a directory. (see 'readiness peers describe --help')\n",
    )
    assert score[:2] == (
        2,
        f"error: Invalid value for '--peers': File '{folder}' is a directory. (see 'readiness score --help')\n",
    )
    fifo = tmp_path / "pipe.duckdb"
    try:
        os.mkfifo(fifo)
    except (AttributeError, OSError):
        pytest.skip("no named pipes here")
    # DuckDB would block for ever opening a pipe; the check comes first.
    for code, err, seconds in _cli_on_database(capsys, fifo):
        assert code == 2 and err == f"error: {fifo}: is not a regular file (a device, pipe or socket)\n"
        assert seconds < 10


def test_session_store_locked_or_corrupt_is_a_prompt_store_error(tmp_path, mini):
    from readiness.io.session_store import SessionStore

    path = tmp_path / "workshop.duckdb"
    SessionStore(path).open_session("w1", mini, org_id="X")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE_LOCK, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            SessionStore(path).sessions()  # the default wait for a brief lock, then one line
        waited = time.monotonic() - started
        assert 4 <= waited < 15
        assert str(caught.value) == (
            f"workshop.duckdb: the database is locked by another process (pid {holder.pid}); close it and retry"
        )
    finally:
        holder.kill()
        holder.wait(timeout=10)
    good = path.read_bytes()
    for content in (os.urandom(len(good)), good[: len(good) // 2], b"session,org_id\n"):
        path.write_bytes(content)
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"^workshop\.duckdb: not a DuckDB database or it is damaged"):
            SessionStore(path).sessions()
        assert time.monotonic() - started < 3  # damage is not mistaken for a lock and waited on
