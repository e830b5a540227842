"""Every interface string is translated in every shipped catalog, and the catalogs are up to date."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "archive" / "translations").glob("*/LC_MESSAGES/messages.po"))
METHODS = [("archive/**.py", "python"), ("archive/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"archive/templates/**.html": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_source_string_is_translated_in_every_catalog():
    assert CATALOGS, "no catalogs shipped"
    source = _source_messages()
    assert "Upcoming festivals" in source and "Row %(row)s: %(message)s" in source
    for path in CATALOGS:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        ids = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
        missing = source - set(ids)
        assert not missing, f"{path}: not in the catalog (run `archive translate update`): {sorted(missing)}"
        untranslated = [
            i
            for i, m in ids.items()
            if i in source
            and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
        ]
        assert not untranslated, f"{path}: untranslated: {untranslated}"
