"""The public dataset pages: the list, a dataset, a version, a table's preview, and the downloads.

Only public datasets (published, not withdrawn) and their published versions appear here; drafts and
withdrawn datasets answer 404 for everyone (curators preview drafts in the admin). The preview's
filters are plain GET arguments (``q``, ``f.<field>``, ``sort``, ``desc``, ``page``), so it works
without JavaScript, and the downloads accept the same arguments to give what the visitor filtered.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from archive.core.extensions import db
from archive.core.i18n import current_language, language_neutral
from archive.datasets import services
from archive.datasets.messages import FIELD_TYPE_LABELS
from archive.datasets.models import Dataset, DatasetTable, DatasetVersion
from archive.exhibits.views import excerpt, paragraphs
from archive.vocab.models import Place
from metadata import charts, dcat, tables

logger = logging.getLogger(__name__)

bp = Blueprint("datasets", __name__)

#: The most distinct values a text column may have to be offered as a select in the preview's form.
MAX_CHOICES = 60
#: Rows shown on a single-table dataset's page.
FIRST_ROWS = 10
#: Longest search text kept.
MAX_QUERY = 200
#: Formats of the downloads.
FORMATS = ("csv", "json", "xlsx")
#: Tables up to this many rows get the sizes of their JSON and XLSX downloads on the dataset page
#: (the files are made to measure them; larger ones would cost too much on a page view).
SIZED_ROWS = 20_000
IMMUTABLE = "public, max-age=31536000, immutable"
FILTERED_CACHE = "public, max-age=86400"
LATEST_CACHE = "public, max-age=300"


# --- reading the request ---------------------------------------------------------------------------


class PreviewArgumentError(ValueError):
    """A preview or download argument that cannot be used; ``message`` is translated."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


def _bad_request(message: str) -> BadRequest:
    """A 400 whose translated message the error page shows."""
    error = BadRequest(message)
    error.translated = True  # type: ignore[attr-defined]
    return error


def read_filter(args, names: list[str]) -> tables.RowFilter:
    """The row filter asked for by ``q``, ``f.<field>``, ``sort`` and ``desc``; refuses unknown fields."""
    text = " ".join((args.get("q") or "").split())[:MAX_QUERY]
    equals = []
    for key in args:
        if not key.startswith("f."):
            continue
        name = key[2:]
        if name not in names:
            raise PreviewArgumentError(
                "unknown_field", _("This table has no column “%(name)s”.", name=name[:100])
            )
        value = args.get(key) or ""
        if value:
            equals.append((name, value))
    sort = args.get("sort") or None
    if sort is not None and sort not in names:
        raise PreviewArgumentError(
            "unknown_sort", _("This table has no column “%(name)s” to sort by.", name=sort[:100])
        )
    desc = args.get("desc") or ""
    if desc not in ("", "0", "1"):
        raise PreviewArgumentError("bad_desc", _("“desc” must be 0 or 1."))
    return tables.RowFilter(text=text, equals=tuple(equals), sort=sort, descending=desc == "1")


def is_filtered(wanted: tables.RowFilter) -> bool:
    """True when a filter changes the rows or their order."""
    return bool(wanted.text or wanted.equals or wanted.sort)


