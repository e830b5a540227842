"""Every model of the archive, imported in one place for Alembic and the shell."""

from archive.accounts.models import AccountToken, LoginFailure, User
from archive.audit.models import AuditEvent
from archive.media.models import MediaFile
from archive.records.models import (
    DocumentedDate,
    FestivalTiming,
    HeritageRecord,
    IssuedIdentifier,
    RecordAgent,
    RecordText,
    Rights,
)
from archive.search.models import SearchOutbox
from archive.vocab.models import Agent, Collection, EthnicGroup, Place, PlaceSuccession, Subject

__all__ = [
    "AccountToken",
    "Agent",
    "AuditEvent",
    "Collection",
    "DocumentedDate",
    "EthnicGroup",
    "FestivalTiming",
    "HeritageRecord",
    "IssuedIdentifier",
    "LoginFailure",
    "MediaFile",
    "Place",
    "PlaceSuccession",
    "RecordAgent",
    "RecordText",
    "Rights",
    "SearchOutbox",
    "Subject",
    "User",
]
