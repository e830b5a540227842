"""The dataset services: uploading into a draft, replacing and removing tables, files stored and removed
with the transaction, publishing with checksums, immutability, withdrawing and permissions."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest

from metadata.languages import LangString

SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "constraints": {"required": True}},
        {"name": "communes", "type": "integer", "constraints": {"minimum": 0}},
    ]
}


def _unique_csv(rows: int = 2) -> str:
    # Unique content, so that no other test's stored file shares the content-addressed key.
    tag = uuid.uuid4().hex[:8]
    body = "".join(f"Tỉnh {tag} {i},{i}\n" for i in range(rows))
    return "province,communes\n" + body


@pytest.fixture
def officer(make_user):
    return make_user("contributor")


@pytest.fixture
def curator(make_user):
    return make_user("curator")


@pytest.fixture
def new_dataset(db, officer):
    from archive.datasets import services

    def factory(user=None):
        data = services.DatasetData(slug=f"dv-{uuid.uuid4().hex[:8]}", title=[LangString("Thử", "vi")])
        dataset = services.create_dataset(user or officer, data)
        db.session.commit()
        return dataset

    return factory


@pytest.fixture
def upload(tmp_path, officer):
    from archive.datasets import services

    def factory(
        dataset,
        text=None,
        *,
        name="communes",
        mode="provided",
        schema=SCHEMA,
        user=None,
        filename="communes.csv",
        data: bytes | None = None,
        suffix=None,
    ):
        path = tmp_path / (uuid.uuid4().hex + (Path(filename).suffix if suffix is None else suffix))
        path.write_bytes(data if data is not None else (text or _unique_csv()).encode("utf-8"))
        request = services.UploadRequest(
            path=path, filename=filename, name=name, schema_mode=mode, schema=schema
        )
        return services.upload_table(user or officer, dataset, request)

    return factory


def _stored(key):
    from archive.core.storage import original_path

    return original_path(key)


def test_an_upload_goes_into_a_draft_as_normalised_checksummed_csv(db, new_dataset, upload):
    dataset = new_dataset()
    text = "province;communes\r\nLào Cai;99\r\nCao Bằng;56\r\n" + f"X {uuid.uuid4().hex};1\r\n"
    table = upload(dataset, text)
    db.session.commit()
    assert dataset.draft_version.number == 1 and dataset.status == "draft"
    assert table.is_valid and table.schema_confirmed and table.row_count == 3
    data = _stored(table.storage_key).read_bytes()
    assert data.startswith(b"province,communes\r\nL\xc3\xa0o Cai,99\r\n")
    assert hashlib.sha256(data).hexdigest() == table.sha256 and table.byte_size == len(data)
    assert table.source_storage_key is None and table.source_format == "csv"


def _xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["province", "communes"])
    sheet.append([f"Tỉnh {uuid.uuid4().hex[:6]}", 12])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_upload_keeps_its_source_file(db, new_dataset, upload):
    dataset = new_dataset()
    data = _xlsx_bytes()
    table = upload(dataset, data=data, filename="bang.xlsx")
    db.session.commit()
    assert table.source_format == "xlsx" and table.is_valid
    assert _stored(table.source_storage_key).read_bytes() == data
    assert _stored(table.storage_key).read_bytes().endswith(b",12\r\n")


def test_an_xlsx_upload_at_a_path_without_extension_is_read(db, new_dataset, upload):
    # media.services.receive_stream (and the API) make temporary files without an extension.
    table = upload(new_dataset(), data=_xlsx_bytes(), filename="bang.xlsx", suffix="")
    assert table.is_valid


def test_a_semicolon_csv_with_a_blank_line_is_read_by_column(db, new_dataset, upload):
    table = upload(new_dataset(), f"province;communes\r\nLào Cai;99\r\n\r\nX {uuid.uuid4().hex};1\r\n")
    assert table.is_valid and table.row_count == 2


def test_a_table_with_errors_is_kept_in_the_draft_with_them(db, new_dataset, upload):
    dataset = new_dataset()
    table = upload(dataset, "province,communes\nA,abc\n,5\n")
    db.session.commit()
    assert not table.is_valid and table.error_count == 2
    assert [(e["type"], e["row"], e["column"]) for e in table.errors] == [
        ("type-error", 2, 2),
        ("constraint-error", 3, 1),
    ]
    assert not dataset.draft_version.is_ready


def test_replacing_a_table_in_the_draft_removes_the_old_file_after_the_commit(db, new_dataset, upload):
    dataset = new_dataset()
    first = upload(dataset)
    db.session.commit()
    old_key = first.storage_key
    second = upload(dataset)
    assert _stored(old_key).exists()  # not before the commit
    db.session.commit()
    assert [t.id for t in dataset.draft_version.tables] == [second.id]
    assert not _stored(old_key).exists() and _stored(second.storage_key).exists()


def test_replacing_a_table_with_the_same_file_keeps_the_file(db, new_dataset, upload):
    dataset = new_dataset()
    text = _unique_csv()
    upload(dataset, text)
    db.session.commit()
    again = upload(dataset, text)
    db.session.commit()
    assert _stored(again.storage_key).exists(), "the replaced table's file is the new table's file too"


def test_discarding_a_draft_removes_its_files_after_the_commit(db, new_dataset, upload, officer):
    from archive.datasets import services

    dataset = new_dataset()
    table = upload(dataset)
    db.session.commit()
    key = table.storage_key
    services.discard_draft(officer, dataset.draft_version)
    assert _stored(key).exists()
    db.session.commit()
    assert not _stored(key).exists()
    assert dataset.versions == []


def test_a_rolled_back_upload_leaves_no_file(db, new_dataset, upload):
    dataset = new_dataset()
    table = upload(dataset)
    key = table.storage_key
    assert _stored(key).exists()
    db.session.rollback()
    assert not _stored(key).exists()


def test_a_file_other_tables_use_is_not_removed(db, new_dataset, upload, officer):
    from archive.datasets import services

    text = _unique_csv()
    one, two = new_dataset(), new_dataset()
    upload(one, text)
    shared = upload(two, text)
    db.session.commit()
    services.discard_draft(officer, one.draft_version)
    db.session.commit()
    assert _stored(shared.storage_key).exists()


def test_publishing_checks_the_files_and_freezes_the_version(db, new_dataset, upload, curator, officer):
    from archive.datasets import services
    from archive.datasets.models import PublishedVersionIsImmutable
    from metadata import tables

    dataset = new_dataset()
    table = upload(dataset)
    db.session.commit()
    with pytest.raises(services.DatasetError) as refused:
        services.publish_version(officer, dataset.draft_version)
    assert refused.value.status == 403
    version = services.publish_version(curator, dataset.draft_version)
    db.session.commit()
    assert version.is_published and dataset.status == "published" and dataset.is_public
    assert version.checksum == tables.checksum_of_version([(table.name, table.sha256, table.table_schema)])
    with pytest.raises(services.DatasetError) as again:
        services.publish_version(curator, version)
    assert again.value.code == "already_published"
    with pytest.raises(services.DatasetError) as immutable:
        services.confirm_schema(officer, table, SCHEMA)
    assert immutable.value.status == 409
    table.row_count = 99
    with pytest.raises(PublishedVersionIsImmutable):
        db.session.flush()
    db.session.rollback()
    # A new upload starts version 2; version 1 is unchanged.
    upload(dataset, mode="previous", schema=None)
    db.session.commit()
    assert [v.number for v in dataset.versions] == [1, 2]
    assert dataset.latest_version.number == 1 and dataset.versions[0].checksum == version.checksum


def test_a_stored_file_that_changed_is_not_published(db, new_dataset, upload, curator):
    from archive.datasets import services

    dataset = new_dataset()
    table = upload(dataset)
    db.session.commit()
    path = _stored(table.storage_key)
    original = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(original.replace(b"0", b"7"))
    try:
        with pytest.raises(services.DatasetError) as refused:
            services.publish_version(curator, dataset.draft_version)
        assert refused.value.code == "checksum_mismatch" and refused.value.params == {"name": "communes"}
    finally:
        path.write_bytes(original)
    assert not dataset.draft_version.is_published


def test_an_inferred_schema_needs_confirming(db, new_dataset, upload, officer, curator):
    from archive.datasets import services

    dataset = new_dataset()
    table = upload(dataset, mode="infer", schema=None)
    assert table.schema_confirmed is False and [f["type"] for f in table.fields] == ["string", "integer"]
    with pytest.raises(services.DatasetError) as refused:
        services.publish_version(curator, dataset.draft_version)
    assert refused.value.code == "not_ready"
    services.confirm_schema(officer, table, SCHEMA, {"label": "province", "value": "communes"})
    assert table.schema_confirmed and table.is_valid and dataset.draft_version.is_ready
    with pytest.raises(services.DatasetError) as bad_chart:
        services.confirm_schema(officer, table, SCHEMA, {"label": "province", "value": "nothing"})
    assert bad_chart.value.code == "bad_chart"


def test_removing_a_table_from_the_draft(db, new_dataset, upload, officer):
    from archive.datasets import services

    dataset = new_dataset()
    upload(dataset)
    second = upload(dataset, name="second")
    db.session.commit()
    key = second.storage_key
    services.remove_table(officer, second)
    db.session.commit()
    assert [t.name for t in dataset.draft_version.tables] == ["communes"]
    assert not _stored(key).exists()


def test_withdrawing_and_reinstating(db, new_dataset, upload, officer, curator):
    from archive.datasets import services

    dataset = new_dataset()
    with pytest.raises(services.DatasetError) as nothing:
        services.reinstate_dataset(curator, dataset)
    assert nothing.value.code == "nothing_published"
    upload(dataset)
    services.publish_version(curator, dataset.draft_version)
    db.session.commit()
    with pytest.raises(services.DatasetError) as refused:
        services.withdraw_dataset(officer, dataset)
    assert refused.value.status == 403
    services.withdraw_dataset(curator, dataset)
    db.session.commit()
    assert dataset.status == "withdrawn" and not dataset.is_public
    assert dataset.id not in {d.id for d in services.public_datasets()}
    assert services.can_view(dataset, officer) and not services.can_view(dataset, None)
    assert dataset.versions[0].is_published  # kept, unchanged
    services.reinstate_dataset(curator, dataset)
    db.session.commit()
    assert dataset.id in {d.id for d in services.public_datasets()}


def test_who_may_do_what(db, new_dataset, upload, officer, curator, make_user):
    from archive.datasets import services

    other = make_user("contributor")
    researcher = make_user("researcher")
    mine = new_dataset()
    theirs = new_dataset(other)
    assert services.can_edit(mine, officer) and not services.can_edit(theirs, officer)
    assert services.can_edit(theirs, curator) and not services.can_manage(researcher)
    with pytest.raises(services.DatasetError) as refused:
        upload(theirs)
    assert refused.value.code == "not_allowed" and refused.value.status == 403
    with pytest.raises(services.DatasetError):
        services.create_dataset(
            researcher, services.DatasetData(slug="khong-duoc", title=[LangString("x", "vi")])
        )
    listed = {d.id for d in services.datasets_for(officer)}
    assert mine.id in listed and theirs.id not in listed
    assert {mine.id, theirs.id} <= {d.id for d in services.datasets_for(curator)}


def test_a_generated_dataset_refuses_uploads(db, upload, officer, curator):
    from archive.datasets import services

    data = services.DatasetData(slug=f"gen-{uuid.uuid4().hex[:6]}", title=[LangString("Sinh", "vi")])
    dataset = services.create_dataset(None, data, origin="generated", generator=f"g-{uuid.uuid4().hex[:6]}")
    with pytest.raises(services.DatasetError) as refused:
        upload(dataset, user=curator)
    assert refused.value.code == "generated_dataset"


def test_a_stale_description_is_refused(db, new_dataset, officer):
    from archive.datasets import services

    dataset = new_dataset()
    data = services.DatasetData(slug=dataset.slug, title=[LangString("Mới", "vi")])
    with pytest.raises(services.DatasetError) as stale:
        services.update_dataset(officer, dataset, data, dataset.version_id + 1)
    assert stale.value.status == 409
    services.update_dataset(officer, dataset, data, dataset.version_id)
    db.session.commit()
    assert dataset.title == [{"lang": "vi", "value": "Mới"}]
