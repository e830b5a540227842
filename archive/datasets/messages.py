"""Translated messages for the datasets: why an upload or an action was refused (DatasetError codes), and
each validation error of a table, always with its row and column, field types named in the user's language.
"""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from archive.datasets.services import DatasetError

#: The archive's field types (metadata.tables.FIELD_TYPES) as officers read them.
FIELD_TYPE_LABELS = {
    "string": _l("Text"),
    "integer": _l("Whole number"),
    "number": _l("Number (decimals allowed)"),
    "boolean": _l("Yes or no (true/false)"),
    "date": _l("Date (YYYY-MM-DD)"),
    "year": _l("Year (YYYY)"),
}

#: What a cell that does not read as its field's type is not.
_NOT_A = {
    "integer": _l("“%(cell)s” is not a whole number."),
    "number": _l("“%(cell)s” is not a number."),
    "boolean": _l("“%(cell)s” is not true or false."),
    "date": _l("“%(cell)s” is not a date written as YYYY-MM-DD."),
    "year": _l("“%(cell)s” is not a year (four digits)."),
    "string": _l("“%(cell)s” is not text."),
}

_CONSTRAINTS = {
    "required": _l("a value is required, but the cell is empty."),
    "unique": _l("“%(cell)s” appears more than once, but each value must be different."),
    "minimum": _l("“%(cell)s” is below the minimum, %(limit)s."),
    "maximum": _l("“%(cell)s” is above the maximum, %(limit)s."),
    "enum": _l("“%(cell)s” is not one of the allowed values (%(limit)s)."),
    "pattern": _l("“%(cell)s” does not have the expected form (%(limit)s)."),
    "minLength": _l("“%(cell)s” is shorter than %(limit)s characters."),
    "maxLength": _l("“%(cell)s” is longer than %(limit)s characters."),
}

_ERRORS = {
    "missing-cell": _l("the cell is missing: the row has fewer cells than the header."),
    "extra-cell": _l("“%(cell)s” is an extra cell beyond the last column of the header."),
    "blank-row": _l("the row is empty."),
    "unique-error": _l("“%(cell)s” appears more than once, but each value must be different."),
    "primary-key": _l("this row's key (%(cell)s) is empty or repeats another row's."),
    "extra-label": _l("the header has an extra column, “%(cell)s”, that the schema does not describe."),
    "missing-label": _l("the header lacks a column the schema describes (%(field)s)."),
    "incorrect-label": _l("the header says “%(cell)s” where the schema expects “%(field)s”."),
    "duplicate-label": _l("the column name “%(cell)s” is used twice."),
    "blank-label": _l("the column has no name."),
}

_GENERIC = _l("the value “%(cell)s” is not valid here (%(detail)s).")

