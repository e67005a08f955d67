"""The intake app (ipywidgets, driven here without a browser), the intake notebook and the
`readiness workshop` command."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from readiness.apps import local_server, workshop
from readiness.apps.cli import main
from readiness.apps.workshop import DONT_KNOW, NOT_APPLICABLE, NOT_APPLICABLE_LABEL, OPEN_TAB, intake
from readiness.core.errors import StoreError
from readiness.core.scoring import score
from readiness.io.loaders import load_responses
from readiness.io.resources import notebook_path
from readiness.io.session_store import SessionStore

from .test_workbook import naive_scores


def _add(app, rid: str, role: str) -> None:
    app.new_id.value, app.new_role.value = rid, role
    app.add.click()


def _stored(path: Path, session: str, rid: str) -> dict[str, tuple]:
    frame = SessionStore(path).answers(session, rid)  # a NEW store: what is on disk
    return {
        r.item_id: (None if pd.isna(r.value) else int(r.value), bool(r.not_applicable), r.comment or None)
        for r in frame.itertuples()
    }


def _close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


@pytest.fixture()
def mini_app(tmp_path, mini):
    return intake(mini, session="w1", store=tmp_path / "s.duckdb", org_id="ACME")


# ---------------------------------------------------------------------- the form
@pytest.mark.parametrize("which", ["bundled", "mini"])
def test_form_has_a_tab_per_dimension_and_labelled_choices(tmp_path, request, which):
    inst = request.getfixturevalue(which)
    app = intake(inst, session="s", store=tmp_path / "s.duckdb")
    assert app.error is None
    opens = 1 if inst.open_questions else 0
    assert len(app.tabs.children) == 4 + opens
    assert [t.split(" ")[0] for t in app.tabs.titles[:4]] == [d.title for d in inst.dimensions]
    assert list(app.tabs.titles[4:]) == [OPEN_TAB] * opens
    assert set(app.items) == set(inst.items)
    assert set(app.open_answers) == set(inst.open_question_ids)
    for item_id, parts in app.items.items():
        item = inst.items[item_id]
        labels = [label for label, _ in parts.choice.options]
        values = [value for _, value in parts.choice.options]
        expected = list(item.labels) + ([NOT_APPLICABLE_LABEL] if item.allows_na else []) + ["Don't know"]
        assert labels == expected  # the anchor labels, not bare numbers; N/A only where allowed; DK on every item
        assert values == list(range(1, inst.scale_points + 1)) + ([NOT_APPLICABLE] if item.allows_na else []) + [
            DONT_KNOW
        ]
        assert parts.choice.value is None and parts.comment.value == ""
    # Each tab holds exactly its dimension's items.
    for dim, page in zip(inst.dimensions, app.tabs.children):
        boxes = [w for w in page.children if "readiness-item" in w._dom_classes]
        assert len(boxes) == sum(len(f.items) for f in dim.facets)
    # No respondent yet: the form waits for one.
    assert app.current is None and app.form.layout.display == "none"


def test_progress_and_role_filter(mini_app, mini):
    _add(mini_app, "a1", "agent")
    assert mini_app.current == "a1"
    # Agents are not asked P5: it is hidden and not counted.
    assert mini_app.items["P5"].box.layout.display == "none"
    assert mini_app.items["P2"].box.layout.display is None
    assert mini_app.progress_counts() == {
        "people": (0, 4),
        "process": (0, 2),
        "technology": (0, 2),
        "knowledge": (0, 2),
    }
    mini_app.items["P1"].choice.value = 4
    mini_app.items["P3"].choice.value = NOT_APPLICABLE
    assert mini_app.progress_counts()["people"] == (2, 4)
    assert mini_app.tabs.titles[0] == "People 2/4"
    assert "2 of 4" in mini_app.progress["people"].value
    mini_app.role.value = "manager"  # P2 (agents only) disappears, P5 appears
    assert mini_app.items["P2"].box.layout.display == "none" and mini_app.items["P5"].box.layout.display is None
    assert SessionStore(mini_app.store.path).respondents("w1").iloc[0]["role"] == "manager"


def test_every_change_is_saved_at_once(mini_app, tmp_path):
    path = tmp_path / "s.duckdb"
    _add(mini_app, "a1", "agent")
    mini_app.items["P1"].choice.value = 4
    assert _stored(path, "w1", "a1") == {"P1": (4, False, None)}
    mini_app.items["P1"].comment.value = "seen the coaching log"
    assert _stored(path, "w1", "a1")["P1"] == (4, False, "seen the coaching log")
    mini_app.items["P3"].choice.value = NOT_APPLICABLE
    assert _stored(path, "w1", "a1")["P3"] == (None, True, None)
    mini_app.items["P1"].choice.label = "Strongly agree"  # as a click on the label does
    assert _stored(path, "w1", "a1")["P1"][0] == 5
    mini_app.items["P1"].clear.click()
    assert _stored(path, "w1", "a1")["P1"] == (None, False, None)
    assert "Saved P1" in mini_app.status.value


def test_second_respondent_and_switching_back(mini_app, tmp_path, mini):
    _add(mini_app, "a1", "agent")
    mini_app.items["P1"].choice.value = 2
    mini_app.items["R1"].comment.value = "no process map"
    _add(mini_app, "m1", "manager")
    assert mini_app.current == "m1"
    assert mini_app.items["P1"].choice.value is None and mini_app.items["R1"].comment.value == ""
    mini_app.items["P1"].choice.value = 5
    mini_app.items["P5"].choice.value = 3
    mini_app.select("a1")
    assert mini_app.items["P1"].choice.value == 2 and mini_app.items["R1"].comment.value == "no process map"
    assert mini_app.role.value == "agent"
    assert [o[1] for o in mini_app.respondent.options] == ["a1", "m1"]
    # Adding an existing id selects it and changes nothing.
    _add(mini_app, "m1", "agent")
    assert mini_app.current == "m1" and mini_app.role.value == "manager"
    assert "already exists" in mini_app.status.value
    _add(mini_app, "bad/id", "agent")
    assert "Not added" in mini_app.status.value and mini_app.current == "m1"
    store = SessionStore(tmp_path / "s.duckdb")
    assert set(store.respondents("w1")["respondent_id"]) == {"a1", "m1"}


def test_scores_shown_equal_scoring_on_the_store_and_on_the_export(mini_app, tmp_path, mini):
    answers = {
        "a1": ("agent", {"P1": 4, "P2": 2, "P3": NOT_APPLICABLE, "P4": 5, "R1": 3, "T1": 1, "T2": 2, "K1": 5}),
        "a2": ("agent", {"P1": 2, "P2": 5, "P3": 3, "R1": 4, "R2": 4, "T1": 2, "K1": 3, "K2": 3}),
        "m1": ("manager", {"P1": 5, "P3": 4, "P4": 4, "P5": 2, "R1": 5, "R2": 5, "T1": 3, "T2": 3, "K1": 4}),
    }
    for rid, (role, given) in answers.items():
        _add(mini_app, rid, role)
        for item_id, value in given.items():
            mini_app.items[item_id].choice.value = value

    responses = SessionStore(tmp_path / "s.duckdb").to_responses(mini)
    scores = score(responses, n_boot=0)
    shown = mini_app.shown
    assert _close(shown["session"]["overall"], float(scores.overall.loc["ACME", "score"]))
    for dim, value in zip(scores.dimensions["dimension"], scores.dimensions["score"]):
        assert _close(shown["session"]["dimensions"][dim], None if np.isnan(value) else float(value))
    for facet, value in zip(scores.facets["facet"], scores.facets["score"]):
        assert _close(shown["session"]["facets"][facet], None if np.isnan(value) else float(value))
    # The respondent's own numbers are their respondent facet scores.
    mine = scores.respondent_facets.set_index("respondent_id").loc["m1"]
    for facet, value in shown["respondent"]["facets"].items():
        assert _close(value, None if np.isnan(mine[facet]) else float(mine[facet]))
    # ... and the page shows them, rounded to one decimal.
    overall = re.search(r'readiness-overall-session">([^<]+)<', mini_app.results.value).group(1)
    assert overall == f"{scores.overall.loc['ACME', 'score']:.1f}"

    # Independent check of the same numbers, by the written rules.
    expected = naive_scores(
        mini,
        [
            (role, {k: ("NA" if v == NOT_APPLICABLE else v) for k, v in given.items()})
            for role, given in answers.values()
        ],
    )
    assert shown["session"]["overall"] == pytest.approx(expected["overall"])

    # Exported CSV -> loader -> the same scores.
    mini_app.export.click()
    exported = tmp_path / "s-w1.csv"
    assert exported.name in mini_app.status.value and str(tmp_path) not in mini_app.status.value
    again = score(load_responses(exported, mini), n_boot=0)
    assert again.overall.loc["ACME", "score"] == pytest.approx(shown["session"]["overall"])


def test_reopened_app_shows_every_answer(tmp_path, mini):
    path = tmp_path / "s.duckdb"
    first = intake(mini, session="w1", store=path)
    _add(first, "a1", "agent")
    first.items["P1"].choice.value = 3
    _add(first, "a2", "agent")
    first.items["K2"].choice.value = 1
    first.items["K2"].comment.value = "no knowledge base"
    first.select("a1")
    first.items["T1"].choice.value = 4  # a1 is now the most recently active

    second = intake(mini, session="w1", store=path)  # a reload: new kernel, new widgets
    assert second.current == "a1"
    assert second.items["P1"].choice.value == 3 and second.items["T1"].choice.value == 4
    second.select("a2")
    assert second.items["K2"].choice.value == 1 and second.items["K2"].comment.value == "no knowledge base"
    assert second.shown["session"]["n"] == 2


def test_dont_know_is_saved_shown_again_and_exported(tmp_path, mini):
    path = tmp_path / "s.duckdb"
    first = intake(mini, session="w1", store=path, org_id="ACME")
    _add(first, "a1", "agent")
    first.items["P1"].choice.value = DONT_KNOW
    first.items["P4"].choice.value = 2
    first.items["R1"].choice.value = DONT_KNOW
    assert SessionStore(path).answers("w1", "a1").set_index("item_id")["dont_know"].to_dict() == {
        "P1": True,
        "P4": False,
        "R1": True,
    }
    assert first.progress_counts()["people"] == (2, 4)  # don't know counts as answered on the form

    second = intake(mini, session="w1", store=path)  # a reload
    assert second.items["P1"].choice.value == DONT_KNOW and second.items["R1"].choice.value == DONT_KNOW
    assert second.items["P4"].choice.value == 2
    second.export.click()
    exported = load_responses(tmp_path / "s-w1.csv", mini)
    row = dict(zip(mini.layout.item_ids, exported.dont_know[0]))
    assert [i for i, dk in row.items() if dk] == ["P1", "R1"]
    assert score(exported, n_boot=0).respondents["dont_know"].sum() == 2


def test_open_question_tab_saves_the_text(tmp_path, mini):
    from readiness.core.instrument import Instrument

    spec = mini.model_dump(mode="json")
    spec["open_questions"] = [{"id": "Q1", "text": "What must we do first?", "roles": ["agent"]}]
    inst = Instrument.from_dict(spec)
    path = tmp_path / "s.duckdb"
    app = intake(inst, session="w1", store=path)
    _add(app, "a1", "agent")
    app.open_answers["Q1"].value = "Clear goals"
    assert SessionStore(path).to_responses(inst).open_answers.tolist() == [["Clear goals"]]
    _add(app, "m1", "manager")
    assert app.open_answers["Q1"].disabled and app.open_answers["Q1"].value == ""
    again = intake(inst, session="w1", store=path)
    again.select("a1")
    assert again.open_answers["Q1"].value == "Clear goals" and not again.open_answers["Q1"].disabled


def test_refresh_shows_answers_given_in_another_tab(tmp_path, mini):
    path = tmp_path / "s.duckdb"
    consultant = intake(mini, session="w1", store=path)
    _add(consultant, "a1", "agent")
    consultant.items["P1"].choice.value = 4
    other_tab = intake(mini, session="w1", store=path)  # its own kernel in real life
    _add(other_tab, "m1", "manager")
    other_tab.items["P1"].choice.value = 2
    other_tab.items["P3"].choice.value = 2
    assert consultant.shown["session"]["n"] == 1
    consultant.refresh.click()
    assert consultant.current == "a1" and consultant.items["P1"].choice.value == 4
    assert consultant.shown["session"]["n"] == 2
    assert [o[1] for o in consultant.respondent.options] == ["a1", "m1"]


def test_failed_save_is_shown_and_retried(mini_app, tmp_path, monkeypatch):
    _add(mini_app, "a1", "agent")
    mini_app.items["P1"].choice.value = 3
    real = SessionStore.save_answer

    def broken(self, *args, **kwargs):
        raise StoreError("s.duckdb: the database is locked by another process; close it and retry")

    monkeypatch.setattr(SessionStore, "save_answer", broken)
    mini_app.items["P1"].choice.value = 5
    assert "NOT SAVED (P1)" in mini_app.status.value
    assert "readiness-item-unsaved" in mini_app.items["P1"].box._dom_classes
    assert _stored(tmp_path / "s.duckdb", "w1", "a1")["P1"][0] == 3  # the previous answer stands

    monkeypatch.setattr(SessionStore, "save_answer", real)
    mini_app.items["R1"].choice.value = 2  # the next change retries P1 too
    stored = _stored(tmp_path / "s.duckdb", "w1", "a1")
    assert stored["P1"][0] == 5 and stored["R1"][0] == 2
    assert "readiness-item-unsaved" not in mini_app.items["P1"].box._dom_classes


def test_a_store_that_cannot_be_used_is_one_message(tmp_path, mini):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 100)
    app = intake(mini, session="w1", store=junk)
    assert app.error and "junk.duckdb" in app.error
    assert "Cannot open the session" in app.widget.value


def test_text_from_the_instrument_is_escaped(tmp_path, mini):
    spec = mini.model_dump(mode="json")
    spec["dimensions"][0]["facets"][0]["title"] = "<script>alert(1)</script>"
    spec["dimensions"][0]["facets"][0]["items"][0]["text"] = "<img src=x onerror=alert(1)>"
    from readiness.core.instrument import Instrument

    app = intake(Instrument.from_dict(spec), session="w1", store=tmp_path / "s.duckdb")
    html = app.items["P1"].box.children[0].value + app.results.value
    assert "<script>" not in html and "<img" not in html and "&lt;img" in html


# ---------------------------------------------------------------------- parameters, notebook, CLI
def test_parameters_fall_back_to_environment_then_defaults():
    env = {"READINESS_SESSION": "s9", "READINESS_STORE": "/x/s.duckdb", "READINESS_ORG": "ACME"}
    assert workshop.resolve_parameters(environ=env) == {
        "instrument": "",
        "session": "s9",
        "store": "/x/s.duckdb",
        "org_id": "ACME",
    }
    assert workshop.resolve_parameters(session="given", environ=env)["session"] == "given"
    assert workshop.resolve_parameters(environ={}) == {
        "instrument": "",
        "session": "workshop",
        "store": "workshop.duckdb",
        "org_id": "",
    }


def test_intake_notebook_is_thin_and_parameterized():
    import papermill

    nb = nbformat.read(notebook_path("intake.ipynb"), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for line in params[0].source.splitlines():
        assert re.match(r"^\w+: \w+ = [^#]+  # [^=]+$", line), line  # name: type = default  # help
    assert set(papermill.inspect_notebook(str(notebook_path("intake.ipynb")))) == {
        "instrument",
        "session",
        "store",
        "org_id",
    }
    for cell in nb.cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    code = [c.source for c in nb.cells if c.cell_type == "code" and c not in params]
    assert code == [
        "import readiness\n\nreadiness.intake(instrument=instrument, session=session, store=store, org_id=org_id)"
    ]


def test_voila_command_is_local_and_code_free(tmp_path):
    argv, env = workshop.voila_command(port=8123, session="w1", store=tmp_path / "s.duckdb", org_id="ACME")
    assert argv[1:4] == ["-m", "voila", str(notebook_path("intake.ipynb"))]
    for flag in (
        "--no-browser",
        "--port=8123",
        "--Voila.ip=127.0.0.1",
        "--strip_sources=True",
        "--Voila.port_retries=0",
    ):
        assert flag in argv
    assert ("--KernelManager.transport=ipc" in argv) == workshop._ipc_fits()
    assert env["READINESS_STORE"] == str((tmp_path / "s.duckdb").resolve())
    assert (env["READINESS_SESSION"], env["READINESS_ORG"], env["READINESS_INSTRUMENT"]) == ("w1", "ACME", "")


def test_workshop_command_opens_the_session_and_prints_the_address(tmp_path, capsys, monkeypatch):
    served = {}
    monkeypatch.setattr(local_server, "serve", lambda argv, env: served.update(argv=argv, env=env) or 0)
    monkeypatch.chdir(tmp_path)
    assert main(["workshop", "--session", "w1", "--org", "ACME"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"Workshop running at http://127\.0\.0\.1:(\d+)/ \(session w1, answers saved to (.+)\)", out)
    assert match, out
    port, store = int(match.group(1)), Path(match.group(2))
    assert port > 0 and f"--port={port}" in served["argv"]
    assert store == (tmp_path / "workshop.duckdb").resolve() and store.exists()
    assert SessionStore(store).session("w1").org_id == "ACME"
    assert served["env"]["READINESS_STORE"] == str(store)

    assert main(["workshop", "--session", "w1", "--org", "OTHER", "--port", "8999"]) == 2
    assert "belongs to organization 'ACME'" in capsys.readouterr().err
    assert main(["workshop", "--port", "70000"]) == 2


def test_workshop_help_lists_the_options(capsys):
    assert main(["workshop", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--port", "--session", "--store", "--org", "--instrument"):
        assert option in out


# ---------------------------------------------------------------------- what the room sees
def _level(app, who: str) -> str:
    return re.search(rf'readiness-level-{who}">(.*?)</span></div>', app.results.value).group(1)


def test_a_score_names_a_level_only_when_the_half_rule_gives_one(mini_app):
    """Mini instrument: five facets count for an agent; a level only once three of them have a score."""
    _add(mini_app, "a1", "agent")
    mini_app.items["P4"].choice.value = 5  # people.b for an agent: P4 alone counts -> scored
    shown = mini_app.shown["respondent"]
    assert shown["overall"] == pytest.approx(100.0) and shown["level"] is None
    assert "1 of 5 facets scored" in _level(mini_app, "respondent")
    assert _level(mini_app, "session").count("too few for a level") == 1
    mini_app.items["R1"].choice.value = 4  # process.a: 1 of 2 answered -> scored
    assert mini_app.shown["respondent"]["level"] is None  # 2 of 5: fewer than half
    mini_app.items["T1"].choice.value = 4  # technology.a: 3 of 5 -> a level
    shown = mini_app.shown["respondent"]
    assert shown["level"] is not None and _level(mini_app, "respondent") == shown["level"]
    # by hand: people is people.b alone (100, weight 2), process 75, technology 75 (weight 1 each)
    assert shown["overall"] == pytest.approx((2 * 100.0 + 75.0 + 75.0) / 4)


def test_a_respondent_without_answers_does_not_count(mini_app):
    _add(mini_app, "a1", "agent")
    mini_app.items["P1"].choice.value = 3
    assert mini_app.shown["session"]["n"] == 1
    _add(mini_app, "a2", "agent")  # added, nothing answered yet
    assert mini_app.shown["session"]["n"] == 1
    assert "Whole session (1 respondent" in mini_app.results.value
    assert mini_app.shown["respondent"]["overall"] is None  # a2 has no score yet
    mini_app.items["P1"].choice.value = 2
    assert mini_app.shown["session"]["n"] == 2


def test_header_shows_session_and_organization_not_paths(mini_app, tmp_path):
    header = mini_app.widget.children[0].value
    assert "Session <b>w1</b>" in header and "organization <b>ACME</b>" in header
    assert str(tmp_path) not in header and "s.duckdb" not in header and "<code>" not in header
    text = mini_app.items["P1"].box.children[0].value
    assert text.index("Practice one") < text.index("readiness-item-id")  # the question first, its code after
