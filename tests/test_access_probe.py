"""Access probes: every route of the application, asked by every kind of person, about a world of records
and media at every access level, community protocol and workflow state. Nothing restricted may leak:
not in status codes, not in bodies, not in counts (list and search totals, facet counts, autocomplete).

The world and the hand-written expectations are in :mod:`tests.access_world`. Each test gathers every
problem it finds and reports them all at once, one line per (route, person, thing) that leaked.
A route added to the application makes ``test_every_route_is_classified`` fail until it is probed here.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import unquote

import pytest
from lxml import html as lxml_html

from tests import access_world as aw
from tests.access_world import (
    MEDIA,
    RECORD,
    RECORDS,
    ROLES,
    STAFF,
    Answer,
    fetch,
    hidden_secrets,
    may_manage,
    media_denial,
    record_status,
    searchable,
    sees_media,
    sees_record,
)
from tests.conftest import ON_POSTGRES, use_search_backend

BACKENDS = ["whoosh", "postgresql"] if ON_POSTGRES else ["whoosh"]

#: Every route of the application, by (endpoint, method), and the test of this module that probes it.
ROUTES = {
    ("static", "GET"): "test_pages_without_archive_content",
    ("records.home", "GET"): "test_home_and_record_list",
    ("records.index", "GET"): "test_home_and_record_list",
    ("records.detail", "GET"): "test_record_pages_and_metadata_downloads",
    ("records.dublin_core_xml", "GET"): "test_record_pages_and_metadata_downloads",
    ("records.json_ld", "GET"): "test_record_pages_and_metadata_downloads",
    ("records.csv_file", "GET"): "test_record_pages_and_metadata_downloads",
    ("search.page", "GET"): "test_search_page",
    ("search.page_json", "GET"): "test_search_json",
    ("search.autocomplete", "GET"): "test_autocomplete",
    ("iiif.base", "GET"): "test_iiif_image_api",
    ("iiif.info", "GET"): "test_iiif_image_api",
    ("iiif.image", "GET"): "test_iiif_image_api",
    ("media.original", "GET"): "test_media_files_renditions_and_captions",
    ("media.rendition", "GET"): "test_media_files_renditions_and_captions",
    ("media.caption_file", "GET"): "test_media_files_renditions_and_captions",
    ("media.my_media", "GET"): "test_pages_of_ones_own",
    ("media.upload", "GET"): "test_record_tools",
    ("media.upload", "POST"): "test_who_may_change_data",
    ("media.captions", "POST"): "test_who_may_change_data",
    ("workflow.history", "GET"): "test_record_tools",
    ("workflow.revision_diff", "GET"): "test_record_tools",
    ("workflow.restore", "POST"): "test_who_may_change_data",
    ("communities.consent", "GET"): "test_record_tools",
    ("communities.consent", "POST"): "test_who_may_change_data",
    ("communities.withdraw", "POST"): "test_who_may_change_data",
    ("communities.index", "GET"): "test_staff_pages",
    ("communities.index", "POST"): "test_who_may_change_data",
    ("communities.detail", "GET"): "test_staff_pages",
    ("communities.detail", "POST"): "test_who_may_change_data",
    ("accounts.admin_users", "GET"): "test_staff_pages",
    ("accounts.invite", "POST"): "test_who_may_change_data",
    ("accounts.change_role", "POST"): "test_who_may_change_data",
    ("accounts.deactivate", "POST"): "test_who_may_change_data",
    ("accounts.reactivate", "POST"): "test_who_may_change_data",
    ("accounts.resend_invitation", "POST"): "test_who_may_change_data",
    ("audit.index", "GET"): "test_staff_pages",
    ("accounts.change_password", "GET"): "test_pages_of_ones_own",
    ("accounts.change_password", "POST"): "test_pages_without_archive_content",
    ("accounts.login", "GET"): "test_pages_without_archive_content",
    ("accounts.login", "POST"): "test_pages_without_archive_content",
    ("accounts.logout", "POST"): "test_pages_without_archive_content",
    ("accounts.forgot_password", "GET"): "test_pages_without_archive_content",
    ("accounts.forgot_password", "POST"): "test_pages_without_archive_content",
    ("accounts.reset_password", "GET"): "test_pages_without_archive_content",
    ("accounts.reset_password", "POST"): "test_pages_without_archive_content",
    ("accounts.accept_invitation", "GET"): "test_pages_without_archive_content",
    ("accounts.accept_invitation", "POST"): "test_pages_without_archive_content",
    ("imports.start", "GET"): "test_pages_of_ones_own",
    ("imports.start", "POST"): "test_who_may_change_data",
    ("imports.report", "GET"): "test_pages_of_ones_own",
    ("imports.confirm", "POST"): "test_who_may_change_data",
    ("tus.client_script", "GET"): "test_pages_without_archive_content",
    ("tus.csrf_token", "GET"): "test_pages_of_ones_own",
    ("tus.status", "GET"): "test_pages_of_ones_own",
    ("tus.discover", "OPTIONS"): "test_pages_without_archive_content",
    ("tus.create", "POST"): "test_who_may_change_data",
    ("tus.offset", "HEAD"): "test_who_may_change_data",
    ("tus.receive", "PATCH"): "test_who_may_change_data",
    ("tus.terminate", "DELETE"): "test_who_may_change_data",
    ("editing.new", "GET"): "test_pages_of_ones_own",
    ("editing.new", "POST"): "test_who_may_change_data",
    ("editing.edit", "GET"): "test_record_tools",
    ("editing.edit", "POST"): "test_who_may_change_data",
    ("editing.transition", "POST"): "test_workflow_transitions",
    ("editing.my_records", "GET"): "test_pages_of_ones_own",
    ("editing.notifications", "GET"): "test_pages_of_ones_own",
    ("editing.notifications", "POST"): "test_who_may_change_data",
    ("editing.review", "GET"): "test_staff_pages",
    ("editing.pick_ethnic_groups", "GET"): "test_pickers",
    ("editing.pick_places", "GET"): "test_pickers",
    ("editing.pick_agents", "GET"): "test_pickers",
    ("editing.pick_subjects", "GET"): "test_pickers",
    ("editing.pick_lunar", "GET"): "test_pickers",
    ("media.set_access", "POST"): "test_who_may_change_data",
    ("display.choose", "GET"): "test_pages_without_archive_content",
    ("browse.index", "GET"): "test_browse_pages",
    ("browse.groups", "GET"): "test_browse_pages",
    ("browse.group", "GET"): "test_browse_pages",
    ("browse.group_alias", "GET"): "test_browse_pages",
    ("browse.places", "GET"): "test_browse_pages",
    ("browse.place", "GET"): "test_browse_pages",
    ("browse.categories", "GET"): "test_browse_pages",
    ("browse.category", "GET"): "test_browse_pages",
    ("browse.collections", "GET"): "test_browse_pages",
    ("browse.collection", "GET"): "test_browse_pages",
    ("seo.sitemap", "GET"): "test_sitemap_and_robots",
    ("seo.sitemap_part", "GET"): "test_sitemap_and_robots",
    ("seo.robots", "GET"): "test_sitemap_and_robots",
    ("calendar.index", "GET"): "test_exhibits_and_calendar",
    ("map.index", "GET"): "test_exhibits_and_calendar",
    ("viewer.script", "GET"): "test_pages_without_archive_content",
    ("exports.record_bibtex", "GET"): "test_record_pages_and_metadata_downloads",
    ("exports.record_csl_json", "GET"): "test_record_pages_and_metadata_downloads",
    ("exports.search_export", "GET"): "test_search_exports",
    ("api.records", "GET"): "test_json_api",
    ("api.record", "GET"): "test_json_api",
    ("api.record_media", "GET"): "test_json_api",
    ("api.media", "GET"): "test_json_api",
    ("api.search", "GET"): "test_json_api",
    ("api.ethnic_groups", "GET"): "test_json_api",
    ("api.places", "GET"): "test_json_api",
    ("api.categories", "GET"): "test_json_api",
    ("api.agents", "GET"): "test_json_api",
    ("api.collections", "GET"): "test_json_api",
    ("api.collection", "GET"): "test_json_api",
    ("api.exhibits", "GET"): "test_json_api",
    ("api.exhibit", "GET"): "test_json_api",
    ("api.openapi", "GET"): "test_json_api",
    ("api.create_record", "POST"): "test_json_api",
    ("api.update_record", "PATCH"): "test_json_api",
    ("api.upload_media", "POST"): "test_json_api",
    ("api.submit_record", "POST"): "test_json_api",
    ("api_tokens.index", "GET"): "test_json_api",
    ("api_tokens.create", "POST"): "test_json_api",
    ("api_tokens.revoke", "POST"): "test_json_api",
    ("presentation.manifest", "GET"): "test_iiif_presentation",
    ("presentation.canvas", "GET"): "test_iiif_presentation",
    ("presentation.top_collection", "GET"): "test_iiif_presentation",
    ("presentation.group_collection", "GET"): "test_iiif_presentation",
    ("presentation.place_collection", "GET"): "test_iiif_presentation",
    ("presentation.category_collection", "GET"): "test_iiif_presentation",
    ("presentation.collection_collection", "GET"): "test_iiif_presentation",
    ("presentation.exhibit_collection", "GET"): "test_iiif_presentation",
    ("oai.endpoint", "GET"): "test_oai_pmh",
    ("oai.endpoint", "POST"): "test_oai_pmh",
    ("viewer.icon", "GET"): "test_pages_without_archive_content",
    ("calendar.feed", "GET"): "test_exhibits_and_calendar",
    ("exhibits.index", "GET"): "test_exhibits_and_calendar",
    ("exhibits.detail", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.index", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.new", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.new", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.edit", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.edit", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.delete", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.new_section", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.new_section", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.edit_section", "GET"): "test_exhibits_and_calendar",
    ("exhibit_admin.edit_section", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.move_section", "POST"): "test_exhibits_and_calendar",
    ("exhibit_admin.delete_section", "POST"): "test_exhibits_and_calendar",
    ("datasets.index", "GET"): "test_open_datasets",
    ("datasets.dataset", "GET"): "test_open_datasets",
    ("datasets.version", "GET"): "test_open_datasets",
    ("datasets.table", "GET"): "test_open_datasets",
    ("datasets.download", "GET"): "test_open_datasets",
    ("datasets.download_latest", "GET"): "test_open_datasets",
    ("preservation.index", "GET"): "test_preservation_and_health",
    ("preservation.check", "POST"): "test_preservation_and_health",
    ("preservation.repair", "POST"): "test_preservation_and_health",
    ("health.healthz", "GET"): "test_preservation_and_health",
    ("health.readyz", "GET"): "test_preservation_and_health",
    ("dcat.catalog", "GET"): "test_open_datasets",
    ("dcat.catalog_turtle", "GET"): "test_open_datasets",
    ("dcat.catalog_jsonld", "GET"): "test_open_datasets",
    ("dcat.datapackage", "GET"): "test_open_datasets",
    ("dcat.datapackage_latest", "GET"): "test_open_datasets",
    ("api.datasets", "GET"): "test_open_datasets",
    ("api.dataset", "GET"): "test_open_datasets",
    ("api.dataset_version", "GET"): "test_open_datasets",
    ("api.dataset_table", "GET"): "test_open_datasets",
    ("api.dataset_rows", "GET"): "test_open_datasets",
    ("dataset_admin.index", "GET"): "test_open_datasets",
    ("dataset_admin.new", "GET"): "test_open_datasets",
    ("dataset_admin.new", "POST"): "test_open_datasets",
    ("dataset_admin.edit", "GET"): "test_open_datasets",
    ("dataset_admin.edit", "POST"): "test_open_datasets",
    ("dataset_admin.dataset", "GET"): "test_open_datasets",
    ("dataset_admin.upload", "POST"): "test_open_datasets",
    ("dataset_admin.version", "GET"): "test_open_datasets",
    ("dataset_admin.confirm_schema", "POST"): "test_open_datasets",
    ("dataset_admin.remove_table", "POST"): "test_open_datasets",
    ("dataset_admin.notes", "POST"): "test_open_datasets",
    ("dataset_admin.discard", "GET"): "test_open_datasets",
    ("dataset_admin.discard", "POST"): "test_open_datasets",
    ("dataset_admin.publish", "POST"): "test_open_datasets",
    ("dataset_admin.withdraw", "POST"): "test_open_datasets",
    ("dataset_admin.reinstate", "POST"): "test_open_datasets",
}


def route_methods(rule) -> set[str]:
    """The methods a rule really serves: HEAD and OPTIONS only count when they are all it serves."""
    methods = set(rule.methods) - {"HEAD", "OPTIONS"}
    if methods:
        return methods
    return {"HEAD"} if "HEAD" in rule.methods else set(rule.methods)


# --- helpers ----------------------------------------------------------------------------------------------


class Problems(list):
    """What a test found wrong, one readable line each."""

    def expect(self, condition: bool, message: str) -> None:
        """Note *message* unless *condition* holds."""
        if not condition:
            self.append(message)

    def no_leak(self, what: str, answer: Answer | str, forbidden) -> None:
        """None of the *forbidden* words or identifiers may appear, except those the request itself sent
        (pages echo their own path in language and sign-in links)."""
        if isinstance(answer, str):
            text, sent = answer, ""
        else:
            text, sent = answer.text + " " + answer.header("Location"), unquote(answer.path)
        leaked = sorted(word for word in forbidden if word in text and word not in sent)
        if leaked:
            self.append(f"{what}: LEAKED {', '.join(leaked)}")

    def status(self, what: str, answer: Answer, expected) -> bool:
        """Note a status other than *expected* (one status or a set); True when it matched."""
        allowed = expected if isinstance(expected, (set, frozenset, tuple)) else {expected}
        if answer.status not in allowed:
            self.append(f"{what}: status {answer.status}, expected {' or '.join(map(str, sorted(allowed)))}")
            return False
        return True


def finish(world, name: str, problems: Problems) -> None:
    """Fail with every problem found, and when a route ROUTES gives to this test was never requested."""
    for (endpoint, method), test in sorted(ROUTES.items()):
        if test == name and (endpoint, method) not in world.probed:
            problems.append(f"{method} {endpoint}: in ROUTES for {name}, but never requested")
    assert not problems, f"{len(problems)} access problem(s):\n" + "\n".join(problems)


def forbidden_for(world, role: str) -> set[str]:
    """The secret words and public identifiers of everything *role* may not see."""
    return hidden_secrets(role) | world.hidden_ids(role)


def not_public_cache(problems: Problems, what: str, answer: Answer) -> None:
    """A response with something a visitor may not see must never be kept by shared caches."""
    tokens = {t.strip().split("=")[0] for t in answer.header("Cache-Control").lower().split(",")}
    problems.expect(
        "public" not in tokens,
        f"{what}: Cache-Control {answer.header('Cache-Control')!r} for restricted content",
    )


def login_redirect(answer: Answer) -> bool:
    """A redirect to the sign-in page (what login_required answers a visitor)."""
    return answer.status == 302 and "/login" in answer.header("Location")


def media_of(record_name: str) -> list:
    """The world media files of one record."""
    return [m for m in MEDIA if m.record == record_name]


# --- the world --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    """The probe world, built once for the module in a transaction rolled back at its end."""
    from archive.media import resumable
    from archive.records import bulk_import

    tmp = tmp_path_factory.mktemp("access-world")
    with aw.rolled_back_world_session(app) as db:
        built = aw.build_world(app, db, tmp, baseline_backends=BACKENDS)
        _stage_owner_uploads(built)
        try:
            yield built
        finally:
            if built.import_token:
                shutil.rmtree(bulk_import.staging_root() / built.import_token, ignore_errors=True)
            if built.tus_token:
                resumable.part_path(built.tus_token).unlink(missing_ok=True)


def _stage_owner_uploads(world) -> None:
    """The owner stages a bulk import (its dry run names a secret) and opens a resumable upload."""
    text = (
        "identifier,category,status,title@vi,ethnic_groups,places\n"
        f",festival,draft,{aw.TITLE_WORDS} nhập,{aw.IMPORT_SECRET},{aw.PLACE}\n"
    )
    answer = fetch(world, "owner", "/import", "POST", data=aw.csv_upload(text))
    assert answer.status == 303, answer.text
    world.import_token = answer.header("Location").rstrip("/").rsplit("/", 1)[-1]
    headers = {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "100",
        "Upload-Metadata": aw.tus_metadata(record=world.record_ids["draft"], filename=f"{aw.TUS_SECRET}.jpg"),
    }
    answer = fetch(world, "owner", "/uploads/", "POST", headers=headers)
    assert answer.status == 201, answer.text
    world.tus_token = answer.header("Location").rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture(params=BACKENDS)
def backend(request, app, world):
    """Run a search test with this backend; the index of the backend the app is not configured with (the
    PostgreSQL one, or Whoosh in production mode) learns the world the first time."""
    configured = app.config["SEARCH_BACKEND"]
    with use_search_backend(app, request.param):
        if request.param != configured and not world.other_index_filled:
            from archive.core.extensions import db
            from archive.search import service

            ids = list(world.record_pk.values())
            service.resync(ids, db.session)
            db.session.commit()
            if request.param == "whoosh":
                service._APPLIED.extend(ids)  # the world's teardown takes them out of the Whoosh index again
            world.other_index_filled = True
        yield request.param


# --- the routes -------------------------------------------------------------------------------------------


def test_every_route_is_classified(tmp_path):
    """Each route of the application is probed by a test of this module (and each probed route exists)."""
    from archive import create_app
    from tests.conftest import make_config

    app = create_app(make_config("sqlite://", tmp_path))  # the routes only: no database, no demo
    served = {(rule.endpoint, m) for rule in app.url_map.iter_rules() for m in route_methods(rule)}
    unclassified = sorted(served - set(ROUTES))
    gone = sorted(set(ROUTES) - served)
    rules = {(r.endpoint, m): r.rule for r in app.url_map.iter_rules() for m in route_methods(r)}
    lines = [f"  {method:7} {rules[(endpoint, method)]}  ({endpoint})" for endpoint, method in unclassified]
    assert not unclassified, (
        "routes no access probe covers (add them to ROUTES and probe them in tests/test_access_probe.py):\n"
        + "\n".join(lines)
    )
    assert not gone, f"ROUTES names routes the application no longer has: {gone}"


# --- records ----------------------------------------------------------------------------------------------


def _season_text(app, world) -> str:
    from archive.communities.labels import describe_season
    from metadata.seasons import Season

    with app.test_request_context("/"):
        return describe_season(Season("lunar", *aw.seasons_around(aw.today_in_vietnam())["out"]))


def test_record_pages_and_metadata_downloads(app, world):
    """Record pages, their slug redirects and the DC XML, JSON-LD and CSV downloads, for every person."""
    problems = Problems()
    season_text = _season_text(app, world)
    for role in ROLES:
        for spec in RECORDS:
            pid, slug = world.record_ids[spec.name], world.slugs[spec.name]
            expected = record_status(role, spec)
            forbidden = forbidden_for(world, role)
            what = f"{role} GET /records/{pid}/{slug} ({spec.name})"
            page = fetch(world, role, f"/records/{pid}/{slug}")
            if problems.status(what, page, expected):
                if expected == 200:
                    problems.expect(spec.secret in page.text, f"{what}: title missing")
                    for m in media_of(spec.name):
                        shown = m.secret in page.text and world.media_ids[m.name] in page.text
                        problems.expect(
                            not sees_media(role, m) or shown, f"{what}: visible media {m.name} missing"
                        )
                    if not sees_record("visitor", spec):
                        not_public_cache(problems, what, page)
                elif spec.denial == "community":
                    problems.expect(world.notices["A"] in page.text, f"{what}: protocol notice missing")
                elif spec.denial == "seasonal":
                    problems.expect(season_text in page.text, f"{what}: season ({season_text}) missing")
            problems.no_leak(what, page, forbidden)

            for path in (f"/records/{pid}", f"/records/{pid}/an-old-slug"):
                what = f"{role} GET {path} ({spec.name})"
                answer = fetch(world, role, path)
                if expected == 200:
                    if problems.status(what, answer, 301):
                        location = answer.header("Location")
                        problems.expect(location.endswith(f"/records/{pid}/{slug}"), f"{what}: -> {location}")
                else:
                    problems.status(what, answer, expected)
                # Nobody learns the slug (it spells the title) of a record they may not see.
                problems.no_leak(what, answer, forbidden | (set() if expected == 200 else {slug}))

            for name in ("dc.xml", "record.jsonld", "record.csv", "citation.bib", "citation.json"):
                what = f"{role} GET /records/{pid}/{name} ({spec.name})"
                answer = fetch(world, role, f"/records/{pid}/{name}")
                if problems.status(what, answer, expected) and expected == 200:
                    problems.expect(spec.secret in answer.text, f"{what}: title missing")
                problems.no_leak(what, answer, forbidden)
    finish(world, "test_record_pages_and_metadata_downloads", problems)


def test_home_and_record_list(world):
    """The home page and the list of records show the public records, and nothing else, to everyone."""
    problems = Problems()
    public = {r.secret for r in RECORDS if sees_record("visitor", r)}
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        home = fetch(world, role, "/")
        problems.status(f"{role} GET /", home, 200)
        problems.no_leak(f"{role} GET /", home, forbidden)
        for word in sorted(public):
            problems.expect(word in home.text, f"{role} GET /: newest public record {word} missing")

        items, bodies = aw.list_pages(world, role)
        for number, body in enumerate(bodies, 1):
            problems.no_leak(f"{role} GET /records?page={number}", body, forbidden)
        shown = {word for _href, title in items for word in aw.all_secrets() if word in title}
        problems.expect(
            shown == public, f"{role} /records lists world records {sorted(shown)}, expected {sorted(public)}"
        )
        added = len(items) - world.baseline["whoosh"][role]["list_items"]
        problems.expect(
            added == len(public), f"{role} /records: {added} entries more than before, expected {len(public)}"
        )
        first = lxml_html.fromstring(bodies[0]).xpath("string(//main//h1/following-sibling::p[1])")
        digits = "".join(ch if ch.isdigit() else " " for ch in first).split()
        problems.expect(
            bool(digits) and int(digits[0]) == len(items),
            f"{role} /records: total {first.strip()!r}, but {len(items)} entries",
        )
    finish(world, "test_home_and_record_list", problems)


# --- browse, sitemap -------------------------------------------------------------------------------------


def _paged(world, role: str, path: str, problems: Problems) -> list[Answer]:
    """Every page of a paginated browse page (``?page=``), as *role*."""
    answers = []
    for number in range(1, 30):
        answer = fetch(world, role, f"{path}{'&' if '?' in path else '?'}page={number}")
        if number > 1 and answer.status == 404:
            break
        problems.status(f"{role} GET {path} page {number}", answer, 200)
        answers.append(answer)
        if 'rel="next"' not in answer.text:
            break
    return answers


def test_browse_pages(world):
    """Browse pages list and count, for each person, only the records that person may see."""
    problems = Problems()
    category = world_db_category(world)
    lists = (
        f"/groups/{aw.GROUP}",
        f"/places/{aw.PLACE}",
        f"/categories/{category}",
        f"/collections/{aw.COLLECTION}",
    )
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        visible = {r.secret for r in RECORDS if sees_record(role, r)}
        for path in (
            "/browse",
            "/groups",
            "/places",
            "/places?system=pre2025",
            "/categories",
            "/collections",
        ):
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, 200)
            problems.no_leak(f"{role} GET {path}", answer, forbidden)
        alias = fetch(world, role, f"/ethnic-groups/{aw.GROUP}")
        problems.expect(
            alias.status == 301 and alias.header("Location").endswith(f"/groups/{aw.GROUP}"),
            f"{role} GET /ethnic-groups/{aw.GROUP}: {alias.status}",
        )
        for path in lists:
            pages = _paged(world, role, path, problems)
            shown = set()
            for number, answer in enumerate(pages, 1):
                problems.no_leak(f"{role} GET {path} page {number}", answer, forbidden)
                shown |= {r.secret for r in RECORDS if r.secret in answer.text}
            problems.expect(
                shown == visible, f"{role} {path} shows {sorted(shown)}, expected {sorted(visible)}"
            )
    finish(world, "test_browse_pages", problems)


def world_db_category(world) -> str:
    """The category of the world's records (they all share the default one)."""
    from archive.core.extensions import db
    from archive.records.models import HeritageRecord

    public_id = next(iter(world.record_ids.values()))
    from sqlalchemy import select

    return db.session.scalar(select(HeritageRecord.category).where(HeritageRecord.public_id == public_id))


