"""Citations for people (readiness.io.citations): every source article by publication, year and title."""

from __future__ import annotations

import pytest

from readiness.core.errors import InputError
from readiness.io.citations import DEFAULT_SOURCES, citation, cite, load_sources
from readiness.io.loaders import load_instrument, load_playbook, load_references

from .test_instrument import SEEDS


def test_every_seed_has_a_reference():
    sources = load_sources()
    if not SEEDS:
        pytest.skip("../shared/seeds not beside the repository")
    assert set(sources) == SEEDS


def test_every_source_the_framework_cites_is_in_the_table():
    known = set(load_sources())
    for version in ("service-to-sales", "service-to-sales-v1"):
        inst = load_instrument(version)
        assert {i.source for i in inst.items.values()} | {q.source for q in inst.open_questions} <= known
        assert {a.source for a in load_playbook(inst).actions} <= known
    refs = load_references()
    cited = [f["source"] for figs in refs["kpis"].values() for f in figs] + [f["source"] for f in refs["context"]]
    assert set(cited) | {f["source"] for f in refs["agents"].values()} <= known


def test_reference_reads_publication_year_title():
    assert citation("003_3ba3fadf96f6335a.txt") == (
        "ICMI (2012), “Why Customer Service Reps Don’t Sell… and What You Can Do About It”"
    )
    assert citation("000_eaf164b3d9698e3a.txt").startswith("CustomerThink (2007), “Transition in the Contact Center")
    assert citation("002_fc2bb59def436034.txt").startswith("CustomerThink (undated), “Why Selling")
    assert citation("my-own-notes.pdf") == "my-own-notes.pdf"  # a consultant's own source, as given
    assert (
        cite({"source": "001_80f0247bc06bef23.txt"})
        == "Contact Center Pipeline (2011), “Adding Sales to a Service Culture”"
    )
    assert cite({"source": "001_80f0247bc06bef23.txt", "reference": "given"}) == "given"
    assert cite({}) == "source not given"


def test_published_figures_carry_their_reference():
    refs = load_references()
    for figures in refs["kpis"].values():
        for fig in figures:
            assert fig["reference"] == citation(fig["source"]) and not fig["reference"].endswith(".txt")
    assert refs["agents"]["unwilling_or_unable"]["value"] == 40


@pytest.mark.parametrize(
    "text, message",
    [
        ("sources: {a.txt: {title: T}}", "publication and a title"),
        ("sources: {a.txt: {publication: P, title: T, year: twenty}}", "not a whole number"),
        ("other: 1", "'sources' mapping"),
    ],
)
def test_bad_table_is_an_input_error(tmp_path, text, message):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_sources(path)
    assert DEFAULT_SOURCES.exists()