def filter_key(wanted: tables.RowFilter) -> str:
    """A short digest of a filter, for ETags."""
    canonical = json.dumps(
        [wanted.text, sorted(wanted.equals), wanted.sort, wanted.descending], ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def filter_args(wanted: tables.RowFilter) -> dict[str, str]:
    """The GET arguments of a filter (for links to pages, sorts and downloads)."""
    args: dict[str, str] = {}
    if wanted.text:
        args["q"] = wanted.text
    for name, value in wanted.equals:
        args[f"f.{name}"] = value
    if wanted.sort:
        args["sort"] = wanted.sort
        if wanted.descending:
            args["desc"] = "1"
    return args


# --- finding what is asked for ---------------------------------------------------------------------


def public_dataset(slug: str) -> Dataset | None:
    """The dataset with *slug* when everyone may see it, else None."""
    dataset = services.get_by_slug(slug)
    return dataset if dataset is not None and dataset.is_public else None


def published_version(dataset: Dataset, number: int) -> DatasetVersion | None:
    """Published version *number* of *dataset*, else None."""
    version = services.version_of(dataset, number)
    return version if version is not None and version.is_published else None


def _load(slug: str, number: int | None = None, name: str | None = None):
    dataset = public_dataset(slug)
    if dataset is None:
        abort(404)
    version = dataset.latest_version if number is None else published_version(dataset, number)
    if version is None:
        abort(404)
    if name is None:
        return dataset, version, None
    table = version.table(name)
    if table is None:
        abort(404)
    return dataset, version, table


# --- presenting ------------------------------------------------------------------------------------


def _lang_index() -> int:
    return 0 if current_language().split("-")[0] == "vi" else 1


def field_title(field: dict) -> str:
    """A field's title in the page language (then Vietnamese, then any), or its name."""
    titles = field.get("titles") or {}
    lang = current_language().split("-")[0]
    return (
        titles.get(lang)
        or titles.get("vi")
        or field.get("title")
        or next(iter(titles.values()), "")
        or field["name"]
    )


def field_description(field: dict) -> str:
    """A field's description in the page language (then Vietnamese, then any)."""
    descriptions = field.get("descriptions") or {}
    lang = current_language().split("-")[0]
    return (
        descriptions.get(lang)
        or descriptions.get("vi")
        or field.get("description")
        or next(iter(descriptions.values()), "")
    )


def type_label(kind: str) -> str:
    """A field type in words (as officers read it in the admin)."""
    return str(FIELD_TYPE_LABELS.get(kind, kind))


def constraint_labels(field: dict) -> list[str]:
    """A field's constraints in words."""
    constraints = field.get("constraints") or {}
    words = []
    for key, value in constraints.items():
        if key == "required" and value:
            words.append(_("required"))
        elif key == "unique" and value:
            words.append(_("unique"))
        elif key == "minimum":
            words.append(_("at least %(value)s", value=value))
        elif key == "maximum":
            words.append(_("at most %(value)s", value=value))
        elif key == "minLength":
            words.append(_("at least %(value)s characters", value=value))
        elif key == "maxLength":
            words.append(_("at most %(value)s characters", value=value))
        elif key == "enum":
            words.append(_("one of: %(values)s", values=", ".join(str(v) for v in value)))
        elif key == "pattern":
            words.append(_("matches the pattern %(pattern)s", pattern=value))
    return words


def cell_html(value, kind: str) -> Markup:
    """A typed cell for the preview: numbers the visitor's way, links for web addresses."""
    if value is None:
        return Markup("")
    if isinstance(value, bool):
        return Markup("{}").format(_("yes") if value else _("no"))
    if kind in ("integer", "number") and isinstance(value, (int, float)):
        return Markup("{}").format(format_decimal(value))
    if isinstance(value, dt.date):
        return Markup("{}").format(value.isoformat())
    text = str(value)
    if text.startswith(("http://", "https://")) and " " not in text:
        return Markup('<a href="{}">{}</a>').format(text, _short_url(text))
    return Markup("{}").format(text)


def _short_url(url: str) -> str:
    shown = url.split("://", 1)[1]
    return shown if len(shown) <= 60 else shown[:59] + "…"


def theme_label(code: str) -> str:
    """An EU data theme in the page language."""
    labels = dcat.THEMES.get(code)
    return labels[_lang_index()] if labels else code


def frequency_label(code: str) -> str:
    """An update frequency in the page language."""
    labels = dcat.FREQUENCIES.get(code)
    return labels[_lang_index()] if labels else code


def licence(uri: str) -> tuple[str, str]:
    """(short name, full name in the page language) of a licence URI."""
    names = dcat.LICENCES.get(uri)
    if not names:
        return uri, uri
    return names[0], names[1 + _lang_index()]


def origin_label(origin: str) -> str:
    """Where a dataset's figures come from, in words."""
    labels = {
        "compiled": _("Compiled from public reporting"),
        "generated": _("Generated from the archive"),
        "uploaded": _("Uploaded"),
    }
    return labels.get(origin, origin)


def human_size(size: int | None) -> str:
    """A file size in words (kB, MB)."""
    if size is None:
        return ""
    if size < 1024:
        return _("%(size)s bytes", size=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(size)s kB", size=format_decimal(round(size / 1024, 1)))
    return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))


