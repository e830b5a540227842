"""``archive recover``: clean up after a crash (``archive worker`` runs the same pass when it starts).

Importing this module registers the command on the ``archive`` group (``archive.core.cli`` imports it once).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from archive.core.cli import archive_group


@archive_group.command("recover")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option(
    "--older-than",
    "grace_minutes",
    type=click.FloatRange(min=0),
    default=None,
    help="Grace period in minutes for unreferenced files (default: ORPHAN_GRACE_MINUTES).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def recover_command(dry_run: bool, grace_minutes: float | None, as_json: bool) -> None:
    """Remove what crashed processes left behind (unreferenced originals, temporary files, orphan
    derivatives, expired uploads, a dead writer's index lock) and re-queue unfinished media jobs."""
    from archive.preservation.recovery import recover, report_to_json

    report = recover(dry_run=dry_run, grace_minutes=grace_minutes)
    if as_json:
        click.echo(report_to_json(report))
        return
    for line in report.lines():
        click.echo(line)
    verb = "would be removed" if dry_run else "removed"
    click.echo(f"Recovery done: {report.removed} files {verb}.")
    if report.missing_originals:
        raise click.ClickException(
            f"{len(report.missing_originals)} media files have no original in the store."
        )
