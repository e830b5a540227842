"""Locust visitor mix for bench/load.py: anonymous visitors of the archive's public site.

Run by bench/load.py as ``locust --headless -f bench/locustfile.py``; never imported by the app or the
tests (locust brings gevent and patches the standard library). The URLs come from the JSON file named by
LOAD_MIX, written by bench/load.py after reading the running site (sitemap, record pages, info.json...).
Every request is named by its kind, so locust's statistics are per kind. A response is a failure
unless its status is 200, 206 or 304 (redirects are not followed: the mix only holds final URLs).
"""

from __future__ import annotations

import json
import os
import random
import re

from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["LOAD_MIX"], encoding="utf-8") as _fh:
    MIX = json.load(_fh)

RANGE_CHUNK = 256 * 1024
OK = (200, 206, 304)
TOKEN = re.compile(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def _check(response, expect: tuple[int, ...] = OK) -> None:
    """Mark anything but the expected statuses as a failure, with the status in the message."""
    if response.status_code not in expect:
        response.failure(f"HTTP {response.status_code}")
    else:
        response.success()


def _make_task(kind: str):
    if kind == "media_range":
        return lambda self: self._range()
    if kind == "oai":
        return lambda self: self._oai()
    return lambda self: self._simple(kind)


#: One task per kind present in the mix, with the mix's weight (locust expands the weights when the
#: class is created, so they must be in the class body).
TASKS = {_make_task(kind): spec["weight"] for kind, spec in MIX["kinds"].items() if spec["requests"]}
THINK = MIX.get("think_seconds", [0.5, 2.0])


class Visitor(FastHttpUser):
    """One anonymous visitor: reads records, browses, searches, zooms images, plays media, harvests."""

    tasks = TASKS

    def wait_time(self) -> float:
        """Think time between two requests of one visitor."""
        return random.uniform(*THINK)

    def _get(self, kind: str, url: str, headers: dict | None = None, expect=OK):
        with self.client.get(
            url, name=kind, headers=headers or {}, catch_response=True, allow_redirects=False
        ) as response:
            _check(response, expect)
            return response

    def _pick(self, kind: str) -> dict:
        return random.choice(MIX["kinds"][kind]["requests"])

    def _simple(self, kind: str) -> None:
        self._get(kind, self._pick(kind)["url"])

    def _range(self) -> None:
        item = self._pick("media_range")
        size = item["size"]
        # A player asks for the start first, then seeks: half the requests open the file, half seek.
        start = 0 if random.random() < 0.5 else random.randrange(0, max(1, size - 1))
        end = min(size - 1, start + RANGE_CHUNK - 1)
        self._get("media_range", item["url"], {"Range": f"bytes={start}-{end}"}, expect=(206,))

    def _oai(self) -> None:
        item = self._pick("oai")
        response = self._get("oai", item["url"])
        # A harvester follows resumption tokens to the end of the list.
        follow = 0
        while item.get("follow") and response is not None and response.status_code == 200 and follow < 50:
            match = TOKEN.search(response.text or "")
            if not match:
                break
            follow += 1
            response = self._get("oai", f"/oai?verb={item['verb']}&resumptionToken={match.group(1)}")
