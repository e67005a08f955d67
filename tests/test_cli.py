"""The command line: exit codes, one-line errors, and the documented outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.apps.cli import main

from .conftest import DATA

MINI = str(DATA / "mini.yaml")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_instrument_json_is_normalized(capsys):
    code, out, _ = run(capsys, "instrument", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["id"] == "service-to-sales" and doc["scale_points"] == 5
    assert [d["id"] for d in doc["dimensions"]] == ["people", "process", "technology", "knowledge"]
    item = doc["dimensions"][1]["facets"][0]["items"][0]
    assert isinstance(item["labels"], list) and len(item["labels"]) == 5


def test_validate_ok(capsys):
    code, out, _ = run(capsys, "validate", DATA / "mini_responses.csv", "--instrument", MINI)
    assert code == 0
    assert out.strip() == "valid: 3 respondents, 1 organization"


def test_validate_lists_every_problem(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text((DATA / "mini_responses.csv").read_text() + "X,z1,boss,9,1,1,1,1,1,1,1,1,1,1\n")
    code, out, err = run(capsys, "validate", bad, "--instrument", MINI)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines == [
        "error: bad.csv, row 5, column role: unknown role 'boss'; expected one of agent, manager",
        "error: bad.csv, row 5, column P1: answer 9 is outside 1..5",
    ]


@pytest.mark.parametrize("command", ["validate", "score"])
def test_bad_input_exit_2_one_line(capsys, tmp_path, command):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02garbage")
    code, out, err = run(capsys, command, bad, "--instrument", MINI)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "bad.csv" in err


def test_missing_file_and_bad_instrument(capsys, tmp_path):
    code, _, err = run(capsys, "score", tmp_path / "nope.csv")
    assert code == 2 and "file not found" in err
    broken = tmp_path / "inst.yaml"
    broken.write_text("id: x\n")
    code, _, err = run(capsys, "validate", DATA / "mini_responses.csv", "--instrument", broken)
    assert code == 2 and err.count("\n") == 1 and "inst.yaml" in err


def test_score_writes_results_json(capsys, tmp_path):
    out = tmp_path / "r.json"
    code, stdout, _ = run(
        capsys,
        "score",
        DATA / "mini_responses.csv",
        "--instrument",
        MINI,
        "--json",
        out,
        "--seed",
        1,
        "--bootstrap",
        200,
        "--role-min",
        1,
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1
    assert doc["organization"]["id"] == "X"
    assert doc["overall"]["score"] == pytest.approx(68.3333, abs=1e-3)
    assert doc["facets"]["people.a"]["score"] == pytest.approx(75.0)
    assert doc["facets"]["people.a"]["by_role"] == {"agent": 50.0, "manager": 87.5}
    assert doc["respondents"] == {
        "n": 3,
        "by_role": {"agent": 2, "manager": 1},
        "answering_by_role": {"agent": 2, "manager": 1},
        "withheld_roles": [],
        "withheld_in": {},
        "role_min": 1,
        "answers": {"answered": 25, "not_applicable": 1, "dont_know": 0, "unanswered": 4},
    }
    assert doc["overall"]["barrier"] == "technology.a"
    # by default (three respondents per role) neither role's scores are shown
    run(
        capsys,
        "score",
        DATA / "mini_responses.csv",
        "--instrument",
        MINI,
        "--json",
        tmp_path / "d.json",
        "--bootstrap",
        0,
    )
    default = json.loads((tmp_path / "d.json").read_text())
    assert default["respondents"]["withheld_roles"] == ["agent", "manager"]
    assert default["facets"]["people.a"]["by_role"] == {"agent": None, "manager": None}
    assert default["facets"]["people.a"]["score"] == pytest.approx(75.0)  # the center's own score stays
    lo, hi = doc["overall"]["ci"]
    assert lo <= doc["overall"]["score"] <= hi
    assert "Overall readiness" in stdout
    # same input and seed: byte for byte the same file
    again = tmp_path / "again.json"
    run(
        capsys,
        "score",
        DATA / "mini_responses.csv",
        "--instrument",
        MINI,
        "--json",
        again,
        "--seed",
        1,
        "--bootstrap",
        200,
        "--role-min",
        1,
        "--quiet",
    )
    assert again.read_bytes() == out.read_bytes()


def test_score_unknown_org(capsys):
    code, _, err = run(capsys, "score", DATA / "mini_responses.csv", "--instrument", MINI, "--org", "NOPE")
    assert code == 2 and "'NOPE' has no respondents" in err


def test_console_script_and_help():
    exe = Path(sys.executable).parent / "readiness"
    for cmd in ([], ["score"], ["validate"], ["instrument"], ["demo"]):
        res = subprocess.run([str(exe), *cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0 and "Usage" in res.stdout
    res = subprocess.run([str(exe), "score", str(DATA / "nope.csv")], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


# ---------------------------------------------------------------------- peer panels: synthetic or real
def test_panel_marks_what_it_generates(capsys, tmp_path):
    from readiness.io.peer_store import PeerStore, load_peer_info

    code, out, _ = run(capsys, "panel", "--orgs", 12, "--seed", 3, "--instrument", MINI, "--out", tmp_path / "p.csv")
    assert code == 0 and "synthetic" in out
    assert load_peer_info(tmp_path / "p.csv").synthetic is True
    code, _, _ = run(capsys, "panel", "--orgs", 12, "--seed", 3, "--instrument", MINI, "--out", tmp_path / "p.duckdb")
    assert code == 0
    assert PeerStore(tmp_path / "p.duckdb", read_only=True).info().synthetic is True


def test_peers_import_is_real_unless_told(capsys, tmp_path):
    from readiness.io.peer_store import PeerStore

    run(capsys, "panel", "--orgs", 12, "--seed", 3, "--instrument", MINI, "--out", tmp_path / "p.csv")
    args = ["peers", "import", tmp_path / "p.csv", "--profiles", tmp_path / "p.profiles.csv", "--instrument", MINI]
    code, out, err = run(capsys, *args, "--db", tmp_path / "real.duckdb")
    assert code == 0 and "12 real organizations" in out
    assert "p.panel.json marks these data as synthetic" in err  # said, not silently applied
    assert PeerStore(tmp_path / "real.duckdb", read_only=True).info().synthetic is False
    code, out, _ = run(
        capsys,
        *args,
        "--db",
        tmp_path / "sim.duckdb",
        "--synthetic",
        "--name",
        "Demo peers",
        "--description",
        "Made up.",
    )
    assert code == 0 and "12 simulated organizations" in out
    info = PeerStore(tmp_path / "sim.duckdb", read_only=True).info()
    assert (info.synthetic, info.name, info.description) == (True, "Demo peers", "Made up.")
    code, out, _ = run(capsys, "peers", "describe", "--db", tmp_path / "sim.duckdb")
    assert code == 0 and "Demo peers: synthetic" in out


def test_score_without_peers_writes_a_roadmap(capsys, tmp_path):
    code, _, _ = run(
        capsys,
        "score",
        DATA / "mini_responses.csv",
        "--instrument",
        MINI,
        "--playbook",
        DATA / "mini_playbook.yaml",
        "--out",
        tmp_path,
        "--quiet",
    )
    assert code == 0
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["benchmark"] is None and doc["roadmap"] and doc["plan"]["target_kind"] == "level"
    assert (tmp_path / "roadmap.xlsx").stat().st_size > 0 and (tmp_path / "roadmap.csv").stat().st_size > 0


# ---------------------------------------------------------------------- tables a person reads
def test_score_table_names_each_thing_once_and_in_words(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    examples = DATA.parent.parent / "data" / "examples"
    code, out, _ = run(capsys, "score", examples / "responses.csv", "--bootstrap", 0)
    assert code == 0
    first = out.splitlines()[0].strip()
    assert first == "NORTHBANK"  # no profile: the id is the name, shown once
    for facet in json.loads(run(capsys, "instrument", "--json")[1])["dimensions"][0]["facets"]:
        assert facet["id"] not in out and facet["title"].split()[0] in out
    assert "_" not in out.replace("readiness", "")


def test_score_shows_name_and_id_when_they_differ(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    examples = DATA.parent.parent / "data" / "examples"
    code, out, _ = run(
        capsys, "score", examples / "responses.csv", "--profiles", examples / "profiles.csv", "--bootstrap", 0
    )
    assert code == 0 and out.splitlines()[0].strip().endswith("(NORTHBANK)")


@pytest.mark.parametrize("width", [60, 80, 120])
def test_peers_describe_fits_the_terminal_without_cutting_names(capsys, monkeypatch, tmp_path, width):
    from readiness.core.profile import INDUSTRIES, STAGES

    root = DATA.parent.parent
    db = tmp_path / "peers.duckdb"
    code, _, _ = run(
        capsys,
        "peers",
        "import",
        root / "data" / "peers" / "panel.csv",
        "--profiles",
        root / "data" / "peers" / "panel.profiles.csv",
        "--db",
        db,
    )
    assert code == 0
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, _ = run(capsys, "peers", "describe", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= width for line in lines)
    assert "…" not in out and "_" not in out.replace("peers.duckdb", "")
    words = set(out.split())
    for name in (*INDUSTRIES, *STAGES):
        assert all(word in words for word in name.split("_")), name  # every word whole
