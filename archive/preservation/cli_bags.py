"""``archive export`` and ``archive import``: BagIt backups of the whole archive or of one collection."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

_LANG = click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=None,
    help="Language of the messages (default: the archive's default language).",
)
_PROCESSES = click.option(
    "--processes", type=int, default=1, show_default=True, help="Processes computing the bag's checksums."
)


@click.command("export")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--collection", default=None, help="Export only this collection's records (slug or id).")
@_PROCESSES
@_LANG
@with_appcontext
def export_command(target: Path, collection: str | None, processes: int, lang: str | None) -> None:
    """Write the archive (or one collection) into a new BagIt bag at TARGET."""
    from archive.preservation.bags import BagRefused, export_bag

    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        started = time.monotonic()
        try:
            summary = export_bag(target, collection=collection, processes=processes)
        except BagRefused as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            _(
                "Exported %(records)s records and %(files)s files into %(path)s in %(seconds)s s.",
                records=summary.records,
                files=summary.files,
                path=str(target),
                seconds=f"{time.monotonic() - started:.1f}",
            )
        )


@click.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_PROCESSES
@_LANG
@with_appcontext
def import_command(source: Path, processes: int, lang: str | None) -> None:
    """Restore a backup bag from SOURCE into this empty archive (all or nothing), then rebuild the index."""
    from archive.preservation.bags import BagRefused, after_import, import_bag

    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        started = time.monotonic()
        try:
            summary = import_bag(source, processes=processes)
        except BagRefused as exc:
            raise click.ClickException(str(exc)) from None
        indexed = after_import()
        click.echo(
            _(
                "Imported %(records)s records and %(files)s files in %(seconds)s s; "
                "%(indexed)s records indexed.",
                records=summary.records,
                files=summary.files,
                indexed=indexed,
                seconds=f"{time.monotonic() - started:.1f}",
            )
        )
        click.echo(_("Restored accounts cannot sign in until an administrator invites them again."))
