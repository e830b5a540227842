"""The optional `files` column of the records CSV: paths inside an import bundle, checked so that none
can leave it, and written on export only when a record lists files."""

import dataclasses
import unicodedata

import pytest

from metadata.csv_records import files_by_row, header_for, parse_csv, record_row, write_csv
from metadata.languages import LangString
from metadata.model import RecordDescription


def _one(files_cell: str):
    text = f'category,title@vi,files\nfestival,Lễ Lồng tồng,"{files_cell}"\n'
    return parse_csv(text)


def test_files_are_split_and_normalised():
    records, errors = _one(" photos/longtong-1.jpg | ./audio//then.wav |")
    assert errors == []
    assert records[0].files == ["photos/longtong-1.jpg", "audio/then.wav"]


def test_files_keep_vietnamese_names_composed():
    name = "ảnh/lồng-tồng.jpg"
    records, errors = _one(unicodedata.normalize("NFD", name))  # as macOS writes file names
    assert errors == [] and records[0].files == [unicodedata.normalize("NFC", name)]


def test_without_the_column_a_record_has_no_files():
    records, errors = parse_csv("category,title@vi\nfestival,Lễ hội\n")
    assert errors == [] and records[0].files == []


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("/etc/passwd", "absolute_path"),
        ("C:/Users/an/anh.jpg", "absolute_path"),
        ("../secret.jpg", "parent_path"),
        ("photos/../../secret.jpg", "parent_path"),
        ("photos\\anh.jpg", "backslash_path"),
    ],
)
def test_paths_that_could_leave_the_bundle_are_refused(cell, code):
    records, errors = _one(f"ok.jpg|{cell}")
    assert records == []
    assert [(e.row, e.column, e.code) for e in errors] == [(2, "files", code)]
    assert errors[0].params["value"] == cell


def test_files_by_row_reads_rows_with_other_errors_too():
    text = "category,title@vi,files\nparty,Sai loại,a.jpg|b.wav\nfestival,Tốt,c.jpg\nfestival,Không tệp,\n"
    records, errors = parse_csv(text)
    assert [e.code for e in errors] == ["unknown_category"]
    assert files_by_row(text) == {2: ["a.jpg", "b.wav"], 3: ["c.jpg"]}


@dataclasses.dataclass(frozen=True)
class BundleDescription(RecordDescription):
    """A description that knows the files of its record inside an import bundle."""

    files: list[str] = dataclasses.field(default_factory=list)


def _description(cls=RecordDescription, **fields) -> RecordDescription:
    values = dict(identifier="rabc1234", slug="le-hoi", url="http://archive.test/records/rabc1234",
                  category="festival", status="draft", access_level="public",
                  texts={"title": [LangString("Lễ hội", "vi")]})  # fmt: skip
    values.update(fields)
    return cls(**values)


def test_export_lists_files_only_when_a_description_has_them():
    plain = _description()
    assert "files" not in header_for([plain])
    assert "files" not in write_csv([plain]).splitlines()[0]

    with_files = _description(BundleDescription, files=["photos/a.jpg", "audio/b.wav"])
    header = header_for([plain, with_files])
    assert header[-1] == "files"
    assert record_row(with_files, header)[-1] == "photos/a.jpg|audio/b.wav"
    assert record_row(plain, header)[-1] == ""

    records, errors = parse_csv(write_csv([with_files]))
    assert errors == [] and records[0].files == ["photos/a.jpg", "audio/b.wav"]
