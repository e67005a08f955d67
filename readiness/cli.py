"""The ``readiness`` command line: one command, subcommands, one error boundary.

Exit status: 0 ok, 1 failure, 2 bad input. Errors are printed as one line on stderr;
a traceback is shown only with ``READINESS_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from .errors import InputError, ReadinessError

__all__ = ["main", "cli"]

BUNDLED = Path(__file__).resolve().parent.parent / "data"


def _instrument(path: str | None):
    from .loaders import load_instrument

    return load_instrument(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="readiness")
def cli() -> None:
    """How ready is a contact center to add selling to service? Score, benchmark, plan."""


@cli.command("instrument")
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML (default: bundled).")
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


@cli.command("validate")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
@click.option("--profiles", type=click.Path(dir_okay=False), help="Organization profiles file.")
def validate_cmd(responses: str, instrument_path: str | None, profiles: str | None) -> None:
    """Check a responses file (and profiles); list every problem found."""
    from .loaders import validate_files

    inst = _instrument(instrument_path)
    problems, parsed, _ = validate_files(responses, inst, profiles)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        if p.severity == "warning":
            click.echo(f"warning: {p}", err=True)
    if errors:
        for p in errors:
            click.echo(f"error: {p}", err=True)
        raise click.exceptions.Exit(2)
    assert parsed is not None
    n_orgs = len(parsed.org_ids)
    click.echo(f"valid: {len(parsed)} respondents, {n_orgs} organization{'s' if n_orgs != 1 else ''}")


def _load_inputs(responses: str, instrument_path: str | None, profiles: str | None):
    from .loaders import load_profiles, load_responses

    inst = _instrument(instrument_path)
    parsed = load_responses(responses, inst)
    prof = load_profiles(profiles) if profiles else None
    return inst, parsed, prof


def _pick_orgs(parsed, org: str | None, source: str) -> list[str]:
    if org is None:
        return list(parsed.org_ids)
    if org not in parsed.org_ids:
        raise InputError(f"organization {org!r} has no respondents in this file", source=source, column="org_id")
    return [org]


def _target(value: str | None, inst):
    """``--target``: a number (fixed level for every facet) or a target profile file."""
    from .loaders import load_targets

    if value is None:
        return None
    try:
        level = float(value)
    except ValueError:
        return load_targets(value, inst)
    if not 0 <= level <= 100:
        raise InputError(f"--target {level:g} is outside 0..100", source="command line")
    return level


def _options(seed: int, n_boot: int, k: int, target, capacity: tuple[float, ...] | None):
    from .assessment import Options
    from .benchmark import MIN_K
    from .roadmap import PlanOptions

    if k < MIN_K:
        raise InputError(f"--k {k} is below {MIN_K}: smaller peer groups could expose a peer", source="command line")
    plan = PlanOptions() if not capacity else PlanOptions(capacity={i + 1: c for i, c in enumerate(capacity)})
    return Options(seed=seed, n_boot=n_boot, k=k, target=target, plan=plan)


def _assess(responses: str, *, org: str | None, instrument_path: str | None, profiles: str | None,
            peers: str | None, playbook_path: str | None, options):
    """Load everything, run the assessment, return (documents, instrument)."""
    from .assessment import PeerPanel, assess
    from .loaders import load_playbook, load_references

    inst, parsed, prof = _load_inputs(responses, instrument_path, profiles)
    orgs = _pick_orgs(parsed, org, Path(responses).name)
    panel = None
    if peers:
        from .store import load_peer_data

        peer_responses, peer_profiles = load_peer_data(peers, inst)
        panel = PeerPanel.build(peer_responses, peer_profiles)
    book, note = _playbook(inst, playbook_path)
    docs = assess(parsed, profiles=prof, peers=panel, playbook=book, references=load_references(),
                  orgs=orgs, options=options)
    if note:
        for doc in docs.values():
            doc["warnings"].append(note)
    return docs, inst


def _playbook(inst, path: str | None):
    """The playbook to plan with, and a warning when the bundled one does not fit the instrument."""
    from .loaders import load_playbook

    if path is not None:
        return load_playbook(inst, path), None
    try:
        return load_playbook(inst), None
    except InputError:
        return None, ("no roadmap: the bundled playbook does not fit this instrument's facets; "
                      "give one with --playbook")


def _write_outputs(folder: Path, doc) -> list[Path]:
    from .exporters import write_json, write_roadmap_csv, write_roadmap_xlsx

    written = [write_json(folder / "results.json", doc)]
    if doc.get("roadmap"):
        written.append(write_roadmap_xlsx(folder / "roadmap.xlsx", doc["roadmap"],
                                          title=f"Roadmap: {doc['organization']['name']}"))
        written.append(write_roadmap_csv(folder / "roadmap.csv", doc["roadmap"]))
    return written


_common_assess_options = [
    click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML."),
    click.option("--profiles", type=click.Path(dir_okay=False), help="Organization profiles file."),
    click.option("--peers", type=click.Path(dir_okay=False),
                 help="Peer data: a DuckDB peer database, or a responses file with <stem>.profiles beside it."),
    click.option("--playbook", "playbook_path", type=click.Path(dir_okay=False), help="Action playbook YAML."),
    click.option("--k", default=5, show_default=True, help="Smallest peer group shown (at least 3)."),
    click.option("--target", help="Roadmap target: a level 0-100 for every facet, or a target profile file "
                                  "(default: the peer group's top quartile)."),
    click.option("--capacity", type=float, multiple=True,
                 help="Effort points per phase, repeat for phases 1, 2, 3 (default 8, 10, 16)."),
    click.option("--seed", default=0, show_default=True, help="Seed for the bootstrap intervals."),
    click.option("--bootstrap", "n_boot", default=1000, show_default=True, help="Bootstrap resamples (0: none)."),
]


def _with_options(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


@cli.command("score")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--org", help="Organization id (default: every organization in the file).")
@_with_options(_common_assess_options)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write results.json here (one organization).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write results.json (and roadmap.xlsx/csv) per organization into this folder.")
@click.option("--quiet", is_flag=True, help="Do not print the tables.")
def score_cmd(responses: str, org: str | None, instrument_path: str | None, profiles: str | None,
              peers: str | None, playbook_path: str | None, k: int, target: str | None,
              capacity: tuple[float, ...], seed: int, n_boot: int, json_out: str | None, out_dir: str | None,
              quiet: bool) -> None:
    """Score organizations: results.json without notebooks (benchmark and roadmap with --peers)."""
    from .console import print_results
    from .exporters import org_folder, write_json

    inst = _instrument(instrument_path)
    options = _options(seed, n_boot, k, _target(target, inst), capacity)
    if json_out and org is None:
        # decide before the work: --json takes one organization
        from .loaders import load_responses

        n = len(load_responses(responses, inst).org_ids)
        if n > 1:
            raise InputError(f"the file holds {n} organizations; choose one with --org, or use --out DIR",
                             source=Path(responses).name, column="org_id")
    docs, _ = _assess(responses, org=org, instrument_path=instrument_path, profiles=profiles, peers=peers,
                      playbook_path=playbook_path, options=options)
    for org_id, doc in docs.items():
        if not quiet:
            print_results(doc)
        if json_out:
            write_json(json_out, doc)
        if out_dir:
            folder = Path(out_dir) if len(docs) == 1 else Path(out_dir) / org_folder(org_id)
            _write_outputs(folder, doc)
    if json_out:
        click.echo(f"wrote {json_out}", err=True)
    if out_dir:
        click.echo(f"wrote results for {len(docs)} organization(s) under {out_dir}", err=True)


@cli.command("demo")
@click.option("--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False),
              help="Output folder.")
def demo_cmd(out_dir: str) -> None:
    """Assess the bundled example center against the bundled peer panel."""
    from .console import print_results

    examples = BUNDLED / "examples"
    options = _options(0, 1000, 5, None, None)
    docs, _ = _assess(str(examples / "responses.csv"), org=None, instrument_path=None,
                      profiles=str(examples / "profiles.csv"), peers=str(BUNDLED / "peers" / "panel.csv"),
                      playbook_path=None, options=options)
    for doc in docs.values():
        print_results(doc)
        written = _write_outputs(Path(out_dir), doc)
        click.echo("\nWritten:")
        for path in written:
            click.echo(f"  {path.resolve()}")


@cli.command("panel")
@click.option("--orgs", "n_orgs", default=400, show_default=True, help="Number of peer organizations.")
@click.option("--seed", default=2007, show_default=True, help="Random seed.")
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
              help="Responses file to write (.csv or .parquet); profiles go beside it as <stem>.profiles.<ext>, "
                   "or a .duckdb peer database.")
def panel_cmd(n_orgs: int, seed: int, instrument_path: str | None, out_file: str) -> None:
    """Generate the synthetic peer panel (documented latent-trait model)."""
    from .exporters import write_table
    from .panel import generate_panel
    from .store import profiles_path_for

    if n_orgs < 1:
        raise InputError("--orgs must be at least 1", source="command line")
    inst = _instrument(instrument_path)
    responses, profiles = generate_panel(inst, n_orgs=n_orgs, seed=seed)
    out = Path(out_file)
    if out.suffix.lower() in (".duckdb", ".db", ".ddb"):
        from .loaders import Table, parse_profiles, parse_responses
        from .store import PeerStore

        parsed = parse_responses(_as_table(responses, out.name), inst)
        prof = parse_profiles(_as_table(profiles, out.name))
        summary = PeerStore(out).import_responses(parsed, prof, source=f"readiness panel --seed {seed}")
        click.echo(f"wrote {summary.organizations} organizations, {summary.respondents} respondents to {out}")
        return
    write_table(out, responses)
    write_table(profiles_path_for(out), profiles)
    click.echo(f"wrote {len(profiles)} organizations, {len(responses)} respondents to {out} "
               f"and {profiles_path_for(out)}")


def _as_table(frame, source: str):
    import numpy as np

    from .loaders import Table, _cell_text

    cells = frame.map(_cell_text).astype(object)
    return Table(source, [str(c) for c in frame.columns], cells.reset_index(drop=True),
                 np.arange(2, len(frame) + 2))


@cli.group("peers")
def peers_group() -> None:
    """Manage a peer database (DuckDB, one file)."""


@peers_group.command("import")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--profiles", required=True, type=click.Path(dir_okay=False), help="Profiles of the peer organizations.")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Peer database file.")
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
def peers_import_cmd(responses: str, profiles: str, db_path: str, instrument_path: str | None) -> None:
    """Import peer responses and profiles (re-importing an organization replaces it)."""
    from .store import PeerStore

    inst, parsed, prof = _load_inputs(responses, instrument_path, profiles)
    summary = PeerStore(db_path).import_responses(parsed, prof, source=Path(responses).name)
    click.echo(f"imported {summary.organizations} organizations ({summary.replaced} replaced), "
               f"{summary.respondents} respondents, {summary.answers} answers into {db_path}")


@peers_group.command("describe")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Peer database file.")
def peers_describe_cmd(db_path: str) -> None:
    """Counts of peer organizations by industry, size band and stage."""
    from rich.console import Console
    from rich.table import Table as RichTable

    from .store import PeerStore

    counts = PeerStore(db_path, read_only=True).describe()
    table = RichTable(title=f"Peer organizations in {Path(db_path).name}", title_justify="left")
    for col in counts.columns:
        table.add_column(str(col), justify="right" if counts[col].dtype.kind in "iuf" else "left")
    for row in counts.itertuples(index=False):
        table.add_row(*("–" if v is None else str(v) for v in row))
    Console().print(table)
    click.echo(f"{int(counts['organizations'].sum())} organizations, {int(counts['respondents'].sum())} respondents")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and turn known errors into one line and an exit status."""
    try:
        # Without standalone mode click returns the exit code of a ctx.exit() / Exit.
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="readiness",
                        standalone_mode=False)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
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
