"""The ``readiness`` command line: one command, subcommands, one error boundary.

Exit status: 0 ok, 1 failure, 2 bad input. Errors are printed as one line on stderr;
a traceback is shown only with ``READINESS_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ..core import defaults
from ..core.errors import InputError, ReadinessError

__all__ = ["cli", "main"]

# One BLAS thread per process, unless the user says otherwise (set before numpy loads,
# and inherited by batch workers and their kernels). A batch already runs one process
# per core, and the engine's matrix products are small: more BLAS threads only wait on
# each other (a product 14 times slower on a busy 2-core machine, measured).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def _instrument(path: str | None):
    from ..io.loaders import load_instrument

    return load_instrument(path)


#: The survey-tool layouts ``--from`` accepts (kept here so that --help needs no import).
_EXPORT_CHOICES = ("auto", "qualtrics", "surveymonkey", "limesurvey", "forms")

_export_options = [
    click.option(
        "--from",
        "export_tool",
        type=click.Choice(_EXPORT_CHOICES),
        help="RESPONSES is a survey tool's export of this layout (auto: told by its headers); "
        "it is converted first (see 'readiness convert').",
    ),
    click.option(
        "--org-column",
        "org_column",
        default="",
        help="With --from: the export's column that holds the organization id.",
    ),
    click.option(
        "--role-question",
        "role_question",
        default="",
        help="With --from: the text of the question asking the role (default: 'What is your role?').",
    ),
]


def _with_export_options(f):
    for option in reversed(_export_options):
        f = option(f)
    return f


def _export(tool: str | None, org: str | None, org_column: str, role_question: str, reading: dict):
    """The conversion options of an export given to validate/score/assess/batch, or ``None``.

    ``reading``: the file-reading options (:func:`_reading`); with an export,
    ``--ignore-columns`` leaves out questions that match no item.
    """
    if not tool:
        if org_column or role_question:
            raise InputError("--org-column and --role-question go with --from", source="command line")
        return None
    from ..io.survey_import import ExportOptions

    return ExportOptions(
        tool=tool,
        org_column=org_column,
        role_question=role_question,
        ignore_columns=reading["ignore_columns"],
        default_org="" if org_column else (org or ""),
        sheet=reading["sheet"],
        limits=reading["limits"],
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="readiness")
def cli() -> None:
    """How ready is a contact center to add selling to service? Score, benchmark, plan."""


@cli.command("instrument")
@click.option(
    "--instrument",
    "instrument_path",
    type=click.Path(dir_okay=False),
    help="Instrument YAML, or a bundled one's name (default: service-to-sales).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the normalized instrument as JSON.")
def instrument_cmd(instrument_path: str | None, as_json: bool) -> None:
    """Print the instrument (question set), normalized."""
    inst = _instrument(instrument_path)
    if as_json:
        click.echo(json.dumps(inst.to_normalized(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{inst.title or inst.id} (id {inst.id}, version {inst.version}, {inst.scale_points}-point scale)")
    for dim in inst.dimensions:
        click.echo(f"{dim.id} (weight {dim.weight:g})")
        for facet in dim.facets:
            click.echo(f"  {facet.id}: {facet.title} ({len(facet.items)} items)")
    click.echo(f"{len(inst.items)} items; roles: {', '.join(inst.roles)}")
    for question in inst.open_questions:
        click.echo(
            f"open question {question.id} (free text, never scored; {', '.join(question.roles)}): {question.text}"
        )


_reading_options = [
    click.option("--sheet", help="Workbook sheet of the responses (default: the sheet holding the header)."),
    click.option(
        "--ignore-columns",
        "ignore_columns",
        is_flag=True,
        help="Leave out columns that are no item of the instrument (default: they are an error).",
    ),
    click.option(
        "--max-rows",
        "max_rows",
        type=int,
        default=defaults.MAX_ROWS,
        show_default=True,
        help="Most rows an input file may hold (checked before it is read).",
    ),
    click.option(
        "--max-unpacked-mb",
        "max_unpacked_mb",
        type=float,
        default=defaults.MAX_UNPACKED_MB,
        show_default=True,
        help="Most megabytes a workbook or Parquet file may unpack to (checked before it is unpacked).",
    ),
]


def _reading(sheet: str | None, ignore_columns: bool, max_rows: int, max_unpacked_mb: float) -> dict:
    """How to read the input files: keyword arguments of the loaders and the pipeline."""
    from ..io.tables import Limits

    limits = Limits(max_rows=max_rows, max_unpacked_mb=max_unpacked_mb)
    return {"sheet": sheet, "ignore_columns": ignore_columns, "limits": limits}


def _with_options(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@cli.command("validate")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
@click.option("--profiles", type=click.Path(dir_okay=False), help="Organization profiles file.")
@_with_options(_reading_options)
@_with_export_options
@click.option("--org", "org", default="", help="With --from: the organization of every row, when no column holds it.")
def validate_cmd(
    responses: str,
    instrument_path: str | None,
    profiles: str | None,
    sheet: str | None,
    ignore_columns: bool,
    max_rows: int,
    max_unpacked_mb: float,
    export_tool: str | None,
    org_column: str,
    role_question: str,
    org: str,
) -> None:
    """Check a responses file (and profiles); list every problem found."""
    from ..io.loaders import validate_files

    reading = _reading(sheet, ignore_columns, max_rows, max_unpacked_mb)
    inst = _instrument(instrument_path)
    export = _export(export_tool, org, org_column, role_question, reading)
    if export is None:
        problems, parsed, _ = validate_files(responses, inst, profiles, **reading)
    else:
        from ..io.survey_import import convert_export

        conversion = convert_export(responses, inst, export)
        problems, parsed, _ = validate_files(
            responses, inst, profiles, table=conversion.table, limits=reading["limits"]
        )
        problems = conversion.relabel(problems)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        if p.severity == "warning":
            click.echo(f"warning: {p}", err=True)
    if errors:
        for p in errors:
            click.echo(f"error: {p}", err=True)
        raise click.exceptions.Exit(2)
    assert parsed is not None
    if export is not None:
        click.echo(conversion.report.summary(), err=True)
    n_orgs = len(parsed.org_ids)
    click.echo(f"valid: {len(parsed)} respondents, {n_orgs} organization{'s' if n_orgs != 1 else ''}")


def _load_inputs(responses: str, instrument_path: str | None, profiles: str | None, reading: dict):
    from ..io.loaders import load_profiles, load_responses

    inst = _instrument(instrument_path)
    parsed = load_responses(responses, inst, **reading)
    prof = load_profiles(profiles, limits=reading["limits"]) if profiles else None
    return inst, parsed, prof


def _prepare(
    responses: str,
    *,
    instrument_path: str | None,
    profiles: str | None,
    peers: str | None,
    playbook_path: str | None,
    seed: int,
    n_boot: int,
    k: int,
    target: str | None,
    capacity: Sequence[float] | None,
    role_min: int = defaults.ROLE_MIN,
    isolate: bool = False,
    export=None,
    reading: dict | None = None,
    prepared_by: str = "",
    date: str | None = None,
):
    """Read and check every input, and the options from the command line: ``(inputs, options)``.

    ``isolate`` (batches): organizations whose own rows are bad are set aside in
    ``inputs.rejected`` instead of failing the file.
    """
    from ..io.pipeline import load_inputs, make_options, parse_target

    inputs = load_inputs(
        responses,
        instrument=instrument_path,
        profiles=profiles,
        peers=peers,
        playbook=playbook_path,
        isolate=isolate,
        export=export,
        **(reading or {}),
    )
    options = make_options(
        seed=seed,
        n_boot=n_boot,
        k=k,
        target=parse_target(target, inputs.instrument),
        capacity=capacity,
        role_min=role_min,
        date=date,
        prepared_by=prepared_by or "",
    )
    return inputs, options


def _assess(responses: str, *, org: str | None, inputs_out: list | None = None, **options: Any):
    """Load everything, run the assessment: {org_id: results document}.

    ``options``: those of :func:`_prepare`. With an ``inputs_out`` list, the inputs read
    are appended to it (the history keeps the respondents' facet scores).
    """
    from ..io.pipeline import run

    inputs, made_with = _prepare(responses, **options)
    if inputs_out is not None:
        inputs_out.append(inputs)
    return run(inputs, orgs=[org] if org else None, options=made_with)


_history_options = [
    click.option(
        "--history",
        "history_path",
        type=click.Path(dir_okay=False),
        help="Also record the assessment in this history file (DuckDB; created when missing).",
    ),
    click.option("--wave", help="The wave's label in the history (default: the assessment's month, YYYY-MM)."),
]


def _check_history(history_path: str | None, wave: str | None) -> None:
    """Refuse a wrong --history or --wave before any work is done."""
    from ..io.history_store import HistoryStore, wave_label

    if wave is not None and not history_path:
        raise InputError("--wave needs --history", source="command line")
    if history_path:
        if wave is not None:
            wave_label(wave, "")
        HistoryStore(history_path).check()


def _record(history_path: str, inputs: list, docs: dict, wave: str | None, responses: str) -> None:
    from ..io.comparison import record_assessment

    label, summary = record_assessment(history_path, inputs[0].responses, docs, wave=wave, source=Path(responses).name)
    replaced = f" ({summary.replaced} replaced)" if summary.replaced else ""
    click.echo(f"recorded wave {label} of {summary.waves} organization(s){replaced} in {history_path}", err=True)


_common_assess_options = [
    click.option(
        "--instrument",
        "instrument_path",
        type=click.Path(dir_okay=False),
        help="Instrument YAML, or a bundled one's name (service-to-sales-v1 scores answers to version 1.0).",
    ),
    click.option("--profiles", type=click.Path(dir_okay=False), help="Organization profiles file."),
    click.option(
        "--peers",
        type=click.Path(dir_okay=False),
        help="Peer data: a DuckDB peer database, or a responses file with <stem>.profiles beside it.",
    ),
    click.option("--playbook", "playbook_path", type=click.Path(dir_okay=False), help="Action playbook YAML."),
    click.option(
        "--k", default=defaults.K, show_default=True, help=f"Smallest peer group shown (at least {defaults.MIN_K})."
    ),
    click.option(
        "--role-min",
        "role_min",
        default=defaults.ROLE_MIN,
        show_default=True,
        help="Fewest respondents in a role for that role's scores to be shown.",
    ),
    click.option(
        "--target",
        help="Roadmap target: a level 0-100 for every facet, or a target profile file "
        "(default: the top quartile of peers one stage ahead; without peers, the next readiness level).",
    ),
    click.option(
        "--capacity",
        type=float,
        multiple=True,
        help="Effort points per phase, repeat for phases 1, 2, 3 (default 8, 10, 16).",
    ),
    click.option("--seed", default=defaults.SEED, show_default=True, help="Seed for the bootstrap intervals."),
    click.option(
        "--bootstrap", "n_boot", default=defaults.N_BOOT, show_default=True, help="Bootstrap resamples (0: none)."
    ),
]
_report_options = [
    click.option(
        "--prepared-by",
        "prepared_by",
        default="",
        help="Who prepared the report (a consultant or team), shown on its cover.",
    ),
    click.option("--date", "date", help="The assessment's date, YYYY-MM-DD (default: today)."),
]


@cli.command("score")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--org", help="Organization id (default: every organization in the file).")
@_with_options(_common_assess_options)
@_with_options(_report_options)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write results.json here (one organization).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Write results.json (and roadmap.xlsx/csv) per organization into this folder.",
)
@click.option("--quiet", is_flag=True, help="Do not print the tables.")
@_with_options(_reading_options)
@_with_export_options
def score_cmd(
    responses: str,
    org: str | None,
    instrument_path: str | None,
    profiles: str | None,
    peers: str | None,
    playbook_path: str | None,
    k: int,
    role_min: int,
    target: str | None,
    capacity: tuple[float, ...],
    seed: int,
    n_boot: int,
    prepared_by: str,
    date: str | None,
    json_out: str | None,
    out_dir: str | None,
    quiet: bool,
    sheet: str | None,
    ignore_columns: bool,
    max_rows: int,
    max_unpacked_mb: float,
    export_tool: str | None,
    org_column: str,
    role_question: str,
) -> None:
    """Score organizations: results.json without notebooks (benchmark and roadmap with --peers)."""
    from ..io.exporters import org_folder, write_json
    from ..io.pipeline import write_outputs
    from ..report.terminal import print_results

    reading = _reading(sheet, ignore_columns, max_rows, max_unpacked_mb)

    docs = _assess(
        responses,
        org=org,
        instrument_path=instrument_path,
        profiles=profiles,
        peers=peers,
        playbook_path=playbook_path,
        seed=seed,
        n_boot=n_boot,
        k=k,
        target=target,
        capacity=capacity,
        role_min=role_min,
        export=_export(export_tool, org, org_column, role_question, reading),
        reading=reading,
        prepared_by=prepared_by,
        date=date,
    )
    if json_out and len(docs) > 1:
        raise InputError(
            f"the file holds {len(docs)} organizations; choose one with --org, or use --out DIR",
            source=Path(responses).name,
            column="org_id",
        )
    for org_id, doc in docs.items():
        if not quiet:
            print_results(doc)
        if json_out:
            write_json(json_out, doc)
        if out_dir:
            write_outputs(Path(out_dir) if len(docs) == 1 else Path(out_dir) / org_folder(org_id, docs), doc)
    if json_out:
        click.echo(f"wrote {json_out}", err=True)
    if out_dir:
        click.echo(f"wrote results for {len(docs)} organization(s) under {out_dir}", err=True)


@cli.command("assess")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--org", required=True, help="Organization id.")
@_with_options(_common_assess_options)
@_with_options(_report_options)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: out/<organization>).")
@click.option("--pdf", is_flag=True, help="Also write report.pdf (needs the Debian chromium package).")
@_with_options(_history_options)
@_with_options(_reading_options)
@_with_export_options
def assess_cmd(
    responses: str,
    org: str,
    instrument_path: str | None,
    profiles: str | None,
    peers: str | None,
    playbook_path: str | None,
    k: int,
    role_min: int,
    target: str | None,
    capacity: tuple[float, ...],
    seed: int,
    n_boot: int,
    prepared_by: str,
    date: str | None,
    out_dir: str | None,
    pdf: bool,
    history_path: str | None,
    wave: str | None,
    sheet: str | None,
    ignore_columns: bool,
    max_rows: int,
    max_unpacked_mb: float,
    export_tool: str | None,
    org_column: str,
    role_question: str,
) -> None:
    """Full client report for one organization: results, roadmap exports, report.html (and PDF)."""
    from ..io.exporters import org_folder
    from ..report.folder import build

    reading = _reading(sheet, ignore_columns, max_rows, max_unpacked_mb)

    _check_history(history_path, wave)
    inputs: list = []
    docs = _assess(
        responses,
        org=org,
        instrument_path=instrument_path,
        profiles=profiles,
        peers=peers,
        playbook_path=playbook_path,
        seed=seed,
        n_boot=n_boot,
        k=k,
        target=target,
        capacity=capacity,
        role_min=role_min,
        inputs_out=inputs,
        export=_export(export_tool, org, org_column, role_question, reading),
        reading=reading,
        prepared_by=prepared_by,
        date=date,
    )
    org_id, doc = next(iter(docs.items()))  # the id as read (normalized: readiness.core.ids)
    if history_path:
        _record(history_path, inputs, {org_id: doc}, wave, responses)
    folder = Path(out_dir) if out_dir else Path("out") / org_folder(org_id)
    written = build(doc, folder, pdf=pdf)
    click.echo(f"Report for {org_id}:")
    for path in written:
        click.echo(f"  {path.resolve()}")


@cli.command("batch")
@click.argument("responses", type=click.Path(dir_okay=False))
@_with_options(_common_assess_options)
@_with_options(_report_options)
@click.option(
    "--out",
    "out_dir",
    default="out/batch",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output folder: one subfolder per organization, and manifest.csv.",
)
@click.option("--workers", default=2, show_default=True, help="Reports rendered in parallel.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Local worker processes, or dask.distributed.",
)
@click.option("--scheduler", help="Address of an existing Dask scheduler (with --executor dask).")
@click.option("--resume", is_flag=True, help="Skip organizations already complete; redo the rest.")
@click.option("--pdf", is_flag=True, help="Also write report.pdf for each organization.")
@click.option("--no-progress", is_flag=True, help="No progress bar (one line per organization instead).")
@_with_options(_history_options)
@_with_options(_reading_options)
@_with_export_options
@click.option("--org", "org", default="", help="With --from: the organization of every row, when no column holds it.")
def batch_cmd(
    responses: str,
    instrument_path: str | None,
    profiles: str | None,
    peers: str | None,
    playbook_path: str | None,
    k: int,
    role_min: int,
    target: str | None,
    capacity: tuple[float, ...],
    seed: int,
    n_boot: int,
    prepared_by: str,
    date: str | None,
    out_dir: str,
    workers: int,
    executor: str,
    scheduler: str | None,
    resume: bool,
    pdf: bool,
    no_progress: bool,
    history_path: str | None,
    wave: str | None,
    sheet: str | None,
    ignore_columns: bool,
    max_rows: int,
    max_unpacked_mb: float,
    export_tool: str | None,
    org_column: str,
    role_question: str,
    org: str,
) -> None:
    """Reports for every organization in RESPONSES: parallel, resumable, local or on Dask."""
    from ..io.pipeline import Fingerprints, run, run_chunks
    from ..report.terminal import BatchProgress
    from .batch import run_batch

    if scheduler and executor != "dask":
        raise InputError("--scheduler needs --executor dask", source="command line")
    _check_history(history_path, wave)
    reading = _reading(sheet, ignore_columns, max_rows, max_unpacked_mb)
    inputs, options = _prepare(
        responses,
        instrument_path=instrument_path,
        profiles=profiles,
        peers=peers,
        playbook_path=playbook_path,
        seed=seed,
        n_boot=n_boot,
        k=k,
        target=target,
        capacity=capacity,
        role_min=role_min,
        isolate=True,
        export=_export(export_tool, org, org_column, role_question, reading),
        reading=reading,
        prepared_by=prepared_by,
        date=date,
    )
    total = len(inputs.responses.org_ids)
    if history_path:
        # the history records every organization in one transaction, before the long
        # rendering: this batch holds all its documents (without --history it streams them)
        docs = run(inputs, options=options)
        if docs:
            _record(history_path, [inputs], docs, wave, responses)
        source: Any = docs
    else:
        # organizations are assessed a chunk at a time as workers need them: the driver
        # never holds every results document of a large batch at once
        source = run_chunks(inputs, options=options)
    with BatchProgress(total + len(inputs.rejected), enabled=not no_progress) as progress:
        summary = run_batch(
            source,
            out_dir,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            resume=resume,
            pdf=pdf,
            rejected=inputs.rejected,
            total=total,
            on_progress=progress.update,
            # what each organization's results are made from, computed as it comes up; a
            # date given with --date is one of them, today's date by default is not (a
            # batch resumed the next morning finishes the rest instead of redoing them all)
            fingerprints=Fingerprints(inputs, options, dated=date is not None),
            org_ids=inputs.responses.org_ids,
        )
    click.echo(
        f"{summary.done} done, {summary.failed} failed, {summary.skipped} already complete "
        f"in {summary.seconds:.1f} s; manifest: {Path(out_dir) / 'manifest.csv'}"
    )
    if not summary.ok:
        for row in summary.rows:  # the failed ones
            click.echo(f"failed: {row['org_id']}: {row['error']}", err=True)
        raise click.exceptions.Exit(1)


@cli.command("survey")
@click.option(
    "--to",
    "tool",
    required=True,
    type=click.Choice(["qualtrics", "limesurvey", "csv"]),
    help="qualtrics: Advanced Format TXT; limesurvey: tab-separated survey (.txt); csv: a question list to paste.",
)
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
@click.option("--org", "org_id", default="", help="Organization id the survey is for (LimeSurvey records it).")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="File to write.")
def survey_cmd(tool: str, instrument_path: str | None, org_id: str, out_file: str) -> None:
    """The questionnaire for a survey tool, every question tagged with its item id."""
    from ..io.session_store import check_name
    from ..io.survey_export import write_survey

    org = check_name(org_id, "org_id", source="command line") if org_id else ""
    inst = _instrument(instrument_path)
    write_survey(out_file, inst, tool, org_id=org)
    n_open = len(inst.open_questions)
    open_part = f", {n_open} open question{'s' if n_open != 1 else ''}" if n_open else ""
    click.echo(f"wrote {out_file}: {len(inst.items)} questions{open_part} and the role question ({tool})")
    if org and tool != "limesurvey":
        click.echo(
            f"the export will not name the organization: give --org {org} to 'readiness convert', "
            "or record it in the tool (see docs/survey-tools.md)",
            err=True,
        )


@cli.command("convert")
@click.argument("export_file", metavar="EXPORT", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "tool",
    type=click.Choice(_EXPORT_CHOICES),
    default="auto",
    show_default=True,
    help="The tool that wrote the export (auto: told by its headers).",
)
@click.option("--org", "org_id", default="", help="The organization of every response.")
@click.option("--org-column", "org_column", default="", help="The export's column that holds the organization id.")
@click.option(
    "--role-question",
    "role_question",
    default="",
    help="The text of the question asking the role (default: 'What is your role?').",
)
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
@click.option(
    "--ignore-columns", is_flag=True, help="Leave out questions that match no item instead of refusing the export."
)
@click.option("--report", "report_file", type=click.Path(dir_okay=False), help="Also write the report as JSON here.")
@click.option("--quiet", is_flag=True, help="Print only the last line, not the whole report.")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Canonical responses file to write (.csv or .parquet).",
)
def convert_cmd(
    export_file: str,
    tool: str,
    org_id: str,
    org_column: str,
    role_question: str,
    instrument_path: str | None,
    ignore_columns: bool,
    report_file: str | None,
    quiet: bool,
    out_file: str,
) -> None:
    """A survey tool's export (CSV or XLSX) as the canonical responses file, with a report."""
    from contextlib import ExitStack

    from ..io.exporters import atomic_path, write_bytes, write_json
    from ..io.session_store import check_name
    from ..io.survey_import import ExportOptions, convert_export, responses_bytes

    if Path(out_file).suffix.lower() not in (".csv", ".parquet"):
        raise InputError("the responses file to write must be .csv or .parquet", source=out_file)
    org = check_name(org_id, "org_id", source="command line") if org_id else ""
    inst = _instrument(instrument_path)
    options = ExportOptions(
        tool=tool, org_id=org, org_column=org_column, role_question=role_question, ignore_columns=ignore_columns
    )
    conversion = convert_export(export_file, inst, options)
    parsed = conversion.parse(inst)  # the loaders' rules, in the export's rows and columns
    report = conversion.report
    with ExitStack() as stack:  # both files renamed into place only when both are complete
        write_bytes(stack.enter_context(atomic_path(out_file)), responses_bytes(conversion, Path(out_file).suffix))
        if report_file:
            write_json(stack.enter_context(atomic_path(report_file)), report.to_dict())
    if not quiet:
        for line in report.lines():
            click.echo(line)
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"wrote {out_file}: {report.respondents} respondent(s) of {report.organizations} organization(s)"
        + (f"; report {report_file}" if report_file else "")
    )