def test_sitemap_and_robots(world):
    """The sitemap names only what an anonymous visitor may see, whoever asks for it."""
    problems = Problems()
    hidden = world.hidden_ids("visitor")
    for role in ("visitor", "curator"):
        sitemap = fetch(world, role, "/sitemap.xml")
        problems.status(f"{role} GET /sitemap.xml", sitemap, 200)
        parts = [sitemap] + [fetch(world, role, f"/sitemap-{n}.xml") for n in (1, 2)]
        for answer in parts:
            problems.expect(answer.status in (200, 404), f"{role} GET {answer.path}: {answer.status}")
            problems.no_leak(f"{role} GET {answer.path}", answer, forbidden_for(world, "visitor"))
            leaked = sorted(i for i in hidden if i in answer.text)
            problems.expect(not leaked, f"{role} GET {answer.path} names hidden ids {leaked}")
        robots = fetch(world, role, "/robots.txt")
        problems.status(f"{role} GET /robots.txt", robots, 200)
    finish(world, "test_sitemap_and_robots", problems)


def _probe_exhibit(world):
    """A published exhibit featuring every world record and showing every world picture."""
    import uuid

    from sqlalchemy import select

    from archive.core.extensions import db
    from archive.exhibits.models import Exhibit, ExhibitItem, ExhibitSection
    from archive.media.models import MediaFile

    exhibit = Exhibit(
        slug=f"probe-exhibit-{uuid.uuid4().hex[:8]}",
        title=[{"lang": "vi", "value": "Trưng bày thăm dò"}],
        status="published",
    )
    records = ExhibitSection(kind="records", position=0)
    for position, pk in enumerate(world.record_pk.values()):
        records.items.append(ExhibitItem(record_id=pk, position=position))
    exhibit.sections.append(records)
    for position, spec in enumerate((m for m in aw.MEDIA if m.kind == "image"), 1):
        media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == world.media_ids[spec.name]))
        exhibit.sections.append(
            ExhibitSection(
                kind="image", position=position, media_id=media.id, alt=[{"lang": "vi", "value": "Ảnh"}]
            )
        )
    db.session.add(exhibit)
    db.session.commit()
    return exhibit


