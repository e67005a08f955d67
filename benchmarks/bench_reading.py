"""Reading large inputs: memory and time of a 50 MB CSV, and how fast a zip bomb is refused.

Writes a responses CSV of about ``--mb`` megabytes over the bundled instrument (40
respondents per organization, answers 1-5, blanks and NA; one-digit cells, the densest
a responses file gets), then runs, each in a fresh process:

- ``python -c 'import readiness.io.loaders'``: the interpreter with numpy, pandas and the
  loaders imported, before any file is read (the baseline);
- ``readiness validate FILE``: read and check every answer;
- ``readiness score FILE --bootstrap 0 --quiet``: read and score every organization.

and prints each one's peak resident memory, the increase over the baseline, and both as
multiples of the file size. Then it writes a workbook of a few MB that unpacks to about
``--bomb-mb`` MB and times ``readiness validate`` refusing it.

    python benchmarks/bench_reading.py [--mb 50] [--bomb-mb 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
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


def write_csv(path: Path, megabytes: float, seed: int = 14) -> int:
    """A responses file of about ``megabytes`` MB; returns the number of respondents."""
    items = load_instrument().layout.item_ids
    rng = random.Random(seed)
    roles = ["agent"] * 8 + ["supervisor", "manager"]
    choices = ["1", "2", "3", "4", "5", "3", "4", "", "NA"]
    target = int(megabytes * 1e6)
    n = size = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        header = ",".join(["org_id", "respondent_id", "role", *items]) + "\n"
        fh.write(header)
        size += len(header)
        while size < target:
            cells = [rng.choice(choices) for _ in items]
            line = ",".join([f"ORG{n // 40:05d}", f"R{n:07d}", roles[n % 10], *cells]) + "\n"
            fh.write(line)
            size += len(line)
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
    if after <= before:  # ru_maxrss is the largest child so far: run the smaller ones first
        print(f"  (peak of {argv[1]} not above an earlier child's; figure is a bound)")
    return after / 1024, seconds, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the responses CSV")
    parser.add_argument("--bomb-mb", type=int, default=1000, help="what the zip bomb unpacks to")
    parser.add_argument("--keep", help="write the files here (default: a temporary folder, removed)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / "large.csv"
        t0 = time.perf_counter()
        n = write_csv(csv_path, args.mb)
        mb = csv_path.stat().st_size / 1e6
        print(f"responses CSV: {mb:.1f} MB, {n:,} respondents (written in {time.perf_counter() - t0:.1f} s)")

        base, _, _ = peak_mib([sys.executable, "-c", "import readiness.io.loaders"])
        print(f"baseline (interpreter, numpy, pandas, loaders): {base:.0f} MiB")
        to_mb = 1024 * 1024 / 1e6
        for name, argv in (
            ("validate", [str(BIN / "readiness"), "validate", str(csv_path)]),
            ("score --bootstrap 0", [str(BIN / "readiness"), "score", str(csv_path), "--bootstrap", "0", "--quiet"]),
        ):
            peak, seconds, code = peak_mib(argv)
            extra = peak - base
            print(
                f"readiness {name}: exit {code}, {seconds:.1f} s, peak {peak:.0f} MiB = {peak * to_mb / mb:.1f}x the "
                f"file; {extra:.0f} MiB above the baseline = {extra * to_mb / mb:.1f}x the file"
            )

        bomb = folder / "bomb.xlsx"
        write_bomb(bomb, args.bomb_mb)
        peak, seconds, code = peak_mib([str(BIN / "readiness"), "validate", str(bomb)])
        print(
            f"zip bomb: {bomb.stat().st_size / 1e6:.1f} MB unpacking to {args.bomb_mb:,} MB: "
            f"readiness validate exit {code} in {seconds:.1f} s (target: refused within 30 s)"
        )


if __name__ == "__main__":
    main()
