"""Schemathesis against the live OpenAPI document (in-process, WSGI): generated requests to every
operation find no server error and no answer that breaks the document's schemas. Writes are sent with a
contributor's token, inside the test's rolled-back transaction.

The operations are driven one by one with Hypothesis here rather than through schemathesis's pytest
plugin (``from_fixture``), which does not work with pytest 9."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.api.conftest import bearer

#: Examples per operation: enough to meet edge cases, few enough to keep the whole run well under 60 s.
EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def with_known_values(strategy, path: str, known: dict[str, list[str]]):
    """Cases whose path parameter is, half of the time, an identifier that exists (random ones only
    ever meet 404)."""
    prefix = path.split("{", 1)[0]
    values = next((v for p, v in known.items() if prefix.startswith(p)), None)
    if "{" not in path or not values:
        return strategy
    name = path.split("{", 1)[1].split("}", 1)[0]

    def use(pair):
        case, value = pair
        if value is not None:
            case.path_parameters = {**(case.path_parameters or {}), name: value}
        return case

    return st.tuples(strategy, st.one_of(st.none(), st.sampled_from(values))).map(use)


def check_operations(
    app, secret: str, known: dict[str, list[str]], examples: int = EXAMPLES
) -> dict[str, str]:
    """Run generated cases against every operation; returns {operation: first failure} (empty: none).
    *known* gives existing identifiers by path prefix ("/api/v1/records/": public ids...)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17, [op.label for op in operations]
    for operation in operations:
        # The in-process transport does not decode compressed answers (archive.core.assets compresses).
        headers = {"Accept-Encoding": "identity"}
        if operation.method.upper() != "GET":
            headers.update(bearer(secret))

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=with_known_values(operation.as_strategy(), operation.path, known))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)  # noqa: B023 - run() is called at once

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported together
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    return failures


def known_identifiers(user) -> dict[str, list[str]]:
    """Identifiers that exist: records (public ones and a draft of *user*), media, collections, exhibits."""
    from sqlalchemy import select

    from archive.core.extensions import db
    from archive.exhibits.models import Exhibit
    from archive.media.models import MediaFile
    from archive.records.models import HeritageRecord
    from archive.records.services import create_record
    from archive.vocab.models import Collection
    from metadata.csv_records import RecordInput

    draft = create_record(RecordInput.titled("Bản nháp của schemathesis", status="draft"), user)
    db.session.commit()
    records = list(db.session.scalars(select(HeritageRecord.public_id).limit(30)))
    return {
        "/api/v1/records/": [draft.public_id, *records],
        "/api/v1/media/": list(db.session.scalars(select(MediaFile.public_id).limit(30))),
        "/api/v1/collections/": list(db.session.scalars(select(Collection.slug))),
        "/api/v1/exhibits/": list(db.session.scalars(select(Exhibit.slug))),
    }


def test_api_answers_keep_to_the_document(app, db, make_token):
    user, secret = make_token("contributor")
    failures = check_operations(app, secret, known_identifiers(user))
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
