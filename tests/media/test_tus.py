"""Resumable uploads (tus 1.0): the protocol answered by the test client, and a real tus client (tuspy)
interrupted mid-upload through a cutting TCP proxy, then resumed, against the live server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from archive.media.models import MediaFile, UploadSession
from tests.conftest import wait_for
from tests.media import samples

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"


# --- helpers shared with test_tus_browser.py ------------------------------------------------------------


def metadata_header(**values: str) -> str:
    """An Upload-Metadata header: each value base64-encoded."""
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def noisy_jpeg(path: Path, size=(900, 700)) -> Path:
    """A JPEG of random pixels: large for its size, and never the same twice (no duplicate refusal)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    image.save(path, "JPEG", quality=92)
    image.close()
    return path


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def part_file(app, url: str) -> Path:
    """Where the partial bytes of the upload at *url* are kept."""
    return Path(app.config["DATA_DIR"]) / "incoming" / "tus" / (url.rstrip("/").rsplit("/", 1)[1] + ".part")


def incoming_files(app) -> set[Path]:
    """Every file in the incoming area, partial uploads included."""
    root = Path(app.config["DATA_DIR"]) / "incoming"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def originals(app) -> set[Path]:
    """Every stored original."""
    root = Path(app.config["DATA_DIR"]) / "originals"
    return {p for p in root.rglob("*") if p.is_file()}


@dataclass(frozen=True)
class Account:
    """A contributor with a record of their own, committed for the live server."""

    email: str
    password: str
    user_id: int
    record: str


@contextmanager
def committed_contributor(app):
    """A contributor and a draft record committed to the session database (the live server cannot see
    the rolled-back test transaction); both, and whatever media or uploads they got, are removed after."""
    from archive.accounts.models import User
    from archive.core.extensions import db
    from archive.records.models import HeritageRecord
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput
    from metadata.languages import LangString

    password = "correct horse battery"
    with app.app_context():
        user = User(email=f"tus-{uuid.uuid4().hex[:8]}@example.vn", display_name="Cán bộ văn hoá xã",
                    role="contributor")  # fmt: skip
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        record = create_record(
            RecordInput(
                row=0, identifier=None, slug=None, category="festival", status="draft", access_level="public",
                texts={"title": [LangString(f"Lễ hội thử tải lên {uuid.uuid4().hex[:6]}", "vi")]},
                ethnic_groups=["tay"], places=["pre2025-p06"],
            ),
            actor=user,
        )  # fmt: skip
        db.session.commit()
        account = Account(user.email, password, user.id, record.public_id)
        db.session.remove()
    try:
        yield account
    finally:
        with app.app_context():
            db.session.execute(sa.delete(UploadSession).where(UploadSession.user_id == account.user_id))
            for media in db.session.scalars(
                sa.select(MediaFile).where(MediaFile.created_by_id == account.user_id)
            ):
                db.session.delete(media)
            db.session.flush()
            record = db.session.scalar(
                sa.select(HeritageRecord).where(HeritageRecord.public_id == account.record)
            )
            if record is not None:
                db.session.delete(record)
            db.session.flush()
            db.session.delete(db.session.get(User, account.user_id))
            db.session.commit()
            db.session.remove()


