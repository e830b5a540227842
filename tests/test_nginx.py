"""X-Accel-Redirect through a real nginx, with the protected location of deploy/nginx/archive.conf: nginx
sends the bytes (ranges included) only of the files the archive allowed, and its internal location cannot be
reached from outside."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import IN_CI, ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PREFIX = "/_protected"

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists() and not IN_CI, reason="nginx is not installed (scripts/test installs it)"
)


def protected_location(data_dir: Path) -> str:
    """The `location /_protected/` block of the shipped nginx site, pointed at this test's data directory."""
    site = (ROOT / "deploy" / "nginx" / "archive.conf").read_text(encoding="utf-8")
    match = re.search(r"\n(\s*location /_protected/ \{.*?\n\s*\})", site, re.S)
    assert match, "deploy/nginx/archive.conf has no /_protected/ location"
    block = match.group(1)
    assert "internal;" in block
    return re.sub(r"alias [^;]+;", f"alias {data_dir.resolve()}/;", block)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def nginx(app, live_server, tmp_path_factory):
    """nginx on a free loopback port in front of the session app, handing files over with X-Accel-Redirect."""
    previous = app.config.get("ACCEL_REDIRECT_PREFIX")
    app.config["ACCEL_REDIRECT_PREFIX"] = PREFIX
    work = tmp_path_factory.mktemp("nginx")
    port = free_port()
    # As root, nginx's workers would run as nobody, who cannot enter the test's private temporary directory.
    user = "user root root;" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(
        f"""
{user}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        {protected_location(Path(app.config["DATA_DIR"]))}
        location / {{
            proxy_pass {live_server};
            proxy_set_header Host $http_host;
        }}
    }}
}}
""",
        encoding="utf-8",
    )
    config = ["-p", str(work), "-c", str(work / "nginx.conf")]
    check = subprocess.run([NGINX, "-t", *config], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    process = subprocess.Popen(
        [NGINX, *config, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # its errors go to error.log in the work directory
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.RequestException:  # not listening yet, or slow to answer
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        app.config["ACCEL_REDIRECT_PREFIX"] = previous


def demo_media(app, public: bool):
    """(public id, original path, sha256, mime type) of a ready demo file visitors may (or may not) see."""
    from archive.core.access import can_view_media
    from archive.core.extensions import db
    from archive.core.storage import original_path
    from archive.media.models import MediaFile

    with app.test_request_context():
        for media in db.session.scalars(
            sa.select(MediaFile).where(MediaFile.state == "ready").order_by(MediaFile.id)
        ):
            if can_view_media(media) == public:
                found = (media.public_id, original_path(media.storage_key), media.sha256, media.mime_type)
                db.session.remove()
                return found
    pytest.fail(f"the demo has no ready media with public={public}")


def test_nginx_sends_allowed_files_with_ranges(app, nginx):
    public_id, path, sha256, mime = demo_media(app, public=True)
    whole = requests.get(f"{nginx}/media/{public_id}/file", timeout=30)
    assert whole.status_code == 200
    assert "X-Accel-Redirect" not in whole.headers  # consumed by nginx, never shown to the visitor
    assert (
        hashlib.sha256(whole.content).hexdigest() == sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert whole.headers["Content-Type"].startswith(mime)
    assert "filename=" in whole.headers["Content-Disposition"]
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    part = requests.get(f"{nginx}/media/{public_id}/file", headers={"Range": "bytes=100-299"}, timeout=30)
    assert part.status_code == 206
    assert part.content == path.read_bytes()[100:300]
    assert part.headers["Content-Range"] == f"bytes 100-299/{path.stat().st_size}"


def test_nginx_sends_nothing_the_archive_refused(app, nginx):
    public_id, path, _sha256, _mime = demo_media(app, public=False)
    refused = requests.get(f"{nginx}/media/{public_id}/file", timeout=30)
    assert refused.status_code in (401, 403, 404)
    assert path.read_bytes()[:4096] not in refused.content
    # The internal location is not reachable from outside, even with the right path.
    relative = path.resolve().relative_to(Path(app.config["DATA_DIR"]).resolve()).as_posix()
    direct = requests.get(f"{nginx}{PREFIX}/{relative}", timeout=30)
    assert direct.status_code == 404
    assert path.read_bytes()[:4096] not in direct.content