@cli.command("portfolio")
@click.argument("results_dir", required=False, type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Where portfolio.html and portfolio.ipynb go (default: RESULTS_DIR, or the history file's folder).",
)
@click.option("--top", default=15, show_default=True, help="Rows in the common-gaps and frequent-actions tables.")
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, exists=True),
    help="An assessment history: show each center's overall score over its waves (and, without "
    "RESULTS_DIR, the portfolio of each center's latest wave).",
)
def portfolio_cmd(results_dir: str | None, out_dir: str | None, top: int, history_path: str | None) -> None:
    """Portfolio report over a batch's results: ranking, spread, common gaps, frequent actions, trend."""
    from ..report.folder import build_portfolio

    if not results_dir and not history_path:
        raise InputError("give a results folder, or --history, or both", source="command line")
    for path in build_portfolio(results_dir, out_dir, top=top, history=history_path):
        click.echo(f"  {path.resolve()}")


@cli.command("demo")
@click.option(
    "--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--pdf", is_flag=True, help="Also write report.pdf (needs the Debian chromium package).")
@_with_options(_report_options)
def demo_cmd(out_dir: str, pdf: bool, prepared_by: str, date: str | None) -> None:
    """Full report for the bundled example center against the bundled peer panel."""
    from ..io.pipeline import bundled_example, bundled_panel
    from ..report.folder import build
    from ..report.terminal import print_results

    responses, profiles = bundled_example()
    docs = _assess(
        str(responses),
        org=None,
        instrument_path=None,
        profiles=str(profiles),
        peers=str(bundled_panel()[0]),
        playbook_path=None,
        seed=defaults.SEED,
        n_boot=defaults.N_BOOT,
        k=defaults.K,
        target=None,
        capacity=None,
        prepared_by=prepared_by,
        date=date,
    )
    for doc in docs.values():
        print_results(doc)
        written = build(doc, Path(out_dir), pdf=pdf)
        click.echo("\nThe report and its files:")
        for path in written:
            click.echo(f"  {path.resolve()}")
        click.echo(f"\nOpen {(Path(out_dir) / 'report.html').resolve()} in a browser.")


