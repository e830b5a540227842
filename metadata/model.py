"""Plain descriptions of heritage records, handed by the application to the metadata standards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from metadata.languages import LangString


@dataclass(frozen=True)
class Term:
    """A vocabulary term: identifier, URI (if any) and language-tagged labels."""

    id: str
    labels: list[LangString]
    uri: str | None = None


@dataclass(frozen=True)
class PlaceTerm:
    """A place with its code, labels, coordinates and today's province."""

    code: str
    label: str
    system: str
    latitude: float | None = None
    longitude: float | None = None
    current_province: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class AgentRole:
    """An agent and the role played on the record."""

    name: str
    role: str
    kind: str = "person"
    uri: str | None = None


@dataclass(frozen=True)
class Timing:
    """A festival recurrence: lunar or Gregorian month/day, with duration and note."""

    calendar: str
    month: int
    day: int | None
    leap: bool = False
    duration_days: int = 1
    note: list[LangString] = field(default_factory=list)


@dataclass(frozen=True)
class DocDate:
    """A Gregorian date or range on which the event was held or recorded."""

    kind: str
    start: dt.date
    end: dt.date | None = None

    def iso(self) -> str:
        """ISO 8601 date or interval."""
        return self.start.isoformat() + (f"/{self.end.isoformat()}" if self.end else "")


@dataclass(frozen=True)
class MediaDescription:
    """A media file as metadata sees it."""

    identifier: str
    kind: str
    mime_type: str
    caption: list[LangString]
    url: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    is_illustration: bool = False


@dataclass(frozen=True)
class RecordDescription:
    """Everything the metadata standards need to know about one heritage record."""

    identifier: str
    slug: str
    url: str
    category: str
    status: str
    access_level: str
    texts: dict[str, list[LangString]]
    ethnic_groups: list[Term] = field(default_factory=list)
    places: list[PlaceTerm] = field(default_factory=list)
    subjects: list[Term] = field(default_factory=list)
    agents: list[AgentRole] = field(default_factory=list)
    collections: list[Term] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    dates: list[DocDate] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    rights_uri: str | None = None
    rights_holder: str | None = None
    consent_note: list[LangString] = field(default_factory=list)
    publisher: str = ""
    created: dt.datetime | None = None
    modified: dt.datetime | None = None

    def values(self, name: str) -> list[LangString]:
        """The language-tagged values of a text field (empty list when absent)."""
        return self.texts.get(name, [])