def date_text(value) -> str:
    """A date (or the date of a datetime) the visitor's way."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, "medium")


def places_of(codes: list[str]) -> list[Place]:
    """The places with these codes, in the given order (unknown codes are left out)."""
    if not codes:
        return []
    found = {p.code: p for p in db.session.scalars(select(Place).where(Place.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


@bp.record_once
def _template_helpers(state) -> None:
    """Template globals (globals, so that imported macros see them too)."""
    state.app.jinja_env.globals.update(
        {
            "dataset_field_title": field_title,
            "dataset_field_description": field_description,
            "dataset_type_label": type_label,
            "dataset_constraints": constraint_labels,
            "dataset_cell": cell_html,
            "dataset_theme": theme_label,
            "dataset_frequency": frequency_label,
            "dataset_licence": licence,
            "dataset_origin": origin_label,
            "dataset_size": human_size,
            "dataset_date": date_text,
            "dataset_download_size": download_size,
            "dataset_excerpt": excerpt,
            "dataset_paragraphs": paragraphs,
        }
    )


# --- the chart -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A table's chart: its SVG and the note said when rows were left out."""

    svg: Markup
    note: str


def build_chart(
    table: DatasetTable, content: services.TableContent, indexes: list[int], id_prefix: str
) -> Chart | None:
    """The table's chart of the rows *indexes* (in that order), or None without a usable chart setting."""
    setting = table.chart or {}
    label, value = setting.get("label"), setting.get("value")
    if label not in content.names or value not in content.names:
        return None
    fields = {f["name"]: f for f in table.fields}
    li, vi = content.names.index(label), content.names.index(value)
    bars = [charts.Bar(content.raw[i][li], content.rows[i][vi]) for i in indexes]
    with_value = charts.plotted(bars, limit=len(bars))
    shown = with_value[: charts.MAX_BARS]
    value_title, label_title = field_title(fields[value]), field_title(fields[label])
    title = _("%(value)s by %(label)s", value=value_title, label=label_title)
    summary = charts.summarise(shown)
    if summary.count:
        description = _(
            "Horizontal bar chart of %(count)s rows. Highest: %(high_label)s, %(high)s. "
            "Lowest: %(low_label)s, %(low)s.",
            count=summary.count,
            high_label=summary.highest.label,
            high=format_decimal(summary.highest.value),
            low_label=summary.lowest.label,
            low=format_decimal(summary.lowest.value),
        )
    else:
        description = _("No row has a value to plot.")
    note = ""
    if len(with_value) > len(shown):
        note = _(
            "The chart shows the first %(shown)s of %(total)s rows, in the table's order.",
            shown=len(shown),
            total=len(with_value),
        )
    svg = charts.bar_chart(
        shown, title=title, description=description, format_value=format_decimal, id_prefix=id_prefix
    )
    return Chart(Markup(svg), note)


# --- choices for the filter form -------------------------------------------------------------------


_CHOICE_CACHE: dict[tuple, dict[str, list[str]]] = {}


def _compute_choices(content: services.TableContent) -> dict[str, list[str]]:
    choices = {}
    for position, (name, kind) in enumerate(zip(content.names, content.kinds, strict=False)):
        if kind != "string":
            continue
        values: set[str] = set()
        filled = 0
        for row in content.raw:
            values.add(row[position])
            filled += bool(row[position])
            if len(values) > MAX_CHOICES + 1:
                break
        values.discard("")
        # A column whose every value differs names things (an identifier), it does not group them.
        if 1 < len(values) <= MAX_CHOICES and len(values) < filled:
            choices[name] = sorted(values, key=str.casefold)
    return choices


