from __future__ import annotations

from pathlib import Path

import pytest

from readiness.io.loaders import load_instrument

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def mini():
    return load_instrument(DATA / "mini.yaml")


@pytest.fixture(scope="session")
def bundled():
    return load_instrument()


def with_open_question(instrument):
    """``instrument`` with an open question added when it has none (answered in own words).

    Open questions arrive with instrument v2 (issue 13); until the model has the field this
    adds it unvalidated, so the survey tools' handling of them is tested either way.
    """
    from types import SimpleNamespace

    if getattr(instrument, "open_questions", ()):
        return instrument
    role = next(iter(instrument.roles))
    question = SimpleNamespace(id="OPEN_1", text="What should we start doing, in your own words?", roles=(role,))
    return instrument.model_copy(update={"open_questions": (question,)})
