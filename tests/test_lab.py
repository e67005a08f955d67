"""The notebook suite for a person: `readiness notebooks` copies it, `readiness lab` serves it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from readiness.apps.cli import main
from readiness.apps.lab import copy_notebooks, lab_command
from readiness.apps.local_server import free_port
from readiness.core.errors import InputError
from readiness.io.resources import NOTEBOOKS, notebook_path

BIN = Path(sys.executable).parent


def test_copy_writes_the_suite_and_keeps_edits(tmp_path):
    copied, kept = copy_notebooks(tmp_path / "nb")
    assert sorted(p.name for p in copied) == sorted(NOTEBOOKS) and kept == []
    for name in NOTEBOOKS:
        assert (tmp_path / "nb" / name).read_bytes() == notebook_path(name).read_bytes()
    (tmp_path / "nb" / "portfolio.ipynb").write_text("mine", encoding="utf-8")
    copied, kept = copy_notebooks(tmp_path / "nb")
    assert copied == [] and len(kept) == len(NOTEBOOKS)
    assert (tmp_path / "nb" / "portfolio.ipynb").read_text(encoding="utf-8") == "mine"
    copied, _ = copy_notebooks(tmp_path / "nb", overwrite=True)
    assert len(copied) == len(NOTEBOOKS)
    assert (tmp_path / "nb" / "portfolio.ipynb").read_bytes() == notebook_path("portfolio.ipynb").read_bytes()


def test_notebooks_into_a_file_is_bad_input(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    assert main(["notebooks", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err and "is a file" in err
    with pytest.raises(InputError, match="is a file, not a folder"):
        copy_notebooks(target)


def test_lab_command_is_local(tmp_path):
    argv = lab_command(tmp_path, port=8999, open_browser=False)
    assert argv[1:3] == ["-m", "jupyterlab"] and "--ServerApp.ip=127.0.0.1" in argv
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv and "--no-browser" in argv
    assert "--no-browser" not in lab_command(tmp_path, port=8999)


def test_lab_serves_the_copied_suite(tmp_path):
    """`readiness lab DIR` copies the suite and JupyterLab lists it over HTTP on 127.0.0.1."""
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_TOKEN="readiness-test",
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
    )
    proc = subprocess.Popen(
        [str(BIN / "readiness"), "lab", str(tmp_path / "suite"), "--port", str(port), "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token=readiness-test"
        deadline = time.monotonic() + 90
        listing = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    listing = json.loads(reply.read())
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not answer (exit {proc.poll()})"
        assert sorted(item["name"] for item in listing["content"]) == sorted(NOTEBOOKS)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:  # it had already stopped
            pass
        except subprocess.TimeoutExpired:  # pragma: no cover
            os.killpg(proc.pid, signal.SIGKILL)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
