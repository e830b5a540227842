"""The heritage archive's Flask application."""

from __future__ import annotations

import logging
import os

from flask import Flask

from config import CONFIGS, Config


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the application: the only place where extensions are bound.

    Without an explicit class, ARCHIVE_CONFIG picks one: ``default`` (embedded), ``production``.
    """
    if config_class is None:
        config_class = CONFIGS[os.environ.get("ARCHIVE_CONFIG") or "default"]
    config_class.check()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)

    from archive.core import database, i18n, jobs, security
    from archive.core.extensions import babel, csrf, db, login_manager, migrate

    database.configure_engine_options(app)
    db.init_app(app)
    database.install_engine_hooks(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    i18n.init_app(app)
    security.init_app(app)

    # Import the models so that metadata and migrations know every table, and the job modules so
    # that their jobs are declared before the queue is built.
    from archive import models  # noqa: F401
    from archive.audit import listeners as _audit_listeners  # noqa: F401
    from archive.core import access, cli, errors
    from archive.media import services as _media_jobs  # noqa: F401
    from archive.search import indexing as _search_jobs  # noqa: F401

    jobs.init_app(app)
    app.jinja_env.globals.update(can_view_media=access.can_view_media, can_add_media=access.can_add_media)

    from archive.accounts.views import bp as accounts_bp
    from archive.audit.views import bp as audit_bp
    from archive.iiif.views import bp as iiif_bp
    from archive.media.views import bp as media_bp
    from archive.records.views import bp as records_bp
    from archive.search.views import bp as search_bp

    for blueprint in (records_bp, accounts_bp, media_bp, iiif_bp, search_bp, audit_bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    cli.register(app)

    logging.getLogger(__name__).debug("archive app created with %s", config_class.__name__)
    return app


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