@cli.command("panel")
@click.option("--orgs", "n_orgs", default=400, show_default=True, help="Number of peer organizations.")
@click.option("--seed", default=2007, show_default=True, help="Random seed.")
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Responses file to write (.csv or .parquet); profiles go beside it as <stem>.profiles.<ext>, "
    "or a .duckdb peer database.",
)
def panel_cmd(n_orgs: int, seed: int, instrument_path: str | None, out_file: str) -> None:
    """Generate the synthetic peer panel (documented latent-trait model), marked as synthetic."""
    from ..core.synthetic_panel import generate_panel, panel_info
    from ..io.exporters import write_table
    from ..io.peer_store import panel_info_path_for, profiles_path_for, write_panel_info

    if n_orgs < 1:
        raise InputError("--orgs must be at least 1", source="command line")
    inst = _instrument(instrument_path)
    responses, profiles = generate_panel(inst, n_orgs=n_orgs, seed=seed)
    info = panel_info(seed)
    out = Path(out_file)
    if out.suffix.lower() in (".duckdb", ".db", ".ddb"):
        from ..io.loaders import parse_profiles, parse_responses
        from ..io.peer_store import PeerStore

        parsed = parse_responses(_as_table(responses, out.name), inst)
        prof = parse_profiles(_as_table(profiles, out.name))
        summary = PeerStore(out).import_responses(
            parsed,
            prof,
            source=f"readiness panel --seed {seed}",
            synthetic=True,
            name=info.name,
            description=info.description,
        )
        click.echo(f"wrote {summary.organizations} simulated organizations, {summary.respondents} respondents to {out}")
        return
    write_table(out, responses)
    write_table(profiles_path_for(out), profiles)
    generator = {"orgs": n_orgs, "seed": seed, "instrument": {"id": inst.id, "version": inst.version}}
    write_panel_info(panel_info_path_for(out), info, generator=generator)
    click.echo(
        f"wrote {len(profiles)} simulated organizations, {len(responses)} respondents to {out} and "
        f"{profiles_path_for(out)}; {panel_info_path_for(out)} marks them synthetic"
    )


