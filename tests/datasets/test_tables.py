"""metadata.tables without the application: errors are kept up to 200 and counted beyond."""

from __future__ import annotations

from metadata import tables


def test_errors_are_kept_up_to_the_limit_and_counted_beyond(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("a,b\n" + "".join(f"x{i},y\n" for i in range(500)), encoding="utf-8")
    schema = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "integer"}]}
    result = tables.validate_csv(path, schema)
    assert not result.valid
    assert result.error_count == 500
    assert len(result.errors) == tables.MAX_ERRORS_KEPT
    assert result.errors[0]["row"] == 2 and result.errors[0]["column"] == 2
