"""The access-probe world: records and media at every access level, community protocol and workflow state,
each carrying a secret word, the people who look at them, and the expectations for each of them.

The expectations are written out by hand from the rule in the docstring of ``archive/core/access.py``
(effective keys, who holds which key, owners, staff, withdrawn records); they are never computed by
``archive.core.access``, so a mistake in the policy code cannot hide itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, g
from flask.testing import FlaskClient
from lxml import html as lxml_html
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.conftest import use_search_backend

PASSWORD = "correct horse battery"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
#: The unusual ethnic group and the collection every world record (and no demo record) is catalogued under.
GROUP = "pu-peo"
GROUP_PREFIX = "pu pé"
COLLECTION = "zqx-probe"
PLACE = "pre2025-p06"
TITLE_WORDS = "Nghi lễ thăm dò"

# --- who is looking -------------------------------------------------------------------------------------

#: Staff first: a render or cache entry made for someone who may see an image must never serve the others.
ROLES = ("administrator", "curator", "owner", "member_a", "member_b", "researcher", "contributor", "visitor")
STAFF = frozenset({"curator", "administrator"})
#: The stored role of each person (the owner is a contributor; the community members are researchers).
ACCOUNT_ROLE = {
    "administrator": "administrator",
    "curator": "curator",
    "owner": "contributor",
    "member_a": "researcher",
    "member_b": "researcher",
    "researcher": "researcher",
    "contributor": "contributor",
}
#: The keys each person holds, straight from the docstring (staff and owners are decided before keys).
HELD = {
    "visitor": {"public"},
    "researcher": {"public", "researchers"},
    "contributor": {"public", "researchers"},
    "owner": {"public", "researchers"},
    "member_a": {"public", "researchers", "community:A"},
    "member_b": {"public", "researchers", "community:B"},
    "curator": {"public", "researchers"},
    "administrator": {"public", "researchers"},
}
CONTRIBUTING = frozenset({"contributor", "owner", "curator", "administrator"})


# --- what they look at ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordSpec:
    """A world record and what the docstring says about it today."""

    name: str
    status: str
    level: str
    #: The effective access key today, written out by hand.
    key: str
    #: What someone who may not see it gets: "absent" (404), "community" (403 with the protocol notice),
    #: "seasonal" (403 with its season) or "withdrawn" (410).
    denial: str
    community: str | None = None  # "A"
    season: str | None = None  # "in" or "out" (of its season today)
    consent: str | None = None  # "withdrawn", "lapsed" or "in_force" (on the record)
    owner: str | None = None  # the role that created it (None: created by the system)

    @property
    def secret(self) -> str:
        """The secret word of its title."""
        return f"zqx{self.name}rec"


@dataclass(frozen=True)
class MediaSpec:
    """A world media file and its own effective key (its record is judged separately)."""

    name: str
    record: str
    kind: str  # "image" or "audio"
    level: str
    key: str
    community: str | None = None  # the file's own community group
    consent: str | None = None  # "withdrawn" or "lapsed": the file's own consent
    vtt: bool = False  # carries a WebVTT captions track

    @property
    def secret(self) -> str:
        """The secret word of its caption."""
        return f"zqx{self.name}cap"

    @property
    def vtt_secret(self) -> str:
        """The secret word of its WebVTT cue text."""
        return f"zqx{self.name}vtt"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret word the file carries."""
        return (self.secret, self.vtt_secret) if self.vtt else (self.secret,)