def _as_table(frame, source: str):
    import numpy as np

    from ..io.loaders import Table, _cell_text

    cells = frame.map(_cell_text).astype(object)
    return Table(source, [str(c) for c in frame.columns], cells.reset_index(drop=True), np.arange(2, len(frame) + 2))


@cli.group("peers")
def peers_group() -> None:
    """Manage a peer database (DuckDB, one file)."""


@peers_group.command("import")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--profiles", required=True, type=click.Path(dir_okay=False), help="Profiles of the peer organizations.")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Peer database file.")
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
@click.option(
    "--synthetic",
    is_flag=True,
    help="The organizations are simulated, not real centers (default: real). Reports then say so.",
)
@click.option("--name", help="Name of the peer panel (default: kept, or the database file's name).")
@click.option("--description", help="One or two sentences on what the peers are and where they come from.")
@_with_options(_reading_options)
def peers_import_cmd(
    responses: str,
    profiles: str,
    db_path: str,
    instrument_path: str | None,
    synthetic: bool,
    name: str | None,
    description: str | None,
    sheet: str | None,
    ignore_columns: bool,
    max_rows: int,
    max_unpacked_mb: float,
) -> None:
    """Import peer responses and profiles (re-importing an organization replaces it)."""
    from ..io.peer_store import PeerStore, panel_info_path_for, read_panel_info

    reading = _reading(sheet, ignore_columns, max_rows, max_unpacked_mb)
    inst, parsed, prof = _load_inputs(responses, instrument_path, profiles, reading)
    companion = panel_info_path_for(responses)
    if not synthetic and companion.exists() and read_panel_info(companion).synthetic:
        click.echo(
            f"note: {companion.name} marks these data as synthetic; they are imported as real unless you "
            "add --synthetic",
            err=True,
        )
    summary = PeerStore(db_path).import_responses(
        parsed, prof, source=Path(responses).name, synthetic=synthetic, name=name, description=description
    )
    kind = "simulated" if synthetic else "real"
    click.echo(
        f"imported {summary.organizations} {kind} organizations ({summary.replaced} replaced), "
        f"{summary.respondents} respondents, {summary.answers} answers into {db_path}"
    )


