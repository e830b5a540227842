"""Fixtures of the account tests: the mails written to the log."""

from __future__ import annotations

import logging
import re

import pytest


@pytest.fixture
def mailbox(caplog):
    """The messages of the log mail backend, and the account links in them."""
    caplog.set_level(logging.INFO, logger="archive.mail")

    class Mailbox:
        @property
        def messages(self) -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "archive.mail"]

        def links(self, kind: str) -> list[str]:
            """Paths of the links of one kind ("password/reset" or "invite") in the order mailed."""
            found = []
            for message in self.messages:
                found += re.findall(rf"http://archive\.test((?:/vi|/en)?/{kind}/[A-Za-z0-9_-]+)", message)
            return found

        def last_link(self, kind: str) -> str:
            links = self.links(kind)
            assert links, f"no {kind} link mailed: {self.messages}"
            return links[-1]

    return Mailbox()
