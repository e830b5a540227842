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


# --- Templates: no user-visible text outside gettext -------------------------------------------------

import re  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

TEMPLATES = sorted((ROOT / "archive" / "templates").rglob("*.html"))
#: Attributes whose values people read or hear.
VISIBLE_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "label", "value"}
#: Text that is not language: symbols, codes and marks that read the same in every language.
NOT_WORDS = re.compile(r"^[\W\d_]*$|^(A\+*|×|·|…|—|–|[A-Z]{1,3}|vi|en|https?://\S*)$")
JINJA = re.compile(r"\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
#: Attribute text written by a macro outside its tag (e.g. ` aria-invalid="true"`).
ATTRIBUTE_FRAGMENT = re.compile(r'[\w:-]+="')


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "kbd", "samp"):  # code reads the same in every language
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and not (name == "value" and tag != "input"):
                if name == "value" and dict(attrs).get("type") not in ("submit", "button", "reset"):
                    continue
                self._check(value, f"{tag}[{name}]")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "kbd", "samp") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data, "text")

    def _check(self, text: str, where: str) -> None:
        if where == "text" and ATTRIBUTE_FRAGMENT.search(text):
            return
        for word in text.split():
            if not NOT_WORDS.match(word) and re.search(r"[^\W\d_]", word):
                self.found.append(f"{where}: {text.strip()[:60]!r}")
                return


def untranslated_template_text(source: str) -> list[str]:
    """Visible text of a template that is written in the HTML rather than given to gettext."""
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", source))
    parser.close()
    return parser.found


def test_the_template_check_catches_plain_text():
    assert untranslated_template_text('<p>{{ _("Hello") }}</p><img alt="{{ _("A map") }}">') == []
    assert untranslated_template_text("<p>Hello</p>") == ["text: 'Hello'"]
    assert untranslated_template_text('<img alt="A festival">') == ["img[alt]: 'A festival'"]
    assert untranslated_template_text('<input type="submit" value="Save">') == ["input[value]: 'Save'"]
    assert untranslated_template_text('<input type="hidden" name="q" value="x">') == []
    assert untranslated_template_text("<p>{{ n }} × {{ m }} · 1:05</p>") == []
    assert untranslated_template_text("<p>{{ _('Send') }} <code>Authorization: Bearer</code></p>") == []


def test_templates_have_no_visible_text_outside_gettext():
    assert TEMPLATES
    problems = {}
    for path in TEMPLATES:
        found = untranslated_template_text(path.read_text(encoding="utf-8"))
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert not problems, f"visible text outside gettext: {problems}"