def test_exhibits_and_calendar(world):
    """An exhibit shows each person only the records and files that person may see; the calendar and its
    feed show public records only, to everyone; the exhibit admin is for curators."""
    problems = Problems()
    exhibit = _probe_exhibit(world)
    record_secrets = {r.secret for r in RECORDS}
    public = {r.secret for r in RECORDS if sees_record("visitor", r)}
    section = exhibit.sections[1]
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        answer = fetch(world, role, f"/exhibits/{exhibit.slug}")
        problems.status(f"{role} GET /exhibits/<probe>", answer, 200)
        problems.no_leak(f"{role} GET /exhibits/<probe>", answer, forbidden)
        shown = {word for word in record_secrets if word in answer.text}
        visible = {r.secret for r in RECORDS if sees_record(role, r)}
        problems.expect(shown == visible, f"{role} exhibit shows {sorted(shown)}, expected {sorted(visible)}")
        listing = fetch(world, role, "/exhibits")
        problems.status(f"{role} GET /exhibits", listing, 200)
        problems.no_leak(f"{role} GET /exhibits", listing, forbidden)
        for path in ("/calendar", "/calendar.ics", "/calendar.ics?lang=en", "/map", "/map?system=pre2025"):
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, 200)
            problems.no_leak(f"{role} GET {path}", answer, forbidden_for(world, "visitor"))
            shown = {word for word in record_secrets if word in answer.text}
            if path.startswith("/calendar"):
                problems.expect(shown == public, f"{role} {path} shows {sorted(shown)}, not {sorted(public)}")
            else:  # the map names a few records per province
                problems.expect(shown <= public, f"{role} {path} shows {sorted(shown - public)}")
        # The exhibit admin: curators and administrators only. Empty forms are refused (400) or stale (409).
        base = f"/admin/exhibits/{exhibit.id}"
        admin = [
            ("GET", "/admin/exhibits", {}),
            ("GET", "/admin/exhibits/new", {}),
            ("POST", "/admin/exhibits/new", {"data": {}}),
            ("GET", f"{base}/edit", {}),
            ("POST", f"{base}/edit", {"data": {}}),
            ("GET", f"{base}/sections/new?kind=narrative", {}),
            ("POST", f"{base}/sections/new?kind=narrative", {"data": {}}),
            ("GET", f"{base}/sections/{section.id}/edit", {}),
            ("POST", f"{base}/sections/{section.id}/edit", {"data": {}}),
            ("POST", f"{base}/sections/{section.id}/move", {"data": {}}),
        ]
        if role not in ("administrator", "curator"):  # the destructive ones, for those who are refused
            admin += [("POST", f"{base}/sections/{section.id}/delete", {}), ("POST", f"{base}/delete", {})]
        for method, path, kwargs in admin:
            answer = fetch(world, role, path, method, **kwargs)
            what = f"{role} {method} {path}"
            if role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
            elif role in ("administrator", "curator"):
                problems.status(what, answer, {400, 409} if method == "POST" else 200)
            else:
                problems.status(what, answer, 403)
    # Curators may delete: a section, then the whole exhibit.
    for path in (
        f"/admin/exhibits/{exhibit.id}/sections/{section.id}/delete",
        f"/admin/exhibits/{exhibit.id}/delete",
    ):
        answer = fetch(world, "curator", path, "POST", data={"version_id": _exhibit_version(exhibit.id)})
        problems.status(f"curator POST {path}", answer, 303)
    problems.status("GET deleted exhibit", fetch(world, "visitor", f"/exhibits/{exhibit.slug}"), 404)
    finish(world, "test_exhibits_and_calendar", problems)