RECORDS = (
    RecordSpec("public", "published", "public", "public", "absent"),
    RecordSpec("researchers", "published", "researchers", "researchers", "absent"),
    RecordSpec("community", "published", "community", "community:A", "community", community="A"),
    RecordSpec("private", "published", "private", "private", "absent"),
    RecordSpec("draft", "draft", "public", "public", "absent", owner="owner"),
    RecordSpec("review", "in_review", "public", "public", "absent", owner="owner"),
    RecordSpec("returned", "returned", "public", "public", "absent", owner="owner"),
    RecordSpec("withdrawn", "withdrawn", "public", "public", "withdrawn", owner="owner"),
    # Out of season: shown only to its community, or to nobody beyond the staff when it has none.
    RecordSpec("seasonouta", "published", "public", "community:A", "seasonal", community="A", season="out"),
    RecordSpec("seasonoutnone", "published", "public", "private", "seasonal", season="out"),
    RecordSpec("seasonin", "published", "public", "public", "absent", season="in"),
    # A withdrawn consent, or consents that have all lapsed: private at once, and simply absent.
    RecordSpec("consentwithdrawn", "published", "public", "private", "absent", consent="withdrawn"),
    RecordSpec("consentlapsed", "published", "public", "private", "absent", consent="lapsed"),
    RecordSpec("consentok", "published", "public", "public", "absent", consent="in_force"),
    RecordSpec("mixed", "published", "public", "public", "absent"),
    # Public, but cared for by community A: a "community" file with no group of its own takes A's.
    RecordSpec("caredbya", "published", "public", "public", "absent", community="A"),
)
RECORD = {spec.name: spec for spec in RECORDS}

MEDIA = (
    # One public picture on every record except the mixed one (which has its own set below).
    *(MediaSpec(f"{r.name}img", r.name, "image", "public", "public") for r in RECORDS if r.name != "mixed"),
    MediaSpec("mixedpub", "mixed", "image", "public", "public"),
    MediaSpec("mixedres", "mixed", "image", "researchers", "researchers"),
    MediaSpec("mixedcomm", "mixed", "image", "community", "community:A", community="A"),
    # "community" with no group of its own, on a record without one: nobody's key.
    MediaSpec("mixednogroup", "mixed", "image", "community", "private"),
    MediaSpec("mixedpriv", "mixed", "image", "private", "private"),
    MediaSpec("mixedconsent", "mixed", "image", "public", "private", consent="withdrawn"),
    MediaSpec("mixedlapsed", "mixed", "image", "public", "private", consent="lapsed"),
    MediaSpec("caredbyacomm", "caredbya", "image", "community", "community:A"),
    MediaSpec("mixedaudpub", "mixed", "audio", "public", "public", vtt=True),
    MediaSpec("mixedaudcomm", "mixed", "audio", "community", "community:A", community="A", vtt=True),
    MediaSpec("privateaud", "private", "audio", "public", "public", vtt=True),
)
MEDIUM = {spec.name: spec for spec in MEDIA}

#: Secrets of things that only their owner sees: a staged bulk import and a resumable upload's file name.
IMPORT_SECRET = "zqxstagedimportrec"
TUS_SECRET = "zqxtusuploadname"


def all_secrets() -> list[str]:
    """Every secret word of the world."""
    words = [r.secret for r in RECORDS] + [s for m in MEDIA for s in m.secrets]
    return words + [IMPORT_SECRET, TUS_SECRET]


def _check_secrets() -> None:
    words = all_secrets()
    assert len(set(words)) == len(words)
    for a, b in itertools.permutations(words, 2):
        assert a not in b, f"secret {a} is part of {b}: a leak of one could not be told from the other"
        assert re.fullmatch(r"[a-z]+", a), a


_check_secrets()


# --- the expectations -----------------------------------------------------------------------------------


def sees_record(role: str, spec: RecordSpec) -> bool:
    """The docstring: withdrawn by nobody; staff and the creator see the rest; others need the key of a
    published record."""
    if spec.status == "withdrawn":
        return False
    if role in STAFF or (spec.owner is not None and spec.owner == role):
        return True
    return spec.status == "published" and spec.key in HELD[role]


def media_owner(spec: MediaSpec) -> str | None:
    """Media on the owner's records were uploaded by the owner; the others by the system."""
    return RECORD[spec.record].owner


