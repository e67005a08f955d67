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
