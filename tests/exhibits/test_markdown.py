"""Curators' Markdown is rendered without anything a visitor's browser would run."""

from html.parser import HTMLParser

from archive.exhibits.markdown import render_markdown


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(str(html))
    return parser.elements


def test_script_tags_and_event_handlers_never_become_elements():
    html = render_markdown(
        "Hello <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '<a href="https://x.vn" onclick="steal()">x</a>\n\n<iframe src="https://evil.example"></iframe>'
    )
    found = elements(html)
    assert not [tag for tag, _ in found if tag in ("script", "img", "iframe", "style")]
    assert not [a for _, attrs in found for a in attrs if a.startswith("on")]
    assert "Hello" in html


def test_javascript_and_data_links_lose_their_target():
    html = render_markdown(
        "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [ok](https://example.vn/a)"
    )
    hrefs = [attrs.get("href") for tag, attrs in elements(html) if tag == "a"]
    assert hrefs == ["https://example.vn/a"]
    assert "javascript:" not in "".join(h or "" for h in hrefs)


def test_links_get_nofollow_noopener_and_headings_sit_below_the_section_heading():
    html = render_markdown("# Title\n\n## Sub\n\n###### Deep\n\n[a](https://example.vn)")
    tags = [tag for tag, _ in elements(html)]
    assert tags[:3] == ["h3", "h4", "h6"]
    link = next(attrs for tag, attrs in elements(html) if tag == "a")
    assert set(link["rel"].split()) == {"nofollow", "noopener"}


def test_markdown_formatting_is_kept():
    html = render_markdown("*em* **strong**\n\n- one\n- two\n\n> quote")
    tags = [tag for tag, _ in elements(html)]
    assert {"em", "strong", "ul", "li", "blockquote"} <= set(tags)