def sees_media(role: str, spec: MediaSpec) -> bool:
    """Visible when its record is visible and the file's own key is allowed (staff and owners see it)."""
    record = RECORD[spec.record]
    if not sees_record(role, record):
        return False
    if role in STAFF or role in (media_owner(spec), record.owner):
        return True
    return spec.key in HELD[role]


def record_status(role: str, spec: RecordSpec) -> int:
    """The status of the record page (and its metadata downloads) for *role*."""
    if sees_record(role, spec):
        return 200
    return {"absent": 404, "community": 403, "seasonal": 403, "withdrawn": 410}[spec.denial]


def media_denial(role: str) -> int:
    """401 for a visitor (signing in may help), 403 for a signed-in person."""
    return 401 if role == "visitor" else 403


def may_manage(role: str, spec: RecordSpec, action: str) -> bool:
    """Who may use a record's tools: read its history and revisions ("history") or its consent records
    ("consent_read"); add media, captions or a file's access level ("media"); record consent ("consent");
    edit it ("edit"); restore a revision ("restore").

    Reading stays open to the creator and the staff after a record is withdrawn (it is the record of what
    happened, like "My records" and the notifications). Changing a withdrawn record is closed to everyone,
    as ``can_edit_record`` closes editing: a withdrawn record is seen by nobody, so nothing is added to it.
    """
    if role == "visitor":
        return False
    staff = role in STAFF
    creator = spec.owner is not None and spec.owner == role
    if action == "history":
        return staff or creator
    if action == "consent_read":
        return staff or (creator and role in CONTRIBUTING)
    if spec.status == "withdrawn":
        return False
    if action == "restore":
        return staff
    if action == "edit":
        return staff or (creator and role in CONTRIBUTING and spec.status in ("draft", "returned"))
    return staff or (creator and role in CONTRIBUTING)  # "media", "consent"


def workspace_allows(role: str) -> set[str]:
    """Secrets a person's workspace (My records, My uploads, notifications, history, the review queue, the
    audit log) may name although the record page refuses them: the creator's and the staff's withdrawn
    record, by its title."""
    withdrawn = RECORD["withdrawn"]
    return {withdrawn.secret} if role in STAFF or role == withdrawn.owner else set()


#: The review workflow, from the docstring of archive/workflow/services.py: the states an action starts
#: from, whether only curators may take it, and whether it needs a comment.
TRANSITIONS = {
    "submit": ({"draft", "returned"}, False, False),
    "publish": ({"in_review", "draft", "returned"}, True, False),
    "return": ({"in_review", "published"}, True, True),
    "withdraw": ({"draft", "in_review", "returned", "published"}, True, True),
}


def transition_answer(role: str, spec: RecordSpec, action: str) -> int | None:
    """The status of POST /records/<id>/workflow/<action> without a comment; None when it would succeed."""
    if role == "visitor":
        return 302
    if not sees_record(role, spec):
        return 410 if spec.status == "withdrawn" else 404
    sources, curators_only, needs_comment = TRANSITIONS[action]
    if spec.status not in sources:
        return 409
    creator = spec.owner is not None and spec.owner == role
    if (curators_only and role not in STAFF) or not (role in STAFF or creator):
        return 403
    return 400 if needs_comment else None


def hidden_records(role: str) -> list[RecordSpec]:
    """The world records *role* may not see."""
    return [r for r in RECORDS if not sees_record(role, r)]


def hidden_media(role: str) -> list[MediaSpec]:
    """The world media files *role* may not see or hear."""
    return [m for m in MEDIA if not sees_media(role, m)]


def hidden_secrets(role: str) -> set[str]:
    """Every secret word *role* may not read anywhere."""
    words = {r.secret for r in hidden_records(role)}
    words |= {s for m in hidden_media(role) for s in m.secrets}
    if role != "owner":
        words |= {IMPORT_SECRET, TUS_SECRET}
    return words


def searchable(role: str) -> list[RecordSpec]:
    """The world records *role* finds in search (exactly the records it may see)."""
    return [r for r in RECORDS if sees_record(role, r)]


