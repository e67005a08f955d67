"""The workshop app in a real browser: `readiness workshop` serves it with Voila, headless
Chromium (the Debian package, driven by Playwright) answers items, sees the live score
move, reloads the page, survives a killed and restarted server, and the exported CSV
scores exactly as the page said.

Needs the Debian package ``chromium`` (``make test`` installs it when it may use
apt-get) and the ``playwright`` Python package (a test dependency); Playwright's own
browser downloads are not used. Without them the test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from readiness.apps.cli import main
from readiness.io.loaders import load_instrument
from readiness.io.session_store import SessionStore

from .test_workbook import naive_scores

CHROMIUM = shutil.which("chromium")
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE_TIMEOUT_MS = 90_000  # a Voila page runs the notebook in a fresh kernel before it shows
STEP_TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="browser test needs the Debian package chromium (apt-get install chromium; `make test` does it as root)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser test needs the playwright package (pip install -e '.[test]')"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int, store: Path, log: Path, scratch: str) -> subprocess.Popen:
    """`readiness workshop` as a user starts it; waits (bounded) until it listens.

    Voila's kernel files go to ``scratch`` (a short path: IPC socket paths are limited),
    removed by the test: a killed server cannot clean up after itself.
    """
    env = {**os.environ, "TMPDIR": scratch}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(BIN / "readiness"), "workshop", "--port", str(port), "--session", "t", "--store", str(store)],
            cwd=store.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the workshop server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the workshop server did not listen on port {port} within 60 s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()  # the harshest stop: nothing may depend on a clean shutdown
        proc.wait(timeout=30)


def _open(page, url: str) -> None:
    page.goto(url, timeout=PAGE_TIMEOUT_MS, wait_until="domcontentloaded")
    page.wait_for_selector(".readiness-app", timeout=PAGE_TIMEOUT_MS)


def _show_tab(page, title: str) -> None:
    # ipywidgets 8 tabs are Lumino tab bars; the title reads "<dimension> <answered>/<asked>".
    page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text=title).click()


def _choose(page, item_id: str, label: str) -> None:
    page.locator(f".readiness-item-{item_id}").get_by_label(label, exact=True).check(timeout=STEP_TIMEOUT_MS)


def _is_chosen(page, item_id: str, label: str) -> bool:
    return (
        page.locator(f".readiness-item-{item_id}").get_by_label(label, exact=True).is_checked(timeout=STEP_TIMEOUT_MS)
    )


def _overall(page, expected: str) -> str:
    """The session's overall score as shown, once it reads ``expected`` (bounded wait)."""
    shown = page.locator(".readiness-overall-session")
    sync_api.expect(shown).to_have_text(expected, timeout=STEP_TIMEOUT_MS)
    return shown.inner_text()


def test_answers_survive_reload_and_server_restart(tmp_path):
    inst = load_instrument()
    # A facet of each dimension an agent answers: every agent item of each, so that each
    # facet scores (score refuses an organization with no answer to a whole dimension).
    facets = [d.facets[0] for d in inst.dimensions]
    picks: dict[str, int] = {}
    for n, facet in enumerate(facets):
        for m, item in enumerate(i for i in facet.items if "agent" in i.roles):
            picks[item.id] = 2 + (n + m) % 4
    assert len(picks) >= 3
    first_item = next(iter(picks))
    titles = {d.id: d.title for d in inst.dimensions}
    tab_of = {i.id: titles[f.id.split(".")[0]] for f in facets for i in f.items}

    def expected_overall(answers: dict[str, int]) -> str:
        return f"{naive_scores(inst, [('agent', answers)])['overall']:.1f}"

    port = _free_port()
    store = tmp_path / "s.duckdb"
    log = tmp_path / "workshop.log"
    url = f"http://127.0.0.1:{port}/"
    server = None
    scratch = tempfile.mkdtemp(prefix="rw-")
    try:
        server = _start(port, store, log, scratch)
        assert f"Workshop running at {url} (session t, answers saved to {store.resolve()})" in log.read_text()
        with sync_api.sync_playwright() as pw:
            # Leaving this block closes the browser, whatever happened inside it.
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            _open(page, url)
            sync_api.expect(page.locator(".readiness-overall-session")).to_have_text("–")
            assert "workshop.intake(" not in page.content()  # Voila shows no code

            page.locator(".readiness-new-id input").fill("A1")
            page.locator(".readiness-new-role select").select_option("agent")
            page.locator(".readiness-add").click()
            page.wait_for_selector(f".readiness-item-{first_item}", state="visible")

            given: dict[str, int] = {}
            shown = []
            for item_id, value in picks.items():
                _show_tab(page, tab_of[item_id])
                _choose(page, item_id, inst.items[item_id].labels[value - 1])
                given[item_id] = value
                if naive_scores(inst, [("agent", given)])["overall"] is not None:
                    shown.append(_overall(page, expected_overall(given)))
            # Change one answer: the live score follows.
            changed = 1 if picks[first_item] != 1 else 5
            _show_tab(page, tab_of[first_item])
            _choose(page, first_item, inst.items[first_item].labels[changed - 1])
            given[first_item] = changed
            shown.append(_overall(page, expected_overall(given)))
            assert len(set(shown)) >= 2, shown  # the score moved as answers came in
            page.locator(f".readiness-item-{first_item} input[type=text]").fill("seen in the hiring pack")
            sync_api.expect(page.locator(".readiness-status")).to_contain_text(f"Saved {first_item}")

            def still_there() -> None:
                page.wait_for_selector(f".readiness-item-{first_item}", state="attached")
                for item_id, value in given.items():
                    assert _is_chosen(page, item_id, inst.items[item_id].labels[value - 1]), item_id
                sync_api.expect(page.locator(f".readiness-item-{first_item} input[type=text]")).to_have_value(
                    "seen in the hiring pack"
                )
                _overall(page, expected_overall(given))

            page.reload(timeout=PAGE_TIMEOUT_MS)
            page.wait_for_selector(".readiness-app", timeout=PAGE_TIMEOUT_MS)
            still_there()

            _stop(server)
            server = _start(port, store, log, scratch)
            page.reload(timeout=PAGE_TIMEOUT_MS)
            page.wait_for_selector(".readiness-app", timeout=PAGE_TIMEOUT_MS)
            still_there()
            final = page.locator(".readiness-overall-session").inner_text()
            page.screenshot(path=str(tmp_path / "workshop.png"))
    finally:
        _stop(server)
        shutil.rmtree(scratch, ignore_errors=True)

    exported = SessionStore(store).export_csv(tmp_path / "t.csv")
    results = tmp_path / "results.json"
    assert main(["score", str(exported), "--json", str(results), "--bootstrap", "0", "--quiet"]) == 0
    doc = json.loads(results.read_text())
    assert f"{doc['overall']['score']:.1f}" == final