def _exhibit_version(exhibit_id: int) -> int:
    from archive.core.extensions import db
    from archive.exhibits.models import Exhibit

    db.session.expire_all()
    return db.session.get(Exhibit, exhibit_id).version_id


# --- search -----------------------------------------------------------------------------------------------


def _json(answer: Answer) -> dict:
    return json.loads(answer.data)


def _facet_count(body: dict, facet: str, key: str) -> int:
    for f in body["facets"]:
        if f["name"] == facet:
            return next((v["count"] for v in f["values"] if v["key"] == key), 0)
    return 0


def _hit_names(world, hits) -> set[str]:
    by_id = {pid: name for name, pid in world.record_ids.items()}
    return {by_id[h["public_id"]] for h in hits if h["public_id"] in by_id}


def _api_tokens(world) -> dict[str, str]:
    """A personal API token for every role that may hold one (contributors and staff)."""
    from archive.accounts.models import User
    from archive.api.tokens import create_token
    from archive.core.extensions import db

    tokens = {}
    for role in ROLES:
        user = db.session.get(User, world.user_ids[role]) if role in world.user_ids else None
        if user is not None and role in aw.CONTRIBUTING:
            _row, tokens[role] = create_token(user, f"probe {role}", None)
    db.session.commit()
    return tokens


def test_json_api(world):
    """The JSON API answers each token holder (and anyone without a token, as a visitor) with exactly what
    that person may see; the session cookie never counts; writes need a token of a contributor."""
    problems = Problems()
    tokens = _api_tokens(world)
    record_names = {pid: name for name, pid in world.record_ids.items()}
    for role in ROLES:
        token = tokens.get(role)
        who = role if token else "visitor"  # without a token the API reads as a visitor, signed in or not
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        forbidden = forbidden_for(world, who)
        visible = {world.record_ids[r.name] for r in RECORDS if sees_record(who, r)}

        listed, page = set(), 1
        while page < 20:
            answer = fetch(world, role, f"/api/v1/records?collection={aw.COLLECTION}&per_page=7&page={page}",
                           headers=headers)  # fmt: skip
            if not problems.status(f"{role} GET /api/v1/records page {page}", answer, 200):
                break
            problems.no_leak(f"{role} GET /api/v1/records", answer, forbidden)
            body = json.loads(answer.data)
            items = body.get("items", body.get("records", []))
            listed |= {item["id"] for item in items}
            if 'rel="next"' not in answer.header("Link"):
                break
            page += 1
        problems.expect(
            listed == visible,
            f"{role} /api/v1/records: {sorted(record_names.get(i, i) for i in listed ^ visible)} differ",
        )

        for pid, name in record_names.items():
            expected = 200 if pid in visible else 404
            for path in (f"/api/v1/records/{pid}", f"/api/v1/records/{pid}/media"):
                answer = fetch(world, role, path, headers=headers)
                problems.status(f"{role} GET {path} ({name})", answer, expected)
                problems.no_leak(f"{role} GET {path}", answer, forbidden)
        for spec in aw.MEDIA:
            mid = world.media_ids[spec.name]
            answer = fetch(world, role, f"/api/v1/media/{mid}", headers=headers)
            problems.status(
                f"{role} GET /api/v1/media ({spec.name})", answer, 200 if sees_media(who, spec) else 404
            )
            problems.no_leak(f"{role} GET /api/v1/media/{mid}", answer, forbidden)
        for path in (f"/api/v1/search?ethnic_group={aw.GROUP}", "/api/v1/vocabularies/ethnic-groups",
                     "/api/v1/vocabularies/places?q=bac", "/api/v1/vocabularies/categories",
                     "/api/v1/vocabularies/agents", "/api/v1/collections",
                     f"/api/v1/collections/{aw.COLLECTION}", "/api/v1/exhibits",
                     "/api/v1/openapi.json"):  # fmt: skip
            answer = fetch(world, role, path, headers=headers)
            problems.status(f"{role} GET {path}", answer, 200)
            problems.no_leak(f"{role} GET {path}", answer, forbidden)
        problems.status(
            f"{role} GET /api/v1/exhibits/<none>", fetch(world, role, "/api/v1/exhibits/zqx-none"), 404
        )

        # Writes: never with the session alone; with a token, the same rules as the forms. Invalid bodies are
        # sent so that nothing is created: 422 shows the caller got past the access checks.
        session_only = fetch(world, role, "/api/v1/records", "POST", json={})
        problems.status(f"{role} POST /api/v1/records with the session only", session_only, 401)
        if token:
            answer = fetch(world, role, "/api/v1/records", "POST", json={"texts": 5}, headers=headers)
            problems.status(f"{role} POST /api/v1/records (invalid)", answer, {400, 422})
        for pid, name in record_names.items():
            if pid in visible:
                continue
            for method, path, kwargs in (
                ("PATCH", f"/api/v1/records/{pid}", {"json": {}}),
                ("POST", f"/api/v1/records/{pid}/media", {"data": {}}),
                ("POST", f"/api/v1/records/{pid}/submit", {}),
            ):
                answer = fetch(world, role, path, method, headers=headers, **kwargs)
                problems.status(f"{role} {method} {path} ({name}, hidden)", answer, 404 if token else 401)
                problems.no_leak(f"{role} {method} {path}", answer, forbidden)

        # The token page: contributors and staff.
        page = fetch(world, role, "/account/tokens")
        if role == "visitor":
            problems.expect(login_redirect(page), f"visitor GET /account/tokens: {page.status}")
        else:
            problems.status(f"{role} GET /account/tokens", page, 200 if role in aw.CONTRIBUTING else 403)
        created = fetch(world, role, "/account/tokens", "POST", data={})
        if role == "visitor":
            problems.expect(login_redirect(created), f"visitor POST /account/tokens: {created.status}")
        else:
            problems.status(
                f"{role} POST /account/tokens (no name)", created, 400 if role in aw.CONTRIBUTING else 403
            )
        revoke = fetch(world, role, "/account/tokens/999999/revoke", "POST")
        if role != "visitor":
            problems.status(f"{role} POST /account/tokens/<other>/revoke", revoke, {403, 404})
    finish(world, "test_json_api", problems)


def test_iiif_presentation(world):
    """Manifests answer like the record page and hold only the files each person may see; collections list
    only visible records; a hidden canvas is refused."""
    problems = Problems()
    category = world_db_category(world)
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        for spec in RECORDS:
            pid = world.record_ids[spec.name]
            expected = aw.record_status(role, spec)
            what = f"{role} GET manifest of {spec.name}"
            answer = fetch(world, role, f"/iiif/records/{pid}/manifest.json")
            problems.status(what, answer, expected if expected != 403 else {401, 403})
            problems.no_leak(what, answer, forbidden)
            if expected == 200:
                shown = {
                    m.name
                    for m in aw.MEDIA
                    if m.record == spec.name and world.media_ids[m.name] in answer.text
                }
                wanted = {m.name for m in aw.MEDIA if m.record == spec.name and sees_media(role, m)}
                problems.expect(shown == wanted, f"{what}: files {sorted(shown)}, expected {sorted(wanted)}")
                if spec.level != "public" or spec.status != "published":
                    not_public_cache(problems, what, answer)
                for m in aw.MEDIA:
                    if m.record == spec.name:
                        canvas = fetch(world, role, f"/iiif/records/{pid}/canvas/{world.media_ids[m.name]}")
                        ok = sees_media(role, m)
                        problems.status(f"{role} GET canvas {m.name}", canvas, 200 if ok else {401, 403, 404})
                        if not ok:
                            problems.no_leak(f"{role} GET canvas {m.name}", canvas, forbidden)
        for path in ("/iiif/collections/top.json", f"/iiif/collections/groups/{aw.GROUP}.json",
                     f"/iiif/collections/places/{aw.PLACE}.json",
                     f"/iiif/collections/categories/{category}.json",
                     f"/iiif/collections/collections/{aw.COLLECTION}.json"):  # fmt: skip
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, 200)
            problems.no_leak(f"{role} GET {path}", answer, forbidden)
        answer = fetch(world, role, "/iiif/collections/exhibits/zqx-none.json")
        problems.status(f"{role} GET unknown exhibit collection", answer, 404)
    finish(world, "test_iiif_presentation", problems)


OAI = {"oai": "http://www.openarchives.org/OAI/2.0/"}