@peers_group.command("describe")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Peer database file.")
def peers_describe_cmd(db_path: str) -> None:
    """Counts of peer organizations by industry, size band and stage."""
    from rich.console import Console

    from ..io.peer_store import PeerStore
    from ..report.terminal import peer_counts_view

    store = PeerStore(db_path, read_only=True)
    counts = store.describe()
    info = store.info()
    kind = "synthetic (simulated centers)" if info.synthetic else "real centers"
    click.echo(f"{info.name}: {kind}" + (f". {info.description}" if info.description else ""))
    console = Console()
    console.print(peer_counts_view(counts, title=f"Peer organizations in {Path(db_path).name}", width=console.width))
    click.echo(f"{int(counts['organizations'].sum())} organizations, {int(counts['respondents'].sum())} respondents")


@cli.group("history")
def history_group() -> None:
    """The assessment history (DuckDB, one file): record, list and remove waves."""


@history_group.command("add")
@click.argument("results", type=click.Path(exists=False))
@click.option("--history", "history_path", required=True, type=click.Path(dir_okay=False), help="History file.")
@click.option("--wave", help="The wave's label (default: the assessment's month, YYYY-MM).")
@click.option("--date", "when", help="The assessment date, YYYY-MM-DD (default: the results', else the file's).")
@click.option(
    "--responses",
    type=click.Path(dir_okay=False),
    help="The responses the results were assessed from: keeps the respondents' scores, for exact "
    "intervals on change (without it, intervals against this wave are approximate).",
)
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
def history_add_cmd(
    results: str,
    history_path: str,
    wave: str | None,
    when: str | None,
    responses: str | None,
    instrument_path: str | None,
) -> None:
    """Record an existing assessment: a results.json, its folder, or a batch folder of them."""
    from ..io.comparison import add_results

    _check_history(history_path, wave)
    waves, summary = add_results(
        history_path, results, wave=wave, when=when, responses=responses, instrument=instrument_path
    )
    replaced = f" ({summary.replaced} replaced)" if summary.replaced else ""
    for w in waves:
        kept = "with respondents' scores" if w.has_respondents else "without respondents' scores"
        click.echo(f"recorded {w.org_id} wave {w.label} ({w.date}, {w.n} respondents, {kept})")
    click.echo(f"{summary.waves} wave(s) recorded{replaced} in {history_path}", err=True)


