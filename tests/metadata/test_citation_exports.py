"""Machine-readable citations of a record: BibTeX (read back with a real parser) and CSL-JSON."""

import datetime as dt
import json
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser

from metadata.citation import (
    CSL_TYPE,
    bibtex_document,
    bibtex_escape,
    bibtex_key,
    citation_creators,
    csl_json_document,
    to_bibtex,
    to_csl_json,
)
from metadata.languages import LangString
from metadata.model import AgentRole, RecordDescription
from tests.conftest import STANDARDS

# bibtexparser 1.4 calls pyparsing's camelCase names, deprecated since pyparsing 3.3: not our warning.
pytestmark = pytest.mark.filterwarnings("ignore::pyparsing.warnings.PyparsingDeprecationWarning")

ACCESSED = dt.date(2026, 12, 2)
ISSUED = dt.date(2024, 3, 15)

#: Item types of CSL 1.0.2 (specification, Appendix III), to check the one the archive chose.
CSL_TYPES = {
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book", "broadcast",
    "chapter", "classic", "collection", "dataset", "document", "entry", "entry-dictionary",
    "entry-encyclopedia", "event", "figure", "graphic", "hearing", "interview", "legal_case",
    "legislation", "manuscript", "map", "motion_picture", "musical_score", "pamphlet", "paper-conference",
    "patent", "performance", "periodical", "personal_communication", "post", "post-weblog", "regulation",
    "report", "review", "review-book", "software", "song", "speech", "standard", "thesis", "treaty",
    "webpage",
}  # fmt: skip


def _record(title="Lễ hội Lồng Tồng", agents=None, texts=None, identifier="r12abc"):
    return RecordDescription(
        identifier=identifier,
        slug="le-hoi-long-tong",
        url=f"https://archive.example/records/{identifier}",
        category="festival",
        status="published",
        access_level="public",
        texts=texts or {"title": [LangString(title, "vi"), LangString("Lồng Tồng festival", "en")]},
        agents=agents
        if agents is not None
        else [
            AgentRole("Lò Văn Tài", "recorder"),
            AgentRole("Viện Văn hoá and Nghệ thuật", "researcher", "organisation"),
            AgentRole("Hà Thị Mai", "performer"),  # performers are not authors of the record
            AgentRole("Lò Văn Tài", "researcher"),  # one person in two roles is named once
        ],
        publisher="Lưu trữ Di sản",
    )


def _parse(text: str) -> dict:
    parser = BibTexParser(common_strings=False)
    parser.ignore_nonstandard_types = False
    (entry,) = bibtexparser.loads(text, parser=parser).entries
    return entry


# --- BibTeX --------------------------------------------------------------------------------------


def test_bibtex_entry_reads_back_with_a_real_parser():
    entry = _parse(to_bibtex(_record(), issued=ISSUED, accessed=ACCESSED, lang="vi"))
    assert entry["ENTRYTYPE"] == "misc" and entry["ID"] == "r12abc"
    # Every name is one braced unit: BibTeX would otherwise take "Tài" for the family name.
    assert entry["author"] == "{Lò Văn Tài} and {Viện Văn hoá and Nghệ thuật}"
    assert entry["title"] == "{Lễ hội Lồng Tồng}"  # double braces keep the capitals
    assert entry["year"] == "2024" and entry["date"] == "2024-03-15"
    assert entry["publisher"] == "Lưu trữ Di sản"
    assert entry["url"] == "https://archive.example/records/r12abc"
    assert entry["urldate"] == "2026-12-02"
    assert entry["note"] == "Mã bản ghi r12abc"
    assert entry["howpublished"] == "Bản ghi lưu trữ trực tuyến"
    assert entry["language"] == "Vietnamese"


def test_bibtex_title_follows_the_language_and_falls_back_to_vietnamese():
    english = _parse(to_bibtex(_record(), issued=ISSUED, accessed=ACCESSED, lang="en"))
    assert english["title"] == "{Lồng Tồng festival}" and english["language"] == "English"
    assert english["note"] == "Record r12abc" and english["howpublished"] == "Online archive record"
    only_vi = _record(texts={"title": [LangString("Hát then", "vi")]})
    fallback = _parse(to_bibtex(only_vi, issued=ISSUED, accessed=ACCESSED, lang="en"))
    assert fallback["title"] == "{Hát then}" and fallback["language"] == "Vietnamese"


