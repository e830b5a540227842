"""The heritage archive's Flask application."""

from __future__ import annotations

import logging
import os

from flask import Flask

from archive.core.i18n import ArchiveFlask
from config import CONFIGS, Config


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the application: the only place where extensions are bound.

    Without an explicit class, ARCHIVE_CONFIG picks one: ``default`` (embedded), ``production``.
    """
    if config_class is None:
        config_class = CONFIGS[os.environ.get("ARCHIVE_CONFIG") or "default"]
    config_class.check()
    app = ArchiveFlask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)

    from archive.core import database, i18n, jobs, observability, security

    # First, so that every request (redirects and errors included) gets its id and its log line.
    observability.init_app(app)
    from archive.core.extensions import babel, csrf, db, login_manager, migrate

    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
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
    from archive.core import assets, display

    display.init_app(app)
    assets.init_app(app)

    # Import the models so that metadata and migrations know every table, and the job modules so
    # that their jobs are declared before the queue is built.
    from archive import models  # noqa: F401
    from archive.audit import listeners as _audit_listeners  # noqa: F401
    from archive.core import access, cli, errors
    from archive.datasets import generated as _dataset_jobs  # noqa: F401  (the daily refresh)
    from archive.media import services as _media_jobs  # noqa: F401
    from archive.media.tus import bp as tus_bp  # before jobs.init_app: declares the upload clean-up job
    from archive.preservation import fixity as _fixity_jobs  # noqa: F401  (fixity, second copy)
    from archive.preservation import recovery as _recovery_jobs  # noqa: F401  (the hourly crash clean-up)
    from archive.search import indexing as _search_jobs  # noqa: F401

    jobs.init_app(app)
    from archive.communities import labels as protocol_labels
    from archive.communities.services import can_manage_consent

    app.jinja_env.globals.update(
        can_view_media=access.can_view_media,
        can_add_media=access.can_add_media,
        can_edit_record=access.can_edit_record,
        can_manage_consent=can_manage_consent,
        media_notice=access.media_notice,
        label_names=protocol_labels.LABEL_NAMES,
        label_meanings=protocol_labels.LABEL_MEANINGS,
        describe_season=lambda label: protocol_labels.describe_season(access.season_of(label)),
    )
    from archive.datasets import links as dataset_links

    dataset_links.init_app(app)

    from archive.accounts.views import bp as accounts_bp
    from archive.api.account_views import bp as api_tokens_bp
    from archive.api.views import bp as api_bp
    from archive.audit.views import bp as audit_bp
    from archive.browse.seo import bp_seo as seo_bp
    from archive.browse.views import bp as browse_bp
    from archive.calendar.views import bp as calendar_bp
    from archive.communities.views import bp as communities_bp
    from archive.datasets.admin_views import admin_bp as dataset_admin_bp
    from archive.datasets.catalog_views import bp as dcat_bp
    from archive.datasets.views import bp as datasets_bp
    from archive.exhibits.admin_views import admin_bp as exhibit_admin_bp
    from archive.exhibits.views import bp as exhibits_bp
    from archive.iiif.presentation import bp as presentation_bp
    from archive.iiif.views import bp as iiif_bp
    from archive.map.views import bp as map_bp
    from archive.media.views import bp as media_bp
    from archive.oai.views import bp as oai_bp
    from archive.preservation.admin_views import bp as preservation_bp
    from archive.records.editing_views import bp as editing_bp
    from archive.records.exports import bp as exports_bp
    from archive.records.import_views import bp as imports_bp
    from archive.records.viewer import bp as viewer_bp
    from archive.records.views import bp as records_bp
    from archive.search.views import bp as search_bp
    from archive.workflow.views import bp as workflow_bp

    for blueprint in (records_bp, accounts_bp, media_bp, iiif_bp, search_bp, audit_bp, imports_bp, tus_bp,
                      communities_bp, workflow_bp, editing_bp, browse_bp, seo_bp,
                      calendar_bp, exhibits_bp, exhibit_admin_bp, map_bp, viewer_bp,
                      exports_bp, oai_bp, api_bp, api_tokens_bp,
                      presentation_bp, datasets_bp, dataset_admin_bp, dcat_bp, preservation_bp):  # fmt: skip
        app.register_blueprint(blueprint)
    from archive.core import accel, health

    accel.init_app(app)
    health.init_app(app)
    errors.register(app)
    cli.register(app)

    logging.getLogger(__name__).debug("archive app created with %s", config_class.__name__)
    return app


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
