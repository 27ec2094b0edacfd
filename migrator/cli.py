"""The command line: thin click wrappers over the library functions of each stage."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from migrator import __version__
from migrator.config import DEFAULT_CONFIG, Config, load_config
from migrator.errors import MigratorError
from migrator.progress import make_progress
from migrator.staging import Staging

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Expected failures become one clear message and their exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MigratorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "-c",
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    show_default=True,
    envvar="MIGRATOR_CONFIG",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The migration's config file (env MIGRATOR_CONFIG).",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bars or summary.")


def _open(config_path: Path) -> tuple[Config, Staging]:
    config = load_config(config_path)
    return config, Staging(config.staging_url)


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        click.echo(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="migrator")
def main() -> None:
    """Move bug tickets from an old tracker to a new one, exactly once, and prove it.

    \b
    Flow:  init -> extract -> plan -> load -> verify -> report   (status at any time)
    Example:
      migrator init --source trac --target redmine
      migrator extract && migrator plan && migrator load && migrator verify && migrator report
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--source", required=True, help="Old tracker type, e.g. trac.")
@click.option("--target", required=True, help="New tracker type, e.g. redmine.")
@click.option(
    "--dir",
    "directory",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the files.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@handle_errors
def init(source: str, target: str, directory: Path, force: bool) -> None:
    """Write a commented migration.toml and a mapping skeleton.

    \b
    Example:
      migrator init --source trac --target redmine
    """
    from migrator.init import init as do_init

    for path in do_init(directory, source, target, force=force):
        click.echo(f"wrote {path}")
    click.echo("next: edit both files, then run `migrator extract`")


@main.command()
@config_option
@quiet_option
@handle_errors
def extract(config_path: Path, quiet: bool) -> None:
    """Copy tickets from the old tracker into staging (resumable).

    Reruns continue after the last committed page; unchanged tickets are left as they are.

    \b
    Example:
      migrator extract -c migration.toml
    """
    from migrator.connectors import make_source
    from migrator.extract import extract as do_extract
    from migrator.staging.blobs import BlobStore

    config, staging = _open(config_path)
    source = make_source(config)
    try:
        summary = do_extract(staging, source, BlobStore(config.blobs_dir), make_progress(quiet))
    finally:
        source.close()
    _say(quiet, summary.line())
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@config_option
@quiet_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan summary as JSON.")
@handle_errors
def plan(config_path: Path, quiet: bool, as_json: bool) -> None:
    """Dry run: compute every payload the loader will send; write nothing to the target.

    Exits 1 and stores nothing when a source value has no mapping, listing each
    value with its count and an example ticket.

    \b
    Example:
      migrator plan
    """
    from migrator.mapping import load_mapping
    from migrator.plan import plan as do_plan

    config, staging = _open(config_path)
    mapping = load_mapping(config.mapping_path)
    summary = do_plan(staging, mapping, make_progress(quiet or as_json))
    if as_json:
        click.echo(
            json.dumps({"plan_id": summary.plan_id, **summary.as_dict()}, ensure_ascii=False)
        )
        return
    _say(quiet, summary.line())
    if not quiet:
        for kind, n in summary.warnings.items():
            click.echo(f"  warning {kind}: {n} ticket(s)")
        for name, n in summary.dropped.items():
            click.echo(f"  not migrated: {name} on {n} ticket(s) (not in the mapping)")


@main.command()
@config_option
@quiet_option
@click.option("--retry-failed", is_flag=True, help="Try tickets and comments that failed before.")
@click.option("--limit", type=click.IntRange(min=1), help="Load at most N tickets (a pilot).")
@handle_errors
def load(config_path: Path, quiet: bool, retry_failed: bool, limit: int | None) -> None:
    """Create the planned tickets in the target, exactly once (resumable).

    A rerun continues where the last one stopped and never creates a ticket or
    comment twice; after a complete load it sends nothing.  Exits 1 if any
    ticket failed (see `migrator status`).

    \b
    Example:
      migrator load
    """
    from migrator.connectors import make_target
    from migrator.load import load as do_load

    config, staging = _open(config_path)
    target = make_target(config)
    try:
        summary = do_load(
            staging, target, make_progress(quiet), retry_failed=retry_failed, limit=limit
        )
    finally:
        target.close()
    _say(quiet, summary.line())
    if summary.tickets_failed:
        click.echo(
            f"error: {summary.tickets_failed} ticket(s) failed — see `migrator status`, fix, "
            "then `migrator load --retry-failed`",
            err=True,
        )
        sys.exit(1)


@main.command()
@config_option
@quiet_option
@handle_errors
def verify(config_path: Path, quiet: bool) -> None:
    """Read every loaded ticket back from the target and compare it with the plan.

    Exits 1 when any ticket differs.

    \b
    Example:
      migrator verify
    """
    from migrator.connectors import make_target
    from migrator.verify import verify as do_verify

    config, staging = _open(config_path)
    target = make_target(config)
    try:
        summary = do_verify(staging, target, make_progress(quiet))
    finally:
        target.close()
    _say(quiet, summary.line())
    if summary.mismatched:
        click.echo(
            f"error: {summary.mismatched} ticket(s) differ from the plan — see `migrator report`",
            err=True,
        )
        sys.exit(1)


@main.command()
@config_option
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the reports (relative to the config file).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["md", "html"]),
    help="Formats to write (default: all).",
)
@handle_errors
def report(config_path: Path, out_dir: Path, formats: tuple[str, ...]) -> None:
    """Write the reconciliation report (Markdown and HTML) from staging.

    \b
    Example:
      migrator report --out reports
    """
    from migrator.reports import build, write_reports
    from migrator.reports.reconciliation import FORMATS

    config, staging = _open(config_path)
    url = config.target.get("url")
    data = build(staging, url.rstrip("/") if isinstance(url, str) else None)
    folder = out_dir if out_dir.is_absolute() else config.base / out_dir
    for path in write_reports(data, folder, formats or FORMATS):
        click.echo(f"wrote {path}")


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on one line.")
@handle_errors
def status(config_path: Path, as_json: bool) -> None:
    """Show counts from staging: extracted, planned, loaded, verified, failed.

    \b
    Example:
      migrator status --json
    """
    from migrator.status import status as get_status
    from migrator.status import status_lines

    _, staging = _open(config_path)
    data = get_status(staging)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
    else:
        click.echo("\n".join(status_lines(data)))
