"""Column types and helpers shared by the models."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from metadata.languages import LangString

#: JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite drops tzinfo on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def to_langstrings(items: list[dict] | None) -> list[LangString]:
    """Turn stored ``[{"lang": .., "value": ..}]`` JSON into language-tagged values."""
    return [LangString(i["value"], i["lang"]) for i in items or [] if i.get("value")]


def from_langstrings(values: list[LangString]) -> list[dict]:
    """The JSON form of language-tagged values."""
    return [v.to_dict() for v in values]
