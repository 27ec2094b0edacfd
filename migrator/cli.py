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
from migrator.init import describe_pairs
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


def _open(config_path: Path, writer: str | None = None) -> tuple[Config, Staging]:
    """Config and staging; a WRITER command (extract, plan, load, rollback) runs alone."""
    config = load_config(config_path)
    staging = Staging(config.staging_url, password=config.staging_password)
    # Connections to a staging server are closed when the command ends, however it ends.
    click.get_current_context().call_on_close(staging.close)
    if writer is not None:
        staging.claim(writer)
    return config, staging


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


@main.command(epilog="\b\nPairs (--source -> --target):\n  " + "\n  ".join(describe_pairs()))
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
    """Write a commented migration.toml and a mapping to start from, for a pair below.

    The mapping is the example shipped for the pair (mappings/ in the project);
    migration.toml holds every setting of that source and target, explained, the
    required ones with placeholders to replace.  --source csv covers Excel
    workbooks too (type = "xlsx").  Existing files are left alone unless --force.

    \b
    Example:
      migrator init --source roundup --target redmine --dir roundup-migration
    """
    from migrator.init import init as do_init

    done = do_init(directory, source, target, force=force)
    for path in done.files:
        click.echo(f"wrote {path}")
    click.echo("next:")
    for number, step in enumerate(done.steps, 1):
        click.echo(f"  {number}. {step}")


@main.command()
@config_option
@quiet_option
@click.option(
    "--since",
    metavar="TIME",
    help="Only tickets updated at or after TIME: 2024-05-01 or 2024-05-01T09:30:00+09:00 (UTC "
    "when no zone is given).",
)
@click.option("--full", is_flag=True, help="Read every ticket, ignoring the stored cursor.")
@click.option("--ids", metavar="LIST", help="Only these ticket ids, e.g. 1,2,5-9.")
@click.option(
    "--project",
    metavar="NAME",
    help="Only this project (Redmine: its identifier; Trac: the environment's name).",
)
@handle_errors
def extract(
    config_path: Path,
    quiet: bool,
    since: str | None,
    full: bool,
    ids: str | None,
    project: str | None,
) -> None:
    """Copy tickets from the old tracker into staging (incremental, resumable).

    After a complete extract, a plain rerun reads only tickets updated since the
    previous one (--full reads everything again); new, changed and unchanged
    tickets are counted, and unchanged ones are left as they are.  A killed
    extract continues after its last committed page when rerun with the same
    options.  --ids and --project extract part of the source and leave the
    cursor where it is.

    \b
    Example:
      migrator extract -c migration.toml
      migrator extract --since 2024-05-01
      migrator extract --ids 1,2,5-9
    """
    from migrator.extract import extract_configured, make_meter, parse_since
    from migrator.trackers import IdSet

    config, staging = _open(config_path, "extract")
    summary = extract_configured(
        config,
        staging,
        make_meter(quiet),
        since=parse_since(since) if since is not None else None,
        full=full,
        ids=IdSet.parse(ids) if ids is not None else None,
        project=project,
    )
    if summary.resumed_from is not None:
        _say(quiet, f"resumed an interrupted extract after checkpoint {summary.resumed_from}")
    _say(quiet, f"{summary.source}: {summary.scope}")
    _say(quiet, summary.line())
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@click.option("--offline", is_flag=True, help="Do not contact the target.")
@handle_errors
def check(config_path: Path, as_json: bool, offline: bool) -> None:
    """Check the mapping against the staged tickets and the target, before planning.

    Lists every source value with its count and what it becomes, unmapped values,
    unmapped users (most active first), fields that would be lost or are dropped,
    the target's limits, and names the target does not have.  Exits 1 when
    something blocks.

    \b
    Example:
      migrator check
    """
    from dataclasses import asdict

    from migrator.mapping import load_mapping
    from migrator.mapping.check import check as do_check
    from migrator.mapping.check import format_report
    from migrator.trackers import make_target

    config, staging = _open(config_path)
    mapping = load_mapping(config.mapping_path)
    target = None if offline else make_target(config)
    try:
        report = do_check(staging, mapping, target)
    finally:
        if target is not None:
            target.close()
    if as_json:
        click.echo(json.dumps({**asdict(report), "blocking": report.blocking}, ensure_ascii=False))
    else:
        click.echo(format_report(report), nl=False)
    if report.blocking:
        sys.exit(1)