def sign_in(http: requests.Session, base: str, account: Account) -> str:
    """Sign in through the login form (CSRF on) and return the upload page's CSRF token."""
    page = http.get(f"{base}/login?lang=en").text
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(
        f"{base}/login",
        data={"email": account.email, "password": account.password, "csrf_token": form_token},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    upload_page = http.get(f"{base}/records/{account.record}/media?lang=en").text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', upload_page).group(1)


class RecordingProxy:
    """A TCP proxy in front of the live server that records every byte the client sends and can cut the
    connection after a number of them, as a phone losing its signal does (the server gets what was sent
    before the cut, then the end of the connection)."""

    def __init__(self, target_port: int, cut_after: int | None = None) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.forwarded = 0
        self.connections: list[bytearray] = []
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open_sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            record = bytearray()
            with self.lock:
                self.connections.append(record)
                self.open_sockets += [client, upstream]
            threading.Thread(target=self._upward, args=(client, upstream, record), daemon=True).start()
            threading.Thread(target=self._downward, args=(upstream, client), daemon=True).start()

    def _upward(self, client: socket.socket, upstream: socket.socket, record: bytearray) -> None:
        try:
            while data := client.recv(65536):
                with self.lock:
                    if self.cut_after is not None:
                        data = data[: max(0, self.cut_after - self.forwarded)]
                    self.forwarded += len(data)
                    record.extend(data)
                upstream.sendall(data)
                if self.cut_after is not None and self.forwarded >= self.cut_after:
                    self.cut.set()
                    break
        except OSError:
            pass
        for sock in (upstream, client):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _downward(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass

    def drop_connections(self) -> None:
        """Cut every open connection at once, requests in flight included (the signal is gone)."""
        with self.lock:
            sockets, self.open_sockets = self.open_sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def requests(self) -> list[tuple[str, dict[str, str], int]]:
        """(method, headers, body bytes that went through) of every request, in order."""
        found = []
        for data in self.connections:
            pos = 0
            while (end := data.find(b"\r\n\r\n", pos)) >= 0:
                lines = bytes(data[pos:end]).decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])
                }
                length = int(headers.get("content-length", 0))
                found.append((lines[0].split(" ")[0], headers, min(length, len(data) - end - 4)))
                pos = end + 4 + length
        return found

    def close(self) -> None:
        self.listener.close()


# --- the protocol, with the test client ---------------------------------------------------------------


@pytest.fixture
def incoming_before(app):
    """The incoming area before the test; what the test leaves there (unfinished uploads whose rows are
    rolled back) is removed after it."""
    before = incoming_files(app)
    yield before
    for path in incoming_files(app) - before:
        path.unlink(missing_ok=True)


@pytest.fixture
def own_record(make_record, login, incoming_before):
    user = login("contributor")
    return make_record(title="Lễ hội có tư liệu tải lên", created_by=user)


def _create(client, record, size: int, filename: str = "photo.jpg", lang: str = "en", **extra):
    values = {"record": record.public_id, "filename": filename, **extra}
    return client.post(
        f"/uploads/?lang={lang}",
        headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": metadata_header(**values)},
    )


def _patch(client, url: str, offset: int, data: bytes, content_type: str = OCTET):
    return client.patch(
        url, data=data, content_type=content_type, headers={**TUS, "Upload-Offset": str(offset)}
    )


def _head(client, url: str):
    return client.head(url, headers=TUS)


def test_discovery_names_version_extensions_and_size_limit(client, app):
    response = client.options("/uploads/")
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "termination", "expiration"}
    assert response.headers["Tus-Max-Size"] == str(app.config["MAX_MEDIA_BYTES"])


def test_other_protocol_versions_and_anonymous_visitors_are_refused(client, make_record):
    record = make_record()
    old = client.post("/uploads/", headers={"Tus-Resumable": "0.2.2", "Upload-Length": "10"})
    assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    assert old.headers["Tus-Resumable"] == "1.0.0"
    assert client.head("/uploads/whatever").status_code == 412
    anonymous = _create(client, record, 10)
    assert anonymous.status_code == 401 and "sign in" in anonymous.get_data(as_text=True)
    assert anonymous.headers["Tus-Resumable"] == "1.0.0"
    assert _head(client, "/uploads/whatever").status_code == 401