def choices_of(table: DatasetTable, content: services.TableContent) -> dict[str, list[str]]:
    """For each text field whose values repeat and are few (2 to MAX_CHOICES), those values, sorted."""
    key = (table.sha256, tuple(content.names), tuple(content.kinds))
    found = _CHOICE_CACHE.get(key)
    if found is None:
        found = _compute_choices(content)
        if len(_CHOICE_CACHE) >= 64:
            _CHOICE_CACHE.pop(next(iter(_CHOICE_CACHE)))
        _CHOICE_CACHE[key] = found
    return found


# --- pages -----------------------------------------------------------------------------------------


def _private(response: Response) -> Response:
    """What a signed-in person sees carries their menus: never for shared caches."""
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(template: str, **context) -> Response:
    return _private(Response(render_template(template, **context), mimetype="text/html"))


@bp.get("/datasets")
def index():
    """Every public dataset, most recently published first."""
    return _page("datasets/index.html", datasets=services.public_datasets())


def _dataset_page(dataset: Dataset, version: DatasetVersion) -> Response:
    preview = None
    if len(version.tables) == 1:
        table = version.tables[0]
        content = services.table_content(table)
        indexes = list(range(len(content.rows)))
        preview = {
            "table": table,
            "content": content,
            "rows": [content.rows[i] for i in indexes[:FIRST_ROWS]],
            "chart": build_chart(table, content, indexes, f"chart-{table.name}"),
        }
    return _page(
        "datasets/dataset.html",
        dataset=dataset,
        version=version,
        latest=dataset.latest_version,
        places=places_of(list(dataset.spatial or [])),
        preview=preview,
    )


@bp.get("/datasets/<slug>")
def dataset(slug: str):
    """A dataset's latest published version: description, versions, tables, downloads."""
    found, version, _table = _load(slug)
    return _dataset_page(found, version)


@bp.get("/datasets/<slug>/v<int:number>")
def version(slug: str, number: int):
    """One published version of a dataset (older ones say so and link to the latest)."""
    found, chosen, _table = _load(slug, number)
    return _dataset_page(found, chosen)


def _page_number(args) -> int:
    raw = args.get("page") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise _bad_request(_("The page number must be a whole number from 1."))
    return int(raw)