def _oai_identifiers(world, role: str, method: str, problems: Problems) -> set[str]:
    """Public ids of the non-deleted items of a whole ListRecords harvest of the world's group set."""
    from lxml import etree

    found: set[str] = set()
    arguments = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": f"group:{aw.GROUP}"}
    for _ in range(50):
        if method == "GET":
            answer = fetch(world, role, "/oai?" + "&".join(f"{k}={v}" for k, v in arguments.items()))
        else:
            answer = fetch(world, role, "/oai", "POST", data=arguments)
        if not problems.status(f"{role} {method} /oai {arguments}", answer, 200):
            break
        root = etree.fromstring(answer.data)
        for header in root.iterfind(".//oai:record/oai:header", OAI):
            if header.get("status") != "deleted":
                found.add(header.findtext("oai:identifier", namespaces=OAI).rsplit(":", 1)[-1])
        token = root.findtext(".//oai:resumptionToken", namespaces=OAI)
        if not token:
            break
        arguments = {"verb": "ListRecords", "resumptionToken": token}
    return found


def test_oai_pmh(world):
    """Harvesters get the records an anonymous visitor may see, whoever is signed in, by GET and POST."""
    problems = Problems()
    public_ids = {world.record_ids[r.name] for r in RECORDS if sees_record("visitor", r)}
    hidden = world.hidden_ids("visitor")
    for role in ROLES:
        for method in ("GET", "POST"):
            found = _oai_identifiers(world, role, method, problems)
            problems.expect(
                found == public_ids, f"{role} {method} /oai: {len(found)} items, expected {len(public_ids)}"
            )
        for pid in sorted(hidden & set(world.record_ids.values())):
            answer = fetch(
                world, role, f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:archive.test:{pid}"
            )
            problems.expect(b'code="idDoesNotExist"' in answer.data, f"{role} GetRecord of hidden {pid}")
            problems.no_leak(f"{role} GetRecord {pid}", answer, forbidden_for(world, "visitor"))
    finish(world, "test_oai_pmh", problems)


def test_search_exports(world, backend):
    """Search exports hold exactly the records each person may find, in every format."""
    problems = Problems()
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        expected = {r.name for r in searchable(role)}
        for fmt in ("xml", "jsonld", "csv", "bib", "csl.json"):
            what = f"{role} [{backend}] GET /search/export.{fmt}?ethnic_group={aw.GROUP}"
            answer = fetch(world, role, f"/search/export.{fmt}?ethnic_group={aw.GROUP}")
            if not problems.status(what, answer, 200):
                continue
            problems.no_leak(what, answer, forbidden)
            found = {name for name, pid in world.record_ids.items() if pid in answer.text}
            problems.expect(found == expected, f"{what}: holds {sorted(found)}, expected {sorted(expected)}")
            problems.expect(
                answer.header("X-Total-Count") == str(len(expected)),
                f"{what}: X-Total-Count {answer.header('X-Total-Count')}, expected {len(expected)}",
            )
    finish(world, "test_search_exports", problems)


def test_search_json(world, backend):
    """Totals, hits and facet counts of /search.json count exactly the records each person may see."""
    problems = Problems()
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        expected = {r.name for r in searchable(role)}
        tag = f"{role} [{backend}]"

        hits, page, pages = [], 1, 1
        while page <= pages:
            what = f"{tag} GET /search.json?ethnic_group={aw.GROUP}&page={page}"
            answer = fetch(world, role, f"/search.json?ethnic_group={aw.GROUP}&page={page}")
            if not problems.status(what, answer, 200):
                break
            body = _json(answer)
            problems.no_leak(what, answer, forbidden)
            problems.expect(
                body["total"] == len(expected), f"{what}: total {body['total']}, expected {len(expected)}"
            )
            for facet, key in (("ethnic_group", aw.GROUP), ("collection", aw.COLLECTION)):
                count = _facet_count(body, facet, key)
                problems.expect(
                    count == len(expected),
                    f"{what}: facet {facet}={key} counts {count}, expected {len(expected)}",
                )
            hits += body["hits"]
            pages, page = body["pages"], page + 1
        found = _hit_names(world, hits)
        problems.expect(
            found == expected, f"{tag} browse {aw.GROUP}: hits {sorted(found)}, expected {sorted(expected)}"
        )

        what = f"{tag} GET /search.json"
        answer = fetch(world, role, "/search.json")
        body = _json(answer)
        problems.no_leak(what, answer, forbidden)
        added = body["total"] - world.baseline[backend][role]["search_total"]
        problems.expect(added == len(expected), f"{what}: total grew by {added}, expected {len(expected)}")
        for facet, key in (("ethnic_group", aw.GROUP), ("collection", aw.COLLECTION)):
            count = _facet_count(body, facet, key)
            problems.expect(
                count == len(expected),
                f"{what}: facet {facet}={key} counts {count}, expected {len(expected)}",
            )

        for spec in RECORDS:
            what = f"{tag} GET /search.json?q={spec.secret}"
            body = _json(fetch(world, role, f"/search.json?q={spec.secret}"))
            body.pop("query", None)
            want = 1 if sees_record(role, spec) else 0
            problems.expect(
                body["total"] == want and len(body["hits"]) == want,
                f"{what}: total {body['total']} with {len(body['hits'])} hits, expected {want}",
            )
            problems.no_leak(what, json.dumps(body), forbidden)
            # A near miss must never be corrected into a word of a record this person may not see.
            near = spec.secret[:-1] + "x"
            what = f"{tag} GET /search.json?q={near}"
            answer = fetch(world, role, f"/search.json?q={near}")
            problems.no_leak(what, answer, forbidden)

        for m in MEDIA:
            for word in m.secrets:
                what = f"{tag} GET /search.json?q={word} (media {m.name})"
                body = _json(fetch(world, role, f"/search.json?q={word}"))
                body.pop("query", None)
                names = _hit_names(world, body["hits"])
                if body["total"] or names:
                    problems.expect(sees_media(role, m), f"{what}: LEAKED, finds {sorted(names)}")
                if m.key == "public" and sees_record(role, RECORD[m.record]):
                    problems.expect(
                        names == {m.record}, f"{what}: public media text not found ({sorted(names)})"
                    )
                problems.no_leak(what, json.dumps(body), forbidden)
    finish(world, "test_search_json", problems)


def test_search_page(world, backend):
    """The search page shows each person the records they may see, and nothing of the others."""
    problems = Problems()
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        expected = {r.secret for r in searchable(role)}
        tag = f"{role} [{backend}]"
        seen, page, more = set(), 1, True
        while more:
            what = f"{tag} GET /search?ethnic_group={aw.GROUP}&page={page}"
            answer = fetch(world, role, f"/search?ethnic_group={aw.GROUP}&page={page}")
            if not problems.status(what, answer, 200):
                break
            problems.no_leak(what, answer, forbidden)
            seen |= {word for word in expected if word in answer.text}
            more = bool(lxml_html.fromstring(answer.text).xpath("//a[@rel='next']"))
            page += 1
        problems.expect(
            seen == expected, f"{tag} /search?ethnic_group={aw.GROUP}: missing {sorted(expected - seen)}"
        )

        what = f"{tag} GET /search?collection={aw.COLLECTION}"
        answer = fetch(world, role, f"/search?collection={aw.COLLECTION}")
        problems.status(what, answer, 200)
        problems.no_leak(what, answer, forbidden)

        for spec in RECORDS:
            pid = world.record_ids[spec.name]
            what = f"{tag} GET /search?q={spec.secret}"
            answer = fetch(world, role, f"/search?q={spec.secret}")
            problems.status(what, answer, 200)
            link = f"/records/{pid}/"
            problems.expect(
                (link in answer.text) == sees_record(role, spec),
                f"{what}: hit shown={link in answer.text}, may see={sees_record(role, spec)}",
            )
            problems.no_leak(what, answer, forbidden)
        for m in MEDIA:
            for word in m.secrets:
                what = f"{tag} GET /search?q={word} (media {m.name})"
                answer = fetch(world, role, f"/search?q={word}")
                problems.no_leak(what, answer, forbidden)
                if not sees_media(role, m):
                    link = f"/records/{world.record_ids[m.record]}/"
                    problems.expect(link not in answer.text, f"{what}: LEAKED, finds its record")
    finish(world, "test_search_page", problems)


def test_autocomplete(world, backend):
    """Autocomplete offers only titles a person may see, and counts only those records under a group."""
    problems = Problems()
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        tag = f"{role} [{backend}]"
        for prefix in ("zqx", "thăm dò zqx", aw.TITLE_WORDS):
            what = f"{tag} GET /search/autocomplete.json?q={prefix}"
            answer = fetch(world, role, f"/search/autocomplete.json?q={prefix}")
            if problems.status(what, answer, 200):
                problems.no_leak(what, json.dumps(_json(answer)["results"]), forbidden)
        for spec in RECORDS:
            what = f"{tag} GET /search/autocomplete.json?q={spec.secret}"
            results = _json(fetch(world, role, f"/search/autocomplete.json?q={spec.secret}"))["results"]
            offered = any(r["kind"] == "title" and spec.secret in r["label"] for r in results)
            problems.expect(
                offered == sees_record(role, spec),
                f"{what}: offered={offered}, may see={sees_record(role, spec)}",
            )
        what = f"{tag} GET /search/autocomplete.json?q={aw.GROUP_PREFIX}"
        results = _json(fetch(world, role, f"/search/autocomplete.json?q={aw.GROUP_PREFIX}"))["results"]
        counts = [r["count"] for r in results if r["kind"] == "ethnic_group"]
        problems.expect(
            counts == [len(searchable(role))],
            f"{what}: group counts {counts}, expected [{len(searchable(role))}]",
        )
    finish(world, "test_autocomplete", problems)


# --- media ------------------------------------------------------------------------------------------------


