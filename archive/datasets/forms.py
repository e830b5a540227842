"""The officers' dataset forms: what was typed (kept on error), per-field messages, and the checked values
the services take. CSRF is checked for every POST by Flask-WTF's CSRFProtect."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l

from archive.core.types import to_langstrings
from archive.datasets import messages
from archive.datasets.models import Dataset, DatasetTable
from archive.datasets.services import DatasetData
from metadata import dcat, tables
from metadata.languages import LangString, nfc

LANGUAGES = ("vi", "en")
LANGUAGE_LABELS = {"vi": _l("Vietnamese"), "en": _l("English")}
STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "withdrawn": _l("Withdrawn")}
SCHEMA_MODE_LABELS = {
    "previous": _l("Same as the previous version"),
    "infer": _l("Infer a schema for me to confirm"),
    "provided": _l("Use this Table Schema (JSON file)"),
}
SHORT_TEXT = 300
LONG_TEXT = 20000
#: The most bytes a Table Schema JSON file may have.
SCHEMA_FILE_MAX = 1024 * 1024
#: Dataset fields whose service refusal belongs next to a form field.
FIELD_OF_CODE = {
    "bad_slug": "slug",
    "slug_taken": "slug",
    "title_vi_required": "title_vi",
    "bad_licence": "license_uri",
    "bad_theme": "themes",
    "bad_frequency": "accrual_periodicity",
    "bad_period": "temporal_end",
    "bad_email": "contact_email",
}


def _clean(value: str | None) -> str:
    return nfc((value or "").replace("\r\n", "\n")).strip()


@dataclass
class FormState:
    """What a form shows: the typed values (lists for multiple choices) and each refused field's message."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The typed value of a field."""
        return self.values.get(name, default)

    def chosen(self, name: str) -> list[str]:
        """The values chosen in a multiple-choice field."""
        return self.lists.get(name, [])

    def error(self, name: str, code: str, **params) -> None:
        """Refuse a field (the first message of a field is kept)."""
        self.errors.setdefault(name, messages.refusal(code, **params))

    @property
    def version(self) -> int | None:
        """The dataset version the form was opened at (None when absent or not a number)."""
        text = self.values.get("version_id", "")
        return int(text) if text.isdigit() else None


def _read(form: Mapping, names: list[str], multi: list[str]) -> FormState:
    state = FormState()
    for name in names:
        raw = form.get(name) or ""
        if "\x00" in raw:
            state.error(name, "nul")
            raw = raw.replace("\x00", "")
        state.values[name] = _clean(raw)
    for name in multi:
        chosen = []
        for raw in form.getlist(name) if hasattr(form, "getlist") else form.get(name, []):
            if "\x00" in raw:
                state.error(name, "nul")
                continue
            chosen.append(_clean(raw))
        state.lists[name] = [c for c in dict.fromkeys(chosen) if c]
    return state


def _lang_values(state: FormState, prefix: str, limit: int) -> list[LangString]:
    values = []
    for lang in LANGUAGES:
        text = state.get(f"{prefix}_{lang}")
        if len(text) > limit:
            state.error(f"{prefix}_{lang}", "text_too_long", count=limit)
        if text:
            values.append(LangString(text, lang))
    return values