def test_bibtex_specials_are_escaped_and_diacritics_stay_utf8():
    title = "Lễ {cúng} 100% & #1 $5 a_b ~x^2 C:\\dir"
    text = to_bibtex(_record(title=title), issued=ISSUED, accessed=ACCESSED, lang="vi")
    entry = _parse(text)
    assert entry["title"] == (
        r"{Lễ \textbraceleft{}cúng\textbraceright{} 100\% \& \#1 \$5 a\_b "
        r"\textasciitilde{}x\textasciicircum{}2 C:\textbackslash{}dir}"
    )
    assert "Lễ" in text and "\\~" not in text  # UTF-8, not LaTeX accent commands
    assert text.count("{") == text.count("}")  # BibTeX counts every brace


def test_bibtex_escape_collapses_white_space():
    assert bibtex_escape("Hát\n  then\t") == "Hát then"
    assert bibtex_escape("50% off") == r"50\% off"


def test_bibtex_without_creators_or_date_leaves_the_fields_out():
    entry = _parse(to_bibtex(_record(agents=[]), issued=None, accessed=ACCESSED, lang="vi"))
    assert "author" not in entry and "year" not in entry and entry["urldate"] == "2026-12-02"


def test_bibtex_keys_are_safe():
    assert bibtex_key("r12abc") == "r12abc"
    assert bibtex_key("a b{c}") == "a-b-c"
    assert bibtex_key("{}") == "record"


def test_a_bib_file_of_many_entries_with_a_comment():
    records = [_record(identifier=f"r{n}") for n in range(3)]
    data = bibtex_document(
        [to_bibtex(r, issued=ISSUED, accessed=ACCESSED, lang="vi") for r in records], "Cut at 3 of 5."
    )
    parser = BibTexParser(common_strings=False)
    database = bibtexparser.loads(data.decode("utf-8"), parser=parser)
    assert [e["ID"] for e in database.entries] == ["r0", "r1", "r2"]
    assert database.comments == ["Cut at 3 of 5."]


# --- CSL-JSON ------------------------------------------------------------------------------------


def test_csl_json_item_fields():
    item = to_csl_json(_record(), issued=ISSUED, accessed=ACCESSED, lang="vi")
    assert item == {
        "id": "r12abc",
        "type": "entry",
        "title": "Lễ hội Lồng Tồng",
        "author": [{"literal": "Lò Văn Tài"}, {"literal": "Viện Văn hoá and Nghệ thuật"}],
        "issued": {"date-parts": [[2024, 3, 15]]},
        "accessed": {"date-parts": [[2026, 12, 2]]},
        "container-title": "Lưu trữ Di sản",
        "publisher": "Lưu trữ Di sản",
        "archive": "Lưu trữ Di sản",
        "archive_location": "r12abc",
        "URL": "https://archive.example/records/r12abc",
        "language": "vi",
    }
    assert CSL_TYPE in CSL_TYPES


def test_csl_json_in_english_without_date():
    item = to_csl_json(_record(agents=[]), issued=None, accessed=ACCESSED, lang="en-GB")
    assert item["title"] == "Lồng Tồng festival" and item["language"] == "en"
    assert "issued" not in item and "author" not in item


def test_csl_json_document_is_an_array_in_utf8():
    data = csl_json_document([to_csl_json(_record(), issued=ISSUED, accessed=ACCESSED, lang="vi")])
    assert "Lồng Tồng".encode() in data  # not \\u escapes
    (item,) = json.loads(data)
    assert item["id"] == "r12abc"


CSL_SCHEMA = STANDARDS / "csl" / "csl-data.json"


@pytest.mark.skipif(not CSL_SCHEMA.exists(), reason="the CSL-JSON schema is not in the shared standards")
def test_csl_json_validates_against_the_csl_data_schema():
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(json.loads(Path(CSL_SCHEMA).read_text(encoding="utf-8")))
    items = [
        to_csl_json(_record(), issued=ISSUED, accessed=ACCESSED, lang="vi"),
        to_csl_json(_record(agents=[]), issued=None, accessed=ACCESSED, lang="en"),
    ]
    assert validator.is_valid(json.loads(csl_json_document(items)))
    assert not validator.is_valid([{"id": "x", "type": "festival"}])  # the schema does check types


def test_citation_creators_are_recorders_and_researchers_once():
    assert citation_creators(_record()) == [
        ("Lò Văn Tài", "person"),
        ("Viện Văn hoá and Nghệ thuật", "organisation"),
    ]
