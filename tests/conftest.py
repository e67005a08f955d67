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
    """``instrument`` with an open question (answered in own words) when it has none.

    Built afresh (not ``model_copy``, which would keep the original's cached properties).
    """
    from readiness.core.instrument import Instrument

    if instrument.open_questions:
        return instrument
    question = {
        "id": "OPEN_1",
        "text": "What should we start doing, in your own words?",
        "roles": [next(iter(instrument.roles))],
    }
    return Instrument.model_validate({**instrument.model_dump(), "open_questions": [question]})