@main.command()
@config_option
@quiet_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the plan summary (and the comparison) as JSON."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the dry-run comparison to FILE: .html, .md or .json (relative to the config file).",
)
@click.option(
    "--show",
    multiple=True,
    metavar="ID",
    help="Preview this ticket in the report: source id or origin key (repeatable).",
)
@click.option(
    "--compare",
    "compare_id",
    type=int,
    metavar="PLAN_ID",
    help="Show what changed since plan PLAN_ID; exit 1 if anything did.",
)
@click.option(
    "--against",
    "against_id",
    type=int,
    metavar="PLAN_ID",
    help="With --compare: compare with this stored plan instead of planning now.",
)
@handle_errors
def plan(
    config_path: Path,
    quiet: bool,
    as_json: bool,
    report_path: Path | None,
    show: tuple[str, ...],
    compare_id: int | None,
    against_id: int | None,
) -> None:
    """Dry run: compute every payload the loader will send; write nothing to the target.

    Exits 1 and stores nothing when a source value has no mapping, listing each
    value with its count and an example ticket.  With --compare it prints what
    changed since an earlier plan and exits 1 when anything did, 0 when nothing
    did, so a script can gate on a mapping edit.

    \b
    Example:
      migrator plan --report dry-run.html --show 12
      migrator plan --compare 3
    """
    from migrator.mapping import load_mapping
    from migrator.plan import plan as do_plan
    from migrator.plan.compare import compare_plans, format_comparison
    from migrator.plan.report import build_dry_run, report_format, write_dry_run

    if show and report_path is None:
        raise click.UsageError("--show needs --report FILE")
    if against_id is not None and compare_id is None:
        raise click.UsageError("--against needs --compare PLAN_ID")
    if report_path is not None:
        report_format(report_path)  # a wrong suffix fails before anything is planned
    config, staging = _open(config_path, "plan")
    out: dict[str, Any] = {}
    mapping = None
    plan_id = against_id
    if plan_id is None:
        mapping = load_mapping(config.mapping_path)
        summary = do_plan(staging, mapping, make_progress(quiet or as_json))
        plan_id = summary.plan_id
        out = {"plan_id": summary.plan_id, **summary.as_dict()}
        if not as_json:
            _say(quiet, summary.line())
            if not quiet:
                for kind, n in summary.warnings.items():
                    click.echo(f"  warning {kind}: {n} ticket(s)")
                for name, n in summary.dropped.items():
                    click.echo(f"  not migrated: {name} on {n} ticket(s) (not in the mapping)")
    if report_path is not None:
        path = report_path if report_path.is_absolute() else config.base / report_path
        data = build_dry_run(staging, plan_id, list(show), mapping=mapping)
        write_dry_run(data, path)
        for ident in data["not_found"]:
            click.echo(f"warning: --show {ident}: no such ticket in plan {plan_id}", err=True)
        if not as_json:
            _say(quiet, f"wrote {path}")
    comparison = None if compare_id is None else compare_plans(staging, compare_id, plan_id)
    if as_json:
        if comparison is not None:
            out["comparison"] = comparison.as_dict()
        click.echo(json.dumps(out, ensure_ascii=False))
    elif comparison is not None:
        click.echo(format_comparison(comparison), nl=False)
    if comparison is not None and comparison.has_differences:
        sys.exit(1)


