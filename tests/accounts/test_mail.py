"""Outgoing mail: the log backend, and the SMTP backend against a small SMTP server run by the test."""

import email
import email.policy
import logging
import socket
import socketserver
import threading

import pytest

from archive.core.mail import MailNotSent, send_mail
from tests.accounts import EN


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        envelope = {"from": None, "to": []}
        self._reply("220 test.invalid ESMTP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-test.invalid greets you")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 test.invalid")
            elif verb == "MAIL":
                envelope = {"from": command.split(":", 1)[1].strip(" <>"), "to": []}
                self._reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command.split(":", 1)[1].strip(" <>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)  # undo dot-stuffing
                self.server.received.append({**envelope, "data": b"".join(lines)})
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A real SMTP server on a free local port; the app's SMTP backend points at it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.server_address[1],
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": None,
        "MAIL_FROM": "luutru@example.vn",
        "MAIL_TIMEOUT": 5,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_the_smtp_backend_delivers_a_utf8_message(app, smtp_server):
    body = "Xin chào Lò Thị Mai,\n\n.Một dòng bắt đầu bằng dấu chấm.\nhttp://archive.test/invite/abc"
    with app.app_context():
        send_mail("mai@example.vn", "Lời mời tham gia Kho Di sản", body)
    (received,) = smtp_server.received
    assert received["from"] == "luutru@example.vn"
    assert received["to"] == ["mai@example.vn"]
    message = _parse(received["data"])
    assert message["Subject"] == "Lời mời tham gia Kho Di sản"
    assert message["From"] == "luutru@example.vn" and message["To"] == "mai@example.vn"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == body


def test_a_reset_link_travels_through_smtp(client, make_user, smtp_server):
    user = make_user()
    assert client.post("/password/forgot", data={"email": user.email}, headers=EN).status_code == 200
    (received,) = smtp_server.received
    assert received["to"] == [user.email]
    text = _parse(received["data"]).get_content()
    path = text.split("http://archive.test", 1)[1].split()[0]
    assert path.startswith("/en/password/reset/")
    assert client.get(path, headers=EN).status_code == 200


def test_an_unreachable_server_raises_and_is_logged(app, monkeypatch, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    with app.app_context(), pytest.raises(MailNotSent):
        send_mail("x@example.vn", "Subject", "Body")
    assert any("not sent" in r.getMessage() for r in caplog.records if r.name == "archive.mail")


def test_the_log_backend_writes_the_whole_message(app, caplog):
    caplog.set_level(logging.INFO, logger="archive.mail")
    with app.app_context():
        send_mail("an@example.vn", "Chủ đề", "Nội dung với liên kết http://archive.test/x")
    (record,) = [r for r in caplog.records if r.name == "archive.mail"]
    text = record.getMessage()
    assert record.levelno == logging.INFO
    assert "To: an@example.vn" in text and "Subject: Chủ đề" in text
    assert "Nội dung với liên kết http://archive.test/x" in text


def test_an_unknown_backend_is_refused_at_start():
    from config import TestConfig

    bad = type("Bad", (TestConfig,), {"MAIL_BACKEND": "pigeon"})
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        bad.check()
