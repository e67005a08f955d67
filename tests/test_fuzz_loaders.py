"""Fuzzing the loaders: whatever a file holds, only InputError (or a result) comes out.

Random bytes under every suffix a loader accepts, valid files with bytes flipped, cut or
inserted, random data frames written in each table format, and the mini instrument and
playbook with one value replaced by junk. An ``InputError`` must be one line naming the
file; any other exception fails the test. Derandomized, so CI sees the same examples.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.core.errors import InputError
from readiness.core.instrument import Instrument
from readiness.core.roadmap import Playbook
from readiness.io.loaders import (
    Table,
    load_instrument,
    load_playbook,
    load_profiles,
    load_responses,
    load_targets,
    parse_profiles,
    parse_responses,
)

from .conftest import DATA

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

MINI = load_instrument(DATA / "mini.yaml")
MINI_SPEC = yaml.safe_load((DATA / "mini.yaml").read_text(encoding="utf-8"))
BOOK_SPEC = yaml.safe_load((DATA / "mini_playbook.yaml").read_text(encoding="utf-8"))
GOOD_CSV = (DATA / "mini_responses.csv").read_bytes()
TABLE_SUFFIXES = (".csv", ".xlsx", ".json", ".parquet")


def _good_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(GOOD_CSV), dtype=str, keep_default_na=False)


def _encode(frame: pd.DataFrame, suffix: str) -> bytes:
    """A frame as the bytes of a file with this suffix (cells kept as they are where possible)."""
    if suffix == ".csv":
        return frame.to_csv(index=False).encode("utf-8", "surrogatepass")
    if suffix == ".json":
        records = [{str(k): _jsonable(v) for k, v in zip(frame.columns, row)} for row in frame.itertuples(index=False)]
        return json.dumps(records, allow_nan=True).encode("utf-8", "surrogatepass")
    if suffix == ".parquet":
        columns = {}
        for n, name in enumerate(frame.columns):
            values = frame.iloc[:, n].tolist()
            try:
                columns[f"{name}"] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                columns[f"{name}"] = pa.array([None if v is None else str(v) for v in values], pa.string())
        buf = io.BytesIO()
        pq.write_table(pa.table(columns) if columns else pa.table({}), buf)
        return buf.getvalue()
    assert suffix == ".xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([_xlsx_value(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_xlsx_value(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def _xlsx_value(value):
    """What openpyxl can store: text without control characters, finite numbers, booleans."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)).encode("utf-8", "replace").decode("utf-8")[:32_000]


GOOD_BYTES = {suffix: _encode(_good_frame(), suffix) for suffix in TABLE_SUFFIXES}
GOOD_BYTES[".yaml"] = (DATA / "mini.yaml").read_bytes()


def only_input_error(call, name: str):
    """Run ``call``; an InputError must be one line naming the file. Anything else fails."""
    try:
        return call()
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert name in message
        return None


# ---------------------------------------------------------------------- bytes
def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, position, chunk in edits:
        if not out:
            out.extend(chunk)
            continue
        at = position % len(out)
        if kind == 0:  # overwrite
            out[at : at + len(chunk)] = chunk
        elif kind == 1:  # insert
            out[at:at] = chunk
        else:  # cut here
            del out[at:]
    return bytes(out)


_edits = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4
)


def _file_bytes(suffix: str):
    return st.one_of(st.binary(max_size=600), _edits.map(lambda e: _mutate(GOOD_BYTES[suffix], e)))


def _all_loaders(path: Path):
    """Every loader that accepts a file with this suffix."""
    name = path.name
    if path.suffix == ".yaml":
        only_input_error(lambda: load_instrument(path), name)
        only_input_error(lambda: load_playbook(MINI, path), name)
        only_input_error(lambda: load_targets(path, MINI), name)
        return
    only_input_error(lambda: load_responses(path, MINI), name)
    only_input_error(lambda: load_profiles(path), name)
    only_input_error(lambda: load_targets(path, MINI), name)


@pytest.mark.parametrize("suffix", [*TABLE_SUFFIXES, ".yaml"])
def test_random_and_damaged_bytes(tmp_path, suffix):
    path = tmp_path / f"fuzzed{suffix}"

    @FUZZ
    @given(data=_file_bytes(suffix))
    def check(data):
        path.write_bytes(data)
        _all_loaders(path)

    check()