@main.command()
@config_option
@quiet_option
@click.option("--retry-failed", is_flag=True, help="Try tickets and comments that failed before.")
@click.option("--limit", type=click.IntRange(min=1), help="Load at most N tickets.")
@click.option("--batch", "batch", metavar="NAME", help="Load only this batch (see `batch create`).")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=32),
    help="Tickets loaded side by side, a session each (default: [load] workers, or 1).",
)
@handle_errors
def load(
    config_path: Path,
    quiet: bool,
    retry_failed: bool,
    limit: int | None,
    batch: str | None,
    workers: int | None,
) -> None:
    """Create the planned tickets in the target, exactly once (resumable).

    A rerun continues where the last one stopped and never creates a ticket or
    comment twice; after a complete load it sends nothing.  Exits 1 if any
    ticket failed (see `migrator status`).

    \b
    Example:
      migrator load --batch pilot
    """
    from migrator.load import load as do_load
    from migrator.trackers import make_target
    from migrator.trackers.settings import transport

    config, staging = _open(config_path, "load")
    # One governor for every worker: the target's limit is per client, not per session.
    governor = transport(config.target, "[target]").governor
    target = make_target(config, governor=governor)
    try:
        summary = do_load(
            staging,
            target,
            make_progress(quiet),
            retry_failed=retry_failed,
            limit=limit,
            batch=batch,
            workers=workers or config.workers,
            target_factory=lambda: make_target(config, governor=governor),
            settle=config.settle_seconds,
            chunk_size=config.batch_size,
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


@main.group()
def batch() -> None:
    """Named selections of tickets to load in stages: a pilot first, then the rest.

    \b
    Example:
      migrator batch create pilot --where "component = 'core'" --limit 50
      migrator load --batch pilot
    """


@batch.command("create")
@click.argument("name")
@config_option
@click.option("--where", help="Filter, e.g. \"project = 'core' and status != 'closed'\".")
@click.option(
    "--ids",
    "ids_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File with one source id or origin key per line.",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N tickets.")
@handle_errors
def batch_create(
    name: str, config_path: Path, where: str | None, ids_file: Path | None, limit: int | None
) -> None:
    """Create a batch from staged tickets that are in no batch yet.

    Fields for --where: id, project, type, status, resolution, priority,
    severity, reporter, assignee, milestone, version, component, label,
    created, updated, closed, title, custom.NAME; operators = != < <= > >=,
    in (...), not in (...), like '%x%', is [not] null; and, or, not, ( ).

    \b
    Example:
      migrator batch create pilot --where "component = 'core'" --limit 50
    """
    from migrator.load.batches import create_batch

    _, staging = _open(config_path)
    info = create_batch(staging, name, where=where, ids_file=ids_file, limit=limit)
    click.echo(f"batch {info.name}: {info.tickets} tickets")


@batch.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@handle_errors
def batch_list(config_path: Path, as_json: bool) -> None:
    """List batches with their ticket counts by load state.

    \b
    Example:
      migrator batch list
    """
    from dataclasses import asdict

    from migrator.load.batches import list_batches

    _, staging = _open(config_path)
    batches = list_batches(staging)
    if as_json:
        click.echo(json.dumps([asdict(b) for b in batches], ensure_ascii=False))
        return
    for b in batches:
        states = ", ".join(f"{n} {k}" for k, n in sorted(b.states.items()) if n)
        click.echo(f"{b.name}: {b.tickets} tickets ({states})")


@batch.command("show")
@click.argument("name")
@config_option
@handle_errors
def batch_show(name: str, config_path: Path) -> None:
    """Show one batch: how it was selected and where its tickets stand.

    \b
    Example:
      migrator batch show pilot
    """
    from dataclasses import asdict

    from migrator.load.batches import show_batch

    _, staging = _open(config_path)
    click.echo(json.dumps(asdict(show_batch(staging, name)), ensure_ascii=False, indent=2))


@main.command()
@config_option
@quiet_option
@click.option("--batch", "batch", metavar="NAME", required=True, help="The batch to undo.")
@click.option("--close", is_flag=True, help="Close and unmark instead of deleting.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def rollback(config_path: Path, quiet: bool, batch: str, close: bool, yes: bool) -> None:
    """Remove what a batch created in the target, and only that; its tickets become pending.

    With --close, tickets are closed, noted as rolled back and their origin
    marker cleared (for targets where deleting is not allowed).

    \b
    Example:
      migrator rollback --batch pilot
    """
    from migrator.load.batches import show_batch
    from migrator.load.rollback import rollback as do_rollback
    from migrator.trackers import make_target

    config, staging = _open(config_path, "rollback")
    info = show_batch(staging, batch)
    created = sum(n for k, n in info.states.items() if k != "pending")
    verb = "close" if close else "DELETE"
    if not yes and not click.confirm(
        f"{verb} up to {created} ticket(s) of batch {batch} in {config.target.get('url')}?"
    ):
        raise click.Abort()
    target = make_target(config)
    try:
        summary = do_rollback(staging, target, batch, make_progress(quiet), close=close)
    finally:
        target.close()
    _say(quiet, summary.line())


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
    from migrator.trackers import make_target
    from migrator.verify import verify as do_verify

    config, staging = _open(config_path)
    target = make_target(config)
    try:
        summary = do_verify(staging, target, make_progress(quiet))
    finally:
        target.close()
    _say(quiet, summary.line())
    for d in summary.duplicates:
        click.echo(
            f"duplicate: {d['origin']} exists {len(d['target_ids'])} times in the target "
            f"(ids {', '.join(d['target_ids'])}; staging's is {d['ours']})",
            err=True,
        )
    for o in summary.orphans:
        click.echo(
            f"unknown: target ticket {o['target_id']} is marked {o['origin']}: {o['why']}",
            err=True,
        )
    if summary.failed:
        click.echo(
            f"error: {summary.mismatched} ticket(s) differ from the plan, "
            f"{len(summary.duplicates)} duplicated, {len(summary.orphans)} unknown — "
            "see `migrator report`",
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
    type=click.Choice(["html", "xlsx", "md", "csv", "json"]),
    help="Formats to write (repeatable; default: all).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "ja"]),
    default="en",
    show_default=True,
    help="Language of the labels; ticket text is never translated.",
)
@handle_errors
def report(config_path: Path, out_dir: Path, formats: tuple[str, ...], lang: str) -> None:
    """Write the reconciliation report (HTML, Excel, Markdown, CSV, JSON) from staging.

    Reads staging only: no tracker is contacted and no credential is needed.

    \b
    Example:
      migrator report --lang ja --out reports-ja
    """
    from migrator.reports import FORMATS, build, write_reports

    config, staging = _open(config_path)
    url = config.target.get("url")
    data = build(staging, url if isinstance(url, str) else None)
    folder = out_dir if out_dir.is_absolute() else config.base / out_dir
    for path in write_reports(data, folder, formats or FORMATS, lang):
        click.echo(f"wrote {path}")


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on one line.")
@handle_errors
def estimate(config_path: Path, as_json: bool) -> None:
    """Project how long the remaining load takes, overall and per batch.

    Requests per ticket come from the plan; the rate is the one measured in
    earlier loads (the pilot), else [target] rate_limit, else an assumption.

    \b
    Example:
      migrator estimate
    """
    from dataclasses import asdict

    from migrator.estimate import estimate as do_estimate

    config, staging = _open(config_path)
    rate = config.target.get("rate_limit")
    result = do_estimate(staging, float(rate) if isinstance(rate, int | float) else None)
    if as_json:
        click.echo(json.dumps(asdict(result), ensure_ascii=False))
    else:
        click.echo("\n".join(result.lines()))


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


@main.command()
@config_option
@click.option(
    "--freeze",
    required=True,
    metavar="DATE",
    help="The day the old tracker becomes read-only (YYYY-MM-DD).",
)
@click.option("--start", metavar="DATE", help="The first working day (default: today).")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["md", "xlsx", "ics"]),
    help="Markdown, Excel, iCalendar (repeat; default: all three).",
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.option(
    "--hours-per-day",
    type=float,
    default=8.0,
    show_default=True,
    help="How many hours a working day the target may be loaded.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for schedule-LANG.{md,xlsx,ics}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as one JSON object.")
@handle_errors
def schedule(
    config_path: Path,
    freeze: str,
    start: str | None,
    formats: tuple[str, ...],
    lang: str,
    hours_per_day: float,
    out: Path,
    as_json: bool,
) -> None:
    """Draw up the master schedule up to a freeze date, at the pilot's measured pace.

    Phases (preparation, pilot, batches, weekly delta syncs, freeze and cut-over,
    verification, sign-off) on working days, from the staged batches and the
    rate earlier loads measured ([target] rate_limit or an assumed rate before
    the pilot, said as such).  Says how sure it is: the spread of the measured
    rates gives the earliest and latest end of the batches.

    \b
    Example:
      migrator schedule --freeze 2027-03-01 --lang ja
    """
    from datetime import date

    from migrator.schedule import make_schedule, to_markdown, write

    def day(value: str, option: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
            ) from None

    config, staging = _open(config_path)
    rate = config.target.get("rate_limit")
    result = make_schedule(
        staging,
        day(freeze, "--freeze"),
        start=day(start, "--start") if start else None,
        lang=lang,
        hours_per_day=hours_per_day,
        rate_limit=float(rate) if isinstance(rate, int | float) else None,
    )
    written = write(result, config.resolve(str(out)), formats or ("md", "xlsx", "ics"))
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    click.echo(to_markdown(result), nl=False)
    for path in written:
        click.echo(f"wrote {path}")