@history_group.command("list")
@click.option("--history", "history_path", required=True, type=click.Path(dir_okay=False), help="History file.")
@click.option("--org", "org_id", help="One organization only.")
def history_list_cmd(history_path: str, org_id: str | None) -> None:
    """List the recorded waves: organization, wave, date, respondents, overall score."""
    from rich.console import Console

    from ..io.history_store import HistoryStore
    from ..report.terminal import history_view

    frame = HistoryStore(history_path).waves(org_id)
    if frame.empty:
        click.echo(f"no waves recorded{f' for {org_id}' if org_id else ''} in {history_path}")
        return
    Console(width=max(Console().width, 100)).print(history_view(frame))
    click.echo(f"{len(frame)} wave(s) of {frame['org_id'].nunique()} organization(s)")


@history_group.command("remove")
@click.option("--history", "history_path", required=True, type=click.Path(dir_okay=False), help="History file.")
@click.option("--org", "org_id", required=True, help="Organization id.")
@click.option("--wave", help="The wave to remove.")
@click.option("--all-waves", is_flag=True, help="Remove every wave of the organization.")
def history_remove_cmd(history_path: str, org_id: str, wave: str | None, all_waves: bool) -> None:
    """Remove one wave of an organization (or, with --all-waves, all of them)."""
    from ..io.history_store import HistoryStore

    if bool(wave) == all_waves:
        raise InputError("give either --wave or --all-waves", source="command line")
    removed = HistoryStore(history_path).remove(org_id, None if all_waves else wave)
    if not removed:
        raise InputError(
            f"organization {org_id!r} has no {'wave ' + repr(wave) if wave else 'waves'} in this history",
            source=Path(history_path).name,
        )
    click.echo(f"removed {removed} wave(s) of {org_id} from {history_path}")