# ---------------------------------------------------------------------- frames
_junk_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_column = st.one_of(
    st.sampled_from(
        [
            "org_id",
            "respondent_id",
            "role",
            "ORG_ID",
            " role ",
            *MINI.layout.item_ids,
            "p1",
            "org_name",
            "industry",
            "agents",
            "size_band",
            "stage",
            "abandon_rate",
            "facet",
            "target",
        ]
    ),
    _junk_text,
)
_cell = st.one_of(
    st.none(),
    st.integers(-3, 8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "NA",
            "n/a",
            "Agree",
            "agree ",
            "Embedded",
            "X",
            "a1",
            "agent",
            "manager",
            "boss",
            "../X",
            '=HYPERLINK("http://x")',
            "+cmd|' /C calc'!A0",
            "3.5",
            "1e400",
            "nan",
            "-0",
            "technology",
            "<=50",
            "considering",
            "people.a",
            "50%",
            "\u202e",
            "名前",
        ]
    ),
    _junk_text,
    st.booleans(),
)


@st.composite
def frames(draw) -> pd.DataFrame:
    columns = draw(st.lists(_column, min_size=0, max_size=8))
    if draw(st.booleans()):  # most frames look like responses, so that validation is reached
        columns = ["org_id", "respondent_id", "role", *columns]
    n_rows = draw(st.integers(0, 6))
    rows = [[draw(_cell) for _ in columns] for _ in range(n_rows)]
    frame = pd.DataFrame(rows, columns=pd.Index(columns, dtype=object), dtype=object)
    return frame


@FUZZ
@given(frame=frames(), suffix=st.sampled_from(TABLE_SUFFIXES))
def test_random_frames_in_every_format(tmp_path_factory, frame, suffix):
    try:
        data = _encode(frame, suffix)
    except (ValueError, pa.ArrowException, UnicodeEncodeError):
        return  # the writer refused the frame (e.g. duplicate Parquet columns): nothing to load
    path = tmp_path_factory.mktemp("frames") / f"frame{suffix}"
    path.write_bytes(data)
    _all_loaders(path)


@FUZZ
@given(frame=frames())
def test_random_tables_through_validation(frame):
    # Straight to validation, as read_table hands a file over: text cells, unique names.
    names = [str(c).strip() for c in frame.columns]
    keep = [i for i, c in enumerate(names) if c and c.lower() not in {n.lower() for n in names[:i]}]
    cells = pd.DataFrame({names[i]: [_as_text(v) for v in frame.iloc[:, i]] for i in keep}, dtype=object)
    table = Table("frame.csv", [names[i] for i in keep], cells, np.arange(2, len(frame) + 2))
    only_input_error(lambda: parse_responses(table, MINI), "frame.csv")
    only_input_error(lambda: parse_profiles(table), "frame.csv")


def _as_text(value) -> str:
    from readiness.io.loaders import _cell_text

    return _cell_text(value)


# ---------------------------------------------------------------------- YAML documents
_yaml_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    _junk_text,
    st.sampled_from(["agent", "people.a", "S", "goals", "people", "P1"]),
)
_yaml_value = st.recursive(
    _yaml_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(_junk_text, st.integers(0, 5)), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield from _paths(value, (*prefix, n))


def _replace(doc, path, value):
    if not path:
        return value
    out = dict(doc) if isinstance(doc, dict) else list(doc)
    out[path[0]] = _replace(out[path[0]], path[1:], value)
    return out


MINI_PATHS = list(_paths(MINI_SPEC))
BOOK_PATHS = list(_paths(BOOK_SPEC))


@FUZZ
@given(where=st.sampled_from(MINI_PATHS), value=_yaml_value)
def test_instrument_with_one_value_replaced(where, value):
    spec = _replace(MINI_SPEC, where, value)
    only_input_error(lambda: Instrument.from_dict(spec, source="fuzzed.yaml"), "fuzzed.yaml")


@FUZZ
@given(where=st.sampled_from(BOOK_PATHS), value=_yaml_value)
def test_playbook_with_one_value_replaced(where, value):
    spec = _replace(BOOK_SPEC, where, value)
    only_input_error(lambda: Playbook.from_dict(spec, instrument=MINI, source="fuzzed.yaml"), "fuzzed.yaml")


@FUZZ
@given(doc=_yaml_value)
def test_random_yaml_documents(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("yaml") / "doc.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _all_loaders(path)