# --- the world ------------------------------------------------------------------------------------------


@dataclass
class World:
    """Identifiers of everything built, the signed-in clients, and the baseline counts before the world."""

    app: Flask
    clients: dict[str, FlaskClient]
    user_ids: dict[str, int]
    record_ids: dict[str, str] = field(default_factory=dict)  # name -> public id
    record_pk: dict[str, int] = field(default_factory=dict)  # name -> database id
    slugs: dict[str, str] = field(default_factory=dict)
    media_ids: dict[str, str] = field(default_factory=dict)
    originals: dict[str, bytes] = field(default_factory=dict)
    consent_ids: dict[str, int] = field(default_factory=dict)
    community_ids: dict[str, int] = field(default_factory=dict)
    community_slugs: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    baseline: dict[str, dict] = field(default_factory=dict)
    import_token: str | None = None
    tus_token: str | None = None
    #: Endpoints actually requested, per (endpoint, method).
    probed: set[tuple[str, str]] = field(default_factory=set)
    other_index_filled: bool = False

    def workspace(self, role: str) -> set[str]:
        """What a person's workspace may name although the record page refuses it (see workspace_allows):
        the withdrawn record's title and the identifiers of it and its media."""
        allowed = workspace_allows(role)
        names = [r.name for r in RECORDS if r.secret in allowed]
        ids = {self.record_ids[n] for n in names}
        ids |= {self.media_ids[m.name] for m in MEDIA if m.record in names}
        return allowed | ids

    def hidden_ids(self, role: str) -> set[str]:
        """Public identifiers of the records and media files *role* may not see."""
        ids = {self.record_ids[r.name] for r in hidden_records(role)}
        return ids | {self.media_ids[m.name] for m in hidden_media(role)}


@dataclass(frozen=True)
class Answer:
    """A response, read and closed (files served by send_file must not stay open)."""

    status: int
    headers: dict[str, str]
    data: bytes
    #: The path (and query) that was asked: a page may echo it (language links, sign-in links).
    path: str = ""

    @property
    def text(self) -> str:
        """The body as text."""
        return self.data.decode("utf-8", errors="replace")

    def header(self, name: str) -> str:
        """A header's value, or "" when it is absent."""
        return self.headers.get(name.lower(), "")


def fetch(world: World, role: str, path: str, method: str = "GET", **kwargs) -> Answer:
    """One request as *role*, on a fresh view of who is signed in (the tests share one app context)."""
    from archive.core.i18n import is_language_neutral

    g.pop("_login_user", None)
    g.pop("_access_readers", None)
    try:
        endpoint, _args = world.app.url_map.bind("localhost").match(path.split("?", 1)[0], method=method)
        world.probed.add((endpoint, method))
        if method in ("GET", "HEAD") and not is_language_neutral(world.app, endpoint):
            path = "/vi" + path  # pages live under a language prefix (the unprefixed URL redirects there)
    except (NotFound, MethodNotAllowed):
        pass
    response = world.clients[role].open(path, method=method, **kwargs)
    try:
        data = response.get_data()
    finally:
        response.close()
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Answer(response.status_code, headers, data, path)


@contextmanager
def rolled_back_world_session(app: Flask) -> Iterator:
    """The conftest ``db`` fixture's arrangement for a whole module: every write goes to SAVEPOINTs inside
    one transaction that is rolled back at the end, and the Whoosh index is put back as it was."""
    from archive.core.extensions import db as _db
    from archive.search import service
    from tests.conftest import ConnectionBoundSession, _restore_search_index

    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        service._APPLIED.clear()
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()
            _restore_search_index(app)


def today_in_vietnam() -> dt.date:
    """Today in Vietnam (UTC+7), the day on which seasons and consents are judged."""
    return dt.datetime.now(VIETNAM).date()