@cli.command("compare")
@click.option("--history", "history_path", required=True, type=click.Path(dir_okay=False), help="History file.")
@click.option("--org", "org_id", required=True, help="Organization id.")
@click.option("--from", "from_wave", help="The earlier wave (default: the one before --to).")
@click.option("--to", "to_wave", help="The later wave (default: the last one).")
@click.option(
    "--roadmap",
    type=click.Path(dir_okay=False),
    help="The earlier wave's roadmap.xlsx as the client filled it in (its Status column).",
)
@click.option(
    "--playbook", "playbook_path", type=click.Path(dir_okay=False), help="Action playbook for the next roadmap."
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the comparison document here.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Write the progress report here: compare.json, progress.html, progress.ipynb, the next roadmap.",
)
@click.option("--pdf", is_flag=True, help="Also write progress.pdf (with --out; needs the Debian chromium package).")
@click.option("--seed", default=defaults.SEED, show_default=True, help="Seed for the bootstrap intervals.")
@click.option(
    "--bootstrap", "n_boot", default=defaults.N_BOOT, show_default=True, help="Bootstrap resamples of each wave."
)
@click.option("--quiet", is_flag=True, help="Do not print the tables.")
def compare_cmd(
    history_path: str,
    org_id: str,
    from_wave: str | None,
    to_wave: str | None,
    roadmap: str | None,
    playbook_path: str | None,
    json_out: str | None,
    out_dir: str | None,
    pdf: bool,
    seed: int,
    n_boot: int,
    quiet: bool,
) -> None:
    """Change between two waves of one organization, with 95% intervals, and progress on the roadmap."""
    from rich.console import Console

    from ..io.comparison import compare_waves
    from ..io.exporters import write_json
    from ..report.terminal import comparison_view

    if pdf and not out_dir:
        raise InputError("--pdf needs --out", source="command line")
    if not Path(history_path).exists():
        raise InputError("history file not found", source=history_path)
    doc = compare_waves(
        history_path,
        org_id,
        from_wave=from_wave,
        to_wave=to_wave,
        roadmap=roadmap,
        playbook=playbook_path,
        n_boot=n_boot,
        seed=seed,
    )
    if not quiet:
        Console(width=max(Console().width, 100)).print(comparison_view(doc))
    if json_out:
        write_json(json_out, doc)
        click.echo(f"wrote {json_out}", err=True)
    if out_dir:
        from ..report.folder import build_progress

        for path in build_progress(doc, out_dir, pdf=pdf):
            click.echo(f"  {path.resolve()}")