@pytest.mark.parametrize("kind", ["jpeg", "wav"])
def test_a_file_sent_in_several_chunks_becomes_media_of_the_record(
    client, db, app, own_record, tmp_path, kind, incoming_before
):
    source = (
        samples.jpeg(tmp_path / "a.jpg", color=(90, 20, 140))
        if kind == "jpeg"
        else samples.wav(tmp_path / "a.wav", seconds=2.5)
    )
    data = source.read_bytes()
    created = _create(
        client, own_record, len(data), source.name, caption_vi="Múa xoè", caption_en="Xoe dance"
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Tus-Resumable"] == "1.0.0"
    url = created.headers["Location"]
    assert url.startswith("/uploads/")
    assert created.headers["Upload-Expires"].endswith("GMT")

    head = _head(client, url)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data)) and head.headers["Cache-Control"] == "no-store"

    cuts = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    for start, end in zip(cuts, cuts[1:], strict=False):
        response = _patch(client, url, start, data[start:end])
        assert response.status_code == 204, response.get_data(as_text=True)
        assert response.headers["Upload-Offset"] == str(end)
        if end < len(data):
            assert _head(client, url).headers["Upload-Offset"] == str(end)
            part = part_file(app, url)
            assert part.read_bytes() == data[:end]
            assert part.stat().st_mode & 0o077 == 0  # private to the archive's user
            assert "Upload-Expires" in response.headers

    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    assert media is not None and media.sha256 == hashlib.sha256(data).hexdigest()
    assert media.original_filename == source.name
    assert {c["lang"]: c["value"] for c in media.caption} == {"vi": "Múa xoè", "en": "Xoe dance"}
    db.session.refresh(media)
    assert media.state == "ready", media.state_detail
    assert not part_file(app, url).exists() and incoming_files(app) == incoming_before
    status = client.get(url + "/status?lang=en").get_json()
    assert status["state"] == "accepted" and status["media"] == media.public_id
    assert status["link"] == "/en/my/media" and "renditions are being made" in status["message"]
    assert _head(client, url).headers["Upload-Offset"] == str(len(data))  # complete: nothing more to send
    assert media.public_id in client.get("/en/my/media").get_data(as_text=True)


def test_a_file_the_pipeline_refuses_leaves_no_file_and_records_the_reason(
    client, db, app, own_record, incoming_before
):
    before = originals(app)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile))
    data = b"These are field notes, not a photograph.\n" * 200
    url = _create(client, own_record, len(data), "festival.jpg").headers["Location"]
    assert _patch(client, url, 0, data[:3000]).status_code == 204
    assert part_file(app, url).stat().st_size == 3000
    final = _patch(client, url, 3000, data[3000:])
    assert final.status_code == 204 and final.headers["Upload-Offset"] == str(len(data))
    status = client.get(url + "/status?lang=en").get_json()
    assert status["state"] == "refused" and status["media"] is None
    assert "not accepted" in status["message"] or "content is" in status["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == rows
    assert originals(app) == before and incoming_files(app) == incoming_before
    vietnamese = client.get(url + "/status?lang=vi").get_json()["message"]
    assert vietnamese and vietnamese != status["message"]


def test_refusals_of_the_protocol(client, db, app, own_record, monkeypatch, incoming_before):
    monkeypatch.setitem(app.config, "MAX_MEDIA_BYTES", 5000)
    too_large = _create(client, own_record, 5001, lang="vi")
    assert too_large.status_code == 413 and "5000" in too_large.get_data(as_text=True)
    assert "Tệp" in too_large.get_data(as_text=True)  # in the interface language
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadSession)) == 0
    assert incoming_files(app) == incoming_before

    assert _create(client, own_record, 0).status_code == 400  # an empty file
    missing = client.post("/uploads/", headers={**TUS, "Upload-Metadata": metadata_header(record="x")})
    assert missing.status_code == 400
    garbled = client.post(
        "/uploads/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": "record !!!"}
    )
    assert garbled.status_code == 400
    no_record = client.post("/uploads/", headers={**TUS, "Upload-Length": "10"})
    assert no_record.status_code == 400
    unknown = client.post(
        "/uploads/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": metadata_header(record="nope")}
    )
    assert unknown.status_code == 404

    url = _create(client, own_record, 1000).headers["Location"]
    wrong_type = _patch(client, url, 0, b"x" * 10, content_type="application/octet-stream")
    assert wrong_type.status_code == 415
    assert _patch(client, url, 0, b"a" * 400).status_code == 204
    conflict = _patch(client, url, 100, b"b" * 10)
    assert conflict.status_code == 409 and conflict.headers["Upload-Offset"] == "400"
    beyond = _patch(client, url, 400, b"c" * 601)
    assert beyond.status_code == 400
    assert _head(client, url).headers["Upload-Offset"] == "400"
    assert part_file(app, url).read_bytes() == b"a" * 400  # nothing of the refused request was kept


