"""Batch reports: correct outputs, fault isolation, no state leaks, kill and resume, Dask."""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from readiness.apps.batch import ENGINE_NAME, clean_partial_files, is_complete, register_engine, run_batch
from readiness.io.exporters import org_folder
from readiness.io.pipeline import load_inputs, make_options, run

from .conftest import ROOT

PANEL = ROOT / "data" / "peers" / "panel.csv"
BIN = Path(sys.executable).parent


def _subset(tmp: Path, n: int) -> tuple[Path, Path]:
    """The first n panel organizations as a client file (with profiles beside it)."""
    with open(PANEL, newline="") as fh:
        rows = list(csv.reader(fh))
    keep: list[str] = []
    out = [rows[0]]
    for row in rows[1:]:
        if row[0] not in keep and len(keep) < n:
            keep.append(row[0])
        if row[0] in keep:
            out.append(row)
    responses = tmp / "clients.csv"
    with open(responses, "w", newline="") as fh:
        csv.writer(fh).writerows(out)
    with open(PANEL.with_name("panel.profiles.csv"), newline="") as fh:
        prof = list(csv.reader(fh))
    profiles = tmp / "clients.profiles.csv"
    with open(profiles, "w", newline="") as fh:
        csv.writer(fh).writerows([prof[0]] + [p for p in prof[1:] if p[0] in keep])
    return responses, profiles


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clients")
    return _subset(tmp, 4)


@pytest.fixture(scope="module")
def docs(clients):
    responses, profiles = clients
    inputs = load_inputs(responses, profiles=profiles, peers=PANEL)
    return run(inputs, options=make_options(n_boot=100))


