"""Every model of the archive, imported in one place for Alembic and the shell."""

from archive.accounts.models import AccountToken, LoginFailure, User
from archive.api.models import ApiToken
from archive.audit.models import AuditEvent
from archive.communities.models import Community, CommunityMembership, ConsentRecord, CulturalLabel
from archive.datasets.models import Dataset, DatasetRefresh, DatasetTable, DatasetVersion
from archive.exhibits.models import Exhibit, ExhibitItem, ExhibitSection
from archive.media.models import MediaFile, UploadSession
from archive.oai.models import OaiItem, OaiItemSet, OaiSyncState
from archive.preservation.models import FixityCheck, FixityRun, FixityState
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
from archive.workflow.models import Notification, RecordRevision, WorkflowEvent

__all__ = [
    "AccountToken",
    "Agent",
    "ApiToken",
    "AuditEvent",
    "Community",
    "CommunityMembership",
    "ConsentRecord",
    "CulturalLabel",
    "Dataset",
    "DatasetRefresh",
    "DatasetTable",
    "DatasetVersion",
    "Collection",
    "DocumentedDate",
    "EthnicGroup",
    "Exhibit",
    "ExhibitItem",
    "ExhibitSection",
    "FestivalTiming",
    "FixityCheck",
    "FixityRun",
    "FixityState",
    "HeritageRecord",
    "IssuedIdentifier",
    "LoginFailure",
    "MediaFile",
    "OaiItem",
    "OaiItemSet",
    "OaiSyncState",
    "Notification",
    "Place",
    "PlaceSuccession",
    "RecordAgent",
    "RecordRevision",
    "RecordText",
    "Rights",
    "SearchOutbox",
    "Subject",
    "UploadSession",
    "User",
    "WorkflowEvent",
]