IIIF_REQUESTS = (
    "info.json",
    "full/max/0/default.jpg",
    "0,0,512,512/512,/0/default.jpg",  # a stored tile
    "10,10,300,200/!150,150/0/default.png",  # rendered, then kept in the render cache
)


def test_iiif_image_api(world):
    """Every IIIF request for every picture: served to those who may see it, refused (401/403) to the rest,
    also when a cached render or a known ETag exists for someone else."""
    problems = Problems()
    etags: dict[str, str] = {}
    for role in ROLES:  # staff first: their renders and ETags exist before anyone else asks
        forbidden = forbidden_for(world, role)
        for m in MEDIA:
            if m.kind != "image":
                continue
            mid = world.media_ids[m.name]
            may = sees_media(role, m)
            base = fetch(world, role, f"/iiif/3/{mid}")
            problems.expect(
                base.status == 303 and base.header("Location").endswith(f"/iiif/3/{mid}/info.json"),
                f"{role} GET /iiif/3/{mid}: {base.status} -> {base.header('Location')}",
            )
            for request in IIIF_REQUESTS:
                path = f"/iiif/3/{mid}/{request}"
                what = f"{role} GET {path} ({m.name})"
                answer = fetch(world, role, path)
                if may:
                    if problems.status(what, answer, 200):
                        if request == "info.json":
                            problems.expect(
                                _json(answer)["id"].endswith(f"/iiif/3/{mid}"), f"{what}: wrong id"
                            )
                        else:
                            problems.expect(
                                answer.data[:2] in (b"\xff\xd8", b"\x89P"), f"{what}: not an image"
                            )
                        etags.setdefault(path, answer.header("ETag"))
                        if not sees_media("visitor", m):
                            not_public_cache(problems, what, answer)
                else:
                    problems.status(what, answer, media_denial(role))
                    if etags.get(path):
                        replay = fetch(world, role, path, headers={"If-None-Match": etags[path]})
                        problems.status(f"{what} with a known ETag", replay, media_denial(role))
                problems.no_leak(what, answer, forbidden)
    finish(world, "test_iiif_image_api", problems)


def test_media_files_renditions_and_captions(world):
    """Originals (whole and by range), renditions and caption tracks of every file, for every person."""
    problems = Problems()
    renditions = {"image": ("thumbnail",), "audio": ("web", "low", "peaks")}
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        for m in MEDIA:
            mid, original = world.media_ids[m.name], world.originals[m.name]
            may = sees_media(role, m)
            refused = media_denial(role)

            what = f"{role} GET /media/{mid}/file ({m.name})"
            answer = fetch(world, role, f"/media/{mid}/file")
            if problems.status(what, answer, 200 if may else refused) and may:
                problems.expect(answer.data == original, f"{what}: not the original")
                if not sees_media("visitor", m):
                    not_public_cache(problems, what, answer)
            problems.no_leak(what, answer, forbidden)
            problems.expect(may or original[:64] not in answer.data, f"{what}: LEAKED the original's bytes")

            what = f"{role} GET /media/{mid}/file with Range: bytes=0-15 ({m.name})"
            answer = fetch(world, role, f"/media/{mid}/file", headers={"Range": "bytes=0-15"})
            if problems.status(what, answer, 206 if may else refused) and may:
                problems.expect(answer.data == original[:16], f"{what}: wrong bytes")
            problems.no_leak(what, answer, forbidden)

            for name in renditions[m.kind]:
                what = f"{role} GET /media/{mid}/r/{name} ({m.name})"
                answer = fetch(world, role, f"/media/{mid}/r/{name}")
                if problems.status(what, answer, 200 if may else refused) and may:
                    problems.expect(len(answer.data) > 0, f"{what}: empty")
                    if not sees_media("visitor", m):
                        not_public_cache(problems, what, answer)
                problems.no_leak(what, answer, forbidden)

            if m.vtt:
                what = f"{role} GET /media/{mid}/captions/captions-vi.vtt ({m.name})"
                answer = fetch(world, role, f"/media/{mid}/captions/captions-vi.vtt")
                if problems.status(what, answer, 200 if may else refused) and may:
                    problems.expect(m.vtt_secret in answer.text, f"{what}: cue text missing")
                problems.no_leak(what, answer, forbidden)
    finish(world, "test_media_files_renditions_and_captions", problems)


# --- tools, own pages, staff pages ------------------------------------------------------------------------


TOOLS = (
    ("media", "/records/{pid}/media"),
    ("history", "/records/{pid}/history"),
    ("history", "/records/{pid}/history/1"),
    ("consent_read", "/records/{pid}/consent"),
    ("edit", "/records/{pid}/edit"),
)


def test_record_tools(world):
    """The pages of a record's tools (add media, history and revisions, consent, the edit form) open only
    to those who may use them, and show nothing of a record to anyone else."""
    problems = Problems()
    for role in ROLES:
        for spec in RECORDS:
            pid = world.record_ids[spec.name]
            for action, pattern in TOOLS:
                path = pattern.format(pid=pid)
                what = f"{role} GET {path} ({spec.name})"
                answer = fetch(world, role, path)
                allowed = may_manage(role, spec, action)
                if allowed:
                    if problems.status(what, answer, 200):
                        problems.expect(spec.secret in answer.text, f"{what}: title missing")
                elif role == "visitor":
                    problems.expect(
                        login_redirect(answer), f"{what}: status {answer.status}, expected sign-in"
                    )
                elif action == "edit":  # documented: hidden 404, withdrawn 410, visible but not editable 403
                    hidden = record_status(role, spec)
                    problems.status(what, answer, 403 if hidden == 200 else (410 if hidden == 410 else 404))
                else:
                    problems.status(what, answer, {403, 404, 410})
                reading = allowed and action in ("history", "consent_read")
                allow = world.workspace(role) if reading else set()
                problems.no_leak(what, answer, forbidden_for(world, role) - allow)
    finish(world, "test_record_tools", problems)


def test_pages_of_ones_own(world):
    """My uploads, my password, my bulk import and my resumable upload: each person sees only their own."""
    problems = Problems()
    token, tus = world.import_token, world.tus_token
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        workspace = forbidden - world.workspace(role)
        pages = {
            "/my/media": (200, workspace),
            "/notifications": (200, workspace),
            "/account/password": (200, forbidden),
            "/my/records": (200 if role in aw.CONTRIBUTING else 403, workspace),
            "/records/new": (200 if role in aw.CONTRIBUTING else 403, forbidden),
        }
        for path, (status, words) in pages.items():
            what = f"{role} GET {path}"
            answer = fetch(world, role, path)
            if role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}, expected sign-in")
            else:
                problems.status(what, answer, status)
            problems.no_leak(what, answer, words)
            if role == "owner" and path in ("/my/media", "/my/records"):
                for spec in RECORDS:
                    if spec.owner == "owner" and sees_record("owner", spec):
                        problems.expect(spec.secret in answer.text, f"{what}: own record {spec.name} missing")

        what = f"{role} GET /import"
        answer = fetch(world, role, "/import")
        if role == "visitor":
            problems.expect(login_redirect(answer), f"{what}: status {answer.status}, expected sign-in")
        else:
            problems.status(what, answer, 200 if role in aw.CONTRIBUTING else 403)

        what = f"{role} GET /import/<owner's token>"
        answer = fetch(world, role, f"/import/{token}")
        if role == "owner":
            if problems.status(what, answer, 200):
                problems.expect(aw.IMPORT_SECRET in answer.text, f"{what}: the report's problem is missing")
        elif role == "visitor":
            problems.expect(login_redirect(answer), f"{what}: status {answer.status}, expected sign-in")
        else:
            problems.status(what, answer, 404 if role in aw.CONTRIBUTING else 403)
        problems.no_leak(what, answer, forbidden)

        what = f"{role} GET /uploads/<owner's token>/status"
        answer = fetch(world, role, f"/uploads/{tus}/status")
        expected = {"owner": 200, "visitor": 401}.get(role, 404)
        if problems.status(what, answer, expected) and expected == 200:
            problems.expect(aw.TUS_SECRET in answer.text, f"{what}: file name missing")
        problems.no_leak(what, answer, forbidden)

        what = f"{role} GET /uploads/csrf-token"
        problems.status(what, fetch(world, role, "/uploads/csrf-token"), 401 if role == "visitor" else 200)
    finish(world, "test_pages_of_ones_own", problems)


def test_staff_pages(world):
    """Administration pages answer administrators only; the others learn nothing from them."""
    problems = Problems()
    admin = {"administrator"}
    pages = {
        "/admin/users": admin,
        "/admin/audit": admin,
        "/admin/communities": admin,
        f"/admin/communities/{world.community_slugs['A']}": admin,
        "/review": set(STAFF),
    }
    for role in ROLES:
        for path, staff in pages.items():
            what = f"{role} GET {path}"
            answer = fetch(world, role, path)
            if role in staff:
                problems.status(what, answer, 200)
                if path == "/review":
                    problems.expect(
                        RECORD["review"].secret in answer.text, f"{what}: record in review missing"
                    )
            elif role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}, expected sign-in")
            else:
                problems.status(what, answer, 403)
            # The audit log and the review queue are staff workspaces: they may name a withdrawn record.
            problems.no_leak(what, answer, forbidden_for(world, role) - world.workspace(role))
    finish(world, "test_staff_pages", problems)