def manifest(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        return {row["org_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def local_batch(clients, tmp_path_factory):
    responses, profiles = clients
    out = tmp_path_factory.mktemp("batch") / "out"
    res = subprocess.run(
        [
            str(BIN / "readiness"),
            "batch",
            str(responses),
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--out",
            str(out),
            "--workers",
            "2",
            "--bootstrap",
            "100",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_every_organization_gets_its_folder(local_batch, docs):
    rows = manifest(local_batch)
    assert set(rows) == set(docs)
    for org_id in docs:
        row = rows[org_id]
        assert row["status"] == "ok" and row["error"] == ""
        assert float(row["seconds"]) > 0 and row["started"]
        folder = local_batch / org_folder(org_id)
        assert is_complete(folder)
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_batch_results_equal_single_scoring(local_batch, docs, clients, tmp_path):
    """Same numbers as `readiness score` on one organization: the batch shares the one pipeline."""
    responses, profiles = clients
    org = next(iter(docs))
    single = tmp_path / "single.json"
    res = subprocess.run(
        [
            str(BIN / "readiness"),
            "score",
            str(responses),
            "--org",
            org,
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--json",
            str(single),
            "--bootstrap",
            "100",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert (local_batch / org_folder(org) / "results.json").read_bytes() == single.read_bytes()
    html = (local_batch / org_folder(org) / "report.html").read_text(encoding="utf-8")
    doc = json.loads(single.read_text(encoding="utf-8"))
    assert f"<b>{doc['overall']['score']:,.0f}</b> out of 100" in html


def test_a_broken_organization_fails_alone(docs, tmp_path):
    broken = copy.deepcopy(docs)
    bad = list(broken)[1]
    del broken[bad]["facets"]  # the report cannot render this document
    summary = run_batch(broken, tmp_path, workers=2)
    assert summary.failed == 1 and summary.done == len(docs) - 1 and not summary.ok
    rows = manifest(tmp_path)
    assert rows[bad]["status"] == "failed" and "facets" in rows[bad]["error"]
    assert "\n" not in rows[bad]["error"]
    for org in docs:
        if org != bad:
            assert rows[org]["status"] == "ok"
    # nothing half-written for the failed organization: no folder (it had none before), no staged set
    folder = tmp_path / org_folder(bad)
    assert not folder.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{folder.name}.")]


def _outputs(nb) -> list:
    """What a report shows: HTML and figure (SVG) outputs, in order."""
    shown = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            shown.append((data.get("text/html"), data.get("image/svg+xml")))
    return shown


def test_an_organization_with_bad_rows_fails_alone(tmp_path):
    """Bad answers in one organization's rows fail that organization, not the file."""
    responses, profiles = _subset(tmp_path, 3)
    lines = responses.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    orgs = list(dict.fromkeys(line.split(",")[0] for line in lines[1:]))
    bad = orgs[1]
    index = next(i for i, line in enumerate(lines) if line.startswith(bad + ","))  # 0-based; header is row 1
    cells = lines[index].split(",")
    item = header[3]
    cells[3] = "7"
    lines[index] = ",".join(cells)
    responses.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run(
        [
            str(BIN / "readiness"),
            "batch",
            str(responses),
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--out",
            str(out),
            "--workers",
            "2",
            "--bootstrap",
            "0",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert res.returncode == 1, res.stderr[-3000:]
    rows = manifest(out)
    assert rows[bad]["status"] == "failed"
    assert rows[bad]["error"] == f"bad input: clients.csv, row {index + 1}, column {item}: answer 7 is outside 1..5"
    assert not (out / org_folder(bad)).exists()
    for org in (orgs[0], orgs[2]):
        assert rows[org]["status"] == "ok"
        assert is_complete(out / org_folder(org))
    assert f"failed: {bad}: bad input" in res.stderr


def test_warm_kernel_reports_do_not_leak_state(docs, tmp_path):
    from readiness.io.pipeline import write_outputs
    from readiness.report.execute import execute

    register_engine()
    first, second = list(docs)[:2]
    for org in (first, second):
        write_outputs(tmp_path / org, docs[org])
    execute(
        tmp_path / first / "a.ipynb", {"results_json": str(tmp_path / first / "results.json")}, engine_name=ENGINE_NAME
    )
    warm = execute(
        tmp_path / second / "b.ipynb",
        {"results_json": str(tmp_path / second / "results.json")},
        engine_name=ENGINE_NAME,
    )
    fresh = execute(tmp_path / second / "c.ipynb", {"results_json": str(tmp_path / second / "results.json")})
    assert _outputs(warm) == _outputs(fresh)
    counts = [c.execution_count for c in warm.cells if c.cell_type == "code"]
    assert counts == [c.execution_count for c in fresh.cells if c.cell_type == "code"]


def _in_kernel(expression: str) -> str:
    """``expression`` evaluated in this process's warm kernel, as text."""
    from jupyter_core.utils import run_sync

    from readiness.apps.batch import _warm_kernel

    kc = _warm_kernel().kc
    msg_id = kc.execute("", silent=True, user_expressions={"value": expression})
    while True:
        reply = run_sync(kc.get_shell_msg)(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["user_expressions"]["value"]["data"]["text/plain"]


def test_a_warm_kernel_keeps_nothing_of_a_report(docs, tmp_path):
    """Report after report in one warm kernel: what each drew is freed, nothing piles up."""
    from readiness.io.pipeline import write_outputs
    from readiness.report.execute import execute

    register_engine()
    org = next(iter(docs))
    write_outputs(tmp_path, docs[org])
    params = {"results_json": str(tmp_path / "results.json")}
    alive = []
    for n in range(4):
        execute(tmp_path / f"r{n}.ipynb", params, engine_name=ENGINE_NAME)
        alive.append(int(_in_kernel("__import__('gc').collect() * 0 + len(__import__('gc').get_objects())")))
    assert abs(alive[3] - alive[1]) <= 0.02 * alive[1], alive  # the same after each report, not growing
    assert _in_kernel("len(__import__('matplotlib.pyplot').pyplot.get_fignums())") == "0"


def test_a_dead_kernel_is_replaced(docs, tmp_path):
    from jupyter_core.utils import run_sync

    from readiness.apps.batch import _warm_kernel
    from readiness.io.pipeline import write_outputs
    from readiness.report.execute import execute

    register_engine()
    org = next(iter(docs))
    write_outputs(tmp_path, docs[org])
    params = {"results_json": str(tmp_path / "results.json")}
    execute(tmp_path / "one.ipynb", params, engine_name=ENGINE_NAME)
    km, kc = _warm_kernel().km, _warm_kernel().kc
    os.kill(km.provisioner.pid, signal.SIGKILL)  # the kernel crashes between reports
    for _ in range(50):
        if not run_sync(km.is_alive)():
            break
        time.sleep(0.1)
    nb = execute(tmp_path / "two.ipynb", params, engine_name=ENGINE_NAME)
    assert nb.cells and _warm_kernel().km is not km
    assert _warm_kernel().kc is not kc and not kc.channels_running  # the dead kernel's client is closed


def test_kill_and_resume(clients, tmp_path):
    responses, profiles = clients
    out = tmp_path / "out"
    cmd = [
        str(BIN / "readiness"),
        "batch",
        str(responses),
        "--profiles",
        str(profiles),
        "--peers",
        str(PANEL),
        "--out",
        str(out),
        "--workers",
        "1",
        "--bootstrap",
        "100",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:  # kill it once the first report is done
            if (out / "manifest.csv").exists() and "ok" in {r["status"] for r in manifest(out).values()}:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    rows = manifest(out)
    done_before = {o for o, r in rows.items() if r["status"] == "ok"}
    assert 1 <= len(done_before) < len(rows)
    mtimes = {o: (out / org_folder(o) / "report.html").stat().st_mtime_ns for o in done_before}
    # a temporary leftover as a kill mid-write would leave it
    leftover = out / org_folder(sorted(set(rows) - done_before)[0]) / ".report.html.x1y2.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_text("partial")
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = manifest(out)
    assert {r["status"] for r in rows.values()} == {"ok"}
    for org in rows:
        folder = out / org_folder(org)
        assert is_complete(folder)
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    for org, mtime in mtimes.items():  # completed organizations were not redone
        assert (out / org_folder(org) / "report.html").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["manifest.csv"]


def test_clean_partial_files_only_touches_temporaries(tmp_path):
    (tmp_path / ".results.json.ab12.tmp").write_text("x")
    (tmp_path / ".report.ipynb.cd34.tmp.ipynb").write_text("x")
    (tmp_path / "results.json").write_text("{}")
    removed = clean_partial_files(tmp_path)
    assert len(removed) == 2 and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_dask_local_cluster_gives_the_same_outputs(local_batch, clients, tmp_path):
    responses, profiles = clients
    out = tmp_path / "dask"
    res = subprocess.run(
        [
            str(BIN / "readiness"),
            "batch",
            str(responses),
            "--profiles",
            str(profiles),
            "--peers",
            str(PANEL),
            "--out",
            str(out),
            "--workers",
            "2",
            "--executor",
            "dask",
            "--bootstrap",
            "100",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rows = manifest(out)
    assert {r["status"] for r in rows.values()} == {"ok"}
    for org in rows:
        a, b = local_batch / org_folder(org), out / org_folder(org)
        assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()
        assert is_complete(b)


def test_bad_batch_options(clients, capsys):
    from readiness.apps.cli import main

    responses, profiles = clients
    assert main(["batch", str(responses), "--workers", "0", "--no-progress"]) == 2
    assert main(["batch", str(responses), "--scheduler", "tcp://127.0.0.1:1", "--no-progress"]) == 2


def test_resume_redoes_an_organization_whose_answers_changed(tmp_path):
    """Change one organization's answers, resume: its new result; the other is kept as it was."""
    responses, profiles = _subset(tmp_path, 2)
    out = tmp_path / "out"
    cmd = [
        str(BIN / "readiness"),
        "batch",
        str(responses),
        "--profiles",
        str(profiles),
        "--out",
        str(out),
        "--workers",
        "1",
        "--bootstrap",
        "20",
        "--no-progress",
        "--resume",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    orgs = list(manifest(out))
    changed, kept = orgs[0], orgs[1]
    before = {o: (out / org_folder(o) / "report.html").stat().st_mtime_ns for o in orgs}
    old_doc = json.loads((out / org_folder(changed) / "results.json").read_text(encoding="utf-8"))

    with open(responses, newline="") as fh:
        rows = list(csv.reader(fh))
    answer_columns = range(3, len(rows[0]))
    for row in rows[1:]:
        if row[0] == changed:  # every answer of this organization one point higher, capped at 5
            for j in answer_columns:
                if row[j].isdigit():
                    row[j] = str(min(5, int(row[j]) + 1))
    with open(responses, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)

    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "1 done, 0 failed, 1 already complete" in res.stdout
    new_doc = json.loads((out / org_folder(changed) / "results.json").read_text(encoding="utf-8"))
    assert new_doc["overall"]["score"] > old_doc["overall"]["score"]
    # the same as scoring the changed file afresh
    single = tmp_path / "single.json"
    subprocess.run(
        [
            str(BIN / "readiness"),
            "score",
            str(responses),
            "--org",
            changed,
            "--profiles",
            str(profiles),
            "--bootstrap",
            "20",
            "--json",
            str(single),
            "--quiet",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )
    assert (out / org_folder(changed) / "results.json").read_bytes() == single.read_bytes()
    html = (out / org_folder(changed) / "report.html").read_text(encoding="utf-8")
    assert f"<b>{new_doc['overall']['score']:,.0f}</b> out of 100" in html
    assert (out / org_folder(kept) / "report.html").stat().st_mtime_ns == before[kept]
    made_from = json.loads((out / org_folder(changed) / "fingerprint.json").read_text(encoding="utf-8"))["made_from"]
    assert {"answers", "profile", "instrument", "playbook", "options", "readiness"} <= set(made_from)


def test_resume_redoes_everything_when_an_option_changes(docs, tmp_path):
    first = run_batch(docs, tmp_path, workers=1, warm=False, fingerprints={o: {"options": "a"} for o in docs})
    assert first.done == len(docs)
    again = run_batch(
        docs, tmp_path, workers=1, warm=False, resume=True, fingerprints={o: {"options": "a"} for o in docs}
    )
    assert again.skipped == len(docs) and again.done == 0
    changed = run_batch(
        docs, tmp_path, workers=1, warm=False, resume=True, fingerprints={o: {"options": "b"} for o in docs}
    )
    assert changed.skipped == 0 and changed.done == len(docs)


def test_fingerprint_follows_comments_and_a_given_date_not_the_day(tmp_path, monkeypatch):
    """What a resumed batch compares: comments reach the report, so they are inputs; today's
    date by default is not (a batch resumed the next morning finishes the rest), a --date is."""
    from readiness.io.pipeline import Fingerprints, bundled_example

    responses, profiles = bundled_example()
    lines = responses.read_text(encoding="utf-8").splitlines()
    header = lines[0] + ",comment:people.coaching"

    def made_from(comment: str, date: str | None, day: str) -> dict:
        path = tmp_path / f"r{len(list(tmp_path.iterdir()))}.csv"
        path.write_text("\n".join([header, lines[1] + "," + comment, *(x + "," for x in lines[2:])]) + "\n", "utf-8")
        monkeypatch.setenv("SOURCE_DATE_EPOCH", day)
        inputs = load_inputs(path, profiles=profiles)
        (org,) = inputs.responses.org_ids
        # as the batch command asks: a date given is an input, today's by default is not
        return Fingerprints(inputs, make_options(seed=0, n_boot=0, date=date), dated=date is not None)[org]

    monday, tuesday = "1717372800", "1717459200"  # 2024-06-03 and 2024-06-04
    first = made_from("Coaching is rushed", None, monday)
    assert made_from("Coaching is rushed", None, tuesday) == first
    assert made_from("Coaching is fine", None, monday)["answers"] != first["answers"]
    assert made_from("Coaching is rushed", "2024-06-03", monday) != made_from(
        "Coaching is rushed", "2024-06-04", monday
    )


def test_chunked_assessment_gives_the_same_documents(clients):
    from readiness.io.pipeline import run_chunks

    responses, profiles = clients
    inputs = load_inputs(responses, profiles=profiles, peers=PANEL)
    options = make_options(n_boot=100)
    whole = run(inputs, options=options)
    chunked = list(run_chunks(inputs, options=options, chunk=3))
    assert [org for org, _ in chunked] == list(whole)
    assert json.dumps(dict(chunked)) == json.dumps(whole)


def test_batch_takes_documents_as_workers_need_them(docs, tmp_path, monkeypatch):
    """The driver holds one document at a time, and the manifest ends in input order, one row each."""
    from readiness.apps import batch

    produced: list[str] = []
    recorded: list[str] = []

    def stream():
        for org_id, doc in reversed(list(docs.items())):  # an order that is not sorted
            produced.append(org_id)
            yield org_id, doc

    def one_at_a_time(tasks, record, *, workers):
        for task in tasks:
            assert len(produced) - len(recorded) == 1  # nothing assessed ahead of the worker
            lines = (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines()
            assert lines[-1].startswith(f"{task.org_id},{task.org_id},pending")  # on file before it is rendered
            recorded.append(task.org_id)
            record({"org_id": task.org_id, "status": "ok", "started": "", "seconds": 1.0, "files": "", "error": ""})

    monkeypatch.setattr(batch, "_run_local", one_at_a_time)
    summary = run_batch(stream(), tmp_path, total=len(docs), rejected={"BAD": "row 3: no"})
    assert summary.done == len(docs) and summary.failed == 1 and summary.total == len(docs) + 1
    assert [r["org_id"] for r in summary.rows] == ["BAD"]
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["org_id"] for r in rows] == [*reversed(list(docs)), "BAD"]
    assert [r["status"] for r in rows] == ["ok"] * len(docs) + ["failed"]


def test_reports_are_the_same_byte_for_byte_and_leak_nothing(docs, tmp_path):
    """A, B, A in one warm kernel: each the same bytes as a fresh kernel's (notebook and page)."""
    from readiness.apps.batch import _warm_kernel
    from readiness.io.pipeline import write_outputs
    from readiness.report.execute import execute
    from readiness.report.html import to_html

    register_engine()
    first, second = list(docs)[:2]
    folders = {org: tmp_path / org_folder(org) for org in (first, second)}
    for org, folder in folders.items():
        write_outputs(folder, docs[org])

    def render(org, engine):
        folder = folders[org]
        nb = execute(folder / "report.ipynb", {"results_json": str(folder / "results.json")}, engine_name=engine)
        return (folder / "report.ipynb").read_bytes(), to_html(nb, title=org)

    fresh = {org: render(org, None) for org in (first, second)}
    _warm_kernel().shutdown()  # a new warm kernel: A, B, A in it
    warm = [render(first, ENGINE_NAME)]
    client = _warm_kernel().kc
    warm += [render(second, ENGINE_NAME), render(first, ENGINE_NAME)]
    assert _warm_kernel().kc is client and client.channels_running  # one client, its channels kept open
    assert warm[0] == fresh[first] and warm[2] == fresh[first]
    assert warm[1] == fresh[second]
    assert b"start_time" not in fresh[first][0] and b".tmp" not in fresh[first][0]
    assert fresh[first][1] != fresh[second][1]  # two reports, not one shown twice


def _render_stub(tasks, record, *, workers):
    """What a worker leaves, without rendering: report files in the staged set, swapped in."""
    from readiness.io.exporters import commit_stage

    for task in tasks:
        for name in ("report.ipynb", "report.html"):
            (Path(task.stage) / name).write_text(task.org_id, encoding="utf-8")
        commit_stage(task.stage, task.folder)
        record({"org_id": task.org_id, "status": "ok", "started": "t", "seconds": 1.0, "files": "f", "error": ""})


def test_streamed_manifest_of_a_killed_run_and_resume(docs, tmp_path, monkeypatch):
    """Kill between a folder's swap and its manifest line: --resume keeps it by its fingerprint,
    cleans the staged leftovers of the killed run, and redoes only what changed."""
    from readiness.apps import batch

    monkeypatch.setattr(batch, "_run_local", _render_stub)
    made_from = {o: {"answers": o, "options": "a"} for o in docs}
    first = run_batch(iter(docs.items()), tmp_path, total=len(docs), fingerprints=made_from)
    assert first.done == len(docs)
    orgs = list(docs)
    # the manifest as a run killed just after the last folder was swapped in leaves it
    lines = (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines()
    killed = f"{orgs[-1]},{org_folder(orgs[-1])},pending,,,,"
    (tmp_path / "manifest.csv").write_text("\n".join([*lines[:-1], killed]) + "\n", encoding="utf-8")
    stage = tmp_path / f".{org_folder(orgs[0])}.readiness-new-dead1234"  # a set being prepared at the kill
    stage.mkdir()
    (stage / "results.json").write_text("{}", encoding="utf-8")
    before = {o: (tmp_path / org_folder(o) / "report.html").stat().st_mtime_ns for o in orgs}

    again = run_batch(iter(docs.items()), tmp_path, total=len(docs), resume=True, fingerprints=made_from)
    assert again.skipped == len(docs) and again.done == 0
    assert not stage.exists()
    rows = manifest(tmp_path)
    assert list(rows) == orgs and {r["status"] for r in rows.values()} == {"ok"}
    assert "fingerprint.json" in rows[orgs[-1]]["files"].split(";")  # listed from its folder
    assert all((tmp_path / org_folder(o) / "report.html").stat().st_mtime_ns == before[o] for o in orgs)

    changed = {**made_from, orgs[1]: {"answers": "new", "options": "a"}}
    third = run_batch(iter(docs.items()), tmp_path, total=len(docs), resume=True, fingerprints=changed)
    assert third.skipped == len(docs) - 1 and third.done == 1
    stored = json.loads((tmp_path / org_folder(orgs[1]) / "fingerprint.json").read_text(encoding="utf-8"))
    assert stored["made_from"] == changed[orgs[1]]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_fingerprints_are_computed_per_organization_as_asked(clients, tmp_path):
    """The batch's lazy fingerprints are the whole file's, and follow each organization's own answers."""
    from dataclasses import replace

    from readiness.io.pipeline import Fingerprints, fingerprints

    responses, profiles = clients
    inputs = load_inputs(responses, profiles=profiles)
    options = make_options(n_boot=20)
    orgs = list(inputs.responses.org_ids)
    lazy = Fingerprints(inputs, options)
    assert list(lazy) == orgs and len(lazy) == len(orgs)
    assert {o: lazy[o] for o in orgs} == fingerprints(inputs, options, orgs)
    # a chunk of the file (what the streamed batch assesses) gives the same digests
    part = replace(inputs, responses=inputs.responses.select(orgs[1:3]))
    assert fingerprints(part, options, orgs[1:3]) == {o: lazy[o] for o in orgs[1:3]}
    # one organization's answer changed: its fingerprint only
    values = inputs.responses.values.copy()
    row = int(inputs.responses.meta.index[inputs.responses.meta["org_id"] == orgs[2]][0])
    values[row, 0] = 1.0 if values[row, 0] != 1.0 else 2.0
    edited = replace(inputs, responses=replace(inputs.responses, values=values))
    other = Fingerprints(edited, options)
    assert [o for o in orgs if other[o] != lazy[o]] == [orgs[2]]
    assert other[orgs[2]]["answers"] != lazy[orgs[2]]["answers"]
    assert Fingerprints(inputs, make_options(n_boot=21))[orgs[0]]["options"] != lazy[orgs[0]]["options"]