def _date(state: FormState, name: str) -> dt.date | None:
    text = state.get(name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        state.error(name, "bad_date")
        return None


# --- the dataset's description -------------------------------------------------------------------------

DATASET_TEXT_FIELDS = [
    "slug",
    *(
        f"{prefix}_{lang}"
        for prefix in ("title", "description", "publisher", "keywords")
        for lang in LANGUAGES
    ),
    "publisher_uri",
    "contact_name",
    "contact_email",
    "license_uri",
    "temporal_start",
    "temporal_end",
    "accrual_periodicity",
    "version_id",
]
DATASET_LIST_FIELDS = ["themes", "spatial", "ethnic_groups"]


def dataset_state(dataset: Dataset | None) -> FormState:
    """The metadata form filled with a dataset (defaults for a new one)."""
    if dataset is None:
        publisher = current_app.config.get("PUBLISHER", "")
        return FormState(
            values={
                "license_uri": dcat.DEFAULT_LICENCE,
                "accrual_periodicity": "IRREG",
                "publisher_vi": publisher,
            }
        )
    values = {
        "slug": dataset.slug,
        "publisher_uri": dataset.publisher_uri or "",
        "contact_name": dataset.contact_name,
        "contact_email": dataset.contact_email,
        "license_uri": dataset.license_uri,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else "",
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else "",
        "accrual_periodicity": dataset.accrual_periodicity,
        "version_id": str(dataset.version_id),
    }
    for prefix, items in (
        ("title", dataset.title_values),
        ("description", dataset.description_values),
        ("publisher", dataset.publisher_values),
    ):
        for item in items:
            if item.lang in LANGUAGES:
                values[f"{prefix}_{item.lang}"] = item.value
    for lang in LANGUAGES:
        words = [k.value for k in dataset.keyword_values if k.lang == lang]
        values[f"keywords_{lang}"] = ", ".join(words)
    lists = {
        "themes": list(dataset.themes or []),
        "spatial": list(dataset.spatial or []),
        "ethnic_groups": list(dataset.ethnic_groups or []),
    }
    return FormState(values=values, lists=lists)


def parse_dataset(
    form: Mapping, place_codes: set[str], group_slugs: set[str]
) -> tuple[FormState, DatasetData | None]:
    """Check the metadata form: (state, data) with data None when a field was refused."""
    state = _read(form, DATASET_TEXT_FIELDS, DATASET_LIST_FIELDS)
    slug = state.get("slug").lower()
    if not slug or not re.match(r"^[a-z0-9][a-z0-9-]{1,118}[a-z0-9]$", slug):
        state.error("slug", "bad_slug")
    title = _lang_values(state, "title", SHORT_TEXT)
    if not state.get("title_vi"):
        state.error("title_vi", "title_vi_required")
    description = _lang_values(state, "description", LONG_TEXT)
    publisher = _lang_values(state, "publisher", SHORT_TEXT)
    keywords = []
    for lang in LANGUAGES:
        text = state.get(f"keywords_{lang}")
        if len(text) > SHORT_TEXT * 3:
            state.error(f"keywords_{lang}", "text_too_long", count=SHORT_TEXT * 3)
        keywords += [LangString(w, lang) for w in dict.fromkeys(w.strip() for w in text.split(",")) if w]
    uri = state.get("publisher_uri")
    if uri and (not re.match(r"^https?://[^\s]+$", uri) or len(uri) > SHORT_TEXT):
        state.error("publisher_uri", "bad_uri")
    for name in ("contact_name", "contact_email"):
        if len(state.get(name)) > 200:
            state.error(name, "text_too_long", count=200)
    email = state.get("contact_email")
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        state.error("contact_email", "bad_email")
    if state.get("license_uri") not in dcat.LICENCES:
        state.error("license_uri", "bad_licence")
    if any(t not in dcat.THEMES for t in state.chosen("themes")):
        state.error("themes", "bad_theme")
    if state.get("accrual_periodicity") not in dcat.FREQUENCIES:
        state.error("accrual_periodicity", "bad_frequency")
    if any(p not in place_codes for p in state.chosen("spatial")):
        state.error("spatial", "bad_place")
    if any(g not in group_slugs for g in state.chosen("ethnic_groups")):
        state.error("ethnic_groups", "bad_group")
    start, end = _date(state, "temporal_start"), _date(state, "temporal_end")
    if start and end and start > end:
        state.error("temporal_end", "bad_period")
    if state.errors:
        return state, None
    return state, DatasetData(
        slug=slug,
        title=title,
        description=description,
        publisher=publisher,
        publisher_uri=uri or None,
        contact_name=state.get("contact_name"),
        contact_email=email,
        license_uri=state.get("license_uri"),
        themes=state.chosen("themes"),
        keywords=keywords,
        temporal_start=start,
        temporal_end=end,
        spatial=state.chosen("spatial"),
        ethnic_groups=state.chosen("ethnic_groups"),
        accrual_periodicity=state.get("accrual_periodicity"),
    )


# --- uploads --------------------------------------------------------------------------------------------

UPLOAD_TEXT_FIELDS = ["name", "title_vi", "title_en", "schema_mode", "sheet"]


@dataclass
class UploadForm:
    """The checked upload form (the file itself is handled by the view)."""

    name: str
    title: list[LangString]
    schema_mode: str
    schema: dict | None
    sheet: str | None


def upload_state(default_mode: str) -> FormState:
    """An empty upload form."""
    return FormState(values={"schema_mode": default_mode})


def parse_upload(form: Mapping, files: Mapping) -> tuple[FormState, UploadForm | None]:
    """Check the upload form's fields and the schema file: (state, form) with form None when refused."""
    state = _read(form, UPLOAD_TEXT_FIELDS, [])
    name = state.get("name")
    if name and not tables.NAME_RE.match(name):
        state.error("name", "bad_table_name")
    title = _lang_values(state, "title", SHORT_TEXT)
    mode = state.get("schema_mode") or "previous"
    if mode not in SCHEMA_MODE_LABELS:
        state.error("schema_mode", "bad_schema_mode")
    if len(state.get("sheet")) > 31:
        state.error("sheet", "text_too_long", count=31)
    schema = None
    if mode == "provided":
        upload = files.get("schema_file")
        data = upload.stream.read(SCHEMA_FILE_MAX + 1) if upload and upload.filename else b""
        try:
            if not data or len(data) > SCHEMA_FILE_MAX:
                raise ValueError
            schema = json.loads(data.decode("utf-8-sig"))
            if not isinstance(schema, dict):
                raise ValueError
        except ValueError:
            state.error("schema_file", "schema_json")
    if state.errors:
        return state, None
    return state, UploadForm(
        name=name, title=title, schema_mode=mode, schema=schema, sheet=state.get("sheet") or None
    )


def safe_filename(filename: str | None) -> str:
    """The upload's base name only: folders (and "..") in a file name never matter."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    return nfc(name).strip()[:255]


# --- the schema editor ----------------------------------------------------------------------------------


def schema_state(table: DatasetTable) -> FormState:
    """The schema editor filled with a table's schema (one group of inputs per field, f<i>_<property>)."""
    values: dict[str, str] = {}
    for i, item in enumerate(table.fields):
        prefix = f"f{i}_"
        constraints = item.get("constraints", {})
        values[prefix + "type"] = item.get("type", "string")
        titles = dict(item.get("titles") or {})
        if item.get("title") and "vi" not in titles:
            titles["vi"] = item["title"]
        descriptions = dict(item.get("descriptions") or {})
        if item.get("description") and "vi" not in descriptions:
            descriptions["vi"] = item["description"]
        for lang in LANGUAGES:
            values[f"{prefix}title_{lang}"] = titles.get(lang, "")
            values[f"{prefix}description_{lang}"] = descriptions.get(lang, "")
        values[prefix + "unit"] = item.get("unit", "")
        values[prefix + "required"] = "1" if constraints.get("required") else ""
        values[prefix + "unique"] = "1" if constraints.get("unique") else ""
        values[prefix + "minimum"] = str(constraints.get("minimum", constraints.get("minLength", "")))
        values[prefix + "maximum"] = str(constraints.get("maximum", constraints.get("maxLength", "")))
        values[prefix + "enum"] = ", ".join(str(v) for v in constraints.get("enum", []))
        values[prefix + "pattern"] = constraints.get("pattern", "")
    chart = table.chart or {}
    values["chart_label"] = chart.get("label") or ""
    values["chart_value"] = chart.get("value") or ""
    return FormState(values=values)


_FIELD_PROPS = ("type", "unit", "required", "unique", "minimum", "maximum", "enum", "pattern") + tuple(
    f"{p}_{lang}" for p in ("title", "description") for lang in LANGUAGES
)


def _bound(state: FormState, name: str, kind: str):
    text = state.get(name)
    if not text:
        return None
    try:
        if kind in ("integer", "year", "string"):
            return int(text)
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "date":
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        state.error(name, "bad_date" if kind == "date" else "bad_number")
        return None
    state.error(name, "bad_number")
    return None


def _enum_value(text: str, kind: str):
    if kind in ("integer", "year"):
        return int(text)
    if kind == "number":
        return float(text)
    return text


def parse_schema(form: Mapping, table: DatasetTable) -> tuple[FormState, dict | None, dict | None]:
    """Check the schema editor: (state, schema, chart); schema None when a field was refused."""
    names = [item["name"] for item in table.fields]
    text_fields = [f"f{i}_{p}" for i in range(len(names)) for p in _FIELD_PROPS] + [
        "chart_label",
        "chart_value",
    ]
    state = _read(form, text_fields, [])
    fields = []
    for i, name in enumerate(names):
        prefix = f"f{i}_"
        kind = state.get(prefix + "type")
        if kind not in tables.FIELD_TYPES:
            state.error(prefix + "type", "schema_field_type", field=name, type=kind)
            kind = "string"
        item: dict = {"name": name, "type": kind}
        titles = {
            lang: state.get(f"{prefix}title_{lang}")
            for lang in LANGUAGES
            if state.get(f"{prefix}title_{lang}")
        }
        descriptions = {
            lang: state.get(f"{prefix}description_{lang}")
            for lang in LANGUAGES
            if state.get(f"{prefix}description_{lang}")
        }
        for key, value in (*((f"{prefix}title_{lang}", v) for lang, v in titles.items()),):
            if len(value) > SHORT_TEXT:
                state.error(key, "text_too_long", count=SHORT_TEXT)
        if titles:
            item["titles"] = titles
            item["title"] = titles.get("vi") or next(iter(titles.values()))
        if descriptions:
            item["descriptions"] = descriptions
            item["description"] = descriptions.get("vi") or next(iter(descriptions.values()))
        if state.get(prefix + "unit"):
            item["unit"] = state.get(prefix + "unit")[:60]
        constraints: dict = {}
        if state.get(prefix + "required"):
            constraints["required"] = True
        if state.get(prefix + "unique"):
            constraints["unique"] = True
        low, high = _bound(state, prefix + "minimum", kind), _bound(state, prefix + "maximum", kind)
        if kind == "string":
            if low is not None:
                constraints["minLength"] = low
            if high is not None:
                constraints["maxLength"] = high
        elif kind != "boolean":
            if low is not None:
                constraints["minimum"] = low
            if high is not None:
                constraints["maximum"] = high
        enum_text = state.get(prefix + "enum")
        if enum_text:
            try:
                constraints["enum"] = [
                    _enum_value(v.strip(), kind) for v in enum_text.split(",") if v.strip()
                ]
            except ValueError:
                state.error(prefix + "enum", "bad_number")
        if state.get(prefix + "pattern"):
            pattern = state.get(prefix + "pattern")
            try:
                re.compile(pattern)
                constraints["pattern"] = pattern
            except re.error:
                state.error(prefix + "pattern", "schema_invalid", detail=pattern)
        if constraints:
            item["constraints"] = constraints
        fields.append(item)
    label, value = state.get("chart_label"), state.get("chart_value")
    chart = None
    if label or value:
        if label not in names or value not in names:
            state.error("chart_label", "bad_chart")
        chart = {"label": label, "value": value}
    if state.errors:
        return state, None, None
    schema = {
        "fields": fields,
        "missingValues": list(table.table_schema.get("missingValues", tables.DEFAULT_MISSING_VALUES)),
    }
    if table.table_schema.get("primaryKey"):
        schema["primaryKey"] = table.table_schema["primaryKey"]
    return state, schema, chart


def notes_state(values: list[dict]) -> FormState:
    """The version-notes form."""
    return FormState(
        values={f"notes_{v.lang}": v.value for v in to_langstrings(values) if v.lang in LANGUAGES}
    )


def parse_notes(form: Mapping) -> tuple[FormState, list[LangString] | None]:
    """Check the version notes: (state, notes) with notes None when refused."""
    state = _read(form, [f"notes_{lang}" for lang in LANGUAGES], [])
    notes = _lang_values(state, "notes", LONG_TEXT)
    return state, None if state.errors else notes