def test_too_many_open_uploads_are_refused_with_a_message(client, db, app, own_record, monkeypatch):
    monkeypatch.setitem(app.config, "TUS_MAX_OPEN_PER_USER", 2)
    assert _create(client, own_record, 100).status_code == 201
    assert _create(client, own_record, 100).status_code == 201
    third = _create(client, own_record, 100)
    assert third.status_code == 429
    assert "already have 2 unfinished uploads" in third.get_data(as_text=True)


def test_only_the_creator_may_see_continue_or_end_an_upload(
    client, db, app, make_record, login, incoming_before
):
    owner = login("contributor")
    record = make_record(created_by=owner)
    url = _create(client, record, 100).headers["Location"]
    assert _patch(client, url, 0, b"z" * 10).status_code == 204

    login("curator")  # may add media to any record, but this upload is not theirs
    assert _head(client, url).status_code == 404
    assert _patch(client, url, 10, b"z" * 10).status_code == 404
    assert client.delete(url, headers=TUS).status_code == 404
    assert client.get(url + "/status").status_code == 404

    login("contributor")  # another contributor: not their record either
    refused = _create(client, record, 100)
    assert refused.status_code == 403
    assert part_file(app, url).read_bytes() == b"z" * 10


def test_termination_removes_the_upload_and_its_bytes(client, db, app, own_record):
    url = _create(client, own_record, 100).headers["Location"]
    assert _patch(client, url, 0, b"q" * 30).status_code == 204
    assert part_file(app, url).exists()
    assert client.delete(url, headers=TUS).status_code == 204
    assert _head(client, url).status_code == 404
    assert _patch(client, url, 30, b"q" * 10).status_code == 404
    assert not part_file(app, url).exists()


