"""PDF: the HTML report printed by headless Chromium (Debian package ``chromium``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core.errors import ReportError
from ..io.exporters import atomic_path

__all__ = ["CHROMIUM_FLAGS", "find_chromium", "to_pdf"]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


def to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: int = 120) -> Path:
    """Print the HTML report to PDF with headless Chromium (Debian package ``chromium``)."""
    browser = find_chromium()
    if browser is None:
        raise ReportError("PDF export needs Chromium: install the Debian package (apt-get install chromium)")
    html_path = Path(html_path).resolve()
    with tempfile.TemporaryDirectory(prefix="readiness-chromium-") as profile, atomic_path(pdf_path) as tmp:
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish the PDF within {timeout} s") from None
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ReportError(f"Chromium could not print the PDF: {last[:200]}")
    return Path(pdf_path)