#: Why an action or an upload was refused: services.DatasetError codes, upload refusals (table_<code>)
#: and schema problems (schema_<code>).
REFUSALS = {
    "not_allowed": _l("You may not do this."),
    "bad_slug": _l(
        "Use 3 to 120 lowercase letters a–z, digits and hyphens for the web address, e.g. commune-budgets."
    ),
    "slug_taken": _l("Another dataset already uses this web address."),
    "title_vi_required": _l("Give the dataset a title in Vietnamese."),
    "bad_licence": _l("Choose one of the licences offered."),
    "bad_theme": _l("Choose themes from the list."),
    "bad_frequency": _l("Choose an update frequency from the list."),
    "bad_period": _l("The start of the period must not be after its end."),
    "bad_email": _l("Enter a valid e-mail address, e.g. name@example.vn."),
    "stale": _l(
        "Someone else changed this dataset after you opened the form, so your changes were not saved. "
        "What you typed is kept below; check the dataset, then save again."
    ),
    "nothing_published": _l("This dataset has no published version to show."),
    "generated_dataset": _l("The archive builds this dataset from its own records; nobody uploads into it."),
    "bad_schema_mode": _l("Choose how the table's schema is given."),
    "bad_table_name": _l(
        "Use lowercase letters a–z, digits, “-”, “_” and “.” for the table name (at most 80), "
        "starting with a letter or digit."
    ),
    "no_previous_schema": _l(
        "There is no table called “%(name)s” in the last published version, so its schema cannot be reused. "
        "Choose “infer a schema” or give a Table Schema file."
    ),
    "bad_schema": _l("The schema cannot be used:"),
    "bad_chart": _l("Choose the chart's label and value among the table's fields."),
    "published_is_immutable": _l(
        "A published version cannot be changed. Upload a new file to make a new version."
    ),
    "already_published": _l("This version is already published."),
    "no_tables": _l("This version has no tables yet."),
    "not_ready": _l(
        "This version cannot be published yet: every table must be valid and its schema confirmed."
    ),
    "checksum_mismatch": _l(
        "The stored file of table “%(name)s” no longer matches its checksum; it cannot be published. "
        "Upload the table again."
    ),
    "table_empty": _l("The file is empty."),
    "table_too_large": _l("The file is too large (at most %(limit)s bytes)."),
    "table_format_mismatch": _l(
        "The file “%(filename)s” is not what its name says: a spreadsheet named .csv "
        "or a text file named .xlsx. "
        "Save it as CSV (UTF-8) or as an Excel workbook (.xlsx)."
    ),
    "table_old_excel": _l(
        "Old Excel files (.xls) are not accepted: save the sheet as .xlsx or as CSV (UTF-8)."
    ),
    "table_binary": _l("The file is not a text file: save the table as CSV (UTF-8) or as .xlsx."),
    "table_not_utf8": _l(
        "The file is not in UTF-8 (the problem is on line %(row)s). In your spreadsheet, save as “CSV UTF-8”."
    ),
    "table_csv_syntax": _l("The CSV file cannot be read near line %(row)s (a quote is not closed, perhaps)."),
    "table_zip_bomb": _l(
        "The workbook expands to far more data than a spreadsheet holds, so it was refused."
    ),
    "table_not_xlsx": _l("The file is not a readable Excel workbook (.xlsx)."),
    "table_no_sheet": _l("The workbook has no sheet called “%(sheet)s”. Its sheets are: %(sheets)s."),
    "table_too_many_columns": _l("The table has too many columns (at most %(limit)s)."),
    "table_cell_too_long": _l(
        "Row %(row)s, column %(column)s: the cell is too long (at most %(limit)s characters)."
    ),
    "table_too_many_rows": _l("The table has too many rows (at most %(limit)s)."),
    "table_no_header": _l("The file holds no header row: the first row must name the columns."),
    "table_no_rows": _l("The file has a header but no rows of data."),
    "table_blank_header": _l("Row 1 (header), column %(column)s: the column has no name."),
    "table_long_header": _l(
        "Row 1 (header), column %(column)s: the column name is too long (at most %(limit)s characters)."
    ),
    "table_duplicate_header": _l(
        "Row 1 (header), column %(column)s: the name “%(name)s” is already used by column %(first)s."
    ),
    "schema_no_fields": _l("The schema describes no fields."),
    "schema_field_name": _l("Field %(column)s of the schema has no name."),
    "schema_field_type": _l("Field “%(field)s”: the type “%(type)s” is not one the archive offers."),
    "schema_constraints": _l("Field “%(field)s”: the constraints are not written as an object."),
    "schema_constraint_unknown": _l(
        "Field “%(field)s”: the constraint “%(constraint)s” is not one the archive offers."
    ),
    "schema_duplicate_names": _l("Two fields of the schema have the same name."),
    "schema_header_mismatch": _l(
        "The schema's fields (%(expected)s) are not the file's columns (%(found)s), in the same order."
    ),
    "schema_invalid": _l("The schema is not a valid Table Schema: %(detail)s"),
    "schema_json": _l("The schema file is not a JSON Table Schema."),
    "file_required": _l("Choose a CSV or XLSX file to upload."),
    "nul": _l("The text contains a control character (NUL) that is not allowed."),
    "bad_date": _l("Write the date as YYYY-MM-DD, e.g. 2024-12-31."),
    "bad_place": _l("Choose provinces from the list."),
    "bad_group": _l("Choose ethnic groups from the list."),
    "bad_uri": _l("Enter a web address starting with http:// or https://."),
    "bad_number": _l("Enter a number."),
    "text_too_long": _l("This text is too long (at most %(count)s characters)."),
}
_UNKNOWN = _l("This could not be done.")


def _format(text, params: dict) -> str:
    try:
        return str(text) % params
    except (KeyError, TypeError, ValueError):
        return str(text)


def _shown(value):
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value)  # 20971520 -> "20,971,520" / "20.971.520"
    return value


def refusal(code: str, **params) -> str:
    """The translated message for a refusal code, its parameters filled in."""
    return _format(REFUSALS.get(code, _UNKNOWN), {k: _shown(v) for k, v in params.items()})


def schema_problem(problem: dict) -> str:
    """One schema problem (metadata.tables.check_schema) in the user's language."""
    params = {k: v for k, v in problem.items() if k != "code"}
    return refusal(problem.get("code", ""), **params)


def refusal_message(exc: DatasetError) -> str:
    """Why the service refused, in the user's language (schema problems listed after the reason)."""
    text = refusal(exc.code, **{k: v for k, v in exc.params.items() if k != "problems"})
    problems = exc.params.get("problems") or []
    if problems:
        text = " ".join([text, *(schema_problem(p) for p in problems)])
    return text


def field_type_label(kind: str) -> str:
    """A field type's name in the user's language."""
    return str(FIELD_TYPE_LABELS.get(kind, kind))


def where(err: dict) -> str:
    """The row and column of a validation error, e.g. "Row 3, column 2 (communes)"."""
    row, column, name = err.get("row"), err.get("column"), err.get("field")
    if row is None:
        # Header errors have no row number from Frictionless: the header is row 1.
        row = 1
    if column is None:
        return _("Row %(row)s", row=row)
    if name:
        return _("Row %(row)s, column %(column)s (%(field)s)", row=row, column=column, field=name)
    return _("Row %(row)s, column %(column)s", row=row, column=column)


def what(err: dict) -> str:
    """What is wrong with the cell, without its place."""
    kind = err.get("type", "")
    params = {
        "cell": err.get("cell", ""),
        "field": err.get("field", ""),
        "limit": err.get("limit", ""),
        "detail": err.get("detail", ""),
    }
    if kind == "type-error":
        field_type = err.get("field_type") or "string"
        return _format(_NOT_A.get(field_type, _NOT_A["string"]), params)
    if kind == "constraint-error":
        constraint = err.get("constraint")
        if constraint in _CONSTRAINTS:
            return _format(_CONSTRAINTS[constraint], params)
    if kind in _ERRORS:
        return _format(_ERRORS[kind], params)
    return _format(_GENERIC, params)


def error_message(err: dict) -> str:
    """A validation error (metadata.tables.validate_csv) as a sentence with its row and column."""
    return _("%(where)s: %(what)s", where=where(err), what=what(err))
