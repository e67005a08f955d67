"""Reading large inputs: memory and time of a 50 MB CSV, and how fast a zip bomb is refused.

Writes a responses CSV of about ``--mb`` megabytes over the bundled instrument (40
respondents per organization, answers 1-5, blanks and NA; one-digit cells, the densest
a responses file gets), then runs, each in a fresh process:

With ``--labels`` the answers are the items' labels (``Agree``, ``Strongly agree``), as
survey tools export them: wider cells, fewer answers per megabyte.

- ``python -c 'import readiness.io.loaders'``: the interpreter with numpy, pandas and the
  loaders imported, before any file is read (the baseline);
- ``readiness validate FILE``: read and check every answer;
- ``readiness score FILE --org ORG0000 --bootstrap 0 --quiet``: read everything, score
  every respondent (the scoring engine is vectorized over the whole file) and build one
  organization's results.

and prints each one's peak resident memory, the increase over the baseline, and both as
multiples of the file size. Then it writes a workbook of a few MB that unpacks to about
``--bomb-mb`` MB and times ``readiness validate`` refusing it.

    python benchmarks/bench_reading.py [--mb 50] [--labels] [--bomb-mb 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl

from readiness.io.loaders import load_instrument

BIN = Path(sys.executable).parent


def write_csv(path: Path, megabytes: float, seed: int = 14, labels: bool = False) -> int:
    """A responses file of about ``megabytes`` MB; returns the number of respondents.

    Answers are digits, or with ``labels`` the items' answer labels (as survey tools export).
    """
    inst = load_instrument()
    items = inst.layout.item_ids
    rng = random.Random(seed)
    roles = ["agent"] * 8 + ["supervisor", "manager"]
    digits = ["1", "2", "3", "4", "5", "3", "4", "", "NA"]
    choices = {i: (list(inst.items[i].labels) + ["", "N/A"]) if labels else digits for i in items}
    target = int(megabytes * 1e6)
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["org_id", "respondent_id", "role", *items])
        while fh.tell() < target:
            cells = [rng.choice(choices[i]) for i in items]
            writer.writerow([f"ORG{n // 40:05d}", f"R{n:07d}", roles[n % 10], *cells])
            n += 1
    return n


def write_bomb(path: Path, megabytes: int) -> None:
    """A one-sheet workbook padded with empty rows until it unpacks to ``megabytes`` MB."""
    wb = openpyxl.Workbook()
    wb.active.append(["org_id", "respondent_id", "role"])
    buf = io.BytesIO()
    wb.save(buf)
    filler = b'<row r="2"/>' * 4096
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, content)
                continue
            head, tail = content.split(b"</sheetData>")
            member = zipfile.ZipInfo(info.filename)
            member.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(member, "w", force_zip64=True) as fh:
                fh.write(head)
                for _ in range(megabytes * 1_000_000 // len(filler)):
                    fh.write(filler)
                fh.write(b"</sheetData>" + tail)


def peak_mib(argv: list[str]) -> tuple[float, float, int]:
    """Peak resident memory (MiB) and seconds of one child process, and its exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is the largest child so far: the children run smallest first
    return max(after, before) / 1024, seconds, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the responses CSV")
    parser.add_argument("--bomb-mb", type=int, default=1000, help="what the zip bomb unpacks to")
    parser.add_argument("--labels", action="store_true", help="answers as labels, not digits")
    parser.add_argument("--keep", help="write the files here (default: a temporary folder, removed)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / "large.csv"
        t0 = time.perf_counter()
        n = write_csv(csv_path, args.mb, labels=args.labels)
        mb = csv_path.stat().st_size / 1e6
        print(
            f"responses CSV: {mb:.1f} MB, {n:,} respondents (written in {time.perf_counter() - t0:.1f} s)", flush=True
        )

        base, _, _ = peak_mib([sys.executable, "-c", "import readiness.io.loaders"])
        print(f"baseline (interpreter, numpy, pandas, loaders): {base:.0f} MiB", flush=True)
        to_mb = 1024 * 1024 / 1e6
        for name, argv in (
            ("validate", [str(BIN / "readiness"), "validate", str(csv_path)]),
            (
                "score --org ORG00000",
                [str(BIN / "readiness"), "score", str(csv_path), "--org", "ORG00000", "--bootstrap", "0", "--quiet"],
            ),
        ):
            peak, seconds, code = peak_mib(argv)
            extra = peak - base
            print(
                f"readiness {name}: exit {code}, {seconds:.1f} s, peak {peak:.0f} MiB = {peak * to_mb / mb:.1f}x the "
                f"file; {extra:.0f} MiB above the baseline = {extra * to_mb / mb:.1f}x the file",
                flush=True,
            )

        bomb = folder / "bomb.xlsx"
        write_bomb(bomb, args.bomb_mb)
        t0 = time.perf_counter()
        code = subprocess.run([str(BIN / "readiness"), "validate", str(bomb)], capture_output=True).returncode
        seconds = time.perf_counter() - t0
        print(
            f"zip bomb: {bomb.stat().st_size / 1e6:.1f} MB unpacking to {args.bomb_mb:,} MB: "
            f"readiness validate exit {code} in {seconds:.1f} s (target: refused within 30 s)"
        )


if __name__ == "__main__":
    main()