@bp.get("/datasets/<slug>/v<int:number>/<name>")
def table(slug: str, number: int, name: str):
    """A table's preview: search, a select per categorical column, sort by any column, pages, chart."""
    found, chosen, shown = _load(slug, number, name)
    content = services.table_content(shown)
    try:
        wanted = read_filter(request.args, content.names)
    except PreviewArgumentError as exc:
        raise _bad_request(exc.message) from None
    page = _page_number(request.args)
    indexes = tables.filter_rows(content.names, content.rows, content.raw, wanted)
    size = max(1, int(current_app.config.get("DATASET_PAGE_SIZE", 25)))
    pages = max(1, -(-len(indexes) // size))
    if page > pages:
        raise _bad_request(_("There is no page %(page)s: this view has %(pages)s.", page=page, pages=pages))
    start = (page - 1) * size
    base = filter_args(wanted)

    def link(**changes) -> str:
        args = {**base, **{k: str(v) for k, v in changes.items() if v is not None}}
        for key in [k for k, v in changes.items() if v is None]:
            args.pop(key, None)
        return url_for("datasets.table", slug=slug, number=number, name=name, **args)

    def sort_link(field: str) -> str:
        descending = wanted.sort == field and not wanted.descending
        return link(sort=field, desc="1" if descending else None, page=None)

    return _page(
        "datasets/table.html",
        dataset=found,
        version=chosen,
        latest=found.latest_version,
        table=shown,
        content=content,
        wanted=wanted,
        filtered=is_filtered(wanted),
        choices=choices_of(shown, content),
        rows=[content.rows[i] for i in indexes[start : start + size]],
        matched=len(indexes),
        page=page,
        pages=pages,
        first=start + 1,
        link=link,
        sort_link=sort_link,
        download_args=base,
        chart=build_chart(shown, content, indexes, "chart"),
    )


# --- downloads -------------------------------------------------------------------------------------


def render_download(content: services.TableContent, fmt: str, indexes: list[int] | None, sheet: str) -> bytes:
    """The rows (all, or *indexes* in that order) as JSON or XLSX bytes."""
    rows = content.rows if indexes is None else [content.rows[i] for i in indexes]
    if fmt == "json":
        data = list(tables.keyed_rows(content.names, rows))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "csv":
        import csv

        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(content.names)
        raw = content.raw if indexes is None else [content.raw[i] for i in indexes]
        writer.writerows(raw)
        return buffer.getvalue().encode("utf-8")
    return _xlsx(content.names, rows, sheet)


def _xlsx(names: list[str], rows: list[list], sheet: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31] or "data")
    worksheet.append(names)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
                # A text that a spreadsheet would run as a formula is kept as text.
                from openpyxl.cell import WriteOnlyCell

                cell = WriteOnlyCell(worksheet, value=value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@functools.lru_cache(maxsize=16)
def _whole_file(sha256: str, fmt: str, name: str, table_id: int) -> bytes:
    table = db.session.get(DatasetTable, table_id)
    return render_download(services.table_content(table), fmt, None, name)


def whole_file(table: DatasetTable, fmt: str) -> bytes:
    """The unfiltered download of a published table (CSV as stored; small tables' others cached)."""
    if fmt == "csv":
        return services.table_bytes(table)
    if table.row_count > SIZED_ROWS:
        return render_download(services.table_content(table), fmt, None, table.name)
    return _whole_file(table.sha256, fmt, table.name, table.id)


def download_size(table: DatasetTable, fmt: str) -> int | None:
    """The size of a table's download in *fmt*, when known or cheap to know."""
    if fmt == "csv":
        return table.byte_size
    if table.row_count > SIZED_ROWS:
        return None
    try:
        return len(whole_file(table, fmt))
    except services.DatasetError:
        return None


MIMETYPES = {fmt: media for fmt, (media, _code) in dcat.MEDIA_TYPES.items()}


@bp.get("/datasets/<slug>/v<int:number>/<name>.<any(csv, json, xlsx):fmt>")
@language_neutral
def download(slug: str, number: int, name: str, fmt: str):
    """A table as CSV, JSON or XLSX; with the preview's arguments, only the rows it shows, in its order."""
    found, chosen, shown = _load(slug, number, name)
    content = services.table_content(shown)
    try:
        wanted = read_filter(request.args, content.names)
    except PreviewArgumentError as exc:
        raise _bad_request(exc.message) from None
    filtered = is_filtered(wanted)
    etag = f"{shown.sha256}-{fmt}" + (f"-{filter_key(wanted)}" if filtered else "")
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        if filtered:
            indexes = tables.filter_rows(content.names, content.rows, content.raw, wanted)
            body = render_download(content, fmt, indexes, shown.name)
        else:
            body = whole_file(shown, fmt)
        mimetype = MIMETYPES[fmt] + ("; charset=utf-8" if fmt in ("csv", "json") else "")
        response = Response(body, content_type=mimetype)
        suffix = "-filtered" if filtered else ""
        filename = f"{found.slug}-v{chosen.number}-{shown.name}{suffix}.{fmt}"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = FILTERED_CACHE if filtered else IMMUTABLE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Content-Disposition"
    return response


@bp.get("/datasets/<slug>/latest/<name>.<any(csv, json, xlsx):fmt>")
@language_neutral
def download_latest(slug: str, name: str, fmt: str):
    """The table in the latest published version: a short-lived redirect to its versioned address."""
    found, latest, _shown = _load(slug, None, name)
    target = url_for("datasets.download", slug=found.slug, number=latest.number, name=name, fmt=fmt)
    args = [(k, v) for k, v in request.args.items(multi=True)]
    if args:
        target = f"{target}?{urlencode(args)}"
    response = redirect(target, 302)
    response.headers["Cache-Control"] = LATEST_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