def test_pages_without_archive_content(world):
    """Sign-in pages, static files and tus discovery hold nothing of the archive's records."""
    from archive.records.viewer import osd_version

    problems = Problems()
    requests = [
        ("GET", "/login", {}),
        ("POST", "/login", {"data": {"email": "nobody@example.vn", "password": "wrong"}}),
        ("GET", "/password/forgot", {}),
        ("POST", "/password/forgot", {"data": {}}),
        ("GET", "/password/reset/not-a-token", {}),
        ("POST", "/password/reset/not-a-token", {"data": {}}),
        ("GET", "/invite/not-a-token", {}),
        ("POST", "/invite/not-a-token", {"data": {}}),
        ("GET", "/static/archive.css", {}),
        ("GET", "/static/vendor/tus.min.js", {}),
        ("GET", "/display?text=large&next=/records", {}),
        ("GET", f"/static/vendor/openseadragon/{osd_version()}/openseadragon.min.js", {}),
        ("GET", f"/static/vendor/openseadragon/{osd_version()}/images/zoomin_rest.png", {}),
        ("OPTIONS", "/uploads/", {}),
    ]
    for role in ("visitor", "researcher"):
        for method, path, kwargs in requests:
            what = f"{role} {method} {path}"
            answer = fetch(world, role, path, method, **kwargs)
            problems.expect(answer.status < 500, f"{what}: status {answer.status}")
            problems.no_leak(what, answer, forbidden_for(world, role))
    # Changing a password and signing out, on clients of their own (the role clients stay signed in).
    spare = world.app.test_client()
    world.clients["spare"] = spare
    for method, path, kwargs in (("POST", "/account/password", {"data": {}}), ("POST", "/logout", {})):
        answer = fetch(world, "spare", path, method, **kwargs)
        problems.expect(login_redirect(answer), f"visitor {method} {path}: status {answer.status}")
    finish(world, "test_pages_without_archive_content", problems)


PICKERS = (
    "/pickers/ethnic-groups.json?q=pu",
    "/pickers/places.json?q=ha",
    "/pickers/agents.json?q=a",
    "/pickers/subjects.json?q=le",
    "/pickers/lunar.json?month=1&day=15",
)


def test_pickers(world):
    """The record form's pickers answer contributors and staff (401 visitor, 403 others) with vocabulary
    only."""
    problems = Problems()
    for role in ROLES:
        for path in PICKERS:
            what = f"{role} GET {path}"
            answer = fetch(world, role, path)
            expected = 401 if role == "visitor" else (200 if role in aw.CONTRIBUTING else 403)
            problems.status(what, answer, expected)
            problems.no_leak(what, answer, forbidden_for(world, role))
    finish(world, "test_pickers", problems)


def test_workflow_transitions(world):
    """Who may submit, publish, return and withdraw which record: probed without a comment, so that no
    transition that needs one happens; the transitions that would succeed are not sent."""
    problems = Problems()
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        for spec in RECORDS:
            pid = world.record_ids[spec.name]
            for action in aw.TRANSITIONS:
                expected = aw.transition_answer(role, spec, action)
                if expected is None:
                    continue
                what = f"{role} POST /records/{pid}/workflow/{action} ({spec.name})"
                answer = fetch(world, role, f"/records/{pid}/workflow/{action}", "POST", data={})
                if expected == 302:
                    problems.expect(
                        login_redirect(answer), f"{what}: status {answer.status}, expected sign-in"
                    )
                else:
                    problems.status(what, answer, expected)
                problems.no_leak(what, answer, forbidden)
    finish(world, "test_workflow_transitions", problems)


# --- changing data: who may -------------------------------------------------------------------------------


def _refused(problems: Problems, what: str, role: str, answer: Answer, signed_in: set[int]) -> None:
    if role == "visitor":
        problems.expect(
            login_redirect(answer) or answer.status == 401,
            f"{what}: status {answer.status}, expected sign-in",
        )
    else:
        problems.status(what, answer, signed_in)


