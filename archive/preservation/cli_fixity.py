"""``archive fixity``: verify the SHA-256 of stored files, copy what the second copy lacks, repair."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from archive.core.cli import archive_group

KIND_CHOICES = {
    "originals": "original",
    "derivatives": "derivative",
    "captions": "caption",
    "datasets": "dataset",
}


@archive_group.command("fixity")
@click.option(
    "--all", "everything", is_flag=True, help="Check every stored file (the default without --limit)."
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Check only the N least recently checked files."
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(sorted(KIND_CHOICES)),
    multiple=True,
    help="Only these kinds of file (repeatable; default: all).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Replace a damaged file from its good copy, rebuild a damaged derivative from its original.",
)
@with_appcontext
def fixity_command(everything: bool, limit: int | None, kinds: tuple[str, ...], repair: bool) -> None:
    """Verify the SHA-256 of originals, derivatives, captions and dataset tables (exit 1 on failures)."""
    from archive.audit import acting_as
    from archive.preservation.fixity import FILE_KINDS, run_fixity
    from archive.preservation.replica import replica_root

    if everything and limit is not None:
        raise click.UsageError("Pass either --all or --limit, not both.")
    selected = tuple(KIND_CHOICES[k] for k in kinds) or FILE_KINDS
    with acting_as("cli"):
        summary = run_fixity(kinds=selected, limit=limit, repair=repair, trigger="cli")
    copy = replica_root()
    click.echo(
        f"Fixity run {summary.run_id}: {summary.checked} files checked"
        f" ({'with' if copy else 'without'} a second copy{f' in {copy}' if copy else ''})."
    )
    if summary.copied:
        click.echo(f"Copied to the second copy: {summary.copied}.")
    if summary.repaired:
        click.echo(f"Repaired: {summary.repaired}.")
    if not summary.failures:
        click.echo("All files good.")
        return
    click.echo(f"FAILURES: {len(summary.failures)}", err=True)
    for kind, key, location, outcome in summary.failures:
        click.echo(f"  {outcome:<14} {kind:<10} {location:<7} {key}", err=True)
    if not repair:
        click.echo("Run again with --repair to repair from the good copy where there is one.", err=True)
    raise SystemExit(1)