@cli.command("workshop")
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option(
    "--session",
    default="workshop",
    show_default=True,
    help="Session name; reopening a session shows every answer given in it.",
)
@click.option(
    "--store",
    default="workshop.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Session store (DuckDB file); every answer is saved to it at once.",
)
@click.option(
    "--org",
    "org_id",
    help="Organization id stored with each respondent (default: the session's, else the session name).",
)
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
def workshop_cmd(port: int, session: str, store: str, org_id: str | None, instrument_path: str | None) -> None:
    """Live intake app on localhost (Voila): answers saved at once, live scores; Ctrl-C stops it."""
    import importlib.util

    from ..io.loaders import instrument_path as instrument_file
    from ..io.session_store import SessionStore
    from .local_server import free_port, serve
    from .workshop import voila_command

    if importlib.util.find_spec("voila") is None:
        raise ReadinessError("the workshop app needs Voila: pip install voila")
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port number (1-65535, or 0 for a free one)", source="command line")
    inst = _instrument(instrument_path)
    store_path = Path(store).resolve()
    # Opened here, before the server starts, so a wrong store or session is one line now
    # rather than an error page later.
    info = SessionStore(store_path).open_session(session, inst, org_id=org_id)
    port = port or free_port()
    argv, env = voila_command(
        port=port,
        session=info.session,
        store=store_path,
        org_id=info.org_id,
        instrument=instrument_file(instrument_path).resolve() if instrument_path else None,
    )
    click.echo(f"Workshop running at http://127.0.0.1:{port}/ (session {info.session}, answers saved to {store_path})")
    click.echo("Open the address in a browser; each page load is one intake form. Press Ctrl-C to stop.")
    code = serve(argv, env)
    if code:
        raise ReadinessError(f"the Voila server stopped with status {code}")


@cli.command("template")
@click.option(
    "--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML, or a bundled one's name."
)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Workbook to write (.xlsx).")
@click.option("--rows", default=100, show_default=True, help="Answer rows to prepare (one per respondent).")
@click.option("--org", "org_id", default="", help="Organization id the drop-down offers (default: free text).")
def template_cmd(instrument_path: str | None, out_file: str, rows: int, org_id: str) -> None:
    """Fill-in questionnaire workbook (drop-downs of the answer labels); validate/score/assess read it back."""
    from ..io.session_store import check_name
    from ..io.workbook import MAX_ROWS, write_template

    if Path(out_file).suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", source=out_file)
    if not 1 <= rows <= MAX_ROWS:
        raise InputError(f"--rows must be between 1 and {MAX_ROWS}", source="command line")
    org = check_name(org_id, "org_id", source="command line") if org_id else ""
    inst = _instrument(instrument_path)
    write_template(out_file, inst, rows=rows, org_id=org)
    click.echo(f"wrote {out_file}: {len(inst.items)} questions, {rows} answer rows (sheet 'Responses')")


@cli.command("notebooks")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace notebooks already in FOLDER (they may hold your edits).")
def notebooks_cmd(folder: str, force: bool) -> None:
    """Copy the notebook suite (report, portfolio, workshop intake) into FOLDER to open and edit."""
    from .lab import copy_notebooks

    copied, kept = copy_notebooks(folder, overwrite=force)
    for path in copied:
        click.echo(f"  copied {path}")
    for path in kept:
        click.echo(f"  kept   {path} (already there; --force replaces it)")
    click.echo(f"Open them in JupyterLab: readiness lab {folder}")


@cli.command("lab")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address instead.")
def lab_cmd(folder: str | None, port: int, no_browser: bool) -> None:
    """JupyterLab on the notebook suite in FOLDER (default: ./readiness-notebooks), copied there if missing."""
    from .lab import DEFAULT_FOLDER, copy_notebooks, lab_command
    from .local_server import free_port, serve

    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port number (1-65535, or 0 for a free one)", source="command line")
    folder = folder or DEFAULT_FOLDER
    port = port or free_port()
    argv = lab_command(folder, port=port, open_browser=not no_browser)  # fails before copying without JupyterLab
    copied, _ = copy_notebooks(folder)
    if copied:
        click.echo(f"copied the notebook suite into {Path(folder).resolve()}")
    click.echo(f"JupyterLab on {Path(folder).resolve()} at http://127.0.0.1:{port}/lab (Ctrl-C stops it)")
    code = serve(argv, os.environ)
    if code:
        raise ReadinessError(f"JupyterLab stopped with status {code}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and turn known errors into one line and an exit status."""
    try:
        # Without standalone mode click returns the exit code of a ctx.exit() / Exit.
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="readiness", standalone_mode=False)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        # One line, as every other error: a usage error says where the help is.
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if isinstance(exc, click.UsageError) and ctx else ""
        click.echo("error: " + " ".join(exc.format_message().split()) + hint, err=True)
        return exc.exit_code
    except ReadinessError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for debugging
        if os.environ.get("READINESS_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set READINESS_DEBUG=1 for details)", err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