def seasons_around(today: dt.date) -> dict[str, tuple[int, int, int, int]]:
    """Lunar seasons (start month, start day, end month, end day) that certainly hold today ("in": from
    the month before to the month after) and certainly do not ("out": three to five months away)."""
    from metadata.lunar import to_lunar

    month = to_lunar(today).month

    def shift(n: int) -> int:
        return (month - 1 + n) % 12 + 1

    return {"in": (shift(-1), 1, shift(1), 30), "out": (shift(3), 1, shift(5), 30)}


def _login(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    g.pop("_login_user", None)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _image_bytes(tmp: Path, index: int) -> bytes:
    from tests.media import samples

    color = (17 + index * 9 % 200, 40 + index * 13 % 200, 90 + index * 7 % 150)
    path = samples.jpeg(tmp / f"probe-{uuid.uuid4().hex}.jpg", size=(640, 480), color=color)
    return path.read_bytes()


def _audio_bytes(tmp: Path, index: int) -> bytes:
    from tests.media import samples

    return samples.wav(tmp / f"probe-{uuid.uuid4().hex}.wav", seconds=1.0 + index * 0.137).read_bytes()


def _vtt(word: str) -> bytes:
    return f"WEBVTT\n\n00:00.000 --> 00:00.900\nLời hát {word}\n".encode()


def build_world(app: Flask, db, tmp: Path, baseline_backends: list[str]) -> World:
    """Create the people, sign them in, measure the baseline (with each search backend), then build the
    records and media."""
    from archive.accounts.models import User
    from archive.communities.models import Community, CommunityMembership, ConsentRecord, CulturalLabel
    from archive.core.types import utcnow
    from archive.media.models import MediaFile
    from archive.media.services import attach_captions, ingest_file, queue_derivatives
    from archive.records.models import HeritageRecord
    from archive.records.services import create_record
    from archive.vocab.models import Collection
    from metadata.csv_records import RecordInput
    from metadata.languages import LangString
    from metadata.model import Timing

    users = {}
    for role, account_role in ACCOUNT_ROLE.items():
        user = User(
            email=f"probe-{role}-{uuid.uuid4().hex[:6]}@example.vn", display_name=role, role=account_role
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        users[role] = user
    db.session.commit()
    clients = {role: _login(app, user) for role, user in users.items()}
    clients["visitor"] = app.test_client()
    world = World(app, clients, {role: user.id for role, user in users.items()})
    for backend in baseline_backends:
        with use_search_backend(app, backend):
            world.baseline[backend] = {role: _counts(world, role) for role in ROLES}

    for letter in ("A", "B"):
        notice = f"Lời dặn của cộng đồng thăm dò {letter}: xin giữ kín nghi lễ của bản."
        community = Community(
            slug=f"probe-community-{letter.lower()}-{uuid.uuid4().hex[:6]}",
            name=[{"lang": "vi", "value": f"Cộng đồng thăm dò {letter}"}],
            protocol_notice=[{"lang": "vi", "value": notice}, {"lang": "en", "value": notice}],
        )
        db.session.add(community)
        db.session.flush()
        world.community_ids[letter] = community.id
        world.community_slugs[letter] = community.slug
        world.notices[letter] = notice
    db.session.add(CommunityMembership(community_id=world.community_ids["A"], user_id=users["member_a"].id))
    db.session.add(CommunityMembership(community_id=world.community_ids["B"], user_id=users["member_b"].id))
    db.session.add(
        Collection(slug=COLLECTION, title=[{"lang": "vi", "value": "Bộ sưu tập thăm dò truy cập"}])
    )
    db.session.commit()

    today = today_in_vietnam()
    seasons = seasons_around(today)
    for spec in RECORDS:
        actor = users.get(spec.owner) if spec.owner else None
        data = RecordInput.titled(
            f"{TITLE_WORDS} {spec.secret}",
            status=spec.status,
            access_level=spec.level,
            ethnic_groups=[GROUP],
            places=[PLACE],
            collections=[COLLECTION],
            timings=[Timing("gregorian", today.month, today.day)],
        )
        record = create_record(data, actor=actor)
        if spec.community:
            record.community_id = world.community_ids[spec.community]
        if spec.season:
            start_month, start_day, end_month, end_day = seasons[spec.season]
            record.labels.append(
                CulturalLabel(
                    kind="seasonal",
                    season_calendar="lunar",
                    start_month=start_month,
                    start_day=start_day,
                    end_month=end_month,
                    end_day=end_day,
                )
            )
        if spec.consent:
            consent = _consent(ConsentRecord, spec.consent, today, utcnow())
            record.consents.append(consent)
        db.session.commit()
        world.record_ids[spec.name] = record.public_id
        world.record_pk[spec.name] = record.id
        world.slugs[spec.name] = record.slug
        if spec.consent:
            world.consent_ids[spec.name] = consent.id

    for index, spec in enumerate(MEDIA):
        record = db.session.get(HeritageRecord, world.record_pk[spec.record])
        owner = media_owner(spec)
        path = tmp / f"{spec.name}.{'jpg' if spec.kind == 'image' else 'wav'}"
        data = _image_bytes(tmp, index) if spec.kind == "image" else _audio_bytes(tmp, index)
        path.write_bytes(data)
        caption = [LangString(f"Chú thích {spec.secret}", "vi")]
        media = ingest_file(record, path, path.name, users.get(owner) if owner else None, caption, spec.level)
        if spec.community:
            media.community_id = world.community_ids[spec.community]
        db.session.commit()
        queue_derivatives(media)  # runs now: TestConfig sets JOBS_IMMEDIATE
        media = db.session.get(MediaFile, media.id)
        db.session.refresh(media)
        assert media.state == "ready", (spec.name, media.state, media.state_detail)
        if spec.vtt:
            attach_captions(media, _vtt(spec.vtt_secret), "vi", "Tiếng Việt", "captions", None)
        if spec.consent:
            db.session.add(_consent(ConsentRecord, spec.consent, today, utcnow(), record.id, media.id))
        db.session.commit()
        world.media_ids[spec.name] = media.public_id
        world.originals[spec.name] = data
    return world


def _consent(model, kind: str, today: dt.date, now: dt.datetime, record_id=None, media_id=None):
    """A consent record that is withdrawn, lapsed or in force on *today*."""
    given_on, valid_until, withdrawn_at = {
        "withdrawn": (today - dt.timedelta(days=100), None, now),
        "lapsed": (today - dt.timedelta(days=400), today - dt.timedelta(days=30), None),
        "in_force": (today - dt.timedelta(days=10), today + dt.timedelta(days=365), None),
    }[kind]
    return model(
        record_id=record_id,
        media_id=media_id,
        given_by="Già làng thăm dò",
        uses=["display"],
        given_on=given_on,
        valid_until=valid_until,
        withdrawn_at=withdrawn_at,
    )


def _counts(world: World, role: str) -> dict:
    """What *role* counts before the world exists: search browse total and the record list's length."""
    body = fetch(world, role, "/search.json").data
    return {"search_total": json.loads(body)["total"], "list_items": len(list_pages(world, role)[0])}


def list_pages(world: World, role: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(href, title) of every entry of every page of /records as *role*, and the pages' bodies."""
    items, bodies, page = [], [], 1
    while True:
        answer = fetch(world, role, f"/records?page={page}")
        assert answer.status == 200, (role, page, answer.status)
        bodies.append(answer.text)
        doc = lxml_html.fromstring(answer.text)
        for link in doc.xpath("//ol[contains(@class, 'records')]/li/a"):
            items.append((link.get("href"), link.text_content()))
        if not doc.xpath("//a[@rel='next']"):
            return items, bodies
        page += 1


def tus_metadata(**values: str) -> str:
    """An Upload-Metadata header."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def csv_upload(text: str) -> dict:
    """The multipart fields of a bulk-import form with only a CSV file."""
    return {"csv": (io.BytesIO(text.encode("utf-8")), "records.csv")}