def test_who_may_change_data(world):
    """Every request that changes data is refused to those who may not make it, before anything is read or
    written; those who may get past the permission check (probed with requests that change nothing)."""
    from sqlalchemy import func, select

    from archive.core.extensions import db
    from archive.workflow.models import RecordRevision

    problems = Problems()
    refused = {403, 404, 410}
    tus_headers = {"Tus-Resumable": "1.0.0"}
    for role in ROLES:
        forbidden = forbidden_for(world, role)
        for spec in RECORDS:
            pid = world.record_ids[spec.name]
            # Adding media: an empty form (400) once past the permission check.
            what = f"{role} POST /records/{pid}/media ({spec.name})"
            answer = fetch(world, role, f"/records/{pid}/media", "POST", data={})
            if may_manage(role, spec, "media"):
                problems.status(what, answer, 400)
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

            what = f"{role} POST /uploads/ for {pid} ({spec.name})"
            headers = {**tus_headers, "Upload-Length": "0", "Upload-Metadata": aw.tus_metadata(record=pid)}
            answer = fetch(world, role, "/uploads/", "POST", headers=headers)
            if may_manage(role, spec, "media"):
                problems.status(what, answer, 400)  # an empty file, refused after the permission check
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

            what = f"{role} POST /records/{pid}/edit ({spec.name})"
            answer = fetch(world, role, f"/records/{pid}/edit", "POST", data={})
            if may_manage(role, spec, "edit"):
                problems.status(what, answer, 400)
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

            what = f"{role} POST /records/{pid}/consent ({spec.name})"
            answer = fetch(world, role, f"/records/{pid}/consent", "POST", data={})
            if may_manage(role, spec, "consent"):
                problems.status(what, answer, 400)
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

            # Restoring a revision: curators only. A revision that does not exist (404) once allowed; the
            # creator, who may read the history, is refused the restore of a real one.
            number = 1 if role == "owner" and spec.owner == "owner" else 999
            what = f"{role} POST /records/{pid}/history/{number}/restore ({spec.name})"
            before = db.session.scalar(
                select(func.count())
                .select_from(RecordRevision)
                .where(RecordRevision.record_id == world.record_pk[spec.name])
            )
            answer = fetch(world, role, f"/records/{pid}/history/{number}/restore", "POST", data={})
            after = db.session.scalar(
                select(func.count())
                .select_from(RecordRevision)
                .where(RecordRevision.record_id == world.record_pk[spec.name])
            )
            problems.expect(before == after, f"{what}: a revision was restored")
            if may_manage(role, spec, "restore"):
                problems.status(what, answer, 404)
            elif number == 1:  # the creator reads the history; the restore is refused with a message
                problems.status(what, answer, {303, 403})
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

        for m in MEDIA:
            mid = world.media_ids[m.name]
            what = f"{role} POST /media/{mid}/access ({m.name})"
            answer = fetch(world, role, f"/media/{mid}/access", "POST", data={"access_level": "nobody"})
            if may_manage(role, RECORD[m.record], "media"):
                problems.status(what, answer, 400)
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

            what = f"{role} POST /media/{mid}/captions ({m.name})"
            answer = fetch(world, role, f"/media/{mid}/captions", "POST", data={})
            if may_manage(role, RECORD[m.record], "media"):
                problems.status(what, answer, 400)
            else:
                _refused(problems, what, role, answer, refused)
            problems.no_leak(what, answer, forbidden)

        consent = world.consent_ids["consentwithdrawn"]
        pid = world.record_ids["consentwithdrawn"]
        what = f"{role} POST /records/{pid}/consent/{consent}/withdraw (already withdrawn)"
        answer = fetch(
            world, role, f"/records/{pid}/consent/{consent}/withdraw", "POST", data={"reason": "x"}
        )
        if may_manage(role, RECORD["consentwithdrawn"], "consent"):
            problems.status(what, answer, 409)
        else:
            _refused(problems, what, role, answer, refused)
        problems.no_leak(what, answer, forbidden)

        # The owner's resumable upload: nobody else may look at it, add to it or end it.
        for method in ("HEAD", "PATCH", "DELETE"):
            what = f"{role} {method} /uploads/<owner's token>"
            if role == "owner" and method != "HEAD":
                continue  # the owner's own upload stays open for the other probes
            headers = dict(tus_headers)
            if method == "PATCH":
                headers.update({"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
            answer = fetch(
                world,
                role,
                f"/uploads/{world.tus_token}",
                method,
                headers=headers,
                data=b"x" * 10 if method == "PATCH" else None,
            )
            problems.status(what, answer, {"owner": 200, "visitor": 401}.get(role, 404))

        # Bulk import and administration: refused, or an empty form (400) / unknown account (404).
        checks = [
            ("/import", {"data": {}}, 400 if role in aw.CONTRIBUTING else None),
            ("/records/new", {"data": {}}, 400 if role in aw.CONTRIBUTING else None),
            ("/notifications", {"data": {}}, 303 if role != "visitor" else None),
            (
                f"/import/{world.import_token}/confirm",
                {},
                404 if role in aw.CONTRIBUTING and role != "owner" else None,
            ),
            ("/admin/users", {"data": {}}, 400 if role == "administrator" else None),
            ("/admin/communities", {"data": {}}, 400 if role == "administrator" else None),
            (
                f"/admin/communities/{world.community_slugs['A']}",
                {"data": {}},
                400 if role == "administrator" else None,
            ),
        ]
        for action in ("role", "deactivate", "reactivate", "invitation"):
            checks.append(
                (f"/admin/users/999999/{action}", {"data": {}}, 404 if role == "administrator" else None)
            )
        for path, kwargs, allowed in checks:
            if role == "owner" and path.endswith("/confirm"):
                continue  # confirming would import the owner's staged rows
            what = f"{role} POST {path}"
            answer = fetch(world, role, path, "POST", **kwargs)
            if allowed is not None:
                problems.status(what, answer, allowed)
            else:
                _refused(problems, what, role, answer, {403})
            problems.no_leak(what, answer, forbidden)
    finish(world, "test_who_may_change_data", problems)


# --- open datasets ----------------------------------------------------------------------------------------

DATASET_SECRETS = ("DSDRAFTTITLE", "DSDRAFTROW", "DSNEXTROW")


def _probe_datasets(world, tmp_path):
    """A public dataset with a draft next version, and a draft-only dataset prepared by the contributor;
    the words of both drafts are secrets nobody may read outside the admin."""
    from archive.accounts.models import User
    from archive.core.extensions import db
    from archive.datasets import services
    from tests.datasets.factories import CSV, make_dataset

    public = make_dataset(db, tmp_path)
    next_csv = tmp_path / "next.csv"
    next_csv.write_text(CSV + "DSNEXTROW,1,0.1\n", encoding="utf-8")
    services.upload_table(
        None,
        public,
        services.UploadRequest(
            path=next_csv, filename="communes.csv", name="communes", schema_mode="previous"
        ),
        system=True,
    )
    contributor = db.session.get(User, world.user_ids["contributor"])
    draft = make_dataset(
        db,
        tmp_path,
        title="DSDRAFTTITLE",
        csv_text=CSV + "DSDRAFTROW,2,0.2\n",
        publish=False,
        user=contributor,
    )
    db.session.commit()
    return public, draft


def test_open_datasets(world, tmp_path):
    """Public dataset pages, files, catalogue and API are the same for everyone and never show a draft;
    drafts answer 404 everywhere public; the admin is for officers, each on their own datasets."""
    problems = Problems()
    public, draft = _probe_datasets(world, tmp_path)
    slug, table = public.slug, "communes"
    secrets = set(DATASET_SECRETS)
    public_paths = [
        "/datasets",
        f"/datasets/{slug}",
        f"/datasets/{slug}/v1",
        f"/datasets/{slug}/v1/{table}",
        f"/datasets/{slug}/v1/{table}?q=Qu%E1%BA%A3ng&sort=communes&desc=1",
        f"/datasets/{slug}/v1/{table}.csv",
        f"/datasets/{slug}/v1/{table}.json",
        f"/datasets/{slug}/v1/{table}.xlsx",
        "/catalog.ttl",
        "/catalog.jsonld",
        f"/datasets/{slug}/v1/datapackage.json",
        "/api/v1/datasets",
        f"/api/v1/datasets/{slug}",
        f"/api/v1/datasets/{slug}/versions/1",
        f"/api/v1/datasets/{slug}/versions/1/tables/{table}",
        f"/api/v1/datasets/{slug}/versions/1/tables/{table}/rows",
        "/search.json?q=DSDRAFTTITLE&type=datasets",
    ]
    redirects = [f"/datasets/{slug}/latest/{table}.csv", f"/datasets/{slug}/datapackage.json", "/catalog"]
    hidden = [
        f"/datasets/{slug}/v2",
        f"/datasets/{slug}/v2/{table}",
        f"/datasets/{slug}/v2/{table}.csv",
        f"/datasets/{slug}/v2/datapackage.json",
        f"/api/v1/datasets/{slug}/versions/2",
        f"/api/v1/datasets/{slug}/versions/2/tables/{table}/rows",
        f"/datasets/{draft.slug}",
        f"/datasets/{draft.slug}/v1",
        f"/datasets/{draft.slug}/v1/{table}",
        f"/datasets/{draft.slug}/v1/{table}.json",
        f"/datasets/{draft.slug}/latest/{table}.csv",
        f"/datasets/{draft.slug}/v1/datapackage.json",
        f"/datasets/{draft.slug}/datapackage.json",
        f"/api/v1/datasets/{draft.slug}",
        f"/api/v1/datasets/{draft.slug}/versions/1/tables/{table}",
    ]
    for role in ROLES:
        for path in public_paths:
            answer = fetch(world, role, path)
            what = f"{role} GET {path}"
            problems.status(what, answer, 200)
            if not path.endswith(".xlsx"):
                problems.no_leak(what, answer, secrets)
        for path in redirects:
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, {302, 303})
        for path in hidden:
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, 404)
            problems.no_leak(f"{role} GET {path}", answer, secrets)

        # The admin: officers (contributors) and curators. A contributor works on their own datasets only;
        # the public dataset (made by the system) and its draft are the curators'.
        base, mine = f"/admin/datasets/{public.id}", f"/admin/datasets/{draft.id}"
        draft_table = draft.versions[0].tables[0].id
        next_table = public.draft_version.tables[0].id
        own = [
            ("GET", mine, {}),
            ("GET", f"{mine}/v1", {}),
            ("GET", f"{mine}/edit", {}),
        ]
        curators_only = [
            ("GET", f"{base}/v2", {}),
            ("GET", f"{base}/edit", {}),
            ("POST", f"{base}/edit", {"data": {}}),
            ("POST", f"{base}/upload", {"data": {}}),
            ("POST", f"{base}/v2/tables/{next_table}/schema", {"data": {}}),
            ("POST", f"{base}/v2/notes", {"data": {}}),
            ("GET", f"{base}/v2/discard", {}),
        ]
        answer = fetch(world, role, "/admin/datasets")
        what = f"{role} GET /admin/datasets"
        if role == "visitor":
            problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
        elif role in ("administrator", "curator", "contributor", "owner"):
            problems.status(what, answer, 200)
            if role == "owner":
                problems.no_leak(what, answer, {"DSDRAFTTITLE"})
        else:
            problems.status(what, answer, 403)
        for method, path, kwargs in [
            ("GET", "/admin/datasets/new", {}),
            ("POST", "/admin/datasets/new", {"data": {}}),
        ]:
            answer = fetch(world, role, path, method, **kwargs)
            what = f"{role} {method} {path}"
            if role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
            elif role in ("administrator", "curator", "contributor", "owner"):
                problems.status(what, answer, 400 if method == "POST" else 200)
            else:
                problems.status(what, answer, 403)
        for method, path, kwargs in own + curators_only:
            answer = fetch(world, role, path, method, **kwargs)
            what = f"{role} {method} {path}"
            allowed = role in ("administrator", "curator") or (
                role == "contributor" and (method, path, kwargs) in own
            )
            if role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
            elif allowed:
                # Empty forms are refused (400) or stale (409); empty version notes are simply saved (303).
                problems.status(what, answer, {303, 400, 409} if method == "POST" else 200)
            else:
                problems.status(what, answer, 403)
                problems.no_leak(what, answer, secrets)
        # What changes state, tried by those who may not: refused, and nothing changed.
        if role not in ("administrator", "curator"):
            for path in (
                f"{base}/v2/publish",
                f"{base}/withdraw",
                f"{base}/reinstate",
                f"{base}/v2/discard",
                f"{base}/v2/tables/{next_table}/remove",
                f"{mine}/v1/publish",
            ):
                answer = fetch(world, role, path, "POST")
                what = f"{role} POST {path}"
                if role == "visitor":
                    problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
                else:
                    problems.status(what, answer, 403)
        if role != "contributor" and role not in ("administrator", "curator"):
            answer = fetch(world, role, f"{mine}/v1/tables/{draft_table}/remove", "POST")
            if role != "visitor":
                problems.status(f"{role} POST remove a contributor's table", answer, 403)
    # Those who may act: the curator withdraws and reinstates the public dataset; the contributor's own
    # draft is refused publication (contributors do not publish), then discarded by them.
    for path in (f"/admin/datasets/{public.id}/withdraw", f"/admin/datasets/{public.id}/reinstate"):
        answer = fetch(world, "curator", path, "POST")
        problems.status(f"curator POST {path}", answer, {302, 303})
    answer = fetch(world, "contributor", f"/admin/datasets/{draft.id}/v1/tables/{draft_table}/remove", "POST")
    problems.status("contributor removes a table of their draft", answer, {302, 303})
    answer = fetch(world, "contributor", f"/admin/datasets/{draft.id}/v1/discard", "POST")
    problems.status("contributor discards their draft", answer, {302, 303})
    answer = fetch(world, "curator", f"/admin/datasets/{public.id}/v2/publish", "POST")
    problems.status("curator publishes the next version", answer, {302, 303})
    answer = fetch(world, "visitor", f"/datasets/{slug}/v2/{table}.csv")
    problems.status("visitor GET the newly published v2", answer, 200)
    problems.expect("DSNEXTROW" in answer.text, "published v2 lacks its new row")
    finish(world, "test_open_datasets", problems)


def test_preservation_and_health(world):
    """The fixity page and its actions are for curators and administrators only; the health endpoints answer
    everyone the same and name no path, address or setting."""
    from sqlalchemy import select

    from archive.core.extensions import db
    from archive.media.models import MediaFile

    problems = Problems()
    media = db.session.scalar(select(MediaFile).where(MediaFile.state == "ready").limit(1))
    target = {"data": {"kind": "original", "key": media.storage_key}}
    hidden = {media.storage_key, world.app.config["DATA_DIR"]}
    for role in ROLES:
        curator = role in ("administrator", "curator")
        for method, path, kwargs in [
            ("GET", "/admin/preservation", {}),
            ("POST", "/admin/preservation/check", target),
            ("POST", "/admin/preservation/repair", target),
            ("POST", "/admin/preservation/check", {"data": {"kind": "original", "key": "../etc/passwd"}}),
        ]:
            answer = fetch(world, role, path, method, **kwargs)
            what = f"{role} {method} {path}"
            if role == "visitor":
                problems.expect(login_redirect(answer), f"{what}: status {answer.status}")
            elif not curator:
                problems.status(what, answer, 403)
                problems.no_leak(what, answer, hidden)
            elif method == "GET":
                problems.status(what, answer, 200)
            else:
                # A stored file is checked (303 back to the page); a key no file has is 404.
                problems.status(what, answer, 404 if "passwd" in str(kwargs) else 303)
        for path in ("/healthz", "/readyz"):
            answer = fetch(world, role, path)
            problems.status(f"{role} GET {path}", answer, 200)
            problems.no_leak(
                f"{role} GET {path}", answer, hidden | {str(world.app.config["SQLALCHEMY_DATABASE_URI"])}
            )
    finish(world, "test_preservation_and_health", problems)