def test_expired_uploads_are_refused_then_removed_by_the_clean_up_job(client, db, app, own_record):
    from archive.media.resumable import expire_uploads_job

    url = _create(client, own_record, 100).headers["Location"]
    fresh = _create(client, own_record, 100).headers["Location"]
    assert _patch(client, url, 0, b"e" * 40).status_code == 204
    assert _patch(client, fresh, 0, b"f" * 20).status_code == 204
    token = url.rsplit("/", 1)[1]
    db.session.execute(
        sa.update(UploadSession)
        .where(UploadSession.token == token)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.session.commit()
    assert _patch(client, url, 40, b"e" * 10).status_code == 410
    assert _head(client, url).status_code == 410
    assert client.get(url + "/status").get_json()["state"] == "expired"
    orphan = part_file(app, url).parent / "left-by-a-crash.part"
    orphan.write_bytes(b"old")
    os.utime(orphan, (0, 0))
    assert part_file(app, url).exists()

    assert expire_uploads_job() == 1
    assert db.session.scalar(sa.select(UploadSession).where(UploadSession.token == token)) is None
    assert not part_file(app, url).exists() and not orphan.exists()
    assert part_file(app, fresh).read_bytes() == b"f" * 20
    assert _head(client, url).status_code == 404
    assert _head(client, fresh).headers["Upload-Offset"] == "20"


def test_tus_requests_need_the_csrf_token_of_the_session(client, app, own_record, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = _create(client, own_record, 100)
    assert refused.status_code == 400 and refused.headers["Tus-Resumable"] == "1.0.0"
    page = client.get(f"/vi/records/{own_record.public_id}/media").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    metadata = metadata_header(record=own_record.public_id, filename="a.jpg")
    created = client.post(
        "/uploads/",
        headers={**TUS, "Upload-Length": "100", "Upload-Metadata": metadata, "X-CSRFToken": token},
    )
    assert created.status_code == 201
    url = created.headers["Location"]
    assert _patch(client, url, 0, b"x" * 10).status_code == 400
    accepted = client.patch(
        url, data=b"x" * 10, content_type=OCTET, headers={**TUS, "Upload-Offset": "0", "X-CSRFToken": token}
    )
    assert accepted.status_code == 204
    fresh = client.get("/uploads/csrf-token").get_json()["csrf_token"]
    assert client.delete(url, headers={**TUS, "X-CSRFToken": fresh}).status_code == 204


def test_the_upload_page_loads_tus_js_client_from_node_modules(client, own_record):
    page = client.get(f"/vi/records/{own_record.public_id}/media").get_data(as_text=True)
    script = re.search(r'<script src="(/static/vendor/tus\.min\.js\?v=[0-9.]+)" defer>', page).group(1)
    assert 'data-tus-endpoint="/uploads/"' in page and 'enctype="multipart/form-data"' in page
    response = client.get(script)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert b"tus" in response.get_data()
    response.close()


# --- a real tus client against the live server ---------------------------------------------------------


def test_tuspy_upload_cut_mid_chunk_resumes_from_the_server_offset(app, live_server, tmp_path, monkeypatch):
    from tusclient.client import TusClient
    from tusclient.exceptions import TusCommunicationError, TusUploadFailed

    from archive.core.extensions import db
    from archive.core.storage import original_path

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    port = urlparse(live_server).port
    source = noisy_jpeg(tmp_path / "le-hoi.jpg", size=(1300, 900))
    size = source.stat().st_size
    chunk = 256 * 1024
    assert size > 3 * chunk
    with committed_contributor(app) as account:
        http = requests.Session()
        token = sign_in(http, live_server, account)
        cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        headers = {"Cookie": cookies, "X-CSRFToken": token}
        metadata = {"filename": "le-hoi.jpg", "record": account.record, "caption_vi": "Lễ hội"}

        without_token = requests.post(
            f"{live_server}/uploads/",
            headers={
                **TUS,
                "Cookie": cookies,
                "Upload-Length": "10",
                "Upload-Metadata": metadata_header(**metadata),
            },
        )
        assert without_token.status_code == 400  # the tus endpoints stay CSRF-protected

        # A signal lost in the middle of the third chunk. (tuspy leaves files it opens itself unclosed:
        # it gets an open stream instead.)
        cutting = RecordingProxy(port, cut_after=2 * chunk + 90_000)
        with source.open("rb") as stream:
            uploader = TusClient(f"http://127.0.0.1:{cutting.port}/uploads/", headers=headers).uploader(
                file_stream=stream, chunk_size=chunk, metadata=metadata, retries=0
            )
            with pytest.raises((TusCommunicationError, TusUploadFailed)):
                uploader.upload()
        assert cutting.cut.is_set()
        cutting.close()
        patches = [r for r in cutting.requests() if r[0] == "PATCH"]
        last_offset, arrived = int(patches[-1][1]["upload-offset"]), patches[-1][2]
        assert last_offset == 2 * chunk and 0 < arrived < chunk
        kept = last_offset + arrived
        path = urlparse(uploader.url).path

        def server_offset() -> int:
            response = requests.head(f"{live_server}{path}", headers={**TUS, "Cookie": cookies})
            return int(response.headers["Upload-Offset"])

        # The bytes of the cut request that reached the server are kept, not only whole chunks.
        wait_for(lambda: server_offset() == kept, timeout=20)

        watching = RecordingProxy(port)
        with source.open("rb") as stream:
            resumed = TusClient(f"http://127.0.0.1:{watching.port}/uploads/", headers=headers).uploader(
                file_stream=stream, url=f"http://127.0.0.1:{watching.port}{path}", chunk_size=chunk, retries=0
            )
            assert resumed.offset == kept  # (a) from the server's offset, not 0
            resumed.upload()
        watching.close()
        patches = [r for r in watching.requests() if r[0] == "PATCH"]
        assert patches[0][1]["upload-offset"] == str(kept)
        assert sum(r[2] for r in patches) == size - kept  # (b) only the missing bytes were sent

        status = http.get(f"{live_server}{path}/status?lang=en").json()
        assert status["state"] == "accepted", status
        with app.app_context():
            media = db.session.scalar(sa.select(MediaFile).where(MediaFile.public_id == status["media"]))
            assert media.created_by_id == account.user_id
            assert sha256(original_path(media.storage_key)) == sha256(source)  # (c) the very same bytes
            db.session.remove()
