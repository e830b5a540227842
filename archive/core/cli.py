"""The ``archive`` command line: vocabularies, demo content, CSV import and export.

Run as ``archive <command>`` (installed entry point) or ``flask --app archive archive <command>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale

from archive.core.extensions import db


@click.group("archive")
def archive_group() -> None:
    """Heritage archive administration."""


@archive_group.command("load-vocabularies")
@click.option("--without-communes", is_flag=True, help="Load provinces and districts only (faster).")
@with_appcontext
def load_vocabularies_command(without_communes: bool) -> None:
    """Load the 54 ethnic groups and the gazetteer (pre- and post-2025 units) into the database."""
    from archive.vocab.services import load_vocabularies

    load_vocabularies(include_communes=not without_communes)
    db.session.commit()
    click.echo("Vocabularies loaded.")


@archive_group.command("demo")
@click.option("--no-media", is_flag=True, help="Skip generating the illustration media.")
@with_appcontext
def demo_command(no_media: bool) -> None:
    """Load the demo records (and vocabularies if needed), with generated illustration media."""
    from archive.demo.loader import load_demo

    created = load_demo(with_media=not no_media)
    db.session.commit()
    click.echo(f"Demo content ready: {created} new records.")


@archive_group.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database; searches keep answering from the old index meanwhile."""
    import time

    from archive.search.service import WriterBusy, rebuild_index

    started = time.monotonic()
    try:
        count = rebuild_index()
    except WriterBusy:
        raise click.ClickException(
            "Another index writer is running; try again when it has finished."
        ) from None
    click.echo(f"Search index rebuilt: {count} records in {time.monotonic() - started:.1f} s.")


