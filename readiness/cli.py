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


def _score_all(inst, parsed, prof, orgs, *, seed: int, n_boot: int) -> list[dict[str, Any]]:
    from .results import build_results
    from .scoring import score

    scores = score(parsed, n_boot=n_boot, seed=seed, orgs=orgs)
    out = []
    for org_id in orgs:
        profile = prof.loc[org_id].to_dict() if prof is not None and org_id in prof.index else None
        warnings = list(parsed.warnings)
        if prof is not None and profile is None:
            warnings.append(f"no profile for organization {org_id!r}: it cannot be benchmarked")
        out.append(build_results(scores, org_id, inst, profile=profile, warnings=warnings))
    return out


@cli.command("score")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--org", help="Organization id (default: every organization in the file).")
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False), help="Instrument YAML.")
@click.option("--profiles", type=click.Path(dir_okay=False), help="Organization profiles file.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write results.json here (one organization).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write results per organization into this folder.")
@click.option("--seed", default=0, show_default=True, help="Seed for the bootstrap intervals.")
@click.option("--bootstrap", "n_boot", default=1000, show_default=True, help="Bootstrap resamples (0: no intervals).")
@click.option("--quiet", is_flag=True, help="Do not print the tables.")
def score_cmd(responses: str, org: str | None, instrument_path: str | None, profiles: str | None,
              json_out: str | None, out_dir: str | None, seed: int, n_boot: int, quiet: bool) -> None:
    """Score organizations: results.json without notebooks."""
    from .console import print_results
    from .exporters import org_folder, write_json

    inst, parsed, prof = _load_inputs(responses, instrument_path, profiles)
    orgs = _pick_orgs(parsed, org, Path(responses).name)
    if json_out and len(orgs) > 1:
        raise InputError(f"the file holds {len(orgs)} organizations; choose one with --org, or use --out DIR",
                         source=Path(responses).name, column="org_id")
    documents = _score_all(inst, parsed, prof, orgs, seed=seed, n_boot=n_boot)
    for doc in documents:
        if not quiet:
            print_results(doc)
        if json_out:
            write_json(json_out, doc)
        if out_dir:
            folder = Path(out_dir) if len(orgs) == 1 else Path(out_dir) / org_folder(doc["organization"]["id"])
            write_json(folder / "results.json", doc)
    if json_out:
        click.echo(f"wrote {json_out}", err=True)
    if out_dir:
        click.echo(f"wrote results for {len(documents)} organization(s) under {out_dir}", err=True)


@cli.command("demo")
@click.option("--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False),
              help="Output folder.")
def demo_cmd(out_dir: str) -> None:
    """Score the bundled example organization and write its results."""
    from .console import print_results
    from .exporters import write_json

    examples = BUNDLED / "examples"
    inst, parsed, prof = _load_inputs(str(examples / "responses.csv"), None, str(examples / "profiles.csv"))
    (doc,) = _score_all(inst, parsed, prof, list(parsed.org_ids)[:1], seed=0, n_boot=1000)
    print_results(doc)
    path = write_json(Path(out_dir) / "results.json", doc)
    click.echo(f"\nResults written to {path.resolve()}")


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
