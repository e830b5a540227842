"""The IIIF Presentation 3.0 builder on its own: manifests and collections from plain descriptions,
valid against the Presentation 3.0 schema, plus what the schema does not check."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from jsonschema import Draft7Validator

from metadata.iiif_presentation import (
    CanvasSource,
    CollectionEntry,
    Link,
    ManifestEntry,
    ManifestLinks,
    Provider,
    Rendition,
    TextTrack,
    build_collection,
    build_manifest,
    find_resource,
    iiif_rights,
    language_map,
    thumbnail_size,
)
from metadata.languages import LangString
from metadata.model import DocDate, RecordDescription, Term
from tests.conftest import STANDARDS

BASE = "https://archive.example/iiif/records/r1"
SERVICE = "https://archive.example/iiif/3/m-image"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads((STANDARDS / "iiif" / "presentation-3.0.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid(validator: Draft7Validator, document: dict) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])


def record(**overrides) -> RecordDescription:
    fields = dict(
        identifier="r1",
        slug="long-tong",
        url="https://archive.example/records/r1",
        category="festival",
        status="published",
        access_level="public",
        texts={
            "title": [
                LangString("Lễ hội Lồng Tồng", "vi"),
                LangString("Going-to-the-fields festival", "en"),
                LangString("Lồng tồng", "tyz"),
            ],
            "summary": [LangString("Hội xuống đồng.", "vi"), LangString("The first ploughing.", "en")],
        },
        ethnic_groups=[Term("tay", [LangString("Tày", "vi"), LangString("Tay", "en")])],
        collections=[
            Term("songs", [LangString("Dân ca", "vi")], "https://archive.example/collections/songs")
        ],
        dates=[DocDate("recorded", dt.date(2021, 3, 10)), DocDate("held", dt.date(2020, 2, 8))],
        rights_uri="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        rights_holder="Bản Cải",
        publisher="Lưu trữ Di sản",
    )
    fields.update(overrides)
    return RecordDescription(**fields)


def sources() -> list[CanvasSource]:
    return [
        CanvasSource("m-image", "image", [LangString("Rước kiệu", "vi")], 1200, 800, image_service=SERVICE),
        CanvasSource(
            "m-audio",
            "audio",
            [LangString("Hát then", "vi"), LangString("Then song", "en")],
            duration=12.5,
            renditions=(
                Rendition("https://archive.example/media/m-audio/r/web", "audio/mp4"),
                Rendition("https://archive.example/media/m-audio/r/low", "audio/ogg"),
            ),
            tracks=(
                TextTrack(
                    "https://archive.example/media/m-audio/captions/captions-vi.vtt", "vi", "captions", "Lời"
                ),
                TextTrack(
                    "https://archive.example/media/m-audio/captions/transcript-tyz.vtt", "tyz", "transcript"
                ),
            ),
        ),
        CanvasSource(
            "m-video",
            "video",
            [],
            640,
            360,
            duration=4.0,
            renditions=(Rendition("https://archive.example/media/m-video/r/720", "video/mp4", 1280, 720),),
            poster=Rendition("https://archive.example/media/m-video/r/poster", "image/jpeg", 640, 360),
        ),
    ]


def links() -> ManifestLinks:
    return ManifestLinks(
        base=BASE,
        homepages=[
            Link("https://archive.example/vi/records/r1/long-tong", "Text", [], "text/html", language="vi")
        ],
        see_also=[
            Link("https://archive.example/records/r1/dc.xml", "Dataset", [], "application/xml", "oai_dc")
        ],
        part_of=[
            Link(
                "https://archive.example/iiif/collections/groups/tay.json",
                "Collection",
                [LangString("Tày", "vi")],
            )
        ],  # fmt: skip
        provider=Provider(
            "https://archive.example/vi/", [LangString("Lưu trữ", "vi")], "https://archive.example/vi/"
        ),
    )


def test_manifest_is_valid_and_complete(validator):
    manifest = build_manifest(record(), sources(), links())
    assert_valid(validator, manifest)
    assert manifest["id"] == f"{BASE}/manifest.json"
    assert manifest["label"] == {
        "vi": ["Lễ hội Lồng Tồng"],
        "en": ["Going-to-the-fields festival"],
        "tyz": ["Lồng tồng"],
    }
    assert manifest["summary"]["en"] == ["The first ploughing."]
    assert manifest["rights"] == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert manifest["requiredStatement"]["value"] == {"none": ["Bản Cải"]}
    assert manifest["navDate"] == "2020-02-08T00:00:00Z"  # the date it was held, not recorded
    assert manifest["partOf"][0]["type"] == "Collection"
    assert manifest["seeAlso"][0]["format"] == "application/xml"
    assert manifest["homepage"][0]["language"] == ["vi"]
    labels = {pair["label"]["en"][0]: pair["value"] for pair in manifest["metadata"]}
    assert labels["Subjects"] == {"vi": ["Tày"], "en": ["Tay"]}
    assert labels["Recorded"] == {"none": ["2021-03-10"]}
    assert [c["id"].rsplit("/", 1)[1] for c in manifest["items"]] == ["m-image", "m-audio", "m-video"]
    assert manifest["thumbnail"][0]["service"][0]["id"] == SERVICE


def test_canvases_are_painted_and_recordings_have_durations(validator):
    image, audio, video = build_manifest(record(), sources(), links())["items"]
    for canvas in (image, audio, video):
        annotation = canvas["items"][0]["items"][0]
        assert annotation["motivation"] == "painting" and annotation["target"] == canvas["id"]
        assert_valid(validator, {"@context": "http://iiif.io/api/presentation/3/context.json", **annotation})
    assert (image["width"], image["height"]) == (1200, 800) and "duration" not in image
    body = image["items"][0]["items"][0]["body"]
    assert body["service"][0] == {"id": SERVICE, "type": "ImageService3", "profile": "level2"}
    assert image["thumbnail"][0]["id"] == f"{SERVICE}/full/200,133/0/default.jpg"
    assert audio["duration"] == 12.5 and "width" not in audio
    assert audio["thumbnail"] == image["thumbnail"]  # no still of its own: the record's first picture
    choice = audio["items"][0]["items"][0]["body"]
    assert choice["type"] == "Choice" and [i["format"] for i in choice["items"]] == ["audio/mp4", "audio/ogg"]
    assert all(i["type"] == "Sound" and i["duration"] == 12.5 for i in choice["items"])
    assert video["duration"] == 4.0 and video["width"] == 640
    assert video["items"][0]["items"][0]["body"]["type"] == "Video"
    assert video["thumbnail"][0]["id"].endswith("/poster")
    assert video["label"] == {"vi": ["Lễ hội Lồng Tồng"], "en": ["Going-to-the-fields festival"],
                              "tyz": ["Lồng tồng"]}  # fmt: skip  # no caption: the record's title


def test_captions_and_transcripts_are_supplementing_webvtt_annotations():
    audio = build_manifest(record(), sources(), links())["items"][1]
    page = audio["annotations"][0]
    assert page["type"] == "AnnotationPage"
    captions, transcript = page["items"]
    assert captions["motivation"] == transcript["motivation"] == "supplementing"
    assert captions["body"]["format"] == "text/vtt" and captions["body"]["language"] == "vi"
    assert captions["body"]["label"] == {"vi": ["Lời"]}
    assert transcript["body"]["label"] == {"tyz": ["Transcript"]}
    assert transcript["target"] == audio["id"]


def test_the_manifest_thumbnail_is_the_first_picture_even_after_a_film():
    image, audio, video = sources()
    manifest = build_manifest(record(), [audio, video, image], links())
    assert manifest["thumbnail"][0]["service"][0]["id"] == SERVICE
    assert manifest["items"][0]["thumbnail"] == manifest["thumbnail"]


def test_files_that_cannot_be_shown_get_no_canvas():
    broken = [
        CanvasSource("no-duration", "audio", renditions=(Rendition("https://x.example/a", "audio/mp4"),)),
        CanvasSource("no-rendition", "video", width=640, height=360, duration=3.0),
        CanvasSource("no-service", "image", width=10, height=10),
    ]
    assert build_manifest(record(), broken, links())["items"] == []


def test_language_maps_and_rights():
    assert language_map([LangString("a", "vi"), "b", LangString("c", ""), LangString("d", "vi")]) == {
        "vi": ["a", "d"],
        "none": ["b", "c"],
    }
    assert (
        iiif_rights("http://rightsstatements.org/vocab/InC/1.0/")
        == "http://rightsstatements.org/vocab/InC/1.0/"
    )
    assert iiif_rights("https://example.org/my-licence") is None
    assert thumbnail_size(800, 1200) == (133, 200) and thumbnail_size(100, 50) == (100, 50)


def test_a_licence_iiif_does_not_accept_stays_in_metadata_only(validator):
    manifest = build_manifest(record(rights_uri="https://example.org/licence"), sources(), links())
    assert_valid(validator, manifest)
    assert "rights" not in manifest
    values = [pair["value"] for pair in manifest["metadata"] if pair["label"]["en"] == ["Rights"]]
    assert values == [{"none": ["https://example.org/licence", "Bản Cải"]}]


def test_find_resource_reaches_canvases_pages_and_annotations():
    manifest = build_manifest(record(), sources(), links())
    canvas = f"{BASE}/canvas/m-audio"
    assert find_resource(manifest, canvas)["type"] == "Canvas"
    assert find_resource(manifest, f"{canvas}/page/painting")["type"] == "AnnotationPage"
    assert find_resource(manifest, f"{canvas}/annotation/captions-vi")["motivation"] == "supplementing"
    assert find_resource(manifest, f"{canvas}/annotation/nothing") is None


def test_collections_are_valid(validator):
    entries = [
        ManifestEntry(
            "https://archive.example/iiif/records/r1/manifest.json",
            [LangString("Lồng Tồng", "vi")],
            "https://archive.example/iiif/3/m/full/200,133/0/default.jpg",
        ),
        ManifestEntry("https://archive.example/iiif/records/r2/manifest.json", []),
    ]  # fmt: skip
    collection = build_collection(
        "https://archive.example/iiif/collections/groups/tay.json",
        [LangString("Tày", "vi"), LangString("Tay", "en")],
        entries,
        summary=[LangString("Người Tày", "vi")],
        provider=Provider("https://archive.example/vi/", [LangString("Lưu trữ", "vi")]),
    )
    assert_valid(validator, collection)
    assert [i["type"] for i in collection["items"]] == ["Manifest", "Manifest"]
    assert collection["items"][1]["label"] == {
        "none": ["https://archive.example/iiif/records/r2/manifest.json"]
    }
    pages = build_collection(
        "https://archive.example/iiif/collections/top.json",
        [LangString("Tất cả", "vi")],
        [
            CollectionEntry(
                "https://archive.example/iiif/collections/top.json?page=1", [LangString("1", "none")]
            )
        ],
    )
    assert_valid(validator, pages)
    assert pages["items"][0]["type"] == "Collection"