@archive_group.command("worker")
@click.option("--workers", type=int, default=None, help="Worker threads (default: ARCHIVE_WORKERS).")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the job consumer (media derivatives, index updates) until interrupted."""
    from huey.consumer import Consumer

    from archive.core.jobs import huey_for
    from archive.media.services import recover_jobs
    from archive.preservation.recovery import recover

    app = current_app._get_current_object()
    # Clean up after a crash first (orphan files, dead workers' locks and work directories), then put
    # the media jobs that a dead worker held back on the queue.
    for line in recover(requeue=False).lines():
        click.echo(f"Recovery: {line}")
    recovered = recover_jobs()
    db.session.remove()  # hold no transaction (on SQLite: no lock) while the consumer runs
    click.echo(f"Re-queued {recovered} unfinished media jobs.")
    # Apply whatever the search outbox holds (and build the index if it is missing) right away.
    huey_for(app).enqueue(app.extensions["jobs"]["search.sync"].s())
    consumer = Consumer(
        huey_for(app),
        workers=workers or app.config["WORKERS"],
        worker_type="thread",
        periodic=True,
        # Poll an idle SQLite queue at least twice a second, so index updates start within half a second.
        initial_delay=0.1,
        max_delay=0.5,
    )
    consumer.run()


@archive_group.command("create-user")
@click.argument("email")
@click.option("--name", default=None, help="Display name (default: the email).")
@click.option(
    "--role",
    type=click.Choice(["researcher", "contributor", "curator", "administrator"]),
    default="contributor",
)
@click.password_option(help="Password (asked for when not given).")
@with_appcontext
def create_user_command(email: str, name: str | None, role: str, password: str) -> None:
    """Create an account that can sign in."""
    from sqlalchemy import select

    from archive.accounts.models import User

    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"An account for {email} already exists.")
    user = User(email=email, display_name=name or email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Account {email} ({role}) created.")


@archive_group.command("create-admin")
@click.option("--email", required=True, help="Email address of the administrator (signs in with it).")
@click.option("--name", default=None, help="Display name (default: the existing name, or the email).")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=None,
    help="Language of the messages (default: the archive's default language).",
)
@with_appcontext
def create_admin_command(email: str, name: str | None, lang: str | None) -> None:
    """Create an administrator, or make an existing account administrator, and set its password.

    The password is asked for twice (hidden), or read from ARCHIVE_ADMIN_PASSWORD for scripted setups.
    """
    import os

    from flask_babel import gettext as _

    from archive.accounts.forms import is_email_address
    from archive.accounts.services import PasswordRefused, set_administrator

    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if not is_email_address(email):
            click.echo(_("Enter an email address such as name@example.vn."), err=True)
            sys.exit(1)
        password = os.environ.get("ARCHIVE_ADMIN_PASSWORD") or click.prompt(
            _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
        )
        try:
            user, created = set_administrator(email, name, password)
        except PasswordRefused as exc:
            db.session.rollback()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(_("Nothing was changed: the password is too weak."), err=True)
            sys.exit(1)
        db.session.commit()
        if created:
            click.echo(_("Administrator account %(email)s created.", email=user.email))
        else:
            click.echo(
                _("Account %(email)s is now an administrator, with the new password.", email=user.email)
            )


@archive_group.command("rebuild-derivatives")
@click.argument("media_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Rebuild the derivatives of every media file.")
@with_appcontext
def rebuild_derivatives_command(media_ids: tuple[str, ...], everything: bool) -> None:
    """Queue a rebuild of derivatives from the originals (by media public id, or --all)."""
    from sqlalchemy import select

    from archive.media.models import MediaFile
    from archive.media.services import rebuild_derivatives

    stmt = select(MediaFile)
    if not everything:
        if not media_ids:
            raise click.UsageError("Name media identifiers or pass --all.")
        stmt = stmt.where(MediaFile.public_id.in_(media_ids))
    items = db.session.scalars(stmt).all()
    for media in items:
        rebuild_derivatives(media)
    click.echo(f"Queued {len(items)} rebuilds.")


def _lang_option(f):
    return click.option(
        "--lang",
        type=click.Choice(["vi", "en"]),
        default=None,
        help="Language of the messages (default: the archive's default language).",
    )(f)


@archive_group.command("import-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report problems; write nothing.")
@click.option(
    "--media",
    "media_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of the media files the 'files' column lists (they are copied, never moved).",
)
@_lang_option
@with_appcontext
def import_csv_command(path: Path, dry_run: bool, media_dir: Path | None, lang: str | None) -> None:
    """Import records from a CSV file, with their media files: all rows or none."""
    from flask_babel import gettext as _

    from archive.media.models import MediaFile
    from archive.media.services import discard_originals, queue_derivatives
    from archive.records.csv_import import MediaBundle, decode_upload, describe_error, import_records
    from metadata.csv_records import files_by_row

    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text, errors = decode_upload(path.read_bytes(), current_app.config["MAX_IMPORT_BYTES"])
        report = None
        if text is not None:
            bundle = None
            if media_dir is not None:
                references = {name for names in files_by_row(text).values() for name in names}
                bundle = MediaBundle.from_directory(media_dir, references)
            report = import_records(text, None, dry_run=dry_run, media=bundle)
            errors = report.errors
            for warning in report.warnings:
                click.echo(describe_error(warning), err=True)
        for error in errors:
            click.echo(describe_error(error), err=True)
        if errors:
            db.session.rollback()
            click.echo(_("Nothing was imported: %(count)s problems found.", count=len(errors)), err=True)
            sys.exit(1)
        if dry_run:
            click.echo(_("Dry run: all %(count)s rows are valid; nothing was written.", count=report.rows))
            return
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            discard_originals(report.stored)
            raise
        for media_id in report.media:
            queue_derivatives(db.session.get(MediaFile, media_id))
        click.echo(_("%(count)s records imported.", count=len(report.imported)))
        if report.media:
            click.echo(_("%(count)s media files queued for their renditions.", count=len(report.media)))


@archive_group.command("export-csv")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@with_appcontext
def export_csv_command(path: Path | None) -> None:
    """Export every record as CSV (to PATH, or standard output)."""
    from archive.records.csv_import import export_csv
    from archive.records.services import all_records_for_export

    text = export_csv(all_records_for_export())
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")


@archive_group.group("datasets")
def datasets_group() -> None:
    """Open datasets: load the seed datasets, refresh the ones generated from the archive."""


@datasets_group.command("seed")
@with_appcontext
def datasets_seed_command() -> None:
    """Load the seed datasets (figures compiled from public reporting) that are not yet present."""
    from archive.datasets.seed import load_seed_datasets

    created = load_seed_datasets()
    db.session.commit()
    click.echo(f"Seed datasets: {created} created.")


@datasets_group.command("refresh")
@with_appcontext
def datasets_refresh_command() -> None:
    """Regenerate the datasets computed from the archive now (a new version only where figures changed)."""
    from archive.datasets.generated import refresh_generated

    run = refresh_generated()
    for name, outcome in run.outcome.items():
        click.echo(f"{name}: {outcome}")
    if any(o.startswith("error") for o in run.outcome.values()):
        sys.exit(1)


from archive.preservation.cli_bags import export_command, import_command  # noqa: E402

archive_group.add_command(export_command)
archive_group.add_command(import_command)
from archive.preservation import cli_recovery  # noqa: E402,F401  (`archive recover`; recovery at worker start)


def register(app: Flask) -> None:
    """Attach the command group to the app."""
    app.cli.add_command(archive_group)


def _create_app_for_cli():
    from archive import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli)
def cli() -> None:
    """Heritage archive: Flask commands (run, db, shell) and archive commands."""


from archive.preservation import cli_fixity as _cli_fixity  # noqa: E402,F401  (archive fixity)

for _command in archive_group.commands.values():
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``archive`` console script."""
    cli()


@archive_group.group("translate")
def translate_group() -> None:
    """Interface translations (wrapping pybabel): extract, update, compile, add a language."""


def _pybabel(*args: str) -> None:
    import subprocess

    root = Path(__file__).resolve().parents[2]
    binary = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(binary), *args], cwd=root, check=True)


_POT = "archive/translations/messages.pot"


@translate_group.command("update")
def translate_update() -> None:
    """Extract every translatable string and merge it into each catalog."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "-o",
        _POT,
        ".",
    )
    _pybabel("update", "-i", _POT, "-d", "archive/translations", "--no-fuzzy-matching", "-w", "110")


@translate_group.command("compile")
def translate_compile() -> None:
    """Compile every catalog to the binary form Flask-Babel reads."""
    _pybabel("compile", "-d", "archive/translations", "--statistics")


@translate_group.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalog for a new interface LANGUAGE: once it exists the language is offered."""
    _pybabel("init", "-i", _POT, "-d", "archive/translations", "-l", language)
